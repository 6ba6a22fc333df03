#include "ipcfault/inject/cli/janitor.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ipcfault/inject/cli/cli_util.h"

namespace ipcfault::cli {
namespace {

// Message kinds: the first byte of each datagram.
constexpr char kFile = 'F';        // "DEV INO PATH"
constexpr char kForgetFile = 'f';  // "PATH"
constexpr char kTree = 'T';        // "PATH"
constexpr char kForgetTree = 't';  // "PATH"
constexpr char kGroup = 'G';       // "PGID"
constexpr char kForgetGroup = 'g'; // "PGID"
constexpr char kGoodbye = 'Q';

// A path, its 'F' prefix and two 20-digit numbers fit.
constexpr size_t kMaxMessage = PATH_MAX + 64;

struct Registered {
  std::map<std::string, std::pair<dev_t, ino_t>> files;
  std::set<std::string> trees;
  std::set<pid_t> groups;
};

void CleanUp(const Registered& r) {
  // Processes first, so none is still writing into what is removed next.
  for (pid_t group : r.groups) kill(-group, SIGKILL);
  for (const std::string& tree : r.trees) RemoveTree(tree);
  for (const auto& [path, id] : r.files) {
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && st.st_dev == id.first && st.st_ino == id.second) {
      unlink(path.c_str());
    }
  }
}

void Apply(Registered& r, char kind, const std::string& payload) {
  switch (kind) {
    case kFile: {
      // DEV INO PATH (the path may contain spaces: it is the rest).
      size_t a = payload.find(' ');
      size_t b = a == std::string::npos ? a : payload.find(' ', a + 1);
      uint64_t dev = 0, ino = 0;
      if (b == std::string::npos || !absl::SimpleAtoi(payload.substr(0, a), &dev) ||
          !absl::SimpleAtoi(payload.substr(a + 1, b - a - 1), &ino)) {
        return;
      }
      r.files[payload.substr(b + 1)] = {static_cast<dev_t>(dev), static_cast<ino_t>(ino)};
      return;
    }
    case kForgetFile:
      r.files.erase(payload);
      return;
    case kTree:
      r.trees.insert(payload);
      return;
    case kForgetTree:
      r.trees.erase(payload);
      return;
    case kGroup:
    case kForgetGroup: {
      int pgid = 0;
      if (!absl::SimpleAtoi(payload, &pgid) || pgid <= 1) return;
      if (kind == kGroup) r.groups.insert(pgid);
      else r.groups.erase(pgid);
      return;
    }
  }
}

[[noreturn]] void Serve(int fd) {
  Registered registered;
  std::string buffer(kMaxMessage, '\0');
  for (;;) {
    ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the command is gone (or the pair broke): clean up
    if (buffer[0] == kGoodbye) _exit(0);
    Apply(registered, buffer[0], buffer.substr(1, static_cast<size_t>(n) - 1));
  }
  CleanUp(registered);
  _exit(0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Janitor>> Janitor::Start() {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return absl::ErrnoToStatus(errno, "janitor: socketpair");
  }
  pid_t pid = fork();
  if (pid < 0) {
    int saved = errno;
    close(pair[0]);
    close(pair[1]);
    return absl::ErrnoToStatus(saved, "janitor: fork");
  }
  if (pid == 0) {
    // Out of the command's session and process group: a signal for the
    // command's group or terminal is not for the janitor.
    setsid();
    prctl(PR_SET_NAME, "ipcfault-jan", 0, 0, 0);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) signal(sig, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // Keep nothing of the command's open (its stdout may be a pipe someone
    // reads to EOF) but the janitor's end of the pair; leave the cwd.
    const int keep = pair[1];
    for (int fd = 0; fd < keep; ++fd) close(fd);
    if (close_range(static_cast<unsigned>(keep) + 1, std::numeric_limits<unsigned>::max(), 0) != 0) {
      for (int fd = keep + 1; fd < 1024; ++fd) close(fd);
    }
    if (chdir("/") != 0) {
      // Paths are absolute (see Send's callers); staying put is harmless.
    }
    Serve(keep);
  }
  close(pair[1]);
  return std::unique_ptr<Janitor>(new Janitor(pid, pair[0]));
}

Janitor::~Janitor() {
  char goodbye = kGoodbye;
  while (send(fd_, &goodbye, 1, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
  close(fd_);
  int status;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

void Janitor::Send(char kind, const std::string& payload) {
  std::string message(1, kind);
  message += payload;
  if (message.size() > kMaxMessage) return;  // longer than PATH_MAX: cannot name a file
  while (send(fd_, message.data(), message.size(), MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

namespace {
// The janitor runs in "/": a relative path is made absolute first.
std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  std::string cwd(PATH_MAX, '\0');
  if (getcwd(cwd.data(), cwd.size()) == nullptr) return path;
  cwd.resize(strlen(cwd.c_str()));
  return absl::StrCat(cwd, "/", path);
}
}  // namespace

absl::Status Janitor::RemoveFileOnDeath(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return absl::ErrnoToStatus(errno, path);
  Send(kFile, absl::StrCat(static_cast<uint64_t>(st.st_dev), " ",
                           static_cast<uint64_t>(st.st_ino), " ", Absolute(path)));
  return absl::OkStatus();
}

void Janitor::RemoveTreeOnDeath(const std::string& path) { Send(kTree, Absolute(path)); }
void Janitor::KillGroupOnDeath(pid_t pgid) { Send(kGroup, absl::StrCat(pgid)); }
void Janitor::ForgetFile(const std::string& path) { Send(kForgetFile, Absolute(path)); }
void Janitor::ForgetTree(const std::string& path) { Send(kForgetTree, Absolute(path)); }
void Janitor::ForgetGroup(pid_t pgid) { Send(kForgetGroup, absl::StrCat(pgid)); }

}  // namespace ipcfault::cli
