#include "ipcfault/examples/echo_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/examples/echo_server.h"
#include "ipcfault/examples/errors.h"
#include "ipcfault/examples/net.h"
#include "ipcfault/examples/test_util.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault::examples {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::MatchesRegex;

// A listening socket on 127.0.0.1 that the test drives by hand, to play a
// misbehaving server.
struct Listener {
  UniqueFd fd;
  int port = 0;
};

Listener ListenLoopback(bool listen_too = true) {
  Listener l;
  l.fd.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(l.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  l.port = ntohs(addr.sin_port);
  if (listen_too) {
    EXPECT_EQ(listen(l.fd.get(), 4), 0);
  }
  return l;
}

// Runs `client` against a server thread that accepts one connection, reads
// `expect` bytes and then does `reply` to the connected fd.
template <typename Reply>
absl::Status AgainstFakeServer(size_t expect, Reply reply, EchoClientOptions options) {
  Listener l = ListenLoopback();
  std::thread server([&] {
    UniqueFd conn(accept(l.fd.get(), nullptr, nullptr));
    ASSERT_TRUE(conn.valid());
    IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string got, ReadExactly(conn.get(), expect));
    reply(conn.get(), got);
  });
  options.port = l.port;
  absl::Status status = RunEchoClient(options, nullptr);
  server.join();
  return status;
}

EchoClientOptions OneTitle(absl::string_view title) {
  EchoClientOptions options;
  options.titles = {std::string(title)};
  return options;
}

TEST(EchoClientTest, EchoesTheThreeTitles) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(EchoServerOptions()));
  EchoClientOptions options;
  options.port = server->port();
  std::vector<std::string> echoes;
  ASSERT_THAT(RunEchoClient(options, [&](absl::string_view e) { echoes.emplace_back(e); }),
              IsOk());
  EXPECT_THAT(echoes,
              ElementsAre("War and Peace", "Pride and Prejudice", "The Sound and the Fury"));
  ASSERT_THAT(server->Stop(), IsOk());
  EXPECT_EQ(server->server().stats().bytes_echoed, 13 + 19 + 22);
}

TEST(EchoClientTest, EchoesBinaryAndLargeTitlesByteForByte) {
  EchoServerOptions server_options;
  server_options.concurrent = true;
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(server_options));
  EchoClientOptions options;
  options.port = server->port();
  // A 2 MiB title does not fit any socket buffer: the client must poll for
  // POLLOUT, and reassemble the echo from many short reads.
  options.titles = {std::string("nul\0inside", 10), "", BinaryPayload(2 << 20, 3), "end"};
  std::vector<std::string> echoes;
  ASSERT_THAT(RunEchoClient(options, [&](absl::string_view e) { echoes.emplace_back(e); }),
              IsOk());
  EXPECT_TRUE(echoes == options.titles);
}

TEST(EchoClientTest, ReassemblesAnEchoThatArrivesOneByteAtATime) {
  EXPECT_THAT(AgainstFakeServer(
                  13,
                  [](int fd, const std::string& got) {
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    for (char c : got) ASSERT_EQ(send(fd, &c, 1, MSG_NOSIGNAL), 1);
                  },
                  OneTitle("War and Peace")),
              IsOk());
}

TEST(EchoClientTest, ConnectionRefusedNamesCallAddressAndErrno) {
  Listener bound_only = ListenLoopback(/*listen_too=*/false);  // nobody accepts
  EchoClientOptions options;
  options.port = bound_only.port;
  EXPECT_THAT(RunEchoClient(options, nullptr),
              StatusIs(absl::StatusCode::kUnavailable,
                       absl::StrCat("connect(127.0.0.1:", bound_only.port,
                                    "): Connection refused [ECONNREFUSED]")));
}

TEST(EchoClientTest, PeerClosingMidEchoSaysHowManyBytesCame) {
  EXPECT_THAT(AgainstFakeServer(
                  13, [](int fd, const std::string&) { send(fd, "War", 3, MSG_NOSIGNAL); },
                  OneTitle("War and Peace")),
              StatusIs(absl::StatusCode::kUnavailable,
                       MatchesRegex("read\\(127\\.0\\.0\\.1:[0-9]+\\): connection closed by "
                                    "peer after 3 of 13 bytes")));
}

TEST(EchoClientTest, PeerResettingMidEchoGivesEconnreset) {
  EXPECT_THAT(AgainstFakeServer(
                  13,
                  [](int fd, const std::string&) {
                    linger abort = {1, 0};
                    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
                  },
                  OneTitle("War and Peace")),
              StatusIs(absl::StatusCode::kUnavailable,
                       MatchesRegex("read\\(127\\.0\\.0\\.1:[0-9]+\\): Connection reset by peer "
                                    "\\[ECONNRESET\\]")));
}

TEST(EchoClientTest, CorruptedEchoIsAnError) {
  EXPECT_THAT(AgainstFakeServer(
                  13,
                  [](int fd, const std::string&) {
                    send(fd, "War and Peacf", 13, MSG_NOSIGNAL);
                  },
                  OneTitle("War and Peace")),
              StatusIs(absl::StatusCode::kDataLoss,
                       MatchesRegex("echo from 127\\.0\\.0\\.1:[0-9]+ differs: sent \"War and "
                                    "Peace\", got \"War and Peacf\"")));
}

TEST(EchoClientTest, SilentServerTimesOut) {
  // Connections complete into the backlog; nobody ever reads or replies.
  Listener silent = ListenLoopback();
  EchoClientOptions options;
  options.port = silent.port;
  options.timeout = absl::Milliseconds(50);
  EXPECT_THAT(RunEchoClient(options, nullptr),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       absl::StrCat("read(127.0.0.1:", silent.port,
                                    "): no reply within 50ms (got 0 of 13 bytes)")));
}

TEST(EchoClientTest, ResolverFailureNamesHostAndEaiCode) {
  EchoClientOptions options;
  options.host = "nohost.invalid";  // RFC 6761: never resolves
  options.port = 9;
  absl::Status status = RunEchoClient(options, nullptr);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
                       MatchesRegex("getaddrinfo\\(nohost\\.invalid\\): .* "
                                    "\\[(EAI_NONAME|EAI_AGAIN|EAI_FAIL|EAI_NODATA)\\]"));
}

TEST(EchoClientTest, RejectsAPortOutOfRange) {
  EchoClientOptions options;
  options.port = 0;
  EXPECT_THAT(RunEchoClient(options, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, "port 0 is out of range 1..65535"));
}

TEST(EchoClientTest, EchoesStopAtTheFirstFailure) {
  // The server replies to the first title, then closes: the first echo is
  // delivered, the second fails.
  std::vector<std::string> echoes;
  Listener l = ListenLoopback();
  std::thread server([&] {
    UniqueFd conn(accept(l.fd.get(), nullptr, nullptr));
    IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string got, ReadExactly(conn.get(), 13));
    ASSERT_EQ(send(conn.get(), got.data(), got.size(), MSG_NOSIGNAL), 13);
    IPCFAULT_ASSERT_OK_AND_ASSIGN(got, ReadExactly(conn.get(), 19));
  });
  EchoClientOptions options;
  options.port = l.port;
  absl::Status status =
      RunEchoClient(options, [&](absl::string_view e) { echoes.emplace_back(e); });
  server.join();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               ::testing::HasSubstr("after 0 of 19 bytes")));
  EXPECT_THAT(echoes, ElementsAre("War and Peace"));
}

TEST(EchoClientTest, LeaksNoFileDescriptor) {
  int before = CountOpenFds();
  {
    IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(EchoServerOptions()));
    EchoClientOptions options;
    options.port = server->port();
    ASSERT_THAT(RunEchoClient(options, nullptr), IsOk());
    Listener refusing = ListenLoopback(/*listen_too=*/false);
    options.port = refusing.port;
    ASSERT_THAT(RunEchoClient(options, nullptr),
                StatusIs(absl::StatusCode::kUnavailable, ::testing::HasSubstr("connect(")));
    // Stopping the server closes its side of the connections too.
  }
  EXPECT_EQ(CountOpenFds(), before);
}

}  // namespace
}  // namespace ipcfault::examples
