// inject/cli/run_options.h
//
// The command line of `ipcfault run`, parsed into a RunOptions. Parsing only
// checks the shape of the command line (known options, values present, `--`
// before the program); the rules themselves are validated by the scenario
// parser afterwards.
//
//   absl::StatusOr<RunOptions> options = ParseRunOptions(
//       {"-e", "inject=connect:error=ECONNREFUSED:when=1", "--", "./client"});
//   // options->sources[0].text == "inject=connect:error=ECONNREFUSED:when=1"
//   // options->command == {"./client"}
//
// Thread-safe: the function is pure.

#ifndef IPCFAULT_INJECT_CLI_RUN_OPTIONS_H_
#define IPCFAULT_INJECT_CLI_RUN_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ipcfault::cli {

// Which processes the preload library injects into (IPCFAULT_SCOPE).
enum class Scope {
  kAll,    // the program and every descendant
  kFirst,  // the program only; what it execs runs without the library
};

// Where rules come from, in command-line order (the order decides which rule
// wins when several fire on one call).
struct RuleSource {
  enum class Kind { kRule, kScenarioFile };
  Kind kind;
  std::string text;  // the rule (-e), or the path (--scenario)
};

struct RunOptions {
  std::vector<RuleSource> sources;
  std::optional<uint64_t> seed;
  std::optional<std::string> log;
  Scope scope = Scope::kAll;
  // --control=PATH: the control socket to create (control_server.h).
  std::optional<std::string> control;
  bool quiet = false;
  bool help = false;
  std::vector<std::string> command;  // PROGRAM ARG...; empty only with help
};

// Parses the arguments that follow `run`. On a malformed command line returns
// InvalidArgument with a one-line message meant to follow "ipcfault run: "
// ("unknown option '--sed'", "missing '--' before the program").
absl::StatusOr<RunOptions> ParseRunOptions(absl::Span<const std::string> args);

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_RUN_OPTIONS_H_
