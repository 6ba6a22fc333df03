// The fixtures never leave an orphan: SIGKILL a process holding a
// process-mode EchoServer and a SignalChild (so no destructor runs), and
// both die with it (PR_SET_PDEATHSIG) within a second.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/fixtures/gtest.h"

namespace ipcfault {
namespace {

TEST(FixturesOrphanTest, KilledOwnerTakesServerAndChildWithIt) {
  // Orphans are reparented to us, so we can reap them and read how they
  // died, and none is left behind.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  const char* srcdir = getenv("TEST_SRCDIR");
  ASSERT_NE(srcdir, nullptr);
  const std::string helper =
      std::string(srcdir) + "/ipcfault/selftest/fixtures_orphan_helper";
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  const pid_t owner = fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    dup2(out[1], 1);
    execl(helper.c_str(), helper.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  std::istringstream in(line);
  pid_t server_pid = 0, child_pid = 0;
  std::string address;
  in >> server_pid >> child_pid >> address;
  ASSERT_GT(server_pid, 0) << "helper said: '" << line << "'";
  ASSERT_GT(child_pid, 0);
  const int server_fd = static_cast<int>(syscall(SYS_pidfd_open, server_pid, 0));
  const int child_fd = static_cast<int>(syscall(SYS_pidfd_open, child_pid, 0));
  ASSERT_GE(server_fd, 0) << strerror(errno);
  ASSERT_GE(child_fd, 0) << strerror(errno);

  ASSERT_EQ(kill(owner, SIGKILL), 0);
  int status;
  ASSERT_EQ(waitpid(owner, &status, 0), owner);
  EXPECT_THAT(status, KilledBySignal(SIGKILL));

  // A pidfd turns readable when its process ends; one second is the upper
  // bound the fixtures promise, not a wait.
  struct pollfd fds[2] = {{server_fd, POLLIN, 0}, {child_fd, POLLIN, 0}};
  int ended = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(1);
  auto ms_left = [&deadline] {
    return static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
  };
  while (ended < 2) {
    int left_ms = ms_left();
    ASSERT_GT(left_ms, 0) << "still alive a second after their owner died";
    int r = poll(fds, 2, left_ms);
    if (r < 0 && errno == EINTR) continue;
    ASSERT_GE(r, 0) << strerror(errno);
    ended = (fds[0].revents & POLLIN ? 1 : 0) + (fds[1].revents & POLLIN ? 1 : 0);
  }
  close(server_fd);
  close(child_fd);
  ASSERT_EQ(waitpid(server_pid, &status, 0), server_pid);
  // The server dies by PR_SET_PDEATHSIG, or quits first on seeing its
  // control socket close (the kernel closes the owner's files before it
  // sends the death signal).
  EXPECT_THAT(status, ::testing::AnyOf(KilledBySignal(SIGKILL), ExitedWithCode(0)));
  ASSERT_EQ(waitpid(child_pid, &status, 0), child_pid);
  EXPECT_THAT(status, KilledBySignal(SIGKILL));
  // Anything else of theirs reparented to us must end within the same
  // second, by itself: under --config=asan, LeakSanitizer's exit-time check
  // in the server runs in a process of its own (comm "ipcfault_echo_s"),
  // which its PR_SET_PDEATHSIG ends just after the server. Reaped here as
  // it ends; one still running at the deadline fails the check below.
  for (const auto& [pid, what] : fixtures_internal::Children()) {
    const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) continue;  // already gone
    struct pollfd gone = {fd, POLLIN, 0};
    int r;
    do {
      r = ms_left() > 0 ? poll(&gone, 1, ms_left()) : 0;
    } while (r < 0 && errno == EINTR);
    if (r == 1) waitpid(pid, &status, 0);
    close(fd);
  }
  EXPECT_THAT(fixtures_internal::Children(), ::testing::IsEmpty());

  // And the server's port is closed.
  const std::string port = address.substr(address.rfind(':') + 1);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin = {};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_THAT(Errno(connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin))),
              FailsWithErrno(ECONNREFUSED));
  close(fd);
}

}  // namespace
}  // namespace ipcfault
