// examples/signal_counter.h
//
// SignalCounter: installs a counting handler for one signal (without
// SA_RESTART, so a blocking call it interrupts fails with EINTR) for the
// life of the object, then restores the previous disposition. For tests that
// deliver a real signal with a `signal=` rule and check the handler ran.
//
//   ipcfault::examples::SignalCounter usr1(SIGUSR1);
//   auto faults = ipcfault::Arm("read:signal=SIGUSR1:error=EINTR:when=1");
//   ... the code under test retries the interrupted read ...
//   EXPECT_EQ(usr1.count(), 1);
//
// Test-only. One SignalCounter per signal at a time (the count is per
// signal, process-wide); the handler is async-signal-safe.

#ifndef IPCFAULT_EXAMPLES_SIGNAL_COUNTER_H_
#define IPCFAULT_EXAMPLES_SIGNAL_COUNTER_H_

#include <signal.h>
#include <string.h>

#include <atomic>

namespace ipcfault::examples {

class SignalCounter {
 public:
  explicit SignalCounter(int sig) : sig_(sig) {
    Counts()[sig_].store(0);
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = &SignalCounter::Handle;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: interrupted calls fail with EINTR
    installed_ = sigaction(sig_, &action, &previous_) == 0;
  }
  ~SignalCounter() {
    if (installed_) sigaction(sig_, &previous_, nullptr);
  }
  SignalCounter(const SignalCounter&) = delete;
  SignalCounter& operator=(const SignalCounter&) = delete;

  bool installed() const { return installed_; }
  int count() const { return Counts()[sig_].load(); }

 private:
  static std::atomic<int>* Counts() {
    static std::atomic<int> counts[NSIG];
    return counts;
  }
  static void Handle(int sig) { Counts()[sig].fetch_add(1); }

  const int sig_;
  bool installed_ = false;
  struct sigaction previous_;
};

}  // namespace ipcfault::examples

#endif  // IPCFAULT_EXAMPLES_SIGNAL_COUNTER_H_
