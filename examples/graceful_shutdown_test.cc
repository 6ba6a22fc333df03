#include "ipcfault/examples/graceful_shutdown.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/examples/test_util.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault::examples {
namespace {

using ::testing::MatchesRegex;

// No child of this process is left, running or zombie.
void ExpectNoChildren() {
  int status;
  EXPECT_EQ(waitpid(-1, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

// Each test runs with the pidfd wait and with the waitpid(WNOHANG) fallback.
class GracefulShutdownTest : public ::testing::TestWithParam<bool> {
 protected:
  GracefulShutdownOptions Options() {
    GracefulShutdownOptions options;
    options.use_pidfd = GetParam();
    return options;
  }
};

INSTANTIATE_TEST_SUITE_P(WaitBy, GracefulShutdownTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Pidfd" : "WaitpidPoll"; });

TEST_P(GracefulShutdownTest, ChildExitsThroughItsHandlerAfterSigterm) {
  GracefulShutdownOptions options = Options();
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ShutdownReport report, RunGracefulShutdown(options));
  EXPECT_FALSE(report.escalated);
  ASSERT_TRUE(WIFEXITED(report.wait_status)) << DescribeWaitStatus(report.wait_status);
  EXPECT_EQ(WEXITSTATUS(report.wait_status), 0);
  EXPECT_TRUE(report.graceful());
  EXPECT_EQ(report.Describe(),
            absl::StrCat("child ", report.pid, " exited with status 0 after SIGTERM"));
  ExpectNoChildren();
}

TEST_P(GracefulShutdownTest, ChildExitsWithTheCodeItsHandlerPathChooses) {
  // Status 7 can only come from the child's own _exit() after its handler
  // ran: the default action of SIGTERM would read as "killed by signal 15".
  GracefulShutdownOptions options = Options();
  options.child_exit_code = 7;
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ShutdownReport report, RunGracefulShutdown(options));
  ASSERT_TRUE(WIFEXITED(report.wait_status)) << DescribeWaitStatus(report.wait_status);
  EXPECT_EQ(WEXITSTATUS(report.wait_status), 7);
  EXPECT_EQ(report.Describe(),
            absl::StrCat("child ", report.pid, " exited with status 7 after SIGTERM"));
  ExpectNoChildren();
}

TEST_P(GracefulShutdownTest, AnotherStopSignalWorksTheSameWay) {
  GracefulShutdownOptions options = Options();
  options.signal = SIGUSR1;
  options.child_exit_code = 3;
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ShutdownReport report, RunGracefulShutdown(options));
  ASSERT_TRUE(WIFEXITED(report.wait_status)) << DescribeWaitStatus(report.wait_status);
  EXPECT_EQ(WEXITSTATUS(report.wait_status), 3);
  EXPECT_EQ(report.Describe(),
            absl::StrCat("child ", report.pid, " exited with status 3 after SIGUSR1"));
  ExpectNoChildren();
}

TEST_P(GracefulShutdownTest, ChildIgnoringSigtermIsKilledAfterTheTimeout) {
  GracefulShutdownOptions options = Options();
  options.child_ignores_signal = true;
  options.timeout = absl::Milliseconds(100);  // reached on purpose here
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ShutdownReport report, RunGracefulShutdown(options));
  EXPECT_TRUE(report.escalated);
  ASSERT_TRUE(WIFSIGNALED(report.wait_status)) << DescribeWaitStatus(report.wait_status);
  EXPECT_EQ(WTERMSIG(report.wait_status), SIGKILL);
  EXPECT_FALSE(report.graceful());
  EXPECT_EQ(report.Describe(), absl::StrCat("child ", report.pid,
                                            " ignored SIGTERM; sent SIGKILL; killed by signal 9"));
  ExpectNoChildren();
}

TEST_P(GracefulShutdownTest, SigactionFailingInTheChildIsReportedAndTheChildReaped) {
  // sigaction(SIGKILL, ...) fails with EINVAL: a real failure of the
  // child's setup, reported over the pipe.
  GracefulShutdownOptions options = Options();
  options.signal = SIGKILL;
  EXPECT_THAT(RunGracefulShutdown(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       MatchesRegex("sigaction\\(SIGKILL\\) in child [0-9]+: Invalid argument "
                                    "\\[EINVAL\\]; child exited with status 2")));
  ExpectNoChildren();
}

TEST(DescribeWaitStatusTest, DescribesWaitStatuses) {
  EXPECT_EQ(DescribeWaitStatus(W_EXITCODE(3, 0)), "exited with status 3");
  EXPECT_EQ(DescribeWaitStatus(W_EXITCODE(0, SIGKILL)), "killed by signal 9");
  EXPECT_EQ(DescribeWaitStatus(W_EXITCODE(0, SIGSEGV) | WCOREFLAG),
            "killed by signal 11 (core dumped)");
  ShutdownReport report;
  report.pid = 42;
  report.wait_status = W_EXITCODE(0, SIGTERM);
  EXPECT_EQ(report.Describe(), "child 42 killed by signal 15 after SIGTERM");
  EXPECT_FALSE(report.graceful());
}

TEST_P(GracefulShutdownTest, LeaksNoFileDescriptor) {
  int before = CountOpenFds();
  GracefulShutdownOptions options = Options();
  ASSERT_THAT(RunGracefulShutdown(options), IsOk());
  options.signal = SIGKILL;
  ASSERT_THAT(RunGracefulShutdown(options), ::testing::Not(IsOk()));
  EXPECT_EQ(CountOpenFds(), before);
}

}  // namespace
}  // namespace ipcfault::examples
