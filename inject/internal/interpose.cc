// inject/internal/interpose.cc
//
// The interposer: extern "C" definitions of every call in the call table
// (call.h) and of the _FORTIFY_SOURCE entry points that check them. Linked
// into an executable (//inject:interpose, alwayslink) they replace libc's for
// the whole process; built into libipcfault_preload.so they do the same under
// LD_PRELOAD.
//
// Every wrapper has the same shape:
//
//   if (ABSL_PREDICT_TRUE(!ArmedFor(Call::kRead))) return real.read.get()(...);
//   return SlowRead(...);                    // ABSL_ATTRIBUTE_NOINLINE
//
// The slow path builds a CallSite from the real arguments, asks the engine
// (Decide), and applies the Injection: delay_enter, signal= (delivered to the
// calling thread, so its handler runs before the call goes on), then the
// action (error, retval, short transfer, or the real call), then delay_exit.
// errno is preserved on every path that does not inject; on the injected path
// it is set last.
//
// Async-signal-safe: no lock, no allocation, and the engine's decision is
// lock-free. A thread-local guard keeps the engine's own calls (a fire hook,
// a predicate) from being decided again.

// The wrappers define `read`, `recv`, `poll`...: they must not see glibc's
// fortified inline definitions of the same names.
#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/internal/real_functions.h"
#include "ipcfault/inject/rule.h"

// glibc's <sys/pidfd.h> (2.36) may be missing on older systems; declare the
// one function we define.
extern "C" int pidfd_send_signal(int pidfd, int sig, siginfo_t* info,
                                 unsigned int flags) __THROW;
// The _FORTIFY_SOURCE entry points. Declared here because the headers declare
// them only when _FORTIFY_SOURCE is on.
extern "C" ssize_t __read_chk(int fd, void* buf, size_t nbytes, size_t buflen);
extern "C" ssize_t __recv_chk(int fd, void* buf, size_t n, size_t buflen,
                              int flags);
extern "C" ssize_t __recvfrom_chk(int fd, void* __restrict buf, size_t n,
                                  size_t buflen, int flags,
                                  struct sockaddr* __restrict addr,
                                  socklen_t* __restrict addr_len);
extern "C" int __poll_chk(struct pollfd* fds, nfds_t nfds, int timeout,
                          size_t fdslen);

namespace ipcfault::inject_internal {
namespace {

int RawPidfdSendSignal(int pidfd, int sig, siginfo_t* info,
                       unsigned int flags) {
  return static_cast<int>(
      ::syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags));
}

}  // namespace

RealFunctions real = {
    {"socket", &::socket},
    {"socketpair", &::socketpair},
    {"bind", &::bind},
    {"listen", &::listen},
    {"accept", &::accept},
    {"accept4", &::accept4},
    {"connect", &::connect},
    {"read", &::read},
    {"readv", &::readv},
    {"recv", &::recv},
    {"recvfrom", &::recvfrom},
    {"recvmsg", &::recvmsg},
    {"write", &::write},
    {"writev", &::writev},
    {"send", &::send},
    {"sendto", &::sendto},
    {"sendmsg", &::sendmsg},
    {"shutdown", &::shutdown},
    {"close", &::close},
    {"poll", &::poll},
    {"epoll_wait", &::epoll_wait},
    {"getaddrinfo", &::getaddrinfo},
    {"gethostbyname", &::gethostbyname},
    {"kill", &::kill},
    {"raise", &::raise},
    {"pthread_kill", &::pthread_kill},
    {"pidfd_send_signal", &::pidfd_send_signal, &RawPidfdSendSignal},
    {"sigaction", &::sigaction},
    {"sigprocmask", &::sigprocmask},
    {"fork", &::fork},
    {"waitpid", &::waitpid},
    {"__read_chk", &::__read_chk},
    {"__recv_chk", &::__recv_chk},
    {"__recvfrom_chk", &::__recvfrom_chk},
    {"__poll_chk", &::__poll_chk},
};

void* ResolveReal(const char* name, void* self) {
  // A sanitizer runtime defines `read` as an alias of `__interceptor_read`
  // (`___interceptor_read` in newer LLVM). Our `read` hides its alias, so
  // call its interceptor ourselves: ASan still checks the buffer and TSan
  // still sees the fd's happens-before edges.
  static constexpr const char* kPrefixes[] = {"__interceptor_",
                                              "___interceptor_"};
  for (const char* prefix : kPrefixes) {
    char interceptor[64];
    size_t prefix_len = strlen(prefix);
    size_t name_len = strlen(name);
    if (prefix_len + name_len + 1 > sizeof(interceptor)) continue;
    memcpy(interceptor, prefix, prefix_len);
    memcpy(interceptor + prefix_len, name, name_len + 1);
    void* fn = dlsym(RTLD_DEFAULT, interceptor);
    if (fn != nullptr && fn != self) return fn;
  }
  void* fn = dlsym(RTLD_NEXT, name);
  if (fn != nullptr && fn != self) return fn;
  return nullptr;
}

void ResolveAllRealFunctions() {
  real.socket.get();
  real.socketpair.get();
  real.bind.get();
  real.listen.get();
  real.accept.get();
  real.accept4.get();
  real.connect.get();
  real.read.get();
  real.readv.get();
  real.recv.get();
  real.recvfrom.get();
  real.recvmsg.get();
  real.write.get();
  real.writev.get();
  real.send.get();
  real.sendto.get();
  real.sendmsg.get();
  real.shutdown.get();
  real.close.get();
  real.poll.get();
  real.epoll_wait.get();
  real.getaddrinfo.get();
  real.gethostbyname.get();
  real.kill.get();
  real.raise.get();
  real.pthread_kill.get();
  real.pidfd_send_signal.get();
  real.sigaction.get();
  real.sigprocmask.get();
  real.fork.get();
  real.waitpid.get();
  real.read_chk.get();
  real.recv_chk.get();
  real.recvfrom_chk.get();
  real.poll_chk.get();
}

namespace {

// Resolve at load time, before main and before most other constructors, so
// the first interposed call does not pay for dlsym.
__attribute__((constructor(101))) void ResolveAtLoad() {
  ResolveAllRealFunctions();
}

// Saves errno and restores it on scope exit.
class ErrnoSaver {
 public:
  ErrnoSaver() : saved_(errno) {}
  ~ErrnoSaver() { errno = saved_; }
  ErrnoSaver(const ErrnoSaver&) = delete;
  ErrnoSaver& operator=(const ErrnoSaver&) = delete;

 private:
  int saved_;
};

// Non-zero while this thread is inside Decide(): calls the engine makes (a
// fire hook, a predicate) go straight to the real function.
thread_local int in_engine __attribute__((tls_model("initial-exec"))) = 0;

constexpr size_t kNoLimit = SIZE_MAX;

// Sleeps `ns` nanoseconds with the raw syscall, resuming after signals.
void SleepFor(int64_t ns) {
  struct timespec remaining = {
      .tv_sec = static_cast<time_t>(ns / 1000000000),
      .tv_nsec = static_cast<long>(ns % 1000000000),
  };
  while (::syscall(SYS_nanosleep, &remaining, &remaining) != 0 &&
         errno == EINTR) {
  }
}

// Delivers `sig` to the calling thread now. The kernel runs its handler on
// the way back from tgkill, unless the signal is blocked (then it stays
// pending, as a real signal would).
void SignalThisThread(int sig) {
  ::syscall(SYS_tgkill, ::getpid(), ::syscall(SYS_gettid), sig);
  // A sanitizer runtime defers an asynchronous signal's handler until the
  // thread next passes one of its interceptors. Pass one, so the handler
  // has run before the call goes on, as it has without a sanitizer.
  sigset_t ignored;
  real.sigprocmask.get()(SIG_BLOCK, nullptr, &ignored);
}

// What comes before a call that a rule fired on: delay_enter, then signal=.
// Preserves errno.
ABSL_ATTRIBUTE_NOINLINE void BeforeCall(const Injection& injection) {
  ErrnoSaver saver;
  if (injection.delay_enter_ns > 0) SleepFor(injection.delay_enter_ns);
  if (injection.signal != 0) SignalThisThread(injection.signal);
}

// Asks the engine about one call and applies what comes before the call.
// Preserves errno (Decide does). Inlined into each slow path: with rules
// armed that do not match, this is all the interposer adds to a call.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Injection Enter(const CallSite& site) {
  if (in_engine > 0) return Injection{};
  ++in_engine;
  Injection injection = Decide(site);
  --in_engine;
  if (ABSL_PREDICT_FALSE(injection.fired)) BeforeCall(injection);
  return injection;
}

// What comes after the call: delay_exit. Preserves errno.
void Leave(const Injection& injection) {
  if (injection.delay_exit_ns > 0) {
    ErrnoSaver saver;
    SleepFor(injection.delay_exit_ns);
  }
}

// Applies `injection` to a call that fails with -1 and errno (or, with
// kReturnsErrno, returns the error number): fails it, returns the retval
// without calling, or runs `real_call(limit)` with at most `limit` bytes
// (kNoLimit for the whole call).
template <typename R, typename RealCall>
R Apply(const Injection& injection, RealCall&& real_call,
        FailureStyle style = FailureStyle::kMinusOneErrno) {
  if (ABSL_PREDICT_TRUE(!injection.fired)) return real_call(kNoLimit);
  switch (injection.action) {
    case Action::kError:
      Leave(injection);
      if (style == FailureStyle::kReturnsErrno) {
        return static_cast<R>(injection.error);
      }
      errno = injection.error;
      return static_cast<R>(-1);
    case Action::kRetval:
      Leave(injection);
      return static_cast<R>(injection.retval);
    case Action::kShort: {
      R result = real_call(injection.short_bytes);
      Leave(injection);
      return result;
    }
    case Action::kNone:
      break;
  }
  R result = real_call(kNoLimit);
  Leave(injection);
  return result;
}

// The total length of an iovec array (saturating).
size_t TotalLength(const struct iovec* iov, int iovcnt) {
  size_t total = 0;
  for (int i = 0; i < iovcnt; ++i) {
    if (iov[i].iov_len > SIZE_MAX - total) return SIZE_MAX;
    total += iov[i].iov_len;
  }
  return total;
}

// Calls `call(iov, iovcnt)` with the iovecs trimmed, on a copy, to at most
// `limit` bytes.
template <typename Call>
ssize_t WithTrimmedIov(const struct iovec* iov, int iovcnt, size_t limit,
                       Call&& call) {
  if (limit == kNoLimit || iov == nullptr || iovcnt <= 0 ||
      iovcnt > IOV_MAX || TotalLength(iov, iovcnt) <= limit) {
    return call(iov, iovcnt);
  }
  int keep = 0;
  size_t total = 0;
  while (keep < iovcnt && total < limit) {
    total += std::min(iov[keep].iov_len, limit - total);
    ++keep;
  }
  auto* trimmed =
      static_cast<struct iovec*>(alloca(sizeof(struct iovec) * keep));
  memcpy(trimmed, iov, sizeof(struct iovec) * keep);
  size_t before_last = 0;
  for (int i = 0; i + 1 < keep; ++i) before_last += trimmed[i].iov_len;
  trimmed[keep - 1].iov_len = limit - before_last;
  return call(trimmed, keep);
}

// recvmsg/sendmsg with at most `limit` bytes: the iovecs of a copy of `msg`
// are trimmed, and what the kernel writes back is copied to `msg`.
template <typename Call>
ssize_t WithTrimmedMsg(struct msghdr* msg, size_t limit, Call&& call) {
  if (limit == kNoLimit || msg == nullptr) return call(msg);
  struct msghdr copy = *msg;
  ssize_t result = WithTrimmedIov(
      msg->msg_iov, static_cast<int>(msg->msg_iovlen), limit,
      [&](const struct iovec* iov, int iovcnt) {
        copy.msg_iov = const_cast<struct iovec*>(iov);
        copy.msg_iovlen = static_cast<size_t>(iovcnt);
        return call(&copy);
      });
  ErrnoSaver saver;
  msg->msg_namelen = copy.msg_namelen;
  msg->msg_controllen = copy.msg_controllen;
  msg->msg_flags = copy.msg_flags;
  return result;
}

size_t Limit(size_t n, size_t limit) { return std::min(n, limit); }

// ---------------------------------------------------------------------------
// The slow paths, one per call.

ABSL_ATTRIBUTE_NOINLINE int SlowSocket(int domain, int type, int protocol) {
  Injection injection = Enter({.call = Call::kSocket});
  return Apply<int>(injection, [&](size_t) {
    return real.socket.get()(domain, type, protocol);
  });
}

ABSL_ATTRIBUTE_NOINLINE int SlowSocketpair(int domain, int type, int protocol,
                                           int sv[2]) {
  Injection injection = Enter({.call = Call::kSocketpair});
  return Apply<int>(injection, [&](size_t) {
    return real.socketpair.get()(domain, type, protocol, sv);
  });
}

ABSL_ATTRIBUTE_NOINLINE int SlowBind(int fd, const struct sockaddr* addr,
                                     socklen_t len) {
  Injection injection = Enter(
      {.call = Call::kBind, .fd = fd, .addr = addr, .addrlen = len});
  return Apply<int>(injection,
                    [&](size_t) { return real.bind.get()(fd, addr, len); });
}

ABSL_ATTRIBUTE_NOINLINE int SlowListen(int fd, int backlog) {
  Injection injection = Enter({.call = Call::kListen, .fd = fd});
  return Apply<int>(injection,
                    [&](size_t) { return real.listen.get()(fd, backlog); });
}

ABSL_ATTRIBUTE_NOINLINE int SlowAccept(int fd, struct sockaddr* addr,
                                       socklen_t* len) {
  Injection injection = Enter({.call = Call::kAccept, .fd = fd});
  return Apply<int>(injection,
                    [&](size_t) { return real.accept.get()(fd, addr, len); });
}

ABSL_ATTRIBUTE_NOINLINE int SlowAccept4(int fd, struct sockaddr* addr,
                                        socklen_t* len, int flags) {
  Injection injection = Enter({.call = Call::kAccept4, .fd = fd});
  return Apply<int>(injection, [&](size_t) {
    return real.accept4.get()(fd, addr, len, flags);
  });
}

ABSL_ATTRIBUTE_NOINLINE int SlowConnect(int fd, const struct sockaddr* addr,
                                        socklen_t len) {
  Injection injection = Enter(
      {.call = Call::kConnect, .fd = fd, .addr = addr, .addrlen = len});
  return Apply<int>(injection,
                    [&](size_t) { return real.connect.get()(fd, addr, len); });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowRead(int fd, void* buf, size_t n) {
  Injection injection = Enter({.call = Call::kRead, .fd = fd, .count = n});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return real.read.get()(fd, buf, Limit(n, limit));
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowReadChk(int fd, void* buf, size_t n,
                                            size_t buflen) {
  // The overflow check comes first, whatever a rule says.
  if (n > buflen) return real.read_chk.get()(fd, buf, n, buflen);
  Injection injection = Enter({.call = Call::kRead, .fd = fd, .count = n});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return real.read_chk.get()(fd, buf, Limit(n, limit), buflen);
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowReadv(int fd, const struct iovec* iov,
                                          int iovcnt) {
  Injection injection =
      Enter({.call = Call::kReadv,
             .fd = fd,
             .count = iovcnt > 0 && iov != nullptr ? TotalLength(iov, iovcnt)
                                                   : 0});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return WithTrimmedIov(iov, iovcnt, limit,
                          [&](const struct iovec* v, int c) {
                            return real.readv.get()(fd, v, c);
                          });
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowRecv(int fd, void* buf, size_t n,
                                         int flags) {
  Injection injection = Enter({.call = Call::kRecv, .fd = fd, .count = n});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return real.recv.get()(fd, buf, Limit(n, limit), flags);
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowRecvChk(int fd, void* buf, size_t n,
                                            size_t buflen, int flags) {
  if (n > buflen) return real.recv_chk.get()(fd, buf, n, buflen, flags);
  Injection injection = Enter({.call = Call::kRecv, .fd = fd, .count = n});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return real.recv_chk.get()(fd, buf, Limit(n, limit), buflen, flags);
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowRecvfrom(int fd, void* buf, size_t n,
                                             int flags, struct sockaddr* addr,
                                             socklen_t* len) {
  Injection injection =
      Enter({.call = Call::kRecvfrom, .fd = fd, .count = n});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return real.recvfrom.get()(fd, buf, Limit(n, limit), flags, addr, len);
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowRecvfromChk(int fd, void* buf, size_t n,
                                                size_t buflen, int flags,
                                                struct sockaddr* addr,
                                                socklen_t* len) {
  if (n > buflen) {
    return real.recvfrom_chk.get()(fd, buf, n, buflen, flags, addr, len);
  }
  Injection injection =
      Enter({.call = Call::kRecvfrom, .fd = fd, .count = n});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return real.recvfrom_chk.get()(fd, buf, Limit(n, limit), buflen, flags,
                                   addr, len);
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowRecvmsg(int fd, struct msghdr* msg,
                                            int flags) {
  Injection injection = Enter(
      {.call = Call::kRecvmsg,
       .fd = fd,
       .count = msg != nullptr && msg->msg_iov != nullptr
                    ? TotalLength(msg->msg_iov,
                                  static_cast<int>(msg->msg_iovlen))
                    : 0});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return WithTrimmedMsg(msg, limit, [&](struct msghdr* m) {
      return real.recvmsg.get()(fd, m, flags);
    });
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowWrite(int fd, const void* buf, size_t n) {
  Injection injection = Enter({.call = Call::kWrite, .fd = fd, .count = n});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return real.write.get()(fd, buf, Limit(n, limit));
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowWritev(int fd, const struct iovec* iov,
                                           int iovcnt) {
  Injection injection =
      Enter({.call = Call::kWritev,
             .fd = fd,
             .count = iovcnt > 0 && iov != nullptr ? TotalLength(iov, iovcnt)
                                                   : 0});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return WithTrimmedIov(iov, iovcnt, limit,
                          [&](const struct iovec* v, int c) {
                            return real.writev.get()(fd, v, c);
                          });
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowSend(int fd, const void* buf, size_t n,
                                         int flags) {
  Injection injection = Enter({.call = Call::kSend, .fd = fd, .count = n});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return real.send.get()(fd, buf, Limit(n, limit), flags);
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowSendto(int fd, const void* buf, size_t n,
                                           int flags,
                                           const struct sockaddr* addr,
                                           socklen_t len) {
  Injection injection = Enter({.call = Call::kSendto,
                               .fd = fd,
                               .addr = addr,
                               .addrlen = len,
                               .count = n});
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return real.sendto.get()(fd, buf, Limit(n, limit), flags, addr, len);
  });
}

ABSL_ATTRIBUTE_NOINLINE ssize_t SlowSendmsg(int fd, const struct msghdr* msg,
                                            int flags) {
  CallSite site = {.call = Call::kSendmsg, .fd = fd};
  if (msg != nullptr) {
    site.addr = static_cast<const struct sockaddr*>(msg->msg_name);
    site.addrlen = msg->msg_name != nullptr ? msg->msg_namelen : 0;
    if (msg->msg_iov != nullptr) {
      site.count =
          TotalLength(msg->msg_iov, static_cast<int>(msg->msg_iovlen));
    }
  }
  Injection injection = Enter(site);
  return Apply<ssize_t>(injection, [&](size_t limit) {
    return WithTrimmedMsg(const_cast<struct msghdr*>(msg), limit,
                          [&](struct msghdr* m) {
                            return real.sendmsg.get()(fd, m, flags);
                          });
  });
}

ABSL_ATTRIBUTE_NOINLINE int SlowShutdown(int fd, int how) {
  Injection injection = Enter({.call = Call::kShutdown, .fd = fd});
  return Apply<int>(injection,
                    [&](size_t) { return real.shutdown.get()(fd, how); });
}

ABSL_ATTRIBUTE_NOINLINE int SlowClose(int fd) {
  Injection injection = Enter({.call = Call::kClose, .fd = fd});
  return Apply<int>(injection, [&](size_t) { return real.close.get()(fd); });
}

ABSL_ATTRIBUTE_NOINLINE int SlowPoll(struct pollfd* fds, nfds_t nfds,
                                     int timeout) {
  Injection injection = Enter({.call = Call::kPoll});
  return Apply<int>(injection, [&](size_t) {
    return real.poll.get()(fds, nfds, timeout);
  });
}

ABSL_ATTRIBUTE_NOINLINE int SlowPollChk(struct pollfd* fds, nfds_t nfds,
                                        int timeout, size_t fdslen) {
  if (fdslen / sizeof(*fds) < nfds) {
    return real.poll_chk.get()(fds, nfds, timeout, fdslen);
  }
  Injection injection = Enter({.call = Call::kPoll});
  return Apply<int>(injection, [&](size_t) {
    return real.poll_chk.get()(fds, nfds, timeout, fdslen);
  });
}

ABSL_ATTRIBUTE_NOINLINE int SlowEpollWait(int epfd, struct epoll_event* events,
                                          int maxevents, int timeout) {
  Injection injection = Enter({.call = Call::kEpollWait, .fd = epfd});
  return Apply<int>(injection, [&](size_t) {
    return real.epoll_wait.get()(epfd, events, maxevents, timeout);
  });
}

ABSL_ATTRIBUTE_NOINLINE int SlowGetaddrinfo(const char* node,
                                            const char* service,
                                            const struct addrinfo* hints,
                                            struct addrinfo** res) {
  Injection injection = Enter({.call = Call::kGetaddrinfo});
  switch (injection.action) {
    case Action::kError:
      // The rule's error is an EAI_* code. EAI_SYSTEM means "see errno":
      // give it one that says the system failed.
      Leave(injection);
      if (injection.error == EAI_SYSTEM) errno = EIO;
      return injection.error;
    case Action::kRetval:
      Leave(injection);
      if (injection.retval == 0 && res != nullptr) *res = nullptr;
      return static_cast<int>(injection.retval);
    case Action::kShort:
    case Action::kNone:
      break;
  }
  int result = real.getaddrinfo.get()(node, service, hints, res);
  Leave(injection);
  return result;
}

ABSL_ATTRIBUTE_NOINLINE struct hostent* SlowGethostbyname(const char* name) {
  Injection injection = Enter({.call = Call::kGethostbyname});
  switch (injection.action) {
    case Action::kError:
      Leave(injection);
      h_errno = injection.error;
      return nullptr;
    case Action::kRetval:
      // A pointer cannot be made up: any retval= means "not found", with
      // h_errno left alone.
      Leave(injection);
      return nullptr;
    case Action::kShort:
    case Action::kNone:
      break;
  }
  struct hostent* result = real.gethostbyname.get()(name);
  Leave(injection);
  return result;
}

ABSL_ATTRIBUTE_NOINLINE int SlowKill(pid_t pid, int sig) {
  Injection injection =
      Enter({.call = Call::kKill, .sig = sig, .target = pid});
  return Apply<int>(injection,
                    [&](size_t) { return real.kill.get()(pid, sig); });
}

ABSL_ATTRIBUTE_NOINLINE int SlowRaise(int sig) {
  Injection injection =
      Enter({.call = Call::kRaise, .sig = sig, .target = ::getpid()});
  return Apply<int>(injection, [&](size_t) { return real.raise.get()(sig); },
                    FailureStyle::kNonzeroErrno);
}

ABSL_ATTRIBUTE_NOINLINE int SlowPthreadKill(pthread_t thread, int sig) {
  Injection injection = Enter({.call = Call::kPthreadKill, .sig = sig});
  return Apply<int>(
      injection, [&](size_t) { return real.pthread_kill.get()(thread, sig); },
      FailureStyle::kReturnsErrno);
}

ABSL_ATTRIBUTE_NOINLINE int SlowPidfdSendSignal(int pidfd, int sig,
                                                siginfo_t* info,
                                                unsigned int flags) {
  Injection injection =
      Enter({.call = Call::kPidfdSendSignal, .fd = pidfd, .sig = sig});
  return Apply<int>(injection, [&](size_t) {
    return real.pidfd_send_signal.get()(pidfd, sig, info, flags);
  });
}

ABSL_ATTRIBUTE_NOINLINE int SlowSigaction(int sig, const struct sigaction* act,
                                          struct sigaction* old) {
  Injection injection = Enter({.call = Call::kSigaction});
  return Apply<int>(injection, [&](size_t) {
    return real.sigaction.get()(sig, act, old);
  });
}

ABSL_ATTRIBUTE_NOINLINE int SlowSigprocmask(int how, const sigset_t* set,
                                            sigset_t* old) {
  Injection injection = Enter({.call = Call::kSigprocmask});
  return Apply<int>(injection, [&](size_t) {
    return real.sigprocmask.get()(how, set, old);
  });
}

ABSL_ATTRIBUTE_NOINLINE pid_t SlowFork() {
  Injection injection = Enter({.call = Call::kFork});
  return Apply<pid_t>(injection, [&](size_t) { return real.fork.get()(); });
}

ABSL_ATTRIBUTE_NOINLINE pid_t SlowWaitpid(pid_t pid, int* status,
                                          int options) {
  Injection injection = Enter({.call = Call::kWaitpid});
  return Apply<pid_t>(injection, [&](size_t) {
    return real.waitpid.get()(pid, status, options);
  });
}

}  // namespace
}  // namespace ipcfault::inject_internal

// ---------------------------------------------------------------------------
// The interposed definitions. Each: no rule armed on its call -> the real
// call at once.

using ipcfault::inject_internal::ArmedFor;
namespace ii = ipcfault::inject_internal;

#define IPCFAULT_FORWARD(call, real_fn, slow_fn, ...)               \
  do {                                                             \
    if (ABSL_PREDICT_TRUE(!ArmedFor(ipcfault::Call::call))) {      \
      return ii::real.real_fn.get()(__VA_ARGS__);                  \
    }                                                              \
    return ii::slow_fn(__VA_ARGS__);                               \
  } while (0)

extern "C" {

int socket(int domain, int type, int protocol) __THROW {
  IPCFAULT_FORWARD(kSocket, socket, SlowSocket, domain, type, protocol);
}

int socketpair(int domain, int type, int protocol, int sv[2]) __THROW {
  IPCFAULT_FORWARD(kSocketpair, socketpair, SlowSocketpair, domain, type, protocol, sv);
}

int bind(int fd, const struct sockaddr* addr, socklen_t len) __THROW {
  IPCFAULT_FORWARD(kBind, bind, SlowBind, fd, addr, len);
}

int listen(int fd, int backlog) __THROW {
  IPCFAULT_FORWARD(kListen, listen, SlowListen, fd, backlog);
}

int accept(int fd, struct sockaddr* __restrict addr,
           socklen_t* __restrict len) {
  IPCFAULT_FORWARD(kAccept, accept, SlowAccept, fd, addr, len);
}

int accept4(int fd, struct sockaddr* __restrict addr,
            socklen_t* __restrict len, int flags) {
  IPCFAULT_FORWARD(kAccept4, accept4, SlowAccept4, fd, addr, len, flags);
}

int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  IPCFAULT_FORWARD(kConnect, connect, SlowConnect, fd, addr, len);
}

ssize_t read(int fd, void* buf, size_t n) {
  IPCFAULT_FORWARD(kRead, read, SlowRead, fd, buf, n);
}

ssize_t __read_chk(int fd, void* buf, size_t n, size_t buflen) {
  IPCFAULT_FORWARD(kRead, read_chk, SlowReadChk, fd, buf, n, buflen);
}

ssize_t readv(int fd, const struct iovec* iov, int iovcnt) {
  IPCFAULT_FORWARD(kReadv, readv, SlowReadv, fd, iov, iovcnt);
}

ssize_t recv(int fd, void* buf, size_t n, int flags) {
  IPCFAULT_FORWARD(kRecv, recv, SlowRecv, fd, buf, n, flags);
}

ssize_t __recv_chk(int fd, void* buf, size_t n, size_t buflen, int flags) {
  IPCFAULT_FORWARD(kRecv, recv_chk, SlowRecvChk, fd, buf, n, buflen, flags);
}

ssize_t recvfrom(int fd, void* __restrict buf, size_t n, int flags,
                 struct sockaddr* __restrict addr,
                 socklen_t* __restrict len) {
  IPCFAULT_FORWARD(kRecvfrom, recvfrom, SlowRecvfrom, fd, buf, n, flags, addr, len);
}

ssize_t __recvfrom_chk(int fd, void* __restrict buf, size_t n, size_t buflen,
                       int flags, struct sockaddr* __restrict addr,
                       socklen_t* __restrict len) {
  IPCFAULT_FORWARD(kRecvfrom, recvfrom_chk, SlowRecvfromChk, fd, buf, n, buflen, flags,
                   addr, len);
}

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  IPCFAULT_FORWARD(kRecvmsg, recvmsg, SlowRecvmsg, fd, msg, flags);
}

ssize_t write(int fd, const void* buf, size_t n) {
  IPCFAULT_FORWARD(kWrite, write, SlowWrite, fd, buf, n);
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  IPCFAULT_FORWARD(kWritev, writev, SlowWritev, fd, iov, iovcnt);
}

ssize_t send(int fd, const void* buf, size_t n, int flags) {
  IPCFAULT_FORWARD(kSend, send, SlowSend, fd, buf, n, flags);
}

ssize_t sendto(int fd, const void* buf, size_t n, int flags,
               const struct sockaddr* addr, socklen_t len) {
  IPCFAULT_FORWARD(kSendto, sendto, SlowSendto, fd, buf, n, flags, addr, len);
}

ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  IPCFAULT_FORWARD(kSendmsg, sendmsg, SlowSendmsg, fd, msg, flags);
}

int shutdown(int fd, int how) __THROW {
  IPCFAULT_FORWARD(kShutdown, shutdown, SlowShutdown, fd, how);
}

int close(int fd) { IPCFAULT_FORWARD(kClose, close, SlowClose, fd); }

int poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  IPCFAULT_FORWARD(kPoll, poll, SlowPoll, fds, nfds, timeout);
}

int __poll_chk(struct pollfd* fds, nfds_t nfds, int timeout, size_t fdslen) {
  IPCFAULT_FORWARD(kPoll, poll_chk, SlowPollChk, fds, nfds, timeout, fdslen);
}

int epoll_wait(int epfd, struct epoll_event* events, int maxevents,
               int timeout) {
  IPCFAULT_FORWARD(kEpollWait, epoll_wait, SlowEpollWait, epfd, events, maxevents,
                   timeout);
}

int getaddrinfo(const char* __restrict node, const char* __restrict service,
                const struct addrinfo* __restrict hints,
                struct addrinfo** __restrict res) {
  IPCFAULT_FORWARD(kGetaddrinfo, getaddrinfo, SlowGetaddrinfo, node, service, hints, res);
}

struct hostent* gethostbyname(const char* name) {
  IPCFAULT_FORWARD(kGethostbyname, gethostbyname, SlowGethostbyname, name);
}

int kill(pid_t pid, int sig) __THROW {
  IPCFAULT_FORWARD(kKill, kill, SlowKill, pid, sig);
}

int raise(int sig) __THROW { IPCFAULT_FORWARD(kRaise, raise, SlowRaise, sig); }

int pthread_kill(pthread_t thread, int sig) __THROW {
  IPCFAULT_FORWARD(kPthreadKill, pthread_kill, SlowPthreadKill, thread, sig);
}

int pidfd_send_signal(int pidfd, int sig, siginfo_t* info,
                      unsigned int flags) __THROW {
  IPCFAULT_FORWARD(kPidfdSendSignal, pidfd_send_signal, SlowPidfdSendSignal, pidfd, sig, info,
                   flags);
}

int sigaction(int sig, const struct sigaction* __restrict act,
              struct sigaction* __restrict old) __THROW {
  IPCFAULT_FORWARD(kSigaction, sigaction, SlowSigaction, sig, act, old);
}

int sigprocmask(int how, const sigset_t* __restrict set,
                sigset_t* __restrict old) __THROW {
  IPCFAULT_FORWARD(kSigprocmask, sigprocmask, SlowSigprocmask, how, set, old);
}

pid_t fork() __THROW { IPCFAULT_FORWARD(kFork, fork, SlowFork); }

pid_t waitpid(pid_t pid, int* status, int options) {
  IPCFAULT_FORWARD(kWaitpid, waitpid, SlowWaitpid, pid, status, options);
}

}  // extern "C"
