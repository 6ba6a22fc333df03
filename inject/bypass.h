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

// Whether the calling thread holds a Bypass.
inline bool BypassActive() { return inject_internal::bypass_depth > 0; }

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_BYPASS_H_
