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
// The exec family and posix_spawn are wrapped here, in the preload library
// only: glibc's execvp, execl... and posix_spawn call its internal execve,
// which no interposer can reach, so each entry point is wrapped. If the call
// table (call.h) gains these calls, this check belongs in their wrappers.
//
// Async-signal-safe: exec runs after fork in multithreaded programs and in
// vfork children. The real functions are resolved at load; the check makes
// raw system calls into stack buffers; errno is preserved.

#include <dlfcn.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "ipcfault/inject/internal/preloadable.h"

extern char** environ;

namespace ipcfault::inject_internal {

// preload.cc: records an exec the library cannot follow (async-signal-safe),
// and the name this library was loaded under.
void NoteUnreachableExec(const char* path, const char* why);
const char* PreloadFileName();

namespace {

using ExecveFn = int (*)(const char*, char* const[], char* const[]);
using ExecvFn = int (*)(const char*, char* const[]);
using SpawnFn = int (*)(pid_t*, const char*, const posix_spawn_file_actions_t*,
                        const posix_spawnattr_t*, char* const[], char* const[]);

ExecveFn real_execve;
ExecvFn real_execv;
ExecvFn real_execvp;
ExecveFn real_execvpe;
SpawnFn real_posix_spawn;
SpawnFn real_posix_spawnp;

template <typename Fn>
Fn Next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

__attribute__((constructor)) void ResolveExecFunctions() {
  real_execve = Next<ExecveFn>("execve");
  real_execv = Next<ExecvFn>("execv");
  real_execvp = Next<ExecvFn>("execvp");
  real_execvpe = Next<ExecveFn>("execvpe");
  real_posix_spawn = Next<SpawnFn>("posix_spawn");
  real_posix_spawnp = Next<SpawnFn>("posix_spawnp");
}

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

// How many arguments an execl-style call has: `first`, then the variadic
// ones up to the terminating null pointer.
size_t CountVarArgs(const char* first, va_list args) {
  size_t n = 1;
  if (first == nullptr) return 0;
  while (va_arg(args, const char*) != nullptr) ++n;
  return n;
}

}  // namespace
}  // namespace ipcfault::inject_internal

using namespace ipcfault::inject_internal;  // NOLINT: the C entry points below

extern "C" {

int execve(const char* path, char* const argv[], char* const envp[]) {
  Check(path, envp);
  return real_execve(path, argv, envp);
}

int execv(const char* path, char* const argv[]) {
  Check(path, environ);
  return real_execv(path, argv);
}

int execvp(const char* file, char* const argv[]) {
  CheckSearched(file, environ);
  return real_execvp(file, argv);
}

int execvpe(const char* file, char* const argv[], char* const envp[]) {
  CheckSearched(file, envp);
  return real_execvpe(file, argv, envp);
}

// execl, execlp, execle: argv gathered on the stack, then as execv, execvp,
// execve.
#define IPCFAULT_GATHER_ARGV(first, argv)                         \
  va_list count_args;                                             \
  va_start(count_args, first);                                    \
  size_t argc = CountVarArgs(first, count_args);                  \
  va_end(count_args);                                             \
  char* argv[argc + 1];                                           \
  va_list args;                                                   \
  va_start(args, first);                                          \
  argv[0] = const_cast<char*>(first);                             \
  for (size_t i = 1; i < argc; ++i) argv[i] = va_arg(args, char*); \
  if (argc > 0) (void)va_arg(args, char*); /* the null pointer */ \
  argv[argc] = nullptr;

int execl(const char* path, const char* arg, ...) {
  IPCFAULT_GATHER_ARGV(arg, argv);
  va_end(args);
  Check(path, environ);
  return real_execv(path, argv);
}

int execlp(const char* file, const char* arg, ...) {
  IPCFAULT_GATHER_ARGV(arg, argv);
  va_end(args);
  CheckSearched(file, environ);
  return real_execvp(file, argv);
}

int execle(const char* path, const char* arg, ...) {
  IPCFAULT_GATHER_ARGV(arg, argv);
  char* const* envp = va_arg(args, char* const*);
  va_end(args);
  Check(path, envp);
  return real_execve(path, argv, envp);
}

#undef IPCFAULT_GATHER_ARGV

int posix_spawn(pid_t* pid, const char* path,
                const posix_spawn_file_actions_t* actions,
                const posix_spawnattr_t* attr, char* const argv[],
                char* const envp[]) {
  Check(path, envp);
  return real_posix_spawn(pid, path, actions, attr, argv, envp);
}

int posix_spawnp(pid_t* pid, const char* file,
                 const posix_spawn_file_actions_t* actions,
                 const posix_spawnattr_t* attr, char* const argv[],
                 char* const envp[]) {
  CheckSearched(file, envp);
  return real_posix_spawnp(pid, file, actions, attr, argv, envp);
}

}  // extern "C"
