// libFuzzer target for the scenario parser.
//
// Invariants, on every input:
//  - a rejected scenario fails with InvalidArgument "fuzz:LINE:COLUMN: ..."
//    where LINE is a line of the input and COLUMN lies within it (or one
//    past its end);
//  - an accepted scenario formats to canonical text that parses back to the
//    same rules, and formatting that again changes nothing; each rule alone
//    round-trips through FormatRule/ParseRule and passes ValidateRule;
//  - on a single line, ParseRule agrees with ParseScenario.
// A broken invariant aborts, which libFuzzer (and the replay driver) report.
//
// Built two ways (inject/BUILD.bazel): with the normal toolchain and
// scenario_fuzz_replay.cc as main (a seed corpus plus deterministic
// mutations, part of `bazel test //...`), and with clang's
// -fsanitize=fuzzer,address,undefined by scenario_libfuzzer_test.sh.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario.h"

namespace {

[[noreturn]] void Fail(absl::string_view what, absl::string_view input, absl::string_view detail) {
  std::fprintf(stderr, "scenario_fuzz: %.*s\n  input: %.*s\n  detail: %.*s\n",
               static_cast<int>(what.size()), what.data(), static_cast<int>(input.size()),
               input.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void CheckRejection(absl::string_view input, const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    Fail("rejection is not InvalidArgument", input, status.ToString());
  }
  // "fuzz:LINE:COLUMN: message"
  std::vector<absl::string_view> parts = absl::StrSplit(status.message(), absl::MaxSplits(':', 3));
  size_t line = 0;
  size_t column = 0;
  if (parts.size() != 4 || parts[0] != "fuzz" || !absl::SimpleAtoi(parts[1], &line) ||
      !absl::SimpleAtoi(parts[2], &column) || parts[3].size() < 2 || parts[3][0] != ' ') {
    Fail("rejection is not 'fuzz:LINE:COLUMN: message'", input, status.message());
  }
  std::vector<absl::string_view> lines = absl::StrSplit(input, '\n');
  if (line < 1 || line > lines.size() || column < 1 || column > lines[line - 1].size() + 1) {
    Fail("rejection points outside the input", input, status.message());
  }
}

void CheckRoundTrip(absl::string_view input, const std::vector<ipcfault::Rule>& rules) {
  const std::string text = ipcfault::FormatScenario(rules);
  absl::StatusOr<std::vector<ipcfault::Rule>> again = ipcfault::ParseScenario(text, "formatted");
  if (!again.ok()) Fail("formatted text does not parse", input, again.status().message());
  if (*again != rules) Fail("formatted text parses to other rules", input, text);
  if (ipcfault::FormatScenario(*again) != text) Fail("formatting is not stable", input, text);
  for (const ipcfault::Rule& rule : rules) {
    const std::string line = ipcfault::FormatRule(rule);
    absl::StatusOr<ipcfault::Rule> back = ipcfault::ParseRule(line);
    if (!back.ok() || !(*back == rule)) Fail("FormatRule does not round-trip", input, line);
    if (absl::Status valid = ipcfault::ValidateRule(rule); !valid.ok()) {
      Fail("ValidateRule rejects a parsed rule", input, valid.message());
    }
  }
}

// ParseRule is ParseScenario restricted to one line.
void CheckParseRuleAgrees(absl::string_view input,
                          const absl::StatusOr<std::vector<ipcfault::Rule>>& rules) {
  if (input.find('\n') != absl::string_view::npos) return;
  absl::StatusOr<ipcfault::Rule> rule = ipcfault::ParseRule(input, "fuzz");
  if (!rules.ok()) {
    if (rule.ok() || rule.status().message() != rules.status().message()) {
      Fail("ParseRule and ParseScenario disagree on an error", input, rule.status().ToString());
    }
  } else if (rules->size() == 1) {
    if (!rule.ok() || !(*rule == (*rules)[0])) {
      Fail("ParseRule and ParseScenario disagree on a rule", input, rule.status().ToString());
    }
  } else if (rule.ok()) {
    Fail("ParseRule accepts a line without a rule", input, ipcfault::FormatRule(*rule));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<ipcfault::Rule>> rules = ipcfault::ParseScenario(input, "fuzz");
  if (rules.ok()) {
    CheckRoundTrip(input, *rules);
  } else {
    CheckRejection(input, rules.status());
  }
  CheckParseRuleAgrees(input, rules);
  return 0;
}
