// inject/internal/preloadable.h
//
// Whether the dynamic loader would load an LD_PRELOAD library into a
// program this process execs, decided as the kernel and ld.so decide it:
//  - a statically linked program (no PT_INTERP) has no loader at all;
//  - secure-execution mode (AT_SECURE), where ld.so ignores LD_PRELOAD, is
//    what the kernel sets when the exec raises privilege: the new effective
//    uid or gid differs from the real one (a set-user-ID or set-group-ID
//    file that changes them, or a process already running with euid !=
//    ruid), or, for a process whose real uid is not root, file capabilities
//    that are effective or add to what it may already hold. Root running a
//    file with capabilities is not secure-exec; neither is a set-user-ID
//    file owned by the user running it, one on a nosuid mount, or any exec
//    under no_new_privs.
//
//   const char* why = inject_internal::NotPreloadableReason("/usr/bin/ping");
//   if (why != nullptr) ...  // "set-user-ID to uid 0", "statically linked"
//
// libc only, no allocation: async-signal-safe, so it may run in a vfork
// child or between fork and exec (the preload library's exec wrappers).

#ifndef IPCFAULT_INJECT_INTERNAL_PRELOADABLE_H_
#define IPCFAULT_INJECT_INTERNAL_PRELOADABLE_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>

namespace ipcfault::inject_internal {

// The credentials of the process that would exec, as the kernel sees them.
struct ExecCredentials {
  uid_t ruid, euid;
  gid_t rgid, egid;
  bool no_new_privs;
  uint64_t permitted, ambient, inheritable, bounding;  // capability sets
};

// What the exec'd file brings.
struct ExecFile {
  mode_t mode;
  uid_t uid;
  gid_t gid;
  bool nosuid_mount;
  bool has_caps;  // a security.capability attribute
  bool caps_effective;
  uint64_t caps_permitted, caps_inheritable;
};

// Why exec'ing `file` with `creds` runs in secure-execution mode, or
// nullptr if it does not. `buf` (>= 64 bytes) holds the reason's text when
// it names an id. Pure.
const char* SecureExecReason(const ExecCredentials& creds, const ExecFile& file,
                             char* buf, size_t size);

// This process's credentials as far as SecureExecReason needs them for
// `file`: no_new_privs only for a file with set-id bits or capabilities,
// the capability sets (a capget and two prctl calls per capability) only
// for one with capabilities; what is not read is left zero.
ExecCredentials CurrentCredentials(const ExecFile& file);

// The ExecFile of the open file `fd`; false if fstat fails. nosuid_mount is
// read (fstatfs) only for a file with set-id bits or capabilities, the
// only files where it decides anything; false otherwise.
bool DescribeExecFile(int fd, ExecFile* file);

// Why the loader would not load LD_PRELOAD into `path` exec'd by this
// process: "statically linked", "set-user-ID to uid 0", "file capabilities
// (secure-execution mode)", ... or nullptr when it would (and when the file
// cannot be read: then exec fails or runs what it runs, and that is exec's
// business). The text lives in a thread-local buffer until the next call.
const char* NotPreloadableReason(const char* path);

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_PRELOADABLE_H_
