// inject/internal/fidelity.cc
//
// The kernel-fidelity rules of interpose_path.h: what the kernel does around
// a failed or short call that a plain "return -1 with errno" would get wrong.
// docs/fidelity.md says why each is as it is. Everything here runs on the
// armed path only, after a rule fired; async-signal-safe (raw or real calls,
// no lock, no allocation).

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/internal/interpose_path.h"
#include "ipcfault/inject/internal/real_functions.h"

namespace ipcfault::inject_internal {
namespace {

int SocketOption(int fd, int optname) {
  int value = -1;
  socklen_t len = sizeof(value);
  if (real.getsockopt.get()(fd, SOL_SOCKET, optname, &value, &len) != 0) {
    return -1;
  }
  return value;
}

// The errors a TCP connect learns from the network (a RST, a timeout, an
// ICMP error), which the kernel reports asynchronously on a non-blocking
// socket.
bool ArrivesAsynchronously(int error) {
  switch (error) {
    case ECONNREFUSED:
    case ETIMEDOUT:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case ENONET:
      return true;
    default:
      return false;
  }
}

// Sockets ConnectAsync failed with an error other than ECONNREFUSED: their
// SO_ERROR reads that error instead, once. A socket is known by fd and inode,
// so a reused fd number never inherits an entry.
struct PendingError {
  std::atomic<int> state{0};  // 0 free, 1 busy, 2 set
  int fd = -1;
  ino_t inode = 0;
  int error = 0;
};
constexpr int kPendingSlots = 64;
PendingError pending[kPendingSlots];
std::atomic<int> pending_count{0};

ino_t InodeOf(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return 0;
  return st.st_ino;
}

void RememberError(int fd, int error) {
  const ino_t inode = InodeOf(fd);
  for (PendingError& slot : pending) {
    int expected = 0;
    if (slot.state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) {
      slot.fd = fd;
      slot.inode = inode;
      slot.error = error;
      slot.state.store(2, std::memory_order_release);
      pending_count.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  // 64 sockets mid-way through an injected connect at once: the 65th
  // reports ECONNREFUSED, the kernel's error for the refusal it really got.
}

// Takes the pending error of (fd, its inode), if any: 0 if none.
int TakeError(int fd) {
  if (pending_count.load(std::memory_order_relaxed) == 0) return 0;
  const ino_t inode = InodeOf(fd);
  for (PendingError& slot : pending) {
    int expected = 2;
    if (slot.state.load(std::memory_order_acquire) != 2) continue;
    if (slot.fd != fd) continue;
    if (!slot.state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) {
      continue;
    }
    if (slot.fd == fd && slot.inode == inode) {
      const int error = slot.error;
      slot.state.store(0, std::memory_order_release);
      pending_count.fetch_sub(1, std::memory_order_relaxed);
      return error;
    }
    slot.state.store(2, std::memory_order_release);
  }
  return 0;
}

}  // namespace

bool SoErrorRewritesPending() {
  return pending_count.load(std::memory_order_relaxed) != 0;
}

bool IsDatagramSocket(int fd) {
  const int saved = errno;
  const int type = SocketOption(fd, SO_TYPE);
  errno = saved;
  return type == SOCK_DGRAM || type == SOCK_SEQPACKET || type == SOCK_RAW ||
         type == SOCK_RDM;
}

bool HoldsBackSigpipe(int flags) { return (flags & MSG_NOSIGNAL) != 0; }

void ApplyEpipeSignal(Call call, int fd, int flags, const Injection& injection) {
  (void)call;
  if (injection.action != Action::kError || injection.error != EPIPE) return;
  if (injection.as_strace) return;
  if (HoldsBackSigpipe(flags)) return;
  const int saved = errno;
  struct stat st;
  const bool kernel_would =
      ::fstat(fd, &st) == 0 && (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode));
  if (kernel_would) SignalCallingThread(SIGPIPE);
  errno = saved;
}

void ClearRevents(struct pollfd* fds, nfds_t nfds) {
  if (fds == nullptr) return;
  for (nfds_t i = 0; i < nfds; ++i) fds[i].revents = 0;
}

void ClearFdSets(int nfds, fd_set* r, fd_set* w, fd_set* e) {
  if (nfds <= 0) return;
  // The kernel writes back the bits of the first nfds descriptors, in whole
  // longs, as select(2) and the fd_set layout have them.
  const size_t bits_per_long = 8 * sizeof(long);
  size_t longs = (static_cast<size_t>(nfds) + bits_per_long - 1) / bits_per_long;
  const size_t max_longs = sizeof(fd_set) / sizeof(long);
  if (longs > max_longs) longs = max_longs;
  for (fd_set* set : {r, w, e}) {
    if (set != nullptr) memset(set, 0, longs * sizeof(long));
  }
}

bool ConnectAsync(int fd, int error, int* result) {
  if (!ArrivesAsynchronously(error)) return false;
  const int saved = errno;
  const int flags = ::fcntl(fd, F_GETFL);
  const int type = SocketOption(fd, SO_TYPE);
  const int domain = SocketOption(fd, SO_DOMAIN);
  errno = saved;
  if (flags < 0 || (flags & O_NONBLOCK) == 0 || type != SOCK_STREAM ||
      (domain != AF_INET && domain != AF_INET6)) {
    return false;
  }

  // A port that refuses: bound on loopback, never listening.
  const int refuser = real.socket.get()(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (refuser < 0) {
    errno = saved;
    return false;
  }
  struct sockaddr_storage addr;
  memset(&addr, 0, sizeof(addr));
  socklen_t len;
  if (domain == AF_INET) {
    auto* in = reinterpret_cast<struct sockaddr_in*>(&addr);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(*in);
  } else {
    auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&addr);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    len = sizeof(*in6);
  }
  int connected = -1;
  int connect_errno = 0;
  if (real.bind.get()(refuser, reinterpret_cast<struct sockaddr*>(&addr), len) == 0 &&
      real.getsockname.get()(refuser, reinterpret_cast<struct sockaddr*>(&addr), &len) == 0) {
    connected = real.connect.get()(fd, reinterpret_cast<struct sockaddr*>(&addr), len);
    connect_errno = errno;
  }
  real.close.get()(refuser);
  if (connected == -1 && connect_errno == EINPROGRESS) {
    if (error != ECONNREFUSED) RememberError(fd, error);
    *result = -1;
    errno = EINPROGRESS;
    return true;
  }
  if (connected == -1 && connect_errno == ECONNREFUSED) {
    // The kernel refused at once (it may, on loopback): that is its answer.
    *result = -1;
    errno = error;
    return true;
  }
  errno = saved;
  return false;
}

void RewriteSoError(int fd, int level, int optname, void* optval,
                    const socklen_t* optlen, int result) {
  if (result != 0 || level != SOL_SOCKET || optname != SO_ERROR) return;
  if (optval == nullptr || optlen == nullptr || *optlen < sizeof(int)) return;
  int value;
  memcpy(&value, optval, sizeof(value));
  if (value != ECONNREFUSED) {
    // The kernel cleared its error already, or has another: forget ours.
    if (value != 0) (void)TakeError(fd);
    return;
  }
  const int error = TakeError(fd);
  if (error != 0) memcpy(optval, &error, sizeof(error));
}

}  // namespace ipcfault::inject_internal
