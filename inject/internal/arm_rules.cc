#include "ipcfault/inject/internal/arm_rules.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ipcfault/inject/internal/arming.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario.h"

namespace ipcfault::inject_internal {

std::shared_ptr<RuleGroup> TryArmRules(std::vector<Rule> rules, absl::string_view who,
                                       std::string* why) {
  std::vector<std::string> texts;
  texts.reserve(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    std::string problem = scenario_internal::RuleProblem(rule);
    if (problem.empty() && rule.thread.has_value() && *rule.thread <= 0) {
      problem = absl::StrCat("thread ", *rule.thread, " is not a thread id");
    }
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
