// Generated from the call spec (call_spec.inc): Sys has a method for every
// call in the table, with the libc call's signature, MockSys mocks it, and
// ReturnErrno() fails it as the row's FailureStyle says.

#include <errno.h>
#include <netdb.h>

#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/call_spec.h"
#include "ipcfault/inject/mock_sys.h"
#include "ipcfault/inject/sys.h"

namespace ipcfault {
namespace {

// Sys::Camel has the row's signature (a compile error otherwise, naming the
// method), and the mock's ReturnErrno finds the row's own failure style.
#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ARGS, FAILURE, ...)               \
  static_assert(std::is_same_v<decltype(&Sys::Camel), RET(Sys::*) PARAMS>,        \
                "Sys::" #Camel " must have the signature of " #name);            \
  static_assert(inject_internal::SignatureIsAmbiguous<                           \
                    RET, ::testing::internal::Function<RET PARAMS>::ArgumentTuple>() || \
                    inject_internal::FailureStyleOfSignature<                      \
                        RET, ::testing::internal::Function<RET PARAMS>::ArgumentTuple>() == \
                        inject_internal::MockedFailure(FailureStyle::FAILURE),    \
                "another call has " #name "'s signature and another failure style");
#include "ipcfault/inject/call_spec.inc"

// The Sys methods the spec generates, by call, in table order.
std::vector<Call> CallsWithASysMethod() {
  std::vector<Call> calls;
#define IPCFAULT_CALL(name, Camel, ...) calls.push_back(Call::k##Camel);
#include "ipcfault/inject/call_spec.inc"
  return calls;
}

TEST(SysSpecTest, SysHasAMethodForEveryCallInTheTable) {
  std::vector<Call> calls = CallsWithASysMethod();
  ASSERT_EQ(calls.size(), AllCalls().size());
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i], AllCalls()[i].call) << AllCalls()[i].name;
  }
}

// What one mocked call returned, with errno and h_errno right after.
struct Outcome {
  bool is_null_pointer = false;
  long long value = 0;
  int error = 0;
  int h_error = 0;
};

template <typename R>
Outcome Capture(R result) {
  Outcome out;
  out.error = errno;
  out.h_error = h_errno;
  if constexpr (std::is_pointer_v<R>) {
    out.is_null_pointer = result == nullptr;
    out.value = reinterpret_cast<long long>(result);
  } else {
    out.value = static_cast<long long>(result);
  }
  return out;
}

// Calls `Camel` on a MockSys scripted with ReturnErrno(error), with
// value-initialised arguments (the mock never makes the real call).
std::vector<std::pair<Call, Outcome (*)(int)>> MockedCalls() {
  std::vector<std::pair<Call, Outcome (*)(int)>> calls;
#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ARGS, FAILURE, ...)                \
  calls.push_back({Call::k##Camel, [](int error) {                                 \
                     ::testing::StrictMock<MockSys> sys;                           \
                     EXPECT_CALL(sys, Camel)                                       \
                         .WillOnce(ReturnErrnoAs<FailureStyle::FAILURE>(error));   \
                     ::testing::internal::Function<RET PARAMS>::ArgumentTuple args{}; \
                     errno = 0;                                                    \
                     h_errno = 0;                                                  \
                     return Capture(std::apply(                                    \
                         [&](auto... a) { return sys.Camel(a...); }, args));       \
                   }});
#include "ipcfault/inject/call_spec.inc"
  return calls;
}

TEST(SysSpecTest, ReturnErrnoFailsEveryCallAsItsRowSays) {
  auto calls = MockedCalls();
  ASSERT_EQ(calls.size(), AllCalls().size());
  for (const auto& [call, invoke] : calls) {
    const CallInfo& info = GetCallInfo(call);
    if (info.failure == FailureStyle::kCannotFail) continue;  // alarm
    ASSERT_FALSE(info.errors.empty()) << info.name;
    // ReturnErrno takes an errno value; for the EAI_* and h_errno calls the
    // row's own first code stands in.
    const int error = info.errors[0];
    Outcome out = invoke(error);
    switch (info.failure) {
      case FailureStyle::kMinusOneErrno:
      case FailureStyle::kNonzeroErrno:
        EXPECT_EQ(out.value, -1) << info.name;
        EXPECT_EQ(out.error, error) << info.name;
        break;
      case FailureStyle::kReturnsErrno:
        EXPECT_EQ(out.value, error) << info.name;
        EXPECT_EQ(out.error, 0) << info.name << ": errno must not change";
        break;
      case FailureStyle::kEaiCode:
        EXPECT_EQ(out.value, EAI_SYSTEM) << info.name;
        EXPECT_EQ(out.error, error) << info.name;
        break;
      case FailureStyle::kNullHErrno:
        EXPECT_TRUE(out.is_null_pointer) << info.name;
        EXPECT_EQ(out.h_error, error) << info.name;
        break;
      case FailureStyle::kSigErrErrno:
        EXPECT_EQ(out.value, reinterpret_cast<long long>(SIG_ERR)) << info.name;
        EXPECT_EQ(out.error, error) << info.name;
        break;
      case FailureStyle::kCannotFail:
        break;
    }
  }
}

}  // namespace
}  // namespace ipcfault
