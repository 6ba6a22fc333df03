#include "ipcfault/examples/echo_server.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/examples/net.h"
#include "ipcfault/examples/test_util.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault::examples {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

EchoServerOptions Iterative() { return EchoServerOptions(); }
EchoServerOptions Concurrent() {
  EchoServerOptions options;
  options.concurrent = true;
  return options;
}

class EchoServerModeTest : public ::testing::TestWithParam<bool> {
 protected:
  EchoServerOptions Options() { return GetParam() ? Concurrent() : Iterative(); }
};

INSTANTIATE_TEST_SUITE_P(Modes, EchoServerModeTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Concurrent" : "Iterative"; });

TEST_P(EchoServerModeTest, EchoesExactlyTheBytesSentThenClosesAtEof) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(Options()));
  // Zeros, every byte value, and more than fits in one read or one socket
  // buffer: a server that echoes its whole buffer, or drops a short write's
  // rest, gets this wrong.
  const std::string payloads[] = {std::string("a\0b\0\0c", 6), BinaryPayload(256, 1),
                                  BinaryPayload(3 << 20, 2)};
  for (const std::string& payload : payloads) {
    IPCFAULT_ASSERT_OK_AND_ASSIGN(UniqueFd fd, ConnectLoopback(server->port()));
    IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string echo, Exchange(fd.get(), payload));
    EXPECT_TRUE(echo == payload) << "echo of " << payload.size() << " bytes differs";
    // Nothing more than what was sent comes back: EOF follows at once.
    ASSERT_EQ(shutdown(fd.get(), SHUT_WR), 0);
    IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string rest, ReadToEof(fd.get()));
    EXPECT_EQ(rest.size(), 0u);
  }
  ASSERT_THAT(server->Stop(), IsOk());
  EchoServerStats stats = server->server().stats();
  EXPECT_EQ(stats.accepted, 3);
  EXPECT_EQ(stats.bytes_echoed, 6 + 256 + (3 << 20));
  EXPECT_EQ(stats.client_errors, 0);
  EXPECT_THAT(server->log_lines(), IsEmpty());
}

TEST_P(EchoServerModeTest, ServesSeveralClientsInARow) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(Options()));
  int64_t total = 0;
  for (int i = 0; i < 5; ++i) {
    std::string message = absl::StrCat("client ", i, std::string(i, '\0'), "!");
    IPCFAULT_ASSERT_OK_AND_ASSIGN(UniqueFd fd, ConnectLoopback(server->port()));
    for (int round = 0; round < 3; ++round) {
      IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string echo, Exchange(fd.get(), message));
      EXPECT_EQ(echo, message);
      total += message.size();
    }
  }
  ASSERT_THAT(server->Stop(), IsOk());
  EXPECT_EQ(server->server().stats().accepted, 5);
  EXPECT_EQ(server->server().stats().bytes_echoed, total);
}

TEST(EchoServerTest, ConcurrentServesClientsAtOnce) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(Concurrent()));
  // All connected before any is done: an iterative server would serve only
  // the first, and the second Exchange would time out.
  std::vector<UniqueFd> fds;
  for (int i = 0; i < 4; ++i) {
    IPCFAULT_ASSERT_OK_AND_ASSIGN(UniqueFd fd, ConnectLoopback(server->port()));
    fds.push_back(std::move(fd));
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 3; i >= 0; --i) {
      std::string message = absl::StrCat("round ", round, " client ", i);
      IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string echo, Exchange(fds[i].get(), message));
      EXPECT_EQ(echo, message);
    }
  }
  EXPECT_EQ(server->server().stats().accepted, 4);
}

TEST(EchoServerTest, IterativeServesOneClientAtATime) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(Iterative()));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(UniqueFd first, ConnectLoopback(server->port()));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string echo, Exchange(first.get(), "first"));
  // The second connects (into the backlog) and sends; the server, busy with
  // the first, has not even accepted it after the first's next round trip.
  IPCFAULT_ASSERT_OK_AND_ASSIGN(UniqueFd second, ConnectLoopback(server->port()));
  ASSERT_EQ(send(second.get(), "second", 6, MSG_NOSIGNAL), 6);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(echo, Exchange(first.get(), "first again"));
  EXPECT_EQ(echo, "first again");
  EXPECT_EQ(server->server().stats().accepted, 1);
  // Once the first is done, the second is served, its early bytes included.
  first.reset();
  IPCFAULT_ASSERT_OK_AND_ASSIGN(echo, ReadExactly(second.get(), 6));
  EXPECT_EQ(echo, "second");
  IPCFAULT_ASSERT_OK_AND_ASSIGN(echo, Exchange(second.get(), "!"));
  EXPECT_EQ(echo, "!");
  EXPECT_EQ(server->server().stats().accepted, 2);
}

TEST(EchoServerTest, ResetByOneClientEndsThatClientOnly) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(Iterative()));
  {
    IPCFAULT_ASSERT_OK_AND_ASSIGN(UniqueFd rude, ConnectLoopback(server->port()));
    // Send until every buffer on the way is full (the server is stuck
    // writing echoes nobody reads), then close with unread data: an RST.
    std::string chunk(65536, 'x');
    while (send(rude.get(), chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL) > 0) {
    }
    ASSERT_EQ(errno, EAGAIN);
    linger abort = {1, 0};
    ASSERT_EQ(setsockopt(rude.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort)), 0);
  }
  IPCFAULT_ASSERT_OK_AND_ASSIGN(UniqueFd polite, ConnectLoopback(server->port()));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string echo, Exchange(polite.get(), "still here"));
  EXPECT_EQ(echo, "still here");
  ASSERT_THAT(server->Stop(), IsOk());
  EXPECT_THAT(server->log_lines(),
              ElementsAre(MatchesRegex("(read|write)\\(127\\.0\\.0\\.1:[0-9]+\\): .* "
                                       "\\[(ECONNRESET|EPIPE)\\]; closed that client")));
  EXPECT_EQ(server->server().stats().client_errors, 1);
  EXPECT_EQ(server->server().stats().accepted, 2);
}

TEST(EchoServerTest, ListenIgnoresSigpipeSoWritesToGonePeersFailWithEpipe) {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  ASSERT_EQ(sigaction(SIGPIPE, &dfl, nullptr), 0);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(Iterative()));
  struct sigaction now = {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, SIG_IGN);
  // What that buys: a write() to a peer that is gone fails, the process lives.
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  close(pair[1]);
  EXPECT_EQ(write(pair[0], "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  close(pair[0]);
}

TEST(EchoServerTest, StopClosesConnectedClientsAndRunReturnsOk) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(Concurrent()));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(UniqueFd fd, ConnectLoopback(server->port()));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string echo, Exchange(fd.get(), "hello"));
  EXPECT_THAT(server->Stop(), IsOk());
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string rest, ReadToEof(fd.get()));
  EXPECT_EQ(rest, "");
  // Stop() again, or before Run(): harmless.
  server->server().Stop();
}

TEST(EchoServerTest, StopBeforeRunMakesRunReturnAtOnce) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, EchoServer::Listen(Iterative()));
  server->Stop();
  EXPECT_THAT(server->Run(), IsOk());
}

TEST(EchoServerTest, ListenReportsTheCallAndAddress) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto first, EchoServer::Listen(Iterative()));
  EchoServerOptions same_port;
  same_port.port = first->port();
  EXPECT_THAT(EchoServer::Listen(same_port),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       absl::StrCat("bind(127.0.0.1:", first->port(),
                                    "): Address already in use [EADDRINUSE]")));
  EchoServerOptions bad_port;
  bad_port.port = 70000;
  EXPECT_THAT(EchoServer::Listen(bad_port),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "port 70000 is out of range 0..65535"));
  EXPECT_THAT(first->address(), absl::StrCat("127.0.0.1:", first->port()));
}

TEST(EchoServerTest, ListensOnIpv6Loopback) {
  EchoServerOptions options;
  options.host = "::1";
  absl::StatusOr<std::unique_ptr<ServerThread>> server = ServerThread::Start(options);
  if (!server.ok() && absl::IsUnavailable(server.status())) {
    GTEST_SKIP() << "no IPv6 loopback here: " << server.status();
  }
  ASSERT_THAT(server.status(), IsOk());
  EXPECT_EQ((*server)->server().address(), absl::StrCat("[::1]:", (*server)->port()));
}

TEST(EchoServerTest, LeaksNoFileDescriptor) {
  int before = CountOpenFds();
  {
    IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(Concurrent()));
    IPCFAULT_ASSERT_OK_AND_ASSIGN(UniqueFd a, ConnectLoopback(server->port()));
    IPCFAULT_ASSERT_OK_AND_ASSIGN(UniqueFd b, ConnectLoopback(server->port()));
    IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string echo, Exchange(a.get(), "a"));
    IPCFAULT_ASSERT_OK_AND_ASSIGN(echo, Exchange(b.get(), "b"));
  }
  EXPECT_EQ(CountOpenFds(), before);
}

}  // namespace
}  // namespace ipcfault::examples
