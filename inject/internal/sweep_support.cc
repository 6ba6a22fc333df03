// See sweep_support.h.

#include "ipcfault/inject/internal/sweep_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/arming.h"
#include "ipcfault/inject/internal/call_stack.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/rule.h"

namespace ipcfault::inject_internal {
namespace {

char log_path[PATH_MAX];
// The text the trace rules carry; a fire with another text is not ours.
constexpr char kTraceText[] = "(ipcfault trace)";
FireHook previous_hook = nullptr;

// A fixed buffer that JSON is appended to; never allocates.
class Line {
 public:
  void Add(const char* s) {
    while (*s != '\0' && n_ < sizeof(buf_) - 2) buf_[n_++] = *s++;
  }
  void AddString(const char* s) {  // a JSON string, escaped
    Add("\"");
    for (; *s != '\0' && n_ < sizeof(buf_) - 8; ++s) {
      unsigned char c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\') {
        buf_[n_++] = '\\';
        buf_[n_++] = static_cast<char>(c);
      } else if (c < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        Add("\\u00");
        buf_[n_++] = kHex[c >> 4];
        buf_[n_++] = kHex[c & 15];
      } else {
        buf_[n_++] = static_cast<char>(c);
      }
    }
    Add("\"");
  }
  void AddNumber(int64_t v) {
    char digits[24];
    int i = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
      digits[i++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (v < 0) digits[i++] = '-';
    while (i > 0 && n_ < sizeof(buf_) - 2) buf_[n_++] = digits[--i];
  }
  void AddHex(uint64_t v, int width) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int shift = (width - 1) * 4; shift >= 0 && n_ < sizeof(buf_) - 2; shift -= 4) {
      buf_[n_++] = kHex[(v >> shift) & 15];
    }
  }
  // Appends the line, newline-terminated, with one write(2).
  void Write() {
    buf_[n_++] = '\n';
    const int saved = errno;
    long fd;
    do {
      fd = syscall(SYS_openat, AT_FDCWD, log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                   0644);
    } while (fd < 0 && errno == EINTR);
    if (fd >= 0) {
      while (syscall(SYS_write, fd, buf_, n_) < 0 && errno == EINTR) {
      }
      syscall(SYS_close, fd);
    }
    errno = saved;
  }

 private:
  char buf_[2048];
  size_t n_ = 0;
};

pid_t Pid() { return static_cast<pid_t>(syscall(SYS_getpid)); }

void WriteProcessLine() {
  Line line;
  line.Add("{\"pid\":");
  line.AddNumber(Pid());
  line.Add(",\"ppid\":");
  line.AddNumber(static_cast<pid_t>(syscall(SYS_getppid)));
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  exe[n > 0 ? n : 0] = '\0';
  line.Add(",\"exe\":");
  line.AddString(exe);
  line.Add("}");
  line.Write();
}

// Site hashes this process has written frames for: an open-addressing set.
constexpr size_t kSeenSlots = 4096;
std::atomic<uint64_t> seen[kSeenSlots];

// Whether `hash` is new to this process (and now recorded).
bool FirstSighting(uint64_t hash) {
  for (size_t i = 0; i < kSeenSlots; ++i) {
    std::atomic<uint64_t>& slot = seen[(hash + i) % kSeenSlots];
    uint64_t current = slot.load(std::memory_order_acquire);
    if (current == hash) return false;
    if (current == 0) {
      if (slot.compare_exchange_strong(current, hash, std::memory_order_acq_rel)) return true;
      if (current == hash) return false;
    }
  }
  return true;  // full: write the frames again rather than lose them
}

const char* KindOf(int fd, bool* nonblocking) {
  *nonblocking = false;
  if (fd < 0) return "none";
  struct stat st;
  if (fstat(fd, &st) != 0) return "none";
  int flags = fcntl(fd, F_GETFL);
  *nonblocking = flags >= 0 && (flags & O_NONBLOCK) != 0;
  if (S_ISSOCK(st.st_mode)) return "socket";
  if (S_ISFIFO(st.st_mode)) return "pipe";
  return "file";
}

// The fire hook in trace mode. Runs on the calling thread, inside Decide(),
// possibly in a signal handler: async-signal-safe.
void TraceFire(const FiredFault& fault) {
  if (fault.rule_text == nullptr || strcmp(fault.rule_text, kTraceText) != 0) {
    if (previous_hook != nullptr) previous_hook(fault);
    return;
  }
  SiteFrame frames[kHashedFrames];
  uint64_t hash = 0;
  const int n = CallSiteFrames(frames, kHashedFrames, &hash);
  bool nonblocking = false;
  const char* kind = KindOf(fault.fd, &nonblocking);
  Line line;
  line.Add("{\"pid\":");
  line.AddNumber(fault.pid);
  line.Add(",\"tid\":");
  line.AddNumber(fault.tid);
  line.Add(",\"call\":\"");
  const absl::string_view name = CallName(fault.call);
  char name_buf[32];
  const size_t len = name.size() < sizeof(name_buf) - 1 ? name.size() : sizeof(name_buf) - 1;
  memcpy(name_buf, name.data(), len);
  name_buf[len] = '\0';
  line.Add(name_buf);
  line.Add("\",\"n\":");
  line.AddNumber(static_cast<int64_t>(fault.ordinal));
  line.Add(",\"fd\":");
  line.AddNumber(fault.fd);
  line.Add(",\"kind\":\"");
  line.Add(kind);
  line.Add("\",\"nb\":");
  line.AddNumber(nonblocking ? 1 : 0);
  line.Add(",\"count\":");
  line.AddNumber(static_cast<int64_t>(fault.count));
  line.Add(",\"site\":\"");
  line.AddHex(hash, 12);
  line.Add("\"");
  if (FirstSighting(hash)) {
    line.Add(",\"frames\":[");
    for (int i = 0; i < n; ++i) {
      if (i > 0) line.Add(",");
      line.Add("\"");
      // The module path, then +0xOFFSET, as one string.
      for (const char* p = frames[i].module; *p != '\0'; ++p) {
        const char c[2] = {*p == '"' || *p == '\\' ? '_' : *p, '\0'};
        line.Add(c);
      }
      line.Add("+0x");
      line.AddHex(frames[i].offset, 12);
      line.Add("\"");
    }
    line.Add("]");
  }
  line.Add("}");
  line.Write();
}

// At a normal exit: descriptors still open (beyond 0-2) and children not
// reaped. Runs in the process's exit path, not in a signal handler.
void WriteExitLine() {
  int fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    const int own = dirfd(dir);
    while (struct dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      const int fd = atoi(entry->d_name);
      if (fd > 2 && fd != own) ++fds;
    }
    closedir(dir);
  }
  int children = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (struct dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      char path[320];
      snprintf(path, sizeof(path), "/proc/self/task/%s/children", entry->d_name);
      // Raw system calls: read and close are interposed, and this is not
      // the program's call.
      long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      char buf[512];
      long n;
      while ((n = syscall(SYS_read, fd, buf, sizeof(buf))) > 0) {
        for (long i = 0; i < n; ++i) children += buf[i] == ' ';
      }
      syscall(SYS_close, fd);
    }
    closedir(dir);
  }
  Line line;
  line.Add("{\"pid\":");
  line.AddNumber(Pid());
  line.Add(",\"exit\":true,\"fds\":");
  line.AddNumber(fds);
  line.Add(",\"children\":");
  line.AddNumber(children);
  line.Add("}");
  line.Write();
}

// In .data, not .bss: AtExit reads it in every process the library enters,
// and the first read of an untouched .bss page costs a page fault of its own
// (docs/run.md, "Cost").
bool exit_line_wanted __attribute__((section(".data"))) = false;

__attribute__((destructor)) void AtExit() {
  if (exit_line_wanted) WriteExitLine();
}

void AtforkChild() { WriteProcessLine(); }

// One rule per call, matching every call on any fd, doing nothing: each of
// its fires is one traced call, and its `when` ordinal counts that call.
void ArmTrace() {
  std::vector<Rule> rules;
  std::vector<std::string> texts;
  for (const CallInfo& info : AllCalls()) {
    Rule rule;
    rule.calls = MaskOf(info.call);
    if ((info.keys & kKeyFd) != 0) rule.fd.kind = FdFilter::Kind::kAny;
    rules.push_back(rule);
    texts.push_back(kTraceText);
  }
  auto group = std::make_shared<RuleGroup>(std::move(rules), std::move(texts));
  std::string why;  // a new group with no p= rule: arms
  (void)TryArmGroup(group, &why);
}

}  // namespace

bool StartSweepSupport(const char** error) {
  const char* path = getenv("IPCFAULT_SWEEP_LOG");
  if (path == nullptr || *path == '\0') return true;
  if (path[0] != '/' || strlen(path) >= sizeof(log_path)) {
    *error = "ipcfault: IPCFAULT_SWEEP_LOG must be an absolute path shorter than PATH_MAX";
    return false;
  }
  strcpy(log_path, path);
  WarmCallStack();
  WriteProcessLine();
  exit_line_wanted = true;
  pthread_atfork(nullptr, nullptr, &AtforkChild);
  const char* trace = getenv("IPCFAULT_TRACE");
  if (trace != nullptr && strcmp(trace, "1") == 0) {
    previous_hook = CurrentFireHook();
    SetFireHook(&TraceFire);
    ArmTrace();
  }
  return true;
}

}  // namespace ipcfault::inject_internal
