// selftest/ipcfault_run_test.cc
//
// End-to-end tests of the `ipcfault` command and the preload library: real
// processes (//selftest:ipcfault_probe prints what its calls returned), real
// exit statuses, a real fire log.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"

extern char** environ;

namespace ipcfault {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

std::string Runfile(absl::string_view path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/ipcfault/", path);
}

const std::string& Ipcfault() {
  static const std::string* path = new std::string(Runfile("ipcfault"));
  return *path;
}
const std::string& Probe() {
  static const std::string* path =
      new std::string(Runfile("selftest/ipcfault_probe"));
  return *path;
}
const std::string& Preload() {
  static const std::string* path =
      new std::string(Runfile("inject/libipcfault_preload.so"));
  return *path;
}

// The environment that preloads the library directly, without `ipcfault
// run` (which adds the same ASAN_OPTIONS: under --config=asan the probe's
// ASan runtime would otherwise refuse a library preloaded ahead of it).
std::vector<std::string> PreloadEnv(std::vector<std::string> more) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  more.push_back("LD_PRELOAD=" + Preload());
  more.push_back(absl::StrCat("ASAN_OPTIONS=", asan != nullptr ? asan : "",
                              asan != nullptr ? ":" : "",
                              "verify_asan_link_order=0"));
  return more;
}

struct Result {
  int status = -1;  // wait status
  std::string out;
  std::string err;

  int exit_code() const {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
  }
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  return os << "exit " << r.exit_code() << "\n--- stdout\n"
            << r.out << "--- stderr\n"
            << r.err;
}

// A child process with its stdin, stdout and stderr on pipes.
class Child {
 public:
  // `env` entries "NAME=value" replace or add to this process's environment;
  // "NAME" alone removes NAME.
  Child(const std::vector<std::string>& argv,
        const std::vector<std::string>& env = {}) {
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

  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      int status;
      waitpid(pid_, &status, 0);
    }
    for (int fd : {stdin_, stdout_, stderr_}) {
      if (fd >= 0) close(fd);
    }
  }

  pid_t pid() const { return pid_; }

  void Write(absl::string_view data) {
    while (!data.empty()) {
      ssize_t n = write(stdin_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      ASSERT_GT(n, 0) << strerror(errno);
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  void CloseStdin() {
    close(stdin_);
    stdin_ = -1;
  }

  // Reads stdout until it holds `line`; false on EOF or after the bound.
  bool WaitForStdout(absl::string_view line) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!absl::StrContains(result_.out, line)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd p = {stdout_, POLLIN, 0};
      if (poll(&p, 1, 1000) <= 0) continue;
      char buf[4096];
      ssize_t n = read(stdout_, buf, sizeof(buf));
      if (n <= 0) return false;
      result_.out.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  // Reads stdout and stderr to EOF and reaps the child. The 120 s bound is
  // never reached by a passing test; past it the child is killed.
  Result Finish() {
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

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  Result result_;
};

Result RunProgram(const std::vector<std::string>& argv,
           const std::vector<std::string>& env = {}) {
  Child child(argv, env);
  return child.Finish();
}

// `ipcfault ARGS...`
Result Ipcfault(std::vector<std::string> args,
                const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), Ipcfault());
  return RunProgram(args, env);
}

class IpcfaultTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string pattern = absl::StrCat(tmp != nullptr ? tmp : "/tmp",
                                       "/ipcfault_run_test.XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << strerror(errno);
    dir_ = pattern;
  }

  std::string Path(absl::string_view name) const {
    return absl::StrCat(dir_, "/", name);
  }

  std::string WriteFile(absl::string_view name, absl::string_view content) const {
    std::string path = Path(name);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    EXPECT_GE(fd, 0) << path << ": " << strerror(errno);
    EXPECT_EQ(write(fd, content.data(), content.size()),
              static_cast<ssize_t>(content.size()));
    close(fd);
    return path;
  }

  static std::string ReadFile(const std::string& path) {
    std::string out;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    close(fd);
    return out;
  }

  static bool Exists(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
  }

  std::string dir_;
};

// ---------------------------------------------------------------------------
// The fire log's lines.

// One line of the fire log, checked field by field against the documented
// format (inject/internal/fire_log.h), independently of the tool's parser.
struct LogLine {
  int64_t pid, tid, rule, fd;
  uint64_t ordinal;
  std::string time, call, rule_text, action, errno_name;
};

std::optional<LogLine> ParseLogLine(const std::string& line) {
  static const std::regex* const kLine = new std::regex(
      R"re(\{"time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)","pid":(\d+),"tid":(\d+),)re"
      R"re("call":"([a-z0-9_]+)","rule":(\d+),"rule_text":"((?:[^"\\]|\\.)*)",)re"
      R"re("action":"(none|error|retval|short)","errno":(null|"[A-Z0-9_]+"|-?\d+),)re"
      R"re("fd":(-?\d+),"ordinal":(\d+)\})re");
  std::smatch m;
  if (!std::regex_match(line, m, *kLine)) return std::nullopt;
  LogLine out;
  out.time = m[1];
  out.pid = std::stoll(m[2]);
  out.tid = std::stoll(m[3]);
  out.call = m[4];
  out.rule = std::stoll(m[5]);
  out.rule_text = m[6];
  out.action = m[7];
  out.errno_name = m[8];
  out.fd = std::stoll(m[9]);
  out.ordinal = std::stoull(m[10]);
  return out;
}

// Every line of `log`, each required to be a well-formed record.
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

// "connect 1: pid=P fd=F ok" -> {P, F, "ok"}
struct ConnectLine {
  int pid, fd;
  std::string outcome;
};

std::vector<ConnectLine> ConnectLines(const std::string& out) {
  std::vector<ConnectLine> lines;
  static const std::regex* const kLine =
      new std::regex(R"(connect \d+: pid=(\d+) fd=(\d+) ([A-Z0-9]+|ok))");
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    std::string s(line);
    std::smatch m;
    if (std::regex_match(s, m, *kLine)) {
      lines.push_back({std::stoi(m[1]), std::stoi(m[2]), m[3]});
    }
  }
  return lines;
}

std::vector<std::string> Outcomes(const std::string& out) {
  std::vector<std::string> outcomes;
  for (const ConnectLine& line : ConnectLines(out)) outcomes.push_back(line.outcome);
  return outcomes;
}

// ---------------------------------------------------------------------------
// Help and usage errors.

TEST_F(IpcfaultTest, HelpForTheToolAndEachCommand) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"help"}}) {
    Result r = Ipcfault(args);
    EXPECT_EQ(r.exit_code(), 0) << r;
    EXPECT_THAT(r.out, StartsWith("Usage: ipcfault COMMAND")) << r;
    EXPECT_THAT(r.out, HasSubstr("  run  "));
    EXPECT_THAT(r.err, IsEmpty());
  }
  for (std::string command : {"run", "check", "calls"}) {
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {command, "--help"}, {command, "-h"}, {"help", command}}) {
      Result r = Ipcfault(args);
      EXPECT_EQ(r.exit_code(), 0) << r;
      EXPECT_THAT(r.out, StartsWith(absl::StrCat("Usage: ipcfault ", command, " ")))
          << r;
      EXPECT_THAT(r.out, HasSubstr("Exit status"));
    }
  }
  Result r = Ipcfault({"run", "--help"});
  for (const char* option : {"--rule", "--scenario", "--seed", "--log", "--scope",
                             "--quiet"}) {
    EXPECT_THAT(r.out, HasSubstr(option));
  }
}

struct UsageCase {
  std::vector<std::string> args;
  std::string message;
};

TEST_F(IpcfaultTest, UsageErrorsExit2WithAClearMessage) {
  const std::vector<UsageCase> cases = {
      {{}, "Usage: ipcfault COMMAND"},
      {{"frobnicate"}, "ipcfault: unknown command 'frobnicate'"},
      {{"--frobnicate"}, "ipcfault: unknown option '--frobnicate'"},
      {{"help", "frobnicate"}, "unknown command 'frobnicate'"},
      {{"run"}, "ipcfault run: missing '--' and the program"},
      {{"run", "-e", "connect:error=EPERM", Probe(), "exit", "0"},
       "ipcfault run: missing '--' before the program '" + Probe() + "'"},
      {{"run", "-e", "connect:error=EPERM", "--"},
       "ipcfault run: no program given after '--'"},
      {{"run", "--frobnicate", "--", Probe()},
       "ipcfault run: unknown option '--frobnicate'"},
      {{"run", "--scope", "most", "--", Probe()}, "invalid scope 'most'"},
      {{"run", "--seed", "x", "--", Probe()}, "invalid seed 'x'"},
      {{"run", "-e"}, "option '-e' requires an argument"},
      {{"check"}, "ipcfault check: no scenario file given"},
      {{"check", "--frobnicate"}, "ipcfault check: unknown option '--frobnicate'"},
      {{"calls", "frobnicate"}, "ipcfault calls: unknown call 'frobnicate'"},
      {{"calls", "%frobnicate"}, "ipcfault calls: unknown call set '%frobnicate'"},
  };
  for (const UsageCase& c : cases) {
    Result r = Ipcfault(c.args);
    EXPECT_EQ(r.exit_code(), 2) << r;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << r;
    EXPECT_THAT(r.out, IsEmpty()) << r;
  }
}

// ---------------------------------------------------------------------------
// ipcfault check, ipcfault calls

TEST_F(IpcfaultTest, CheckPrintsCanonicalFormThatChecksAgain) {
  std::string good = WriteFile("good.scenario",
                               "# a comment\n"
                               "\n"
                               "inject=connect:error=ECONNREFUSED:when=1\n"
                               "accept:error=EMFILE:when=3   # trailing\n");
  Result r = Ipcfault({"check", good});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.err, IsEmpty());
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << r;
  EXPECT_THAT(lines[0], HasSubstr("connect"));
  EXPECT_THAT(lines[0], HasSubstr("ECONNREFUSED"));
  EXPECT_THAT(lines[1], HasSubstr("EMFILE"));
  // Canonical is a fixed point.
  std::string canonical = WriteFile("canonical.scenario", r.out);
  Result again = Ipcfault({"check", canonical});
  EXPECT_EQ(again.exit_code(), 0) << again;
  EXPECT_EQ(again.out, r.out);
}

TEST_F(IpcfaultTest, CheckReportsFileLineColumnAndExits1) {
  std::string good = WriteFile("good.scenario", "connect:error=ECONNREFUSED\n");
  std::string bad = WriteFile("bad.scenario",
                              "connect:error=ECONNREFUSED\n"
                              "accept:error=ECONNREFUSE\n");
  Result r = Ipcfault({"check", good, bad, Path("missing.scenario")});
  EXPECT_EQ(r.exit_code(), 1) << r;
  EXPECT_THAT(r.err, MatchesRegex(absl::StrCat(
                         "(.|\n)*", bad, ":2:[0-9]+: [^\n]*ECONNREFUSE(.|\n)*")))
      << r;
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat(Path("missing.scenario"),
                                            ": No such file or directory")));
  // The good file is still printed, headed by its name.
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("# ", good, "\n")));
  EXPECT_THAT(r.out, Not(HasSubstr(bad)));
}

TEST_F(IpcfaultTest, CallsListsEveryCallOfTheTable) {
  Result r = Ipcfault({"calls"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  for (const CallInfo& info : AllCalls()) {
    EXPECT_THAT(r.out, MatchesRegex(absl::StrCat("(.|\n)*\n", info.name, " +%(.|\n)*")))
        << info.name;
  }
  for (const char* set : {"%net", "%io", "%signal", "%process"}) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("  ", set, " ")));
  }
  EXPECT_THAT(r.out, HasSubstr("ECONNREFUSED"));
  EXPECT_THAT(r.out, HasSubstr("EAI_AGAIN"));

  Result one = Ipcfault({"calls", "accept"});
  ASSERT_EQ(one.exit_code(), 0) << one;
  EXPECT_THAT(one.out, HasSubstr("\naccept "));
  EXPECT_THAT(one.out, HasSubstr("EMFILE"));
  EXPECT_THAT(one.out, Not(HasSubstr("\nconnect ")));
}

// ---------------------------------------------------------------------------
// Bad rules: nothing runs.

TEST_F(IpcfaultTest, RuleThatDoesNotParseExits2AndRunsNothing) {
  std::string marker = Path("marker");
  Result r = Ipcfault({"run", "-e", "inject=connect:error=ECONNREFUSE:when=1",
                       "--", Probe(), "touch", marker});
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, StartsWith("-e:1:")) << r;
  EXPECT_THAT(r.err, HasSubstr("ECONNREFUSE")) << r;
  EXPECT_FALSE(Exists(marker));

  std::string scenario = WriteFile("bad.scenario",
                                   "connect:error=ECONNREFUSED:when=1\n"
                                   "accept:frobnicate=1\n");
  r = Ipcfault({"run", "--scenario", scenario, "--", Probe(), "touch", marker});
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, StartsWith(absl::StrCat(scenario, ":2:"))) << r;
  EXPECT_FALSE(Exists(marker));

  r = Ipcfault({"run", "-s", Path("missing"), "--", Probe(), "touch", marker});
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, HasSubstr("No such file or directory")) << r;
  EXPECT_FALSE(Exists(marker));
}

TEST_F(IpcfaultTest, PreloadStopsTheProgramBeforeMainOnABadScenario) {
  std::string marker = Path("marker");
  Result r = RunProgram({Probe(), "touch", marker},
                 PreloadEnv({"IPCFAULT_SCENARIO=connect:error=ECONNREFUSED\nread:when=0..x\n"}));
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, StartsWith("IPCFAULT_SCENARIO:2:")) << r;
  EXPECT_THAT(r.err, HasSubstr("not running")) << r;
  EXPECT_FALSE(Exists(marker));

  std::string scenario = WriteFile("bad.scenario", "\n\nkill:error=EBOGUS\n");
  r = RunProgram({Probe(), "touch", marker},
          PreloadEnv({"IPCFAULT_SCENARIO_FILE=" + scenario}));
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, StartsWith(absl::StrCat(scenario, ":3:"))) << r;
  EXPECT_FALSE(Exists(marker));

  r = RunProgram({Probe(), "touch", marker},
          PreloadEnv({"IPCFAULT_SCENARIO_FILE=" + Path("none")}));
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, HasSubstr("No such file or directory")) << r;
  EXPECT_FALSE(Exists(marker));

  r = RunProgram({Probe(), "touch", marker},
          PreloadEnv({"IPCFAULT_SCENARIO=connect:error=EPERM",
           "IPCFAULT_SCOPE=everyone"}));
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, HasSubstr("IPCFAULT_SCOPE=everyone")) << r;
  EXPECT_FALSE(Exists(marker));
}

// ---------------------------------------------------------------------------
// Exit statuses, signals, stdio.

TEST_F(IpcfaultTest, ExitStatusPassesThrough) {
  for (int code : {0, 1, 3, 42, 255}) {
    Result r = Ipcfault({"run", "-e", "accept:error=EMFILE", "--", Probe(), "exit",
                         absl::StrCat(code)});
    EXPECT_EQ(r.exit_code(), code) << r;
    EXPECT_TRUE(WIFEXITED(r.status));
    EXPECT_THAT(r.err, HasSubstr(absl::StrCat("exited with status ", code))) << r;
  }
}

TEST_F(IpcfaultTest, SignalDeathIs128PlusSignal) {
  for (int sig : {SIGTERM, SIGKILL, SIGSEGV}) {
    Result r = Ipcfault({"run", "-e", "accept:error=EMFILE", "--", Probe(),
                         "signal", absl::StrCat(sig)});
    EXPECT_EQ(r.exit_code(), 128 + sig) << r;
    EXPECT_TRUE(WIFEXITED(r.status)) << "ipcfault itself must exit, not die";
    EXPECT_THAT(r.err, HasSubstr(absl::StrCat("was killed by SIG", sigabbrev_np(sig))))
        << r;
  }
}

TEST_F(IpcfaultTest, StdinAndStdoutPassThrough) {
  Child child({Ipcfault(), "run", "-q", "--", Probe(), "cat"});
  child.Write("hello, through ipcfault\n");
  Result r = child.Finish();
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_EQ(r.out, "hello, through ipcfault\n");
  EXPECT_THAT(r.err, IsEmpty()) << "-q prints no summary";
}

TEST_F(IpcfaultTest, TerminationSignalIsForwardedToTheProgram) {
  Child child({Ipcfault(), "run", "--", Probe(), "wait-term"});
  ASSERT_TRUE(child.WaitForStdout("ready\n"));
  ASSERT_EQ(kill(child.pid(), SIGTERM), 0);  // to ipcfault, not the program
  Result r = child.Finish();
  EXPECT_EQ(r.exit_code(), 7) << r;  // the program's SIGTERM handler ran
}

TEST_F(IpcfaultTest, ProgramNotFoundOrNotExecutable) {
  Result r = Ipcfault({"run", "--", Path("no-such-program")});
  EXPECT_EQ(r.exit_code(), 127) << r;
  EXPECT_THAT(r.err, HasSubstr("no-such-program")) << r;
  r = Ipcfault({"run", "--", "ipcfault-no-such-command"}, {"PATH=" + dir_});
  EXPECT_EQ(r.exit_code(), 127) << r;
  EXPECT_THAT(r.err, HasSubstr("ipcfault-no-such-command: command not found")) << r;
  std::string text = WriteFile("text", "not a program\n");
  chmod(text.c_str(), 0755);
  r = Ipcfault({"run", "--", text});
  EXPECT_EQ(r.exit_code(), 126) << r;
  EXPECT_THAT(r.err, HasSubstr("not an ELF executable")) << r;
}

TEST_F(IpcfaultTest, StaticallyLinkedProgramIsRefused) {
  std::string program = Runfile("selftest/static_probe");
  std::string marker = Path("marker");
  Result r = Ipcfault({"run", "-e", "connect:error=ECONNREFUSED", "--", program,
                       marker});
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, HasSubstr("is statically linked")) << r;
  EXPECT_FALSE(Exists(marker)) << "it must not run without faults";
  // The program itself runs fine: the refusal is ipcfault's.
  r = RunProgram({program, marker});
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_TRUE(Exists(marker));
}

TEST_F(IpcfaultTest, ShellScriptsRunThroughTheirInterpreter) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Under --config=asan/tsan the preload library is sanitizer-built and
  // needs its runtime loaded first, which only a sanitizer-built program
  // does; /bin/sh is not one.
  GTEST_SKIP() << "the sanitizer-built preload library cannot load into /bin/sh";
#endif
  std::string script = WriteFile(
      "connect.sh", absl::StrCat("#!/bin/sh\nexec '", Probe(), "' connect 2\n"));
  chmod(script.c_str(), 0755);
  Result r = Ipcfault({"run", "-e", "connect:error=ECONNREFUSED:when=2", "--", script});
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ok", "ECONNREFUSED")) << r;
}

// ---------------------------------------------------------------------------
// Faults, the log and the summary.

TEST_F(IpcfaultTest, ConnectRefusedExactlyOnceAndLoggedOnce) {
  std::string log = Path("fires.log");
  Result r = Ipcfault({"run", "-e", "inject=connect:error=ECONNREFUSED:when=1",
                       "--log", log, "--", Probe(), "connect", "3"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  std::vector<ConnectLine> connects = ConnectLines(r.out);
  ASSERT_EQ(connects.size(), 3u) << r;
  EXPECT_EQ(connects[0].outcome, "ECONNREFUSED");
  EXPECT_EQ(connects[1].outcome, "ok");
  EXPECT_EQ(connects[2].outcome, "ok");

  std::vector<LogLine> lines = ParseLog(ReadFile(log));
  ASSERT_EQ(lines.size(), 1u) << ReadFile(log);
  const LogLine& line = lines[0];
  EXPECT_EQ(line.pid, connects[0].pid);
  EXPECT_EQ(line.tid, connects[0].pid);  // the main thread
  EXPECT_EQ(line.fd, connects[0].fd);
  EXPECT_EQ(line.call, "connect");
  EXPECT_EQ(line.rule, 0);
  EXPECT_THAT(line.rule_text, HasSubstr("connect:error=ECONNREFUSED"));
  EXPECT_EQ(line.action, "error");
  EXPECT_EQ(line.errno_name, "\"ECONNREFUSED\"");
  EXPECT_EQ(line.ordinal, 1u);

  EXPECT_THAT(r.err, MatchesRegex("(.|\n)*ipcfault: rule 0 connect:error=ECONNREFUSED[^\n]*: "
                                  "fired 1 time \\(1 process\\)\n(.|\n)*"))
      << r;
  EXPECT_THAT(r.err, HasSubstr("fire log: " + log));
}

TEST_F(IpcfaultTest, LogAppendsAndTheSummaryCountsOnlyThisRun) {
  std::string log = Path("fires.log");
  for (int run = 1; run <= 2; ++run) {
    Result r = Ipcfault({"run", "-e", "connect:error=ECONNREFUSED:when=2..3",
                         "-e", "kill:error=EPERM", "--log", log, "--", Probe(),
                         "connect", "4"});
    ASSERT_EQ(r.exit_code(), 0) << r;
    EXPECT_THAT(Outcomes(r.out), ElementsAre("ok", "ECONNREFUSED", "ECONNREFUSED", "ok"));
    EXPECT_THAT(r.err, HasSubstr("fired 2 times (1 process)")) << r;
    EXPECT_THAT(r.err, MatchesRegex("(.|\n)*ipcfault: rule 1 kill:error=EPERM[^\n]*: "
                                    "never fired\n(.|\n)*"))
        << r;
    std::vector<LogLine> lines = ParseLog(ReadFile(log));
    ASSERT_EQ(lines.size(), 2u * run);
    EXPECT_EQ(lines.back().ordinal, 3u);
  }
}

TEST_F(IpcfaultTest, TemporaryLogIsRemoved) {
  std::string tmp = Path("tmp");
  ASSERT_EQ(mkdir(tmp.c_str(), 0700), 0);
  Result r = Ipcfault({"run", "-e", "connect:error=ECONNREFUSED", "--", Probe(),
                       "connect", "2"},
                      {"TMPDIR=" + tmp, "TEST_UNDECLARED_OUTPUTS_DIR", "IPCFAULT_LOG"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.err, HasSubstr("fired 2 times")) << r;
  EXPECT_THAT(r.err, Not(HasSubstr("fire log:"))) << r;
  Result ls = RunProgram({"/bin/ls", "-A", tmp});
  EXPECT_EQ(ls.out, "") << "the temporary log was left behind";
}

TEST_F(IpcfaultTest, PreloadAloneArmsFromTheEnvironment) {
  std::string log = Path("direct.log");
  Result r = RunProgram({Probe(), "connect", "2"},
                 PreloadEnv({"IPCFAULT_SCENARIO=# refused once\nconnect:error=ECONNREFUSED:when=1\n",
                  "IPCFAULT_LOG=" + log}));
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ECONNREFUSED", "ok"));
  EXPECT_EQ(ParseLog(ReadFile(log)).size(), 1u);

  // No scenario: inert.
  r = RunProgram({Probe(), "connect", "1"}, PreloadEnv({"IPCFAULT_SCENARIO",
                                      "IPCFAULT_SCENARIO_FILE"}));
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ok"));
}

TEST_F(IpcfaultTest, PreloadLogsToUndeclaredOutputsByDefault) {
  std::string outputs = Path("outputs");
  ASSERT_EQ(mkdir(outputs.c_str(), 0755), 0);
  Result r = RunProgram({Probe(), "connect", "1"},
                 PreloadEnv({"IPCFAULT_SCENARIO=connect:error=EPERM",
                  "IPCFAULT_LOG", "TEST_UNDECLARED_OUTPUTS_DIR=" + outputs}));
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("EPERM"));
  std::vector<LogLine> lines = ParseLog(ReadFile(outputs + "/ipcfault.log"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].errno_name, "\"EPERM\"");
}

// ---------------------------------------------------------------------------
// Children: fork, exec, scope.

TEST_F(IpcfaultTest, ScopeAllReachesAForkedAndExecdGrandchild) {
  std::string log = Path("fires.log");
  Result r = Ipcfault({"run", "-e", "connect:error=ECONNREFUSED:when=1", "--log", log,
                       "--", Probe(), "spawn", Probe(), "connect", "2"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  std::vector<ConnectLine> connects = ConnectLines(r.out);
  ASSERT_EQ(connects.size(), 2u) << r;
  EXPECT_EQ(connects[0].outcome, "ECONNREFUSED");
  EXPECT_EQ(connects[1].outcome, "ok");
  std::vector<LogLine> lines = ParseLog(ReadFile(log));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].pid, connects[0].pid);  // logged by the grandchild

  r = Ipcfault({"run", "-e", "connect:error=EPERM", "--", Probe(), "spawn", Probe(),
                "env"});
  EXPECT_THAT(r.out, HasSubstr("IPCFAULT_SCOPE=all\n"));
  EXPECT_THAT(r.out, MatchesRegex("(.|\n)*LD_PRELOAD=[^\n]*/libipcfault_preload.so(.|\n)*"));
}

TEST_F(IpcfaultTest, ScopeFirstSparesWhatTheProgramExecs) {
  Result r = Ipcfault({"run", "--scope=first", "-e", "connect:error=ECONNREFUSED:when=1",
                       "--", Probe(), "spawn", Probe(), "connect", "2"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ok", "ok")) << r;
  EXPECT_THAT(r.err, HasSubstr("never fired"));

  // The exec'd program sees neither the library nor the scenario.
  r = Ipcfault({"run", "--scope=first", "-e", "connect:error=EPERM", "--", Probe(),
                "spawn", Probe(), "env"},
               {"LD_PRELOAD"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.out, HasSubstr("LD_PRELOAD unset\n"));
  EXPECT_THAT(r.out, HasSubstr("IPCFAULT_SCENARIO unset\n"));
  EXPECT_THAT(r.out, HasSubstr("IPCFAULT_LOG unset\n"));
  EXPECT_THAT(r.out, HasSubstr("IPCFAULT_SCOPE unset\n"));

  // The first process itself, and a child it forks without exec, keep it.
  r = Ipcfault({"run", "--scope=first", "-e", "connect:error=ECONNREFUSED:when=1",
                "--", Probe(), "connect", "2"});
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ECONNREFUSED", "ok")) << r;
  r = Ipcfault({"run", "--scope=first", "-e", "connect:error=ECONNREFUSED:when=1",
                "--", Probe(), "fork", "connect", "2"});
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ECONNREFUSED", "ok")) << r;
}

TEST_F(IpcfaultTest, ForkedChildKeepsRulesAndCounts) {
  // when=2: the parent's connect is the rule's first matching call; the
  // child forked after it counts on from there, so its connect is the second.
  Result r = Ipcfault({"run", "-e", "connect:error=ECONNREFUSED:when=2", "--", Probe(),
                       "connect-then-fork", "1", "2"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  std::vector<ConnectLine> connects = ConnectLines(r.out);
  ASSERT_EQ(connects.size(), 3u) << r;
  EXPECT_EQ(connects[0].outcome, "ok");            // parent, 1st
  EXPECT_EQ(connects[1].outcome, "ECONNREFUSED");  // child, 2nd
  EXPECT_EQ(connects[2].outcome, "ok");            // child, 3rd
  EXPECT_NE(connects[0].pid, connects[1].pid);
}

TEST_F(IpcfaultTest, ConcurrentProcessesNeverInterleaveLogLines) {
  constexpr int kProcesses = 3;
  constexpr int kConnects = 2000;
  std::string log = Path("fires.log");
  Result r = Ipcfault({"run", "-e", "connect:error=ENETDOWN", "--log", log, "--",
                       Probe(), "hammer", absl::StrCat(kProcesses),
                       absl::StrCat(kConnects)});
  ASSERT_EQ(r.exit_code(), 0) << r;
  for (int p = 0; p < kProcesses; ++p) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("hammer ", p, ": ", kConnects,
                                              " ENETDOWN\n")));
  }
  std::vector<LogLine> lines = ParseLog(ReadFile(log));
  ASSERT_EQ(lines.size(), size_t{kProcesses * kConnects});
  std::map<int64_t, std::set<uint64_t>> ordinals;
  for (const LogLine& line : lines) {
    EXPECT_EQ(line.call, "connect");
    EXPECT_EQ(line.errno_name, "\"ENETDOWN\"");
    EXPECT_TRUE(ordinals[line.pid].insert(line.ordinal).second)
        << "ordinal " << line.ordinal << " twice in pid " << line.pid;
  }
  ASSERT_EQ(ordinals.size(), size_t{kProcesses});
  for (const auto& [pid, seen] : ordinals) {
    EXPECT_EQ(seen.size(), size_t{kConnects}) << pid;
    EXPECT_EQ(*seen.begin(), 1u);
    EXPECT_EQ(*seen.rbegin(), uint64_t{kConnects});
  }
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("fired ", kProcesses * kConnects,
                                            " times (", kProcesses, " processes)")))
      << r;
}

}  // namespace
}  // namespace ipcfault
