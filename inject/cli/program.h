// inject/cli/program.h
//
// Finding the program `ipcfault run` is asked to run, and checking that the
// preload library can reach it. LD_PRELOAD works only through the dynamic
// loader: a statically linked program, a set-user-ID program, or one built
// for another ELF class would run with no fault injected at all, which must
// never pass silently.
//
//   absl::StatusOr<std::string> path = FindProgram("client", getenv("PATH"));
//   if (path.ok()) absl::Status s = CheckPreloadable(*path);
//
// Thread-safe.

#ifndef IPCFAULT_INJECT_CLI_PROGRAM_H_
#define IPCFAULT_INJECT_CLI_PROGRAM_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ipcfault::cli {

// Finds `name` as execvp(3) would: a name containing '/' is taken as is;
// otherwise the first executable regular file of that name in the
// colon-separated `search_path` (an empty entry means the current
// directory). Returns NotFound if there is none, PermissionDenied if the
// only candidates are not executable.
absl::StatusOr<std::string> FindProgram(absl::string_view name,
                                        absl::string_view search_path);

// Checks that a program exec'd from `path` loads LD_PRELOAD libraries built
// for this machine: an ELF executable with a PT_INTERP program header (a
// dynamic loader) of this binary's class and machine, or a `#!` script
// whose interpreter passes the same check. A program that this process
// would exec in secure-execution mode (AT_SECURE: a set-user-ID or
// set-group-ID file that changes the effective id away from the real one,
// or file capabilities that raise a non-root user's privilege), where the
// loader ignores our LD_PRELOAD, fails too, saying why; root running a
// file with capabilities, or a set-user-ID file of its own, does not.
//
// Returns FailedPrecondition with a message saying why faults cannot be
// injected (statically linked, ...), NotFound / PermissionDenied if the file
// cannot be read, or InvalidArgument if it is not an executable format.
absl::Status CheckPreloadable(const std::string& path);

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_PROGRAM_H_
