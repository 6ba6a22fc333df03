// selftest/own_symbols_probe.cc
//
// A program with its own copy of a symbol the preload library uses, exported
// (-rdynamic, as programs with plugins link): its own
// ipcfault::ParseScenario, which fails. The preload library must keep using
// its own code. Makes one connect to a closed loopback port and prints
// "connect: OK" or "connect: ERRNO_NAME".

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault {

absl::StatusOr<std::vector<Rule>> ParseScenario(absl::string_view,
                                                absl::string_view) {
  return absl::InternalError("the program's own ParseScenario ran");
}

}  // namespace ipcfault

int main() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(9);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  const char* name = rc == 0 ? "OK" : strerrorname_np(errno);
  printf("connect: %s\n", name != nullptr ? name : "?");
  close(fd);
  return 0;
}
