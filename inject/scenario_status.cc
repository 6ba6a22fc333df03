// inject/scenario_status.cc
//
// The scenario parser's absl::Status entry points (scenario.h) over its
// Status-free ones, in a file of their own so that the preload library
// links no object that names absl::Status (docs/run.md, "A libc-only preload library").

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario.h"

namespace ipcfault {

absl::StatusOr<std::vector<Rule>> ParseScenario(absl::string_view text,
                                                absl::string_view source) {
  std::vector<Rule> rules;
  std::string error;
  if (!scenario_internal::ParseScenarioRules(text, source, &rules, &error)) {
    return absl::InvalidArgumentError(error);
  }
  return rules;
}

absl::StatusOr<Rule> ParseRule(absl::string_view text, absl::string_view source) {
  Rule rule;
  std::string error;
  if (!scenario_internal::ParseOneRule(text, source, &rule, &error)) {
    return absl::InvalidArgumentError(error);
  }
  return rule;
}

}  // namespace ipcfault
