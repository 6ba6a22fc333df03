// inject/cli/json.h
//
// A small JSON reader for what ipcfault itself writes (sweep logs, sweep
// reports that `ipcfault sweep merge` joins) and the string quoting that
// writes them.
//
//   absl::StatusOr<JsonValue> v = ParseJson(R"({"a":[1,"x"]})");
//   v->Get("a").items()[1].str() == "x"
//
// Thread-compatible value type.

#ifndef IPCFAULT_INJECT_CLI_JSON_H_
#define IPCFAULT_INJECT_CLI_JSON_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ipcfault::cli {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool boolean() const { return boolean_; }
  double number() const { return number_; }
  const std::string& str() const { return string_; }
  const std::vector<JsonValue>& items() const { return items_; }
  const std::map<std::string, JsonValue>& fields() const { return fields_; }
  // The member `key` of an object, or a null value.
  const JsonValue& Get(absl::string_view key) const;

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool boolean_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::map<std::string, JsonValue> fields_;
};

// Parses one JSON value (and nothing after it but white space).
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// `s` as a JSON string, quotes included.
std::string JsonQuote(absl::string_view s);

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_JSON_H_
