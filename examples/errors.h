// examples/errors.h
//
// One way to turn a failed call into one clear line: the call, what it was
// called on, the system's message and the errno's name.
//
//   int fd = socket(AF_INET, SOCK_STREAM, 0);
//   if (fd < 0) return ipcfault::examples::ErrnoError(errno, "socket");
//   // -> "socket: Too many open files [EMFILE]"
//
//   if (connect(fd, sa, len) != 0)
//     return ipcfault::examples::ErrnoError(errno, "connect", "127.0.0.1:9876");
//   // -> "connect(127.0.0.1:9876): Connection refused [ECONNREFUSED]"
//
//   int rc = getaddrinfo(host, port, &hints, &res);
//   if (rc != 0) return ipcfault::examples::GaiError(rc, errno, host);
//   // -> "getaddrinfo(nohost): Temporary failure in name resolution [EAI_AGAIN]"
//
// The status code follows the errno (absl::ErrnoToStatusCode), so tests can
// assert on either. Thread-safe: everything here is a pure function.

#ifndef IPCFAULT_EXAMPLES_ERRORS_H_
#define IPCFAULT_EXAMPLES_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ipcfault::examples {

// The symbolic name of `err`: "ECONNREFUSED", or "errno 4242" if unknown.
std::string ErrnoName(int err);

// The symbolic name of a getaddrinfo() result: "EAI_AGAIN", or "EAI 4242".
std::string EaiName(int code);

// "SIGTERM" for SIGTERM, or "signal 42" if it has no name.
std::string SignalName(int sig);

// "<strerror(err)> [ENAME]": "Connection refused [ECONNREFUSED]".
std::string ErrnoText(int err);

// "call(arg): <strerror(err)> [ENAME]"; without "(arg)" when `arg` is empty.
std::string FormatErrno(int err, absl::string_view call, absl::string_view arg = "");

// A status whose message is FormatErrno(err, call, arg) and whose code is
// absl::ErrnoToStatusCode(err).
absl::Status ErrnoError(int err, absl::string_view call, absl::string_view arg = "");

// The status for a failed getaddrinfo(`host`) that returned `code`;
// `saved_errno` is errno right after the call (read only for EAI_SYSTEM):
// "getaddrinfo(host): <gai_strerror(code)> [EAI_NAME]", or for EAI_SYSTEM
// "getaddrinfo(host): <strerror(errno)> [EAI_SYSTEM ENAME]".
absl::Status GaiError(int code, int saved_errno, absl::string_view host);

}  // namespace ipcfault::examples

#endif  // IPCFAULT_EXAMPLES_ERRORS_H_
