// The three binaries run as processes, as a user (or `ipcfault run`) runs
// them: their exact output lines and exit statuses.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/examples/errors.h"
#include "ipcfault/examples/net.h"
#include "ipcfault/examples/test_util.h"
#include "ipcfault/testing/status_matchers.h"

extern char** environ;

namespace ipcfault::examples {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string BinaryPath(const std::string& name) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return absl::StrCat("examples/", name);
  return absl::StrCat(srcdir, "/", workspace, "/examples/", name);
}

// A process with its stdout and stderr on pipes. The destructor kills and
// reaps it if the test did not.
class Process {
 public:
  static absl::StatusOr<std::unique_ptr<Process>> Start(const std::string& binary,
                                                        std::vector<std::string> args) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe2");
    if (pipe2(err, O_CLOEXEC) != 0) {
      close(out[0]);
      close(out[1]);
      return ErrnoError(errno, "pipe2");
    }
    std::unique_ptr<Process> p(new Process);
    p->out_.reset(out[0]);
    p->err_.reset(err[0]);
    UniqueFd out_write(out[1]), err_write(err[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    std::string path = BinaryPath(binary);
    std::vector<char*> argv = {path.data()};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&p->pid_, path.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return ErrnoError(rc, "posix_spawn", path);
    return p;
  }

  ~Process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  pid_t pid() const { return pid_; }

  // One line of stdout, without its newline.
  absl::StatusOr<std::string> ReadLine() {
    std::string line;
    absl::Time deadline = absl::Now() + kTestTimeout;
    for (;;) {
      pollfd p = {out_.get(), POLLIN, 0};
      int rc = poll(&p, 1, PollTimeoutMs(deadline));
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) return absl::DeadlineExceededError(absl::StrCat("no line; got: ", line));
      char c;
      ssize_t n = read(out_.get(), &c, 1);
      if (n == 0) return absl::UnavailableError(absl::StrCat("EOF; got: ", line));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError(errno, "read");
      if (c == '\n') {
        stdout_ += line + "\n";
        return line;
      }
      line += c;
    }
  }

  struct Outcome {
    int status;
    std::string out;  // everything on stdout, lines read by ReadLine() included
    std::string err;
  };

  // Reads stdout and stderr to EOF, then reaps the process.
  absl::StatusOr<Outcome> Finish() {
    Outcome outcome;
    absl::Time deadline = absl::Now() + kTestTimeout;
    bool out_open = true, err_open = true;
    char buffer[4096];
    while (out_open || err_open) {
      pollfd fds[2] = {{out_open ? out_.get() : -1, POLLIN, 0},
                       {err_open ? err_.get() : -1, POLLIN, 0}};
      int rc = poll(fds, 2, PollTimeoutMs(deadline));
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) return absl::DeadlineExceededError("process did not finish");
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents == 0) continue;
        ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          (i == 0 ? out_open : err_open) = false;
          continue;
        }
        (i == 0 ? stdout_ : outcome.err).append(buffer, static_cast<size_t>(n));
      }
    }
    pid_t rc;
    while ((rc = waitpid(pid_, &outcome.status, 0)) < 0 && errno == EINTR) {
    }
    if (rc != pid_) return ErrnoError(errno, "waitpid");
    pid_ = -1;
    outcome.out = stdout_;
    return outcome;
  }

 private:
  Process() = default;
  pid_t pid_ = -1;
  UniqueFd out_;
  UniqueFd err_;
  std::string stdout_;
};

absl::StatusOr<Process::Outcome> RunToEnd(const std::string& binary, std::vector<std::string> args) {
  absl::StatusOr<std::unique_ptr<Process>> p = Process::Start(binary, std::move(args));
  if (!p.ok()) return p.status();
  return (*p)->Finish();
}

// Starts echo_server and reads its port from "listening on 127.0.0.1:PORT".
absl::StatusOr<std::unique_ptr<Process>> StartServer(std::vector<std::string> args, int* port) {
  absl::StatusOr<std::unique_ptr<Process>> server = Process::Start("echo_server", args);
  if (!server.ok()) return server.status();
  absl::StatusOr<std::string> line = (*server)->ReadLine();
  if (!line.ok()) return line.status();
  const std::string prefix = "listening on 127.0.0.1:";
  if (line->rfind(prefix, 0) != 0 || !absl::SimpleAtoi(line->substr(prefix.size()), port)) {
    return absl::InternalError(absl::StrCat("unexpected first line: ", *line));
  }
  return server;
}

// A port bound on 127.0.0.1 that nobody listens on: connecting is refused.
struct RefusingPort {
  UniqueFd fd;
  int port = 0;
  RefusingPort() : fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port = ntohs(addr.sin_port);
  }
};

TEST(ProgramsTest, ServerAndClientTalkThenServerStopsOnSigterm) {
  int port = 0;
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, StartServer({"--port=0"}, &port));

  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto client, RunToEnd("echo_client", {absl::StrCat("--port=", port)}));
  EXPECT_EQ(client.out, "War and Peace\nPride and Prejudice\nThe Sound and the Fury\n");
  EXPECT_EQ(client.err, "");
  EXPECT_TRUE(WIFEXITED(client.status) && WEXITSTATUS(client.status) == 0) << client.status;

  IPCFAULT_ASSERT_OK_AND_ASSIGN(client, RunToEnd("echo_client", {absl::StrCat("--port=", port),
                                                   "--host=localhost", "Moby Dick", "Ulysses"}));
  EXPECT_EQ(client.out, "Moby Dick\nUlysses\n");
  EXPECT_TRUE(WIFEXITED(client.status) && WEXITSTATUS(client.status) == 0) << client.err;

  ASSERT_EQ(kill(server->pid(), SIGTERM), 0);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto outcome, server->Finish());
  EXPECT_EQ(outcome.out, absl::StrCat("listening on 127.0.0.1:", port, "\nstopped by SIGTERM\n"));
  EXPECT_EQ(outcome.err, "");
  EXPECT_TRUE(WIFEXITED(outcome.status) && WEXITSTATUS(outcome.status) == 0) << outcome.status;
}

TEST(ProgramsTest, ConcurrentServerStopsOnSigint) {
  int port = 0;
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, StartServer({"--port=0", "--concurrent"}, &port));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto client, RunToEnd("echo_client", {absl::StrCat("--port=", port)}));
  EXPECT_EQ(client.out, "War and Peace\nPride and Prejudice\nThe Sound and the Fury\n");
  ASSERT_EQ(kill(server->pid(), SIGINT), 0);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto outcome, server->Finish());
  EXPECT_THAT(outcome.out, HasSubstr("\nstopped by SIGINT\n"));
  EXPECT_TRUE(WIFEXITED(outcome.status) && WEXITSTATUS(outcome.status) == 0) << outcome.status;
}

TEST(ProgramsTest, ClientReportsConnectionRefusedOnOneLine) {
  RefusingPort refusing;
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto client,
                                RunToEnd("echo_client", {absl::StrCat("--port=", refusing.port)}));
  EXPECT_EQ(client.out, "");
  EXPECT_EQ(client.err, absl::StrCat("echo_client: connect(127.0.0.1:", refusing.port,
                                     "): Connection refused [ECONNREFUSED]\n"));
  EXPECT_TRUE(WIFEXITED(client.status) && WEXITSTATUS(client.status) == 1) << client.status;
}

TEST(ProgramsTest, ClientWithoutAPortIsAUsageError) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto client, RunToEnd("echo_client", {}));
  EXPECT_EQ(client.err,
            "echo_client: --port is required and must be in 1..65535 (got 0)\n");
  EXPECT_TRUE(WIFEXITED(client.status) && WEXITSTATUS(client.status) == 2) << client.status;
}

TEST(ProgramsTest, ServerReportsAPortInUse) {
  int port = 0;
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto first, StartServer({"--port=0"}, &port));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto second, RunToEnd("echo_server", {absl::StrCat("--port=", port)}));
  EXPECT_EQ(second.out, "");
  EXPECT_EQ(second.err, absl::StrCat("echo_server: bind(127.0.0.1:", port,
                                     "): Address already in use [EADDRINUSE]\n"));
  EXPECT_TRUE(WIFEXITED(second.status) && WEXITSTATUS(second.status) == 1) << second.status;
}

TEST(ProgramsTest, GracefulShutdownReportsTheChildsExit) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto run, RunToEnd("graceful_shutdown", {}));
  EXPECT_THAT(run.out, MatchesRegex("child [0-9]+ exited with status 0 after SIGTERM\n"));
  EXPECT_EQ(run.err, "");
  EXPECT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.status;

  IPCFAULT_ASSERT_OK_AND_ASSIGN(run, RunToEnd("graceful_shutdown", {"--child_exit_code=5"}));
  EXPECT_THAT(run.out, MatchesRegex("child [0-9]+ exited with status 5 after SIGTERM\n"));
  EXPECT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.status;
}

TEST(ProgramsTest, GracefulShutdownEscalatesWhenTheChildIgnoresSigterm) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto run, RunToEnd("graceful_shutdown",
                                     {"--child_ignores_sigterm", "--timeout=100ms"}));
  EXPECT_THAT(run.out,
              MatchesRegex("child [0-9]+ ignored SIGTERM; sent SIGKILL; killed by signal 9\n"));
  EXPECT_EQ(run.err, "");
  EXPECT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 3) << run.status;
}

}  // namespace
}  // namespace ipcfault::examples
