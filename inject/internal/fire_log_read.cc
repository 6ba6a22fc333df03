// inject/internal/fire_log_read.cc
//
// The reading half of the fire log's codec (fire_log.h): a strict parser of
// the flat JSON objects FormatFireLine writes, and of a whole fire record.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/internal/fire_log.h"

namespace ipcfault::inject_internal {
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

namespace {

template <typename T>
const T* Field(const std::map<std::string, JsonScalar>& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : std::get_if<T>(&it->second);
}

}  // namespace

std::optional<FireLogLine> ParseFireLine(absl::string_view line) {
  std::optional<std::map<std::string, JsonScalar>> object = ParseFlatJsonObject(line);
  if (!object.has_value()) return std::nullopt;
  FireLogLine record;
  const std::string* time = Field<std::string>(*object, "time");
  const int64_t* pid = Field<int64_t>(*object, "pid");
  const int64_t* tid = Field<int64_t>(*object, "tid");
  const std::string* call = Field<std::string>(*object, "call");
  const int64_t* rule = Field<int64_t>(*object, "rule");
  const std::string* rule_text = Field<std::string>(*object, "rule_text");
  const std::string* action = Field<std::string>(*object, "action");
  const int64_t* fd = Field<int64_t>(*object, "fd");
  const int64_t* ordinal = Field<int64_t>(*object, "ordinal");
  auto error = object->find("errno");
  size_t expected = 10;  // the fields below; "run" makes 11
  if (auto run = object->find("run"); run != object->end()) {
    const std::string* tag = std::get_if<std::string>(&run->second);
    if (tag == nullptr) return std::nullopt;
    record.run = *tag;
    ++expected;
  }
  if (time == nullptr || pid == nullptr || tid == nullptr || call == nullptr ||
      rule == nullptr || *rule < 0 || rule_text == nullptr || action == nullptr ||
      fd == nullptr || ordinal == nullptr || *ordinal < 1 ||
      error == object->end() || object->size() != expected) {
    return std::nullopt;
  }
  record.time = *time;
  record.pid = *pid;
  record.tid = *tid;
  record.call = *call;
  record.rule = static_cast<uint32_t>(*rule);
  record.rule_text = *rule_text;
  record.action = *action;
  record.error = error->second;
  record.fd = *fd;
  record.ordinal = static_cast<uint64_t>(*ordinal);
  return record;
}

}  // namespace ipcfault::inject_internal
