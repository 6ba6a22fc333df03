#include "ipcfault/inject/cli/fire_summary.h"

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ipcfault::cli {
FireCounts CountFires(absl::string_view log, size_t rule_count,
                      absl::string_view run) {
  FireCounts counts;
  counts.rules.resize(rule_count);
  while (!log.empty()) {
    size_t newline = log.find('\n');
    absl::string_view line = log.substr(0, newline);
    log = newline == absl::string_view::npos ? absl::string_view()
                                              : log.substr(newline + 1);
    ++counts.lines;
    std::optional<std::map<std::string, JsonScalar>> record;
    if (newline != absl::string_view::npos) record = ParseFlatJsonObject(line);
    const int64_t* rule = nullptr;
    const int64_t* pid = nullptr;
    if (record.has_value()) {
      if (auto it = record->find("rule"); it != record->end()) {
        rule = std::get_if<int64_t>(&it->second);
      }
      if (auto it = record->find("pid"); it != record->end()) {
        pid = std::get_if<int64_t>(&it->second);
      }
    }
    if (rule == nullptr || pid == nullptr) {
      ++counts.malformed;
      continue;
    }
    if (!run.empty()) {
      auto it = record->find("run");
      const std::string* tag =
          it == record->end() ? nullptr : std::get_if<std::string>(&it->second);
      if (tag == nullptr || *tag != run) {
        ++counts.other_runs;
        continue;
      }
    }
    if (*rule < 0 || static_cast<uint64_t>(*rule) >= rule_count) {
      ++counts.unknown_rule;
      continue;
    }
    RuleFires& fires = counts.rules[static_cast<size_t>(*rule)];
    ++fires.fired;
    fires.pids.insert(static_cast<pid_t>(*pid));
    fires.processes = fires.pids.size();
  }
  return counts;
}

std::string FormatSummary(absl::Span<const std::string> rule_texts,
                          const FireCounts& counts) {
  std::string out;
  for (size_t i = 0; i < rule_texts.size(); ++i) {
    absl::StrAppend(&out, "ipcfault: rule ", i, " ", rule_texts[i], ": ");
    const RuleFires* fires =
        i < counts.rules.size() ? &counts.rules[i] : nullptr;
    if (fires == nullptr || fires->fired == 0) {
      absl::StrAppend(&out, "never fired\n");
      continue;
    }
    absl::StrAppend(&out, "fired ", fires->fired,
                    fires->fired == 1 ? " time" : " times", " (",
                    fires->processes,
                    fires->processes == 1 ? " process" : " processes",
                    ")\n");
  }
  if (counts.malformed > 0 || counts.unknown_rule > 0) {
    absl::StrAppend(&out, "ipcfault: warning: the fire log has ",
                    counts.malformed + counts.unknown_rule,
                    " line(s) that are not records of these rules\n");
  }
  return out;
}

}  // namespace ipcfault::cli
