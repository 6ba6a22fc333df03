// Holds a process-mode EchoServer and a SignalChild, prints
// "<server pid> <child pid> <server address>\n" on stdout, then waits to be
// killed. fixtures_orphan_test SIGKILLs it and checks both die with it.

#include <unistd.h>

#include <cstdio>

#include "ipcfault/fixtures/echo_server.h"
#include "ipcfault/fixtures/signal_child.h"

int main() {
  ipcfault::EchoServerOptions options;
  options.mode = ipcfault::EchoServerOptions::Mode::kProcess;
  auto server = ipcfault::EchoServer::Start(options);
  auto child = ipcfault::SignalChild::Spawn(
      ipcfault::SignalChildOptions().On(SIGTERM, ipcfault::SignalReaction::Ignore()));
  if (!server.ok() || !child.ok()) {
    std::fprintf(stderr, "%s %s\n", server.status().ToString().c_str(),
                 child.status().ToString().c_str());
    return 1;
  }
  std::printf("%d %d %s\n", (*server)->pid(), (*child)->pid(),
              (*server)->address().c_str());
  std::fflush(stdout);
  for (;;) pause();
}
