// The call table. One row per Call, in enum order; docs/calls.md renders it.
//
// The errnos are those each call's man page (manpages 6.03) lists under ERRORS
// (or RETURN VALUE for getaddrinfo(3)), minus aliases (EWOULDBLOCK is EAGAIN)
// and kernel-internal codes (ERESTARTNOINTR). Where a protocol adds an error
// the socket man pages only allude to ("additional errors may be generated
// by the underlying protocol modules"), the addition is marked `tcp(7)`.

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
// creating, reaping and signalling processes.
constexpr uint8_t kNet = kSetNet;
constexpr uint8_t kNetIo = kSetNet | kSetIo;
constexpr uint8_t kSig = kSetSignal;
constexpr uint8_t kSigProc = kSetSignal | kSetProcess;
constexpr uint8_t kProc = kSetProcess;

// Keys every call accepts.
constexpr uint32_t kCommon = kKeyError | kKeyRetval | kKeySignal | kKeyDelayEnter |
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

constexpr int kSocketErrors[] = {EACCES,  EAFNOSUPPORT, EINVAL, EMFILE,
                                 ENFILE,  ENOBUFS,      ENOMEM, EPROTONOSUPPORT};
constexpr int kSocketpairErrors[] = {EAFNOSUPPORT, EFAULT,     EMFILE,
                                     ENFILE,       EOPNOTSUPP, EPROTONOSUPPORT};
constexpr int kBindErrors[] = {EACCES, EADDRINUSE,   EADDRNOTAVAIL, EBADF,  EFAULT,
                               EINVAL, ELOOP,        ENAMETOOLONG,  ENOENT, ENOMEM,
                               ENOTDIR, ENOTSOCK,    EROFS};
constexpr int kListenErrors[] = {EADDRINUSE, EBADF, ENOTSOCK, EOPNOTSUPP};
// accept(2) also lists the TCP errors pending on the new socket that Linux
// passes on: ENETDOWN, EPROTO, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
// EOPNOTSUPP, ENETUNREACH.
constexpr int kAcceptErrors[] = {
    EAGAIN,   EBADF,      ECONNABORTED, EFAULT,   EINTR,     EINVAL,      EMFILE,
    ENFILE,   ENOBUFS,    ENOMEM,       ENOTSOCK, EOPNOTSUPP, EPERM,      EPROTO,
    ENETDOWN, ENOPROTOOPT, EHOSTDOWN,   ENONET,   EHOSTUNREACH, ENETUNREACH};
constexpr int kConnectErrors[] = {
    EACCES,      EPERM, EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, EALREADY,
    EBADF,       ECONNREFUSED, EFAULT, EINPROGRESS, EINTR,       EISCONN, ENETUNREACH,
    ENOTSOCK,    EPROTOTYPE,   ETIMEDOUT};
// read(2), plus ECONNRESET and ETIMEDOUT for sockets: tcp(7).
constexpr int kReadErrors[] = {EAGAIN, EBADF, EFAULT,     EINTR,
                               EINVAL, EIO,   EISDIR,     ECONNRESET, ETIMEDOUT};
// readv(2): read(2)'s errors and EINVAL, EOPNOTSUPP.
constexpr int kReadvErrors[] = {EAGAIN, EBADF, EFAULT,     EINTR,     EINVAL,
                                EIO,    EISDIR, EOPNOTSUPP, ECONNRESET, ETIMEDOUT};
// recv(2) (recv, recvfrom, recvmsg), plus ECONNRESET and ETIMEDOUT: tcp(7).
constexpr int kRecvErrors[] = {EAGAIN, EBADF,  ECONNREFUSED, EFAULT,     EINTR,
                               EINVAL, ENOMEM, ENOTCONN,     ENOTSOCK,   ECONNRESET,
                               ETIMEDOUT};
// write(2), plus ECONNRESET for sockets: tcp(7).
constexpr int kWriteErrors[] = {EAGAIN, EBADF, EDESTADDRREQ, EDQUOT, EFAULT, EFBIG,     EINTR,
                                EINVAL, EIO,   ENOSPC,       EPERM,  EPIPE,  ECONNRESET};
// writev(2): write(2)'s errors and EOPNOTSUPP.
constexpr int kWritevErrors[] = {EAGAIN, EBADF, EDESTADDRREQ, EDQUOT, EFAULT,     EFBIG, EINTR,
                                 EINVAL, EIO,   ENOSPC,       EPERM,  EPIPE, EOPNOTSUPP,
                                 ECONNRESET};
// send(2) (send, sendto, sendmsg).
constexpr int kSendErrors[] = {EACCES,   EAGAIN, EALREADY, EBADF,    ECONNRESET, EDESTADDRREQ,
                               EFAULT,   EINTR,  EINVAL,   EISCONN,  EMSGSIZE,   ENOBUFS,
                               ENOMEM,   ENOTCONN, ENOTSOCK, EOPNOTSUPP, EPIPE};
constexpr int kShutdownErrors[] = {EBADF, EINVAL, ENOTCONN, ENOTSOCK};
constexpr int kCloseErrors[] = {EBADF, EINTR, EIO, ENOSPC, EDQUOT};
constexpr int kPollErrors[] = {EFAULT, EINTR, EINVAL, ENOMEM};
constexpr int kEpollWaitErrors[] = {EBADF, EFAULT, EINTR, EINVAL};
// getaddrinfo(3) RETURN VALUE: EAI_* codes (EAI_SYSTEM means "see errno").
constexpr int kGetaddrinfoErrors[] = {EAI_ADDRFAMILY, EAI_AGAIN,  EAI_BADFLAGS, EAI_FAIL,
                                      EAI_FAMILY,     EAI_MEMORY, EAI_NODATA,   EAI_NONAME,
                                      EAI_SERVICE,    EAI_SOCKTYPE, EAI_SYSTEM};
// gethostbyname(3): h_errno values.
constexpr int kGethostbynameErrors[] = {HOST_NOT_FOUND, NO_DATA, NO_RECOVERY, TRY_AGAIN};
constexpr int kKillErrors[] = {EINVAL, EPERM, ESRCH};
// raise(3) documents only "nonzero for failure"; glibc's raise fails as
// tgkill(2) does, with EINVAL for an invalid signal.
constexpr int kRaiseErrors[] = {EINVAL};
// pthread_kill(3): EINVAL; its NOTES name ESRCH for a thread past its lifetime.
constexpr int kPthreadKillErrors[] = {EINVAL, ESRCH};
constexpr int kPidfdSendSignalErrors[] = {EBADF, EINVAL, EPERM, ESRCH};
constexpr int kSigactionErrors[] = {EFAULT, EINVAL};
constexpr int kSigprocmaskErrors[] = {EFAULT, EINVAL};
constexpr int kForkErrors[] = {EAGAIN, ENOMEM, ENOSYS};
// wait(2) for waitpid (EAGAIN is for waitid on a pidfd only).
constexpr int kWaitpidErrors[] = {ECHILD, EINTR, EINVAL, ESRCH};

using F = FailureStyle;

// retval= cannot stand in for getaddrinfo's or gethostbyname's results (a
// list or a struct the caller would read), so neither accepts it.
constexpr std::array<CallInfo, kCallCount> kCalls = {{
    {Call::kSocket, "socket", kNet, F::kMinusOneErrno, kSocketErrors, kCommon, false},
    {Call::kSocketpair, "socketpair", kNet, F::kMinusOneErrno, kSocketpairErrors, kCommon, false},
    {Call::kBind, "bind", kNet, F::kMinusOneErrno, kBindErrors, kOnSocket, false},
    {Call::kListen, "listen", kNet, F::kMinusOneErrno, kListenErrors, kOnSocket, false},
    {Call::kAccept, "accept", kNet, F::kMinusOneErrno, kAcceptErrors, kOnSocket, false},
    {Call::kAccept4, "accept4", kNet, F::kMinusOneErrno, kAcceptErrors, kOnSocket, false},
    {Call::kConnect, "connect", kNet, F::kMinusOneErrno, kConnectErrors, kOnSocket, false},
    {Call::kRead, "read", kNetIo, F::kMinusOneErrno, kReadErrors, kTransfer, true},
    {Call::kReadv, "readv", kNetIo, F::kMinusOneErrno, kReadvErrors, kTransfer, true},
    {Call::kRecv, "recv", kNetIo, F::kMinusOneErrno, kRecvErrors, kTransfer, false},
    {Call::kRecvfrom, "recvfrom", kNetIo, F::kMinusOneErrno, kRecvErrors, kTransfer, false},
    {Call::kRecvmsg, "recvmsg", kNetIo, F::kMinusOneErrno, kRecvErrors, kTransfer, false},
    {Call::kWrite, "write", kNetIo, F::kMinusOneErrno, kWriteErrors, kTransfer, true},
    {Call::kWritev, "writev", kNetIo, F::kMinusOneErrno, kWritevErrors, kTransfer, true},
    {Call::kSend, "send", kNetIo, F::kMinusOneErrno, kSendErrors, kTransfer, false},
    {Call::kSendto, "sendto", kNetIo, F::kMinusOneErrno, kSendErrors, kTransfer, false},
    {Call::kSendmsg, "sendmsg", kNetIo, F::kMinusOneErrno, kSendErrors, kTransfer, false},
    {Call::kShutdown, "shutdown", kNet, F::kMinusOneErrno, kShutdownErrors, kOnSocket, false},
    {Call::kClose, "close", kNetIo, F::kMinusOneErrno, kCloseErrors, kOnSocket, false},
    {Call::kPoll, "poll", kNetIo, F::kMinusOneErrno, kPollErrors, kCommon, false},
    {Call::kEpollWait, "epoll_wait", kNetIo, F::kMinusOneErrno, kEpollWaitErrors, kOnFd, false},
    {Call::kGetaddrinfo, "getaddrinfo", kNet, F::kEaiCode, kGetaddrinfoErrors,
     kCommon & ~kKeyRetval, false},
    {Call::kGethostbyname, "gethostbyname", kNet, F::kNullHErrno, kGethostbynameErrors,
     kCommon & ~kKeyRetval, false},
    {Call::kKill, "kill", kSigProc, F::kMinusOneErrno, kKillErrors, kSends, false},
    {Call::kRaise, "raise", kSig, F::kNonzeroErrno, kRaiseErrors, kSends, false},
    {Call::kPthreadKill, "pthread_kill", kSig, F::kReturnsErrno, kPthreadKillErrors, kSends,
     false},
    {Call::kPidfdSendSignal, "pidfd_send_signal", kSigProc, F::kMinusOneErrno,
     kPidfdSendSignalErrors, kSends | kKeyFd, false},
    {Call::kSigaction, "sigaction", kSig, F::kMinusOneErrno, kSigactionErrors, kCommon, false},
    {Call::kSigprocmask, "sigprocmask", kSig, F::kMinusOneErrno, kSigprocmaskErrors, kCommon,
     false},
    {Call::kFork, "fork", kProc, F::kMinusOneErrno, kForkErrors, kCommon, false},
    {Call::kWaitpid, "waitpid", kProc, F::kMinusOneErrno, kWaitpidErrors, kCommon, false},
}};

}  // namespace

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
