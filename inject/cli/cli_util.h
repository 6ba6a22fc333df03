// inject/cli/cli_util.h
//
// What the `ipcfault` commands share: their exit statuses, the usage-error
// message, reading a file or stdin, the environment.
//
//   if (IsHelp(arg)) { Out(kRunHelp); return kExitOk; }
//   PrintUsageError("run", "missing '--' before the program");
//   Err("ipcfault sweep: cannot write ", path, "\n");
//
// The command writes through stdio (Out, Err), never the standard streams:
// //:ipcfault does not construct std::cout or std::cerr (docs/run.md, "The
// command's own start"). Thread-compatible.

#ifndef IPCFAULT_INJECT_CLI_CLI_UTIL_H_
#define IPCFAULT_INJECT_CLI_CLI_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ipcfault::cli {

// Exit statuses of ipcfault itself (run passes the program's through).
inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;  // check: a scenario is bad
inline constexpr int kExitUsage = 2;    // bad command line, bad rules, unrunnable
inline constexpr int kExitCannotExecute = 126;
inline constexpr int kExitNotFound = 127;

// Writes `text` to stdout (buffered, as stdio buffers it: fflush(stdout)
// where it must come out before what follows).
void WriteOut(absl::string_view text);

// Writes `text` to stderr (unbuffered), in one write when it can.
void WriteErr(absl::string_view text);

// The pieces, concatenated as absl::StrCat concatenates them, to stdout or
// stderr.
template <typename... Pieces>
void Out(const Pieces&... pieces) {
  WriteOut(absl::StrCat(pieces...));
}
template <typename... Pieces>
void Err(const Pieces&... pieces) {
  WriteErr(absl::StrCat(pieces...));
}

// Prints "ipcfault COMMAND: MESSAGE" and a pointer to --help on stderr.
// An empty `command` is the tool itself.
void PrintUsageError(absl::string_view command, absl::string_view message);

// Whether `arg` asks for help (-h, --help).
bool IsHelp(absl::string_view arg);

// The contents of `path` ("-": stdin). Errors read "PATH: No such file or
// directory" (absl::ErrnoToStatus).
absl::StatusOr<std::string> ReadFile(const std::string& path);

// getenv(name), or "" when unset.
std::string GetEnv(const char* name);

// 64 bits from the kernel's random source (getrandom(2)), for seeds and run
// ids. Not std::random_device: its set-up asks the CPU whether it has
// RDRAND with cpuid, which a virtual machine traps (~7 µs a time on the
// build machine's), in every `ipcfault run` (docs/run.md, "The command's own
// start"). Where getrandom fails (no such system call), the clock and the
// pid, mixed: unique enough for a run id, and a seed is printed to repeat.
uint64_t RandomBits();

// Removes `path` and, if it is a directory, everything under it (symbolic
// links are removed, never followed). Best effort: what cannot be removed
// stays.
void RemoveTree(const std::string& path);

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_CLI_UTIL_H_
