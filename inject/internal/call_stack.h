// inject/internal/call_stack.h
//
// Call sites: which code made an interposed call, as a short hash of its
// call stack that is the same in every run of the same binaries (ASLR
// cannot move it), so that `site=HASH` in a rule names "the calls made from
// this stack" and `ipcfault sweep` can aim a fault at one of them.
//
//   uint64_t site = inject_internal::CallSiteHash();   // inside a wrapper
//
// The stack is walked with glibc's backtrace() (the unwinder reads the
// binaries' .eh_frame, so frame pointers are not needed). The frames of the
// module that holds this code (libipcfault_preload.so, or the test binary
// that links //inject:interpose) are skipped up to the first frame outside
// it; each kept frame is hashed as (its module's file name, its offset in
// the module), never as an address. The hash covers kHashedFrames frames.
//
// Not a public API. Async-signal-safe once WarmCallStack() has run
// (backtrace() loads libgcc_s and allocates on its first call only;
// module lookups use _dl_find_object, which takes no lock). Never called on
// the hot path: only for calls that an armed site= rule (or the record
// mode's trace) matches.

#ifndef IPCFAULT_INJECT_INTERNAL_CALL_STACK_H_
#define IPCFAULT_INJECT_INTERNAL_CALL_STACK_H_

#include <cstddef>
#include <cstdint>

namespace ipcfault::inject_internal {

// Frames of the caller that a site's hash covers.
inline constexpr int kHashedFrames = 8;

// The 48-bit hash that `site=` compares (never 0). Async-signal-safe after
// WarmCallStack().
uint64_t CallSiteHash();

// One frame of a call site: the module's path ("" if unknown) and the
// offset of the return address in it (as addr2line reads it).
struct SiteFrame {
  const char* module;
  uintptr_t offset;
};

// Fills `frames` with up to `max` frames of the caller, outermost last, and
// returns how many; *hash gets CallSiteHash() of the same walk.
int CallSiteFrames(SiteFrame* frames, int max, uint64_t* hash);

// Loads what backtrace() needs, so that later walks allocate nothing. Call
// once at startup, before any site= rule is armed. Not async-signal-safe.
void WarmCallStack();

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_CALL_STACK_H_
