#include "ipcfault/inject/cli/cli_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ipcfault::cli {

void WriteOut(absl::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

void WriteErr(absl::string_view text) { std::fwrite(text.data(), 1, text.size(), stderr); }

void PrintUsageError(absl::string_view command, absl::string_view message) {
  std::string prefix =
      command.empty() ? "ipcfault" : absl::StrCat("ipcfault ", command);
  Err(prefix, ": ", message, "\nTry '", prefix, " --help' for more information.\n");
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

uint64_t RandomBits() {
  uint64_t bits = 0;
  ssize_t n;
  do {
    n = getrandom(&bits, sizeof(bits), 0);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof(bits))) return bits;
  struct timespec now = {};
  clock_gettime(CLOCK_MONOTONIC, &now);
  // splitmix64's finaliser over the clock and the pid.
  uint64_t z = (static_cast<uint64_t>(now.tv_sec) * 1000000000u +
                static_cast<uint64_t>(now.tv_nsec)) ^
               (static_cast<uint64_t>(getpid()) << 32);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

void RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    unlink(path.c_str());
    return;
  }
  if (DIR* dir = opendir(path.c_str())) {
    while (struct dirent* e = readdir(dir)) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      RemoveTree(absl::StrCat(path, "/", e->d_name));
    }
    closedir(dir);
  }
  rmdir(path.c_str());
}

}  // namespace ipcfault::cli
