// examples/echo_client.h
//
// The classic echo client done right: resolve the host with getaddrinfo(),
// connect, write each book title, read back exactly that many bytes
// (reassembling short reads), and turn every failure into one status whose
// message names the call, the address and the errno.
//
//   ipcfault::examples::EchoClientOptions options;
//   options.port = server->port();
//   std::vector<std::string> echoes;
//   absl::Status status = ipcfault::examples::RunEchoClient(
//       options, [&](absl::string_view echo) { echoes.emplace_back(echo); });
//
// Failures, as status messages (the binary prints "echo_client: " + message):
//   getaddrinfo(nohost): Temporary failure in name resolution [EAI_AGAIN]
//   connect(127.0.0.1:9876): Connection refused [ECONNREFUSED]
//   connect(127.0.0.1:9876): timed out after 5s
//   write(127.0.0.1:9876): Broken pipe [EPIPE]
//   write(127.0.0.1:9876): timed out after 5s with 3 of 13 bytes written
//   read(127.0.0.1:9876): Connection reset by peer [ECONNRESET]
//   read(127.0.0.1:9876): connection closed by peer after 3 of 13 bytes
//   read(127.0.0.1:9876): no reply within 5s (got 3 of 13 bytes)
//   echo from 127.0.0.1:9876 differs: sent "War and Peace", got "War and Peacf"
//   poll(127.0.0.1:9876): ... [ENOMEM]
// EINTR is retried everywhere (an interrupted connect is completed with
// poll()), and so is EAGAIN. The socket is non-blocking and every wait is a
// poll() bounded by the timeout, so a silent server cannot hang the client.
// Writing to a server that is gone fails with EPIPE: RunEchoClient and
// EchoConnection::Connect ignore SIGPIPE if it has its default disposition.
//
// The calls are the plain libc ones (getaddrinfo, socket, connect, poll,
// read, write, close), so an interposer or LD_PRELOAD library reaches them.

#ifndef IPCFAULT_EXAMPLES_ECHO_CLIENT_H_
#define IPCFAULT_EXAMPLES_ECHO_CLIENT_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ipcfault/examples/net.h"

namespace ipcfault::examples {

// "War and Peace", "Pride and Prejudice", "The Sound and the Fury".
std::vector<std::string> DefaultTitles();

struct EchoClientOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // required: 1..65535
  // Upper bound for connecting, and for each title's write and echo.
  absl::Duration timeout = absl::Seconds(5);
  std::vector<std::string> titles = DefaultTitles();
};

// One connection to an echo server. Thread-compatible; move-only.
class EchoConnection {
 public:
  // Resolves `host` with getaddrinfo() and connects to the first address
  // that accepts, within `timeout` per address. Errors name the call and the
  // last address tried.
  static absl::StatusOr<EchoConnection> Connect(const std::string& host, int port,
                                                absl::Duration timeout);

  // Writes all of `message` (looping on short writes), then reads back
  // exactly message.size() bytes (reassembling short reads) and checks they
  // are the same bytes. Each call gets `timeout` from Connect().
  absl::StatusOr<std::string> Echo(absl::string_view message);

  // The peer: "127.0.0.1:9876".
  const std::string& address() const { return address_; }
  int fd() const { return fd_.get(); }

 private:
  EchoConnection(UniqueFd fd, std::string address, absl::Duration timeout)
      : fd_(std::move(fd)), address_(std::move(address)), timeout_(timeout) {}
  absl::Status WriteAll(absl::string_view data, absl::Time deadline);
  absl::Status ReadExactly(std::string& out, size_t size, absl::Time deadline);

  UniqueFd fd_;
  std::string address_;
  absl::Duration timeout_;
};

// Connects to `options.host`:`options.port` and echoes each title in turn,
// calling `on_echo` with each echo as it arrives. Stops at the first
// failure and returns it (the echoes before it have been delivered).
absl::Status RunEchoClient(const EchoClientOptions& options,
                           const std::function<void(absl::string_view echo)>& on_echo);

}  // namespace ipcfault::examples

#endif  // IPCFAULT_EXAMPLES_ECHO_CLIENT_H_
