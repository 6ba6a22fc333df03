// An includer with its own ASSERT_OK_AND_ASSIGN (as most Abseil-based code
// bases have) keeps it: status_matchers.h defines only the IPCFAULT_ one.

#include <utility>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace {
int own_macro_uses = 0;
}  // namespace

// The includer's own, defined first.
#define ASSERT_OK_AND_ASSIGN(lhs, expr)    \
  ++own_macro_uses;                        \
  auto own_result = (expr);                \
  ASSERT_TRUE(own_result.ok());            \
  lhs = std::move(own_result).value()

#include "ipcfault/testing/status_matchers.h"

namespace ipcfault {
namespace {

TEST(StatusMatchersOwnMacro, TheIncludersAssertOkAndAssignIsKept) {
  ASSERT_OK_AND_ASSIGN(int v, absl::StatusOr<int>(7));
  EXPECT_EQ(v, 7);
  EXPECT_EQ(own_macro_uses, 1);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(int w, absl::StatusOr<int>(8));
  EXPECT_EQ(w, 8);
  EXPECT_EQ(own_macro_uses, 1);
}

}  // namespace
}  // namespace ipcfault
