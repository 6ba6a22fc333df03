#include "ipcfault/inject/cli/run_options.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ipcfault::cli {
namespace {

enum class Option { kRule, kScenario, kSeed, kLog, kScope, kControl, kQuiet, kHelp };

struct OptionSpec {
  Option option;
  char short_name;         // '\0': none
  absl::string_view long_name;
  bool takes_value;
};

constexpr OptionSpec kOptions[] = {
    {Option::kRule, 'e', "rule", true},
    {Option::kScenario, 's', "scenario", true},
    {Option::kSeed, '\0', "seed", true},
    {Option::kLog, '\0', "log", true},
    {Option::kScope, '\0', "scope", true},
    {Option::kControl, '\0', "control", true},
    {Option::kQuiet, 'q', "quiet", false},
    {Option::kHelp, 'h', "help", false},
};

const OptionSpec* FindLong(absl::string_view name) {
  for (const OptionSpec& spec : kOptions) {
    if (spec.long_name == name) return &spec;
  }
  return nullptr;
}

const OptionSpec* FindShort(char name) {
  for (const OptionSpec& spec : kOptions) {
    if (spec.short_name != '\0' && spec.short_name == name) return &spec;
  }
  return nullptr;
}

// How the option was spelled, for messages: "-e" or "--rule".
std::string Spelling(const OptionSpec& spec, bool as_long) {
  return as_long ? absl::StrCat("--", spec.long_name)
                 : std::string{'-', spec.short_name};
}

absl::Status Apply(const OptionSpec& spec, const std::string& spelling,
                   std::optional<std::string> value, RunOptions& options) {
  switch (spec.option) {
    case Option::kRule:
      if (value->empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("option '", spelling, "' needs a rule, got ''"));
      }
      options.sources.push_back({RuleSource::Kind::kRule, *std::move(value)});
      break;
    case Option::kScenario:
      if (value->empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("option '", spelling, "' needs a file name, got ''"));
      }
      options.sources.push_back(
          {RuleSource::Kind::kScenarioFile, *std::move(value)});
      break;
    case Option::kSeed: {
      uint64_t seed;
      if (value->empty() || !absl::ascii_isdigit((*value)[0]) ||
          !absl::SimpleAtoi(*value, &seed)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid seed '", *value,
            "': expected an unsigned 64-bit decimal number"));
      }
      options.seed = seed;
      break;
    }
    case Option::kLog:
      if (value->empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("option '", spelling, "' needs a file name, got ''"));
      }
      options.log = *std::move(value);
      break;
    case Option::kScope:
      if (*value == "all") {
        options.scope = Scope::kAll;
      } else if (*value == "first") {
        options.scope = Scope::kFirst;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid scope '", *value, "': expected 'all' or 'first'"));
      }
      break;
    case Option::kControl:
      if (value->empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("option '", spelling, "' needs a socket path, got ''"));
      }
      options.control = *std::move(value);
      break;
    case Option::kQuiet:
      options.quiet = true;
      break;
    case Option::kHelp:
      options.help = true;
      break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RunOptions> ParseRunOptions(absl::Span<const std::string> args) {
  RunOptions options;
  size_t i = 0;
  while (i < args.size()) {
    const std::string& arg = args[i++];
    if (arg == "--") {
      options.command.assign(args.begin() + i, args.end());
      if (options.command.empty()) {
        return absl::InvalidArgumentError("no program given after '--'");
      }
      if (options.command[0].empty()) {
        return absl::InvalidArgumentError("the program name is empty");
      }
      return options;
    }
    const OptionSpec* spec = nullptr;
    std::string spelling;
    std::optional<std::string> value;
    if (absl::StartsWith(arg, "--")) {
      absl::string_view body = absl::string_view(arg).substr(2);
      size_t eq = body.find('=');
      absl::string_view name = body.substr(0, eq);
      spec = FindLong(name);
      if (spec == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown option '--", name, "'"));
      }
      spelling = Spelling(*spec, /*as_long=*/true);
      if (eq != absl::string_view::npos) {
        if (!spec->takes_value) {
          return absl::InvalidArgumentError(
              absl::StrCat("option '", spelling, "' takes no value"));
        }
        value = std::string(body.substr(eq + 1));
      }
    } else if (arg.size() >= 2 && arg[0] == '-') {
      spec = FindShort(arg[1]);
      if (spec == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown option '", arg.substr(0, 2), "'"));
      }
      spelling = Spelling(*spec, /*as_long=*/false);
      if (arg.size() > 2) {
        if (!spec->takes_value) {
          return absl::InvalidArgumentError(
              absl::StrCat("unknown option '", arg, "'"));
        }
        value = arg.substr(2);
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "missing '--' before the program '", arg,
          "' (usage: ipcfault run [OPTION]... -- PROGRAM [ARG]...)"));
    }
    if (spec->takes_value && !value.has_value()) {
      if (i == args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("option '", spelling, "' requires an argument"));
      }
      value = args[i++];
    }
    if (absl::Status s = Apply(*spec, spelling, std::move(value), options);
        !s.ok()) {
      return s;
    }
    // Like GNU tools, --help wins over whatever follows.
    if (options.help) return options;
  }
  return absl::InvalidArgumentError(
      "missing '--' and the program to run (usage: ipcfault run [OPTION]... "
      "-- PROGRAM [ARG]...)");
}

}  // namespace ipcfault::cli
