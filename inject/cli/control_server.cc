// inject/cli/control_server.cc
//
// The control socket's protocol (docs/control.md): one request per
// connection. The client writes the request and shuts down its writing
// side; the server replies and closes. A reply's first line is "ok[ ARGS]"
// or "error KIND MESSAGE"; a body may follow.
//
//   hello                        -> ok ipcfault-control 1
//   arm SOURCE\nSCENARIO         -> ok ID...
//   disarm ID...|all             -> ok
//   list                         -> ok\nID armed|disarmed MATCHED FIRED TEXT...
//   wait ID FIRED TIMEOUT_NS     -> ok COUNT | error timeout ...
//   log                          -> ok\nJSON lines
//
// The serving thread polls the listening socket, a wake pipe (Stop) and the
// connections of pending `wait`s; while a wait is pending it also wakes every
// few milliseconds to read the counters (the program's processes cannot
// wake it: they only touch the region).

#include "ipcfault/inject/cli/control_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/cli/cli_util.h"
#include "ipcfault/inject/cli/fire_summary.h"
#include "ipcfault/inject/internal/control_region.h"
#include "ipcfault/inject/internal/unix_address.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/scenario.h"

namespace ipcfault::cli {

using inject_internal::ControlRegion;
using inject_internal::ControlRule;
using inject_internal::kControlMaxArmed;
using inject_internal::kControlMaxRules;
using inject_internal::kControlTextMax;

namespace {

constexpr size_t kMaxRequest = 1 << 20;
// How often a pending `wait` reads the counters.
constexpr int kWaitTickMs = 2;

int64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

std::string Error(absl::string_view kind, absl::string_view message) {
  return absl::StrCat("error ", kind, " ", message, "\n");
}

// Writes all of `data`, ignoring a peer that went away.
void SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Whether a socket at `path` has a listener (false: stale or not a socket).
bool SomeoneListens(const std::string& path) {
  inject_internal::UnixAddress address;
  if (!address.Set(path).ok()) return false;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool listens = connect(fd, address.addr(), address.size()) == 0;
  close(fd);
  return listens;
}

absl::Status PathExists(const std::string& path, const struct stat& st) {
  std::string what = "it";
  if (S_ISSOCK(st.st_mode)) {
    what = SomeoneListens(path)
               ? "a run is listening on it"
               : "a socket no run listens on: left by a run that was killed? remove it";
  } else {
    what = "not a socket";
  }
  return absl::AlreadyExistsError(
      absl::StrCat("--control=", path, ": the path exists (", what,
                   "); --control creates a fresh socket and never reuses a path"));
}

}  // namespace

struct ControlServer::Connection {
  int fd = -1;
  std::string request;
  // A pending wait:
  uint32_t id = 0;
  uint64_t fired = 0;
  int64_t deadline_ns = 0;
};

absl::StatusOr<std::unique_ptr<ControlServer>> ControlServer::Create(
    ControlOptions options) {
  const std::string path = options.path;
  if (path.empty()) return absl::InvalidArgumentError("--control needs a socket path");
  std::unique_ptr<ControlServer> server(new ControlServer(std::move(options)));

  struct stat st;
  if (lstat(path.c_str(), &st) == 0) return PathExists(path, st);

  server->listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server->listen_fd_ < 0) return absl::ErrnoToStatus(errno, "socket(AF_UNIX)");
  inject_internal::UnixAddress address;
  if (absl::Status s = address.Set(path); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--control=", path, ": ", s.message()));
  }
  // The socket file's mode comes from the umask: 0600 from the start, never
  // briefly open to others.
  mode_t old_umask = umask(0177);
  int bound = bind(server->listen_fd_, address.addr(), address.size());
  int bind_errno = errno;
  umask(old_umask);
  if (bound != 0) {
    if (bind_errno == EADDRINUSE && lstat(path.c_str(), &st) == 0) return PathExists(path, st);
    return absl::ErrnoToStatus(bind_errno, absl::StrCat("--control=", path, ": bind"));
  }
  server->created_socket_ = true;
  // From here on, a killed ipcfault's socket file is removed by the janitor,
  // forked now, while ipcfault has one thread (the server's starts later).
  absl::StatusOr<std::unique_ptr<Janitor>> janitor = Janitor::Start();
  if (!janitor.ok()) return janitor.status();
  server->janitor_ = *std::move(janitor);
  if (absl::Status s = server->janitor_->RemoveFileOnDeath(path); !s.ok()) return s;
  if (chmod(path.c_str(), 0600) != 0 || listen(server->listen_fd_, 64) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("--control=", path));
  }

  // The region: a memfd the program inherits (the spawner clears its
  // close-on-exec), moved to a high fd number so that the program's own fds
  // are numbered as without ipcfault.
  int memfd = static_cast<int>(syscall(SYS_memfd_create, "ipcfault-control", MFD_CLOEXEC));
  if (memfd < 0) return absl::ErrnoToStatus(errno, "memfd_create");
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur > 64) {
    int high = fcntl(memfd, F_DUPFD_CLOEXEC,
                     static_cast<int>(std::min<rlim_t>(limit.rlim_cur - 1, 1023)));
    if (high < 0) high = fcntl(memfd, F_DUPFD_CLOEXEC, 64);
    if (high >= 0) {
      close(memfd);
      memfd = high;
    }
  }
  server->region_fd_ = memfd;
  if (ftruncate(memfd, sizeof(ControlRegion)) != 0) {
    return absl::ErrnoToStatus(errno, "ftruncate(control region)");
  }
  void* mapped =
      mmap(nullptr, sizeof(ControlRegion), PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (mapped == MAP_FAILED) return absl::ErrnoToStatus(errno, "mmap(control region)");
  // A new memfd reads as zeros: every atomic is 0, every slot empty.
  server->region_ = static_cast<ControlRegion*>(mapped);
  inject_internal::InitControlRegion(*server->region_);

  if (pipe2(server->wake_, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  return server;
}

ControlServer::~ControlServer() {
  Stop();
  if (created_socket_) unlink(options_.path.c_str());
  if (listen_fd_ >= 0) close(listen_fd_);
  if (region_ != nullptr) munmap(region_, sizeof(ControlRegion));
  if (region_fd_ >= 0) close(region_fd_);
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

std::string ControlServer::EnvironmentEntry() const {
  struct stat st = {};
  fstat(region_fd_, &st);
  return absl::StrCat(inject_internal::kControlEnv, "=", region_fd_, ":",
                      static_cast<unsigned long long>(st.st_ino), ":", getpid());
}

absl::Status ControlServer::Start() {
  // The thread takes no signal: they are the spawner's to wait for.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    thread_ = std::thread([this] { Serve(); });
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return absl::ResourceExhaustedError(absl::StrCat("control thread: ", e.what()));
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return absl::OkStatus();
}

void ControlServer::Stop() {
  if (!thread_.joinable()) return;
  char byte = 1;
  while (write(wake_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
}

std::optional<uint64_t> ControlServer::RunSeed() {
  if (seed_.has_value()) return seed_;
  if (options_.seed.has_value()) {
    seed_ = options_.seed;
  } else if (const char* env = getenv("IPCFAULT_SEED"); env != nullptr && *env != '\0') {
    uint64_t value;
    if (!absl::SimpleAtoi(env, &value)) return std::nullopt;
    seed_ = value;
  } else {
    seed_ = RandomBits();
    Err("ipcfault: --seed=", *seed_,
        " (random seed for p= rules armed through --control; pass it to "
        "repeat this run)\n");
  }
  return seed_;
}

absl::StatusOr<std::vector<uint32_t>> ControlServer::Arm(const std::vector<Rule>& rules) {
  if (armed_.size() + rules.size() > kControlMaxArmed) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "at most ", kControlMaxArmed, " rules can be armed at once (", armed_.size(),
        " armed, ", rules.size(), " more asked); disarm some first"));
  }
  if (next_id_ - 1 + rules.size() > kControlMaxRules) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "a run can arm at most ", kControlMaxRules, " rules in all (", next_id_ - 1,
        " armed so far)"));
  }
  // Compile every rule before touching the region: all or none.
  std::vector<ControlRule> compiled(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    if (rule.thread.has_value() || rule.predicate) {
      return absl::InvalidArgumentError(
          "rule " + std::to_string(i + 1) +
          ": OnThisThread() and OnlyIf() do not cross processes; --control takes text rules");
    }
    const std::string text = FormatRule(rule);
    if (text.size() >= kControlTextMax) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rule ", i + 1, " is ", text.size(), " characters long; --control keeps at most ",
          kControlTextMax - 1));
    }
    ControlRule& out = compiled[i];
    out.calls = rule.calls;
    for (const CallInfo& info : AllCalls()) {
      if ((rule.calls & MaskOf(info.call)) != 0 && info.defaults_to_socket_fds) {
        out.socket_by_default |= MaskOf(info.call);
      }
    }
    out.action = rule.action;
    out.fd = rule.fd;
    out.error = rule.error;
    out.signal = rule.signal;
    out.port = rule.port;
    out.sig = rule.sig;
    out.retval = rule.retval;
    out.short_bytes = rule.short_bytes;
    out.delay_enter_ns = absl::ToInt64Nanoseconds(rule.delay_enter);
    out.delay_exit_ns = absl::ToInt64Nanoseconds(rule.delay_exit);
    out.when = rule.when;
    out.times = rule.times;
    out.probability = rule.probability;
    out.as_strace = rule.as_strace;
    out.site = rule.site;
    if (rule.seed.has_value()) {
      out.seed = *rule.seed;
    } else if (rule.probability < 1.0) {
      std::optional<uint64_t> seed = RunSeed();
      if (!seed.has_value()) {
        return absl::InvalidArgumentError(
            "IPCFAULT_SEED is not an unsigned 64-bit number");
      }
      out.seed = *seed;
    }
    memcpy(out.text, text.data(), text.size());
    out.text[text.size()] = '\0';
  }
  std::vector<uint32_t> ids;
  for (const ControlRule& rule : compiled) {
    const uint32_t id = next_id_++;
    region_->rules[id - 1] = rule;
    ids.push_back(id);
    armed_.push_back(id);
  }
  region_->rule_count.store(next_id_ - 1, std::memory_order_release);
  PublishLocked();
  return ids;
}

void ControlServer::PublishLocked() {
  CallMask mask = 0;
  for (uint32_t id : armed_) mask |= region_->rules[id - 1].calls;
  inject_internal::PublishArmed(*region_, armed_.data(), static_cast<uint32_t>(armed_.size()),
                                mask);
}

std::string ControlServer::ArmRequest(absl::string_view source, absl::string_view text) {
  absl::StatusOr<std::vector<Rule>> rules = ParseScenario(text, source);
  if (!rules.ok()) return Error("invalid", rules.status().message());
  if (rules->empty()) {
    return Error("invalid", absl::StrCat(source, ": no rule to arm"));
  }
  absl::StatusOr<std::vector<uint32_t>> ids = Arm(*rules);
  if (!ids.ok()) {
    return Error(ids.status().code() == absl::StatusCode::kResourceExhausted ? "exhausted"
                                                                             : "invalid",
                 absl::StrCat(source, ": ", ids.status().message()));
  }
  std::string reply = "ok";
  for (uint32_t id : *ids) absl::StrAppend(&reply, " ", id);
  return reply + "\n";
}

std::string ControlServer::DisarmRequest(absl::string_view args) {
  std::vector<absl::string_view> words =
      absl::StrSplit(args, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (words.empty()) return Error("invalid", "disarm: which rules? (IDs or 'all')");
  if (words.size() == 1 && words[0] == "all") {
    armed_.clear();
    PublishLocked();
    return "ok\n";
  }
  std::vector<uint32_t> ids;
  for (absl::string_view word : words) {
    uint32_t id;
    if (!absl::SimpleAtoi(word, &id)) {
      return Error("invalid", absl::StrCat("disarm: '", word, "' is not a rule id (or 'all')"));
    }
    if (id == 0 || id >= next_id_) {
      return Error("not_found",
                   next_id_ == 1
                       ? absl::StrCat("disarm: no rule ", id, " (no rule was armed yet)")
                       : absl::StrCat("disarm: no rule ", id, " (this run's rules are 1..",
                                      next_id_ - 1, ")"));
    }
    ids.push_back(id);
  }
  // All ids are valid: disarm them together, in one publication.
  armed_.erase(std::remove_if(armed_.begin(), armed_.end(),
                              [&](uint32_t id) {
                                return std::find(ids.begin(), ids.end(), id) != ids.end();
                              }),
               armed_.end());
  PublishLocked();
  return "ok\n";
}

std::string ControlServer::ListReply() const {
  std::string reply = "ok\n";
  for (uint32_t id = 1; id < next_id_; ++id) {
    const bool armed = std::find(armed_.begin(), armed_.end(), id) != armed_.end();
    absl::StrAppend(&reply, id, armed ? " armed " : " disarmed ",
                    region_->counters[id - 1].matched.load(std::memory_order_acquire), " ",
                    region_->counters[id - 1].fired.load(std::memory_order_acquire), " ",
                    region_->rules[id - 1].text, "\n");
  }
  return reply;
}

std::string ControlServer::LogText() const {
  std::string text;
  if (options_.log.empty()) return text;
  int fd = open(options_.log.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;  // nothing fired yet
  char buf[65536];
  off_t offset = static_cast<off_t>(options_.log_start);
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof(buf), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  close(fd);
  return text;
}

std::string ControlServer::LogReply() const {
  if (options_.log.empty()) {
    return Error("not_found",
                 "this run keeps no fire log (start it with --log=FILE, or under Bazel)");
  }
  std::string reply = "ok\n";
  const std::string text = LogText();
  const std::string tag = absl::StrCat("\"run\":\"", options_.run_id, "\"");
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (options_.run_id.empty() || absl::StrContains(line, tag)) {
      absl::StrAppend(&reply, line, "\n");
    }
  }
  return reply;
}

std::optional<std::string> ControlServer::Handle(Connection& connection) {
  absl::string_view request = connection.request;
  const size_t eol = request.find('\n');
  absl::string_view line = request.substr(0, eol);
  absl::string_view body =
      eol == absl::string_view::npos ? absl::string_view() : request.substr(eol + 1);
  std::pair<absl::string_view, absl::string_view> command_args =
      absl::StrSplit(line, absl::MaxSplits(' ', 1));
  absl::string_view command = command_args.first;
  absl::string_view args = absl::StripAsciiWhitespace(command_args.second);

  if (command == "hello") return std::string("ok ipcfault-control 1\n");
  if (command == "arm") {
    if (args.empty()) return Error("invalid", "arm: the request names no source");
    return ArmRequest(args, body);
  }
  if (command == "disarm") return DisarmRequest(args);
  if (command == "list") return ListReply();
  if (command == "log") return LogReply();
  if (command == "wait") {
    std::vector<absl::string_view> words = absl::StrSplit(args, ' ', absl::SkipEmpty());
    int64_t timeout_ns;
    if (words.size() != 3 || !absl::SimpleAtoi(words[0], &connection.id) ||
        !absl::SimpleAtoi(words[1], &connection.fired) ||
        !absl::SimpleAtoi(words[2], &timeout_ns) || timeout_ns < 0) {
      return Error("invalid", "wait: expected 'wait ID FIRED TIMEOUT_NS'");
    }
    if (connection.id == 0 || connection.id >= next_id_) {
      return Error("not_found", absl::StrCat("wait: no rule ", connection.id,
                                             next_id_ == 1 ? " (no rule was armed yet)"
                                                           : absl::StrCat(" (this run's rules are 1..",
                                                                          next_id_ - 1, ")")));
    }
    connection.deadline_ns = MonotonicNs() + timeout_ns;
    return std::nullopt;  // pending: the loop answers
  }
  return Error("invalid", absl::StrCat("unknown command '", command, "'"));
}

void ControlServer::Serve() {
  std::vector<std::unique_ptr<Connection>> waits;
  for (;;) {
    // Answer the waits whose count is reached or whose time is up.
    const int64_t now = MonotonicNs();
    for (auto it = waits.begin(); it != waits.end();) {
      Connection& wait = **it;
      const uint64_t fired =
          region_->counters[wait.id - 1].fired.load(std::memory_order_acquire);
      std::optional<std::string> reply;
      if (fired >= wait.fired) {
        reply = absl::StrCat("ok ", fired, "\n");
      } else if (now >= wait.deadline_ns) {
        reply = Error("timeout", absl::StrCat("rule ", wait.id, " ",
                                              region_->rules[wait.id - 1].text, " fired ",
                                              fired, " of ", wait.fired, " times"));
      }
      if (reply.has_value()) {
        SendAll(wait.fd, *reply);
        close(wait.fd);
        it = waits.erase(it);
      } else {
        ++it;
      }
    }

    std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    // events 0: only POLLHUP/POLLERR, a client that gave up waiting.
    for (const auto& wait : waits) fds.push_back({wait->fd, 0, 0});
    int timeout_ms = -1;
    if (!waits.empty()) timeout_ms = kWaitTickMs;
    int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (fds[0].revents != 0) break;  // Stop()
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents != 0) {
        for (auto it = waits.begin(); it != waits.end(); ++it) {
          if ((*it)->fd == fds[i].fd) {
            close((*it)->fd);
            waits.erase(it);
            break;
          }
        }
      }
    }
    if ((fds[1].revents & POLLIN) == 0) continue;

    auto connection = std::make_unique<Connection>();
    connection->fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection->fd < 0) continue;
    const int fd = connection->fd;
    // A client has a few seconds to send its request (at most 1 MiB): a
    // silent one must not stall the others.
    timeval limit = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    char buf[16384];
    bool complete = false;
    while (connection->request.size() <= kMaxRequest) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      if (n == 0) {
        complete = true;
        break;
      }
      connection->request.append(buf, static_cast<size_t>(n));
    }
    // Read first (a reply closed over an unread request would reach the
    // peer as a reset), then check who asks.
    ucred cred = {};
    socklen_t len = sizeof(cred);
    std::optional<std::string> reply;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid()) {
      reply = Error("permission", absl::StrCat("refused: the peer runs as uid ", cred.uid,
                                               "; this run's control socket answers only uid ",
                                               geteuid()));
    } else if (!complete) {
      reply = Error("invalid", connection->request.size() > kMaxRequest
                                   ? "the request is larger than 1 MiB"
                                   : "the request did not end (send it, then shut down writing)");
    } else {
      reply = Handle(*connection);
    }
    if (reply.has_value()) {
      SendAll(fd, *reply);
      close(fd);
    } else {
      waits.push_back(std::move(connection));
    }
  }
  for (const auto& wait : waits) {
    SendAll(wait->fd,
            Error("ended", absl::StrCat("the run ended; rule ", wait->id, " fired ",
                                        region_->counters[wait->id - 1].fired.load(
                                            std::memory_order_acquire),
                                        " of ", wait->fired, " times")));
    close(wait->fd);
  }
}

std::string ControlServer::Summary() {
  Stop();
  FireCounts counts = CountFires(LogText(), next_id_, options_.run_id);
  std::string out;
  if (next_id_ == 1) return "ipcfault: no rules were armed\n";
  for (uint32_t id = 1; id < next_id_; ++id) {
    const bool armed = std::find(armed_.begin(), armed_.end(), id) != armed_.end();
    const uint64_t fired = region_->counters[id - 1].fired.load(std::memory_order_acquire);
    absl::StrAppend(&out, "ipcfault: rule ", id, " ", region_->rules[id - 1].text,
                    armed ? "" : " (disarmed)", ": ");
    if (fired == 0) {
      absl::StrAppend(&out, "never fired\n");
      continue;
    }
    absl::StrAppend(&out, "fired ", fired, fired == 1 ? " time" : " times");
    if (id < counts.rules.size() && !counts.rules[id].pids.empty()) {
      const size_t pids = counts.rules[id].pids.size();
      absl::StrAppend(&out, " (", pids, pids == 1 ? " process" : " processes", ")");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace ipcfault::cli
