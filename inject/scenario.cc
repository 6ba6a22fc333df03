// The scenario language: the parser. (The canonical formatter is
// scenario_format.cc; the names of errors and signals, names.cc; the keys
// and call sets, call.cc beside the spec.)
//
// A rule is `CALLS:key=value:...`. Parsing goes left to right and stops at
// the first error, which names the line and the byte column of the offending
// token. Validity is decided here, from the call table (call.h): which keys
// apply to which call, which error codes each call can fail with.
//
// Call sets (%net, %io, %signal, %process, all) stand for those of their
// calls to which every key of the rule applies: `%io:short=1` is the
// read/write/send/recv family, `%net:error=EINTR` leaves out getaddrinfo and
// gethostbyname (which fail with EAI_* and h_errno codes). A call named
// explicitly must accept every key, or the rule is rejected.

#include "ipcfault/inject/scenario.h"

#include <netdb.h>
#include <signal.h>
#include <string.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/rule_needs.h"
#include "ipcfault/inject/names.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault {
namespace {

constexpr int kMaxErrno = 4095;  // the kernel's MAX_ERRNO
constexpr int64_t kMaxDelayNs = int64_t{86400} * 1000 * 1000 * 1000;  // 24 h
constexpr uint64_t kMaxInt = std::numeric_limits<int>::max();
constexpr uint64_t kMaxCount = When::kNoLast - 1;

// ---------------------------------------------------------------------------
// Suggestions.

// Levenshtein distance, ASCII case-insensitive, capped at `limit + 1`.
size_t EditDistance(absl::string_view a, absl::string_view b, size_t limit) {
  if (a.size() > b.size() + limit || b.size() > a.size() + limit) return limit + 1;
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      bool same = absl::ascii_tolower(a[i - 1]) == absl::ascii_tolower(b[j - 1]);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return std::min(row[b.size()], limit + 1);
}

// The candidate closest to `word`, if it is close enough to be a likely typo.
std::optional<std::string> Closest(absl::string_view word,
                                   const std::vector<std::string>& candidates) {
  if (word.empty() || word.size() > 64) return std::nullopt;
  const size_t limit = word.size() <= 3 ? 1 : 2;
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    size_t d = EditDistance(word, candidate, limit);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string DidYouMean(absl::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best = Closest(word, candidates);
  return best ? absl::StrCat("; did you mean ", *best, "?") : "";
}

// A token as shown in a message: escaped, and cut if very long.
std::string Quote(absl::string_view token) {
  constexpr size_t kMax = 40;
  std::string shown = absl::CHexEscape(token.substr(0, kMax));
  if (token.size() > kMax) absl::StrAppend(&shown, "...");
  return absl::StrCat("'", shown, "'");
}

// Every call and set name, for suggestions.
const std::vector<std::string>& CallWords() {
  static const std::vector<std::string>* const words = [] {
    auto* v = new std::vector<std::string>;
    for (const CallInfo& info : AllCalls()) v->emplace_back(info.name);
    for (const CallSetInfo& set : AllCallSets()) v->emplace_back(set.name);
    return v;
  }();
  return *words;
}

// ---------------------------------------------------------------------------
// Values.

// A parse failure: the 0-based byte offset in the line, and the message.
struct Failure {
  size_t offset;
  std::string message;
};

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
}

// A decimal number in [min, max]; `what` names it in messages ("short=").
std::optional<Failure> ParseNumber(absl::string_view text, size_t offset, absl::string_view what,
                                   uint64_t min, uint64_t max, uint64_t* out) {
  if (!AllDigits(text)) {
    return Failure{offset, absl::StrCat(what, " expects a decimal number, got ", Quote(text))};
  }
  uint64_t value = 0;
  bool overflow = !absl::SimpleAtoi(text, &value);
  if (overflow || value < min || value > max) {
    return Failure{offset, absl::StrCat(what, absl::CHexEscape(text.substr(0, 40)),
                                        " is out of range (", min, "..", max, ")")};
  }
  *out = value;
  return std::nullopt;
}

std::optional<Failure> OutOfRange(absl::string_view what, absl::string_view text, size_t offset,
                                  absl::string_view range) {
  return Failure{offset, absl::StrCat(what, absl::CHexEscape(text.substr(0, 40)),
                                      " is out of range (", range, ")")};
}

struct ErrorValue {
  int code;
  ErrorDomain domain;
};

// The calls whose errors live in `domain`, for messages: "getaddrinfo".
std::string CallsFailingIn(ErrorDomain domain) {
  std::vector<absl::string_view> names;
  for (const CallInfo& info : AllCalls()) {
    if (ErrorDomainOf(info.call) == domain) names.push_back(info.name);
  }
  return absl::StrJoin(names, ", ");
}

std::optional<Failure> ParseError(absl::string_view text, size_t offset, ErrorValue* out) {
  if (AllDigits(text)) {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(text, &n) || n < 1 || n > kMaxErrno) {
      return OutOfRange("error=", text, offset, "errno numbers run from 1 to 4095");
    }
    *out = {static_cast<int>(n), ErrorDomain::kErrno};
    return std::nullopt;
  }
  std::optional<ErrorCode> error = ParseErrorName(text);
  if (!error) {
    const std::string kind =
        absl::StartsWith(text, "EAI_")
            ? absl::StrCat("unknown ", CallsFailingIn(ErrorDomain::kEai), " error ")
            : std::string("unknown errno ");
    return Failure{offset, absl::StrCat(kind, Quote(text), DidYouMean(text, ErrorNameList()))};
  }
  *out = {error->code, error->domain};
  return std::nullopt;
}

// A signal by number (1..SIGRTMAX), name (SIGUSR1, USR1), or real-time name
// (SIGRTMIN, SIGRTMIN+3, SIGRTMAX-1, with or without SIG).
std::optional<Failure> ParseSignal(absl::string_view text, size_t offset, absl::string_view what,
                                   int* out) {
  const int rtmin = SIGRTMIN;
  const int rtmax = SIGRTMAX;
  const std::string range = absl::StrCat("signal numbers run from 1 to ", rtmax);
  if (AllDigits(text)) {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(text, &n) || n < 1 || n > static_cast<uint64_t>(rtmax)) {
      return OutOfRange(what, text, offset, range);
    }
    *out = static_cast<int>(n);
    return std::nullopt;
  }
  if (std::optional<int> sig = ParseSignalName(text)) {
    *out = *sig;
    return std::nullopt;
  }
  // A real-time form whose offset is past the range.
  absl::string_view name = text;
  absl::ConsumePrefix(&name, "SIG");
  if ((absl::ConsumePrefix(&name, "RTMIN+") || absl::ConsumePrefix(&name, "RTMAX-")) &&
      AllDigits(name)) {
    return OutOfRange(what, text, offset,
                      absl::StrCat("real-time signals run from SIGRTMIN to SIGRTMIN+",
                                   rtmax - rtmin));
  }
  std::vector<std::string> words = SignalNameList();
  if (!absl::StartsWith(text, "SIG")) {
    for (std::string& word : words) word.erase(0, 3);
  }
  return Failure{offset, absl::StrCat("unknown signal ", Quote(text), DidYouMean(text, words))};
}

// strace's time format: a decimal number (a fraction allowed) with an
// optional unit s, ms, us or ns; a bare number is microseconds.
std::optional<Failure> ParseDelay(absl::string_view text, size_t offset, absl::string_view what,
                                  absl::Duration* out) {
  size_t digits_end = 0;
  while (digits_end < text.size() &&
         (absl::ascii_isdigit(text[digits_end]) || text[digits_end] == '.')) {
    ++digits_end;
  }
  absl::string_view number = text.substr(0, digits_end);
  absl::string_view unit = text.substr(digits_end);
  int64_t unit_ns = 0;
  if (unit.empty() || unit == "us") {
    unit_ns = 1000;
  } else if (unit == "s") {
    unit_ns = 1000 * 1000 * 1000;
  } else if (unit == "ms") {
    unit_ns = 1000 * 1000;
  } else if (unit == "ns") {
    unit_ns = 1;
  }
  absl::string_view whole = number;
  absl::string_view fraction;
  if (size_t dot = number.find('.'); dot != absl::string_view::npos) {
    whole = number.substr(0, dot);
    fraction = number.substr(dot + 1);
  }
  bool well_formed = unit_ns != 0 && !number.empty() && number != "." &&
                     (whole.empty() || AllDigits(whole)) &&
                     (fraction.empty() || AllDigits(fraction));
  if (!well_formed) {
    return Failure{offset, absl::StrCat(what, " expects a time such as 20ms (units s, ms, us, "
                                              "ns; a bare number is microseconds), got ",
                                        Quote(text))};
  }
  // Exact integer arithmetic: whole * unit + fraction * unit / 10^digits.
  const std::string range = "at most 86400s";
  uint64_t whole_value = 0;
  if (!whole.empty() && (!absl::SimpleAtoi(whole, &whole_value) ||
                         whole_value > static_cast<uint64_t>(kMaxDelayNs / unit_ns))) {
    return OutOfRange(what, text, offset, range);
  }
  int64_t ns = static_cast<int64_t>(whole_value) * unit_ns;
  // Trailing zeros of the fraction change nothing; past nine digits no unit
  // leaves a whole number of nanoseconds.
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (!fraction.empty()) {
    int64_t scale = 1;  // 10^digits
    uint64_t frac_value = 0;
    bool whole_ns = fraction.size() <= 9 && absl::SimpleAtoi(fraction, &frac_value);
    for (size_t i = 0; whole_ns && i < fraction.size(); ++i) scale *= 10;
    whole_ns = whole_ns && (static_cast<int64_t>(frac_value) * unit_ns) % scale == 0;
    if (!whole_ns) {
      return Failure{offset, absl::StrCat(what, absl::CHexEscape(text.substr(0, 40)),
                                          " is not a whole number of nanoseconds")};
    }
    ns += static_cast<int64_t>(frac_value) * unit_ns / scale;
  }
  if (ns > kMaxDelayNs) return OutOfRange(what, text, offset, range);
  *out = absl::Nanoseconds(ns);
  return std::nullopt;
}

// when=first[..last][+[step]].
std::optional<Failure> ParseWhen(absl::string_view text, size_t offset, When* out) {
  auto malformed = [&](size_t at, absl::string_view why) {
    return Failure{offset + at, absl::StrCat("malformed when=", absl::CHexEscape(text.substr(0, 40)),
                                             ": ", why, " (expected first[..last][+[step]])")};
  };
  // Reads a counter at `pos`; on success advances pos.
  auto counter = [&](size_t& pos, uint64_t* value,
                     absl::string_view zero) -> std::optional<Failure> {
    size_t end = pos;
    while (end < text.size() && absl::ascii_isdigit(text[end])) ++end;
    if (end == pos) return malformed(pos, "expected a number");
    if (!absl::SimpleAtoi(text.substr(pos, end - pos), value) || *value > kMaxCount) {
      return Failure{offset + pos,
                     absl::StrCat("when= number ", text.substr(pos, end - pos),
                                  " is out of range (1..", kMaxCount, ")")};
    }
    if (*value == 0) return Failure{offset + pos, std::string(zero)};
    pos = end;
    return std::nullopt;
  };
  constexpr absl::string_view kFromOne = "when= counts calls from 1, not 0";
  When when;
  size_t pos = 0;
  if (auto f = counter(pos, &when.first, kFromOne)) return f;
  when.last = When::kNoLast;
  bool has_last = false;
  if (absl::StartsWith(text.substr(pos), "..")) {
    pos += 2;
    size_t last_at = pos;
    if (auto f = counter(pos, &when.last, kFromOne)) return f;
    if (when.last < when.first) {
      return Failure{offset + last_at, absl::StrCat("when=", absl::CHexEscape(text.substr(0, 40)),
                                                    ": last (", when.last,
                                                    ") is before first (", when.first, ")")};
    }
    has_last = true;
  }
  bool has_plus = pos < text.size() && text[pos] == '+';
  if (has_plus) {
    ++pos;
    if (pos < text.size()) {
      if (auto f = counter(pos, &when.step, "when= step must be at least 1")) return f;
    }
  }
  if (pos != text.size()) {
    return malformed(pos, absl::StrCat("unexpected ", Quote(text.substr(pos))));
  }
  // when=3 alone is the third call only; when=3+ and when=3+2 run on.
  if (!has_last && !has_plus) when.last = when.first;
  *out = when;
  return std::nullopt;
}

// p=: a decimal fraction in (0, 1], e.g. 0.05, .5, 1, 5e-3.
std::optional<Failure> ParseProbability(absl::string_view text, size_t offset, double* out) {
  size_t pos = 0;
  size_t digits = 0;
  while (pos < text.size() && absl::ascii_isdigit(text[pos])) ++pos, ++digits;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && absl::ascii_isdigit(text[pos])) ++pos, ++digits;
  }
  if (digits > 0 && pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
    size_t exponent_digits = 0;
    while (pos < text.size() && absl::ascii_isdigit(text[pos])) ++pos, ++exponent_digits;
    if (exponent_digits == 0) digits = 0;
  }
  double p = 0;
  if (digits == 0 || pos != text.size() || !absl::SimpleAtod(text, &p)) {
    return Failure{offset, absl::StrCat("p= expects a probability such as 0.05, got ", Quote(text))};
  }
  if (!(p > 0 && p <= 1)) {
    return Failure{offset, absl::StrCat("p=", absl::CHexEscape(text.substr(0, 40)),
                                        " is out of range (0 < p <= 1)")};
  }
  *out = p;
  return std::nullopt;
}

std::optional<Failure> ParseFd(absl::string_view text, size_t offset, FdFilter* out) {
  if (AllDigits(text)) {
    uint64_t n = 0;
    if (auto f = ParseNumber(text, offset, "fd=", 0, kMaxInt, &n)) return f;
    *out = {FdFilter::Kind::kNumber, static_cast<int>(n)};
    return std::nullopt;
  }
  std::vector<std::string> words;
  for (const auto& [name, kind] : inject_internal::kFdKinds) {
    if (name == text) {
      *out = {kind, -1};
      return std::nullopt;
    }
    words.emplace_back(name);
  }
  return Failure{offset, absl::StrCat("unknown fd= filter ", Quote(text),
                                      " (expected socket, pipe, file, any or an fd number)",
                                      DidYouMean(text, words))};
}

// ---------------------------------------------------------------------------
// The rule parser.

// Why `key` does not apply to `call`, for the message.
std::string WhyNot(const KeyInfo& key, Call call) {
  std::vector<absl::string_view> takers;
  for (const CallInfo& info : AllCalls()) {
    if ((info.keys & key.bit) != 0) takers.push_back(info.name);
  }
  std::string message =
      absl::StrCat("key '", key.name, "' does not apply to ", CallName(call));
  switch (key.bit) {
    case kKeyFd:
      return absl::StrCat(message, ": it takes no fd");
    case kKeyRetval:
      return absl::StrCat(message, ": retval= cannot fake its result");
    default:
      return absl::StrCat(message, ": ", key.name, "= is for ", absl::StrJoin(takers, ", "));
  }
}

std::string WhyNotError(absl::string_view value, ErrorDomain domain, Call call) {
  std::string message =
      absl::StrCat("error=", absl::CHexEscape(value), " does not apply to ", CallName(call));
  switch (ErrorDomainOf(call)) {
    case ErrorDomain::kEai:
      return absl::StrCat(message, ": it fails with EAI_* codes, such as EAI_AGAIN");
    case ErrorDomain::kHErrno:
      return absl::StrCat(message,
                          ": it fails with HOST_NOT_FOUND, TRY_AGAIN, NO_RECOVERY or NO_DATA");
    case ErrorDomain::kErrno:
      break;
  }
  return absl::StrCat(message, domain == ErrorDomain::kEai ? ": EAI_* codes are for "
                                                           : ": h_errno codes are for ",
                      CallsFailingIn(domain), " only");
}

class RuleParser {
 public:
  // `text` is the rule, found at byte `offset` of its line; no comment, no
  // surrounding whitespace.
  RuleParser(absl::string_view text, size_t offset) : text_(text), offset_(offset) {}

  std::optional<Failure> Parse(Rule* out);

 private:
  struct CallToken {
    size_t offset;
    std::optional<Call> call;          // a call named explicitly
    const CallSetInfo* set = nullptr;  // or a set
  };

  std::optional<Failure> ParseCalls(absl::string_view list, size_t offset);
  std::optional<Failure> ParseKey(absl::string_view item, size_t offset);
  std::optional<Failure> ParseValue(const KeyInfo& key, absl::string_view value, size_t offset);
  std::optional<Failure> Finish(Rule* out);

  absl::string_view text_;
  size_t offset_;
  std::vector<CallToken> calls_;
  Rule rule_;
  inject_internal::Needs needs_;
  uint32_t seen_ = 0;  // KeyBits already given
  size_t seed_offset_ = 0;
  std::optional<absl::string_view> action_key_;  // error, retval or short
  absl::string_view error_text_;
};

std::optional<Failure> RuleParser::Parse(Rule* out) {
  absl::string_view text = text_;
  size_t offset = offset_;
  if (absl::ConsumePrefix(&text, "inject=")) offset += 7;
  if (text.empty()) return Failure{offset_, "empty rule"};
  for (size_t i = 0; i < text.size(); ++i) {
    if (absl::ascii_isspace(text[i])) {
      return Failure{offset + i, "unexpected whitespace inside a rule"};
    }
  }
  size_t colon = text.find(':');
  if (auto f = ParseCalls(text.substr(0, colon), offset)) return f;
  while (colon != absl::string_view::npos) {
    size_t start = colon + 1;
    colon = text.find(':', start);
    absl::string_view item =
        text.substr(start, colon == absl::string_view::npos ? absl::string_view::npos
                                                            : colon - start);
    if (auto f = ParseKey(item, offset + start)) return f;
  }
  return Finish(out);
}

std::optional<Failure> RuleParser::ParseCalls(absl::string_view list, size_t offset) {
  if (list.empty()) return Failure{offset, "empty call list (a rule starts with the calls: read,write:...)"};
  size_t start = 0;
  while (true) {
    size_t comma = list.find(',', start);
    absl::string_view name =
        list.substr(start, comma == absl::string_view::npos ? absl::string_view::npos
                                                            : comma - start);
    size_t at = offset + start;
    if (name.empty()) return Failure{at, "empty call name in the call list"};
    CallToken token{at, std::nullopt, nullptr};
    if (std::optional<Call> call = CallByName(name)) {
      token.call = call;
    } else {
      token.set = CallSetByName(name);
      if (token.set == nullptr) {
        absl::string_view kind = absl::StartsWith(name, "%") ? "unknown call set " : "unknown call ";
        return Failure{at, absl::StrCat(kind, Quote(name), DidYouMean(name, CallWords()))};
      }
    }
    for (const CallToken& earlier : calls_) {
      if (earlier.call == token.call && earlier.set == token.set) {
        return Failure{at, absl::StrCat("duplicate call ", Quote(name))};
      }
    }
    calls_.push_back(token);
    if (comma == absl::string_view::npos) break;
    start = comma + 1;
  }
  return std::nullopt;
}

std::optional<Failure> RuleParser::ParseKey(absl::string_view item, size_t offset) {
  size_t eq = item.find('=');
  absl::string_view name = item.substr(0, eq);
  if (name.empty()) {
    return Failure{offset, eq == absl::string_view::npos ? "empty key (two ':' in a row, or a "
                                                           "trailing ':')"
                                                         : "missing key before '='"};
  }
  const KeyInfo* key = nullptr;
  std::vector<std::string> words;
  for (const KeyInfo& k : AllKeys()) {
    if (k.name == name) key = &k;
    words.emplace_back(k.name);
  }
  if (key == nullptr) {
    return Failure{offset, absl::StrCat("unknown key ", Quote(name), DidYouMean(name, words))};
  }
  if (eq == absl::string_view::npos) {
    return Failure{offset, absl::StrCat("key '", name, "' needs a value: ", name, "=...")};
  }
  if ((seen_ & key->bit) != 0) {
    return Failure{offset, absl::StrCat("duplicate key '", name, "'")};
  }
  seen_ |= key->bit;
  for (const CallToken& token : calls_) {
    if (token.call && (GetCallInfo(*token.call).keys & key->bit) == 0) {
      return Failure{offset, WhyNot(*key, *token.call)};
    }
  }
  if (key->bit == kKeyError || key->bit == kKeyRetval || key->bit == kKeyShort) {
    if (action_key_) {
      return Failure{offset, absl::StrCat("conflicting actions: ", *action_key_, "= and ", name,
                                          "= cannot be combined")};
    }
    action_key_ = key->name;
  }
  absl::string_view value = item.substr(eq + 1);
  size_t value_offset = offset + eq + 1;
  if (value.empty()) {
    return Failure{value_offset, absl::StrCat("missing value after '", name, "='")};
  }
  return ParseValue(*key, value, value_offset);
}

std::optional<Failure> RuleParser::ParseValue(const KeyInfo& key, absl::string_view value,
                                              size_t offset) {
  const std::string what = absl::StrCat(key.name, "=");
  uint64_t n = 0;
  switch (key.bit) {
    case kKeyError: {
      ErrorValue error{0, ErrorDomain::kErrno};
      if (auto f = ParseError(value, offset, &error)) return f;
      for (const CallToken& token : calls_) {
        if (token.call && ErrorDomainOf(*token.call) != error.domain) {
          return Failure{offset, WhyNotError(value, error.domain, *token.call)};
        }
      }
      rule_.action = Action::kError;
      rule_.error = error.code;
      error_text_ = value;
      needs_.keys |= kKeyError;
      needs_.domain = error.domain;
      return std::nullopt;
    }
    case kKeyRetval:
      if (auto f = ParseNumber(value, offset, what, 0, kMaxInt, &n)) return f;
      rule_.action = Action::kRetval;
      rule_.retval = static_cast<int64_t>(n);
      needs_.keys |= kKeyRetval;
      return std::nullopt;
    case kKeyShort:
      if (auto f = ParseNumber(value, offset, what, 1, kMaxInt, &n)) return f;
      rule_.action = Action::kShort;
      rule_.short_bytes = static_cast<size_t>(n);
      needs_.keys |= kKeyShort;
      return std::nullopt;
    case kKeySignal:
      if (auto f = ParseSignal(value, offset, what, &rule_.signal)) return f;
      needs_.keys |= kKeySignal;
      return std::nullopt;
    case kKeyDelayEnter:
      if (auto f = ParseDelay(value, offset, what, &rule_.delay_enter)) return f;
      if (rule_.delay_enter != absl::ZeroDuration()) needs_.keys |= kKeyDelayEnter;
      return std::nullopt;
    case kKeyDelayExit:
      if (auto f = ParseDelay(value, offset, what, &rule_.delay_exit)) return f;
      if (rule_.delay_exit != absl::ZeroDuration()) needs_.keys |= kKeyDelayExit;
      return std::nullopt;
    case kKeyWhen:
      if (auto f = ParseWhen(value, offset, &rule_.when)) return f;
      if (rule_.when != When{}) needs_.keys |= kKeyWhen;
      return std::nullopt;
    case kKeyTimes:
      if (auto f = ParseNumber(value, offset, what, 1, kMaxCount, &n)) return f;
      rule_.times = n;
      needs_.keys |= kKeyTimes;
      return std::nullopt;
    case kKeyP:
      if (auto f = ParseProbability(value, offset, &rule_.probability)) return f;
      if (rule_.probability != 1.0) needs_.keys |= kKeyP;
      return std::nullopt;
    case kKeySeed:
      if (auto f = ParseNumber(value, offset, what, 0, std::numeric_limits<uint64_t>::max(), &n)) {
        return f;
      }
      rule_.seed = n;
      seed_offset_ = offset - what.size();
      needs_.keys |= kKeySeed;
      return std::nullopt;
    case kKeyFd:
      if (auto f = ParseFd(value, offset, &rule_.fd)) return f;
      needs_.keys |= kKeyFd;
      return std::nullopt;
    case kKeyPort:
      if (auto f = ParseNumber(value, offset, what, 1, 65535, &n)) return f;
      rule_.port = static_cast<int>(n);
      needs_.keys |= kKeyPort;
      return std::nullopt;
    case kKeySig:
      if (auto f = ParseSignal(value, offset, what, &rule_.sig)) return f;
      needs_.keys |= kKeySig;
      return std::nullopt;
    case kKeySite: {
      // A call-stack hash as `ipcfault record` prints it: 1 to 12 hex digits.
      uint64_t site = 0;
      if (value.empty() || value.size() > 12 ||
          value.find_first_not_of("0123456789abcdefABCDEF") != absl::string_view::npos ||
          !absl::SimpleHexAtoi(value, &site) || site == 0) {
        return Failure{offset, absl::StrCat("site= takes a call-site hash of 1 to 12 hex digits "
                                            "(as `ipcfault record` prints), not ",
                                            Quote(value))};
      }
      rule_.site = site;
      needs_.keys |= kKeySite;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<Failure> RuleParser::Finish(Rule* out) {
  if (rule_.action == Action::kNone && rule_.signal == 0 &&
      rule_.delay_enter == absl::ZeroDuration() && rule_.delay_exit == absl::ZeroDuration()) {
    return Failure{offset_, "rule does nothing: give error=, retval=, short=, signal=, "
                            "delay_enter= or delay_exit="};
  }
  if (rule_.seed && rule_.probability == 1.0) {
    return Failure{seed_offset_, "seed= needs p= below 1 (it seeds the p= draws)"};
  }
  for (const CallToken& token : calls_) {
    if (token.call) {
      rule_.calls |= MaskOf(*token.call);
      continue;
    }
    CallMask narrowed = inject_internal::Narrow(CallsIn(*token.set), needs_);
    if (narrowed == 0 && needs_.domain &&
        inject_internal::Narrow(CallsIn(*token.set), {needs_.keys, std::nullopt}) != 0) {
      return Failure{token.offset,
                     absl::StrCat("no call in ", token.set->name, " can fail with error=",
                                  absl::CHexEscape(error_text_.substr(0, 40)))};
    }
    if (narrowed == 0) {
      std::vector<std::string> keys;
      for (const KeyInfo& k : AllKeys()) {
        if ((needs_.keys & k.bit) == 0) continue;
        if (inject_internal::Narrow(CallsIn(*token.set), {k.bit, std::nullopt}) == 0) {
          return Failure{token.offset,
                         absl::StrCat("no call in ", token.set->name, " accepts ", k.name, "=")};
        }
        keys.push_back(absl::StrCat(k.name, "="));
      }
      return Failure{token.offset, absl::StrCat("no call in ", token.set->name,
                                                " accepts all of this rule's keys (",
                                                absl::StrJoin(keys, ", "), ")")};
    }
    rule_.calls |= narrowed;
  }
  *out = std::move(rule_);
  return std::nullopt;
}

// Parses one line (no newline). Returns the rule, nothing for a blank or
// comment line, or a failure.
std::optional<Failure> ParseLine(absl::string_view line, std::optional<Rule>* out) {
  out->reset();
  absl::string_view text = line;
  if (size_t hash = text.find('#'); hash != absl::string_view::npos) text = text.substr(0, hash);
  if (absl::EndsWith(text, "\r")) text.remove_suffix(1);
  size_t offset = 0;
  while (offset < text.size() && absl::ascii_isspace(text[offset])) ++offset;
  text = absl::StripTrailingAsciiWhitespace(text.substr(offset));
  if (text.empty()) return std::nullopt;
  Rule rule;
  if (auto f = RuleParser(text, offset).Parse(&rule)) return f;
  *out = std::move(rule);
  return std::nullopt;
}

std::string ErrorText(absl::string_view source, size_t line, const Failure& failure) {
  return absl::StrCat(source, ":", line, ":", failure.offset + 1, ": ", failure.message);
}

}  // namespace

namespace scenario_internal {

bool ParseScenarioRules(absl::string_view text, absl::string_view source,
                        std::vector<Rule>* rules, std::string* error) {
  size_t line_number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    ++line_number;
    size_t newline = text.find('\n', start);
    absl::string_view line =
        text.substr(start, newline == absl::string_view::npos ? absl::string_view::npos
                                                              : newline - start);
    std::optional<Rule> rule;
    if (auto f = ParseLine(line, &rule)) {
      *error = ErrorText(source, line_number, *f);
      return false;
    }
    if (rule) rules->push_back(*std::move(rule));
    if (newline == absl::string_view::npos) break;
    start = newline + 1;
  }
  return true;
}

bool ParseOneRule(absl::string_view text, absl::string_view source, Rule* out,
                  std::string* error) {
  if (size_t newline = text.find('\n'); newline != absl::string_view::npos) {
    *error = ErrorText(source, 1, {newline, "a rule is one line (a scenario takes several)"});
    return false;
  }
  std::optional<Rule> rule;
  if (auto f = ParseLine(text, &rule)) {
    *error = ErrorText(source, 1, *f);
    return false;
  }
  if (!rule) {
    *error = ErrorText(source, 1, {0, "empty rule"});
    return false;
  }
  *out = *std::move(rule);
  return true;
}

}  // namespace scenario_internal

}  // namespace ipcfault
