// docs/calls.md is generated: `ipcfault calls --markdown` prints it from the
// call spec (inject/cli/calls_markdown.cc). This test keeps the file equal to
// what the command prints; on a mismatch it shows the text the file should
// hold.

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/cli/calls_markdown.h"

namespace ipcfault {
namespace {

TEST(CallsDocTest, DocIsWhatCallsMarkdownPrints) {
  std::ifstream in("docs/calls.md");
  ASSERT_TRUE(in) << "docs/calls.md is missing from the runfiles";
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string markdown = cli::CallsMarkdown();
  EXPECT_EQ(buffer.str(), markdown)
      << "docs/calls.md is out of date; regenerate it with\n"
      << "  bazel run //:ipcfault -- calls --markdown > docs/calls.md\n"
      << "It should read:\n"
      << markdown;
}

// The rendering reads the declared lists: every call, set and key appears.
TEST(CallsDocTest, EveryCallSetAndKeyIsInTheDoc) {
  const std::string markdown = cli::CallsMarkdown();
  for (const CallInfo& info : AllCalls()) {
    EXPECT_NE(markdown.find("\n| " + std::string(info.name) + " | "), std::string::npos)
        << info.name;
  }
  for (const CallSetInfo& set : AllCallSets()) {
    EXPECT_NE(markdown.find("| `" + std::string(set.name) + "` | "), std::string::npos)
        << set.name;
  }
  for (const KeyInfo& key : AllKeys()) {
    EXPECT_NE(markdown.find("| `" + std::string(key.name) + "=` | "), std::string::npos)
        << key.name;
  }
}

}  // namespace
}  // namespace ipcfault
