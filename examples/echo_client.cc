#include "ipcfault/examples/echo_client.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ipcfault/examples/errors.h"
#include "ipcfault/examples/net.h"

namespace ipcfault::examples {
namespace {

// Waits until `fd` has `events` or `deadline` passes, retrying EINTR.
// Returns 1 when ready, 0 on timeout, -1 with errno set on failure.
int PollUntil(int fd, short events, absl::Time deadline) {
  for (;;) {
    pollfd p = {fd, events, 0};
    int rc = poll(&p, 1, PollTimeoutMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    return rc;
  }
}

constexpr int kConnectTimedOut = -2;

// Finishes a connect() that returned EINPROGRESS or EINTR. Returns the
// connect's errno (0 on success), kConnectTimedOut at `deadline`, or -1 with
// *poll_errno set if poll() failed.
int FinishConnect(int fd, absl::Time deadline, int* poll_errno) {
  int rc = PollUntil(fd, POLLOUT, deadline);
  if (rc < 0) {
    *poll_errno = errno;
    return -1;
  }
  if (rc == 0) return kConnectTimedOut;
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

}  // namespace

std::vector<std::string> DefaultTitles() {
  return {"War and Peace", "Pride and Prejudice", "The Sound and the Fury"};
}

absl::StatusOr<EchoConnection> EchoConnection::Connect(const std::string& host, int port,
                                                       absl::Duration timeout) {
  if (port < 1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", port, " is out of range 1..65535"));
  }
  IgnoreSigpipe();
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* results = nullptr;
  std::string port_text = absl::StrCat(port);
  int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &results);
  if (rc != 0) return GaiError(rc, errno, host);
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(results, &freeaddrinfo);

  absl::Status last_error = absl::NotFoundError(
      absl::StrCat("getaddrinfo(", host, "): no address"));
  for (const addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    std::string address = SockaddrToString(ai->ai_addr, ai->ai_addrlen);
    UniqueFd fd(socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last_error = ErrnoError(errno, "socket", address);
      continue;
    }
    if (absl::Status s = SetNonBlocking(fd.get(), address); !s.ok()) {
      last_error = s;
      continue;
    }
    absl::Time deadline = absl::Now() + timeout;
    int err = 0;
    if (connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      // Non-blocking connect in progress, or a blocking one interrupted by
      // a signal: either way the kernel carries on and poll() tells when
      // it is done. Calling connect() again would fail with EALREADY.
      if (err == EINPROGRESS || err == EINTR) {
        int poll_errno = 0;
        err = FinishConnect(fd.get(), deadline, &poll_errno);
        if (err == -1) {
          last_error = ErrnoError(poll_errno, "poll", address);
          continue;
        }
      }
    }
    if (err == kConnectTimedOut) {
      last_error = absl::DeadlineExceededError(absl::StrCat(
          "connect(", address, "): timed out after ", absl::FormatDuration(timeout)));
      continue;
    }
    if (err != 0) {
      last_error = ErrnoError(err, "connect", address);
      continue;
    }
    return EchoConnection(std::move(fd), std::move(address), timeout);
  }
  return last_error;
}

absl::Status EchoConnection::WriteAll(absl::string_view data, absl::Time deadline) {
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = write(fd_.get(), data.data() + written, data.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);  // a short write: write the rest
      continue;
    }
    int err = n == 0 ? EIO : errno;
    if (err == EINTR) continue;
    if (err != EAGAIN && err != EWOULDBLOCK) return ErrnoError(err, "write", address_);
    int rc = PollUntil(fd_.get(), POLLOUT, deadline);
    if (rc < 0) return ErrnoError(errno, "poll", address_);
    if (rc == 0) {
      return absl::DeadlineExceededError(absl::StrCat(
          "write(", address_, "): timed out after ", absl::FormatDuration(timeout_),
          " with ", written, " of ", data.size(), " bytes written"));
    }
  }
  return absl::OkStatus();
}

absl::Status EchoConnection::ReadExactly(std::string& out, size_t size, absl::Time deadline) {
  out.assign(size, '\0');
  size_t got = 0;
  while (got < size) {
    // Poll first: a server that never replies gives a timeout, not a hang.
    int rc = PollUntil(fd_.get(), POLLIN, deadline);
    if (rc < 0) return ErrnoError(errno, "poll", address_);
    if (rc == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("read(", address_, "): no reply within ",
                       absl::FormatDuration(timeout_), " (got ", got, " of ", size,
                       " bytes)"));
    }
    // Ask for only what is missing: the next echo's bytes stay queued.
    ssize_t n = read(fd_.get(), out.data() + got, size - got);
    if (n > 0) {
      got += static_cast<size_t>(n);  // a short read: read the rest
      continue;
    }
    if (n == 0) {
      return absl::UnavailableError(absl::StrCat("read(", address_,
                                                 "): connection closed by peer after ",
                                                 got, " of ", size, " bytes"));
    }
    int err = errno;
    if (err == EINTR || err == EAGAIN || err == EWOULDBLOCK) continue;
    return ErrnoError(err, "read", address_);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EchoConnection::Echo(absl::string_view message) {
  absl::Time deadline = absl::Now() + timeout_;
  if (absl::Status s = WriteAll(message, deadline); !s.ok()) return s;
  std::string echo;
  if (absl::Status s = ReadExactly(echo, message.size(), deadline); !s.ok()) return s;
  if (echo != message) {
    return absl::DataLossError(absl::StrCat("echo from ", address_, " differs: sent \"",
                                            absl::CHexEscape(message), "\", got \"",
                                            absl::CHexEscape(echo), "\""));
  }
  return echo;
}

absl::Status RunEchoClient(const EchoClientOptions& options,
                           const std::function<void(absl::string_view echo)>& on_echo) {
  absl::StatusOr<EchoConnection> connection =
      EchoConnection::Connect(options.host, options.port, options.timeout);
  if (!connection.ok()) return connection.status();
  for (const std::string& title : options.titles) {
    absl::StatusOr<std::string> echo = connection->Echo(title);
    if (!echo.ok()) return echo.status();
    if (on_echo) on_echo(*echo);
  }
  return absl::OkStatus();
}

}  // namespace ipcfault::examples
