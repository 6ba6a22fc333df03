// inject/cli/control_server.h
//
// The hub side of `ipcfault run --control=PATH`: the control socket at PATH
// and the control region (inject/internal/control_region.h) shared by every
// process of the run. `ipcfault ctl` and ipcfault::Controller talk to the
// socket; the preload library in each process reads the region.
//
//   absl::StatusOr<std::unique_ptr<ControlServer>> control =
//       ControlServer::Create({.path = "/tmp/ctl", .run_id = run_id, ...});
//   (*control)->Arm(initial_rules, "-e");      // ids 1..n
//   env.push_back((*control)->EnvironmentEntry());
//   (*control)->Start();                       // serves on its own thread
//   ... SpawnAndWait(...) ...
//   std::string summary = (*control)->Summary();
//   control->reset();                          // stops, removes PATH
//
// The socket is created fresh (a PATH that exists is an error, never
// reused), mode 0600, and removed when the ControlServer is destroyed; a
// peer whose uid is not this process's is refused (SO_PEERCRED). The region
// is a memfd inherited by the program (IPCFAULT_CONTROL names it).
//
// Thread-compatible: Create, Arm, Start and the destructor from one thread;
// after Start() the serving thread is the region's only writer.

#ifndef IPCFAULT_INJECT_CLI_CONTROL_SERVER_H_
#define IPCFAULT_INJECT_CLI_CONTROL_SERVER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/internal/control_region.h"
#include "ipcfault/inject/rule.h"
#include "ipcfault/inject/cli/janitor.h"

namespace ipcfault::cli {

struct ControlOptions {
  std::string path;                // the socket to create
  std::string run_id;              // IPCFAULT_RUN_ID of the run (for `log`)
  std::string log;                 // the fire log's absolute path ("" none)
  uint64_t log_start = 0;          // where this run's lines begin in it
  std::optional<uint64_t> seed;    // the run's seed for p= rules without seed=
};

class ControlServer {
 public:
  // Creates the socket (listening, not yet served) and the region. Errors
  // name PATH: it exists, its directory is missing, it is too long.
  static absl::StatusOr<std::unique_ptr<ControlServer>> Create(ControlOptions options);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Arms `rules` after those armed, all or none; returns their ids. Before
  // Start(), or on the serving thread.
  absl::StatusOr<std::vector<uint32_t>> Arm(const std::vector<Rule>& rules);

  // "IPCFAULT_CONTROL=FD:INODE:PID", for the program's environment.
  std::string EnvironmentEntry() const;

  // Serves the socket on a thread of its own (all signals blocked in it).
  absl::Status Start();

  // After the program has exited: one line per rule of the run, as
  // `ipcfault run` prints them ("ipcfault: rule 1 TEXT: fired 3 times (1
  // process)"): the fires counted in the region (exact), the processes
  // from this run's lines of the fire log, if it keeps one. Stops serving
  // first.
  std::string Summary();

  // The region's descriptor (close-on-exec: the spawner makes the
  // program's copy inheritable).
  int region_fd() const { return region_fd_; }

  // Stops serving (the socket stays until destruction). Idempotent.
  void Stop();

 private:
  struct Connection;
  explicit ControlServer(ControlOptions options) : options_(std::move(options)) {}

  void Serve();
  // Handles one request; returns the reply, or nullopt to keep the
  // connection pending (`wait`).
  std::optional<std::string> Handle(Connection& connection);
  std::string ArmRequest(absl::string_view source, absl::string_view text);
  std::string DisarmRequest(absl::string_view args);
  std::string ListReply() const;
  std::string LogReply() const;
  std::string LogText() const;  // this run's part of the fire log
  void PublishLocked();
  std::optional<uint64_t> RunSeed();

  ControlOptions options_;
  int listen_fd_ = -1;
  int region_fd_ = -1;
  int wake_[2] = {-1, -1};
  bool created_socket_ = false;
  // Removes the socket file if ipcfault is killed (janitor.h).
  std::unique_ptr<Janitor> janitor_;
  inject_internal::ControlRegion* region_ = nullptr;
  std::vector<uint32_t> armed_;     // ids, in arming order
  uint32_t next_id_ = 1;
  std::optional<uint64_t> seed_;
  std::thread thread_;
};

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_CONTROL_SERVER_H_
