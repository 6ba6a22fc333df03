// inject/faults.h
//
// Arming faults from a test. Arm() parses a scenario and arms its rules for
// the life of the returned ScopedFaults; Fault is a builder for the same
// rules in C++. Faults reach the code under test through the interposer
// (link //inject:interpose) or the preload library.
//
//   IPCFAULT_ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults,
//                        ipcfault::Arm("connect:error=ECONNREFUSED:when=1"));
//   EXPECT_EQ(connect(fd, addr, len), -1);               // refused
//   EXPECT_EQ(faults.fired(0), 1);
//
//   auto faults = ipcfault::Arm(ipcfault::Fault(ipcfault::Call::kConnect)
//                                   .Error(ECONNREFUSED).When(1, 2));
//
// Thread-safe: arming and disarming may happen while other threads make
// interposed calls. A ScopedFaults itself is thread-compatible (move-only).

#ifndef IPCFAULT_INJECT_FAULTS_H_
#define IPCFAULT_INJECT_FAULTS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault {

// A fired fault, as recorded (see also inject_internal::FiredFault).
struct FaultRecord {
  Call call;
  size_t rule;          // index within its ScopedFaults
  Action action;
  int error;
  int fd;
  pid_t tid;
  uint64_t ordinal;     // which matching call of the rule, from 1
};

class ScopedFaults;

// Parses `scenario` and arms every rule; nothing is armed on error.
absl::StatusOr<ScopedFaults> Arm(absl::string_view scenario);
// Arms rules built in C++ (validated as the parser validates text).
absl::StatusOr<ScopedFaults> Arm(std::vector<Rule> rules);

// Builder for one Rule. Each method sets one field (or adds a call). A rule
// takes one action: a second Error, Retval or Short does not replace the
// first; it makes the rule invalid (Rule::builder_error), and Arm() refuses
// it with InvalidArgument naming both in C++ terms:
//   Arm(Fault(Call::kRead).Error(EIO).Short(1))
//   // "Arm: rule 0 of 1: Fault(Call::kRead): Error(EIO) then Short(1): a rule
//   //  takes one action ..."
// Arm() checks the rest against the call table (ValidateRule, rule.h).
class Fault {
 public:
  explicit Fault(Call call);
  Fault& Or(Call call);                      // add a call to the set
  Fault& Error(int error);
  Fault& Retval(int64_t retval);
  Fault& Short(size_t bytes);
  Fault& DelayEnter(absl::Duration d);
  Fault& DelayExit(absl::Duration d);
  Fault& Signal(int sig);
  Fault& When(uint64_t first);               // when=first
  Fault& When(uint64_t first, uint64_t last, uint64_t step = 1);
  Fault& Every(uint64_t first, uint64_t step);  // when=first+step
  Fault& Times(uint64_t n);
  Fault& Probability(double p, std::optional<uint64_t> seed = std::nullopt);
  Fault& OnFd(int fd);                       // fd=N
  Fault& OnFdKind(FdFilter::Kind kind);      // fd=socket|pipe|file|any
  Fault& OnPort(int port);
  Fault& OnSignal(int sig);                  // sig=
  Fault& OnThisThread();                     // only the calling thread
  Fault& OnlyIf(std::function<bool(const CallSite&)> predicate);
  const Rule& rule() const& { return rule_; }
  Rule rule() && { return std::move(rule_); }
  operator Rule() const& { return rule_; }   // NOLINT: builder converts

 private:
  std::string ActionText() const;
  void SecondAction(absl::string_view what);

  Rule rule_;
};

absl::StatusOr<ScopedFaults> Arm(Fault fault);

class ScopedFaults {
 public:
  ScopedFaults(ScopedFaults&&) noexcept;
  ScopedFaults& operator=(ScopedFaults&&) noexcept;
  ~ScopedFaults();  // Disarm()

  // Number of rules.
  size_t size() const;
  // Calls that matched rule `i` (its calls and filters), fired or not.
  uint64_t matched(size_t i) const;
  // Times rule `i` fired.
  uint64_t fired(size_t i) const;
  // The fired faults recorded, oldest first (a bounded ring: see dropped()).
  std::vector<FaultRecord> records() const;
  // Records lost to the ring's bound.
  uint64_t dropped() const;
  // Canonical text of rule `i`.
  const std::string& text(size_t i) const;

  // Opt-in: on Disarm, report every rule that never fired through the
  // expectation reporter (the gtest integration makes it a test failure).
  ScopedFaults& ExpectEveryRuleFires();

  // Disarms now (idempotent). Counts and records stay readable.
  void Disarm();

 private:
  struct State;
  explicit ScopedFaults(std::shared_ptr<State> state);
  friend absl::StatusOr<ScopedFaults> Arm(std::vector<Rule> rules);
  std::shared_ptr<State> state_;
};

// Number of rules armed in this process, over every ScopedFaults alive
// (and the preload library's scenario, under `ipcfault run`). 0 when nothing
// is armed: test fixtures check it to catch a rule leaked by an earlier test
// (fixtures/gtest.h does). Rules a `--control` run arms from outside are not
// counted. Thread-safe.
size_t ArmedRuleCount();

// Where ExpectEveryRuleFires() reports. The default prints to stderr; the
// gtest integration (//fixtures:gtest) installs one that calls ADD_FAILURE.
using ExpectationReporter = void (*)(absl::string_view message);
void SetExpectationReporter(ExpectationReporter reporter);

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_FAULTS_H_
