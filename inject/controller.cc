#include "ipcfault/inject/controller.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ipcfault/inject/internal/unix_address.h"

namespace ipcfault {
namespace {

// Closes an fd on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status ConnectError(int err, const std::string& path) {
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(absl::StrCat(
          path, ": no such control socket (is the run started with --control=", path,
          ", and has it not ended?)"));
    case ECONNREFUSED:
      return absl::UnavailableError(
          absl::StrCat(path, ": no run listens on this control socket (the run has ended)"));
    case EACCES:
    case EPERM: {
      struct stat st;
      std::string owner;
      if (stat(path.c_str(), &st) == 0) {
        owner = absl::StrCat(", owned by uid ", st.st_uid, "; this process is uid ", getuid());
      }
      return absl::PermissionDeniedError(
          absl::StrCat(path, ": ", strerror(err),
                       " (a control socket is mode 0600: only the user who started the run "
                       "may use it",
                       owner, ")"));
    }
    case ENOTSOCK:
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": not a control socket (", strerror(err), ")"));
    default:
      return absl::ErrnoToStatus(err, absl::StrCat("connect(", path, ")"));
  }
}

// Maps the server's error kinds (docs/control.md) to status codes.
absl::Status ServerError(absl::string_view rest) {
  std::pair<absl::string_view, absl::string_view> kind_message =
      absl::StrSplit(rest, absl::MaxSplits(' ', 1));
  absl::string_view kind = kind_message.first;
  std::string message(kind_message.second);
  if (kind == "invalid") return absl::InvalidArgumentError(message);
  if (kind == "not_found") return absl::NotFoundError(message);
  if (kind == "permission") return absl::PermissionDeniedError(message);
  if (kind == "exhausted") return absl::ResourceExhaustedError(message);
  if (kind == "timeout") return absl::DeadlineExceededError(message);
  return absl::InternalError(absl::StrCat(kind, " ", message));
}

}  // namespace

absl::StatusOr<Controller> Controller::Connect(std::string path) {
  Controller controller(std::move(path));
  std::string head;
  absl::StatusOr<std::string> reply = controller.Call("hello\n", &head);
  if (!reply.ok()) return reply.status();
  if (head != "ipcfault-control 1") {
    return absl::FailedPreconditionError(absl::StrCat(
        controller.path_, ": not an ipcfault control socket of this version (it said '",
        head, "')"));
  }
  return controller;
}

absl::StatusOr<std::string> Controller::Call(absl::string_view request, std::string* head,
                                             absl::Duration timeout) {
  inject_internal::UnixAddress address;
  if (absl::Status s = address.Set(path_); !s.ok()) return s;
  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return absl::ErrnoToStatus(errno, "socket(AF_UNIX)");
  if (connect(fd.get(), address.addr(), address.size()) != 0) {
    return ConnectError(errno, path_);
  }
  for (size_t done = 0; done < request.size();) {
    ssize_t n = send(fd.get(), request.data() + done, request.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("send(", path_, ")"));
    }
    done += static_cast<size_t>(n);
  }
  shutdown(fd.get(), SHUT_WR);

  std::string reply;
  const absl::Time deadline = absl::Now() + timeout;
  char buf[16384];
  for (;;) {
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat(path_, ": no reply within ", absl::FormatDuration(timeout)));
    }
    pollfd p = {fd.get(), POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 1 << 30)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return absl::ErrnoToStatus(errno, "poll");
    if (ready == 0) continue;
    ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("recv(", path_, ")"));
    }
    if (n == 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  if (reply.empty()) {
    return absl::UnavailableError(
        absl::StrCat(path_, ": the run closed the connection without a reply (has it ended?)"));
  }
  size_t eol = reply.find('\n');
  absl::string_view first = absl::string_view(reply).substr(0, eol);
  std::string body = eol == std::string::npos ? "" : reply.substr(eol + 1);
  if (absl::StartsWith(first, "error ")) return ServerError(first.substr(6));
  if (first != "ok" && !absl::StartsWith(first, "ok ")) {
    return absl::InternalError(absl::StrCat(path_, ": unexpected reply '", first, "'"));
  }
  if (head != nullptr) *head = std::string(first.substr(first.size() > 2 ? 3 : 2));
  return body;
}

absl::StatusOr<std::vector<uint32_t>> Controller::Arm(absl::string_view scenario,
                                                      absl::string_view source) {
  if (source.empty() || source.find_first_of("\n\r") != absl::string_view::npos) {
    return absl::InvalidArgumentError("Arm: the source name must be one non-empty line");
  }
  std::string head;
  absl::StatusOr<std::string> reply =
      Call(absl::StrCat("arm ", source, "\n", scenario), &head);
  if (!reply.ok()) return reply.status();
  std::vector<uint32_t> ids;
  for (absl::string_view word : absl::StrSplit(head, ' ', absl::SkipEmpty())) {
    uint32_t id;
    if (!absl::SimpleAtoi(word, &id)) {
      return absl::InternalError(absl::StrCat(path_, ": bad id '", word, "' in reply"));
    }
    ids.push_back(id);
  }
  return ids;
}

absl::Status Controller::Disarm(absl::Span<const uint32_t> ids) {
  if (ids.empty()) return absl::InvalidArgumentError("Disarm: no rule ids given");
  return Call(absl::StrCat("disarm ", absl::StrJoin(ids, " "), "\n")).status();
}

absl::Status Controller::DisarmAll() { return Call("disarm all\n").status(); }

absl::StatusOr<std::vector<ControlledRule>> Controller::List() {
  absl::StatusOr<std::string> reply = Call("list\n");
  if (!reply.ok()) return reply.status();
  std::vector<ControlledRule> rules;
  for (absl::string_view line : absl::StrSplit(*reply, '\n', absl::SkipEmpty())) {
    // ID STATE MATCHED FIRED TEXT
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::MaxSplits(' ', 4));
    ControlledRule rule;
    if (fields.size() != 5 || !absl::SimpleAtoi(fields[0], &rule.id) ||
        (fields[1] != "armed" && fields[1] != "disarmed") ||
        !absl::SimpleAtoi(fields[2], &rule.matched) ||
        !absl::SimpleAtoi(fields[3], &rule.fired)) {
      return absl::InternalError(absl::StrCat(path_, ": bad list line '", line, "'"));
    }
    rule.armed = fields[1] == "armed";
    rule.text = std::string(fields[4]);
    rules.push_back(std::move(rule));
  }
  return rules;
}

absl::StatusOr<uint64_t> Controller::Wait(uint32_t id, uint64_t fired,
                                          absl::Duration timeout) {
  if (timeout < absl::ZeroDuration()) timeout = absl::ZeroDuration();
  std::string head;
  absl::StatusOr<std::string> reply =
      Call(absl::StrCat("wait ", id, " ", fired, " ", absl::ToInt64Nanoseconds(timeout), "\n"),
           &head, timeout + absl::Seconds(30));
  if (!reply.ok()) return reply.status();
  uint64_t count;
  if (!absl::SimpleAtoi(head, &count)) {
    return absl::InternalError(absl::StrCat(path_, ": bad count '", head, "' in reply"));
  }
  return count;
}

absl::StatusOr<std::string> Controller::Log() { return Call("log\n"); }

}  // namespace ipcfault
