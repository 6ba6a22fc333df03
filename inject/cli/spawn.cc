#include "ipcfault/inject/cli/spawn.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ipcfault::cli {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Writes all of `n` bytes, retrying EINTR; async-signal-safe.
void WriteAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

// No signal handlers: the forwarded signals and SIGCHLD are blocked and
// taken synchronously with sigwaitinfo(), so nothing runs in a signal
// context, and a sanitizer that defers handlers cannot delay a forward.
absl::StatusOr<int> SpawnAndWait(const std::string& path,
                                 const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env) {
  std::vector<char*> c_argv = CStrings(argv);
  std::vector<char*> c_env = CStrings(env);

  // The child reports an exec failure's errno on this pipe; a successful
  // exec closes it (O_CLOEXEC), so the parent reads EOF.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");

  sigset_t waited, old_mask;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCHLD);
  // A signal this process ignores (nohup, a background job) stays ignored,
  // and the child inherits the ignoring.
  for (int sig : kForwarded) {
    struct sigaction current;
    sigaction(sig, nullptr, &current);
    if (current.sa_handler != SIG_IGN) sigaddset(&waited, sig);
  }
  // With SIGCHLD ignored the kernel would reap the child itself, and its
  // exit status would be lost.
  struct sigaction old_chld, dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGCHLD, &dfl, &old_chld);
  pthread_sigmask(SIG_BLOCK, &waited, &old_mask);

  std::fflush(nullptr);
  pid_t child = fork();
  if (child == 0) {
    // The child, before exec: async-signal-safe calls only.
    sigaction(SIGCHLD, &old_chld, nullptr);
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    close(report[0]);
    execve(path.c_str(), c_argv.data(), c_env.data());
    int err = errno;
    WriteAll(report[1], &err, sizeof(err));
    _exit(127);
  }
  int fork_errno = errno;
  close(report[1]);

  absl::StatusOr<int> result;
  if (child < 0) {
    result = absl::ErrnoToStatus(fork_errno, "fork");
  } else {
    int exec_errno = 0;
    ssize_t got;
    do {
      got = read(report[0], &exec_errno, sizeof(exec_errno));
    } while (got < 0 && errno == EINTR);
    int status = 0;
    pid_t waited_pid = 0;
    for (;;) {
      waited_pid = waitpid(child, &status, WNOHANG);
      if (waited_pid != 0 && !(waited_pid < 0 && errno == EINTR)) break;
      siginfo_t info;
      int sig = sigwaitinfo(&waited, &info);
      if (sig < 0 || sig == SIGCHLD) continue;
      // si_code <= 0: sent by a process (kill, sigqueue, tgkill). Signals
      // from the terminal (SI_KERNEL) already went to the whole process
      // group, the child included.
      if (info.si_code <= 0 && info.si_pid != child) kill(child, sig);
    }
    if (got == static_cast<ssize_t>(sizeof(exec_errno))) {
      result = absl::ErrnoToStatus(exec_errno, path);
    } else if (waited_pid < 0) {
      result = absl::ErrnoToStatus(errno, "waitpid");
    } else {
      result = status;
    }
  }
  close(report[0]);

  // A SIGCHLD still pending is ours and spent; drop it before unblocking.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  struct timespec zero = {0, 0};
  while (sigtimedwait(&chld, nullptr, &zero) == SIGCHLD) {
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGCHLD, &old_chld, nullptr);
  return result;
}

int ShellExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

}  // namespace ipcfault::cli
