// selftest/own_symbols_probe.cc
//
// A program with its own copies of symbols the preload library uses,
// exported (-rdynamic, as programs with plugins link), as a program built
// with another Abseil would have them: Abseil's
// numbers_internal::safe_strtou64_base (what absl::SimpleAtoi<uint64_t>
// calls; the rule parser reads when=1 with it), which fails, and ipcfault's
// own scenario parser, which fails too. The preload library must keep using
// its own code: before Abseil was linked into it statically, its
// safe_strtou64_base was bound to this one and the rule did not parse.
// Makes one connect to a closed loopback port and prints "connect: OK" or
// "connect: ERRNO_NAME".

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/base/config.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/rule.h"

namespace absl {
ABSL_NAMESPACE_BEGIN
namespace numbers_internal {

bool safe_strtou64_base(absl::string_view, uint64_t* value, int) {
  static const char kSaid[] = "the program's own safe_strtou64_base ran\n";
  ssize_t ignored = write(STDERR_FILENO, kSaid, sizeof(kSaid) - 1);
  (void)ignored;
  *value = 0;
  return false;
}

}  // namespace numbers_internal
ABSL_NAMESPACE_END
}  // namespace absl

namespace ipcfault {

absl::StatusOr<std::vector<Rule>> ParseScenario(absl::string_view,
                                                absl::string_view) {
  return absl::InternalError("the program's own ParseScenario ran");
}

namespace scenario_internal {

bool ParseScenarioRules(absl::string_view, absl::string_view, std::vector<Rule>*,
                        std::string* error) {
  *error = "the program's own ParseScenarioRules ran";
  return false;
}

}  // namespace scenario_internal
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
