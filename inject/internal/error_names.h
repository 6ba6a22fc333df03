// inject/internal/error_names.h
//
// The symbolic name of an error a call reports: an errno ("ECONNREFUSED"),
// an EAI_* code for getaddrinfo, or an h_errno value for gethostbyname,
// chosen by the call's FailureStyle. The fire log and `ipcfault calls` print
// these; the scenario parser reads the same names.
//
//   ErrorName(FailureStyle::kMinusOneErrno, ECONNREFUSED)  // "ECONNREFUSED"
//   ErrorName(FailureStyle::kEaiCode, EAI_AGAIN)           // "EAI_AGAIN"
//
// Async-signal-safe and allocation-free: table lookups only.

#ifndef IPCFAULT_INJECT_INTERNAL_ERROR_NAMES_H_
#define IPCFAULT_INJECT_INTERNAL_ERROR_NAMES_H_

#include "absl/types/span.h"
#include "ipcfault/inject/call.h"

namespace ipcfault::inject_internal {

struct NamedCode {
  int code;
  const char* name;
};

// getaddrinfo's EAI_* codes and gethostbyname's h_errno values, by their
// canonical names: the one table of them that the parser, the log and
// `ipcfault calls` all read.
absl::Span<const NamedCode> EaiCodes();
absl::Span<const NamedCode> HErrnoCodes();

// The name of `error` as a call of failure style `style` reports it, or
// nullptr if it has none.
const char* ErrorName(FailureStyle style, int error);

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_ERROR_NAMES_H_
