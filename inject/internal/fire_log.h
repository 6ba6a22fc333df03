// inject/internal/fire_log.h
//
// The preload library's record of fired faults: one JSON object per line,
// formatted async-signal-safely into a caller's buffer and appended to the
// log file with a single write(2) on an O_APPEND descriptor, so lines from
// several processes and threads sharing the file never interleave. A line:
//
//   {"time":"2026-11-25T01:02:03.123456789Z","pid":4242,"tid":4243,
//    "call":"connect","rule":0,"rule_text":"connect:error=ECONNREFUSED:when=1",
//    "action":"error","errno":"ECONNREFUSED","fd":3,"ordinal":1}
//
// (on one line). `rule` is the rule's index (from 0) in the scenario,
// `ordinal` which matching call of that rule fired (from 1), `errno` the
// injected error's name (an EAI_* code for getaddrinfo, an h_errno name for
// gethostbyname) or null when the action is not `error`.
//
//   char line[kFireLineMax];
//   size_t n = FormatFireLine(fault, line, sizeof(line));
//   AppendToFile("/abs/path/ipcfault.log", line, n);
//
// Everything here is async-signal-safe: no allocation, no locks, raw system
// calls only (never the interposed libc functions).

#ifndef IPCFAULT_INJECT_INTERNAL_FIRE_LOG_H_
#define IPCFAULT_INJECT_INTERNAL_FIRE_LOG_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "absl/strings/string_view.h"
#include "ipcfault/inject/internal/engine.h"

namespace ipcfault::inject_internal {

// A buffer of this size always holds a whole line: a longer rule text is cut
// and ends in "...".
inline constexpr size_t kFireLineMax = 1024;

// Formats `fault` as one JSON line ending in '\n' into `buf` (at most `size`
// bytes, size >= 512) and returns its length. A non-empty `run` (at most 64
// characters of [A-Za-z0-9_-], as `ipcfault run` makes them) is written as
// "run":"...", so that runs sharing one log file count only their own lines.
size_t FormatFireLine(const FiredFault& fault, char* buf, size_t size,
                      const char* run = nullptr);

// Appends `n` bytes to the file at `path` with one write(2): opens it
// O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC (mode 0644 before umask), writes,
// closes. Opening per line keeps no descriptor in the program's fd table,
// where a program that closes or dup2()s over every fd would break it.
// Returns whether the whole line was written. Preserves errno.
bool AppendToFile(const char* path, const char* data, size_t n);

// Reading the log back: the other half of the codec (fire_log_read.cc; not
// async-signal-safe, it allocates). Whoever reads fire logs (the tests,
// `ipcfault record`, a sweep) reads them with these.

// A value of a flat JSON object: a string, an integer, or null.
using JsonScalar = std::variant<std::monostate, int64_t, std::string>;

// Parses one line holding a flat JSON object whose values are strings,
// integers or null, as FormatFireLine writes them. nullopt if the line is not
// exactly that (nested values, trailing bytes, bad escapes, a key twice...).
std::optional<std::map<std::string, JsonScalar>> ParseFlatJsonObject(
    absl::string_view line);

// One fire record, as FormatFireLine wrote it.
struct FireLogLine {
  std::string time;
  std::string run;  // "" when the line has none
  int64_t pid = 0, tid = 0;
  std::string call;
  uint32_t rule = 0;
  std::string rule_text;
  std::string action;
  JsonScalar error;  // a name, a number, or null
  int64_t fd = -1;
  uint64_t ordinal = 0;
};

// Parses one line (without its '\n') of the fire log: exactly the fields
// FormatFireLine writes, "run" optional. nullopt otherwise.
std::optional<FireLogLine> ParseFireLine(absl::string_view line);

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_FIRE_LOG_H_
