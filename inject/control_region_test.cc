// The control region (internal/control_region.h) and the engine reading it:
// a reader never sees a half-written armed list, however fast the hub
// publishes, and never waits for it; Decide() applies the region's rules,
// counts them in the region, and stops the moment they are disarmed.

#include "ipcfault/inject/internal/control_region.h"

#include <errno.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault::inject_internal {
namespace {

std::unique_ptr<ControlRegion> NewRegion() {
  auto region = std::make_unique<ControlRegion>();
  InitControlRegion(*region);
  return region;
}

TEST(ControlRegionTest, ReadersNeverSeeAHalfWrittenList) {
  std::unique_ptr<ControlRegion> region = NewRegion();
  const uint32_t a[] = {1, 2, 3};
  const uint32_t b[] = {4, 5};
  PublishArmed(*region, a, 3, 1);
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      ArmedIds ids;
      for (int i = 0; i < 20000; ++i) {
        ReadArmed(*region, ids);
        const bool is_a = ids.count == 3 && ids.ids[0] == 1 && ids.ids[1] == 2 && ids.ids[2] == 3;
        const bool is_b = ids.count == 2 && ids.ids[0] == 4 && ids.ids[1] == 5;
        if (!is_a && !is_b) torn.fetch_add(1);
      }
    });
  }
  std::thread hub([&] {
    for (int i = 0; !done.load(std::memory_order_relaxed) && i < 200000; ++i) {
      if (i % 2 == 0) {
        PublishArmed(*region, b, 2, 2);
      } else {
        PublishArmed(*region, a, 3, 1);
      }
    }
  });
  for (std::thread& reader : readers) reader.join();
  done = true;
  hub.join();
  EXPECT_EQ(torn.load(), 0);
}

// A hub killed half-way through a publication leaves the current list
// readable: readers never spin on it.
TEST(ControlRegionTest, AnUnfinishedPublicationDoesNotBlockReaders) {
  std::unique_ptr<ControlRegion> region = NewRegion();
  const uint32_t a[] = {7};
  PublishArmed(*region, a, 1, 1);
  // What a hub dying after its first store leaves.
  region->begun.store(region->generation.load() + 1);
  region->lists[(region->generation.load() + 1) & 1].ids[0].store(99);
  ArmedIds ids;
  ReadArmed(*region, ids);
  ASSERT_EQ(ids.count, 1u);
  EXPECT_EQ(ids.ids[0], 7u);
}

ControlRule ConnectRefused(When when = {}) {
  ControlRule rule;
  memset(static_cast<void*>(&rule), 0, sizeof(rule));
  rule.calls = MaskOf(Call::kConnect);
  rule.action = Action::kError;
  rule.error = ECONNREFUSED;
  rule.port = -1;
  rule.when = when;
  rule.probability = 1.0;
  strcpy(rule.text, "connect:error=ECONNREFUSED");
  return rule;
}

TEST(ControlRegionTest, DecideAppliesTheRegionsRules) {
  std::unique_ptr<ControlRegion> region = NewRegion();
  AttachControlRegion(region.get());
  CallSite site{.call = Call::kConnect, .fd = 3};
  EXPECT_FALSE(ArmedFor(Call::kConnect));
  EXPECT_FALSE(Decide(site).fired);

  region->rules[0] = ConnectRefused({.first = 2, .last = When::kNoLast, .step = 1});
  const uint32_t ids[] = {1};
  PublishArmed(*region, ids, 1, MaskOf(Call::kConnect));
  EXPECT_TRUE(ArmedFor(Call::kConnect));
  EXPECT_FALSE(ArmedFor(Call::kRead));
  errno = 0;
  EXPECT_FALSE(Decide(site).fired);  // when=2: the first call passes
  Injection second = Decide(site);
  EXPECT_TRUE(second.fired);
  EXPECT_EQ(second.action, Action::kError);
  EXPECT_EQ(second.error, ECONNREFUSED);
  EXPECT_EQ(errno, 0);
  EXPECT_EQ(region->counters[0].matched.load(), 2u);
  EXPECT_EQ(region->counters[0].fired.load(), 1u);
  EXPECT_EQ(region->fires.load(), 1u);

  // Disarmed: the next call is not even decided; the counts stay.
  PublishArmed(*region, nullptr, 0, 0);
  EXPECT_FALSE(ArmedFor(Call::kConnect));
  EXPECT_FALSE(Decide(site).fired);
  EXPECT_EQ(region->counters[0].matched.load(), 2u);
  EXPECT_EQ(region->counters[0].fired.load(), 1u);

  // Arming and disarming while other threads decide: nothing waits, and a
  // call sees the rule armed or not, never half of it.
  region->rules[1] = ConnectRefused();
  const uint32_t both[] = {2};
  std::atomic<bool> stop{false};
  std::vector<std::thread> callers;
  std::atomic<uint64_t> fired{0};
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        if (Decide(site).fired) fired.fetch_add(1);
      }
    });
  }
  std::thread hub([&] {
    for (int i = 0; !stop.load() && i < 100000; ++i) {
      if (i % 2 == 0) {
        PublishArmed(*region, both, 1, MaskOf(Call::kConnect));
      } else {
        PublishArmed(*region, nullptr, 0, 0);
      }
    }
  });
  for (std::thread& caller : callers) caller.join();
  stop = true;
  hub.join();
  EXPECT_EQ(region->counters[1].fired.load(), fired.load());
  EXPECT_EQ(region->counters[1].matched.load(), fired.load());  // no when=: every match fires
  PublishArmed(*region, nullptr, 0, 0);
}

}  // namespace
}  // namespace ipcfault::inject_internal
