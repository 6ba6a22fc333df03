#include "ipcfault/inject/rule.h"

#include <errno.h>
#include <signal.h>

#include <vector>

#include "gtest/gtest.h"

namespace ipcfault {
namespace {

TEST(WhenTest, IncludesFollowsStraceCounting) {
  When third{3, 3, 1};
  EXPECT_FALSE(third.Includes(2));
  EXPECT_TRUE(third.Includes(3));
  EXPECT_FALSE(third.Includes(4));
  When every_other{2, When::kNoLast, 2};
  EXPECT_FALSE(every_other.Includes(1));
  EXPECT_TRUE(every_other.Includes(2));
  EXPECT_FALSE(every_other.Includes(3));
  EXPECT_TRUE(every_other.Includes(4));
  When range{3, 9, 3};
  EXPECT_TRUE(range.Includes(9));
  EXPECT_FALSE(range.Includes(12));
  EXPECT_TRUE(When{}.Includes(1));
}

Rule Sample() {
  Rule rule;
  rule.calls = MaskOf(Call::kConnect);
  rule.action = Action::kError;
  rule.error = ECONNREFUSED;
  rule.when = {1, 2, 1};
  return rule;
}

TEST(RuleTest, EqualityComparesEveryField) {
  EXPECT_EQ(Sample(), Sample());
  // One mutation per field: each must make the rules differ.
  std::vector<void (*)(Rule&)> mutations = {
      [](Rule& r) { r.calls |= MaskOf(Call::kAccept); },
      [](Rule& r) { r.action = Action::kRetval; },
      [](Rule& r) { r.error = EINTR; },
      [](Rule& r) { r.retval = 1; },
      [](Rule& r) { r.short_bytes = 1; },
      [](Rule& r) { r.delay_enter = absl::Milliseconds(1); },
      [](Rule& r) { r.delay_exit = absl::Milliseconds(1); },
      [](Rule& r) { r.signal = SIGUSR1; },
      [](Rule& r) { r.when.step = 2; },
      [](Rule& r) { r.times = 3; },
      [](Rule& r) { r.probability = 0.5; },
      [](Rule& r) { r.seed = 7; },
      [](Rule& r) { r.fd.kind = FdFilter::Kind::kPipe; },
      [](Rule& r) { r.fd = {FdFilter::Kind::kNumber, 3}; },
      [](Rule& r) { r.port = 9876; },
      [](Rule& r) { r.sig = SIGTERM; },
      [](Rule& r) { r.thread = 42; },
      [](Rule& r) { r.predicate = [](const CallSite&) { return true; }; },
  };
  for (size_t i = 0; i < mutations.size(); ++i) {
    Rule changed = Sample();
    mutations[i](changed);
    EXPECT_FALSE(changed == Sample()) << "mutation " << i;
    EXPECT_FALSE(Sample() == changed) << "mutation " << i;
  }
}

TEST(RuleTest, PredicatesCompareByPresence) {
  Rule a = Sample();
  Rule b = Sample();
  a.predicate = [](const CallSite&) { return true; };
  b.predicate = [](const CallSite& site) { return site.fd == 3; };
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace ipcfault
