// pairbench: paired whole-process start-up timings (docs/run.md, "Cost").
//
//   taskset -c 0 bazel-bin/selftest/pairbench 1500 /bin/true
//       --- LD_PRELOAD=$PWD/bazel-bin/inject/libipcfault_preload.so /bin/true
//       --- bazel-bin/ipcfault run -q -- /bin/true
//
// (one command line).
//
// Runs each variant (separated by ---) N times, alternating them so that a
// noisy machine slows all alike: posix_spawn, stdout and stderr to
// /dev/null, wait4. A variant's leading NAME=VALUE words are added to its
// environment. Prints, for each, the median wall time and the median CPU
// time of the child (from wait4's rusage), and both as ratios to the first
// variant's. Not a test: a measuring tool, its figures reported, never
// asserted.

#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char** environ;

enum { kMaxVariants = 16, kMaxEnv = 256 };

static double NowMicros(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int CompareDoubles(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static double Median(double* values, int n) {
  qsort(values, n, sizeof(double), CompareDoubles);
  return values[n / 2];
}

int main(int argc, char** argv) {
  if (argc < 3 || atoi(argv[1]) <= 0) {
    fprintf(stderr, "usage: pairbench N [NAME=VALUE]... PROGRAM [ARG]... [--- ...]\n");
    return 2;
  }
  const int n = atoi(argv[1]);
  char** variants[kMaxVariants];
  int count = 0;
  variants[count++] = &argv[2];
  for (int i = 2; i < argc; ++i) {
    if (strcmp(argv[i], "---") != 0) continue;
    if (count == kMaxVariants || i + 1 == argc) {
      fprintf(stderr, "pairbench: at most %d variants, none empty\n", kMaxVariants);
      return 2;
    }
    argv[i] = NULL;
    variants[count++] = &argv[i + 1];
  }
  double* wall = calloc((size_t)count * n, sizeof(double));
  double* cpu = calloc((size_t)count * n, sizeof(double));
  if (wall == NULL || cpu == NULL) return 1;
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);

  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < count; ++k) {
      char** words = variants[k];
      char* env[kMaxEnv];
      int e = 0, w = 0;
      while (words[w] != NULL && strchr(words[w], '=') != NULL && e < kMaxEnv - 1) {
        env[e++] = words[w++];
      }
      for (char** inherited = environ; *inherited != NULL && e < kMaxEnv - 1; ++inherited) {
        env[e++] = *inherited;
      }
      env[e] = NULL;
      if (words[w] == NULL) {
        fprintf(stderr, "pairbench: variant %d has no program\n", k);
        return 2;
      }
      pid_t pid;
      const double start = NowMicros();
      if (posix_spawn(&pid, words[w], &quiet, NULL, words + w, env) != 0) {
        perror(words[w]);
        return 1;
      }
      int status;
      struct rusage usage;
      if (wait4(pid, &status, 0, &usage) != pid) {
        perror("wait4");
        return 1;
      }
      wall[k * n + i] = NowMicros() - start;
      cpu[k * n + i] = usage.ru_utime.tv_sec * 1e6 + usage.ru_utime.tv_usec +
                       usage.ru_stime.tv_sec * 1e6 + usage.ru_stime.tv_usec;
      if (status != 0 && i == 0) fprintf(stderr, "variant %d: wait status %#x\n", k, status);
    }
  }
  double wall0 = 0, cpu0 = 0;
  for (int k = 0; k < count; ++k) {
    const double w = Median(wall + k * n, n), c = Median(cpu + k * n, n);
    if (k == 0) wall0 = w, cpu0 = c;
    printf("variant %d: wall %.0f us (%.2fx), cpu %.0f us (%.2fx):", k, w, w / wall0, c,
           c / cpu0);
    for (char** word = variants[k]; *word != NULL; ++word) printf(" %s", *word);
    printf("\n");
  }
  free(wall);
  free(cpu);
  return 0;
}
