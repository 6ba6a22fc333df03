// How a downstream team tests its client's error paths with ipcfault: a real
// echo server per test (EchoServerTest), faults armed for one test at a time
// (ipcfault::Arm), and assertions on what the client made of them.
#include "greeter.h"

#include <errno.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/fixtures/gtest.h"
#include "ipcfault/inject/faults.h"

namespace {

using ::ipcfault::IsOk;
using ::ipcfault::StatusIs;
using ::testing::HasSubstr;

class GreeterTest : public ipcfault::EchoServerTest {};

TEST_F(GreeterTest, GetsItsGreetingBack) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string reply, greeter::Greet(server().port(), "hello, world"));
  EXPECT_EQ(reply, "hello, world");
}

TEST_F(GreeterTest, ReportsARefusedConnect) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults,
                                ipcfault::Arm("connect:error=ECONNREFUSED:when=1"));
  EXPECT_THAT(greeter::Greet(server().port(), "hello"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("connect(127.0.0.1:")));
  EXPECT_EQ(faults.fired(0), 1u);
  // Only the first connect was refused: the next greeting gets through.
  EXPECT_THAT(greeter::Greet(server().port(), "again"), IsOk());
}

TEST_F(GreeterTest, ReassemblesOneByteReads) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults, ipcfault::Arm("read:short=1"));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string reply, greeter::Greet(server().port(), "split me up"));
  EXPECT_EQ(reply, "split me up");
  EXPECT_EQ(faults.fired(0), 11u);  // one read per byte
}

TEST_F(GreeterTest, ReportsAResetFromTheServer) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults,
                                ipcfault::Arm("read:error=ECONNRESET:when=1"));
  EXPECT_THAT(greeter::Greet(server().port(), "hello"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("read(127.0.0.1:")));
}

// The server in a process of its own (ipcfault execs its helper program,
// found in this workspace's runfiles under @ipcfault): the greeter reports
// the server's crash, and greets again once it is back.
TEST(GreeterProcessTest, ReportsACrashedServer) {
  ipcfault::EchoServerOptions options;
  options.mode = ipcfault::EchoServerOptions::Mode::kProcess;
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ipcfault::EchoServer::Start(options));
  EXPECT_THAT(greeter::Greet(server->port(), "hello"), IsOk());
  ASSERT_THAT(server->Kill(), IsOk());
  EXPECT_THAT(greeter::Greet(server->port(), "hello"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connect(127.0.0.1:")));
  ASSERT_THAT(server->Restart(), IsOk());
  EXPECT_THAT(greeter::Greet(server->port(), "back"), IsOk());
}

}  // namespace
