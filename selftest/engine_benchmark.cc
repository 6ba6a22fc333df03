// The cost of the engine's decision on the hot path of an interposed call:
// what an interposed read() pays before (or instead of) the real read.
//
//   bazel run -c opt //selftest:engine_benchmark
//   taskset -c 0 bazel-bin/selftest/engine_benchmark --benchmark_filter='/threads:1$'
//
// Targets (DESIGN.md, "The hot path"): nothing armed < 2 ns; 8 armed rules
// that do not name the call < 20 ns; no slowdown from 1 to 2 threads.
// For scale: libfiu adds about 130 ns per call with nothing enabled and
// slows 2.5x under two threads, from a global lock.

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/optimization.h"
#include "benchmark/benchmark.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/arming.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault::inject_internal {
namespace {

// What the interposer does before calling the real read().
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Injection HotPath(const CallSite& site) {
  if (ABSL_PREDICT_TRUE(!ArmedFor(site.call))) return Injection{};
  return Decide(site);
}

std::shared_ptr<RuleGroup>& Armed() {
  static auto* group = new std::shared_ptr<RuleGroup>();
  return *group;
}

void Arm(std::vector<Rule> rules) {
  Armed() = std::make_shared<RuleGroup>(std::move(rules), std::vector<std::string>());
  if (!ArmGroup(Armed()).ok()) std::abort();
}

void DisarmAfter(const benchmark::State&) {
  if (Armed() != nullptr) DisarmGroup(*Armed());
  Armed().reset();
}

Rule ErrorOn(Call call) {
  Rule rule;
  rule.calls = MaskOf(call);
  rule.action = Action::kError;
  rule.error = EIO;
  return rule;
}

// A real socket for the read site, so fd=socket filters see a socket.
int SocketFd() {
  static const int fd = [] {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) std::abort();
    return sv[0];
  }();
  return fd;
}

CallSite ReadSite() {
  CallSite site;
  site.call = Call::kRead;
  site.fd = SocketFd();
  site.count = 4096;
  return site;
}

void RunHotPath(benchmark::State& state) {
  const CallSite site = ReadSite();
  for (auto _ : state) {
    Injection injection = HotPath(site);
    benchmark::DoNotOptimize(injection);
  }
}

// Nothing armed: the ArmedFor() load, bit test and branch.
void SetupNothing(const benchmark::State&) {}
void BM_NothingArmed(benchmark::State& state) { RunHotPath(state); }
BENCHMARK(BM_NothingArmed)->Setup(SetupNothing)->Threads(1)->Threads(2);

// Eight rules armed, on other calls than read: the inline armed-calls mask
// test rejects the call before Decide().
void SetupEightOtherCalls(const benchmark::State&) {
  const Call others[] = {Call::kConnect, Call::kAccept,  Call::kSend, Call::kRecv,
                         Call::kSocket,  Call::kListen,  Call::kKill, Call::kClose};
  std::vector<Rule> rules;
  for (Call call : others) rules.push_back(ErrorOn(call));
  Arm(std::move(rules));
}
void BM_EightRulesOnOtherCalls(benchmark::State& state) { RunHotPath(state); }
BENCHMARK(BM_EightRulesOnOtherCalls)
    ->Setup(SetupEightOtherCalls)
    ->Teardown(DisarmAfter)
    ->Threads(1)
    ->Threads(2);

// Eight rules on read whose fd=N filter does not match: the full walk of the
// rule set (reader slot in and out, eight filter checks), nothing counted.
void SetupEightFilteredOut(const benchmark::State&) {
  std::vector<Rule> rules;
  for (int i = 0; i < 8; ++i) {
    Rule rule = ErrorOn(Call::kRead);
    rule.fd = {FdFilter::Kind::kNumber, 900 + i};
    rules.push_back(rule);
  }
  Arm(std::move(rules));
}
void BM_EightReadRulesFilteredOut(benchmark::State& state) { RunHotPath(state); }
BENCHMARK(BM_EightReadRulesFilteredOut)
    ->Setup(SetupEightFilteredOut)
    ->Teardown(DisarmAfter)
    ->Threads(1)
    ->Threads(2);

// One rule that matches (fd=any) and fires on every call: counters, the ring
// record, the Injection.
void SetupOneFires(const benchmark::State&) {
  Rule rule = ErrorOn(Call::kRead);
  rule.fd.kind = FdFilter::Kind::kAny;
  Arm({rule});
}
void BM_OneRuleFires(benchmark::State& state) { RunHotPath(state); }
BENCHMARK(BM_OneRuleFires)->Setup(SetupOneFires)->Teardown(DisarmAfter)->Threads(1)->Threads(2);

// One rule that matches (fd=any) but only counts (when= far away).
void SetupOneCounts(const benchmark::State&) {
  Rule rule = ErrorOn(Call::kRead);
  rule.fd.kind = FdFilter::Kind::kAny;
  rule.when = {When::kNoLast, When::kNoLast, 1};
  Arm({rule});
}
void BM_OneRuleMatchesOnly(benchmark::State& state) { RunHotPath(state); }
BENCHMARK(BM_OneRuleMatchesOnly)
    ->Setup(SetupOneCounts)
    ->Teardown(DisarmAfter)
    ->Threads(1)
    ->Threads(2);

// One read rule with the default filter (fd=socket): one fstat per call.
void SetupOneSocketDefault(const benchmark::State&) { Arm({ErrorOn(Call::kRead)}); }
void BM_OneRuleFiresOnSocketDefault(benchmark::State& state) { RunHotPath(state); }
BENCHMARK(BM_OneRuleFiresOnSocketDefault)
    ->Setup(SetupOneSocketDefault)
    ->Teardown(DisarmAfter)
    ->Threads(1)
    ->Threads(2);

}  // namespace
}  // namespace ipcfault::inject_internal
