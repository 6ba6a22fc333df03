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
// Return(EAI_AGAIN)); for Gethostbyname NULL with h_errno e; for Signal
// SIG_ERR with errno e. Two calls share a signature but not a failure style
// (PthreadSigmask returns the error, Sigprocmask -1 and errno): there,
// ReturnErrno does not compile and says to name the style:
//
//   EXPECT_CALL(sys, PthreadSigmask)
//       .WillOnce(ipcfault::ReturnErrnoAs<ipcfault::FailureStyle::kReturnsErrno>(EINVAL));
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
  // Out of line (mock_sys.cc), with the constructor: the class's key
  // function, so its vtable, the mock methods and the default actions of
  // every call are compiled once, not in every test that includes this.
  ~MockSys() override;

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
// `Args` (a std::tuple), looked up in the call spec by signature; sets
// *ambiguous if rows of that signature fail differently (of two rows with
// one signature, one may return the error and the other -1 and errno).
// sys_spec_test checks that
// every row's signature finds its own, or is ambiguous.
template <typename Result, typename Args>
constexpr FailureStyle FailureStyleOfSignature(bool* ambiguous = nullptr) {
  FailureStyle style = FailureStyle::kMinusOneErrno;
  bool found = false;
#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ARGS, FAILURE, ...)          \
  if (std::is_same_v<std::pair<Result, Args>,                                \
                     std::pair<RET, ::testing::internal::Function<           \
                                        RET PARAMS>::ArgumentTuple>>) {      \
    if (found && style != MockedFailure(FailureStyle::FAILURE) && ambiguous) \
      *ambiguous = true;                                                     \
    style = MockedFailure(FailureStyle::FAILURE);                            \
    found = true;                                                            \
  }
#include "ipcfault/inject/call_spec.inc"
  return style;
}

template <typename Result, typename Args>
constexpr bool SignatureIsAmbiguous() {
  bool ambiguous = false;
  FailureStyleOfSignature<Result, Args>(&ambiguous);
  return ambiguous;
}

// The failure value of a mocked call of style kStyle, with errno (or
// h_errno) set as libc sets it.
template <FailureStyle kStyle, typename Result>
Result MockedResult(int error) {
  if constexpr (kStyle == FailureStyle::kReturnsErrno) {
    return error;
  } else if constexpr (kStyle == FailureStyle::kEaiCode) {
    errno = error;
    return EAI_SYSTEM;
  } else if constexpr (kStyle == FailureStyle::kNullHErrno) {
    h_errno = error;
    return nullptr;
  } else if constexpr (kStyle == FailureStyle::kSigErrErrno) {
    errno = error;
    return SIG_ERR;
  } else if constexpr (kStyle == FailureStyle::kCannotFail) {
    return Result{};
  } else if constexpr (std::is_pointer_v<Result>) {
    errno = error;
    return nullptr;
  } else {
    errno = error;
    return static_cast<Result>(-1);
  }
}

// The action behind ReturnErrno(): the failure value of the mocked call,
// as its row in the call spec says.
class ReturnErrnoAction {
 public:
  explicit ReturnErrnoAction(int error) : error_(error) {}

  template <typename Result, typename ArgumentTuple>
  Result Perform(const ArgumentTuple&) const {
    static_assert(!SignatureIsAmbiguous<Result, ArgumentTuple>(),
                  "calls of this signature fail differently (PthreadSigmask, "
                  "Sigprocmask): use ReturnErrnoAs<FailureStyle::...>(e)");
    return MockedResult<FailureStyleOfSignature<Result, ArgumentTuple>(), Result>(error_);
  }

 private:
  int error_;
};

// The action behind ReturnErrnoAs<kStyle>().
template <FailureStyle kStyle>
class ReturnErrnoAsAction {
 public:
  explicit ReturnErrnoAsAction(int error) : error_(error) {}
  template <typename Result, typename ArgumentTuple>
  Result Perform(const ArgumentTuple&) const {
    return MockedResult<MockedFailure(kStyle), Result>(error_);
  }

 private:
  int error_;
};

}  // namespace inject_internal

// Fails the mocked call as a call of style kStyle fails: for the calls whose
// signature another call shares with another style (see the top of this
// file).
template <FailureStyle kStyle>
::testing::PolymorphicAction<inject_internal::ReturnErrnoAsAction<kStyle>> ReturnErrnoAs(
    int error) {
  return ::testing::MakePolymorphicAction(inject_internal::ReturnErrnoAsAction<kStyle>(error));
}

// Fails the mocked call as libc would, with errno `error` (see the top of
// this file for PthreadKill and Getaddrinfo).
inline ::testing::PolymorphicAction<inject_internal::ReturnErrnoAction>
ReturnErrno(int error) {
  return ::testing::MakePolymorphicAction(
      inject_internal::ReturnErrnoAction(error));
}

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_MOCK_SYS_H_
