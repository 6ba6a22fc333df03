// echo_server: the TCP echo server. Prints "listening on ADDRESS" once it is
// accepting, serves until SIGTERM or SIGINT, then prints "stopped by SIGTERM"
// and exits 0. A failure to start prints one line to stderr and exits 1.
//
//   echo_server --port=0 [--host=127.0.0.1] [--concurrent]

#include <signal.h>
#include <stdio.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "ipcfault/examples/echo_server.h"
#include "ipcfault/examples/errors.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Address to listen on.");
ABSL_FLAG(int, port, 0, "TCP port to listen on; 0 picks an ephemeral one (printed).");
ABSL_FLAG(bool, concurrent, false,
          "Serve all connected clients at once (default: one at a time, like "
          "the classic iterative server).");

namespace {

std::atomic<ipcfault::examples::EchoServer*> g_server{nullptr};
volatile sig_atomic_t g_signal = 0;

// Async-signal-safe: records the signal and writes one byte to a pipe.
void OnStopSignal(int sig) {
  g_signal = sig;
  if (auto* server = g_server.load()) server->Stop();
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "A TCP echo server.\n  echo_server --port=0 [--host=127.0.0.1] [--concurrent]");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    fprintf(stderr, "echo_server: unexpected argument '%s'\n", positional[1]);
    return 2;
  }

  ipcfault::examples::EchoServerOptions options;
  options.host = absl::GetFlag(FLAGS_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.concurrent = absl::GetFlag(FLAGS_concurrent);
  if (options.port < 0 || options.port > 65535) {
    fprintf(stderr, "echo_server: --port=%d is out of range 0..65535\n", options.port);
    return 2;
  }
  auto server = ipcfault::examples::EchoServer::Listen(options);
  if (!server.ok()) {
    fprintf(stderr, "echo_server: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  g_server.store(server->get());

  // Without SA_RESTART: not needed for poll() (never restarted), and keeps
  // any other blocking call interruptible.
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  for (int sig : {SIGTERM, SIGINT}) {
    if (sigaction(sig, &action, nullptr) != 0) {
      fprintf(stderr, "echo_server: %s\n",
              ipcfault::examples::FormatErrno(errno, "sigaction",
                                              ipcfault::examples::SignalName(sig))
                  .c_str());
      return 1;
    }
  }

  printf("listening on %s\n", (*server)->address().c_str());
  fflush(stdout);

  absl::Status status = (*server)->Run();
  g_server.store(nullptr);
  if (!status.ok()) {
    fprintf(stderr, "echo_server: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  printf("stopped by %s\n", ipcfault::examples::SignalName(g_signal).c_str());
  return 0;
}
