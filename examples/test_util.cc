#include "ipcfault/examples/test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ipcfault/examples/errors.h"
#include "ipcfault/examples/net.h"

namespace ipcfault::examples {

absl::StatusOr<std::unique_ptr<ServerThread>> ServerThread::Start(EchoServerOptions options) {
  std::unique_ptr<ServerThread> result(new ServerThread());
  ServerThread* self = result.get();
  if (!options.log) {
    options.log = [self](absl::string_view line) {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->log_.emplace_back(line);
      self->log_cv_.notify_all();
    };
  }
  absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Listen(std::move(options));
  if (!server.ok()) return server.status();
  result->server_ = std::move(*server);
  result->thread_ = std::thread([self] { self->run_status_ = self->server_->Run(); });
  return result;
}

absl::Status ServerThread::Stop() {
  if (!stopped_) {
    server_->Stop();
    thread_.join();
    stopped_ = true;
  }
  return run_status_;
}

ServerThread::~ServerThread() {
  // Start() that failed to listen destroys a ServerThread with no server
  // and no thread (found by `ipcfault sweep`: bind failing crashed here).
  if (server_ != nullptr) Stop().IgnoreError();
}

std::vector<std::string> ServerThread::log_lines() {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

std::vector<std::string> ServerThread::WaitForLogLines(size_t n) {
  std::unique_lock<std::mutex> lock(mu_);
  log_cv_.wait_for(lock, absl::ToChronoSeconds(kTestTimeout), [&] { return log_.size() >= n; });
  return log_;
}

absl::StatusOr<UniqueFd> ConnectLoopback(int port) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoError(errno, "socket");
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoError(errno, "connect", absl::StrCat("127.0.0.1:", port));
  }
  return fd;
}

absl::StatusOr<std::string> Exchange(int fd, absl::string_view data) {
  std::string received;
  size_t sent = 0;
  absl::Time deadline = absl::Now() + kTestTimeout;
  char buffer[65536];
  while (received.size() < data.size()) {
    pollfd p = {fd, static_cast<short>(POLLIN | (sent < data.size() ? POLLOUT : 0)), 0};
    int rc = poll(&p, 1, PollTimeoutMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return ErrnoError(errno, "poll");
    if (rc == 0) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no echo within ", absl::FormatDuration(kTestTimeout), ": sent ", sent, " of ",
          data.size(), ", received ", received.size()));
    }
    if ((p.revents & POLLOUT) && sent < data.size()) {
      ssize_t n = send(fd, data.data() + sent, std::min<size_t>(data.size() - sent, 65536),
                       MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) return ErrnoError(errno, "send");
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(fd, buffer, std::min(sizeof(buffer), data.size() - received.size()),
                       MSG_DONTWAIT);
      if (n == 0) {
        return absl::UnavailableError(
            absl::StrCat("EOF after ", received.size(), " of ", data.size(), " bytes"));
      }
      if (n > 0) received.append(buffer, static_cast<size_t>(n));
      if (n < 0 && errno != EAGAIN && errno != EINTR) return ErrnoError(errno, "recv");
    }
  }
  return received;
}

absl::StatusOr<std::string> ReadExactly(int fd, size_t size) {
  std::string received;
  absl::Time deadline = absl::Now() + kTestTimeout;
  char buffer[65536];
  while (received.size() < size) {
    pollfd p = {fd, POLLIN, 0};
    int rc = poll(&p, 1, PollTimeoutMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return ErrnoError(errno, "poll");
    if (rc == 0) return absl::DeadlineExceededError(absl::StrCat("got ", received.size(), " of ", size));
    ssize_t n = recv(fd, buffer, std::min(sizeof(buffer), size - received.size()), MSG_DONTWAIT);
    if (n == 0) return absl::UnavailableError(absl::StrCat("EOF after ", received.size(), " of ", size));
    if (n > 0) received.append(buffer, static_cast<size_t>(n));
    if (n < 0 && errno != EAGAIN && errno != EINTR) return ErrnoError(errno, "recv");
  }
  return received;
}

absl::StatusOr<std::string> ReadToEof(int fd) {
  std::string received;
  absl::Time deadline = absl::Now() + kTestTimeout;
  char buffer[65536];
  for (;;) {
    pollfd p = {fd, POLLIN, 0};
    int rc = poll(&p, 1, PollTimeoutMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return ErrnoError(errno, "poll");
    if (rc == 0) return absl::DeadlineExceededError("no EOF");
    ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n == 0) return received;
    if (n > 0) received.append(buffer, static_cast<size_t>(n));
    if (n < 0 && errno != EAGAIN && errno != EINTR) return ErrnoError(errno, "recv");
  }
}

std::string BinaryPayload(size_t size, unsigned seed) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i % 256);
  std::mt19937 rng(seed);
  std::shuffle(data.begin(), data.end(), rng);
  return data;
}

int CountOpenFds() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory's own fd
}

}  // namespace ipcfault::examples
