#include "ipcfault/inject/scenario.h"
#include "ipcfault/inject/names.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault {
namespace {

using ::testing::IsEmpty;

// The calls whose row takes `key`, as the parser lists them ("a, b, c"):
// messages are checked against the table, not a copy of it.
std::string CallsTaking(uint32_t key) {
  std::string out;
  for (const CallInfo& info : AllCalls()) {
    if (info.keys & key) absl::StrAppend(&out, out.empty() ? "" : ", ", info.name);
  }
  return out;
}

// The calls of `set` that take error= in the errno domain.
CallMask ErrnoCallsOf(uint8_t set) {
  CallMask calls = 0;
  for (const CallInfo& info : AllCalls()) {
    if ((info.sets & set) && (info.keys & kKeyError) &&
        info.failure != FailureStyle::kEaiCode && info.failure != FailureStyle::kNullHErrno) {
      calls |= MaskOf(info.call);
    }
  }
  return calls;
}
using ::testing::SizeIs;

// DESIGN.md's scenario block, verbatim (comments included).
constexpr const char* kDesignExamples[] = {
    "connect:error=ECONNREFUSED:when=1..2      # first two connects are refused",
    "accept:error=EMFILE:when=3                # only the third accept",
    "read,recv:error=EINTR:when=2+2            # every other read from the 2nd on",
    "write:delay_enter=20ms                    # strace time format: s ms us ns; bare = us",
    "kill:retval=0                             # pretend kill succeeded",
    "read:signal=SIGUSR1:when=1                # deliver a signal on entry",
    "read:short=1                              # transfer at most 1 byte per call",
    "connect:error=ETIMEDOUT:delay_enter=2s    # combine",
    "recv:error=ECONNRESET:p=0.05:seed=7       # 5% of calls, reproducible",
    "send:error=EPIPE:times=3                  # at most 3 fires",
    "read:error=EIO:fd=pipe                    # filters: fd=socket|pipe|file|any|N",
    "connect:error=ECONNREFUSED:port=9876      # local or peer port",
    "kill:error=EPERM:sig=SIGTERM              # only kills that send SIGTERM",
    "getaddrinfo:error=EAI_AGAIN",
};

// The rule text without its comment and padding: DESIGN.md writes its
// examples canonically.
std::string Uncommented(absl::string_view line) {
  return std::string(absl::StripAsciiWhitespace(line.substr(0, line.find('#'))));
}

TEST(ScenarioTest, EveryDesignExampleParsesAndIsCanonical) {
  for (const char* line : kDesignExamples) {
    SCOPED_TRACE(line);
    ASSERT_OK_AND_ASSIGN(Rule rule, ParseRule(line));
    EXPECT_EQ(FormatRule(rule), Uncommented(line));
  }
}

TEST(ScenarioTest, DesignBlockParsesAsOneScenario) {
  std::string text = "# strace's keys\n";
  for (const char* line : kDesignExamples) absl::StrAppend(&text, line, "\n");
  ASSERT_OK_AND_ASSIGN(std::vector<Rule> rules, ParseScenario(text, "design"));
  ASSERT_THAT(rules, SizeIs(std::size(kDesignExamples)));
  std::string canonical;
  for (const char* line : kDesignExamples) absl::StrAppend(&canonical, Uncommented(line), "\n");
  EXPECT_EQ(FormatScenario(rules), canonical);
}

TEST(ScenarioTest, ParsesWhatDesignSays) {
  ASSERT_OK_AND_ASSIGN(Rule refused, ParseRule("connect:error=ECONNREFUSED:when=1..2"));
  EXPECT_EQ(refused.calls, MaskOf(Call::kConnect));
  EXPECT_EQ(refused.action, Action::kError);
  EXPECT_EQ(refused.error, ECONNREFUSED);
  EXPECT_EQ(refused.when, (When{1, 2, 1}));
  EXPECT_EQ(refused.fd.kind, FdFilter::Kind::kDefault);

  ASSERT_OK_AND_ASSIGN(Rule every_other, ParseRule("read,recv:error=EINTR:when=2+2"));
  EXPECT_EQ(every_other.calls, MaskOf(Call::kRead) | MaskOf(Call::kRecv));
  EXPECT_EQ(every_other.when, (When{2, When::kNoLast, 2}));

  ASSERT_OK_AND_ASSIGN(Rule slow, ParseRule("write:delay_enter=20ms"));
  EXPECT_EQ(slow.action, Action::kNone);
  EXPECT_EQ(slow.delay_enter, absl::Milliseconds(20));
  EXPECT_EQ(slow.when, When{});

  ASSERT_OK_AND_ASSIGN(Rule pretend, ParseRule("kill:retval=0"));
  EXPECT_EQ(pretend.action, Action::kRetval);
  EXPECT_EQ(pretend.retval, 0);

  ASSERT_OK_AND_ASSIGN(Rule signal, ParseRule("read:signal=SIGUSR1:when=1"));
  EXPECT_EQ(signal.signal, SIGUSR1);
  EXPECT_EQ(signal.when, (When{1, 1, 1}));

  ASSERT_OK_AND_ASSIGN(Rule trickle, ParseRule("read:short=1"));
  EXPECT_EQ(trickle.action, Action::kShort);
  EXPECT_EQ(trickle.short_bytes, 1u);

  ASSERT_OK_AND_ASSIGN(Rule random, ParseRule("recv:error=ECONNRESET:p=0.05:seed=7"));
  EXPECT_EQ(random.probability, 0.05);
  EXPECT_EQ(random.seed, 7u);

  ASSERT_OK_AND_ASSIGN(Rule capped, ParseRule("send:error=EPIPE:times=3"));
  EXPECT_EQ(capped.times, 3u);

  ASSERT_OK_AND_ASSIGN(Rule pipe, ParseRule("read:error=EIO:fd=pipe"));
  EXPECT_EQ(pipe.fd, (FdFilter{FdFilter::Kind::kPipe, -1}));

  ASSERT_OK_AND_ASSIGN(Rule port, ParseRule("connect:error=ECONNREFUSED:port=9876"));
  EXPECT_EQ(port.port, 9876);

  ASSERT_OK_AND_ASSIGN(Rule term, ParseRule("kill:error=EPERM:sig=SIGTERM"));
  EXPECT_EQ(term.sig, SIGTERM);

  ASSERT_OK_AND_ASSIGN(Rule lookup, ParseRule("getaddrinfo:error=EAI_AGAIN"));
  EXPECT_EQ(lookup.error, EAI_AGAIN);

  ASSERT_OK_AND_ASSIGN(Rule host, ParseRule("gethostbyname:error=TRY_AGAIN"));
  EXPECT_EQ(host.error, TRY_AGAIN);
}

TEST(ScenarioTest, NamesAndNumbersAreTheSame) {
  auto rule = [](absl::string_view text) {
    absl::StatusOr<Rule> r = ParseRule(text);
    EXPECT_THAT(r, IsOk()) << text;
    return r.ok() ? *r : Rule{};
  };
  EXPECT_EQ(rule("read:error=EINTR"), rule(absl::StrCat("read:error=", EINTR)));
  EXPECT_EQ(rule("read:error=EAGAIN"), rule("read:error=EWOULDBLOCK"));
  EXPECT_EQ(rule("read:signal=SIGUSR1"), rule("read:signal=USR1"));
  EXPECT_EQ(rule("read:signal=SIGUSR1"), rule(absl::StrCat("read:signal=", SIGUSR1)));
  EXPECT_EQ(rule("kill:error=EPERM:sig=TERM"), rule("kill:error=EPERM:sig=15"));
  EXPECT_EQ(rule("read:signal=SIGRTMIN+2").signal, SIGRTMIN + 2);
  EXPECT_EQ(rule("read:signal=SIGRTMAX-1").signal, SIGRTMAX - 1);
  EXPECT_EQ(rule("read:signal=SIGIOT").signal, SIGABRT);
}

TEST(ScenarioTest, DelaysUseStraceTimeFormat) {
  auto delay = [](absl::string_view value) {
    absl::StatusOr<Rule> r = ParseRule(absl::StrCat("write:delay_enter=", value));
    EXPECT_THAT(r, IsOk()) << value;
    return r.ok() ? r->delay_enter : absl::InfiniteDuration();
  };
  EXPECT_EQ(delay("20"), absl::Microseconds(20));  // bare = microseconds
  EXPECT_EQ(delay("20us"), absl::Microseconds(20));
  EXPECT_EQ(delay("20ms"), absl::Milliseconds(20));
  EXPECT_EQ(delay("2s"), absl::Seconds(2));
  EXPECT_EQ(delay("7ns"), absl::Nanoseconds(7));
  EXPECT_EQ(delay("1.5s"), absl::Milliseconds(1500));
  EXPECT_EQ(delay("0.25ms"), absl::Microseconds(250));
  EXPECT_EQ(delay("1.5"), absl::Nanoseconds(1500));
  EXPECT_EQ(delay(".5s"), absl::Milliseconds(500));
  EXPECT_EQ(delay("86400s"), absl::Hours(24));
  EXPECT_EQ(delay("0.000001ms"), absl::Nanoseconds(1));
  EXPECT_EQ(delay("1.000000000000s"), absl::Seconds(1));  // trailing zeros are nothing
  EXPECT_EQ(delay("0.123456789s"), absl::Nanoseconds(123456789));
}

TEST(ScenarioTest, SetsStandForTheirCallsThatAcceptTheRule) {
  ASSERT_OK_AND_ASSIGN(Rule io_short, ParseRule("%io:short=1"));
  CallMask transfer = 0;
  for (const CallInfo& info : AllCalls()) {
    if ((info.sets & kSetIo) && (info.keys & kKeyShort)) transfer |= MaskOf(info.call);
  }
  EXPECT_NE(transfer & MaskOf(Call::kRead), 0u);
  EXPECT_EQ(transfer & MaskOf(Call::kClose), 0u);
  EXPECT_EQ(io_short.calls, transfer);

  ASSERT_OK_AND_ASSIGN(Rule net_eintr, ParseRule("%net:error=EINTR"));
  EXPECT_EQ(net_eintr.calls & MaskOf(Call::kGetaddrinfo), 0u);
  EXPECT_EQ(net_eintr.calls & MaskOf(Call::kGethostbyname), 0u);
  EXPECT_NE(net_eintr.calls & MaskOf(Call::kConnect), 0u);
  EXPECT_NE(net_eintr.calls & MaskOf(Call::kPoll), 0u);

  ASSERT_OK_AND_ASSIGN(Rule net_eai, ParseRule("%net:error=EAI_AGAIN"));
  EXPECT_EQ(net_eai.calls, MaskOf(Call::kGetaddrinfo));

  ASSERT_OK_AND_ASSIGN(Rule all_delay, ParseRule("all:delay_enter=1ms"));
  EXPECT_EQ(all_delay.calls, (CallMask{1} << kCallCount) - 1);

  ASSERT_OK_AND_ASSIGN(Rule process, ParseRule("%process:error=EAGAIN"));
  EXPECT_EQ(process.calls, ErrnoCallsOf(kSetProcess));
  EXPECT_NE(process.calls & MaskOf(Call::kFork), 0u);

  // alarm cannot fail: %signal:error= leaves it out.
  ASSERT_OK_AND_ASSIGN(Rule signal, ParseRule("%signal:error=EINVAL"));
  EXPECT_EQ(signal.calls, ErrnoCallsOf(kSetSignal));
  EXPECT_EQ(signal.calls & MaskOf(Call::kAlarm), 0u);

  ASSERT_OK_AND_ASSIGN(Rule senders, ParseRule("all:error=EPERM:sig=SIGTERM"));
  CallMask with_sig = 0;
  for (const CallInfo& info : AllCalls()) {
    if (info.keys & kKeySig) with_sig |= MaskOf(info.call);
  }
  EXPECT_NE(with_sig & MaskOf(Call::kKill), 0u);
  EXPECT_EQ(senders.calls, with_sig);
}

// Non-canonical input and its canonical form.
struct Canonical {
  const char* input;
  const char* canonical;
};

TEST(ScenarioTest, FormatGivesCanonicalText) {
  const Canonical cases[] = {
      {"inject=connect:error=ECONNREFUSED:when=1", "connect:error=ECONNREFUSED:when=1"},
      {"recv,read:when=2+2:error=4", "read,recv:error=EINTR:when=2+2"},
      {"read:error=EWOULDBLOCK", "read:error=EAGAIN"},
      {"read:signal=10", "read:signal=SIGUSR1"},
      {"read:signal=USR2:delay_exit=1000000", "read:signal=SIGUSR2:delay_exit=1s"},
      {"write:delay_enter=1500", "write:delay_enter=1500us"},
      {"write:delay_enter=1.5s", "write:delay_enter=1500ms"},
      {"write:delay_enter=0.000001s", "write:delay_enter=1us"},
      {"write:delay_enter=1000ns", "write:delay_enter=1us"},
      {"write:delay_enter=0:error=EIO", "write:error=EIO"},
      {"read:error=EIO:when=1+", "read:error=EIO"},
      {"read:error=EIO:when=1..2+", "read:error=EIO:when=1..2"},
      {"read:error=EIO:when=3..3", "read:error=EIO:when=3"},
      {"read:error=EIO:when=3..3+2", "read:error=EIO:when=3..3+2"},
      {"read:error=EIO:when=3+1", "read:error=EIO:when=3+"},
      {"read:error=EIO:when=007", "read:error=EIO:when=7"},
      {"read:error=EIO:p=1", "read:error=EIO"},
      {"read:error=EIO:p=.5", "read:error=EIO:p=0.5"},
      {"read:error=EIO:p=5e-3", "read:error=EIO:p=0.005"},
      {"read:error=EIO:p=0.050", "read:error=EIO:p=0.05"},
      {"gethostbyname:error=NO_ADDRESS", "gethostbyname:error=NO_DATA"},
      {"%net:error=EAI_AGAIN", "getaddrinfo:error=EAI_AGAIN"},
      {"recv,send,%io:short=3", "%io:short=3"},
      {"all:short=3", "%io:short=3"},
      {"all:error=EPERM:sig=TERM", "%signal:error=EPERM:sig=SIGTERM"},
      {"kill,%net:delay_enter=1s", "%net,kill:delay_enter=1s"},
      {"read:signal=34", "read:signal=SIGRTMIN"},
      {"read:signal=RTMIN+1", "read:signal=SIGRTMIN+1"},
      {"  read:error=EIO   # trailing comment", "read:error=EIO"},
  };
  for (const Canonical& c : cases) {
    SCOPED_TRACE(c.input);
    ASSERT_OK_AND_ASSIGN(Rule rule, ParseRule(c.input));
    EXPECT_EQ(FormatRule(rule), c.canonical);
    ASSERT_OK_AND_ASSIGN(Rule again, ParseRule(c.canonical));
    EXPECT_EQ(again, rule);
  }
}

// A set's members that take the rule, named one by one in any order, format
// as the set.
TEST(ScenarioTest, EverySetsMembersFormatAsTheSet) {
  const std::pair<uint8_t, const char*> sets[] = {{kSetNet, "%net"},
                                                  {kSetIo, "%io"},
                                                  {kSetSignal, "%signal"},
                                                  {kSetProcess, "%process"},
                                                  {kSetPoll, "%poll"},
                                                  {kSetExec, "%exec"}};
  for (const auto& [set, name] : sets) {
    std::vector<std::string> members;
    for (const CallInfo& info : AllCalls()) {
      if (ErrnoCallsOf(set) & MaskOf(info.call)) members.insert(members.begin(), std::string(info.name));
    }
    ASSERT_FALSE(members.empty()) << name;
    const std::string input = absl::StrCat(absl::StrJoin(members, ","), ":error=EINVAL");
    SCOPED_TRACE(input);
    ASSERT_OK_AND_ASSIGN(Rule rule, ParseRule(input));
    EXPECT_EQ(FormatRule(rule), absl::StrCat(name, ":error=EINVAL"));
  }
}

// A malformed rule and the exact message ParseScenario gives for it.
struct Malformed {
  const char* input;
  std::string message;
};

// Each row is a distinct mistake; the message names the source, the line,
// the column of the offending token and what is wrong.
const Malformed kMalformed[] = {
    // The call list.
    {"conect:error=ECONNREFUSED", "t:1:1: unknown call 'conect'; did you mean connect?"},
    {"frobnicate:error=EIO", "t:1:1: unknown call 'frobnicate'"},
    {"%nett:error=EIO", "t:1:1: unknown call set '%nett'; did you mean %net?"},
    {":error=EIO", "t:1:1: empty call list (a rule starts with the calls: read,write:...)"},
    {"read,,write:error=EIO", "t:1:6: empty call name in the call list"},
    {"read,:error=EIO", "t:1:6: empty call name in the call list"},
    {"read,read:error=EIO", "t:1:6: duplicate call 'read'"},
    {"Connect:error=EIO", "t:1:1: unknown call 'Connect'; did you mean connect?"},
    // Keys.
    {"connect:erorr=EIO", "t:1:9: unknown key 'erorr'; did you mean error?"},
    {"connect:error=EIO:syscall=getpid", "t:1:19: unknown key 'syscall'"},
    {"connect::error=EIO", "t:1:9: empty key (two ':' in a row, or a trailing ':')"},
    {"connect:error=EIO:", "t:1:19: empty key (two ':' in a row, or a trailing ':')"},
    {"connect:error=EIO:=3", "t:1:19: missing key before '='"},
    {"connect:error", "t:1:9: key 'error' needs a value: error=..."},
    {"connect:error=", "t:1:15: missing value after 'error='"},
    {"connect:error=EIO:error=EINTR", "t:1:19: duplicate key 'error'"},
    {"connect:error=EIO:when=1:when=2", "t:1:26: duplicate key 'when'"},
    {"connect: error=EIO", "t:1:9: unexpected whitespace inside a rule"},
    // Keys that do not apply to the call.
    {"accept:short=1",
     "t:1:8: key 'short' does not apply to accept: short= is for " + CallsTaking(kKeyShort)},
    {"connect:sig=SIGTERM:error=EPERM",
     "t:1:9: key 'sig' does not apply to connect: sig= is for " + CallsTaking(kKeySig)},
    {"socket:fd=3:error=EIO", "t:1:8: key 'fd' does not apply to socket: it takes no fd"},
    {"kill:port=80:error=EPERM",
     "t:1:6: key 'port' does not apply to kill: port= is for " + CallsTaking(kKeyPort)},
    {"getaddrinfo:retval=0",
     "t:1:13: key 'retval' does not apply to getaddrinfo: retval= cannot fake its result"},
    {"%signal:short=1", "t:1:1: no call in %signal accepts short="},
    {"all:sig=SIGTERM:short=1", "t:1:1: no call in all accepts all of this rule's keys (short=, sig=)"},
    // error= values.
    {"connect:error=ECONNREFUSE",
     "t:1:15: unknown errno 'ECONNREFUSE'; did you mean ECONNREFUSED?"},
    {"connect:error=econnrefused",
     "t:1:15: unknown errno 'econnrefused'; did you mean ECONNREFUSED?"},
    {"getaddrinfo:error=EAI_AGIAN",
     "t:1:19: unknown getaddrinfo error 'EAI_AGIAN'; did you mean EAI_AGAIN?"},
    {"read:error=0", "t:1:12: error=0 is out of range (errno numbers run from 1 to 4095)"},
    {"read:error=5000", "t:1:12: error=5000 is out of range (errno numbers run from 1 to 4095)"},
    {"read:error=-4", "t:1:12: unknown errno '-4'"},
    {"getaddrinfo:error=ECONNREFUSED",
     "t:1:19: error=ECONNREFUSED does not apply to getaddrinfo: it fails with EAI_* codes, "
     "such as EAI_AGAIN"},
    {"connect:error=EAI_AGAIN",
     "t:1:15: error=EAI_AGAIN does not apply to connect: EAI_* codes are for getaddrinfo only"},
    {"gethostbyname:error=EINTR",
     "t:1:21: error=EINTR does not apply to gethostbyname: it fails with HOST_NOT_FOUND, "
     "TRY_AGAIN, NO_RECOVERY or NO_DATA"},
    {"connect:error=TRY_AGAIN",
     "t:1:15: error=TRY_AGAIN does not apply to connect: h_errno codes are for gethostbyname "
     "only"},
    {"%io:error=EAI_AGAIN", "t:1:1: no call in %io can fail with error=EAI_AGAIN"},
    // Conflicting actions.
    {"connect:error=EIO:retval=0",
     "t:1:19: conflicting actions: error= and retval= cannot be combined"},
    {"read:error=EIO:short=1", "t:1:16: conflicting actions: error= and short= cannot be combined"},
    {"read:short=1:retval=3", "t:1:14: conflicting actions: short= and retval= cannot be combined"},
    // when=.
    {"connect:error=EIO:when=0", "t:1:24: when= counts calls from 1, not 0"},
    {"connect:error=EIO:when=3..2", "t:1:27: when=3..2: last (2) is before first (3)"},
    {"connect:error=EIO:when=1..",
     "t:1:27: malformed when=1..: expected a number (expected first[..last][+[step]])"},
    {"connect:error=EIO:when=x",
     "t:1:24: malformed when=x: expected a number (expected first[..last][+[step]])"},
    {"connect:error=EIO:when=2+0", "t:1:26: when= step must be at least 1"},
    {"connect:error=EIO:when=2-3",
     "t:1:25: malformed when=2-3: unexpected '-3' (expected first[..last][+[step]])"},
    {"connect:error=EIO:when=2+3+",
     "t:1:27: malformed when=2+3+: unexpected '+' (expected first[..last][+[step]])"},
    {"read:error=EIO:when=18446744073709551615",
     "t:1:21: when= number 18446744073709551615 is out of range (1..18446744073709551614)"},
    // Numbers.
    {"connect:error=EIO:port=0", "t:1:24: port=0 is out of range (1..65535)"},
    {"connect:error=EIO:port=65536", "t:1:24: port=65536 is out of range (1..65535)"},
    {"connect:error=EIO:port=http", "t:1:24: port= expects a decimal number, got 'http'"},
    {"read:short=0", "t:1:12: short=0 is out of range (1..2147483647)"},
    {"read:short=99999999999999999999999",
     "t:1:12: short=99999999999999999999999 is out of range (1..2147483647)"},
    {"read:retval=-1", "t:1:13: retval= expects a decimal number, got '-1'"},
    {"read:error=EIO:times=0", "t:1:22: times=0 is out of range (1..18446744073709551614)"},
    {"read:error=EIO:fd=-1", "t:1:19: unknown fd= filter '-1' (expected socket, pipe, file, "
                             "any or an fd number)"},
    {"read:error=EIO:fd=sockt",
     "t:1:19: unknown fd= filter 'sockt' (expected socket, pipe, file, any or an fd number); "
     "did you mean socket?"},
    {"connect:error=EIO:p=0", "t:1:21: p=0 is out of range (0 < p <= 1)"},
    {"connect:error=EIO:p=1.5", "t:1:21: p=1.5 is out of range (0 < p <= 1)"},
    {"connect:error=EIO:p=abc", "t:1:21: p= expects a probability such as 0.05, got 'abc'"},
    {"connect:error=EIO:p=5%", "t:1:21: p= expects a probability such as 0.05, got '5%'"},
    {"recv:error=EIO:seed=7", "t:1:16: seed= needs p= below 1 (it seeds the p= draws)"},
    {"recv:error=EIO:p=0.5:seed=x", "t:1:27: seed= expects a decimal number, got 'x'"},
    // Signals.
    {"read:signal=SIGUSR3", "t:1:13: unknown signal 'SIGUSR3'; did you mean SIGUSR1?"},
    {"read:signal=USR3", "t:1:13: unknown signal 'USR3'; did you mean USR1?"},
    {"read:signal=0", "t:1:13: signal=0 is out of range (signal numbers run from 1 to 64)"},
    {"read:signal=65", "t:1:13: signal=65 is out of range (signal numbers run from 1 to 64)"},
    {"read:signal=SIGRTMIN+40",
     "t:1:13: signal=SIGRTMIN+40 is out of range (real-time signals run from SIGRTMIN to "
     "SIGRTMIN+30)"},
    {"kill:error=EPERM:sig=SIGFOO", "t:1:22: unknown signal 'SIGFOO'; did you mean SIGFPE?"},
    {"kill:error=EPERM:sig=0", "t:1:22: sig=0 is out of range (signal numbers run from 1 to 64)"},
    // Delays.
    {"write:delay_enter=20mss",
     "t:1:19: delay_enter= expects a time such as 20ms (units s, ms, us, ns; a bare number is "
     "microseconds), got '20mss'"},
    {"write:delay_exit=1.5ns", "t:1:18: delay_exit=1.5ns is not a whole number of nanoseconds"},
    {"write:delay_enter=0.0000001ms",
     "t:1:19: delay_enter=0.0000001ms is not a whole number of nanoseconds"},
    {"write:delay_enter=86401s", "t:1:19: delay_enter=86401s is out of range (at most 86400s)"},
    {"write:delay_enter=1..2ms",
     "t:1:19: delay_enter= expects a time such as 20ms (units s, ms, us, ns; a bare number is "
     "microseconds), got '1..2ms'"},
    // Empty rules and rules that do nothing.
    {"inject=", "t:1:1: empty rule"},
    {"connect",
     "t:1:1: rule does nothing: give error=, retval=, short=, signal=, delay_enter= or "
     "delay_exit="},
    {"  connect:when=1:times=2",
     "t:1:3: rule does nothing: give error=, retval=, short=, signal=, delay_enter= or "
     "delay_exit="},
    {"write:delay_enter=0",
     "t:1:1: rule does nothing: give error=, retval=, short=, signal=, delay_enter= or "
     "delay_exit="},
    // Escaping of what cannot be shown.
    {"read:error=E\x01O", "t:1:12: unknown errno 'E\\x01O'; did you mean EIO?"},
};

TEST(ScenarioTest, MalformedRulesAreRejectedWithExactMessages) {
  EXPECT_GE(std::size(kMalformed), 30u);
  for (const Malformed& m : kMalformed) {
    SCOPED_TRACE(m.input);
    absl::StatusOr<std::vector<Rule>> rules = ParseScenario(m.input, "t");
    ASSERT_FALSE(rules.ok());
    EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(rules.status().message()), m.message);
  }
}

TEST(ScenarioTest, MalformedRowsAreDistinct) {
  std::set<std::string> inputs;
  for (const Malformed& m : kMalformed) EXPECT_TRUE(inputs.insert(m.input).second) << m.input;
}

TEST(ScenarioTest, ErrorsNameTheLineAndRejectTheWholeScenario) {
  absl::StatusOr<std::vector<Rule>> rules = ParseScenario(
      "# a comment\n"
      "connect:error=ECONNREFUSED:when=1\n"
      "\n"
      "   accept:error=EMFILE:when=3   # fine\n"
      "read:error=EIO:when=0..1\n"
      "write:error=EPIPE\n",
      "client.scenario");
  EXPECT_THAT(rules, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(rules.status().message(), "client.scenario:5:21: when= counts calls from 1, not 0");
}

TEST(ScenarioTest, CommentsBlankLinesAndLineEndings) {
  ASSERT_OK_AND_ASSIGN(std::vector<Rule> rules,
                       ParseScenario("\n# only a comment\n   \t\n"
                                     "connect:error=ECONNREFUSED#no space before the comment\r\n"
                                     "inject=read:short=1\r\n"
                                     "\tkill:retval=0"));
  ASSERT_THAT(rules, SizeIs(3));
  EXPECT_EQ(FormatScenario(rules),
            "connect:error=ECONNREFUSED\nread:short=1\nkill:retval=0\n");
  for (const char* empty : {"", "\n", "# nothing\n\n", "  # indented comment"}) {
    ASSERT_OK_AND_ASSIGN(std::vector<Rule> none, ParseScenario(empty));
    EXPECT_THAT(none, IsEmpty()) << empty;
  }
}

TEST(ScenarioTest, ParseRuleTakesOneLine) {
  EXPECT_THAT(ParseRule("connect:error=EIO\nread:error=EIO"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ParseRule("connect:error=EIO\nread:error=EIO").status().message(),
            "-e:1:18: a rule is one line (a scenario takes several)");
  EXPECT_EQ(ParseRule("").status().message(), "-e:1:1: empty rule");
  EXPECT_EQ(ParseRule("# just a comment", "flag").status().message(), "flag:1:1: empty rule");
  EXPECT_EQ(ParseRule("inject=conect:error=EIO").status().message(),
            "-e:1:8: unknown call 'conect'; did you mean connect?");
}

TEST(ScenarioTest, CppOnlyNarrowingIsNotFormattedButSaid) {
  ASSERT_OK_AND_ASSIGN(Rule rule, ParseRule("read:error=EIO"));
  rule.thread = 1234;
  rule.predicate = [](const CallSite&) { return true; };
  const std::string text = FormatRule(rule);
  EXPECT_EQ(text, "read:error=EIO  # C++ only, not expressible here: thread 1234, a predicate");
  ASSERT_OK_AND_ASSIGN(Rule back, ParseRule(text));
  rule.thread.reset();
  rule.predicate = nullptr;
  EXPECT_EQ(back, rule);
}

TEST(NamesTest, ErrorAndSignalNames) {
  EXPECT_EQ(ErrorName(Call::kConnect, ECONNREFUSED), "ECONNREFUSED");
  EXPECT_EQ(ErrorName(Call::kRead, EWOULDBLOCK), "EAGAIN");
  EXPECT_EQ(ErrorName(Call::kRead, 4000), "4000");
  EXPECT_EQ(ErrorName(Call::kGetaddrinfo, EAI_AGAIN), "EAI_AGAIN");
  EXPECT_EQ(ErrorName(Call::kGethostbyname, TRY_AGAIN), "TRY_AGAIN");
  EXPECT_EQ(ErrorName(Call::kGethostbyname, NO_ADDRESS), "NO_DATA");
  EXPECT_EQ(SignalName(SIGUSR1), "SIGUSR1");
  EXPECT_EQ(SignalName(SIGCHLD), "SIGCHLD");
  EXPECT_EQ(SignalName(SIGRTMIN), "SIGRTMIN");
  EXPECT_EQ(SignalName(SIGRTMIN + 3), "SIGRTMIN+3");
  EXPECT_EQ(SignalName(0), "0");
}

TEST(ValidateRuleTest, AcceptsWhatParses) {
  ASSERT_OK_AND_ASSIGN(Rule rule, ParseRule("connect:error=ECONNREFUSED:when=1..2"));
  EXPECT_THAT(ValidateRule(rule), IsOk());
  rule.thread = 7;
  rule.predicate = [](const CallSite&) { return true; };
  EXPECT_THAT(ValidateRule(rule), IsOk());
  // (rule_test has ValidateRule's messages; the property test below, its
  // agreement with the language.)
}

// ---------------------------------------------------------------------------
// Property: every valid rule formats to text that parses back to it.

class RandomRules {
 public:
  explicit RandomRules(uint64_t seed) : rng_(seed) {}

  Rule Next() {
    while (true) {
      if (std::optional<Rule> rule = Try()) return *rule;
    }
  }

 private:
  uint64_t Uniform(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_);
  }
  bool Chance(int percent) { return Uniform(1, 100) <= static_cast<uint64_t>(percent); }
  // Small numbers most of the time, the whole range sometimes.
  uint64_t Count(uint64_t lo, uint64_t hi) {
    return Chance(80) ? Uniform(lo, std::min(hi, lo + 20)) : Uniform(lo, hi);
  }

  std::optional<Rule> Try() {
    Rule rule;
    uint32_t keys = 0;
    enum { kErrno, kEai, kHErrno } domain = kErrno;
    switch (Uniform(0, 3)) {
      case 0:
        break;
      case 1: {
        rule.action = Action::kError;
        keys |= kKeyError;
        uint64_t pick = Uniform(0, 9);
        if (pick == 0) {
          domain = kEai;
          auto errors = GetCallInfo(Call::kGetaddrinfo).errors;
          rule.error = errors[Uniform(0, errors.size() - 1)];
        } else if (pick == 1) {
          domain = kHErrno;
          rule.error = static_cast<int>(Uniform(1, 4));
        } else {
          rule.error = static_cast<int>(Chance(90) ? Uniform(1, 133) : Uniform(1, 4095));
        }
        break;
      }
      case 2:
        rule.action = Action::kRetval;
        keys |= kKeyRetval;
        rule.retval = static_cast<int64_t>(Count(0, std::numeric_limits<int>::max()));
        break;
      case 3:
        rule.action = Action::kShort;
        keys |= kKeyShort;
        rule.short_bytes = Count(1, std::numeric_limits<int>::max());
        break;
    }
    if (Chance(30)) {
      rule.signal = static_cast<int>(Uniform(1, SIGRTMAX));
      keys |= kKeySignal;
    }
    if (Chance(30)) rule.delay_enter = Delay();
    if (Chance(20)) {
      rule.delay_exit = Delay();
      keys |= kKeyDelayExit;
    }
    if (Chance(10)) {
      rule.as_strace = true;
      keys |= kKeyAs;
    }
    if (rule.action == Action::kNone && rule.signal == 0 &&
        rule.delay_enter == absl::ZeroDuration() && rule.delay_exit == absl::ZeroDuration()) {
      return std::nullopt;
    }
    switch (Uniform(0, 4)) {
      case 0:
        break;
      case 1:
        rule.when.first = rule.when.last = Count(1, When::kNoLast - 1);
        break;
      case 2:
        rule.when.first = Count(1, When::kNoLast - 1);
        rule.when.step = Count(1, When::kNoLast - 1);
        break;
      default:
        rule.when.first = Count(1, 1000);
        rule.when.last = rule.when.first + Count(0, 1000);
        rule.when.step = Count(1, 1000);
    }
    if (Chance(30)) rule.times = Count(1, When::kNoLast - 1);
    if (Chance(30)) {
      rule.probability = Chance(50) ? static_cast<double>(Uniform(1, 999)) / 1000
                                    : std::uniform_real_distribution<double>(0, 1)(rng_);
      if (rule.probability == 0) return std::nullopt;
      if (Chance(50)) rule.seed = Uniform(0, std::numeric_limits<uint64_t>::max());
    }
    if (Chance(30)) {
      keys |= kKeyFd;
      rule.fd.kind = static_cast<FdFilter::Kind>(Uniform(1, 5));
      if (rule.fd.kind == FdFilter::Kind::kNumber) {
        rule.fd.number = static_cast<int>(Count(0, std::numeric_limits<int>::max()));
      }
    }
    if (Chance(20)) {
      keys |= kKeyPort;
      rule.port = static_cast<int>(Uniform(1, 65535));
    }
    if (Chance(20)) {
      keys |= kKeySig;
      rule.sig = static_cast<int>(Uniform(1, SIGRTMAX));
    }
    // The calls that accept all of it.
    CallMask fits = 0;
    for (const CallInfo& info : AllCalls()) {
      bool domain_ok = rule.action != Action::kError ||
                       ((info.failure == FailureStyle::kEaiCode) == (domain == kEai) &&
                        (info.failure == FailureStyle::kNullHErrno) == (domain == kHErrno));
      if ((info.keys & keys) == keys && domain_ok) fits |= MaskOf(info.call);
    }
    if (fits == 0) return std::nullopt;
    switch (Uniform(0, 3)) {
      case 0:  // one call
        rule.calls = 0;
        while (rule.calls == 0) rule.calls = fits & MaskOf(static_cast<Call>(Uniform(0, kCallCount - 1)));
        break;
      case 1:  // a named set, narrowed
      {
        uint8_t set = static_cast<uint8_t>(1u << Uniform(0, 4));
        for (const CallInfo& info : AllCalls()) {
          if (info.sets & set) rule.calls |= MaskOf(info.call) & fits;
        }
        if (rule.calls == 0) return std::nullopt;
        break;
      }
      default:  // any subset
        rule.calls = fits & ((CallMask{Uniform(0, std::numeric_limits<uint64_t>::max())} << 64) |
                             Uniform(1, std::numeric_limits<uint64_t>::max()));
        if (rule.calls == 0) return std::nullopt;
    }
    return rule;
  }

  absl::Duration Delay() {
    static constexpr int64_t kUnits[] = {1, 1000, 1000000, 1000000000};
    int64_t unit = kUnits[Uniform(0, 3)];
    int64_t max = int64_t{86400} * 1000000000 / unit;
    return absl::Nanoseconds(static_cast<int64_t>(Count(1, max)) * unit);
  }

  std::mt19937_64 rng_;
};

TEST(ScenarioPropertyTest, FormatThenParseIsIdentity) {
  RandomRules random(20261125);
  std::vector<Rule> all;
  for (int i = 0; i < 5000; ++i) {
    Rule rule = random.Next();
    const std::string text = FormatRule(rule);
    absl::StatusOr<Rule> back = ParseRule(text);
    ASSERT_THAT(back, IsOk()) << text;
    ASSERT_EQ(*back, rule) << text << "\n  reformats as " << FormatRule(*back);
    ASSERT_EQ(FormatRule(*back), text);
    ASSERT_THAT(ValidateRule(rule), IsOk()) << text;
    all.push_back(rule);
  }
  // And as one scenario.
  ASSERT_OK_AND_ASSIGN(std::vector<Rule> back, ParseScenario(FormatScenario(all)));
  EXPECT_EQ(back, all);
}

// One field of a valid rule set to a value picked to sit on or past an edge
// of what the language accepts (or to a call that may not take the rule).
void Corrupt(Rule& rule, std::mt19937_64& rng) {
  auto pick = [&](auto... values) {
    using T = std::common_type_t<decltype(values)...>;
    const T all[] = {static_cast<T>(values)...};
    return all[std::uniform_int_distribution<size_t>(0, sizeof...(values) - 1)(rng)];
  };
  constexpr int64_t kInt = std::numeric_limits<int>::max();
  constexpr uint64_t kCount = When::kNoLast - 1;
  switch (std::uniform_int_distribution<int>(0, 16)(rng)) {
    case 0:
      rule.calls |= MaskOf(static_cast<Call>(
          std::uniform_int_distribution<int>(0, kCallCount - 1)(rng)));
      break;
    case 1:
      rule.action = pick(Action::kNone, Action::kError, Action::kRetval, Action::kShort);
      break;
    case 2:
      rule.error = pick(0, -1, EAI_AGAIN, EAI_SYSTEM, 1, TRY_AGAIN, NO_DATA, 5, 4095, 4096);
      break;
    case 3:
      rule.retval = pick(int64_t{-1}, int64_t{0}, int64_t{1}, kInt, kInt + 1);
      break;
    case 4:
      rule.short_bytes = pick(size_t{0}, size_t{1}, size_t{kInt}, size_t{kInt} + 1);
      break;
    case 5:
      rule.signal = pick(-1, 0, 1, 32, 33, SIGRTMIN, SIGRTMAX, SIGRTMAX + 1);
      break;
    case 6:
      rule.delay_enter = pick(absl::Nanoseconds(-1), absl::ZeroDuration(), absl::Nanoseconds(1),
                              absl::Nanoseconds(1) / 2, absl::Hours(24),
                              absl::Hours(24) + absl::Nanoseconds(1));
      break;
    case 7:
      rule.delay_exit = pick(absl::Nanoseconds(3) / 2, absl::Milliseconds(-5), absl::Seconds(2));
      break;
    case 8:
      rule.when = pick(When{0, 3, 1}, When{5, 2, 1}, When{1, 5, 0}, When{3, 3, 2},
                       When{kCount, When::kNoLast, 1}, When{When::kNoLast, When::kNoLast, 1},
                       When{1, kCount + 1, 1}, When{1, 5, kCount + 1}, When{});
      break;
    case 9:
      rule.times = pick(uint64_t{0}, uint64_t{1}, kCount, kCount + 1);
      break;
    case 10:
      rule.probability = pick(0.0, -0.5, 0.3, 1.0, 1.5, std::nan(""));
      break;
    case 11:
      rule.seed = pick(std::optional<uint64_t>{}, std::optional<uint64_t>{0},
                       std::optional<uint64_t>{99});
      break;
    case 12:
      rule.fd = pick(FdFilter{}, FdFilter{FdFilter::Kind::kDefault, 3},
                     FdFilter{FdFilter::Kind::kAny, -1}, FdFilter{FdFilter::Kind::kNumber, -1},
                     FdFilter{FdFilter::Kind::kNumber, 0},
                     FdFilter{FdFilter::Kind::kNumber, static_cast<int>(kInt)},
                     FdFilter{FdFilter::Kind::kSocket, 4});
      break;
    case 13:
      rule.port = pick(-2, -1, 0, 1, 65535, 65536);
      break;
    case 14:
      rule.sig = pick(-1, 0, SIGTERM, SIGRTMAX, SIGRTMAX + 1);
      break;
    case 15:
      rule.site = pick(uint64_t{0}, uint64_t{1}, (uint64_t{1} << 48) - 1, uint64_t{1} << 48);
      break;
    default:
      break;  // left valid
  }
}

// ValidateRule checks a rule against the table directly (rule.h), not by
// formatting and parsing it. It must accept exactly the rules the scenario
// language can state: a rule is valid if and only if its canonical text
// parses back to it.
TEST(ScenarioPropertyTest, ValidateRuleAcceptsExactlyWhatTheLanguageStates) {
  RandomRules random(20261130);
  std::mt19937_64 rng(11);
  int valid = 0;
  int invalid = 0;
  for (int i = 0; i < 20000; ++i) {
    Rule rule = random.Next();
    Corrupt(rule, rng);
    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) Corrupt(rule, rng);
    const std::string text = FormatRule(rule);
    absl::StatusOr<Rule> back = ParseRule(text);
    const bool states = back.ok() && *back == rule;
    const absl::Status checked = ValidateRule(rule);
    ASSERT_EQ(checked.ok(), states)
        << text << "\n  ValidateRule: " << checked
        << "\n  parse: " << (back.ok() ? FormatRule(*back) : back.status().ToString());
    (states ? valid : invalid) += 1;
  }
  // Both sides were exercised.
  EXPECT_GT(valid, 1000);
  EXPECT_GT(invalid, 1000);
}

TEST(ScenarioTest, ParsesFromManyThreadsAtOnce) {
  // The name tables are built on first use; several threads may race to it.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&failures] {
      for (const char* line : kDesignExamples) {
        absl::StatusOr<Rule> rule = ParseRule(line);
        if (!rule.ok() || FormatRule(*rule) != Uncommented(line)) ++failures;
        if (ParseRule("connect:error=ECONNREFUSE").ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---------------------------------------------------------------------------
// Every ```scenario block in README.md and docs/*.md parses. The files are the
// test's data (//:docs); a Bazel test runs in its runfiles tree, where they
// sit at their workspace paths.

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The text of the file with every line outside a ```scenario block blanked,
// so that parse errors give the file's own line numbers.
std::string ScenarioBlocks(absl::string_view markdown, int* blocks) {
  std::string out;
  bool inside = false;
  for (absl::string_view line : absl::StrSplit(markdown, '\n')) {
    absl::string_view fence = absl::StripAsciiWhitespace(line);
    // "```scenario", or "```scenario file=PATH" (a block quoting a file).
    if (!inside && (fence == "```scenario" || absl::StartsWith(fence, "```scenario "))) {
      inside = true;
      ++*blocks;
      out += "\n";
    } else if (inside && fence == "```") {
      inside = false;
      out += "\n";
    } else {
      absl::StrAppend(&out, inside ? line : "", "\n");
    }
  }
  return out;
}

TEST(DocsTest, EveryScenarioBlockInTheDocsParses) {
  std::vector<std::filesystem::path> files = {"README.md"};
  if (std::filesystem::is_directory("docs")) {
    for (const auto& entry : std::filesystem::directory_iterator("docs")) {
      if (entry.path().extension() == ".md") files.push_back(entry.path());
    }
  }
  int blocks = 0;
  for (const std::filesystem::path& file : files) {
    ASSERT_TRUE(std::filesystem::exists(file)) << file << " is missing from the runfiles";
    std::string text = ScenarioBlocks(ReadFile(file), &blocks);
    EXPECT_THAT(ParseScenario(text, file.string()), IsOk());
  }
  EXPECT_GT(blocks, 0) << "README.md shows no ```scenario block";
}

// docs/scenario.md shows the messages for these lines of a client.scenario;
// each must be what the parser says today.
TEST(DocsTest, ErrorMessagesInTheDocsAreCurrent) {
  const std::string doc = ReadFile("docs/scenario.md");
  ASSERT_FALSE(doc.empty()) << "docs/scenario.md is missing from the runfiles";
  const char* lines[] = {
      "conect:error=ECONNREFUSED",    "connect:error=ECONNREFUSE",
      "accept:short=1",               "connect:error=EIO:retval=0",
      "connect:error=EIO:when=0",     "getaddrinfo:error=ECONNREFUSED",
  };
  std::string preceding;
  for (const char* line : lines) {
    absl::StatusOr<std::vector<Rule>> rules =
        ParseScenario(absl::StrCat(preceding, line), "client.scenario");
    preceding += "\n";  // the doc shows each mistake on its own line
    ASSERT_FALSE(rules.ok()) << line;
    EXPECT_TRUE(absl::StrContains(doc, absl::StrCat(rules.status().message(), "\n")))
        << "docs/scenario.md should show: " << rules.status().message();
  }
}

// The parser and the fire log read one table of getaddrinfo / gethostbyname
// codes: every name the log can print parses back to its code.
TEST(ScenarioErrors, EveryLoggableResolverCodeParses) {
  for (const NamedCode& c : EaiCodes()) {
    ASSERT_OK_AND_ASSIGN(Rule rule, ParseRule(absl::StrCat("getaddrinfo:error=", c.name)));
    EXPECT_EQ(rule.error, c.code) << c.name;
    EXPECT_EQ(ErrorName(Call::kGetaddrinfo, c.code), c.name);
  }
  for (const NamedCode& c : HErrnoCodes()) {
    ASSERT_OK_AND_ASSIGN(Rule rule, ParseRule(absl::StrCat("gethostbyname:error=", c.name)));
    EXPECT_EQ(rule.error, c.code) << c.name;
    EXPECT_EQ(ErrorName(Call::kGethostbyname, c.code), c.name);
  }
}

}  // namespace
}  // namespace ipcfault
