#include "ipcfault/inject/cli/spawn.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
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

// The controlling terminal, if this process's group is its foreground
// group (only then may the program's group take it over); else -1.
int ForegroundTerminal() {
  int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (tty < 0) return -1;
  if (tcgetpgrp(tty) != getpgrp()) {
    close(tty);
    return -1;
  }
  return tty;
}

// Makes `pgid` the foreground group of `tty`. A process outside the
// foreground group gets SIGTTOU for this unless it blocks it: the caller
// has it blocked (SIGTTOU is in the spawner's blocked set).
void GiveTerminal(int tty, pid_t pgid) {
  if (tty >= 0) tcsetpgrp(tty, pgid);
}

}  // namespace

const std::vector<int>& ForwardedSignals() {
  static const std::vector<int>* const kSignals = new std::vector<int>{
      SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH};
  return *kSignals;
}

// No signal handlers: the forwarded signals and SIGCHLD are blocked and
// taken synchronously with sigwaitinfo(), so nothing runs in a signal
// context, and a sanitizer that defers handlers cannot delay a forward.
absl::StatusOr<int> SpawnAndWait(const std::string& path,
                                 const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env,
                                 const SpawnOptions& options) {
  std::vector<char*> c_argv = CStrings(argv);
  std::vector<char*> c_env = CStrings(env);

  // The child reports an exec failure's errno on this pipe; a successful
  // exec closes it (O_CLOEXEC), so the parent reads EOF.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");

  sigset_t waited, blocked, old_mask;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCHLD);
  // A signal this process ignores (nohup, a background job) stays ignored,
  // and the child inherits the ignoring.
  for (int sig : ForwardedSignals()) {
    struct sigaction current;
    sigaction(sig, nullptr, &current);
    if (current.sa_handler != SIG_IGN) sigaddset(&waited, sig);
  }
  // SIGTTOU and SIGTTIN blocked while this process hands the terminal over
  // and takes it back from outside the foreground group.
  blocked = waited;
  sigaddset(&blocked, SIGTTOU);
  sigaddset(&blocked, SIGTTIN);
  // With SIGCHLD ignored the kernel would reap the child itself, and its
  // exit status would be lost.
  struct sigaction old_chld, dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGCHLD, &dfl, &old_chld);
  pthread_sigmask(SIG_BLOCK, &blocked, &old_mask);

  int tty = ForegroundTerminal();
  const pid_t parent = getpid();
  std::fflush(nullptr);
  pid_t child = fork();
  if (child == 0) {
    // The child, before exec: async-signal-safe calls only. It dies with
    // its parent, even one killed by SIGKILL; if the parent is already gone,
    // it does not start at all.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(128 + SIGKILL);
    // Its own process group, the terminal's foreground one (both here and
    // in the parent, whichever runs first: no window where the program
    // could read the terminal from a background group).
    setpgid(0, 0);
    GiveTerminal(tty, getpid());
    sigaction(SIGCHLD, &old_chld, nullptr);
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    close(report[0]);
    for (int fd : options.inherit_fds) {
      int flags = fcntl(fd, F_GETFD);
      if (flags >= 0) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
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
    setpgid(child, child);  // EACCES once it has exec'd: then it did it
    GiveTerminal(tty, child);
    int exec_errno = 0;
    ssize_t got;
    do {
      got = read(report[0], &exec_errno, sizeof(exec_errno));
    } while (got < 0 && errno == EINTR);
    int status = 0;
    pid_t waited_pid = 0;
    for (;;) {
      waited_pid = waitpid(child, &status, WNOHANG | WUNTRACED);
      if (waited_pid < 0 && errno == EINTR) continue;
      if (waited_pid > 0 && WIFSTOPPED(status)) {
        // Job control: the program stopped for the terminal (Ctrl-Z, or a
        // read or write from the background). Take the terminal back and
        // stop likewise, so the shell sees its job stop; when continued
        // (`fg`, `bg`), hand the terminal on if this process got it, and
        // continue the program. A plain SIGSTOP is someone else's business:
        // this process waits on.
        int stop = WSTOPSIG(status);
        if (stop == SIGTSTP || stop == SIGTTIN || stop == SIGTTOU) {
          GiveTerminal(tty, getpgrp());
          kill(getpid(), SIGSTOP);
          if (tty >= 0) close(tty);
          tty = ForegroundTerminal();
          GiveTerminal(tty, child);
          kill(-child, SIGCONT);
        }
        continue;
      }
      if (waited_pid != 0) break;
      siginfo_t info;
      int sig = sigwaitinfo(&waited, &info);
      if (sig < 0 || sig == SIGCHLD) continue;
      // Whoever sent it (another process, this process's group, the
      // kernel), it reached this process only: the program is in a group
      // of its own. Forward it once, to that group, unless the program
      // itself sent it.
      if (!(info.si_code <= 0 && info.si_pid == child)) {
        if (kill(-child, sig) != 0) kill(child, sig);
      }
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
  GiveTerminal(tty, getpgrp());
  if (tty >= 0) close(tty);

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
