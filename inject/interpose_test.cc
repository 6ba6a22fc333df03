// Tests of the interposer (//inject:interpose) on real kernel resources:
// every call in the call table fails on demand with each errno its man page
// documents, exactly as libc would report it, and works again on the next
// call; short transfers, signals, filters, Bypass, threads and fork behave
// as DESIGN.md says.

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/bypass.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/faults.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/internal/real_functions.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario.h"
#include "ipcfault/selftest/reach_calls.h"
#include "ipcfault/testing/status_matchers.h"

// glibc 2.36's <sys/pidfd.h> lacks extern "C": declare it here.
extern "C" int pidfd_send_signal(int pidfd, int sig, siginfo_t* info,
                                 unsigned int flags) noexcept;

namespace ipcfault {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// An errno value no call sets, to see that a call leaves errno alone.
constexpr int kErrnoSentinel = 12345;

// error=EPIPE on a write raises SIGPIPE, as the kernel would
// (docs/fidelity.md): like any program that writes to sockets and pipes,
// this one ignores it.
class IgnoreSigpipe : public ::testing::Environment {
 public:
  void SetUp() override {
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGPIPE, &ignore, nullptr);
  }
};
::testing::Environment* const kIgnoreSigpipe =
    ::testing::AddGlobalTestEnvironment(new IgnoreSigpipe);

// Real resources, created and destroyed outside any rule's sight.

struct SocketPair {
  SocketPair() {
    Bypass bypass;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      ADD_FAILURE() << "socketpair: " << strerror(errno);
      return;
    }
    a = sv[0];
    b = sv[1];
  }
  ~SocketPair() {
    Bypass bypass;
    if (a >= 0) close(a);
    if (b >= 0) close(b);
  }
  int a = -1;
  int b = -1;
};

struct Pipe {
  Pipe() {
    Bypass bypass;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << strerror(errno);
      return;
    }
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    Bypass bypass;
    if (read_end >= 0) close(read_end);
    if (write_end >= 0) close(write_end);
  }
  int read_end = -1;
  int write_end = -1;
};

// A TCP listener on 127.0.0.1, ephemeral port.
struct Listener {
  Listener() {
    Bypass bypass;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(fd, 64) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "listener: " << strerror(errno);
      return;
    }
    port = ntohs(addr.sin_port);
  }
  ~Listener() {
    Bypass bypass;
    if (fd >= 0) close(fd);
  }
  sockaddr_in Address() const {
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    return addr;
  }
  int fd = -1;
  int port = 0;
};

// A new TCP socket, not connected.
int NewTcpSocket() {
  Bypass bypass;
  return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

// A client socket connected to `listener` (the connection waits in its
// backlog).
int ConnectTo(const Listener& listener) {
  Bypass bypass;
  int fd = NewTcpSocket();
  sockaddr_in addr = listener.Address();
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect: " << strerror(errno);
  }
  return fd;
}

void CloseAll(std::vector<int>& fds) {
  Bypass bypass;
  for (int fd : fds) close(fd);
  fds.clear();
}

// A forked child that waits to be killed. The destructor kills and reaps it
// whatever happened.
struct WaitingChild {
  WaitingChild() {
    Bypass bypass;
    pid = fork();
    if (pid == 0) {
      for (;;) pause();
    }
  }
  ~WaitingChild() {
    Bypass bypass;
    if (pid > 0) {
      kill(pid, SIGKILL);
      int status;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  pid_t pid = -1;
};

// One call's outcome: its result (a pointer result as 0 or 1), errno (or
// h_errno for gethostbyname) right after it, and whether it did what the
// call does when it succeeds.
struct Outcome {
  int64_t result = 0;
  int error = 0;
  bool succeeded = false;
};

// One interposed call made on real resources, repeatable: Invoke() makes it
// once more. Resources are made (and released) under Bypass, so only the
// call itself is seen by the rules.
class CallUnderTest {
 public:
  virtual ~CallUnderTest() = default;
  virtual Outcome Invoke() = 0;
};

// A CallUnderTest from one lambda, with state captured in `resources`.
class LambdaCall : public CallUnderTest {
 public:
  explicit LambdaCall(std::function<Outcome()> invoke,
                      std::shared_ptr<void> resources = nullptr)
      : invoke_(std::move(invoke)), resources_(std::move(resources)) {}
  Outcome Invoke() override { return invoke_(); }

 private:
  std::function<Outcome()> invoke_;
  std::shared_ptr<void> resources_;
};

// Runs `call` with errno set to the sentinel, and captures errno right after.
template <typename F>
Outcome Run(F call, std::function<bool(int64_t)> succeeded) {
  errno = kErrnoSentinel;
  int64_t result = call();
  int error = errno;
  return {result, error, succeeded(result)};
}

bool IsZero(int64_t r) { return r == 0; }
bool IsFd(int64_t r) { return r >= 0; }

// A socketpair with one byte waiting on `a` before every read.
struct Readable {
  SocketPair pair;
  void Refill() {
    Bypass bypass;
    char x = 'x';
    if (::write(pair.b, &x, 1) != 1) ADD_FAILURE() << "refill";
  }
  void Drain() {
    Bypass bypass;
    char buf[64];
    while (::recv(pair.a, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
    }
  }
};

// Makes a repeatable, real instance of `call`.
std::unique_ptr<CallUnderTest> MakeCall(Call call) {
  switch (call) {
    case Call::kSocket:
      return std::make_unique<LambdaCall>([] {
        Outcome o = Run([] { return socket(AF_INET, SOCK_STREAM, 0); }, IsFd);
        Bypass bypass;
        if (o.result >= 0) close(static_cast<int>(o.result));
        return o;
      });
    case Call::kSocketpair:
      return std::make_unique<LambdaCall>([] {
        int sv[2] = {-1, -1};
        Outcome o =
            Run([&] { return socketpair(AF_UNIX, SOCK_STREAM, 0, sv); }, IsZero);
        Bypass bypass;
        if (o.result == 0) {
          close(sv[0]);
          close(sv[1]);
        }
        return o;
      });
    case Call::kBind:
      return std::make_unique<LambdaCall>([] {
        int fd = NewTcpSocket();
        sockaddr_in addr = {};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        Outcome o = Run(
            [&] {
              return bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
            },
            IsZero);
        Bypass bypass;
        close(fd);
        return o;
      });
    case Call::kListen:
      return std::make_unique<LambdaCall>([] {
        int fd = NewTcpSocket();
        Outcome o = Run([&] { return listen(fd, 1); }, IsZero);
        Bypass bypass;
        close(fd);
        return o;
      });
    case Call::kAccept:
    case Call::kAccept4: {
      auto listener = std::make_shared<Listener>();
      return std::make_unique<LambdaCall>(
          [call, listener] {
            std::vector<int> fds = {ConnectTo(*listener)};
            Outcome o = Run(
                [&] {
                  return call == Call::kAccept
                             ? accept(listener->fd, nullptr, nullptr)
                             : accept4(listener->fd, nullptr, nullptr,
                                       SOCK_CLOEXEC);
                },
                IsFd);
            if (o.result >= 0) fds.push_back(static_cast<int>(o.result));
            CloseAll(fds);
            return o;
          },
          listener);
    }
    case Call::kConnect: {
      auto listener = std::make_shared<Listener>();
      return std::make_unique<LambdaCall>(
          [listener] {
            int fd = NewTcpSocket();
            sockaddr_in addr = listener->Address();
            Outcome o = Run(
                [&] {
                  return connect(fd, reinterpret_cast<sockaddr*>(&addr),
                                 sizeof(addr));
                },
                IsZero);
            Bypass bypass;
            close(fd);
            return o;
          },
          listener);
    }
    case Call::kRead:
    case Call::kReadv:
    case Call::kRecv:
    case Call::kRecvfrom:
    case Call::kRecvmsg: {
      auto readable = std::make_shared<Readable>();
      return std::make_unique<LambdaCall>(
          [call, readable] {
            readable->Drain();
            readable->Refill();
            int fd = readable->pair.a;
            char buf[8] = {};
            iovec iov = {buf, sizeof(buf)};
            msghdr msg = {};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            auto got_byte = [&](int64_t r) { return r == 1 && buf[0] == 'x'; };
            switch (call) {
              case Call::kRead:
                return Run([&] { return read(fd, buf, sizeof(buf)); }, got_byte);
              case Call::kReadv:
                return Run([&] { return readv(fd, &iov, 1); }, got_byte);
              case Call::kRecv:
                return Run([&] { return recv(fd, buf, sizeof(buf), 0); },
                           got_byte);
              case Call::kRecvfrom:
                return Run(
                    [&] {
                      return recvfrom(fd, buf, sizeof(buf), 0, nullptr,
                                      nullptr);
                    },
                    got_byte);
              default:
                return Run([&] { return recvmsg(fd, &msg, 0); }, got_byte);
            }
          },
          readable);
    }
    case Call::kWrite:
    case Call::kWritev:
    case Call::kSend:
    case Call::kSendto:
    case Call::kSendmsg: {
      auto readable = std::make_shared<Readable>();
      return std::make_unique<LambdaCall>(
          [call, readable] {
            readable->Drain();
            int fd = readable->pair.b;
            char byte = 'y';
            iovec iov = {&byte, 1};
            msghdr msg = {};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            auto sent_byte = [](int64_t r) { return r == 1; };
            switch (call) {
              case Call::kWrite:
                return Run([&] { return write(fd, &byte, 1); }, sent_byte);
              case Call::kWritev:
                return Run([&] { return writev(fd, &iov, 1); }, sent_byte);
              case Call::kSend:
                return Run([&] { return send(fd, &byte, 1, 0); }, sent_byte);
              case Call::kSendto:
                return Run([&] { return sendto(fd, &byte, 1, 0, nullptr, 0); },
                           sent_byte);
              default:
                return Run([&] { return sendmsg(fd, &msg, 0); }, sent_byte);
            }
          },
          readable);
    }
    case Call::kShutdown:
      return std::make_unique<LambdaCall>([] {
        SocketPair pair;
        return Run([&] { return shutdown(pair.a, SHUT_WR); }, IsZero);
      });
    case Call::kClose:
      return std::make_unique<LambdaCall>([] {
        int fd = NewTcpSocket();
        Outcome o = Run([&] { return close(fd); }, IsZero);
        Bypass bypass;
        // Failed or not, the descriptor is released, as the kernel does.
        if (fcntl(fd, F_GETFD) != -1) {
          ADD_FAILURE() << "close left fd " << fd << " open";
          close(fd);
        }
        return o;
      });
    case Call::kPoll: {
      auto readable = std::make_shared<Readable>();
      readable->Refill();
      return std::make_unique<LambdaCall>(
          [readable] {
            pollfd fds[1] = {{readable->pair.a, POLLIN, 0}};
            return Run([&] { return poll(fds, 1, 0); },
                       [&](int64_t r) {
                         return r == 1 && (fds[0].revents & POLLIN) != 0;
                       });
          },
          readable);
    }
    case Call::kEpollWait: {
      struct Epoll {
        Readable readable;
        int epfd = -1;
        ~Epoll() {
          Bypass bypass;
          close(epfd);
        }
      };
      auto epoll = std::make_shared<Epoll>();
      epoll->readable.Refill();
      epoll->epfd = epoll_create1(EPOLL_CLOEXEC);
      epoll_event event = {};
      event.events = EPOLLIN;
      event.data.fd = epoll->readable.pair.a;
      EXPECT_EQ(
          epoll_ctl(epoll->epfd, EPOLL_CTL_ADD, epoll->readable.pair.a, &event),
          0);
      return std::make_unique<LambdaCall>(
          [epoll] {
            epoll_event out[1] = {};
            return Run([&] { return epoll_wait(epoll->epfd, out, 1, 0); },
                       [&](int64_t r) {
                         return r == 1 &&
                                out[0].data.fd == epoll->readable.pair.a;
                       });
          },
          epoll);
    }
    case Call::kGetaddrinfo:
      return std::make_unique<LambdaCall>([] {
        addrinfo hints = {};
        hints.ai_family = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
        addrinfo* res = nullptr;
        errno = kErrnoSentinel;
        int result = getaddrinfo("127.0.0.1", "80", &hints, &res);
        Outcome o = {result, errno, false};
        if (result == 0) {
          o.succeeded =
              res != nullptr && res->ai_family == AF_INET &&
              ntohs(reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_port) ==
                  80;
          freeaddrinfo(res);
        }
        return o;
      });
    case Call::kGethostbyname:
      return std::make_unique<LambdaCall>([] {
        h_errno = 0;
        hostent* host = gethostbyname("127.0.0.1");
        Outcome o = {host != nullptr ? 1 : 0, h_errno, false};
        o.succeeded = host != nullptr && host->h_addrtype == AF_INET &&
                      host->h_addr_list[0] != nullptr &&
                      memcmp(host->h_addr_list[0], "\x7f\0\0\x01", 4) == 0;
        return o;
      });
    case Call::kKill: {
      auto child = std::make_shared<WaitingChild>();
      return std::make_unique<LambdaCall>(
          [child] { return Run([&] { return kill(child->pid, 0); }, IsZero); },
          child);
    }
    case Call::kRaise:
      // SIGURG's default action is to ignore it: raising it is harmless.
      return std::make_unique<LambdaCall>(
          [] { return Run([] { return raise(SIGURG); }, IsZero); });
    case Call::kPthreadKill:
      return std::make_unique<LambdaCall>([] {
        return Run([] { return pthread_kill(pthread_self(), SIGURG); }, IsZero);
      });
    case Call::kPidfdSendSignal: {
      struct ChildPidfd {
        WaitingChild child;
        int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child.pid, 0));
        ~ChildPidfd() {
          Bypass bypass;
          close(pidfd);
        }
      };
      auto target = std::make_shared<ChildPidfd>();
      return std::make_unique<LambdaCall>(
          [target] {
            return Run(
                [&] {
                  return pidfd_send_signal(target->pidfd, 0, nullptr, 0);
                },
                IsZero);
          },
          target);
    }
    case Call::kSigaction:
      return std::make_unique<LambdaCall>([] {
        struct sigaction old = {};
        return Run([&] { return sigaction(SIGURG, nullptr, &old); }, IsZero);
      });
    case Call::kSigprocmask:
      return std::make_unique<LambdaCall>([] {
        sigset_t old;
        return Run([&] { return sigprocmask(SIG_BLOCK, nullptr, &old); },
                   IsZero);
      });
    case Call::kFork:
      return std::make_unique<LambdaCall>([] {
        Outcome o = Run(
            [] {
              pid_t pid = fork();
              if (pid == 0) _exit(0);
              return pid;
            },
            [](int64_t r) { return r > 0; });
        if (o.result > 0) {
          Bypass bypass;
          int status = 0;
          EXPECT_EQ(waitpid(static_cast<pid_t>(o.result), &status, 0),
                    o.result);
          EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        return o;
      });
    case Call::kWaitpid: {
      struct ExitedChild {
        pid_t pid;
        bool reaped = false;
        ~ExitedChild() {
          Bypass bypass;
          if (!reaped) waitpid(pid, nullptr, 0);
        }
      };
      auto child = std::make_shared<ExitedChild>();
      {
        Bypass bypass;
        child->pid = fork();
        if (child->pid == 0) _exit(7);
      }
      return std::make_unique<LambdaCall>(
          [child] {
            int status = 0;
            Outcome o = Run([&] { return waitpid(child->pid, &status, 0); },
                            [&](int64_t r) {
                              return r == child->pid && WIFEXITED(status) &&
                                     WEXITSTATUS(status) == 7;
                            });
            if (o.succeeded) child->reaped = true;
            return o;
          },
          child);
    }
    default:
      break;
  }
  // The calls issue 12 added: made by selftest/reach_calls.cc, on real
  // resources of their own (selftest/reach_test checks each one's every
  // documented error; here each runs without rules, and with a rule on
  // another call).
  const ipcfault_selftest::ReachCall* reach = ipcfault_selftest::FindReachCall(std::string(CallName(call)));
  if (reach == nullptr) return nullptr;
  return std::make_unique<LambdaCall>([reach] {
    errno = kErrnoSentinel;
    const ipcfault_selftest::ReachOutcome o = reach->make();
    return Outcome{o.ret, o.err, reach->succeeded(o)};
  });
}

// Whether MakeCall makes `call` itself (the calls before issue 12), rather
// than through selftest/reach_calls.cc, whose own test fails every error.
bool MadeHere(Call call) {
  return ipcfault_selftest::FindReachCall(std::string(CallName(call))) == nullptr;
}

struct ErrorRow {
  Call call;
  int error;
};

std::vector<ErrorRow> EveryDocumentedError() {
  std::vector<ErrorRow> rows;
  for (const CallInfo& info : AllCalls()) {
    if (!MadeHere(info.call)) continue;  // selftest/reach_test fails these
    for (int error : info.errors) rows.push_back({info.call, error});
  }
  return rows;
}

class DocumentedErrorTest : public ::testing::TestWithParam<ErrorRow> {};

// CALL:error=E:when=1 fails the first call with exactly libc's failure
// (return value and errno), the next call succeeds, and the fire is recorded.
TEST_P(DocumentedErrorTest, FailsOnceThenSucceeds) {
  const ErrorRow& row = GetParam();
  const CallInfo& info = GetCallInfo(row.call);
  std::unique_ptr<CallUnderTest> call = MakeCall(row.call);
  ASSERT_NE(call, nullptr);

  const std::string scenario = absl::StrCat(
      info.name, ":error=", ErrorName(row.call, row.error), ":when=1");
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults, Arm(scenario));
  Outcome failed = call->Invoke();
  switch (info.failure) {
    case FailureStyle::kMinusOneErrno:
    case FailureStyle::kNonzeroErrno:
      EXPECT_EQ(failed.result, -1);
      EXPECT_EQ(failed.error, row.error)
          << strerrorname_np(failed.error) << " instead of "
          << ErrorName(row.call, row.error);
      break;
    case FailureStyle::kReturnsErrno:
      EXPECT_EQ(failed.result, row.error);
      EXPECT_EQ(failed.error, kErrnoSentinel) << "errno must not change";
      break;
    case FailureStyle::kEaiCode:
      EXPECT_EQ(failed.result, row.error);
      if (row.error == EAI_SYSTEM) {
        EXPECT_EQ(failed.error, EIO) << "EAI_SYSTEM comes with errno EIO";
      }
      break;
    case FailureStyle::kNullHErrno:
      EXPECT_EQ(failed.result, 0) << "gethostbyname must return NULL";
      EXPECT_EQ(failed.error, row.error) << "h_errno";
      break;
    case FailureStyle::kSigErrErrno:
    case FailureStyle::kCannotFail:
      ADD_FAILURE() << "signal and alarm are made by selftest/reach_calls.cc";
      break;
  }

  Outcome next = call->Invoke();
  EXPECT_TRUE(next.succeeded) << "result " << next.result << ", errno "
                              << next.error;
  if (info.failure == FailureStyle::kMinusOneErrno ||
      info.failure == FailureStyle::kNonzeroErrno ||
      info.failure == FailureStyle::kReturnsErrno) {
    EXPECT_EQ(next.error, kErrnoSentinel)
        << "a call that is not injected must leave errno alone";
  }

  EXPECT_EQ(faults.matched(0), 2u);
  EXPECT_EQ(faults.fired(0), 1u);
  std::vector<FaultRecord> records = faults.records();
  ASSERT_THAT(records, SizeIs(1));
  EXPECT_EQ(records[0].call, row.call);
  EXPECT_EQ(records[0].rule, 0u);
  EXPECT_EQ(records[0].action, Action::kError);
  EXPECT_EQ(records[0].error, row.error);
  EXPECT_EQ(records[0].ordinal, 1u);
  EXPECT_EQ(records[0].tid, static_cast<pid_t>(syscall(SYS_gettid)));
}

INSTANTIATE_TEST_SUITE_P(
    EveryCall, DocumentedErrorTest,
    ::testing::ValuesIn(EveryDocumentedError()),
    [](const ::testing::TestParamInfo<ErrorRow>& info) {
      return absl::StrCat(CallName(info.param.call), "_",
                          ErrorName(info.param.call, info.param.error));
    });

// Every call in the table has a row above: nothing is left unwrapped.
TEST(DocumentedErrorTableTest, EveryCallHasAnInstanceAndErrors) {
  for (const CallInfo& info : AllCalls()) {
    EXPECT_NE(MakeCall(info.call), nullptr) << info.name;
    EXPECT_EQ(info.errors.empty(), info.failure == FailureStyle::kCannotFail) << info.name;
  }
}

class CallWithoutRulesTest : public ::testing::TestWithParam<Call> {};

// With nothing armed, and with a rule armed on another call, each call
// works and leaves errno alone.
TEST_P(CallWithoutRulesTest, WorksAndKeepsErrno) {
  ASSERT_FALSE(inject_internal::AnythingArmed());
  Outcome plain = MakeCall(GetParam())->Invoke();
  EXPECT_TRUE(plain.succeeded);
  Call other = GetParam() == Call::kConnect ? Call::kBind : Call::kConnect;
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(other).Error(EPERM)));
  Outcome slow = MakeCall(GetParam())->Invoke();
  EXPECT_TRUE(slow.succeeded);
  const FailureStyle style = GetCallInfo(GetParam()).failure;
  // sigsuspend succeeds as it always returns: -1 and EINTR.
  const bool returns_eintr = GetParam() == Call::kSigsuspend;
  // glibc's posix_spawnp tries each $PATH directory in a child that shares
  // the caller's memory, errno included: libc's own, interposed or not.
  const bool libc_sets_errno = GetParam() == Call::kPosixSpawnp;
  if (style != FailureStyle::kEaiCode && style != FailureStyle::kNullHErrno &&
      !returns_eintr && !libc_sets_errno) {
    EXPECT_EQ(plain.error, kErrnoSentinel);
    EXPECT_EQ(slow.error, kErrnoSentinel);
  }
  EXPECT_EQ(faults.matched(0), 0u);
}

std::vector<Call> EveryCall() {
  std::vector<Call> calls;
  for (const CallInfo& info : AllCalls()) {
    // pause returns only when a signal interrupts it: no run without rules.
    if (info.call == Call::kPause) continue;
    calls.push_back(info.call);
  }
  return calls;
}

INSTANTIATE_TEST_SUITE_P(EveryCall, CallWithoutRulesTest,
                         ::testing::ValuesIn(EveryCall()),
                         [](const ::testing::TestParamInfo<Call>& info) {
                           return std::string(CallName(info.param));
                         });

// Reads everything available on `fd` now (non-blocking), bypassing rules.
std::string DrainNow(int fd) {
  Bypass bypass;
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) out.append(buf, n);
  return out;
}

void SendAll(int fd, absl::string_view data) {
  Bypass bypass;
  ASSERT_EQ(send(fd, data.data(), data.size(), 0),
            static_cast<ssize_t>(data.size()));
}

TEST(ShortTransferTest, ShortReadLeavesTheRestQueued) {
  SocketPair pair;
  SendAll(pair.b, "hello world");
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults, Arm("read:short=3:when=1"));
  char buf[64];
  ASSERT_EQ(read(pair.a, buf, sizeof(buf)), 3);
  EXPECT_EQ(std::string(buf, 3), "hel");
  ASSERT_EQ(read(pair.a, buf, sizeof(buf)), 8);
  EXPECT_EQ(std::string(buf, 8), "lo world");
  EXPECT_THAT(faults.records(),
              ElementsAre(Field(&FaultRecord::action, Action::kShort)));
}

TEST(ShortTransferTest, ShortRecvAndRecvfrom) {
  SocketPair pair;
  SendAll(pair.b, "abcdef");
  ASSERT_OK_AND_ASSIGN(
      ScopedFaults faults,
      Arm(Fault(Call::kRecv).Or(Call::kRecvfrom).Short(2).When(1, 2)));
  char buf[16];
  ASSERT_EQ(recv(pair.a, buf, sizeof(buf), 0), 2);
  EXPECT_EQ(std::string(buf, 2), "ab");
  ASSERT_EQ(recvfrom(pair.a, buf, sizeof(buf), 0, nullptr, nullptr), 2);
  EXPECT_EQ(std::string(buf, 2), "cd");
  ASSERT_EQ(recv(pair.a, buf, sizeof(buf), 0), 2);
  EXPECT_EQ(std::string(buf, 2), "ef");
}

TEST(ShortTransferTest, ShortWritevTrimsACopyOfTheIovecs) {
  SocketPair pair;
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kWritev).Short(6).When(1)));
  char a[] = "abcd", b[] = "efgh", c[] = "ijkl";
  iovec iov[3] = {{a, 4}, {b, 4}, {c, 4}};
  ASSERT_EQ(writev(pair.a, iov, 3), 6);
  EXPECT_EQ(DrainNow(pair.b), "abcdef");
  EXPECT_EQ(iov[1].iov_len, 4u) << "the caller's iovecs are not changed";
  EXPECT_EQ(iov[2].iov_len, 4u);
  ASSERT_EQ(writev(pair.a, iov, 3), 12);
  EXPECT_EQ(DrainNow(pair.b), "abcdefghijkl");
}

TEST(ShortTransferTest, ShortReadvAndRecvmsg) {
  SocketPair pair;
  SendAll(pair.b, "0123456789");
  ASSERT_OK_AND_ASSIGN(
      ScopedFaults faults,
      Arm(Fault(Call::kReadv).Or(Call::kRecvmsg).Short(3).When(1, 2)));
  char x[2], y[8];
  iovec iov[2] = {{x, sizeof(x)}, {y, sizeof(y)}};
  ASSERT_EQ(readv(pair.a, iov, 2), 3);
  EXPECT_EQ(std::string(x, 2) + std::string(y, 1), "012");
  EXPECT_EQ(iov[1].iov_len, sizeof(y));
  msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  ASSERT_EQ(recvmsg(pair.a, &msg, 0), 3);
  EXPECT_EQ(std::string(x, 2) + std::string(y, 1), "345");
  EXPECT_EQ(msg.msg_iov, iov) << "the caller's msghdr keeps its iovecs";
  EXPECT_EQ(msg.msg_flags, 0);
  EXPECT_EQ(DrainNow(pair.a), "6789");
}

TEST(ShortTransferTest, ShortSendmsgAndSendto) {
  SocketPair pair;
  ASSERT_OK_AND_ASSIGN(
      ScopedFaults faults,
      Arm(Fault(Call::kSendmsg).Or(Call::kSendto).Or(Call::kSend).Short(1)));
  char data[] = "xyz";
  iovec iov = {data, 3};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  EXPECT_EQ(sendmsg(pair.a, &msg, 0), 1);
  EXPECT_EQ(sendto(pair.a, data + 1, 2, 0, nullptr, 0), 1);
  EXPECT_EQ(send(pair.a, data + 2, 1, 0), 1);
  EXPECT_EQ(DrainNow(pair.b), "xyz");
  EXPECT_EQ(faults.fired(0), 3u);
}

// Three rules, one a line, compose into a sequence on one call.
TEST(SequenceTest, WriteShortThenEagainThenEintrThenSuccess) {
  SocketPair pair;
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm("write:short=3:when=1\n"
                           "write:error=EAGAIN:when=2\n"
                           "write:error=EINTR:when=3\n"));
  const char kData[] = "abcdefgh";
  EXPECT_EQ(write(pair.a, kData, 8), 3);
  errno = 0;
  EXPECT_EQ(write(pair.a, kData, 8), -1);
  EXPECT_EQ(errno, EAGAIN);
  errno = 0;
  EXPECT_EQ(write(pair.a, kData, 8), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(write(pair.a, kData, 8), 8);
  EXPECT_EQ(DrainNow(pair.b), "abcabcdefgh");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(faults.matched(i), 4u);
    EXPECT_EQ(faults.fired(i), 1u);
  }
}

volatile sig_atomic_t usr1_count = 0;
void CountUsr1(int) { usr1_count = usr1_count + 1; }

// Installs `handler` for `sig` (no SA_RESTART) and restores the old one.
class ScopedHandler {
 public:
  ScopedHandler(int sig, void (*handler)(int)) : sig_(sig) {
    Bypass bypass;
    struct sigaction action = {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    EXPECT_EQ(sigaction(sig, &action, &old_), 0);
  }
  ~ScopedHandler() {
    Bypass bypass;
    sigaction(sig_, &old_, nullptr);
  }

 private:
  int sig_;
  struct sigaction old_ = {};
};

TEST(SignalTest, SignalWithEintrRunsTheHandlerThenFails) {
  ScopedHandler handler(SIGUSR1, CountUsr1);
  usr1_count = 0;
  SocketPair pair;
  ASSERT_OK_AND_ASSIGN(
      ScopedFaults faults,
      Arm("read:signal=SIGUSR1:error=EINTR:when=1"));
  char buf[4];
  errno = 0;
  EXPECT_EQ(read(pair.a, buf, sizeof(buf)), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(usr1_count, 1) << "the handler ran before the call returned";
}

TEST(SignalTest, SignalAloneRunsTheHandlerAndTheRealCall) {
  ScopedHandler handler(SIGUSR1, CountUsr1);
  usr1_count = 0;
  SocketPair pair;
  SendAll(pair.b, "hi");
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kRecv).Signal(SIGUSR1).When(1)));
  char buf[4];
  EXPECT_EQ(recv(pair.a, buf, sizeof(buf), 0), 2);
  EXPECT_EQ(usr1_count, 1);
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST(RetvalTest, ReturnsWithoutCalling) {
  WaitingChild child;
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kKill).Retval(0).When(1)));
  // SIGKILL, but the call is not made: the child lives on.
  EXPECT_EQ(kill(child.pid, SIGKILL), 0);
  int status;
  Bypass bypass;
  EXPECT_EQ(waitpid(child.pid, &status, WNOHANG), 0) << "the child is alive";
}

TEST(DelayTest, DelaysForwardTheCallAndKeepErrno) {
  SocketPair pair;
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kWrite)
                               .DelayEnter(absl::Milliseconds(1))
                               .DelayExit(absl::Milliseconds(1))));
  errno = kErrnoSentinel;
  EXPECT_EQ(write(pair.a, "abc", 3), 3);
  EXPECT_EQ(errno, kErrnoSentinel);
  EXPECT_EQ(DrainNow(pair.b), "abc");
  EXPECT_EQ(faults.fired(0), 1u);
}

// The default filter of the read/write family is fd=socket: pipes and the
// test runner's stdout are left alone.
TEST(FdFilterTest, DefaultSocketFilterLeavesPipesAndStdoutAlone) {
  SocketPair pair;
  Pipe pipe;
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults, Arm("write:error=EIO"));
  EXPECT_EQ(write(pipe.write_end, "p", 1), 1);
  const char kLine[] = "[ ipcfault ] stdout is not a socket\n";
  EXPECT_EQ(write(STDOUT_FILENO, kLine, sizeof(kLine) - 1),
            static_cast<ssize_t>(sizeof(kLine) - 1));
  errno = 0;
  EXPECT_EQ(write(pair.a, "s", 1), -1);
  EXPECT_EQ(errno, EIO);
  EXPECT_EQ(faults.matched(0), 1u) << "only the socket write matched";
}

TEST(FdFilterTest, ExplicitSocketFilterLeavesPipesAlone) {
  SocketPair pair;
  Pipe pipe;
  ASSERT_OK_AND_ASSIGN(
      ScopedFaults faults,
      Arm("read:error=EIO:fd=socket"));
  {
    Bypass bypass;
    ASSERT_EQ(write(pipe.write_end, "p", 1), 1);
  }
  char c;
  EXPECT_EQ(read(pipe.read_end, &c, 1), 1);
  EXPECT_EQ(c, 'p');
  EXPECT_EQ(read(pair.a, &c, 1), -1);
  EXPECT_EQ(faults.matched(0), 1u);
}

TEST(FdFilterTest, PipeFilterHitsOnlyPipes) {
  SocketPair pair;
  Pipe pipe;
  ASSERT_OK_AND_ASSIGN(
      ScopedFaults faults,
      Arm(Fault(Call::kWrite).Error(EPIPE).OnFdKind(FdFilter::Kind::kPipe)));
  EXPECT_EQ(write(pair.a, "s", 1), 1);
  errno = 0;
  EXPECT_EQ(write(pipe.write_end, "p", 1), -1);
  EXPECT_EQ(errno, EPIPE);
}

// The gtest runner's own output goes on while every write on a socket fails.
TEST(FdFilterTest, TestRunnerOutputIsUnaffected) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults, Arm("write:error=EIO"));
  std::printf("[ ipcfault ] printf still works\n");
  ASSERT_EQ(std::fflush(stdout), 0);
  const char kLine[] = "[ ipcfault ] so does write(2) to stderr\n";
  EXPECT_EQ(write(STDERR_FILENO, kLine, sizeof(kLine) - 1),
            static_cast<ssize_t>(sizeof(kLine) - 1));
  EXPECT_EQ(faults.matched(0), 0u);
  SUCCEED() << "and gtest reports this test";
}

TEST(PortFilterTest, HitsOnlyTheMatchingConnection) {
  Listener target, other;
  ASSERT_OK_AND_ASSIGN(
      ScopedFaults faults,
      Arm(absl::StrCat("connect:error=ECONNREFUSED:port=", target.port)));
  std::vector<int> fds = {NewTcpSocket(), NewTcpSocket()};
  sockaddr_in other_addr = other.Address();
  EXPECT_EQ(connect(fds[0], reinterpret_cast<sockaddr*>(&other_addr),
                    sizeof(other_addr)),
            0);
  sockaddr_in target_addr = target.Address();
  errno = 0;
  EXPECT_EQ(connect(fds[1], reinterpret_cast<sockaddr*>(&target_addr),
                    sizeof(target_addr)),
            -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_EQ(faults.matched(0), 1u);
  CloseAll(fds);
}

TEST(PortFilterTest, MatchesThePeerPortOfAConnectedSocket) {
  Listener target, other;
  std::vector<int> fds = {ConnectTo(target), ConnectTo(other)};
  ASSERT_OK_AND_ASSIGN(
      ScopedFaults faults,
      Arm(Fault(Call::kSend).Error(ECONNRESET).OnPort(target.port)));
  EXPECT_EQ(send(fds[1], "x", 1, 0), 1);
  errno = 0;
  EXPECT_EQ(send(fds[0], "x", 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  CloseAll(fds);
}

// These two run in order: a rule armed in one test is gone in the next.
TEST(ScopeTest, ArmsARuleAndLeavesItInScope) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kSocket).Error(EMFILE)));
  errno = 0;
  EXPECT_EQ(socket(AF_INET, SOCK_STREAM, 0), -1);
  EXPECT_EQ(errno, EMFILE);
}

TEST(ScopeTest, TheRuleOfThePreviousTestIsGone) {
  EXPECT_FALSE(inject_internal::AnythingArmed());
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  close(fd);
}

TEST(BypassTest, NothingIsInjectedUnderBypass) {
  SocketPair pair;
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kWrite).Error(EIO)));
  {
    Bypass bypass;
    EXPECT_EQ(write(pair.a, "a", 1), 1);
  }
  EXPECT_EQ(faults.matched(0), 0u);
  EXPECT_EQ(write(pair.a, "b", 1), -1);
  EXPECT_EQ(DrainNow(pair.b), "a");
}

int handler_fd = -1;
volatile sig_atomic_t handler_result = 0;
volatile sig_atomic_t handler_errno = 0;
void WriteFromHandler(int) {
  int saved = errno;
  handler_result = static_cast<sig_atomic_t>(write(handler_fd, "h", 1));
  handler_errno = errno;
  errno = saved;
}

TEST(SignalHandlerTest, InjectsIntoAWriteInASignalHandler) {
  SocketPair pair;
  handler_fd = pair.a;
  ScopedHandler handler(SIGUSR2, WriteFromHandler);
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kWrite).Error(EPIPE).When(1)));
  handler_result = 0;
  ASSERT_EQ(raise(SIGUSR2), 0);
  EXPECT_EQ(handler_result, -1);
  EXPECT_EQ(handler_errno, EPIPE);
  ASSERT_EQ(raise(SIGUSR2), 0);
  EXPECT_EQ(handler_result, 1);
  EXPECT_EQ(DrainNow(pair.b), "h");
}

TEST(ThreadsTest, ManyThreadsCountEveryCallOnce) {
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 500;
  // Every other write fails, counted over the whole process.
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kWrite).Error(EAGAIN).Every(1, 2)));
  std::atomic<int> failures{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      SocketPair pair;
      for (int i = 0; i < kWritesPerThread; ++i) {
        errno = 0;
        ssize_t n = write(pair.a, "t", 1);
        if (n == -1 && errno == EAGAIN) {
          ++failures;
        } else if (n != 1 || DrainNow(pair.b) != "t") {
          ++bad;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(faults.matched(0), uint64_t{kThreads * kWritesPerThread});
  EXPECT_EQ(failures.load(), kThreads * kWritesPerThread / 2);
  EXPECT_EQ(faults.fired(0), uint64_t{kThreads * kWritesPerThread / 2});
}

// After fork the child keeps the parent's rules and counts.
TEST(ForkTest, ChildKeepsRulesAndCounts) {
  Listener listener;
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kConnect).Error(ECONNREFUSED).When(2)));
  sockaddr_in addr = listener.Address();
  std::vector<int> fds = {NewTcpSocket(), NewTcpSocket()};
  ASSERT_EQ(connect(fds[0], reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child's first connect is the rule's second matching call.
    int r = connect(fds[1], reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    _exit(r == -1 && errno == ECONNREFUSED ? 0 : 1);
  }
  int status = 0;
  {
    Bypass bypass;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
  }
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's connect was not refused";
  CloseAll(fds);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Our `read` hides the sanitizer's; the real function it forwards to is the
// sanitizer's interceptor, so ASan and TSan still see every call.
TEST(SanitizerTest, RealFunctionsAreTheSanitizerInterceptors) {
  void* interceptor = dlsym(RTLD_DEFAULT, "__interceptor_read");
  ASSERT_NE(interceptor, nullptr);
  EXPECT_EQ(reinterpret_cast<void*>(inject_internal::real.read.get()),
            interceptor);
}
#endif

#if defined(__SANITIZE_ADDRESS__)
TEST(SanitizerDeathTest, AsanStillChecksTheBufferOfAnInterposedRead) {
  SocketPair pair;
  SendAll(pair.b, "0123456789abcdef");
  EXPECT_DEATH(
      {
        auto* small = new char[4];
        ssize_t n = read(pair.a, small, 16);
        delete[] small;
        std::printf("read %zd\n", n);
      },
      "heap-buffer-overflow");
}
#endif

}  // namespace
}  // namespace ipcfault
