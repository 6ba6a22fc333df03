#include "ipcfault/inject/sys.h"

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ipcfault {
namespace {

class RealSysImpl final : public Sys {
 public:
  int Socket(int domain, int type, int protocol) override {
    return ::socket(domain, type, protocol);
  }
  int Socketpair(int domain, int type, int protocol, int sv[2]) override {
    return ::socketpair(domain, type, protocol, sv);
  }
  int Bind(int fd, const struct sockaddr* addr, socklen_t len) override {
    return ::bind(fd, addr, len);
  }
  int Listen(int fd, int backlog) override { return ::listen(fd, backlog); }
  int Accept(int fd, struct sockaddr* addr, socklen_t* len) override {
    return ::accept(fd, addr, len);
  }
  int Accept4(int fd, struct sockaddr* addr, socklen_t* len,
              int flags) override {
    return ::accept4(fd, addr, len, flags);
  }
  int Connect(int fd, const struct sockaddr* addr, socklen_t len) override {
    return ::connect(fd, addr, len);
  }
  int Shutdown(int fd, int how) override { return ::shutdown(fd, how); }
  int Close(int fd) override { return ::close(fd); }

  ssize_t Read(int fd, void* buf, size_t n) override {
    return ::read(fd, buf, n);
  }
  ssize_t Readv(int fd, const struct iovec* iov, int iovcnt) override {
    return ::readv(fd, iov, iovcnt);
  }
  ssize_t Recv(int fd, void* buf, size_t n, int flags) override {
    return ::recv(fd, buf, n, flags);
  }
  ssize_t Recvfrom(int fd, void* buf, size_t n, int flags,
                   struct sockaddr* addr, socklen_t* len) override {
    return ::recvfrom(fd, buf, n, flags, addr, len);
  }
  ssize_t Recvmsg(int fd, struct msghdr* msg, int flags) override {
    return ::recvmsg(fd, msg, flags);
  }
  ssize_t Write(int fd, const void* buf, size_t n) override {
    return ::write(fd, buf, n);
  }
  ssize_t Writev(int fd, const struct iovec* iov, int iovcnt) override {
    return ::writev(fd, iov, iovcnt);
  }
  ssize_t Send(int fd, const void* buf, size_t n, int flags) override {
    return ::send(fd, buf, n, flags);
  }
  ssize_t Sendto(int fd, const void* buf, size_t n, int flags,
                 const struct sockaddr* addr, socklen_t len) override {
    return ::sendto(fd, buf, n, flags, addr, len);
  }
  ssize_t Sendmsg(int fd, const struct msghdr* msg, int flags) override {
    return ::sendmsg(fd, msg, flags);
  }

  int Poll(struct pollfd* fds, nfds_t nfds, int timeout_ms) override {
    return ::poll(fds, nfds, timeout_ms);
  }
  int EpollWait(int epfd, struct epoll_event* events, int maxevents,
                int timeout_ms) override {
    return ::epoll_wait(epfd, events, maxevents, timeout_ms);
  }

  int Getaddrinfo(const char* node, const char* service,
                  const struct addrinfo* hints,
                  struct addrinfo** res) override {
    return ::getaddrinfo(node, service, hints, res);
  }
  void Freeaddrinfo(struct addrinfo* res) override { ::freeaddrinfo(res); }

  int Kill(pid_t pid, int sig) override { return ::kill(pid, sig); }
  int Raise(int sig) override { return ::raise(sig); }
  int PthreadKill(pthread_t thread, int sig) override {
    return ::pthread_kill(thread, sig);
  }
  int Sigaction(int sig, const struct sigaction* act,
                struct sigaction* old) override {
    return ::sigaction(sig, act, old);
  }
  int Sigprocmask(int how, const sigset_t* set, sigset_t* old) override {
    return ::sigprocmask(how, set, old);
  }

  pid_t Fork() override { return ::fork(); }
  pid_t Waitpid(pid_t pid, int* status, int options) override {
    return ::waitpid(pid, status, options);
  }
};

}  // namespace

Sys& RealSys() {
  static RealSysImpl* const sys = new RealSysImpl();
  return *sys;
}

}  // namespace ipcfault
