// inject/cli/run_command.cc
//
// `ipcfault run [OPTION]... -- PROGRAM [ARG]...`: run a program with the
// preload library and the rules. RunCommand() is its steps, in order; each
// step either gives the next one what it needs or says why the run stops
// (a RunStop: the message and the exit status).

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <variant>
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
#include "ipcfault/inject/cli/cli_util.h"
#include "ipcfault/inject/cli/commands.h"
#include "ipcfault/inject/cli/control_server.h"
#include "ipcfault/inject/cli/fire_summary.h"
#include "ipcfault/inject/cli/program.h"
#include "ipcfault/inject/cli/run_options.h"
#include "ipcfault/inject/cli/spawn.h"
#include "ipcfault/inject/internal/shared_counts.h"
#include "ipcfault/inject/names.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario.h"

extern char** environ;

namespace ipcfault::cli {

const char kRunHelp[] =
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
      --log=FILE           append one JSON line per fired fault to FILE
                             (default: $IPCFAULT_LOG, else under Bazel
                             $TEST_UNDECLARED_OUTPUTS_DIR/ipcfault.log, else
                             none: the summary needs no log)
      --scope=all|first    all: PROGRAM and every descendant gets the faults
                             (default); first: PROGRAM only, what it execs
                             runs without them (a child it forks without
                             exec keeps the rules: they are memory)
      --control=PATH       create a control socket at PATH (mode 0600; PATH
                             must not exist; removed at exit) through which
                             'ipcfault ctl PATH' arms and disarms rules while
                             PROGRAM runs, in all its processes; the rules
                             given here are armed first, as rules 1, 2, ...
  -q, --quiet              do not print the summary
  -h, --help               show this help and exit

All rules are checked before PROGRAM runs: a bad one is reported as
FILE:LINE:COLUMN: message (-e:1:COLUMN for -e) and nothing runs. PROGRAM must
be dynamically linked: LD_PRELOAD cannot reach a static binary, so ipcfault
refuses to run one rather than inject nothing. stdin, stdout and stderr pass
through. PROGRAM runs in a process group of its own (the terminal's
foreground group when ipcfault had the terminal), so it gets each signal
once: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM and
SIGWINCH sent to ipcfault, or to its process group, are forwarded to
PROGRAM's group. If ipcfault dies, even by SIGKILL, PROGRAM is killed.
After PROGRAM exits, a summary on stderr tells how often each rule fired
and in how many processes (counted in memory the run's processes share).

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

namespace {

constexpr char kPreloadName[] = "libipcfault_preload.so";

// Why a run stops before (or instead of) running PROGRAM: what to print on
// stderr, whole lines, and the exit status.
struct RunStop {
  std::string message;
  int exit_code;
};

// A step's result: what the next step needs, or why the run stops.
template <typename T>
using Step = std::variant<T, RunStop>;

RunStop Stop(absl::string_view message, int exit_code = kExitUsage) {
  return RunStop{absl::StrCat("ipcfault run: ", message, "\n"), exit_code};
}

// The exit status for a failure to find or start PROGRAM, as a shell has it.
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

// The canonical absolute path of an existing, readable file, as
// realpath(3) gives it, but from the kernel's own name for the open file
// (/proc/self/fd): an open and a readlink where realpath reads every
// component's link.
std::optional<std::string> RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  // Opened for reading, so that an unreadable file fails here, as the
  // loader would fail to read it (no separate access(2) check: one path
  // walk, not two). O_NONBLOCK: a FIFO there must not hang the run.
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  // Not snprintf: its frame alone is most of a page of stack.
  const std::string link = absl::StrCat("/proc/self/fd/", fd);
  ssize_t n = readlink(link.c_str(), resolved, sizeof(resolved));
  close(fd);
  // A name that is not a plain absolute path (no /proc; a file deleted
  // meanwhile, "... (deleted)"; one outside this process's root): ask
  // realpath(3).
  if (n > 0 && static_cast<size_t>(n) < sizeof(resolved) && resolved[0] == '/' &&
      !absl::EndsWith(absl::string_view(resolved, static_cast<size_t>(n)),
                      " (deleted)")) {
    return std::string(resolved, static_cast<size_t>(n));
  }
  if (realpath(path.c_str(), resolved) == nullptr) return std::nullopt;
  return std::string(resolved);
}

// ---------------------------------------------------------------------------
// Step 1: the rules of every source, validated, in order.

absl::StatusOr<std::vector<Rule>> ParseSources(
    absl::Span<const RuleSource> sources) {
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

Step<std::vector<Rule>> LoadRules(const RunOptions& options) {
  absl::StatusOr<std::vector<Rule>> rules = ParseSources(options.sources);
  if (!rules.ok()) {
    return RunStop{absl::StrCat(rules.status().message(), "\n",
                                "ipcfault run: not running ",
                                options.command[0], ": a rule is invalid\n"),
                   kExitUsage};
  }
  return *std::move(rules);
}

// ---------------------------------------------------------------------------
// Step 2: PROGRAM's path, checked to be one the preload library can enter.

Step<std::string> ResolveProgram(const RunOptions& options) {
  absl::StatusOr<std::string> program =
      FindProgram(options.command[0], GetEnv("PATH"));
  if (!program.ok()) {
    return Stop(program.status().message(), ExitCodeFor(program.status()));
  }
  if (absl::Status s = CheckPreloadable(*program); !s.ok()) {
    return Stop(s.message(), ExitCodeFor(s));
  }
  return *std::move(program);
}

// ---------------------------------------------------------------------------
// Step 3: the preload library.

// The kernel's name for this binary (canonical already), or "" if it has
// none (deleted, say). Not inlined: its PATH_MAX buffer is off the stack
// again before RealPath puts its own there.
__attribute__((noinline)) std::string OwnExecutable() {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self));
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(self)) return "";
  absl::string_view name(self, static_cast<size_t>(n));
  if (absl::EndsWith(name, " (deleted)")) return "";
  return std::string(name);
}

// Finds libipcfault_preload.so: $IPCFAULT_PRELOAD_LIBRARY; the runfiles of
// this binary (bazel run, bazel test, bazel-bin/ipcfault with its
// .runfiles); next to it as Bazel lays out bazel-bin (bazel-bin/ipcfault
// and bazel-bin/inject/); next to it, in ../lib or ../lib/ipcfault (where
// `cmake --install` puts it), as installed.
absl::StatusOr<std::string> SearchPreloadLibrary(const std::string& argv0) {
  if (std::string forced = GetEnv("IPCFAULT_PRELOAD_LIBRARY"); !forced.empty()) {
    std::optional<std::string> path = RealPath(forced);
    if (!path.has_value()) {
      return absl::ErrnoToStatus(
          errno, absl::StrCat("IPCFAULT_PRELOAD_LIBRARY=", forced));
    }
    return *path;
  }
  const std::string exe = OwnExecutable();

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
    // cmake --install: <prefix>/bin/ipcfault, <prefix>/lib/ipcfault/.
    candidates.push_back(absl::StrCat(dir, "/../lib/ipcfault/", kPreloadName));
  }
  for (const std::string& candidate : candidates) {
    if (std::optional<std::string> path = RealPath(candidate)) return *path;
  }
  return absl::NotFoundError(absl::StrCat(
      "cannot find ", kPreloadName, " (looked in: ",
      absl::StrJoin(candidates, ", "),
      "); build //inject:libipcfault_preload.so or set "
      "IPCFAULT_PRELOAD_LIBRARY to its path"));
}

Step<std::string> FindPreloadLibrary(const std::string& argv0) {
  absl::StatusOr<std::string> library = SearchPreloadLibrary(argv0);
  if (!library.ok()) return Stop(library.status().message());
  if (library->find_first_of(": ") != std::string::npos) {
    return Stop(absl::StrCat("the preload library's path ", *library,
                             " contains ':' or ' ', which LD_PRELOAD cannot "
                             "express"));
  }
  return *std::move(library);
}

// ---------------------------------------------------------------------------
// Step 4: where the fires are counted (a shared-memory region every process
// of the run adds to) and, if asked, logged.

struct FireRecord {
  inject_internal::SharedCounts counts;
  std::string log;  // absolute; empty: no log
};

Step<FireRecord> PrepareFireRecord(const RunOptions& options, size_t rule_count) {
  std::optional<inject_internal::SharedCounts> counts =
      inject_internal::SharedCounts::Create(rule_count);
  if (!counts.has_value()) {
    return Stop(absl::StrCat("cannot create the run's fire counters: ",
                             strerror(errno)));
  }
  // The log is for detail, and only where it is asked for: no temporary
  // file, so nothing is left behind whatever happens to this process.
  std::string log;
  if (options.log.has_value()) {
    log = *options.log;
  } else if (std::string env_log = GetEnv("IPCFAULT_LOG"); !env_log.empty()) {
    log = env_log;
  } else if (std::string outputs = GetEnv("TEST_UNDECLARED_OUTPUTS_DIR");
             !outputs.empty()) {
    log = absl::StrCat(outputs, "/ipcfault.log");
  }
  if (!log.empty() && log[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) != nullptr) log = absl::StrCat(cwd, "/", log);
  }
  if (!log.empty()) {
    int fd = open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Stop(absl::StrCat("cannot open the log ", log, ": ",
                               strerror(errno)));
    }
    close(fd);
  }
  return FireRecord{*std::move(counts), std::move(log)};
}

// ---------------------------------------------------------------------------
// Step 5: the seed. p= rules without seed= draw from one process seed; fix
// it here, so that every process of the run uses the same one and the run
// can be repeated.

void FixSeed(const std::vector<Rule>& rules, RunOptions& options) {
  if (options.seed.has_value() || !GetEnv("IPCFAULT_SEED").empty()) return;
  bool random = false;
  for (const Rule& rule : rules) {
    if (rule.probability < 1.0 && !rule.seed.has_value()) random = true;
  }
  if (!random) return;
  options.seed = RandomBits();
  Err("ipcfault: --seed=", *options.seed,
      " (random seed for p= rules; pass it to repeat this run)\n");
}

// ---------------------------------------------------------------------------
// Step 6: the environment for the program: ours, with LD_PRELOAD and
// IPCFAULT_* set for the preload library.

std::vector<std::string> ProgramEnvironment(const std::string& library,
                                            const std::string& scenario,
                                            const RunOptions& options,
                                            const FireRecord& record,
                                            const std::string& run_id) {
  std::vector<std::string> env;
  // Sized once: growing it would leave a heap page or two of buffers
  // behind, each page a fault (docs/run.md, "The command's own start").
  size_t inherited = 0;
  while (environ[inherited] != nullptr) ++inherited;
  env.reserve(inherited + 8);
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
        name == "IPCFAULT_RUN_ID" || name == inject_internal::kCountsVariable ||
        name == inject_internal::kControlEnv ||
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
  // Set and empty: no log (the preload library would otherwise pick one).
  env.push_back(absl::StrCat("IPCFAULT_LOG=", record.log));
  env.push_back(record.counts.EnvironmentEntry(record.counts.fd()));
  env.push_back(absl::StrCat("IPCFAULT_RUN_ID=", run_id));
  env.push_back(absl::StrCat(
      "IPCFAULT_SCOPE=", options.scope == Scope::kFirst ? "first" : "all"));
  if (options.seed.has_value()) {
    env.push_back(absl::StrCat("IPCFAULT_SEED=", *options.seed));
  }
  return env;
}

// Tags this run's log lines, so runs sharing a log (under Bazel, every run
// in one test) each count only their own fires.
std::string NewRunId() {
  return absl::StrFormat("%d-%016x", getpid(), RandomBits());
}

// ---------------------------------------------------------------------------
// Step 7: run PROGRAM and wait for it.

struct Outcome {
  int exit_code;
  std::string text;  // "exited with status 1", "was killed by SIGKILL ..."
};

Step<Outcome> RunProgram(const std::string& program, const RunOptions& options,
                         const std::vector<std::string>& env,
                         const FireRecord& record, const ControlServer* control) {
  SpawnOptions spawn;
  spawn.inherit_fds.push_back(record.counts.fd());
  if (control != nullptr) spawn.inherit_fds.push_back(control->region_fd());
  absl::StatusOr<int> status =
      SpawnAndWait(program, options.command, env, spawn);
  if (!status.ok()) {
    return Stop(status.status().message(), ExitCodeFor(status.status()));
  }
  int exit_code = ShellExitCode(*status);
  std::string text =
      WIFSIGNALED(*status)
          ? absl::StrCat("was killed by ", SignalName(WTERMSIG(*status)),
                         " (exit status ", exit_code, ")")
          : absl::StrCat("exited with status ", exit_code);
  return Outcome{exit_code, std::move(text)};
}

// ---------------------------------------------------------------------------
// Step 8: this run's fires, from the shared counters: no log to read.

FireCounts CollectFires(const FireRecord& record) {
  FireCounts counts;
  const inject_internal::SharedCounts& shared = record.counts;
  counts.rules.resize(shared.rule_count());
  for (size_t i = 0; i < shared.rule_count(); ++i) {
    counts.rules[i].fired = shared.fired(i);
    counts.rules[i].processes = shared.processes(i);
  }
  return counts;
}

// ---------------------------------------------------------------------------
// Step 9: the summary.

std::string Summary(const RunOptions& options, const std::vector<Rule>& rules,
                    const Outcome& outcome, const FireCounts& counts,
                    const FireRecord& record, ControlServer* control) {
  std::string summary = absl::StrCat("ipcfault: ", options.command[0], " ",
                                     outcome.text, "\n");
  if (control != nullptr) {
    absl::StrAppend(&summary, control->Summary());
  } else if (rules.empty()) {
    absl::StrAppend(&summary, "ipcfault: no rules were given\n");
  } else {
    std::vector<std::string> rule_texts;
    for (const Rule& rule : rules) rule_texts.push_back(FormatRule(rule));
    absl::StrAppend(&summary, FormatSummary(rule_texts, counts));
  }
  if (!record.log.empty()) {
    absl::StrAppend(&summary, "ipcfault: fire log: ", record.log, "\n");
  }
  return summary;
}

// ---------------------------------------------------------------------------
// --control=PATH: the control socket and region (control_server.h), with the
// run's rules armed in it first, as rules 1..n. None without --control.

Step<std::unique_ptr<ControlServer>> StartControl(const RunOptions& options,
                                                  const std::vector<Rule>& rules,
                                                  const std::string& log,
                                                  const std::string& run_id) {
  if (!options.control.has_value()) return std::unique_ptr<ControlServer>();
  uint64_t log_start = 0;
  if (struct stat st; !log.empty() && stat(log.c_str(), &st) == 0) log_start = st.st_size;
  absl::StatusOr<std::unique_ptr<ControlServer>> control = ControlServer::Create(
      {.path = *options.control, .run_id = run_id, .log = log, .log_start = log_start,
       .seed = options.seed});
  if (!control.ok()) return Stop(control.status().message());
  if (absl::StatusOr<std::vector<uint32_t>> ids = (*control)->Arm(rules); !ids.ok()) {
    return Stop(absl::StrCat("--control: ", ids.status().message()));
  }
  if (absl::Status started = (*control)->Start(); !started.ok()) {
    return Stop(started.message());
  }
  return *std::move(control);
}

// A process of the run exec'd a program the preload library cannot enter
// (the exec wrappers of preload_exec.cc noted it): it ran without faults.
std::string UnreachableExecNote(const inject_internal::SharedCounts& counts) {
  uint64_t n = counts.unreachable_execs();
  if (n == 0) return "";
  return absl::StrCat(
      "ipcfault: warning: ", n, n == 1 ? " program" : " programs",
      " exec'd during the run cannot load the preload library and ran "
      "without faults; the first: ",
      counts.first_unreachable_exec(), "\n");
}

int Stopped(const RunStop& stop) {
  Err(stop.message);
  return stop.exit_code;
}

}  // namespace

int RunCommand(absl::Span<const std::string> args,
               const CommandContext& context) {
  absl::StatusOr<RunOptions> parsed = ParseRunOptions(args);
  if (!parsed.ok()) {
    PrintUsageError("run", parsed.status().message());
    return kExitUsage;
  }
  RunOptions& options = *parsed;
  if (options.help) {
    Out(kRunHelp);
    return kExitOk;
  }

  Step<std::vector<Rule>> rules = LoadRules(options);
  if (auto* stop = std::get_if<RunStop>(&rules)) return Stopped(*stop);
  Step<std::string> program = ResolveProgram(options);
  if (auto* stop = std::get_if<RunStop>(&program)) return Stopped(*stop);
  Step<std::string> library = FindPreloadLibrary(context.argv0);
  if (auto* stop = std::get_if<RunStop>(&library)) return Stopped(*stop);
  const std::vector<Rule>& rule_list = std::get<0>(rules);
  // --control: the rules live in the control region, which counts them.
  Step<FireRecord> record =
      PrepareFireRecord(options, options.control ? 0 : rule_list.size());
  if (auto* stop = std::get_if<RunStop>(&record)) return Stopped(*stop);
  const FireRecord& fires = std::get<0>(record);
  FixSeed(rule_list, options);

  const std::string run_id = NewRunId();
  Step<std::unique_ptr<ControlServer>> control =
      StartControl(options, rule_list, fires.log, run_id);
  if (auto* stop = std::get_if<RunStop>(&control)) return Stopped(*stop);
  ControlServer* controlled = std::get<0>(control).get();
  std::vector<std::string> env = ProgramEnvironment(
      std::get<0>(library), controlled ? "" : FormatScenario(rule_list), options,
      fires, run_id);
  if (controlled) env.push_back(controlled->EnvironmentEntry());
  Step<Outcome> outcome =
      RunProgram(std::get<0>(program), options, env, fires, controlled);
  if (auto* stop = std::get_if<RunStop>(&outcome)) return Stopped(*stop);
  // Said even with -q: some of the run went without faults.
  Err(UnreachableExecNote(fires.counts));
  if (!options.quiet) {
    Err(Summary(options, rule_list, std::get<0>(outcome), CollectFires(fires), fires, controlled));
  }
  return std::get<0>(outcome).exit_code;
}

absl::StatusOr<std::string> PreloadLibraryPath(const std::string& argv0) {
  return SearchPreloadLibrary(argv0);
}

}  // namespace ipcfault::cli
