// inject/internal/engine.h
//
// The process-wide engine: the armed rules, and the one decision every
// interposed call asks of it. Not a public API: tests arm rules through
// ipcfault::Arm (faults.h); the interposer (interpose.cc) and the preload
// library call this.
//
// The hot path of an interposed call:
//
//   if (ABSL_PREDICT_TRUE(!inject_internal::ArmedFor(Call::kRead)))
//     return real_read(fd, buf, n);
//   return SlowRead(fd, buf, n);          // calls Decide()
//
// ArmedFor(call) (and AnythingArmed()) is one acquire load and nothing else. Decide() is
// lock-free, allocation-free and async-signal-safe (it may run in a signal
// handler's write): rule sets are immutable snapshots swapped atomically,
// counters are atomics, fired faults go to a lock-free ring. It preserves
// errno. Under ipcfault::Bypass it returns "no injection" and counts nothing.

#ifndef IPCFAULT_INJECT_INTERNAL_ENGINE_H_
#define IPCFAULT_INJECT_INTERNAL_ENGINE_H_

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/base/optimization.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault::inject_internal {

class RuleSet;  // an immutable snapshot of every armed rule

// Non-null while any rule is armed. Defined in engine.cc.
extern std::atomic<const RuleSet*> armed_rules;

// Whether any rule is armed in this process: one acquire load.
inline bool AnythingArmed() {
  return armed_rules.load(std::memory_order_acquire) != nullptr;
}

// The union of the armed rules' call masks (0 when nothing is armed), as
// 64-bit words (CallMaskWord; a 128-bit atomic would not be lock-free).
// Stored after each new snapshot is published. Defined in engine.cc.
extern std::atomic<uint64_t> armed_calls[kCallMaskWords];

// The words the hot path tests: armed_calls, or, in a process of
// `ipcfault run --control`, the control region's mask (which then holds
// every rule of the process: the preload library arms none of its own).
extern const std::atomic<uint64_t>* armed_calls_words;

// Whether any armed rule names `call`: two loads and a bit test. The
// interposer's hot path, so that a rule on connect costs a read() nothing.
inline bool ArmedFor(Call call) {
  const int bit = static_cast<int>(call);
  return (armed_calls_words[bit / 64].load(std::memory_order_acquire) &
          (uint64_t{1} << (bit % 64))) != 0;
}

struct ControlRegion;  // control_region.h

// Makes Decide() read the rules armed in `region` (after the process's own)
// and the hot path test its mask. Called once, by the preload library's
// constructor, before the program starts any thread; `region` stays mapped
// for the life of the process.
void AttachControlRegion(const ControlRegion* region);

// What the interposer must do with one call. A plain value, so it outlives
// the snapshot it came from.
struct Injection {
  Action action = Action::kNone;
  int error = 0;
  int64_t retval = 0;
  size_t short_bytes = 0;
  int64_t delay_enter_ns = 0;
  int64_t delay_exit_ns = 0;
  int signal = 0;
  // as=strace: the error exactly as strace delivers it (no SIGPIPE, no
  // EINPROGRESS path); see docs/fidelity.md.
  bool as_strace = false;
  // Whether a rule fired (an action, a delay or a signal is due).
  bool fired = false;
};

// Decides one call: counts it against every armed rule whose calls and
// filters match, and returns the first rule (in arming order) that fires, if
// any. Records the fire (call, rule, action, fd, thread, ordinal) in the
// fired-fault ring and passes it to the fire hook. Async-signal-safe,
// lock-free, preserves errno.
Injection Decide(const CallSite& site);

// One fired fault, as recorded.
struct FiredFault {
  Call call;
  uint32_t rule_index;      // index among all armed rules of its ScopedFaults
  const char* rule_text;    // canonical text of the rule (lives while armed)
  Action action;
  int error;
  int fd;
  size_t count;             // read/write family: the bytes asked, else 0
  pid_t pid;
  pid_t tid;
  uint64_t ordinal;         // which matching call of that rule, from 1
  int64_t time_ns;          // CLOCK_REALTIME
};

// Called (on the calling thread, async-signal-safely) for every fire; the
// preload library installs one that appends a JSON line to IPCFAULT_LOG.
// Set once at startup, before any rule is armed.
using FireHook = void (*)(const FiredFault&);
void SetFireHook(FireHook hook);
// The hook set, or null.
FireHook CurrentFireHook();

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_ENGINE_H_
