// minimal_launcher: the least a launcher like `ipcfault run` can do, for
// pairbench's floor (docs/run.md, "The command's own start"): add one
// environment entry, posix_spawn PROGRAM, wait, pass its status on. Link it
// static, as the command is.
//
//   MINIMAL_LAUNCHER_ENTRY=LD_PRELOAD=/path/lib.so minimal_launcher /bin/true

#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  char* env[512];
  int n = 0;
  const char* entry = getenv("MINIMAL_LAUNCHER_ENTRY");
  if (entry != NULL) env[n++] = (char*)entry;
  for (char** e = environ; *e != NULL && n < 511; ++e) env[n++] = *e;
  env[n] = NULL;
  pid_t pid;
  if (posix_spawn(&pid, argv[1], NULL, NULL, argv + 1, env) != 0) return 127;
  int status;
  if (waitpid(pid, &status, 0) != pid) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
