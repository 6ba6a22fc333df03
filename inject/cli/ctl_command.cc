#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ipcfault/inject/cli/cli_util.h"
#include "ipcfault/inject/cli/commands.h"
#include "ipcfault/inject/controller.h"

namespace ipcfault::cli {

const char kCtlHelp[] = R"(Usage: ipcfault ctl PATH COMMAND [ARG]...
Change the rules of a run started with 'ipcfault run --control=PATH', while
it runs. The rules change in every process of the run (children and exec'd
descendants too) from their next call; a command never blocks or waits for
the program's calls.

Commands:
  arm FILE                 arm the rules of scenario FILE ('-': stdin)
  arm -e RULE [-e RULE]... arm these rules
                             all or none, after the rules already armed;
                             prints their ids, one a line; when= counts
                             from now, over all the run's processes
  disarm ID...|all         disarm these rules (all or none)
  list                     every rule of the run: id, armed or disarmed,
                             calls matched and fires (over all processes)
  wait ID --fired=N [--timeout=D]
                           return once rule ID has fired N times in all;
                             exit 1 if it has not within D (default 60s;
                             D is a duration: 500ms, 30s, 2m)
  log                      the fires so far, one JSON line each

Exit status: 0 done; 1 the run refused the command (a bad rule, an unknown
id: nothing changed) or wait timed out; 2 a bad command line, or no run
listens on PATH.

Examples:
  ipcfault run --control=/tmp/ctl -- ./server &
  id=$(ipcfault ctl /tmp/ctl arm -e accept:error=EMFILE)
  ipcfault ctl /tmp/ctl wait "$id" --fired=3 --timeout=30s
  ipcfault ctl /tmp/ctl disarm "$id"
)";

namespace {

// 1: the run refused the command, or wait timed out.
constexpr int kExitFailed = kExitInvalid;

int Usage(absl::string_view message) {
  PrintUsageError("ctl", message);
  return kExitUsage;
}

// Exit status for a failed command: the run said no (1), or it could not be
// asked (2).
int Failed(const absl::Status& status) {
  Err("ipcfault ctl: ", status.message(), "\n");
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
      return kExitFailed;
    default:
      return kExitUsage;
  }
}

// The value of --NAME=V or --NAME V at args[i] (advancing i), or nullopt if
// args[i] is not that option.
std::optional<std::string> OptionValue(absl::Span<const std::string> args, size_t& i,
                                       absl::string_view name, bool& missing) {
  const std::string& arg = args[i];
  const std::string flag = absl::StrCat("--", name);
  if (arg == flag) {
    if (i + 1 >= args.size()) {
      missing = true;
      return std::nullopt;
    }
    return args[++i];
  }
  if (absl::StartsWith(arg, flag + "=")) return arg.substr(flag.size() + 1);
  return std::nullopt;
}

std::optional<absl::Duration> ParseTimeout(const std::string& text) {
  absl::Duration d;
  double seconds;
  if (absl::SimpleAtod(text, &seconds) && seconds >= 0 &&
      text.find_first_not_of("0123456789.") == std::string::npos) {
    return absl::Seconds(seconds);
  }
  if (absl::ParseDuration(text, &d) && d >= absl::ZeroDuration() &&
      d != absl::InfiniteDuration()) {
    return d;
  }
  return std::nullopt;
}

int Arm(Controller& control, absl::Span<const std::string> args) {
  if (args.empty()) return Usage("arm: give a scenario FILE or -e RULE...");
  std::string text;
  std::string source;
  if (args[0] == "-e" || absl::StartsWith(args[0], "-e") || absl::StartsWith(args[0], "--rule")) {
    std::vector<std::string> rules;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      std::string rule;
      if (arg == "-e" || arg == "--rule") {
        if (i + 1 >= args.size()) return Usage(absl::StrCat("arm: ", arg, " needs a rule"));
        rule = args[++i];
      } else if (absl::StartsWith(arg, "--rule=")) {
        rule = arg.substr(7);
      } else if (absl::StartsWith(arg, "-e") && arg.size() > 2) {
        rule = arg.substr(2);
      } else {
        return Usage(absl::StrCat("arm: unexpected '", arg, "' (each rule follows -e)"));
      }
      if (rule.find('\n') != std::string::npos) {
        return Usage("arm: a -e rule is one line");
      }
      rules.push_back(rule);
    }
    // One rule a line: "-e:N:COLUMN" in a message is the Nth -e.
    text = absl::StrJoin(rules, "\n");
    source = "-e";
  } else {
    if (args.size() != 1) {
      return Usage(absl::StrCat("arm: one scenario FILE, got '", args[1], "' too"));
    }
    absl::StatusOr<std::string> file = ReadFile(args[0]);
    if (!file.ok()) return Usage(absl::StrCat("arm: ", file.status().message()));
    text = *file;
    source = args[0] == "-" ? "<stdin>" : args[0];
  }
  absl::StatusOr<std::vector<uint32_t>> ids = control.Arm(text, source);
  if (!ids.ok()) {
    Err("ipcfault ctl: ", ids.status().message(), "\n");
    if (ids.status().code() == absl::StatusCode::kInvalidArgument) {
      Err("ipcfault ctl: nothing was armed\n");
    }
    return ids.status().code() == absl::StatusCode::kInvalidArgument ||
                   ids.status().code() == absl::StatusCode::kResourceExhausted
               ? kExitFailed
               : kExitUsage;
  }
  for (uint32_t id : *ids) Out(id, "\n");
  return kExitOk;
}

int Disarm(Controller& control, absl::Span<const std::string> args) {
  if (args.empty()) return Usage("disarm: give rule IDs or 'all'");
  if (args.size() == 1 && args[0] == "all") {
    absl::Status status = control.DisarmAll();
    return status.ok() ? kExitOk : Failed(status);
  }
  std::vector<uint32_t> ids;
  for (const std::string& arg : args) {
    uint32_t id;
    if (!absl::SimpleAtoi(arg, &id) || id == 0) {
      return Usage(absl::StrCat("disarm: '", arg, "' is not a rule id (ids are 1, 2, ...; or 'all')"));
    }
    ids.push_back(id);
  }
  absl::Status status = control.Disarm(ids);
  return status.ok() ? kExitOk : Failed(status);
}

int List(Controller& control, absl::Span<const std::string> args) {
  if (!args.empty()) return Usage(absl::StrCat("list: unexpected '", args[0], "'"));
  absl::StatusOr<std::vector<ControlledRule>> rules = control.List();
  if (!rules.ok()) return Failed(rules.status());
  Out(absl::StrFormat("%-4s %-8s %10s %10s  %s\n", "ID", "STATE", "MATCHED", "FIRED", "RULE"));
  for (const ControlledRule& rule : *rules) {
    Out(absl::StrFormat("%-4d %-8s %10d %10d  %s\n", rule.id, rule.armed ? "armed" : "disarmed",
                        rule.matched, rule.fired, rule.text));
  }
  return kExitOk;
}

int Wait(Controller& control, absl::Span<const std::string> args) {
  std::optional<uint32_t> id;
  std::optional<uint64_t> fired;
  absl::Duration timeout = absl::Seconds(60);
  for (size_t i = 0; i < args.size(); ++i) {
    bool missing = false;
    if (std::optional<std::string> v = OptionValue(args, i, "fired", missing)) {
      uint64_t n;
      if (!absl::SimpleAtoi(*v, &n) || n == 0) {
        return Usage(absl::StrCat("wait: --fired='", *v, "' is not a positive count"));
      }
      fired = n;
      continue;
    }
    if (std::optional<std::string> v = OptionValue(args, i, "timeout", missing)) {
      std::optional<absl::Duration> d = ParseTimeout(*v);
      if (!d.has_value()) {
        return Usage(absl::StrCat("wait: --timeout='", *v,
                                  "' is not a duration (500ms, 30s, 2m)"));
      }
      timeout = *d;
      continue;
    }
    if (missing) return Usage(absl::StrCat("wait: ", args[i], " needs a value"));
    uint32_t n;
    if (!id.has_value() && absl::SimpleAtoi(args[i], &n) && n > 0) {
      id = n;
      continue;
    }
    return Usage(absl::StrCat("wait: unexpected '", args[i], "'"));
  }
  if (!id.has_value()) return Usage("wait: which rule? (wait ID --fired=N)");
  if (!fired.has_value()) return Usage("wait: how many fires? (--fired=N)");
  absl::StatusOr<uint64_t> count = control.Wait(*id, *fired, timeout);
  if (!count.ok()) return Failed(count.status());
  Out("rule ", *id, " fired ", *count, (*count == 1 ? " time" : " times"), "\n");
  return kExitOk;
}

int Log(Controller& control, absl::Span<const std::string> args) {
  if (!args.empty()) return Usage(absl::StrCat("log: unexpected '", args[0], "'"));
  absl::StatusOr<std::string> log = control.Log();
  if (!log.ok()) return Failed(log.status());
  Out(*log);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

int CtlCommand(absl::Span<const std::string> args, const CommandContext&) {
  if (!args.empty() && IsHelp(args[0])) {
    Out(kCtlHelp);
    return kExitOk;
  }
  if (args.size() < 2) {
    return Usage(args.empty() ? "missing the control socket PATH and a COMMAND"
                              : "missing a COMMAND (arm, disarm, list, wait, log)");
  }
  const std::string& command = args[1];
  absl::Span<const std::string> rest = args.subspan(2);
  if (command != "arm" && command != "disarm" && command != "list" && command != "wait" &&
      command != "log") {
    return Usage(absl::StrCat("unknown command '", command,
                              "' (commands: arm, disarm, list, wait, log)"));
  }
  absl::StatusOr<Controller> control = Controller::Connect(args[0]);
  if (!control.ok()) {
    Err("ipcfault ctl: ", control.status().message(), "\n");
    return kExitUsage;
  }
  if (command == "arm") return Arm(*control, rest);
  if (command == "disarm") return Disarm(*control, rest);
  if (command == "list") return List(*control, rest);
  if (command == "wait") return Wait(*control, rest);
  return Log(*control, rest);
}

}  // namespace ipcfault::cli
