#include "ipcfault/inject/internal/arm_rules.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ipcfault/inject/internal/arming.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario_format.h"

namespace ipcfault::inject_internal {

std::shared_ptr<RuleGroup> TryArmRules(std::vector<Rule> rules, absl::string_view who,
                                       std::string* why) {
  std::vector<std::string> texts;
  texts.reserve(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    // From the call table, in C++ terms (rule.h); a thread id must be > 0.
    std::string problem = RuleProblem(rule);
    if (!problem.empty()) {
      *why = absl::StrCat(who, "rule ", i, " of ", rules.size(), ": ", problem);
      return nullptr;
    }
    texts.push_back(FormatRule(rule));
  }
  auto group = std::make_shared<RuleGroup>(std::move(rules), std::move(texts));
  if (!TryArmGroup(group, why)) return nullptr;
  return group;
}

}  // namespace ipcfault::inject_internal
