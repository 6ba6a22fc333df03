// inject/bypass.h
//
// Bypass: a thread-local guard under which no fault applies. The fixtures'
// own threads hold one, so a rule on `accept` fails the code under test's
// accept, never the echo server's. Guards nest.
//
//   {
//     ipcfault::Bypass bypass;
//     int fd = accept(listener, nullptr, nullptr);  // never injected
//   }
//
// Async-signal-safe and allocation-free: the state is one initial-exec
// thread-local counter.
//
// One process can hold two copies of ipcfault: the interposer or fixtures
// linked into a test binary, and the preload library that `ipcfault run` or
// `ipcfault sweep` puts under it. A Bypass taken in one copy holds in the
// other: the preload library exports two C symbols (ipcfault_bypass_depth
// and ipcfault_attach_bypass, bypass_exports.cc), which a copy linked into
// the program looks up with dlsym(RTLD_NEXT) when it loads, registering
// itself; the engine consults the other copies before it decides a fault.

#ifndef IPCFAULT_INJECT_BYPASS_H_
#define IPCFAULT_INJECT_BYPASS_H_

namespace ipcfault {

namespace inject_internal {
extern thread_local int bypass_depth __attribute__((tls_model("initial-exec")));
}  // namespace inject_internal

class Bypass {
 public:
  Bypass() { ++inject_internal::bypass_depth; }
  ~Bypass() { --inject_internal::bypass_depth; }
  Bypass(const Bypass&) = delete;
  Bypass& operator=(const Bypass&) = delete;
};

// Whether the calling thread holds a Bypass (of this copy of ipcfault).
inline bool BypassActive() { return inject_internal::bypass_depth > 0; }

namespace inject_internal {
// Whether the calling thread holds a Bypass of this copy or of any other
// copy of ipcfault loaded in the process (see above). What the engine asks.
bool BypassActiveInAnyCopy();
// What a copy's C entry points (bypass_exports.cc, in the preload library)
// answer: the calling thread's depth here and in the copies after this one,
// and the registration of a copy before this one.
int BypassDepthHereAndDownstream();
void AttachBypassUpstream(int (*probe)());

// Finds the next copy, takes its probe and registers this copy's with it
// (once; later calls do nothing). A constructor does it at load, before
// main; the preload library does it from its start-up, and only when an
// IPCFAULT_* variable configures it: unconfigured, it never holds a Bypass,
// and the two failed dlsym calls (each allocating its error message) would
// be its only use of malloc at load (docs/run.md, "Cost").
void FindOtherBypassCopies();
}  // namespace inject_internal

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_BYPASS_H_
