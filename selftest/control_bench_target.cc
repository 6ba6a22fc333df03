// control_bench_target: the program //selftest:control_benchmark controls.
//
//   control_bench_target flips      prints "ready", then calls
//                                   kill(getpid(), 0) in a loop; each
//                                   time its result changes (ok <-> EPERM)
//                                   prints "flip K T" (K from 1, T the
//                                   CLOCK_MONOTONIC ns at which that call
//                                   returned). Stops when stdin closes (or
//                                   after 120 s).
//   control_bench_target round-trips N
//                                   prints "ready", waits for a byte on
//                                   stdin, then makes N one-byte round trips
//                                   over a socketpair to a forked echo
//                                   child; prints "ns N T" (T: the total,
//                                   in ns)

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

int Flips() {
  const int64_t end = NowNs() + int64_t{120} * 1000000000;
  bool failing = false;
  long flips = 0;
  printf("ready\n");
  fflush(stdout);
  for (long i = 0;; ++i) {
    const bool fails = kill(getpid(), 0) != 0;
    if (fails != failing) {
      const int64_t t = NowNs();
      failing = fails;
      printf("flip %ld %lld\n", ++flips, static_cast<long long>(t));
      fflush(stdout);
    }
    if (i % 4096 == 0) {
      pollfd p = {STDIN_FILENO, POLLIN, 0};
      if (poll(&p, 1, 0) > 0 || NowNs() > end) return 0;  // stdin closed (EOF)
    }
  }
}

int RoundTrips(long n) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 100;
  pid_t pid = fork();
  if (pid < 0) return 100;
  char c = 'x';
  if (pid == 0) {
    close(sv[0]);
    while (read(sv[1], &c, 1) == 1) {
      if (write(sv[1], &c, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  close(sv[1]);
  printf("ready\n");
  fflush(stdout);
  char go;
  if (read(STDIN_FILENO, &go, 1) != 1) return 100;
  const int64_t start = NowNs();
  for (long i = 0; i < n; ++i) {
    if (write(sv[0], &c, 1) != 1 || read(sv[0], &c, 1) != 1) return 100;
  }
  const int64_t total = NowNs() - start;
  close(sv[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  printf("ns %ld %lld\n", n, static_cast<long long>(total));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "flips") == 0) return Flips();
  if (argc == 3 && strcmp(argv[1], "round-trips") == 0) return RoundTrips(atol(argv[2]));
  fprintf(stderr, "usage: control_bench_target flips | round-trips N\n");
  return 2;
}
