// inject/cli/main.cc
//
// The `ipcfault` command: `run` a program with faults injected through the
// preload library, `check` scenario files, list the `calls`.

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/cli/fire_summary.h"
#include "ipcfault/inject/cli/program.h"
#include "ipcfault/inject/cli/run_options.h"
#include "ipcfault/inject/cli/spawn.h"
#include "ipcfault/inject/internal/error_names.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario.h"

extern char** environ;

namespace ipcfault::cli {
namespace {

// Exit statuses of ipcfault itself (run passes the program's through).
constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;  // check: a scenario is bad
constexpr int kExitUsage = 2;    // bad command line, bad rules, unrunnable
constexpr int kExitCannotExecute = 126;
constexpr int kExitNotFound = 127;

constexpr char kPreloadName[] = "libipcfault_preload.so";

constexpr char kMainHelp[] = R"(Usage: ipcfault COMMAND [OPTION]... [ARG]...
Inject faults into the socket, signal and process calls of Linux programs.

Commands:
  run      run a program with fault-injection rules (through LD_PRELOAD)
  check    validate scenario files and print them in canonical form
  calls    list the calls, call sets, documented errors and rule keys
  help     show help for a command

Options:
  -h, --help   show this help and exit

Rules use strace's -e inject= syntax, plus keys of ipcfault's own:
  ipcfault run -e inject=connect:error=ECONNREFUSED:when=1 -- ./client

Run 'ipcfault COMMAND --help' for a command's options.
)";

constexpr char kRunHelp[] =
    R"(Usage: ipcfault run [OPTION]... -- PROGRAM [ARG]...
Run PROGRAM with the ipcfault preload library, injecting the faults that the
rules describe into its calls, and into those of its children.

Rule options (repeatable; rules are numbered from 0 in the order given, and
when several fire on one call the first wins):
  -e, --rule=RULE          one rule, in strace's form with or without the
                             leading 'inject=': connect:error=ECONNREFUSED:when=1
  -s, --scenario=FILE      the rules in FILE, one a line, '#' comments

Options:
      --seed=N             seed of the random streams of p= rules (default:
                             $IPCFAULT_SEED, else a fresh one, printed)
      --log=FILE           append one JSON line per fired fault to FILE (kept)
                             (default: $IPCFAULT_LOG, else under Bazel
                             $TEST_UNDECLARED_OUTPUTS_DIR/ipcfault.log, else a
                             temporary file, removed at exit)
      --scope=all|first    all: PROGRAM and every descendant gets the faults
                             (default); first: PROGRAM only, what it execs
                             runs without them (a child it forks without
                             exec keeps the rules: they are memory)
  -q, --quiet              do not print the summary
  -h, --help               show this help and exit

All rules are checked before PROGRAM runs: a bad one is reported as
FILE:LINE:COLUMN: message (-e:1:COLUMN for -e) and nothing runs. PROGRAM must
be dynamically linked: LD_PRELOAD cannot reach a static binary, so ipcfault
refuses to run one rather than inject nothing. stdin, stdout and stderr pass
through; SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to ipcfault are forwarded.
After PROGRAM exits, a summary on stderr tells how often each rule fired.

Environment:
  PROGRAM gets LD_PRELOAD (the library first), IPCFAULT_SCENARIO,
  IPCFAULT_LOG, IPCFAULT_SCOPE, IPCFAULT_SEED (for p= rules) and
  verify_asan_link_order=0 in ASAN_OPTIONS. IPCFAULT_PRELOAD_LIBRARY, if set,
  names the preload library to use instead of the one beside ipcfault.

Exit status:
  PROGRAM's exit status, or 128+N if a signal N killed it;
  2 if the command line or a rule is bad, or PROGRAM is statically linked;
  126 if PROGRAM cannot be executed; 127 if it is not found.

Examples:
  ipcfault run -e inject=connect:error=ECONNREFUSED:when=1 -- ./client
  ipcfault run -e 'accept:error=EMFILE:when=1' --log=fires.log -- ./server
  ipcfault run -s flaky.scenario --seed=7 -- ./client --retries=3
)";

constexpr char kCheckHelp[] = R"(Usage: ipcfault check [OPTION]... FILE...
Validate scenario FILEs (rules one a line, '#' comments; '-' reads stdin) and
print each in canonical form on stdout, preceded by a '# FILE' comment when
there are several. Errors go to stderr as FILE:LINE:COLUMN: message.

Options:
  -h, --help   show this help and exit

Exit status: 0 if every FILE is valid, 1 if any is not, 2 on a usage error.
)";

constexpr char kCallsHelp[] = R"(Usage: ipcfault calls [OPTION]... [CALL|%SET]...
List the calls rules can name: their call sets, how they fail, the keys that
apply to them and the errors their man pages document (an injected error
may be any errno; these are the ones callers should expect). With CALL or
%SET arguments, list only those calls.

Options:
  -h, --help   show this help and exit

Exit status: 0, or 2 if a CALL or %SET is unknown.
)";

void PrintUsageError(absl::string_view command, absl::string_view message) {
  std::string prefix =
      command.empty() ? "ipcfault" : absl::StrCat("ipcfault ", command);
  std::cerr << prefix << ": " << message << "\nTry '" << prefix
            << " --help' for more information.\n";
}

bool IsHelp(absl::string_view arg) { return arg == "-h" || arg == "--help"; }

// ---------------------------------------------------------------------------
// Reading files.

// The contents of `path` ("-": stdin). Errors read "PATH: No such file or
// directory" (absl::ErrnoToStatus).
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

// ---------------------------------------------------------------------------
// ipcfault check

int Check(absl::Span<const std::string> args) {
  std::vector<std::string> files;
  bool options_done = false;
  for (const std::string& arg : args) {
    if (!options_done && IsHelp(arg)) {
      std::cout << kCheckHelp;
      return kExitOk;
    }
    if (!options_done && arg == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && arg.size() > 1 && arg[0] == '-') {
      PrintUsageError("check", absl::StrCat("unknown option '", arg, "'"));
      return kExitUsage;
    }
    files.push_back(arg);
  }
  if (files.empty()) {
    PrintUsageError("check", "no scenario file given");
    return kExitUsage;
  }
  int exit_code = kExitOk;
  for (const std::string& file : files) {
    absl::StatusOr<std::string> text = ReadFile(file);
    if (!text.ok()) {
      std::cerr << "ipcfault check: " << text.status().message() << "\n";
      exit_code = kExitInvalid;
      continue;
    }
    std::string source = file == "-" ? "<stdin>" : file;
    absl::StatusOr<std::vector<Rule>> rules = ParseScenario(*text, source);
    if (!rules.ok()) {
      std::cerr << rules.status().message() << "\n";
      exit_code = kExitInvalid;
      continue;
    }
    if (files.size() > 1) std::cout << "# " << source << "\n";
    std::cout << FormatScenario(*rules);
  }
  return exit_code;
}

// ---------------------------------------------------------------------------
// ipcfault calls

constexpr struct {
  uint8_t bit;
  const char* name;
} kSetNames[] = {{kSetNet, "%net"},
                 {kSetIo, "%io"},
                 {kSetSignal, "%signal"},
                 {kSetProcess, "%process"},
                 {kSetPoll, "%poll"}};

constexpr struct {
  uint32_t bit;
  const char* name;
  const char* meaning;
} kKeys[] = {
    {kKeyError, "error", "fail with this error (name or number)"},
    {kKeyRetval, "retval", "return this value without making the call"},
    {kKeyShort, "short", "transfer at most this many bytes"},
    {kKeySignal, "signal", "deliver this signal to the caller on entry"},
    {kKeyDelayEnter, "delay_enter", "sleep before the call (s ms us ns; bare: us)"},
    {kKeyDelayExit, "delay_exit", "sleep after the call"},
    {kKeyWhen, "when", "first[..last][+[step]]: which matching calls, from 1"},
    {kKeyTimes, "times", "fire at most this many times"},
    {kKeyP, "p", "fire with this probability"},
    {kKeySeed, "seed", "the rule's own seed for p="},
    {kKeyFd, "fd", "only calls on socket|pipe|file|any|N fds"},
    {kKeyPort, "port", "only calls whose local or peer port is this"},
    {kKeySig, "sig", "only calls that send this signal"},
    {kKeyAs, "as", "as=strace: count and fail exactly as strace does"},
};

const char* FailureText(FailureStyle style) {
  switch (style) {
    case FailureStyle::kMinusOneErrno:
      return "-1, errno";
    case FailureStyle::kReturnsErrno:
      return "returns errno";
    case FailureStyle::kNonzeroErrno:
      return "nonzero, errno";
    case FailureStyle::kEaiCode:
      return "EAI_* code";
    case FailureStyle::kNullHErrno:
      return "NULL, h_errno";
    case FailureStyle::kSigErrErrno:
      return "SIG_ERR, errno";
    case FailureStyle::kCannotFail:
      return "cannot fail";
  }
  return "?";
}

std::string SetsText(uint8_t sets) {
  std::vector<std::string> names;
  for (const auto& set : kSetNames) {
    if (sets & set.bit) names.push_back(set.name);
  }
  return names.empty() ? "-" : absl::StrJoin(names, ",");
}

std::string ErrorsText(const CallInfo& info) {
  std::vector<std::string> names;
  for (int error : info.errors) {
    const char* name = inject_internal::ErrorName(info.failure, error);
    names.push_back(name != nullptr ? name : absl::StrCat(error));
  }
  return absl::StrJoin(names, " ");
}

int Calls(absl::Span<const std::string> args) {
  std::vector<bool> selected(AllCalls().size(), args.empty());
  for (const std::string& arg : args) {
    if (IsHelp(arg)) {
      std::cout << kCallsHelp;
      return kExitOk;
    }
  }
  for (const std::string& arg : args) {
    if (arg == "all") {
      selected.assign(selected.size(), true);
      continue;
    }
    if (absl::StartsWith(arg, "%")) {
      bool known = false;
      for (const auto& set : kSetNames) {
        if (arg != set.name) continue;
        known = true;
        for (const CallInfo& info : AllCalls()) {
          if (info.sets & set.bit) selected[static_cast<int>(info.call)] = true;
        }
      }
      if (!known) {
        PrintUsageError("calls", absl::StrCat("unknown call set '", arg,
                                              "' (sets: %net %io %signal "
                                              "%process)"));
        return kExitUsage;
      }
      continue;
    }
    if (absl::StartsWith(arg, "-")) {
      PrintUsageError("calls", absl::StrCat("unknown option '", arg, "'"));
      return kExitUsage;
    }
    std::optional<Call> call = CallByName(arg);
    if (!call.has_value()) {
      PrintUsageError("calls", absl::StrCat("unknown call '", arg, "'"));
      return kExitUsage;
    }
    selected[static_cast<int>(*call)] = true;
  }

  std::cout << absl::StrFormat("%-18s %-16s %-7s %-15s %s\n", "CALL", "SETS",
                               "FD", "FAILS AS", "DOCUMENTED ERRORS");
  std::vector<const CallInfo*> rows;
  for (const CallInfo& info : AllCalls()) {
    if (!selected[static_cast<int>(info.call)]) continue;
    rows.push_back(&info);
    const char* fd = (info.keys & kKeyFd) == 0     ? "-"
                     : info.defaults_to_socket_fds ? "socket"
                                                   : "any";
    std::cout << absl::StrFormat("%-18s %-16s %-7s %-15s %s\n", info.name,
                                 SetsText(info.sets), fd,
                                 FailureText(info.failure), ErrorsText(info));
  }
  std::cout << "\nFD: the default fd= filter (a rule on the read/write family "
               "applies to sockets\nunless it says fd=any; '-': the call takes "
               "no fd).\n\nKeys, and the calls above they apply to:\n";
  for (const auto& key : kKeys) {
    std::vector<absl::string_view> names, others;
    for (const CallInfo* info : rows) {
      ((info->keys & key.bit) ? names : others).push_back(info->name);
    }
    std::string calls =
        others.empty()  ? "all"
        : names.empty() ? "none"
        : names.size() > others.size()
            ? absl::StrCat("all but ", absl::StrJoin(others, " "))
            : absl::StrJoin(names, " ");
    std::cout << absl::StrFormat("  %-12s %-52s %s\n", key.name, key.meaning,
                                 calls);
  }
  if (args.empty()) {
    std::cout << "\nSets:\n";
    for (const auto& set : kSetNames) {
      std::vector<absl::string_view> members;
      for (const CallInfo& info : AllCalls()) {
        if (info.sets & set.bit) members.push_back(info.name);
      }
      std::cout << absl::StrFormat("  %-10s %s\n", set.name,
                                   absl::StrJoin(members, " "));
    }
    std::cout << absl::StrFormat("  %-10s %s\n", "all", "every call above");
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------
// ipcfault run

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string Basename(absl::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path
                                                      : path.substr(slash + 1));
}

std::optional<std::string> RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return std::nullopt;
  return std::string(resolved);
}

std::string GetEnv(const char* name) {
  const char* value = getenv(name);
  return value != nullptr ? value : "";
}

// Finds libipcfault_preload.so: $IPCFAULT_PRELOAD_LIBRARY; the runfiles of
// this binary (bazel run, bazel test, bazel-bin/ipcfault with its
// .runfiles); next to it as Bazel lays out bazel-bin (bazel-bin/ipcfault
// and bazel-bin/inject/); next to it or in ../lib, as installed.
absl::StatusOr<std::string> FindPreloadLibrary(const std::string& argv0) {
  if (std::string forced = GetEnv("IPCFAULT_PRELOAD_LIBRARY"); !forced.empty()) {
    std::optional<std::string> path = RealPath(forced);
    if (!path.has_value()) {
      return absl::ErrnoToStatus(
          errno, absl::StrCat("IPCFAULT_PRELOAD_LIBRARY=", forced));
    }
    return *path;
  }
  std::string exe;
  if (std::optional<std::string> self = RealPath("/proc/self/exe")) exe = *self;

  std::vector<std::string> candidates;
  auto add_runfiles = [&](const std::string& root) {
    if (!root.empty()) {
      candidates.push_back(absl::StrCat(root, "/ipcfault/inject/", kPreloadName));
    }
  };
  add_runfiles(GetEnv("RUNFILES_DIR"));
  add_runfiles(GetEnv("TEST_SRCDIR"));
  if (!exe.empty()) add_runfiles(exe + ".runfiles");
  if (argv0.find('/') != std::string::npos) add_runfiles(argv0 + ".runfiles");
  if (!exe.empty()) {
    std::string dir = Dirname(exe);
    candidates.push_back(absl::StrCat(dir, "/inject/", kPreloadName));
    candidates.push_back(absl::StrCat(dir, "/", kPreloadName));
    candidates.push_back(absl::StrCat(dir, "/../lib/", kPreloadName));
  }
  for (const std::string& candidate : candidates) {
    if (access(candidate.c_str(), R_OK) != 0) continue;
    if (std::optional<std::string> path = RealPath(candidate)) return *path;
  }
  return absl::NotFoundError(absl::StrCat(
      "cannot find ", kPreloadName, " (looked in: ",
      absl::StrJoin(candidates, ", "),
      "); build //inject:libipcfault_preload.so or set "
      "IPCFAULT_PRELOAD_LIBRARY to its path"));
}

// The rules of every source, validated, in order.
absl::StatusOr<std::vector<Rule>> LoadRules(absl::Span<const RuleSource> sources) {
  std::vector<Rule> rules;
  for (const RuleSource& source : sources) {
    if (source.kind == RuleSource::Kind::kRule) {
      // strace's other -e qualifiers (trace=, signal=, status=...) have no
      // meaning here; say so instead of "unknown call 'trace=connect'".
      absl::string_view head = absl::string_view(source.text)
                                   .substr(0, source.text.find(':'));
      if (size_t eq = head.find('='); eq != absl::string_view::npos &&
                                      head.substr(0, eq) != "inject") {
        return absl::InvalidArgumentError(absl::StrCat(
            "-e:1:1: strace's -e ", head.substr(0, eq + 1),
            " has no meaning for ipcfault, which takes rules only: -e "
            "inject=CALL:KEY=VALUE... or -e CALL:KEY=VALUE..."));
      }
      absl::StatusOr<Rule> rule = ParseRule(source.text, "-e");
      if (!rule.ok()) return rule.status();
      rules.push_back(*std::move(rule));
      continue;
    }
    absl::StatusOr<std::string> text = ReadFile(source.text);
    if (!text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--scenario ", text.status().message()));
    }
    absl::StatusOr<std::vector<Rule>> file_rules =
        ParseScenario(*text, source.text);
    if (!file_rules.ok()) return file_rules.status();
    for (Rule& rule : *file_rules) rules.push_back(std::move(rule));
  }
  return rules;
}

// The environment for the program: ours, with LD_PRELOAD and IPCFAULT_*
// set for the preload library.
std::vector<std::string> ProgramEnvironment(const std::string& library,
                                            const std::string& scenario,
                                            const RunOptions& options,
                                            const std::string& log,
                                            const std::string& run_id) {
  std::vector<std::string> env;
  std::string preload = library;
  std::string asan_options;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    absl::string_view var(*entry);
    absl::string_view name = var.substr(0, var.find('='));
    if (name == "LD_PRELOAD") {
      for (absl::string_view lib :
           absl::StrSplit(var.substr(name.size() + 1), absl::ByAnyChar(": "),
                          absl::SkipEmpty())) {
        if (Basename(lib) != kPreloadName) absl::StrAppend(&preload, ":", lib);
      }
      continue;
    }
    if (name == "ASAN_OPTIONS") {
      asan_options = std::string(var.substr(name.size() + 1));
      continue;
    }
    if (name == "IPCFAULT_SCENARIO" || name == "IPCFAULT_SCENARIO_FILE" ||
        name == "IPCFAULT_LOG" || name == "IPCFAULT_SCOPE" ||
        name == "IPCFAULT_RUN_ID" ||
        (name == "IPCFAULT_SEED" && options.seed.has_value())) {
      continue;
    }
    env.emplace_back(var);
  }
  env.push_back(absl::StrCat("LD_PRELOAD=", preload));
  // An AddressSanitizer program refuses to start when a preloaded library
  // comes before its runtime. Ours must come first (its definitions must win
  // over the sanitizer's interceptors, which it then calls), and it neither
  // allocates through nor intercepts what ASan needs first, so lift the
  // check. Harmless for programs without ASan.
  if (!absl::StrContains(asan_options, "verify_asan_link_order")) {
    absl::StrAppend(&asan_options, asan_options.empty() ? "" : ":",
                    "verify_asan_link_order=0");
  }
  env.push_back(absl::StrCat("ASAN_OPTIONS=", asan_options));
  env.push_back(absl::StrCat("IPCFAULT_SCENARIO=", scenario));
  env.push_back(absl::StrCat("IPCFAULT_LOG=", log));
  env.push_back(absl::StrCat("IPCFAULT_RUN_ID=", run_id));
  env.push_back(absl::StrCat(
      "IPCFAULT_SCOPE=", options.scope == Scope::kFirst ? "first" : "all"));
  if (options.seed.has_value()) {
    env.push_back(absl::StrCat("IPCFAULT_SEED=", *options.seed));
  }
  return env;
}

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kInvalidArgument:
      return kExitCannotExecute;
    default:
      return kExitUsage;
  }
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? absl::StrCat("SIG", abbrev) : absl::StrCat(sig);
}

int Run(absl::Span<const std::string> args, const std::string& argv0) {
  absl::StatusOr<RunOptions> parsed = ParseRunOptions(args);
  if (!parsed.ok()) {
    PrintUsageError("run", parsed.status().message());
    return kExitUsage;
  }
  RunOptions& options = *parsed;
  if (options.help) {
    std::cout << kRunHelp;
    return kExitOk;
  }

  absl::StatusOr<std::vector<Rule>> rules = LoadRules(options.sources);
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n"
              << "ipcfault run: not running " << options.command[0]
              << ": a rule is invalid\n";
    return kExitUsage;
  }

  absl::StatusOr<std::string> program =
      FindProgram(options.command[0], GetEnv("PATH"));
  if (!program.ok()) {
    std::cerr << "ipcfault run: " << program.status().message() << "\n";
    return ExitCodeFor(program.status());
  }
  if (absl::Status s = CheckPreloadable(*program); !s.ok()) {
    std::cerr << "ipcfault run: " << s.message() << "\n";
    return ExitCodeFor(s);
  }

  absl::StatusOr<std::string> library = FindPreloadLibrary(argv0);
  if (!library.ok()) {
    std::cerr << "ipcfault run: " << library.status().message() << "\n";
    return kExitUsage;
  }
  if (library->find_first_of(": ") != std::string::npos) {
    std::cerr << "ipcfault run: the preload library's path " << *library
              << " contains ':' or ' ', which LD_PRELOAD cannot express\n";
    return kExitUsage;
  }

  // The fire log: kept if the user named it, else a temporary file.
  std::string log;
  bool temporary_log = false;
  if (options.log.has_value()) {
    log = *options.log;
  } else if (std::string env_log = GetEnv("IPCFAULT_LOG"); !env_log.empty()) {
    log = env_log;
  } else if (std::string outputs = GetEnv("TEST_UNDECLARED_OUTPUTS_DIR");
             !outputs.empty()) {
    log = absl::StrCat(outputs, "/ipcfault.log");
  } else {
    std::string dir = GetEnv("TMPDIR");
    if (dir.empty()) dir = "/tmp";
    std::string pattern = absl::StrCat(dir, "/ipcfault-log.XXXXXX");
    int fd = mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0) {
      std::cerr << "ipcfault run: cannot create a temporary log in " << dir
                << ": " << strerror(errno) << " (use --log=FILE)\n";
      return kExitUsage;
    }
    close(fd);
    log = pattern;
    temporary_log = true;
  }
  if (log[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) != nullptr) log = absl::StrCat(cwd, "/", log);
  }
  // Only lines appended from here on are this run's.
  off_t log_start = 0;
  {
    int fd = open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      std::cerr << "ipcfault run: cannot open the log " << log << ": "
                << strerror(errno) << "\n";
      return kExitUsage;
    }
    struct stat st;
    if (fstat(fd, &st) == 0) log_start = st.st_size;
    close(fd);
  }

  // p= rules without seed= draw from one process seed. Fix it here, so that
  // every process of the run uses the same one and the run can be repeated.
  if (!options.seed.has_value() && GetEnv("IPCFAULT_SEED").empty()) {
    bool random = false;
    for (const Rule& rule : *rules) {
      if (rule.probability < 1.0 && !rule.seed.has_value()) random = true;
    }
    if (random) {
      std::random_device device;
      options.seed = (uint64_t{device()} << 32) ^ device();
      std::cerr << "ipcfault: --seed=" << *options.seed
                << " (random seed for p= rules; pass it to repeat this run)\n";
    }
  }

  std::vector<std::string> rule_texts;
  for (const Rule& rule : *rules) rule_texts.push_back(FormatRule(rule));
  // Tags this run's log lines, so runs sharing a log (under Bazel, every run
  // in one test) each count only their own fires.
  std::random_device random;
  const std::string run_id =
      absl::StrFormat("%d-%08x%08x", getpid(), random(), random());
  std::vector<std::string> env = ProgramEnvironment(
      *library, FormatScenario(*rules), options, log, run_id);

  absl::StatusOr<int> status = SpawnAndWait(*program, options.command, env);
  int exit_code;
  std::string outcome;
  if (!status.ok()) {
    std::cerr << "ipcfault run: " << status.status().message() << "\n";
    exit_code = ExitCodeFor(status.status());
  } else {
    exit_code = ShellExitCode(*status);
    outcome = WIFSIGNALED(*status)
                  ? absl::StrCat("was killed by ", SignalName(WTERMSIG(*status)),
                                 " (exit status ", exit_code, ")")
                  : absl::StrCat("exited with status ", exit_code);
  }

  std::string log_text;
  if (absl::StatusOr<std::string> all = ReadFile(log); all.ok()) {
    if (static_cast<size_t>(log_start) <= all->size()) {
      log_text = all->substr(static_cast<size_t>(log_start));
    }
  }
  if (temporary_log) unlink(log.c_str());

  if (!options.quiet && status.ok()) {
    std::string summary =
        absl::StrCat("ipcfault: ", options.command[0], " ", outcome, "\n");
    if (rules->empty()) {
      absl::StrAppend(&summary, "ipcfault: no rules were given\n");
    } else {
      absl::StrAppend(&summary, FormatSummary(rule_texts,
                                              CountFires(log_text, rules->size(), run_id)));
    }
    if (!temporary_log) absl::StrAppend(&summary, "ipcfault: fire log: ", log, "\n");
    std::cerr << summary << std::flush;
  }
  return exit_code;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string argv0 = argc > 0 ? argv[0] : "ipcfault";

  // `bazel run` starts us in the runfiles tree; relative paths on the
  // command line are meant from where the user typed it.
  if (std::string dir = GetEnv("BUILD_WORKING_DIRECTORY"); !dir.empty()) {
    if (chdir(dir.c_str()) != 0) {
      std::cerr << "ipcfault: cannot change to BUILD_WORKING_DIRECTORY " << dir
                << ": " << strerror(errno) << "\n";
      return kExitUsage;
    }
  }

  if (args.empty()) {
    std::cerr << kMainHelp;
    return kExitUsage;
  }
  const std::string command = args[0];
  absl::Span<const std::string> rest = absl::MakeConstSpan(args).subspan(1);
  if (IsHelp(command)) {
    std::cout << kMainHelp;
    return kExitOk;
  }
  if (command == "help") {
    if (rest.empty()) {
      std::cout << kMainHelp;
      return kExitOk;
    }
    if (rest[0] == "run") std::cout << kRunHelp;
    else if (rest[0] == "check") std::cout << kCheckHelp;
    else if (rest[0] == "calls") std::cout << kCallsHelp;
    else {
      PrintUsageError("", absl::StrCat("unknown command '", rest[0], "'"));
      return kExitUsage;
    }
    return kExitOk;
  }
  if (command == "run") return Run(rest, argv0);
  if (command == "check") return Check(rest);
  if (command == "calls") return Calls(rest);
  if (absl::StartsWith(command, "-")) {
    PrintUsageError("", absl::StrCat("unknown option '", command, "'"));
  } else {
    PrintUsageError("", absl::StrCat("unknown command '", command,
                                     "' (commands: run, check, calls, help)"));
  }
  return kExitUsage;
}

}  // namespace
}  // namespace ipcfault::cli

int main(int argc, char** argv) { return ipcfault::cli::Main(argc, argv); }
