// selftest/reach_calls.cc — see reach_calls.h.
//
// Setup and cleanup use other calls than the one under test (or raw
// syscalls), so a rule with when=1 on the call fires on the call itself.

#include "ipcfault/selftest/reach_calls.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

extern "C" int __ppoll_chk(struct pollfd* fds, nfds_t nfds,
                           const struct timespec* timeout, const sigset_t* ss,
                           size_t fdslen);

namespace ipcfault_selftest {
namespace {

ReachOutcome Out(long ret) { return {ret, errno}; }

bool IsZero(const ReachOutcome& o) { return o.ret == 0; }
bool IsOne(const ReachOutcome& o) { return o.ret == 1; }
bool NonNegative(const ReachOutcome& o) { return o.ret >= 0; }
bool Positive(const ReachOutcome& o) { return o.ret > 0; }
bool Interrupted(const ReachOutcome& o) { return o.ret == -1 && o.err == EINTR; }

void RawClose(int fd) {
  if (fd >= 0) ::syscall(SYS_close, fd);
}

// A pipe with one byte in it: readable.
struct ReadablePipe {
  int fds[2] = {-1, -1};
  ReadablePipe() {
    if (::syscall(SYS_pipe2, fds, O_CLOEXEC) == 0) ::syscall(SYS_write, fds[1], "x", 1);
  }
  ~ReadablePipe() {
    RawClose(fds[0]);
    RawClose(fds[1]);
  }
};

struct SocketPair {
  int fds[2] = {-1, -1};
  explicit SocketPair(int type) {
    ::syscall(SYS_socketpair, AF_UNIX, type | SOCK_CLOEXEC, 0, fds);
  }
  ~SocketPair() {
    RawClose(fds[0]);
    RawClose(fds[1]);
  }
};

// An epoll fd watching a readable pipe.
struct ReadyEpoll {
  ReadablePipe pipe;
  int epfd = static_cast<int>(::syscall(SYS_epoll_create1, EPOLL_CLOEXEC));
  ReadyEpoll() {
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.fd = pipe.fds[0];
    ::syscall(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, pipe.fds[0], &ev);
  }
  ~ReadyEpoll() { RawClose(epfd); }
};

// SIGUSR2 blocked and pending, with a handler that does nothing: the signal
// waits and sigsuspend have something to take. The destructor takes what is
// left and restores the mask and the disposition.
void NoteSignal(int) {}
struct PendingSignal {
  sigset_t old_mask;
  struct sigaction old_action;
  PendingSignal() {
    // libc's sigaction and sigprocmask (no rule is armed on them here): the
    // handler needs libc's signal-return trampoline.
    struct sigaction sa = {};
    sa.sa_handler = NoteSignal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGUSR2, &sa, &old_action);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    ::sigprocmask(SIG_BLOCK, &block, &old_mask);
    ::syscall(SYS_tgkill, ::getpid(), ::gettid(), SIGUSR2);
  }
  ~PendingSignal() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    struct timespec zero = {0, 0};
    ::syscall(SYS_rt_sigtimedwait, &set, nullptr, &zero, _NSIG / 8);
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    ::sigaction(SIGUSR2, &old_action, nullptr);
  }
  static sigset_t Only() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    return set;
  }
};

// A child that exits 3 at once; reaped by the destructor if the call under
// test did not.
struct ExitedChild {
  pid_t pid = ::fork();
  ExitedChild() {
    if (pid == 0) ::_exit(3);
  }
  ~ExitedChild() {
    if (pid > 0) ::syscall(SYS_wait4, pid, nullptr, 0, nullptr);
  }
};
bool ReapedIt(const ReachOutcome& o) { return o.ret > 0; }

// Reaps a child the call under test made (vfork, posix_spawn); true if it
// exited 0.
bool Reap(pid_t pid) {
  int status = 0;
  return ::syscall(SYS_wait4, pid, &status, 0, nullptr) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

// The program the exec and spawn makers run: exits 0 at once.
constexpr char kTrue[] = "/bin/true";
char* const kTrueArgv[] = {const_cast<char*>("true"), nullptr};

// Makes `exec` (an exec call) in a forked child. If it returns (it failed),
// the child sends back its result and errno through a close-on-exec pipe;
// if it succeeds, the pipe closes unwritten and /bin/true exits 0: then the
// outcome is ret 0 with the caller's errno, untouched. Anything else is
// ret -3.
ReachOutcome ExecInChild(long (*exec)()) {
  const int entry_errno = errno;
  int fds[2];
  if (::syscall(SYS_pipe2, fds, O_CLOEXEC) != 0) return {-3, errno};
  const pid_t pid = ::fork();
  if (pid == 0) {
    RawClose(fds[0]);
    errno = entry_errno;
    const long ret = exec();
    const ReachOutcome o = {ret, errno};
    ::syscall(SYS_write, fds[1], &o, sizeof(o));
    ::_exit(127);
  }
  RawClose(fds[1]);
  ReachOutcome o = {-3, 0};
  const long n = pid > 0 ? ::syscall(SYS_read, fds[0], &o, sizeof(o)) : -1;
  RawClose(fds[0]);
  int status = 0;
  if (pid > 0) ::syscall(SYS_wait4, pid, &status, 0, nullptr);
  if (n == static_cast<long>(sizeof(o))) return o;  // the exec returned
  if (n == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) return {0, entry_errno};
  return {-3, 0};
}

// posix_spawn(p) of /bin/true: its result (the error number, or 0) and
// errno after it; the child reaped: ret -2 if it did not exit 0.
ReachOutcome Spawn(bool search) {
  pid_t pid = 0;
  const int ret = search ? ::posix_spawnp(&pid, "true", nullptr, nullptr, kTrueArgv, environ)
                         : ::posix_spawn(&pid, kTrue, nullptr, nullptr, kTrueArgv, environ);
  ReachOutcome o = {ret, errno};
  if (ret == 0 && !Reap(pid)) o.ret = -2;
  return o;
}

std::vector<ReachCall> MakeCalls() {
  std::vector<ReachCall> calls = {
      // Socket options and names.
      {"getsockopt",
       [] {
         SocketPair s(SOCK_STREAM);
         int type = 0;
         socklen_t len = sizeof(type);
         return Out(::getsockopt(s.fds[0], SOL_SOCKET, SO_TYPE, &type, &len));
       },
       IsZero},
      {"setsockopt",
       [] {
         SocketPair s(SOCK_STREAM);
         int size = 65536;
         return Out(::setsockopt(s.fds[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)));
       },
       IsZero},
      {"getsockname",
       [] {
         SocketPair s(SOCK_STREAM);
         struct sockaddr_storage addr;
         socklen_t len = sizeof(addr);
         return Out(::getsockname(s.fds[0], reinterpret_cast<struct sockaddr*>(&addr), &len));
       },
       IsZero},
      {"getpeername",
       [] {
         SocketPair s(SOCK_STREAM);
         struct sockaddr_storage addr;
         socklen_t len = sizeof(addr);
         return Out(::getpeername(s.fds[0], reinterpret_cast<struct sockaddr*>(&addr), &len));
       },
       IsZero},
      // Many messages; transfers between descriptors.
      {"recvmmsg",
       [] {
         SocketPair s(SOCK_DGRAM);
         ::syscall(SYS_sendto, s.fds[1], "ping", 4, 0, nullptr, 0);
         char buf[8];
         struct iovec iov = {buf, sizeof(buf)};
         struct mmsghdr msg = {};
         msg.msg_hdr.msg_iov = &iov;
         msg.msg_hdr.msg_iovlen = 1;
         return Out(::recvmmsg(s.fds[0], &msg, 1, MSG_DONTWAIT, nullptr));
       },
       IsOne},
      {"sendmmsg",
       [] {
         SocketPair s(SOCK_DGRAM);
         char buf[] = "ping";
         struct iovec iov = {buf, 4};
         struct mmsghdr msg = {};
         msg.msg_hdr.msg_iov = &iov;
         msg.msg_hdr.msg_iovlen = 1;
         return Out(::sendmmsg(s.fds[0], &msg, 1, 0));
       },
       IsOne},
      {"sendfile",
       [] {
         SocketPair s(SOCK_STREAM);
         int file = static_cast<int>(::syscall(SYS_memfd_create, "reach", MFD_CLOEXEC));
         ::syscall(SYS_write, file, "hello", 5);
         off_t offset = 0;
         ReachOutcome o = Out(::sendfile(s.fds[0], file, &offset, 5));
         RawClose(file);
         return o;
       },
       [](const ReachOutcome& o) { return o.ret == 5; }},
      {"splice",
       [] {
         SocketPair s(SOCK_STREAM);
         ReadablePipe p;
         return Out(::splice(p.fds[0], nullptr, s.fds[0], nullptr, 1, 0));
       },
       IsOne},
      // Descriptors for IPC.
      {"pipe",
       [] {
         int fds[2] = {-1, -1};
         ReachOutcome o = Out(::pipe(fds));
         RawClose(fds[0]);
         RawClose(fds[1]);
         return o;
       },
       IsZero},
      {"pipe2",
       [] {
         int fds[2] = {-1, -1};
         ReachOutcome o = Out(::pipe2(fds, O_CLOEXEC));
         RawClose(fds[0]);
         RawClose(fds[1]);
         return o;
       },
       IsZero},
      {"dup",
       [] {
         SocketPair s(SOCK_STREAM);
         ReachOutcome o = Out(::dup(s.fds[0]));
         RawClose(static_cast<int>(o.ret));
         return o;
       },
       NonNegative},
      {"dup2",
       [] {
         SocketPair s(SOCK_STREAM);
         SocketPair t(SOCK_STREAM);
         return Out(::dup2(s.fds[0], t.fds[0]));
       },
       [](const ReachOutcome& o) { return o.ret >= 0; }},
      {"dup3",
       [] {
         SocketPair s(SOCK_STREAM);
         SocketPair t(SOCK_STREAM);
         return Out(::dup3(s.fds[0], t.fds[0], O_CLOEXEC));
       },
       NonNegative},
      {"eventfd",
       [] {
         ReachOutcome o = Out(::eventfd(0, EFD_CLOEXEC));
         RawClose(static_cast<int>(o.ret));
         return o;
       },
       NonNegative},
      // Waiting.
      {"select",
       [] {
         ReadablePipe p;
         fd_set r;
         FD_ZERO(&r);
         FD_SET(p.fds[0], &r);
         struct timeval tv = {5, 0};
         return Out(::select(p.fds[0] + 1, &r, nullptr, nullptr, &tv));
       },
       IsOne},
      {"pselect",
       [] {
         ReadablePipe p;
         fd_set r;
         FD_ZERO(&r);
         FD_SET(p.fds[0], &r);
         struct timespec ts = {5, 0};
         return Out(::pselect(p.fds[0] + 1, &r, nullptr, nullptr, &ts, nullptr));
       },
       IsOne},
      {"ppoll",
       [] {
         ReadablePipe p;
         struct pollfd fd = {p.fds[0], POLLIN, 0};
         struct timespec ts = {5, 0};
         return Out(::ppoll(&fd, 1, &ts, nullptr));
       },
       IsOne},
      {"__ppoll_chk",
       [] {
         ReadablePipe p;
         struct pollfd fd = {p.fds[0], POLLIN, 0};
         struct timespec ts = {5, 0};
         return Out(::__ppoll_chk(&fd, 1, &ts, nullptr, sizeof(fd)));
       },
       IsOne},
      {"epoll_pwait",
       [] {
         ReadyEpoll e;
         struct epoll_event ev;
         return Out(::epoll_pwait(e.epfd, &ev, 1, 5000, nullptr));
       },
       IsOne},
      {"epoll_pwait2",
       [] {
         ReadyEpoll e;
         struct epoll_event ev;
         struct timespec ts = {5, 0};
         return Out(::epoll_pwait2(e.epfd, &ev, 1, &ts, nullptr));
       },
       IsOne},
      {"epoll_create",
       [] {
         ReachOutcome o = Out(::epoll_create(1));
         RawClose(static_cast<int>(o.ret));
         return o;
       },
       NonNegative},
      {"epoll_create1",
       [] {
         ReachOutcome o = Out(::epoll_create1(EPOLL_CLOEXEC));
         RawClose(static_cast<int>(o.ret));
         return o;
       },
       NonNegative},
      {"epoll_ctl",
       [] {
         ReadablePipe p;
         int epfd = static_cast<int>(::syscall(SYS_epoll_create1, EPOLL_CLOEXEC));
         struct epoll_event ev = {};
         ev.events = EPOLLIN;
         ReachOutcome o = Out(::epoll_ctl(epfd, EPOLL_CTL_ADD, p.fds[0], &ev));
         RawClose(epfd);
         return o;
       },
       IsZero},
      // Signals.
      {"signal",
       [] {
         struct sigaction old;
         ::sigaction(SIGUSR2, nullptr, &old);
         sighandler_t previous = ::signal(SIGUSR2, SIG_IGN);
         ReachOutcome o = {reinterpret_cast<long>(previous), errno};
         ::sigaction(SIGUSR2, &old, nullptr);
         return o;
       },
       [](const ReachOutcome& o) { return o.ret != reinterpret_cast<long>(SIG_ERR); }},
      {"pthread_sigmask",
       [] {
         sigset_t none, old;
         sigemptyset(&none);
         return Out(::pthread_sigmask(SIG_BLOCK, &none, &old));
       },
       IsZero},
      {"sigsuspend",
       [] {
         PendingSignal pending;
         sigset_t none;
         sigemptyset(&none);
         return Out(::sigsuspend(&none));
       },
       Interrupted},
      {"sigwait",
       [] {
         PendingSignal pending;
         sigset_t set = PendingSignal::Only();
         int sig = 0;
         ReachOutcome o = Out(::sigwait(&set, &sig));
         if (o.ret == 0 && sig != SIGUSR2) o.ret = -2;
         return o;
       },
       IsZero},
      {"sigwaitinfo",
       [] {
         PendingSignal pending;
         sigset_t set = PendingSignal::Only();
         return Out(::sigwaitinfo(&set, nullptr));
       },
       [](const ReachOutcome& o) { return o.ret == SIGUSR2; }},
      {"sigtimedwait",
       [] {
         PendingSignal pending;
         sigset_t set = PendingSignal::Only();
         struct timespec ts = {5, 0};
         return Out(::sigtimedwait(&set, nullptr, &ts));
       },
       [](const ReachOutcome& o) { return o.ret == SIGUSR2; }},
      {"signalfd",
       [] {
         sigset_t set = PendingSignal::Only();
         ReachOutcome o = Out(::signalfd(-1, &set, SFD_CLOEXEC));
         RawClose(static_cast<int>(o.ret));
         return o;
       },
       NonNegative},
      {"pause", [] { return Out(::pause()); }, Interrupted, true},
      {"alarm",
       [] {
         ReachOutcome o = Out(static_cast<long>(::alarm(0)));
         return o;
       },
       IsZero},
      {"tgkill", [] { return Out(::tgkill(::getpid(), ::gettid(), 0)); }, IsZero},
      {"sigqueue",
       [] {
         union sigval value = {};
         return Out(::sigqueue(::getpid(), 0, value));
       },
       IsZero},
      // Processes.
      {"wait",
       [] {
         ExitedChild child;
         ReachOutcome o = Out(::wait(nullptr));
         if (o.ret == child.pid) child.pid = 0;
         return o;
       },
       ReapedIt},
      {"wait3",
       [] {
         ExitedChild child;
         ReachOutcome o = Out(::wait3(nullptr, 0, nullptr));
         if (o.ret == child.pid) child.pid = 0;
         return o;
       },
       ReapedIt},
      {"wait4",
       [] {
         ExitedChild child;
         ReachOutcome o = Out(::wait4(child.pid, nullptr, 0, nullptr));
         if (o.ret == child.pid) child.pid = 0;
         return o;
       },
       ReapedIt},
      {"waitid",
       [] {
         ExitedChild child;
         siginfo_t info = {};
         ReachOutcome o = Out(::waitid(P_PID, static_cast<id_t>(child.pid), &info, WEXITED));
         if (o.ret == 0) child.pid = 0;
         return o;
       },
       IsZero},
      {"vfork",
       [] {
         pid_t pid = ::vfork();
         if (pid == 0) ::_exit(0);
         ReachOutcome o = Out(pid);
         if (pid > 0 && !Reap(pid)) o.ret = -2;
         return o;
       },
       Positive},
      // The exec family, each made in a forked child (in_child): a rule
      // fires there, and the child reports what the failed exec returned.
      {"execve",
       [] { return ExecInChild([]() -> long { return ::execve(kTrue, kTrueArgv, environ); }); },
       IsZero, false, true},
      {"execv", [] { return ExecInChild([]() -> long { return ::execv(kTrue, kTrueArgv); }); },
       IsZero, false, true},
      {"execvp", [] { return ExecInChild([]() -> long { return ::execvp("true", kTrueArgv); }); },
       IsZero, false, true},
      {"execvpe",
       [] {
         return ExecInChild([]() -> long { return ::execvpe("true", kTrueArgv, environ); });
       },
       IsZero, false, true},
      {"fexecve",
       [] {
         return ExecInChild([]() -> long {
           const int fd =
               static_cast<int>(::syscall(SYS_openat, AT_FDCWD, kTrue, O_RDONLY | O_CLOEXEC));
           return ::fexecve(fd, kTrueArgv, environ);
         });
       },
       IsZero, false, true},
      {"execl",
       [] {
         return ExecInChild([]() -> long { return ::execl(kTrue, "true", nullptr); });
       },
       IsZero, false, true},
      {"execlp",
       [] {
         return ExecInChild([]() -> long { return ::execlp("true", "true", nullptr); });
       },
       IsZero, false, true},
      {"execle",
       [] {
         return ExecInChild([]() -> long { return ::execle(kTrue, "true", nullptr, environ); });
       },
       IsZero, false, true},
      {"posix_spawn", [] { return Spawn(false); }, IsZero},
      {"posix_spawnp", [] { return Spawn(true); }, IsZero},
  };
  return calls;
}

}  // namespace

const std::vector<ReachCall>& ReachCalls() {
  static const std::vector<ReachCall>* calls = new std::vector<ReachCall>(MakeCalls());
  return *calls;
}

const ReachCall* FindReachCall(std::string_view name) {
  for (const ReachCall& call : ReachCalls()) {
    if (name == call.name) return &call;
  }
  return nullptr;
}

}  // namespace ipcfault_selftest
