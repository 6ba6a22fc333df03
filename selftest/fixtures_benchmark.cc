// Benchmarks of the fixtures: what a test pays for a real server or child.
//
//   bazel run -c opt //selftest:fixtures_benchmark
//
// Targets (from issue 7): thread-mode EchoServer start+stop under 1 ms; the
// SignalChild cycle (spawn, ready, SIGTERM, reaped) within 3x a bare
// fork()+_exit()+waitpid(); under 8 KiB of server memory per idle
// connection (BM_RssPerIdleConnection reports bytes_per_conn).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "ipcfault/fixtures/echo_server.h"
#include "ipcfault/fixtures/signal_child.h"

namespace ipcfault {
namespace {

using Mode = EchoServerOptions::Mode;

void BM_EchoServerStartStop(benchmark::State& state) {
  EchoServerOptions o;
  o.mode = state.range(0) == 0 ? Mode::kThread : Mode::kProcess;
  for (auto _ : state) {
    auto server = EchoServer::Start(o);
    if (!server.ok()) state.SkipWithError(server.status().ToString().c_str());
  }
  state.SetLabel(state.range(0) == 0 ? "thread" : "process");
}
BENCHMARK(BM_EchoServerStartStop)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_SignalChildCycle(benchmark::State& state) {
  const auto options = SignalChildOptions().On(SIGTERM, SignalReaction::ExitGracefully(0));
  for (auto _ : state) {
    auto child = SignalChild::Spawn(options);
    if (!child.ok()) {
      state.SkipWithError(child.status().ToString().c_str());
      break;
    }
    (void)(*child)->Signal(SIGTERM);
    if (!(*child)->Wait(absl::Seconds(10)).exited()) state.SkipWithError("not exited");
  }
}
BENCHMARK(BM_SignalChildCycle)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_BareForkWait(benchmark::State& state) {
  for (auto _ : state) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    int status;
    waitpid(pid, &status, 0);
  }
}
BENCHMARK(BM_BareForkWait)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Round trips of 64 bytes over `fds`: every client writes, then every client
// reads its echo.
void RoundTrips(benchmark::State& state, const std::vector<int>& fds) {
  char buf[64] = {};
  for (auto _ : state) {
    for (int fd : fds) {
      if (write(fd, buf, sizeof(buf)) != sizeof(buf)) state.SkipWithError("write");
    }
    for (int fd : fds) {
      size_t got = 0;
      while (got < sizeof(buf)) {
        ssize_t n = read(fd, buf + got, sizeof(buf) - got);
        if (n <= 0) {
          state.SkipWithError("read");
          break;
        }
        got += static_cast<size_t>(n);
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(fds.size()));
  for (int fd : fds) close(fd);
}

// range(0) clients in flight at once against an EchoServer (range(1): 0 TCP,
// 1 Unix).
void BM_EchoRoundTrips(benchmark::State& state) {
  EchoServerOptions o;
  o.record_messages = false;
  o.transport = state.range(1) == 0 ? EchoServerOptions::Transport::kTcp4
                                    : EchoServerOptions::Transport::kUnix;
  auto server = EchoServer::Start(o);
  if (!server.ok()) {
    state.SkipWithError(server.status().ToString().c_str());
    return;
  }
  std::vector<int> fds;
  for (int i = 0; i < state.range(0); ++i) fds.push_back(*(*server)->Connect());
  state.SetLabel(state.range(1) == 0 ? "tcp4" : "unix");
  RoundTrips(state, fds);
}
BENCHMARK(BM_EchoRoundTrips)
    ->Args({1, 0})
    ->Args({32, 0})
    ->Args({1, 1})
    ->Args({32, 1})
    ->UseRealTime();

// The same round trips against another echo server on 127.0.0.1, for
// comparison: IPCFAULT_BENCH_ECHO_PORT=P, e.g. with
//   socat TCP-LISTEN:P,bind=127.0.0.1,fork,reuseaddr EXEC:cat &
// Skipped when the variable is unset.
void BM_ExternalEchoRoundTrips(benchmark::State& state) {
  const char* port = getenv("IPCFAULT_BENCH_ECHO_PORT");
  if (port == nullptr) {
    state.SkipWithError("set IPCFAULT_BENCH_ECHO_PORT to compare another echo server");
    return;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(atoi(port)));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fds;
  for (int i = 0; i < state.range(0); ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      state.SkipWithError("connect to IPCFAULT_BENCH_ECHO_PORT failed");
      if (fd >= 0) close(fd);
      for (int f : fds) close(f);
      return;
    }
    fds.push_back(fd);
  }
  state.SetLabel("external tcp4");
  RoundTrips(state, fds);
}
BENCHMARK(BM_ExternalEchoRoundTrips)->Arg(1)->Arg(32)->UseRealTime();

long RssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) * 1024;
  }
  return -1;
}

// Server memory per held idle connection: a process-mode server (so only
// the server is measured) with 1,000 clients connected and accepted.
void BM_RssPerIdleConnection(benchmark::State& state) {
  const int kClients = 1000;
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 4096 && rl.rlim_max >= 4096) {
    rl.rlim_cur = 4096;  // the forked server inherits it
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  for (auto _ : state) {
    EchoServerOptions o;
    o.mode = Mode::kProcess;
    o.transport = state.range(0) == 0 ? EchoServerOptions::Transport::kTcp4
                                      : EchoServerOptions::Transport::kUnix;
    auto server = EchoServer::Start(o);
    if (!server.ok()) {
      state.SkipWithError(server.status().ToString().c_str());
      return;
    }
    (void)(*server)->Records();  // warm up the control path
    const long before = RssBytes((*server)->pid());
    std::vector<int> fds;
    for (int i = 0; i < kClients; ++i) {
      auto fd = (*server)->Connect();
      if (!fd.ok()) {
        state.SkipWithError(fd.status().ToString().c_str());
        break;
      }
      fds.push_back(*fd);
    }
    auto records = (*server)->Records();  // all accepted by now
    const long after = RssBytes((*server)->pid());
    state.counters["bytes_per_conn"] =
        static_cast<double>(after - before) / kClients;
    state.counters["accepted"] =
        records.ok() ? static_cast<double>(records->connections_accepted) : -1;
    for (int fd : fds) close(fd);
  }
  state.SetLabel(state.range(0) == 0 ? "tcp4" : "unix");
}
BENCHMARK(BM_RssPerIdleConnection)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ipcfault

BENCHMARK_MAIN();
