// An example of the dependency-injection seam: a small echo client written
// against ipcfault::Sys, tested with MockSys. Each test scripts only the
// call whose failure it is about; every other call is real.

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/mock_sys.h"
#include "ipcfault/inject/sys.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault {
namespace {

using ::testing::_;
using ::testing::DoDefault;
using ::testing::HasSubstr;
using ::testing::Return;

// The code under test: connects to an echo server on 127.0.0.1, sends a
// message and reads the echo back. It makes every call through `sys`.
class EchoClient {
 public:
  explicit EchoClient(Sys& sys = RealSys()) : sys_(sys) {}
  ~EchoClient() {
    if (fd_ >= 0) sys_.Close(fd_);
  }

  absl::Status Connect(uint16_t port) {
    int fd = sys_.Socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (sys_.Connect(fd, reinterpret_cast<const sockaddr*>(&addr),
                     sizeof(addr)) != 0) {
      int error = errno;
      sys_.Close(fd);
      return absl::ErrnoToStatus(error,
                                 absl::StrCat("connect(127.0.0.1:", port, ")"));
    }
    fd_ = fd;
    return absl::OkStatus();
  }

  // Sends `message` and reads as many bytes back, retrying on EINTR.
  absl::StatusOr<std::string> Echo(absl::string_view message) {
    size_t sent = 0;
    while (sent < message.size()) {
      ssize_t n = sys_.Send(fd_, message.data() + sent, message.size() - sent,
                            MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::ErrnoToStatus(errno, "send");
      sent += static_cast<size_t>(n);
    }
    std::string echo(message.size(), '\0');
    size_t got = 0;
    while (got < echo.size()) {
      ssize_t n = sys_.Recv(fd_, echo.data() + got, echo.size() - got, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::ErrnoToStatus(errno, "recv");
      if (n == 0) {
        return absl::UnavailableError(
            absl::StrCat("recv: connection closed after ", got, " of ",
                         echo.size(), " bytes"));
      }
      got += static_cast<size_t>(n);
    }
    return echo;
  }

 private:
  Sys& sys_;
  int fd_ = -1;
};

// A one-connection echo server on an ephemeral loopback port, in a thread.
class OneShotEchoServer {
 public:
  OneShotEchoServer() {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(listen(listener_, 1), 0);
    EXPECT_EQ(getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len),
              0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      int fd = accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      char buf[256];
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0) {
        if (write(fd, buf, static_cast<size_t>(n)) != n) break;
      }
      close(fd);
    });
  }
  ~OneShotEchoServer() {
    // Wakes a thread still in accept (a test that never connected).
    shutdown(listener_, SHUT_RDWR);
    thread_.join();
    close(listener_);
  }
  uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(EchoClientTest, EchoesThroughTheRealCalls) {
  OneShotEchoServer server;
  MockSys sys;  // no expectations: every call is real
  EchoClient client(sys);
  ASSERT_THAT(client.Connect(server.port()), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string echo, client.Echo("moby dick"));
  EXPECT_EQ(echo, "moby dick");
}

TEST(EchoClientTest, ReportsARefusedConnectionAndClosesItsSocket) {
  MockSys sys;
  int socket_fd = -1;
  EXPECT_CALL(sys, Socket).WillOnce([&](int domain, int type, int protocol) {
    socket_fd = RealSys().Socket(domain, type, protocol);
    return socket_fd;
  });
  EXPECT_CALL(sys, Connect(_, _, sizeof(sockaddr_in)))
      .WillOnce(ReturnErrno(ECONNREFUSED));
  EXPECT_CALL(sys, Close).WillOnce([&](int fd) {
    EXPECT_EQ(fd, socket_fd) << "closes the socket it opened";
    return RealSys().Close(fd);
  });

  EchoClient client(sys);
  absl::Status status = client.Connect(9);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("connect(127.0.0.1:9)")));
  EXPECT_THAT(status.message(), HasSubstr("Connection refused"));
}

TEST(EchoClientTest, RetriesARecvInterruptedBySignal) {
  OneShotEchoServer server;
  MockSys sys;
  EXPECT_CALL(sys, Recv)
      .WillOnce(ReturnErrno(EINTR))
      .WillRepeatedly(DoDefault());
  EchoClient client(sys);
  ASSERT_THAT(client.Connect(server.port()), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string echo, client.Echo("the odyssey"));
  EXPECT_EQ(echo, "the odyssey");
}

TEST(EchoClientTest, ReportsAConnectionClosedMidEcho) {
  OneShotEchoServer server;
  MockSys sys;
  EXPECT_CALL(sys, Recv).WillOnce(Return(3)).WillOnce(Return(0));
  EchoClient client(sys);
  ASSERT_THAT(client.Connect(server.port()), IsOk());
  EXPECT_THAT(client.Echo("ulysses"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("closed after 3 of 7 bytes")));
}

// ReturnErrno gives each call its own failure value.
TEST(ReturnErrnoTest, FailsEachCallAsLibcWould) {
  MockSys sys;
  EXPECT_CALL(sys, Read).WillOnce(ReturnErrno(EIO));
  EXPECT_CALL(sys, PthreadKill).WillOnce(ReturnErrno(ESRCH));
  EXPECT_CALL(sys, Getaddrinfo).WillOnce(ReturnErrno(ENOMEM));
  EXPECT_CALL(sys, Fork).WillOnce(ReturnErrno(EAGAIN));

  char buf[1];
  errno = 0;
  EXPECT_EQ(sys.Read(0, buf, 1), -1);
  EXPECT_EQ(errno, EIO);

  errno = 0;
  EXPECT_EQ(sys.PthreadKill(pthread_self(), 0), ESRCH);
  EXPECT_EQ(errno, 0) << "pthread_kill returns its error, errno untouched";

  addrinfo* res = nullptr;
  errno = 0;
  EXPECT_EQ(sys.Getaddrinfo("localhost", nullptr, nullptr, &res), EAI_SYSTEM);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(res, nullptr);

  errno = 0;
  EXPECT_EQ(sys.Fork(), -1);
  EXPECT_EQ(errno, EAGAIN);
}

}  // namespace
}  // namespace ipcfault
