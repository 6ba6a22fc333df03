// inject/cli/fire_summary.h
//
// The summary `ipcfault run` prints after the program exits: for each rule,
// how often it fired and in how many processes. `ipcfault run` takes the
// counts from the run's shared counters (inject/internal/shared_counts.h);
// CountFires reads them back from a fire log's JSON lines instead (see
// inject/internal/fire_log.h for the line format).
//
//   FireCounts counts = CountFires(log_text, rule_texts.size());
//   Err(FormatSummary(rule_texts, counts));
//
// Thread-safe: the functions are pure.

#ifndef IPCFAULT_INJECT_CLI_FIRE_SUMMARY_H_
#define IPCFAULT_INJECT_CLI_FIRE_SUMMARY_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ipcfault/inject/internal/fire_log.h"

namespace ipcfault::cli {

// The fire log's reader (one codec with its writer: fire_log.h).
using inject_internal::JsonScalar;
using inject_internal::ParseFlatJsonObject;

struct RuleFires {
  uint64_t fired = 0;
  uint64_t processes = 0;  // how many processes it fired in
  std::set<pid_t> pids;    // which (CountFires only: the log names them)
};

struct FireCounts {
  std::vector<RuleFires> rules;  // one per rule, by index
  uint64_t lines = 0;            // lines read
  uint64_t malformed = 0;        // lines that are not a fire record
  uint64_t unknown_rule = 0;     // records naming a rule index out of range
  uint64_t other_runs = 0;       // records of other runs sharing the log
};

// Counts the fire records in `log` (JSON lines) for `rule_count` rules. A
// final line without '\n' (a writer killed mid-line cannot produce one, but
// a truncated file can) counts as malformed. With a non-empty `run`, only
// records tagged "run":`run` count: several `ipcfault run`s may append to one
// log (under Bazel they share $TEST_UNDECLARED_OUTPUTS_DIR/ipcfault.log).
FireCounts CountFires(absl::string_view log, size_t rule_count,
                      absl::string_view run = "");

// The summary, one line per rule, each starting "ipcfault: ":
//   ipcfault: rule 1 connect:error=ECONNREFUSED:when=1: fired 1 time (1 process)
//   ipcfault: rule 2 accept:error=EMFILE: never fired
// followed by a warning line if any record was malformed.
std::string FormatSummary(absl::Span<const std::string> rule_texts,
                          const FireCounts& counts);

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_FIRE_SUMMARY_H_
