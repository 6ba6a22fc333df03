// selftest/fidelity_test.cc
//
// Only faults the kernel could produce (docs/fidelity.md), linked in, each
// checked against what the kernel does:
//   - a waiting call that times out or is interrupted leaves no stale
//     readiness (poll/ppoll revents, select's sets);
//   - a datagram is never cut short on send (EMSGSIZE, or whole), and a
//     short datagram receive discards the rest and says MSG_TRUNC;
//   - EPIPE raises SIGPIPE as the kernel does (not with MSG_NOSIGNAL, not
//     when ignored; pending when blocked), and as=strace keeps strace's
//     meaning;
//   - the non-blocking connect path: EINPROGRESS, then the socket polls
//     ready with an error and getsockopt(SO_ERROR) returns it, in a poll
//     loop and an epoll loop;
//   - sockets behind stdio: fgets/fread fail when their read fails, fflush
//     when its write fails, and only then;
//   - when= counted as strace counts (as=strace): per call, per thread, from
//     1 in a forked child;
//   - vfork runs its child on the caller's stack;
//   - a close failed by a rule still releases the descriptor (as=strace:
//     no call, as strace has it).

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "ipcfault/inject/faults.h"
#include "ipcfault/testing/status_matchers.h"

namespace {

struct Fds {
  int fds[2] = {-1, -1};
  ~Fds() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
};

Fds SocketPair(int type) {
  Fds p;
  EXPECT_EQ(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, p.fds), 0) << strerror(errno);
  return p;
}

Fds ReadablePipe() {
  Fds p;
  EXPECT_EQ(::pipe2(p.fds, O_CLOEXEC), 0);
  EXPECT_EQ(::write(p.fds[1], "x", 1), 1);
  return p;
}

// ---------------------------------------------------------------------------
// No stale readiness.

TEST(NoStaleReadiness, PollRetvalZeroWritesEveryRevents) {
  Fds p = ReadablePipe();
  struct pollfd fd = {p.fds[0], POLLIN, 0};
  ASSERT_EQ(::poll(&fd, 1, 0), 1);
  ASSERT_EQ(fd.revents, POLLIN);  // left from the last call
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("poll:retval=0:when=1"));
  EXPECT_EQ(::poll(&fd, 1, 0), 0);
  EXPECT_EQ(fd.revents, 0);  // as the kernel writes it on a timeout
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST(NoStaleReadiness, PpollInterruptedWritesEveryRevents) {
  Fds p = ReadablePipe();
  struct pollfd fd = {p.fds[0], POLLIN, POLLIN};
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("ppoll:error=EINTR:when=1"));
  EXPECT_EQ(::ppoll(&fd, 1, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(fd.revents, 0);
}

TEST(NoStaleReadiness, SelectRetvalZeroZeroesTheSets) {
  Fds p = ReadablePipe();
  fd_set r, w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(p.fds[0], &r);
  FD_SET(p.fds[1], &w);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("select:retval=0:when=1"));
  struct timeval tv = {0, 0};
  EXPECT_EQ(::select(p.fds[1] + 1, &r, &w, nullptr, &tv), 0);
  EXPECT_FALSE(FD_ISSET(p.fds[0], &r));
  EXPECT_FALSE(FD_ISSET(p.fds[1], &w));
}

TEST(NoStaleReadiness, SelectInterruptedLeavesTheSetsAsTheKernelDoes) {
  Fds p = ReadablePipe();
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p.fds[0], &r);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("select:error=EINTR:when=1"));
  EXPECT_EQ(::select(p.fds[0] + 1, &r, nullptr, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EINTR);
  // select(2) does not write the sets back when it fails: they are as passed.
  EXPECT_TRUE(FD_ISSET(p.fds[0], &r));
}

// ---------------------------------------------------------------------------
// Datagrams.

TEST(Datagrams, ShortSendOfALargerDatagramFailsWithEmsgsize) {
  Fds s = SocketPair(SOCK_DGRAM);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("send:short=3"));
  EXPECT_EQ(::send(s.fds[0], "0123456789", 10, 0), -1);
  EXPECT_EQ(errno, EMSGSIZE);
  char buf[16];
  EXPECT_EQ(::recv(s.fds[1], buf, sizeof(buf), MSG_DONTWAIT), -1);  // nothing sent
  EXPECT_EQ(errno, EAGAIN);
  // One that fits goes whole.
  EXPECT_EQ(::send(s.fds[0], "abc", 3, 0), 3);
  EXPECT_EQ(::recv(s.fds[1], buf, sizeof(buf), MSG_DONTWAIT), 3);
  EXPECT_EQ(faults.fired(0), 2u);
}

TEST(Datagrams, ShortSendOnAStreamMovesPartOfIt) {
  Fds s = SocketPair(SOCK_STREAM);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("send:short=3"));
  EXPECT_EQ(::send(s.fds[0], "0123456789", 10, 0), 3);
}

TEST(Datagrams, ShortReceiveDiscardsTheRestAndSaysMsgTrunc) {
  Fds s = SocketPair(SOCK_DGRAM);
  ASSERT_EQ(::send(s.fds[0], "0123456789", 10, 0), 10);
  ASSERT_EQ(::send(s.fds[0], "abc", 3, 0), 3);
  char buf[16] = {};
  struct iovec iov = {buf, sizeof(buf)};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  {
    ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("recvmsg:short=4:when=1"));
    EXPECT_EQ(::recvmsg(s.fds[1], &msg, 0), 4);
    EXPECT_TRUE(msg.msg_flags & MSG_TRUNC);
    EXPECT_EQ(std::string(buf, 4), "0123");
  }
  // The rest of the first datagram is gone: the next one is "abc".
  EXPECT_EQ(::recv(s.fds[1], buf, sizeof(buf), MSG_DONTWAIT), 3);
  EXPECT_EQ(std::string(buf, 3), "abc");
}

// ---------------------------------------------------------------------------
// EPIPE and SIGPIPE.

volatile sig_atomic_t sigpipes = 0;
void CountSigpipe(int) { sigpipes = sigpipes + 1; }

class SigpipeTest : public testing::Test {
 protected:
  void SetUp() override {
    struct sigaction sa = {};
    sa.sa_handler = CountSigpipe;
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(::sigaction(SIGPIPE, &sa, &old_), 0);
    sigpipes = 0;
  }
  void TearDown() override { ::sigaction(SIGPIPE, &old_, nullptr); }
  struct sigaction old_;
};

TEST_F(SigpipeTest, WriteFailingWithEpipeRaisesSigpipe) {
  Fds s = SocketPair(SOCK_STREAM);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("write:error=EPIPE:when=1"));
  EXPECT_EQ(::write(s.fds[0], "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(sigpipes, 1);
}

TEST_F(SigpipeTest, SendWithMsgNosignalGetsEpipeAlone) {
  Fds s = SocketPair(SOCK_STREAM);
  ASSERT_OK_AND_ASSIGN(auto faults,
                       ipcfault::Arm("send:error=EPIPE:signal=SIGPIPE:when=1"));
  EXPECT_EQ(::send(s.fds[0], "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(sigpipes, 0);
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST_F(SigpipeTest, AsStraceReturnsEpipeWithoutASignal) {
  Fds s = SocketPair(SOCK_STREAM);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("send:error=EPIPE:as=strace:when=1"));
  EXPECT_EQ(::send(s.fds[0], "x", 1, 0), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(sigpipes, 0);
}

TEST_F(SigpipeTest, BlockedSigpipeStaysPendingAsTheKernelLeavesIt) {
  Fds s = SocketPair(SOCK_STREAM);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  {
    ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("sendto:error=EPIPE:when=1"));
    EXPECT_EQ(::sendto(s.fds[0], "x", 1, 0, nullptr, 0), -1);
  }
  sigset_t pending;
  ASSERT_EQ(::sigpending(&pending), 0);
  EXPECT_TRUE(sigismember(&pending, SIGPIPE));
  struct timespec zero = {0, 0};
  EXPECT_EQ(::sigtimedwait(&block, nullptr, &zero), SIGPIPE);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(sigpipes, 0);
}

TEST(SigpipeIgnored, IgnoredSigpipeIsDiscarded) {
  // In a child: if the signal came despite SIG_IGN, the child would die.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_IGN);
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) ::_exit(2);
    auto faults = ipcfault::Arm("write:error=EPIPE:when=1");
    if (!faults.ok()) ::_exit(3);
    const bool failed = ::write(sv[0], "x", 1) == -1 && errno == EPIPE;
    ::_exit(failed ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// ---------------------------------------------------------------------------
// The non-blocking connect path.

struct Listener {
  int fd = -1;
  struct sockaddr_in addr = {};
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd, 8), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  }
  ~Listener() { ::close(fd); }
};

int SoError(int fd) {
  int error = -1;
  socklen_t len = sizeof(error);
  EXPECT_EQ(::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len), 0);
  return error;
}

// A non-blocking connect to a real listener, failed by `rule`, driven by a
// poll loop as an event loop drives it. Returns SO_ERROR once writable.
int PollLoopConnect(const std::string& rule, short* revents) {
  Listener listener;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  auto faults = ipcfault::Arm(rule);
  EXPECT_TRUE(faults.ok());
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&listener.addr), sizeof(listener.addr)),
            -1);
  EXPECT_EQ(errno, EINPROGRESS);
  struct pollfd p = {fd, POLLOUT, 0};
  EXPECT_EQ(::poll(&p, 1, 10000), 1);  // bound only: the kernel answers at once
  *revents = p.revents;
  int error = SoError(fd);
  EXPECT_EQ(SoError(fd), 0);  // read once, cleared, as the kernel does
  ::close(fd);
  return error;
}

TEST(NonBlockingConnect, RefusedInAPollLoop) {
  short revents = 0;
  EXPECT_EQ(PollLoopConnect("connect:error=ECONNREFUSED:when=1", &revents), ECONNREFUSED);
  EXPECT_TRUE(revents & POLLOUT);
  EXPECT_TRUE(revents & POLLERR);
}

TEST(NonBlockingConnect, TimedOutInAPollLoop) {
  short revents = 0;
  EXPECT_EQ(PollLoopConnect("connect:error=ETIMEDOUT:when=1", &revents), ETIMEDOUT);
  EXPECT_TRUE(revents & POLLERR);
}

TEST(NonBlockingConnect, RefusedInAnEpollLoop) {
  Listener listener;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  {
    ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("connect:error=ENETUNREACH:when=1"));
    ASSERT_EQ(
        ::connect(fd, reinterpret_cast<sockaddr*>(&listener.addr), sizeof(listener.addr)), -1);
    EXPECT_EQ(errno, EINPROGRESS);
    EXPECT_EQ(faults.fired(0), 1u);
  }
  struct epoll_event ev = {};
  ev.events = EPOLLOUT;
  ev.data.u64 = 42;
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
  struct epoll_event got = {};
  ASSERT_EQ(::epoll_wait(ep, &got, 1, 10000), 1);
  EXPECT_EQ(got.data.u64, 42u);
  EXPECT_TRUE(got.events & EPOLLERR);
  EXPECT_EQ(SoError(fd), ENETUNREACH);
  ::close(ep);
  ::close(fd);
}

TEST(NonBlockingConnect, BlockingSocketFailsAtOnce) {
  Listener listener;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("connect:error=ECONNREFUSED:when=1"));
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&listener.addr), sizeof(listener.addr)),
            -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ::close(fd);
}

TEST(NonBlockingConnect, AsStraceFailsConnectItself) {
  Listener listener;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_OK_AND_ASSIGN(auto faults,
                       ipcfault::Arm("connect:error=ECONNREFUSED:as=strace:when=1"));
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&listener.addr), sizeof(listener.addr)),
            -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ::close(fd);
}

// ---------------------------------------------------------------------------
// Sockets behind stdio.

TEST(Stdio, FgetsOnASocketStreamFailsWhenItsReadFails) {
  Fds s = SocketPair(SOCK_STREAM);
  ASSERT_EQ(::write(s.fds[1], "hello\nworld\n", 12), 12);
  FILE* in = ::fdopen(::dup(s.fds[0]), "r");
  ASSERT_NE(in, nullptr);
  char line[64];
  {
    ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("read:error=ECONNRESET:when=1"));
    errno = 0;
    EXPECT_EQ(::fgets(line, sizeof(line), in), nullptr);
    EXPECT_EQ(errno, ECONNRESET);
    EXPECT_TRUE(::ferror(in));
    EXPECT_EQ(faults.fired(0), 1u);
  }
  ::clearerr(in);
  // Nothing was read: both lines are still there.
  ASSERT_NE(::fgets(line, sizeof(line), in), nullptr);
  EXPECT_STREQ(line, "hello\n");
  {
    // The second line is in stdio's buffer: no read(2), so no rule sees it.
    ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("read:error=ECONNRESET"));
    ASSERT_NE(::fgets(line, sizeof(line), in), nullptr);
    EXPECT_STREQ(line, "world\n");
    EXPECT_EQ(faults.matched(0), 0u);
  }
  ::fclose(in);
}

TEST(Stdio, FreadOnASocketStreamFailsWhenItsReadFails) {
  Fds s = SocketPair(SOCK_STREAM);
  ASSERT_EQ(::write(s.fds[1], "abcd", 4), 4);
  FILE* in = ::fdopen(::dup(s.fds[0]), "r");
  char buf[4];
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("read:error=ETIMEDOUT:when=1"));
  EXPECT_EQ(::fread(buf, 1, 4, in), 0u);
  EXPECT_EQ(errno, ETIMEDOUT);
  EXPECT_TRUE(::ferror(in));
  ::fclose(in);
}

TEST(Stdio, FflushFailsWhenItsWriteFailsAndDropsTheOutput) {
  Fds s = SocketPair(SOCK_STREAM);
  FILE* out = ::fdopen(::dup(s.fds[0]), "w");
  ASSERT_GT(::fprintf(out, "GET / HTTP/1.0\r\n\r\n"), 0);
  {
    ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("write:error=ECONNRESET:when=1"));
    EXPECT_EQ(::fflush(out), EOF);
    EXPECT_EQ(errno, ECONNRESET);
    EXPECT_TRUE(::ferror(out));
    EXPECT_EQ(faults.fired(0), 1u);
  }
  // The pending output is gone, as glibc drops it when its write fails.
  ::clearerr(out);
  EXPECT_EQ(::fflush(out), 0);
  char buf[64];
  EXPECT_EQ(::recv(s.fds[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  ::fclose(out);
}

TEST(Stdio, FcloseReportsAFailedCloseAndStillReleasesTheDescriptor) {
  Fds s = SocketPair(SOCK_STREAM);
  const int fd = ::dup(s.fds[0]);
  FILE* stream = ::fdopen(fd, "r");
  ASSERT_NE(stream, nullptr);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("close:error=EIO:when=1"));
  EXPECT_EQ(::fclose(stream), EOF);
  EXPECT_EQ(errno, EIO);
  EXPECT_EQ(faults.fired(0), 1u);
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // released, as the kernel releases it
  EXPECT_EQ(errno, EBADF);
}

TEST(Stdio, ShortRulesAndFileStreamsAreLeftAlone) {
  FILE* file = ::tmpfile();
  ASSERT_NE(file, nullptr);
  ::fputs("line\n", file);
  ::rewind(file);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("read:error=EIO:fd=any\nread:short=1"));
  char line[16];
  ASSERT_NE(::fgets(line, sizeof(line), file), nullptr);  // a file: not a socket stream
  EXPECT_STREQ(line, "line\n");
  EXPECT_EQ(faults.matched(0), 0u);
  ::fclose(file);
}

// ---------------------------------------------------------------------------
// close: the kernel releases the descriptor whatever close returns.

TEST(Close, AFailedCloseStillReleasesTheDescriptor) {
  for (const char* rule : {"close:error=EIO:when=1", "close:error=EINTR:when=1",
                           "close:error=EBADF:when=1"}) {
    SCOPED_TRACE(rule);
    Fds s = SocketPair(SOCK_STREAM);
    ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm(rule));
    errno = 0;
    EXPECT_EQ(::close(s.fds[0]), -1);
    const int error = errno;
    EXPECT_NE(error, 0);
    EXPECT_EQ(faults.fired(0), 1u);
    EXPECT_EQ(::fcntl(s.fds[0], F_GETFD), -1);  // released
    EXPECT_EQ(errno, EBADF);
    char byte;
    EXPECT_EQ(::recv(s.fds[1], &byte, 1, MSG_DONTWAIT), 0);  // the peer sees EOF
    s.fds[0] = -1;
  }
}

TEST(Close, AsStraceMakesNoCallAndLeavesItOpen) {
  Fds s = SocketPair(SOCK_STREAM);
  {
    ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("close:error=EIO:when=1:as=strace"));
    EXPECT_EQ(::close(s.fds[0]), -1);
    EXPECT_EQ(errno, EIO);
    EXPECT_EQ(faults.fired(0), 1u);
  }
  EXPECT_NE(::fcntl(s.fds[0], F_GETFD), -1);  // strace made no call: still open
  char byte;
  EXPECT_EQ(::recv(s.fds[1], &byte, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
}

// ---------------------------------------------------------------------------
// when= as strace counts (as=strace).

TEST(Counting, AsStraceCountsEachCallOnItsOwn) {
  Fds s = SocketPair(SOCK_STREAM);
  struct sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  auto* a = reinterpret_cast<sockaddr*>(&addr);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm(
                                        "getsockname,getpeername:error=EBADF:when=2:as=strace"));
  EXPECT_EQ(::getsockname(s.fds[0], a, &len), 0);  // getsockname 1
  EXPECT_EQ(::getpeername(s.fds[0], a, &len), 0);  // getpeername 1: not the rule's 2nd
  EXPECT_EQ(::getsockname(s.fds[0], a, &len), -1);  // getsockname 2
  EXPECT_EQ(errno, EBADF);
}

TEST(Counting, DefaultCountsTheRulesCallsTogether) {
  Fds s = SocketPair(SOCK_STREAM);
  struct sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  auto* a = reinterpret_cast<sockaddr*>(&addr);
  ASSERT_OK_AND_ASSIGN(auto faults,
                       ipcfault::Arm("getsockname,getpeername:error=EBADF:when=2"));
  EXPECT_EQ(::getsockname(s.fds[0], a, &len), 0);
  EXPECT_EQ(::getpeername(s.fds[0], a, &len), -1);
}

TEST(Counting, AsStraceCountsEachThreadFromOne) {
  Fds s = SocketPair(SOCK_STREAM);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("getsockname:error=EBADF:when=2:as=strace"));
  struct sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  auto* a = reinterpret_cast<sockaddr*>(&addr);
  EXPECT_EQ(::getsockname(s.fds[0], a, &len), 0);
  int first = -2, second = -2;
  std::thread t([&] {
    struct sockaddr_storage taddr;
    socklen_t tlen = sizeof(taddr);
    first = ::getsockname(s.fds[0], reinterpret_cast<sockaddr*>(&taddr), &tlen);
    second = ::getsockname(s.fds[0], reinterpret_cast<sockaddr*>(&taddr), &tlen);
  });
  t.join();
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, -1);
}

TEST(Counting, AsStraceCountsAForkedChildFromOne) {
  Fds s = SocketPair(SOCK_STREAM);
  ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("getsockname:error=EBADF:when=2:as=strace"));
  struct sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  auto* a = reinterpret_cast<sockaddr*>(&addr);
  EXPECT_EQ(::getsockname(s.fds[0], a, &len), 0);  // the parent's 1st
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const bool first_ok = ::getsockname(s.fds[0], a, &len) == 0;
    const bool second_failed = ::getsockname(s.fds[0], a, &len) == -1;
    ::_exit(first_ok && second_failed ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// ---------------------------------------------------------------------------
// vfork.

TEST(Process, VforkRunsTheChildOnTheCallersStack) {
  pid_t pid = ::vfork();
  if (pid == 0) ::_exit(7);
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

}  // namespace
