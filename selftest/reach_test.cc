// selftest/reach_test.cc
//
// Issue 12's calls, linked in: for every call the issue added and every error
// its row documents, a rule `CALL:error=E:when=1` makes the real call (on
// real resources: selftest/reach_calls.cc) fail exactly as the call's
// contract says (-1 and errno, the error number returned, SIG_ERR and
// errno), the rule counts one fire, and with the rule gone the same call
// succeeds against the kernel again.

#include <errno.h>
#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/faults.h"
#include "ipcfault/inject/scenario.h"
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

}  // namespace
