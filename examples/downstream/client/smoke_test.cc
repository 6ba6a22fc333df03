#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "ipcfault/testing/status_matchers.h"
TEST(Smoke, Links) { EXPECT_THAT(absl::OkStatus(), ipcfault::IsOk()); }
