// Rule: equality, and validation against the call table (rule.h).
//
// ValidateRule reads the spec's own columns (call.h: KEYS, FAILURE) and
// speaks C++: the rule is named as the builder chain that makes it
// (Fault(Call::kConnect).Or(...)), each field by the builder method that
// sets it. The scenario parser (scenario_parse.cc) checks text against the
// same columns as it reads it, with line and column.

#include "ipcfault/inject/rule.h"

#include <signal.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/names.h"

namespace ipcfault {

uint64_t Predicate::NewId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

bool operator==(const Rule& a, const Rule& b) {
  return a.calls == b.calls && a.action == b.action && a.error == b.error &&
         a.retval == b.retval && a.short_bytes == b.short_bytes &&
         a.delay_enter == b.delay_enter && a.delay_exit == b.delay_exit &&
         a.signal == b.signal && a.when == b.when && a.times == b.times &&
         a.probability == b.probability && a.seed == b.seed && a.fd == b.fd &&
         a.port == b.port && a.sig == b.sig && a.site == b.site && a.as_strace == b.as_strace &&
         a.thread == b.thread && a.predicate == b.predicate &&
         a.builder_error == b.builder_error;
}

namespace {

// The limits of the scenario language, so that every valid rule has a text.
constexpr int64_t kMaxDelayNs = int64_t{86400} * 1000 * 1000 * 1000;  // 24 h
constexpr int64_t kMaxInt = std::numeric_limits<int>::max();
constexpr uint64_t kMaxCount = When::kNoLast - 1;
constexpr int kMaxErrno = 4095;
constexpr uint64_t kMaxSite = (uint64_t{1} << 48) - 1;  // 12 hex digits

// "Call::kConnect", by Call: characters, not pointers, so that the table
// needs no relocation at load (call.cc).
constexpr char kEnumerators[][32] = {
#define IPCFAULT_CALL(name, Camel, ...) "Call::k" #Camel,
#include "ipcfault/inject/call_spec.inc"
};

absl::string_view Enumerator(Call call) { return kEnumerators[static_cast<int>(call)]; }

// The builder chain that selects `calls`: Fault(Call::kRead).Or(Call::kWrite).
std::string FaultOf(CallMask calls) {
  std::string text;
  for (const CallInfo& info : AllCalls()) {
    if ((calls & MaskOf(info.call)) == 0) continue;
    absl::StrAppend(&text, text.empty() ? "Fault(" : ".Or(", Enumerator(info.call), ")");
  }
  return text;
}

std::string DurationText(absl::Duration d) { return absl::FormatDuration(d); }

// The calls that take `key`, for "X is for ..." messages.
std::string Takers(uint32_t key) {
  std::vector<absl::string_view> takers;
  for (const CallInfo& info : AllCalls()) {
    if ((info.keys & key) != 0) takers.push_back(info.name);
  }
  return absl::StrJoin(takers, ", ");
}

// Collects the first problem found, prefixed by the rule's builder chain.
class Checker {
 public:
  explicit Checker(const Rule& rule) : rule_(rule) {}

  // The first problem found; empty if none.
  std::string Run();

 private:
  // `what` (a builder call, "Short(1)") uses `key`: every call must take it.
  bool KeyApplies(uint32_t key, const std::string& what);
  bool ErrorApplies();
  // Records the problem (the first one only) and returns it. No
  // absl::Status here: the preload library validates the rules it arms
  // (docs/run.md, "A libc-only preload library").
  const std::string& Fail(const std::string& message) {
    if (problem_.empty()) problem_ = absl::StrCat(FaultOf(rule_.calls), ": ", message);
    return problem_;
  }
  std::string ErrorText(int error) const;

  const Rule& rule_;
  std::string problem_;
};

bool Checker::KeyApplies(uint32_t key, const std::string& what) {
  for (const CallInfo& info : AllCalls()) {
    if ((rule_.calls & MaskOf(info.call)) == 0 || (info.keys & key) != 0) continue;
    switch (key) {
      case kKeyFd:
        return Fail(absl::StrCat(what, " does not apply to ", info.name, ": it takes no fd")).empty();
      case kKeyRetval:
        return Fail(absl::StrCat(what, " does not apply to ", info.name,
                                 ": its result cannot be faked")).empty();
      default:
        return Fail(absl::StrCat(what, " does not apply to ", info.name, ": it is for ",
                                 Takers(key))).empty();
    }
  }
  return true;
}

// The error as the rule's first call would name it: "ECONNREFUSED (111)".
std::string Checker::ErrorText(int error) const {
  for (const CallInfo& info : AllCalls()) {
    if ((rule_.calls & MaskOf(info.call)) == 0) continue;
    if (const char* name = FindErrorName(ErrorDomainOf(info.call), error)) return name;
    break;
  }
  return absl::StrCat(error);
}

// Whether `error` is a code `domain` can report.
bool InDomain(ErrorDomain domain, int error) {
  if (domain == ErrorDomain::kErrno) return error >= 1 && error <= kMaxErrno;
  return FindErrorName(domain, error) != nullptr;
}

absl::string_view DomainText(ErrorDomain domain) {
  switch (domain) {
    case ErrorDomain::kEai:
      return "EAI_* codes (such as EAI_AGAIN)";
    case ErrorDomain::kHErrno:
      return "h_errno values (HOST_NOT_FOUND, TRY_AGAIN, NO_RECOVERY, NO_DATA)";
    case ErrorDomain::kErrno:
      break;
  }
  return "errno values (1 to 4095, such as ECONNREFUSED)";
}

bool Checker::ErrorApplies() {
  const int error = rule_.error;
  const std::string what = absl::StrCat("Error(", error, ")");
  // The rule's first call, and its first call that fails in another domain.
  const CallInfo* first = nullptr;
  const CallInfo* other = nullptr;
  for (const CallInfo& info : AllCalls()) {
    if ((rule_.calls & MaskOf(info.call)) == 0) continue;
    if (first == nullptr) {
      first = &info;
    } else if (other == nullptr && ErrorDomainOf(info.call) != ErrorDomainOf(first->call)) {
      other = &info;
    }
  }
  const bool fits_first = InDomain(ErrorDomainOf(first->call), error);
  if (other != nullptr) {
    // One number, two meanings (or one meaning and none): the calls fail in
    // different domains.
    const bool fits_other = InDomain(ErrorDomainOf(other->call), error);
    if (fits_first && fits_other) {
      return Fail(absl::StrCat(what, " is ", ErrorName(first->call, error), " for ",
                               first->name, " but ", ErrorName(other->call, error), " for ",
                               other->name, ": give each its own Fault"))
          .empty();
    }
    if (fits_first || fits_other) {
      const CallInfo* fits = fits_first ? first : other;
      const CallInfo* misfit = fits_first ? other : first;
      return Fail(absl::StrCat(what, " is ", ErrorName(fits->call, error), " for ", fits->name,
                               ", but ", misfit->name, " fails with ",
                               DomainText(ErrorDomainOf(misfit->call)),
                               ": give each its own Fault"))
          .empty();
    }
  } else if (fits_first) {
    return true;
  }
  // Fits no call. Say what the number is elsewhere, if it is anything.
  const ErrorDomain domain = ErrorDomainOf(first->call);
  std::string elsewhere;
  for (ErrorDomain d : {ErrorDomain::kErrno, ErrorDomain::kEai, ErrorDomain::kHErrno}) {
    if (d == domain || !InDomain(d, error)) continue;
    const char* name = FindErrorName(d, error);
    if (name == nullptr) continue;
    // Whose it is: the calls that fail in that domain (errno: most).
    std::string owner;
    if (d != ErrorDomain::kErrno) {
      std::vector<absl::string_view> owners;
      for (const CallInfo& info : AllCalls()) {
        if (ErrorDomainOf(info.call) == d) owners.push_back(info.name);
      }
      owner = absl::StrCat(absl::StrJoin(owners, "'s, "), "'s ");
    }
    elsewhere = absl::StrCat(" (", error, " is ", owner, name, ")");
    break;
  }
  return Fail(absl::StrCat(what, " does not apply to ", first->name, ": it fails with ",
                           DomainText(domain), elsewhere))
      .empty();
}

std::string Checker::Run() {
  if (!rule_.builder_error.empty()) return Fail(rule_.builder_error);
  if (rule_.calls == 0) {
    return "rule has no calls (Rule::calls is empty)";
  }
  if (kCallCount < 128 && (rule_.calls >> kCallCount) != 0) {
    return absl::StrCat("Rule::calls has bits past the last call (", kCallCount, " calls)");
  }

  // The action, and the fields only other actions use.
  switch (rule_.action) {
    case Action::kError:
      if (rule_.error == 0) return Fail("Error(0): 0 is no error");
      if (!KeyApplies(kKeyError, absl::StrCat("Error(", rule_.error, ")")) || !ErrorApplies()) {
        return problem_;
      }
      break;
    case Action::kRetval:
      if (rule_.retval < 0 || rule_.retval > kMaxInt) {
        return Fail(absl::StrCat("Retval(", rule_.retval, ") is out of range (0 to ", kMaxInt,
                                 ")"));
      }
      if (!KeyApplies(kKeyRetval, absl::StrCat("Retval(", rule_.retval, ")"))) return problem_;
      break;
    case Action::kShort:
      if (rule_.short_bytes < 1 || rule_.short_bytes > static_cast<size_t>(kMaxInt)) {
        return Fail(absl::StrCat("Short(", rule_.short_bytes, ") is out of range (1 to ",
                                 kMaxInt, " bytes)"));
      }
      if (!KeyApplies(kKeyShort, absl::StrCat("Short(", rule_.short_bytes, ")"))) return problem_;
      break;
    case Action::kNone:
      if (rule_.signal == 0 && rule_.delay_enter == absl::ZeroDuration() &&
          rule_.delay_exit == absl::ZeroDuration()) {
        return Fail("the rule does nothing: give it an action (Error, Retval or Short), a "
                    "Signal, or a DelayEnter or DelayExit");
      }
      break;
  }
  auto unused = [&](absl::string_view field, absl::string_view value,
                    absl::string_view action) {
    return Fail(absl::StrCat("Rule::", field, " is ", value, ", but only ", action,
                             " uses it (this rule's action is ",
                             rule_.action == Action::kNone    ? "Action::kNone"
                             : rule_.action == Action::kError ? "Action::kError"
                             : rule_.action == Action::kShort ? "Action::kShort"
                                                              : "Action::kRetval",
                             ")"));
  };
  if (rule_.action != Action::kError && rule_.error != 0) {
    return unused("error", ErrorText(rule_.error), "Action::kError");
  }
  if (rule_.action != Action::kRetval && rule_.retval != 0) {
    return unused("retval", absl::StrCat(rule_.retval), "Action::kRetval");
  }
  if (rule_.action != Action::kShort && rule_.short_bytes != 0) {
    return unused("short_bytes", absl::StrCat(rule_.short_bytes), "Action::kShort");
  }

  // Signal and delays.
  if (rule_.signal != 0) {
    const std::string what = absl::StrCat("Signal(", SignalName(rule_.signal), ")");
    if (rule_.signal < 1 || rule_.signal > SIGRTMAX) {
      return Fail(absl::StrCat(what, ": signal numbers run from 1 to ", SIGRTMAX));
    }
    if (!KeyApplies(kKeySignal, what)) return problem_;
  }
  for (auto [d, name, key] : {std::tuple{rule_.delay_enter, "DelayEnter", kKeyDelayEnter},
                              std::tuple{rule_.delay_exit, "DelayExit", kKeyDelayExit}}) {
    if (d == absl::ZeroDuration()) continue;
    const std::string what = absl::StrCat(name, "(", DurationText(d), ")");
    if (d < absl::ZeroDuration() || d > absl::Nanoseconds(kMaxDelayNs)) {
      return Fail(absl::StrCat(what, " is out of range (0 to 24h)"));
    }
    if (absl::Nanoseconds(absl::ToInt64Nanoseconds(d)) != d) {
      return Fail(absl::StrCat(what, " is not a whole number of nanoseconds"));
    }
    if (!KeyApplies(key, what)) return problem_;
  }

  // Trigger.
  const When& w = rule_.when;
  if (w != When{}) {
    const std::string what =
        w.last == When::kNoLast
            ? absl::StrCat("Every(", w.first, ", ", w.step, ")")
            : absl::StrCat("When(", w.first, ", ", w.last, ", ", w.step, ")");
    if (w.first == 0) return Fail(absl::StrCat(what, ": calls count from 1, not 0"));
    if (w.step == 0) return Fail(absl::StrCat(what, ": the step must be at least 1"));
    if (w.last < w.first) {
      return Fail(absl::StrCat(what, ": last (", w.last, ") is before first (", w.first, ")"));
    }
    if (w.first > kMaxCount || w.step > kMaxCount ||
        (w.last != When::kNoLast && w.last > kMaxCount)) {
      return Fail(absl::StrCat(what, " is out of range (counts run to ", kMaxCount, ")"));
    }
    if (!KeyApplies(kKeyWhen, what)) return problem_;
  }
  if (rule_.times != 0) {
    const std::string what = absl::StrCat("Times(", rule_.times, ")");
    if (rule_.times > kMaxCount) return Fail(absl::StrCat(what, " is out of range"));
    if (!KeyApplies(kKeyTimes, what)) return problem_;
  }
  if (rule_.probability != 1.0) {
    const std::string what = absl::StrCat("Probability(", rule_.probability, ")");
    if (!(rule_.probability > 0 && rule_.probability <= 1)) {
      return Fail(absl::StrCat(what, ": p must be above 0 and at most 1"));
    }
    if (!KeyApplies(kKeyP, what)) return problem_;
  }
  if (rule_.seed) {
    const std::string what =
        absl::StrCat("Probability(", rule_.probability, ", /*seed=*/", *rule_.seed, ")");
    if (rule_.probability == 1.0) {
      return Fail(absl::StrCat(what, ": a seed needs p below 1 (it seeds the p draws)"));
    }
    if (!KeyApplies(kKeySeed, what)) return problem_;
  }

  // Filters.
  if (rule_.fd.kind == FdFilter::Kind::kNumber) {
    const std::string what = absl::StrCat("OnFd(", rule_.fd.number, ")");
    if (rule_.fd.number < 0) return Fail(absl::StrCat(what, ": fds are never negative"));
    if (!KeyApplies(kKeyFd, what)) return problem_;
  } else if (rule_.fd.number != -1) {
    return Fail(absl::StrCat("Rule::fd.number is ", rule_.fd.number,
                             ", but only FdFilter::Kind::kNumber uses it"));
  } else if (rule_.fd.kind != FdFilter::Kind::kDefault) {
    if (!KeyApplies(kKeyFd, "OnFdKind(...)")) return problem_;
  }
  if (rule_.port != -1) {
    const std::string what = absl::StrCat("OnPort(", rule_.port, ")");
    if (rule_.port < 1 || rule_.port > 65535) {
      return Fail(absl::StrCat(what, ": ports run from 1 to 65535 (-1: any)"));
    }
    if (!KeyApplies(kKeyPort, what)) return problem_;
  }
  if (rule_.sig != 0) {
    const std::string what = absl::StrCat("OnSignal(", SignalName(rule_.sig), ")");
    if (rule_.sig < 1 || rule_.sig > SIGRTMAX) {
      return Fail(absl::StrCat(what, ": signal numbers run from 1 to ", SIGRTMAX));
    }
    if (!KeyApplies(kKeySig, what)) return problem_;
  }
  if (rule_.site != 0) {
    const std::string what = absl::StrCat("Rule::site = 0x", absl::Hex(rule_.site));
    if (rule_.site > kMaxSite) {
      return Fail(absl::StrCat(what, ": a call-site hash has at most 12 hex digits"));
    }
    if (!KeyApplies(kKeySite, what)) return problem_;
  }
  if (rule_.as_strace && !KeyApplies(kKeyAs, "AsStrace()")) return problem_;
  if (rule_.thread.has_value() && *rule_.thread <= 0) {
    return Fail(absl::StrCat("thread ", *rule_.thread, " is not a thread id"));
  }
  return problem_;
}

}  // namespace

std::string RuleProblem(const Rule& rule) { return Checker(rule).Run(); }

}  // namespace ipcfault
