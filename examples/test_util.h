// examples/test_util.h
//
// Test helpers for the example programs: an EchoServer running on a thread
// of the test, and blocking-socket helpers with upper-bound timeouts.
//
//   IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(options));
//   IPCFAULT_ASSERT_OK_AND_ASSIGN(UniqueFd fd, ConnectLoopback(server->port()));
//   IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string echo, Exchange(fd.get(), payload));
//
// Test-only. Thread-compatible.

#ifndef IPCFAULT_EXAMPLES_TEST_UTIL_H_
#define IPCFAULT_EXAMPLES_TEST_UTIL_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ipcfault/examples/echo_server.h"
#include "ipcfault/examples/net.h"

namespace ipcfault::examples {

// Upper bound for any wait in these tests; a passing test never reaches it.
inline constexpr absl::Duration kTestTimeout = absl::Seconds(20);

// An EchoServer listening on 127.0.0.1 with Run() on its own thread. The
// destructor stops it and joins the thread. Log lines are collected.
class ServerThread {
 public:
  static absl::StatusOr<std::unique_ptr<ServerThread>> Start(EchoServerOptions options);
  ~ServerThread();

  EchoServer& server() { return *server_; }
  int port() const { return server_->port(); }
  // Stops the server, joins its thread and returns what Run() returned.
  absl::Status Stop();
  // The log lines so far. Thread-safe.
  std::vector<std::string> log_lines();
  // Blocks until at least `n` log lines exist (or kTestTimeout passes).
  std::vector<std::string> WaitForLogLines(size_t n);

 private:
  ServerThread() = default;
  std::unique_ptr<EchoServer> server_;
  std::thread thread_;
  absl::Status run_status_;
  bool stopped_ = false;
  std::mutex mu_;
  std::condition_variable log_cv_;
  std::vector<std::string> log_;  // guarded by mu_
};

// A blocking TCP connection to 127.0.0.1:`port`.
absl::StatusOr<UniqueFd> ConnectLoopback(int port);

// Sends `data` and reads until `data.size()` bytes came back, interleaving
// the two with poll() so that large payloads cannot deadlock. Reads no more
// than `data.size()` bytes.
absl::StatusOr<std::string> Exchange(int fd, absl::string_view data);

// Reads exactly `size` bytes (or fails at EOF or after kTestTimeout).
absl::StatusOr<std::string> ReadExactly(int fd, size_t size);

// Reads until EOF (or kTestTimeout); returns what was read.
absl::StatusOr<std::string> ReadToEof(int fd);

// `size` bytes of every value 0..255, zeros included, in a fixed
// pseudo-random order.
std::string BinaryPayload(size_t size, unsigned seed);

// Number of open file descriptors of this process.
int CountOpenFds();

}  // namespace ipcfault::examples

#endif  // IPCFAULT_EXAMPLES_TEST_UTIL_H_
