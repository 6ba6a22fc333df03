// inject/cli/sweep.h
//
// `ipcfault record` and `ipcfault sweep` (docs/sweep.md): the commands'
// entry points, called by the `ipcfault` main's dispatch.
//
//   if (command == "sweep") return SweepCommand(rest, argv0, &FindPreloadLibrary);

#ifndef IPCFAULT_INJECT_CLI_SWEEP_H_
#define IPCFAULT_INJECT_CLI_SWEEP_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ipcfault::cli {

// Finds libipcfault_preload.so for the command started as `argv0`.
using PreloadFinder = absl::StatusOr<std::string> (*)(const std::string& argv0);

// `ipcfault record [--json=FILE] -- PROGRAM [ARG]...`. Returns the exit status.
int RecordCommand(absl::Span<const std::string> args, const std::string& argv0,
                  PreloadFinder find_preload);

// `ipcfault sweep [OPTION]... -- PROGRAM [ARG]...` and
// `ipcfault sweep merge [OPTION]... DIR...`. Returns the exit status.
int SweepCommand(absl::Span<const std::string> args, const std::string& argv0,
                 PreloadFinder find_preload);

extern const char kRecordHelp[];
extern const char kSweepHelp[];

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_SWEEP_H_
