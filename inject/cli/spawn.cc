#include "ipcfault/inject/cli/spawn.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ipcfault::cli {
namespace {

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// The controlling terminal, if this process's group is its foreground
// group (only then may the program's group take it over); else -1.
int ForegroundTerminal() {
  int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (tty < 0) return -1;
  if (tcgetpgrp(tty) != getpgrp()) {
    close(tty);
    return -1;
  }
  return tty;
}

// Makes `pgid` the foreground group of `tty`. A process outside the
// foreground group gets SIGTTOU for this unless it blocks it: the caller
// has it blocked (SIGTTOU is in the spawner's blocked set).
void GiveTerminal(int tty, pid_t pgid) {
  if (tty >= 0) tcsetpgrp(tty, pgid);
}

// The child's side of SpawnAndWait, between clone() and execve(). It shares
// the parent's memory (CLONE_VM) while the parent waits for its exec
// (CLONE_VFORK), so it does raw system calls only: no libc function that
// keeps state (errno aside, which only the waiting thread reads), no
// sanitizer interceptor (they keep per-thread state the parent owns), no
// allocation.
struct ChildPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  const int* inherit_fds;
  size_t inherit_count;
  int tty;               // the terminal to give the new group, or -1
  pid_t parent;
  bool chld_ignored;     // SIGCHLD was SIG_IGN before SpawnAndWait
  bool handlers_cleared;  // by clone3(CLONE_CLEAR_SIGHAND)
  sigset_t exec_mask;    // the mask the program starts with
  volatile int exec_errno;  // set by the child if execve fails
};

// The kernel's struct sigaction (rt_sigaction's), as on x86-64 and arm64;
// glibc's differs. Only SIG_DFL and SIG_IGN are set through it, which need
// no restorer.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};
#if !defined(__x86_64__) && !defined(__aarch64__)
#error "KernelSigaction: check the kernel's struct sigaction on this architecture"
#endif

constexpr size_t kKernelSigsetSize = sizeof(uint64_t);

__attribute__((no_sanitize("address", "thread", "undefined"))) [[noreturn]] void
ChildExit(int code) {
  for (;;) syscall(SYS_exit_group, code);
}

// Sets `sig`'s disposition to `handler` (SIG_DFL or SIG_IGN: no handler
// runs in the child), with the raw system call.
__attribute__((no_sanitize("address", "thread", "undefined"))) void SetDisposition(
    int sig, void (*handler)(int)) {
  KernelSigaction next;
  next.handler = handler;
  next.flags = 0;
  next.restorer = nullptr;
  next.mask = 0;
  syscall(SYS_rt_sigaction, sig, &next, nullptr, kKernelSigsetSize);
}

__attribute__((no_sanitize("address", "thread", "undefined"))) int SpawnChild(
    void* arg) {
  ChildPlan* plan = static_cast<ChildPlan*>(arg);
  // It dies with its parent, even one killed by SIGKILL; if the parent is
  // already gone, it does not start at all.
  syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (syscall(SYS_getppid) != plan->parent) ChildExit(128 + SIGKILL);
  // Its own process group, the terminal's foreground one: it is that before
  // it execs, and the parent resumes only after the exec, so there is no
  // window where the program could read the terminal from a background
  // group.
  syscall(SYS_setpgid, 0, 0);
  if (plan->tty >= 0) {
    pid_t self = static_cast<pid_t>(syscall(SYS_getpid));
    syscall(SYS_ioctl, plan->tty, TIOCSPGRP, &self);
  }
  // Every signal is blocked here (the parent blocked them all before the
  // clone). A handler of the parent's must not run in this child, which
  // shares its memory, once the program's mask is restored: set every
  // handled signal to SIG_DFL (exec would, a moment later); an ignored one
  // stays ignored, as exec keeps it. clone3's CLONE_CLEAR_SIGHAND did that
  // already, where the kernel has it; else a query per signal. SIGCHLD goes
  // back to what it was before the parent set SIG_DFL for its wait.
  for (int sig = 1; sig < 65 && !plan->handlers_cleared; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction current;
    if (syscall(SYS_rt_sigaction, sig, nullptr, &current, kKernelSigsetSize) != 0) {
      continue;
    }
    void (*want)(int) = current.handler;
    if (sig == SIGCHLD && plan->chld_ignored) {
      want = SIG_IGN;
    } else if (current.handler != SIG_IGN) {
      want = SIG_DFL;
    }
    if (want != current.handler) SetDisposition(sig, want);
  }
  if (plan->handlers_cleared && plan->chld_ignored) SetDisposition(SIGCHLD, SIG_IGN);
  for (size_t i = 0; i < plan->inherit_count; ++i) {
    int fd = plan->inherit_fds[i];
    long flags = syscall(SYS_fcntl, fd, F_GETFD);
    if (flags >= 0) syscall(SYS_fcntl, fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  // glibc's sigset_t begins with the kernel's 64-bit set.
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &plan->exec_mask, nullptr,
          kKernelSigsetSize);
  long rc = syscall(SYS_execve, plan->path, plan->argv, plan->envp);
  // syscall() returned -1 and set errno (the waiting thread's: harmless).
  (void)rc;
  plan->exec_errno = errno != 0 ? errno : ENOEXEC;
  ChildExit(127);
}

// clone3(2)'s argument (the kernel's struct clone_args, version 0).
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
};
constexpr uint64_t kCloneClearSighand = 0x100000000ULL;  // Linux 5.5

// Starts SpawnChild(plan) on `stack` as clone(CLONE_VM | CLONE_VFORK) does,
// with every signal handler reset in the child by the kernel
// (CLONE_CLEAR_SIGHAND): the child's pid, or -1 with errno set (ENOSYS
// where the kernel, or a seccomp filter, has no clone3). glibc wraps
// clone3 for its own use only, so the system call is made here, with the
// child's first instructions switching to its function on its new stack.
pid_t CloneClearingHandlers(char* stack, size_t stack_size, ChildPlan* plan) {
#if defined(__x86_64__) && defined(SYS_clone3)
  CloneArgs args = {};
  args.flags = CLONE_VM | CLONE_VFORK | kCloneClearSighand;
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<uint64_t>(stack);
  args.stack_size = stack_size;
  long ret;
  register int (*fn)(void*) asm("r8") = &SpawnChild;
  register ChildPlan* arg asm("r9") = plan;
  // In the child, the kernel has set the stack pointer to stack +
  // stack_size (16-byte aligned): call fn(arg) there, then exit_group with
  // its result (SpawnChild never returns). r8 and r9 survive the syscall.
  asm volatile(
      "syscall\n\t"
      "testq %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xorl %%ebp, %%ebp\n\t"
      "movq %%r9, %%rdi\n\t"
      "callq *%%r8\n\t"
      "movl %%eax, %%edi\n\t"
      "movl %[exit_group], %%eax\n\t"
      "syscall\n\t"
      "hlt\n\t"
      "1:\n\t"
      : "=a"(ret)
      : "0"(long{SYS_clone3}), "D"(&args), "S"(sizeof(args)), "r"(fn), "r"(arg),
        [exit_group] "i"(SYS_exit_group)
      : "rcx", "r11", "memory");
  if (ret < 0) {
    errno = static_cast<int>(-ret);
    return -1;
  }
  return static_cast<pid_t>(ret);
#else
  (void)stack;
  (void)stack_size;
  (void)plan;
  errno = ENOSYS;
  return -1;
#endif
}

// The child's stack (SpawnAndWait): kChildStackSize bytes, 64-byte
// aligned, ending kLiveFramesBelow bytes below this function's own frame.
// Called from the spawning function, its frame lies below all of that
// function's locals; the gap holds the frame that is live while the child
// runs, where this one was: CloneClearingHandlers' (its clone_args, in the
// red zone below its stack pointer perhaps) or glibc's clone, a few hundred
// bytes even unoptimized and under a sanitizer.
constexpr size_t kChildStackSize = 16384;
constexpr size_t kLiveFramesBelow = 2048;

__attribute__((noinline)) char* ChildStackBelowCaller() {
  uintptr_t top = reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) - kLiveFramesBelow;
  return reinterpret_cast<char*>((top - kChildStackSize) & ~uintptr_t{63});
}

}  // namespace

const std::vector<int>& ForwardedSignals() {
  static const std::vector<int>* const kSignals = new std::vector<int>{
      SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH};
  return *kSignals;
}

// No signal handlers: the forwarded signals and SIGCHLD are blocked and
// taken synchronously with sigwaitinfo(), so nothing runs in a signal
// context, and a sanitizer that defers handlers cannot delay a forward.
//
// The child is started as glibc's posix_spawn starts it (which cannot be
// used itself: it has no PR_SET_PDEATHSIG): clone3(CLONE_VM | CLONE_VFORK |
// CLONE_CLEAR_SIGHAND), or clone(CLONE_VM | CLONE_VFORK), on a stack of its
// own, so the parent's page tables are not copied (a
// fork of this process costs more than the exec that follows), and the
// parent resumes once the child has exec'd or exited; an exec failure's
// errno comes back through the memory they share.
absl::StatusOr<int> SpawnAndWait(const std::string& path,
                                 const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env,
                                 const SpawnOptions& options) {
  std::vector<char*> c_argv = CStrings(argv);
  std::vector<char*> c_env = CStrings(env);

  sigset_t waited, blocked, old_mask, all;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCHLD);
  // A signal this process ignores (nohup, a background job) stays ignored,
  // and the child inherits the ignoring.
  for (int sig : ForwardedSignals()) {
    struct sigaction current;
    sigaction(sig, nullptr, &current);
    if (current.sa_handler != SIG_IGN) sigaddset(&waited, sig);
  }
  // SIGTTOU and SIGTTIN blocked while this process hands the terminal over
  // and takes it back from outside the foreground group.
  blocked = waited;
  sigaddset(&blocked, SIGTTOU);
  sigaddset(&blocked, SIGTTIN);
  // With SIGCHLD ignored the kernel would reap the child itself, and its
  // exit status would be lost.
  struct sigaction old_chld, dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGCHLD, &dfl, &old_chld);
  // Everything blocked across the clone: no handler may run in the child
  // before it has reset them (SpawnChild). Then `blocked` on top of the
  // caller's mask while this thread waits.
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old_mask);

  ChildPlan plan;
  plan.path = path.c_str();
  plan.argv = c_argv.data();
  plan.envp = c_env.data();
  plan.inherit_fds = options.inherit_fds.data();
  plan.inherit_count = options.inherit_fds.size();
  plan.tty = ForegroundTerminal();
  plan.parent = getpid();
  plan.chld_ignored = old_chld.sa_handler == SIG_IGN;
  plan.exec_mask = old_mask;
  plan.exec_errno = 0;
  int tty = plan.tty;

  std::fflush(nullptr);
  // The child's stack: it makes system calls only. The part of this
  // thread's stack below the frames live across the clone (this function's,
  // the clone's own, with room to spare), as vfork(2) would lend it: the
  // child has it to itself while this thread is suspended in clone(), and
  // this thread's later calls reuse the pages it touched. A block of this
  // frame instead would push those calls 16 KB deeper, onto pages touched
  // for nothing else: each a page fault, at ~13 µs on a VM (docs/run.md).
  char* const child_stack = ChildStackBelowCaller();
  plan.handlers_cleared = true;
  pid_t child = CloneClearingHandlers(child_stack, kChildStackSize, &plan);
  if (child < 0 && (errno == ENOSYS || errno == EINVAL || errno == EPERM)) {
    // No clone3, or no CLONE_CLEAR_SIGHAND: the child resets the handlers.
    plan.handlers_cleared = false;
    child = clone(&SpawnChild, child_stack + kChildStackSize,
                  CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  }
  int clone_errno = errno;
  sigset_t wait_mask = old_mask;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&blocked, sig) == 1) sigaddset(&wait_mask, sig);
  }
  pthread_sigmask(SIG_SETMASK, &wait_mask, nullptr);

  absl::StatusOr<int> result;
  if (child < 0) {
    result = absl::ErrnoToStatus(clone_errno, "clone");
  } else {
    const int exec_errno = plan.exec_errno;
    int status = 0;
    pid_t waited_pid = 0;
    // The child has exec'd (or failed to, and exited): the parent resumes
    // only then. Its exec failure: reap it and say why.
    while (exec_errno != 0 &&
           (waited_pid = waitpid(child, &status, 0)) < 0 && errno == EINTR) {
    }
    for (;;) {
      if (exec_errno != 0) break;
      waited_pid = waitpid(child, &status, WNOHANG | WUNTRACED);
      if (waited_pid < 0 && errno == EINTR) continue;
      if (waited_pid > 0 && WIFSTOPPED(status)) {
        // Job control: the program stopped for the terminal (Ctrl-Z, or a
        // read or write from the background). Take the terminal back and
        // stop likewise, so the shell sees its job stop; when continued
        // (`fg`, `bg`), hand the terminal on if this process got it, and
        // continue the program. A plain SIGSTOP is someone else's business:
        // this process waits on.
        int stop = WSTOPSIG(status);
        if (stop == SIGTSTP || stop == SIGTTIN || stop == SIGTTOU) {
          GiveTerminal(tty, getpgrp());
          kill(getpid(), SIGSTOP);
          if (tty >= 0) close(tty);
          tty = ForegroundTerminal();
          GiveTerminal(tty, child);
          kill(-child, SIGCONT);
        }
        continue;
      }
      if (waited_pid != 0) break;
      siginfo_t info;
      int sig = sigwaitinfo(&waited, &info);
      if (sig < 0 || sig == SIGCHLD) continue;
      // Whoever sent it (another process, this process's group, the
      // kernel), it reached this process only: the program is in a group
      // of its own. Forward it once, to that group, unless the program
      // itself sent it.
      if (!(info.si_code <= 0 && info.si_pid == child)) {
        if (kill(-child, sig) != 0) kill(child, sig);
      }
    }
    if (exec_errno != 0) {
      result = absl::ErrnoToStatus(exec_errno, path);
    } else if (waited_pid < 0) {
      result = absl::ErrnoToStatus(errno, "waitpid");
    } else {
      result = status;
    }
  }
  GiveTerminal(tty, getpgrp());
  if (tty >= 0) close(tty);

  // A SIGCHLD still pending is ours and spent; drop it before unblocking.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  struct timespec zero = {0, 0};
  while (sigtimedwait(&chld, nullptr, &zero) == SIGCHLD) {
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGCHLD, &old_chld, nullptr);
  return result;
}

int ShellExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

}  // namespace ipcfault::cli
