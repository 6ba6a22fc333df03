// selftest/control_benchmark.cc
//
// What live control costs and how fast it acts (docs/control.md):
//
//   BM_ArmToFirstCall     the time from Controller::Arm() returning to the
//                         first call of a running program that sees the
//                         rule (kill:error=EPERM, on a program calling
//                         kill(self, 0) in a loop and noting when a call's
//                         result flips; CLOCK_MONOTONIC on both sides);
//                         counter disarm_us: the same for Disarm().
//   BM_RoundTrip/MODE     one-byte socketpair round trips (write + read) of
//                         a program, timed by the program itself:
//                           plain      no preload, no ipcfault
//                           preload    under `ipcfault run --control`,
//                                      nothing armed
//                           churn      the same while this process arms and
//                                      disarms accept:error=EMFILE (a call
//                                      the round trips do not make) as fast
//                                      as the socket answers; counter
//                                      publications: how many per run
//                           churn_read the same with read:error=EIO:fd=pipe
//                                      (names the round trips' read, so each
//                                      read asks the engine while armed)
//
//   bazel build -c opt //selftest:control_benchmark
//   taskset -c 0 bazel-bin/selftest/control_benchmark
//   taskset -c 0,1 bazel-bin/selftest/control_benchmark --benchmark_filter=ArmTo
//
// (With one CPU, BM_ArmToFirstCall mostly measures when the scheduler runs
// the program again; with two, the mechanism.)

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "benchmark/benchmark.h"
#include "ipcfault/inject/controller.h"

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
  if (n < 0) return path;
  self[n] = '\0';
  return absl::StrCat(self, ".runfiles/ipcfault/", path);
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// A program with stdin and stdout on pipes, read line by line.
class Program {
 public:
  explicit Program(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) std::abort();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) std::abort();
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
  }
  ~Program() { Finish(); }

  // The next line of its stdout ("" at EOF).
  std::string Line() {
    for (;;) {
      size_t eol = buffer_.find('\n');
      if (eol != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 1);
        return line;
      }
      char buf[4096];
      ssize_t n = read(stdout_, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return "";
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  void Write(const std::string& data) {
    if (write(stdin_, data.data(), data.size()) != static_cast<ssize_t>(data.size())) std::abort();
  }

  void Finish() {
    if (pid_ <= 0) return;
    close(stdin_);
    kill(pid_, SIGTERM);
    close(stdout_);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string buffer_;
};

std::string SocketPath(const char* name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/ipcfault-bench-", getpid(),
                                  "-", name);
  unlink(path.c_str());
  return path;
}

// "flip K T" -> T
int64_t FlipTime(const std::string& line) {
  std::vector<std::string> words = absl::StrSplit(line, ' ');
  int64_t t = 0;
  if (words.size() != 3 || words[0] != "flip" || !absl::SimpleAtoi(words[2], &t)) {
    std::fprintf(stderr, "unexpected line from the target: '%s'\n", line.c_str());
    std::abort();
  }
  return t;
}

void BM_ArmToFirstCall(benchmark::State& state) {
  const std::string path = SocketPath("flips");
  Program run({Runfile("ipcfault"), "run", "-q", "--control=" + path, "--",
               Runfile("selftest/control_bench_target"), "flips"});
  // The socket exists before the program starts.
  if (run.Line() != "ready") std::abort();
  absl::StatusOr<ipcfault::Controller> control = ipcfault::Controller::Connect(path);
  if (!control.ok()) {
    state.SkipWithError(std::string(control.status().message()).c_str());
    return;
  }
  double disarm_ns = 0;
  for (auto _ : state) {
    absl::StatusOr<std::vector<uint32_t>> ids = control->Arm("kill:error=EPERM");
    const int64_t armed = NowNs();
    if (!ids.ok()) std::abort();
    const int64_t seen = FlipTime(run.Line());
    state.SetIterationTime(static_cast<double>(seen - armed) * 1e-9);
    if (!control->Disarm(*ids).ok()) std::abort();
    const int64_t disarmed = NowNs();
    disarm_ns += static_cast<double>(FlipTime(run.Line()) - disarmed);
  }
  state.counters["disarm_us"] =
      benchmark::Counter(disarm_ns / 1e3 / static_cast<double>(state.iterations()));
  run.Finish();
}
BENCHMARK(BM_ArmToFirstCall)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(200);

enum Mode { kPlain, kPreload, kChurn, kChurnRead };

void BM_RoundTrip(benchmark::State& state) {
  const Mode mode = static_cast<Mode>(state.range(0));
  const long n = 20000;
  const std::string target = Runfile("selftest/control_bench_target");
  uint64_t publications = 0;
  for (auto _ : state) {
    const std::string path = SocketPath("rt");
    std::vector<std::string> argv = {target, "round-trips", absl::StrCat(n)};
    if (mode != kPlain) {
      argv.insert(argv.begin(), {Runfile("ipcfault"), "run", "-q", "--control=" + path, "--"});
    }
    std::atomic<bool> stop{false};
    std::thread churn;
    Program program(argv);
    if (program.Line() != "ready") std::abort();  // the socket exists by then
    if (mode == kChurn || mode == kChurnRead) {
      absl::StatusOr<ipcfault::Controller> control = ipcfault::Controller::Connect(path);
      if (!control.ok()) std::abort();
      churn = std::thread([&, control = *std::move(control)]() mutable {
        const char* rule = mode == kChurn ? "accept:error=EMFILE" : "read:error=EIO:fd=pipe";
        while (!stop.load()) {
          absl::StatusOr<std::vector<uint32_t>> ids = control.Arm(rule);
          if (!ids.ok()) break;
          if (!control.Disarm(*ids).ok()) break;
          publications += 2;
        }
      });
    }
    program.Write("g");
    std::string line = program.Line();
    stop = true;
    if (churn.joinable()) churn.join();
    std::vector<std::string> words = absl::StrSplit(line, ' ');
    int64_t total = 0;
    if (words.size() != 3 || words[0] != "ns" || !absl::SimpleAtoi(words[2], &total)) {
      state.SkipWithError(absl::StrCat("unexpected output: '", line, "'").c_str());
      return;
    }
    // Per round trip.
    state.SetIterationTime(static_cast<double>(total) * 1e-9 / static_cast<double>(n));
  }
  state.counters["publications_per_run"] =
      benchmark::Counter(static_cast<double>(publications) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_RoundTrip)
    ->ArgName("mode")
    ->Arg(kPlain)
    ->Arg(kPreload)
    ->Arg(kChurn)
    ->Arg(kChurnRead)
    ->UseManualTime()
    ->Unit(benchmark::kNanosecond)
    ->Iterations(15);

}  // namespace

BENCHMARK_MAIN();
