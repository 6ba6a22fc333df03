#include "ipcfault/inject/cli/spawn.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/testing/status_matchers.h"

extern char** environ;

namespace ipcfault::cli {
namespace {

std::vector<std::string> Env() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  return env;
}

absl::StatusOr<int> Sh(const std::string& script) {
  return SpawnAndWait("/bin/sh", {"sh", "-c", script}, Env());
}

TEST(SpawnAndWait, ExitCodePassesThrough) {
  ASSERT_OK_AND_ASSIGN(int status, Sh("exit 3"));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(ShellExitCode(status), 3);
  ASSERT_OK_AND_ASSIGN(status, Sh("exit 0"));
  EXPECT_EQ(ShellExitCode(status), 0);
}

TEST(SpawnAndWait, SignalDeathIs128PlusSignal) {
  ASSERT_OK_AND_ASSIGN(int status, Sh("kill -KILL $$"));
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(ShellExitCode(status), 128 + SIGKILL);
}

TEST(SpawnAndWait, ArgvAndEnvReachTheProgram) {
  std::vector<std::string> env = {"IPCFAULT_SPAWN_TEST=hello"};
  ASSERT_OK_AND_ASSIGN(
      int status,
      SpawnAndWait("/bin/sh",
                   {"sh", "-c", "test \"$IPCFAULT_SPAWN_TEST\" = hello && "
                                "test \"$0\" = zero && test \"$1\" = one",
                    "zero", "one"},
                   env));
  EXPECT_EQ(ShellExitCode(status), 0);
}

TEST(SpawnAndWait, IgnoredSigchldDoesNotLoseTheStatus) {
  struct sigaction ignore = {}, old;
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGCHLD, &ignore, &old), 0);
  absl::StatusOr<int> status = Sh("exit 5");
  struct sigaction after;
  sigaction(SIGCHLD, &old, &after);
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(ShellExitCode(*status), 5);
  EXPECT_EQ(after.sa_handler, SIG_IGN) << "disposition restored";
}

TEST(SpawnAndWait, ExecFailureIsAnError) {
  EXPECT_THAT(SpawnAndWait("/no/such/program", {"x"}, Env()),
              StatusIs(absl::StatusCode::kNotFound,
                       testing::HasSubstr("/no/such/program")));
  EXPECT_THAT(SpawnAndWait("/dev/null", {"x"}, Env()),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(SpawnAndWait, ForwardsTerminationSignalsFromOtherProcesses) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  std::string script = absl::StrCat(
      "trap 'exit 7' TERM; echo ready >&", ready[1],
      "; while :; do :; done");
  absl::StatusOr<int> status;
  std::thread runner([&] { status = Sh(script); });
  // The process-directed SIGTERM must reach the waiting thread (which blocks
  // it while it waits), not this one. Blocked here only after the runner
  // started, so that the runner, and the child, inherit an unblocked mask.
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, &old), 0);
  char buf[6];
  // The write end stays open here until the child has it: it may not have
  // forked yet.
  ASSERT_EQ(read(ready[0], buf, sizeof(buf)), 6);  // the child is ready
  close(ready[0]);
  close(ready[1]);
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);  // to us; we forward it
  runner.join();
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(ShellExitCode(*status), 7);
}

}  // namespace
}  // namespace ipcfault::cli
