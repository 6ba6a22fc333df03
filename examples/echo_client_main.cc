// echo_client: writes book titles to an echo server and prints each echo on
// its own line. Any failure prints one line "echo_client: CALL(ADDRESS):
// message [ERRNO]" to stderr and exits 1; bad flags exit 2.
//
//   echo_client --port=9876 [--host=127.0.0.1] [--timeout=5s] [TITLE...]

#include <stdio.h>

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ipcfault/examples/echo_client.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Server host name or address.");
ABSL_FLAG(int, port, 0, "Server TCP port (required).");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5),
          "Upper bound for connecting and for each echo, e.g. 5s, 250ms.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Echoes book titles through an echo server.\n"
      "  echo_client --port=9876 [--host=127.0.0.1] [--timeout=5s] [TITLE...]");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);

  ipcfault::examples::EchoClientOptions options;
  options.host = absl::GetFlag(FLAGS_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  if (options.port < 1 || options.port > 65535) {
    fprintf(stderr, "echo_client: --port is required and must be in 1..65535 (got %d)\n",
            options.port);
    return 2;
  }
  if (options.timeout <= absl::ZeroDuration()) {
    fprintf(stderr, "echo_client: --timeout must be positive (got %s)\n",
            absl::FormatDuration(options.timeout).c_str());
    return 2;
  }
  if (positional.size() > 1) options.titles.assign(positional.begin() + 1, positional.end());

  absl::Status status =
      ipcfault::examples::RunEchoClient(options, [](absl::string_view echo) {
        fwrite(echo.data(), 1, echo.size(), stdout);
        fputc('\n', stdout);
        fflush(stdout);
      });
  if (!status.ok()) {
    fprintf(stderr, "echo_client: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
