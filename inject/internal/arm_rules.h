// inject/internal/arm_rules.h
//
// The one path from rules to armed rules, for ipcfault::Arm (faults.h) and
// for the preload library's load-time arming (preload.cc) alike: validate
// each rule against the call table, record its canonical text (what the
// fire log and the counts name it by), and arm them as one group.
//
//   absl::StatusOr<std::shared_ptr<RuleGroup>> group = ArmRules(std::move(rules));
//   if (!group.ok()) ...  // "rule 2 of 3: key 'short' does not apply to accept"
//
// Thread-safe; not async-signal-safe (it allocates and takes the arming
// lock).

#ifndef IPCFAULT_INJECT_INTERNAL_ARM_RULES_H_
#define IPCFAULT_INJECT_INTERNAL_ARM_RULES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/internal/arming.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault::inject_internal {

// Validates `rules` and arms them as one group after every group already
// armed; returns the group, armed (the engine holds it until disarmed). A
// rule that is not valid arms nothing and returns InvalidArgument
// "`who`rule I of N: MESSAGE" (I from 0); a failure to arm (a malformed
// IPCFAULT_SEED for p= rules) is returned as ArmGroup gives it.
absl::StatusOr<std::shared_ptr<RuleGroup>> ArmRules(std::vector<Rule> rules,
                                                    absl::string_view who = "");

// ArmRules without absl::Status, for the preload library (which must not
// link absl::Status; docs/run.md): the group, or nullptr with `why` set to
// the message ArmRules would return.
std::shared_ptr<RuleGroup> TryArmRules(std::vector<Rule> rules, absl::string_view who,
                                       std::string* why);

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_ARM_RULES_H_
