// The dependency-injection way to reach error paths: SendAll takes an
// ipcfault::Sys, and these tests hand it a MockSys that scripts send()
// (a short send, EINTR, ECONNRESET) over a real socketpair, so the bytes the
// peer receives are the kernel's. Every call not scripted is real.

#include "ipcfault/examples/send_all.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/mock_sys.h"
#include "ipcfault/inject/sys.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault::examples {
namespace {

using ::testing::_;
using ::testing::DoDefault;

class SendAllTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_), 0);
  }
  void TearDown() override {
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  // What the peer received so far (the sender's end must be closed first).
  std::string Received() {
    std::string got;
    char buffer[256];
    ssize_t n;
    while ((n = read(fds_[1], buffer, sizeof(buffer))) > 0) got.append(buffer, n);
    return got;
  }

  int fds_[2] = {-1, -1};
};

TEST_F(SendAllTest, ShortSendsAndEintrStillDeliverEveryByteOnce) {
  MockSys sys;
  // Every send must say MSG_NOSIGNAL.
  EXPECT_CALL(sys, Send(fds_[0], _, _, MSG_NOSIGNAL))
      .WillOnce([](int fd, const void* buf, size_t n, int flags) {
        return RealSys().Send(fd, buf, std::min<size_t>(n, 3), flags);  // short
      })
      .WillOnce(ReturnErrno(EINTR))
      .WillRepeatedly(DoDefault());
  ASSERT_THAT(SendAll(sys, fds_[0], "War and Peace", "peer"), IsOk());
  close(std::exchange(fds_[0], -1));
  EXPECT_EQ(Received(), "War and Peace");
}

TEST_F(SendAllTest, ScriptedResetIsReportedWithTheCallPeerAndErrno) {
  MockSys sys;
  EXPECT_CALL(sys, Send).WillOnce(ReturnErrno(ECONNRESET));
  EXPECT_THAT(SendAll(sys, fds_[0], "War and Peace", "127.0.0.1:9876"),
              StatusIs(absl::StatusCode::kUnavailable,
                       "send(127.0.0.1:9876): Connection reset by peer [ECONNRESET]"));
  close(std::exchange(fds_[0], -1));
  EXPECT_EQ(Received(), "");
}

// A real EPIPE from the kernel, with SIGPIPE at its default disposition:
// without MSG_NOSIGNAL this test process would die of it.
TEST_F(SendAllTest, GonePeerIsEpipeNotSigpipe) {
  struct sigaction dfl = {}, old = {};
  dfl.sa_handler = SIG_DFL;
  ASSERT_EQ(sigaction(SIGPIPE, &dfl, &old), 0);
  close(std::exchange(fds_[1], -1));
  MockSys sys;  // all real
  EXPECT_CALL(sys, Send(fds_[0], _, _, MSG_NOSIGNAL)).Times(1);
  EXPECT_THAT(SendAll(sys, fds_[0], "War and Peace", "peer"),
              StatusIs(absl::StatusCode::kFailedPrecondition, "send(peer): Broken pipe [EPIPE]"));
  sigaction(SIGPIPE, &old, nullptr);
}

}  // namespace
}  // namespace ipcfault::examples
