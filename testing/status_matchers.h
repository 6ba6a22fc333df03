// testing/status_matchers.h
//
// GoogleMock matchers for absl::Status and absl::StatusOr<T> (the Debian
// Abseil 20220623 ships none), and IPCFAULT_ASSERT_OK_AND_ASSIGN (also as
// plain ASSERT_OK_AND_ASSIGN, unless the including code has its own).
//
//   EXPECT_THAT(server->Stop(), ipcfault::IsOk());
//   EXPECT_THAT(ipcfault::Arm("bogus"),
//               ipcfault::StatusIs(absl::StatusCode::kInvalidArgument,
//                                  testing::HasSubstr("unknown call")));
//   IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, ipcfault::Arm("read:error=EIO"));

#ifndef IPCFAULT_TESTING_STATUS_MATCHERS_H_
#define IPCFAULT_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace ipcfault {
namespace testing_internal {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

class IsOkMatcher {
 public:
  using is_gtest_matcher = void;
  template <typename T>
  bool MatchAndExplain(const T& value, ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(value);
    if (!status.ok()) *listener << "whose status is " << status;
    return status.ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

class StatusIsMatcher {
 public:
  using is_gtest_matcher = void;
  StatusIsMatcher(absl::StatusCode code, ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}
  template <typename T>
  bool MatchAndExplain(const T& value, ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(value);
    *listener << "whose status is " << status;
    return status.code() == code_ &&
           message_.Matches(std::string(status.message()));
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has status code " << absl::StatusCodeToString(code_)
        << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have status code " << absl::StatusCodeToString(code_)
        << " or has a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  absl::StatusCode code_;
  ::testing::Matcher<const std::string&> message_;
};

}  // namespace testing_internal

// Matches an OK absl::Status or absl::StatusOr<T>.
inline testing_internal::IsOkMatcher IsOk() { return {}; }

// Matches a status (or StatusOr) with `code` and a message matching `message`.
inline testing_internal::StatusIsMatcher StatusIs(
    absl::StatusCode code,
    ::testing::Matcher<const std::string&> message = ::testing::_) {
  return {code, std::move(message)};
}

}  // namespace ipcfault

#define IPCFAULT_STATUS_CONCAT_INNER_(a, b) a##b
#define IPCFAULT_STATUS_CONCAT_(a, b) IPCFAULT_STATUS_CONCAT_INNER_(a, b)

// IPCFAULT_ASSERT_OK_AND_ASSIGN(lhs, expr): asserts `expr` (a StatusOr) is
// OK and moves its value into `lhs` (which may be a declaration). On error
// the test fails with the status and returns from the current function.
#define IPCFAULT_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  IPCFAULT_ASSERT_OK_AND_ASSIGN_IMPL_(           \
      IPCFAULT_STATUS_CONCAT_(ipcfault_status_or_, __LINE__), lhs, expr)
#define IPCFAULT_ASSERT_OK_AND_ASSIGN_IMPL_(var, lhs, expr) \
  auto var = (expr);                                        \
  ASSERT_TRUE(var.ok()) << var.status();                    \
  lhs = std::move(var).value()

// The unprefixed name, for code bases that have none of their own. Most
// Abseil-based code bases define ASSERT_OK_AND_ASSIGN themselves: theirs is
// kept if it is defined before this header is included. If yours comes
// later (or you want none from here), define
// IPCFAULT_NO_UNPREFIXED_ASSERT_OK_AND_ASSIGN before including this header.
#if !defined(ASSERT_OK_AND_ASSIGN) && !defined(IPCFAULT_NO_UNPREFIXED_ASSERT_OK_AND_ASSIGN)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) IPCFAULT_ASSERT_OK_AND_ASSIGN(lhs, expr)
#endif

#endif  // IPCFAULT_TESTING_STATUS_MATCHERS_H_
