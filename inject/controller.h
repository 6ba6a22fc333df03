// inject/controller.h
//
// Controller: changes the faults of a program that runs under
// `ipcfault run --control=PATH`, while it runs, from a test. The rules armed
// through it apply to every process of that run (children and exec'd
// descendants too) from their next interposed call; arming and disarming
// never block or wait for the program's calls.
//
// Reach for it when a test starts a server binary and wants it healthy, then
// failing for a while, then healthy again. For faults in the test's own
// process, use ipcfault::Arm (faults.h) instead.
//
//   // started: ipcfault run --control=$TEST_TMPDIR/ctl -- ./echo_server
//   IPCFAULT_ASSERT_OK_AND_ASSIGN(ipcfault::Controller control,
//                        ipcfault::Controller::Connect(socket_path));
//   IPCFAULT_ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> ids,
//                        control.Arm("accept:error=EMFILE"));
//   // ... clients fail: the server's accepts do ...
//   EXPECT_THAT(control.Wait(ids[0], /*fired=*/3, absl::Seconds(60)), IsOk());
//   EXPECT_THAT(control.Disarm(ids), IsOk());
//   // ... and it serves again.
//
// (IPCFAULT_ASSERT_OK_AND_ASSIGN and IsOk() are //testing:status_matchers', or your
// own; selftest/control_test.cc compiles and runs this example.)
//
// Every operation is one request on a fresh connection to the control
// socket; the protocol is documented in docs/control.md. Thread-compatible:
// a Controller is a path; copies may be used from different threads.

#ifndef IPCFAULT_INJECT_CONTROLLER_H_
#define IPCFAULT_INJECT_CONTROLLER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace ipcfault {

// One rule of a controlled run, as `List()` reports it. Counts are summed
// over every process of the run.
struct ControlledRule {
  uint32_t id = 0;       // from 1, in arming order; never reused in a run
  bool armed = false;    // false once disarmed (its counts stay readable)
  uint64_t matched = 0;  // calls that matched the rule while it was armed
  uint64_t fired = 0;    // times it fired
  std::string text;      // canonical text of the rule
};

class Controller {
 public:
  // Connects to the control socket at `path` and checks that a run answers.
  // Errors: NotFound (no such socket), Unavailable (the run has ended: no
  // one listens), PermissionDenied (another user's run), each naming `path`.
  static absl::StatusOr<Controller> Connect(std::string path);

  // Arms the rules of `scenario` (the scenario language, one rule a line),
  // all or none: atomically, after the rules already armed. Returns their
  // ids, in order. A malformed scenario arms nothing: InvalidArgument with
  // "SOURCE:LINE:COLUMN: what is wrong" (`source` names the text in
  // messages). `when=` counts from the moment of arming.
  absl::StatusOr<std::vector<uint32_t>> Arm(absl::string_view scenario,
                                            absl::string_view source = "scenario");

  // Disarms the rules `ids`, all or none (NotFound names an id that no rule
  // of the run has; disarming a disarmed rule is not an error).
  absl::Status Disarm(absl::Span<const uint32_t> ids);
  absl::Status DisarmAll();

  // Every rule armed in the run so far, armed or disarmed, by id.
  absl::StatusOr<std::vector<ControlledRule>> List();

  // Returns once rule `id` has fired at least `fired` times (the count), or
  // DeadlineExceeded after `timeout` (the message gives the count then).
  absl::StatusOr<uint64_t> Wait(uint32_t id, uint64_t fired, absl::Duration timeout);

  // The fires of the run so far: the fire log's JSON lines
  // (inject/internal/fire_log.h), oldest first.
  absl::StatusOr<std::string> Log();

  const std::string& path() const { return path_; }

 private:
  explicit Controller(std::string path) : path_(std::move(path)) {}

  // Sends `request`, returns the reply (its first line "ok..." checked, and
  // removed into `*head` if non-null).
  absl::StatusOr<std::string> Call(absl::string_view request, std::string* head = nullptr,
                                   absl::Duration timeout = absl::Seconds(30));

  std::string path_;
};

}  // namespace ipcfault

#endif  // IPCFAULT_INJECT_CONTROLLER_H_
