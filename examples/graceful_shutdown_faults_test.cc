// The graceful shutdown's error paths, tested the way a downstream team
// would: //inject:interpose is linked in so that Arm() can fail the fork,
// sigaction, kill and waitpid the program makes (a forked child inherits the
// rules, so `sigaction` fails in the child), and each test asserts on the
// status (call, pid, errno) and on how the child ended (its wait status,
// through the fixtures' ExitedWithCode / KilledBySignal matchers). The leak
// check fails any test that leaves a child or a zombie behind.
//
// This file is also compiled against deliberately broken shutdowns in
// selftest/ (see selftest/BUILD.bazel): the tests that prove a path fail
// there, which //selftest:teeth_test checks.

#include <errno.h>
#include <signal.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/examples/graceful_shutdown.h"
#include "ipcfault/examples/signal_counter.h"
#include "ipcfault/fixtures/gtest.h"
#include "ipcfault/inject/faults.h"

namespace {

using ::ipcfault::Arm;
using ::ipcfault::ExitedWithCode;
using ::ipcfault::IsOk;
using ::ipcfault::KilledBySignal;
using ::ipcfault::StatusIs;
using ::ipcfault::examples::GracefulShutdownOptions;
using ::ipcfault::examples::RunGracefulShutdown;
using ::ipcfault::examples::ShutdownReport;
using ::ipcfault::examples::SignalCounter;
using ::testing::MatchesRegex;

const bool kLeakCheck = ipcfault::EnableLeakCheck();

TEST(GracefulShutdownFaultsTest, KillFailingWithEpermIsReportedAndTheChildReaped) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("kill:error=EPERM:sig=SIGTERM"));
  EXPECT_THAT(RunGracefulShutdown(GracefulShutdownOptions()),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       MatchesRegex("kill\\([0-9]+, SIGTERM\\): Operation not permitted "
                                    "\\[EPERM\\]")));
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST(GracefulShutdownFaultsTest, KillFailingWithEsrchIsReportedAndTheChildReaped) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("kill:error=ESRCH:sig=SIGTERM"));
  EXPECT_THAT(RunGracefulShutdown(GracefulShutdownOptions()),
              StatusIs(absl::StatusCode::kNotFound,
                       MatchesRegex("kill\\([0-9]+, SIGTERM\\): No such process \\[ESRCH\\]")));
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST(GracefulShutdownFaultsTest, EscalationKillFailingWithEsrchIsReported) {
  GracefulShutdownOptions options;
  options.child_ignores_signal = true;
  options.timeout = absl::Milliseconds(50);  // the program's own timeout
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("kill:error=ESRCH:sig=SIGKILL"));
  EXPECT_THAT(RunGracefulShutdown(options),
              StatusIs(absl::StatusCode::kNotFound,
                       MatchesRegex("kill\\([0-9]+, SIGKILL\\): No such process \\[ESRCH\\]")));
  EXPECT_EQ(faults.fired(0), 1u);
}

// The child sets SIGTERM to SIG_IGN: after the timeout the parent must send
// SIGKILL, and the child ends killed by it.
TEST(GracefulShutdownFaultsTest, ChildIgnoringSigtermIsKilledWithSigkill) {
  GracefulShutdownOptions options;
  options.child_ignores_signal = true;
  options.timeout = absl::Milliseconds(100);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ShutdownReport report, RunGracefulShutdown(options));
  EXPECT_TRUE(report.escalated);
  EXPECT_THAT(report.wait_status, KilledBySignal(SIGKILL));
  EXPECT_EQ(report.Describe(), absl::StrCat("child ", report.pid,
                                            " ignored SIGTERM; sent SIGKILL; killed by signal 9"));
}

// A real SIGUSR1 interrupts the parent's waitpid(): it waits again and
// reports the child's graceful exit.
TEST(GracefulShutdownFaultsTest, WaitpidInterruptedByASignalIsRetried) {
  SignalCounter usr1(SIGUSR1);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("waitpid:signal=SIGUSR1:error=EINTR:when=1"));
  GracefulShutdownOptions options;
  options.child_exit_code = 7;
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ShutdownReport report, RunGracefulShutdown(options));
  EXPECT_FALSE(report.escalated);
  EXPECT_THAT(report.wait_status, ExitedWithCode(7));
  EXPECT_EQ(faults.fired(0), 1u);
  EXPECT_EQ(usr1.count(), 1);
}

// The child inherits the armed rule across fork(): its sigaction(SIGTERM)
// fails, it reports that and exits 2; the parent says so.
TEST(GracefulShutdownFaultsTest, SigactionFailingInTheChildIsReported) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("sigaction:error=EINVAL:when=1"));
  EXPECT_THAT(RunGracefulShutdown(GracefulShutdownOptions()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       MatchesRegex("sigaction\\(SIGTERM\\) in child [0-9]+: Invalid argument "
                                    "\\[EINVAL\\]; child exited with status 2")));
}

TEST(GracefulShutdownFaultsTest, ForkFailingWithEagainIsReported) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("fork:error=EAGAIN"));
  EXPECT_THAT(RunGracefulShutdown(GracefulShutdownOptions()),
              StatusIs(absl::ErrnoToStatusCode(EAGAIN),
                       "fork: Resource temporarily unavailable [EAGAIN]"));
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST(GracefulShutdownFaultsTest, WithoutFaultsTheChildExitsThroughItsHandler) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ShutdownReport report, RunGracefulShutdown(GracefulShutdownOptions()));
  EXPECT_TRUE(report.graceful());
  EXPECT_THAT(report.wait_status, ExitedWithCode(0));
}

}  // namespace
