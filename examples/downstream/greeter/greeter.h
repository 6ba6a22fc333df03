// greeter.h — a downstream team's small client: sends a greeting to a TCP
// peer and reads the same number of bytes back.
#ifndef DOWNSTREAM_GREETER_GREETER_H_
#define DOWNSTREAM_GREETER_GREETER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace greeter {

// Connects to 127.0.0.1:`port`, writes `greeting`, reads back exactly as
// many bytes (whatever size the reads come in), and returns them. Errors
// name the call and the errno: "connect(127.0.0.1:PORT): Connection refused".
absl::StatusOr<std::string> Greet(uint16_t port, absl::string_view greeting);

}  // namespace greeter

#endif  // DOWNSTREAM_GREETER_GREETER_H_
