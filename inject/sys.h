// inject/sys.h
//
// Sys: the system calls of socket and signal IPC behind an interface, for
// code that takes its dependencies by injection. Production code calls
// through a Sys& (RealSys() makes the real calls); a unit test passes a
// MockSys (mock_sys.h) and scripts each call's result, errno included.
//
//   class Client {
//    public:
//     explicit Client(ipcfault::Sys& sys = ipcfault::RealSys()) : sys_(sys) {}
//     bool Connect(const sockaddr_in& addr) {
//       int fd = sys_.Socket(AF_INET, SOCK_STREAM, 0);
//       if (fd < 0) return false;
//       if (sys_.Connect(fd, reinterpret_cast<const sockaddr*>(&addr),
//                        sizeof(addr)) != 0) { ... errno ... }
//       ...
//     }
//    private:
//     ipcfault::Sys& sys_;
//   };
//
// Each method has the signature and the contract (return value, errno) of
// the libc call it is named after: PthreadKill returns the error number,
// Getaddrinfo an EAI_* code, Gethostbyname NULL with h_errno. This is the other way to reach error
// paths: the interposer (//inject:interpose) fails the real calls of code
// that calls libc directly; Sys needs the code to be written against it, but
// no linking tricks, and a mock can check the arguments too.
//
// Thread-safe: RealSys() is stateless.

#ifndef IPCFAULT_INJECT_SYS_H_
#define IPCFAULT_INJECT_SYS_H_

#include <netdb.h>

#include "ipcfault/inject/call_spec.h"

namespace ipcfault {

// One method per call of the call spec (call_spec.inc), named as its Call
// (Connect for Call::kConnect), with the libc call's parameters, in the
// spec's order; and Freeaddrinfo, which cannot fail but frees what
// Getaddrinfo returns. The variadic execl, execlp and execle take an argv
// (execv's shape): Execl(path, argv) calls execl(path, argv[0], ...,
// nullptr).
class Sys {
 public:
  virtual ~Sys() = default;

#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ...) virtual RET Camel PARAMS = 0;
#include "ipcfault/inject/call_spec.inc"

  virtual void Freeaddrinfo(struct addrinfo* res) = 0;
};

// The Sys that makes the real calls (through the interposer, if it is
// linked: rules armed with ipcfault::Arm apply to them as to any call).
Sys& RealSys();

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_SYS_H_
