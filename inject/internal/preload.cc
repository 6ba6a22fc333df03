// inject/internal/preload.cc
//
// The load-time setup of libipcfault_preload.so: the interposer and the
// engine, built as a shared object for LD_PRELOAD, armed from the
// environment before the program's main() runs.
//
//   IPCFAULT_SCENARIO       the scenario text (rules, one a line)
//   IPCFAULT_SCENARIO_FILE  or a file holding it (not both)
//   IPCFAULT_SEED           the seed of p= rules without their own seed=
//                           (read by the engine; a fresh one is printed)
//   IPCFAULT_LOG            append one JSON line per fired fault to this
//                           file (fire_log.h); default under Bazel:
//                           $TEST_UNDECLARED_OUTPUTS_DIR/ipcfault.log, else
//                           none; set and empty: none
//   IPCFAULT_COUNTS         set by `ipcfault run`: the run's shared fire
//                           counters (shared_counts.h), which every fire
//                           of this process adds to
//   IPCFAULT_CONTROL        set by `ipcfault run --control`: where the run's
//                           control region is (control_attach.h); the rules
//                           armed there apply to this process too
//   IPCFAULT_SCOPE          all (default): every descendant inherits
//                           LD_PRELOAD and these variables, so what the
//                           program execs gets the same faults;
//                           first: the library removes itself from
//                           LD_PRELOAD and these variables from the
//                           environment at load, so what the program execs
//                           runs without faults. A child the program forks
//                           and does not exec still has the rules and their
//                           counts (they are memory).
//
// A scenario that does not parse stops the program before main() with the
// parser's message on stderr and exit status 2: never a silent run without
// faults. With no scenario set the library arms nothing and stays inert.

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/bypass.h"
#include "ipcfault/inject/internal/arm_rules.h"
#include "ipcfault/inject/internal/arming.h"
#include "ipcfault/inject/internal/call_stack.h"
#include "ipcfault/inject/internal/control_attach.h"
#include "ipcfault/inject/internal/control_region.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/internal/fire_log.h"
#include "ipcfault/inject/internal/loaded_object.h"
#include "ipcfault/inject/internal/real_functions.h"
#include "ipcfault/inject/internal/sweep_support.h"
#include "ipcfault/inject/internal/shared_counts.h"
#include "ipcfault/inject/scenario.h"

extern "C" void IpcfaultPreloadInit();

namespace ipcfault::inject_internal {
namespace {

// The absolute path of the fire log; empty: no log. Written once at load,
// before any rule is armed; read by the fire hook.
char log_path[PATH_MAX];
// When log_path names a descriptor of the process (/dev/fd/N, /dev/stderr,
// ...): a close-on-exec duplicate of it, which the fire lines are written
// through; else -1. See LogDescriptor.
int log_fd = -1;
// The run this process belongs to (IPCFAULT_RUN_ID), or "".
char run_id[65];

// The run's shared counters (IPCFAULT_COUNTS, set by `ipcfault run`), if
// this process reached them. Set once at load, before any rule is armed.
SharedCounts* shared_counts = nullptr;

// The file name this library was loaded under (LD_PRELOAD entries name it),
// set at load.
char own_file_name[NAME_MAX + 1];

// The fire hook: runs on the thread that made the call, possibly in a signal
// handler. Async-signal-safe.
void RecordFire(const FiredFault& fault) {
  if (shared_counts != nullptr) shared_counts->RecordFire(fault.rule_index);
  if (log_path[0] == '\0') return;
  char line[kFireLineMax];
  size_t n = FormatFireLine(fault, line, sizeof(line), run_id);
  if (log_fd >= 0) {
    // One write: the line stays whole among the program's own writes.
    long written;
    do {
      written = syscall(SYS_write, log_fd, line, n);
    } while (written < 0 && errno == EINTR);
    if (written >= 0 || errno != EBADF) return;
    // The program closed it (a daemon closing every descriptor): by path.
  }
  AppendToFile(log_path, line, n);
}

// The descriptor `path` names, if it names one of this process's own
// (/dev/fd/N, /proc/self/fd/N, /dev/stdout, /dev/stderr), else -1.
int DescriptorNamedBy(const char* path) {
  const char* digits = nullptr;
  if (strcmp(path, "/dev/stdout") == 0) return STDOUT_FILENO;
  if (strcmp(path, "/dev/stderr") == 0) return STDERR_FILENO;
  if (strncmp(path, "/dev/fd/", 8) == 0) digits = path + 8;
  if (strncmp(path, "/proc/self/fd/", 14) == 0) digits = path + 14;
  if (digits == nullptr || *digits == '\0') return -1;
  int fd = 0;
  for (const char* p = digits; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9' || fd > 100000) return -1;
    fd = fd * 10 + (*p - '0');
  }
  return fd;
}

// A log that names a descriptor the program holds (`--log=/dev/fd/3` with
// `3>&1`, `--log=/dev/stderr`) is written through that descriptor's open
// file, not a second open of the same file: a second open has an offset of
// its own, and the program's writes through the first (its stdout into the
// same file) would overwrite the fire lines. A duplicate, high and
// close-on-exec, so the program's own use of N is left alone; what it execs
// makes its own. -1 if `path` names none (or it is not open).
int LogDescriptor(const char* path) {
  int fd = DescriptorNamedBy(path);
  if (fd < 0 || fcntl(fd, F_GETFD) < 0) return -1;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 900);
  if (copy < 0) copy = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  return copy;
}

// The C library's setenv and unsetenv, not the program's: a shell (bash)
// defines its own, and calling them before its main() has set up its
// variables leaves its getenv blind to the rest of the environment (the
// run's IPCFAULT_COUNTS, read next, was lost that way).
int LibcSetenv(const char* name, const char* value) {
  using Fn = int (*)(const char*, const char*, int);
  static const Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "setenv"));
  return fn != nullptr ? fn(name, value, 1) : setenv(name, value, 1);
}

int LibcUnsetenv(const char* name) {
  using Fn = int (*)(const char*);
  static const Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "unsetenv"));
  return fn != nullptr ? fn(name) : unsetenv(name);
}

void WriteStderr(absl::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(STDERR_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// Stops the program before main(): the rules it was given cannot be armed.
[[noreturn]] void Refuse(absl::string_view message) {
  WriteStderr(absl::StrCat(
      message, "\nipcfault: not running ", program_invocation_name,
      " without the faults it was given (exit status 2)\n"));
  _exit(2);
}

std::string GetEnv(const char* name) {
  const char* value = getenv(name);
  return value != nullptr ? value : "";
}

bool ReadWholeFile(const std::string& path, std::string* out, int* err) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return false;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *err = errno;
      close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

// Writes `path` into `out` (`size` bytes), made absolute against the
// current directory, so that the log stays the same file when the program
// chdir()s; as it is if the directory is unknown. False if it does not fit.
// Into a buffer, not a std::string: a path is longer than a short string's
// inline buffer, and a run that injects nothing should not make the
// program's first malloc (docs/run.md, "Cost").
bool AbsoluteInto(const char* path, char* out, size_t size) {
  const size_t length = strlen(path);
  size_t used = 0;
  if (length > 0 && path[0] != '/' && getcwd(out, size) != nullptr) {
    used = strlen(out);
    if (used + 1 >= size) return false;
    out[used++] = '/';
  }
  if (used + length >= size) return false;
  memcpy(out + used, path, length + 1);
  return true;
}

absl::string_view Basename(absl::string_view path) {
  size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

constexpr const char* kOwnVariables[] = {
    "IPCFAULT_SCENARIO", "IPCFAULT_SCENARIO_FILE", "IPCFAULT_SEED",
    "IPCFAULT_LOG",      "IPCFAULT_SCOPE",         "IPCFAULT_RUN_ID",
    kCountsVariable,     kControlEnv};

// The name this library was loaded under ("libipcfault_preload.so").
absl::string_view OwnName() {
  const char* path =
      LoadedObjectOf(reinterpret_cast<void*>(&IpcfaultPreloadInit)).path;
  if (path != nullptr && *path != '\0') return Basename(path);
  return "libipcfault_preload.so";
}

// Whether `entry` starts with "IPCFAULT_". Letter by letter, so that the
// compiler compares against immediates: a string literal would sit in
// .rodata, a page of the library that every program would otherwise fault
// in at start-up just for these nine bytes (docs/run.md, "Cost").
bool StartsWithIpcfault(const char* entry) {
  return entry[0] == 'I' && entry[1] == 'P' && entry[2] == 'C' &&
         entry[3] == 'F' && entry[4] == 'A' && entry[5] == 'U' &&
         entry[6] == 'L' && entry[7] == 'T' && entry[8] == '_';
}

// Whether the environment holds any IPCFAULT_* variable.
bool AnyIpcfaultVariable() {
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (StartsWithIpcfault(*e)) return true;
  }
  return false;
}

// The entries of the environment as the process started with it (the
// strings the kernel put on the stack) that name this library or configure
// it: LD_PRELOAD and the IPCFAULT_* variables.
std::vector<char*> OriginalEntries() {
  std::vector<char*> entries;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view var(*e);
    absl::string_view name = var.substr(0, var.find('='));
    bool ours = name == "LD_PRELOAD";
    for (const char* own : kOwnVariables) ours = ours || name == own;
    if (ours && name.size() < var.size()) entries.push_back(*e);
  }
  return entries;
}

// IPCFAULT_SCOPE=first, for a program that keeps its own copy of the
// environment (the envp of main, an array a library copied before this
// library's constructor ran, /proc/self/environ): overwrites, in place,
// this library's entries in LD_PRELOAD with spaces (which the loader skips)
// and the IPCFAULT_* strings with NULs (an empty entry names no variable),
// so every copy that points at the original strings loses them too.
void WipeOriginalEntries(const std::vector<char*>& entries) {
  const absl::string_view own_name = OwnName();
  for (char* entry : entries) {
    size_t length = strlen(entry);
    if (strncmp(entry, "LD_PRELOAD=", 11) != 0) {
      memset(entry, 0, length);
      continue;
    }
    // Each token of the list, separated by ':' or ' ' as ld.so reads it.
    char* p = entry + 11;
    char* end = entry + length;
    while (p < end) {
      char* token_end = p;
      while (token_end < end && *token_end != ':' && *token_end != ' ') ++token_end;
      if (Basename(absl::string_view(p, static_cast<size_t>(token_end - p))) ==
          own_name) {
        memset(p, ' ', static_cast<size_t>(token_end - p));
      }
      p = token_end + 1;
    }
    // Nothing else was preloaded: no LD_PRELOAD at all.
    if (strspn(entry + 11, ": ") == length - 11) memset(entry, 0, length);
  }
}

// IPCFAULT_SCOPE=first: what this process execs must not load the library
// or see the scenario. Drops this library's entries from LD_PRELOAD (by file
// name, however the path was spelled) and the IPCFAULT_* variables.
void StripFromEnvironment() {
  const absl::string_view own_name = OwnName();
  std::string preload = GetEnv("LD_PRELOAD");
  std::vector<absl::string_view> kept;
  // ld.so separates LD_PRELOAD entries by colons or spaces.
  for (absl::string_view entry :
       absl::StrSplit(preload, absl::ByAnyChar(": "), absl::SkipEmpty())) {
    if (Basename(entry) != own_name) kept.push_back(entry);
  }
  if (kept.empty()) {
    LibcUnsetenv("LD_PRELOAD");
  } else {
    LibcSetenv("LD_PRELOAD", absl::StrJoin(kept, ":").c_str());
  }
  for (const char* name : kOwnVariables) LibcUnsetenv(name);
}

// What a process that may arm rules does first (here: --control, rules
// parsed, a sweep): resolves every real function, so that no armed call (in
// a signal handler, say) pays for dlsym (real_functions.h), and finds the
// other copies of ipcfault in the process before it can hold a Bypass
// (bypass.h). One with nothing to inject (an empty scenario, `ipcfault run`
// with no rule) does neither: each real function resolves on its first
// call, and it never holds a Bypass. Idempotent.
void PrepareToArm() {
  ResolveAllRealFunctions();
  FindOtherBypassCopies();
}

void Init() {
  {
    absl::string_view name = OwnName();
    size_t n = std::min(name.size(), sizeof(own_file_name) - 1);
    memcpy(own_file_name, name.data(), n);
    own_file_name[n] = '\0';
  }
  // Nothing configures the library (preloaded by hand, say, or into a
  // program whose run passes nothing to inject): the interposed calls pass
  // through, and the start-up ends here, before anything allocates or
  // resolves (docs/run.md, "Cost"). Every setting below is an IPCFAULT_*
  // variable.
  if (!AnyIpcfaultVariable()) return;
  const char* text_env = getenv("IPCFAULT_SCENARIO");
  const char* file_env = getenv("IPCFAULT_SCENARIO_FILE");
  std::string scope = GetEnv("IPCFAULT_SCOPE");
  if (!scope.empty() && scope != "all" && scope != "first") {
    Refuse(absl::StrCat("ipcfault: IPCFAULT_SCOPE=", scope,
                        ": expected 'all' or 'first'"));
  }
  // Before anything here changes the environment.
  std::vector<char*> original_entries;
  if (scope == "first") original_entries = OriginalEntries();
  if (text_env != nullptr && file_env != nullptr) {
    Refuse(
        "ipcfault: both IPCFAULT_SCENARIO and IPCFAULT_SCENARIO_FILE are "
        "set; set one");
  }

  // Views of the environment and of a literal, which outlive the start-up:
  // copying them would allocate for nothing.
  absl::string_view text;
  absl::string_view source;
  std::string file_text;
  if (text_env != nullptr) {
    text = text_env;
    source = "IPCFAULT_SCENARIO";
  } else if (file_env != nullptr) {
    source = file_env;
    int err = 0;
    if (!ReadWholeFile(file_env, &file_text, &err)) {
      Refuse(absl::StrCat("ipcfault: IPCFAULT_SCENARIO_FILE=", source, ": ",
                          strerror(err)));
    }
    text = file_text;
  }

  // Set by `ipcfault run`: tags this run's log lines (see fire_log.h).
  // Copied from the environment with no std::string: a run's id is longer
  // than a short string's inline buffer, and `ipcfault run` with nothing to
  // inject should not make the program's first malloc.
  if (const char* run = getenv("IPCFAULT_RUN_ID"); run != nullptr) {
    const size_t length = strlen(run);
    if (length >= sizeof(run_id)) {
      Refuse(absl::StrCat("ipcfault: IPCFAULT_RUN_ID is longer than ",
                          sizeof(run_id) - 1, " characters"));
    }
    memcpy(run_id, run, length + 1);
  }

  // The fire log: IPCFAULT_LOG, else the test's undeclared outputs; "" for
  // none.
  const char* log_env = getenv("IPCFAULT_LOG");
  std::string default_log;
  if (const char* outputs = getenv("TEST_UNDECLARED_OUTPUTS_DIR");
      log_env == nullptr && outputs != nullptr && *outputs != '\0') {
    default_log = absl::StrCat(outputs, "/ipcfault.log");
  }
  char log[sizeof(log_path)];
  const char* wanted = log_env != nullptr ? log_env : default_log.c_str();
  if (!AbsoluteInto(wanted, log, sizeof(log))) {
    Refuse(absl::StrCat("ipcfault: IPCFAULT_LOG path too long: ", wanted));
  }
  if (log_env != nullptr && strcmp(log, log_env) != 0) {
    // What this program execs (after a chdir, perhaps) logs to the same file.
    LibcSetenv("IPCFAULT_LOG", log);
  }

  // --control: the rules armed in the run's control region apply here too
  // (the region's rules then are all of them: ipcfault run passes no
  // scenario).
  const bool controlled =
      AttachControlFromEnvironment() == ControlAttach::kAttached;
  if (controlled) {
    PrepareToArm();
    // A rule armed later through the region may carry site=: the stack
    // walk's first call (which allocates and takes locks) happens now, not
    // inside a call being decided (call_stack.h).
    WarmCallStack();
  }
  // An empty scenario (`ipcfault run` with no rule) has nothing to parse;
  // text is only ever set with its source.
  if (!text.empty() || controlled) {
    // No absl::Status on this path (docs/run.md, "A libc-only preload library").
    std::vector<Rule> parsed;
    std::string error;
    if (!scenario_internal::ParseScenarioRules(text, source, &parsed, &error)) {
      Refuse(error);
    }
    std::vector<Rule>* rules = &parsed;
    if (!rules->empty() || controlled) {
      if (log[0] != '\0') {
        // The record is not the faults: a log that cannot be written is
        // worth a warning, not a refusal to run.
        int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
          WriteStderr(absl::StrCat("ipcfault: warning: cannot open the fire log ",
                                   log, ": ", strerror(errno),
                                   "; fired faults will not be logged\n"));
        } else {
          close(fd);
          memcpy(log_path, log, strlen(log) + 1);
          log_fd = LogDescriptor(log_path);
        }
      }
      if (const char* spec = getenv(kCountsVariable); spec != nullptr) {
        std::string why;
        std::optional<SharedCounts> counts =
            SharedCounts::Attach(spec, rules->size(), &why);
        if (counts.has_value()) {
          shared_counts = new SharedCounts(*std::move(counts));
        } else {
          WriteStderr(absl::StrCat("ipcfault: warning: ", program_invocation_name,
                                   " (pid ", getpid(), "): ", why,
                                   "; its fires are not counted in the "
                                   "summary\n"));
        }
      }
      if (log_path[0] != '\0' || shared_counts != nullptr) {
        SetFireHook(&RecordFire);
      }
    }
    if (!rules->empty()) {
      PrepareToArm();
      // The same path as ipcfault::Arm (arm_rules.h). The engine reads
      // IPCFAULT_SEED here, for p= rules without seed=, and holds the group:
      // it stays armed for the life of the process (and of its forked
      // children); nothing disarms it, so exit handlers and destructors
      // still see the faults.
      std::string why;
      if (TryArmRules(std::move(parsed), "", &why) == nullptr) {
        Refuse(absl::StrCat("ipcfault: ", source, ": ", why));
      }
    }
  }

  // `ipcfault record` and `ipcfault sweep` (sweep_support.h).
  if (getenv("IPCFAULT_SWEEP_LOG") != nullptr) PrepareToArm();
  if (const char* error = nullptr; !StartSweepSupport(&error)) Refuse(error);

  // Last: arming above still reads the environment.
  if (scope == "first") {
    // What this process execs must not inherit the run's counters either.
    if (const char* spec = getenv(kCountsVariable); spec != nullptr) {
      int fd = -1;
      if (sscanf(spec, "%d:", &fd) == 1 && fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    StripFromEnvironment();
    WipeOriginalEntries(original_entries);
  }
}

}  // namespace

const char* PreloadFileName() { return own_file_name; }

bool PreloadResolvesWhenArmed() { return true; }

// Called by the exec wrappers (preload_exec.cc) before a program that the
// library cannot enter is exec'd with it in LD_PRELOAD. Async-signal-safe.
void NoteUnreachableExec(const char* path, const char* why) {
  if (shared_counts != nullptr) {
    shared_counts->RecordUnreachableExec(path, why);
    return;
  }
  // Preloaded by hand: say it here, once per process.
  static std::atomic<bool> said{false};
  if (said.exchange(true)) return;
  char line[PATH_MAX + 256];
  size_t n = 0;
  for (const char* part : {"ipcfault: warning: ", path, " (", why,
                           ") runs without faults: the preload library cannot "
                           "enter it\n"}) {
    for (; *part != '\0' && n + 1 < sizeof(line); ++part) line[n++] = *part;
  }
  ssize_t ignored = write(STDERR_FILENO, line, n);
  (void)ignored;
}

}  // namespace ipcfault::inject_internal

// Runs when the dynamic loader initialises the library: after libc and the
// library's own dependencies, before the program's constructors and main().
extern "C" __attribute__((constructor, visibility("default"))) void
IpcfaultPreloadInit() {
  ipcfault::inject_internal::Init();
}
