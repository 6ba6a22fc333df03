// inject/cli/calls_command.cc
//
// `ipcfault calls [CALL|%SET]...`: the call table, its sets, how each call
// fails, the documented errors and the keys that apply.

#include <cstdint>
#include <iostream>
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
  -h, --help   show this help and exit

Exit status: 0, or 2 if a CALL or %SET is unknown.
)";

namespace {

constexpr struct {
  uint8_t bit;
  const char* name;
} kSetNames[] = {{kSetNet, "%net"},
                 {kSetIo, "%io"},
                 {kSetSignal, "%signal"},
                 {kSetProcess, "%process"},
                 {kSetPoll, "%poll"}};

constexpr struct {
  uint32_t bit;
  const char* name;
  const char* meaning;
} kKeys[] = {
    {kKeyError, "error", "fail with this error (name or number)"},
    {kKeyRetval, "retval", "return this value without making the call"},
    {kKeyShort, "short", "transfer at most this many bytes"},
    {kKeySignal, "signal", "deliver this signal to the caller on entry"},
    {kKeyDelayEnter, "delay_enter", "sleep before the call (s ms us ns; bare: us)"},
    {kKeyDelayExit, "delay_exit", "sleep after the call"},
    {kKeyWhen, "when", "first[..last][+[step]]: which matching calls, from 1"},
    {kKeyTimes, "times", "fire at most this many times"},
    {kKeyP, "p", "fire with this probability"},
    {kKeySeed, "seed", "the rule's own seed for p="},
    {kKeyFd, "fd", "only calls on socket|pipe|file|any|N fds"},
    {kKeyPort, "port", "only calls whose local or peer port is this"},
    {kKeySig, "sig", "only calls that send this signal"},
    {kKeyAs, "as", "as=strace: count and fail exactly as strace does"},
};

const char* FailureText(FailureStyle style) {
  switch (style) {
    case FailureStyle::kMinusOneErrno:
      return "-1, errno";
    case FailureStyle::kReturnsErrno:
      return "returns errno";
    case FailureStyle::kNonzeroErrno:
      return "nonzero, errno";
    case FailureStyle::kEaiCode:
      return "EAI_* code";
    case FailureStyle::kNullHErrno:
      return "NULL, h_errno";
    case FailureStyle::kSigErrErrno:
      return "SIG_ERR, errno";
    case FailureStyle::kCannotFail:
      return "cannot fail";
  }
  return "?";
}

std::string SetsText(uint8_t sets) {
  std::vector<std::string> names;
  for (const auto& set : kSetNames) {
    if (sets & set.bit) names.push_back(set.name);
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
      std::cout << kCallsHelp;
      return kExitOk;
    }
  }
  for (const std::string& arg : args) {
    if (arg == "all") {
      selected.assign(selected.size(), true);
      continue;
    }
    if (absl::StartsWith(arg, "%")) {
      bool known = false;
      for (const auto& set : kSetNames) {
        if (arg != set.name) continue;
        known = true;
        for (const CallInfo& info : AllCalls()) {
          if (info.sets & set.bit) selected[static_cast<int>(info.call)] = true;
        }
      }
      if (!known) {
        PrintUsageError("calls", absl::StrCat("unknown call set '", arg,
                                              "' (sets: %net %io %signal "
                                              "%process)"));
        return kExitUsage;
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

  std::cout << absl::StrFormat("%-18s %-16s %-7s %-15s %s\n", "CALL", "SETS",
                               "FD", "FAILS AS", "DOCUMENTED ERRORS");
  std::vector<const CallInfo*> rows;
  for (const CallInfo& info : AllCalls()) {
    if (!selected[static_cast<int>(info.call)]) continue;
    rows.push_back(&info);
    const char* fd = (info.keys & kKeyFd) == 0     ? "-"
                     : info.defaults_to_socket_fds ? "socket"
                                                   : "any";
    std::cout << absl::StrFormat("%-18s %-16s %-7s %-15s %s\n", info.name,
                                 SetsText(info.sets), fd,
                                 FailureText(info.failure), ErrorsText(info));
  }
  std::cout << "\nFD: the default fd= filter (a rule on the read/write family "
               "applies to sockets\nunless it says fd=any; '-': the call takes "
               "no fd).\n\nKeys, and the calls above they apply to:\n";
  for (const auto& key : kKeys) {
    std::vector<absl::string_view> names, others;
    for (const CallInfo* info : rows) {
      ((info->keys & key.bit) ? names : others).push_back(info->name);
    }
    std::string calls =
        others.empty()  ? "all"
        : names.empty() ? "none"
        : names.size() > others.size()
            ? absl::StrCat("all but ", absl::StrJoin(others, " "))
            : absl::StrJoin(names, " ");
    std::cout << absl::StrFormat("  %-12s %-52s %s\n", key.name, key.meaning,
                                 calls);
  }
  if (args.empty()) {
    std::cout << "\nSets:\n";
    for (const auto& set : kSetNames) {
      std::vector<absl::string_view> members;
      for (const CallInfo& info : AllCalls()) {
        if (info.sets & set.bit) members.push_back(info.name);
      }
      std::cout << absl::StrFormat("  %-10s %s\n", set.name,
                                   absl::StrJoin(members, " "));
    }
    std::cout << absl::StrFormat("  %-10s %s\n", "all", "every call above");
  }
  return kExitOk;
}

}  // namespace ipcfault::cli
