// inject/rule.h
//
// Rule: one fault-injection rule. Which calls (a set), what happens (the
// action), when it fires (the trigger), and which calls it applies to
// (filters). The scenario language (scenario.h) and the C++ builder
// (faults.h) both produce Rules; the engine arms them.
//
//   ipcfault::Rule rule;
//   rule.calls = ipcfault::MaskOf(ipcfault::Call::kConnect);
//   rule.action = ipcfault::Action::kError;
//   rule.error = ECONNREFUSED;
//   rule.when = {.first = 1, .last = 2, .step = 1};   // when=1..2
//
// ValidateRule(rule) checks a Rule against the call table directly (which
// calls take which keys, which errors each call can fail with) and names
// what is wrong in C++ terms: "Fault(Call::kAccept): Short(1) does not apply
// to accept ...". Arm() calls it for every rule.
//
// Thread-compatible value type.

#ifndef IPCFAULT_INJECT_RULE_H_
#define IPCFAULT_INJECT_RULE_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ipcfault/inject/call.h"

namespace ipcfault {

// What an interposed call is about to do, as the engine sees it. Built by the
// interposer from the real arguments; read by filters and predicates.
struct CallSite {
  Call call;
  int fd = -1;                           // the fd operated on, or -1
  const struct sockaddr* addr = nullptr; // connect/bind/sendto/sendmsg address
  socklen_t addrlen = 0;
  int sig = 0;                           // kill family: the signal sent
  pid_t target = 0;                      // kill family: the pid, if any
  size_t count = 0;                      // read/write family: bytes asked
};

// The action of a rule. error, retval and short are mutually exclusive;
// delay and signal combine with any of them (and may stand alone: kNone).
enum class Action : uint8_t {
  kNone,     // run the real call (after delay/signal, if any)
  kError,    // fail with `error`
  kRetval,   // return `retval` without calling
  kShort,    // run the real call with at most `short_bytes` bytes
};

// strace's when=first[..last][+[step]]: the matching calls, counted from 1,
// on which the rule fires. Canonical forms:
//   when=3      {3, 3, 1}        when=3+    {3, kNoLast, 1}
//   when=3+2    {3, kNoLast, 2}  when=3..5  {3, 5, 1}   when=3..9+2 {3, 9, 2}
// The default (no when=) is every call: {1, kNoLast, 1}.
struct When {
  static constexpr uint64_t kNoLast = std::numeric_limits<uint64_t>::max();
  uint64_t first = 1;
  uint64_t last = kNoLast;
  uint64_t step = 1;
  // Whether the `ordinal`-th matching call (from 1) is one the rule fires on.
  bool Includes(uint64_t ordinal) const {
    return ordinal >= first && ordinal <= last && (ordinal - first) % step == 0;
  }
  friend bool operator==(const When&, const When&) = default;
};

// The fd= filter.
struct FdFilter {
  enum class Kind : uint8_t {
    kDefault,  // per call: socket for the read/write family, else any
    kAny,
    kSocket,
    kPipe,     // pipes and FIFOs
    kFile,     // anything else: regular files, ttys, devices, eventfds...
    kNumber,   // exactly fd `number`
  };
  Kind kind = Kind::kDefault;
  int number = -1;
  friend bool operator==(const FdFilter&, const FdFilter&) = default;
};

// A predicate on a call's arguments (Rule::predicate): a
// std::function<bool(const CallSite&)> that also knows which predicate it
// is. Two Predicates compare equal when both are empty or one is a copy of
// the other; two predicates written separately never compare equal, even if
// they would decide alike (their code cannot be compared).
class Predicate : public std::function<bool(const CallSite&)> {
 public:
  using Function = std::function<bool(const CallSite&)>;

  Predicate() = default;
  // Any callable taking a const CallSite& and returning bool.
  template <typename F,
            typename = std::enable_if_t<
                !std::is_same_v<std::decay_t<F>, Predicate> &&
                std::is_invocable_r_v<bool, F&, const CallSite&>>>
  Predicate(F&& f)  // NOLINT: a predicate converts, as std::function does
      : Function(std::forward<F>(f)),
        id_(static_cast<bool>(static_cast<const Function&>(*this)) ? NewId() : 0) {}
  Predicate& operator=(std::nullptr_t) {
    Function::operator=(nullptr);
    id_ = 0;
    return *this;
  }

  friend bool operator==(const Predicate& a, const Predicate& b) { return a.id_ == b.id_; }

 private:
  static uint64_t NewId();  // unique in the process, never 0
  uint64_t id_ = 0;         // 0: empty
};

struct Rule {
  CallMask calls = 0;

  Action action = Action::kNone;
  int error = 0;            // errno; EAI_* for getaddrinfo; h_errno for gethostbyname
  int64_t retval = 0;
  size_t short_bytes = 0;   // >= 1
  absl::Duration delay_enter = absl::ZeroDuration();
  absl::Duration delay_exit = absl::ZeroDuration();
  int signal = 0;           // signal= : delivered to the calling thread on entry

  When when;
  uint64_t times = 0;       // at most this many fires; 0 = unlimited
  double probability = 1.0; // p= in (0, 1]
  std::optional<uint64_t> seed;  // seed= for this rule's p= stream

  FdFilter fd;
  int port = -1;            // port= : local or peer port; -1 = any
  int sig = 0;              // sig= : only kill-family calls sending this signal
  uint64_t site = 0;        // site= : only calls from this call stack (a hash,
                            // internal/call_stack.h; `ipcfault record` lists them); 0 = any

  // C++ only (not expressible in the scenario language; Format says so in a
  // comment). Narrow the rule to one thread (its gettid()), or by a predicate
  // on the call's arguments. A predicate runs on the decision path: keep it
  // async-signal-safe if the code under test calls from signal handlers.
  std::optional<pid_t> thread;
  Predicate predicate;

  // Set by the Fault builder (faults.h) when a chain contradicts itself, as
  // a second action does (Fault(Call::kRead).Error(EIO).Short(1)): what is
  // wrong, in C++ terms. ValidateRule, and so Arm(), refuse such a rule with
  // this message. Empty otherwise.
  std::string builder_error;

  // Field-by-field equality; predicates compare as Predicate says (equal
  // only when both are empty or one is a copy of the other).
  friend bool operator==(const Rule& a, const Rule& b);
};

// Checks `rule` against the call table (call.h), field by field: it has
// calls; it does something (an action, a signal or a delay); it sets no
// field its action does not use; each key it uses applies to every one of
// its calls (ipcfault calls lists them); its error is one every call can
// fail with, in that call's domain (errno values; getaddrinfo's EAI_*
// codes; gethostbyname's h_errno values); every value is in the range the
// scenario language accepts; and the builder left no builder_error. OK, or
// InvalidArgument naming the rule as C++ code and what is wrong:
// "Fault(Call::kConnect).Or(Call::kGetaddrinfo): Error(-3) ...". Thread-safe.
absl::Status ValidateRule(const Rule& rule);

// ValidateRule's message, without absl::Status: empty when the rule is
// valid. For the preload library, which must not link absl::Status
// (docs/run.md, "A libc-only preload library"); ValidateRule is in
// rule_status.cc.
std::string RuleProblem(const Rule& rule);

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_RULE_H_
