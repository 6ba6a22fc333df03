// docs/calls.md shows the call table; this test keeps it equal to the table
// in call.cc. On a mismatch it prints the text the doc should hold.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/scenario.h"

namespace ipcfault {
namespace {

std::string Failure(FailureStyle style) {
  switch (style) {
    case FailureStyle::kMinusOneErrno:
      return "-1, errno";
    case FailureStyle::kReturnsErrno:
      return "the errno value";
    case FailureStyle::kNonzeroErrno:
      return "nonzero, errno";
    case FailureStyle::kEaiCode:
      return "an EAI_* code";
    case FailureStyle::kNullHErrno:
      return "NULL, h_errno";
    case FailureStyle::kSigErrErrno:
      return "SIG_ERR, errno";
    case FailureStyle::kCannotFail:
      return "cannot fail";
  }
  return "?";
}

std::string Table() {
  std::string out =
      "| call | sets | failure returns | keys besides the common ones | default fd= | "
      "documented errors |\n"
      "|---|---|---|---|---|---|\n";
  for (const CallInfo& info : AllCalls()) {
    std::vector<std::string> sets;
    if (info.sets & kSetNet) sets.push_back("%net");
    if (info.sets & kSetIo) sets.push_back("%io");
    if (info.sets & kSetSignal) sets.push_back("%signal");
    if (info.sets & kSetProcess) sets.push_back("%process");
    if (info.sets & kSetPoll) sets.push_back("%poll");
    std::vector<std::string> keys;
    if (info.keys & kKeyShort) keys.push_back("short");
    if (info.keys & kKeyFd) keys.push_back("fd");
    if (info.keys & kKeyPort) keys.push_back("port");
    if (info.keys & kKeySig) keys.push_back("sig");
    if (!(info.keys & kKeyError)) keys.push_back("(no error)");
    if (!(info.keys & kKeyRetval)) keys.push_back("(no retval)");
    if (!(info.keys & kKeyDelayExit)) keys.push_back("(no delay_exit)");
    std::vector<std::string> errors;
    for (int e : info.errors) errors.push_back(ErrorName(info.call, e));
    std::string fd = !(info.keys & kKeyFd) ? "" : info.defaults_to_socket_fds ? "socket" : "any";
    absl::StrAppend(&out, "| ", info.name, " | ", absl::StrJoin(sets, " "), " | ",
                    Failure(info.failure), " | ", absl::StrJoin(keys, " "), " | ", fd, " | ",
                    absl::StrJoin(errors, " "), " |\n");
  }
  return out;
}

TEST(CallsDocTest, DocShowsTheCallTable) {
  std::ifstream in("docs/calls.md");
  ASSERT_TRUE(in) << "docs/calls.md is missing from the runfiles";
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string doc = buffer.str();
  const std::string begin = "<!-- BEGIN CALL TABLE (generated; inject/calls_doc_test.cc) -->\n";
  const std::string end = "<!-- END CALL TABLE -->";
  size_t from = doc.find(begin);
  size_t to = doc.find(end);
  ASSERT_NE(from, std::string::npos) << "docs/calls.md lacks the line " << begin;
  ASSERT_NE(to, std::string::npos) << "docs/calls.md lacks the line " << end;
  from += begin.size();
  EXPECT_EQ(doc.substr(from, to - from), Table())
      << "docs/calls.md's table is out of date; it should read:\n"
      << Table();
}

}  // namespace
}  // namespace ipcfault
