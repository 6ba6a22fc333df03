// The call table: call_spec.inc expanded, one CallInfo per row, in enum
// order; docs/calls.md renders it.

#include "ipcfault/inject/call.h"

#include <errno.h>
#include <netdb.h>

#include <array>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ipcfault {
namespace {

// Call sets. %net: everything that touches a network socket or a name
// lookup (the read/write family included: its default fd=socket filter keeps
// it to sockets). %io: the calls that move or wait for data, and close.
// %signal: sending signals and changing dispositions or masks. %process:
// creating, reaping and signalling processes, and running programs (exec,
// posix_spawn). %exec: the calls that run a program, whatever libc function
// the program called (strace sees execve for every one).

// Keys every call accepts.
constexpr uint32_t kCommon = kKeyAs | kKeyError | kKeyRetval | kKeySignal | kKeyDelayEnter |
                             kKeyDelayExit | kKeyWhen | kKeyTimes | kKeyP | kKeySeed |
                             kKeySite;
// Calls on an fd that is (or may be) a socket with a local or peer address.
constexpr uint32_t kOnSocket = kCommon | kKeyFd | kKeyPort;
// The read/write/send/recv family: short transfers too.
constexpr uint32_t kTransfer = kOnSocket | kKeyShort;
// Calls on an fd that has no port (epoll fd, pidfd).
constexpr uint32_t kOnFd = kCommon | kKeyFd;
// The kill family: the signal sent can be filtered.
constexpr uint32_t kSends = kCommon | kKeySig;
// The exec family: an exec that succeeds never returns (no retval=) and
// nothing runs after it (no delay_exit=).
constexpr uint32_t kExec = kCommon & ~kKeyRetval & ~kKeyDelayExit;

// Each row's documented errors, as an array named after its call, after a
// leading 0 (a row may list none: alarm cannot fail).
#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ARGS, FAILURE, ROLES, SETS, KEYS, ERRORS) \
  constexpr int k##Camel##Errors[] = {0 IPCFAULT_SPEC_LEADING_COMMA(ERRORS)};
#include "ipcfault/inject/call_spec.inc"

constexpr std::array<CallInfo, kCallCount> kCalls = {{
#define IPCFAULT_CALL(symbol, Camel, RET, PARAMS, ARGS, FAILURE, ROLES, SETS, KEYS, ERRORS) \
  {.call = Call::k##Camel,                                                             \
   .name = #symbol,                                                                      \
   .sets = static_cast<uint8_t>(SETS),                                                 \
   .failure = FailureStyle::FAILURE,                                                   \
   .errors = absl::Span<const int>(k##Camel##Errors).subspan(1),                                                         \
   .keys = static_cast<uint32_t>(KEYS),                                                \
   .defaults_to_socket_fds = ArgRoles{IPCFAULT_SPEC_UNPAREN ROLES}.fd_defaults_to_socket, \
   .roles = ArgRoles{IPCFAULT_SPEC_UNPAREN ROLES}},
#include "ipcfault/inject/call_spec.inc"
}};

constexpr KeyInfo kKeys[] = {
    {kKeyError, "error", "fail with this error (name or number)"},
    {kKeyRetval, "retval", "return this value without making the call"},
    {kKeyShort, "short", "transfer at most this many bytes"},
    {kKeySignal, "signal", "deliver this signal to the caller on entry"},
    {kKeyDelayEnter, "delay_enter", "sleep before the call (s ms us ns; bare: us)"},
    {kKeyDelayExit, "delay_exit", "sleep after the call"},
    {kKeyWhen, "when", "first[..last][+[step]]: which matching calls, from 1"},
    {kKeyTimes, "times", "fire at most this many times"},
    {kKeyP, "p", "fire with this probability"},
    {kKeySeed, "seed", "the rule's own seed for p="},
    {kKeyFd, "fd", "only calls on socket|pipe|file|any|N fds"},
    {kKeyPort, "port", "only calls whose local or peer port is this"},
    {kKeySig, "sig", "only calls that send this signal"},
    {kKeySite, "site", "only calls from this call stack (ipcfault record)"},
    {kKeyAs, "as", "as=strace: count and fail exactly as strace does (docs/fidelity.md)"},
};

constexpr CallSetInfo kCallSets[] = {
    {kSetNet, "%net", "every call on a network socket or a name lookup"},
    {kSetIo, "%io", "the calls that move or wait for data, and close"},
    {kSetSignal, "%signal", "sending signals and changing dispositions or masks"},
    {kSetProcess, "%process", "creating, reaping and signalling processes; exec, posix_spawn"},
    {kSetPoll, "%poll", "the waiting calls, and those that set up what is waited on"},
    {kSetExec, "%exec", "every call that runs a program (strace's execve): exec*, posix_spawn*"},
    {0, "all", "every call in the table"},
};

}  // namespace

absl::Span<const KeyInfo> AllKeys() { return kKeys; }

const KeyInfo* KeyByName(absl::string_view name) {
  for (const KeyInfo& key : kKeys) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

absl::Span<const CallSetInfo> AllCallSets() { return kCallSets; }

const CallSetInfo* CallSetByName(absl::string_view name) {
  for (const CallSetInfo& set : kCallSets) {
    if (set.name == name) return &set;
  }
  return nullptr;
}

CallMask CallsIn(const CallSetInfo& set) {
  CallMask mask = 0;
  for (const CallInfo& info : kCalls) {
    if (set.bits == 0 || (info.sets & set.bits) != 0) mask |= MaskOf(info.call);
  }
  return mask;
}

absl::Span<const CallInfo> AllCalls() { return kCalls; }

const CallInfo& GetCallInfo(Call call) { return kCalls[static_cast<int>(call)]; }

std::optional<Call> CallByName(absl::string_view name) {
  for (const CallInfo& info : kCalls) {
    if (info.name == name) return info.call;
  }
  return std::nullopt;
}

absl::string_view CallName(Call call) { return GetCallInfo(call).name; }

namespace {
constexpr int kTransientAccept[] = {EINTR, EAGAIN, ECONNABORTED, EPROTO};
constexpr int kTransientIo[] = {EINTR, EAGAIN};
constexpr int kTransientIntr[] = {EINTR};
}  // namespace

absl::Span<const int> TransientErrors(Call call) {
  switch (call) {
    case Call::kAccept:
    case Call::kAccept4:
      return kTransientAccept;
    case Call::kRead: case Call::kReadv: case Call::kRecv: case Call::kRecvfrom:
    case Call::kRecvmsg: case Call::kWrite: case Call::kWritev: case Call::kSend:
    case Call::kSendto: case Call::kSendmsg:
      return kTransientIo;
    case Call::kClose:
      return {};
    default: {
      const CallInfo& info = GetCallInfo(call);
      for (int e : info.errors) {
        if (e == EINTR) return kTransientIntr;
      }
      return {};
    }
  }
}

}  // namespace ipcfault
