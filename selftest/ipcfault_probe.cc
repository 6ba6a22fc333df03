// selftest/ipcfault_probe.cc
//
// A small program for the end-to-end tests of `ipcfault run` and the preload
// library: each subcommand makes real calls and prints what the kernel (or
// the injected fault) returned, so the tests assert on behaviour, not on the
// tool's own account of it.
//
//   ipcfault_probe connect N      N connects to a loopback listener of its
//                                 own; prints "connect I: pid=P fd=F ok|ERRNO"
//   ipcfault_probe fork CMD...    runs CMD in a forked child (no exec), waits
//   ipcfault_probe cd DIR CMD...  changes to DIR, then runs CMD
//   ipcfault_probe connect-then-fork N M  N connects, then M in a forked child
//   ipcfault_probe spawn PROG ARG...  fork + exec PROG, waits; exits as it did
//   ipcfault_probe hammer P N     P forked children each make N connects at
//                                 once (after a barrier); prints how many
//                                 failed with ENETDOWN
//   ipcfault_probe env            prints LD_PRELOAD and IPCFAULT_* (or unset)
//   ipcfault_probe exit N         exits with status N
//   ipcfault_probe signal SIG     kills itself with signal number SIG
//   ipcfault_probe touch PATH     creates PATH
//   ipcfault_probe cat            copies stdin to stdout
//   ipcfault_probe wait-term      prints "ready", exits 7 on SIGTERM
//   ipcfault_probe count-ints     prints "ready pgid=G", "INT" per SIGINT;
//                                 on SIGTERM prints "ints N", exits 0
//   ipcfault_probe spawn-proc-environ PROG ARG...  as spawn, with the
//                                 environment read from /proc/self/environ
//   ipcfault_probe closes N       N calls of close(-1)
//   ipcfault_probe connect-then-wait N  N connects, then as wait-term
//   ipcfault_probe setuid UID CMD...  setgid+setuid to UID, then CMD
//   ipcfault_probe round-trips N  N one-byte round trips over a socketpair
//                                 to a forked echo child (benchmarks)

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace {

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "ipcfault_probe: %s: %s\n", what, strerror(errno));
  exit(100);
}

const char* ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "E?";
}

// A listener on 127.0.0.1, ephemeral port.
int Listen(sockaddr_in* addr) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("socket");
  *addr = {};
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(addr), sizeof(*addr)) != 0) Die("bind");
  if (listen(fd, 128) != 0) Die("listen");
  socklen_t len = sizeof(*addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(addr), &len) != 0) Die("getsockname");
  return fd;
}

// Makes `n` connects; prints one line each. Returns the number that failed.
int Connects(int n, bool quiet) {
  sockaddr_in addr;
  int listener = Listen(&addr);
  int failed = 0;
  for (int i = 1; i <= n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) Die("socket");
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    int err = errno;
    if (rc != 0) ++failed;
    if (!quiet) {
      printf("connect %d: pid=%d fd=%d %s\n", i, static_cast<int>(getpid()), fd,
             rc == 0 ? "ok" : ErrnoName(err));
    }
    close(fd);
    if (rc == 0) {
      int accepted = accept(listener, nullptr, nullptr);
      if (accepted >= 0) close(accepted);
    }
  }
  close(listener);
  fflush(stdout);
  return failed;
}

int WaitChild(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) Die("waitpid");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

int Main(int argc, char** argv);

int Fork(int argc, char** argv) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    fflush(stdout);
    _exit(Main(argc, argv));
  }
  return WaitChild(pid);
}

int Spawn(char** argv) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    execv(argv[0], argv);
    Die(argv[0]);
  }
  return WaitChild(pid);
}

int Hammer(int processes, int n) {
  int barrier[2];
  if (pipe2(barrier, O_CLOEXEC) != 0) Die("pipe2");
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    pid_t pid = fork();
    if (pid < 0) Die("fork");
    if (pid == 0) {
      close(barrier[1]);
      char c;
      while (read(barrier[0], &c, 1) < 0 && errno == EINTR) {
      }
      // Every connect goes through the interposer; a failed socket() is
      // not what we measure, so reuse one fd.
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) Die("socket");
      sockaddr_in addr = {};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(9);  // discard: never listening here
      int netdown = 0;
      for (int i = 0; i < n; ++i) {
        if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
            errno == ENETDOWN) {
          ++netdown;
        }
      }
      printf("hammer %d: %d ENETDOWN\n", p, netdown);
      fflush(stdout);
      _exit(0);
    }
    children.push_back(pid);
  }
  close(barrier[0]);
  close(barrier[1]);  // EOF: everyone starts
  int worst = 0;
  for (pid_t pid : children) {
    int code = WaitChild(pid);
    if (code > worst) worst = code;
  }
  return worst;
}

volatile sig_atomic_t got_term = 0;

int WaitTerm() {
  struct sigaction action = {};
  action.sa_handler = [](int) { got_term = 1; };
  sigaction(SIGTERM, &action, nullptr);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  printf("ready\n");
  fflush(stdout);
  while (!got_term) sigsuspend(&old);
  return 7;
}

volatile sig_atomic_t ints = 0;

// Counts the SIGINTs it gets, acknowledging each with "INT\n" on stdout;
// on SIGTERM prints "ints N" and exits 0.
int CountInts() {
  struct sigaction action = {};
  action.sa_handler = [](int) {
    ints = ints + 1;
    if (write(STDOUT_FILENO, "INT\n", 4) != 4) _exit(101);
  };
  sigaction(SIGINT, &action, nullptr);
  action.sa_handler = [](int) { got_term = 1; };
  sigaction(SIGTERM, &action, nullptr);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  printf("ready pgid=%d\n", static_cast<int>(getpgrp()));
  fflush(stdout);
  while (!got_term) sigsuspend(&old);
  printf("ints %d\n", static_cast<int>(ints));
  return 0;
}

// A fired call as cheap as can be: close(-1), N times (the benchmarks'
// million-fire run, with a rule on close).
int Closes(long n) {
  for (long i = 0; i < n; ++i) close(-1);
  return 0;
}

// fork + execve PROG with the environment read back from /proc/self/environ
// (the strings the process started with, as a program that copied them
// early would have them), waits; exits as it did.
int SpawnWithProcEnviron(char** argv) {
  std::string raw;
  FILE* f = fopen("/proc/self/environ", "re");
  if (f == nullptr) Die("/proc/self/environ");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) raw.append(buf, n);
  fclose(f);
  std::vector<std::string> vars;
  for (size_t start = 0; start < raw.size();) {
    size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    if (end > start) vars.push_back(raw.substr(start, end - start));
    start = end + 1;
  }
  std::vector<char*> env;
  for (std::string& v : vars) env.push_back(v.data());
  env.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    execve(argv[0], argv, env.data());
    Die(argv[0]);
  }
  return WaitChild(pid);
}

int RoundTrips(long n) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) Die("socketpair");
  pid_t pid = fork();
  if (pid < 0) Die("fork");
  char c = 'x';
  if (pid == 0) {
    close(sv[0]);
    while (read(sv[1], &c, 1) == 1) {
      if (write(sv[1], &c, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  close(sv[1]);
  for (long i = 0; i < n; ++i) {
    if (write(sv[0], &c, 1) != 1) Die("write");
    if (read(sv[0], &c, 1) != 1) Die("read");
  }
  close(sv[0]);
  return WaitChild(pid);
}

int Usage() {
  fprintf(stderr, "usage: ipcfault_probe connect N | connect-then-fork N M | fork CMD... | cd DIR CMD... | spawn PROG ARG... | "
                  "hammer P N | env | exit N | signal SIG | touch PATH | cat | "
                  "wait-term | round-trips N | count-ints | closes N | "
                  "connect-then-wait N | setuid UID CMD... | "
                  "spawn-proc-environ PROG ARG...\n");
  return 100;
}

int Main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string cmd = argv[1];
  if (cmd == "connect" && argc == 3) {
    Connects(atoi(argv[2]), false);
    return 0;
  }
  if (cmd == "fork" && argc >= 3) return Fork(argc - 1, argv + 1);
  if (cmd == "cd" && argc >= 4) {
    if (chdir(argv[2]) != 0) Die(argv[2]);
    return Main(argc - 2, argv + 2);
  }
  if (cmd == "connect-then-fork" && argc == 4) {
    Connects(atoi(argv[2]), false);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) Die("fork");
    if (pid == 0) {
      Connects(atoi(argv[3]), false);
      _exit(0);
    }
    return WaitChild(pid);
  }
  if (cmd == "spawn" && argc >= 3) return Spawn(argv + 2);
  if (cmd == "hammer" && argc == 4) return Hammer(atoi(argv[2]), atoi(argv[3]));
  if (cmd == "env" && argc == 2) {
    for (const char* name : {"LD_PRELOAD", "IPCFAULT_SCENARIO", "IPCFAULT_SCENARIO_FILE",
                             "IPCFAULT_SEED", "IPCFAULT_LOG", "IPCFAULT_SCOPE"}) {
      const char* value = getenv(name);
      printf("%s%s%s\n", name, value != nullptr ? "=" : " unset",
             value != nullptr ? value : "");
    }
    return 0;
  }
  if (cmd == "exit" && argc == 3) return atoi(argv[2]);
  if (cmd == "signal" && argc == 3) {
    int sig = atoi(argv[2]);
    signal(sig, SIG_DFL);
    kill(getpid(), sig);
    return 101;  // not reached for a fatal signal
  }
  if (cmd == "touch" && argc == 3) {
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) Die(argv[2]);
    close(fd);
    return 0;
  }
  if (cmd == "cat" && argc == 2) {
    char buf[4096];
    ssize_t n;
    while ((n = read(0, buf, sizeof(buf))) > 0) {
      if (write(1, buf, static_cast<size_t>(n)) != n) Die("write");
    }
    return 0;
  }
  if (cmd == "wait-term" && argc == 2) return WaitTerm();
  if (cmd == "count-ints" && argc == 2) return CountInts();
  if (cmd == "spawn-proc-environ" && argc >= 3) return SpawnWithProcEnviron(argv + 2);
  if (cmd == "closes" && argc == 3) return Closes(atol(argv[2]));
  if (cmd == "connect-then-wait" && argc == 3) {
    Connects(atoi(argv[2]), false);
    return WaitTerm();
  }
  if (cmd == "setuid" && argc >= 4) {
    gid_t gid = static_cast<gid_t>(atoi(argv[2]));
    uid_t uid = static_cast<uid_t>(atoi(argv[2]));
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
      Die("setuid");
    }
    return Main(argc - 2, argv + 2);
  }
  if (cmd == "round-trips" && argc == 3) return RoundTrips(atol(argv[2]));
  return Usage();
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
