// selftest/ipcfault_examples_test.cc
//
// The example programs (//examples:echo_server, :echo_client,
// :graceful_shutdown), unmodified, under `ipcfault run`: each injected fault
// reaches the error path it is meant to, the program reports it as a user
// would see it, and the fire log holds exactly that fault.

#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/selftest/ipcfault_test_util.h"

namespace ipcfault {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using selftest::Child;
using selftest::IpcfaultBinary;
using selftest::LogLine;
using selftest::ParseLog;
using selftest::ReadFile;
using selftest::Result;
using selftest::RunIpcfault;
using selftest::RunProgram;
using selftest::Runfile;
using selftest::TempDirTest;

std::string Example(absl::string_view name) {
  return Runfile(absl::StrCat("examples/", name));
}

// The port in echo_server's first line, "listening on 127.0.0.1:PORT".
int PortFrom(const std::string& out) {
  size_t line = out.find("listening on ");
  size_t colon = out.find_last_of(':', out.find('\n', line));
  size_t end = out.find('\n', colon);
  int port = 0;
  if (line == std::string::npos || colon == std::string::npos ||
      !absl::SimpleAtoi(out.substr(colon + 1, end - colon - 1), &port)) {
    ADD_FAILURE() << "no port in: " << out;
  }
  return port;
}

class ExamplesTest : public TempDirTest {};

TEST_F(ExamplesTest, EchoClientReportsTheRefusedConnect) {
  Child server({Example("echo_server"), "--port=0"});
  ASSERT_TRUE(server.WaitForStdout("\n")) << "echo_server did not start";
  const int port = PortFrom(server.out());
  ASSERT_GT(port, 0);
  const std::string port_flag = absl::StrCat("--port=", port);

  // The server is up: a plain client gets its echo.
  Result plain = RunProgram({Example("echo_client"), port_flag, "Dune"});
  ASSERT_EQ(plain.exit_code(), 0) << plain;
  EXPECT_EQ(plain.out, "Dune\n");

  // The same client under `ipcfault run`, strace's syntax: refused.
  std::string log = Path("fires.log");
  Result r = RunIpcfault({"run", "-e", "inject=connect:error=ECONNREFUSED:when=1",
                          "--log", log, "--", Example("echo_client"), port_flag,
                          "Dune"});
  EXPECT_EQ(r.exit_code(), 1) << r;
  EXPECT_THAT(r.out, IsEmpty()) << r;
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("echo_client: connect(127.0.0.1:", port,
                                            "): Connection refused [ECONNREFUSED]\n")))
      << r;
  EXPECT_THAT(r.err, HasSubstr("rule 0 connect:error=ECONNREFUSED:when=1: fired 1 time"))
      << r;
  std::vector<LogLine> lines = ParseLog(ReadFile(log));
  ASSERT_EQ(lines.size(), 1u) << ReadFile(log);
  EXPECT_EQ(lines[0].call, "connect");
  EXPECT_EQ(lines[0].errno_name, "\"ECONNREFUSED\"");
  EXPECT_EQ(lines[0].ordinal, 1u);

  ASSERT_EQ(kill(server.pid(), SIGTERM), 0);
  Result stopped = server.Finish();
  EXPECT_EQ(stopped.exit_code(), 0) << stopped;
}

TEST_F(ExamplesTest, EchoServerLogsAcceptEmfileAndServesTheNextClient) {
  std::string log = Path("fires.log");
  Child server({IpcfaultBinary(), "run", "-e", "accept:error=EMFILE:when=1", "--log",
                log, "--", Example("echo_server"), "--port=0"});
  ASSERT_TRUE(server.WaitForStdout("\n")) << "echo_server did not start";
  const int port = PortFrom(server.out());
  ASSERT_GT(port, 0);
  const std::string port_flag = absl::StrCat("--port=", port);

  // The first accept fails; the connection stays queued, and once the
  // server's accept back-off ends it is accepted and served, as is the next.
  Result first = RunProgram({Example("echo_client"), port_flag, "Solaris"});
  EXPECT_EQ(first.exit_code(), 0) << first;
  EXPECT_EQ(first.out, "Solaris\n");
  Result second = RunProgram({Example("echo_client"), port_flag, "Ubik"});
  EXPECT_EQ(second.exit_code(), 0) << second;
  EXPECT_EQ(second.out, "Ubik\n");

  // SIGTERM to ipcfault reaches the server, which stops gracefully.
  ASSERT_EQ(kill(server.pid(), SIGTERM), 0);
  Result r = server.Finish();
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.out, HasSubstr("stopped by SIGTERM")) << r;
  EXPECT_THAT(r.err, MatchesRegex("(.|\n)*accept[^\n]*Too many open files \\[EMFILE\\]"
                                  "(.|\n)*"))
      << r;
  EXPECT_THAT(r.err, HasSubstr("rule 0 accept:error=EMFILE:when=1: fired 1 time")) << r;
  std::vector<LogLine> lines = ParseLog(ReadFile(log));
  ASSERT_EQ(lines.size(), 1u) << ReadFile(log);
  EXPECT_EQ(lines[0].call, "accept");
  EXPECT_EQ(lines[0].errno_name, "\"EMFILE\"");
}

TEST_F(ExamplesTest, GracefulShutdownReportsTheFailedKill) {
  // Without the fault it stops its child gracefully.
  Result plain = RunProgram({Example("graceful_shutdown")});
  ASSERT_EQ(plain.exit_code(), 0) << plain;
  EXPECT_THAT(plain.out, HasSubstr("exited with status 0 after SIGTERM"));

  std::string log = Path("fires.log");
  Result r = RunIpcfault({"run", "-e", "kill:error=EPERM:when=1", "--log", log, "--",
                          Example("graceful_shutdown")});
  EXPECT_EQ(r.exit_code(), 1) << r;
  EXPECT_THAT(r.err, MatchesRegex("(.|\n)*graceful_shutdown: kill\\([0-9]+, SIGTERM\\): "
                                  "Operation not permitted \\[EPERM\\]\n(.|\n)*"))
      << r;
  std::vector<LogLine> lines = ParseLog(ReadFile(log));
  ASSERT_EQ(lines.size(), 1u) << ReadFile(log);
  EXPECT_EQ(lines[0].call, "kill");
  EXPECT_EQ(lines[0].errno_name, "\"EPERM\"");
}

}  // namespace
}  // namespace ipcfault
