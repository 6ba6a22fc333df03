#include "ipcfault/examples/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace ipcfault::examples {
namespace {

TEST(SockaddrToStringTest, FormatsIpv4AndIpv6WithPort) {
  sockaddr_in in = {};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  in.sin_port = htons(9876);
  EXPECT_EQ(SockaddrToString(reinterpret_cast<sockaddr*>(&in), sizeof(in)), "127.0.0.1:9876");
  sockaddr_in6 in6 = {};
  in6.sin6_family = AF_INET6;
  in6.sin6_addr = in6addr_loopback;
  in6.sin6_port = htons(80);
  EXPECT_EQ(SockaddrToString(reinterpret_cast<sockaddr*>(&in6), sizeof(in6)), "[::1]:80");
  sockaddr_un un = {};
  un.sun_family = AF_UNIX;
  EXPECT_EQ(SockaddrToString(reinterpret_cast<sockaddr*>(&un), sizeof(un)),
            "<address family 1>");
}

TEST(UniqueFdTest, ClosesOnDestructionAndPreservesErrno) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[1]);
  {
    UniqueFd fd(fds[0]);
    errno = EINTR;
  }
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(fcntl(fds[0], F_GETFD), -1);  // closed
  EXPECT_EQ(errno, EBADF);
}

TEST(UniqueFdTest, MovesOwnership) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[1]);
  UniqueFd a(fds[0]);
  UniqueFd b = std::move(a);
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.get(), fds[0]);
  EXPECT_EQ(b.release(), fds[0]);
  EXPECT_FALSE(b.valid());
  close(fds[0]);
}

TEST(SetNonBlockingTest, SetsONonblock) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  ASSERT_TRUE(SetNonBlocking(r.get(), "pipe").ok());
  char c;
  EXPECT_EQ(read(r.get(), &c, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(SetNonBlocking(-1, "nothing").message(),
            "fcntl(nothing, O_NONBLOCK): Bad file descriptor [EBADF]");
}

TEST(PollTimeoutMsTest, RoundsUpAndClamps) {
  EXPECT_EQ(PollTimeoutMs(absl::InfiniteFuture()), -1);
  EXPECT_EQ(PollTimeoutMs(absl::InfinitePast()), 0);
  int ms = PollTimeoutMs(absl::Now() + absl::Seconds(10));
  EXPECT_GT(ms, 0);
  EXPECT_LE(ms, 10000);
}

}  // namespace
}  // namespace ipcfault::examples
