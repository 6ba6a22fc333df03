#include "ipcfault/examples/errors.h"

#include <netdb.h>
#include <string.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ipcfault::examples {

std::string ErrnoName(int err) {
  // glibc >= 2.32; unlike strerror, both functions below are thread-safe.
  if (const char* name = strerrorname_np(err)) return name;
  return absl::StrCat("errno ", err);
}

std::string EaiName(int code) {
  switch (code) {
    case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
    case EAI_AGAIN: return "EAI_AGAIN";
    case EAI_BADFLAGS: return "EAI_BADFLAGS";
    case EAI_FAIL: return "EAI_FAIL";
    case EAI_FAMILY: return "EAI_FAMILY";
    case EAI_MEMORY: return "EAI_MEMORY";
    case EAI_NODATA: return "EAI_NODATA";
    case EAI_NONAME: return "EAI_NONAME";
    case EAI_SERVICE: return "EAI_SERVICE";
    case EAI_SOCKTYPE: return "EAI_SOCKTYPE";
    case EAI_SYSTEM: return "EAI_SYSTEM";
    case EAI_OVERFLOW: return "EAI_OVERFLOW";
  }
  return absl::StrCat("EAI ", code);
}

std::string SignalName(int sig) {
  if (const char* abbrev = sigabbrev_np(sig)) return absl::StrCat("SIG", abbrev);
  return absl::StrCat("signal ", sig);
}

std::string ErrnoText(int err) {
  const char* message = strerrordesc_np(err);
  return absl::StrCat(message != nullptr ? message : "Unknown error", " [", ErrnoName(err),
                      "]");
}

std::string FormatErrno(int err, absl::string_view call, absl::string_view arg) {
  if (arg.empty()) return absl::StrCat(call, ": ", ErrnoText(err));
  return absl::StrCat(call, "(", arg, "): ", ErrnoText(err));
}

absl::Status ErrnoError(int err, absl::string_view call, absl::string_view arg) {
  return absl::Status(absl::ErrnoToStatusCode(err), FormatErrno(err, call, arg));
}

absl::Status GaiError(int code, int saved_errno, absl::string_view host) {
  if (code == EAI_SYSTEM) {
    const char* message = strerrordesc_np(saved_errno);
    return absl::Status(
        absl::ErrnoToStatusCode(saved_errno),
        absl::StrCat("getaddrinfo(", host, "): ",
                     message != nullptr ? message : "Unknown error",
                     " [EAI_SYSTEM ", ErrnoName(saved_errno), "]"));
  }
  absl::StatusCode status_code;
  switch (code) {
    case EAI_AGAIN:
    case EAI_FAIL:
      status_code = absl::StatusCode::kUnavailable;
      break;
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
      status_code = absl::StatusCode::kNotFound;
      break;
    case EAI_MEMORY:
      status_code = absl::StatusCode::kResourceExhausted;
      break;
    default:
      status_code = absl::StatusCode::kInvalidArgument;
      break;
  }
  // gai_strerror returns static strings in glibc: thread-safe.
  return absl::Status(status_code, absl::StrCat("getaddrinfo(", host, "): ",
                                                gai_strerror(code), " [",
                                                EaiName(code), "]"));
}

}  // namespace ipcfault::examples
