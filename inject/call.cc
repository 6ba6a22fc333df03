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

// The tables below hold pointers (names, lists of errors). In a shared
// object, such as the preload library, the loader relocates every pointer
// in constant data when a program starts, whether or not anything reads
// it, and each page it writes is a page copied: ~15 us apiece on a VM
// (docs/run.md, "The library's own start"). So each table is built on
// first use, row by row by code (an aggregate initializer would be laid
// out as constant data to copy from, relocations and all): when a
// scenario is parsed, a rule armed or the calls listed, never in a
// program that arms nothing. A fire needs an armed rule, and the engine
// walks the call table as it publishes each rule (PublishLocked,
// engine.cc), so the names a fire logs are built before any interposed
// call, in a signal handler perhaps, can ask for them.

std::array<CallInfo, kCallCount> BuildCalls() {
  std::array<CallInfo, kCallCount> calls;
#define IPCFAULT_CALL(symbol, Camel, RET, PARAMS, ARGS, FAILURE, ROLES, SETS, KEYS, ERRORS) \
  {                                                                                     \
    CallInfo& row = calls[static_cast<int>(Call::k##Camel)];                            \
    row.call = Call::k##Camel;                                                          \
    row.name = #symbol;                                                                 \
    row.sets = static_cast<uint8_t>(SETS);                                              \
    row.failure = FailureStyle::FAILURE;                                                \
    row.errors = absl::Span<const int>(k##Camel##Errors).subspan(1);                    \
    row.keys = static_cast<uint32_t>(KEYS);                                             \
    row.defaults_to_socket_fds = ArgRoles{IPCFAULT_SPEC_UNPAREN ROLES}.fd_defaults_to_socket; \
    row.roles = ArgRoles{IPCFAULT_SPEC_UNPAREN ROLES};                                  \
  }
#include "ipcfault/inject/call_spec.inc"
  return calls;
}

// The table Build() returns, built on its first use.
template <typename Table, Table (*Build)()>
const Table& BuiltOnce() {
  static const Table table = Build();
  return table;
}

const std::array<CallInfo, kCallCount>& Calls() {
  return BuiltOnce<std::array<CallInfo, kCallCount>, &BuildCalls>();
}

#define IPCFAULT_COUNT_ROW(...) +1

// One row of a {bits, name, meaning} table, rows[n], by code.
#define IPCFAULT_NAMED_ROW(rows, bits_field, bits_, name_, meaning_) \
  rows[n].bits_field = bits_;                                        \
  rows[n].name = name_;                                              \
  rows[n].meaning = meaning_;                                        \
  ++n;

// The rule keys: KEY(bit, name, meaning).
#define IPCFAULT_KEYS(KEY)                                                              \
  KEY(kKeyError, "error", "fail with this error (name or number)")                      \
  KEY(kKeyRetval, "retval", "return this value without making the call")                \
  KEY(kKeyShort, "short", "transfer at most this many bytes")                           \
  KEY(kKeySignal, "signal", "deliver this signal to the caller on entry")               \
  KEY(kKeyDelayEnter, "delay_enter", "sleep before the call (s ms us ns; bare: us)")    \
  KEY(kKeyDelayExit, "delay_exit", "sleep after the call")                              \
  KEY(kKeyWhen, "when", "first[..last][+[step]]: which matching calls, from 1")         \
  KEY(kKeyTimes, "times", "fire at most this many times")                               \
  KEY(kKeyP, "p", "fire with this probability")                                         \
  KEY(kKeySeed, "seed", "the rule's own seed for p=")                                   \
  KEY(kKeyFd, "fd", "only calls on socket|pipe|file|any|N fds")                         \
  KEY(kKeyPort, "port", "only calls whose local or peer port is this")                  \
  KEY(kKeySig, "sig", "only calls that send this signal")                               \
  KEY(kKeySite, "site", "only calls from this call stack (ipcfault record)")            \
  KEY(kKeyAs, "as", "as=strace: count and fail exactly as strace does (docs/fidelity.md)")

constexpr size_t kKeyCount = 0 IPCFAULT_KEYS(IPCFAULT_COUNT_ROW);

std::array<KeyInfo, kKeyCount> BuildKeys() {
  std::array<KeyInfo, kKeyCount> keys;
  size_t n = 0;
#define IPCFAULT_KEY_ROW(...) IPCFAULT_NAMED_ROW(keys, bit, __VA_ARGS__)
  IPCFAULT_KEYS(IPCFAULT_KEY_ROW)
#undef IPCFAULT_KEY_ROW
  return keys;
}

const std::array<KeyInfo, kKeyCount>& Keys() {
  return BuiltOnce<std::array<KeyInfo, kKeyCount>, &BuildKeys>();
}

// The call sets: SET(bits, name, meaning).
#define IPCFAULT_CALL_SETS(SET)                                                            \
  SET(kSetNet, "%net", "every call on a network socket or a name lookup")                  \
  SET(kSetIo, "%io", "the calls that move or wait for data, and close")                    \
  SET(kSetSignal, "%signal", "sending signals and changing dispositions or masks")         \
  SET(kSetProcess, "%process",                                                             \
      "creating, reaping and signalling processes; exec, posix_spawn")                     \
  SET(kSetPoll, "%poll", "the waiting calls, and those that set up what is waited on")     \
  SET(kSetExec, "%exec",                                                                   \
      "every call that runs a program (strace's execve): exec*, posix_spawn*")             \
  SET(0, "all", "every call in the table")

constexpr size_t kCallSetCount = 0 IPCFAULT_CALL_SETS(IPCFAULT_COUNT_ROW);

std::array<CallSetInfo, kCallSetCount> BuildCallSets() {
  std::array<CallSetInfo, kCallSetCount> sets;
  size_t n = 0;
#define IPCFAULT_SET_ROW(...) IPCFAULT_NAMED_ROW(sets, bits, __VA_ARGS__)
  IPCFAULT_CALL_SETS(IPCFAULT_SET_ROW)
#undef IPCFAULT_SET_ROW
  return sets;
}

const std::array<CallSetInfo, kCallSetCount>& CallSets() {
  return BuiltOnce<std::array<CallSetInfo, kCallSetCount>, &BuildCallSets>();
}

}  // namespace

absl::Span<const KeyInfo> AllKeys() { return Keys(); }

const KeyInfo* KeyByName(absl::string_view name) {
  for (const KeyInfo& key : Keys()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

absl::Span<const CallSetInfo> AllCallSets() { return CallSets(); }

const CallSetInfo* CallSetByName(absl::string_view name) {
  for (const CallSetInfo& set : CallSets()) {
    if (set.name == name) return &set;
  }
  return nullptr;
}

CallMask CallsIn(const CallSetInfo& set) {
  CallMask mask = 0;
  for (const CallInfo& info : Calls()) {
    if (set.bits == 0 || (info.sets & set.bits) != 0) mask |= MaskOf(info.call);
  }
  return mask;
}

absl::Span<const CallInfo> AllCalls() { return Calls(); }

const CallInfo& GetCallInfo(Call call) { return Calls()[static_cast<int>(call)]; }

std::optional<Call> CallByName(absl::string_view name) {
  for (const CallInfo& info : Calls()) {
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
