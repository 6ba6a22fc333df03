#include "ipcfault/inject/cli/fire_summary.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ipcfault::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

constexpr char kLine[] =
    R"({"time":"2026-11-25T01:02:03.000000001Z","pid":41,"tid":42,)"
    R"("call":"connect","rule":0,"rule_text":"connect:error=ECONNREFUSED:when=1",)"
    R"("action":"error","errno":"ECONNREFUSED","fd":3,"ordinal":1})";

TEST(ParseFlatJsonObject, ReadsAFireRecord) {
  auto object = ParseFlatJsonObject(kLine);
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ(std::get<int64_t>(object->at("pid")), 41);
  EXPECT_EQ(std::get<int64_t>(object->at("fd")), 3);
  EXPECT_EQ(std::get<std::string>(object->at("call")), "connect");
  EXPECT_EQ(std::get<std::string>(object->at("errno")), "ECONNREFUSED");
  EXPECT_EQ(object->size(), 10u);
}

TEST(ParseFlatJsonObject, EscapesNullAndNegatives) {
  auto object = ParseFlatJsonObject(
      R"({"a":"q\"b\\s\/\n\t\u0001\u00e9","b":null,"c":-1})");
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ(std::get<std::string>(object->at("a")), "q\"b\\s/\n\t\x01\xc3\xa9");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(object->at("b")));
  EXPECT_EQ(std::get<int64_t>(object->at("c")), -1);
  EXPECT_TRUE(ParseFlatJsonObject("{}").has_value());
}

TEST(ParseFlatJsonObject, RejectsAnythingElse) {
  for (const char* bad : {
           "", "{", "}", "{\"a\":1", "{\"a\":1}x", "{\"a\":1,}", "{\"a\" 1}",
           "{\"a\":[1]}", "{\"a\":{}}", "{\"a\":\"x}", "{\"a\":\"\\q\"}",
           "{\"a\":\"\\u12g4\"}", "{\"a\":1,\"a\":2}", "{a:1}", "{\"a\":-}",
           "{\"a\":1.5}", "{\"a\":true}", "{\"a\":\"\x01\"}",
           " {\"a\":1}", "{\"a\":99999999999999999999}"}) {
    EXPECT_FALSE(ParseFlatJsonObject(bad).has_value()) << bad;
  }
}

TEST(CountFires, CountsPerRuleAndProcess) {
  std::string log;
  auto add = [&](int pid, int rule) {
    log += R"({"pid":)" + std::to_string(pid) + R"(,"rule":)" +
           std::to_string(rule) + "}\n";
  };
  add(10, 0);
  add(11, 0);
  add(10, 0);
  add(10, 2);
  add(10, 7);          // no such rule
  log += "garbage\n";  // malformed
  log += R"({"pid":10,"rule":0})";  // no newline: truncated
  FireCounts counts = CountFires(log, 3);
  ASSERT_EQ(counts.rules.size(), 3u);
  EXPECT_EQ(counts.rules[0].fired, 3u);
  EXPECT_THAT(counts.rules[0].pids, ElementsAre(10, 11));
  EXPECT_EQ(counts.rules[1].fired, 0u);
  EXPECT_EQ(counts.rules[2].fired, 1u);
  EXPECT_EQ(counts.lines, 7u);
  EXPECT_EQ(counts.malformed, 2u);
  EXPECT_EQ(counts.unknown_rule, 1u);

  EXPECT_EQ(FormatSummary({"a:error=EPERM", "b:error=EIO", "c:short=1"}, counts),
            "ipcfault: rule 0 a:error=EPERM: fired 3 times (2 processes)\n"
            "ipcfault: rule 1 b:error=EIO: never fired\n"
            "ipcfault: rule 2 c:short=1: fired 1 time (1 process)\n"
            "ipcfault: warning: the fire log has 3 line(s) that are not "
            "records of these rules\n");
}

TEST(CountFires, CountsOnlyItsOwnRunInASharedLog) {
  const std::string log =
      R"({"run":"1-a","pid":10,"rule":0})" "\n"
      R"({"run":"2-b","pid":20,"rule":0})" "\n"
      R"({"run":"2-b","pid":20,"rule":0})" "\n"
      R"({"pid":30,"rule":0})" "\n";  // a preload run by hand: no tag
  FireCounts mine = CountFires(log, 1, "1-a");
  EXPECT_EQ(mine.rules[0].fired, 1u);
  EXPECT_THAT(mine.rules[0].pids, ElementsAre(10));
  EXPECT_EQ(mine.other_runs, 3u);
  EXPECT_EQ(mine.malformed, 0u);
  EXPECT_EQ(FormatSummary({"a:error=EPERM"}, mine),
            "ipcfault: rule 0 a:error=EPERM: fired 1 time (1 process)\n");

  FireCounts theirs = CountFires(log, 1, "2-b");
  EXPECT_EQ(theirs.rules[0].fired, 2u);

  FireCounts untagged = CountFires(log, 1);  // no run: every record counts
  EXPECT_EQ(untagged.rules[0].fired, 4u);
}

TEST(CountFires, EmptyLog) {
  FireCounts counts = CountFires("", 1);
  EXPECT_EQ(counts.lines, 0u);
  EXPECT_EQ(FormatSummary({"x:error=EPERM"}, counts),
            "ipcfault: rule 0 x:error=EPERM: never fired\n");
}

}  // namespace
}  // namespace ipcfault::cli
