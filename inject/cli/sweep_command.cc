// `ipcfault record` and `ipcfault sweep`. The design, and the choices the
// issue left open, are in docs/sweep.md; in short:
//
//   plain run (traced)  ->  Recording (calls, sites)  ->  Plan (one rule per
//   site and fault)  ->  runs in parallel, each in its own process group and
//   directory  ->  Verdict per run  ->  oracle  ->  text / JSON / JUnit.
//
// Each fault is aimed at a call site with `site=HASH:when=K`: the K-th call
// from that call stack in a process, whatever other calls come before it,
// and the same rule replays the run under `ipcfault run`.

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/cli/cli_util.h"
#include "ipcfault/inject/cli/commands.h"
#include "ipcfault/inject/cli/janitor.h"
#include "ipcfault/inject/cli/json.h"
#include "ipcfault/inject/cli/program.h"
#include "ipcfault/inject/cli/recording.h"
#include "ipcfault/inject/names.h"

extern char** environ;

namespace ipcfault::cli {

const char kRecordHelp[] = R"(Usage: ipcfault record [OPTION]... -- PROGRAM [ARG]...
Run PROGRAM once, with no fault, and list every interposed call it made: per
process, the call, its ordinal among that process's calls of that name, the
kind of its fd, and its call site (a hash of the call stack, which a rule's
site= key matches, and file:line / function where the binary's symbols allow,
else module+offset). Calls from the same stack are one site.

Options:
      --json=FILE    also write the recording as JSON to FILE
      --timeout=DUR  stop PROGRAM after DUR (default 120s)
  -h, --help         show this help and exit

Exit status: PROGRAM's (128+N if signal N killed it), 2 on a usage error.
)";

const char kSweepHelp[] = R"(Usage: ipcfault sweep [OPTION]... -- PROGRAM [ARG]...
       ipcfault sweep merge [--json=FILE] [--junit=FILE] DIR|FILE...
Find the faults PROGRAM does not survive. Run it once plain (it must exit 0),
record its calls and call sites, then run it once per (call site, fault),
each fault drawn from the call table, and judge every run: passed, failed,
crashed, hung, leaked, sanitizer, not-reached. Transient faults (EINTR, short
transfers, EAGAIN on a non-blocking fd, ECONNABORTED/EPROTO on accept, delays)
must leave it passing; no fault may crash, hang, leak or trip a sanitizer.
Runs that break that are findings, each with the `ipcfault run` command that
replays it. A GoogleTest binary is swept one test case at a time.

Options:
      --faults=LIST      fault classes: errors, short, eintr, stall, delay,
                           eintr-any (EINTR on non-blocking fds too, as
                           strace injects it; no kernel does)
                           (default errors,short,eintr; +CLASS adds to it)
      --only=PATTERN     sweep only calls of processes whose executable
                           matches PATTERN (glob on the path or its base name)
      --sites=TEXT       sweep only sites whose location contains TEXT
      --gtest_filter=F   with a gtest binary: only these test cases
      --occurrences=N    try a site at its first N occurrences (default 2;
                           errors: the first only)
  -j, --jobs=N           runs at a time (default: the number of cores)
      --timeout=DUR      each run's limit (default: 5x the plain run, at
                           least 10s)
      --baseline=FILE    accepted findings: 'SITE FAULT REASON' a line (SITE:
                           a hash, or text of its location; FAULT or '*')
      --json=FILE        write the report as JSON
      --junit=FILE       write one JUnit testcase per run
      --shard=I/N        run only the I-th of N slices of the plan (from 0;
                           default from TEST_SHARD_INDEX/TEST_TOTAL_SHARDS)
      --expect=TEXT      (for tests of the sweep) a finding whose call, fault,
                           location and test hold every word of TEXT must be
                           found, and no other finding may be
  -q, --quiet            print findings only
  -h, --help             show this help and exit

Exit status: 0 no finding, 1 findings, 2 usage error or a failing plain run.
)";

namespace {

constexpr int kExitFindings = 1;  // sweep: findings (kExitOk, kExitUsage: cli_util.h)

// ---------------------------------------------------------------------------
// Small helpers.

std::string Basename(absl::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path : path.substr(slash + 1));
}

// POSIX I/O with O_CLOEXEC: the sweep forks from many threads at once, and
// a /proc file may vanish while read (std::ifstream would throw).
absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat(path, ": ", strerror(errno)));
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

bool WriteFile(const std::string& path, absl::string_view text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  while (!text.empty()) {
    ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return close(fd) == 0 && text.empty();
}

std::string ShellQuote(absl::string_view s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-+=/.,:%@") == absl::string_view::npos) {
    return std::string(s);
  }
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  return out + "'";
}

// Socket files under `dir` (a run's TMPDIR), recursively.
void FindSocketFiles(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (struct dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    std::string path = absl::StrCat(dir, "/", e->d_name);
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISSOCK(st.st_mode)) out.push_back(path);
    if (S_ISDIR(st.st_mode)) FindSocketFiles(path, out);
  }
  closedir(d);
}

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text) {
  absl::Duration d;
  if (absl::ParseDuration(text, &d) && d > absl::ZeroDuration()) return d;
  double seconds;
  if (absl::SimpleAtod(text, &seconds) && seconds > 0) return absl::Seconds(seconds);
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a duration (e.g. 30s, 500ms, 2m)"));
}

// ---------------------------------------------------------------------------
// Running the program once.

struct RunRequest {
  std::string path;                  // resolved executable
  std::vector<std::string> argv;     // argv[0] first
  std::string library;               // the preload library
  std::string scenario;              // a rule, or "" for none
  bool trace = false;                // the plain run: record every call
  absl::Duration timeout = absl::Seconds(120);
  std::string dir;                   // this run's own directory (created)
};

struct RunOutcome {
  bool started = false;
  std::string start_error;
  int status = 0;                    // wait status
  bool timed_out = false;
  bool orphans = false;              // a process of the run outlived it
  absl::Duration wall;
  std::string output;                // stdout and stderr, interleaved
  std::string sweep_log;
  std::string fire_log;
  std::vector<std::string> socket_files;
};

// Variables of ours, or of a Bazel test, that the program must not inherit:
// it is not the shard of a test, and its files go to its own directory.
bool DropFromEnvironment(absl::string_view name) {
  static const char* const kDrop[] = {
      "LD_PRELOAD", "ASAN_OPTIONS", "TMPDIR", "TEST_TMPDIR", "TEST_UNDECLARED_OUTPUTS_DIR",
      "TEST_TOTAL_SHARDS", "TEST_SHARD_INDEX", "TEST_SHARD_STATUS_FILE", "GTEST_SHARD_INDEX",
      "GTEST_TOTAL_SHARDS", "GTEST_SHARD_STATUS_FILE", "XML_OUTPUT_FILE", "GTEST_OUTPUT",
      "TEST_PREMATURE_EXIT_FILE", "TEST_WARNINGS_OUTPUT_FILE", "GTEST_FILTER"};
  for (const char* d : kDrop) {
    if (name == d) return true;
  }
  return absl::StartsWith(name, "IPCFAULT_");
}

std::vector<std::string> RunEnvironment(const RunRequest& req) {
  std::vector<std::string> env;
  std::string preload = req.library;
  std::string asan;
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view var(*e);
    absl::string_view name = var.substr(0, var.find('='));
    absl::string_view value = var.substr(std::min(var.size(), name.size() + 1));
    if (name == "LD_PRELOAD") {
      for (absl::string_view lib : absl::StrSplit(value, absl::ByAnyChar(": "), absl::SkipEmpty())) {
        if (Basename(lib) != Basename(req.library)) absl::StrAppend(&preload, ":", lib);
      }
    }
    if (name == "ASAN_OPTIONS") asan = std::string(value);
    if (DropFromEnvironment(name)) continue;
    env.emplace_back(var);
  }
  if (!absl::StrContains(asan, "verify_asan_link_order")) {
    absl::StrAppend(&asan, asan.empty() ? "" : ":", "verify_asan_link_order=0");
  }
  env.push_back(absl::StrCat("LD_PRELOAD=", preload));
  env.push_back(absl::StrCat("ASAN_OPTIONS=", asan));
  env.push_back(absl::StrCat("TMPDIR=", req.dir, "/tmp"));
  env.push_back(absl::StrCat("TEST_TMPDIR=", req.dir, "/tmp"));
  env.push_back(absl::StrCat("TEST_UNDECLARED_OUTPUTS_DIR=", req.dir, "/tmp"));
  env.push_back(absl::StrCat("IPCFAULT_SWEEP_LOG=", req.dir, "/sweep.log"));
  env.push_back(absl::StrCat("IPCFAULT_LOG=", req.dir, "/fires.log"));
  env.push_back("IPCFAULT_SCOPE=all");
  if (req.trace) env.push_back("IPCFAULT_TRACE=1");
  if (!req.scenario.empty()) env.push_back(absl::StrCat("IPCFAULT_SCENARIO=", req.scenario));
  return env;
}

// Processes in process group `pgid` (the run's), by /proc.
std::vector<pid_t> GroupMembers(pid_t pgid) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (struct dirent* e = readdir(proc)) {
    int pid;
    if (!absl::SimpleAtoi(e->d_name, &pid)) continue;
    std::string text = ReadWhole(absl::StrCat("/proc/", pid, "/stat")).value_or("");
    size_t close_paren = text.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::vector<std::string> fields =
        absl::StrSplit(text.substr(close_paren + 2), ' ', absl::SkipEmpty());
    // state ppid pgrp ...
    int pgrp = 0;
    if (fields.size() < 3 || !absl::SimpleAtoi(fields[2], &pgrp) || pgrp != pgid) continue;
    if (fields[0] == "Z" || fields[0] == "X") continue;  // already dead
    out.push_back(pid);
  }
  closedir(proc);
  return out;
}

// Waits up to `limit` for `pid` to end (a pidfd; no polling loop).
bool WaitForExit(pid_t pid, absl::Duration limit) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return true;  // gone already
  pollfd p = {pidfd, POLLIN, 0};
  int rc;
  do {
    rc = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(limit)));
  } while (rc < 0 && errno == EINTR);
  close(pidfd);
  return rc > 0;
}

// The janitor of this sweep or record (janitor.h): if ipcfault is killed
// (SIGKILL: no signal thread runs), it kills the process groups of the runs
// under way and removes the work directory. Set before any worker starts.
Janitor* janitor = nullptr;

// The process groups of the runs under way, for the signal thread.
std::mutex active_mu;
std::set<pid_t>& ActiveGroups() {
  static auto* groups = new std::set<pid_t>();
  return *groups;
}

RunOutcome RunOnce(const RunRequest& req) {
  RunOutcome out;
  mkdir(req.dir.c_str(), 0700);
  mkdir(absl::StrCat(req.dir, "/tmp").c_str(), 0700);
  const std::string output_path = absl::StrCat(req.dir, "/output");
  std::vector<std::string> env = RunEnvironment(req);
  std::vector<char*> argv_c, env_c;
  for (const std::string& a : req.argv) argv_c.push_back(const_cast<char*>(a.c_str()));
  argv_c.push_back(nullptr);
  for (const std::string& e : env) env_c.push_back(const_cast<char*>(e.c_str()));
  env_c.push_back(nullptr);

  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    out.start_error = absl::StrCat("pipe: ", strerror(errno));
    return out;
  }
  const absl::Time start = absl::Now();
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    out.start_error = absl::StrCat("fork: ", strerror(errno));
    close(error_pipe[0]);
    close(error_pipe[1]);
    return out;
  }
  if (pid == 0) {
    // The child of a multithreaded process: async-signal-safe calls only.
    setpgid(0, 0);
    // Dies with the sweep's thread that started it, even by SIGKILL.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || in < 0) _exit(127);
    dup2(in, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    // Other threads of the sweep open files (without O_CLOEXEC, as
    // std::ifstream does) while this one forks: none may reach the program,
    // whose descriptors at exit are counted. The error pipe stays: it is
    // O_CLOEXEC.
    const unsigned keep = static_cast<unsigned>(error_pipe[1]);
    if (keep > 3) syscall(SYS_close_range, 3u, keep - 1, 0u);
    syscall(SYS_close_range, keep + 1, ~0u, 0u);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(req.path.c_str(), argv_c.data(), env_c.data());
    int err = errno;
    ssize_t ignored = write(error_pipe[1], &err, sizeof(err));
    (void)ignored;
    _exit(127);
  }
  setpgid(pid, pid);  // also here: no race with the kill below
  {
    std::lock_guard<std::mutex> lock(active_mu);
    ActiveGroups().insert(pid);
  }
  if (janitor != nullptr) janitor->KillGroupOnDeath(pid);
  close(error_pipe[1]);
  int exec_errno = 0;
  ssize_t got;
  do {
    got = read(error_pipe[0], &exec_errno, sizeof(exec_errno));
  } while (got < 0 && errno == EINTR);
  close(error_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof(exec_errno))) {
    waitpid(pid, nullptr, 0);
    out.start_error = absl::StrCat(req.path, ": ", strerror(exec_errno));
    return out;
  }
  out.started = true;
  if (!WaitForExit(pid, req.timeout)) {
    out.timed_out = true;
    kill(-pid, SIGKILL);
  }
  while (waitpid(pid, &out.status, 0) < 0 && errno == EINTR) {
  }
  out.wall = absl::Now() - start;
  // What is left of the run's process group. A child that dies with its
  // parent (PR_SET_PDEATHSIG) gets a moment to; one still there is an orphan.
  for (pid_t member : GroupMembers(pid)) {
    if (!WaitForExit(member, absl::Milliseconds(500))) out.orphans = true;
  }
  kill(-pid, SIGKILL);
  while (waitpid(-pid, nullptr, WNOHANG) > 0) {
  }
  {
    std::lock_guard<std::mutex> lock(active_mu);
    ActiveGroups().erase(pid);
  }
  if (janitor != nullptr) janitor->ForgetGroup(pid);
  FindSocketFiles(absl::StrCat(req.dir, "/tmp"), out.socket_files);
  if (auto t = ReadWhole(output_path); t.ok()) out.output = *std::move(t);
  if (auto t = ReadWhole(absl::StrCat(req.dir, "/sweep.log")); t.ok()) out.sweep_log = *std::move(t);
  if (auto t = ReadWhole(absl::StrCat(req.dir, "/fires.log")); t.ok()) out.fire_log = *std::move(t);
  return out;
}

std::string DescribeStatus(const RunOutcome& run) {
  if (run.timed_out) return "still running at the timeout";
  if (WIFSIGNALED(run.status)) {
    return absl::StrCat("killed by ", SignalName(WTERMSIG(run.status)));
  }
  return absl::StrCat("exit status ", WEXITSTATUS(run.status));
}

// The most telling line(s) of a run's output: a gtest failure's message, a
// sanitizer's headline, else the last line.
std::string Excerpt(const std::string& output) {
  std::vector<absl::string_view> lines = absl::StrSplit(output, '\n', absl::SkipWhitespace());
  for (size_t i = 0; i < lines.size(); ++i) {
    if (absl::StrContains(lines[i], "ERROR: AddressSanitizer") ||
        absl::StrContains(lines[i], "WARNING: ThreadSanitizer") ||
        absl::StrContains(lines[i], "runtime error:") ||
        absl::StrContains(lines[i], "ERROR: LeakSanitizer")) {
      return std::string(absl::StripAsciiWhitespace(lines[i]));
    }
  }
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (absl::EndsWith(lines[i], "Failure")) {
      std::string text(absl::StripAsciiWhitespace(lines[i + 1]));
      if (i + 2 < lines.size() && !absl::StartsWith(lines[i + 2], "[")) {
        absl::StrAppend(&text, " ", absl::StripAsciiWhitespace(lines[i + 2]));
      }
      return text.substr(0, 200);
    }
  }
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (absl::StartsWith(*it, "ipcfault:")) continue;
    return std::string(absl::StripAsciiWhitespace(*it)).substr(0, 200);
  }
  return "";
}

bool SanitizerReport(const std::string& output) {
  return absl::StrContains(output, "ERROR: AddressSanitizer") ||
         absl::StrContains(output, "WARNING: ThreadSanitizer") ||
         absl::StrContains(output, ": runtime error: ") ||
         absl::StrContains(output, "ERROR: LeakSanitizer");
}

// ---------------------------------------------------------------------------
// Options.

enum FaultClass : uint8_t {
  kErrors = 1 << 0,
  kShort = 1 << 1,
  kEintr = 1 << 2,
  kStall = 1 << 3,
  kDelay = 1 << 4,
  kEintrAny = 1 << 5,
};
constexpr uint8_t kDefaultClasses = kErrors | kShort | kEintr;

struct SweepOptions {
  uint8_t classes = kDefaultClasses;
  std::string only;
  std::string sites;
  std::string gtest_filter;
  int occurrences = 2;
  int jobs = 0;
  std::optional<absl::Duration> timeout;
  std::string baseline;
  std::string json;
  std::string junit;
  int shard_index = 0;
  int shard_count = 1;
  bool shard_from_env = false;
  std::vector<std::string> expect;
  bool quiet = false;
  std::vector<std::string> command;
};

absl::StatusOr<uint8_t> ParseFaults(absl::string_view list) {
  uint8_t classes = 0;
  bool additive = false;
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    bool plus = absl::ConsumePrefix(&item, "+");
    additive |= plus;
    uint8_t bit;
    if (item == "errors") bit = kErrors;
    else if (item == "short") bit = kShort;
    else if (item == "eintr") bit = kEintr;
    else if (item == "stall") bit = kStall;
    else if (item == "delay") bit = kDelay;
    else if (item == "eintr-any") bit = kEintrAny;
    else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--faults: unknown fault class '", item,
          "' (classes: errors, short, eintr, eintr-any, stall, delay; +CLASS adds to the default)"));
    }
    classes |= bit;
  }
  return additive ? static_cast<uint8_t>(classes | kDefaultClasses) : classes;
}

absl::StatusOr<SweepOptions> ParseSweepOptions(absl::Span<const std::string> args, bool* help) {
  SweepOptions o;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "-h" || arg == "--help") {
      *help = true;
      return o;
    }
    if (arg == "-q" || arg == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (!absl::StartsWith(arg, "-")) break;
    std::string name(arg), value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
      has_value = true;
    } else if (arg == "-j" || arg == "--jobs") {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
      value = args[++i];
      has_value = true;
    }
    if (!has_value) return absl::InvalidArgumentError(absl::StrCat("unknown option '", arg, "'"));
    if (name == "--faults") {
      absl::StatusOr<uint8_t> c = ParseFaults(value);
      if (!c.ok()) return c.status();
      o.classes = *c;
    } else if (name == "--only") {
      o.only = value;
    } else if (name == "--sites") {
      o.sites = value;
    } else if (name == "--gtest_filter") {
      o.gtest_filter = value;
    } else if (name == "--occurrences") {
      if (!absl::SimpleAtoi(value, &o.occurrences) || o.occurrences < 1 || o.occurrences > 100) {
        return absl::InvalidArgumentError(
            absl::StrCat("--occurrences: '", value, "' is not a number from 1 to 100"));
      }
    } else if (name == "-j" || name == "--jobs") {
      if (!absl::SimpleAtoi(value, &o.jobs) || o.jobs < 1 || o.jobs > 1024) {
        return absl::InvalidArgumentError(
            absl::StrCat("--jobs: '", value, "' is not a number from 1 to 1024"));
      }
    } else if (name == "--timeout") {
      absl::StatusOr<absl::Duration> d = ParseDuration(value);
      if (!d.ok()) return absl::InvalidArgumentError(absl::StrCat("--timeout: ", d.status().message()));
      o.timeout = *d;
    } else if (name == "--baseline") {
      o.baseline = value;
    } else if (name == "--json") {
      o.json = value;
    } else if (name == "--junit") {
      o.junit = value;
    } else if (name == "--expect") {
      o.expect.push_back(value);
    } else if (name == "--shard") {
      std::vector<std::string> parts = absl::StrSplit(value, '/');
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &o.shard_index) ||
          !absl::SimpleAtoi(parts[1], &o.shard_count) || o.shard_count < 1 ||
          o.shard_index < 0 || o.shard_index >= o.shard_count) {
        return absl::InvalidArgumentError(
            absl::StrCat("--shard: '", value, "' is not I/N with 0 <= I < N"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown option '", name, "'"));
    }
  }
  for (; i < args.size(); ++i) o.command.push_back(args[i]);
  if (o.command.empty()) return absl::InvalidArgumentError("no PROGRAM given (ipcfault sweep [OPTION]... -- PROGRAM [ARG]...)");
  return o;
}

// ---------------------------------------------------------------------------
// The baseline: accepted findings.

struct Accepted {
  // A site hash (exact, but it changes when the binary is rebuilt), or text
  // its location contains (a function name survives rebuilds), or "*".
  std::string site;
  std::string fault;  // fault text, or "*"
  std::string reason;
};

absl::StatusOr<std::vector<Accepted>> LoadBaseline(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWhole(path);
  if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat("--baseline ", text.status().message()));
  std::vector<Accepted> out;
  int n = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++n;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> words = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() < 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", n, ": expected 'SITE FAULT REASON...' (a reason is required), got '", line, "'"));
    }
    const absl::string_view site = words[0];
    Accepted a;
    a.site = std::string(site);
    a.fault = std::string(words[1]);
    a.reason = absl::StrJoin(words.begin() + 2, words.end(), " ");
    out.push_back(std::move(a));
  }
  return out;
}

// ---------------------------------------------------------------------------
// The plan.

struct PlannedRun {
  std::string test;        // gtest case, or ""
  std::string site;
  std::string call;
  std::string where;
  std::string fault;       // the action as rule text: error=EIO, short=1
  uint64_t when = 1;
  bool transient = false;
  std::string rule;        // the full rule
};

// Errors after which a correct caller carries on, from the call table;
// EAGAIN only counts on a non-blocking fd.
bool IsTransientError(Call call, int error, bool nonblocking) {
  for (int e : TransientErrors(call)) {
    if (e != error) continue;
    return error != EAGAIN || nonblocking;
  }
  return false;
}

// What `stall` does: the call blocks for longer than the run may last, as a
// peer that never answers would make it.
bool Stallable(Call c) {
  switch (c) {
    case Call::kAccept: case Call::kAccept4: case Call::kConnect: case Call::kRead:
    case Call::kReadv: case Call::kRecv: case Call::kRecvfrom: case Call::kRecvmsg:
    case Call::kWrite: case Call::kWritev: case Call::kSend: case Call::kSendto:
    case Call::kSendmsg: case Call::kWaitpid:
      return true;
    default:
      return false;
  }
}

// Errors the kernel returns only for arguments the caller got wrong (a bad
// fd, pointer or flag): the plain run showed the program passes good ones at
// this site, so injecting these would test what cannot happen there.
bool ArgumentError(Call call, int error) {
  if (GetCallInfo(call).failure != FailureStyle::kMinusOneErrno &&
      GetCallInfo(call).failure != FailureStyle::kReturnsErrno &&
      GetCallInfo(call).failure != FailureStyle::kNonzeroErrno) {
    return false;
  }
  return error == EBADF || error == EFAULT || error == ENOTSOCK || error == EINVAL;
}

// close releases the descriptor whatever it returns (an injected error= now
// closes it too, docs/fidelity.md); the sweep still plans no error on close:
// a program can only report a failed close.
bool SkipsErrors(Call call) { return call == Call::kClose; }

std::vector<PlannedRun> PlanSite(const RecordedSite& site, const std::string& test,
                                 const SweepOptions& o, absl::Duration timeout) {
  std::vector<PlannedRun> plan;
  std::optional<Call> call = CallByName(site.call);
  if (!call.has_value()) return plan;
  const CallInfo& info = GetCallInfo(*call);
  const uint64_t reached = site.max_matching_per_process;
  if (reached == 0) return plan;  // only on fds a rule without fd= skips
  const uint64_t transient_reach = std::min<uint64_t>(reached, o.occurrences);
  auto add = [&](std::string fault, uint64_t when, bool transient) {
    PlannedRun r;
    r.test = test;
    r.site = site.hash;
    r.call = site.call;
    r.where = site.where;
    r.fault = fault;
    r.when = when;
    r.transient = transient;
    // In canonical order (ipcfault check prints it so).
    r.rule = absl::StrCat(site.call, ":", fault, ":when=", when, ":site=", site.hash);
    plan.push_back(std::move(r));
  };
  if ((o.classes & kErrors) && !SkipsErrors(*call)) {
    for (int error : info.errors) {
      if (error == EINTR && info.failure == FailureStyle::kMinusOneErrno) continue;  // eintr class
      if (ArgumentError(*call, error)) continue;
      if (error == EISDIR && site.kind != "file") continue;  // a directory's error
      const char* name = FindErrorName(ErrorDomainOf(info.failure), error);
      if (name == nullptr) continue;
      std::string fault = absl::StrCat("error=", name);
      // The kernel raises SIGPIPE with EPIPE on a write to a broken stream;
      // write/writev cannot ask it not to (send's MSG_NOSIGNAL can: plain EPIPE).
      if (error == EPIPE && (*call == Call::kWrite || *call == Call::kWritev)) {
        absl::StrAppend(&fault, ":signal=SIGPIPE");
      }
      add(fault, 1, IsTransientError(*call, error, site.nonblocking));
    }
  }
  if ((o.classes & kShort) && (info.keys & kKeyShort)) {
    for (uint64_t k = 1; k <= transient_reach; ++k) {
      add("short=1", k, true);
      if (site.min_count >= 4) add(absl::StrCat("short=", site.min_count / 2), k, true);
    }
  }
  if ((o.classes & (kEintr | kEintrAny)) && info.failure == FailureStyle::kMinusOneErrno &&
      !SkipsErrors(*call)) {
    bool documented = std::find(info.errors.begin(), info.errors.end(), EINTR) != info.errors.end();
    // A call on a non-blocking fd never sleeps, so no signal can interrupt
    // it: the kernel returns EINTR only where the call could block.
    // eintr-any keeps strace's meaning: EINTR wherever the man page lists it.
    if (documented && (!site.nonblocking || (o.classes & kEintrAny))) {
      for (uint64_t k = 1; k <= transient_reach; ++k) {
        add("error=EINTR:signal=SIGURG", k, IsTransientError(*call, EINTR, site.nonblocking));
      }
    }
  }
  if ((o.classes & kStall) && Stallable(*call)) {
    add(absl::StrCat("delay_enter=", absl::ToInt64Milliseconds(timeout) + 5000, "ms"), 1, false);
  }
  if (o.classes & kDelay) {
    for (uint64_t k = 1; k <= transient_reach; ++k) add("delay_enter=100ms", k, true);
  }
  return plan;
}

bool SiteSelected(const RecordedSite& site, const SweepOptions& o) {
  if (!o.only.empty()) {
    const std::string base = Basename(site.exe);
    if (fnmatch(o.only.c_str(), site.exe.c_str(), 0) != 0 &&
        fnmatch(o.only.c_str(), base.c_str(), 0) != 0 && !absl::StrContains(base, o.only)) {
      return false;
    }
  }
  if (!o.sites.empty() && !absl::StrContains(site.where, o.sites)) return false;
  return true;
}

// Which shard a run belongs to: by a hash of the run itself, so that every
// shard computes the same assignment whatever the others' plans hold.
int ShardOf(const PlannedRun& r, int count) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : absl::StrCat(r.test, "|", r.rule)) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return static_cast<int>(h % static_cast<uint64_t>(count));
}

// ---------------------------------------------------------------------------
// Verdicts and the report.

struct RunResult {
  PlannedRun run;
  std::string verdict;   // passed failed crashed hung leaked sanitizer not-reached
  std::string detail;
  std::string replay;
  bool finding = false;
  std::string accepted;  // the baseline's reason, if accepted
  double seconds = 0;
};

std::string Judge(const RunOutcome& out, const Recording& plain, std::string* detail) {
  const bool fired = !absl::StripAsciiWhitespace(out.fire_log).empty();
  std::string excerpt = Excerpt(out.output);
  auto with = [&](std::string what) {
    return excerpt.empty() ? what : absl::StrCat(what, ": ", excerpt);
  };
  if (!out.started) {
    *detail = out.start_error;
    return "failed";
  }
  if (!fired) {
    *detail = absl::StrCat("the rule never fired (", DescribeStatus(out), ")");
    return "not-reached";
  }
  if (out.timed_out) {
    *detail = with(absl::StrCat("still running after ", absl::FormatDuration(out.wall)));
    return "hung";
  }
  if (SanitizerReport(out.output)) {
    *detail = with(DescribeStatus(out));
    return "sanitizer";
  }
  if (WIFSIGNALED(out.status)) {
    *detail = with(DescribeStatus(out));
    return "crashed";
  }
  std::vector<std::string> leaks;
  if (out.orphans) leaks.push_back("a process outlived the run");
  for (const std::string& s : out.socket_files) leaks.push_back(absl::StrCat("socket file ", Basename(s)));
  const bool passed = WEXITSTATUS(out.status) == 0;
  if (passed) {
    absl::StatusOr<Recording> rec = ParseSweepLog(out.sweep_log);
    if (rec.ok()) {
      if (rec->exit_fds > plain.exit_fds) {
        leaks.push_back(absl::StrCat(rec->exit_fds - plain.exit_fds, " more fd(s) open at exit"));
      }
      if (rec->exit_children > plain.exit_children) {
        leaks.push_back(absl::StrCat(rec->exit_children - plain.exit_children,
                                     " child process(es) not reaped at exit"));
      }
    }
  }
  if (!leaks.empty()) {
    *detail = absl::StrCat(DescribeStatus(out), "; ", absl::StrJoin(leaks, ", "));
    return "leaked";
  }
  if (!passed) {
    *detail = with(DescribeStatus(out));
    return "failed";
  }
  *detail = "";
  return "passed";
}

bool IsFinding(const std::string& verdict, bool transient) {
  if (verdict == "crashed" || verdict == "hung" || verdict == "leaked" || verdict == "sanitizer") {
    return true;
  }
  return verdict == "failed" && transient;
}

std::string XmlEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += ' ';
        else out.push_back(c);
    }
  }
  return out;
}

std::string RunJson(const RunResult& r) {
  return absl::StrCat(
      "{\"rule\": ", JsonQuote(r.run.rule), ", \"call\": ", JsonQuote(r.run.call),
      ", \"fault\": ", JsonQuote(r.run.fault), ", \"when\": ", r.run.when,
      ", \"site\": ", JsonQuote(r.run.site), ", \"where\": ", JsonQuote(r.run.where),
      ", \"test\": ", JsonQuote(r.run.test), ", \"transient\": ", r.run.transient ? "true" : "false",
      ", \"verdict\": ", JsonQuote(r.verdict), ", \"finding\": ", r.finding ? "true" : "false",
      ", \"accepted\": ", JsonQuote(r.accepted), ", \"detail\": ", JsonQuote(r.detail),
      ", \"replay\": ", JsonQuote(r.replay), ", \"seconds\": ", absl::StrFormat("%.3f", r.seconds),
      "}");
}

struct Report {
  std::vector<std::string> command;
  size_t plan_size = 0;          // the whole plan (every shard)
  size_t naive_plan_size = 0;    // every ordinal of every call x every errno
  std::string shard;             // "I/N" or ""
  std::vector<RunResult> runs;
};

std::string ReportJson(const Report& rep) {
  std::vector<std::string> cmd;
  for (const std::string& c : rep.command) cmd.push_back(JsonQuote(c));
  std::string out = absl::StrCat("{\n  \"command\": [", absl::StrJoin(cmd, ", "), "],\n",
                                 "  \"plan_size\": ", rep.plan_size, ",\n",
                                 "  \"naive_plan_size\": ", rep.naive_plan_size, ",\n",
                                 "  \"shard\": ", JsonQuote(rep.shard), ",\n  \"runs\": [");
  std::vector<std::string> findings;
  for (size_t i = 0; i < rep.runs.size(); ++i) {
    std::string j = RunJson(rep.runs[i]);
    absl::StrAppend(&out, i ? "," : "", "\n    ", j);
    if (rep.runs[i].finding && rep.runs[i].accepted.empty()) findings.push_back(j);
  }
  absl::StrAppend(&out, "\n  ],\n  \"findings\": [");
  for (size_t i = 0; i < findings.size(); ++i) absl::StrAppend(&out, i ? "," : "", "\n    ", findings[i]);
  absl::StrAppend(&out, "\n  ]\n}\n");
  return out;
}

std::string ReportJunit(const Report& rep) {
  size_t failures = 0, skipped = 0;
  std::string cases;
  for (const RunResult& r : rep.runs) {
    const std::string classname = absl::StrCat(
        r.run.test.empty() ? "" : absl::StrCat(r.run.test, "."), r.run.call, "@", r.run.site);
    absl::StrAppend(&cases, "    <testcase classname=\"", XmlEscape(classname), "\" name=\"",
                    XmlEscape(absl::StrCat(r.run.fault, " when=", r.run.when)), "\" time=\"",
                    absl::StrFormat("%.3f", r.seconds), "\">");
    if (r.finding && r.accepted.empty()) {
      ++failures;
      absl::StrAppend(&cases, "<failure message=\"", XmlEscape(absl::StrCat(r.verdict, ": ", r.detail)),
                      "\">", XmlEscape(absl::StrCat(r.run.where, "\nreplay: ", r.replay)), "</failure>");
    } else if (r.verdict == "not-reached") {
      ++skipped;
      absl::StrAppend(&cases, "<skipped message=\"", XmlEscape(r.detail), "\"/>");
    } else {
      absl::StrAppend(&cases, "<system-out>", XmlEscape(absl::StrCat(r.verdict, r.accepted.empty() ? "" : absl::StrCat(" (accepted: ", r.accepted, ")"))), "</system-out>");
    }
    absl::StrAppend(&cases, "</testcase>\n");
  }
  return absl::StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n",
                      "  <testsuite name=\"ipcfault sweep\" tests=\"", rep.runs.size(),
                      "\" failures=\"", failures, "\" skipped=\"", skipped, "\">\n", cases,
                      "  </testsuite>\n</testsuites>\n");
}

// The terminal table, grouped by site.
std::string ReportText(const Report& rep, bool quiet) {
  std::map<std::tuple<std::string, std::string>, std::vector<const RunResult*>> by_site;
  for (const RunResult& r : rep.runs) by_site[{r.run.test, r.run.site}].push_back(&r);
  std::string out;
  std::map<std::string, int> totals;
  size_t findings = 0, accepted = 0;
  for (const auto& [key, runs] : by_site) {
    const RunResult& first = *runs.front();
    std::map<std::string, int> counts;
    std::vector<const RunResult*> shown;
    for (const RunResult* r : runs) {
      ++counts[r->verdict];
      ++totals[r->verdict];
      if (r->finding) {
        shown.push_back(r);
        if (r->accepted.empty()) ++findings;
        else ++accepted;
      }
    }
    if (quiet && shown.empty()) continue;
    std::vector<std::string> summary;
    for (const auto& [v, n] : counts) summary.push_back(absl::StrCat(n, " ", v));
    absl::StrAppend(&out, first.run.call, " at ", first.run.where, "  [site ", first.run.site,
                    first.run.test.empty() ? "" : absl::StrCat(", ", first.run.test), "]\n  ",
                    runs.size(), " runs: ", absl::StrJoin(summary, ", "), "\n");
    for (const RunResult* r : shown) {
      absl::StrAppend(&out, "  ", r->accepted.empty() ? "FINDING" : "accepted", " ",
                      absl::StrFormat("%-28s", absl::StrCat(r->run.fault, " when=", r->run.when)),
                      " ", r->verdict, ": ", r->detail, "\n");
      if (!r->accepted.empty()) absl::StrAppend(&out, "    reason: ", r->accepted, "\n");
      absl::StrAppend(&out, "    replay: ", r->replay, "\n");
    }
  }
  std::vector<std::string> t;
  for (const auto& [v, n] : totals) t.push_back(absl::StrCat(n, " ", v));
  absl::StrAppend(&out, "ipcfault sweep: ", rep.runs.size(), " runs",
                  rep.shard.empty() ? "" : absl::StrCat(" (shard ", rep.shard, " of a plan of ", rep.plan_size, ")"),
                  ": ", t.empty() ? "none" : absl::StrJoin(t, ", "), "; ", findings,
                  findings == 1 ? " finding" : " findings",
                  accepted ? absl::StrCat(" (", accepted, " accepted by the baseline)") : "", "\n");
  return out;
}

int WriteReports(const Report& rep, const SweepOptions& o) {
  std::string text = ReportText(rep, o.quiet);
  Out(text);
  std::fflush(stdout);
  std::string json = o.json, junit = o.junit, txt;
  if (std::string outputs = GetEnv("TEST_UNDECLARED_OUTPUTS_DIR"); !outputs.empty()) {
    if (json.empty()) json = absl::StrCat(outputs, "/sweep.json");
    if (junit.empty()) junit = absl::StrCat(outputs, "/sweep.xml");
    txt = absl::StrCat(outputs, "/sweep.txt");
  }
  if (!json.empty() && !WriteFile(json, ReportJson(rep))) {
    Err("ipcfault sweep: cannot write ", json, "\n");
    return kExitUsage;
  }
  if (!junit.empty() && !WriteFile(junit, ReportJunit(rep))) {
    Err("ipcfault sweep: cannot write ", junit, "\n");
    return kExitUsage;
  }
  if (!txt.empty()) WriteFile(txt, ReportText(rep, false));
  for (const RunResult& r : rep.runs) {
    if (r.finding && r.accepted.empty()) return kExitFindings;
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------
// gtest binaries.

// Whether `path` is a GoogleTest binary: it (or a library it loads) holds
// gtest's flag names. Checked by asking it to list its tests with the flag
// only gtest knows, never by running it plainly.
bool LooksLikeGtest(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadWhole(path);
  return bytes.ok() && absl::StrContains(*bytes, "gtest_list_tests");
}

// The test cases of a gtest binary matching `filter`.
absl::StatusOr<std::vector<std::string>> ListTests(const std::string& path,
                                                   const std::vector<std::string>& command,
                                                   const std::string& filter,
                                                   const std::string& dir) {
  std::string cmd = absl::StrCat(ShellQuote(path), " --gtest_list_tests");
  if (!filter.empty()) absl::StrAppend(&cmd, " ", ShellQuote(absl::StrCat("--gtest_filter=", filter)));
  for (size_t i = 1; i < command.size(); ++i) absl::StrAppend(&cmd, " ", ShellQuote(command[i]));
  absl::StrAppend(&cmd, " 2>", ShellQuote(absl::StrCat(dir, "/list.err")));
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("popen failed");
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) text.append(buf, n);
  int status = pclose(pipe);
  if (status != 0) {
    return absl::FailedPreconditionError(absl::StrCat(path, " --gtest_list_tests failed"));
  }
  std::vector<std::string> tests;
  std::string suite;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    absl::string_view name = line;
    if (size_t hash = name.find("  #"); hash != absl::string_view::npos) name = name.substr(0, hash);
    if (!absl::StartsWith(line, " ")) {
      suite = std::string(absl::StripAsciiWhitespace(name));
      continue;
    }
    tests.push_back(absl::StrCat(suite, absl::StripAsciiWhitespace(name)));
  }
  return tests;
}

// ---------------------------------------------------------------------------
// The sweep.

struct Target {
  std::string test;                 // "" for a plain program
  std::vector<std::string> argv;
  Recording plain;
  absl::Duration plain_wall;
};

std::string MakeWorkDir() {
  std::string base = GetEnv("TEST_TMPDIR");
  if (base.empty()) base = GetEnv("TMPDIR");
  if (base.empty()) base = "/tmp";
  std::string pattern = absl::StrCat(base, "/ipcfault-sweep.XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

// Starts the janitor for `work` (call it while single-threaded). The
// returned object's destruction says goodbye: destroy it after `work` is
// removed.
absl::StatusOr<std::unique_ptr<Janitor>> GuardWorkDir(const std::string& work) {
  absl::StatusOr<std::unique_ptr<Janitor>> guard = Janitor::Start();
  if (!guard.ok()) return guard.status();
  (*guard)->RemoveTreeOnDeath(work);
  janitor = guard->get();
  return guard;
}

std::string ReplayCommand(const PlannedRun& r, const std::vector<std::string>& argv) {
  std::vector<std::string> words = {"ipcfault", "run", "-e", ShellQuote(r.rule), "--"};
  for (const std::string& a : argv) words.push_back(ShellQuote(a));
  return absl::StrJoin(words, " ");
}

// SIGINT, SIGTERM, SIGHUP, SIGQUIT: kill the runs under way, remove the work
// directory, and die of the same signal. They are blocked in every thread
// (the workers start after this) and taken by one thread with sigwait, so
// the cleanup runs outside a signal handler.
void StartSignalThread(const std::string& work) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, work] {
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    {
      std::lock_guard<std::mutex> lock(active_mu);
      for (pid_t group : ActiveGroups()) kill(-group, SIGKILL);
    }
    RemoveTree(work);
    signal(sig, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    raise(sig);
    _exit(128 + sig);
  }).detach();
}

size_t NaivePlanSize(const Recording& rec) {
  size_t n = 0;
  for (const RecordedCall& c : rec.calls) {
    if (std::optional<Call> call = CallByName(c.call)) n += GetCallInfo(*call).errors.size();
  }
  return n;
}

int RunSweep(const SweepOptions& in, const std::string& argv0) {
  SweepOptions o = in;
  if (o.shard_count == 1) {
    int total = 0, index = 0;
    if (absl::SimpleAtoi(GetEnv("TEST_TOTAL_SHARDS"), &total) && total > 1 &&
        absl::SimpleAtoi(GetEnv("TEST_SHARD_INDEX"), &index) && index >= 0 && index < total) {
      o.shard_count = total;
      o.shard_index = index;
    }
  }
  if (std::string status_file = GetEnv("TEST_SHARD_STATUS_FILE"); !status_file.empty()) {
    WriteFile(status_file, "");  // we honour Bazel's sharding protocol
  }
  if (o.jobs == 0) o.jobs = std::max(1u, std::thread::hardware_concurrency());

  std::vector<Accepted> baseline;
  if (!o.baseline.empty()) {
    absl::StatusOr<std::vector<Accepted>> b = LoadBaseline(o.baseline);
    if (!b.ok()) {
      Err("ipcfault sweep: ", b.status().message(), "\n");
      return kExitUsage;
    }
    baseline = *std::move(b);
  }
  absl::StatusOr<std::string> program = FindProgram(o.command[0], GetEnv("PATH"));
  if (!program.ok()) {
    Err("ipcfault sweep: ", program.status().message(), "\n");
    return kExitUsage;
  }
  if (absl::Status s = CheckPreloadable(*program); !s.ok()) {
    Err("ipcfault sweep: ", s.message(), "\n");
    return kExitUsage;
  }
  absl::StatusOr<std::string> library = PreloadLibraryPath(argv0);
  if (!library.ok()) {
    Err("ipcfault sweep: ", library.status().message(), "\n");
    return kExitUsage;
  }
  const std::string work = MakeWorkDir();
  if (work.empty()) {
    Err("ipcfault sweep: cannot create a work directory: ", strerror(errno), "\n");
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<Janitor>> guard = GuardWorkDir(work);
  if (!guard.ok()) {
    RemoveTree(work);
    Err("ipcfault sweep: ", guard.status().message(), "\n");
    return kExitUsage;
  }
  // Orphans of a run come back to us, so none outlives the sweep.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { RemoveTree(dir); }
  } cleanup{work};
  StartSignalThread(work);

  // 1. The plain runs: the program, or each test case of a gtest binary.
  std::vector<Target> targets;
  if (LooksLikeGtest(*program)) {
    absl::StatusOr<std::vector<std::string>> tests =
        ListTests(*program, o.command, o.gtest_filter, work);
    if (!tests.ok()) {
      Err("ipcfault sweep: ", tests.status().message(), "\n");
      return kExitUsage;
    }
    if (tests->empty()) {
      Err("ipcfault sweep: ", o.command[0], " has no test matching --gtest_filter=", o.gtest_filter,
          "\n");
      return kExitUsage;
    }
    for (const std::string& t : *tests) {
      Target target;
      target.test = t;
      target.argv = o.command;
      target.argv.push_back(absl::StrCat("--gtest_filter=", t));
      targets.push_back(std::move(target));
    }
  } else {
    if (!o.gtest_filter.empty()) {
      Err("ipcfault sweep: --gtest_filter given, but ", o.command[0],
          " is not a GoogleTest binary\n");
      return kExitUsage;
    }
    Target target;
    target.argv = o.command;
    targets.push_back(std::move(target));
  }
  const absl::Duration plain_limit = o.timeout.value_or(absl::Seconds(120)) * 2;
  {
    std::atomic<size_t> next{0};
    std::vector<std::string> errors(targets.size());
    std::vector<std::thread> workers;
    for (int j = 0; j < std::min<int>(o.jobs, static_cast<int>(targets.size())); ++j) {
      workers.emplace_back([&] {
        for (size_t i; (i = next.fetch_add(1)) < targets.size();) {
          Target& t = targets[i];
          RunRequest req;
          req.path = *program;
          req.argv = t.argv;
          req.library = *library;
          req.trace = true;
          req.timeout = plain_limit;
          req.dir = absl::StrCat(work, "/plain-", i);
          RunOutcome out = RunOnce(req);
          const std::string what = t.test.empty() ? o.command[0] : t.test;
          if (!out.started) {
            errors[i] = out.start_error;
          } else if (out.timed_out || !WIFEXITED(out.status) || WEXITSTATUS(out.status) != 0) {
            errors[i] = absl::StrCat("the plain run of ", what, " must pass, but it ",
                                     out.timed_out ? absl::StrCat("was still running after ", absl::FormatDuration(plain_limit)) : absl::StrCat("ended with ", DescribeStatus(out)),
                                     Excerpt(out.output).empty() ? "" : absl::StrCat(": ", Excerpt(out.output)));
          } else if (absl::StatusOr<Recording> rec = ParseSweepLog(out.sweep_log); !rec.ok()) {
            errors[i] = absl::StrCat(what, ": ", rec.status().message());
          } else {
            t.plain = *std::move(rec);
            t.plain_wall = out.wall;
            if (t.plain.processes.empty()) {
              errors[i] = absl::StrCat(what, ": the preload library did not load (is it linked "
                                       "statically, or does it link //inject:interpose itself?)");
            }
          }
          RemoveTree(req.dir);
        }
      });
    }
    for (std::thread& w : workers) w.join();
    for (const std::string& e : errors) {
      if (!e.empty()) {
        Err("ipcfault sweep: ", e, "\n");
        return kExitUsage;
      }
    }
  }

  // 2. The plan.
  Report report;
  report.command = o.command;
  std::vector<PlannedRun> plan;
  std::vector<const Target*> plan_target;
  std::vector<absl::Duration> plan_timeout;
  for (const Target& t : targets) {
    Recording rec = t.plain;
    Symbolize(rec);
    const absl::Duration timeout =
        o.timeout.value_or(std::max(absl::Seconds(10), t.plain_wall * 5));
    report.naive_plan_size += NaivePlanSize(rec);
    for (const auto& [hash, site] : rec.sites) {
      if (!SiteSelected(site, o)) continue;
      for (PlannedRun& r : PlanSite(site, t.test, o, timeout)) {
        plan.push_back(std::move(r));
        plan_target.push_back(&t);
        plan_timeout.push_back(timeout);
      }
    }
  }
  report.plan_size = plan.size();
  std::vector<size_t> mine;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (o.shard_count == 1 || ShardOf(plan[i], o.shard_count) == o.shard_index) mine.push_back(i);
  }
  if (o.shard_count > 1) report.shard = absl::StrCat(o.shard_index, "/", o.shard_count);
  if (!o.quiet) {
    Err("ipcfault sweep: ", targets.size(),
        (targets.size() == 1 && targets[0].test.empty() ? " program" : " test case(s)"),
        ", plan of ", plan.size(), " runs (the naive plan: ", report.naive_plan_size, ")",
        (o.shard_count > 1 ? absl::StrCat(", ", mine.size(), " in shard ", report.shard) : ""),
        ", ", o.jobs, " at a time\n");
  }

  // 3. The runs.
  report.runs.resize(mine.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int j = 0; j < std::min<int>(o.jobs, static_cast<int>(mine.size())); ++j) {
    workers.emplace_back([&] {
      for (size_t k; (k = next.fetch_add(1)) < mine.size();) {
        const size_t i = mine[k];
        const PlannedRun& p = plan[i];
        RunRequest req;
        req.path = *program;
        req.argv = plan_target[i]->argv;
        req.library = *library;
        req.scenario = p.rule;
        req.timeout = plan_timeout[i];
        req.dir = absl::StrCat(work, "/run-", i);
        RunOutcome out = RunOnce(req);
        RunResult& r = report.runs[k];
        r.run = p;
        r.verdict = Judge(out, plan_target[i]->plain, &r.detail);
        r.finding = IsFinding(r.verdict, p.transient);
        r.replay = ReplayCommand(p, plan_target[i]->argv);
        r.seconds = absl::ToDoubleSeconds(out.wall);
        for (const Accepted& a : baseline) {
          if ((a.site == "*" || a.site == p.site || absl::StrContains(p.where, a.site)) &&
              (a.fault == "*" || a.fault == p.fault)) {
            r.accepted = a.reason;
          }
        }
        if (!r.finding) r.accepted.clear();
        RemoveTree(req.dir);
      }
    });
  }
  for (std::thread& w : workers) w.join();

  int exit_code = WriteReports(report, o);
  if (o.expect.empty()) return exit_code;
  // --expect (the sweep's own tests): each expected finding must be found if
  // its run is in this shard, and every finding must be an expected one.
  auto text_of = [](const PlannedRun& p) {
    return absl::StrCat(p.call, " ", p.fault, " ", p.where, " ", p.test);
  };
  // Every word of the expectation starts a word of the run's text, ending
  // there or at a non-identifier character: "ChildGuard::Wait" is not
  // "ChildGuard::WaitFor", "error=EINTR" is "error=EINTR:signal=SIGURG".
  auto matches = [](const std::string& text, const std::string& expectation) {
    std::vector<std::string> words = absl::StrSplit(expectation, ' ', absl::SkipEmpty());
    std::vector<std::string> tokens = absl::StrSplit(text, ' ', absl::SkipEmpty());
    return std::all_of(words.begin(), words.end(), [&](const std::string& w) {
      return std::any_of(tokens.begin(), tokens.end(), [&](const std::string& t) {
        if (!absl::StartsWith(t, w)) return false;
        if (t.size() == w.size() || w.back() == '=') return true;
        const char next = t[w.size()];
        return !(isalnum(static_cast<unsigned char>(next)) || next == '_');
      });
    });
  };
  bool ok = true;
  for (const std::string& e : o.expect) {
    bool planned = false, here = false, found = false;
    for (const PlannedRun& p : plan) planned |= matches(text_of(p), e);
    for (const RunResult& r : report.runs) {
      if (!matches(text_of(r.run), e)) continue;
      here = true;
      found |= r.finding;
    }
    if (!planned) {
      Out("ipcfault sweep: expected finding '", e, "' is not in the plan\n");
      ok = false;
    } else if (here && !found) {
      Out("ipcfault sweep: expected finding '", e, "' was not found\n");
      ok = false;
    }
  }
  for (const RunResult& r : report.runs) {
    if (!r.finding || !r.accepted.empty()) continue;
    if (std::none_of(o.expect.begin(), o.expect.end(),
                     [&](const std::string& e) { return matches(text_of(r.run), e); })) {
      Out("ipcfault sweep: unexpected finding: ", text_of(r.run), "\n");
      ok = false;
    }
  }
  return ok ? kExitOk : kExitFindings;
}

// ipcfault sweep merge
int Merge(absl::Span<const std::string> args) {
  SweepOptions o;
  std::vector<std::string> inputs;
  for (const std::string& arg : args) {
    if (arg == "-h" || arg == "--help") {
      Out(kSweepHelp);
      return kExitOk;
    }
    if (absl::StartsWith(arg, "--json=")) o.json = arg.substr(7);
    else if (absl::StartsWith(arg, "--junit=")) o.junit = arg.substr(8);
    else if (arg == "-q" || arg == "--quiet") o.quiet = true;
    else if (absl::StartsWith(arg, "-")) {
      Err("ipcfault sweep merge: unknown option '", arg, "'\n");
      return kExitUsage;
    } else inputs.push_back(arg);
  }
  if (inputs.empty()) {
    Err("ipcfault sweep merge: no DIR or FILE given\n");
    return kExitUsage;
  }
  std::vector<std::string> files;
  std::function<void(const std::string&)> walk = [&](const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
      files.push_back(path);
      return;
    }
    DIR* d = opendir(path.c_str());
    if (d == nullptr) return;
    std::vector<std::string> names;
    while (struct dirent* e = readdir(d)) names.push_back(e->d_name);
    closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
      if (n == "." || n == "..") continue;
      std::string child = absl::StrCat(path, "/", n);
      struct stat cs;
      if (stat(child.c_str(), &cs) != 0) continue;
      if (S_ISDIR(cs.st_mode)) walk(child);
      else if (n == "sweep.json") files.push_back(child);
    }
  };
  for (const std::string& in : inputs) {
    struct stat st;
    if (stat(in.c_str(), &st) != 0) {
      Err("ipcfault sweep merge: ", in, ": ", strerror(errno), "\n");
      return kExitUsage;
    }
    walk(in);
  }
  if (files.empty()) {
    Err("ipcfault sweep merge: no sweep.json under ", absl::StrJoin(inputs, ", "), "\n");
    return kExitUsage;
  }
  Report rep;
  std::set<std::string> seen;
  for (const std::string& f : files) {
    absl::StatusOr<std::string> text = ReadWhole(f);
    absl::StatusOr<JsonValue> v = text.ok() ? ParseJson(*text) : absl::StatusOr<JsonValue>(text.status());
    if (!v.ok()) {
      Err("ipcfault sweep merge: ", f, ": ", v.status().message(), "\n");
      return kExitUsage;
    }
    if (rep.command.empty()) {
      for (const JsonValue& c : v->Get("command").items()) rep.command.push_back(c.str());
    }
    rep.plan_size = std::max<size_t>(rep.plan_size, static_cast<size_t>(v->Get("plan_size").number()));
    rep.naive_plan_size = std::max<size_t>(rep.naive_plan_size, static_cast<size_t>(v->Get("naive_plan_size").number()));
    for (const JsonValue& r : v->Get("runs").items()) {
      RunResult res;
      res.run.rule = r.Get("rule").str();
      res.run.call = r.Get("call").str();
      res.run.fault = r.Get("fault").str();
      res.run.when = static_cast<uint64_t>(r.Get("when").number());
      res.run.site = r.Get("site").str();
      res.run.where = r.Get("where").str();
      res.run.test = r.Get("test").str();
      res.run.transient = r.Get("transient").boolean();
      res.verdict = r.Get("verdict").str();
      res.finding = r.Get("finding").boolean();
      res.accepted = r.Get("accepted").str();
      res.detail = r.Get("detail").str();
      res.replay = r.Get("replay").str();
      res.seconds = r.Get("seconds").number();
      if (!seen.insert(absl::StrCat(res.run.test, "|", res.run.rule)).second) continue;
      rep.runs.push_back(std::move(res));
    }
  }
  Err("ipcfault sweep merge: ", files.size(), " report(s), ", rep.runs.size(), " of a plan of ",
      rep.plan_size, " runs\n");
  std::string outputs_env = GetEnv("TEST_UNDECLARED_OUTPUTS_DIR");
  unsetenv("TEST_UNDECLARED_OUTPUTS_DIR");  // merge writes only what it is asked to
  int rc = WriteReports(rep, o);
  if (!outputs_env.empty()) setenv("TEST_UNDECLARED_OUTPUTS_DIR", outputs_env.c_str(), 1);
  return rc;
}

}  // namespace

int RecordCommand(absl::Span<const std::string> args, const CommandContext& context) {
  const std::string& argv0 = context.argv0;
  std::string json;
  absl::Duration timeout = absl::Seconds(120);
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      Out(kRecordHelp);
      return kExitOk;
    }
    if (arg == "--") {
      ++i;
      break;
    }
    if (absl::StartsWith(arg, "--json=")) {
      json = arg.substr(7);
    } else if (absl::StartsWith(arg, "--timeout=")) {
      absl::StatusOr<absl::Duration> d = ParseDuration(arg.substr(10));
      if (!d.ok()) {
        Err("ipcfault record: --timeout: ", d.status().message(), "\n");
        return kExitUsage;
      }
      timeout = *d;
    } else if (absl::StartsWith(arg, "-")) {
      Err("ipcfault record: unknown option '", arg,
          "'\nTry 'ipcfault record --help' for more information.\n");
      return kExitUsage;
    } else {
      break;
    }
  }
  std::vector<std::string> command(args.begin() + i, args.end());
  if (command.empty()) {
    Err("ipcfault record: no PROGRAM given (ipcfault record [--json=FILE] -- PROGRAM [ARG]...)\n");
    return kExitUsage;
  }
  absl::StatusOr<std::string> program = FindProgram(command[0], GetEnv("PATH"));
  if (!program.ok()) {
    Err("ipcfault record: ", program.status().message(), "\n");
    return kExitUsage;
  }
  if (absl::Status s = CheckPreloadable(*program); !s.ok()) {
    Err("ipcfault record: ", s.message(), "\n");
    return kExitUsage;
  }
  absl::StatusOr<std::string> library = PreloadLibraryPath(argv0);
  if (!library.ok()) {
    Err("ipcfault record: ", library.status().message(), "\n");
    return kExitUsage;
  }
  const std::string work = MakeWorkDir();
  if (work.empty()) {
    Err("ipcfault record: cannot create a work directory\n");
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<Janitor>> guard = GuardWorkDir(work);
  if (!guard.ok()) {
    RemoveTree(work);
    Err("ipcfault record: ", guard.status().message(), "\n");
    return kExitUsage;
  }
  RunRequest req;
  req.path = *program;
  req.argv = command;
  req.library = *library;
  req.trace = true;
  req.timeout = timeout;
  req.dir = absl::StrCat(work, "/run");
  RunOutcome out = RunOnce(req);
  RemoveTree(work);
  if (!out.started) {
    Err("ipcfault record: ", out.start_error, "\n");
    return kExitUsage;
  }
  Err(out.output);
  absl::StatusOr<Recording> rec = ParseSweepLog(out.sweep_log);
  if (!rec.ok()) {
    Err("ipcfault record: ", rec.status().message(), "\n");
    return kExitUsage;
  }
  Symbolize(*rec);
  for (const RecordedProcess& p : rec->processes) {
    Out("process ", p.pid, " (", Basename(p.exe), ", parent ", p.ppid, ")\n");
    Out(absl::StrFormat("  %-14s %5s %4s %-7s %-12s %s\n", "CALL", "#", "FD", "KIND", "SITE",
                        "WHERE"));
    for (const RecordedCall& c : rec->calls) {
      if (c.pid != p.pid) continue;
      Out(absl::StrFormat("  %-14s %5d %4d %-7s %-12s %s\n", c.call, c.ordinal, c.fd, c.kind,
                          c.site, rec->sites[c.site].where));
    }
  }
  Out(rec->calls.size(), " calls from ", rec->sites.size(), " sites in ", rec->processes.size(),
      " process(es); ", Basename(command[0]), " ", DescribeStatus(out), "\n");
  if (!json.empty() && !WriteFile(json, RecordingJson(*rec))) {
    Err("ipcfault record: cannot write ", json, "\n");
    return kExitUsage;
  }
  if (out.timed_out) return kExitUsage;
  return WIFSIGNALED(out.status) ? 128 + WTERMSIG(out.status) : WEXITSTATUS(out.status);
}

int SweepCommand(absl::Span<const std::string> args, const CommandContext& context) {
  if (!args.empty() && args[0] == "merge") return Merge(args.subspan(1));
  bool help = false;
  absl::StatusOr<SweepOptions> o = ParseSweepOptions(args, &help);
  if (help) {
    Out(kSweepHelp);
    return kExitOk;
  }
  if (!o.ok()) {
    Err("ipcfault sweep: ", o.status().message(),
        "\nTry 'ipcfault sweep --help' for more information.\n");
    return kExitUsage;
  }
  return RunSweep(*o, context.argv0);
}

}  // namespace ipcfault::cli
