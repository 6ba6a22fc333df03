// inject/bypass_exports.cc: the C entry points by which another copy of
// ipcfault in the process (a test binary's, linked with the fixtures) finds
// this one's Bypass (bypass.cc). In the preload library only, where they
// are exported (its version script keeps unmangled names global); a file
// of their own, linked as an object (alwayslink), so that --exclude-libs,ALL,
// which hides what archives define, never hides them — CMake links
// libraries as archives (preload_symbols_test checks both are exported).

#include "ipcfault/inject/bypass.h"

extern "C" __attribute__((visibility("default"))) int ipcfault_bypass_depth() {
  return ipcfault::inject_internal::BypassDepthHereAndDownstream();
}

extern "C" __attribute__((visibility("default"))) void ipcfault_attach_bypass(int (*probe)()) {
  ipcfault::inject_internal::AttachBypassUpstream(probe);
}
