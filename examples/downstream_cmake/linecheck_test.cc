// How a downstream CMake project tests its client's error paths with
// ipcfault: a real echo server per test (EchoServerTest), faults armed for
// one test at a time (ipcfault::Arm), and assertions on what the client made
// of them.
#include "linecheck.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/fixtures/echo_server.h"
#include "ipcfault/fixtures/gtest.h"
#include "ipcfault/inject/faults.h"
#include "ipcfault/inject/mock_sys.h"

namespace {

using ::ipcfault::IsOk;
using ::ipcfault::StatusIs;
using ::testing::HasSubstr;

class LinecheckTest : public ipcfault::EchoServerTest {};

TEST_F(LinecheckTest, GetsItsLineBack) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string reply, linecheck::Exchange(server().port(), "hello"));
  EXPECT_EQ(reply, "hello");
}

TEST_F(LinecheckTest, ReportsARefusedConnect) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults,
                                ipcfault::Arm("connect:error=ECONNREFUSED:when=1"));
  EXPECT_THAT(linecheck::Exchange(server().port(), "hello"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connect(127.0.0.1:")));
  EXPECT_EQ(faults.fired(0), 1u);
  // Only the first connect was refused.
  EXPECT_THAT(linecheck::Exchange(server().port(), "again"), IsOk());
}

TEST_F(LinecheckTest, ReassemblesOneByteReads) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults, ipcfault::Arm("read:short=1"));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string reply, linecheck::Exchange(server().port(), "split"));
  EXPECT_EQ(reply, "split");
  EXPECT_EQ(faults.fired(0), 6u);  // one read per byte, the newline too
}

TEST_F(LinecheckTest, RetriesAnInterruptedWrite) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults,
                                ipcfault::Arm("write:error=EINTR:when=1"));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string reply, linecheck::Exchange(server().port(), "retry"));
  EXPECT_EQ(reply, "retry");
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST_F(LinecheckTest, ReportsAResetFromTheServer) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults,
                                ipcfault::Arm("read:error=ECONNRESET:when=1"));
  EXPECT_THAT(linecheck::Exchange(server().port(), "hello"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("read(127.0.0.1:")));
}

// The package's other libraries, as a CMake project links them.
TEST(PackageTest, EchoServerStartsWithoutAFixture) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ipcfault::EchoServer> server,
                                ipcfault::EchoServer::Start());
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string reply, linecheck::Exchange(server->port(), "bare"));
  EXPECT_EQ(reply, "bare");
}

// A process-mode server execs the installed helper (libexec/ipcfault).
TEST(PackageTest, ProcessModeEchoServerRunsTheInstalledHelper) {
  ipcfault::EchoServerOptions options;
  options.mode = ipcfault::EchoServerOptions::Mode::kProcess;
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ipcfault::EchoServer> server,
                                ipcfault::EchoServer::Start(options));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string reply, linecheck::Exchange(server->port(), "apart"));
  EXPECT_EQ(reply, "apart");
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
