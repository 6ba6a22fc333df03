// selftest/reach_calls.h
//
// One real call per row that issue 12 added to the call table, made on real
// resources of its own (a pipe, a socketpair, a forked child, a pending
// signal), so that a test can arm a rule on the call and see what the
// program saw. Used linked in (selftest/reach_test.cc, with the
// interposer in the binary) and under `ipcfault run` (reach_probe.cc, by
// selftest/reach_run_test.cc).
//
//   const ReachCall* c = FindReachCall("epoll_ctl");
//   ReachOutcome o = c->make();      // the call's return value and errno
//   bool real = c->succeeded(o);     // what the kernel returns, uninjected
//
// Every maker releases what it made (fds closed, children reaped, pending
// signals taken), whether the call succeeded or was failed.

#ifndef IPCFAULT_SELFTEST_REACH_CALLS_H_
#define IPCFAULT_SELFTEST_REACH_CALLS_H_

#include <string_view>
#include <vector>

namespace ipcfault_selftest {

struct ReachOutcome {
  long ret = 0;   // the call's return value (a pointer's bits for signal())
  int err = 0;    // errno right after the call
};

struct ReachCall {
  const char* name;                          // the call, as rules name it
  ReachOutcome (*make)();                    // makes it; cleans up after it
  bool (*succeeded)(const ReachOutcome&);    // the kernel's success
  bool blocks_unless_failed = false;         // pause: never returns uninjected
  bool in_child = false;  // made in a forked child, so a rule fires (and
                          // counts) in that child
};

// Every maker, in the order of docs/fidelity.md's table.
const std::vector<ReachCall>& ReachCalls();
const ReachCall* FindReachCall(std::string_view name);

}  // namespace ipcfault_selftest

#endif  // IPCFAULT_SELFTEST_REACH_CALLS_H_
