// The scenario language: the canonical formatter (scenario_format.h). Each
// rule becomes the one text that parses back to it: keys in the order
// AllKeys() declares them (call.h), values in their shortest exact form, and
// the call list as a set when a set (narrowed by the rule's keys) says it.

#include "ipcfault/inject/scenario_format.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/rule_needs.h"
#include "ipcfault/inject/names.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault {
namespace {

// The largest unit that states `d` exactly: 20ms, 1500us, 2s, 7ns.
std::string FormatDelay(absl::Duration d) {
  int64_t ns = absl::ToInt64Nanoseconds(d);
  if (ns != 0 && ns % 1000000000 == 0) return absl::StrCat(ns / 1000000000, "s");
  if (ns != 0 && ns % 1000000 == 0) return absl::StrCat(ns / 1000000, "ms");
  if (ns % 1000 == 0) return absl::StrCat(ns / 1000, "us");
  return absl::StrCat(ns, "ns");
}

std::string FormatWhen(const When& when) {
  if (when.last == When::kNoLast) {
    return when.step == 1 ? absl::StrCat(when.first, "+")
                          : absl::StrCat(when.first, "+", when.step);
  }
  if (when.last == when.first && when.step == 1) return absl::StrCat(when.first);
  std::string text = absl::StrCat(when.first, "..", when.last);
  if (when.step != 1) absl::StrAppend(&text, "+", when.step);
  return text;
}

// The shortest decimal that reads back as exactly `p`.
std::string FormatProbability(double p) {
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, p);
    double back = 0;
    if (absl::SimpleAtod(buffer, &back) && back == p) break;
  }
  return buffer;
}

std::string FormatFd(const FdFilter& fd) {
  if (fd.kind == FdFilter::Kind::kNumber) return absl::StrCat(fd.number);
  for (const auto& [name, kind] : inject_internal::kFdKinds) {
    if (kind == fd.kind) return std::string(name);
  }
  return "default";
}

// The needs of a rule already built, as its canonical text states them.
inject_internal::Needs NeedsOf(const Rule& rule) {
  inject_internal::Needs needs;
  switch (rule.action) {
    case Action::kError:
      needs.keys |= kKeyError;
      // A valid rule's calls all fail in one domain: its first call's.
      needs.domain = ErrorDomain::kErrno;
      for (const CallInfo& info : AllCalls()) {
        if ((rule.calls & MaskOf(info.call)) != 0) {
          needs.domain = ErrorDomainOf(info.call);
          break;
        }
      }
      break;
    case Action::kRetval:
      needs.keys |= kKeyRetval;
      break;
    case Action::kShort:
      needs.keys |= kKeyShort;
      break;
    case Action::kNone:
      break;
  }
  if (rule.signal != 0) needs.keys |= kKeySignal;
  if (rule.delay_enter != absl::ZeroDuration()) needs.keys |= kKeyDelayEnter;
  if (rule.delay_exit != absl::ZeroDuration()) needs.keys |= kKeyDelayExit;
  if (rule.when != When{}) needs.keys |= kKeyWhen;
  if (rule.times != 0) needs.keys |= kKeyTimes;
  if (rule.probability != 1.0) needs.keys |= kKeyP;
  if (rule.seed) needs.keys |= kKeySeed;
  if (rule.fd.kind != FdFilter::Kind::kDefault) needs.keys |= kKeyFd;
  if (rule.port != -1) needs.keys |= kKeyPort;
  if (rule.sig != 0) needs.keys |= kKeySig;
  if (rule.site != 0) needs.keys |= kKeySite;
  if (rule.as_strace) needs.keys |= kKeyAs;
  return needs;
}

// The call list: one name, a set that narrows to exactly the calls, or sets
// and names that add up to them.
std::string FormatCalls(const Rule& rule, const inject_internal::Needs& needs) {
  const CallMask mask = rule.calls;
  std::vector<std::string> parts;
  if (CountOf(mask) >= 2) {
    // Smallest sets first, so %io wins over %net and all when both fit.
    for (const char* name : {"%io", "%process", "%signal", "%net", "all"}) {
      const CallSetInfo* set = CallSetByName(name);
      if (set != nullptr && inject_internal::Narrow(CallsIn(*set), needs) == mask) {
        return std::string(name);
      }
    }
    CallMask covered = 0;
    for (const CallSetInfo& set : AllCallSets()) {
      CallMask narrowed = inject_internal::Narrow(CallsIn(set), needs);
      if (narrowed != 0 && (narrowed & ~mask) == 0 && (narrowed & ~covered) != 0) {
        parts.emplace_back(set.name);
        covered |= narrowed;
      }
    }
    if (covered == mask) return absl::StrJoin(parts, ",");
    // Sets only help if they cover most of the calls; otherwise names read better.
    if (CountOf(covered) * 2 < CountOf(mask)) {
      parts.clear();
      covered = 0;
    }
    for (const CallInfo& info : AllCalls()) {
      if ((mask & ~covered & MaskOf(info.call)) != 0) parts.emplace_back(info.name);
    }
    return absl::StrJoin(parts, ",");
  }
  for (const CallInfo& info : AllCalls()) {
    if ((mask & MaskOf(info.call)) != 0) parts.emplace_back(info.name);
  }
  return absl::StrJoin(parts, ",");
}

}  // namespace

std::string FormatRule(const Rule& rule) {
  const inject_internal::Needs needs = NeedsOf(rule);
  std::string text = FormatCalls(rule, needs);
  switch (rule.action) {
    case Action::kError:
      absl::StrAppend(&text, ":error=", ErrorName(*needs.domain, rule.error));
      break;
    case Action::kRetval:
      absl::StrAppend(&text, ":retval=", rule.retval);
      break;
    case Action::kShort:
      absl::StrAppend(&text, ":short=", rule.short_bytes);
      break;
    case Action::kNone:
      break;
  }
  if (rule.signal != 0) absl::StrAppend(&text, ":signal=", SignalName(rule.signal));
  if (rule.delay_enter != absl::ZeroDuration()) {
    absl::StrAppend(&text, ":delay_enter=", FormatDelay(rule.delay_enter));
  }
  if (rule.delay_exit != absl::ZeroDuration()) {
    absl::StrAppend(&text, ":delay_exit=", FormatDelay(rule.delay_exit));
  }
  if (rule.when != When{}) absl::StrAppend(&text, ":when=", FormatWhen(rule.when));
  if (rule.times != 0) absl::StrAppend(&text, ":times=", rule.times);
  if (rule.probability != 1.0) absl::StrAppend(&text, ":p=", FormatProbability(rule.probability));
  if (rule.seed) absl::StrAppend(&text, ":seed=", *rule.seed);
  if (rule.fd.kind != FdFilter::Kind::kDefault) absl::StrAppend(&text, ":fd=", FormatFd(rule.fd));
  if (rule.port != -1) absl::StrAppend(&text, ":port=", rule.port);
  if (rule.sig != 0) absl::StrAppend(&text, ":sig=", SignalName(rule.sig));
  if (rule.site != 0) absl::StrAppend(&text, ":site=", absl::Hex(rule.site, absl::kZeroPad12));
  if (rule.as_strace) absl::StrAppend(&text, ":as=strace");
  if (rule.thread || rule.predicate) {
    std::vector<std::string> extra;
    if (rule.thread) extra.push_back(absl::StrCat("thread ", *rule.thread));
    if (rule.predicate) extra.push_back("a predicate");
    absl::StrAppend(&text, "  # C++ only, not expressible here: ", absl::StrJoin(extra, ", "));
  }
  return text;
}

std::string FormatScenario(absl::Span<const Rule> rules) {
  std::string text;
  for (const Rule& rule : rules) absl::StrAppend(&text, FormatRule(rule), "\n");
  return text;
}

}  // namespace ipcfault
