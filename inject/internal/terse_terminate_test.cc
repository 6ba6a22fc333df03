// The terse terminate handler (terse_terminate.cc), built into this test:
// called where std::terminate would call it, it names what was thrown
// (mangled) and its what(), and aborts.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <exception>
#include <stdexcept>
#include <string>

#include "gtest/gtest.h"

namespace {

// Runs `body` in a child with its stderr captured; returns what the child
// wrote, and its wait status in *status.
template <typename Body>
std::string StderrOf(Body body, int* status) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return "pipe failed";
  pid_t child = fork();
  if (child == 0) {
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    body();
    _exit(0);
  }
  close(pipe_fds[1]);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(pipe_fds[0]);
  waitpid(child, status, 0);
  return out;
}

TEST(TerseTerminate, NamesTheExceptionAndItsWhatThenAborts) {
  int status = 0;
  std::string said = StderrOf(
      [] {
        try {
          throw std::length_error("too long by far");
        } catch (...) {
          // What std::terminate does with an exception that found no handler.
          __gnu_cxx::__verbose_terminate_handler();
        }
      },
      &status);
  EXPECT_EQ(said,
            "ipcfault: terminate called after throwing an instance of "
            "'St12length_error': too long by far\n");
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
}

TEST(TerseTerminate, AnExceptionThatIsNoStdExceptionIsNamedOnly) {
  int status = 0;
  std::string said = StderrOf(
      [] {
        try {
          throw 42;
        } catch (...) {
          __gnu_cxx::__verbose_terminate_handler();
        }
      },
      &status);
  EXPECT_EQ(said, "ipcfault: terminate called after throwing an instance of 'i'\n");
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
}

TEST(TerseTerminate, WithoutAnExceptionItSaysSo) {
  int status = 0;
  std::string said = StderrOf([] { __gnu_cxx::__verbose_terminate_handler(); }, &status);
  EXPECT_EQ(said, "ipcfault: terminate called without an active exception\n");
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
}

}  // namespace
