#include "ipcfault/inject/internal/shared_counts.h"

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ipcfault::inject_internal {
namespace {

using ::testing::HasSubstr;

// The value of IPCFAULT_COUNTS for `counts`, with its own fd number.
std::string Spec(const SharedCounts& counts) {
  std::string entry = counts.EnvironmentEntry(counts.fd());
  return entry.substr(entry.find('=') + 1);
}

int WaitExitCode(pid_t pid) {
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SharedCounts, FiresOfThreadsAndForkedProcessesAddUpExactly) {
  std::optional<SharedCounts> run = SharedCounts::Create(2);
  ASSERT_TRUE(run.has_value());
  std::string why;
  std::optional<SharedCounts> mine = SharedCounts::Attach(Spec(*run).c_str(), 2, &why);
  ASSERT_TRUE(mine.has_value()) << why;

  constexpr int kThreads = 4, kPerThread = 10000, kChildren = 3;
  std::vector<pid_t> children;
  for (int c = 0; c < kChildren; ++c) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child inherits the mapping and counts itself as a process.
      for (int i = 0; i < kPerThread; ++i) mine->RecordFire(1);
      _exit(0);
    }
    children.push_back(pid);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) mine->RecordFire(1);
    });
  }
  for (std::thread& t : threads) t.join();
  for (pid_t pid : children) EXPECT_EQ(WaitExitCode(pid), 0);

  EXPECT_EQ(run->fired(0), 0u);
  EXPECT_EQ(run->processes(0), 0u);
  EXPECT_EQ(run->fired(1), uint64_t{(kThreads + kChildren) * kPerThread});
  EXPECT_EQ(run->processes(1), uint64_t{1 + kChildren});
  EXPECT_EQ(run->attached(), 1u);
}

TEST(SharedCounts, AttachesThroughProcWhenTheDescriptorWasClosed) {
  std::optional<SharedCounts> run = SharedCounts::Create(1);
  ASSERT_TRUE(run.has_value());
  // A descriptor number that names nothing (or something else) in this
  // process: Attach reaches the region through /proc/PID/fd of its owner.
  std::string entry = run->EnvironmentEntry(run->fd());
  std::string spec = entry.substr(entry.find('=') + 1);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(run->fd());
    // Wait for nothing: the parent keeps the region open until it reaps us.
    std::string why;
    std::optional<SharedCounts> child = SharedCounts::Attach(spec.c_str(), 1, &why);
    if (!child.has_value()) _exit(1);
    child->RecordFire(0);
    _exit(0);
  }
  EXPECT_EQ(WaitExitCode(pid), 0);
  EXPECT_EQ(run->fired(0), 1u);
  EXPECT_EQ(run->processes(0), 1u);
}

TEST(SharedCounts, RefusesWhatIsNotTheRunsRegion) {
  std::optional<SharedCounts> run = SharedCounts::Create(3);
  ASSERT_TRUE(run.has_value());
  std::string why;
  EXPECT_FALSE(SharedCounts::Attach(Spec(*run).c_str(), 2, &why).has_value());
  EXPECT_THAT(why, HasSubstr("do not match"));
  EXPECT_FALSE(SharedCounts::Attach("x", 3, &why).has_value());
  EXPECT_THAT(why, HasSubstr("malformed IPCFAULT_COUNTS='x'"));
  // stdin is not the region, and /proc/1/fd/0 is not ours to open or not it.
  EXPECT_FALSE(SharedCounts::Attach("0:1:12345", 3, &why).has_value());
  EXPECT_THAT(why, HasSubstr("out of reach"));
}

TEST(SharedCounts, KeepsTheFirstUnreachableExecAndCountsAll) {
  std::optional<SharedCounts> run = SharedCounts::Create(0);
  ASSERT_TRUE(run.has_value());
  std::string why;
  std::optional<SharedCounts> mine = SharedCounts::Attach(Spec(*run).c_str(), 0, &why);
  ASSERT_TRUE(mine.has_value()) << why;
  EXPECT_EQ(run->first_unreachable_exec(), "");
  mine->RecordUnreachableExec("/bin/static", "statically linked");
  mine->RecordUnreachableExec("/bin/other", "set-user-ID");
  EXPECT_EQ(run->unreachable_execs(), 2u);
  EXPECT_EQ(run->first_unreachable_exec(), "/bin/static (statically linked)");
}

}  // namespace
}  // namespace ipcfault::inject_internal
