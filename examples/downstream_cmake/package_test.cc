// ipcfault::fixtures and ipcfault::mock_sys as a CMake project links them.
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/fixtures/echo_server.h"
#include "ipcfault/inject/mock_sys.h"

namespace {

TEST(PackageTest, EchoServerStartsWithoutAFixture) {
  absl::StatusOr<std::unique_ptr<ipcfault::EchoServer>> server = ipcfault::EchoServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_NE((*server)->port(), 0);
}

TEST(PackageTest, MockSysFailsWhatItIsToldToAndMakesTheRestReal) {
  ipcfault::MockSys sys;
  EXPECT_CALL(sys, Connect).WillOnce(ipcfault::ReturnErrno(ECONNREFUSED));
  const int fd = sys.Socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // real
  ASSERT_GE(fd, 0);
  errno = 0;
  EXPECT_EQ(sys.Connect(fd, nullptr, 0), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  close(fd);
}

}  // namespace
