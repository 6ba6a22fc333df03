#include "ipcfault/inject/cli/calls_markdown.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/names.h"

namespace ipcfault::cli {

absl::string_view FailureText(FailureStyle style) {
  switch (style) {
    case FailureStyle::kMinusOneErrno:
      return "-1, errno";
    case FailureStyle::kReturnsErrno:
      return "the errno value";
    case FailureStyle::kNonzeroErrno:
      return "nonzero, errno";
    case FailureStyle::kEaiCode:
      return "an EAI_* code";
    case FailureStyle::kNullHErrno:
      return "NULL, h_errno";
    case FailureStyle::kSigErrErrno:
      return "SIG_ERR, errno";
    case FailureStyle::kCannotFail:
      return "cannot fail";
  }
  return "?";
}

std::string KeyTakersText(uint32_t key, absl::Span<const CallInfo* const> calls) {
  std::vector<absl::string_view> takers;
  std::vector<absl::string_view> others;
  for (const CallInfo* info : calls) {
    ((info->keys & key) != 0 ? takers : others).push_back(info->name);
  }
  if (others.empty()) return "all";
  if (takers.empty()) return "none";
  if (takers.size() > others.size()) return absl::StrCat("all but ", absl::StrJoin(others, " "));
  return absl::StrJoin(takers, " ");
}

namespace {

std::string Names(CallMask mask) {
  std::vector<absl::string_view> names;
  for (const CallInfo& info : AllCalls()) {
    if ((mask & MaskOf(info.call)) != 0) names.push_back(info.name);
  }
  return absl::StrJoin(names, ", ");
}

std::string CallTable() {
  std::string out =
      "| call | sets | failure returns | keys besides the common ones | default fd= | "
      "documented errors |\n"
      "|---|---|---|---|---|---|\n";
  for (const CallInfo& info : AllCalls()) {
    std::vector<absl::string_view> sets;
    for (const CallSetInfo& set : AllCallSets()) {
      if (set.bits != 0 && (info.sets & set.bits) != 0) sets.push_back(set.name);
    }
    std::vector<std::string> keys;
    for (uint32_t bit : {kKeyShort, kKeyFd, kKeyPort, kKeySig}) {
      if ((info.keys & bit) != 0) {
        for (const KeyInfo& key : AllKeys()) {
          if (key.bit == bit) keys.emplace_back(key.name);
        }
      }
    }
    if ((info.keys & kKeyRetval) == 0) keys.push_back("(no retval)");
    std::vector<std::string> errors;
    for (int e : info.errors) errors.push_back(ErrorName(info.call, e));
    const absl::string_view fd = (info.keys & kKeyFd) == 0   ? ""
                                 : info.defaults_to_socket_fds ? "socket"
                                                               : "any";
    absl::StrAppend(&out, "| ", info.name, " | ", absl::StrJoin(sets, " "), " | ",
                    FailureText(info.failure), " | ", absl::StrJoin(keys, " "), " | ", fd,
                    " | ", absl::StrJoin(errors, " "), " |\n");
  }
  return out;
}

}  // namespace

std::string CallsMarkdown() {
  std::string out =
      "# The calls ipcfault intercepts\n"
      "\n"
      "<!-- Generated: `ipcfault calls --markdown` prints this file from the call\n"
      "spec (inject/call_spec.inc, inject/call.cc), and //inject:calls_doc_test\n"
      "keeps the two equal. Edit the spec, then regenerate:\n"
      "bazel run //:ipcfault -- calls --markdown > docs/calls.md -->\n"
      "\n"
      "Every call a rule can name: its call sets, how it reports failure, the\n"
      "keys that apply to it besides the common ones, its default `fd=` filter\n"
      "and the errors its man page documents. How sets and keys combine in a\n"
      "rule, and what `error=` accepts: [scenario.md](scenario.md), \"Calls, sets\n"
      "and keys\". How a row is written: [call_spec.md](call_spec.md).\n"
      "\n"
      "## Call sets\n"
      "\n"
      "| set | what | calls |\n"
      "|---|---|---|\n";
  for (const CallSetInfo& set : AllCallSets()) {
    absl::StrAppend(&out, "| `", set.name, "` | ", set.meaning, " | ",
                    set.bits == 0 ? "every call below" : Names(CallsIn(set)), " |\n");
  }
  std::vector<const CallInfo*> calls;
  for (const CallInfo& info : AllCalls()) calls.push_back(&info);
  absl::StrAppend(&out,
                  "\n"
                  "## Keys\n"
                  "\n"
                  "| key | what | calls it applies to |\n"
                  "|---|---|---|\n");
  for (const KeyInfo& key : AllKeys()) {
    std::string takers = KeyTakersText(key.bit, calls);
    absl::StrAppend(&out, "| `", key.name, "=` | ", absl::StrReplaceAll(key.meaning, {{"|", "\\|"}}),
                    " | ", takers, " |\n");
  }
  absl::StrAppend(&out,
                  "\n"
                  "## The table\n"
                  "\n",
                  CallTable());
  return out;
}

}  // namespace ipcfault::cli
