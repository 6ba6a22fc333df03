// inject/call_spec.h
//
// The machinery around the call spec (call_spec.inc): the system headers its
// rows' types need, and the helper macros the expansions use. The spec is an
// X-macro list; every place that needs "one thing per call" includes this
// header, defines IPCFAULT_CALL (and, if it cares, IPCFAULT_FORTIFIED), and
// includes call_spec.inc, which expands one row at a time and then undefines
// both macros:
//
//   #include "ipcfault/inject/call_spec.h"
//   enum class Call : uint8_t {
//   #define IPCFAULT_CALL(name, Camel, ...) k##Camel,
//   #include "ipcfault/inject/call_spec.inc"
//   };
//
// The row format is documented at the top of call_spec.inc and in
// docs/call_spec.md ("How to add a call").

#ifndef IPCFAULT_INJECT_CALL_SPEC_H_
#define IPCFAULT_INJECT_CALL_SPEC_H_

// The types the rows' signatures use.
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <fcntl.h>  // splice
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// glibc's <sys/pidfd.h> (2.36) may be missing on older systems: declare the
// one function of it in the spec, exactly as glibc does.
extern "C" int pidfd_send_signal(int pidfd, int sig, siginfo_t* info,
                                 unsigned int flags) __THROW;

// (a, b, c) -> a, b, c
#define IPCFAULT_SPEC_UNPAREN(...) __VA_ARGS__
// (a, b, c) -> , a, b, c     () -> (nothing)
#define IPCFAULT_SPEC_COMMA_ARGS(...) __VA_OPT__(, ) __VA_ARGS__
#define IPCFAULT_SPEC_LEADING_COMMA(args) IPCFAULT_SPEC_COMMA_ARGS args

#endif  // IPCFAULT_INJECT_CALL_SPEC_H_
