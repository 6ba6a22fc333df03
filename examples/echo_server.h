// examples/echo_server.h
//
// EchoServer: the classic TCP echo server done right. It echoes exactly the
// bytes it read, loops on short writes, retries EINTR, survives a failed
// accept (logs one line and goes on), ends one client on that client's read
// or write error, never dies of SIGPIPE, and stops cleanly when asked.
//
// Iterative by default, like the classic server: one client is served to
// completion while the next waits in the listen backlog. With
// `concurrent = true` every connected client is served at once. Both modes
// run in the one thread that calls Run(): a poll() loop over non-blocking
// sockets, so a client that never reads cannot block Stop().
//
//   ipcfault::examples::EchoServerOptions options;  // 127.0.0.1, port 0
//   IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server,
//                        ipcfault::examples::EchoServer::Listen(options));
//   std::thread thread([&] { EXPECT_THAT(server->Run(), ipcfault::IsOk()); });
//   ... connect to 127.0.0.1:server->port() ...
//   server->Stop();
//   thread.join();
//
// The calls it makes are the plain libc ones (getaddrinfo, socket, bind,
// listen, poll, accept, read, write, close), so an interposer or an
// LD_PRELOAD library can fail any of them.
//
// What it logs (one line each, through EchoServerOptions::log):
//   accept(127.0.0.1:PORT): Too many open files [EMFILE]; pausing accept for 100ms
//   accept(127.0.0.1:PORT): Software caused connection abort [ECONNABORTED]
//   read(127.0.0.1:PEERPORT): Connection reset by peer [ECONNRESET]; closed that client
//   write(127.0.0.1:PEERPORT): Broken pipe [EPIPE]; closed that client
// EINTR and EAGAIN are retried without a line. After EMFILE, ENFILE, ENOBUFS
// or ENOMEM, accepting pauses for `accept_backoff` (existing clients are
// still served) so that a pending connection cannot make the loop spin.

#ifndef IPCFAULT_EXAMPLES_ECHO_SERVER_H_
#define IPCFAULT_EXAMPLES_ECHO_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ipcfault/examples/net.h"

namespace ipcfault::examples {

struct EchoServerOptions {
  // A numeric address or a name getaddrinfo() resolves; the first result is used.
  std::string host = "127.0.0.1";
  // 0 picks an ephemeral port; EchoServer::port() tells which.
  int port = 0;
  // Serve every connected client at once instead of one at a time.
  bool concurrent = false;
  int backlog = 16;
  // How long accepting pauses after EMFILE, ENFILE, ENOBUFS or ENOMEM.
  absl::Duration accept_backoff = absl::Milliseconds(100);
  // Receives each log line, without a newline, on the thread that calls
  // Run(). Empty: the line goes to stderr as "echo_server: LINE\n".
  std::function<void(absl::string_view line)> log;
};

// Counters, for tests and for the binary's exit line.
struct EchoServerStats {
  int64_t accepted = 0;        // connections accepted
  int64_t accept_errors = 0;   // accept() failures logged
  int64_t client_errors = 0;   // clients closed after a read or write error
  int64_t bytes_echoed = 0;    // bytes written back to clients
};

// Thread-safe: Stop() and stats() may be called from any thread (Stop() from
// a signal handler too) while one thread is in Run().
class EchoServer {
 public:
  // Resolves `options.host`, binds, listens, and returns a server that is
  // already accepting connections into its backlog (so a client may connect
  // before Run() starts). Errors name the call and the address:
  // "bind(127.0.0.1:80): Permission denied [EACCES]". Also ignores SIGPIPE
  // process-wide if it has its default disposition (see IgnoreSigpipe()).
  static absl::StatusOr<std::unique_ptr<EchoServer>> Listen(EchoServerOptions options);

  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;
  ~EchoServer();

  // The bound port and address ("127.0.0.1:41234", "[::1]:41234").
  int port() const { return port_; }
  const std::string& address() const { return address_; }

  // Serves clients until Stop() is called, then closes every client and
  // returns OK. Returns an error only if poll() itself fails with something
  // other than EINTR ("poll: ... [ENOMEM]"). Call it once, from one thread.
  absl::Status Run();

  // Makes Run() return (now, or at once if it is called later). Idempotent.
  // Async-signal-safe (one write() to a pipe; errno is preserved).
  void Stop();

  EchoServerStats stats() const;

 private:
  struct Client;
  EchoServer(EchoServerOptions options, UniqueFd listen_fd, int port,
             std::string address, UniqueFd stop_read, UniqueFd stop_write);
  void Log(absl::string_view line);
  void AcceptOne(std::vector<std::unique_ptr<Client>>& clients, absl::Time& accept_resume);
  // Both return false when the client is done (EOF or an error, logged).
  bool ReadAndEcho(Client& client, char* buffer, size_t size);
  bool Flush(Client& client);

  const EchoServerOptions options_;
  const UniqueFd listen_fd_;
  const int port_;
  const std::string address_;
  const UniqueFd stop_read_;
  const UniqueFd stop_write_;
  std::atomic<int64_t> accepted_{0};
  std::atomic<int64_t> accept_errors_{0};
  std::atomic<int64_t> client_errors_{0};
  std::atomic<int64_t> bytes_echoed_{0};
};

}  // namespace ipcfault::examples

#endif  // IPCFAULT_EXAMPLES_ECHO_SERVER_H_
