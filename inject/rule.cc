#include "ipcfault/inject/rule.h"

namespace ipcfault {

bool operator==(const Rule& a, const Rule& b) {
  return a.calls == b.calls && a.action == b.action && a.error == b.error &&
         a.retval == b.retval && a.short_bytes == b.short_bytes &&
         a.delay_enter == b.delay_enter && a.delay_exit == b.delay_exit &&
         a.signal == b.signal && a.when == b.when && a.times == b.times &&
         a.probability == b.probability && a.seed == b.seed && a.fd == b.fd &&
         a.port == b.port && a.sig == b.sig && a.site == b.site && a.as_strace == b.as_strace &&
         a.thread == b.thread &&
         static_cast<bool>(a.predicate) == static_cast<bool>(b.predicate);
}

}  // namespace ipcfault
