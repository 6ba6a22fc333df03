// inject/internal/interpose.cc
//
// The interposer: extern "C" definitions of every call in the call spec
// (call_spec.inc) and of the _FORTIFY_SOURCE entry points that check them,
// all generated from the spec's rows (docs/call_spec.md). Linked
// into an executable (//inject:interpose, alwayslink) they replace libc's for
// the whole process; built into libipcfault_preload.so they do the same under
// LD_PRELOAD.
//
// Every wrapper has the same shape:
//
//   if (ABSL_PREDICT_TRUE(!ArmedFor(Call::kRead))) return real.read.get()(...);
//   return SlowPath<Call::kRead, kMinusOneErrno, k_read_roles>(real.read, ...);
//
// The one slow path (a template, ABSL_ATTRIBUTE_NOINLINE, instantiated per
// row) builds a CallSite from the arguments the row's ArgRoles name, asks the
// engine
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
#include <gnu/libc-version.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
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
#include <atomic>
#include <cstddef>
#include <cstring>
#include <tuple>
#include <type_traits>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/internal/interpose_path.h"
#include "ipcfault/inject/internal/loaded_object.h"
#include "ipcfault/inject/internal/real_functions.h"
#include "ipcfault/inject/rule.h"

// The _FORTIFY_SOURCE entry points. Declared here because the headers declare
// them only when _FORTIFY_SOURCE is on.
#define IPCFAULT_CALL(...)
#define IPCFAULT_FORTIFIED(name, Camel, slot, RET, PARAMS, ...) \
  extern "C" RET __##slot PARAMS;
#include "ipcfault/inject/call_spec.inc"

namespace ipcfault::inject_internal {
namespace {

// What a RealFunction falls back on when no definition is found: nothing,
// except where a call's row needs one.
template <Call kCall, typename Fn>
struct Fallback {
  static constexpr Fn* fn = nullptr;
};

// pidfd_send_signal on a glibc older than 2.36: the raw syscall.
int RawPidfdSendSignal(int pidfd, int sig, siginfo_t* info,
                       unsigned int flags) {
  return static_cast<int>(
      ::syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags));
}
template <typename Fn>
struct Fallback<Call::kPidfdSendSignal, Fn> {
  static constexpr Fn* fn = &RawPidfdSendSignal;
};

}  // namespace

// Constant-initialised: a call that arrives before any constructor (another
// library's) finds its slot ready to resolve.
ABSL_CONST_INIT RealFunctions real = {
#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ...) \
  {#name, &::name, Fallback<Call::k##Camel, RET PARAMS>::fn},
// execl's slot holds the real execv, which its wrapper makes.
#define IPCFAULT_CALL_VARARGS(name, Camel, RET, PARAMS, ARGS, FAILURE, ROLES, SETS, KEYS, \
                              ERRORS, via)                                              \
  {#via, &::via, nullptr},
#define IPCFAULT_FORTIFIED(name, Camel, slot, ...) {"__" #slot, &::__##slot},
#include "ipcfault/inject/call_spec.inc"
};

namespace {

// Whether to call a sanitizer runtime's interceptors: one is loaded (every
// one that has any intercepts read), and it comes before libc among the
// loaded objects. A sanitizer runtime finds its own real functions with
// dlsym(RTLD_NEXT): when it comes after libc — the preload library built
// under --config=asan, loaded into a program built without it, brings the
// runtime in as its own dependency, behind the program's libc — it finds
// none, falls back on the first definition, the interposer's, and its
// interceptor would call the interposer back, without end. Then the
// interposer calls libc itself (the program is not instrumented anyway).
// Asked once, so that a process without one (the usual case) pays one
// dlsym per real function, not three.
bool HaveInterceptors() {
  static std::atomic<int> known{0};  // 0: not asked yet; 1: yes; 2: no
  int k = known.load(std::memory_order_relaxed);
  if (k == 0) {
    k = 2;
    for (const char* name : {"__interceptor_read", "___interceptor_read"}) {
      void* interceptor = dlsym(RTLD_DEFAULT, name);
      if (interceptor == nullptr) continue;
      // A function only libc defines and no runtime intercepts.
      const int libc =
          LoadedObjectOf(reinterpret_cast<void*>(&gnu_get_libc_version)).index;
      const int runtime = LoadedObjectOf(interceptor).index;
      if (libc < 0 || runtime < libc) k = 1;
    }
    known.store(k, std::memory_order_relaxed);
  }
  return k == 1;
}

}  // namespace

void* ResolveReal(const char* name, void* self) {
  // A sanitizer runtime defines `read` as an alias of `__interceptor_read`
  // (`___interceptor_read` in newer LLVM). Our `read` hides its alias, so
  // call its interceptor ourselves: ASan still checks the buffer and TSan
  // still sees the fd's happens-before edges.
  static constexpr char kPrefixes[][16] = {"__interceptor_", "___interceptor_"};
  for (const char* prefix : kPrefixes) {
    if (!HaveInterceptors()) break;
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
#define IPCFAULT_CALL(name, ...) real.name.get();
#define IPCFAULT_FORTIFIED(name, Camel, slot, ...) real.slot.get();
#include "ipcfault/inject/call_spec.inc"
}

namespace {

// Resolve at load time, before main and before most other constructors, so
// the first interposed call does not pay for dlsym; but in the preload
// library, which resolves when it arms (real_functions.h).
__attribute__((constructor(101))) void ResolveAtLoad() {
  if (PreloadResolvesWhenArmed != nullptr && PreloadResolvesWhenArmed()) return;
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
// A SIGPIPE is held back from a call that passed MSG_NOSIGNAL: the kernel
// never raises it for one (docs/fidelity.md).
ABSL_ATTRIBUTE_NOINLINE void BeforeCall(const Injection& injection,
                                        bool hold_sigpipe) {
  ErrnoSaver saver;
  if (injection.delay_enter_ns > 0) SleepFor(injection.delay_enter_ns);
  if (injection.signal != 0 && !(hold_sigpipe && injection.signal == SIGPIPE)) {
    SignalThisThread(injection.signal);
  }
}

// Asks the engine about one call and applies what comes before the call.
// Preserves errno (Decide does). Inlined into each slow path: with rules
// armed that do not match, this is all the interposer adds to a call.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Injection Enter(const CallSite& site,
                                                    bool hold_sigpipe = false) {
  if (in_engine > 0) return Injection{};
  ++in_engine;
  Injection injection = Decide(site);
  --in_engine;
  if (ABSL_PREDICT_FALSE(injection.fired)) BeforeCall(injection, hold_sigpipe);
  return injection;
}

// What comes after the call: delay_exit. Preserves errno.
void Leave(const Injection& injection) {
  if (injection.delay_exit_ns > 0) {
    ErrnoSaver saver;
    SleepFor(injection.delay_exit_ns);
  }
}

// The failure value of a call of style `kStyle` failing with `error`, with
// errno (or h_errno) set as that call sets it. Runs last on the injected path.
template <typename R, FailureStyle kStyle>
R Fail(int error) {
  if constexpr (kStyle == FailureStyle::kReturnsErrno) {
    return static_cast<R>(error);
  } else if constexpr (kStyle == FailureStyle::kEaiCode) {
    // The rule's error is an EAI_* code. EAI_SYSTEM means "see errno": give
    // it one that says the system failed.
    if (error == EAI_SYSTEM) errno = EIO;
    return static_cast<R>(error);
  } else if constexpr (kStyle == FailureStyle::kNullHErrno) {
    h_errno = error;
    return nullptr;
  } else if constexpr (kStyle == FailureStyle::kSigErrErrno) {
    errno = error;
    return SIG_ERR;
  } else if constexpr (kStyle == FailureStyle::kCannotFail) {
    // The parser gives such a call no error=; nothing to fail.
    (void)error;
    return R{};
  } else {
    static_assert(kStyle == FailureStyle::kMinusOneErrno ||
                  kStyle == FailureStyle::kNonzeroErrno);
    errno = error;
    return static_cast<R>(-1);
  }
}

// The result of retval=: the value itself; for a call returning a pointer,
// NULL (a pointer cannot be made up), with h_errno/errno left alone.
template <typename R>
R Faked(int64_t retval) {
  if constexpr (std::is_pointer_v<R>) {
    return nullptr;
  } else {
    return static_cast<R>(retval);
  }
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

// ---------------------------------------------------------------------------
// The one slow path, generated for every call from its row's ArgRoles.

// The CallSite of one call, from its arguments.
template <Call kCall, ArgRoles kRoles, typename Args>
CallSite SiteOf(const Args& args) {
  CallSite site = {.call = kCall};
  if constexpr (kRoles.fd >= 0) site.fd = std::get<kRoles.fd>(args);
  if constexpr (kRoles.addr >= 0) {
    site.addr = std::get<kRoles.addr>(args);
    site.addrlen = std::get<kRoles.addrlen>(args);
  }
  if constexpr (kRoles.count >= 0) site.count = std::get<kRoles.count>(args);
  if constexpr (kRoles.iov >= 0) {
    const struct iovec* iov = std::get<kRoles.iov>(args);
    int iovcnt = std::get<kRoles.iovcnt>(args);
    site.count = iovcnt > 0 && iov != nullptr ? TotalLength(iov, iovcnt) : 0;
  }
  if constexpr (kRoles.msg >= 0) {
    const auto* msg = std::get<kRoles.msg>(args);
    if (msg != nullptr) {
      // A const msghdr is sent: its msg_name is where to.
      if constexpr (std::is_const_v<std::remove_pointer_t<decltype(msg)>>) {
        site.addr = static_cast<const struct sockaddr*>(msg->msg_name);
        site.addrlen = msg->msg_name != nullptr ? msg->msg_namelen : 0;
      }
      if (msg->msg_iov != nullptr) {
        site.count =
            TotalLength(msg->msg_iov, static_cast<int>(msg->msg_iovlen));
      }
    }
  }
  if constexpr (kRoles.sig >= 0) site.sig = std::get<kRoles.sig>(args);
  if constexpr (kRoles.pid == kCallerPid) {
    site.target = ::getpid();
  } else if constexpr (kRoles.pid >= 0) {
    site.target = std::get<kRoles.pid>(args);
  }
  return site;
}

// Calls `fn` with `args`, moving at most `limit` bytes (kNoLimit: all): the
// row's byte count is lowered, or its iovecs or msghdr trimmed on a copy.
template <ArgRoles kRoles, typename Fn, typename Args>
auto CallLimited(Fn* fn, Args args, size_t limit) {
  if constexpr (kRoles.count >= 0) {
    auto& n = std::get<kRoles.count>(args);
    n = std::min<size_t>(n, limit);
    return std::apply(fn, args);
  } else if constexpr (kRoles.iov >= 0) {
    return WithTrimmedIov(std::get<kRoles.iov>(args),
                          std::get<kRoles.iovcnt>(args), limit,
                          [&](const struct iovec* iov, int iovcnt) {
                            std::get<kRoles.iov>(args) = iov;
                            std::get<kRoles.iovcnt>(args) = iovcnt;
                            return std::apply(fn, args);
                          });
  } else if constexpr (kRoles.msg >= 0) {
    auto* msg = std::get<kRoles.msg>(args);
    return WithTrimmedMsg(const_cast<struct msghdr*>(msg), limit,
                          [&](struct msghdr* m) {
                            std::get<kRoles.msg>(args) = m;
                            return std::apply(fn, args);
                          });
  } else {
    return std::apply(fn, args);
  }
}

// What a call is, for the kernel-fidelity rules (docs/fidelity.md): these
// are the calls the code below treats specially, and why.

// Sends data: SIGPIPE with EPIPE (the kernel raises it for these).
constexpr bool RaisesSigpipe(Call c) {
  return c == Call::kWrite || c == Call::kWritev || c == Call::kSend ||
         c == Call::kSendto || c == Call::kSendmsg || c == Call::kSendmmsg ||
         c == Call::kSendfile || c == Call::kSplice;
}
// Sends bytes that may be one datagram: a short send is EMSGSIZE or whole.
constexpr bool SendsOneMessage(Call c) {
  return c == Call::kWrite || c == Call::kWritev || c == Call::kSend ||
         c == Call::kSendto || c == Call::kSendmsg;
}

// The readiness a waiting call leaves when it returns 0 or is interrupted:
// poll and ppoll write every revents (zero); select and pselect zero their
// sets on a timeout (on EINTR they leave them as passed, as select(2) does).
template <Call kCall, typename Args>
void ClearReadiness(const Args& args, bool timed_out) {
  if constexpr (kCall == Call::kPoll || kCall == Call::kPpoll) {
    ClearRevents(std::get<0>(args), std::get<1>(args));
  } else if constexpr (kCall == Call::kSelect || kCall == Call::kPselect) {
    if (timed_out) {
      ClearFdSets(std::get<0>(args), std::get<1>(args), std::get<2>(args),
                  std::get<3>(args));
    }
  } else {
    (void)args;
    (void)timed_out;
  }
}

// The preload library's check before an exec (interpose_path.h).
ABSL_CONST_INIT std::atomic<ExecWatch> exec_watch{nullptr};

// "/proc/self/fd/N", the program fexecve runs, into `buf`. Async-signal-safe.
void FdPath(int fd, char (&buf)[32]) {
  static constexpr char kPrefix[] = "/proc/self/fd/";
  char digits[12];
  int n = 0;
  unsigned value = fd < 0 ? 0u : static_cast<unsigned>(fd);
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n < 11);
  size_t at = 0;
  for (; kPrefix[at] != '\0'; ++at) buf[at] = kPrefix[at];
  while (n > 0) buf[at++] = digits[--n];
  buf[at] = '\0';
}

// Just before the real call of an exec or posix_spawn (a row with a
// `program` role): the watch, if one is installed, sees the program and the
// environment it gets. Preserves errno (the watch does).
template <ArgRoles kRoles, typename Args>
void WatchExec(const Args& args) {
  if constexpr (kRoles.program >= 0) {
    const ExecWatch watch = exec_watch.load(std::memory_order_acquire);
    if (watch == nullptr) return;
    char* const* envp = environ;
    if constexpr (kRoles.envp >= 0) envp = std::get<kRoles.envp>(args);
    const auto program = std::get<kRoles.program>(args);
    if constexpr (std::is_integral_v<decltype(program)>) {
      char path[32];
      FdPath(program, path);
      watch(path, false, envp);
    } else {
      watch(program, kRoles.searches_path, envp);
    }
  } else {
    (void)args;
  }
}

// The slow path of every call: builds its CallSite, asks the engine, and
// applies the Injection: fails the call as its FailureStyle says, returns
// the retval without calling, or makes the real call (whole or short).
template <Call kCall, FailureStyle kStyle, ArgRoles kRoles, typename R,
          typename... P>
ABSL_ATTRIBUTE_NOINLINE R SlowPath(const RealFunction<R(P...)>& real_fn,
                                   std::type_identity_t<P>... params) {
  const std::tuple<P...> args(params...);
  int flags = 0;
  if constexpr (kRoles.flags >= 0) flags = static_cast<int>(std::get<kRoles.flags>(args));
  int fd = -1;
  if constexpr (kRoles.fd >= 0) fd = std::get<kRoles.fd>(args);
  const CallSite site = SiteOf<kCall, kRoles>(args);
  Injection injection = Enter(site, HoldsBackSigpipe(flags));
  if (ABSL_PREDICT_TRUE(!injection.fired)) {
    WatchExec<kRoles>(args);
    R result = CallLimited<kRoles>(real_fn.get(), args, kNoLimit);
    if constexpr (kCall == Call::kGetsockopt) {
      ErrnoSaver saver;
      RewriteSoError(fd, std::get<1>(args), std::get<2>(args), std::get<3>(args),
                     std::get<4>(args), result);
    }
    return result;
  }
  switch (injection.action) {
    case Action::kError:
      if constexpr (kCall == Call::kConnect) {
        // A non-blocking TCP connect learns these errors later, from the
        // kernel: EINPROGRESS now, then SO_ERROR.
        int result;
        if (!injection.as_strace && ConnectAsync(fd, injection.error, &result)) {
          Leave(injection);
          return static_cast<R>(result);
        }
      }
      if constexpr (kCall == Call::kClose) {
        // The kernel releases the descriptor whatever close returns (EINTR
        // and EIO included: close(2)), so a failed close still closes it.
        // strace's error= makes no call and leaves it open: as=strace.
        if (!injection.as_strace) {
          ErrnoSaver saver;
          CallLimited<kRoles>(real_fn.get(), args, kNoLimit);
        }
      }
      Leave(injection);
      if (injection.error == EINTR) ClearReadiness<kCall>(args, false);
      if constexpr (RaisesSigpipe(kCall)) ApplyEpipeSignal(kCall, fd, flags, injection);
      return Fail<R, kStyle>(injection.error);
    case Action::kRetval:
      Leave(injection);
      if constexpr (kRoles.result >= 0) {
        // A faked success leaves no result to free.
        auto* result = std::get<kRoles.result>(args);
        if (injection.retval == 0 && result != nullptr) *result = nullptr;
      }
      if (injection.retval == 0) ClearReadiness<kCall>(args, true);
      return Faked<R>(injection.retval);
    case Action::kShort: {
      if constexpr (SendsOneMessage(kCall)) {
        // A datagram goes whole or not at all.
        if (IsDatagramSocket(fd)) {
          if (site.count > injection.short_bytes) {
            Leave(injection);
            errno = EMSGSIZE;
            return static_cast<R>(-1);
          }
          R result = CallLimited<kRoles>(real_fn.get(), args, kNoLimit);
          Leave(injection);
          return result;
        }
      }
      R result = CallLimited<kRoles>(real_fn.get(), args, injection.short_bytes);
      Leave(injection);
      return result;
    }
    case Action::kNone:
      break;
  }
  WatchExec<kRoles>(args);
  R result = CallLimited<kRoles>(real_fn.get(), args, kNoLimit);
  Leave(injection);
  return result;
}

}  // namespace

void SetExecWatch(ExecWatch watch) { exec_watch.store(watch, std::memory_order_release); }
bool ExecWatched() { return exec_watch.load(std::memory_order_relaxed) != nullptr; }

Injection EnterCall(const CallSite& site) { return Enter(site); }
void LeaveCall(const Injection& injection) { Leave(injection); }
void SignalCallingThread(int sig) { SignalThisThread(sig); }

}  // namespace ipcfault::inject_internal

// ---------------------------------------------------------------------------
// The interposed definitions, one per row of the spec. Each: no rule armed
// on its call -> the real call at once; else the slow path. A fortified
// twin checks its buffer first, whatever a rule says.

namespace ii = ipcfault::inject_internal;

namespace ipcfault::inject_internal {
namespace {

// Whether the declaration a wrapper redefines is noexcept (glibc marks some
// with __THROW): the definition must say the same.
template <typename R, typename... A>
constexpr bool IsNoexcept(R (*)(A...) noexcept) { return true; }
template <typename R, typename... A>
constexpr bool IsNoexcept(R (*)(A...)) { return false; }
template <typename R, typename... A>
constexpr bool IsNoexcept(R (*)(A..., ...) noexcept) { return true; }
template <typename R, typename... A>
constexpr bool IsNoexcept(R (*)(A..., ...)) { return false; }

// The failure style of each call, for its fortified twins.
constexpr FailureStyle StyleOf(Call call) {
  switch (call) {
#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ARGS, FAILURE, ...) \
  case Call::k##Camel:                                              \
    return FailureStyle::FAILURE;
#include "ipcfault/inject/call_spec.inc"
  }
  return FailureStyle::kMinusOneErrno;
}

// The ArgRoles of each wrapper, named after its real-function slot.
#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ARGS, FAILURE, ROLES, ...) \
  constexpr ArgRoles k_##name##_roles = {IPCFAULT_SPEC_UNPAREN ROLES};
#define IPCFAULT_FORTIFIED(name, Camel, slot, RET, PARAMS, ARGS, ROLES, CHECK) \
  constexpr ArgRoles k_##slot##_roles = {IPCFAULT_SPEC_UNPAREN ROLES};
#include "ipcfault/inject/call_spec.inc"

}  // namespace
}  // namespace ipcfault::inject_internal

#define IPCFAULT_NOEXCEPT_AS(fn) noexcept(ii::IsNoexcept(&::fn))

namespace ipcfault::inject_internal {
// Whether a call takes its slow path with no rule armed on it: getsockopt,
// while an injected non-blocking connect's SO_ERROR waits to be read; an
// exec or posix_spawn, when the preload library watches them.
template <Call kCall, ArgRoles kRoles>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool AlsoSlow() {
  if constexpr (kCall == Call::kGetsockopt) {
    return SoErrorRewritesPending();
  } else if constexpr (kRoles.program >= 0) {
    return ExecWatched();
  } else {
    return false;
  }
}
}  // namespace ipcfault::inject_internal

#define IPCFAULT_SLOW_PATH(slot, Camel, ARGS)                                 \
  ii::SlowPath<ipcfault::Call::k##Camel,                                      \
               ii::StyleOf(ipcfault::Call::k##Camel), ii::k_##slot##_roles>(  \
      ii::real.slot IPCFAULT_SPEC_LEADING_COMMA(ARGS))

extern "C" {

#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ARGS, FAILURE, ROLES, ...) \
  RET name PARAMS IPCFAULT_NOEXCEPT_AS(name) {                            \
    if (ABSL_PREDICT_TRUE(!ii::ArmedFor(ipcfault::Call::k##Camel) &&      \
                          !(ii::AlsoSlow<ipcfault::Call::k##Camel,        \
                                         ii::k_##name##_roles>()))) {      \
      return ii::real.name.get() ARGS;                                    \
    }                                                                     \
    return IPCFAULT_SLOW_PATH(name, Camel, ARGS);                         \
  }
// Hand-written wrappers: vfork in internal/interpose_process.cc, execl,
// execlp and execle below.
#define IPCFAULT_CALL_HANDWRITTEN(...)
#define IPCFAULT_CALL_VARARGS(...)
#define IPCFAULT_FORTIFIED(name, Camel, slot, RET, PARAMS, ARGS, ROLES, CHECK) \
  RET __##slot PARAMS IPCFAULT_NOEXCEPT_AS(__##slot) {                         \
    if (ABSL_PREDICT_TRUE(!ii::ArmedFor(ipcfault::Call::k##Camel)) || CHECK) {  \
      return ii::real.slot.get() ARGS;                                         \
    }                                                                          \
    return IPCFAULT_SLOW_PATH(slot, Camel, ARGS);                              \
  }
#include "ipcfault/inject/call_spec.inc"

// execl, execlp, execle: variadic, so no row can forward them. Each gathers
// its arguments into an argv on the stack (async-signal-safe: exec runs in
// forked and vforked children) and is then its row's call, in argv shape:
// its own rules decide, then the real execv, execvp or execve (its
// real-function slot) runs. A rule on execv does not catch execl (glibc's
// execl does not call execv either; strace shows both as execve).
#define IPCFAULT_EXECL_WRAPPER(name, Camel, envp_param, envp_arg)                \
  int name(const char* file, const char* arg, ...) IPCFAULT_NOEXCEPT_AS(name) {   \
    va_list count_args;                                                           \
    va_start(count_args, arg);                                                    \
    /* glibc declares arg nonnull; a caller may still pass NULL (no          \
       arguments at all): hide the value from the optimiser. */                   \
    const char* first = arg;                                                      \
    asm("" : "+r"(first));                                                        \
    size_t argc = 0;                                                              \
    if (first != nullptr) {                                                       \
      argc = 1;                                                                   \
      while (va_arg(count_args, const char*) != nullptr) ++argc;                  \
    }                                                                             \
    va_end(count_args);                                                           \
    char* argv[argc + 1];                                                         \
    va_list args;                                                                 \
    va_start(args, arg);                                                          \
    argv[0] = const_cast<char*>(first);                                           \
    for (size_t i = 1; i < argc; ++i) argv[i] = va_arg(args, char*);              \
    if (argc > 0) (void)va_arg(args, char*); /* the null pointer */               \
    argv[argc] = nullptr;                                                         \
    envp_param;                                                                   \
    va_end(args);                                                                 \
    if (ABSL_PREDICT_TRUE(!ii::ArmedFor(ipcfault::Call::k##Camel) &&              \
                          !(ii::AlsoSlow<ipcfault::Call::k##Camel,                \
                                         ii::k_##name##_roles>()))) {              \
      return ii::real.name.get()(file, argv IPCFAULT_SPEC_LEADING_COMMA(envp_arg)); \
    }                                                                             \
    return IPCFAULT_SLOW_PATH(name, Camel,                                        \
                              (file, argv IPCFAULT_SPEC_LEADING_COMMA(envp_arg)));  \
  }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvla"
IPCFAULT_EXECL_WRAPPER(execl, Execl, (void)0, ())
IPCFAULT_EXECL_WRAPPER(execlp, Execlp, (void)0, ())
IPCFAULT_EXECL_WRAPPER(execle, Execle, char* const* envp = va_arg(args, char* const*), (envp))
#pragma GCC diagnostic pop
#undef IPCFAULT_EXECL_WRAPPER

// Programs built with _FILE_OFFSET_BITS=64 call sendfile as sendfile64
// (busybox, nginx, python3): on x86-64 the same function.
ssize_t sendfile64(int out_fd, int in_fd, off64_t* offset, size_t count) noexcept(
    ii::IsNoexcept(&::sendfile64)) __attribute__((alias("sendfile")));

}  // extern "C"
