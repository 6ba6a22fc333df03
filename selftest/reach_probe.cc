// selftest/reach_probe.cc
//
// Makes one of issue 12's calls (selftest/reach_calls.cc) and prints what it
// returned, for the `ipcfault run` tests (reach_run_test.cc):
//
//   reach_probe CALL      prints "CALL ret=R errno=E", exits 0
//   reach_probe --list    prints every CALL it can make, one a line

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ipcfault/selftest/reach_calls.h"

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (const auto& call : ipcfault_selftest::ReachCalls()) printf("%s\n", call.name);
    return 0;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: reach_probe CALL | --list\n");
    return 2;
  }
  const ipcfault_selftest::ReachCall* call = ipcfault_selftest::FindReachCall(argv[1]);
  if (call == nullptr) {
    fprintf(stderr, "reach_probe: no such call '%s'\n", argv[1]);
    return 2;
  }
  // error=EPIPE raises SIGPIPE as the kernel would: ignore it, as programs
  // that send do.
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
  const ipcfault_selftest::ReachOutcome o = call->make();
  printf("%s ret=%ld errno=%d\n", call->name, o.ret, o.err);
  return 0;
}
