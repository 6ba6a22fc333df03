// The echo server's error paths, tested the way a downstream team would:
// the server under test runs on a thread of the test (or, where its death
// is the question, in a forked child), //inject:interpose is linked in so
// that Arm() can fail the libc calls it makes, and the test's own client
// code runs under an ipcfault::Bypass, so the rules reach the server only.
// Each test asserts on what a client received (the exact bytes, or EOF) and
// on the one line the server logged.
//
// This file is also compiled against deliberately broken servers in
// selftest/ (see selftest/BUILD.bazel): the tests that prove a path fail
// there, which //selftest:teeth_test checks.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/examples/echo_server.h"
#include "ipcfault/examples/signal_counter.h"
#include "ipcfault/fixtures/gtest.h"
#include "ipcfault/inject/bypass.h"
#include "ipcfault/inject/faults.h"

namespace {

using ::ipcfault::Arm;
using ::ipcfault::Bypass;
using ::ipcfault::IsOk;
using ::ipcfault::examples::EchoServer;
using ::ipcfault::examples::EchoServerOptions;
using ::ipcfault::examples::SignalCounter;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

const bool kLeakCheck = ipcfault::EnableLeakCheck();

// An absl::StatusOr<std::string> that is OK and holds `value`.
MATCHER_P(IsOkAndHolds, value, "is OK and holds \"" + std::string(value) + "\"") {
  if (!arg.ok()) {
    *result_listener << "which is " << arg.status();
    return false;
  }
  *result_listener << "which holds " << ::testing::PrintToString(*arg);
  return *arg == value;
}

// Upper bound for any wait; a passing test never reaches it.
constexpr absl::Duration kBound = absl::Seconds(10);

// The server under test with Run() on its own thread, collecting its log.
class ServerUnderTest {
 public:
  static std::unique_ptr<ServerUnderTest> Start(EchoServerOptions options) {
    auto self = std::unique_ptr<ServerUnderTest>(new ServerUnderTest);
    ServerUnderTest* raw = self.get();
    options.log = [raw](absl::string_view line) {
      std::lock_guard<std::mutex> lock(raw->mu_);
      raw->log_.emplace_back(line);
    };
    absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Listen(std::move(options));
    EXPECT_THAT(server, IsOk());
    if (!server.ok()) return nullptr;
    self->server_ = *std::move(server);
    self->thread_ = std::thread([raw] {
      absl::Status status = raw->server_->Run();
      std::lock_guard<std::mutex> lock(raw->mu_);
      raw->run_status_ = status;
    });
    return self;
  }
  ~ServerUnderTest() { Stop(); }

  // Stops the server and joins its thread; idempotent. After it, stats()
  // are final.
  void Stop() {
    if (!thread_.joinable()) return;
    server_->Stop();
    thread_.join();
    EXPECT_THAT(run_status_, IsOk());
  }

  EchoServer& server() { return *server_; }
  int port() const { return server_->port(); }
  std::string where() const { return server_->address(); }
  std::vector<std::string> log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

 private:
  ServerUnderTest() = default;
  std::unique_ptr<EchoServer> server_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> log_;
  absl::Status run_status_;
};

// The test's client, outside the faults: every call under a Bypass.
class TestClient {
 public:
  // A blocking connection to 127.0.0.1:`port`.
  static absl::StatusOr<TestClient> Connect(int port) {
    Bypass bypass;
    TestClient client;
    client.fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client.fd_ < 0) return absl::ErrnoToStatus(errno, "socket");
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (connect(client.fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return absl::ErrnoToStatus(errno, "connect");
    }
    return client;
  }
  TestClient(TestClient&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ~TestClient() { Close(); }

  void Close() {
    Bypass bypass;
    if (fd_ >= 0) close(std::exchange(fd_, -1));
  }

  // "127.0.0.1:PORT" of this end, as the server logs its peer.
  std::string where() const {
    sockaddr_in addr = {};
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
  }

  absl::Status Send(absl::string_view data) {
    Bypass bypass;
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::ErrnoToStatus(errno, "send");
      data.remove_prefix(n);
    }
    return absl::OkStatus();
  }

  // Reads up to `size` bytes, until EOF or kBound. Says which ended it.
  absl::StatusOr<std::string> Receive(size_t size) {
    Bypass bypass;
    std::string got;
    absl::Time deadline = absl::Now() + kBound;
    char buffer[4096];
    while (got.size() < size) {
      pollfd p = {fd_, POLLIN, 0};
      int rc = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())));
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) return absl::ErrnoToStatus(errno, "poll");
      if (rc == 0 || absl::Now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat("no echo within ", absl::FormatDuration(kBound),
                                                        " (got ", got.size(), " of ", size,
                                                        " bytes)"));
      }
      ssize_t n = recv(fd_, buffer, std::min(sizeof(buffer), size - got.size()), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::ErrnoToStatus(errno, "recv");
      if (n == 0) return absl::OutOfRangeError(absl::StrCat("EOF after ", got.size(), " bytes"));
      got.append(buffer, n);
    }
    return got;
  }

  absl::StatusOr<std::string> Exchange(absl::string_view data) {
    if (absl::Status s = Send(data); !s.ok()) return s;
    return Receive(data.size());
  }

  // Whether the server sent anything yet (without waiting).
  bool HasData() {
    Bypass bypass;
    pollfd p = {fd_, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  }

 private:
  TestClient() = default;
  int fd_ = -1;
};

EchoServerOptions QuickBackoff() {
  EchoServerOptions options;
  options.accept_backoff = absl::Milliseconds(1);
  return options;
}

// accept() fails once with `error`: the server logs one line (or none, for
// EINTR) and the waiting client, and the next, still get their echoes.
class AcceptFailureTest
    : public ::testing::TestWithParam<std::tuple<const char*, std::string>> {};

TEST_P(AcceptFailureTest, LogsAndKeepsServingTheNextClients) {
  const auto& [error, log_text] = GetParam();
  auto server = ServerUnderTest::Start(QuickBackoff());
  ASSERT_NE(server, nullptr);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm(absl::StrCat("accept:error=", error, ":when=1")));
  {
    IPCFAULT_ASSERT_OK_AND_ASSIGN(TestClient first, TestClient::Connect(server->port()));
    ASSERT_THAT(first.Exchange("first client"), IsOkAndHolds("first client"));
  }
  IPCFAULT_ASSERT_OK_AND_ASSIGN(TestClient next, TestClient::Connect(server->port()));
  EXPECT_THAT(next.Exchange("next client"), IsOkAndHolds("next client"));
  EXPECT_EQ(faults.fired(0), 1u);
  if (log_text.empty()) {
    EXPECT_THAT(server->log(), IsEmpty());
  } else {
    EXPECT_THAT(server->log(),
                ElementsAre(absl::StrCat("accept(", server->where(), "): ", log_text)));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Errnos, AcceptFailureTest,
    ::testing::Values(
        std::make_tuple("EMFILE", "Too many open files [EMFILE]; pausing accept for 1ms"),
        std::make_tuple("ENFILE",
                        "Too many open files in system [ENFILE]; pausing accept for 1ms"),
        std::make_tuple("ECONNABORTED", "Software caused connection abort [ECONNABORTED]"),
        std::make_tuple("EINTR", "")),  // retried without a line
    [](const auto& info) { return std::string(std::get<0>(info.param)); });

TEST(EchoServerFaultsTest, ReadResetEndsThatClientAndServesTheNext) {
  auto server = ServerUnderTest::Start(EchoServerOptions());
  ASSERT_NE(server, nullptr);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("read:error=ECONNRESET:when=1"));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(TestClient reset, TestClient::Connect(server->port()));
  ASSERT_THAT(reset.Send("lost"), IsOk());
  // The server closed this client with "lost" still unread, so the kernel
  // reset the connection: no echo.
  EXPECT_THAT(reset.Receive(4), ipcfault::StatusIs(absl::StatusCode::kUnavailable,
                                                   "recv: Connection reset by peer"));
  EXPECT_THAT(server->log(), ElementsAre(absl::StrCat("read(", reset.where(),
                                                      "): Connection reset by peer "
                                                      "[ECONNRESET]; closed that client")));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(TestClient next, TestClient::Connect(server->port()));
  EXPECT_THAT(next.Exchange("next"), IsOkAndHolds("next"));
  server->Stop();
  EXPECT_EQ(server->server().stats().client_errors, 1);
}

TEST(EchoServerFaultsTest, ReadInterruptedByASignalIsRetried) {
  SignalCounter usr1(SIGUSR1);
  auto server = ServerUnderTest::Start(EchoServerOptions());
  ASSERT_NE(server, nullptr);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("read:signal=SIGUSR1:error=EINTR:when=1"));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(TestClient client, TestClient::Connect(server->port()));
  EXPECT_THAT(client.Exchange("interrupted once"), IsOkAndHolds("interrupted once"));
  EXPECT_EQ(faults.fired(0), 1u);
  EXPECT_EQ(usr1.count(), 1);
  EXPECT_THAT(server->log(), IsEmpty());
}

// Every write() of the server takes at most three bytes: it writes the
// rest, and the client receives every byte, in order.
TEST(EchoServerFaultsTest, ShortWritesStillEchoEveryByte) {
  auto server = ServerUnderTest::Start(EchoServerOptions());
  ASSERT_NE(server, nullptr);
  std::string payload;
  for (int i = 0; i < 3000; ++i) payload.push_back(static_cast<char>((i * 7919) % 256));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("write:short=3"));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(TestClient client, TestClient::Connect(server->port()));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string echo, client.Exchange(payload));
  EXPECT_TRUE(echo == payload) << "the echo differs from the 3000 bytes sent";
  EXPECT_GE(faults.fired(0), 1000u);
  server->Stop();  // the last write's count lands after its bytes arrive
  EXPECT_EQ(server->server().stats().bytes_echoed, 3000);
}

// A real EPIPE: the client sent a message and closed before the server
// read it. The server's first write of the echo draws a reset from the
// closed socket; its second write fails with EPIPE, which raises SIGPIPE
// unless the server ignores it. The server runs in a forked child (a fresh
// process, SIGPIPE at its default) so that dying of SIGPIPE shows in its
// exit status; `write:short=1` makes the echo take several writes.
TEST(EchoServerFaultsTest, WriteToAGoneClientFailsWithEpipeAndTheServerLives) {
  int port_pipe[2];
  int go_pipe[2];
  int log_pipe[2];
  ASSERT_EQ(pipe2(port_pipe, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(go_pipe, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(log_pipe, O_CLOEXEC), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(port_pipe[0]);
    close(go_pipe[1]);
    close(log_pipe[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGPIPE, SIG_DFL);
    const int log_fd = log_pipe[1];
    EchoServer* stop_me = nullptr;
    EchoServerOptions options;
    options.log = [&](absl::string_view line) {
      std::string text = absl::StrCat(line, "\n");
      if (write(log_fd, text.data(), text.size()) < 0) _exit(5);
      stop_me->Stop();  // one line is all this test is after
    };
    absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Listen(options);
    if (!server.ok()) _exit(3);
    stop_me = server->get();
    int port = (*server)->port();
    if (write(port_pipe[1], &port, sizeof(port)) != sizeof(port)) _exit(4);
    char go;
    if (read(go_pipe[0], &go, 1) != 1) _exit(4);
    absl::StatusOr<ipcfault::ScopedFaults> faults = Arm("write:short=1");
    if (!faults.ok()) _exit(6);
    absl::Status run = (*server)->Run();
    _exit(run.ok() && (*server)->stats().client_errors == 1 ? 0 : 7);
  }
  close(port_pipe[1]);
  close(go_pipe[0]);
  close(log_pipe[1]);
  int port = 0;
  ASSERT_EQ(read(port_pipe[0], &port, sizeof(port)), static_cast<ssize_t>(sizeof(port)));
  close(port_pipe[0]);
  {
    // Connect (queued in the backlog), send, and close: gone before the
    // server even accepts.
    IPCFAULT_ASSERT_OK_AND_ASSIGN(TestClient client, TestClient::Connect(port));
    ASSERT_THAT(client.Send("hello, gone"), IsOk());
  }
  ASSERT_EQ(write(go_pipe[1], "g", 1), 1);
  close(go_pipe[1]);
  // The child's log, until it exits (EOF) or kBound.
  std::string log;
  absl::Time deadline = absl::Now() + kBound;
  for (;;) {
    pollfd p = {log_pipe[0], POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      ADD_FAILURE() << "the server child did not end within " << kBound;
      kill(pid, SIGKILL);
      break;
    }
    char buffer[256];
    ssize_t n = read(log_pipe[0], buffer, sizeof(buffer));
    if (n <= 0) break;
    log.append(buffer, n);
  }
  close(log_pipe[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_THAT(status, ipcfault::ExitedWithCode(0));
  EXPECT_THAT(log, MatchesRegex("write\\(127\\.0\\.0\\.1:[0-9]+\\): Broken pipe \\[EPIPE\\]; "
                                "closed that client\n"));
}

// The classic iterative server serves one client to completion: a second
// client is not even accepted while the first stays connected.
TEST(EchoServerFaultsTest, IterativeServerStarvesTheSecondClientBehindTheFirst) {
  auto server = ServerUnderTest::Start(EchoServerOptions());
  ASSERT_NE(server, nullptr);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(TestClient first, TestClient::Connect(server->port()));
  ASSERT_THAT(first.Exchange("first"), IsOkAndHolds("first"));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(TestClient second, TestClient::Connect(server->port()));
  ASSERT_THAT(second.Send("second"), IsOk());
  // A round trip of the first client after the second one sent: the server
  // has been through its loop since, and still has not taken the second.
  ASSERT_THAT(first.Exchange("still first"), IsOkAndHolds("still first"));
  EXPECT_EQ(server->server().stats().accepted, 1);
  EXPECT_FALSE(second.HasData());
  first.Close();  // now the server moves on
  EXPECT_THAT(second.Receive(6), IsOkAndHolds("second"));
  EXPECT_EQ(server->server().stats().accepted, 2);
}

TEST(EchoServerFaultsTest, ConcurrentServerServesTheSecondClientAtOnce) {
  EchoServerOptions options;
  options.concurrent = true;
  auto server = ServerUnderTest::Start(options);
  ASSERT_NE(server, nullptr);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(TestClient first, TestClient::Connect(server->port()));
  ASSERT_THAT(first.Exchange("first"), IsOkAndHolds("first"));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(TestClient second, TestClient::Connect(server->port()));
  // Echoed (within kBound, an upper bound) while the first stays connected.
  EXPECT_THAT(second.Exchange("second"), IsOkAndHolds("second"));
  EXPECT_THAT(first.Exchange("first again"), IsOkAndHolds("first again"));
  EXPECT_EQ(server->server().stats().accepted, 2);
}

}  // namespace
