#include "ipcfault/inject/call.h"

#include <errno.h>
#include <netdb.h>

#include <string>

#include "absl/container/flat_hash_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ipcfault {
namespace {

using ::testing::Contains;
using ::testing::Each;
using ::testing::IsSupersetOf;
using ::testing::Lt;
using ::testing::Optional;

TEST(CallTableTest, HasOneRowPerCallInEnumOrder) {
  ASSERT_EQ(AllCalls().size(), static_cast<size_t>(kCallCount));
  for (int i = 0; i < kCallCount; ++i) {
    EXPECT_EQ(static_cast<int>(AllCalls()[i].call), i) << AllCalls()[i].name;
    EXPECT_EQ(&GetCallInfo(static_cast<Call>(i)), &AllCalls()[i]);
  }
}

TEST(CallTableTest, NamesAreUniqueAndRoundTrip) {
  absl::flat_hash_set<absl::string_view> names;
  for (const CallInfo& info : AllCalls()) {
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate name " << info.name;
    EXPECT_THAT(CallByName(info.name), Optional(info.call));
    EXPECT_EQ(CallName(info.call), info.name);
  }
  EXPECT_EQ(CallByName("conect"), std::nullopt);
  EXPECT_EQ(CallByName(""), std::nullopt);
  EXPECT_EQ(CallByName("Connect"), std::nullopt);
}

bool Has(Call call, uint32_t key) { return (GetCallInfo(call).keys & key) != 0; }
bool In(Call call, uint8_t set) { return (GetCallInfo(call).sets & set) != 0; }

TEST(CallTableTest, EveryRowDocumentsUniqueErrors) {
  for (const CallInfo& info : AllCalls()) {
    // alarm(2) documents no error: it cannot fail, and takes no error=.
    EXPECT_EQ(info.errors.empty(), info.failure == FailureStyle::kCannotFail) << info.name;
    EXPECT_EQ(Has(info.call, kKeyError), info.failure != FailureStyle::kCannotFail)
        << info.name;
    absl::flat_hash_set<int> seen;
    for (int e : info.errors) {
      EXPECT_TRUE(seen.insert(e).second) << info.name << " lists " << e << " twice";
    }
  }
}

TEST(CallTableTest, ErrorsMatchTheFailureStyle) {
  for (const CallInfo& info : AllCalls()) {
    switch (info.failure) {
      case FailureStyle::kEaiCode:
        EXPECT_THAT(info.errors, Each(Lt(0))) << info.name;  // glibc's EAI_* are negative
        EXPECT_THAT(info.errors, Contains(EAI_AGAIN));
        break;
      case FailureStyle::kNullHErrno:
        EXPECT_THAT(info.errors, Contains(HOST_NOT_FOUND));
        EXPECT_THAT(info.errors, Contains(TRY_AGAIN));
        break;
      default:
        for (int e : info.errors) {
          EXPECT_GT(e, 0) << info.name;
          EXPECT_NE(strerrorname_np(e), nullptr) << info.name << " lists unnamed errno " << e;
        }
    }
  }
}

TEST(CallTableTest, EveryCallIsInASetAndAcceptsTheCommonKeys) {
  constexpr uint32_t kCommon = kKeySignal | kKeyDelayEnter | kKeyWhen | kKeyTimes | kKeyP |
                               kKeySeed | kKeyAs;
  for (const CallInfo& info : AllCalls()) {
    EXPECT_NE(info.sets, 0) << info.name;
    EXPECT_EQ(info.keys & kCommon, kCommon) << info.name;
    // vfork's wrapper jumps to the real vfork, and an exec that succeeds
    // never returns: nothing runs after them.
    const bool execs = info.roles.program >= 0 && info.failure == FailureStyle::kMinusOneErrno;
    EXPECT_EQ(Has(info.call, kKeyDelayExit), info.call != Call::kVfork && !execs) << info.name;
  }
}

// The exec family and posix_spawn: each names the program it runs (the
// preload library checks it), takes no retval= (no value stands for a new
// program, or for a child never made), and fails as its man page says.
TEST(CallTableTest, ExecAndSpawnRows) {
  const absl::flat_hash_set<Call> execs = {Call::kExecve, Call::kExecv,   Call::kExecvp,
                                           Call::kExecvpe, Call::kFexecve, Call::kExecl,
                                           Call::kExeclp, Call::kExecle};
  const absl::flat_hash_set<Call> spawns = {Call::kPosixSpawn, Call::kPosixSpawnp};
  for (const CallInfo& info : AllCalls()) {
    const bool exec = execs.contains(info.call);
    const bool spawn = spawns.contains(info.call);
    EXPECT_EQ(info.roles.program >= 0, exec || spawn) << info.name;
    if (!exec && !spawn) continue;
    EXPECT_TRUE(In(info.call, kSetProcess)) << info.name;
    EXPECT_TRUE(In(info.call, kSetExec)) << info.name;
    EXPECT_FALSE(Has(info.call, kKeyRetval)) << info.name;
    EXPECT_EQ(info.failure,
              spawn ? FailureStyle::kReturnsErrno : FailureStyle::kMinusOneErrno)
        << info.name;
    EXPECT_THAT(info.errors, IsSupersetOf({E2BIG, EACCES, ENOENT, ENOEXEC, ENOMEM, ETXTBSY}))
        << info.name;
    EXPECT_EQ(Has(info.call, kKeyFd), info.call == Call::kFexecve) << info.name;
  }
  EXPECT_TRUE(GetCallInfo(Call::kExecvp).roles.searches_path);
  EXPECT_TRUE(GetCallInfo(Call::kPosixSpawnp).roles.searches_path);
  EXPECT_FALSE(GetCallInfo(Call::kExecve).roles.searches_path);
  EXPECT_EQ(GetCallInfo(Call::kPosixSpawn).roles.envp, 5);
  EXPECT_THAT(GetCallInfo(Call::kPosixSpawn).errors, IsSupersetOf({EAGAIN, ENOSYS}));
}

TEST(CallTableTest, ShortAppliesToTheTransferFamilyOnly) {
  const absl::flat_hash_set<Call> transfer = {
      Call::kRead, Call::kReadv, Call::kRecv,  Call::kRecvfrom, Call::kRecvmsg,
      Call::kWrite, Call::kWritev, Call::kSend, Call::kSendto,  Call::kSendmsg,
      // short= is a number of messages for these two (docs/fidelity.md).
      Call::kRecvmmsg, Call::kSendmmsg,
      // The kernel moves fewer bytes than asked: short= in bytes.
      Call::kSendfile, Call::kSplice};
  for (const CallInfo& info : AllCalls()) {
    EXPECT_EQ(Has(info.call, kKeyShort), transfer.contains(info.call)) << info.name;
    // Every transfer is %io, and takes an fd that may be a socket.
    if (transfer.contains(info.call)) {
      EXPECT_TRUE(In(info.call, kSetIo)) << info.name;
      EXPECT_TRUE(Has(info.call, kKeyFd)) << info.name;
      EXPECT_TRUE(Has(info.call, kKeyPort)) << info.name;
    }
  }
}

TEST(CallTableTest, SigAppliesToTheKillFamilyOnly) {
  const absl::flat_hash_set<Call> senders = {Call::kKill, Call::kRaise, Call::kPthreadKill,
                                             Call::kPidfdSendSignal, Call::kTgkill,
                                             Call::kSigqueue};
  for (const CallInfo& info : AllCalls()) {
    EXPECT_EQ(Has(info.call, kKeySig), senders.contains(info.call)) << info.name;
    if (senders.contains(info.call)) {
      EXPECT_TRUE(In(info.call, kSetSignal)) << info.name;
    }
  }
}

TEST(CallTableTest, OnlyTheReadWriteFamilyDefaultsToSocketFds) {
  for (const CallInfo& info : AllCalls()) {
    bool expected = info.call == Call::kRead || info.call == Call::kReadv ||
                    info.call == Call::kWrite || info.call == Call::kWritev;
    EXPECT_EQ(info.defaults_to_socket_fds, expected) << info.name;
    // A default fd filter needs the fd= key.
    if (info.defaults_to_socket_fds) {
      EXPECT_TRUE(Has(info.call, kKeyFd)) << info.name;
    }
  }
}

TEST(CallTableTest, PortNeedsAnFd) {
  for (const CallInfo& info : AllCalls()) {
    if (Has(info.call, kKeyPort)) {
      EXPECT_TRUE(Has(info.call, kKeyFd)) << info.name;
    }
  }
  EXPECT_TRUE(Has(Call::kConnect, kKeyPort));
  EXPECT_TRUE(Has(Call::kBind, kKeyPort));
  EXPECT_FALSE(Has(Call::kSocket, kKeyPort));
  EXPECT_FALSE(Has(Call::kSocket, kKeyFd));
  EXPECT_FALSE(Has(Call::kPoll, kKeyFd));
}

TEST(CallTableTest, FailureStyles) {
  EXPECT_EQ(GetCallInfo(Call::kGetaddrinfo).failure, FailureStyle::kEaiCode);
  EXPECT_EQ(GetCallInfo(Call::kGethostbyname).failure, FailureStyle::kNullHErrno);
  EXPECT_EQ(GetCallInfo(Call::kPthreadKill).failure, FailureStyle::kReturnsErrno);
  EXPECT_EQ(GetCallInfo(Call::kRaise).failure, FailureStyle::kNonzeroErrno);
  EXPECT_EQ(GetCallInfo(Call::kConnect).failure, FailureStyle::kMinusOneErrno);
  // Results retval= could not fake.
  EXPECT_FALSE(Has(Call::kGetaddrinfo, kKeyRetval));
  EXPECT_FALSE(Has(Call::kGethostbyname, kKeyRetval));
}

TEST(CallTableTest, SetsAsDocumented) {
  auto members = [](uint8_t set) {
    std::string out;
    for (const CallInfo& info : AllCalls()) {
      if (info.sets & set) out += std::string(info.name) + " ";
    }
    return out;
  };
  EXPECT_EQ(members(kSetNet),
            "socket socketpair bind listen accept accept4 connect read readv recv recvfrom "
            "recvmsg write writev send sendto sendmsg shutdown close poll epoll_wait "
            "getaddrinfo gethostbyname getsockopt setsockopt getsockname getpeername "
            "recvmmsg sendmmsg sendfile select pselect ppoll epoll_pwait epoll_pwait2 "
            "epoll_create epoll_create1 epoll_ctl ");
  EXPECT_EQ(members(kSetIo),
            "read readv recv recvfrom recvmsg write writev send sendto sendmsg close poll "
            "epoll_wait recvmmsg sendmmsg sendfile splice pipe pipe2 dup dup2 dup3 eventfd "
            "select pselect ppoll epoll_pwait epoll_pwait2 ");
  EXPECT_EQ(members(kSetSignal),
            "kill raise pthread_kill pidfd_send_signal sigaction sigprocmask signal "
            "pthread_sigmask sigsuspend pause sigwait sigwaitinfo sigtimedwait signalfd alarm "
            "tgkill sigqueue ");
  EXPECT_EQ(members(kSetProcess),
            "kill pidfd_send_signal fork waitpid tgkill sigqueue wait wait3 wait4 waitid vfork "
            "execve execv execvp execvpe fexecve execl execlp execle posix_spawn posix_spawnp ");
  EXPECT_EQ(members(kSetExec),
            "execve execv execvp execvpe fexecve execl execlp execle posix_spawn posix_spawnp ");
  EXPECT_EQ(members(kSetPoll),
            "poll epoll_wait eventfd select pselect ppoll epoll_pwait epoll_pwait2 epoll_create "
            "epoll_create1 epoll_ctl sigsuspend pause sigwait sigwaitinfo sigtimedwait signalfd ");
}

TEST(CallTableTest, ManPageSamples) {
  EXPECT_THAT(GetCallInfo(Call::kConnect).errors, Contains(ECONNREFUSED));
  EXPECT_THAT(GetCallInfo(Call::kAccept).errors, Contains(EMFILE));
  EXPECT_THAT(GetCallInfo(Call::kSend).errors, Contains(EPIPE));
  EXPECT_THAT(GetCallInfo(Call::kKill).errors, Contains(EPERM));
  EXPECT_THAT(GetCallInfo(Call::kWaitpid).errors, Contains(ECHILD));
  EXPECT_THAT(GetCallInfo(Call::kFork).errors, Contains(EAGAIN));
}

}  // namespace
}  // namespace ipcfault
