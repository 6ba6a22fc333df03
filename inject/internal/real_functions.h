// inject/internal/real_functions.h
//
// The real libc functions behind the interposer: for each interposed call, a
// pointer to the next definition after ours, resolved once and cached. The
// interposer's own wrappers, the engine and the preload library call these
// when they must reach the kernel without being injected themselves.
//
//   ssize_t n = inject_internal::real.read.get()(fd, buf, len);
//
// Resolution (see ResolveReal) prefers a sanitizer's interceptor
// (`__interceptor_read`, found with dlsym(RTLD_DEFAULT)) so that ASan and TSan
// still see every call made through the interposer; otherwise it takes
// dlsym(RTLD_NEXT). Everything is resolved at once before anything is armed:
// by a constructor at load time in a program linked with the interposer, and
// by the preload library's own start-up only in a process that may arm rules
// (a scenario, --control, a sweep; see PreloadResolvesWhenArmed). A function
// not resolved by then (in a process the preload library entered with
// nothing to inject, or called from another library's constructor) resolves
// on its first call.
//
// Thread-safe and async-signal-safe once resolved (each pointer is one
// relaxed atomic load). The first call's dlsym takes the loader's lock, as
// lazy binding of any PLT entry does.

#ifndef IPCFAULT_INJECT_INTERNAL_REAL_FUNCTIONS_H_
#define IPCFAULT_INJECT_INTERNAL_REAL_FUNCTIONS_H_

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "absl/base/optimization.h"
#include "ipcfault/inject/call_spec.h"

namespace ipcfault::inject_internal {

// The address of the definition of `name` that the interposer's own
// definition hides: `__interceptor_<name>` if a sanitizer runtime defines it,
// else dlsym(RTLD_NEXT, name); never `self` (the interposer's own wrapper).
// nullptr if there is none (then RealFunction uses its fallback).
void* ResolveReal(const char* name, void* self);

// One real function, resolved on first use.
template <typename Fn>
class RealFunction {
 public:
  // `fallback` is used when no definition is found (a call that an older
  // glibc lacks falls back to the raw syscall).
  constexpr RealFunction(const char* name, Fn* self, Fn* fallback = nullptr)
      : name_(name), self_(self), fallback_(fallback) {}
  RealFunction(const RealFunction&) = delete;
  RealFunction& operator=(const RealFunction&) = delete;

  // The real function. One relaxed load once resolved.
  Fn* get() const {
    Fn* fn = fn_.load(std::memory_order_relaxed);
    if (ABSL_PREDICT_FALSE(fn == nullptr)) fn = Resolve();
    return fn;
  }

  const char* name() const { return name_; }

 private:
  Fn* Resolve() const;

  const char* name_;
  Fn* self_;
  Fn* fallback_;
  mutable std::atomic<Fn*> fn_{nullptr};
};

// The libc functions that the interposer defines, as the real ones: one
// member per row of the call spec (call_spec.inc), named after the call
// (`real.read`), and one per _FORTIFY_SOURCE entry point (`real.read_chk`
// for __read_chk).
struct RealFunctions {
#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ...) RealFunction<RET PARAMS> name;
#define IPCFAULT_FORTIFIED(name, Camel, slot, RET, PARAMS, ...) \
  RealFunction<RET PARAMS> slot;
#include "ipcfault/inject/call_spec.inc"
};

// The real functions. Defined in interpose.cc.
extern RealFunctions real;

// Resolves every function in `real` now (the interposer's constructor does
// this at load time). Idempotent and thread-safe.
void ResolveAllRealFunctions();

// Defined, to return true, by the preload library (preload.cc) alone: there
// the load-time constructor resolves nothing, and the library's start-up
// calls ResolveAllRealFunctions only if the process may arm rules. A
// hundred dlsym calls are a fifth of the instructions the library adds to a
// program's start-up; a program with nothing armed pays for the functions
// it calls, when it calls them.
bool PreloadResolvesWhenArmed() __attribute__((weak));

// Implementation details follow.

template <typename Fn>
Fn* RealFunction<Fn>::Resolve() const {
  Fn* fn = reinterpret_cast<Fn*>(
      ResolveReal(name_, reinterpret_cast<void*>(self_)));
  if (fn == nullptr) fn = fallback_;
  if (fn == nullptr) {
    // No definition anywhere: libc itself is broken. Say so and stop, with
    // nothing that could come back here.
    static constexpr char kMessage[] =
        "ipcfault: cannot resolve a real libc function\n";
    ::syscall(SYS_write, 2, kMessage, sizeof(kMessage) - 1);
    ::abort();
  }
  fn_.store(fn, std::memory_order_relaxed);
  return fn;
}

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_REAL_FUNCTIONS_H_
