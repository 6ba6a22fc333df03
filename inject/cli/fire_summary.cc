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
namespace {

// A cursor over one line; every Parse* consumes on success only.
class Cursor {
 public:
  explicit Cursor(absl::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ == text_.size(); }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(absl::string_view word) {
    if (text_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  std::optional<std::string> ParseString() {
    if (!Consume('"')) return std::nullopt;
    std::string out;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ == text_.size()) return std::nullopt;
      char e = text_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          if (pos_ + 4 > text_.size()) return std::nullopt;
          uint32_t code = 0;
          for (int i = 0; i < 4; ++i) {
            char h = text_[pos_++];
            if (!absl::ascii_isxdigit(h)) return std::nullopt;
            code = code * 16 + static_cast<uint32_t>(
                                   absl::ascii_isdigit(h)
                                       ? h - '0'
                                       : absl::ascii_tolower(h) - 'a' + 10);
          }
          // The log escapes only control characters; keep others as UTF-8.
          if (code < 0x80) {
            out.push_back(static_cast<char>(code));
          } else if (code < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (code >> 6)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
          } else {
            out.push_back(static_cast<char>(0xE0 | (code >> 12)));
            out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
          }
          break;
        }
        default:
          return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::optional<int64_t> ParseInteger() {
    size_t end = pos_;
    if (end < text_.size() && text_[end] == '-') ++end;
    size_t digits = end;
    while (end < text_.size() && absl::ascii_isdigit(text_[end])) ++end;
    if (end == digits) return std::nullopt;
    int64_t value;
    if (!absl::SimpleAtoi(text_.substr(pos_, end - pos_), &value)) {
      return std::nullopt;
    }
    pos_ = end;
    return value;
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<std::map<std::string, JsonScalar>> ParseFlatJsonObject(
    absl::string_view line) {
  Cursor in(line);
  std::map<std::string, JsonScalar> object;
  if (!in.Consume('{')) return std::nullopt;
  if (in.Consume('}')) return in.AtEnd() ? std::optional(object) : std::nullopt;
  do {
    std::optional<std::string> key = in.ParseString();
    if (!key.has_value() || !in.Consume(':')) return std::nullopt;
    JsonScalar value;
    if (std::optional<std::string> s = in.ParseString(); s.has_value()) {
      value = *std::move(s);
    } else if (std::optional<int64_t> n = in.ParseInteger(); n.has_value()) {
      value = *n;
    } else if (in.ConsumeWord("null")) {
      value = std::monostate{};
    } else {
      return std::nullopt;
    }
    if (!object.emplace(*std::move(key), std::move(value)).second) {
      return std::nullopt;  // duplicate key
    }
  } while (in.Consume(','));
  if (!in.Consume('}') || !in.AtEnd()) return std::nullopt;
  return object;
}

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
