// selftest/static_probe.c
//
// A statically linked program: `ipcfault run` must refuse it, since
// LD_PRELOAD cannot reach it. Run directly, it creates the file named by its
// argument, so a test can tell that it ran. Built by $(CC) -static in a
// genrule, outside every --config (a sanitizer runtime cannot be linked
// statically).

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) return 100;
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return 101;
  close(fd);
  return 0;
}
