// linecheck PORT LINE: sends LINE to 127.0.0.1:PORT, prints the reply or
// the error; exit status 0 or 1.
#include <cstdio>
#include <cstdlib>

#include "linecheck.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PORT LINE\n", argv[0]);
    return 2;
  }
  absl::StatusOr<std::string> reply =
      linecheck::Exchange(static_cast<uint16_t>(std::atoi(argv[1])), argv[2]);
  if (!reply.ok()) {
    std::fprintf(stderr, "%s\n", std::string(reply.status().message()).c_str());
    return 1;
  }
  std::printf("%s\n", reply->c_str());
  return 0;
}
