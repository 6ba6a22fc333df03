// inject/internal/arming.h
//
// The engine's arming side: groups of rules armed and disarmed together, their
// counts, and the fired-fault ring. Not a public API: ipcfault::Arm and
// ScopedFaults (faults.h) sit on it, and so does the preload library.
//
//   auto group = std::make_shared<inject_internal::RuleGroup>(rules, texts);
//   absl::Status armed = inject_internal::ArmGroup(group);   // Decide() sees it
//   ...
//   inject_internal::DisarmGroup(*group);                    // and no longer
//   uint64_t n = group->fired(0);                            // counts stay
//
// Arming and disarming take one process-wide std::mutex; they run in test
// code (or the preload library's constructor), never in a signal handler.
// Decide() (engine.h) takes no lock: the armed rules are an immutable
// snapshot swapped atomically. A replaced snapshot is freed only once no
// Decide() can still be reading it (see engine.cc, "Reclamation").

#ifndef IPCFAULT_INJECT_INTERNAL_ARMING_H_
#define IPCFAULT_INJECT_INTERNAL_ARMING_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault::inject_internal {

// The fired-fault ring keeps the last kFiredRingSize fires of the process
// (all groups together); older ones are overwritten and counted as dropped.
inline constexpr size_t kFiredRingSize = 4096;

// Per-rule counters, on their own cache line.
struct alignas(64) RuleCounters {
  std::atomic<uint64_t> matched{0};
  std::atomic<uint64_t> fired{0};
};

// Rules armed together (one ScopedFaults, or the preload library's scenario),
// in order, with their canonical texts and counters. The rules are immutable;
// the counters are atomics that Decide() updates and that stay readable after
// disarming. Thread-safe.
class RuleGroup {
 public:
  // `texts` holds the canonical text of each rule, in order; rules without
  // one (`texts` shorter) get an empty text.
  RuleGroup(std::vector<Rule> rules, std::vector<std::string> texts);
  RuleGroup(const RuleGroup&) = delete;
  RuleGroup& operator=(const RuleGroup&) = delete;

  // Unique in the process, never 0.
  uint64_t id() const { return id_; }
  size_t size() const { return rules_.size(); }
  const Rule& rule(size_t i) const { return rules_.at(i); }
  const std::string& text(size_t i) const { return texts_.at(i); }
  // Calls that matched rule `i` (its calls and filters), fired or not.
  uint64_t matched(size_t i) const {
    return counters(i).matched.load(std::memory_order_acquire);
  }
  // Times rule `i` fired.
  uint64_t fired(size_t i) const {
    return counters(i).fired.load(std::memory_order_acquire);
  }
  // The counters of rule `i`, which Decide() updates.
  RuleCounters& counters(size_t i) const;

 private:
  const uint64_t id_;
  const std::vector<Rule> rules_;
  const std::vector<std::string> texts_;
  const std::unique_ptr<RuleCounters[]> counters_;
};

// Arms `group` after every group already armed: Decide() sees its rules from
// the moment this returns. Fails (arming nothing) if a rule uses p= without
// seed= and IPCFAULT_SEED is malformed, or if the group is already armed.
// Thread-safe; not async-signal-safe.
absl::Status ArmGroup(std::shared_ptr<RuleGroup> group);

// ArmGroup without absl::Status: false, with `why` set, where it fails. The
// preload library takes this path: absl::Status would pull absl::Cord, whose
// Debian archive cannot be linked into a shared object (docs/run.md).
bool TryArmGroup(std::shared_ptr<RuleGroup> group, std::string* why);
// TryArmGroup's `why` for a group already armed (ArmGroup's
// FailedPrecondition; every other failure is InvalidArgument).
inline constexpr char kAlreadyArmed[] = "rule group is already armed";

// Disarms `group`; on return no Decide() sees its rules or can still be
// reading them. Idempotent. Thread-safe; not async-signal-safe.
void DisarmGroup(RuleGroup& group);

// Disarms every group (for test fixtures that start from a clean state).
void DisarmAll();

// Number of rules armed, over all groups.
size_t ArmedRuleCount();

// The fires of `group` still held in the ring, oldest first. Thread-safe;
// a fire being written concurrently may be missing.
std::vector<FiredFault> RecordsOf(const RuleGroup& group);

// The process seed of p= rules that have no seed=: IPCFAULT_SEED if set, else
// a fresh random one, printed once to stderr ("ipcfault: IPCFAULT_SEED=N")
// so the run can be repeated. Resolved on first use; stable afterwards.
// Fails if IPCFAULT_SEED is set but is not an unsigned 64-bit number.
absl::StatusOr<uint64_t> ProcessSeed();

// Parses an IPCFAULT_SEED value: decimal (or 0x hex) unsigned 64-bit.
absl::StatusOr<uint64_t> ParseSeed(absl::string_view text);
// The same without absl::Status: false if `text` is not one.
bool ParseSeedValue(absl::string_view text, uint64_t* out);
// ProcessSeed without absl::Status: false with `why` set.
bool TryProcessSeed(uint64_t* seed, std::string* why);

// The p= draw: whether the `ordinal`-th matching call of the rule at `index`
// of its group, seeded with `seed`, falls within probability `p`. Pure: the
// same arguments always give the same answer, whatever the threads did.
bool ProbabilityDraw(uint64_t seed, uint32_t index, uint64_t ordinal, double p);

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_ARMING_H_
