// The process-wide engine: armed rules, the decision, the fired-fault ring.
//
// Armed rules. Every armed RuleGroup (in arming order) is flattened into one
// immutable RuleSet; arming or disarming builds a new RuleSet under arm_mu and
// swaps it into armed_rules. Decide() reads whichever RuleSet it loads and
// never takes a lock. Alongside, armed_calls holds the union of the armed
// rules' call masks, so a call that no rule names returns after one load.
//
// Reclamation. A replaced RuleSet may still be read by a Decide() that loaded
// it just before the swap, so it is freed only once no reader can hold it.
// Readers announce themselves in a reader slot (threads are spread over
// kReaderSlots padded slots; past kReaderSlots threads, several share one).
// A slot has two counters, one per phase: a reader loads the current phase
// (relaxed), increments that counter (seq_cst), loads armed_rules (seq_cst),
// reads, and decrements the same counter (release). The writer swaps
// armed_rules (seq_cst), then twice: flips the phase and waits (yielding)
// until every slot's counter of the phase it left has been seen at zero.
// Safety: a reader that loaded the old RuleSet incremented its counter before
// the swap (seq_cst order), so whichever phase it used, the writer sees that
// counter non-zero until the reader leaves; waiting on both phases covers it.
// Progress, whatever the number of threads: once the phase is flipped, new
// reads count on the other counter, so the awaited one only drains (each
// thread can add at most one read that loaded the phase before the flip).
// Waiting for a shared counter to read zero without the flip could wait
// forever, while the calls of the threads sharing it overlap. A forked child
// has only the forking thread: its atfork handler zeroes the slots of threads
// that were mid-Decide in the parent and no longer exist.
//
// Counters live in the RuleGroup (not the RuleSet), so they carry across
// swaps and stay readable after disarming. The group outlives every RuleSet
// that points into it: the engine holds it while armed, and DisarmGroup()
// returns only after the RuleSet that named it is gone.
//
// The fired-fault ring is a fixed array of kFiredRingSize slots. A fire takes
// the next position (one fetch_add) and writes slot position % size under a
// per-slot sequence number (odd while written, 2 * position + 2 when done);
// a writer that finds its slot newer or busy drops its record. Readers copy a
// slot and keep it only if the sequence number is the same, even and theirs
// before and after. Every field is an atomic written with release and read
// with acquire (plain moves on x86): a reader that sees any field of a newer
// write also sees that write's odd sequence number, so a torn copy is always
// detected, without fences (which TSan does not model).

#include "ipcfault/inject/internal/engine.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ipcfault/inject/bypass.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/arming.h"
#include "ipcfault/inject/internal/call_stack.h"
#include "ipcfault/inject/internal/control_region.h"

namespace ipcfault::inject_internal {

ABSL_CONST_INIT std::atomic<const RuleSet*> armed_rules{nullptr};

// One armed rule as Decide() reads it: pointers into its RuleGroup (or the
// control region), and the fields the filters, the trigger and the action
// read copied in, so that rejecting a call touches one contiguous array.
struct ArmedRule {
  CallMask calls;
  CallMask socket_by_default;   // calls on which FdFilter::kDefault is socket
  When when;
  uint64_t times;
  double probability;
  uint64_t seed;                // seed= or the process seed (p= only)
  FdFilter fd;
  int port;
  int sig;
  uint64_t site;                // site= : a call-stack hash; 0 = any
  pid_t thread;                 // 0: any thread
  const std::function<bool(const CallSite&)>* predicate;  // null: none
  Action action;
  int error;
  int signal;
  int64_t retval;
  size_t short_bytes;
  int64_t delay_enter_ns;
  int64_t delay_exit_ns;
  bool as_strace;               // as=strace: strace's counting and meaning
  std::atomic<uint64_t>* matched;
  std::atomic<uint64_t>* fired;
  const char* text;
  uint64_t group_id;
  uint32_t index;               // within its group
};

// An immutable snapshot of every armed rule, in arming order.
class RuleSet {
 public:
  std::vector<ArmedRule> rules;
};

// The union of the armed rules' call masks (see engine.h).
ABSL_CONST_INIT std::atomic<uint64_t> armed_calls[kCallMaskWords] = {};
ABSL_CONST_INIT const std::atomic<uint64_t>* armed_calls_words = armed_calls;

namespace {
// The control region of `ipcfault run --control`, if this process is in one.
// Set once, by the preload library's constructor, before any thread exists.
ABSL_CONST_INIT const ControlRegion* control_region = nullptr;
}  // namespace

void AttachControlRegion(const ControlRegion* region) {
  control_region = region;
  armed_calls_words = region->armed_calls;
}

namespace {

// splitmix64's finalizer: a bijective 64-bit mix.
uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

ABSL_CONST_INIT std::atomic<FireHook> fire_hook{nullptr};

// Not cached: a child made by vfork() or posix_spawn() shares the parent's
// memory and the thread's TLS, and would write its own ids into the parent's
// cache. A fire costs these two syscalls instead.
pid_t CurrentPid() { return static_cast<pid_t>(syscall(SYS_getpid)); }
pid_t CurrentTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// ---------------------------------------------------------------------------
// Reader slots (see "Reclamation" above).

constexpr int kReaderSlots = 64;

struct alignas(64) ReaderSlot {
  std::atomic<int64_t> active[2] = {0, 0};  // readers in, per phase
};

ABSL_CONST_INIT ReaderSlot reader_slots[kReaderSlots];
ABSL_CONST_INIT std::atomic<uint32_t> next_reader_slot{0};
// The phase new readers count in (0 or 1); flipped by WaitForReaders only.
ABSL_CONST_INIT std::atomic<uint32_t> reader_phase{0};
ABSL_CONST_INIT thread_local int reader_slot
    __attribute__((tls_model("initial-exec"))) = -1;

// Marks the calling thread as reading armed_rules. Async-signal-safe: a
// handler that interrupts a reader nests on the same slot.
class ReadSection {
 public:
  ReadSection() {
    int slot = reader_slot;
    if (ABSL_PREDICT_FALSE(slot < 0)) {
      slot = static_cast<int>(next_reader_slot.fetch_add(1, std::memory_order_relaxed) %
                              kReaderSlots);
      reader_slot = slot;
    }
    // Relaxed: the phase only steers new readers away from the counter the
    // writer drains; safety rests on the seq_cst increment below.
    const uint32_t phase = reader_phase.load(std::memory_order_relaxed) & 1;
    counter_ = &reader_slots[slot].active[phase];
    counter_->fetch_add(1, std::memory_order_seq_cst);
  }
  ~ReadSection() { counter_->fetch_sub(1, std::memory_order_release); }
  ReadSection(const ReadSection&) = delete;
  ReadSection& operator=(const ReadSection&) = delete;

 private:
  std::atomic<int64_t>* counter_;
};

// Returns once every reader that could have loaded a RuleSet swapped out
// before this call has left. Bounded by the reads under way, however many
// threads share a slot. Requires arm_mu (one writer at a time).
void WaitForReaders() {
  for (int flip = 0; flip < 2; ++flip) {
    const uint32_t left = reader_phase.load(std::memory_order_relaxed) & 1;
    reader_phase.store(left ^ 1, std::memory_order_seq_cst);
    for (ReaderSlot& slot : reader_slots) {
      while (slot.active[left].load(std::memory_order_seq_cst) != 0) sched_yield();
    }
  }
}

// ---------------------------------------------------------------------------
// Arming state, under arm_mu.

ABSL_CONST_INIT std::mutex arm_mu;

std::vector<std::shared_ptr<RuleGroup>>& ArmedGroups() {
  static auto* groups = new std::vector<std::shared_ptr<RuleGroup>>();
  return *groups;
}

std::optional<uint64_t> process_seed;  // guarded by arm_mu
bool atfork_installed = false;         // guarded by arm_mu

// as=strace counting (docs/fidelity.md): strace counts each call of a rule
// on its own, per thread, from 1 in every new thread and process. Each
// thread keeps its (rule, call) counts here; a new thread starts with none,
// and a forked child's only thread forgets its parent's. Past kStraceSlots
// pairs in one thread, the rule's shared count stands in.
struct StraceCount {
  uint64_t key;    // 0: free
  uint64_t count;
};
constexpr int kStraceSlots = 32;
thread_local StraceCount strace_counts[kStraceSlots] __attribute__((tls_model("initial-exec")));

uint64_t StraceOrdinal(uint64_t group_id, uint32_t index, Call call, uint64_t shared) {
  // Group ids start at 1, and a control-region rule (group 0) has an id of
  // at least 1, so a key is never 0.
  const uint64_t key = (group_id << 24) ^ (uint64_t{index} << 8) ^ static_cast<uint64_t>(call);
  for (int i = 0; i < kStraceSlots; ++i) {
    StraceCount& slot = strace_counts[(key + i) % kStraceSlots];
    if (slot.key == key) return ++slot.count;
    if (slot.key == 0) {
      slot.key = key;
      slot.count = 1;
      return 1;
    }
  }
  return shared;
}

void AtforkPrepare() { arm_mu.lock(); }
void AtforkParent() { arm_mu.unlock(); }
void AtforkChild() {
  // Only the forking thread exists in the child; it is not mid-Decide (fork
  // is decided before the real fork runs), so no reader is active.
  for (ReaderSlot& slot : reader_slots) {
    for (std::atomic<int64_t>& active : slot.active) active.store(0, std::memory_order_relaxed);
  }
  for (StraceCount& count : strace_counts) count = {};
  arm_mu.unlock();
}

// Builds the RuleSet of every armed group and swaps it in; frees the old one
// once no reader holds it. Requires arm_mu.
void PublishLocked() {
  auto next = std::make_unique<RuleSet>();
  CallMask calls = 0;
  for (const std::shared_ptr<RuleGroup>& group : ArmedGroups()) {
    for (size_t i = 0; i < group->size(); ++i) {
      const Rule& rule = group->rule(i);
      ArmedRule armed;
      armed.calls = rule.calls;
      armed.socket_by_default = 0;
      armed.when = rule.when;
      armed.times = rule.times;
      armed.probability = rule.probability;
      armed.seed = rule.seed.has_value() ? *rule.seed : process_seed.value_or(0);
      armed.fd = rule.fd;
      armed.port = rule.port;
      armed.sig = rule.sig;
      armed.site = rule.site;
      armed.thread = rule.thread.value_or(0);
      armed.predicate = rule.predicate ? &rule.predicate : nullptr;
      armed.action = rule.action;
      armed.error = rule.error;
      armed.signal = rule.signal;
      armed.retval = rule.retval;
      armed.short_bytes = rule.short_bytes;
      armed.delay_enter_ns = absl::ToInt64Nanoseconds(rule.delay_enter);
      armed.delay_exit_ns = absl::ToInt64Nanoseconds(rule.delay_exit);
      armed.as_strace = rule.as_strace;
      armed.matched = &group->counters(i).matched;
      armed.fired = &group->counters(i).fired;
      armed.text = group->text(i).c_str();
      armed.group_id = group->id();
      // This walk also builds the call table (call.cc) before the rule can
      // fire: the fire log reads call names from it, in a signal handler
      // perhaps, where building it would not be safe.
      for (const CallInfo& info : AllCalls()) {
        if ((rule.calls & MaskOf(info.call)) != 0 && info.defaults_to_socket_fds) {
          armed.socket_by_default |= MaskOf(info.call);
        }
      }
      armed.index = static_cast<uint32_t>(i);
      next->rules.push_back(armed);
      calls |= rule.calls;
    }
  }
  const RuleSet* fresh = next->rules.empty() ? nullptr : next.release();
  const RuleSet* old = armed_rules.exchange(fresh, std::memory_order_seq_cst);
  for (int i = 0; i < kCallMaskWords; ++i) {
    armed_calls[i].store(CallMaskWord(calls, i), std::memory_order_release);
  }
  if (old != nullptr) {
    WaitForReaders();
    delete old;
  }
}

// The process seed (ProcessSeed), or false with `why` set. No absl::Status
// on the path the preload library takes (docs/run.md, "A libc-only preload library").
bool ProcessSeedLocked(uint64_t* out, std::string* why) {
  if (process_seed.has_value()) {
    *out = *process_seed;
    return true;
  }
  const char* env = std::getenv("IPCFAULT_SEED");
  if (env != nullptr && *env != '\0') {
    uint64_t seed = 0;
    if (!ParseSeedValue(env, &seed)) {
      *why = absl::StrCat("IPCFAULT_SEED: '", env, "' is not an unsigned 64-bit number");
      return false;
    }
    process_seed = seed;
    *out = seed;
    return true;
  }
  // Fresh entropy straight from the kernel (std::random_device may read
  // /dev/urandom through an interposed read()).
  uint64_t seed = 0;
  if (syscall(SYS_getrandom, &seed, sizeof(seed), 0) != static_cast<long>(sizeof(seed))) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed = SplitMix64(static_cast<uint64_t>(ts.tv_nsec) ^ (uint64_t(ts.tv_sec) << 32) ^
                      static_cast<uint64_t>(syscall(SYS_getpid)));
  }
  process_seed = seed;
  const std::string note = absl::StrCat(
      "ipcfault: IPCFAULT_SEED=", seed,
      " (random seed for p= rules; set IPCFAULT_SEED to repeat this run)\n");
  // Straight to the kernel: never through an interposed write().
  syscall(SYS_write, STDERR_FILENO, note.data(), note.size());
  *out = seed;
  return true;
}

// ---------------------------------------------------------------------------
// The fired-fault ring.

struct alignas(64) RingSlot {
  std::atomic<uint64_t> seq{0};   // 0 empty; odd: being written; 2 * pos + 2: holds pos
  std::atomic<uint64_t> group_id{0};
  std::atomic<uint64_t> ordinal{0};
  std::atomic<int64_t> time_ns{0};
  std::atomic<const char*> rule_text{nullptr};
  std::atomic<uint32_t> rule_index{0};
  std::atomic<int32_t> error{0};
  std::atomic<int32_t> fd{0};
  std::atomic<int32_t> pid{0};
  std::atomic<int32_t> tid{0};
  std::atomic<uint8_t> call{0};
  std::atomic<uint8_t> action{0};
};

ABSL_CONST_INIT RingSlot ring[kFiredRingSize];
ABSL_CONST_INIT std::atomic<uint64_t> ring_next{0};

void RecordFire(uint64_t group_id, const FiredFault& fault) {
  const uint64_t pos = ring_next.fetch_add(1, std::memory_order_relaxed);
  RingSlot& slot = ring[pos % kFiredRingSize];
  const uint64_t writing = 2 * pos + 1;
  uint64_t seq = slot.seq.load(std::memory_order_relaxed);
  do {
    // Busy (another writer) or already newer: drop this record.
    if ((seq & 1) != 0 || seq >= writing) return;
  } while (!slot.seq.compare_exchange_weak(seq, writing, std::memory_order_relaxed));
  slot.group_id.store(group_id, std::memory_order_release);
  slot.ordinal.store(fault.ordinal, std::memory_order_release);
  slot.time_ns.store(fault.time_ns, std::memory_order_release);
  slot.rule_text.store(fault.rule_text, std::memory_order_release);
  slot.rule_index.store(fault.rule_index, std::memory_order_release);
  slot.error.store(fault.error, std::memory_order_release);
  slot.fd.store(fault.fd, std::memory_order_release);
  slot.pid.store(fault.pid, std::memory_order_release);
  slot.tid.store(fault.tid, std::memory_order_release);
  slot.call.store(static_cast<uint8_t>(fault.call), std::memory_order_release);
  slot.action.store(static_cast<uint8_t>(fault.action), std::memory_order_release);
  slot.seq.store(writing + 1, std::memory_order_release);
}

// ---------------------------------------------------------------------------
// The decision.


int PortOf(const struct sockaddr* addr, socklen_t len) {
  if (addr == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t))) return -1;
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(addr)->sin_port);
  }
  if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_port);
  }
  return -1;
}

// What the filters need to know about one call beyond its CallSite, each
// found out at most once and only if some rule asks.
class CallFacts {
 public:
  enum class FdKind : uint8_t { kUnknown, kNone, kSocket, kPipe, kFile };

  explicit CallFacts(const CallSite& site) : site_(site) {}

  FdKind kind() {
    if (kind_ == FdKind::kUnknown) {
      struct stat st;
      if (site_.fd < 0 || fstat(site_.fd, &st) != 0) {
        kind_ = FdKind::kNone;
      } else if (S_ISSOCK(st.st_mode)) {
        kind_ = FdKind::kSocket;
      } else if (S_ISFIFO(st.st_mode)) {
        kind_ = FdKind::kPipe;
      } else {
        kind_ = FdKind::kFile;
      }
    }
    return kind_;
  }

  // Whether `port` is the call's port: that of its address if it has one,
  // else the local or the peer port of its fd.
  bool HasPort(int port) {
    if (!ports_known_) {
      ports_known_ = true;
      if (site_.addr != nullptr) {
        local_port_ = PortOf(site_.addr, site_.addrlen);
      } else if (site_.fd >= 0) {
        sockaddr_storage addr;
        socklen_t len = sizeof(addr);
        if (getsockname(site_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
          local_port_ = PortOf(reinterpret_cast<sockaddr*>(&addr), len);
        }
        len = sizeof(addr);
        if (getpeername(site_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
          peer_port_ = PortOf(reinterpret_cast<sockaddr*>(&addr), len);
        }
      }
    }
    return port == local_port_ || port == peer_port_;
  }

  pid_t tid() {
    if (tid_ == 0) tid_ = CurrentTid();
    return tid_;
  }

  // The hash of the call's stack (call_stack.h), walked only if a rule
  // names a site.
  uint64_t stack_hash() {
    if (stack_hash_ == 0) stack_hash_ = CallSiteHash();
    return stack_hash_;
  }

 private:
  const CallSite& site_;
  FdKind kind_ = FdKind::kUnknown;
  bool ports_known_ = false;
  int local_port_ = -1;
  int peer_port_ = -1;
  pid_t tid_ = 0;
  uint64_t stack_hash_ = 0;
};

bool Matches(const ArmedRule& rule, CallMask bit, const CallSite& site, CallFacts& facts) {
  if (site.stdio && rule.action != Action::kError && rule.action != Action::kNone) {
    return false;
  }
  if (rule.sig != 0 && site.sig != rule.sig) return false;
  FdFilter::Kind kind = rule.fd.kind;
  if (kind == FdFilter::Kind::kDefault) {
    kind = (rule.socket_by_default & bit) != 0 ? FdFilter::Kind::kSocket
                                                : FdFilter::Kind::kAny;
  }
  switch (kind) {
    case FdFilter::Kind::kDefault:
    case FdFilter::Kind::kAny:
      break;
    case FdFilter::Kind::kNumber:
      if (site.fd != rule.fd.number) return false;
      break;
    case FdFilter::Kind::kSocket:
      if (facts.kind() != CallFacts::FdKind::kSocket) return false;
      break;
    case FdFilter::Kind::kPipe:
      if (facts.kind() != CallFacts::FdKind::kPipe) return false;
      break;
    case FdFilter::Kind::kFile:
      if (facts.kind() != CallFacts::FdKind::kFile) return false;
      break;
  }
  if (rule.port >= 0 && !facts.HasPort(rule.port)) return false;
  if (rule.thread != 0 && facts.tid() != rule.thread) return false;
  if (rule.predicate != nullptr && !(*rule.predicate)(site)) return false;
  // Last: walking the stack is the dearest test.
  if (rule.site != 0 && facts.stack_hash() != rule.site) return false;
  return true;
}

// Takes one of the rule's times= fires, if any is left.
bool TakeFire(std::atomic<uint64_t>& fired, uint64_t times) {
  if (times == 0) {
    fired.fetch_add(1, std::memory_order_acq_rel);
    return true;
  }
  uint64_t done = fired.load(std::memory_order_relaxed);
  do {
    if (done >= times) return false;
  } while (!fired.compare_exchange_weak(done, done + 1, std::memory_order_acq_rel,
                                        std::memory_order_relaxed));
  return true;
}

int64_t RealtimeNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Decides `site` against one rule: counts the call if it matches, and, if
// no earlier rule fired on it, fires the rule if its trigger says so, into
// `result`. Returns whether this rule fired.
bool DecideRule(const ArmedRule& armed, const CallSite& site, CallMask bit,
                CallFacts& facts, Injection& result) {
  if ((armed.calls & bit) == 0) return false;
  if (!Matches(armed, bit, site, facts)) return false;
  uint64_t ordinal = armed.matched->fetch_add(1, std::memory_order_acq_rel) + 1;
  if (armed.as_strace) ordinal = StraceOrdinal(armed.group_id, armed.index, site.call, ordinal);
  if (result.fired) return false;  // an earlier rule won; this one only counts
  if (!armed.when.Includes(ordinal)) return false;
  if (armed.probability < 1.0 &&
      !ProbabilityDraw(armed.seed, armed.index, ordinal, armed.probability)) {
    return false;
  }
  if (!TakeFire(*armed.fired, armed.times)) return false;

  result.fired = true;
  result.action = armed.action;
  result.error = armed.error;
  result.retval = armed.retval;
  result.short_bytes = armed.short_bytes;
  result.delay_enter_ns = armed.delay_enter_ns;
  result.delay_exit_ns = armed.delay_exit_ns;
  result.signal = armed.signal;
  result.as_strace = armed.as_strace;

  FiredFault fault;
  fault.call = site.call;
  fault.rule_index = armed.index;
  fault.rule_text = armed.text;
  fault.action = armed.action;
  fault.error = armed.action == Action::kError ? armed.error : 0;
  fault.fd = site.fd;
  fault.count = site.count;
  fault.pid = CurrentPid();
  fault.tid = facts.tid();
  fault.ordinal = ordinal;
  fault.time_ns = RealtimeNs();
  RecordFire(armed.group_id, fault);
  if (FireHook hook = fire_hook.load(std::memory_order_acquire); hook != nullptr) {
    hook(fault);
  }
  return true;
}

// Decides `site` against `set` into `result` (an out parameter: returning the
// struct by value through the read section cost store-forwarding stalls).
void DecideIn(const RuleSet& set, const CallSite& site, CallMask bit, CallFacts& facts,
              Injection& result) {
  for (const ArmedRule& armed : set.rules) DecideRule(armed, site, bit, facts, result);
}

// Decides `site` against the rules armed in the control region, after the
// process's own. Reads the region without waiting (control_region.h); the
// rule slots it reads are never rewritten. A rule's index is its id; its
// group is 0, which no RuleGroup has.
void DecideControlled(const ControlRegion& region, const CallSite& site, CallMask bit,
                      CallFacts& facts, Injection& result) {
  const int index = static_cast<int>(site.call);
  if ((region.armed_calls[index / 64].load(std::memory_order_acquire) &
       (uint64_t{1} << (index % 64))) == 0) {
    return;
  }
  ArmedIds armed_ids;
  ReadArmed(region, armed_ids);
  for (uint32_t i = 0; i < armed_ids.count; ++i) {
    const uint32_t id = armed_ids.ids[i];
    if (id == 0 || id > kControlMaxRules) continue;
    const ControlRule& rule = region.rules[id - 1];
    if ((rule.calls & bit) == 0) continue;
    ControlCounters& counters = const_cast<ControlCounters&>(region.counters[id - 1]);
    ArmedRule armed;
    armed.calls = rule.calls;
    armed.socket_by_default = rule.socket_by_default;
    armed.when = rule.when;
    armed.times = rule.times;
    armed.probability = rule.probability;
    armed.seed = rule.seed;
    armed.fd = rule.fd;
    armed.port = rule.port;
    armed.sig = rule.sig;
    armed.site = rule.site;
    armed.thread = 0;
    armed.predicate = nullptr;
    armed.action = rule.action;
    armed.error = rule.error;
    armed.signal = rule.signal;
    armed.retval = rule.retval;
    armed.short_bytes = rule.short_bytes;
    armed.delay_enter_ns = rule.delay_enter_ns;
    armed.delay_exit_ns = rule.delay_exit_ns;
    armed.as_strace = rule.as_strace;
    armed.matched = &counters.matched;
    armed.fired = &counters.fired;
    armed.text = rule.text;
    armed.group_id = 0;
    armed.index = id;
    if (DecideRule(armed, site, bit, facts, result)) {
      const_cast<ControlRegion&>(region).fires.fetch_add(1, std::memory_order_release);
    }
  }
}

ABSL_ATTRIBUTE_NOINLINE Injection DecideArmed(const CallSite& site, CallMask bit) {
  const int saved_errno = errno;
  Injection result;
  CallFacts facts(site);
  {
    ReadSection section;
    const RuleSet* set = armed_rules.load(std::memory_order_seq_cst);
    if (set != nullptr) DecideIn(*set, site, bit, facts, result);
  }
  if (control_region != nullptr) DecideControlled(*control_region, site, bit, facts, result);
  errno = saved_errno;
  return result;
}

}  // namespace

Injection Decide(const CallSite& site) {
  const int bit = static_cast<int>(site.call);
  const uint64_t word_bit = uint64_t{1} << (bit % 64);
  if (((armed_calls[bit / 64].load(std::memory_order_acquire) |
        armed_calls_words[bit / 64].load(std::memory_order_acquire)) & word_bit) == 0) {
    return Injection{};
  }
  // After the armed check: asking the other copies of ipcfault (bypass.h)
  // costs calls into them, paid only when a rule could apply.
  if (inject_internal::BypassActiveInAnyCopy()) return Injection{};
  return DecideArmed(site, MaskOf(site.call));
}

void SetFireHook(FireHook hook) { fire_hook.store(hook, std::memory_order_release); }

FireHook CurrentFireHook() { return fire_hook.load(std::memory_order_acquire); }

bool ProbabilityDraw(uint64_t seed, uint32_t index, uint64_t ordinal, double p) {
  if (p >= 1.0) return true;
  // One independent stream per (seed, rule index); the ordinal indexes into
  // it, so the draw does not depend on which thread made the call.
  const uint64_t stream = SplitMix64(seed ^ SplitMix64(uint64_t{index} + 1));
  const uint64_t bits = SplitMix64(stream ^ SplitMix64(ordinal));
  const double u = static_cast<double>(bits >> 11) * 0x1.0p-53;  // [0, 1)
  return u < p;
}

bool ParseSeedValue(absl::string_view text, uint64_t* out) {
  absl::string_view digits = absl::StripAsciiWhitespace(text);
  uint64_t value = 0;
  bool ok;
  if (absl::StartsWithIgnoreCase(digits, "0x")) {
    digits.remove_prefix(2);
    ok = !digits.empty() && absl::SimpleHexAtoi(digits, &value) &&
         digits.find_first_of("+-") == absl::string_view::npos;
  } else {
    ok = !digits.empty() && digits.find_first_not_of("0123456789") == absl::string_view::npos &&
         absl::SimpleAtoi(digits, &value);
  }
  if (ok) *out = value;
  return ok;
}

bool TryProcessSeed(uint64_t* seed, std::string* why) {
  std::lock_guard<std::mutex> lock(arm_mu);
  return ProcessSeedLocked(seed, why);
}

namespace {
std::atomic<uint64_t> next_group_id{1};
}  // namespace

RuleGroup::RuleGroup(std::vector<Rule> rules, std::vector<std::string> texts)
    : id_(next_group_id.fetch_add(1, std::memory_order_relaxed)),
      rules_(std::move(rules)),
      texts_([&] {
        texts.resize(rules_.size());  // a missing text is empty
        return std::move(texts);
      }()),
      counters_(new RuleCounters[rules_.size()]) {}

RuleCounters& RuleGroup::counters(size_t i) const {
  if (i >= rules_.size()) {
    std::abort();  // out of range, as std::vector::at would throw
  }
  return counters_[i];
}

bool TryArmGroup(std::shared_ptr<RuleGroup> group, std::string* why) {
  std::lock_guard<std::mutex> lock(arm_mu);
  if (!atfork_installed) {
    pthread_atfork(AtforkPrepare, AtforkParent, AtforkChild);
    atfork_installed = true;
  }
  std::vector<std::shared_ptr<RuleGroup>>& groups = ArmedGroups();
  if (std::find(groups.begin(), groups.end(), group) != groups.end()) {
    *why = kAlreadyArmed;  // arming.h
    return false;
  }
  for (size_t i = 0; i < group->size(); ++i) {
    const Rule& rule = group->rule(i);
    if (rule.probability < 1.0 && !rule.seed.has_value()) {
      uint64_t seed = 0;
      if (!ProcessSeedLocked(&seed, why)) return false;
      break;
    }
  }
  for (size_t i = 0; i < group->size(); ++i) {
    // Walking a stack allocates the first time: not in a call being decided.
    if (group->rule(i).site != 0) {
      WarmCallStack();
      break;
    }
  }
  groups.push_back(std::move(group));
  PublishLocked();
  return true;
}

void DisarmGroup(RuleGroup& group) {
  std::lock_guard<std::mutex> lock(arm_mu);
  std::vector<std::shared_ptr<RuleGroup>>& groups = ArmedGroups();
  auto it = std::find_if(groups.begin(), groups.end(),
                         [&](const std::shared_ptr<RuleGroup>& g) { return g.get() == &group; });
  if (it == groups.end()) return;
  // Keep the group alive until no RuleSet points into it.
  std::shared_ptr<RuleGroup> keep = std::move(*it);
  groups.erase(it);
  PublishLocked();
}

void DisarmAll() {
  std::lock_guard<std::mutex> lock(arm_mu);
  std::vector<std::shared_ptr<RuleGroup>> keep = std::move(ArmedGroups());
  ArmedGroups().clear();
  PublishLocked();
}

size_t ArmedRuleCount() {
  std::lock_guard<std::mutex> lock(arm_mu);
  size_t n = 0;
  for (const std::shared_ptr<RuleGroup>& group : ArmedGroups()) n += group->size();
  return n;
}

std::vector<FiredFault> RecordsOf(const RuleGroup& group) {
  std::vector<FiredFault> records;
  const uint64_t end = ring_next.load(std::memory_order_acquire);
  const uint64_t begin = end > kFiredRingSize ? end - kFiredRingSize : 0;
  for (uint64_t pos = begin; pos < end; ++pos) {
    const RingSlot& slot = ring[pos % kFiredRingSize];
    const uint64_t seq = slot.seq.load(std::memory_order_acquire);
    if (seq != 2 * pos + 2) continue;  // not written yet, dropped, or overwritten
    if (slot.group_id.load(std::memory_order_acquire) != group.id()) continue;
    FiredFault fault;
    fault.call = static_cast<Call>(slot.call.load(std::memory_order_acquire));
    fault.rule_index = slot.rule_index.load(std::memory_order_acquire);
    fault.rule_text = slot.rule_text.load(std::memory_order_acquire);
    fault.action = static_cast<Action>(slot.action.load(std::memory_order_acquire));
    fault.error = slot.error.load(std::memory_order_acquire);
    fault.fd = slot.fd.load(std::memory_order_acquire);
    fault.pid = slot.pid.load(std::memory_order_acquire);
    fault.tid = slot.tid.load(std::memory_order_acquire);
    fault.ordinal = slot.ordinal.load(std::memory_order_acquire);
    fault.time_ns = slot.time_ns.load(std::memory_order_acquire);
    if (slot.seq.load(std::memory_order_relaxed) != seq) continue;  // overwritten meanwhile
    records.push_back(fault);
  }
  return records;
}

}  // namespace ipcfault::inject_internal
