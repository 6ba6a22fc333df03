#include "ipcfault/inject/names.h"

#include <netdb.h>
#include <signal.h>
#include <string.h>

#include <cerrno>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"

namespace ipcfault {
namespace {

std::string Found(ErrorDomain domain, int code) {
  const char* name = FindErrorName(domain, code);
  return name != nullptr ? name : "(null)";
}

TEST(ErrorNameTest, ErrnoValues) {
  EXPECT_EQ(Found(ErrorDomain::kErrno, ECONNREFUSED), "ECONNREFUSED");
  EXPECT_EQ(Found(ErrorDomain::kErrno, EWOULDBLOCK), "EAGAIN");  // canonical
  EXPECT_EQ(Found(ErrorDomain::kErrno, 100000), "(null)");
  EXPECT_EQ(ErrorName(ErrorDomain::kErrno, 4000), "4000");
  EXPECT_EQ(ErrnoName(EMFILE), "EMFILE");
}

TEST(ErrorNameTest, TheCallsFailureStyleChoosesTheDomain) {
  EXPECT_EQ(ErrorName(Call::kConnect, ECONNREFUSED), "ECONNREFUSED");
  EXPECT_EQ(ErrorName(Call::kRead, EWOULDBLOCK), "EAGAIN");
  EXPECT_EQ(ErrorName(Call::kRead, 4000), "4000");
  EXPECT_EQ(ErrorName(Call::kPthreadKill, ESRCH), "ESRCH");  // returns the error
  EXPECT_EQ(ErrorName(Call::kRaise, EINVAL), "EINVAL");      // nonzero and errno
  EXPECT_EQ(ErrorName(Call::kGetaddrinfo, EAI_AGAIN), "EAI_AGAIN");
  EXPECT_EQ(ErrorName(Call::kGetaddrinfo, 12345), "12345");
  EXPECT_EQ(ErrorName(Call::kGethostbyname, TRY_AGAIN), "TRY_AGAIN");
  EXPECT_EQ(ErrorName(Call::kGethostbyname, NO_ADDRESS), "NO_DATA");
  // Same numbers, different names: the domain decides.
  EXPECT_EQ(ErrorName(Call::kGethostbyname, 2), "TRY_AGAIN");
  EXPECT_EQ(ErrorName(Call::kConnect, 2), "ENOENT");
  EXPECT_EQ(ErrorDomainOf(Call::kGetaddrinfo), ErrorDomain::kEai);
  EXPECT_EQ(ErrorDomainOf(Call::kGethostbyname), ErrorDomain::kHErrno);
  EXPECT_EQ(ErrorDomainOf(Call::kConnect), ErrorDomain::kErrno);
}

// Every documented error of every call in the table has a name, and that
// name parses back to the same code in the call's domain.
TEST(ErrorNameTest, EveryDocumentedErrorOfTheCallTableRoundTrips) {
  for (const CallInfo& info : AllCalls()) {
    for (int error : info.errors) {
      const char* name = FindErrorName(ErrorDomainOf(info.failure), error);
      ASSERT_NE(name, nullptr) << info.name << " error " << error;
      std::optional<ErrorCode> back = ParseErrorName(name);
      ASSERT_TRUE(back.has_value()) << name;
      EXPECT_EQ(*back, (ErrorCode{ErrorDomainOf(info.failure), error})) << name;
    }
  }
}

TEST(ParseErrorNameTest, NamesAndAliasesOfEveryDomain) {
  EXPECT_EQ(ParseErrorName("ECONNREFUSED"), (ErrorCode{ErrorDomain::kErrno, ECONNREFUSED}));
  EXPECT_EQ(ParseErrorName("EWOULDBLOCK"), (ErrorCode{ErrorDomain::kErrno, EAGAIN}));
  EXPECT_EQ(ParseErrorName("ENOTSUP"), (ErrorCode{ErrorDomain::kErrno, EOPNOTSUPP}));
  EXPECT_EQ(ParseErrorName("EAI_AGAIN"), (ErrorCode{ErrorDomain::kEai, EAI_AGAIN}));
  EXPECT_EQ(ParseErrorName("TRY_AGAIN"), (ErrorCode{ErrorDomain::kHErrno, TRY_AGAIN}));
  EXPECT_EQ(ParseErrorName("NO_ADDRESS"), (ErrorCode{ErrorDomain::kHErrno, NO_DATA}));
  EXPECT_EQ(ParseErrorName("econnrefused"), std::nullopt);
  EXPECT_EQ(ParseErrorName("111"), std::nullopt);
  EXPECT_EQ(ParseErrorName("EAI_BOGUS"), std::nullopt);
  EXPECT_EQ(ParseErrorName(""), std::nullopt);
}

TEST(ParseErrorNameTest, EveryListedNameParsesAndEveryResolverCodeRoundTrips) {
  for (const std::string& name : ErrorNameList()) {
    EXPECT_TRUE(ParseErrorName(name).has_value()) << name;
  }
  for (const NamedCode& c : EaiCodes()) {
    EXPECT_EQ(ParseErrorName(c.name), (ErrorCode{ErrorDomain::kEai, c.code}));
    EXPECT_EQ(ErrorName(ErrorDomain::kEai, c.code), c.name);
  }
  for (const NamedCode& c : HErrnoCodes()) {
    EXPECT_EQ(ParseErrorName(c.name), (ErrorCode{ErrorDomain::kHErrno, c.code}));
    EXPECT_EQ(ErrorName(ErrorDomain::kHErrno, c.code), c.name);
  }
}

TEST(SignalNameTest, FixedAndRealTimeSignals) {
  EXPECT_EQ(SignalName(SIGUSR1), "SIGUSR1");
  EXPECT_EQ(SignalName(SIGCHLD), "SIGCHLD");  // not its alias SIGCLD
  EXPECT_EQ(SignalName(SIGABRT), "SIGABRT");  // not its alias SIGIOT
  EXPECT_EQ(SignalName(SIGRTMIN), "SIGRTMIN");
  EXPECT_EQ(SignalName(SIGRTMIN + 3), "SIGRTMIN+3");
  EXPECT_EQ(SignalName(SIGRTMAX), absl::StrCat("SIGRTMIN+", SIGRTMAX - SIGRTMIN));
  EXPECT_EQ(SignalName(0), "0");
  EXPECT_EQ(SignalName(-5), "-5");
  EXPECT_EQ(SignalName(1000), "1000");
}

// Every signal the kernel can deliver has a name that parses back to it,
// and agrees with glibc's own abbreviation where glibc has one.
TEST(SignalNameTest, EverySignalRoundTrips) {
  for (int sig = 1; sig <= SIGRTMAX; ++sig) {
    const std::string name = SignalName(sig);
    if (sig < SIGRTMIN && sig >= 32) {
      EXPECT_EQ(name, absl::StrCat(sig)) << "glibc reserves " << sig;
      continue;
    }
    EXPECT_EQ(ParseSignalName(name), sig) << name;
    // glibc's own abbreviation parses too (it says SIGPOLL for SIGIO, which
    // is what strace and the kernel headers call it).
    if (const char* abbrev = sigabbrev_np(sig); abbrev != nullptr && sig < 32) {
      EXPECT_EQ(ParseSignalName(abbrev), sig) << abbrev;
      if (sig != SIGIO) EXPECT_EQ(name, absl::StrCat("SIG", abbrev));
    }
  }
}

TEST(SignalNameTest, FormatIsCutToTheBufferAndAlwaysTerminated) {
  char buf[6];
  EXPECT_EQ(FormatSignalName(SIGTERM, buf, sizeof(buf)), 5u);
  EXPECT_STREQ(buf, "SIGTE");
  char big[kSignalNameSize];
  EXPECT_EQ(FormatSignalName(SIGRTMIN + 30, big, sizeof(big)), strlen("SIGRTMIN+30"));
  EXPECT_STREQ(big, "SIGRTMIN+30");
  EXPECT_EQ(FormatSignalName(-2147483647 - 1, big, sizeof(big)), 11u);
  EXPECT_STREQ(big, "-2147483648");
}

TEST(ParseSignalNameTest, FormsWithAndWithoutSig) {
  EXPECT_EQ(ParseSignalName("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(ParseSignalName("USR1"), SIGUSR1);
  EXPECT_EQ(ParseSignalName("SIGCLD"), SIGCHLD);
  EXPECT_EQ(ParseSignalName("IOT"), SIGABRT);
  EXPECT_EQ(ParseSignalName("SIGPOLL"), SIGIO);
  EXPECT_EQ(ParseSignalName("SIGRTMIN"), SIGRTMIN);
  EXPECT_EQ(ParseSignalName("RTMIN+3"), SIGRTMIN + 3);
  EXPECT_EQ(ParseSignalName("SIGRTMAX"), SIGRTMAX);
  EXPECT_EQ(ParseSignalName("SIGRTMAX-1"), SIGRTMAX - 1);
  EXPECT_EQ(ParseSignalName(absl::StrCat("SIGRTMIN+", SIGRTMAX - SIGRTMIN + 1)), std::nullopt);
  EXPECT_EQ(ParseSignalName("SIGRTMIN-1"), std::nullopt);
  EXPECT_EQ(ParseSignalName("SIGRTMIN+"), std::nullopt);
  EXPECT_EQ(ParseSignalName("sigusr1"), std::nullopt);
  EXPECT_EQ(ParseSignalName("10"), std::nullopt);
  EXPECT_EQ(ParseSignalName("SIG"), std::nullopt);
  for (const std::string& name : SignalNameList()) {
    EXPECT_TRUE(ParseSignalName(name).has_value()) << name;
  }
}

}  // namespace
}  // namespace ipcfault
