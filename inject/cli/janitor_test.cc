// The janitor removes what a killed command leaves, and nothing else: each
// test forks a stand-in for the `ipcfault` command that starts a Janitor,
// registers things, and then is SIGKILLed or exits normally. The test
// process is a child subreaper, so the janitor (reparented to it when the
// command dies) is reaped here: once waitpid says every descendant is gone,
// the janitor has done all it will do, with no sleep and no polling.

#include "ipcfault/inject/cli/janitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace ipcfault::cli {
namespace {

class JanitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0) << strerror(errno);
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/janitor.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << strerror(errno);
    dir_ = pattern;
  }

  // Reaps every descendant (the command, the janitor, what they started);
  // returns the command's status. alarm() bounds the wait, as an upper bound
  // only: a hang fails the test instead of stalling it.
  int ReapAll(pid_t command) {
    alarm(60);
    int command_status = -1;
    for (;;) {
      int status;
      pid_t pid = waitpid(-1, &status, 0);
      if (pid < 0 && errno == EINTR) continue;
      if (pid < 0) break;  // ECHILD: none left
      if (pid == command) command_status = status;
      else others_.push_back({pid, status});
    }
    alarm(0);
    return command_status;
  }

  bool Exists(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
  }

  std::string dir_;
  std::vector<std::pair<pid_t, int>> others_;
};

void WriteFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) _exit(10);
  close(fd);
}

// The command is SIGKILLed: the janitor kills the registered process group,
// removes the registered tree and file, and leaves what it was told to forget.
TEST_F(JanitorTest, KilledCommandsLeftoversAreRemoved) {
  const std::string file = dir_ + "/control.sock";
  const std::string tree = dir_ + "/work";
  const std::string forgotten = dir_ + "/forgotten";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t command = fork();
  ASSERT_GE(command, 0);
  if (command == 0) {
    close(ready[0]);
    auto janitor = Janitor::Start();
    if (!janitor.ok()) _exit(11);
    WriteFile(file);
    if (!(*janitor)->RemoveFileOnDeath(file).ok()) _exit(12);
    WriteFile(forgotten);
    if (!(*janitor)->RemoveFileOnDeath(forgotten).ok()) _exit(13);
    (*janitor)->ForgetFile(forgotten);
    if (mkdir(tree.c_str(), 0700) != 0 || mkdir((tree + "/run").c_str(), 0700) != 0) _exit(14);
    WriteFile(tree + "/run/output");
    (*janitor)->RemoveTreeOnDeath(tree);
    // A run in a process group of its own, as a sweep starts them.
    pid_t run = fork();
    if (run == 0) {
      setpgid(0, 0);
      // As a run does when it execs (the command's fds are close-on-exec):
      // keep no end of the janitor's pair, or the janitor never sees EOF.
      close_range(3, ~0u, 0);
      for (;;) pause();
    }
    setpgid(run, run);
    (*janitor)->KillGroupOnDeath(run);
    // The janitor reads in order: a message sent now is handled before the
    // pair's end-of-file, however fast the kill below comes.
    if (write(ready[1], "r", 1) != 1) _exit(15);
    for (;;) pause();
  }
  close(ready[1]);
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  ASSERT_EQ(kill(command, SIGKILL), 0);
  int status = ReapAll(command);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  // The janitor exited 0; the run was killed by it.
  ASSERT_EQ(others_.size(), 2u);
  int janitors = 0, runs = 0;
  for (const auto& [pid, st] : others_) {
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ++janitors;
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) ++runs;
  }
  EXPECT_EQ(janitors, 1);
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(Exists(file));
  EXPECT_FALSE(Exists(tree));
  EXPECT_TRUE(Exists(forgotten));
}

// A path the user reused after registration (another inode) is not removed.
TEST_F(JanitorTest, AReusedPathIsLeftAlone) {
  const std::string file = dir_ + "/reused";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t command = fork();
  ASSERT_GE(command, 0);
  if (command == 0) {
    close(ready[0]);
    auto janitor = Janitor::Start();
    if (!janitor.ok()) _exit(11);
    WriteFile(file);
    if (!(*janitor)->RemoveFileOnDeath(file).ok()) _exit(12);
    // Someone else's file at the same path: another inode. Keep the old one
    // alive (a link) so the inode number is not simply reused.
    if (link(file.c_str(), (file + ".old").c_str()) != 0) _exit(13);
    unlink(file.c_str());
    WriteFile(file);
    if (write(ready[1], "r", 1) != 1) _exit(15);
    for (;;) pause();
  }
  close(ready[1]);
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  ASSERT_EQ(kill(command, SIGKILL), 0);
  ReapAll(command);
  EXPECT_TRUE(Exists(file));
}

// A normal exit: the command says goodbye and reaps its janitor, which
// removes nothing (the command removes its own files).
TEST_F(JanitorTest, NormalExitRemovesNothingAndLeavesNoProcess) {
  const std::string file = dir_ + "/kept";
  pid_t command = fork();
  ASSERT_GE(command, 0);
  if (command == 0) {
    {
      auto janitor = Janitor::Start();
      if (!janitor.ok()) _exit(11);
      WriteFile(file);
      if (!(*janitor)->RemoveFileOnDeath(file).ok()) _exit(12);
    }
    // The janitor is reaped by now: none is left to reparent to the test.
    _exit(0);
  }
  int status = ReapAll(command);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(others_.empty()) << "a janitor outlived its command";
  EXPECT_TRUE(Exists(file));
}

TEST_F(JanitorTest, RegisteringAMissingFileFails) {
  auto janitor = Janitor::Start();
  ASSERT_TRUE(janitor.ok()) << janitor.status();
  absl::Status s = (*janitor)->RemoveFileOnDeath(dir_ + "/missing");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_NE(s.message().find("missing"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace ipcfault::cli
