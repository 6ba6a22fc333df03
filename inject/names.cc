// The names module: constant tables and lookups (names.h).

#include "ipcfault/inject/names.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <string.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/types/span.h"
#include "ipcfault/inject/call.h"

namespace ipcfault {
namespace {

constexpr int kMaxErrno = 4095;  // the kernel's MAX_ERRNO

constexpr NamedCode kEaiCodes[] = {
    {EAI_BADFLAGS, "EAI_BADFLAGS"}, {EAI_NONAME, "EAI_NONAME"},
    {EAI_AGAIN, "EAI_AGAIN"},       {EAI_FAIL, "EAI_FAIL"},
    {EAI_FAMILY, "EAI_FAMILY"},     {EAI_SOCKTYPE, "EAI_SOCKTYPE"},
    {EAI_SERVICE, "EAI_SERVICE"},   {EAI_MEMORY, "EAI_MEMORY"},
    {EAI_SYSTEM, "EAI_SYSTEM"},     {EAI_OVERFLOW, "EAI_OVERFLOW"},
#ifdef EAI_NODATA
    {EAI_NODATA, "EAI_NODATA"},
#endif
#ifdef EAI_ADDRFAMILY
    {EAI_ADDRFAMILY, "EAI_ADDRFAMILY"},
#endif
};

constexpr NamedCode kHErrnoCodes[] = {
    {HOST_NOT_FOUND, "HOST_NOT_FOUND"},
    {TRY_AGAIN, "TRY_AGAIN"},
    {NO_RECOVERY, "NO_RECOVERY"},
    {NO_DATA, "NO_DATA"},
};

// Aliases glibc defines beside the canonical names, which parse but are
// never printed.
struct Alias {
  char name[12];  // not a pointer: no relocation at load (call.cc)
  ErrorCode error;
};
constexpr Alias kErrorAliases[] = {
    {"EWOULDBLOCK", {ErrorDomain::kErrno, EWOULDBLOCK}},
    {"EDEADLOCK", {ErrorDomain::kErrno, EDEADLOCK}},
    {"ENOTSUP", {ErrorDomain::kErrno, ENOTSUP}},
    {"NO_ADDRESS", {ErrorDomain::kHErrno, NO_ADDRESS}},
};

// Signals 1..31 under their Linux names (without SIG), canonical first; the
// aliases after them parse but are never printed.
struct NamedSignal {
  char name[8];  // not a pointer: no relocation at load (call.cc)
  int sig;
};
constexpr NamedSignal kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},     {"BUS", SIGBUS},   {"FPE", SIGFPE},
    {"KILL", SIGKILL},     {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},     {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD},     {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},         {"PWR", SIGPWR},       {"SYS", SIGSYS},
    // Aliases.
    {"IOT", SIGIOT},       {"CLD", SIGCHLD},      {"POLL", SIGPOLL},
};
constexpr int kCanonicalSignals = 31;

template <typename Table>
const char* Lookup(const Table& table, int code) {
  for (const NamedCode& entry : table) {
    if (entry.code == code) return entry.name;
  }
  return nullptr;
}

// Async-signal-safe appending to a fixed buffer, always NUL-terminated.
class Out {
 public:
  Out(char* buf, size_t size) : buf_(buf), size_(size) {
    if (size_ > 0) buf_[0] = '\0';
  }
  void Str(const char* s) {
    while (*s != '\0') Char(*s++);
  }
  void Int(int64_t v) {
    char digits[24];
    int n = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
      digits[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (v < 0) Char('-');
    while (n > 0) Char(digits[--n]);
  }
  void Char(char c) {
    if (len_ + 1 < size_) {
      buf_[len_++] = c;
      buf_[len_] = '\0';
    }
  }
  size_t len() const { return len_; }

 private:
  char* buf_;
  size_t size_;
  size_t len_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------
// Errors.

ErrorDomain ErrorDomainOf(FailureStyle style) {
  switch (style) {
    case FailureStyle::kEaiCode:
      return ErrorDomain::kEai;
    case FailureStyle::kNullHErrno:
      return ErrorDomain::kHErrno;
    case FailureStyle::kMinusOneErrno:
    case FailureStyle::kReturnsErrno:
    case FailureStyle::kNonzeroErrno:
    case FailureStyle::kSigErrErrno:
    case FailureStyle::kCannotFail:
      break;
  }
  return ErrorDomain::kErrno;
}

ErrorDomain ErrorDomainOf(Call call) { return ErrorDomainOf(GetCallInfo(call).failure); }

absl::Span<const NamedCode> EaiCodes() { return kEaiCodes; }
absl::Span<const NamedCode> HErrnoCodes() { return kHErrnoCodes; }

const char* FindErrorName(ErrorDomain domain, int code) {
  switch (domain) {
    case ErrorDomain::kEai:
      return Lookup(kEaiCodes, code);
    case ErrorDomain::kHErrno:
      return Lookup(kHErrnoCodes, code);
    case ErrorDomain::kErrno:
      break;
  }
  // glibc >= 2.32: a lookup in a static table, no locale, no allocation.
  return strerrorname_np(code);
}

std::string ErrorName(ErrorDomain domain, int code) {
  const char* name = FindErrorName(domain, code);
  return name != nullptr ? std::string(name) : absl::StrCat(code);
}

std::string ErrorName(Call call, int code) { return ErrorName(ErrorDomainOf(call), code); }

std::string ErrnoName(int err) { return ErrorName(ErrorDomain::kErrno, err); }

namespace {

// Every errno glibc names, by its canonical name, built once.
const std::vector<NamedCode>& ErrnoCodes() {
  static const std::vector<NamedCode>* const codes = [] {
    auto* v = new std::vector<NamedCode>;
    for (int e = 1; e <= kMaxErrno; ++e) {
      if (const char* name = strerrorname_np(e)) v->push_back({e, name});
    }
    return v;
  }();
  return *codes;
}

}  // namespace

std::optional<ErrorCode> ParseErrorName(absl::string_view name) {
  for (const NamedCode& c : ErrnoCodes()) {
    if (name == c.name) return ErrorCode{ErrorDomain::kErrno, c.code};
  }
  for (const NamedCode& c : kEaiCodes) {
    if (name == c.name) return ErrorCode{ErrorDomain::kEai, c.code};
  }
  for (const NamedCode& c : kHErrnoCodes) {
    if (name == c.name) return ErrorCode{ErrorDomain::kHErrno, c.code};
  }
  for (const Alias& a : kErrorAliases) {
    if (name == a.name) return a.error;
  }
  return std::nullopt;
}

// Errno names (canonical, then aliases), EAI_* codes, h_errno values (and
// their alias).
const std::vector<std::string>& ErrorNameList() {
  static const std::vector<std::string>* const names = [] {
    auto* v = new std::vector<std::string>;
    for (const NamedCode& c : ErrnoCodes()) v->emplace_back(c.name);
    for (ErrorDomain domain : {ErrorDomain::kErrno, ErrorDomain::kEai, ErrorDomain::kHErrno}) {
      if (domain == ErrorDomain::kEai) {
        for (const NamedCode& c : kEaiCodes) v->emplace_back(c.name);
      } else if (domain == ErrorDomain::kHErrno) {
        for (const NamedCode& c : kHErrnoCodes) v->emplace_back(c.name);
      }
      for (const Alias& a : kErrorAliases) {
        if (a.error.domain == domain) v->emplace_back(a.name);
      }
    }
    return v;
  }();
  return *names;
}

// ---------------------------------------------------------------------------
// Signals.

size_t FormatSignalName(int sig, char* buf, size_t size) {
  Out out(buf, size);
  for (int i = 0; i < kCanonicalSignals; ++i) {
    if (kSignals[i].sig == sig) {
      out.Str("SIG");
      out.Str(kSignals[i].name);
      return out.len();
    }
  }
  const int rtmin = SIGRTMIN;
  if (sig >= rtmin && sig <= SIGRTMAX) {
    out.Str("SIGRTMIN");
    if (sig > rtmin) {
      out.Char('+');
      out.Int(sig - rtmin);
    }
    return out.len();
  }
  out.Int(sig);
  return out.len();
}

std::string SignalName(int sig) {
  char buf[kSignalNameSize];
  size_t n = FormatSignalName(sig, buf, sizeof(buf));
  return std::string(buf, n);
}

std::optional<int> ParseSignalName(absl::string_view name) {
  absl::ConsumePrefix(&name, "SIG");
  for (const NamedSignal& s : kSignals) {
    if (name == s.name) return s.sig;
  }
  const int rtmin = SIGRTMIN;
  const int rtmax = SIGRTMAX;
  for (auto [base, sign] : {std::pair<absl::string_view, int>{"RTMIN", +1}, {"RTMAX", -1}}) {
    absl::string_view rest = name;
    if (!absl::ConsumePrefix(&rest, base)) continue;
    if (rest.empty()) return sign > 0 ? rtmin : rtmax;
    if (!absl::ConsumePrefix(&rest, sign > 0 ? "+" : "-")) return std::nullopt;
    if (rest.empty() || rest.size() > 3 ||
        rest.find_first_not_of("0123456789") != absl::string_view::npos) {
      return std::nullopt;
    }
    int delta = 0;
    if (!absl::SimpleAtoi(rest, &delta) || delta > rtmax - rtmin) return std::nullopt;
    return sign > 0 ? rtmin + delta : rtmax - delta;
  }
  return std::nullopt;
}

const std::vector<std::string>& SignalNameList() {
  static const std::vector<std::string>* const names = [] {
    auto* v = new std::vector<std::string>;
    for (const NamedSignal& s : kSignals) v->push_back(absl::StrCat("SIG", s.name));
    v->push_back("SIGRTMIN");
    v->push_back("SIGRTMAX");
    return v;
  }();
  return *names;
}

}  // namespace ipcfault
