// inject/internal/sweep_support.h
//
// What `ipcfault record` and `ipcfault sweep` need from the preload library,
// switched on by the environment they set:
//
//   IPCFAULT_SWEEP_LOG=FILE  append to FILE one JSON line per process as it
//                            starts ({"pid":..,"ppid":..,"exe":".."}) and as
//                            it exits normally ({"pid":..,"exit":true,
//                            "fds":N,"children":M}: descriptors other than
//                            0-2 still open, child processes not yet
//                            reaped), so a sweep can tell a leak.
//   IPCFAULT_TRACE=1         also append one line per interposed call:
//                            {"pid":..,"call":"read","n":3,"fd":5,
//                             "kind":"socket","nb":0,"count":4096,
//                             "site":"3fa2c1d09b7e","frames":[..]}
//                            `n` counts the process's calls of that name
//                            (as an unfiltered when= does), `site` is the
//                            call-stack hash that site= matches, and
//                            `frames` ("MODULE+0xOFFSET", the executable's
//                            module as "") come with a site's first line in
//                            each process only.
//
// The trace reuses the engine's matching and fire path: it arms one rule
// per call (fd=any, no action) whose fires a fire hook turns into lines, so
// the wrappers have no code of their own for it. Lines are written with one
// write(2) each on an O_APPEND descriptor (processes never interleave),
// async-signal-safely. Not a public API.

#ifndef IPCFAULT_INJECT_INTERNAL_SWEEP_SUPPORT_H_
#define IPCFAULT_INJECT_INTERNAL_SWEEP_SUPPORT_H_

namespace ipcfault::inject_internal {

// Reads the variables above and starts what they ask for. Call once from
// the preload library's initialiser, after the scenario is armed. Returns
// false with a message in `error` (static storage) if they are malformed.
bool StartSweepSupport(const char** error);

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_SWEEP_SUPPORT_H_
