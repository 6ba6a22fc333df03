// inject/internal/control_region.h
//
// The control region of `ipcfault run --control`: a shared memory region,
// set up by the `ipcfault run` process (the hub) and mapped by every process
// of the run (the preload library maps it at load; fork keeps the mapping),
// through which the run's rules change while it runs. Not a public API: the
// hub (inject/cli/control_server.*) writes it, the engine (engine.cc) reads
// it in every interposed call that an armed rule names. docs/control.md has
// the design and why.
//
//   // the hub
//   ControlRegion* region = ...mmap of a memfd...;
//   InitControlRegion(*region);
//   uint32_t id = ...; region->rules[id - 1] = compiled;   // written once
//   PublishArmed(*region, ids, n, mask);                   // one flip
//   // any process of the run
//   ArmedIds armed; ReadArmed(*region, armed);             // never waits
//
// Layout and ordering:
// - Rules have ids 1..kControlMaxRules, given out in order by the hub and
//   never reused within a run. A rule's slot (`rules[id - 1]`) is written
//   once, before the rule is first published, and never changed afterwards,
//   so readers need no lock to read it. Its counters (`counters[id - 1]`)
//   are atomics shared by every process of the run, and stay readable after
//   the rule is disarmed.
// - Which rules are armed, in arming order, is a list of ids, double
//   buffered: list `generation & 1` is current. To publish generation G+1
//   the hub stores `begun = G+1`, writes list (G+1) & 1 (release stores),
//   then stores `generation = G+1` (release). A reader loads `generation`
//   (G), copies list G & 1 (acquire loads), then loads `begun`: list G & 1
//   is rewritten only by the publication of G+2, which stores `begun` before
//   any id, so a copy that saw any rewritten id also sees `begun >= G+2` and
//   is taken again. The hub never waits for a reader; a reader retries only
//   while the hub rewrites the very list it copies; a hub killed mid-write
//   leaves the current list intact.
// - `armed_calls` is the union of the armed rules' call masks, stored after
//   each flip: the interposer's hot path tests it (one load and a bit test),
//   so a process learns of a change without a per-call cost.
//
// Everything here is plain data and std::atomic on lock-free types: libc
// only, async-signal-safe, valid in a forked or vforked child and across
// uid changes (the mapping stays; the memfd needs no permission check).

#ifndef IPCFAULT_INJECT_INTERNAL_CONTROL_REGION_H_
#define IPCFAULT_INJECT_INTERNAL_CONTROL_REGION_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ipcfault/inject/call.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault::inject_internal {

inline constexpr uint64_t kControlMagic = 0x6c72746374666370;  // "pcftctrl"
inline constexpr uint32_t kControlVersion = 2;
// Rules a run can arm in all (ids are not reused). The region is a sparse
// memfd: only the slots used take memory.
inline constexpr uint32_t kControlMaxRules = 16384;
// Rules armed at once.
inline constexpr uint32_t kControlMaxArmed = 64;
// The longest canonical rule text kept (with its NUL).
inline constexpr size_t kControlTextMax = 384;

// The environment variable that tells the preload library where the region
// is: "FD:INODE:PID" (an fd inherited from the hub, the memfd's inode to
// check it is still that, and the hub's pid for /proc/PID/fd/FD when a
// process closed the fd before exec).
inline constexpr char kControlEnv[] = "IPCFAULT_CONTROL";

// One rule, compiled by the hub into what Decide() reads. Plain data.
struct ControlRule {
  CallMask calls;
  CallMask socket_by_default;  // calls on which fd=default means fd=socket
  Action action;
  FdFilter fd;
  int32_t error;
  int32_t signal;
  int32_t port;                // -1: any
  int32_t sig;                 // 0: any
  int64_t retval;
  uint64_t short_bytes;
  int64_t delay_enter_ns;
  int64_t delay_exit_ns;
  When when;
  uint64_t times;
  double probability;
  uint64_t seed;               // resolved by the hub (rule's seed= or the run's)
  bool as_strace;              // as=strace (docs/fidelity.md)
  uint64_t site;               // site= : a call-stack hash; 0 = any
  char text[kControlTextMax];  // canonical text, NUL-terminated
};

struct alignas(64) ControlCounters {
  std::atomic<uint64_t> matched{0};
  std::atomic<uint64_t> fired{0};
};

struct ControlRegion {
  uint64_t magic;
  uint32_t version;
  uint32_t size;               // sizeof(ControlRegion), checked on attach
  alignas(64) std::atomic<uint64_t> armed_calls[kCallMaskWords];  // CallMaskWord
  std::atomic<uint64_t> generation;
  std::atomic<uint64_t> begun;  // the publication being written
  // Ids given out so far (the hub's; readers use it to bound `list`).
  std::atomic<uint32_t> rule_count;
  // Bumped on every fire: lets the hub notice fires cheaply.
  std::atomic<uint64_t> fires;
  struct ArmedList {
    std::atomic<uint32_t> count;
    std::atomic<uint32_t> ids[kControlMaxArmed];
  };
  ArmedList lists[2];
  ControlRule rules[kControlMaxRules];
  ControlCounters counters[kControlMaxRules];
};

static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);

// The armed ids, as one reader saw them at one instant.
struct ArmedIds {
  uint32_t count = 0;
  uint32_t ids[kControlMaxArmed];
};

// Fills a freshly mapped region's header. The rest must be zero bytes (as a
// new memfd is), which is what every field starts as: the constructor is not
// run, so that the pages of unused slots are never touched.
inline void InitControlRegion(ControlRegion& region) {
  region.magic = kControlMagic;
  region.version = kControlVersion;
  region.size = sizeof(ControlRegion);
}

// Whether `region` is one this build can read.
inline bool ControlRegionValid(const ControlRegion& region) {
  return region.magic == kControlMagic && region.version == kControlVersion &&
         region.size == sizeof(ControlRegion);
}

// The hub only (one writer): makes `ids[0..n)` the armed rules, in order,
// and `mask` the union of their calls. Never waits for readers.
inline void PublishArmed(ControlRegion& region, const uint32_t* ids, uint32_t n,
                         CallMask mask) {
  const uint64_t next_generation = region.generation.load(std::memory_order_relaxed) + 1;
  region.begun.store(next_generation, std::memory_order_relaxed);
  ControlRegion::ArmedList& next = region.lists[next_generation & 1];
  // Release: a reader that sees one of these also sees `begun` above.
  for (uint32_t i = 0; i < n; ++i) next.ids[i].store(ids[i], std::memory_order_release);
  next.count.store(n, std::memory_order_release);
  region.generation.store(next_generation, std::memory_order_release);
  for (int i = 0; i < kCallMaskWords; ++i) {
    region.armed_calls[i].store(CallMaskWord(mask, i), std::memory_order_release);
  }
}

// Any process: copies the current armed list into `out`. Lock-free; retries
// only while the hub rewrites the list being copied. Async-signal-safe.
inline void ReadArmed(const ControlRegion& region, ArmedIds& out) {
  for (;;) {
    const uint64_t generation = region.generation.load(std::memory_order_acquire);
    const ControlRegion::ArmedList& list = region.lists[generation & 1];
    uint32_t n = list.count.load(std::memory_order_acquire);
    if (n > kControlMaxArmed) n = kControlMaxArmed;  // being rewritten: see below
    for (uint32_t i = 0; i < n; ++i) out.ids[i] = list.ids[i].load(std::memory_order_acquire);
    out.count = n;
    // After the acquire loads above, so it sees any `begun` stored before
    // an id they saw.
    if (region.begun.load(std::memory_order_acquire) - generation < 2) return;
  }
}

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_CONTROL_REGION_H_
