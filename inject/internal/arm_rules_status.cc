// inject/internal/arm_rules_status.cc
//
// ArmRules (arm_rules.h) over TryArmRules, in a file of its own so that the
// preload library links no object that names absl::Status (docs/run.md,
// "A libc-only preload library").

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/internal/arm_rules.h"

namespace ipcfault::inject_internal {

absl::StatusOr<std::shared_ptr<RuleGroup>> ArmRules(std::vector<Rule> rules,
                                                    absl::string_view who) {
  std::string why;
  std::shared_ptr<RuleGroup> group = TryArmRules(std::move(rules), who, &why);
  // A group made here is never armed already: every failure is the input's.
  if (group == nullptr) return absl::InvalidArgumentError(why);
  return group;
}

}  // namespace ipcfault::inject_internal
