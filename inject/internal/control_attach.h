// inject/internal/control_attach.h
//
// The preload library's side of `ipcfault run --control`: finds the run's
// control region (control_region.h) from IPCFAULT_CONTROL, maps it, and
// attaches the engine to it, so that rules armed through the control socket
// apply to this process. Not a public API.
//
//   switch (AttachControlFromEnvironment()) { ... }   // in the constructor
//
// libc only, no allocation: it runs in the preload library's constructor.

#ifndef IPCFAULT_INJECT_INTERNAL_CONTROL_ATTACH_H_
#define IPCFAULT_INJECT_INTERNAL_CONTROL_ATTACH_H_

namespace ipcfault::inject_internal {

enum class ControlAttach {
  kNone,      // IPCFAULT_CONTROL is not set: not a controlled run
  kAttached,  // the engine now reads the region
  kFailed,    // set, but the region cannot be reached; a warning was printed
};

// Reads IPCFAULT_CONTROL ("FD:INODE:PID"), maps the region through the
// inherited fd FD, or /proc/PID/fd/FD if this process no longer has it, after
// checking that it is the memfd INODE, and calls AttachControlRegion(). On
// failure prints one line to stderr naming the program and why, and leaves
// the engine as it was. Call once, before any thread exists.
ControlAttach AttachControlFromEnvironment();

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_CONTROL_ATTACH_H_
