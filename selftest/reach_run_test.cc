// selftest/reach_run_test.cc
//
// Issue 12's calls under `ipcfault run`: a rule on each call the issue added
// fires in an unmodified program that makes it (//selftest:reach_probe,
// through the preload library), with the errno the rule names and the
// call's contract kept; the same program without a rule gets the kernel's
// success.

#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/scenario.h"
#include "ipcfault/selftest/ipcfault_test_util.h"
#include "ipcfault/selftest/reach_calls.h"

namespace ipcfault {
namespace {

using ipcfault_selftest::ReachCall;
using ipcfault_selftest::ReachCalls;
using selftest::Result;
using selftest::RunIpcfault;
using selftest::Runfile;

std::string RuleCallOf(const std::string& maker) {
  if (maker.rfind("__", 0) == 0 && maker.size() > 6 &&
      maker.compare(maker.size() - 4, 4, "_chk") == 0) {
    return maker.substr(2, maker.size() - 6);
  }
  return maker;
}

const std::string& Probe() {
  static const std::string* path = new std::string(Runfile("selftest/reach_probe"));
  return *path;
}

std::vector<std::string> Makers() {
  std::vector<std::string> names;
  for (const ReachCall& call : ReachCalls()) names.push_back(call.name);
  return names;
}

std::string TestName(const testing::TestParamInfo<std::string>& info) {
  return info.param.rfind("__", 0) == 0 ? "fortified" + info.param : info.param;
}

class ReachRunTest : public testing::TestWithParam<std::string> {};

TEST_P(ReachRunTest, RuleFiresInAProgramThatMakesTheCall) {
  const std::string& maker = GetParam();
  const std::string call_name = RuleCallOf(maker);
  const Call call = *CallByName(call_name);
  const CallInfo& info = GetCallInfo(call);
  // The call's last documented error (or retval= for one that cannot fail).
  const int error = info.errors.empty() ? 0 : info.errors.back();
  const std::string rule =
      error != 0 ? absl::StrCat(call_name, ":error=", ErrorName(call, error), ":when=1")
                 : absl::StrCat(call_name, ":retval=7:when=1");
  Result r = RunIpcfault({"run", "-e", rule, "--", Probe(), maker});
  ASSERT_EQ(r.exit_code(), 0) << r;
  std::string expected;
  if (error == 0) {
    expected = absl::StrCat(maker, " ret=7 ");
  } else if (info.failure == FailureStyle::kReturnsErrno) {
    expected = absl::StrCat(maker, " ret=", error, " ");
  } else if (info.failure == FailureStyle::kSigErrErrno) {
    expected = absl::StrCat(maker, " ret=", reinterpret_cast<long>(SIG_ERR), " errno=", error);
  } else {
    expected = absl::StrCat(maker, " ret=-1 errno=", error);
  }
  EXPECT_NE(r.out.find(expected), std::string::npos) << rule << "\n" << r;
  EXPECT_NE(r.err.find(absl::StrCat(rule, ": fired 1 time")), std::string::npos) << r;
}

INSTANTIATE_TEST_SUITE_P(EveryNewCall, ReachRunTest, testing::ValuesIn(Makers()), TestName);

}  // namespace
}  // namespace ipcfault
