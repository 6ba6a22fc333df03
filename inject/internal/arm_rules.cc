#include "ipcfault/inject/internal/arm_rules.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ipcfault/inject/internal/arming.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario.h"

namespace ipcfault::inject_internal {

absl::StatusOr<std::shared_ptr<RuleGroup>> ArmRules(std::vector<Rule> rules,
                                                    absl::string_view who) {
  std::vector<std::string> texts;
  texts.reserve(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    // From the call table, in C++ terms (rule.h); a thread id must be > 0.
    absl::Status valid = ValidateRule(rule);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, "rule ", i, " of ", rules.size(), ": ", valid.message()));
    }
    texts.push_back(FormatRule(rule));
  }
  auto group = std::make_shared<RuleGroup>(std::move(rules), std::move(texts));
  if (absl::Status armed = ArmGroup(group); !armed.ok()) return armed;
  return group;
}

}  // namespace ipcfault::inject_internal
