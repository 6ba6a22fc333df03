// inject/mock_sys.h
//
// MockSys: a GoogleMock Sys (sys.h) for unit tests of code written against
// Sys. Every method makes the real call unless the test says otherwise, so a
// test scripts only the calls it cares about; ReturnErrno(e) makes a call
// fail as libc would: the call's failure value, with errno set to e.
//
//   ipcfault::MockSys sys;
//   EXPECT_CALL(sys, Connect).WillOnce(ipcfault::ReturnErrno(ECONNREFUSED));
//   Client client(sys);
//   EXPECT_THAT(client.Connect(addr), StatusIs(absl::StatusCode::kUnavailable));
//
// ReturnErrno(e) returns -1 and sets errno for the calls that fail that way;
// for PthreadKill it returns e (errno untouched); for Getaddrinfo it returns
// EAI_SYSTEM with errno e (return an EAI_* code with Return(EAI_AGAIN)).
//
// A call without an EXPECT_CALL goes to RealSys() (gmock prints an
// "uninteresting call" note; ::testing::NiceMock<MockSys> silences it,
// ::testing::StrictMock<MockSys> makes it a failure). Thread-safe as any
// gmock mock once its expectations are set.

#ifndef IPCFAULT_INJECT_MOCK_SYS_H_
#define IPCFAULT_INJECT_MOCK_SYS_H_

#include <errno.h>
#include <netdb.h>
#include <pthread.h>

#include <tuple>
#include <type_traits>

#include "gmock/gmock.h"
#include "ipcfault/inject/sys.h"

namespace ipcfault {

class MockSys : public Sys {
 public:
  // Delegates every call to `real` unless an expectation says otherwise.
  explicit MockSys(Sys& real = RealSys());

  MOCK_METHOD(int, Socket, (int domain, int type, int protocol), (override));
  MOCK_METHOD(int, Socketpair, (int domain, int type, int protocol, int* sv),
              (override));
  MOCK_METHOD(int, Bind, (int fd, const struct sockaddr* addr, socklen_t len),
              (override));
  MOCK_METHOD(int, Listen, (int fd, int backlog), (override));
  MOCK_METHOD(int, Accept, (int fd, struct sockaddr* addr, socklen_t* len),
              (override));
  MOCK_METHOD(int, Accept4,
              (int fd, struct sockaddr* addr, socklen_t* len, int flags),
              (override));
  MOCK_METHOD(int, Connect,
              (int fd, const struct sockaddr* addr, socklen_t len),
              (override));
  MOCK_METHOD(int, Shutdown, (int fd, int how), (override));
  MOCK_METHOD(int, Close, (int fd), (override));
  MOCK_METHOD(ssize_t, Read, (int fd, void* buf, size_t n), (override));
  MOCK_METHOD(ssize_t, Readv, (int fd, const struct iovec* iov, int iovcnt),
              (override));
  MOCK_METHOD(ssize_t, Recv, (int fd, void* buf, size_t n, int flags),
              (override));
  MOCK_METHOD(ssize_t, Recvfrom,
              (int fd, void* buf, size_t n, int flags, struct sockaddr* addr,
               socklen_t* len),
              (override));
  MOCK_METHOD(ssize_t, Recvmsg, (int fd, struct msghdr* msg, int flags),
              (override));
  MOCK_METHOD(ssize_t, Write, (int fd, const void* buf, size_t n),
              (override));
  MOCK_METHOD(ssize_t, Writev, (int fd, const struct iovec* iov, int iovcnt),
              (override));
  MOCK_METHOD(ssize_t, Send, (int fd, const void* buf, size_t n, int flags),
              (override));
  MOCK_METHOD(ssize_t, Sendto,
              (int fd, const void* buf, size_t n, int flags,
               const struct sockaddr* addr, socklen_t len),
              (override));
  MOCK_METHOD(ssize_t, Sendmsg, (int fd, const struct msghdr* msg, int flags),
              (override));
  MOCK_METHOD(int, Poll, (struct pollfd* fds, nfds_t nfds, int timeout_ms),
              (override));
  MOCK_METHOD(int, EpollWait,
              (int epfd, struct epoll_event* events, int maxevents,
               int timeout_ms),
              (override));
  MOCK_METHOD(int, Getaddrinfo,
              (const char* node, const char* service,
               const struct addrinfo* hints, struct addrinfo** res),
              (override));
  MOCK_METHOD(void, Freeaddrinfo, (struct addrinfo* res), (override));
  MOCK_METHOD(int, Kill, (pid_t pid, int sig), (override));
  MOCK_METHOD(int, Raise, (int sig), (override));
  MOCK_METHOD(int, PthreadKill, (pthread_t thread, int sig), (override));
  MOCK_METHOD(int, Sigaction,
              (int sig, const struct sigaction* act, struct sigaction* old),
              (override));
  MOCK_METHOD(int, Sigprocmask,
              (int how, const sigset_t* set, sigset_t* old), (override));
  MOCK_METHOD(pid_t, Fork, (), (override));
  MOCK_METHOD(pid_t, Waitpid, (pid_t pid, int* status, int options),
              (override));
};

namespace inject_internal {

// The action behind ReturnErrno(): the failure value of the mocked call,
// chosen by its signature.
class ReturnErrnoAction {
 public:
  explicit ReturnErrnoAction(int error) : error_(error) {}

  template <typename Result, typename ArgumentTuple>
  Result Perform(const ArgumentTuple&) const {
    using GetaddrinfoArgs = std::tuple<const char*, const char*,
                                       const struct addrinfo*,
                                       struct addrinfo**>;
    using PthreadKillArgs = std::tuple<pthread_t, int>;
    if constexpr (std::is_same_v<ArgumentTuple, GetaddrinfoArgs>) {
      errno = error_;
      return EAI_SYSTEM;
    } else if constexpr (std::is_same_v<ArgumentTuple, PthreadKillArgs>) {
      return error_;
    } else if constexpr (std::is_pointer_v<Result>) {
      errno = error_;
      return nullptr;
    } else {
      errno = error_;
      return static_cast<Result>(-1);
    }
  }

 private:
  int error_;
};

}  // namespace inject_internal

// Fails the mocked call as libc would, with errno `error` (see the top of
// this file for PthreadKill and Getaddrinfo).
inline ::testing::PolymorphicAction<inject_internal::ReturnErrnoAction>
ReturnErrno(int error) {
  return ::testing::MakePolymorphicAction(
      inject_internal::ReturnErrnoAction(error));
}

// Implementation details follow.

inline MockSys::MockSys(Sys& real) {
  using ::testing::Invoke;
  ON_CALL(*this, Socket).WillByDefault(Invoke(&real, &Sys::Socket));
  ON_CALL(*this, Socketpair).WillByDefault(Invoke(&real, &Sys::Socketpair));
  ON_CALL(*this, Bind).WillByDefault(Invoke(&real, &Sys::Bind));
  ON_CALL(*this, Listen).WillByDefault(Invoke(&real, &Sys::Listen));
  ON_CALL(*this, Accept).WillByDefault(Invoke(&real, &Sys::Accept));
  ON_CALL(*this, Accept4).WillByDefault(Invoke(&real, &Sys::Accept4));
  ON_CALL(*this, Connect).WillByDefault(Invoke(&real, &Sys::Connect));
  ON_CALL(*this, Shutdown).WillByDefault(Invoke(&real, &Sys::Shutdown));
  ON_CALL(*this, Close).WillByDefault(Invoke(&real, &Sys::Close));
  ON_CALL(*this, Read).WillByDefault(Invoke(&real, &Sys::Read));
  ON_CALL(*this, Readv).WillByDefault(Invoke(&real, &Sys::Readv));
  ON_CALL(*this, Recv).WillByDefault(Invoke(&real, &Sys::Recv));
  ON_CALL(*this, Recvfrom).WillByDefault(Invoke(&real, &Sys::Recvfrom));
  ON_CALL(*this, Recvmsg).WillByDefault(Invoke(&real, &Sys::Recvmsg));
  ON_CALL(*this, Write).WillByDefault(Invoke(&real, &Sys::Write));
  ON_CALL(*this, Writev).WillByDefault(Invoke(&real, &Sys::Writev));
  ON_CALL(*this, Send).WillByDefault(Invoke(&real, &Sys::Send));
  ON_CALL(*this, Sendto).WillByDefault(Invoke(&real, &Sys::Sendto));
  ON_CALL(*this, Sendmsg).WillByDefault(Invoke(&real, &Sys::Sendmsg));
  ON_CALL(*this, Poll).WillByDefault(Invoke(&real, &Sys::Poll));
  ON_CALL(*this, EpollWait).WillByDefault(Invoke(&real, &Sys::EpollWait));
  ON_CALL(*this, Getaddrinfo).WillByDefault(Invoke(&real, &Sys::Getaddrinfo));
  ON_CALL(*this, Freeaddrinfo)
      .WillByDefault(Invoke(&real, &Sys::Freeaddrinfo));
  ON_CALL(*this, Kill).WillByDefault(Invoke(&real, &Sys::Kill));
  ON_CALL(*this, Raise).WillByDefault(Invoke(&real, &Sys::Raise));
  ON_CALL(*this, PthreadKill).WillByDefault(Invoke(&real, &Sys::PthreadKill));
  ON_CALL(*this, Sigaction).WillByDefault(Invoke(&real, &Sys::Sigaction));
  ON_CALL(*this, Sigprocmask).WillByDefault(Invoke(&real, &Sys::Sigprocmask));
  ON_CALL(*this, Fork).WillByDefault(Invoke(&real, &Sys::Fork));
  ON_CALL(*this, Waitpid).WillByDefault(Invoke(&real, &Sys::Waitpid));
}

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_MOCK_SYS_H_
