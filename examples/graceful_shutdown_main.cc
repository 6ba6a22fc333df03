// graceful_shutdown: forks a child that handles SIGTERM, waits until it is
// ready, sends SIGTERM, and reports how it ended on one line of stdout:
//   child 1234 exited with status 0 after SIGTERM
//   child 1234 ignored SIGTERM; sent SIGKILL; killed by signal 9
// Exit status: 0 if the child exited by itself after SIGTERM; 3 if it had to
// be killed (or ended some other way); 1 if a call failed (one line on
// stderr naming the call and the errno); 2 for bad flags.
//
//   graceful_shutdown [--timeout=2s] [--ready_timeout=5s]
//                     [--child_ignores_sigterm] [--child_exit_code=0]

#include <stdio.h>

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "ipcfault/examples/graceful_shutdown.h"

ABSL_FLAG(absl::Duration, timeout, absl::Seconds(2),
          "How long the child has to exit after SIGTERM before it gets SIGKILL.");
ABSL_FLAG(absl::Duration, ready_timeout, absl::Seconds(5),
          "Upper bound for the child to report that its handler is installed.");
ABSL_FLAG(bool, child_ignores_sigterm, false,
          "The child ignores SIGTERM (SIG_IGN), so the parent must escalate to SIGKILL.");
ABSL_FLAG(int, child_exit_code, 0, "The status the child exits with after SIGTERM (0..255).");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Stops a forked child with SIGTERM, escalating to SIGKILL after a timeout.\n"
      "  graceful_shutdown [--timeout=2s] [--ready_timeout=5s] "
      "[--child_ignores_sigterm] [--child_exit_code=0]");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    fprintf(stderr, "graceful_shutdown: unexpected argument '%s'\n", positional[1]);
    return 2;
  }
  ipcfault::examples::GracefulShutdownOptions options;
  options.timeout = absl::GetFlag(FLAGS_timeout);
  options.ready_timeout = absl::GetFlag(FLAGS_ready_timeout);
  options.child_ignores_signal = absl::GetFlag(FLAGS_child_ignores_sigterm);
  options.child_exit_code = absl::GetFlag(FLAGS_child_exit_code);
  if (options.child_exit_code < 0 || options.child_exit_code > 255) {
    fprintf(stderr, "graceful_shutdown: --child_exit_code=%d is out of range 0..255\n",
            options.child_exit_code);
    return 2;
  }
  if (options.timeout < absl::ZeroDuration() || options.ready_timeout <= absl::ZeroDuration()) {
    fprintf(stderr, "graceful_shutdown: --timeout and --ready_timeout must be positive\n");
    return 2;
  }
  absl::StatusOr<ipcfault::examples::ShutdownReport> report =
      ipcfault::examples::RunGracefulShutdown(options);
  if (!report.ok()) {
    fprintf(stderr, "graceful_shutdown: %s\n", std::string(report.status().message()).c_str());
    return 1;
  }
  printf("%s\n", report->Describe().c_str());
  return report->graceful() ? 0 : 3;
}
