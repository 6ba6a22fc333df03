#include "linecheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace linecheck {
namespace {

absl::Status CallError(absl::string_view call, uint16_t port) {
  const int err = errno;
  return absl::ErrnoToStatus(err, absl::StrFormat("%s(127.0.0.1:%d)", call, port));
}

}  // namespace

absl::StatusOr<std::string> Exchange(uint16_t port, absl::string_view line) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return CallError("socket", port);
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return CallError("connect", port);
  }
  const std::string out = absl::StrCat(line, "\n");
  for (size_t sent = 0; sent < out.size();) {
    const ssize_t n = write(fd, out.data() + sent, out.size() - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return CallError("write", port);
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buf[256];
  while (in.empty() || in.back() != '\n') {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return CallError("read", port);
    if (n == 0) {
      return absl::UnavailableError(absl::StrFormat(
          "read(127.0.0.1:%d): closed after %d bytes, before a newline", port, in.size()));
    }
    in.append(buf, static_cast<size_t>(n));
  }
  in.pop_back();
  return in;
}

}  // namespace linecheck
