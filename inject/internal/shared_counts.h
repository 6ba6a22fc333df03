// inject/internal/shared_counts.h
//
// The fire counts that every process of one `ipcfault run` shares: a small
// shared-memory region (a memfd) that `ipcfault run` creates and PROGRAM
// inherits, and that the preload library maps at load. Each fire adds one to
// its rule's counter with an atomic add on the shared page, so the counts are
// exact across fork (the mapping is shared), exec (the library maps it again
// in the new program) and uid changes (a mapping, unlike a file, needs no
// permission once made). `ipcfault run` reads them when PROGRAM exits: no
// log to parse, constant memory, constant time.
//
//   // ipcfault run
//   std::optional<SharedCounts> counts = SharedCounts::Create(rules.size());
//   env.push_back(counts->EnvironmentEntry());   // IPCFAULT_COUNTS=...
//   ... run PROGRAM, with counts->fd() inherited ...
//   uint64_t n = counts->fired(0);
//
//   // the preload library, at load
//   std::optional<SharedCounts> counts = SharedCounts::Attach(getenv("IPCFAULT_COUNTS"), n);
//   // in the fire hook (async-signal-safe)
//   counts->RecordFire(rule_index);
//
// The region also holds the run's notes: the first program a descendant
// exec'd that the preload library cannot enter (static, set-user-ID).
//
// Everything here is libc only (no Abseil, no allocation after Create or
// Attach), and RecordFire/RecordUnreachableExec are async-signal-safe and
// thread-safe.

#ifndef IPCFAULT_INJECT_INTERNAL_SHARED_COUNTS_H_
#define IPCFAULT_INJECT_INTERNAL_SHARED_COUNTS_H_

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ipcfault::inject_internal {

// The environment variable that names the region to the preload library:
// "FD:PID:INODE", the inherited descriptor, the pid of `ipcfault run` (a
// process that lost the descriptor reopens /proc/PID/fd/FD) and the memfd's
// inode (so a descriptor that now names another file is never mapped).
inline constexpr char kCountsVariable[] = "IPCFAULT_COUNTS";

class SharedCounts {
 public:
  // Creates the region for `rule_count` rules (a close-on-exec memfd;
  // PROGRAM's side of the descriptor is made inheritable by the spawner).
  // nullopt (errno set) if the system refuses.
  static std::optional<SharedCounts> Create(size_t rule_count);

  // Maps the region `spec` (kCountsVariable's value) names, for
  // `rule_count` rules. nullopt if it cannot be reached or does not match
  // (another rule count, not a region); `why` then says why.
  static std::optional<SharedCounts> Attach(const char* spec, size_t rule_count,
                                            std::string* why);

  SharedCounts(SharedCounts&& other) noexcept;
  SharedCounts& operator=(SharedCounts&& other) noexcept;
  ~SharedCounts();

  // The descriptor of the region, owned (Create only; -1 after Attach).
  int fd() const { return fd_; }
  // "IPCFAULT_COUNTS=FD:PID:INODE" for PROGRAM's environment, with the fd
  // number `child_fd` (the number PROGRAM gets it under).
  std::string EnvironmentEntry(int child_fd) const;

  size_t rule_count() const;
  // Times rule `i` fired, over every process of the run.
  uint64_t fired(size_t i) const;
  // Processes in which rule `i` fired at least once.
  uint64_t processes(size_t i) const;
  // Processes that mapped the region (loaded the library with the run's
  // rules).
  uint64_t attached() const;

  // Counts one fire of rule `i` in this process. Async-signal-safe.
  void RecordFire(size_t i);

  // Notes that `path` was exec'd where the preload library cannot follow,
  // and why ("statically linked"). Keeps the first such note and counts
  // all. Async-signal-safe.
  void RecordUnreachableExec(const char* path, const char* why);
  // How many such execs, and the first one's "PATH (WHY)" ("" if none).
  uint64_t unreachable_execs() const;
  std::string first_unreachable_exec() const;

 private:
  struct Header;
  struct RuleSlot;
  SharedCounts() = default;
  static size_t RegionSize(size_t rule_count);
  Header* header() const;
  RuleSlot* slot(size_t i) const;

  int fd_ = -1;
  void* base_ = nullptr;
  size_t size_ = 0;
  // Per rule, the last process that counted itself in `processes`
  // (private memory: a forked child inherits its parent's pid here, which
  // is not its own, so it counts itself once).
  std::unique_ptr<std::atomic<pid_t>[]> counted_in_;
};

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_SHARED_COUNTS_H_
