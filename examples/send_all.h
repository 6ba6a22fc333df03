// examples/send_all.h
//
// SendAll: the write loop every socket program needs, written against the
// ipcfault::Sys seam (inject/sys.h) instead of libc, so that a unit test can
// script each send() with MockSys: a short send, an EINTR, an EPIPE.
//
//   absl::Status s = ipcfault::examples::SendAll(ipcfault::RealSys(), fd,
//                                                "War and Peace", "127.0.0.1:9876");
//   // on a gone peer: "send(127.0.0.1:9876): Broken pipe [EPIPE]"
//
// It sends the rest after a short send, retries EINTR, and passes
// MSG_NOSIGNAL, so a peer that is gone is an EPIPE error, never a SIGPIPE.
// For a blocking socket (EAGAIN is an error). Thread-compatible.

#ifndef IPCFAULT_EXAMPLES_SEND_ALL_H_
#define IPCFAULT_EXAMPLES_SEND_ALL_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/sys.h"

namespace ipcfault::examples {

// Sends all of `data` on `fd` through `sys`. Errors name send, `peer` and
// the errno.
absl::Status SendAll(Sys& sys, int fd, absl::string_view data, absl::string_view peer);

}  // namespace ipcfault::examples

#endif  // IPCFAULT_EXAMPLES_SEND_ALL_H_
