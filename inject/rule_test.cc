#include "ipcfault/inject/rule.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault {
namespace {

using ::testing::HasSubstr;

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
      [](Rule& r) { r.builder_error = "two actions"; },
  };
  for (size_t i = 0; i < mutations.size(); ++i) {
    Rule changed = Sample();
    mutations[i](changed);
    EXPECT_FALSE(changed == Sample()) << "mutation " << i;
    EXPECT_FALSE(Sample() == changed) << "mutation " << i;
  }
}

// Two predicates written separately are never equal (their code cannot be
// compared), even when both are set; a copy is equal to what it copies.
TEST(RuleTest, PredicatesCompareByIdentityNotByPresence) {
  Rule a = Sample();
  Rule b = Sample();
  a.predicate = [](const CallSite&) { return true; };
  b.predicate = [](const CallSite& site) { return site.fd == 3; };
  EXPECT_FALSE(a == b);
  b.predicate = [](const CallSite&) { return true; };  // same code, another predicate
  EXPECT_FALSE(a == b);
  Rule copy = a;
  EXPECT_TRUE(copy == a);
  Rule moved = std::move(copy);
  EXPECT_TRUE(moved == a);
  b.predicate = a.predicate;
  EXPECT_TRUE(a == b);
  a.predicate = nullptr;
  b.predicate = nullptr;
  EXPECT_TRUE(a == b);
  // An empty std::function is no predicate.
  a.predicate = std::function<bool(const CallSite&)>();
  EXPECT_FALSE(static_cast<bool>(a.predicate));
  EXPECT_TRUE(a == b);
  // Still a std::function to call.
  a.predicate = [](const CallSite& site) { return site.fd == 3; };
  CallSite site{Call::kRead};
  site.fd = 3;
  EXPECT_TRUE(a.predicate(site));
}

// ---------------------------------------------------------------------------
// ValidateRule: from the table, in C++ terms.

std::string Problem(const Rule& rule) { return std::string(ValidateRule(rule).message()); }

// The calls whose row takes `key`, as the messages list them: read from the
// table, not copied from it.
std::string CallsTaking(uint32_t key) {
  std::string out;
  for (const CallInfo& info : AllCalls()) {
    if ((info.keys & key) == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::string(info.name);
  }
  return out;
}

Rule On(Call call) {
  Rule rule;
  rule.calls = MaskOf(call);
  return rule;
}

TEST(ValidateRuleTest, AcceptsValidRules) {
  EXPECT_THAT(ValidateRule(Sample()), IsOk());
  Rule resolver = On(Call::kGetaddrinfo);
  resolver.action = Action::kError;
  resolver.error = EAI_AGAIN;
  EXPECT_THAT(ValidateRule(resolver), IsOk());
  Rule lookup = On(Call::kGethostbyname);
  lookup.action = Action::kError;
  lookup.error = TRY_AGAIN;
  EXPECT_THAT(ValidateRule(lookup), IsOk());
  Rule delay = On(Call::kAccept);
  delay.delay_enter = absl::Milliseconds(20);
  delay.thread = 42;
  delay.predicate = [](const CallSite&) { return true; };
  EXPECT_THAT(ValidateRule(delay), IsOk());
  Rule family = On(Call::kRead);
  family.calls |= MaskOf(Call::kRecv) | MaskOf(Call::kWritev);
  family.action = Action::kShort;
  family.short_bytes = 1;
  family.fd = {FdFilter::Kind::kNumber, 0};
  EXPECT_THAT(ValidateRule(family), IsOk());
}

// The error domain is checked per call: a number that is getaddrinfo's
// EAI_AGAIN is no errno, and is called what it is.
TEST(ValidateRuleTest, ErrorsAreCheckedInEachCallsDomain) {
  Rule mixed = On(Call::kConnect);
  mixed.calls |= MaskOf(Call::kGetaddrinfo);
  mixed.action = Action::kError;
  mixed.error = EAI_AGAIN;
  EXPECT_EQ(Problem(mixed),
            "Fault(Call::kConnect).Or(Call::kGetaddrinfo): Error(-3) is EAI_AGAIN for "
            "getaddrinfo, but connect fails with errno values (1 to 4095, such as "
            "ECONNREFUSED): give each its own Fault");
  Rule eai_on_connect = On(Call::kConnect);
  eai_on_connect.action = Action::kError;
  eai_on_connect.error = EAI_AGAIN;
  EXPECT_EQ(Problem(eai_on_connect),
            "Fault(Call::kConnect): Error(-3) does not apply to connect: it fails with errno "
            "values (1 to 4095, such as ECONNREFUSED) (-3 is getaddrinfo's EAI_AGAIN)");
  Rule errno_on_resolver = On(Call::kGetaddrinfo);
  errno_on_resolver.action = Action::kError;
  errno_on_resolver.error = EIO;
  EXPECT_EQ(Problem(errno_on_resolver),
            "Fault(Call::kGetaddrinfo): Error(5) does not apply to getaddrinfo: it fails with "
            "EAI_* codes (such as EAI_AGAIN) (5 is EIO)");
  Rule zero = On(Call::kRead);
  zero.action = Action::kError;
  EXPECT_EQ(Problem(zero), "Fault(Call::kRead): Error(0): 0 is no error");
}

TEST(ValidateRuleTest, KeysMustApplyToEveryCall) {
  Rule accept_short = On(Call::kAccept);
  accept_short.action = Action::kShort;
  accept_short.short_bytes = 1;
  EXPECT_EQ(Problem(accept_short),
            "Fault(Call::kAccept): Short(1) does not apply to accept: it is for " +
                CallsTaking(kKeyShort));
  Rule sig = Sample();
  sig.sig = SIGTERM;
  EXPECT_THAT(Problem(sig), HasSubstr("OnSignal(SIGTERM) does not apply to connect: it is for "
                                      "kill"));
  Rule fd = On(Call::kGetaddrinfo);
  fd.action = Action::kError;
  fd.error = EAI_FAIL;
  fd.fd = {FdFilter::Kind::kSocket, -1};
  EXPECT_EQ(Problem(fd), "Fault(Call::kGetaddrinfo): OnFdKind(...) does not apply to "
                         "getaddrinfo: it takes no fd");
}

TEST(ValidateRuleTest, NamesTheFieldAndTheRange) {
  Rule no_calls;
  no_calls.action = Action::kError;
  no_calls.error = EIO;
  EXPECT_EQ(Problem(no_calls), "rule has no calls (Rule::calls is empty)");

  EXPECT_EQ(Problem(On(Call::kRead)),
            "Fault(Call::kRead): the rule does nothing: give it an action (Error, Retval or "
            "Short), a Signal, or a DelayEnter or DelayExit");

  Rule stray = On(Call::kRead);
  stray.action = Action::kShort;
  stray.short_bytes = 1;
  stray.error = EIO;
  EXPECT_EQ(Problem(stray),
            "Fault(Call::kRead): Rule::error is EIO, but only Action::kError uses it (this "
            "rule's action is Action::kShort)");

  Rule when = Sample();
  when.when = {0, 3, 1};
  EXPECT_EQ(Problem(when), "Fault(Call::kConnect): When(0, 3, 1): calls count from 1, not 0");
  when.when = {5, 2, 1};
  EXPECT_EQ(Problem(when),
            "Fault(Call::kConnect): When(5, 2, 1): last (2) is before first (5)");

  Rule p = Sample();
  p.probability = 1.5;
  EXPECT_EQ(Problem(p), "Fault(Call::kConnect): Probability(1.5): p must be above 0 and at most 1");
  p.probability = 1;
  p.seed = 7;
  EXPECT_THAT(Problem(p), HasSubstr("a seed needs p below 1"));

  Rule delay = Sample();
  delay.delay_enter = absl::Nanoseconds(1) / 2;
  EXPECT_THAT(Problem(delay), HasSubstr("is not a whole number of nanoseconds"));
  delay.delay_enter = -absl::Milliseconds(1);
  EXPECT_EQ(Problem(delay), "Fault(Call::kConnect): DelayEnter(-1ms) is out of range (0 to 24h)");

  Rule port = Sample();
  port.port = 70000;
  EXPECT_EQ(Problem(port), "Fault(Call::kConnect): OnPort(70000): ports run from 1 to 65535 (-1: any)");

  Rule thread = Sample();
  thread.thread = -4;
  EXPECT_EQ(Problem(thread), "Fault(Call::kConnect): thread -4 is not a thread id");

  Rule built = Sample();
  built.builder_error = "Error(ECONNREFUSED) then Short(1): a rule takes one action";
  EXPECT_EQ(Problem(built),
            "Fault(Call::kConnect): Error(ECONNREFUSED) then Short(1): a rule takes one action");
}

}  // namespace
}  // namespace ipcfault
