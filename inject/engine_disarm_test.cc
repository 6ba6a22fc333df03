// Disarming returns however many threads make interposed calls meanwhile.
//
// Disarm() frees the replaced rule snapshot only once no reader can hold it,
// and readers announce themselves in a fixed array of reader slots that
// threads share once there are more threads than slots. A writer that waited
// for a shared slot to read zero could wait forever while its threads' calls
// overlap; these tests arm and disarm while far more threads than slots call
// through the interposer, and fail (the watchdog aborts) if a disarm does not
// return. Run them under --config=tsan too: a snapshot freed while a reader
// still holds it is reported there (and by ASan as a use after free).

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ipcfault/inject/faults.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault {
namespace {

// Upper bound for the whole arm/disarm loop; a passing run takes well under
// a second (a few under TSan). Reaching it means a disarm is stuck.
constexpr std::chrono::seconds kPatience{60};

// Aborts the process with `what` unless Done() is called within kPatience:
// a stuck Disarm() would otherwise hang the test until Bazel's timeout.
class Watchdog {
 public:
  explicit Watchdog(const char* what)
      : thread_([this, what] {
          std::unique_lock<std::mutex> lock(mu_);
          if (!cv_.wait_for(lock, kPatience, [this] { return done_; })) {
            std::fprintf(stderr, "FAILED: %s did not finish within %lld s\n", what,
                         static_cast<long long>(kPatience.count()));
            std::abort();
          }
        }) {}
  ~Watchdog() { Done(); }
  void Done() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// A pipe: shutdown(2) on it fails with ENOTSOCK, so the calls are cheap and
// change nothing, and a rule filtered on fd=pipe reads the fd's kind (an
// fstat) inside the engine's read section, as a real filter does.
class Pipe {
 public:
  Pipe() {
    if (pipe2(fds_, O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
  }
  ~Pipe() {
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  int fd() const { return fds_[0]; }

 private:
  int fds_[2];
};

// The case: 256 threads call shutdown() in a loop while the test
// thread arms a rule on shutdown and disarms it, round after round. Every
// call made while the rule is armed goes through the engine's read section
// (where the fd=socket filter fstat()s the pipe, which it then rejects);
// each round waits until every thread has called under the rule, so the
// disarm happens while they are mid-call or about to be. Between rounds the
// threads are parked, and each calls at most kMaxCallsPerRound times a
// round, so the test costs the machine only its rounds. The
// rule counts nothing (under TSan, 256 threads adding to one counter would
// spend the test queueing on TSan's lock for it).
TEST(EngineDisarmTest, ManyMoreThreadsThanReaderSlots) {
  constexpr int kThreads = 256;
  constexpr int kRounds = 3;
  // A bound, so that the calls of a round end even under TSan (where 256
  // threads calling flat out would take minutes for one disarm to see
  // every preempted call finish).
  constexpr int kMaxCallsPerRound = 1000;
  Pipe pipe;
  ASSERT_GE(pipe.fd(), 0);
  // Odd: call; even: park; negative: return.
  std::atomic<int> go{0};
  std::atomic<int> checked_in{0};  // threads that called in this round
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> wrong{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      uint64_t n = 0;
      uint64_t bad = 0;
      int round_calls = 0;
      int last_round = 0;
      for (int state; (state = go.load(std::memory_order_acquire)) >= 0;) {
        if (state != last_round) {
          last_round = state;
          round_calls = 0;
        }
        if (state % 2 == 0 || round_calls == kMaxCallsPerRound) {
          go.wait(state);
          continue;
        }
        // The rule never matches a pipe: the kernel answers every call.
        if (shutdown(pipe.fd(), SHUT_RDWR) != -1 || errno != ENOTSOCK) ++bad;
        ++n;
        if (++round_calls == 1) checked_in.fetch_add(1);
      }
      calls.fetch_add(n);
      wrong.fetch_add(bad);
    });
  }
  auto set_go = [&](int state) {
    go.store(state, std::memory_order_release);
    go.notify_all();
  };

  std::vector<ScopedFaults> disarmed;
  {
    Watchdog watchdog("arming and disarming while 256 threads call shutdown()");
    for (int round = 0; round < kRounds; ++round) {
      absl::StatusOr<ScopedFaults> faults = Arm("shutdown:error=EIO:fd=socket");
      if (!faults.ok()) {
        ADD_FAILURE() << faults.status();
        break;
      }
      set_go(2 * round + 1);
      // Handshake: every thread is calling through this rule.
      while (checked_in.load() < kThreads * (round + 1)) std::this_thread::yield();
      faults->Disarm();  // the call under test: it must return
      set_go(2 * round + 2);
      disarmed.push_back(*std::move(faults));
    }
  }
  set_go(-1);
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(disarmed.size(), static_cast<size_t>(kRounds));
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GE(calls.load(), static_cast<uint64_t>(kThreads * kRounds));
  for (const ScopedFaults& faults : disarmed) {
    EXPECT_EQ(faults.matched(0), 0u);
    EXPECT_EQ(faults.fired(0), 0u);
  }
}

// Readers whose calls always overlap. Two teams of kReaderSlots threads
// each call shutdown() through a rule whose predicate holds them inside the
// engine in a relay: in each round one team stays inside until every member
// of the other team is inside too, then leaves, calls again and waits for
// its next turn. So at every instant one whole team is mid-call; each team's
// first calls took consecutive reader slots (the threads start one by one),
// so every slot is always in use. Meanwhile the test thread arms and
// disarms another rule. A writer that waited for each slot to be seen empty
// never returns here (this test hung before the fix); one that only waits
// for the reads that began before its swap returns within a few rounds.
struct Relay {
  static constexpr int kTeam = 64;  // = the engine's reader slots
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> round{0};   // team round % 2 holds in round `round`
  std::atomic<uint64_t> arrivals[2] = {0, 0};
};
thread_local int relay_team = -1;

// The predicate: runs inside the engine's read section. Never matches.
bool RelayTurn(Relay& relay) {
  const int team = relay_team;
  if (team < 0) return false;
  const uint64_t entered = relay.round.load();
  // The round this call holds: the next one that is its team's.
  const uint64_t holds = entered % 2 == static_cast<uint64_t>(team) ? entered : entered + 1;
  relay.arrivals[team].fetch_add(1);
  for (uint64_t now; !relay.stop.load() && (now = relay.round.load()) <= holds;) {
    // Holding: hand over once the whole other team holds the next round
    // (each member arrives once per round of its team).
    const int other = 1 - team;
    const uint64_t other_rounds = (now + 1 - other) / 2 + 1;
    if (now == holds && relay.arrivals[other].load() == other_rounds * Relay::kTeam) {
      relay.round.compare_exchange_strong(now, now + 1);
      continue;
    }
    sched_yield();
  }
  return false;
}

TEST(EngineDisarmTest, ReadersThatAlwaysOverlap) {
  constexpr int kRounds = 20;
  Pipe pipe;
  ASSERT_GE(pipe.fd(), 0);
  Relay relay;
  ASSERT_OK_AND_ASSIGN(
      ScopedFaults relay_rule,
      Arm(Fault(Call::kShutdown).Error(EIO).OnFdKind(FdFilter::Kind::kAny).OnlyIf(
          [&relay](const CallSite&) { return RelayTurn(relay); })));
  std::vector<std::thread> threads;
  auto stop = [&] {
    relay.stop = true;
    for (std::thread& thread : threads) thread.join();
  };
  Watchdog watchdog("arming and disarming while readers always overlap");
  for (int team = 0; team < 2; ++team) {
    for (int i = 0; i < Relay::kTeam; ++i) {
      threads.emplace_back([&relay, &pipe, team] {
        relay_team = team;
        while (!relay.stop.load()) shutdown(pipe.fd(), SHUT_RDWR);
      });
      // One by one: this thread takes its reader slot before the next.
      while (relay.arrivals[team].load() < static_cast<uint64_t>(i + 1)) {
        std::this_thread::yield();
      }
    }
  }
  while (relay.round.load() < 4) std::this_thread::yield();  // relaying
  const uint64_t rounds_before = relay.round.load();

  for (int round = 0; round < kRounds; ++round) {
    absl::StatusOr<ScopedFaults> faults = Arm("socket:error=EMFILE");
    if (!faults.ok()) {
      ADD_FAILURE() << faults.status();
      break;
    }
    faults->Disarm();  // the call under test: it must return
  }
  const uint64_t rounds_after = relay.round.load();
  stop();
  watchdog.Done();
  // The relay went on while the rules were armed and disarmed.
  EXPECT_GT(rounds_after, rounds_before);
  EXPECT_EQ(relay_rule.fired(0), 0u);
}

}  // namespace
}  // namespace ipcfault
