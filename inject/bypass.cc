#include "ipcfault/inject/bypass.h"

namespace ipcfault::inject_internal {

thread_local int bypass_depth __attribute__((tls_model("initial-exec"))) = 0;

}  // namespace ipcfault::inject_internal
