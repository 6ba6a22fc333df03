// inject/names.h
//
// The one names module: the symbolic names of errors (errno values, the
// EAI_* codes getaddrinfo returns, the h_errno values gethostbyname sets) and
// of signals (SIGUSR1, and real-time signals as SIGRTMIN+3), both ways. The
// scenario parser and formatter, the fire log, `ipcfault` (calls, run,
// sweep) and the fixtures' messages all name errors and signals through it,
// so a name printed anywhere parses back everywhere.
//
//   ipcfault::ErrorName(ipcfault::Call::kConnect, ECONNREFUSED)  // "ECONNREFUSED"
//   ipcfault::ErrorName(ipcfault::Call::kGetaddrinfo, EAI_AGAIN) // "EAI_AGAIN"
//   ipcfault::SignalName(SIGRTMIN + 3)                           // "SIGRTMIN+3"
//   std::optional<int> sig = ipcfault::ParseSignalName("USR1");  // SIGUSR1
//   std::optional<ipcfault::ErrorCode> e = ipcfault::ParseErrorName("EAI_AGAIN");
//   // e->domain == ipcfault::ErrorDomain::kEai, e->code == EAI_AGAIN
//
// Thread-safe: everything here is a pure function over constant tables.
// FindErrorName and FormatSignalName are also async-signal-safe and allocate
// nothing (the preload library's fire log calls them from any call site).

#ifndef IPCFAULT_INJECT_NAMES_H_
#define IPCFAULT_INJECT_NAMES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ipcfault/inject/call.h"

namespace ipcfault {

// ---------------------------------------------------------------------------
// Errors.

// The number space an error code lives in. Each call fails in exactly one,
// as its FailureStyle says: getaddrinfo with EAI_* codes, gethostbyname with
// h_errno values, every other call with errno values.
enum class ErrorDomain : uint8_t { kErrno, kEai, kHErrno };

ErrorDomain ErrorDomainOf(FailureStyle style);
ErrorDomain ErrorDomainOf(Call call);

// An error code together with its domain (EAI_AGAIN is -3, TRY_AGAIN is 2:
// the number alone does not say which it is).
struct ErrorCode {
  ErrorDomain domain;
  int code;
  friend bool operator==(const ErrorCode&, const ErrorCode&) = default;
};

// A code and its canonical name.
struct NamedCode {
  int code;
  const char* name;
};

// getaddrinfo's EAI_* codes and gethostbyname's h_errno values, under their
// canonical names (NO_DATA, not its alias NO_ADDRESS).
absl::Span<const NamedCode> EaiCodes();
absl::Span<const NamedCode> HErrnoCodes();

// The canonical name of `code` in `domain` ("ECONNREFUSED", "EAI_AGAIN",
// "TRY_AGAIN"), or nullptr if it has none. For errno values, glibc's name
// (strerrorname_np: EAGAIN, not EWOULDBLOCK). Async-signal-safe.
const char* FindErrorName(ErrorDomain domain, int code);

// As FindErrorName, or the decimal number if the code has no name ("4000").
std::string ErrorName(ErrorDomain domain, int code);
// The name of `code` as `call` reports it (its domain follows its
// FailureStyle).
std::string ErrorName(Call call, int code);
// The name of an errno value: ErrorName(ErrorDomain::kErrno, err).
std::string ErrnoName(int err);

// The error named `name`: a canonical name of any domain, or an alias glibc
// also defines (EWOULDBLOCK, EDEADLOCK, ENOTSUP, NO_ADDRESS). Exact and
// case-sensitive; numbers are not names. nullopt if unknown.
std::optional<ErrorCode> ParseErrorName(absl::string_view name);

// Every name ParseErrorName accepts, canonical names first: for "did you
// mean" suggestions.
const std::vector<std::string>& ErrorNameList();

// ---------------------------------------------------------------------------
// Signals.

// Room for any name FormatSignalName writes, with its NUL ("SIGRTMIN+30",
// or an int).
inline constexpr size_t kSignalNameSize = 16;

// Writes the name of `sig` into `buf` (NUL-terminated, cut to `size`) and
// returns its length: "SIGUSR1" for signals 1 to 31 (the canonical Linux
// name: SIGCHLD, not SIGCLD), "SIGRTMIN" and "SIGRTMIN+N" for real-time
// signals (SIGRTMIN as glibc defines it, at run time), else the decimal
// number ("0", "33"). Async-signal-safe.
size_t FormatSignalName(int sig, char* buf, size_t size);

// The same, as a string.
std::string SignalName(int sig);

// The signal named `name`, with or without "SIG": SIGUSR1, USR1, the
// aliases SIGIOT, SIGCLD, SIGPOLL, and the real-time forms SIGRTMIN,
// SIGRTMIN+N, SIGRTMAX, SIGRTMAX-N (N within the real-time range). Exact
// and case-sensitive; numbers are not names. nullopt if unknown.
std::optional<int> ParseSignalName(absl::string_view name);

// Every fixed name ParseSignalName accepts, with "SIG" (SIGHUP ...
// SIGRTMIN, SIGRTMAX): for "did you mean" suggestions.
const std::vector<std::string>& SignalNameList();

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_NAMES_H_
