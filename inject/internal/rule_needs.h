// inject/internal/rule_needs.h
//
// What a rule asks of each of its calls (the keys it uses and, with error=,
// the error domain), and the narrowing of a call set to the calls that
// accept it: shared by the scenario parser (a set in the text stands for
// those of its calls that accept the rule) and the formatter (which set, if
// any, states a rule's calls). Not a public API.
//
//   inject_internal::Needs needs{kKeyShort, std::nullopt};
//   CallMask io_short = inject_internal::Narrow(CallsIn(*CallSetByName("%io")), needs);
//
// Thread-safe: pure functions over the call table.

#ifndef IPCFAULT_INJECT_INTERNAL_RULE_NEEDS_H_
#define IPCFAULT_INJECT_INTERNAL_RULE_NEEDS_H_

#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/string_view.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/names.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault::inject_internal {

struct Needs {
  uint32_t keys = 0;                  // KeyBits
  std::optional<ErrorDomain> domain;  // with error=
};

// Whether `call` takes every key `needs` names, and fails in its domain.
inline bool Accepts(Call call, const Needs& needs) {
  if ((GetCallInfo(call).keys & needs.keys) != needs.keys) return false;
  return !needs.domain || ErrorDomainOf(call) == *needs.domain;
}

// The calls of `mask` that accept `needs`.
inline CallMask Narrow(CallMask mask, const Needs& needs) {
  CallMask out = 0;
  for (const CallInfo& info : AllCalls()) {
    if ((mask & MaskOf(info.call)) != 0 && Accepts(info.call, needs)) out |= MaskOf(info.call);
  }
  return out;
}

// The fd= filter words, in canonical order.
// Characters, not pointers: no relocation at load (call.cc).
struct FdKindName {
  char name[8];
  FdFilter::Kind kind;
};
inline constexpr FdKindName kFdKinds[] = {
    {"socket", FdFilter::Kind::kSocket},
    {"pipe", FdFilter::Kind::kPipe},
    {"file", FdFilter::Kind::kFile},
    {"any", FdFilter::Kind::kAny},
};

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_RULE_NEEDS_H_
