// inject/mock_sys.cc: MockSys's constructor and destructor (see mock_sys.h).

#include "ipcfault/inject/mock_sys.h"

namespace ipcfault {

MockSys::MockSys(Sys& real) {
  using ::testing::Invoke;
#define IPCFAULT_CALL(name, Camel, ...) \
  ON_CALL(*this, Camel).WillByDefault(Invoke(&real, &Sys::Camel));
#include "ipcfault/inject/call_spec.inc"
  ON_CALL(*this, Freeaddrinfo).WillByDefault(Invoke(&real, &Sys::Freeaddrinfo));
}

MockSys::~MockSys() = default;

}  // namespace ipcfault
