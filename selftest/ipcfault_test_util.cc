#include "ipcfault/selftest/ipcfault_test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

extern char** environ;

namespace ipcfault::selftest {

std::string Runfile(absl::string_view path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/ipcfault/", path);
}

const std::string& IpcfaultBinary() {
  static const std::string* path = new std::string(Runfile("ipcfault"));
  return *path;
}

const std::string& PreloadLibrary() {
  static const std::string* path =
      new std::string(Runfile("inject/libipcfault_preload.so"));
  return *path;
}

std::vector<std::string> PreloadEnv(std::vector<std::string> more) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  more.push_back("LD_PRELOAD=" + PreloadLibrary());
  more.push_back(absl::StrCat("ASAN_OPTIONS=", asan != nullptr ? asan : "",
                              asan != nullptr ? ":" : "",
                              "verify_asan_link_order=0"));
  return more;
}

std::ostream& operator<<(std::ostream& os, const Result& r) {
  return os << "exit " << r.exit_code() << "\n--- stdout\n"
            << r.out << "--- stderr\n"
            << r.err;
}

// ---------------------------------------------------------------------------
// Child

Child::Child(const std::vector<std::string>& argv,
             const std::vector<std::string>& env) {
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view var(*e);
    absl::string_view name = var.substr(0, var.find('='));
    bool overridden = false;
    for (const std::string& o : env) {
      if (absl::string_view(o).substr(0, o.find('=')) == name) overridden = true;
    }
    if (!overridden) environment.emplace_back(var);
  }
  for (const std::string& o : env) {
    if (o.find('=') != std::string::npos) environment.push_back(o);
  }
  std::vector<char*> c_argv, c_env;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (const std::string& e : environment) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);

  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
      pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << strerror(errno);
    return;
  }
  pid_ = fork();
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execve(c_argv[0], c_argv.data(), c_env.data());
    _exit(99);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  stdin_ = in[1];
  stdout_ = out[0];
  stderr_ = err[0];
}

Child::~Child() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  for (int fd : {stdin_, stdout_, stderr_}) {
    if (fd >= 0) close(fd);
  }
}

void Child::Write(absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(stdin_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GT(n, 0) << strerror(errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void Child::CloseStdin() {
  if (stdin_ >= 0) close(stdin_);
  stdin_ = -1;
}

bool Child::WaitForStdout(absl::string_view text) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!absl::StrContains(result_.out, text)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    pollfd p = {stdout_, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    char buf[4096];
    ssize_t n = read(stdout_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    result_.out.append(buf, static_cast<size_t>(n));
  }
  return true;
}

Result Child::Finish() {
  CloseStdin();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::vector<pollfd> fds = {{stdout_, POLLIN, 0}, {stderr_, POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "child " << pid_ << " did not finish; killing it";
      kill(pid_, SIGKILL);
      break;
    }
    int ready = poll(fds.data(), fds.size(), 1000);
    if (ready < 0 && errno == EINTR) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[65536];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      (i == 0 ? result_.out : result_.err).append(buf, static_cast<size_t>(n));
    }
  }
  while (waitpid(pid_, &result_.status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  return result_;
}

Result RunProgram(const std::vector<std::string>& argv,
                  const std::vector<std::string>& env) {
  Child child(argv, env);
  return child.Finish();
}

Result RunIpcfault(std::vector<std::string> args,
                   const std::vector<std::string>& env) {
  args.insert(args.begin(), IpcfaultBinary());
  return RunProgram(args, env);
}

// ---------------------------------------------------------------------------
// Files

std::string ReadFile(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool WaitUntilRemoved(const std::string& path, int timeout_ms) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  int fd = inotify_init1(IN_CLOEXEC);
  if (fd < 0) return false;
  bool gone = false;
  // Watch first, then look: a removal between the two is seen either way.
  if (inotify_add_watch(fd, dir.c_str(), IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF) >= 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!(gone = !Exists(path))) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p = {fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
      char events[4096];
      if (read(fd, events, sizeof(events)) < 0 && errno != EINTR && errno != EAGAIN) break;
    }
  }
  close(fd);
  return gone;
}

void TempDirTest::SetUp() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/ipcfault_test.XXXXXX");
  ASSERT_NE(mkdtemp(pattern.data()), nullptr) << strerror(errno);
  dir_ = pattern;
}

std::string TempDirTest::Path(absl::string_view name) const {
  return absl::StrCat(dir_, "/", name);
}

std::string TempDirTest::WriteFile(absl::string_view name,
                                   absl::string_view content) const {
  std::string path = Path(name);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0) << path << ": " << strerror(errno);
  EXPECT_EQ(write(fd, content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}

// ---------------------------------------------------------------------------
// The fire log

std::optional<LogLine> ParseLogLine(const std::string& line) {
  static const std::regex* const kLine = new std::regex(
      R"re(\{"time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)",(?:"run":"([0-9a-f-]+)",)?)re"
      R"re("pid":(\d+),"tid":(\d+),)re"
      R"re("call":"([a-z0-9_]+)","rule":(\d+),"rule_text":"((?:[^"\\]|\\.)*)",)re"
      R"re("action":"(none|error|retval|short)","errno":(null|"[A-Z0-9_]+"|-?\d+),)re"
      R"re("fd":(-?\d+),"ordinal":(\d+)\})re");
  std::smatch m;
  if (!std::regex_match(line, m, *kLine)) return std::nullopt;
  LogLine out;
  out.time = m[1];
  out.run = m[2];
  out.pid = std::stoll(m[3]);
  out.tid = std::stoll(m[4]);
  out.call = m[5];
  out.rule = std::stoll(m[6]);
  out.rule_text = m[7];
  out.action = m[8];
  out.errno_name = m[9];
  out.fd = std::stoll(m[10]);
  out.ordinal = std::stoull(m[11]);
  return out;
}

std::vector<LogLine> ParseLog(const std::string& log) {
  std::vector<LogLine> lines;
  if (log.empty()) return lines;
  EXPECT_TRUE(absl::EndsWith(log, "\n")) << "log does not end in a newline";
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    std::optional<LogLine> parsed = ParseLogLine(std::string(line));
    EXPECT_TRUE(parsed.has_value()) << "malformed log line: " << line;
    if (parsed.has_value()) lines.push_back(*parsed);
  }
  return lines;
}

}  // namespace ipcfault::selftest
