#include "ipcfault/inject/internal/fire_log.h"

#include <fcntl.h>
#include <netdb.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <variant>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/engine.h"

namespace ipcfault::inject_internal {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

FiredFault ConnectRefused() {
  FiredFault fault = {};
  fault.call = Call::kConnect;
  fault.rule_index = 0;
  fault.rule_text = "connect:error=ECONNREFUSED:when=1";
  fault.action = Action::kError;
  fault.error = ECONNREFUSED;
  fault.fd = 3;
  fault.pid = 4242;
  fault.tid = 4243;
  fault.ordinal = 1;
  fault.time_ns = 1795568523123456789;  // 2026-11-25T01:02:03.123456789Z
  return fault;
}

std::string Format(const FiredFault& fault) {
  char buf[kFireLineMax];
  size_t n = FormatFireLine(fault, buf, sizeof(buf));
  EXPECT_LE(n, sizeof(buf));
  return std::string(buf, n);
}

TEST(FormatFireLine, ErrorFault) {
  EXPECT_EQ(Format(ConnectRefused()),
            R"({"time":"2026-11-25T01:02:03.123456789Z","pid":4242,"tid":4243,)"
            R"("call":"connect","rule":0,"rule_text":"connect:error=ECONNREFUSED:when=1",)"
            R"("action":"error","errno":"ECONNREFUSED","fd":3,"ordinal":1})"
            "\n");
}

TEST(FormatFireLine, TagsTheRunWhenGivenOne) {
  char buf[kFireLineMax];
  size_t n = FormatFireLine(ConnectRefused(), buf, sizeof(buf), "123-00ff00ff00ff00ff");
  EXPECT_EQ(std::string(buf, n),
            R"({"time":"2026-11-25T01:02:03.123456789Z","run":"123-00ff00ff00ff00ff",)"
            R"("pid":4242,"tid":4243,)"
            R"("call":"connect","rule":0,"rule_text":"connect:error=ECONNREFUSED:when=1",)"
            R"("action":"error","errno":"ECONNREFUSED","fd":3,"ordinal":1})"
            "\n");
  n = FormatFireLine(ConnectRefused(), buf, sizeof(buf), "");
  EXPECT_EQ(std::string(buf, n), Format(ConnectRefused()));
}

TEST(FormatFireLine, OtherActionsHaveNullErrno) {
  FiredFault fault = ConnectRefused();
  fault.call = Call::kRead;
  fault.rule_index = 12;
  fault.rule_text = "read:short=1";
  fault.action = Action::kShort;
  fault.fd = -1;
  fault.ordinal = 18446744073709551615u;
  fault.time_ns = 0;
  EXPECT_EQ(Format(fault),
            R"({"time":"1970-01-01T00:00:00.000000000Z","pid":4242,"tid":4243,)"
            R"("call":"read","rule":12,"rule_text":"read:short=1",)"
            R"("action":"short","errno":null,"fd":-1,"ordinal":18446744073709551615})"
            "\n");
  fault.action = Action::kRetval;
  EXPECT_THAT(Format(fault), HasSubstr(R"("action":"retval","errno":null)"));
  fault.action = Action::kNone;
  EXPECT_THAT(Format(fault), HasSubstr(R"("action":"none","errno":null)"));
}

TEST(FormatFireLine, ErrorNamesFollowTheCallsFailureStyle) {
  FiredFault fault = ConnectRefused();
  fault.call = Call::kGetaddrinfo;
  fault.error = EAI_AGAIN;
  EXPECT_THAT(Format(fault), HasSubstr(R"("errno":"EAI_AGAIN")"));
  fault.call = Call::kGethostbyname;
  fault.error = HOST_NOT_FOUND;
  EXPECT_THAT(Format(fault), HasSubstr(R"("errno":"HOST_NOT_FOUND")"));
  fault.call = Call::kConnect;
  fault.error = 99999;  // no name: the number
  EXPECT_THAT(Format(fault), HasSubstr(R"("errno":99999,)"));
}

TEST(FormatFireLine, LeapDayAndCenturies) {
  FiredFault fault = ConnectRefused();
  fault.time_ns = int64_t{951782400} * 1000000000 + 5;  // 2000-02-29
  EXPECT_THAT(Format(fault), HasSubstr(R"("time":"2000-02-29T00:00:00.000000005Z")"));
  fault.time_ns = int64_t{4107542399} * 1000000000;  // 2100-02-28T23:59:59
  EXPECT_THAT(Format(fault), HasSubstr(R"("time":"2100-02-28T23:59:59.000000000Z")"));
}

TEST(FormatFireLine, RuleTextIsEscaped) {
  FiredFault fault = ConnectRefused();
  fault.rule_text = "a\"b\\c\nd\x01";
  EXPECT_THAT(Format(fault), HasSubstr(R"("rule_text":"a\"b\\c\u000ad\u0001",)"));
}

TEST(FormatFireLine, LongRuleTextIsCutAndTheLineStaysWhole) {
  FiredFault fault = ConnectRefused();
  std::string text(5000, 'x');
  // A multi-byte character straddling the cut must not be split.
  for (size_t i = 1; i + 1 < text.size(); i += 2) {
    text[i - 1] = '\xc3';
    text[i] = '\xa9';
  }
  fault.rule_text = text.c_str();
  std::string line = Format(fault);
  EXPECT_LE(line.size(), kFireLineMax);
  EXPECT_THAT(line, EndsWith(R"(...","action":"error","errno":"ECONNREFUSED","fd":3,"ordinal":1})"
                             "\n"));
  size_t start = line.find(R"("rule_text":")") + 13;
  size_t end = line.find(R"(...")");
  ASSERT_LT(start, end);
  EXPECT_EQ((end - start) % 2, 0u) << "cut inside a UTF-8 sequence";
}

TEST(FormatFireLine, LongestFieldsFitTheBuffer) {
  FiredFault fault = ConnectRefused();
  std::string text(5000, '"');  // every byte doubles when escaped
  fault.rule_text = text.c_str();
  fault.pid = -2147483647 - 1;
  fault.tid = -2147483647 - 1;
  fault.fd = -2147483647 - 1;
  fault.rule_index = 4294967295u;
  fault.ordinal = 18446744073709551615u;
  fault.call = Call::kPidfdSendSignal;
  fault.error = -2147483647 - 1;
  fault.time_ns = 9223372036854775807;
  std::string line = Format(fault);
  EXPECT_LE(line.size(), kFireLineMax);
  EXPECT_THAT(line, EndsWith("\"ordinal\":18446744073709551615}\n"));
}

std::string TempPath(const char* name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

std::string ReadAll(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  close(fd);
  return out;
}

TEST(AppendToFile, AppendsAndPreservesErrno) {
  std::string path = TempPath("append.log");
  unlink(path.c_str());
  errno = EXDEV;
  EXPECT_TRUE(AppendToFile(path.c_str(), "one\n", 4));
  EXPECT_TRUE(AppendToFile(path.c_str(), "two\n", 4));
  EXPECT_EQ(errno, EXDEV);
  EXPECT_EQ(ReadAll(path), "one\ntwo\n");
  errno = EXDEV;
  EXPECT_FALSE(AppendToFile("/nonexistent-dir/x.log", "x\n", 2));
  EXPECT_EQ(errno, EXDEV);
}

TEST(AppendToFile, LeavesNoDescriptorOpen) {
  std::string path = TempPath("fds.log");
  int before = open("/dev/null", O_RDONLY | O_CLOEXEC);
  close(before);
  ASSERT_TRUE(AppendToFile(path.c_str(), "x\n", 2));
  int after = open("/dev/null", O_RDONLY | O_CLOEXEC);
  close(after);
  EXPECT_EQ(before, after);  // the lowest free fd is the same
}

TEST(AppendToFile, ConcurrentWritersNeverInterleave) {
  std::string path = TempPath("threads.log");
  unlink(path.c_str());
  constexpr int kThreads = 4;
  constexpr int kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&path, t] {
      FiredFault fault = ConnectRefused();
      std::string text(600, static_cast<char>('a' + t));
      fault.rule_text = text.c_str();
      fault.tid = t;
      char buf[kFireLineMax];
      for (int i = 1; i <= kLines; ++i) {
        fault.ordinal = static_cast<uint64_t>(i);
        size_t n = FormatFireLine(fault, buf, sizeof(buf));
        ASSERT_TRUE(AppendToFile(path.c_str(), buf, n));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::string log = ReadAll(path);
  int lines = 0;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t nl = log.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    std::string line = log.substr(pos, nl - pos);
    ASSERT_THAT(line, MatchesRegex(R"(\{"time":"[^"]*","pid":4242,"tid":[0-3],.*"ordinal":[0-9]+\})"));
    char own = static_cast<char>('a' + (line[line.find("\"tid\":") + 6] - '0'));
    EXPECT_THAT(line, HasSubstr("\"rule_text\":\"" + std::string(600, own) + "\""));
    ++lines;
    pos = nl + 1;
  }
  EXPECT_EQ(lines, kThreads * kLines);
}

// One codec: every line FormatFireLine writes, ParseFireLine reads back to
// the same fields; anything short of a whole record is refused.
TEST(ParseFireLine, ReadsBackWhatFormatFireLineWrote) {
  FiredFault fault = ConnectRefused();
  fault.rule_text = "with \"quotes\", a \\ and a \n";
  std::string line = Format(fault);
  ASSERT_FALSE(line.empty());
  line.pop_back();  // the '\n'
  std::optional<FireLogLine> read = ParseFireLine(line);
  ASSERT_TRUE(read.has_value()) << line;
  EXPECT_EQ(read->time, "2026-11-25T01:02:03.123456789Z");
  EXPECT_EQ(read->run, "");
  EXPECT_EQ(read->pid, 4242);
  EXPECT_EQ(read->tid, 4243);
  EXPECT_EQ(read->call, "connect");
  EXPECT_EQ(read->rule, 0u);
  EXPECT_EQ(read->rule_text, fault.rule_text);
  EXPECT_EQ(read->action, "error");
  EXPECT_EQ(std::get<std::string>(read->error), "ECONNREFUSED");
  EXPECT_EQ(read->fd, 3);
  EXPECT_EQ(read->ordinal, 1u);

  char buf[kFireLineMax];
  FiredFault shortened = ConnectRefused();
  shortened.action = Action::kShort;
  size_t n = FormatFireLine(shortened, buf, sizeof(buf), "9-abc");
  read = ParseFireLine(std::string(buf, n - 1));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->run, "9-abc");
  EXPECT_EQ(read->action, "short");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(read->error));

  EXPECT_FALSE(ParseFireLine(R"({"pid":10,"rule":0})").has_value());
  EXPECT_FALSE(ParseFireLine(line + "x").has_value());
  std::string extra = line;
  extra.insert(extra.size() - 1, R"(,"more":1)");
  EXPECT_FALSE(ParseFireLine(extra).has_value());
}

}  // namespace
}  // namespace ipcfault::inject_internal
