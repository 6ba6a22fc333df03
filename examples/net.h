// examples/net.h
//
// Small socket helpers shared by the example programs: an owning fd, a
// printable socket address, and the process-wide SIGPIPE policy.
//
//   ipcfault::examples::UniqueFd fd(socket(AF_INET, SOCK_STREAM, 0));
//   if (!fd.valid()) return ipcfault::examples::ErrnoError(errno, "socket");
//   std::string where = ipcfault::examples::SockaddrToString(sa, len);
//   // "127.0.0.1:9876" or "[::1]:9876"
//
// Thread-compatible: a UniqueFd is owned by one thread at a time.

#ifndef IPCFAULT_EXAMPLES_NET_H_
#define IPCFAULT_EXAMPLES_NET_H_

#include <sys/socket.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace ipcfault::examples {

// Owns a file descriptor and closes it when destroyed. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  // Closes the fd held (if any) and takes `fd`. errno is preserved.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// "127.0.0.1:9876" for AF_INET, "[::1]:9876" for AF_INET6, otherwise
// "<address family N>".
std::string SockaddrToString(const sockaddr* addr, socklen_t len);

// Sets O_NONBLOCK on `fd`; the error names fcntl and `what`.
absl::Status SetNonBlocking(int fd, const std::string& what);

// If SIGPIPE has its default disposition (killing the process), sets it to
// SIG_IGN, so that a write to a socket whose peer is gone fails with EPIPE
// instead. A handler the program installed is left alone. Process-wide; the
// example server and client call it before their first write.
void IgnoreSigpipe();

// Milliseconds from now until `deadline` for poll(): rounded up, at least 0,
// and -1 (wait forever) for absl::InfiniteFuture().
int PollTimeoutMs(absl::Time deadline);

}  // namespace ipcfault::examples

#endif  // IPCFAULT_EXAMPLES_NET_H_
