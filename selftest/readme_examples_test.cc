// The README's C++ examples outside the walk-through, compiled and run here;
// the README quotes them (```cpp file=selftest/readme_examples_test.cc) and
// //selftest:readme_test keeps the quotes equal to this file.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/fixtures/gtest.h"
#include "ipcfault/inject/faults.h"
#include "ipcfault/inject/mock_sys.h"

namespace {

using ::ipcfault::Errno;
using ::ipcfault::FailsWithErrno;

TEST(ReadmeExamples, InjectionFromCpp) {
  // A real listener to connect to, and a real socketpair to read from.
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  const int fd = pair[0];

  // Text, as in a scenario file; nothing is armed if any rule is bad.
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults,
                                ipcfault::Arm("connect:error=ECONNREFUSED:when=1..2"));

  // A rule built in C++, narrowed in ways the text cannot express.
  IPCFAULT_ASSERT_OK_AND_ASSIGN(
      ipcfault::ScopedFaults more,
      ipcfault::Arm(ipcfault::Fault(ipcfault::Call::kRead)
                        .Short(1)
                        .OnThisThread()  // only the calling thread
                        .OnlyIf([fd](const ipcfault::CallSite& site) { return site.fd == fd; })));

  for (int attempt = 1; attempt <= 3; ++attempt) {
    const int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(client, 0);
    const auto result = Errno(connect(client, reinterpret_cast<sockaddr*>(&addr), len));
    if (attempt <= 2) {
      EXPECT_THAT(result, FailsWithErrno(ECONNREFUSED)) << "attempt " << attempt;
    } else {
      EXPECT_EQ(result.result, 0) << "attempt 3: " << strerror(result.error);
    }
    close(client);
  }
  ASSERT_EQ(write(pair[1], "abc", 3), 3);
  char buf[3];
  EXPECT_EQ(read(fd, buf, sizeof(buf)), 1);  // the rest stays queued
  EXPECT_EQ(read(pair[1 - 1], buf + 1, 2), 1);

  EXPECT_EQ(faults.matched(0), 3u);        // calls that matched rule 0
  EXPECT_EQ(faults.fired(0), 2u);          // times it fired (exact)
  EXPECT_EQ(faults.records().size(), 2u);  // call, rule, action, fd, thread, ordinal
  EXPECT_EQ(more.fired(0), 2u);

  more.Disarm();
  EXPECT_EQ(read(fd, buf + 2, 1), 1);
  EXPECT_EQ(std::string(buf, 3), "abc");
  close(pair[0]);
  close(pair[1]);
  close(listener);
}

TEST(ReadmeExamples, MockSys) {
  ipcfault::MockSys sys;
  EXPECT_CALL(sys, Connect).WillOnce(ipcfault::ReturnErrno(ECONNREFUSED));

  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  EXPECT_THAT(Errno(sys.Connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))),
              FailsWithErrno(ECONNREFUSED));
  // Without an expectation, the real call: a real socket closes.
  EXPECT_EQ(sys.Close(fd), 0);
}

}  // namespace
