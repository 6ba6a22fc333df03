// What the interposer costs: a 1-byte write+read round trip, over a Unix
// socketpair and over TCP loopback, through the interposed functions
// (::write, ::read) versus through the real function pointers directly, in
// one run; and the interposed calls with one rule armed that does not match
// them (on connect), so every call takes the engine's decision path.
//
//   bazel build -c opt //selftest:interpose_benchmark
//   taskset -c 0 bazel-bin/selftest/interpose_benchmark
//       --benchmark_repetitions=30 --benchmark_min_time=0.1
//       --benchmark_enable_random_interleaving=true
//       --benchmark_report_aggregates_only=true
//
// Pin to one CPU: unpinned, round trips on a small machine vary by more than
// the costs measured here.

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "benchmark/benchmark.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/faults.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/internal/real_functions.h"

namespace ipcfault {
namespace {

struct Connection {
  int writer = -1;
  int reader = -1;
  ~Connection() {
    inject_internal::real.close.get()(writer);
    inject_internal::real.close.get()(reader);
  }
};

[[noreturn]] void Die(const char* what) {
  perror(what);
  std::abort();
}

void MakeSocketpair(Connection& c) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    Die("socketpair");
  }
  c.writer = sv[0];
  c.reader = sv[1];
}

void MakeTcpLoopback(Connection& c) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listener < 0 ||
      bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Die("listener");
  }
  c.writer = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(c.writer, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    Die("connect");
  }
  c.reader = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (c.reader < 0) Die("accept4");
  int one = 1;
  setsockopt(c.writer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  close(listener);
}

enum class Path { kDirect, kInterposed, kInterposedOneRule };

template <Path path>
void RoundTrip(benchmark::State& state, void (*make)(Connection&)) {
  Connection c;
  make(c);
  absl::StatusOr<ScopedFaults> faults = absl::UnknownError("not armed");
  if (path == Path::kInterposedOneRule) {
    faults = Arm(Fault(Call::kConnect).Error(ECONNREFUSED));
    if (!faults.ok() || !inject_internal::AnythingArmed()) {
      state.SkipWithError("cannot arm the rule");
      return;
    }
  }
  auto* real_write = inject_internal::real.write.get();
  auto* real_read = inject_internal::real.read.get();
  char byte = 'x';
  for (auto _ : state) {
    ssize_t w, r;
    if (path == Path::kDirect) {
      w = real_write(c.writer, &byte, 1);
      r = real_read(c.reader, &byte, 1);
    } else {
      w = ::write(c.writer, &byte, 1);
      r = ::read(c.reader, &byte, 1);
    }
    if (w != 1 || r != 1) {
      state.SkipWithError("round trip failed");
      break;
    }
  }
}

void BM_SocketpairDirect(benchmark::State& s) {
  RoundTrip<Path::kDirect>(s, MakeSocketpair);
}
void BM_SocketpairInterposed(benchmark::State& s) {
  RoundTrip<Path::kInterposed>(s, MakeSocketpair);
}
void BM_SocketpairInterposedOneRule(benchmark::State& s) {
  RoundTrip<Path::kInterposedOneRule>(s, MakeSocketpair);
}
void BM_TcpLoopbackDirect(benchmark::State& s) {
  RoundTrip<Path::kDirect>(s, MakeTcpLoopback);
}
void BM_TcpLoopbackInterposed(benchmark::State& s) {
  RoundTrip<Path::kInterposed>(s, MakeTcpLoopback);
}
void BM_TcpLoopbackInterposedOneRule(benchmark::State& s) {
  RoundTrip<Path::kInterposedOneRule>(s, MakeTcpLoopback);
}

// The cheapest interposed call there is, close(-1) (EBADF, no work in the
// kernel), to show the per-call cost in nanoseconds rather than percent.
template <Path path>
void CloseBadFd(benchmark::State& state) {
  absl::StatusOr<ScopedFaults> faults = absl::UnknownError("not armed");
  if (path == Path::kInterposedOneRule) {
    faults = Arm(Fault(Call::kConnect).Error(ECONNREFUSED));
    if (!faults.ok()) {
      state.SkipWithError("cannot arm the rule");
      return;
    }
  }
  auto* real_close = inject_internal::real.close.get();
  for (auto _ : state) {
    int r = path == Path::kDirect ? real_close(-1) : ::close(-1);
    benchmark::DoNotOptimize(r);
  }
}

void BM_CloseBadFdDirect(benchmark::State& s) {
  CloseBadFd<Path::kDirect>(s);
}
void BM_CloseBadFdInterposed(benchmark::State& s) {
  CloseBadFd<Path::kInterposed>(s);
}
void BM_CloseBadFdInterposedOneRule(benchmark::State& s) {
  CloseBadFd<Path::kInterposedOneRule>(s);
}

// Besides mean/median/stddev, the minimum over repetitions: other processes
// only ever add time, so on a shared machine the minimum is the steadiest
// estimate of what a round trip costs.
double Min(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}

BENCHMARK(BM_SocketpairDirect)->ComputeStatistics("min", Min);
BENCHMARK(BM_SocketpairInterposed)->ComputeStatistics("min", Min);
BENCHMARK(BM_SocketpairInterposedOneRule)->ComputeStatistics("min", Min);
BENCHMARK(BM_TcpLoopbackDirect)->ComputeStatistics("min", Min);
BENCHMARK(BM_TcpLoopbackInterposed)->ComputeStatistics("min", Min);
BENCHMARK(BM_TcpLoopbackInterposedOneRule)->ComputeStatistics("min", Min);
BENCHMARK(BM_CloseBadFdDirect)->ComputeStatistics("min", Min);
BENCHMARK(BM_CloseBadFdInterposed)->ComputeStatistics("min", Min);
BENCHMARK(BM_CloseBadFdInterposedOneRule)->ComputeStatistics("min", Min);

}  // namespace
}  // namespace ipcfault

BENCHMARK_MAIN();
