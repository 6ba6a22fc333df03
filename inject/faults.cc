#include "ipcfault/inject/faults.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/internal/arm_rules.h"
#include "ipcfault/inject/internal/arming.h"
#include "ipcfault/inject/names.h"
#include "ipcfault/inject/scenario.h"

namespace ipcfault {
namespace {

void ReportToStderr(absl::string_view message) {
  std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
}

std::atomic<ExpectationReporter> expectation_reporter{ReportToStderr};

// Out-of-range rule index: a programming error in the test, reported as such.
[[noreturn]] void IndexOutOfRange(const char* what, size_t i, size_t size) {
  std::fprintf(stderr, "ipcfault::ScopedFaults::%s(%zu): out of range (%zu rules)\n", what, i,
               size);
  std::abort();
}

FaultRecord ToRecord(const inject_internal::FiredFault& fault) {
  return FaultRecord{fault.call, fault.rule_index, fault.action, fault.error,
                     fault.fd,   fault.tid,        fault.ordinal};
}

}  // namespace

struct ScopedFaults::State {
  std::shared_ptr<inject_internal::RuleGroup> group;
  bool expect_every_rule_fires = false;
  bool disarmed = false;
  std::vector<FaultRecord> final_records;  // taken when disarmed
};

absl::StatusOr<ScopedFaults> Arm(absl::string_view scenario) {
  absl::StatusOr<std::vector<Rule>> rules = ParseScenario(scenario, "scenario");
  if (!rules.ok()) return rules.status();
  return Arm(*std::move(rules));
}

absl::StatusOr<ScopedFaults> Arm(std::vector<Rule> rules) {
  // The same path as the preload library's arming (arm_rules.h).
  absl::StatusOr<std::shared_ptr<inject_internal::RuleGroup>> group =
      inject_internal::ArmRules(std::move(rules), "Arm: ");
  if (!group.ok()) return group.status();
  auto state = std::make_shared<ScopedFaults::State>();
  state->group = *std::move(group);
  return ScopedFaults(std::move(state));
}

absl::StatusOr<ScopedFaults> Arm(Fault fault) {
  std::vector<Rule> rules;
  rules.push_back(std::move(fault).rule());
  return Arm(std::move(rules));
}

// ---------------------------------------------------------------------------
// Fault

Fault::Fault(Call call) { rule_.calls = MaskOf(call); }

namespace {

// "Error(EIO)": an error as the rule's first call names it (EAI_AGAIN for
// getaddrinfo).
std::string ErrorText(const Rule& rule, int error) {
  for (const CallInfo& info : AllCalls()) {
    if ((rule.calls & MaskOf(info.call)) != 0) {
      return absl::StrCat("Error(", ErrorName(info.call, error), ")");
    }
  }
  return absl::StrCat("Error(", error, ")");
}

}  // namespace

// The action already set, as the builder call that set it.
std::string Fault::ActionText() const {
  switch (rule_.action) {
    case Action::kError:
      return ErrorText(rule_, rule_.error);
    case Action::kRetval:
      return absl::StrCat("Retval(", rule_.retval, ")");
    case Action::kShort:
      return absl::StrCat("Short(", rule_.short_bytes, ")");
    case Action::kNone:
      break;
  }
  return "";
}

void Fault::SecondAction(absl::string_view what) {
  if (rule_.action == Action::kNone || !rule_.builder_error.empty()) return;
  rule_.builder_error = absl::StrCat(
      ActionText(), " then ", what,
      ": a rule takes one action (Error, Retval or Short; DelayEnter, DelayExit and Signal "
      "combine with any of them): arm a second Fault for the second action");
}

Fault& Fault::Or(Call call) {
  rule_.calls |= MaskOf(call);
  return *this;
}

Fault& Fault::Error(int error) {
  if (rule_.action != Action::kNone) {
    SecondAction(ErrorText(rule_, error));
    return *this;
  }
  rule_.action = Action::kError;
  rule_.error = error;
  return *this;
}

Fault& Fault::Retval(int64_t retval) {
  if (rule_.action != Action::kNone) {
    SecondAction(absl::StrCat("Retval(", retval, ")"));
    return *this;
  }
  rule_.action = Action::kRetval;
  rule_.retval = retval;
  return *this;
}

Fault& Fault::Short(size_t bytes) {
  if (rule_.action != Action::kNone) {
    SecondAction(absl::StrCat("Short(", bytes, ")"));
    return *this;
  }
  rule_.action = Action::kShort;
  rule_.short_bytes = bytes;
  return *this;
}

Fault& Fault::DelayEnter(absl::Duration d) {
  rule_.delay_enter = d;
  return *this;
}

Fault& Fault::DelayExit(absl::Duration d) {
  rule_.delay_exit = d;
  return *this;
}

Fault& Fault::Signal(int sig) {
  rule_.signal = sig;
  return *this;
}

Fault& Fault::When(uint64_t first) {
  rule_.when = {first, first, 1};
  return *this;
}

Fault& Fault::When(uint64_t first, uint64_t last, uint64_t step) {
  rule_.when = {first, last, step};
  return *this;
}

Fault& Fault::Every(uint64_t first, uint64_t step) {
  rule_.when = {first, ::ipcfault::When::kNoLast, step};
  return *this;
}

Fault& Fault::Times(uint64_t n) {
  rule_.times = n;
  return *this;
}

Fault& Fault::Probability(double p, std::optional<uint64_t> seed) {
  rule_.probability = p;
  rule_.seed = seed;
  return *this;
}

Fault& Fault::OnFd(int fd) {
  rule_.fd = {FdFilter::Kind::kNumber, fd};
  return *this;
}

Fault& Fault::OnFdKind(FdFilter::Kind kind) {
  rule_.fd = {kind, -1};
  return *this;
}

Fault& Fault::OnPort(int port) {
  rule_.port = port;
  return *this;
}

Fault& Fault::OnSignal(int sig) {
  rule_.sig = sig;
  return *this;
}

Fault& Fault::OnThisThread() {
  rule_.thread = static_cast<pid_t>(syscall(SYS_gettid));
  return *this;
}

Fault& Fault::OnlyIf(std::function<bool(const CallSite&)> predicate) {
  rule_.predicate = std::move(predicate);
  return *this;
}

// ---------------------------------------------------------------------------
// ScopedFaults

ScopedFaults::ScopedFaults(std::shared_ptr<State> state) : state_(std::move(state)) {}

ScopedFaults::ScopedFaults(ScopedFaults&& other) noexcept = default;

ScopedFaults& ScopedFaults::operator=(ScopedFaults&& other) noexcept {
  if (this != &other) {
    Disarm();
    state_ = std::move(other.state_);
  }
  return *this;
}

ScopedFaults::~ScopedFaults() { Disarm(); }

size_t ScopedFaults::size() const { return state_ == nullptr ? 0 : state_->group->size(); }

uint64_t ScopedFaults::matched(size_t i) const {
  if (i >= size()) IndexOutOfRange("matched", i, size());
  return state_->group->matched(i);
}

uint64_t ScopedFaults::fired(size_t i) const {
  if (i >= size()) IndexOutOfRange("fired", i, size());
  return state_->group->fired(i);
}

const std::string& ScopedFaults::text(size_t i) const {
  if (i >= size()) IndexOutOfRange("text", i, size());
  return state_->group->text(i);
}

std::vector<FaultRecord> ScopedFaults::records() const {
  if (state_ == nullptr) return {};
  if (state_->disarmed) return state_->final_records;
  std::vector<FaultRecord> records;
  for (const inject_internal::FiredFault& fault : inject_internal::RecordsOf(*state_->group)) {
    records.push_back(ToRecord(fault));
  }
  return records;
}

uint64_t ScopedFaults::dropped() const {
  uint64_t fired_total = 0;
  for (size_t i = 0; i < size(); ++i) fired_total += fired(i);
  const uint64_t kept = records().size();
  return fired_total > kept ? fired_total - kept : 0;
}

ScopedFaults& ScopedFaults::ExpectEveryRuleFires() {
  if (state_ != nullptr) state_->expect_every_rule_fires = true;
  return *this;
}

void ScopedFaults::Disarm() {
  if (state_ == nullptr || state_->disarmed) return;
  inject_internal::DisarmGroup(*state_->group);
  state_->final_records = records();
  state_->disarmed = true;
  if (!state_->expect_every_rule_fires) return;
  const ExpectationReporter report = expectation_reporter.load(std::memory_order_acquire);
  for (size_t i = 0; i < size(); ++i) {
    if (fired(i) != 0) continue;
    report(absl::StrCat("ipcfault: rule ", i, " '", text(i), "' never fired (it matched ",
                        matched(i), matched(i) == 1 ? " call)" : " calls)"));
  }
}

size_t ArmedRuleCount() { return inject_internal::ArmedRuleCount(); }

void SetExpectationReporter(ExpectationReporter reporter) {
  expectation_reporter.store(reporter != nullptr ? reporter : ReportToStderr,
                             std::memory_order_release);
}

}  // namespace ipcfault
