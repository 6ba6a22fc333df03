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
// the libc call it is named after. This is the other way to reach error
// paths: the interposer (//inject:interpose) fails the real calls of code
// that calls libc directly; Sys needs the code to be written against it, but
// no linking tricks, and a mock can check the arguments too.
//
// Thread-safe: RealSys() is stateless.

#ifndef IPCFAULT_INJECT_SYS_H_
#define IPCFAULT_INJECT_SYS_H_

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>

namespace ipcfault {

class Sys {
 public:
  virtual ~Sys() = default;

  // Sockets.
  virtual int Socket(int domain, int type, int protocol) = 0;
  virtual int Socketpair(int domain, int type, int protocol, int sv[2]) = 0;
  virtual int Bind(int fd, const struct sockaddr* addr, socklen_t len) = 0;
  virtual int Listen(int fd, int backlog) = 0;
  virtual int Accept(int fd, struct sockaddr* addr, socklen_t* len) = 0;
  virtual int Accept4(int fd, struct sockaddr* addr, socklen_t* len,
                      int flags) = 0;
  virtual int Connect(int fd, const struct sockaddr* addr, socklen_t len) = 0;
  virtual int Shutdown(int fd, int how) = 0;
  virtual int Close(int fd) = 0;

  // Transfers.
  virtual ssize_t Read(int fd, void* buf, size_t n) = 0;
  virtual ssize_t Readv(int fd, const struct iovec* iov, int iovcnt) = 0;
  virtual ssize_t Recv(int fd, void* buf, size_t n, int flags) = 0;
  virtual ssize_t Recvfrom(int fd, void* buf, size_t n, int flags,
                           struct sockaddr* addr, socklen_t* len) = 0;
  virtual ssize_t Recvmsg(int fd, struct msghdr* msg, int flags) = 0;
  virtual ssize_t Write(int fd, const void* buf, size_t n) = 0;
  virtual ssize_t Writev(int fd, const struct iovec* iov, int iovcnt) = 0;
  virtual ssize_t Send(int fd, const void* buf, size_t n, int flags) = 0;
  virtual ssize_t Sendto(int fd, const void* buf, size_t n, int flags,
                         const struct sockaddr* addr, socklen_t len) = 0;
  virtual ssize_t Sendmsg(int fd, const struct msghdr* msg, int flags) = 0;

  // Waiting.
  virtual int Poll(struct pollfd* fds, nfds_t nfds, int timeout_ms) = 0;
  virtual int EpollWait(int epfd, struct epoll_event* events, int maxevents,
                        int timeout_ms) = 0;

  // Name lookup. Getaddrinfo returns 0 or an EAI_* code; free its result
  // with Freeaddrinfo (which cannot fail).
  virtual int Getaddrinfo(const char* node, const char* service,
                          const struct addrinfo* hints,
                          struct addrinfo** res) = 0;
  virtual void Freeaddrinfo(struct addrinfo* res) = 0;

  // Signals. PthreadKill returns the error number instead of setting errno.
  virtual int Kill(pid_t pid, int sig) = 0;
  virtual int Raise(int sig) = 0;
  virtual int PthreadKill(pthread_t thread, int sig) = 0;
  virtual int Sigaction(int sig, const struct sigaction* act,
                        struct sigaction* old) = 0;
  virtual int Sigprocmask(int how, const sigset_t* set, sigset_t* old) = 0;

  // Processes.
  virtual pid_t Fork() = 0;
  virtual pid_t Waitpid(pid_t pid, int* status, int options) = 0;
};

// The Sys that makes the real calls (through the interposer, if it is
// linked: rules armed with ipcfault::Arm apply to them as to any call).
Sys& RealSys();

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_SYS_H_
