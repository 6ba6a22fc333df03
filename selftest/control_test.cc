// selftest/control_test.cc
//
// `ipcfault run --control` and `ipcfault ctl` / ipcfault::Controller, end to
// end, against examples' echo_server: healthy, then failing its accepts
// (the server logs EMFILE, a waiting client is not served), then healthy
// again once disarmed and the waiting client served; the same when the
// accepting process is a forked child, or a program a child exec'd. And the
// bad inputs: a malformed scenario, a run that has ended, another uid, a
// path that exists.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/controller.h"
#include "ipcfault/inject/internal/unix_address.h"
#include "ipcfault/selftest/ipcfault_test_util.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault::selftest {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string EchoServer() { return Runfile("examples/echo_server"); }
std::string ForkEchoServer() { return Runfile("selftest/fork_echo_server"); }
std::string Probe() { return Runfile("selftest/ipcfault_probe"); }

// A socket fd closed on scope exit.
class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Connects to 127.0.0.1:port. Every read on it gives up after 60 s (an upper
// bound a passing test never reaches).
int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval limit = {60, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads exactly `n` bytes (or fewer at EOF / on error).
std::string ReadN(int fd, size_t n) {
  std::string got;
  char buf[256];
  while (got.size() < n) {
    ssize_t r = read(fd, buf, std::min(sizeof(buf), n - got.size()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got.append(buf, static_cast<size_t>(r));
  }
  return got;
}

// One echo: connect, write, read back, close.
std::string Echo(int port, const std::string& message) {
  Socket fd(ConnectTo(port));
  if (fd.get() < 0) return absl::StrCat("connect: ", strerror(errno));
  if (write(fd.get(), message.data(), message.size()) != static_cast<ssize_t>(message.size())) {
    return absl::StrCat("write: ", strerror(errno));
  }
  return ReadN(fd.get(), message.size());
}

// Runs `body` in a forked child and returns the text it returned: how the
// uid tests act as another user without changing this process's uid.
std::string InChild(const std::function<std::string()>& body) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return strerror(errno);
  pid_t child = fork();
  if (child < 0) return strerror(errno);
  if (child == 0) {
    close(report[0]);
    const std::string text = body();
    (void)!write(report[1], text.data(), text.size());
    _exit(0);
  }
  close(report[1]);
  std::string text = ReadN(report[0], 4096);
  close(report[0]);
  waitpid(child, nullptr, 0);
  return text;
}

// Why this process cannot act as uid 65534 (nobody) on `paths` (search and
// write, or execute), or "" if it can. Bazel's sandbox maps only uid 0 in its
// user namespace, and a tree under /root (mode 0700) is out of nobody's
// reach: the uid tests then skip, and run when the test binary runs as root
// with TEST_TMPDIR elsewhere (docs/control.md says how).
std::string CannotBeNobody(const std::vector<std::string>& paths) {
  if (geteuid() != 0) return "not root";
  return InChild([&]() -> std::string {
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
      return absl::StrCat("setuid(65534): ", strerror(errno));
    }
    for (const std::string& path : paths) {
      if (access(path.c_str(), X_OK) != 0) {
        return absl::StrCat("uid 65534 cannot reach ", path, ": ", strerror(errno));
      }
    }
    return "";
  });
}

// Connects to the control socket `name` in `dir` as uid 65534 and returns
// Controller::Connect's error ("connected" if it connected; "cannot become
// nobody: ..." if the child could not change uid). The directory is opened
// (O_PATH) while still root and reached through /proc/self/fd, so nobody
// needs no search permission on $TEST_TMPDIR's ancestors (under Bazel they
// are under /root); only `dir` itself must be searchable by others.
std::string ConnectAsNobody(const std::string& dir, const std::string& name) {
  return InChild([&]() -> std::string {
    int dirfd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) return absl::StrCat("open: ", strerror(errno));
    const char* step = nullptr;
    // In a user namespace (Bazel's sandbox) setgroups may be denied; the
    // supplementary groups do not matter here.
    if (setgroups(0, nullptr) != 0 && errno != EPERM) step = "setgroups";
    else if (setgid(65534) != 0) step = "setgid";
    else if (setuid(65534) != 0) step = "setuid";
    else if (prctl(PR_SET_DUMPABLE, 1) != 0) step = "prctl";
    if (step != nullptr) return absl::StrCat("cannot become nobody: ", step, ": ", strerror(errno));
    absl::StatusOr<Controller> control =
        Controller::Connect(absl::StrCat("/proc/self/fd/", dirfd, "/", name));
    return control.ok() ? "connected" : std::string(control.status().message());
  });
}

class ControlTest : public TempDirTest {
 protected:
  // Starts `ipcfault run --control=ctl -- argv...`, waits for the server's
  // "listening on 127.0.0.1:PORT" and returns PORT.
  int Start(const std::vector<std::string>& argv, std::vector<std::string> options = {}) {
    socket_path_ = Path("ctl");
    std::vector<std::string> args = {IpcfaultBinary(), "run", "--control=" + socket_path_};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--");
    args.insert(args.end(), argv.begin(), argv.end());
    run_ = std::make_unique<Child>(args);
    if (!run_->WaitForStdout("\n")) return -1;
    const std::string& out = run_->out();
    size_t colon = out.rfind(':');
    int port = 0;
    if (!absl::StartsWith(out, "listening on 127.0.0.1:") ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(out.substr(colon + 1)), &port)) {
      ADD_FAILURE() << "unexpected first line: " << out;
      return -1;
    }
    return port;
  }

  // Stops the run with SIGTERM (forwarded to the server) and returns its
  // result.
  Result Stop() {
    kill(run_->pid(), SIGTERM);
    Result result = run_->Finish();
    run_.reset();
    return result;
  }

  std::string socket_path_;
  std::unique_ptr<Child> run_;
};

// Healthy, failing, healthy again: the whole cycle the issue asks for, for
// each kind of process that makes the accept() calls.
struct Server {
  const char* name;
  std::vector<std::string> (*argv)();
};

class ServerCycleTest : public ControlTest,
                        public testing::WithParamInterface<Server> {};

TEST_P(ServerCycleTest, ArmFailsAcceptsUntilDisarmed) {
  const int port = Start(GetParam().argv());
  ASSERT_GT(port, 0);
  ASSERT_EQ(Echo(port, "healthy"), "healthy");

  IPCFAULT_ASSERT_OK_AND_ASSIGN(Controller control, Controller::Connect(socket_path_));
  ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> ids, control.Arm("accept:error=EMFILE"));
  ASSERT_THAT(ids, SizeIs(1));

  // A client connects (into the backlog) and is not served: every accept
  // the server tries fails, and it retries every 100 ms.
  Socket waiting(ConnectTo(port));
  ASSERT_GE(waiting.get(), 0) << strerror(errno);
  ASSERT_EQ(write(waiting.get(), "waited", 6), 6);
  ASSERT_OK_AND_ASSIGN(uint64_t fired, control.Wait(ids[0], 3, absl::Seconds(60)));
  EXPECT_GE(fired, 3u);
  // Still armed: the server cannot have accepted it, so nothing came back.
  char byte;
  EXPECT_EQ(recv(waiting.get(), &byte, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);

  ASSERT_THAT(control.Disarm(ids), IsOk());
  // The next accept succeeds: the waiting client is served, and new ones
  // (one at a time: the server is iterative).
  EXPECT_EQ(ReadN(waiting.get(), 6), "waited");
  shutdown(waiting.get(), SHUT_RDWR);
  EXPECT_EQ(Echo(port, "healthy again"), "healthy again");

  // The disarmed rule's counts stay readable; it fired no more once
  // disarmed (the waiting client was served by an accept it did not fail).
  ASSERT_OK_AND_ASSIGN(std::vector<ControlledRule> rules, control.List());
  ASSERT_THAT(rules, SizeIs(1));
  EXPECT_EQ(rules[0].id, ids[0]);
  EXPECT_FALSE(rules[0].armed);
  EXPECT_EQ(rules[0].text, "accept:error=EMFILE");
  EXPECT_GE(rules[0].fired, fired);
  EXPECT_EQ(rules[0].matched, rules[0].fired);
  const uint64_t total = rules[0].fired;

  // The log holds one line per fire, from the process that accepts.
  ASSERT_OK_AND_ASSIGN(std::string log, control.Log());
  std::vector<LogLine> lines = ParseLog(log);
  EXPECT_THAT(lines, SizeIs(total));
  for (const LogLine& line : lines) {
    EXPECT_EQ(line.call, "accept");
    EXPECT_EQ(line.errno_name, "\"EMFILE\"");
    EXPECT_EQ(line.rule, ids[0]);
  }

  Result result = Stop();
  EXPECT_EQ(result.exit_code(), 0) << result;
  // The server saw each failure and said so.
  std::vector<std::string> emfile_lines;
  for (absl::string_view line : absl::StrSplit(result.err, '\n')) {
    if (absl::StrContains(line, "Too many open files [EMFILE]; pausing accept")) {
      emfile_lines.emplace_back(line);
    }
  }
  EXPECT_THAT(emfile_lines, SizeIs(total)) << result;
  EXPECT_THAT(result.err,
              HasSubstr(absl::StrCat("ipcfault: rule ", ids[0],
                                     " accept:error=EMFILE (disarmed): fired ", total,
                                     " times (1 process)")));
  // The socket is gone with the run.
  EXPECT_FALSE(Exists(socket_path_));
}

INSTANTIATE_TEST_SUITE_P(
    Servers, ServerCycleTest,
    testing::Values(
        Server{"EchoServer", [] { return std::vector<std::string>{EchoServer(), "--port=0"}; }},
        Server{"ForkedChild", [] { return std::vector<std::string>{ForkEchoServer()}; }},
        Server{"ExecdDescendant",
               [] {
                 return std::vector<std::string>{ForkEchoServer(), "--exec", EchoServer(),
                                                 "--port=0"};
               }}),
    [](const testing::TestParamInfo<Server>& info) { return info.param.name; });

// when= counts the matching calls from the moment the rule is armed.
TEST_F(ControlTest, WhenCountsFromArming) {
  const int port = Start({EchoServer(), "--port=0"});
  ASSERT_GT(port, 0);
  // Two accepts before arming.
  ASSERT_EQ(Echo(port, "one"), "one");
  ASSERT_EQ(Echo(port, "two"), "two");
  IPCFAULT_ASSERT_OK_AND_ASSIGN(Controller control, Controller::Connect(socket_path_));
  ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> ids, control.Arm("accept:error=EMFILE:when=2"));
  // The first accept after arming succeeds; the second fails once, then the
  // server's retry (the third) succeeds.
  ASSERT_EQ(Echo(port, "three"), "three");
  ASSERT_EQ(Echo(port, "four"), "four");
  ASSERT_OK_AND_ASSIGN(std::vector<ControlledRule> rules, control.List());
  ASSERT_THAT(rules, SizeIs(1));
  EXPECT_EQ(rules[0].fired, 1u);
  EXPECT_EQ(rules[0].matched, 3u);
  Result result = Stop();
  EXPECT_EQ(result.exit_code(), 0) << result;
}

// A rule armed through the region keeps its site= (call-stack hash): one
// whose stack no call has is armed, listed with its site, and fails
// nothing; the server keeps serving. (The region once dropped site=, and the
// rule failed every accept.)
TEST_F(ControlTest, SiteIsKept) {
  const int port = Start({EchoServer(), "--port=0"});
  ASSERT_GT(port, 0);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(Controller control, Controller::Connect(socket_path_));
  ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> ids,
                       control.Arm("accept:error=EMFILE:site=1"));
  ASSERT_EQ(Echo(port, "one"), "one");
  ASSERT_EQ(Echo(port, "two"), "two");
  ASSERT_OK_AND_ASSIGN(std::vector<ControlledRule> rules, control.List());
  ASSERT_THAT(rules, SizeIs(1));
  EXPECT_EQ(rules[0].text, "accept:error=EMFILE:site=000000000001");
  EXPECT_EQ(rules[0].matched, 0u);
  EXPECT_EQ(rules[0].fired, 0u);
  Result result = Stop();
  EXPECT_EQ(result.exit_code(), 0) << result;
}

// Disarming never waits for a call that is being decided or applied (gofail
// issue 64: a sleeping failpoint blocked its own deactivation): the accept
// sleeping in delay_enter= holds nothing the disarm needs.
TEST_F(ControlTest, DisarmDoesNotWaitForASleepingCall) {
  const int port = Start({EchoServer(), "--port=0"});
  ASSERT_GT(port, 0);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(Controller control, Controller::Connect(socket_path_));
  ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> ids,
                       control.Arm("accept:delay_enter=600s:when=1"));
  Socket client(ConnectTo(port));
  ASSERT_GE(client.get(), 0);
  ASSERT_EQ(write(client.get(), "x", 1), 1);
  // The fire is counted before the sleep starts.
  ASSERT_OK_AND_ASSIGN(uint64_t fired, control.Wait(ids[0], 1, absl::Seconds(60)));
  EXPECT_EQ(fired, 1u);
  ASSERT_THAT(control.Disarm(ids), IsOk());
  ASSERT_OK_AND_ASSIGN(std::vector<ControlledRule> rules, control.List());
  EXPECT_FALSE(rules[0].armed);
  // The accept is still asleep: the client has not been served.
  char byte;
  EXPECT_EQ(recv(client.get(), &byte, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  // Rather than wait out the 600 s: SIGKILL the run, which takes the server
  // with it (PR_SET_PDEATHSIG); its janitor removes the socket file.
  kill(run_->pid(), SIGKILL);
  Result result = run_->Finish();
  run_.reset();
  EXPECT_EQ(result.exit_code(), 128 + SIGKILL);
  EXPECT_EQ(ReadN(client.get(), 1), "");  // the server is gone: EOF
  EXPECT_TRUE(WaitUntilRemoved(socket_path_, 60000)) << "the killed run left its socket";
}

// A wait that the run's end cuts short is answered, not dropped: the client
// learns the run ended and how far the count got.
TEST_F(ControlTest, WaitCutShortByTheRunsEnd) {
  const int port = Start({EchoServer(), "--port=0"});
  ASSERT_GT(port, 0);
  ASSERT_OK_AND_ASSIGN(Controller control, Controller::Connect(socket_path_));
  // The server never connects: the rule never fires.
  ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> ids, control.Arm("connect:error=ECONNREFUSED"));
  ASSERT_THAT(ids, SizeIs(1));
  // The wait, sent by hand so that it is queued before the list below.
  Socket waiter(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  inject_internal::UnixAddress address;  // $TEST_TMPDIR is long
  ASSERT_THAT(address.Set(socket_path_), IsOk());
  ASSERT_EQ(connect(waiter.get(), address.addr(), address.size()), 0) << strerror(errno);
  const std::string request = absl::StrCat(
      "wait ", ids[0], " 5 ", absl::ToInt64Nanoseconds(absl::Seconds(600)), "\n");
  ASSERT_EQ(write(waiter.get(), request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  ASSERT_EQ(shutdown(waiter.get(), SHUT_WR), 0);
  // The server takes connections one at a time, in the order they came:
  // once this list is answered, the wait is registered.
  ASSERT_OK_AND_ASSIGN(std::vector<ControlledRule> rules, control.List());
  ASSERT_THAT(rules, SizeIs(1));
  Result result = Stop();
  EXPECT_EQ(result.exit_code(), 0) << result;
  EXPECT_EQ(ReadN(waiter.get(), 4096),
            absl::StrCat("error ended the run ended; rule ", ids[0], " fired 0 of 5 times\n"));
}

// Rules given to `run` are armed first, as rules 1..n, and can be disarmed.
TEST_F(ControlTest, InitialRulesAreControlled) {
  const int port = Start({EchoServer(), "--port=0"}, {"-e", "read:short=1"});
  ASSERT_GT(port, 0);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(Controller control, Controller::Connect(socket_path_));
  ASSERT_EQ(Echo(port, "abc"), "abc");
  ASSERT_OK_AND_ASSIGN(std::vector<ControlledRule> rules, control.List());
  ASSERT_THAT(rules, SizeIs(1));
  EXPECT_EQ(rules[0].id, 1u);
  EXPECT_EQ(rules[0].text, "read:short=1");
  EXPECT_GE(rules[0].fired, 3u);  // one read per byte
  ASSERT_THAT(control.DisarmAll(), IsOk());
  ASSERT_OK_AND_ASSIGN(rules, control.List());
  const uint64_t before = rules[0].fired;
  ASSERT_EQ(Echo(port, "abc"), "abc");
  ASSERT_OK_AND_ASSIGN(rules, control.List());
  EXPECT_EQ(rules[0].fired, before);
  EXPECT_FALSE(rules[0].armed);
  Stop();
}

// A malformed scenario arms nothing, and the error says where.
TEST_F(ControlTest, MalformedScenarioArmsNothing) {
  const int port = Start({EchoServer(), "--port=0"});
  ASSERT_GT(port, 0);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(Controller control, Controller::Connect(socket_path_));
  EXPECT_THAT(control.Arm("accept:error=EMFILE\nconnect:error=ECONNREFUSE\n", "server.scenario"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server.scenario:2:15: unknown errno 'ECONNREFUSE'; did you "
                                 "mean ECONNREFUSED?")));
  ASSERT_OK_AND_ASSIGN(std::vector<ControlledRule> rules, control.List());
  EXPECT_THAT(rules, IsEmpty());
  // The first, valid, rule was not armed either: the server serves.
  EXPECT_EQ(Echo(port, "served"), "served");

  // The same through `ipcfault ctl`: exit 1, the -e's number and column.
  Result ctl = RunIpcfault({"ctl", socket_path_, "arm", "-e", "accept:error=EMFILE", "-e",
                            "accept:when=0"});
  EXPECT_EQ(ctl.exit_code(), 1) << ctl;
  EXPECT_THAT(ctl.err, AllOf(HasSubstr("ipcfault ctl: -e:2:"), HasSubstr("nothing was armed")));
  ASSERT_OK_AND_ASSIGN(rules, control.List());
  EXPECT_THAT(rules, IsEmpty());

  // Unknown ids: disarm nothing, say which.
  Result disarm = RunIpcfault({"ctl", socket_path_, "disarm", "7"});
  EXPECT_EQ(disarm.exit_code(), 1) << disarm;
  EXPECT_THAT(disarm.err, HasSubstr("no rule 7 (no rule was armed yet)"));
  Stop();
}

// `ipcfault ctl`'s commands, as a script uses them.
TEST_F(ControlTest, CtlCommandLine) {
  const int port = Start({EchoServer(), "--port=0"});
  ASSERT_GT(port, 0);
  Result arm = RunIpcfault({"ctl", socket_path_, "arm", "-e", "accept:error=EMFILE:when=1",
                            "-e", "read:short=2"});
  ASSERT_EQ(arm.exit_code(), 0) << arm;
  EXPECT_EQ(arm.out, "1\n2\n");
  ASSERT_EQ(Echo(port, "abcd"), "abcd");  // served after one EMFILE and a pause
  Result wait = RunIpcfault({"ctl", socket_path_, "wait", "1", "--fired=1", "--timeout=60s"});
  EXPECT_EQ(wait.exit_code(), 0) << wait;
  EXPECT_EQ(wait.out, "rule 1 fired 1 time\n");
  Result timeout = RunIpcfault({"ctl", socket_path_, "wait", "1", "--fired=2", "--timeout=10ms"});
  EXPECT_EQ(timeout.exit_code(), 1) << timeout;
  EXPECT_THAT(timeout.err, HasSubstr("rule 1 accept:error=EMFILE:when=1 fired 1 of 2 times"));
  Result list = RunIpcfault({"ctl", socket_path_, "list"});
  EXPECT_EQ(list.exit_code(), 0) << list;
  EXPECT_THAT(list.out, HasSubstr("1    armed             2          1  accept:error=EMFILE:when=1"));
  Result disarm = RunIpcfault({"ctl", socket_path_, "disarm", "all"});
  EXPECT_EQ(disarm.exit_code(), 0) << disarm;
  Result log = RunIpcfault({"ctl", socket_path_, "log"});
  EXPECT_EQ(log.exit_code(), 0) << log;
  std::vector<LogLine> lines = ParseLog(log.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].call, "accept");
  Result usage = RunIpcfault({"ctl", socket_path_, "frobnicate"});
  EXPECT_EQ(usage.exit_code(), 2) << usage;
  EXPECT_THAT(usage.err, HasSubstr("unknown command 'frobnicate'"));
  Stop();
}

// A command on the socket of a run that has ended.
TEST_F(ControlTest, RunHasEnded) {
  const int port = Start({EchoServer(), "--port=0"});
  ASSERT_GT(port, 0);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(Controller control, Controller::Connect(socket_path_));
  Result result = Stop();
  EXPECT_EQ(result.exit_code(), 0) << result;
  EXPECT_FALSE(Exists(socket_path_));
  EXPECT_THAT(control.Arm("accept:error=EMFILE"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("has it not ended?")));
  Result ctl = RunIpcfault({"ctl", socket_path_, "list"});
  EXPECT_EQ(ctl.exit_code(), 2) << ctl;
  EXPECT_THAT(ctl.err, HasSubstr(socket_path_ + ": no such control socket"));

  // A socket left behind (its run killed) that no one listens on.
  const std::string stale = Path("stale");
  {
    Socket fd(socket(AF_UNIX, SOCK_STREAM, 0));
    inject_internal::UnixAddress address;  // $TEST_TMPDIR is long
    ASSERT_THAT(address.Set(stale), IsOk());
    ASSERT_EQ(bind(fd.get(), address.addr(), address.size()), 0) << strerror(errno);
  }
  EXPECT_THAT(Controller::Connect(stale),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("the run has ended")));
  // And `run` will not reuse it.
  const std::string marker = Path("ran");
  Result reuse = RunIpcfault({"run", "--control=" + stale, "--", Probe(), "touch", marker});
  EXPECT_EQ(reuse.exit_code(), 2) << reuse;
  EXPECT_THAT(reuse.err, HasSubstr("a socket no run listens on"));
  EXPECT_FALSE(Exists(marker));
  unlink(stale.c_str());
}

// A path that exists is never reused, and stays as it was.
TEST_F(ControlTest, PathThatExists) {
  const std::string path = WriteFile("taken", "keep me");
  const std::string marker = Path("ran");
  Result result = RunIpcfault({"run", "--control=" + path, "--", Probe(), "touch", marker});
  EXPECT_EQ(result.exit_code(), 2) << result;
  EXPECT_THAT(result.err,
              HasSubstr(absl::StrCat("ipcfault run: --control=", path,
                                     ": the path exists (not a socket)")));
  EXPECT_FALSE(Exists(marker));
  EXPECT_EQ(ReadFile(path), "keep me");

  // A directory that does not exist.
  Result missing = RunIpcfault(
      {"run", "--control=" + Path("no/such/dir/ctl"), "--", Probe(), "touch", marker});
  EXPECT_EQ(missing.exit_code(), 2) << missing;
  EXPECT_THAT(missing.err, HasSubstr("No such file or directory"));
  EXPECT_FALSE(Exists(marker));
}

// The socket is 0600 and a peer with another uid is refused.
TEST_F(ControlTest, AnotherUidIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to become uid 65534";
  // Only the socket's own mode (0600) may keep nobody out.
  ASSERT_EQ(chmod(dir_.c_str(), 0711), 0);
  const int port = Start({EchoServer(), "--port=0"});
  ASSERT_GT(port, 0);
  struct stat st;
  ASSERT_EQ(stat(socket_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A client running as nobody: the socket's mode keeps it out.
  std::string message = ConnectAsNobody(dir_, "ctl");
  if (absl::StartsWith(message, "cannot become nobody")) GTEST_SKIP() << message;
  EXPECT_THAT(message, AllOf(HasSubstr("/ctl: Permission denied"),
                             HasSubstr("owned by uid 0; this process is uid 65534")));
  EXPECT_EQ(Echo(port, "still served"), "still served");
  Stop();
}

// Past the mode (here opened up by hand), the run checks the peer's
// credentials (SO_PEERCRED) and refuses another uid, saying why.
TEST_F(ControlTest, PeerCredentialsAreCheckedPastTheMode) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to become uid 65534";
  ASSERT_EQ(chmod(dir_.c_str(), 0711), 0);
  const int port = Start({EchoServer(), "--port=0"});
  ASSERT_GT(port, 0);
  ASSERT_EQ(chmod(socket_path_.c_str(), 0666), 0);
  std::string message = ConnectAsNobody(dir_, "ctl");
  if (absl::StartsWith(message, "cannot become nobody")) GTEST_SKIP() << message;
  EXPECT_THAT(message,
              HasSubstr("refused: the peer runs as uid 65534; this run's control "
                        "socket answers only uid 0"));
  // The run's own uid still gets in.
  ASSERT_OK_AND_ASSIGN(Controller control, Controller::Connect(socket_path_));
  EXPECT_THAT(control.List(), IsOk());
  Stop();
}

// A run started by nobody: root's connection passes the file mode, so the
// peer credentials are what refuse it.
TEST_F(ControlTest, PeerCredentialsAreChecked) {
  const std::string dir = Path("nobody");
  ASSERT_EQ(chmod(dir_.c_str(), 0711), 0);
  ASSERT_EQ(mkdir(dir.c_str(), 0777), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0777), 0);
  if (std::string why = CannotBeNobody({dir, IpcfaultBinary(), Probe(), PreloadLibrary()});
      !why.empty()) {
    GTEST_SKIP() << "needs root and a uid 65534 that can reach $TEST_TMPDIR and the "
                    "binaries: "
                 << why;
  }
  const std::string path = dir + "/ctl";
  // `setpriv` (util-linux, in every Debian) runs ipcfault as nobody.
  Child run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             IpcfaultBinary(), "run", "--control=" + path, "--", Probe(), "wait-term"});
  ASSERT_TRUE(run.WaitForStdout("ready")) << "the run did not start as nobody";
  EXPECT_THAT(Controller::Connect(path),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("refused: the peer runs as uid 0; this run's control "
                                 "socket answers only uid 65534")));
  kill(run.pid(), SIGTERM);
  Result result = run.Finish();
  EXPECT_EQ(result.exit_code(), 7) << result;
  EXPECT_FALSE(Exists(path));
}

// The example in controller.h, compiled and run.
TEST_F(ControlTest, HeaderExample) {
  const int port = Start({EchoServer(), "--port=0"});
  ASSERT_GT(port, 0);
  const std::string socket_path = socket_path_;
  // started: ipcfault run --control=$TEST_TMPDIR/ctl -- ./echo_server
  IPCFAULT_ASSERT_OK_AND_ASSIGN(ipcfault::Controller control,
                                ipcfault::Controller::Connect(socket_path));
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> ids,
                                control.Arm("accept:error=EMFILE"));
  // ... clients fail: the server's accepts do ...
  Socket waiting(ConnectTo(port));  // waits in the backlog while armed
  ASSERT_EQ(write(waiting.get(), "w", 1), 1);
  EXPECT_THAT(control.Wait(ids[0], /*fired=*/3, absl::Seconds(60)), IsOk());
  EXPECT_THAT(control.Disarm(ids), IsOk());
  // ... and it serves again.
  EXPECT_EQ(ReadN(waiting.get(), 1), "w");
  shutdown(waiting.get(), SHUT_RDWR);
  EXPECT_EQ(Echo(port, "again"), "again");
  Stop();
}

}  // namespace
}  // namespace ipcfault::selftest
