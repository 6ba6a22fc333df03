// The interposer catches the _FORTIFY_SOURCE entry points. This file is
// built with -O2 -D_FORTIFY_SOURCE=2 (see BUILD.bazel), as Debian and
// Bazel's opt mode build downstream code: where the compiler knows the size
// of the buffer but not the length asked, read/recv/recvfrom/poll compile to
// __read_chk/__recv_chk/__recvfrom_chk/__poll_chk, which libfiu-style
// interposers miss. fortify_symbols_test checks with objdump that this
// binary really calls them.

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/faults.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/testing/status_matchers.h"

#if !defined(_FORTIFY_SOURCE) || _FORTIFY_SOURCE < 2 || !defined(__OPTIMIZE__)
#error "interpose_fortify_test must be built with -O2 -D_FORTIFY_SOURCE=2"
#endif

namespace ipcfault {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

// `n`, opaque to the optimizer: the length is not a compile-time constant,
// so the fortified wrappers call the _chk entry points.
size_t Opaque(size_t n) {
  asm volatile("" : "+r"(n));
  return n;
}

class FortifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    a_ = sv[0];
    b_ = sv[1];
    ASSERT_EQ(send(b_, "abcdef", 6, 0), 6);
  }
  void TearDown() override {
    close(a_);
    close(b_);
  }
  int a_ = -1;
  int b_ = -1;
};

TEST_F(FortifyTest, ReadChkCountsAsRead) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kRead).Error(EIO).When(1)));
  char buf[8];
  errno = 0;
  EXPECT_EQ(read(a_, buf, Opaque(sizeof(buf))), -1);
  EXPECT_EQ(errno, EIO);
  EXPECT_EQ(read(a_, buf, Opaque(sizeof(buf))), 6);
  EXPECT_EQ(std::string(buf, 6), "abcdef");
  EXPECT_THAT(faults.records(), ElementsAre(Field(&FaultRecord::call,
                                                  Call::kRead)));
}

TEST_F(FortifyTest, ShortReadChk) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kRead).Short(2).When(1)));
  char buf[8];
  EXPECT_EQ(read(a_, buf, Opaque(sizeof(buf))), 2);
  EXPECT_EQ(read(a_, buf, Opaque(sizeof(buf))), 4);
  EXPECT_EQ(std::string(buf, 4), "cdef");
}

TEST_F(FortifyTest, RecvChkCountsAsRecv) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kRecv).Error(ECONNRESET).When(1)));
  char buf[8];
  errno = 0;
  EXPECT_EQ(recv(a_, buf, Opaque(sizeof(buf)), 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(recv(a_, buf, Opaque(sizeof(buf)), 0), 6);
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST_F(FortifyTest, RecvfromChkCountsAsRecvfrom) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kRecvfrom).Error(EAGAIN).When(1)));
  char buf[8];
  errno = 0;
  EXPECT_EQ(recvfrom(a_, buf, Opaque(sizeof(buf)), 0, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(recvfrom(a_, buf, Opaque(sizeof(buf)), 0, nullptr, nullptr), 6);
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST_F(FortifyTest, PollChkCountsAsPoll) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kPoll).Error(EINTR).When(1)));
  pollfd fds[1] = {{a_, POLLIN, 0}};
  errno = 0;
  EXPECT_EQ(poll(fds, Opaque(1), 0), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(poll(fds, Opaque(1), 0), 1);
  EXPECT_TRUE(fds[0].revents & POLLIN);
  EXPECT_EQ(faults.fired(0), 1u);
}

// The _chk overflow check still runs first, whatever a rule says.
TEST_F(FortifyTest, OverflowIsStillCaughtWithARuleArmed) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kRead).Error(EIO)));
  char buf[4];
  EXPECT_DEATH((void)!read(a_, buf, Opaque(16)), "buffer overflow detected");
}

}  // namespace
}  // namespace ipcfault
