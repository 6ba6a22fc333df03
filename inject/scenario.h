// inject/scenario.h
//
// The scenario language: strace's `-e inject=` syntax, one rule a line, `#`
// comments, plus ipcfault's own keys (short=, times=, p=, seed=, fd=, port=,
// sig=). Parsing never half-succeeds: any error rejects the whole scenario
// with "NAME:LINE:COLUMN: message". Formatting gives canonical text that
// parses back to equal rules.
//
//   absl::StatusOr<std::vector<ipcfault::Rule>> rules =
//       ipcfault::ParseScenario("connect:error=ECONNREFUSED:when=1..2\n",
//                               "client.scenario");
//   if (!rules.ok()) { /* rules.status().message() ==
//                         "client.scenario:1:15: ..." */ }
//   std::string text = ipcfault::FormatScenario(*rules);
//
// Thread-safe: the functions are pure.

#ifndef IPCFAULT_INJECT_SCENARIO_H_
#define IPCFAULT_INJECT_SCENARIO_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/names.h"  // ErrorName, SignalName (formerly here)
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario_format.h"  // FormatRule, FormatScenario

namespace ipcfault {

// Parses a whole scenario (rules on lines, blank lines, # comments). On error
// returns InvalidArgument with the message "SOURCE:LINE:COLUMN: what is
// wrong" (1-based; the column points at the offending token), plus a
// suggestion where one is obvious ("did you mean ECONNREFUSED?").
absl::StatusOr<std::vector<Rule>> ParseScenario(absl::string_view text,
                                                absl::string_view source = "scenario");

// Parses one rule, as given to `-e` (a leading "inject=" is accepted).
// Errors read "SOURCE:1:COLUMN: ...".
absl::StatusOr<Rule> ParseRule(absl::string_view text,
                               absl::string_view source = "-e");

namespace scenario_internal {

// ParseScenario and ParseRule without absl::Status, for the preload library
// (which must not link absl::Status: docs/run.md, "A libc-only preload
// library"; the Status forms are in scenario_status.cc). The same rules and
// messages: false with `error` set.
bool ParseScenarioRules(absl::string_view text, absl::string_view source,
                        std::vector<Rule>* rules, std::string* error);
bool ParseOneRule(absl::string_view text, absl::string_view source, Rule* rule,
                  std::string* error);

}  // namespace scenario_internal

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_SCENARIO_H_
