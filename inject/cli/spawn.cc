#include "ipcfault/inject/cli/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ipcfault::cli {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

std::atomic<pid_t> forward_to{0};
static_assert(std::atomic<pid_t>::is_always_lock_free);

// Signal handler: async-signal-safe (an atomic load and kill).
void Forward(int sig, siginfo_t* info, void*) {
  // si_code <= 0: sent by a process (kill, sigqueue, tgkill). Signals from
  // the terminal (SI_KERNEL) already went to the whole process group.
  if (info->si_code > 0) return;
  pid_t child = forward_to.load(std::memory_order_relaxed);
  if (child <= 0 || info->si_pid == child) return;
  int saved = errno;
  kill(child, sig);
  errno = saved;
}

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

absl::StatusOr<int> SpawnAndWait(const std::string& path,
                                 const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env) {
  std::vector<char*> c_argv = CStrings(argv);
  std::vector<char*> c_env = CStrings(env);

  // The child reports an exec failure's errno on this pipe; a successful
  // exec closes it (O_CLOEXEC), so the parent reads EOF.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");

  // Block the forwarded signals until the child's pid is known, so none is
  // lost between fork and the handler learning where to send it.
  sigset_t forwarded, old_mask;
  sigemptyset(&forwarded);
  for (int sig : kForwarded) sigaddset(&forwarded, sig);
  sigprocmask(SIG_BLOCK, &forwarded, &old_mask);

  struct sigaction old_actions[std::size(kForwarded)];
  for (size_t i = 0; i < std::size(kForwarded); ++i) {
    sigaction(kForwarded[i], nullptr, &old_actions[i]);
    // A signal this process ignores (nohup, a background job) stays ignored,
    // and the child inherits the ignoring.
    if (old_actions[i].sa_handler == SIG_IGN) continue;
    struct sigaction action = {};
    action.sa_sigaction = Forward;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(kForwarded[i], &action, nullptr);
  }

  std::fflush(nullptr);
  pid_t child = fork();
  if (child == 0) {
    // The child, before exec: async-signal-safe calls only.
    for (size_t i = 0; i < std::size(kForwarded); ++i) {
      sigaction(kForwarded[i], &old_actions[i], nullptr);
    }
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    close(report[0]);
    execve(path.c_str(), c_argv.data(), c_env.data());
    int err = errno;
    WriteAll(report[1], &err, sizeof(err));
    _exit(127);
  }
  int fork_errno = errno;
  if (child > 0) forward_to.store(child, std::memory_order_relaxed);
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
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
    pid_t waited;
    do {
      waited = waitpid(child, &status, 0);
    } while (waited < 0 && errno == EINTR);
    if (got == static_cast<ssize_t>(sizeof(exec_errno))) {
      result = absl::ErrnoToStatus(exec_errno, path);
    } else if (waited < 0) {
      result = absl::ErrnoToStatus(errno, "waitpid");
    } else {
      result = status;
    }
  }
  close(report[0]);

  sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  forward_to.store(0, std::memory_order_relaxed);
  for (size_t i = 0; i < std::size(kForwarded); ++i) {
    sigaction(kForwarded[i], &old_actions[i], nullptr);
  }
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  return result;
}

int ShellExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

}  // namespace ipcfault::cli
