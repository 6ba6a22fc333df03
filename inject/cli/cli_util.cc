#include "ipcfault/inject/cli/cli_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ipcfault::cli {

void PrintUsageError(absl::string_view command, absl::string_view message) {
  std::string prefix =
      command.empty() ? "ipcfault" : absl::StrCat("ipcfault ", command);
  std::cerr << prefix << ": " << message << "\nTry '" << prefix
            << " --help' for more information.\n";
}

bool IsHelp(absl::string_view arg) { return arg == "-h" || arg == "--help"; }

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = path == "-" ? dup(STDIN_FILENO)
                       : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, path);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return absl::ErrnoToStatus(err, path);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

std::string GetEnv(const char* name) {
  const char* value = getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace ipcfault::cli
