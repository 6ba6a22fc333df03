// The process seed of p= rules: IPCFAULT_SEED, or a fresh seed printed once
// to stderr that repeats the run when given back as IPCFAULT_SEED. The seed
// is resolved once per process, so each case runs in a forked child.

#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/arming.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault::inject_internal {
namespace {

using ::ipcfault::IsOk;
using ::ipcfault::StatusIs;
using ::testing::HasSubstr;

constexpr int kCalls = 64;

Rule CoinFlip(std::optional<uint64_t> seed) {
  Rule rule;
  rule.calls = MaskOf(Call::kConnect);
  rule.action = Action::kError;
  rule.error = ECONNREFUSED;
  rule.probability = 0.5;
  rule.seed = seed;
  return rule;
}

std::string ExpectedPattern(uint64_t seed) {
  std::string pattern;
  for (uint64_t ordinal = 1; ordinal <= kCalls; ++ordinal) {
    pattern += ProbabilityDraw(seed, 0, ordinal, 0.5) ? '1' : '0';
  }
  return pattern;
}

struct ChildOutput {
  int exit_code = -1;
  std::string out;   // what the child wrote to the result pipe
  std::string err;   // its stderr
};

std::string ReadAll(int fd) {
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

// Runs `body` in a forked child with stderr captured; `body` writes its
// result to the fd it is given and returns the exit code.
ChildOutput RunInChild(const std::function<int(int out_fd)>& body) {
  ChildOutput output;
  int out[2], err[2];
  if (pipe(out) != 0) return output;
  if (pipe(err) != 0) {
    close(out[0]);
    close(out[1]);
    return output;
  }
  pid_t child = fork();
  if (child == 0) {
    close(out[0]);
    close(err[0]);
    dup2(err[1], STDERR_FILENO);
    close(err[1]);
    _exit(body(out[1]));
  }
  close(out[1]);
  close(err[1]);
  if (child > 0) {
    // Small outputs: reading one pipe to its end cannot block the other.
    output.out = ReadAll(out[0]);
    output.err = ReadAll(err[0]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  close(out[0]);
  close(err[0]);
  return output;
}

// In the child: arms `rule` twice over (two groups), decides kCalls connects
// against the first and writes the fire pattern.
int ArmAndWritePattern(int out_fd, const Rule& rule) {
  auto group = std::make_shared<RuleGroup>(std::vector<Rule>{rule}, std::vector<std::string>());
  if (!ArmGroup(group).ok()) return 2;
  auto again = std::make_shared<RuleGroup>(std::vector<Rule>{rule}, std::vector<std::string>());
  if (!ArmGroup(again).ok()) return 3;
  std::string pattern;
  CallSite site;
  site.call = Call::kConnect;
  for (int i = 0; i < kCalls; ++i) pattern += Decide(site).fired ? '1' : '0';
  DisarmGroup(*again);
  DisarmGroup(*group);
  if (write(out_fd, pattern.data(), pattern.size()) != static_cast<ssize_t>(pattern.size())) {
    return 4;
  }
  return 0;
}

TEST(EngineSeedTest, FreshSeedIsPrintedOnceAndRepeatsTheRun) {
  ChildOutput first = RunInChild([](int out_fd) {
    unsetenv("IPCFAULT_SEED");
    return ArmAndWritePattern(out_fd, CoinFlip(std::nullopt));
  });
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // One line, however many rules needed the seed.
  const std::string prefix = "ipcfault: IPCFAULT_SEED=";
  ASSERT_EQ(first.err.rfind(prefix, 0), 0u) << first.err;
  EXPECT_EQ(first.err.find(prefix, 1), std::string::npos) << first.err;
  const size_t end = first.err.find(' ', prefix.size());
  uint64_t seed = 0;
  ASSERT_TRUE(absl::SimpleAtoi(first.err.substr(prefix.size(), end - prefix.size()), &seed))
      << first.err;
  // docs/engine.md shows the same note (with another number).
  std::ifstream doc("docs/engine.md");
  ASSERT_TRUE(doc) << "docs/engine.md is missing from the runfiles";
  const std::string note_rest = first.err.substr(end, first.err.find('\n') - end);
  bool documented = false;
  for (std::string line; std::getline(doc, line);) {
    if (line.rfind(prefix, 0) == 0 && line.size() > note_rest.size() &&
        line.compare(line.size() - note_rest.size(), note_rest.size(), note_rest) == 0) {
      documented = true;
    }
  }
  EXPECT_TRUE(documented) << "docs/engine.md should show: " << first.err;
  EXPECT_EQ(first.out, ExpectedPattern(seed));

  ChildOutput repeat = RunInChild([seed](int out_fd) {
    setenv("IPCFAULT_SEED", std::to_string(seed).c_str(), 1);
    return ArmAndWritePattern(out_fd, CoinFlip(std::nullopt));
  });
  ASSERT_EQ(repeat.exit_code, 0) << repeat.err;
  EXPECT_EQ(repeat.err, "");  // a given seed is not printed
  EXPECT_EQ(repeat.out, first.out);
}

TEST(EngineSeedTest, EnvironmentSeedIsUsed) {
  ChildOutput child = RunInChild([](int out_fd) {
    setenv("IPCFAULT_SEED", "0x2a", 1);
    absl::StatusOr<uint64_t> seed = ProcessSeed();
    if (!seed.ok() || *seed != 42) return 5;
    return ArmAndWritePattern(out_fd, CoinFlip(std::nullopt));
  });
  ASSERT_EQ(child.exit_code, 0) << child.err;
  EXPECT_EQ(child.out, ExpectedPattern(42));
  EXPECT_EQ(child.err, "");
}

TEST(EngineSeedTest, RuleSeedNeedsNoProcessSeed) {
  ChildOutput child = RunInChild([](int out_fd) {
    unsetenv("IPCFAULT_SEED");
    return ArmAndWritePattern(out_fd, CoinFlip(uint64_t{7}));
  });
  ASSERT_EQ(child.exit_code, 0) << child.err;
  EXPECT_EQ(child.out, ExpectedPattern(7));
  EXPECT_EQ(child.err, "");  // nothing needed a fresh seed
}

TEST(EngineSeedTest, MalformedEnvironmentSeedArmsNothing) {
  ChildOutput child = RunInChild([](int out_fd) {
    setenv("IPCFAULT_SEED", "12abc", 1);
    auto group = std::make_shared<RuleGroup>(std::vector<Rule>{CoinFlip(std::nullopt)},
                                             std::vector<std::string>());
    absl::Status status = ArmGroup(group);
    std::string message(status.message());
    (void)!write(out_fd, message.data(), message.size());
    if (status.code() != absl::StatusCode::kInvalidArgument) return 6;
    return AnythingArmed() || ArmedRuleCount() != 0 ? 7 : 0;
  });
  ASSERT_EQ(child.exit_code, 0) << child.out;
  EXPECT_EQ(child.out, "IPCFAULT_SEED: '12abc' is not an unsigned 64-bit number");
}

TEST(EngineDocTest, RingSizeIsDocumented) {
  std::ifstream doc("docs/engine.md");
  ASSERT_TRUE(doc) << "docs/engine.md is missing from the runfiles";
  const std::string text((std::istreambuf_iterator<char>(doc)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("**" + std::to_string(kFiredRingSize) + "** slots"));
}

TEST(ParseSeedTest, AcceptsDecimalAndHex) {
  EXPECT_THAT(ParseSeed("0"), IsOk());
  EXPECT_EQ(*ParseSeed("0"), 0u);
  EXPECT_EQ(*ParseSeed("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(*ParseSeed("0xFF"), 255u);
  EXPECT_EQ(*ParseSeed(" 12 "), 12u);
}

TEST(ParseSeedTest, RejectsTheRest) {
  for (const char* bad : {"", "-1", "+1", "1.5", "18446744073709551616", "0x", "0x-1", "seven",
                          "1 2"}) {
    EXPECT_THAT(ParseSeed(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("is not an unsigned 64-bit number")))
        << bad;
  }
}

}  // namespace
}  // namespace ipcfault::inject_internal
