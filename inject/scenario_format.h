// inject/scenario_format.h
//
// The canonical text of rules in the scenario language (scenario.h parses
// it): one line a rule, keys in a fixed order, values in their shortest
// exact form. Every rule ValidateRule (rule.h) accepts formats to text that
// parses back to an equal rule. A target of its own (//inject:scenario_format)
// so that code which only prints rules (arming, the fire log's rule texts)
// does not link the parser.
//
//   ipcfault::Rule rule = ipcfault::Fault(ipcfault::Call::kConnect)
//                             .Error(ECONNREFUSED).When(1, 2);
//   std::string text = ipcfault::FormatRule(rule);
//   // "connect:error=ECONNREFUSED:when=1..2"
//
// Thread-safe: the functions are pure.

#ifndef IPCFAULT_INJECT_SCENARIO_FORMAT_H_
#define IPCFAULT_INJECT_SCENARIO_FORMAT_H_

#include <string>

#include "absl/types/span.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault {

// Canonical text of one rule (no trailing newline); parses back to an equal
// rule. C++-only narrowing (thread, predicate) has no text form: it is said
// in a trailing comment ("  # C++ only, not expressible here: ...").
std::string FormatRule(const Rule& rule);

// Canonical text of a scenario: one FormatRule line each, '\n'-terminated.
std::string FormatScenario(absl::Span<const Rule> rules);

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_SCENARIO_FORMAT_H_
