// The echo client's error paths, tested the way a downstream team would:
// the ipcfault fixtures give it a real server (which misbehaves on request),
// //inject:interpose is linked in so that Arm() can fail any libc call the
// client makes, and every test asserts on what the client reported or
// delivered: the status (call, address, errno) and the exact echoes.
//
// The fixture's server runs under an ipcfault::Bypass, so the rules armed
// here reach the client only.
//
// This file is also compiled against deliberately broken clients in
// selftest/ (see selftest/BUILD.bazel): the tests that prove a path fail
// there, which //selftest:teeth_test checks.

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <string.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/examples/echo_client.h"
#include "ipcfault/examples/signal_counter.h"
#include "ipcfault/fixtures/gtest.h"
#include "ipcfault/inject/faults.h"

namespace {

using ::ipcfault::Arm;
using ::ipcfault::IsOk;
using ::ipcfault::StatusIs;
using ::ipcfault::examples::DefaultTitles;
using ::ipcfault::examples::EchoClientOptions;
using ::ipcfault::examples::EchoConnection;
using ::ipcfault::examples::RunEchoClient;
using ::ipcfault::examples::SignalCounter;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

const bool kLeakCheck = ipcfault::EnableLeakCheck();

// The fixture's server (a thread of this test, exempt from faults) and the
// client under test pointed at it.
class EchoClientFaultsTest : public ipcfault::EchoServerTest {
 protected:
  EchoClientOptions ClientOptions() {
    EchoClientOptions options;
    options.port = server().port();
    return options;
  }

  // Runs the client; the echoes it delivered land in echoes_.
  absl::Status RunClient(const EchoClientOptions& options) {
    return RunEchoClient(options, [&](absl::string_view e) { echoes_.emplace_back(e); });
  }

  std::string Where() const { return absl::StrCat("127.0.0.1:", server_->port()); }

  std::vector<std::string> echoes_;
};

TEST_F(EchoClientFaultsTest, InjectedConnectionRefusedIsReportedWithTheAddress) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("connect:error=ECONNREFUSED:when=1"));
  EXPECT_THAT(RunClient(ClientOptions()),
              StatusIs(absl::StatusCode::kUnavailable,
                       absl::StrCat("connect(", Where(), "): Connection refused [ECONNREFUSED]")));
  EXPECT_THAT(echoes_, IsEmpty());
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST_F(EchoClientFaultsTest, RealConnectionRefusedWhenTheServerIsDown) {
  EchoClientOptions options = ClientOptions();
  const std::string where = Where();
  server().Stop();  // the port is closed: the kernel answers the SYN with RST
  EXPECT_THAT(RunClient(options),
              StatusIs(absl::StatusCode::kUnavailable,
                       absl::StrCat("connect(", where, "): Connection refused [ECONNREFUSED]")));
  EXPECT_THAT(echoes_, IsEmpty());
}

TEST_F(EchoClientFaultsTest, ResolverTemporaryFailureNamesHostAndCode) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("getaddrinfo:error=EAI_AGAIN"));
  EXPECT_THAT(RunClient(ClientOptions()),
              StatusIs(absl::StatusCode::kUnavailable,
                       absl::StrCat("getaddrinfo(127.0.0.1): ", gai_strerror(EAI_AGAIN),
                                    " [EAI_AGAIN]")));
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST_F(EchoClientFaultsTest, ResolverUnknownNameNamesHostAndCode) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("getaddrinfo:error=EAI_NONAME"));
  EXPECT_THAT(RunClient(ClientOptions()),
              StatusIs(absl::StatusCode::kNotFound,
                       absl::StrCat("getaddrinfo(127.0.0.1): ", gai_strerror(EAI_NONAME),
                                    " [EAI_NONAME]")));
  EXPECT_EQ(faults.fired(0), 1u);
}

// Every read() returns at most one byte: each echo is reassembled from as
// many reads as it has bytes.
TEST_F(EchoClientFaultsTest, ShortReadsAreReassembledIntoTheExactEchoes) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("read:short=1"));
  EXPECT_THAT(RunClient(ClientOptions()), IsOk());
  EXPECT_EQ(echoes_, DefaultTitles());
  EXPECT_GE(faults.fired(0), 13u + 19u + 22u);  // one read per byte, at least
}

// The server echoes the first title, then resets the connection (RST).
class ResetAfterFirstTitleTest : public EchoClientFaultsTest {
  ipcfault::EchoServerOptions ServerOptions() const override {
    ipcfault::EchoServerOptions options;
    options.reset_after_bytes = 13;  // "War and Peace"
    return options;
  }
};

TEST_F(ResetAfterFirstTitleTest, ConnectionResetMidConversationIsReported) {
  absl::Status status = RunClient(ClientOptions());
  // Writing the second title may meet the RST first, or reading its echo.
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               MatchesRegex(absl::StrCat("(read|write)\\(127\\.0\\.0\\.1:",
                                                         server().port(),
                                                         "\\): Connection reset by peer "
                                                         "\\[ECONNRESET\\]"))));
  EXPECT_THAT(echoes_, ElementsAre("War and Peace"));
}

TEST_F(EchoClientFaultsTest, InjectedResetOnTheSecondReadIsReported) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("read:error=ECONNRESET:when=2"));
  EXPECT_THAT(RunClient(ClientOptions()),
              StatusIs(absl::StatusCode::kUnavailable,
                       absl::StrCat("read(", Where(), "): Connection reset by peer [ECONNRESET]")));
  EXPECT_THAT(echoes_, ElementsAre("War and Peace"));
  EXPECT_EQ(faults.fired(0), 1u);
}

// A real SIGUSR1 (its handler installed without SA_RESTART) interrupts the
// first read: the client retries and every echo is right.
TEST_F(EchoClientFaultsTest, ReadInterruptedByASignalIsRetried) {
  SignalCounter usr1(SIGUSR1);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("read:signal=SIGUSR1:error=EINTR:when=1"));
  EXPECT_THAT(RunClient(ClientOptions()), IsOk());
  EXPECT_EQ(echoes_, DefaultTitles());
  EXPECT_EQ(faults.fired(0), 1u);
  EXPECT_EQ(usr1.count(), 1);  // the handler really ran
}

TEST_F(EchoClientFaultsTest, WriteInterruptedByASignalIsRetried) {
  SignalCounter usr1(SIGUSR1);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("write:signal=SIGUSR1:error=EINTR:when=2"));
  EXPECT_THAT(RunClient(ClientOptions()), IsOk());
  EXPECT_EQ(echoes_, DefaultTitles());
  EXPECT_EQ(faults.fired(0), 1u);
  EXPECT_EQ(usr1.count(), 1);
  // The server got each title once: the interrupted write sent nothing.
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto records, server().Records());
  ASSERT_EQ(records.connections.size(), 1u);
  EXPECT_EQ(absl::StrJoin(records.connections[0].messages, ""),
            absl::StrJoin(DefaultTitles(), ""));
}

// Every write() takes at most three bytes: the client writes the rest, and
// the server receives every byte once, in order.
TEST_F(EchoClientFaultsTest, PartialWritesStillDeliverEveryByte) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto faults, Arm("write:short=3"));
  EXPECT_THAT(RunClient(ClientOptions()), IsOk());
  EXPECT_EQ(echoes_, DefaultTitles());
  EXPECT_GE(faults.fired(0), 5u + 7u + 8u);  // ceil(13/3) + ceil(19/3) + ceil(22/3)
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto records, server().Records());
  EXPECT_EQ(records.bytes_in, 13u + 19u + 22u);
  ASSERT_EQ(records.connections.size(), 1u);
  EXPECT_EQ(absl::StrJoin(records.connections[0].messages, ""),
            absl::StrJoin(DefaultTitles(), ""));
}

class NeverRepliesTest : public EchoClientFaultsTest {
  ipcfault::EchoServerOptions ServerOptions() const override {
    ipcfault::EchoServerOptions options;
    options.never_reply = true;
    return options;
  }
};

// The client's own timeout (the behaviour under test) ends the wait. The
// client runs on a thread so that one without a timeout fails this test
// instead of hanging it: past kBound (an upper bound, never reached by a
// passing run) the server is stopped, which ends any wait with EOF.
TEST_F(NeverRepliesTest, SilentServerEndsInTheClientsTimeout) {
  constexpr auto kBound = std::chrono::seconds(10);
  EchoClientOptions options = ClientOptions();
  options.timeout = absl::Milliseconds(200);
  std::future<absl::Status> result =
      std::async(std::launch::async, [&] { return RunClient(options); });
  if (result.wait_for(kBound) != std::future_status::ready) {
    ADD_FAILURE() << "the client was still waiting for the silent server after 10s";
    server().Stop();
  }
  EXPECT_THAT(result.get(),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       absl::StrCat("read(", Where(),
                                    "): no reply within 200ms (got 0 of 13 bytes)")));
  EXPECT_THAT(echoes_, IsEmpty());
}

class ServerProcessTest : public EchoClientFaultsTest {
  ipcfault::EchoServerOptions ServerOptions() const override {
    ipcfault::EchoServerOptions options;
    options.mode = ipcfault::EchoServerOptions::Mode::kProcess;
    return options;
  }
};

TEST_F(ServerProcessTest, ServerCrashingMidConversationIsReported) {
  IPCFAULT_ASSERT_OK_AND_ASSIGN(EchoConnection connection,
                                EchoConnection::Connect("127.0.0.1", server().port(), absl::Seconds(20)));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string echo, connection.Echo("War and Peace"));
  EXPECT_EQ(echo, "War and Peace");
  ASSERT_THAT(server().Kill(), IsOk());  // SIGKILL, reaped: its sockets are closed
  // The kernel closed the server's end: the client sees the reset its write
  // provoked, or the FIN.
  EXPECT_THAT(connection.Echo("Pride and Prejudice").status(),
              StatusIs(absl::StatusCode::kUnavailable,
                       MatchesRegex(absl::StrCat(
                           "read\\(127\\.0\\.0\\.1:", server().port(),
                           "\\): (Connection reset by peer \\[ECONNRESET\\]|connection closed "
                           "by peer after 0 of 19 bytes)"))));
}

}  // namespace
