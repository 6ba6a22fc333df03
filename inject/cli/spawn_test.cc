#include "ipcfault/inject/cli/spawn.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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

// The program starts with the signals this process ignores ignored (SIGCHLD
// too, though SpawnAndWait waits with it at SIG_DFL), no other, and the
// handled ones at SIG_DFL, whether
// the kernel resets the handlers of the vfork-like child (clone3's
// CLONE_CLEAR_SIGHAND) or the child does it signal by signal (without
// clone3). Returns 0 if so, else what went wrong (a forked child's exit
// status).
void Handler(int) {}

int CheckDispositionsReachTheProgram() {
  struct sigaction handle = {}, ignore = {};
  handle.sa_handler = &Handler;
  ignore.sa_handler = SIG_IGN;
  if (sigaction(SIGUSR2, &handle, nullptr) != 0 || sigaction(SIGPIPE, &ignore, nullptr) != 0 ||
      sigaction(SIGCHLD, &ignore, nullptr) != 0) {
    return 10;
  }
  // This process's ignored set, as the kernel reports it (glibc's
  // sigaction() does not show its internal signals, which a sandbox may
  // ignore too).
  std::string own;
  {
    FILE* f = fopen("/proc/self/status", "r");
    if (f == nullptr) return 16;
    char line[256];
    while (fgets(line, sizeof(line), f) != nullptr) {
      if (strncmp(line, "SigIgn:\t", 8) == 0) own.assign(line + 8, strcspn(line + 8, "\n"));
    }
    fclose(f);
  }
  if (own.size() != 16) return 17;
  // SigIgn in the program's /proc/self/status, as hex (grep, not a shell:
  // sh catches SIGCHLD itself).
  absl::StatusOr<int> status = SpawnAndWait(
      "/bin/grep",
      {"grep", "-q", absl::StrCat("^SigIgn:\t", own, "$"), "/proc/self/status"},
      Env());
  if (!status.ok()) return 11;
  if (ShellExitCode(*status) != 0) return 12;
  // SIGUSR2, handled here, is at SIG_DFL there: it kills.
  status = Sh("kill -USR2 $$; exit 1");
  if (!status.ok() || ShellExitCode(*status) != 128 + SIGUSR2) return 15;
  status = Sh("exit 4");
  if (!status.ok() || ShellExitCode(*status) != 4) return 13;
  if (!SpawnAndWait("/no/such/program", {"x"}, Env()).ok()) {
    // expected: the exec failure is reported
  } else {
    return 14;
  }
  return 0;
}

int InChild(int (*body)(), bool without_clone3) {
  pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) {
    if (without_clone3) {
#if defined(__x86_64__) && defined(SYS_clone3)
      // As container runtimes' seccomp filters do: clone3 fails with ENOSYS.
      struct sock_filter filter[] = {
          BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      };
      struct sock_fprog program = {sizeof(filter) / sizeof(filter[0]), filter};
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
          prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
        _exit(20);
      }
      if (syscall(SYS_clone3, nullptr, 0) != -1 || errno != ENOSYS) _exit(21);
#endif
    }
    _exit(body());
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(SpawnAndWait, IgnoredSignalsReachTheProgramHandledOnesDoNot) {
  EXPECT_EQ(InChild(&CheckDispositionsReachTheProgram, /*without_clone3=*/false), 0);
}

TEST(SpawnAndWait, WithoutClone3TheChildResetsTheHandlers) {
  EXPECT_EQ(InChild(&CheckDispositionsReachTheProgram, /*without_clone3=*/true), 0);
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
