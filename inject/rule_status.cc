// inject/rule_status.cc
//
// ValidateRule (rule.h) over RuleProblem, in a file of its own so that the
// preload library links no object that names absl::Status (docs/run.md, "A
// libc-only preload library").

#include <string>

#include "absl/status/status.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault {

absl::Status ValidateRule(const Rule& rule) {
  std::string problem = RuleProblem(rule);
  if (problem.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(problem);
}

}  // namespace ipcfault
