// inject/call.h
//
// The calls ipcfault can intercept, as a typed enum, and the call table: one
// row per call with its name, its call sets, how it reports failure, the
// errnos its man page documents, and the scenario keys that apply to it. The
// scenario parser, `ipcfault calls`, the docs and the tests all read this
// table; text names appear only at the edges.
//
//   const ipcfault::CallInfo& info = ipcfault::GetCallInfo(ipcfault::Call::kConnect);
//   // info.name == "connect", info.sets & ipcfault::kSetNet
//
// Thread-safe: everything here is immutable. The tables (AllCalls,
// AllKeys, AllCallSets and the lookups over them) are built on their first
// use, so that a program that arms nothing never pays for them (call.cc);
// make that first use outside a signal handler, as arming a rule does.

#ifndef IPCFAULT_INJECT_CALL_H_
#define IPCFAULT_INJECT_CALL_H_

#include <bit>
#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ipcfault/inject/call_spec.h"

namespace ipcfault {

// Every interceptable call, in the order of the spec (call_spec.inc). The
// _FORTIFY_SOURCE entry points (__read_chk, __recv_chk, ...) count as the
// call they check.
enum class Call : uint8_t {
#define IPCFAULT_CALL(name, Camel, ...) k##Camel,
#include "ipcfault/inject/call_spec.inc"
};
inline constexpr int kCallCount = 0
#define IPCFAULT_CALL(...) +1
#include "ipcfault/inject/call_spec.inc"
    ;

// A set of calls, one bit per Call. 128 bits: room for the calls to come
// (the engine's hot path still tests one 64-bit word; see engine.h).
__extension__ typedef unsigned __int128 CallMask;
static_assert(kCallCount <= 128, "CallMask has one bit per Call");
constexpr CallMask MaskOf(Call c) { return CallMask{1} << static_cast<int>(c); }
// A CallMask as 64-bit words, for atomics: word i holds calls 64*i to
// 64*i+63.
inline constexpr int kCallMaskWords = (kCallCount + 63) / 64;
constexpr uint64_t CallMaskWord(CallMask mask, int i) {
  return static_cast<uint64_t>(mask >> (64 * i));
}
// How many calls `mask` holds.
constexpr int CountOf(CallMask mask) {
  return std::popcount(static_cast<uint64_t>(mask)) +
         std::popcount(static_cast<uint64_t>(mask >> 64));
}

// The named call sets of the scenario language (%net, %io, %signal, %process,
// %poll, %exec).
enum CallSetBits : uint8_t {
  kSetNet = 1 << 0,
  kSetIo = 1 << 1,
  kSetSignal = 1 << 2,
  kSetProcess = 1 << 3,
  kSetPoll = 1 << 4,  // the waiting calls, and those that set up what is waited on
  kSetExec = 1 << 5,  // the calls that run a program: the exec family, posix_spawn
};

// How a call reports failure; decides what an injected error= does.
enum class FailureStyle : uint8_t {
  kMinusOneErrno,   // returns -1 and sets errno (most calls)
  kReturnsErrno,    // returns the error number itself (pthread_kill)
  kNonzeroErrno,    // returns nonzero and sets errno (raise)
  kEaiCode,         // returns an EAI_* code (getaddrinfo); EAI_SYSTEM + errno
  kNullHErrno,      // returns NULL and sets h_errno (gethostbyname)
  kSigErrErrno,     // returns SIG_ERR and sets errno (signal)
  kCannotFail,      // has no failure (alarm): takes no error=
};

// Which argument (0-based index into the call's parameters) plays which role,
// -1 for none. The interposer's one slow path reads these to build the
// CallSite the engine decides on, and to cut a short transfer.
inline constexpr int8_t kCallerPid = -2;  // `pid`: the call targets the caller
struct ArgRoles {
  int8_t fd = -1;        // the fd operated on (CallSite::fd, fd=, port=)
  int8_t addr = -1;      // a const sockaddr* the call sends to or binds
  int8_t addrlen = -1;   //   and its socklen_t length
  int8_t count = -1;     // a size_t byte count: short= lowers it
  int8_t iov = -1;       // a const iovec*: short= trims a copy
  int8_t iovcnt = -1;    //   and its int count
  int8_t msg = -1;       // a msghdr*: short= trims its iovecs; a const one is
                         //   sent, so its msg_name is the address
  int8_t sig = -1;       // the signal sent (CallSite::sig, sig=)
  int8_t pid = -1;       // the pid signalled (CallSite::target), or kCallerPid
  int8_t result = -1;    // an out-pointer a faked success (retval=0) empties
  int8_t flags = -1;     // send flags: MSG_NOSIGNAL holds back SIGPIPE
  bool fd_defaults_to_socket = false;  // fd= defaults to socket (read/write)
  int8_t program = -1;   // the program an exec or posix_spawn runs: its path,
                         //   the name it looks up in $PATH (searches_path),
                         //   or its fd (fexecve)
  int8_t envp = -1;      //   and its environment (-1: the caller's environ)
  bool searches_path = false;
};

// The scenario keys, as bits, for CallInfo::keys.
enum KeyBits : uint32_t {
  kKeyError = 1 << 0,
  kKeyRetval = 1 << 1,
  kKeySignal = 1 << 2,
  kKeyDelayEnter = 1 << 3,
  kKeyDelayExit = 1 << 4,
  kKeyWhen = 1 << 5,
  kKeyShort = 1 << 6,   // read/write/send/recv family only
  kKeyTimes = 1 << 7,
  kKeyP = 1 << 8,
  kKeySeed = 1 << 9,
  kKeyFd = 1 << 10,     // calls that take an fd
  kKeyPort = 1 << 11,   // calls on a socket or given a sockaddr
  kKeySig = 1 << 12,    // kill family only
  kKeySite = 1 << 13,   // every call: a call-stack hash (ipcfault record)
  kKeyAs = 1 << 14,     // as=strace: strace's meaning (every call)
};

// The scenario keys, declared once: each key's bit, its name in the
// scenario language and what it does, in canonical (formatting) order. The
// parser, the formatter, `ipcfault calls` and docs/calls.md read this list.
struct KeyInfo {
  KeyBits bit;
  absl::string_view name;     // "delay_enter"
  absl::string_view meaning;  // for `ipcfault calls` and docs/calls.md
};
absl::Span<const KeyInfo> AllKeys();
// The key named `name`, or nullptr.
const KeyInfo* KeyByName(absl::string_view name);

// The call sets of the scenario language, declared once: %net, %io,
// %signal, %process, and `all` (bits 0: every call).
struct CallSetInfo {
  uint8_t bits;               // CallSetBits; 0 for `all`
  absl::string_view name;     // "%net"
  absl::string_view meaning;  // for `ipcfault calls` and docs/calls.md
};
absl::Span<const CallSetInfo> AllCallSets();
// The set named `name` ("%io", "all"), or nullptr.
const CallSetInfo* CallSetByName(absl::string_view name);
// The calls in `set`.
CallMask CallsIn(const CallSetInfo& set);

// One row of the call table.
struct CallInfo {
  Call call;
  absl::string_view name;           // as in the scenario language: "accept4"
  uint8_t sets;                     // CallSetBits
  FailureStyle failure;
  absl::Span<const int> errors;     // documented errnos (or EAI_* / h_errno codes)
  uint32_t keys;                    // KeyBits that apply
  bool defaults_to_socket_fds;      // read/write family: default filter fd=socket
  ArgRoles roles;                   // which argument is what
};

// The table, in Call order: AllCalls()[static_cast<int>(c)].call == c.
absl::Span<const CallInfo> AllCalls();

// The row of `call`.
const CallInfo& GetCallInfo(Call call);

// The call named `name` ("connect"), or nullopt.
std::optional<Call> CallByName(absl::string_view name);

// "connect".
absl::string_view CallName(Call call);

// The errors after which a correct caller carries on (retries, or waits and
// retries), which `ipcfault sweep`'s oracle requires a program to survive:
// EINTR (a handler ran; not for close, whose fd is gone either way), EAGAIN
// (on a non-blocking fd only: the caller must check), and for accept
// ECONNABORTED and EPROTO (a connection died in the queue; accept(2) says to
// retry). Empty for calls with none.
absl::Span<const int> TransientErrors(Call call);

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_CALL_H_
