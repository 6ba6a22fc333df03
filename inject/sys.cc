#include "ipcfault/inject/sys.h"

#include <netdb.h>

#include "ipcfault/inject/call_spec.h"

namespace ipcfault {
namespace {

// Each method makes the libc call it is named after.
class RealSysImpl final : public Sys {
 public:
#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ARGS, ...) \
  RET Camel PARAMS override { return ::name ARGS; }
// A vfork child may not return from the function that called vfork, so
// RealSys's Vfork forks.
#define IPCFAULT_CALL_HANDWRITTEN(name, Camel, RET, PARAMS, ARGS, ...) \
  RET Camel PARAMS override { return ::fork(); }
#include "ipcfault/inject/call_spec.inc"

  void Freeaddrinfo(struct addrinfo* res) override { ::freeaddrinfo(res); }
};

}  // namespace

Sys& RealSys() {
  static RealSysImpl* const sys = new RealSysImpl();
  return *sys;
}

}  // namespace ipcfault
