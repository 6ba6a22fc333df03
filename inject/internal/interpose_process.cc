// inject/internal/interpose_process.cc
//
// vfork, whose wrapper the spec cannot generate (docs/fidelity.md): a C
// wrapper cannot call vfork and return, since the child would leave the
// wrapper's frame and the parent find it overwritten. The wrapper is a few
// instructions of assembly: it asks the engine (ipcfault_vfork_decide, an
// ordinary call that returns before any child exists), then either returns
// the injected result or jumps to the real vfork on the caller's own stack,
// as if the caller had called it directly.

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include <cstddef>

#include "absl/base/optimization.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/internal/interpose_path.h"
#include "ipcfault/inject/internal/real_functions.h"
#include "ipcfault/inject/rule.h"

#if !defined(__x86_64__)
#error "interpose_process.cc: the vfork wrapper is written for x86-64"
#endif

namespace ipcfault::inject_internal {

// What the vfork wrapper does: forward (jump to the real vfork) or return
// `value` at once. Two words: returned in rax:rdx.
struct VforkVerdict {
  int64_t forward;
  int64_t value;
};

}  // namespace ipcfault::inject_internal

extern "C" {

// The real vfork, for the assembly wrapper's jump. Set by VforkDecide.
__attribute__((visibility("hidden"))) void* ipcfault_real_vfork = nullptr;

__attribute__((visibility("hidden"), used)) ipcfault::inject_internal::VforkVerdict
ipcfault_vfork_decide() {
  namespace ii = ipcfault::inject_internal;
  ipcfault_real_vfork = reinterpret_cast<void*>(ii::real.vfork.get());
  if (ABSL_PREDICT_TRUE(!ii::ArmedFor(ipcfault::Call::kVfork))) {
    return {1, 0};
  }
  const ii::Injection injection = ii::EnterCall({.call = ipcfault::Call::kVfork});
  if (!injection.fired) return {1, 0};
  switch (injection.action) {
    case ipcfault::Action::kError:
      ii::LeaveCall(injection);
      errno = injection.error;
      return {0, -1};
    case ipcfault::Action::kRetval:
      ii::LeaveCall(injection);
      return {0, injection.retval};
    default:
      // delay_enter and signal= have run; delay_exit cannot follow a call
      // the wrapper jumps to (vfork takes no delay_exit=).
      return {1, 0};
  }
}

}  // extern "C"

// vfork: ask, then return or jump. The stack is as the caller left it when
// the real vfork runs, so the child returns straight to the caller.
asm(R"(
    .text
    .globl vfork
    .type vfork, @function
vfork:
    .cfi_startproc
    subq $8, %rsp
    .cfi_adjust_cfa_offset 8
    call ipcfault_vfork_decide
    addq $8, %rsp
    .cfi_adjust_cfa_offset -8
    testq %rax, %rax
    jz 1f
    jmpq *ipcfault_real_vfork(%rip)
1:
    movl %edx, %eax
    ret
    .cfi_endproc
    .size vfork, .-vfork
)");
