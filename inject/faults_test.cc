// Tests of the public arming API: Arm() from text, rules and the Fault
// builder; ScopedFaults' counts, records, scope and moves; the expectation
// check. Decisions are asked of the engine directly (no interposer).

#include "ipcfault/inject/faults.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/arming.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault {
namespace {

using ::ipcfault::IsOk;
using ::ipcfault::StatusIs;
using ::testing::ElementsAre;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

using inject_internal::AnythingArmed;
using inject_internal::ArmedRuleCount;
using inject_internal::Decide;
using inject_internal::Injection;

CallSite Site(Call call, int fd = -1) {
  CallSite site;
  site.call = call;
  site.fd = fd;
  return site;
}

int InjectedError(const CallSite& site) {
  Injection injection = Decide(site);
  return injection.fired ? injection.error : 0;
}

class FaultsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(ArmedRuleCount(), 0u); }
  void TearDown() override { EXPECT_EQ(ArmedRuleCount(), 0u); }
};

TEST_F(FaultsTest, ArmsAScenarioForItsScope) {
  {
    ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                         Arm("# refuse the first two connects\n"
                             "connect:error=ECONNREFUSED:when=1..2\n"
                             "accept:error=EMFILE:when=3\n"));
    ASSERT_EQ(faults.size(), 2u);
    EXPECT_EQ(faults.text(0), "connect:error=ECONNREFUSED:when=1..2");
    EXPECT_EQ(faults.text(1), "accept:error=EMFILE:when=3");
    EXPECT_EQ(InjectedError(Site(Call::kConnect)), ECONNREFUSED);
    EXPECT_EQ(InjectedError(Site(Call::kConnect)), ECONNREFUSED);
    EXPECT_EQ(InjectedError(Site(Call::kConnect)), 0);
    for (int i = 0; i < 3; ++i) InjectedError(Site(Call::kAccept, 3));
    EXPECT_EQ(faults.matched(0), 3u);
    EXPECT_EQ(faults.fired(0), 2u);
    EXPECT_EQ(faults.matched(1), 3u);
    EXPECT_EQ(faults.fired(1), 1u);
  }
  EXPECT_FALSE(AnythingArmed());
  EXPECT_EQ(InjectedError(Site(Call::kConnect)), 0);
}

// The public count the fixtures check (fixtures/gtest.cc) follows every
// ScopedFaults alive.
TEST_F(FaultsTest, PublicArmedRuleCountFollowsScopes) {
  EXPECT_EQ(::ipcfault::ArmedRuleCount(), 0u);
  {
    ASSERT_OK_AND_ASSIGN(ScopedFaults two, Arm("read:error=EIO\nwrite:error=EIO\n"));
    EXPECT_EQ(::ipcfault::ArmedRuleCount(), 2u);
    {
      ASSERT_OK_AND_ASSIGN(ScopedFaults one, Arm(Fault(Call::kConnect).Error(ECONNREFUSED)));
      EXPECT_EQ(::ipcfault::ArmedRuleCount(), 3u);
    }
    EXPECT_EQ(::ipcfault::ArmedRuleCount(), 2u);
    two.Disarm();
    EXPECT_EQ(::ipcfault::ArmedRuleCount(), 0u);
  }
  EXPECT_EQ(::ipcfault::ArmedRuleCount(), 0u);
}

TEST_F(FaultsTest, BadScenarioArmsNothing) {
  absl::StatusOr<ScopedFaults> faults =
      Arm("connect:error=ECONNREFUSED\naccept:short=1\n");
  EXPECT_THAT(faults, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("scenario:2:")));
  EXPECT_FALSE(AnythingArmed());
  EXPECT_THAT(Arm("connect:error=ECONNREFUSE"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ECONNREFUSED")));
  EXPECT_FALSE(AnythingArmed());
}

TEST_F(FaultsTest, EmptyScenarioArmsNoRule) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults, Arm("# nothing yet\n\n"));
  EXPECT_EQ(faults.size(), 0u);
  EXPECT_FALSE(AnythingArmed());
  EXPECT_THAT(faults.records(), SizeIs(0));
  EXPECT_EQ(faults.dropped(), 0u);
}

// Each builder chain arms the same rule as its text.
TEST_F(FaultsTest, BuilderMatchesTheScenarioLanguage) {
  struct Case {
    Fault fault;
    const char* text;
  };
  const Case cases[] = {
      {Fault(Call::kConnect).Error(ECONNREFUSED).When(1, 2), "connect:error=ECONNREFUSED:when=1..2"},
      {Fault(Call::kAccept).Error(EMFILE).When(3), "accept:error=EMFILE:when=3"},
      {Fault(Call::kRead).Or(Call::kRecv).Error(EINTR).Every(2, 2), "read,recv:error=EINTR:when=2+2"},
      {Fault(Call::kWrite).DelayEnter(absl::Milliseconds(20)), "write:delay_enter=20ms"},
      {Fault(Call::kKill).Retval(0), "kill:retval=0"},
      {Fault(Call::kRead).Signal(SIGUSR1).When(1), "read:signal=SIGUSR1:when=1"},
      {Fault(Call::kRead).Short(1), "read:short=1"},
      {Fault(Call::kConnect).Error(ETIMEDOUT).DelayEnter(absl::Seconds(2)),
       "connect:error=ETIMEDOUT:delay_enter=2s"},
      {Fault(Call::kRecv).Error(ECONNRESET).Probability(0.05, 7),
       "recv:error=ECONNRESET:p=0.05:seed=7"},
      {Fault(Call::kSend).Error(EPIPE).Times(3), "send:error=EPIPE:times=3"},
      {Fault(Call::kRead).Error(EIO).OnFdKind(FdFilter::Kind::kPipe), "read:error=EIO:fd=pipe"},
      {Fault(Call::kRead).Error(EIO).OnFd(7), "read:error=EIO:fd=7"},
      {Fault(Call::kConnect).Error(ECONNREFUSED).OnPort(9876),
       "connect:error=ECONNREFUSED:port=9876"},
      {Fault(Call::kKill).Error(EPERM).OnSignal(SIGTERM), "kill:error=EPERM:sig=SIGTERM"},
      {Fault(Call::kGetaddrinfo).Error(EAI_AGAIN), "getaddrinfo:error=EAI_AGAIN"},
      {Fault(Call::kWrite).DelayExit(absl::Microseconds(5)).When(2, 8, 3),
       "write:delay_exit=5us:when=2..8+3"},
  };
  for (const Case& c : cases) {
    ASSERT_OK_AND_ASSIGN(Rule parsed, ParseRule(c.text));
    EXPECT_TRUE(c.fault.rule() == parsed) << c.text << " vs " << FormatRule(c.fault.rule());
    ASSERT_OK_AND_ASSIGN(ScopedFaults faults, Arm(c.fault));
    EXPECT_EQ(faults.text(0), FormatRule(parsed)) << c.text;
  }
}

TEST_F(FaultsTest, RulesAreValidatedAsTextIs) {
  // Each is rejected, and a valid rule before it is not left armed.
  const Rule bad[] = {
      Fault(Call::kAccept).Short(1),                            // short= not for accept
      Fault(Call::kConnect).Error(ECONNREFUSED).Short(1),       // two actions
      Fault(Call::kConnect).Error(ECONNREFUSED).OnSignal(SIGTERM),  // sig= not for connect
      Fault(Call::kConnect).Error(ECONNREFUSED).When(0),        // calls count from 1
      Fault(Call::kConnect).Error(ECONNREFUSED).When(5, 2),     // last before first
      Fault(Call::kConnect).Error(ECONNREFUSED).Probability(1.5),
      Fault(Call::kConnect).Error(ECONNREFUSED).Probability(0),
      Fault(Call::kRead).Short(0),
      Rule{},                                                   // no calls
  };
  for (const Rule& rule : bad) {
    std::vector<Rule> rules = {Fault(Call::kListen).Error(EACCES), rule};
    EXPECT_THAT(Arm(std::move(rules)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Arm: rule 1 of 2: ")))
        << FormatRule(rule);
    EXPECT_FALSE(AnythingArmed());
  }
}

TEST_F(FaultsTest, ValidationNamesTheRuleAndTheProblem) {
  EXPECT_THAT(Arm(Fault(Call::kAccept).Short(1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Arm: rule 0 of 1: Fault(Call::kAccept): Short(1) does not "
                                 "apply to accept: it is for read, ")));
  Rule thread = Fault(Call::kConnect).Error(ECONNREFUSED);
  thread.thread = -4;
  EXPECT_THAT(Arm(std::vector<Rule>{thread}), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("thread -4 is not a thread id")));
}

// A C++ rule is checked against the table directly, in C++ terms: the
// message quotes no text the user never wrote (it said "unknown errno '-3'",
// from formatting the rule and parsing it back).
TEST_F(FaultsTest, ValidationSpeaksCppNotTheScenarioLanguage) {
  EXPECT_THAT(Arm(Fault(Call::kConnect).Or(Call::kGetaddrinfo).Error(EAI_AGAIN)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("Arm: rule 0 of 1: Fault(Call::kConnect)"
                                       ".Or(Call::kGetaddrinfo): Error(-3) is EAI_AGAIN for "
                                       "getaddrinfo, but connect fails with errno values"),
                             Not(HasSubstr("unknown errno")), Not(HasSubstr("error=")))));
  EXPECT_EQ(ArmedRuleCount(), 0u);
  // Each alone is fine.
  EXPECT_THAT(Arm(Fault(Call::kGetaddrinfo).Error(EAI_AGAIN)), IsOk());
  EXPECT_THAT(Arm(Fault(Call::kConnect).Error(ECONNREFUSED)), IsOk());
}

// A second action is refused, not silently swapped for the first: the rule
// becomes invalid and Arm() says why, naming both.
TEST_F(FaultsTest, BuilderRefusesASecondAction) {
  Fault two = Fault(Call::kRead);
  two.Error(EIO).Short(1);
  EXPECT_EQ(two.rule().action, Action::kError);  // the first is kept...
  EXPECT_EQ(two.rule().error, EIO);
  EXPECT_EQ(two.rule().short_bytes, 0u);
  EXPECT_FALSE(two.rule().builder_error.empty());  // ...and the rule is invalid
  EXPECT_THAT(Arm(two),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Arm: rule 0 of 1: Fault(Call::kRead): Error(EIO) then Short(1): a rule "
                       "takes one action (Error, Retval or Short; DelayEnter, DelayExit and "
                       "Signal combine with any of them): arm a second Fault for the second "
                       "action"));
  EXPECT_THAT(Arm(Fault(Call::kKill).Retval(0).Error(EPERM)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Fault(Call::kKill): Retval(0) then Error(EPERM): a rule takes one "
                                 "action")));
  EXPECT_THAT(Arm(Fault(Call::kWrite).Error(EPIPE).Error(EIO)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Error(EPIPE) then Error(EIO)")));
  EXPECT_THAT(Arm(Fault(Call::kGetaddrinfo).Error(EAI_AGAIN).Retval(0)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Error(EAI_AGAIN) then Retval(0)")));
  // Through the conversion to Rule too, as in a vector of rules.
  std::vector<Rule> rules = {Fault(Call::kListen).Error(EACCES),
                             Fault(Call::kRead).Short(1).Retval(3)};
  EXPECT_THAT(Arm(std::move(rules)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Arm: rule 1 of 2: Fault(Call::kRead): Short(1) then "
                                 "Retval(3)")));
  EXPECT_EQ(ArmedRuleCount(), 0u);
  // Delays and signals combine with the action.
  EXPECT_THAT(Arm(Fault(Call::kRead).Error(EIO).DelayEnter(absl::Milliseconds(1))
                      .Signal(SIGUSR1)),
              IsOk());
}

TEST_F(FaultsTest, OnThisThreadNarrowsToTheArmingThread) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                       Arm(Fault(Call::kConnect).Error(ENETUNREACH).OnThisThread()));
  EXPECT_THAT(faults.text(0), HasSubstr("# C++ only"));
  int other = -1;
  std::thread thread([&] { other = InjectedError(Site(Call::kConnect)); });
  thread.join();
  EXPECT_EQ(other, 0);
  EXPECT_EQ(InjectedError(Site(Call::kConnect)), ENETUNREACH);
  EXPECT_EQ(faults.matched(0), 1u);
}

TEST_F(FaultsTest, OnlyIfNarrowsByArguments) {
  ASSERT_OK_AND_ASSIGN(
      ScopedFaults faults,
      Arm(Fault(Call::kKill).Error(ESRCH).OnlyIf([](const CallSite& s) { return s.target == 42; })));
  CallSite site = Site(Call::kKill);
  site.sig = SIGTERM;
  site.target = 41;
  EXPECT_EQ(InjectedError(site), 0);
  site.target = 42;
  EXPECT_EQ(InjectedError(site), ESRCH);
}

TEST_F(FaultsTest, RecordsSurviveDisarm) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults, Arm("connect:error=ECONNREFUSED:when=2+"));
  for (int i = 0; i < 3; ++i) InjectedError(Site(Call::kConnect, 9));
  faults.Disarm();
  // Later fires (of another group) do not change what this one recorded.
  {
    ASSERT_OK_AND_ASSIGN(ScopedFaults other, Arm("connect:error=ETIMEDOUT"));
    for (int i = 0; i < 10000; ++i) InjectedError(Site(Call::kConnect, 9));
  }
  std::vector<FaultRecord> records = faults.records();
  ASSERT_THAT(records, SizeIs(2));
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].call, Call::kConnect);
    EXPECT_EQ(records[i].rule, 0u);
    EXPECT_EQ(records[i].action, Action::kError);
    EXPECT_EQ(records[i].error, ECONNREFUSED);
    EXPECT_EQ(records[i].fd, 9);
    EXPECT_EQ(records[i].tid, tid);
    EXPECT_EQ(records[i].ordinal, i + 2);
  }
  EXPECT_EQ(faults.dropped(), 0u);
  EXPECT_EQ(faults.matched(0), 3u);
}

TEST_F(FaultsTest, RingBoundIsReportedAsDropped) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults, Arm("socket:error=EMFILE"));
  constexpr uint64_t kFires = 100000;
  for (uint64_t i = 0; i < kFires; ++i) InjectedError(Site(Call::kSocket));
  EXPECT_EQ(faults.fired(0), kFires);
  EXPECT_THAT(faults.records(), SizeIs(inject_internal::kFiredRingSize));
  EXPECT_EQ(faults.dropped(), kFires - inject_internal::kFiredRingSize);
  EXPECT_EQ(faults.records().back().ordinal, kFires);
}

TEST_F(FaultsTest, DisarmIsIdempotentAndCountsStay) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults faults, Arm("listen:error=EADDRINUSE"));
  EXPECT_EQ(InjectedError(Site(Call::kListen, 3)), EADDRINUSE);
  faults.Disarm();
  faults.Disarm();
  EXPECT_EQ(InjectedError(Site(Call::kListen, 3)), 0);
  EXPECT_EQ(faults.matched(0), 1u);
  EXPECT_EQ(faults.fired(0), 1u);
}

TEST_F(FaultsTest, MovesKeepOneOwner) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults a, Arm("listen:error=EADDRINUSE"));
  ScopedFaults b = std::move(a);
  EXPECT_EQ(a.size(), 0u);  // NOLINT: moved-from is empty, and disarms nothing
  a.Disarm();
  EXPECT_EQ(InjectedError(Site(Call::kListen, 3)), EADDRINUSE);
  EXPECT_EQ(b.fired(0), 1u);

  ASSERT_OK_AND_ASSIGN(ScopedFaults c, Arm("bind:error=EACCES"));
  b = std::move(c);  // disarms b's listen rule, takes c's bind rule
  EXPECT_EQ(InjectedError(Site(Call::kListen, 3)), 0);
  EXPECT_EQ(InjectedError(Site(Call::kBind, 3)), EACCES);
  EXPECT_EQ(b.text(0), "bind:error=EACCES");
}

TEST_F(FaultsTest, TwoScopesAtOnce) {
  ASSERT_OK_AND_ASSIGN(ScopedFaults first, Arm("write:short=3:when=1"));
  ASSERT_OK_AND_ASSIGN(ScopedFaults second, Arm("write:error=EAGAIN:fd=any"));
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  Injection one = Decide(Site(Call::kWrite, sv[0]));
  EXPECT_EQ(one.action, Action::kShort);
  EXPECT_EQ(InjectedError(Site(Call::kWrite, sv[0])), EAGAIN);
  EXPECT_EQ(InjectedError(Site(Call::kWrite, 1)), EAGAIN);  // not a socket: only fd=any
  EXPECT_EQ(first.matched(0), 2u);
  EXPECT_EQ(second.matched(0), 3u);
  EXPECT_EQ(second.fired(0), 2u);
  close(sv[0]);
  close(sv[1]);
}

std::vector<std::string>* reported = nullptr;
void CollectReport(absl::string_view message) { reported->emplace_back(message); }

TEST_F(FaultsTest, ExpectEveryRuleFiresReportsTheIdleOnes) {
  std::vector<std::string> messages;
  reported = &messages;
  SetExpectationReporter(CollectReport);
  {
    ASSERT_OK_AND_ASSIGN(ScopedFaults faults,
                         Arm("connect:error=ECONNREFUSED\n"
                             "accept:error=EMFILE:when=5\n"
                             "bind:error=EACCES\n"));
    faults.ExpectEveryRuleFires();
    InjectedError(Site(Call::kConnect));
    InjectedError(Site(Call::kAccept, 3));
  }
  SetExpectationReporter(nullptr);
  reported = nullptr;
  EXPECT_THAT(messages,
              ElementsAre("ipcfault: rule 1 'accept:error=EMFILE:when=5' never fired (it matched 1 call)",
                          "ipcfault: rule 2 'bind:error=EACCES' never fired (it matched 0 calls)"));
}

TEST_F(FaultsTest, ExpectEveryRuleFiresIsSilentWhenAllFire) {
  std::vector<std::string> messages;
  reported = &messages;
  SetExpectationReporter(CollectReport);
  {
    ASSERT_OK_AND_ASSIGN(ScopedFaults faults, Arm("connect:error=ECONNREFUSED"));
    faults.ExpectEveryRuleFires();
    InjectedError(Site(Call::kConnect));
    faults.Disarm();
    faults.Disarm();  // reports (nothing) once
  }
  SetExpectationReporter(nullptr);
  reported = nullptr;
  EXPECT_THAT(messages, SizeIs(0));
}

// Scopes come and go while other threads decide (run under TSan and ASan).
TEST_F(FaultsTest, ArmingThroughTheApiWhileThreadsDecide) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> deciders;
  for (int t = 0; t < 2; ++t) {
    deciders.emplace_back([&] {
      while (!stop.load(std::memory_order_acquire)) InjectedError(Site(Call::kConnect));
    });
  }
  for (int round = 0; round < 100; ++round) {
    ASSERT_OK_AND_ASSIGN(ScopedFaults faults, Arm("connect:error=ECONNREFUSED:times=1"));
    while (faults.fired(0) == 0) std::this_thread::yield();
    // The count moves before the record is written; once disarmed, no
    // decision is in flight and the record is complete.
    faults.Disarm();
    EXPECT_THAT(faults.records(), SizeIs(1));
    EXPECT_EQ(faults.dropped(), 0u);
  }
  stop = true;
  for (std::thread& thread : deciders) thread.join();
}

}  // namespace
}  // namespace ipcfault
