// inject/internal/preload_exec.cc
//
// The preload library's watch on exec: before a process of the run execs a
// program with the library still in LD_PRELOAD, it checks whether the loader
// will load the library into that program (preloadable.h). If not (a
// statically linked program, a set-user-ID one...), the program runs with no
// fault at all, and that must not pass silently: the run's shared region
// records it (`ipcfault run` names the first such program after PROGRAM
// exits), or, preloaded by hand, the process says so on stderr once.
//
// The exec family and posix_spawn are rows of the call spec (call_spec.inc):
// their wrappers, generated (execl, execlp and execle hand-written), call
// this check just before the real call, through the watch the constructor
// below installs (interpose_path.h). glibc's execvp, execl... and
// posix_spawn call its internal execve, which no interposer can reach, so
// each entry point is a row.
//
// Async-signal-safe: exec runs after fork in multithreaded programs and in
// vfork children. The check makes raw system calls into stack buffers;
// errno is preserved.

#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "ipcfault/inject/internal/interpose_path.h"
#include "ipcfault/inject/internal/preloadable.h"

namespace ipcfault::inject_internal {

// preload.cc: records an exec the library cannot follow (async-signal-safe),
// and the name this library was loaded under.
void NoteUnreachableExec(const char* path, const char* why);
const char* PreloadFileName();

namespace {

// Whether `envp` preloads this library: only then did the exec'd program
// mean to get the faults.
bool PreloadsUs(char* const envp[]) {
  const char* own = PreloadFileName();
  if (envp == nullptr || own == nullptr || own[0] == '\0') return false;
  for (char* const* e = envp; *e != nullptr; ++e) {
    if (strncmp(*e, "LD_PRELOAD=", 11) == 0 && strstr(*e + 11, own) != nullptr) {
      return true;
    }
  }
  return false;
}

// The file execvp would run for `file`: `file` itself if it names a path,
// else the first executable of that name in $PATH. Into `buf`; nullptr if
// none.
const char* Search(const char* file, char* buf, size_t size) {
  if (file == nullptr || file[0] == '\0') return nullptr;
  if (strchr(file, '/') != nullptr) return file;
  const char* path = getenv("PATH");
  if (path == nullptr) path = "/bin:/usr/bin";
  size_t name_len = strlen(file);
  while (true) {
    const char* end = strchrnul(path, ':');
    size_t dir_len = static_cast<size_t>(end - path);
    if (dir_len + 1 + name_len + 1 <= size) {
      if (dir_len == 0) {
        memcpy(buf, file, name_len + 1);
      } else {
        memcpy(buf, path, dir_len);
        buf[dir_len] = '/';
        memcpy(buf + dir_len + 1, file, name_len + 1);
      }
      if (access(buf, X_OK) == 0) return buf;
    }
    if (*end == '\0') return nullptr;
    path = end + 1;
  }
}

// The check itself, before the exec of `path` (nullptr: nothing to check)
// with `envp`.
void Check(const char* path, char* const envp[]) {
  if (path == nullptr || !PreloadsUs(envp)) return;
  int saved = errno;
  if (const char* why = NotPreloadableReason(path)) NoteUnreachableExec(path, why);
  errno = saved;
}

void CheckSearched(const char* file, char* const envp[]) {
  char buf[PATH_MAX];
  int saved = errno;
  const char* path = Search(file, buf, sizeof(buf));
  errno = saved;
  Check(path, envp);
}

// The watch the exec wrappers call (interpose_path.h).
void WatchExec(const char* path, bool search, char* const envp[]) {
  if (search) {
    CheckSearched(path, envp);
  } else {
    Check(path, envp);
  }
}

__attribute__((constructor)) void InstallExecWatch() { SetExecWatch(&WatchExec); }

}  // namespace
}  // namespace ipcfault::inject_internal
