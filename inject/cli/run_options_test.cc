#include "ipcfault/inject/cli/run_options.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<RunOptions> Parse(std::vector<std::string> args) {
  return ParseRunOptions(args);
}

TEST(ParseRunOptions, RulesAndScenariosKeepCommandLineOrder) {
  ASSERT_OK_AND_ASSIGN(
      RunOptions options,
      Parse({"-e", "inject=connect:error=ECONNREFUSED:when=1", "--scenario",
             "a.scenario", "--rule=accept:error=EMFILE", "-eread:short=1",
             "-s", "b.scenario", "--", "./client", "--port", "9"}));
  ASSERT_EQ(options.sources.size(), 5u);
  EXPECT_EQ(options.sources[0].kind, RuleSource::Kind::kRule);
  EXPECT_EQ(options.sources[0].text, "inject=connect:error=ECONNREFUSED:when=1");
  EXPECT_EQ(options.sources[1].kind, RuleSource::Kind::kScenarioFile);
  EXPECT_EQ(options.sources[1].text, "a.scenario");
  EXPECT_EQ(options.sources[2].text, "accept:error=EMFILE");
  EXPECT_EQ(options.sources[3].text, "read:short=1");
  EXPECT_EQ(options.sources[4].kind, RuleSource::Kind::kScenarioFile);
  EXPECT_THAT(options.command, ElementsAre("./client", "--port", "9"));
  EXPECT_EQ(options.scope, Scope::kAll);
  EXPECT_FALSE(options.seed.has_value());
  EXPECT_FALSE(options.log.has_value());
  EXPECT_FALSE(options.quiet);
}

TEST(ParseRunOptions, SeedLogScopeQuiet) {
  ASSERT_OK_AND_ASSIGN(
      RunOptions options,
      Parse({"--seed", "18446744073709551615", "--log=/tmp/x.log", "--scope",
             "first", "-q", "--", "prog"}));
  EXPECT_EQ(options.seed, 18446744073709551615u);
  EXPECT_EQ(options.log, "/tmp/x.log");
  EXPECT_EQ(options.scope, Scope::kFirst);
  EXPECT_TRUE(options.quiet);
  EXPECT_THAT(options.command, ElementsAre("prog"));
}

TEST(ParseRunOptions, ArgumentsAfterDoubleDashAreTheProgramsEvenIfTheyLookLikeOptions) {
  ASSERT_OK_AND_ASSIGN(RunOptions options,
                       Parse({"--", "prog", "-e", "--help", "--"}));
  EXPECT_TRUE(options.sources.empty());
  EXPECT_FALSE(options.help);
  EXPECT_THAT(options.command, ElementsAre("prog", "-e", "--help", "--"));
}

TEST(ParseRunOptions, HelpWinsWithoutProgram) {
  ASSERT_OK_AND_ASSIGN(RunOptions options, Parse({"-e", "x", "--help", "--bogus"}));
  EXPECT_TRUE(options.help);
  ASSERT_OK_AND_ASSIGN(options, Parse({"-h"}));
  EXPECT_TRUE(options.help);
}

struct BadCase {
  std::vector<std::string> args;
  std::string message;
};

class ParseRunOptionsBad : public testing::TestWithParam<BadCase> {};

TEST_P(ParseRunOptionsBad, SaysWhatIsWrong) {
  absl::StatusOr<RunOptions> options = Parse(GetParam().args);
  EXPECT_THAT(options, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(options.status().message()),
              HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseRunOptionsBad,
    testing::Values(
        BadCase{{}, "missing '--' and the program"},
        BadCase{{"-e", "connect:error=EPERM"}, "missing '--' and the program"},
        BadCase{{"-e", "connect:error=EPERM", "./client"},
                "missing '--' before the program './client'"},
        BadCase{{"--"}, "no program given after '--'"},
        BadCase{{"-e", "x", "--"}, "no program given after '--'"},
        BadCase{{"--", ""}, "the program name is empty"},
        BadCase{{"--sed", "1", "--", "p"}, "unknown option '--sed'"},
        BadCase{{"-x", "--", "p"}, "unknown option '-x'"},
        BadCase{{"-qx", "--", "p"}, "unknown option '-qx'"},
        BadCase{{"--quiet=yes", "--", "p"}, "option '--quiet' takes no value"},
        BadCase{{"-e"}, "option '-e' requires an argument"},
        BadCase{{"--scenario"}, "option '--scenario' requires an argument"},
        BadCase{{"-e", "", "--", "p"}, "option '-e' needs a rule"},
        BadCase{{"--seed", "-1", "--", "p"}, "invalid seed '-1'"},
        BadCase{{"--seed", "12x", "--", "p"}, "invalid seed '12x'"},
        BadCase{{"--seed", "18446744073709551616", "--", "p"},
                "invalid seed"},
        BadCase{{"--scope", "some", "--", "p"},
                "invalid scope 'some': expected 'all' or 'first'"},
        BadCase{{"--log=", "--", "p"}, "option '--log' needs a file name"}));

}  // namespace
}  // namespace ipcfault::cli
