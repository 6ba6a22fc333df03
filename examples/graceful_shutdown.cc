#include "ipcfault/examples/graceful_shutdown.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ipcfault/examples/errors.h"
#include "ipcfault/examples/net.h"

namespace ipcfault::examples {
namespace {

// What the child writes to the readiness pipe: kReady alone, or kFailed with
// the call that failed and its errno. One write() of at most PIPE_BUF bytes,
// so the parent reads it whole.
constexpr char kReady = 'R';
constexpr char kFailed = 'E';
enum ChildCall : uint8_t { kPrctl, kSigprocmask, kSigaction };
struct ChildFailure {
  char tag;
  uint8_t call;
  int32_t err;
};

// The exit status of a child whose setup failed.
constexpr int kChildSetupFailed = 2;

volatile sig_atomic_t g_stop_requested = 0;

// Runs in the child. Async-signal-safe: sets a flag, nothing else.
void OnStopSignal(int) { g_stop_requested = 1; }

// In the child, after fork(): async-signal-safe calls only.
[[noreturn]] void ReportAndExit(int fd, ChildCall call, int err) {
  ChildFailure failure = {kFailed, call, err};
  ssize_t ignored = write(fd, &failure, sizeof(failure));
  (void)ignored;
  _exit(kChildSetupFailed);
}

// The child, from fork() to _exit(). Async-signal-safe calls only: the
// parent may have other threads, whose locks the child inherits held.
[[noreturn]] void ChildMain(int ready_fd, pid_t parent, const GracefulShutdownOptions& options) {
  // Never outlive the parent, whatever happens to it.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ReportAndExit(ready_fd, kPrctl, errno);
  if (getppid() != parent) _exit(kChildSetupFailed);

  // Block the stop signal until sigsuspend(), so it cannot arrive between
  // checking the flag and waiting (the lost wakeup of pause()).
  sigset_t stop_set;
  sigset_t old_mask;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, options.signal);
  if (sigprocmask(SIG_BLOCK, &stop_set, &old_mask) != 0) {
    ReportAndExit(ready_fd, kSigprocmask, errno);
  }
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = options.child_ignores_signal ? SIG_IGN : OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  if (sigaction(options.signal, &action, nullptr) != 0) {
    ReportAndExit(ready_fd, kSigaction, errno);
  }
  char ready = kReady;
  if (write(ready_fd, &ready, 1) != 1) _exit(kChildSetupFailed);
  close(ready_fd);

  sigset_t wait_mask = old_mask;
  sigdelset(&wait_mask, options.signal);
  while (!g_stop_requested) sigsuspend(&wait_mask);  // returns after the handler
  _exit(options.child_exit_code);
}

std::string ChildCallName(uint8_t call, int sig) {
  switch (call) {
    case kPrctl: return "prctl(PR_SET_PDEATHSIG)";
    case kSigprocmask: return absl::StrCat("sigprocmask(SIG_BLOCK, ", SignalName(sig), ")");
    case kSigaction: return absl::StrCat("sigaction(", SignalName(sig), ")");
  }
  return absl::StrCat("call ", call);
}

// Owns the forked child until it is reaped; if it is not, kills and reaps it
// with raw system calls, which an interposer on kill()/waitpid() does not
// reach, so that an injected failure never leaves an orphan or a zombie.
class ChildGuard {
 public:
  ChildGuard(pid_t pid, bool use_pidfd) : pid_(pid) {
    if (use_pidfd) pidfd_.reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() {
    if (reaped_) return;
    int saved_errno = errno;
    if (pidfd_.valid()) {
      syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    } else {
      syscall(SYS_kill, pid_, SIGKILL);
    }
    siginfo_t info;
    while (syscall(SYS_waitid, P_PID, pid_, &info, WEXITED, nullptr) != 0 && errno == EINTR) {
    }
    errno = saved_errno;
  }

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }

  // waitpid(pid, &status, 0), retrying EINTR.
  absl::StatusOr<int> Wait() {
    int status = 0;
    for (;;) {
      pid_t rc = waitpid(pid_, &status, 0);
      if (rc == pid_) break;
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) return ErrnoError(errno, "waitpid", absl::StrCat(pid_));
    }
    reaped_ = true;
    return status;
  }

  // Waits up to `timeout` for the child to end and reaps it. Returns its
  // wait status, or nullopt if it is still running at the deadline.
  absl::StatusOr<std::optional<int>> WaitFor(absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    if (pidfd_.valid()) {
      // The pidfd becomes readable when the child ends.
      for (;;) {
        pollfd p = {pidfd_.get(), POLLIN, 0};
        int rc = poll(&p, 1, PollTimeoutMs(deadline));
        if (rc < 0 && errno == EINTR) continue;
        if (rc < 0) return ErrnoError(errno, "poll", absl::StrCat("pidfd of child ", pid_));
        if (rc == 0) return std::optional<int>();
        break;
      }
      absl::StatusOr<int> status = Wait();
      if (!status.ok()) return status.status();
      return std::optional<int>(*status);
    }
    // No pidfd (a kernel before 5.3): waitpid(WNOHANG) with a short backoff.
    absl::Duration backoff = absl::Milliseconds(1);
    for (;;) {
      int status = 0;
      pid_t rc = waitpid(pid_, &status, WNOHANG);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) return ErrnoError(errno, "waitpid", absl::StrCat(pid_));
      if (rc == pid_) {
        reaped_ = true;
        return std::optional<int>(status);
      }
      absl::Time now = absl::Now();
      if (now >= deadline) return std::optional<int>();
      poll(nullptr, 0, PollTimeoutMs(std::min(deadline, now + backoff)));
      backoff = std::min(backoff * 2, absl::Milliseconds(50));
    }
  }

 private:
  const pid_t pid_;
  UniqueFd pidfd_;
  bool reaped_ = false;
};

// Waits for the child's readiness report. On failure reaps the child so the
// error can say how it ended.
absl::Status AwaitReady(int ready_fd, ChildGuard& child, const GracefulShutdownOptions& options) {
  absl::Time deadline = absl::Now() + options.ready_timeout;
  for (;;) {
    pollfd p = {ready_fd, POLLIN, 0};
    int rc = poll(&p, 1, PollTimeoutMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) {
      return ErrnoError(errno, "poll", absl::StrCat("readiness pipe of child ", child.pid()));
    }
    if (rc == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("child ", child.pid(), " did not report ready within ",
                       absl::FormatDuration(options.ready_timeout)));
    }
    break;
  }
  ChildFailure message = {};
  ssize_t n;
  do {
    n = read(ready_fd, &message, sizeof(message));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return ErrnoError(errno, "read", absl::StrCat("readiness pipe of child ", child.pid()));
  }
  if (n >= 1 && message.tag == kReady) return absl::OkStatus();
  if (n == sizeof(message) && message.tag == kFailed) {
    absl::StatusOr<int> status = child.Wait();
    return absl::Status(
        absl::ErrnoToStatusCode(message.err),
        absl::StrCat(ChildCallName(message.call, options.signal), " in child ", child.pid(),
                     ": ", ErrnoText(message.err),
                     status.ok() ? absl::StrCat("; child ", DescribeWaitStatus(*status))
                                 : ""));
  }
  // EOF (or garbage): the child ended without reporting.
  absl::StatusOr<int> status = child.Wait();
  if (!status.ok()) return status.status();
  return absl::AbortedError(absl::StrCat("child ", child.pid(),
                                         " ended before reporting ready: ",
                                         DescribeWaitStatus(*status)));
}

}  // namespace

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(wait_status),
                        WCOREDUMP(wait_status) ? " (core dumped)" : "");
  }
  return absl::StrCat("ended with wait status ", wait_status);
}

std::string ShutdownReport::Describe() const {
  if (escalated) {
    return absl::StrCat("child ", pid, " ignored ", SignalName(signal), "; sent SIGKILL; ",
                        DescribeWaitStatus(wait_status));
  }
  return absl::StrCat("child ", pid, " ", DescribeWaitStatus(wait_status), " after ",
                      SignalName(signal));
}

absl::StatusOr<ShutdownReport> RunGracefulShutdown(const GracefulShutdownOptions& options) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe2");
  UniqueFd ready_read(pipe_fds[0]);
  UniqueFd ready_write(pipe_fds[1]);

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return ErrnoError(errno, "fork");
  if (pid == 0) {
    close(ready_read.release());  // no destructors run in the child: it _exit()s
    ChildMain(ready_write.release(), parent, options);
  }
  ChildGuard child(pid, options.use_pidfd);
  ready_write.reset();  // so that the child's death reads as EOF

  if (absl::Status s = AwaitReady(ready_read.get(), child, options); !s.ok()) return s;

  ShutdownReport report;
  report.pid = pid;
  report.signal = options.signal;
  if (kill(pid, options.signal) != 0) {
    return ErrnoError(errno, "kill", absl::StrCat(pid, ", ", SignalName(options.signal)));
  }
  absl::StatusOr<std::optional<int>> ended = child.WaitFor(options.timeout);
  if (!ended.ok()) return ended.status();
  if (ended->has_value()) {
    report.wait_status = **ended;
    return report;
  }
  // Still running after the timeout: it ignored the signal.
  report.escalated = true;
  if (kill(pid, SIGKILL) != 0) {
    return ErrnoError(errno, "kill", absl::StrCat(pid, ", SIGKILL"));
  }
  absl::StatusOr<int> status = child.Wait();
  if (!status.ok()) return status.status();
  report.wait_status = *status;
  return report;
}

}  // namespace ipcfault::examples
