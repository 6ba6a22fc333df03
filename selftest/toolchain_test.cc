#include <cerrno>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

TEST(Toolchain, AbseilAndGoogleTestLink) {
  absl::Status s = absl::ErrnoToStatus(ECONNREFUSED, "connect");
  EXPECT_THAT(std::string(s.message()), testing::HasSubstr("connect"));
  EXPECT_EQ(absl::StrFormat("%d", 42), "42");
}
