// inject/cli/check_command.cc
//
// `ipcfault check FILE...`: validate scenario files and print each in
// canonical form.

#include <iostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "ipcfault/inject/cli/cli_util.h"
#include "ipcfault/inject/cli/commands.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario.h"

namespace ipcfault::cli {

const char kCheckHelp[] = R"(Usage: ipcfault check [OPTION]... FILE...
Validate scenario FILEs (rules one a line, '#' comments; '-' reads stdin) and
print each in canonical form on stdout, preceded by a '# FILE' comment when
there are several. Errors go to stderr as FILE:LINE:COLUMN: message.

Options:
  -h, --help   show this help and exit

Exit status: 0 if every FILE is valid, 1 if any is not, 2 on a usage error.
)";

int CheckCommand(absl::Span<const std::string> args,
                 const CommandContext& /*context*/) {
  std::vector<std::string> files;
  bool options_done = false;
  for (const std::string& arg : args) {
    if (!options_done && IsHelp(arg)) {
      std::cout << kCheckHelp;
      return kExitOk;
    }
    if (!options_done && arg == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && arg.size() > 1 && arg[0] == '-') {
      PrintUsageError("check", absl::StrCat("unknown option '", arg, "'"));
      return kExitUsage;
    }
    files.push_back(arg);
  }
  if (files.empty()) {
    PrintUsageError("check", "no scenario file given");
    return kExitUsage;
  }
  int exit_code = kExitOk;
  for (const std::string& file : files) {
    absl::StatusOr<std::string> text = ReadFile(file);
    if (!text.ok()) {
      std::cerr << "ipcfault check: " << text.status().message() << "\n";
      exit_code = kExitInvalid;
      continue;
    }
    std::string source = file == "-" ? "<stdin>" : file;
    absl::StatusOr<std::vector<Rule>> rules = ParseScenario(*text, source);
    if (!rules.ok()) {
      std::cerr << rules.status().message() << "\n";
      exit_code = kExitInvalid;
      continue;
    }
    if (files.size() > 1) std::cout << "# " << source << "\n";
    std::cout << FormatScenario(*rules);
  }
  return exit_code;
}

}  // namespace ipcfault::cli
