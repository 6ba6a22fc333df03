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
bool RunQuietly(const std::vector<std::string>& argv, double* cpu_seconds) {
  std::vector<char*> c_argv;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execve(c_argv[0], c_argv.data(), environ);
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
