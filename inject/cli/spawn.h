// inject/cli/spawn.h
//
// Running the program under test: fork, exec, wait, with its stdin, stdout
// and stderr passed through and the termination signals a supervisor gets
// (SIGINT, SIGTERM, SIGHUP, SIGQUIT) forwarded to it, as a shell or
// `timeout` would.
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

// Execs `path` with `argv` (argv[0] first) and `env` ("NAME=value") in a
// child process and waits for it. Signals that another process sends to this
// one (SIGINT, SIGTERM, SIGHUP, SIGQUIT) are forwarded to the child; the same
// signals from the terminal reach the child directly (it is in the same
// process group) and are not sent twice. Signals this process ignores stay
// ignored, in the child too. Returns the wait status; an exec
// failure returns the errno as a status (NotFound for ENOENT,
// PermissionDenied for EACCES, ...), naming `path`.
absl::StatusOr<int> SpawnAndWait(const std::string& path,
                                 const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env);

// The exit status a shell reports for a wait status: the exit code, or 128+N
// for a program killed by signal N.
int ShellExitCode(int wait_status);

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_SPAWN_H_
