#include "ipcfault/examples/echo_server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ipcfault/examples/errors.h"
#include "ipcfault/examples/net.h"

namespace ipcfault::examples {

struct EchoServer::Client {
  UniqueFd fd;
  std::string peer;     // "127.0.0.1:54321", for log lines
  std::string pending;  // bytes read and not yet written back
  size_t written = 0;   // how much of `pending` is written
};

namespace {

bool IsResourceExhaustion(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EchoServer>> EchoServer::Listen(EchoServerOptions options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", options.port, " is out of range 0..65535"));
  }
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* results = nullptr;
  std::string port_text = absl::StrCat(options.port);
  int rc = getaddrinfo(options.host.c_str(), port_text.c_str(), &hints, &results);
  if (rc != 0) return GaiError(rc, errno, options.host);
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(results, &freeaddrinfo);

  const std::string wanted = SockaddrToString(results->ai_addr, results->ai_addrlen);
  UniqueFd fd(socket(results->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoError(errno, "socket");
  int one = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return ErrnoError(errno, "setsockopt", "SO_REUSEADDR");
  }
  if (bind(fd.get(), results->ai_addr, results->ai_addrlen) != 0) {
    return ErrnoError(errno, "bind", wanted);
  }
  sockaddr_storage bound = {};
  socklen_t bound_len = sizeof(bound);
  if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    return ErrnoError(errno, "getsockname", wanted);
  }
  std::string address = SockaddrToString(reinterpret_cast<sockaddr*>(&bound), bound_len);
  if (listen(fd.get(), options.backlog) != 0) return ErrnoError(errno, "listen", address);
  // Non-blocking, so that a connection reset between poll() and accept()
  // cannot block the loop in accept().
  if (absl::Status s = SetNonBlocking(fd.get(), address); !s.ok()) return s;

  int stop_pipe[2];
  if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return ErrnoError(errno, "pipe2");
  IgnoreSigpipe();

  int port = bound.ss_family == AF_INET6
                 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                 : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return std::unique_ptr<EchoServer>(
      new EchoServer(std::move(options), std::move(fd), port, std::move(address),
                     UniqueFd(stop_pipe[0]), UniqueFd(stop_pipe[1])));
}

EchoServer::EchoServer(EchoServerOptions options, UniqueFd listen_fd, int port,
                       std::string address, UniqueFd stop_read, UniqueFd stop_write)
    : options_(std::move(options)),
      listen_fd_(std::move(listen_fd)),
      port_(port),
      address_(std::move(address)),
      stop_read_(std::move(stop_read)),
      stop_write_(std::move(stop_write)) {}

EchoServer::~EchoServer() = default;

void EchoServer::Stop() {
  int saved_errno = errno;
  char byte = 1;
  // Never read: the pipe stays readable, so every later poll() sees it.
  // A full pipe (EAGAIN) means Stop() was already called: fine.
  ssize_t ignored = write(stop_write_.get(), &byte, 1);
  (void)ignored;
  errno = saved_errno;
}

EchoServerStats EchoServer::stats() const {
  EchoServerStats stats;
  stats.accepted = accepted_.load(std::memory_order_relaxed);
  stats.accept_errors = accept_errors_.load(std::memory_order_relaxed);
  stats.client_errors = client_errors_.load(std::memory_order_relaxed);
  stats.bytes_echoed = bytes_echoed_.load(std::memory_order_relaxed);
  return stats;
}

void EchoServer::Log(absl::string_view line) {
  if (options_.log) {
    options_.log(line);
    return;
  }
  std::string text = absl::StrCat("echo_server: ", line, "\n");
  // One write, so that lines from several processes do not interleave.
  ssize_t ignored = write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

absl::Status EchoServer::Run() {
  std::vector<std::unique_ptr<Client>> clients;
  absl::Time accept_resume = absl::InfinitePast();
  std::vector<pollfd> fds;
  char buffer[16384];

  for (;;) {
    fds.clear();
    fds.push_back({stop_read_.get(), POLLIN, 0});
    // Iterative: the next client waits in the backlog until this one is done.
    bool accept_paused = absl::Now() < accept_resume;
    bool accepting = (options_.concurrent || clients.empty()) && !accept_paused;
    fds.push_back({accepting ? listen_fd_.get() : -1, POLLIN, 0});
    for (const auto& client : clients) {
      short events = client->pending.empty() ? POLLIN : POLLOUT;
      fds.push_back({client->fd.get(), events, 0});
    }
    int timeout_ms = accept_paused ? PollTimeoutMs(accept_resume) : -1;
    if (poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "poll");
    }
    if (fds[0].revents != 0) return absl::OkStatus();  // Stop(); clients close

    // Clients first, while `fds` still lines up with `clients`.
    std::vector<std::unique_ptr<Client>> still_open;
    still_open.reserve(clients.size());
    for (size_t i = 0; i < clients.size(); ++i) {
      Client& client = *clients[i];
      short revents = fds[i + 2].revents;
      bool keep = true;
      if (revents != 0) {
        keep = client.pending.empty() ? ReadAndEcho(client, buffer, sizeof(buffer))
                                      : Flush(client);
      }
      if (keep) still_open.push_back(std::move(clients[i]));
    }
    clients.swap(still_open);

    if (fds[1].revents != 0) AcceptOne(clients, accept_resume);
  }
}

void EchoServer::AcceptOne(std::vector<std::unique_ptr<Client>>& clients,
                           absl::Time& accept_resume) {
  sockaddr_storage peer = {};
  socklen_t peer_len = sizeof(peer);
  int fd = accept(listen_fd_.get(), reinterpret_cast<sockaddr*>(&peer), &peer_len);
  if (fd < 0) {
    int err = errno;
    // Nothing to accept after all (the connection went away), or a signal:
    // poll again.
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return;
    accept_errors_.fetch_add(1, std::memory_order_relaxed);
    if (IsResourceExhaustion(err)) {
      // The pending connection stays pending, so accepting again at once
      // would fail again at once: pause accepting, keep serving clients.
      accept_resume = absl::Now() + options_.accept_backoff;
      Log(absl::StrCat(FormatErrno(err, "accept", address_), "; pausing accept for ",
                       absl::FormatDuration(options_.accept_backoff)));
    } else {
      Log(FormatErrno(err, "accept", address_));
    }
    return;
  }
  auto client = std::make_unique<Client>();
  client->fd.reset(fd);
  client->peer = SockaddrToString(reinterpret_cast<sockaddr*>(&peer), peer_len);
  accepted_.fetch_add(1, std::memory_order_relaxed);
  if (absl::Status s = SetNonBlocking(fd, client->peer); !s.ok()) {
    client_errors_.fetch_add(1, std::memory_order_relaxed);
    Log(absl::StrCat(s.message(), "; closed that client"));
    return;
  }
  clients.push_back(std::move(client));
}

bool EchoServer::ReadAndEcho(Client& client, char* buffer, size_t size) {
  ssize_t n = read(client.fd.get(), buffer, size);
  if (n > 0) {
    // Exactly the bytes read, not the whole buffer.
    client.pending.assign(buffer, static_cast<size_t>(n));
    client.written = 0;
    return Flush(client);
  }
  if (n == 0) return false;  // the client closed: done with it
  int err = errno;
  if (err == EINTR || err == EAGAIN || err == EWOULDBLOCK) return true;
  client_errors_.fetch_add(1, std::memory_order_relaxed);
  Log(absl::StrCat(FormatErrno(err, "read", client.peer), "; closed that client"));
  return false;
}

bool EchoServer::Flush(Client& client) {
  while (client.written < client.pending.size()) {
    ssize_t n = write(client.fd.get(), client.pending.data() + client.written,
                      client.pending.size() - client.written);
    if (n > 0) {
      // A short write: loop and write the rest.
      client.written += static_cast<size_t>(n);
      bytes_echoed_.fetch_add(n, std::memory_order_relaxed);
      continue;
    }
    int err = n == 0 ? EIO : errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return true;  // poll for POLLOUT
    client_errors_.fetch_add(1, std::memory_order_relaxed);
    Log(absl::StrCat(FormatErrno(err, "write", client.peer), "; closed that client"));
    return false;
  }
  client.pending.clear();
  client.written = 0;
  return true;
}

}  // namespace ipcfault::examples
