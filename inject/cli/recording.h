// inject/cli/recording.h
//
// What one run of a program did, as the preload library's sweep log
// (inject/internal/sweep_support.h) tells it: its processes, every
// interposed call with its ordinal, fd kind and call site, what each process
// left open at exit; and the sites symbolized to file:line / function where
// the binaries' symbols allow (addr2line), else module+offset.
//
//   absl::StatusOr<Recording> rec = ParseSweepLog(text);
//   Symbolize(*rec);
//   for (const auto& [hash, site] : rec->sites) Out(site.where);
//
// Thread-compatible.

#ifndef IPCFAULT_INJECT_CLI_RECORDING_H_
#define IPCFAULT_INJECT_CLI_RECORDING_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ipcfault::cli {

struct RecordedProcess {
  pid_t pid = 0;
  pid_t ppid = 0;
  std::string exe;          // absolute path of the executable
  bool exited = false;      // reached a normal exit (an exit line)
  int exit_fds = 0;         // descriptors beyond 0-2 open at exit
  int exit_children = 0;    // children not reaped at exit
};

struct RecordedCall {
  pid_t pid = 0;
  std::string call;         // "read"
  uint64_t ordinal = 0;     // among the process's calls of that name, from 1
  int fd = -1;
  std::string kind;         // socket, pipe, file, none
  bool nonblocking = false;
  uint64_t count = 0;       // bytes asked (transfer calls)
  std::string site;         // 12 hex digits
};

struct RecordedSite {
  std::string hash;
  std::string call;
  std::vector<std::string> frames;   // "MODULE+0xOFF", innermost first
  std::string exe;                   // the executable of the first process seen
  std::string where;                 // symbolized (after Symbolize), else frames[0]
  // Per process: calls from this site; the plan uses the largest.
  uint64_t max_per_process = 0;
  // Same, counting only calls a rule without fd= matches (sockets, for the
  // read/write family).
  uint64_t max_matching_per_process = 0;
  bool nonblocking = false;          // some call here was on an O_NONBLOCK fd
  uint64_t min_count = 0;            // smallest byte count asked (0: none)
  std::string kind;                  // the fd kind of the first call
};

struct Recording {
  std::vector<RecordedProcess> processes;
  std::vector<RecordedCall> calls;
  std::map<std::string, RecordedSite> sites;
  // Leak baseline, over every process that exited normally.
  int exit_fds = 0;
  int exit_children = 0;
  const RecordedProcess* Process(pid_t pid) const;
};

// Parses a sweep log. Lines that do not parse are an error naming the line.
absl::StatusOr<Recording> ParseSweepLog(absl::string_view text);

// Fills each site's `where`: "file:line function" of the first frame (and
// of the second, after " < ", when the first is in a small helper of the
// same binary), from addr2line when it is on PATH and the binary has
// symbols; else "module+0xOFFSET".
void Symbolize(Recording& recording);

// The JSON of `recording` (processes, calls, sites), for `record --json`.
std::string RecordingJson(const Recording& recording);


}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_RECORDING_H_
