// selftest/reach_test.cc
//
// Issue 12's calls, linked in: for every call the issue added and every error
// its row documents, a rule `CALL:error=E:when=1` makes the real call (on
// real resources: selftest/reach_calls.cc) fail exactly as the call's
// contract says (-1 and errno, the error number returned, SIG_ERR and
// errno), the rule counts one fire, and with the rule gone the same call
// succeeds against the kernel again. The exec family and posix_spawn have
// tests of their own below (the process that saw the failed exec; no child
// after a failed spawn).

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/faults.h"
#include "ipcfault/inject/scenario.h"
#include "ipcfault/inject/sys.h"
#include "ipcfault/selftest/reach_calls.h"
#include "ipcfault/testing/status_matchers.h"

namespace {

using ipcfault::Call;
using ipcfault::CallInfo;
using ipcfault::FailureStyle;
using ipcfault_selftest::FindReachCall;
using ipcfault_selftest::ReachCall;
using ipcfault_selftest::ReachCalls;
using ipcfault_selftest::ReachOutcome;

// The call a maker's rule names: a fortified entry point counts as the call
// it checks.
std::string RuleCallOf(const std::string& maker) {
  if (maker.rfind("__", 0) == 0 && maker.size() > 6 &&
      maker.compare(maker.size() - 4, 4, "_chk") == 0) {
    return maker.substr(2, maker.size() - 6);
  }
  return maker;
}

struct Case {
  std::string maker;  // the ReachCall's name
  int error;          // 0: no error= (the call cannot fail): retval=
};

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const ReachCall& maker : ReachCalls()) {
    auto call = ipcfault::CallByName(RuleCallOf(maker.name));
    if (!call.has_value()) continue;  // caught by EveryMakerIsATableCall
    const CallInfo& info = ipcfault::GetCallInfo(*call);
    if (info.errors.empty()) cases.push_back({maker.name, 0});
    for (int error : info.errors) cases.push_back({maker.name, error});
  }
  return cases;
}

std::string CaseName(const testing::TestParamInfo<Case>& info) {
  std::string name = info.param.maker;
  if (name.rfind("__", 0) == 0) name = "fortified" + name;
  std::string error = "retval";
  if (info.param.error != 0) {
    error = ipcfault::ErrorName(*ipcfault::CallByName(RuleCallOf(info.param.maker)),
                                info.param.error);
  }
  return absl::StrCat(name, "_", error);
}

// error=EPIPE on a send raises SIGPIPE, as the kernel would
// (docs/fidelity.md): like any program that sends, this one ignores it.
class ReachTest : public testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGPIPE, &ignore, nullptr);
  }
};

TEST(ReachCalls, EveryMakerIsATableCall) {
  for (const ReachCall& maker : ReachCalls()) {
    EXPECT_TRUE(ipcfault::CallByName(RuleCallOf(maker.name)).has_value())
        << maker.name << " is not a call of the table";
  }
}

TEST_P(ReachTest, RuleFailsTheCallAsItsContractSaysThenTheKernelServesIt) {
  const Case& c = GetParam();
  const ReachCall* maker = FindReachCall(c.maker);
  ASSERT_NE(maker, nullptr);
  const std::string call_name = RuleCallOf(c.maker);
  const Call call = *ipcfault::CallByName(call_name);
  const CallInfo& info = ipcfault::GetCallInfo(call);

  const std::string rule =
      c.error != 0 ? absl::StrCat(call_name, ":error=", ipcfault::ErrorName(call, c.error),
                                  ":when=1")
                   : absl::StrCat(call_name, ":retval=7:when=1");
  {
    ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults, ipcfault::Arm(rule));
    errno = 0;
    const ReachOutcome o = maker->make();
    // An exec is made in a forked child, whose counts are its own; its
    // outcome (a return at all, -1 and E) is the fire.
    if (!maker->in_child) {
      EXPECT_EQ(faults.fired(0), 1u) << rule;
    }
    if (c.error == 0) {
      EXPECT_EQ(o.ret, 7) << rule;
    } else {
      switch (info.failure) {
        case FailureStyle::kReturnsErrno:
          EXPECT_EQ(o.ret, c.error) << rule;
          break;
        case FailureStyle::kSigErrErrno:
          EXPECT_EQ(o.ret, reinterpret_cast<long>(SIG_ERR)) << rule;
          EXPECT_EQ(o.err, c.error) << rule;
          break;
        default:
          EXPECT_EQ(o.ret, -1) << rule;
          EXPECT_EQ(o.err, c.error) << rule;
          break;
      }
    }
  }
  if (maker->blocks_unless_failed) return;  // pause: nothing wakes it
  const ReachOutcome o = maker->make();
  EXPECT_TRUE(maker->succeeded(o)) << c.maker << " without a rule returned " << o.ret
                                   << ", errno " << o.err;
}

INSTANTIATE_TEST_SUITE_P(EveryErrorOfEveryNewCall, ReachTest, testing::ValuesIn(AllCases()),
                         CaseName);

// The exec family, in this very process: a rule fails the exec, and the
// process is still there to see -1 and the errno, with the fire recorded
// under the name the program called. Were a rule not to fire, this process
// would become /bin/false, and the test fail by its exit status.
TEST(ExecInProcess, AFailedExecReturnsToTheCallerWithTheRulesErrno) {
  char* const argv[] = {const_cast<char*>("false"), nullptr};
  struct Case {
    const char* rule;
    Call call;
    int error;
    int (*exec)(char* const argv[]);
  };
  const Case cases[] = {
      {"execve:error=ENOENT", Call::kExecve, ENOENT,
       [](char* const a[]) { return ::execve("/bin/false", a, environ); }},
      {"execvp:error=EACCES", Call::kExecvp, EACCES,
       [](char* const a[]) { return ::execvp("false", a); }},
      {"execl:error=E2BIG", Call::kExecl, E2BIG,
       [](char* const*) { return ::execl("/bin/false", "false", nullptr); }},
      {"execle:error=ETXTBSY", Call::kExecle, ETXTBSY,
       [](char* const*) { return ::execle("/bin/false", "false", nullptr, environ); }},
  };
  for (const Case& c : cases) {
    ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults, ipcfault::Arm(c.rule));
    errno = 0;
    EXPECT_EQ(c.exec(argv), -1) << c.rule;
    EXPECT_EQ(errno, c.error) << c.rule;
    EXPECT_EQ(faults.fired(0), 1u) << c.rule;
    const std::vector<ipcfault::FaultRecord> records = faults.records();
    ASSERT_EQ(records.size(), 1u) << c.rule;
    EXPECT_EQ(records[0].call, c.call) << c.rule;
  }
}

// Decision (docs/fidelity.md): each exec entry point is its own call. A
// rule on execv does not catch execl, which gathers its arguments and makes
// the real execv beneath its own rules (glibc's execl calls no execv
// either); a rule on execl does not catch execv.
TEST(ExecInProcess, ARuleOnExecvLeavesExeclAlone) {
  ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults, ipcfault::Arm("execv:error=ENOENT"));
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl("/bin/true", "true", nullptr);
    ::_exit(100);  // the exec failed
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "execl did not run /bin/true: status " << status;
}

// %exec is the exec whatever the entry point (strace's execve): each fails
// in its own way.
TEST(ExecInProcess, ExecSetFailsEveryEntryPoint) {
  ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults, ipcfault::Arm("%exec:error=ENOENT"));
  char* const argv[] = {const_cast<char*>("false"), nullptr};
  errno = 0;
  EXPECT_EQ(::execv("/bin/false", argv), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(::execlp("false", "false", nullptr), -1);
  EXPECT_EQ(errno, ENOENT);
  pid_t pid = -7;
  errno = 0;
  EXPECT_EQ(::posix_spawn(&pid, "/bin/false", nullptr, nullptr, argv, environ), ENOENT);
  EXPECT_EQ(errno, 0);
  EXPECT_EQ(faults.fired(0), 3u);
}

// RealSys's Execl, Execlp and Execle make the variadic calls with argv's
// entries (a rule on execl sees Sys::Execl), envp included; past 32
// arguments the same exec through execv.
TEST(ExecInProcess, RealSysExeclPassesArgvOneByOne) {
  ipcfault::Sys& sys = ipcfault::RealSys();
  char* const argv[] = {const_cast<char*>("false"), nullptr};
  {
    ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults,
                         ipcfault::Arm("execl,execlp,execle:error=EPERM"));
    errno = 0;
    EXPECT_EQ(sys.Execl("/bin/false", argv), -1);
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(sys.Execlp("false", argv), -1);
    EXPECT_EQ(sys.Execle("/bin/false", argv, environ), -1);
    EXPECT_EQ(faults.fired(0), 3u);
  }
  // In children: the shell sees each argument and the environment given.
  char* const env[] = {const_cast<char*>("X=y"), nullptr};
  std::vector<std::string> many = {"sh", "-c", "test \"$X$0$#\" = yz33", "z"};
  for (int i = 0; i < 33; ++i) many.push_back("a");  // 37 in all: past 32
  std::vector<char*> many_argv;
  for (std::string& a : many) many_argv.push_back(a.data());
  many_argv.push_back(nullptr);
  char* const few_argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"),
                            const_cast<char*>("test \"$X$0$#\" = yz1"), const_cast<char*>("z"),
                            const_cast<char*>("b"), nullptr};
  for (char* const* args : {static_cast<char* const*>(few_argv),
                            static_cast<char* const*>(many_argv.data())}) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      sys.Execle("/bin/sh", args, env);
      ::_exit(100);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
}

// posix_spawn fails as it does: the error number returned, errno untouched,
// no child made. With the rule gone, the same call spawns /bin/true.
TEST(SpawnInProcess, AFailedSpawnReturnsTheErrorAndMakesNoChild) {
  char* const argv[] = {const_cast<char*>("true"), nullptr};
  for (const char* rule : {"posix_spawn:error=EAGAIN", "posix_spawnp:error=ENOENT"}) {
    const bool search = rule[11] == 'p';
    const int error = search ? ENOENT : EAGAIN;
    auto spawn = [&](pid_t* pid) {
      return search ? ::posix_spawnp(pid, "true", nullptr, nullptr, argv, environ)
                    : ::posix_spawn(pid, "/bin/true", nullptr, nullptr, argv, environ);
    };
    {
      ASSERT_OK_AND_ASSIGN(ipcfault::ScopedFaults faults, ipcfault::Arm(rule));
      pid_t pid = -7;
      errno = 0;
      EXPECT_EQ(spawn(&pid), error) << rule;
      EXPECT_EQ(errno, 0) << rule << ": errno must not change";
      EXPECT_EQ(faults.fired(0), 1u) << rule;
      siginfo_t info = {};
      errno = 0;
      EXPECT_EQ(::waitid(P_ALL, 0, &info, WEXITED | WNOHANG), -1) << rule << ": a child exists";
      EXPECT_EQ(errno, ECHILD) << rule;
    }
    pid_t pid = -7;
    ASSERT_EQ(spawn(&pid), 0) << rule;
    ASSERT_GT(pid, 0) << rule;
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid) << rule;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << rule;
  }
}

}  // namespace
