// Arms a rule in a program built with pkg-config alone:
//
//   c++ -o refused pkg_config_example.cc $(pkg-config --cflags --libs ipcfault)
//
// The first connect() to a listening loopback socket is refused by the
// interposer; the second gets through. Exit status 0 when both did.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "ipcfault/inject/faults.h"

namespace {

// connect() to addr on a fresh socket: 0, or the errno it failed with.
int ConnectOnce(const sockaddr_in& addr) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = rc == 0 ? 0 : errno;
  close(fd);
  return err;
}

}  // namespace

int main() {
  // A real listener on an ephemeral loopback port.
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, 4) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("listener");
    return 2;
  }

  absl::StatusOr<ipcfault::ScopedFaults> faults =
      ipcfault::Arm("connect:error=ECONNREFUSED:when=1");
  if (!faults.ok()) {
    std::fprintf(stderr, "Arm: %s\n", std::string(faults.status().message()).c_str());
    return 2;
  }
  const int first = ConnectOnce(addr);
  const int second = ConnectOnce(addr);
  std::printf("first connect: %s; second connect: %s; fired %llu\n",
              first == 0 ? "ok" : std::strerror(first),
              second == 0 ? "ok" : std::strerror(second),
              static_cast<unsigned long long>(faults->fired(0)));
  close(listener);
  return first == ECONNREFUSED && second == 0 && faults->fired(0) == 1 ? 0 : 1;
}
