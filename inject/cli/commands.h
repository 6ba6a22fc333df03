// inject/cli/commands.h
//
// The commands of `ipcfault`, one file each (check_command.cc,
// calls_command.cc, run_command.cc); main.cc only dispatches. A command is
// its name, a one-line summary for `ipcfault --help`, its --help text, and
// its entry point, which takes the arguments after the command's name and
// returns the exit status. To add a command, write NAME_command.cc defining
// its entry point and help, declare them here, and add a row to kCommands in
// main.cc.
//
//   int status = RunCommand({"-e", "connect:error=EPERM", "--", "./client"},
//                           {.argv0 = "ipcfault"});
//
// Thread-compatible: commands write to stdout and stderr (Out, Err in
// cli_util.h).

#ifndef IPCFAULT_INJECT_CLI_COMMANDS_H_
#define IPCFAULT_INJECT_CLI_COMMANDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ipcfault::cli {

// What every command may need besides its arguments.
struct CommandContext {
  std::string argv0;  // how ipcfault was invoked (argv[0])
};

using CommandMain = int (*)(absl::Span<const std::string> args,
                            const CommandContext& context);

struct Command {
  const char* name;
  const char* summary;  // one line, for `ipcfault --help`
  const char* help;     // `ipcfault NAME --help`
  CommandMain main;
};

// ipcfault run: run a program with fault-injection rules (run_command.cc).
extern const char kRunHelp[];
int RunCommand(absl::Span<const std::string> args, const CommandContext& context);

// ipcfault check: validate scenario files (check_command.cc).
extern const char kCheckHelp[];
int CheckCommand(absl::Span<const std::string> args, const CommandContext& context);

// ipcfault calls: list the call table (calls_command.cc).
extern const char kCallsHelp[];
int CallsCommand(absl::Span<const std::string> args, const CommandContext& context);

// ipcfault record: list a run's calls and call sites (sweep_command.cc).
extern const char kRecordHelp[];
int RecordCommand(absl::Span<const std::string> args, const CommandContext& context);

// ipcfault sweep: find the faults a program does not survive; `sweep merge`
// joins shards' reports (sweep_command.cc, docs/sweep.md).
extern const char kSweepHelp[];
int SweepCommand(absl::Span<const std::string> args, const CommandContext& context);

// The preload library for an ipcfault started as `argv0`, as `run` finds it
// (run_command.cc); an error says where it looked.
absl::StatusOr<std::string> PreloadLibraryPath(const std::string& argv0);

// ipcfault ctl: change the rules of a run started with --control, while it
// runs (ctl_command.cc).
extern const char kCtlHelp[];
int CtlCommand(absl::Span<const std::string> args, const CommandContext& context);

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_COMMANDS_H_
