// fork_echo_server: examples' echo server, served by a forked child.
//
// Listens (printing "listening on ADDRESS" once it accepts), forks, and the
// child serves; the parent only waits for it. So every accept() happens in a
// process that `ipcfault run` did not start: //selftest:control_test uses it
// to show that rules armed with `ipcfault ctl` reach a forked child. On
// SIGTERM or SIGINT the parent passes the signal to the child, which stops
// and exits 0; the parent exits with the child's status.
//
// With --exec, the child execs PROGRAM instead (an exec'd descendant):
//
//   fork_echo_server                        (port: ephemeral, 127.0.0.1)
//   fork_echo_server --exec PROGRAM [ARG]...

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>

#include "ipcfault/examples/echo_server.h"

namespace {

std::atomic<ipcfault::examples::EchoServer*> g_server{nullptr};
volatile sig_atomic_t g_child = 0;

// The child's handler: stops the server (async-signal-safe).
void StopServer(int) {
  if (auto* server = g_server.load()) server->Stop();
}

// The parent's handler: passes the signal on (async-signal-safe).
void Forward(int sig) {
  if (g_child > 0) kill(g_child, sig);
}

bool Handle(void (*handler)(int)) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  return sigaction(SIGTERM, &action, nullptr) == 0 && sigaction(SIGINT, &action, nullptr) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bool exec_mode = argc >= 3 && std::string(argv[1]) == "--exec";
  std::unique_ptr<ipcfault::examples::EchoServer> no_server;
  absl::StatusOr<std::unique_ptr<ipcfault::examples::EchoServer>> server =
      exec_mode ? absl::StatusOr<std::unique_ptr<ipcfault::examples::EchoServer>>(
                      std::move(no_server))
                : ipcfault::examples::EchoServer::Listen({});
  if (!server.ok()) {
    fprintf(stderr, "fork_echo_server: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  // Block the stop signals across fork, so neither process misses one
  // before its handler is in place.
  sigset_t stop, old;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, &old);
  pid_t child = fork();
  if (child < 0) {
    perror("fork_echo_server: fork");
    return 1;
  }
  if (child == 0 && exec_mode) {
    sigprocmask(SIG_SETMASK, &old, nullptr);
    execv(argv[2], argv + 2);
    perror("fork_echo_server: execv");
    _exit(127);
  }
  if (child == 0) {
    g_server.store(server->get());
    if (!Handle(StopServer)) return 1;
    sigprocmask(SIG_SETMASK, &old, nullptr);
    printf("listening on %s\n", (*server)->address().c_str());
    fflush(stdout);
    absl::Status status = (*server)->Run();
    // A second stop signal (one sent to the process group reaches the child
    // as well as through the parent) may arrive while main returns and the
    // server is destroyed: from here the handler finds none. Single-threaded,
    // so no handler is midway through Stop() when this runs.
    g_server.store(nullptr);
    if (!status.ok()) {
      fprintf(stderr, "fork_echo_server: %s\n", std::string(status.message()).c_str());
      return 1;
    }
    return 0;
  }
  g_child = child;
  if (!Handle(Forward)) return 1;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  server->reset();  // the child serves; the parent only waits
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
