// A janitor: a small process that outlives the `ipcfault` command by a
// moment and removes what the command would have removed itself, had it not
// been killed (SIGKILL, a crash, the OOM killer).
//
// The command cleans up after itself on every path it controls: a normal
// exit, an error, SIGINT/SIGTERM/SIGHUP. Only a death it cannot see coming
// leaves things behind: the `--control` socket file, a sweep's work
// directory, the process groups of the runs a sweep has under way. The
// janitor is forked first thing (while the command has one thread) and
// holds one end of a socket pair; the command tells it, message by message,
// what to remove if it dies, and what it has removed itself. When the
// command's end closes without a goodbye (the kernel closes it, whatever the
// command died of), the janitor removes what is still registered and exits.
// On a normal exit the command says goodbye and reaps the janitor, so no
// zombie and no process outlives the command.
//
//   absl::StatusOr<std::unique_ptr<Janitor>> janitor = Janitor::Start();
//   if (!janitor.ok()) return Fail(janitor.status());
//   (*janitor)->RemoveSocketOnDeath(path);   // after bind()
//   ...
//   unlink(path); (*janitor)->Forget(...)    // or just let ~Janitor() run
//
// The command's end of the pair is close-on-exec: a child the command forks
// and that execs drops it. A child that forks and does not exec must close
// it too (close_range), or the janitor cannot see the command die.
//
// The janitor runs in a session of its own (setsid), so a signal sent to
// the command's process group or typed at its terminal does not reach it,
// and it keeps no fd of the command's but its end of the pair.
//
// Thread-safe after Start(): each message is one datagram of a
// SOCK_SEQPACKET pair, so messages from several threads never interleave.

#ifndef IPCFAULT_INJECT_CLI_JANITOR_H_
#define IPCFAULT_INJECT_CLI_JANITOR_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ipcfault::cli {

class Janitor {
 public:
  // Forks the janitor. Call it while the process has a single thread: the
  // child runs ordinary code until it exits.
  static absl::StatusOr<std::unique_ptr<Janitor>> Start();

  // Says goodbye (nothing to remove) and reaps the janitor.
  ~Janitor();

  Janitor(const Janitor&) = delete;
  Janitor& operator=(const Janitor&) = delete;

  // If the command dies, unlink `path`, but only if it is still the same
  // file (device and inode as now): a path the user has since reused is
  // left alone. Fails if `path` cannot be stat'ed.
  absl::Status RemoveFileOnDeath(const std::string& path);
  // If the command dies, remove the directory tree at `path`.
  void RemoveTreeOnDeath(const std::string& path);
  // If the command dies, SIGKILL process group `pgid`.
  void KillGroupOnDeath(pid_t pgid);
  // Undo one of the above: the command has removed the file or tree, or
  // reaped the group, itself.
  void ForgetFile(const std::string& path);
  void ForgetTree(const std::string& path);
  void ForgetGroup(pid_t pgid);

  pid_t pid() const { return pid_; }

 private:
  Janitor(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  void Send(char kind, const std::string& payload);

  pid_t pid_;
  int fd_;
};

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_JANITOR_H_
