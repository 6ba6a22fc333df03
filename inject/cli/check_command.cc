// inject/cli/check_command.cc
//
// `ipcfault check [-e RULE]... [FILE]...`: validate scenario files and
// rules, and print each in canonical form.

#include <cstring>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "ipcfault/inject/cli/cli_util.h"
#include "ipcfault/inject/cli/commands.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario.h"

namespace ipcfault::cli {

const char kCheckHelp[] = R"(Usage: ipcfault check [OPTION]... [FILE]...
Validate scenario FILEs (rules one a line, '#' comments; '-' reads stdin) and
rules given with -e, and print each in canonical form on stdout, preceded by
a '# FILE' (or '# -e') comment when there are several. Errors go to stderr
as FILE:LINE:COLUMN: message ('-e:1:COLUMN' for a rule given with -e).

Options:
  -e, --rule=RULE  also check RULE, as `ipcfault run -e RULE` would read it
                   (repeatable; in order with the FILEs)
  -h, --help       show this help and exit

Exit status: 0 if every FILE and RULE is valid, 1 if any is not, 2 on a
usage error.
)";

namespace {

struct Input {
  bool is_rule;      // given with -e: the text itself
  std::string text;  // the rule, or the file name
};

}  // namespace

int CheckCommand(absl::Span<const std::string> args,
                 const CommandContext& /*context*/) {
  std::vector<Input> inputs;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!options_done && IsHelp(arg)) {
      Out(kCheckHelp);
      return kExitOk;
    }
    if (!options_done && arg == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && (arg == "-e" || arg == "--rule")) {
      if (i + 1 == args.size()) {
        PrintUsageError("check", absl::StrCat("option '", arg, "' requires an argument"));
        return kExitUsage;
      }
      inputs.push_back({true, args[++i]});
      continue;
    }
    if (!options_done && (absl::StartsWith(arg, "--rule=") ||
                          (absl::StartsWith(arg, "-e") && !absl::StartsWith(arg, "--")))) {
      inputs.push_back({true, arg.substr(arg[1] == 'e' ? 2 : strlen("--rule="))});
      continue;
    }
    if (!options_done && arg.size() > 1 && arg[0] == '-') {
      PrintUsageError("check", absl::StrCat("unknown option '", arg, "'"));
      return kExitUsage;
    }
    inputs.push_back({false, arg});
  }
  if (inputs.empty()) {
    PrintUsageError("check", "no scenario file or rule given");
    return kExitUsage;
  }
  int exit_code = kExitOk;
  for (const Input& input : inputs) {
    std::string source = input.is_rule ? "-e" : input.text == "-" ? "<stdin>" : input.text;
    absl::StatusOr<std::string> text = input.is_rule ? input.text : ReadFile(input.text);
    if (!text.ok()) {
      Err("ipcfault check: ", text.status().message(), "\n");
      exit_code = kExitInvalid;
      continue;
    }
    if (input.is_rule && (text->empty() || text->find('\n') != std::string::npos)) {
      Err("-e: a rule given with -e is one line, not empty\n");
      exit_code = kExitInvalid;
      continue;
    }
    absl::StatusOr<std::vector<Rule>> rules = ParseScenario(*text, source);
    if (!rules.ok()) {
      Err(rules.status().message(), "\n");
      exit_code = kExitInvalid;
      continue;
    }
    if (inputs.size() > 1) Out("# ", source, "\n");
    Out(FormatScenario(*rules));
  }
  return exit_code;
}

}  // namespace ipcfault::cli
