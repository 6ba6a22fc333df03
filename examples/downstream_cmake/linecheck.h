// linecheck.h — a downstream team's small client: sends one line to a TCP
// peer on loopback and reads a line back.
#ifndef DOWNSTREAM_CMAKE_LINECHECK_H_
#define DOWNSTREAM_CMAKE_LINECHECK_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linecheck {

// Connects to 127.0.0.1:`port`, writes `line` and a newline, and reads up to
// and including the newline that comes back, in whatever pieces it comes;
// returns the line without it. Retries EINTR. Errors name the call:
// "connect(127.0.0.1:PORT): Connection refused".
absl::StatusOr<std::string> Exchange(uint16_t port, absl::string_view line);

}  // namespace linecheck

#endif  // DOWNSTREAM_CMAKE_LINECHECK_H_
