#include "ipcfault/inject/internal/shared_counts.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <utility>

namespace ipcfault::inject_internal {

namespace {
constexpr uint64_t kMagic = 0x69706366636e7431;  // "ipcfcnt1"
constexpr size_t kNoteSize = 512;
}  // namespace

struct SharedCounts::Header {
  uint64_t magic;
  uint64_t rule_count;
  std::atomic<uint64_t> attached;
  std::atomic<uint64_t> unreachable_execs;
  std::atomic<uint32_t> note_claimed;
  std::atomic<uint32_t> note_ready;
  char note[kNoteSize];
};

struct alignas(64) SharedCounts::RuleSlot {
  std::atomic<uint64_t> fired;
  std::atomic<uint64_t> processes;
};

static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "shared counters must be lock-free to be shared");

size_t SharedCounts::RegionSize(size_t rule_count) {
  size_t header = (sizeof(Header) + 63) / 64 * 64;
  return header + rule_count * sizeof(RuleSlot);
}

SharedCounts::Header* SharedCounts::header() const {
  return static_cast<Header*>(base_);
}

SharedCounts::RuleSlot* SharedCounts::slot(size_t i) const {
  char* rules = static_cast<char*>(base_) + (sizeof(Header) + 63) / 64 * 64;
  return reinterpret_cast<RuleSlot*>(rules) + i;
}

std::optional<SharedCounts> SharedCounts::Create(size_t rule_count) {
  int fd = static_cast<int>(syscall(SYS_memfd_create, "ipcfault-counts", MFD_CLOEXEC));
  if (fd < 0) return std::nullopt;
  size_t size = RegionSize(rule_count);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int err = errno;
    close(fd);
    errno = err;
    return std::nullopt;
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    int err = errno;
    close(fd);
    errno = err;
    return std::nullopt;
  }
  // A fresh memfd reads as zeros: every counter starts at 0.
  SharedCounts counts;
  counts.fd_ = fd;
  counts.base_ = base;
  counts.size_ = size;
  Header* h = counts.header();
  h->magic = kMagic;
  h->rule_count = rule_count;
  return counts;
}

std::optional<SharedCounts> SharedCounts::Attach(const char* spec,
                                                 size_t rule_count,
                                                 std::string* why) {
  int fd_number = -1;
  long long pid = 0;
  unsigned long long inode = 0;
  int consumed = 0;
  if (spec == nullptr ||
      sscanf(spec, "%d:%lld:%llu%n", &fd_number, &pid, &inode, &consumed) != 3 ||
      spec[consumed] != '\0' || fd_number < 0) {
    *why = std::string("malformed ") + kCountsVariable + "='" +
           (spec != nullptr ? spec : "") + "'";
    return std::nullopt;
  }
  auto names_region = [inode](int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
           static_cast<unsigned long long>(st.st_ino) == inode;
  };
  // The inherited descriptor, if the program kept it; else the one of
  // `ipcfault run`, through /proc (same user, not after a uid change).
  int fd = -1;
  bool own = false;
  if (names_region(fd_number)) {
    fd = fd_number;
  } else {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%lld/fd/%d", pid, fd_number);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd >= 0 && !names_region(fd)) {
      close(fd);
      fd = -1;
    }
    if (fd < 0) {
      *why = std::string("the run's counters are out of reach (descriptor ") +
             std::to_string(fd_number) + " was closed, and " + path +
             " cannot be opened)";
      return std::nullopt;
    }
    own = true;
  }
  size_t size = RegionSize(rule_count);
  struct stat st;
  void* base = MAP_FAILED;
  if (fstat(fd, &st) == 0 && static_cast<size_t>(st.st_size) == size) {
    base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  }
  if (own) close(fd);
  if (base == MAP_FAILED) {
    *why = "the run's counters do not match its rules";
    return std::nullopt;
  }
  SharedCounts counts;
  counts.base_ = base;
  counts.size_ = size;
  if (counts.header()->magic != kMagic ||
      counts.header()->rule_count != rule_count) {
    *why = "the run's counters do not match its rules";
    return std::nullopt;
  }
  counts.counted_in_.reset(new std::atomic<pid_t>[rule_count]);
  for (size_t i = 0; i < rule_count; ++i) counts.counted_in_[i].store(0);
  counts.header()->attached.fetch_add(1, std::memory_order_relaxed);
  return counts;
}

SharedCounts::SharedCounts(SharedCounts&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      counted_in_(std::move(other.counted_in_)) {}

SharedCounts& SharedCounts::operator=(SharedCounts&& other) noexcept {
  if (this != &other) {
    this->~SharedCounts();
    new (this) SharedCounts(std::move(other));
  }
  return *this;
}

SharedCounts::~SharedCounts() {
  if (base_ != nullptr) munmap(base_, size_);
  if (fd_ >= 0) close(fd_);
}

std::string SharedCounts::EnvironmentEntry(int child_fd) const {
  struct stat st = {};
  fstat(fd_, &st);
  return std::string(kCountsVariable) + "=" + std::to_string(child_fd) + ":" +
         std::to_string(getpid()) + ":" +
         std::to_string(static_cast<unsigned long long>(st.st_ino));
}

size_t SharedCounts::rule_count() const { return header()->rule_count; }

uint64_t SharedCounts::fired(size_t i) const {
  return slot(i)->fired.load(std::memory_order_acquire);
}

uint64_t SharedCounts::processes(size_t i) const {
  return slot(i)->processes.load(std::memory_order_acquire);
}

uint64_t SharedCounts::attached() const {
  return header()->attached.load(std::memory_order_acquire);
}

void SharedCounts::RecordFire(size_t i) {
  if (base_ == nullptr || i >= header()->rule_count) return;
  slot(i)->fired.fetch_add(1, std::memory_order_relaxed);
  // The first fire of this rule in this process counts the process.
  pid_t self = static_cast<pid_t>(syscall(SYS_getpid));
  pid_t last = counted_in_[i].load(std::memory_order_relaxed);
  while (last != self) {
    if (counted_in_[i].compare_exchange_weak(last, self,
                                             std::memory_order_relaxed)) {
      slot(i)->processes.fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
}

void SharedCounts::RecordUnreachableExec(const char* path, const char* why) {
  if (base_ == nullptr) return;
  Header* h = header();
  h->unreachable_execs.fetch_add(1, std::memory_order_relaxed);
  uint32_t expected = 0;
  if (!h->note_claimed.compare_exchange_strong(expected, 1)) return;
  size_t n = 0;
  auto put = [&](const char* s) {
    while (*s != '\0' && n + 1 < kNoteSize) h->note[n++] = *s++;
  };
  put(path);
  put(" (");
  put(why);
  put(")");
  h->note[n] = '\0';
  h->note_ready.store(1, std::memory_order_release);
}

uint64_t SharedCounts::unreachable_execs() const {
  return header()->unreachable_execs.load(std::memory_order_acquire);
}

std::string SharedCounts::first_unreachable_exec() const {
  if (header()->note_ready.load(std::memory_order_acquire) == 0) return "";
  return std::string(header()->note, strnlen(header()->note, kNoteSize));
}

}  // namespace ipcfault::inject_internal
