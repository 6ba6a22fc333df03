// inject/mock_sys.h
//
// MockSys: a GoogleMock Sys (sys.h) for unit tests of code written against
// Sys. Every method makes the real call unless the test says otherwise, so a
// test scripts only the calls it cares about; ReturnErrno(e) makes a call
// fail as libc would: the call's failure value, with errno set to e.
//
//   ipcfault::MockSys sys;
//   EXPECT_CALL(sys, Connect).WillOnce(ipcfault::ReturnErrno(ECONNREFUSED));
//   Client client(sys);
//   EXPECT_THAT(client.Connect(addr), StatusIs(absl::StatusCode::kUnavailable));
//
// ReturnErrno(e) fails the call as its row in the call spec says: -1 and
// errno e for most; for PthreadKill it returns e (errno untouched); for
// Getaddrinfo it returns EAI_SYSTEM with errno e (return an EAI_* code with
// Return(EAI_AGAIN)); for Gethostbyname NULL with h_errno e.
//
// A call without an EXPECT_CALL goes to RealSys() (gmock prints an
// "uninteresting call" note; ::testing::NiceMock<MockSys> silences it,
// ::testing::StrictMock<MockSys> makes it a failure). Thread-safe as any
// gmock mock once its expectations are set.

#ifndef IPCFAULT_INJECT_MOCK_SYS_H_
#define IPCFAULT_INJECT_MOCK_SYS_H_

#include <errno.h>
#include <netdb.h>
#include <pthread.h>

#include <tuple>
#include <type_traits>
#include <utility>

#include "gmock/gmock.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/call_spec.h"
#include "ipcfault/inject/sys.h"

namespace ipcfault {

class MockSys : public Sys {
 public:
  // Delegates every call to `real` unless an expectation says otherwise.
  explicit MockSys(Sys& real = RealSys());

#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ...) \
  MOCK_METHOD(RET, Camel, PARAMS, (override));
#include "ipcfault/inject/call_spec.inc"
  MOCK_METHOD(void, Freeaddrinfo, (struct addrinfo* res), (override));
};

namespace inject_internal {

// How ReturnErrno fails a call of `style`: raise's "nonzero and errno" as
// -1 and errno, like most calls.
constexpr FailureStyle MockedFailure(FailureStyle style) {
  return style == FailureStyle::kNonzeroErrno ? FailureStyle::kMinusOneErrno
                                              : style;
}

// How ReturnErrno fails the Sys method with result `Result` and arguments
// `Args` (a std::tuple), looked up in the call spec by signature.
// sys_spec_test checks that every row's signature finds its own.
template <typename Result, typename Args>
constexpr FailureStyle FailureStyleOfSignature() {
  FailureStyle style = FailureStyle::kMinusOneErrno;
#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ARGS, FAILURE, ...)     \
  if (std::is_same_v<std::pair<Result, Args>,                           \
                     std::pair<RET, ::testing::internal::Function<      \
                                        RET PARAMS>::ArgumentTuple>>) { \
    style = MockedFailure(FailureStyle::FAILURE);                       \
  }
#include "ipcfault/inject/call_spec.inc"
  return style;
}

// The action behind ReturnErrno(): the failure value of the mocked call,
// as its row in the call spec says.
class ReturnErrnoAction {
 public:
  explicit ReturnErrnoAction(int error) : error_(error) {}

  template <typename Result, typename ArgumentTuple>
  Result Perform(const ArgumentTuple&) const {
    constexpr FailureStyle kStyle =
        FailureStyleOfSignature<Result, ArgumentTuple>();
    if constexpr (kStyle == FailureStyle::kReturnsErrno) {
      return error_;
    } else if constexpr (kStyle == FailureStyle::kEaiCode) {
      errno = error_;
      return EAI_SYSTEM;
    } else if constexpr (kStyle == FailureStyle::kNullHErrno) {
      h_errno = error_;
      return nullptr;
    } else if constexpr (std::is_pointer_v<Result>) {
      errno = error_;
      return nullptr;
    } else {
      errno = error_;
      return static_cast<Result>(-1);
    }
  }

 private:
  int error_;
};

}  // namespace inject_internal

// Fails the mocked call as libc would, with errno `error` (see the top of
// this file for PthreadKill and Getaddrinfo).
inline ::testing::PolymorphicAction<inject_internal::ReturnErrnoAction>
ReturnErrno(int error) {
  return ::testing::MakePolymorphicAction(
      inject_internal::ReturnErrnoAction(error));
}

// Implementation details follow.

inline MockSys::MockSys(Sys& real) {
  using ::testing::Invoke;
#define IPCFAULT_CALL(name, Camel, ...) \
  ON_CALL(*this, Camel).WillByDefault(Invoke(&real, &Sys::Camel));
#include "ipcfault/inject/call_spec.inc"
  ON_CALL(*this, Freeaddrinfo)
      .WillByDefault(Invoke(&real, &Sys::Freeaddrinfo));
}

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_MOCK_SYS_H_
