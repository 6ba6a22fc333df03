// inject/cli/calls_command.cc
//
// `ipcfault calls [CALL|%SET]...`: the call table, its sets, how each call
// fails, the documented errors and the keys that apply.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/cli/calls_markdown.h"
#include "ipcfault/inject/cli/cli_util.h"
#include "ipcfault/inject/cli/commands.h"
#include "ipcfault/inject/names.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault::cli {

const char kCallsHelp[] = R"(Usage: ipcfault calls [OPTION]... [CALL|%SET]...
List the calls rules can name: their call sets, how they fail, the keys that
apply to them and the errors their man pages document (an injected error
may be any errno; these are the ones callers should expect). With CALL or
%SET arguments, list only those calls.

Options:
  --markdown   print docs/calls.md (the sets, the keys and the call table, as
               Markdown) and exit
  -h, --help   show this help and exit

Exit status: 0, or 2 if a CALL or %SET is unknown.
)";

namespace {

std::string SetsText(uint8_t sets) {
  std::vector<std::string> names;
  for (const CallSetInfo& set : AllCallSets()) {
    if (set.bits != 0 && (sets & set.bits) != 0) names.push_back(std::string(set.name));
  }
  return names.empty() ? "-" : absl::StrJoin(names, ",");
}

std::string ErrorsText(const CallInfo& info) {
  std::vector<std::string> names;
  for (int error : info.errors) {
    names.push_back(ErrorName(info.call, error));
  }
  return absl::StrJoin(names, " ");
}

}  // namespace

int CallsCommand(absl::Span<const std::string> args,
                 const CommandContext& /*context*/) {
  std::vector<bool> selected(AllCalls().size(), args.empty());
  for (const std::string& arg : args) {
    if (IsHelp(arg)) {
      Out(kCallsHelp);
      return kExitOk;
    }
  }
  if (!args.empty() && args[0] == "--markdown") {
    if (args.size() > 1) {
      PrintUsageError("calls", "--markdown takes no CALL or %SET (it prints the whole table)");
      return kExitUsage;
    }
    Out(CallsMarkdown());
    return kExitOk;
  }
  for (const std::string& arg : args) {
    if (arg == "all") {
      selected.assign(selected.size(), true);
      continue;
    }
    if (absl::StartsWith(arg, "%")) {
      const CallSetInfo* set = CallSetByName(arg);
      if (set == nullptr) {
        std::vector<absl::string_view> sets;
        for (const CallSetInfo& s : AllCallSets()) {
          if (s.bits != 0) sets.push_back(s.name);
        }
        PrintUsageError("calls", absl::StrCat("unknown call set '", arg, "' (sets: ",
                                              absl::StrJoin(sets, " "), ")"));
        return kExitUsage;
      }
      for (const CallInfo& info : AllCalls()) {
        if ((CallsIn(*set) & MaskOf(info.call)) != 0) {
          selected[static_cast<int>(info.call)] = true;
        }
      }
      continue;
    }
    if (absl::StartsWith(arg, "-")) {
      PrintUsageError("calls", absl::StrCat("unknown option '", arg, "'"));
      return kExitUsage;
    }
    std::optional<Call> call = CallByName(arg);
    if (!call.has_value()) {
      PrintUsageError("calls", absl::StrCat("unknown call '", arg, "'"));
      return kExitUsage;
    }
    selected[static_cast<int>(*call)] = true;
  }

  Out(absl::StrFormat("%-18s %-16s %-7s %-15s %s\n", "CALL", "SETS", "FD", "FAILS AS",
                      "DOCUMENTED ERRORS"));
  std::vector<const CallInfo*> rows;
  for (const CallInfo& info : AllCalls()) {
    if (!selected[static_cast<int>(info.call)]) continue;
    rows.push_back(&info);
    const char* fd = (info.keys & kKeyFd) == 0     ? "-"
                     : info.defaults_to_socket_fds ? "socket"
                                                   : "any";
    Out(absl::StrFormat("%-18s %-16s %-7s %-15s %s\n", info.name, SetsText(info.sets), fd,
                        FailureText(info.failure), ErrorsText(info)));
  }
  Out("\nFD: the default fd= filter (a rule on the read/write family "
      "applies to sockets\nunless it says fd=any; '-': the call takes "
      "no fd).\n\nKeys, and the calls above they apply to:\n");
  for (const KeyInfo& key : AllKeys()) {
    const std::string calls = KeyTakersText(key.bit, rows);
    Out(absl::StrFormat("  %-12s %-52s %s\n", key.name, key.meaning, calls));
  }
  if (args.empty()) {
    Out("\nSets:\n");
    for (const CallSetInfo& set : AllCallSets()) {
      std::vector<absl::string_view> members;
      for (const CallInfo& info : AllCalls()) {
        if ((CallsIn(set) & MaskOf(info.call)) != 0) members.push_back(info.name);
      }
      Out(absl::StrFormat(
          "  %-10s %s\n", set.name,
          set.bits == 0 ? std::string("every call above") : absl::StrJoin(members, " ")));
    }
  }
  return kExitOk;
}

}  // namespace ipcfault::cli
