#include "ipcfault/examples/errors.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault::examples {
namespace {

TEST(ErrorsTest, FormatsCallArgumentMessageAndErrnoName) {
  EXPECT_EQ(FormatErrno(ECONNREFUSED, "connect", "127.0.0.1:9876"),
            "connect(127.0.0.1:9876): Connection refused [ECONNREFUSED]");
  EXPECT_EQ(FormatErrno(EMFILE, "socket"), "socket: Too many open files [EMFILE]");
  EXPECT_EQ(FormatErrno(4242, "read"), "read: Unknown error [errno 4242]");
}

TEST(ErrorsTest, StatusCodeFollowsTheErrno) {
  EXPECT_THAT(ErrnoError(ECONNREFUSED, "connect", "127.0.0.1:1"),
              StatusIs(absl::StatusCode::kUnavailable,
                       "connect(127.0.0.1:1): Connection refused [ECONNREFUSED]"));
  EXPECT_THAT(ErrnoError(EINVAL, "sigaction", "SIGKILL"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ErrorsTest, FormatsAGetaddrinfoFailureFromTheRealResolver) {
  // AI_NUMERICHOST: fails at once, without asking any name server.
  addrinfo hints = {};
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* result = nullptr;
  int rc = getaddrinfo("not-a-number", "1", &hints, &result);
  ASSERT_EQ(rc, EAI_NONAME);
  EXPECT_THAT(GaiError(rc, 0, "not-a-number"),
              StatusIs(absl::StatusCode::kNotFound,
                       "getaddrinfo(not-a-number): Name or service not known [EAI_NONAME]"));
  EXPECT_THAT(GaiError(EAI_AGAIN, 0, "nohost"),
              StatusIs(absl::StatusCode::kUnavailable,
                       "getaddrinfo(nohost): Temporary failure in name resolution [EAI_AGAIN]"));
  EXPECT_THAT(GaiError(EAI_SYSTEM, EMFILE, "h"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "getaddrinfo(h): Too many open files [EAI_SYSTEM EMFILE]"));
}

TEST(ErrorsTest, NamesSignals) {
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(1000), "signal 1000");
}

}  // namespace
}  // namespace ipcfault::examples
