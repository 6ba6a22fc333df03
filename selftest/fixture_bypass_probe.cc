// selftest/fixture_bypass_probe.cc
//
// A test binary's shape under `ipcfault run` or `ipcfault sweep`: it links
// the fixtures (their own copy of ipcfault's Bypass) and runs with the
// preload library under it. It starts an EchoServer on a thread of its own,
// then, as the code under test would, connects to it with plain calls,
// sends "ping" and reads the echo. Prints "echo: ping", or what failed.
// The fixture's calls hold a Bypass, so a rule on accept never fails the
// server's accept, whichever copy of ipcfault decides (inject/bypass.h).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "ipcfault/fixtures/echo_server.h"

namespace {

int Fail(const char* what) {
  const char* name = strerrorname_np(errno);
  printf("%s: %s\n", what, name != nullptr ? name : "E?");
  return 1;
}

}  // namespace

int main() {
  absl::StatusOr<std::unique_ptr<ipcfault::EchoServer>> server = ipcfault::EchoServer::Start();
  if (!server.ok()) {
    printf("start: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail("socket");
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons((*server)->port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return Fail("connect");
  }
  if (write(fd, "ping", 4) != 4) return Fail("write");
  char echo[4];
  size_t got = 0;
  while (got < sizeof(echo)) {
    // An upper bound only: a server whose accept was failed never answers.
    pollfd p = {fd, POLLIN, 0};
    int ready = poll(&p, 1, 20000);
    if (ready == 0) {
      printf("no echo within 20 s\n");
      return 1;
    }
    if (ready < 0) return Fail("poll");
    ssize_t n = read(fd, echo + got, sizeof(echo) - got);
    if (n <= 0) return n == 0 ? (printf("read: EOF\n"), 1) : Fail("read");
    got += static_cast<size_t>(n);
  }
  close(fd);
  printf("echo: %.4s\n", echo);
  return 0;
}
