// inject/internal/interpose_path.h
//
// The interposer's decision path, for the wrappers the spec cannot generate
// (interpose_stdio.cc, interpose_process.cc), and the kernel-fidelity rules
// every wrapper applies (docs/fidelity.md). Not a public API.
//
//   Injection injection = EnterCall({.call = Call::kRead, .fd = fd});
//   ... apply it ...
//   LeaveCall(injection);
//
// EnterCall asks the engine (unless the thread is already inside it) and
// runs what comes before the call: delay_enter, then signal=. LeaveCall runs
// delay_exit. Both preserve errno; both are async-signal-safe.

#ifndef IPCFAULT_INJECT_INTERNAL_INTERPOSE_PATH_H_
#define IPCFAULT_INJECT_INTERNAL_INTERPOSE_PATH_H_

#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <cstddef>

#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault::inject_internal {

Injection EnterCall(const CallSite& site);
void LeaveCall(const Injection& injection);
// Delivers `sig` to the calling thread now; its handler runs before this
// returns (unless the signal is blocked or ignored: then as the kernel has
// it, pending or discarded).
void SignalCallingThread(int sig);

// The preload library's check before an exec (internal/preload_exec.cc):
// the wrappers of the exec family and posix_spawn (the rows with a
// `program` role) call it just before the real call, with the program's
// path (with `search`, the name execvp looks up in $PATH) and the
// environment the program gets. Installed once, by the preload library's
// constructor; the linked-in interposer has none. It must be
// async-signal-safe (exec runs in forked and vforked children) and keep
// errno. While one is installed, those wrappers take their slow path.
using ExecWatch = void (*)(const char* path, bool search, char* const envp[]);
void SetExecWatch(ExecWatch watch);
bool ExecWatched();

// --- Kernel fidelity (docs/fidelity.md) ------------------------------------

// Whether `fd` is a socket that keeps message boundaries (SOCK_DGRAM,
// SOCK_SEQPACKET, SOCK_RAW, SOCK_RDM): a send there goes whole or fails.
bool IsDatagramSocket(int fd);

// After a rule made a sending call fail with EPIPE: sends SIGPIPE to the
// calling thread as the kernel would (on a socket or pipe, unless `flags`
// has MSG_NOSIGNAL and unless the rule asked for strace's meaning).
// The kernel's own rules for an ignored or blocked SIGPIPE then apply.
void ApplyEpipeSignal(Call call, int fd, int flags, const Injection& injection);

// Whether a signal= of SIGPIPE must be held back: the call passed
// MSG_NOSIGNAL, and the kernel never raises SIGPIPE for such a call.
bool HoldsBackSigpipe(int flags);

// A waiting call that returns 0 or fails with EINTR writes every revents
// (poll, ppoll); select and pselect zero their sets on a timeout.
void ClearRevents(struct pollfd* fds, nfds_t nfds);
void ClearFdSets(int nfds, fd_set* r, fd_set* w, fd_set* e);

// The non-blocking connect path. If the kernel would report `error` for
// this connect asynchronously (a non-blocking TCP socket, an error that
// arrives from the network), makes the kernel do so: connects `fd`, without
// blocking, to a loopback port that refuses, so that the socket polls ready
// with an error and getsockopt(SO_ERROR) returns it. Returns true, with
// connect's result in *result and errno set (EINPROGRESS), if it did; false
// if the error must be returned by connect itself.
bool ConnectAsync(int fd, int error, int* result);

// getsockopt(SO_ERROR) on a socket ConnectAsync failed with an error other
// than ECONNREFUSED: reports that error in place of the kernel's
// ECONNREFUSED, once, as the kernel clears it. A no-op otherwise.
void RewriteSoError(int fd, int level, int optname, void* optval,
                    const socklen_t* optlen, int result);
// Whether any such rewrite waits (one relaxed load): getsockopt's wrapper
// then takes its slow path with no rule armed.
bool SoErrorRewritesPending();

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_INTERPOSE_PATH_H_
