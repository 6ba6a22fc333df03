#include "ipcfault/inject/internal/fire_log.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/names.h"

namespace ipcfault::inject_internal {
namespace {

// Appends to a fixed buffer; text past the end is dropped (callers size the
// buffer so that only the rule text can be cut, and cut it themselves).
class Out {
 public:
  Out(char* buf, size_t size) : begin_(buf), p_(buf), end_(buf + size) {}

  size_t size() const { return static_cast<size_t>(p_ - begin_); }
  size_t room() const { return static_cast<size_t>(end_ - p_); }

  void Char(char c) {
    if (p_ < end_) *p_++ = c;
  }
  void Str(const char* s) {
    while (*s != '\0') Char(*s++);
  }
  void Int(int64_t v) {
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    if (v < 0) Char('-');
    Uint(u);
  }
  void Uint(uint64_t u, int min_digits = 1) {
    char digits[20];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    while (n < min_digits) digits[n++] = '0';
    while (n > 0) Char(digits[--n]);
  }

  // A JSON string of at most `limit` bytes (quotes included); a longer one
  // is cut at a character boundary and ends in "...".
  void JsonString(const char* s, size_t limit) {
    static constexpr char kHex[] = "0123456789abcdef";
    char* start = p_;
    Char('"');
    for (; *s != '\0'; ++s) {
      unsigned char c = static_cast<unsigned char>(*s);
      char escaped[7];
      size_t n = 0;
      if (c == '"' || c == '\\') {
        escaped[n++] = '\\';
        escaped[n++] = static_cast<char>(c);
      } else if (c < 0x20) {
        memcpy(escaped, "\\u00", 4);
        n = 4;
        escaped[n++] = kHex[c >> 4];
        escaped[n++] = kHex[c & 0xf];
      } else {
        escaped[n++] = static_cast<char>(c);
      }
      // Room for this character, a possible "..." and the closing quote.
      if (static_cast<size_t>(p_ - start) + n + 4 > limit) {
        // Do not leave a partial UTF-8 sequence behind.
        while (p_ > start + 1 &&
               (static_cast<unsigned char>(p_[-1]) & 0xC0) == 0x80) {
          --p_;
        }
        if (p_ > start + 1 && static_cast<unsigned char>(p_[-1]) >= 0xC0) --p_;
        Str("...");
        break;
      }
      for (size_t i = 0; i < n; ++i) Char(escaped[i]);
    }
    Char('"');
  }

  // CLOCK_REALTIME nanoseconds as "2026-11-25T01:02:03.123456789Z".
  void Time(int64_t ns) {
    int64_t secs = ns / 1000000000;
    int64_t frac = ns % 1000000000;
    if (frac < 0) {
      frac += 1000000000;
      --secs;
    }
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
      rem += 86400;
      --days;
    }
    // Howard Hinnant's civil_from_days.
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) ++y;
    Char('"');
    Int(y);
    Char('-');
    Uint(static_cast<uint64_t>(m), 2);
    Char('-');
    Uint(static_cast<uint64_t>(d), 2);
    Char('T');
    Uint(static_cast<uint64_t>(rem / 3600), 2);
    Char(':');
    Uint(static_cast<uint64_t>(rem / 60 % 60), 2);
    Char(':');
    Uint(static_cast<uint64_t>(rem % 60), 2);
    Char('.');
    Uint(static_cast<uint64_t>(frac), 9);
    Str("Z\"");
  }

 private:
  char* begin_;
  char* p_;
  char* end_;
};

const char* ActionName(Action action) {
  switch (action) {
    case Action::kNone:
      return "none";
    case Action::kError:
      return "error";
    case Action::kRetval:
      return "retval";
    case Action::kShort:
      return "short";
  }
  return "unknown";
}

}  // namespace

size_t FormatFireLine(const FiredFault& fault, char* buf, size_t size,
                      const char* run) {
  Out out(buf, size);
  out.Str("{\"time\":");
  out.Time(fault.time_ns);
  if (run != nullptr && run[0] != '\0') {
    out.Str(",\"run\":");
    out.JsonString(run, 66);
  }
  out.Str(",\"pid\":");
  out.Int(fault.pid);
  out.Str(",\"tid\":");
  out.Int(fault.tid);
  out.Str(",\"call\":\"");
  const bool known_call = static_cast<int>(fault.call) < kCallCount;
  if (known_call) {
    absl::string_view name = CallName(fault.call);
    for (char c : name) out.Char(c);
  } else {
    out.Str("unknown");
  }
  out.Str("\",\"rule\":");
  out.Uint(fault.rule_index);
  out.Str(",\"rule_text\":");
  // What follows the rule text takes at most ~140 bytes: action (8),
  // errno (an int or a name, < 24), fd (11), ordinal (20), keys and '}\n'.
  constexpr size_t kTail = 160;
  size_t limit = out.room() > kTail ? out.room() - kTail : 2;
  out.JsonString(fault.rule_text != nullptr ? fault.rule_text : "", limit);
  out.Str(",\"action\":\"");
  out.Str(ActionName(fault.action));
  out.Str("\",\"errno\":");
  if (fault.action == Action::kError) {
    const char* name =
        known_call ? FindErrorName(ErrorDomainOf(fault.call), fault.error)
                   : nullptr;
    if (name != nullptr) {
      out.Char('"');
      out.Str(name);
      out.Char('"');
    } else {
      out.Int(fault.error);
    }
  } else {
    out.Str("null");
  }
  out.Str(",\"fd\":");
  out.Int(fault.fd);
  out.Str(",\"ordinal\":");
  out.Uint(fault.ordinal);
  out.Str("}\n");
  return out.size();
}

bool AppendToFile(const char* path, const char* data, size_t n) {
  int saved = errno;
  long fd;
  do {
    fd = syscall(SYS_openat, AT_FDCWD, path,
                 O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  bool ok = false;
  if (fd >= 0) {
    long written;
    do {
      written = syscall(SYS_write, fd, data, n);
    } while (written < 0 && errno == EINTR);
    ok = written == static_cast<long>(n);
    syscall(SYS_close, fd);
  }
  errno = saved;
  return ok;
}

}  // namespace ipcfault::inject_internal
