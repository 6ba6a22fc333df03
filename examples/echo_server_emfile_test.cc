// A real EMFILE from accept(): the process's descriptor limit is lowered so
// that the server's next accept() cannot get a descriptor. Its own test
// binary, because the limit is process-wide.

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/examples/echo_server.h"
#include "ipcfault/examples/net.h"
#include "ipcfault/examples/test_util.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault::examples {
namespace {

TEST(EchoServerEmfileTest, LogsTheFailedAcceptPausesAndServesTheClientLater) {
  EchoServerOptions options;
  options.accept_backoff = absl::Milliseconds(20);
  IPCFAULT_ASSERT_OK_AND_ASSIGN(auto server, ServerThread::Start(options));
  // The client's socket exists before the limit drops; the server's side of
  // the connection is what accept() cannot get a descriptor for.
  UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(client.valid());

  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  int lowest_free = dup(0);
  ASSERT_GE(lowest_free, 0);
  close(lowest_free);
  // Every descriptor below `lowest_free` is in use; none at or above it may
  // be created.
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);

  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(server->port()));
  int rc = connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int connect_errno = errno;
  std::vector<std::string> log = server->WaitForLogLines(1);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_EQ(rc, 0) << connect_errno;

  // The first line; more may follow if the pause ends before the limit is
  // restored.
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log[0], (absl::StrCat("accept(127.0.0.1:", server->port(),
                                            "): Too many open files [EMFILE]; "
                                            "pausing accept for 20ms")));
  // After the pause the same connection is accepted and served.
  IPCFAULT_ASSERT_OK_AND_ASSIGN(std::string echo, Exchange(client.get(), "after EMFILE"));
  EXPECT_EQ(echo, "after EMFILE");
  ASSERT_THAT(server->Stop(), IsOk());
  EXPECT_GE(server->server().stats().accept_errors, 1);
  EXPECT_EQ(server->server().stats().accepted, 1);
}

}  // namespace
}  // namespace ipcfault::examples
