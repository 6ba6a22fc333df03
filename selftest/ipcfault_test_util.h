// selftest/ipcfault_test_util.h
//
// What the end-to-end tests of `ipcfault` share: the binaries in the
// runfiles, a child process with its stdin/stdout/stderr on pipes, a
// per-test temporary directory, and a strict reader of the fire log's JSON
// lines (checked against the format fire_log.h documents, independently of
// the tool's own parser).
//
//   Result r = RunIpcfault({"run", "-e", "connect:error=EPERM", "--", prog});
//   EXPECT_EQ(r.exit_code(), 0) << r;
//   std::vector<LogLine> lines = ParseLog(ReadFile(log));
//
// Thread-compatible.

#ifndef IPCFAULT_SELFTEST_IPCFAULT_TEST_UTIL_H_
#define IPCFAULT_SELFTEST_IPCFAULT_TEST_UTIL_H_

#include <sys/types.h>
#include <sys/wait.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace ipcfault::selftest {

// The runfile at `path` (workspace-relative) of the running test.
std::string Runfile(absl::string_view path);

// //:ipcfault and //inject:libipcfault_preload.so in the runfiles.
const std::string& IpcfaultBinary();
const std::string& PreloadLibrary();

// `more`, plus the environment that preloads the library directly, without
// `ipcfault run` (which adds the same ASAN_OPTIONS: under --config=asan a
// program's ASan runtime otherwise refuses a library preloaded ahead of it).
std::vector<std::string> PreloadEnv(std::vector<std::string> more);

struct Result {
  int status = -1;  // wait status
  std::string out;
  std::string err;

  int exit_code() const {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
  }
};

std::ostream& operator<<(std::ostream& os, const Result& r);

// A child process with its stdin, stdout and stderr on pipes. The destructor
// kills and reaps it if Finish() did not.
class Child {
 public:
  // `env` entries "NAME=value" replace or add to this process's environment;
  // "NAME" alone removes NAME.
  explicit Child(const std::vector<std::string>& argv,
                 const std::vector<std::string>& env = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void Write(absl::string_view data);
  void CloseStdin();
  // Reads stdout until it holds `text`; false on EOF or after a 60 s bound.
  bool WaitForStdout(absl::string_view text);
  // Stdout read so far (WaitForStdout).
  const std::string& out() const { return result_.out; }
  // Reads stdout and stderr to EOF and reaps the child. The 120 s bound is
  // never reached by a passing test; past it the child is killed.
  Result Finish();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  Result result_;
};

// Runs argv to completion (see Child for `env`).
Result RunProgram(const std::vector<std::string>& argv,
                  const std::vector<std::string>& env = {});

// `ipcfault ARGS...`
Result RunIpcfault(std::vector<std::string> args,
                   const std::vector<std::string>& env = {});

std::string ReadFile(const std::string& path);
bool Exists(const std::string& path);

// Waits until `path` no longer exists (inotify on its directory: no
// polling), at most `timeout_ms`. True if it is gone.
bool WaitUntilRemoved(const std::string& path, int timeout_ms);

// A fresh directory under $TEST_TMPDIR for each test.
class TempDirTest : public testing::Test {
 protected:
  void SetUp() override;
  std::string Path(absl::string_view name) const;
  // Writes `content` to Path(name) and returns that path.
  std::string WriteFile(absl::string_view name, absl::string_view content) const;

  std::string dir_;
};

// One line of the fire log, checked field by field against the documented
// format (inject/internal/fire_log.h), independently of the tool's parser.
struct LogLine {
  int64_t pid, tid, rule, fd;
  uint64_t ordinal;
  std::string time, call, rule_text, action, errno_name;
  std::string run;  // IPCFAULT_RUN_ID of the `ipcfault run` (empty: preloaded by hand)
};

// One line, or nullopt if it is not exactly a record.
std::optional<LogLine> ParseLogLine(const std::string& line);

// Every line of `log`; a line that is not a record fails the test.
std::vector<LogLine> ParseLog(const std::string& log);

}  // namespace ipcfault::selftest

#endif  // IPCFAULT_SELFTEST_IPCFAULT_TEST_UTIL_H_
