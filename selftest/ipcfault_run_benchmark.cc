// selftest/ipcfault_run_benchmark.cc
//
// What `ipcfault run` costs a program that makes many interposed calls: a
// client doing one-byte round trips (write + read on a socket, to an echo
// peer), run
//   - plain,
//   - under `ipcfault run` with one rule that never matches those calls
//     (connect:error=ECONNREFUSED), so every write and read takes the armed
//     path of the interposer and asks the engine, and
//   - under strace with the same rule: `strace -f --seccomp-bpf -e
//     trace=connect -e inject=connect:error=ECONNREFUSED` (the seccomp filter
//     stops only connect, strace's best case), and without `-e trace=`, as the
//     rule alone is usually typed (strace then stops at every system call).
// Each iteration starts the program once; the time includes process start,
// so the round-trip count (the argument) is large enough to dominate it (the
// runs with 0 round trips measure the start alone). Besides the wall time,
// child_cpu_ms is the CPU time the programs themselves used per run.
//
//   bazel build -c opt //selftest:ipcfault_run_benchmark
//   taskset -c 0 bazel-bin/selftest/ipcfault_run_benchmark
//
// (taskset: one CPU for the client, its echo peer and the tracer alike, so
// the figures do not depend on scheduling across cores.)

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"

extern char** environ;

namespace {

std::string Runfile(const std::string& path) {
  for (const char* var : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    if (const char* dir = std::getenv(var); dir != nullptr && *dir != '\0') {
      return absl::StrCat(dir, "/ipcfault/", path);
    }
  }
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return path;
  self[n] = '\0';
  return absl::StrCat(self, ".runfiles/ipcfault/", path);
}

// Runs argv to completion with stdout/stderr to /dev/null; false unless it
// exits 0. Adds the CPU time it used (user + system, its waited-for
// descendants included: the echo peer, the traced program) to *cpu_seconds.
bool RunQuietly(const std::vector<std::string>& argv, double* cpu_seconds,
                char** env = environ) {
  std::vector<char*> c_argv;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execve(c_argv[0], c_argv.data(), env);
    _exit(127);
  }
  int status;
  struct rusage usage;
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  *cpu_seconds += static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                  static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

constexpr char kRule[] = "connect:error=ECONNREFUSED";

std::vector<std::string> Client(int64_t round_trips) {
  return {Runfile("selftest/ipcfault_probe"), "round-trips", absl::StrCat(round_trips)};
}

void RunEach(benchmark::State& state, const std::vector<std::string>& argv) {
  double cpu_seconds = 0;
  for (auto _ : state) {
    if (!RunQuietly(argv, &cpu_seconds)) {
      state.SkipWithError(absl::StrCat(argv[0], " failed").c_str());
      return;
    }
  }
  // The programs' own CPU time per run, in ms: less sensitive than the wall
  // time to other load on the machine.
  state.counters["child_cpu_ms"] =
      1e3 * cpu_seconds / static_cast<double>(state.iterations());
  state.counters["round_trips_per_s"] = benchmark::Counter(
      static_cast<double>(state.range(0)) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

void BM_Plain(benchmark::State& state) { RunEach(state, Client(state.range(0))); }

void BM_IpcfaultRun(benchmark::State& state) {
  // First make sure the library is there and injecting: a matching rule
  // must make the client fail, or the figures would measure a plain run.
  double unused = 0;
  if (RunQuietly({Runfile("ipcfault"), "run", "-q", "-e", "socketpair:error=EMFILE", "--",
                  Runfile("selftest/ipcfault_probe"), "round-trips", "1"},
                 &unused)) {
    state.SkipWithError("ipcfault run injected nothing: the benchmark would be void");
    return;
  }
  std::vector<std::string> argv = {Runfile("ipcfault"), "run", "-q", "-e", kRule,
                                   "--log", "/dev/null", "--"};
  for (const std::string& a : Client(state.range(0))) argv.push_back(a);
  RunEach(state, argv);
}

std::string Strace() {
  for (const char* path : {"/usr/bin/strace", "/bin/strace"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

void StraceWith(benchmark::State& state, std::vector<std::string> argv) {
  std::string strace = Strace();
  if (strace.empty()) {
    state.SkipWithError("strace is not installed");
    return;
  }
  argv.insert(argv.begin(), strace);
  for (const std::string& a : Client(state.range(0))) argv.push_back(a);
  RunEach(state, argv);
}

void BM_StraceSeccompTraceConnect(benchmark::State& state) {
  StraceWith(state, {"-f", "--seccomp-bpf", "-o", "/dev/null", "-e", "trace=connect",
                     "-e", absl::StrCat("inject=", kRule), "--"});
}

void BM_StraceSeccompRuleOnly(benchmark::State& state) {
  StraceWith(state, {"-f", "--seccomp-bpf", "-o", "/dev/null", "-e",
                     absl::StrCat("inject=", kRule), "--"});
}

// ---------------------------------------------------------------------------
// Start-up (issue 14): /bin/true plain, with the preload library alone
// (LD_PRELOAD, no scenario), and under `ipcfault run -q` (no rule).
//
// IPCFAULT_BASELINE=DIR (a directory holding another build's `ipcfault`
// and `libipcfault_preload.so`, say main's before a change) adds the same
// two benchmarks run with those, so that old and new are measured in one
// run, paired (--benchmark_enable_random_interleaving interleaves them).

std::vector<std::string> PreloadEnvironment(
    const std::string& library = Runfile("inject/libipcfault_preload.so")) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0) env.push_back(*e);
  }
  env.push_back("LD_PRELOAD=" + library);
  return env;
}

std::string Baseline(const std::string& file) {
  const char* dir = std::getenv("IPCFAULT_BASELINE");
  return dir != nullptr && *dir != '\0' ? absl::StrCat(dir, "/", file) : "";
}

void RunEachWithEnv(benchmark::State& state, const std::vector<std::string>& argv,
                    std::vector<std::string> env) {
  std::vector<char*> c_env;
  for (std::string& e : env) c_env.push_back(e.data());
  c_env.push_back(nullptr);
  double cpu_seconds = 0;
  for (auto _ : state) {
    if (!RunQuietly(argv, &cpu_seconds, c_env.data())) {
      state.SkipWithError(absl::StrCat(argv[0], " failed").c_str());
      return;
    }
  }
  state.counters["child_cpu_ms"] =
      1e3 * cpu_seconds / static_cast<double>(state.iterations());
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  return env;
}

void BM_TruePlain(benchmark::State& state) {
  RunEachWithEnv(state, {"/bin/true"}, CurrentEnvironment());
}

void BM_TruePreloadAlone(benchmark::State& state) {
  RunEachWithEnv(state, {"/bin/true"}, PreloadEnvironment());
}

void BM_TrueUnderIpcfaultRun(benchmark::State& state) {
  RunEachWithEnv(state, {Runfile("ipcfault"), "run", "-q", "--", "/bin/true"},
                 CurrentEnvironment());
}

void BM_TruePreloadAloneBaseline(benchmark::State& state) {
  std::string library = Baseline("libipcfault_preload.so");
  if (library.empty()) {
    state.SkipWithError("IPCFAULT_BASELINE is not set");
    return;
  }
  RunEachWithEnv(state, {"/bin/true"}, PreloadEnvironment(library));
}

void BM_TrueUnderIpcfaultRunBaseline(benchmark::State& state) {
  std::string ipcfault = Baseline("ipcfault");
  if (ipcfault.empty()) {
    state.SkipWithError("IPCFAULT_BASELINE is not set");
    return;
  }
  std::vector<std::string> env = CurrentEnvironment();
  env.push_back("IPCFAULT_PRELOAD_LIBRARY=" + Baseline("libipcfault_preload.so"));
  RunEachWithEnv(state, {ipcfault, "run", "-q", "--", "/bin/true"}, env);
}

BENCHMARK(BM_TruePlain)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_TruePreloadAlone)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_TrueUnderIpcfaultRun)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_TruePreloadAloneBaseline)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_TrueUnderIpcfaultRunBaseline)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The socket round trips with the preload library loaded and nothing armed
// (the interposer's fast path in a real program), against BM_Plain/20000.
void BM_PreloadNothingArmed(benchmark::State& state) {
  RunEachWithEnv(state, Client(state.range(0)), PreloadEnvironment());
}

BENCHMARK(BM_PreloadNothingArmed)
    ->Arg(20000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A million fires (close(-1) failing with EIO), counted in the run's shared
// memory: summary_ms is the time from the program's last act (it prints
// CLOCK_MONOTONIC as it exits) to ipcfault's exit, summary printed;
// max_rss_mb the largest resident set of ipcfault and the program.
void BM_MillionFiresSummary(benchmark::State& state) {
  const std::vector<std::string> argv = {
      Runfile("ipcfault"), "run", "-e", "close:error=EIO:fd=any", "--",
      Runfile("selftest/ipcfault_probe"), "closes-stamp", absl::StrCat(state.range(0))};
  double summary_ms = 0, max_rss_mb = 0;
  for (auto _ : state) {
    int out[2];
    if (pipe(out) != 0) {
      state.SkipWithError("pipe");
      return;
    }
    std::vector<char*> c_argv;
    for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
    c_argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(out[1], 1);
      dup2(null, 2);
      execve(c_argv[0], c_argv.data(), environ);
      _exit(127);
    }
    close(out[1]);
    std::string text;
    char buf[256];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
    close(out[0]);
    int status;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long stamp = std::atoll(text.c_str());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || stamp == 0) {
      state.SkipWithError("the run failed");
      return;
    }
    summary_ms += (static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec) -
                   static_cast<double>(stamp)) / 1e6;
    max_rss_mb = std::max(max_rss_mb, static_cast<double>(usage.ru_maxrss) / 1024);
  }
  state.counters["summary_ms"] = summary_ms / static_cast<double>(state.iterations());
  state.counters["max_rss_mb"] = max_rss_mb;
}

BENCHMARK(BM_MillionFiresSummary)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// 0 round trips: what starting the program (and ipcfault, or strace) costs;
// the difference to 20000 is what the calls cost.
#define IPCFAULT_RUN_BENCHMARK(name)   \
  BENCHMARK(name)                      \
      ->Arg(0)                         \
      ->Arg(20000)                     \
      ->Unit(benchmark::kMillisecond)  \
      ->UseRealTime()

IPCFAULT_RUN_BENCHMARK(BM_Plain);
IPCFAULT_RUN_BENCHMARK(BM_IpcfaultRun);
IPCFAULT_RUN_BENCHMARK(BM_StraceSeccompTraceConnect);
IPCFAULT_RUN_BENCHMARK(BM_StraceSeccompRuleOnly);

}  // namespace

BENCHMARK_MAIN();
