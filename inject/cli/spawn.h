// inject/cli/spawn.h
//
// Running the program under test as a supervisor should (tini and GNU
// timeout are the models): start, exec, wait, stdin/stdout/stderr passed
// through, and
//  - its own process group, made the terminal's foreground group when this
//    process held the terminal, so that each signal reaches it once: typed
//    at the terminal, it goes to the program's group only; sent to this
//    process or to this process's group, it reaches this process only, which
//    forwards it to the program's group;
//  - job control kept: when the program stops (Ctrl-Z), this process takes
//    the terminal back and stops too, and carries SIGCONT back to it;
//  - death together: the program gets SIGKILL if this process dies, even by
//    SIGKILL (PR_SET_PDEATHSIG), so it never runs on under init;
//  - cheap: the child is started as posix_spawn starts one (a clone sharing
//    this process's memory until it execs, no copy of the page tables), and
//    does only raw system calls before its exec.
//
//   absl::StatusOr<int> status = SpawnAndWait(path, argv, env);
//   if (status.ok()) return ShellExitCode(*status);
//
// Thread-compatible: it blocks the forwarded signals and SIGCHLD in the
// calling thread while it waits, and sets SIGCHLD's disposition to the
// default; in a multithreaded program, block them in every thread too, or
// another thread may take a signal meant for the child.

#ifndef IPCFAULT_INJECT_CLI_SPAWN_H_
#define IPCFAULT_INJECT_CLI_SPAWN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ipcfault::cli {

// The signals forwarded to the program's process group when this process
// receives them (from anyone but the program itself): SIGINT, SIGTERM,
// SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH.
const std::vector<int>& ForwardedSignals();

struct SpawnOptions {
  // Descriptors (close-on-exec here) that the program inherits, under the
  // same numbers.
  std::vector<int> inherit_fds;
};

// Execs `path` with `argv` (argv[0] first) and `env` ("NAME=value") in a
// child process, in a process group of its own, and waits for it. Signals
// this process ignores stay ignored, in the child too. Returns the wait
// status; an exec failure returns the errno as a status (NotFound for
// ENOENT, PermissionDenied for EACCES, ...), naming `path`.
absl::StatusOr<int> SpawnAndWait(const std::string& path,
                                 const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env,
                                 const SpawnOptions& options = {});

// The exit status a shell reports for a wait status: the exit code, or 128+N
// for a program killed by signal N.
int ShellExitCode(int wait_status);

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_SPAWN_H_
