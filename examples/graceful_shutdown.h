// examples/graceful_shutdown.h
//
// The classic graceful shutdown done right: fork a child that installs a
// SIGTERM handler with sigaction() and waits; wait for the child to report
// readiness over a pipe (no fixed sleep); kill() it with SIGTERM; waitpid()
// for it with a timeout; and if it has not exited by then, escalate to
// SIGKILL. Report how the child ended.
//
//   ipcfault::examples::GracefulShutdownOptions options;
//   IPCFAULT_ASSERT_OK_AND_ASSIGN(auto report, ipcfault::examples::RunGracefulShutdown(options));
//   EXPECT_FALSE(report.escalated);
//   EXPECT_TRUE(WIFEXITED(report.wait_status));
//   std::cout << report.Describe();  // "child 1234 exited with status 0 after SIGTERM"
//
// The child's handler only sets a volatile sig_atomic_t flag; the child
// waits in sigsuspend() with the signal blocked otherwise (no lost wakeup)
// and calls _exit(child_exit_code) once the flag is set. Between fork() and
// _exit() the child calls only async-signal-safe functions (prctl,
// sigprocmask, sigaction, write, sigsuspend, _exit), so it is safe to fork
// from a multi-threaded test. It dies with its parent (PR_SET_PDEATHSIG).
//
// Errors (the binary prints "graceful_shutdown: " + message):
//   pipe2: Too many open files [EMFILE]
//   fork: Resource temporarily unavailable [EAGAIN]
//   sigaction(SIGTERM) in child 1234: Invalid argument [EINVAL]; child exited with status 2
//   child 1234 did not report ready within 5s
//   child 1234 ended before reporting ready: killed by signal 9
//   kill(1234, SIGTERM): Operation not permitted [EPERM]
//   kill(1234, SIGKILL): No such process [ESRCH]
//   waitpid(1234): No child processes [ECHILD]
// Whatever fails after fork(), the child is killed and reaped before
// returning (with raw pidfd_send_signal/kill and waitid system calls, which
// an interposer on kill() or waitpid() does not reach): no orphan, no zombie.
//
// The calls on the main path are the plain libc ones (pipe2, fork, sigaction,
// sigprocmask, sigsuspend, write, read, poll, kill, waitpid), so an
// interposer or LD_PRELOAD library reaches them. The wait uses a pidfd
// (pidfd_open, Linux >= 5.3) polled with the timeout; without one it falls
// back to waitpid(WNOHANG) polled with a short backoff.

#ifndef IPCFAULT_EXAMPLES_GRACEFUL_SHUTDOWN_H_
#define IPCFAULT_EXAMPLES_GRACEFUL_SHUTDOWN_H_

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ipcfault::examples {

struct GracefulShutdownOptions {
  // How long the child has to exit after the stop signal before SIGKILL.
  absl::Duration timeout = absl::Seconds(2);
  // Upper bound for the child to report readiness.
  absl::Duration ready_timeout = absl::Seconds(5);
  // The stop signal. The binary always uses SIGTERM; tests may choose
  // another (SIGKILL makes the child's sigaction() fail with EINVAL).
  int signal = SIGTERM;
  // The child sets the stop signal to SIG_IGN instead of a handler, so the
  // parent has to escalate.
  bool child_ignores_signal = false;
  // What the child's _exit() returns after its handler ran.
  int child_exit_code = 0;
  // Wait on a pidfd when the kernel has one. False forces the fallback
  // (waitpid(WNOHANG) with a short backoff), so tests can cover both.
  bool use_pidfd = true;
};

// How the child ended.
struct ShutdownReport {
  pid_t pid = -1;
  int signal = SIGTERM;    // the stop signal sent
  bool escalated = false;  // SIGKILL was sent after `timeout`
  int wait_status = 0;     // from waitpid(): use WIFEXITED, WTERMSIG, ...

  // True if the child exited by itself after the stop signal (its handler
  // ran), without SIGKILL.
  bool graceful() const { return !escalated && WIFEXITED(wait_status); }

  // "child 1234 exited with status 0 after SIGTERM",
  // "child 1234 killed by signal 15 after SIGTERM",
  // "child 1234 ignored SIGTERM; sent SIGKILL; killed by signal 9".
  std::string Describe() const;
};

// Forks the child, stops it as described above, and reports how it ended.
// Returns an error naming the call and the errno if any step fails; the
// child is reaped either way. Call from any thread; not async-signal-safe.
absl::StatusOr<ShutdownReport> RunGracefulShutdown(const GracefulShutdownOptions& options);

// "exited with status 0", "killed by signal 9", "killed by signal 11 (core dumped)".
std::string DescribeWaitStatus(int wait_status);

}  // namespace ipcfault::examples

#endif  // IPCFAULT_EXAMPLES_GRACEFUL_SHUTDOWN_H_
