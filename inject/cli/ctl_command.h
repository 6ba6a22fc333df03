// inject/cli/ctl_command.h
//
// `ipcfault ctl PATH COMMAND`: changes the rules of a run started with
// `ipcfault run --control=PATH`, while it runs (arm, disarm, list, wait,
// log). A client of the control socket, through ipcfault::Controller.
//
//   int status = CtlCommand({"/tmp/ctl", "arm", "-e", "accept:error=EMFILE"});
//
// Thread-compatible: writes to std::cout and std::cerr.

#ifndef IPCFAULT_INJECT_CLI_CTL_COMMAND_H_
#define IPCFAULT_INJECT_CLI_CTL_COMMAND_H_

#include <string>

#include "absl/types/span.h"

namespace ipcfault::cli {

extern const char kCtlHelp[];

// The arguments after `ctl`; returns the exit status: 0 done, 1 the run
// refused the command (a bad scenario, an unknown id) or `wait` timed out,
// 2 a bad command line or no run to talk to.
int CtlCommand(absl::Span<const std::string> args);

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_CTL_COMMAND_H_
