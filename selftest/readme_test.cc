// Keeps the README's code from drifting: every fenced block whose info
// string names a file (```cpp file=examples/downstream/greeter/greeter_test.cc)
// must appear verbatim in that file — a file that a test compiles or
// runs. Blocks of the scenario language (```scenario) are parsed by
// //inject:scenario_test; every other block of the walk-through must name
// its file.
#include <limits.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

struct Block {
  int line;           // of the opening fence
  std::string info;   // "cpp file=..."
  std::string text;   // the lines between the fences, each '\n'-terminated
  bool in_walkthrough;
};

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The source tree: the README in the runfiles is a symlink into it. The
// downstream workspace is .bazelignore'd (a workspace of its own), so its
// files are read from there rather than declared as data.
std::string SourceRoot() {
  char resolved[PATH_MAX];
  if (realpath("README.md", resolved) == nullptr) return ".";
  std::string path(resolved);
  return path.substr(0, path.rfind('/'));
}

std::vector<Block> Blocks(const std::string& markdown) {
  std::vector<Block> blocks;
  bool in_walkthrough = false;
  Block* open = nullptr;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(markdown, '\n')) {
    ++number;
    if (open == nullptr && absl::StartsWith(line, "## ")) {
      in_walkthrough = absl::StartsWith(line, "## Testing error paths");
    }
    if (absl::StartsWith(line, "```")) {
      if (open == nullptr) {
        blocks.push_back({number, std::string(absl::StripPrefix(line, "```")), "",
                          in_walkthrough});
        open = &blocks.back();
      } else {
        open = nullptr;
      }
      continue;
    }
    if (open != nullptr) absl::StrAppend(&open->text, line, "\n");
  }
  return blocks;
}

std::string FileOf(const Block& block) {
  for (absl::string_view word : absl::StrSplit(block.info, ' ')) {
    if (absl::ConsumePrefix(&word, "file=")) return std::string(word);
  }
  return "";
}

TEST(Readme, EveryBlockThatNamesAFileIsInThatFile) {
  const std::string root = SourceRoot();
  const std::vector<Block> blocks = Blocks(ReadFileOrDie(root + "/README.md"));
  int checked = 0;
  for (const Block& block : blocks) {
    const std::string file = FileOf(block);
    if (file.empty()) continue;
    ++checked;
    const std::string content = ReadFileOrDie(root + "/" + file);
    // Verbatim, but for the block's final newline (a one-line block may
    // quote part of a line, such as a command a script also echoes).
    EXPECT_TRUE(absl::StrContains(content, absl::StripSuffix(block.text, "\n")))
        << "README.md:" << block.line << ": this block is not in " << file
        << " (copy it from there again):\n"
        << block.text;
  }
  EXPECT_GE(checked, 11) << "the walk-through lost its checked examples";
}

TEST(Readme, EveryWalkthroughBlockIsChecked) {
  const std::vector<Block> blocks = Blocks(ReadFileOrDie(SourceRoot() + "/README.md"));
  int in_walkthrough = 0;
  for (const Block& block : blocks) {
    if (!block.in_walkthrough) continue;
    ++in_walkthrough;
    EXPECT_TRUE(!FileOf(block).empty() || absl::StartsWith(block.info, "scenario"))
        << "README.md:" << block.line
        << ": a walk-through block must name the tested file it comes from "
           "(```cpp file=PATH) or be a ```scenario block";
  }
  EXPECT_GT(in_walkthrough, 0) << "no '## Testing error paths' section";
}

}  // namespace
