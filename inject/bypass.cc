#include "ipcfault/inject/bypass.h"

#include <dlfcn.h>

#include <atomic>

namespace ipcfault::inject_internal {

// Defined, to return true, by the preload library alone (real_functions.h).
bool PreloadResolvesWhenArmed() __attribute__((weak));

thread_local int bypass_depth __attribute__((tls_model("initial-exec"))) = 0;

namespace {

// A copy's probe: the calling thread's Bypass depth in that copy and in the
// copies after it in the lookup order.
using Probe = int (*)();
using Attach = void (*)(Probe);

// The next copy in the lookup order (found by dlsym(RTLD_NEXT) at load).
std::atomic<Probe> downstream{nullptr};
// Copies before this one, which registered themselves here when they loaded.
// Two copies are the usual case (a test binary and the preload library);
// a few more fit.
constexpr int kMaxUpstream = 4;
std::atomic<Probe> upstream[kMaxUpstream] = {};

int DepthHereAndDownstream() {
  int depth = bypass_depth;
  if (Probe next = downstream.load(std::memory_order_acquire); next != nullptr) {
    depth += next();
  }
  return depth;
}

void AttachUpstream(Probe probe) {
  for (std::atomic<Probe>& slot : upstream) {
    Probe empty = nullptr;
    if (slot.compare_exchange_strong(empty, probe, std::memory_order_acq_rel)) return;
  }
}

// At load, before main (FindOtherBypassCopies): but in the preload library,
// whose start-up looks only once something configures it.
__attribute__((constructor(101))) void FindOtherCopiesAtLoad() {
  if (PreloadResolvesWhenArmed != nullptr && PreloadResolvesWhenArmed()) return;
  FindOtherBypassCopies();
}

}  // namespace

void FindOtherBypassCopies() {
  static std::atomic<bool> done{false};
  if (done.exchange(true)) return;
  // RTLD_NEXT never finds this copy's own symbols.
  if (void* probe = dlsym(RTLD_NEXT, "ipcfault_bypass_depth"); probe != nullptr) {
    downstream.store(reinterpret_cast<Probe>(probe), std::memory_order_release);
  }
  if (void* attach = dlsym(RTLD_NEXT, "ipcfault_attach_bypass"); attach != nullptr) {
    reinterpret_cast<Attach>(attach)(&DepthHereAndDownstream);
  }
}

int BypassDepthHereAndDownstream() { return DepthHereAndDownstream(); }

void AttachBypassUpstream(int (*probe)()) { AttachUpstream(probe); }

bool BypassActiveInAnyCopy() {
  if (DepthHereAndDownstream() > 0) return true;
  for (const std::atomic<Probe>& slot : upstream) {
    Probe probe = slot.load(std::memory_order_acquire);
    if (probe == nullptr) break;
    if (probe() > 0) return true;
  }
  return false;
}

}  // namespace ipcfault::inject_internal
