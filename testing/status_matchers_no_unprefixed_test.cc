// IPCFAULT_NO_UNPREFIXED_ASSERT_OK_AND_ASSIGN: status_matchers.h defines no
// unprefixed macro at all (for an includer whose own definition comes later).

#define IPCFAULT_NO_UNPREFIXED_ASSERT_OK_AND_ASSIGN
#include "ipcfault/testing/status_matchers.h"

#ifdef ASSERT_OK_AND_ASSIGN
#error "status_matchers.h defined ASSERT_OK_AND_ASSIGN although asked not to"
#endif

#include "absl/status/statusor.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace ipcfault {
namespace {

TEST(StatusMatchersNoUnprefixed, OnlyThePrefixedMacroIsDefined) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(int v, absl::StatusOr<int>(9));
  EXPECT_EQ(v, 9);
}

bool reached = false;
void AssignsAnError() {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(int v, absl::StatusOr<int>(absl::InternalError("x")));
  (void)v;
  reached = true;
}

// On error the macro fails the test and returns: the line after never runs.
TEST(StatusMatchersNoUnprefixed, AnErrorFailsAndReturns) {
  EXPECT_FATAL_FAILURE(AssignsAnError(), "INTERNAL: x");
  EXPECT_FALSE(reached);
}

}  // namespace
}  // namespace ipcfault
