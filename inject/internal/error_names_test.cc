#include "ipcfault/inject/internal/error_names.h"

#include <netdb.h>

#include <cerrno>
#include <string>

#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"

namespace ipcfault::inject_internal {
namespace {

std::string Name(FailureStyle style, int error) {
  const char* name = ErrorName(style, error);
  return name != nullptr ? name : "(null)";
}

TEST(ErrorName, ErrnoStyles) {
  EXPECT_EQ(Name(FailureStyle::kMinusOneErrno, ECONNREFUSED), "ECONNREFUSED");
  EXPECT_EQ(Name(FailureStyle::kMinusOneErrno, EMFILE), "EMFILE");
  EXPECT_EQ(Name(FailureStyle::kReturnsErrno, ESRCH), "ESRCH");
  EXPECT_EQ(Name(FailureStyle::kNonzeroErrno, EINVAL), "EINVAL");
  EXPECT_EQ(Name(FailureStyle::kMinusOneErrno, 100000), "(null)");
}

TEST(ErrorName, GetaddrinfoCodes) {
  EXPECT_EQ(Name(FailureStyle::kEaiCode, EAI_AGAIN), "EAI_AGAIN");
  EXPECT_EQ(Name(FailureStyle::kEaiCode, EAI_NONAME), "EAI_NONAME");
  EXPECT_EQ(Name(FailureStyle::kEaiCode, EAI_SYSTEM), "EAI_SYSTEM");
  EXPECT_EQ(Name(FailureStyle::kEaiCode, 12345), "(null)");
}

TEST(ErrorName, HErrnoCodes) {
  EXPECT_EQ(Name(FailureStyle::kNullHErrno, HOST_NOT_FOUND), "HOST_NOT_FOUND");
  EXPECT_EQ(Name(FailureStyle::kNullHErrno, TRY_AGAIN), "TRY_AGAIN");
  EXPECT_EQ(Name(FailureStyle::kNullHErrno, NO_RECOVERY), "NO_RECOVERY");
  EXPECT_EQ(Name(FailureStyle::kNullHErrno, NO_DATA), "NO_DATA");
}

// Every documented error of every call in the table has a name.
TEST(ErrorName, EveryDocumentedErrorOfTheCallTableIsNamed) {
  for (const CallInfo& info : AllCalls()) {
    for (int error : info.errors) {
      EXPECT_NE(ErrorName(info.failure, error), nullptr)
          << info.name << " error " << error;
    }
  }
}

}  // namespace
}  // namespace ipcfault::inject_internal
