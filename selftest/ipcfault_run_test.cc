// selftest/ipcfault_run_test.cc
//
// End-to-end tests of the `ipcfault` command and the preload library: real
// processes (//selftest:ipcfault_probe prints what its calls returned), real
// exit statuses, a real fire log.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/selftest/ipcfault_test_util.h"

extern char** environ;

namespace ipcfault {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;
using selftest::Child;
using selftest::Exists;
using selftest::LogLine;
using selftest::ParseLog;
using selftest::PreloadEnv;
using selftest::ReadFile;
using selftest::Result;
using selftest::RunIpcfault;
using selftest::RunProgram;
using selftest::Runfile;
using selftest::TempDirTest;

const std::string& Probe() {
  static const std::string* path =
      new std::string(Runfile("selftest/ipcfault_probe"));
  return *path;
}

class IpcfaultTest : public TempDirTest {};

// "connect 1: pid=P fd=F ok" -> {P, F, "ok"}
struct ConnectLine {
  int pid, fd;
  std::string outcome;
};

std::vector<ConnectLine> ConnectLines(const std::string& out) {
  std::vector<ConnectLine> lines;
  static const std::regex* const kLine =
      new std::regex(R"(connect \d+: pid=(\d+) fd=(\d+) ([A-Z0-9]+|ok))");
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    std::string s(line);
    std::smatch m;
    if (std::regex_match(s, m, *kLine)) {
      lines.push_back({std::stoi(m[1]), std::stoi(m[2]), m[3]});
    }
  }
  return lines;
}

std::vector<std::string> Outcomes(const std::string& out) {
  std::vector<std::string> outcomes;
  for (const ConnectLine& line : ConnectLines(out)) outcomes.push_back(line.outcome);
  return outcomes;
}

// ---------------------------------------------------------------------------
// Help and usage errors.

TEST_F(IpcfaultTest, HelpForTheToolAndEachCommand) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"help"}}) {
    Result r = RunIpcfault(args);
    EXPECT_EQ(r.exit_code(), 0) << r;
    EXPECT_THAT(r.out, StartsWith("Usage: ipcfault COMMAND")) << r;
    EXPECT_THAT(r.out, HasSubstr("  run  "));
    EXPECT_THAT(r.err, IsEmpty());
  }
  for (std::string command : {"run", "check", "calls"}) {
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {command, "--help"}, {command, "-h"}, {"help", command}}) {
      Result r = RunIpcfault(args);
      EXPECT_EQ(r.exit_code(), 0) << r;
      EXPECT_THAT(r.out, StartsWith(absl::StrCat("Usage: ipcfault ", command, " ")))
          << r;
      EXPECT_THAT(r.out, HasSubstr("Exit status"));
    }
  }
  Result r = RunIpcfault({"run", "--help"});
  for (const char* option : {"--rule", "--scenario", "--seed", "--log", "--scope",
                             "--quiet"}) {
    EXPECT_THAT(r.out, HasSubstr(option));
  }
}

struct UsageCase {
  std::vector<std::string> args;
  std::string message;
};

TEST_F(IpcfaultTest, UsageErrorsExit2WithAClearMessage) {
  const std::vector<UsageCase> cases = {
      {{}, "Usage: ipcfault COMMAND"},
      {{"frobnicate"}, "ipcfault: unknown command 'frobnicate'"},
      {{"--frobnicate"}, "ipcfault: unknown option '--frobnicate'"},
      {{"help", "frobnicate"}, "unknown command 'frobnicate'"},
      {{"run"}, "ipcfault run: missing '--' and the program"},
      {{"run", "-e", "connect:error=EPERM", Probe(), "exit", "0"},
       "ipcfault run: missing '--' before the program '" + Probe() + "'"},
      {{"run", "-e", "connect:error=EPERM", "--"},
       "ipcfault run: no program given after '--'"},
      {{"run", "--frobnicate", "--", Probe()},
       "ipcfault run: unknown option '--frobnicate'"},
      {{"run", "--scope", "most", "--", Probe()}, "invalid scope 'most'"},
      {{"run", "--seed", "x", "--", Probe()}, "invalid seed 'x'"},
      {{"run", "-e"}, "option '-e' requires an argument"},
      {{"check"}, "ipcfault check: no scenario file or rule given"},
      {{"check", "-e"}, "ipcfault check: option '-e' requires an argument"},
      {{"check", "--frobnicate"}, "ipcfault check: unknown option '--frobnicate'"},
      {{"calls", "frobnicate"}, "ipcfault calls: unknown call 'frobnicate'"},
      {{"calls", "%frobnicate"}, "ipcfault calls: unknown call set '%frobnicate'"},
  };
  for (const UsageCase& c : cases) {
    Result r = RunIpcfault(c.args);
    EXPECT_EQ(r.exit_code(), 2) << r;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << r;
    EXPECT_THAT(r.out, IsEmpty()) << r;
  }
}

// ---------------------------------------------------------------------------
// ipcfault check, ipcfault calls

TEST_F(IpcfaultTest, CheckPrintsCanonicalFormThatChecksAgain) {
  std::string good = WriteFile("good.scenario",
                               "# a comment\n"
                               "\n"
                               "inject=connect:error=ECONNREFUSED:when=1\n"
                               "accept:error=EMFILE:when=3   # trailing\n");
  Result r = RunIpcfault({"check", good});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.err, IsEmpty());
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << r;
  EXPECT_THAT(lines[0], HasSubstr("connect"));
  EXPECT_THAT(lines[0], HasSubstr("ECONNREFUSED"));
  EXPECT_THAT(lines[1], HasSubstr("EMFILE"));
  // Canonical is a fixed point.
  std::string canonical = WriteFile("canonical.scenario", r.out);
  Result again = RunIpcfault({"check", canonical});
  EXPECT_EQ(again.exit_code(), 0) << again;
  EXPECT_EQ(again.out, r.out);
}

TEST_F(IpcfaultTest, CheckReportsFileLineColumnAndExits1) {
  std::string good = WriteFile("good.scenario", "connect:error=ECONNREFUSED\n");
  std::string bad = WriteFile("bad.scenario",
                              "connect:error=ECONNREFUSED\n"
                              "accept:error=ECONNREFUSE\n");
  Result r = RunIpcfault({"check", good, bad, Path("missing.scenario")});
  EXPECT_EQ(r.exit_code(), 1) << r;
  EXPECT_THAT(r.err, MatchesRegex(absl::StrCat(
                         "(.|\n)*", bad, ":2:[0-9]+: [^\n]*ECONNREFUSE(.|\n)*")))
      << r;
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat(Path("missing.scenario"),
                                            ": No such file or directory")));
  // The good file is still printed, headed by its name.
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("# ", good, "\n")));
  EXPECT_THAT(r.out, Not(HasSubstr(bad)));
}

// Rules given with -e are checked as `run -e` reads them: errors say
// -e:LINE:COLUMN, and the canonical form is printed.
TEST_F(IpcfaultTest, CheckTakesRulesWithE) {
  Result r = RunIpcfault({"check", "-e", "inject=connect:error=ECONNREFUSED:when=2+",
                          "--rule=accept4:error=EMFILE"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_EQ(r.out,
            "# -e\nconnect:error=ECONNREFUSED:when=2+\n"
            "# -e\naccept4:error=EMFILE\n") << r;
  Result bad = RunIpcfault({"check", "-e", "connect:error=ECONNREFUSE"});
  EXPECT_EQ(bad.exit_code(), 1) << bad;
  EXPECT_THAT(bad.err, HasSubstr("-e:1:15: ")) << bad;
  EXPECT_THAT(bad.err, HasSubstr("ECONNREFUSE")) << bad;
  EXPECT_THAT(bad.out, IsEmpty()) << bad;
}

TEST_F(IpcfaultTest, CheckReadsStdin) {
  Child child({selftest::IpcfaultBinary(), "check", "-"});
  child.Write("# from a pipe\nkill:error=EPERM:sig=SIGTERM\n");
  Result r = child.Finish();
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.out, HasSubstr("kill:error=EPERM")) << r;

  Child bad({selftest::IpcfaultBinary(), "check", "-"});
  bad.Write("kill:error=EPERM\nkill:sig=SIGNOPE\n");
  r = bad.Finish();
  EXPECT_EQ(r.exit_code(), 1) << r;
  EXPECT_THAT(r.err, StartsWith("<stdin>:2:")) << r;
}

TEST_F(IpcfaultTest, CallsListsEveryCallOfTheTable) {
  Result r = RunIpcfault({"calls"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  for (const CallInfo& info : AllCalls()) {
    EXPECT_THAT(r.out, MatchesRegex(absl::StrCat("(.|\n)*\n", info.name, " +%(.|\n)*")))
        << info.name;
  }
  for (const char* set : {"%net", "%io", "%signal", "%process"}) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("  ", set, " ")));
  }
  EXPECT_THAT(r.out, HasSubstr("ECONNREFUSED"));
  EXPECT_THAT(r.out, HasSubstr("EAI_AGAIN"));

  Result one = RunIpcfault({"calls", "accept"});
  ASSERT_EQ(one.exit_code(), 0) << one;
  EXPECT_THAT(one.out, HasSubstr("\naccept "));
  EXPECT_THAT(one.out, HasSubstr("EMFILE"));
  EXPECT_THAT(one.out, Not(HasSubstr("\nconnect ")));
}

// ---------------------------------------------------------------------------
// Bad rules: nothing runs.

TEST_F(IpcfaultTest, RuleThatDoesNotParseExits2AndRunsNothing) {
  std::string marker = Path("marker");
  Result r = RunIpcfault({"run", "-e", "inject=connect:error=ECONNREFUSE:when=1",
                       "--", Probe(), "touch", marker});
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, StartsWith("-e:1:")) << r;
  EXPECT_THAT(r.err, HasSubstr("ECONNREFUSE")) << r;
  EXPECT_FALSE(Exists(marker));

  // strace's other qualifiers are not rules.
  r = RunIpcfault({"run", "-e", "trace=connect", "-e",
                   "inject=connect:error=ECONNREFUSED", "--", Probe(), "touch", marker});
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, StartsWith("-e:1:1: strace's -e trace= has no meaning for ipcfault"))
      << r;
  EXPECT_FALSE(Exists(marker));

  std::string scenario = WriteFile("bad.scenario",
                                   "connect:error=ECONNREFUSED:when=1\n"
                                   "accept:frobnicate=1\n");
  r = RunIpcfault({"run", "--scenario", scenario, "--", Probe(), "touch", marker});
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, StartsWith(absl::StrCat(scenario, ":2:"))) << r;
  EXPECT_FALSE(Exists(marker));

  r = RunIpcfault({"run", "-s", Path("missing"), "--", Probe(), "touch", marker});
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, HasSubstr("No such file or directory")) << r;
  EXPECT_FALSE(Exists(marker));
}

TEST_F(IpcfaultTest, PreloadStopsTheProgramBeforeMainOnABadScenario) {
  std::string marker = Path("marker");
  Result r = RunProgram({Probe(), "touch", marker},
                 PreloadEnv({"IPCFAULT_SCENARIO=connect:error=ECONNREFUSED\nread:when=0..x\n"}));
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, StartsWith("IPCFAULT_SCENARIO:2:")) << r;
  EXPECT_THAT(r.err, HasSubstr("not running")) << r;
  EXPECT_FALSE(Exists(marker));

  // As docs/run.md shows it.
  r = RunProgram({Probe(), "touch", marker},
                 PreloadEnv({"IPCFAULT_SCENARIO=connect:error=ECONNREFUSE"}));
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, StartsWith("IPCFAULT_SCENARIO:1:15: unknown errno 'ECONNREFUSE'; "
                                "did you mean ECONNREFUSED?\n"
                                "ipcfault: not running "))
      << r;

  std::string scenario = WriteFile("bad.scenario", "\n\nkill:error=EBOGUS\n");
  r = RunProgram({Probe(), "touch", marker},
          PreloadEnv({"IPCFAULT_SCENARIO_FILE=" + scenario}));
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, StartsWith(absl::StrCat(scenario, ":3:"))) << r;
  EXPECT_FALSE(Exists(marker));

  r = RunProgram({Probe(), "touch", marker},
          PreloadEnv({"IPCFAULT_SCENARIO_FILE=" + Path("none")}));
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, HasSubstr("No such file or directory")) << r;
  EXPECT_FALSE(Exists(marker));

  r = RunProgram({Probe(), "touch", marker},
          PreloadEnv({"IPCFAULT_SCENARIO=connect:error=EPERM",
           "IPCFAULT_SCOPE=everyone"}));
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, HasSubstr("IPCFAULT_SCOPE=everyone")) << r;
  EXPECT_FALSE(Exists(marker));
}

// ---------------------------------------------------------------------------
// Exit statuses, signals, stdio.

TEST_F(IpcfaultTest, ExitStatusPassesThrough) {
  for (int code : {0, 1, 3, 42, 255}) {
    Result r = RunIpcfault({"run", "-e", "accept:error=EMFILE", "--", Probe(), "exit",
                         absl::StrCat(code)});
    EXPECT_EQ(r.exit_code(), code) << r;
    EXPECT_TRUE(WIFEXITED(r.status));
    EXPECT_THAT(r.err, HasSubstr(absl::StrCat("exited with status ", code))) << r;
  }
}

TEST_F(IpcfaultTest, SignalDeathIs128PlusSignal) {
  for (int sig : {SIGTERM, SIGKILL, SIGSEGV}) {
    Result r = RunIpcfault({"run", "-e", "accept:error=EMFILE", "--", Probe(),
                         "signal", absl::StrCat(sig)});
    EXPECT_EQ(r.exit_code(), 128 + sig) << r;
    EXPECT_TRUE(WIFEXITED(r.status)) << "ipcfault itself must exit, not die";
    EXPECT_THAT(r.err, HasSubstr(absl::StrCat("was killed by SIG", sigabbrev_np(sig))))
        << r;
  }
}

// A real-time signal is named as the scenario language writes it
// (names.h), not as a bare number.
TEST_F(IpcfaultTest, RealTimeSignalDeathIsNamed) {
  const int sig = SIGRTMIN + 3;
  Result r = RunIpcfault({"run", "-e", "accept:error=EMFILE", "--", Probe(), "signal",
                          absl::StrCat(sig)});
  EXPECT_EQ(r.exit_code(), 128 + sig) << r;
  EXPECT_THAT(r.err, HasSubstr("was killed by SIGRTMIN+3")) << r;
}

TEST_F(IpcfaultTest, StdinAndStdoutPassThrough) {
  Child child({selftest::IpcfaultBinary(), "run", "-q", "--", Probe(), "cat"});
  child.Write("hello, through ipcfault\n");
  Result r = child.Finish();
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_EQ(r.out, "hello, through ipcfault\n");
  EXPECT_THAT(r.err, IsEmpty()) << "-q prints no summary";
}

TEST_F(IpcfaultTest, TerminationSignalIsForwardedToTheProgram) {
  Child child({selftest::IpcfaultBinary(), "run", "--", Probe(), "wait-term"});
  ASSERT_TRUE(child.WaitForStdout("ready\n"));
  ASSERT_EQ(kill(child.pid(), SIGTERM), 0);  // to ipcfault, not the program
  Result r = child.Finish();
  EXPECT_EQ(r.exit_code(), 7) << r;  // the program's SIGTERM handler ran
}

TEST_F(IpcfaultTest, ProgramNotFoundOrNotExecutable) {
  Result r = RunIpcfault({"run", "--", Path("no-such-program")});
  EXPECT_EQ(r.exit_code(), 127) << r;
  EXPECT_THAT(r.err, HasSubstr("no-such-program")) << r;
  r = RunIpcfault({"run", "--", "ipcfault-no-such-command"}, {"PATH=" + dir_});
  EXPECT_EQ(r.exit_code(), 127) << r;
  EXPECT_THAT(r.err, HasSubstr("ipcfault-no-such-command: command not found")) << r;
  std::string text = WriteFile("text", "not a program\n");
  chmod(text.c_str(), 0755);
  r = RunIpcfault({"run", "--", text});
  EXPECT_EQ(r.exit_code(), 126) << r;
  EXPECT_THAT(r.err, HasSubstr("not an ELF executable")) << r;
}

TEST_F(IpcfaultTest, StaticallyLinkedProgramIsRefused) {
  std::string program = Runfile("selftest/static_probe");
  std::string marker = Path("marker");
  Result r = RunIpcfault({"run", "-e", "connect:error=ECONNREFUSED", "--", program,
                       marker});
  EXPECT_EQ(r.exit_code(), 2) << r;
  EXPECT_THAT(r.err, HasSubstr("is statically linked")) << r;
  EXPECT_FALSE(Exists(marker)) << "it must not run without faults";
  // The program itself runs fine: the refusal is ipcfault's.
  r = RunProgram({program, marker});
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_TRUE(Exists(marker));
}

// Issue 14: refused exactly where the loader would ignore LD_PRELOAD. Root
// running a program with file capabilities is not in secure-execution
// mode: the faults reach it.
TEST_F(IpcfaultTest, RootRunsAProgramWithFileCapabilitiesWithFaults) {
  if (getuid() != 0) GTEST_SKIP() << "root's case; a user's is unit-tested";
  std::string copy = Path("probe_with_caps");
  Result cp = RunProgram({"/bin/cp", Probe(), copy});
  ASSERT_EQ(cp.exit_code(), 0) << cp;
  vfs_cap_data caps = {};
  caps.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  caps.data[0].permitted = 1u << CAP_NET_BIND_SERVICE;
  if (setxattr(copy.c_str(), "security.capability", &caps, XATTR_CAPS_SZ_2, 0) != 0) {
    GTEST_SKIP() << "cannot set file capabilities here: " << strerror(errno);
  }
  Result r = RunIpcfault({"run", "-e", "connect:error=ECONNREFUSED:when=1", "--", copy,
                          "connect", "2"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ECONNREFUSED", "ok")) << r;
}

// Issue 14: a descendant that execs a program the preload library cannot
// enter is named once in the run's output.
TEST_F(IpcfaultTest, ExecOfAStaticGrandchildIsNamed) {
  std::string program = Runfile("selftest/static_probe");
  std::string marker = Path("marker");
  Result r = RunIpcfault({"run", "-e", "connect:error=ECONNREFUSED", "--", Probe(),
                          "spawn", program, marker});
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_TRUE(Exists(marker)) << "it ran";
  EXPECT_THAT(r.err, HasSubstr("1 program exec'd during the run cannot load the "
                               "preload library and ran without faults; the "
                               "first: " + program + " (statically linked)"))
      << r;
  // -q too: faults went missing.
  r = RunIpcfault({"run", "-q", "-e", "connect:error=ECONNREFUSED", "--", Probe(),
                   "spawn", program, marker});
  EXPECT_THAT(r.err, HasSubstr("(statically linked)")) << r;
  // A dynamic grandchild draws no such note.
  r = RunIpcfault({"run", "-e", "connect:error=ECONNREFUSED", "--", Probe(), "spawn",
                   Probe(), "exit", "0"});
  EXPECT_THAT(r.err, Not(HasSubstr("cannot load the preload library"))) << r;
}

TEST_F(IpcfaultTest, PreloadedByHandSaysItOnStderr) {
  std::string program = Runfile("selftest/static_probe");
  std::string marker = Path("marker");
  Result r = RunProgram({Probe(), "spawn", program, marker},
                        PreloadEnv({"IPCFAULT_SCENARIO=connect:error=EPERM"}));
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.err, HasSubstr("ipcfault: warning: " + program +
                               " (statically linked) runs without faults"))
      << r;
}

// Issue 14: the preload library keeps to its own code in a program that
// exports its own copy of the same symbols (Abseil's, ipcfault's).
// Issue 14: with nothing to inject (no IPCFAULT_* variable, or `ipcfault run`
// with no rule) the library's start-up allocates nothing: libstdc++'s
// exception pool (internal/preload_eh_alloc.cc), the failed lookups of other
// ipcfault copies (bypass.h) and copies of the environment's strings each
// called malloc before the program's main(), and a first malloc costs a
// program that would not have called it yet system calls and page faults.
TEST_F(IpcfaultTest, UnconfiguredLibraryAllocatesNothingBeforeMain) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's allocator takes the place of the C library's";
#endif
  const std::string probe = Runfile("selftest/heap_probe");
  Result plain = RunProgram({probe}, {});
  ASSERT_EQ(plain.exit_code(), 0) << plain;
  // The probe's own start allocates nothing, or this test shows nothing.
  ASSERT_EQ(plain.out, "0\n") << plain;
  Result preloaded = RunProgram({probe}, PreloadEnv({}));
  EXPECT_EQ(preloaded.exit_code(), 0) << preloaded;
  EXPECT_EQ(preloaded.out, "0\n") << preloaded;
  Result run = RunIpcfault({"run", "-q", "--", probe});
  EXPECT_EQ(run.exit_code(), 0) << run;
  EXPECT_EQ(run.out, "0\n") << run;
}

TEST_F(IpcfaultTest, ProgramsOwnCopyOfTheLibrarysSymbolsIsNotCalled) {
  Result r = RunIpcfault({"run", "-e", "connect:error=ENETDOWN:when=1", "--",
                          Runfile("selftest/own_symbols_probe")});
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_EQ(r.out, "connect: ENETDOWN\n") << r;
  EXPECT_THAT(r.err, Not(HasSubstr("the program's own"))) << r;
}

// Issue 14: bash defines its own setenv and getenv; the library's setenv of
// IPCFAULT_LOG, made before bash's main(), went to bash's, after which
// bash's getenv no longer saw IPCFAULT_COUNTS, and the fire bash's own
// connect made was logged but not counted ("never fired").
TEST_F(IpcfaultTest, BashsOwnConnectIsCountedWithALog) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizer-built preload library cannot load into bash";
#endif
  std::string log = Path("fires.log");
  Result r = RunIpcfault({"run", "-e", "connect:error=ENETUNREACH", "--log", log, "--",
                          "/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9"});
  EXPECT_EQ(r.exit_code(), 1) << r;
  EXPECT_THAT(r.err, HasSubstr("Network is unreachable")) << r;
  EXPECT_THAT(r.err, HasSubstr("rule 0 connect:error=ENETUNREACH: fired 1 time (1 process)"))
      << r;
  EXPECT_EQ(ParseLog(ReadFile(log)).size(), 1u);
}

// Issue 14: a log on a descriptor the program also writes to (its stdout,
// `>out 3>&1`) is written through that descriptor, so the program's own
// writes do not overwrite the fire lines (they did when the library opened
// /dev/fd/3 again, with an offset of its own).
TEST_F(IpcfaultTest, LogOnTheProgramsStdoutKeepsEveryLineWhole) {
  std::string out = Path("out");
  Result r = RunProgram(
      {"/bin/sh", "-c",
       absl::StrCat("exec '", selftest::IpcfaultBinary(), "' run -q -e connect:error=ENETUNREACH ",
                    "--log=/dev/fd/3 -- '", Probe(), "' connect 3 >'", out, "' 3>&1")});
  EXPECT_EQ(r.exit_code(), 0) << r;
  std::string text = ReadFile(out);
  std::string log_lines;
  int program_lines = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "connect ")) {
      ++program_lines;
    } else {
      absl::StrAppend(&log_lines, line, "\n");
    }
  }
  EXPECT_EQ(program_lines, 3) << text;
  // Every other line is a whole fire record (ParseLog fails on any that is not).
  EXPECT_EQ(ParseLog(log_lines).size(), 3u) << text;
  EXPECT_EQ(text.back(), '\n') << text;
}

// Issue 13: the fixtures' threads stay exempt under the preload library.
// The program links the fixtures (their own copy of Bypass); the preload
// library's engine decides the faults, and must honour that Bypass. Before,
// the rule failed the EchoServer's own accept, and the client got no echo;
// and `ipcfault record` listed the fixture's calls as sites to sweep.
TEST_F(IpcfaultTest, FixturesBypassHoldsUnderThePreloadLibrary) {
  const std::string probe = Runfile("selftest/fixture_bypass_probe");
  Result r = RunIpcfault({"run", "-e", "accept4:error=EMFILE", "-e",
                          "write:error=EIO:fd=socket:when=1", "--", probe});
  // The server's accept and write are the fixture's: untouched. The
  // client's first socket write is the code under test's: failed.
  EXPECT_EQ(r.out, "write: EIO\n") << r;
  EXPECT_THAT(r.err, HasSubstr("rule 0 accept4:error=EMFILE: never fired")) << r;

  Result clean = RunIpcfault({"run", "-e", "accept4:error=EMFILE", "--", probe});
  EXPECT_EQ(clean.exit_code(), 0) << clean;
  EXPECT_EQ(clean.out, "echo: ping\n") << clean;

  Result record = RunIpcfault({"record", "--", probe});
  EXPECT_EQ(record.exit_code(), 0) << record;
  EXPECT_THAT(record.out + record.err, HasSubstr("connect")) << record;
  EXPECT_THAT(record.out + record.err, Not(HasSubstr("EchoServer"))) << record;
  EXPECT_THAT(record.out + record.err, Not(HasSubstr("accept"))) << record;
}

TEST_F(IpcfaultTest, ShellScriptsRunThroughTheirInterpreter) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Under --config=asan/tsan the preload library is sanitizer-built and
  // needs its runtime loaded first, which only a sanitizer-built program
  // does; /bin/sh is not one.
  GTEST_SKIP() << "the sanitizer-built preload library cannot load into /bin/sh";
#endif
  std::string script = WriteFile(
      "connect.sh", absl::StrCat("#!/bin/sh\nexec '", Probe(), "' connect 2\n"));
  chmod(script.c_str(), 0755);
  Result r = RunIpcfault({"run", "-e", "connect:error=ECONNREFUSED:when=2", "--", script});
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ok", "ECONNREFUSED")) << r;
}

// ---------------------------------------------------------------------------
// Faults, the log and the summary.

TEST_F(IpcfaultTest, ConnectRefusedExactlyOnceAndLoggedOnce) {
  std::string log = Path("fires.log");
  Result r = RunIpcfault({"run", "-e", "inject=connect:error=ECONNREFUSED:when=1",
                       "--log", log, "--", Probe(), "connect", "3"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  std::vector<ConnectLine> connects = ConnectLines(r.out);
  ASSERT_EQ(connects.size(), 3u) << r;
  EXPECT_EQ(connects[0].outcome, "ECONNREFUSED");
  EXPECT_EQ(connects[1].outcome, "ok");
  EXPECT_EQ(connects[2].outcome, "ok");

  std::vector<LogLine> lines = ParseLog(ReadFile(log));
  ASSERT_EQ(lines.size(), 1u) << ReadFile(log);
  const LogLine& line = lines[0];
  EXPECT_EQ(line.pid, connects[0].pid);
  EXPECT_EQ(line.tid, connects[0].pid);  // the main thread
  EXPECT_EQ(line.fd, connects[0].fd);
  EXPECT_EQ(line.call, "connect");
  EXPECT_EQ(line.rule, 0);
  EXPECT_THAT(line.rule_text, HasSubstr("connect:error=ECONNREFUSED"));
  EXPECT_EQ(line.action, "error");
  EXPECT_EQ(line.errno_name, "\"ECONNREFUSED\"");
  EXPECT_EQ(line.ordinal, 1u);

  EXPECT_THAT(r.err, MatchesRegex("(.|\n)*ipcfault: rule 0 connect:error=ECONNREFUSED[^\n]*: "
                                  "fired 1 time \\(1 process\\)\n(.|\n)*"))
      << r;
  EXPECT_THAT(r.err, HasSubstr("fire log: " + log));
}

TEST_F(IpcfaultTest, LogAppendsAndTheSummaryCountsOnlyThisRun) {
  std::string log = Path("fires.log");
  for (int run = 1; run <= 2; ++run) {
    Result r = RunIpcfault({"run", "-e", "connect:error=ECONNREFUSED:when=2..3",
                         "-e", "kill:error=EPERM", "--log", log, "--", Probe(),
                         "connect", "4"});
    ASSERT_EQ(r.exit_code(), 0) << r;
    EXPECT_THAT(Outcomes(r.out), ElementsAre("ok", "ECONNREFUSED", "ECONNREFUSED", "ok"));
    EXPECT_THAT(r.err, HasSubstr("fired 2 times (1 process)")) << r;
    EXPECT_THAT(r.err, MatchesRegex("(.|\n)*ipcfault: rule 1 kill:error=EPERM[^\n]*: "
                                    "never fired\n(.|\n)*"))
        << r;
    std::vector<LogLine> lines = ParseLog(ReadFile(log));
    ASSERT_EQ(lines.size(), 2u * run);
    EXPECT_EQ(lines.back().ordinal, 3u);
  }
}

TEST_F(IpcfaultTest, RandomRulesGetOneSeedPerRunThatRepeatsIt) {
  Result r = RunIpcfault({"run", "-e", "connect:error=EPERM:p=0.5", "--", Probe(),
                          "connect", "40"},
                         {"IPCFAULT_SEED"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex("ipcfault: --seed=([0-9]+) ")))
      << r;
  const std::string seed = m[1];
  EXPECT_THAT(r.err, Not(HasSubstr("IPCFAULT_SEED="))) << "one seed, printed once";
  std::vector<std::string> outcomes = Outcomes(r.out);
  ASSERT_EQ(outcomes.size(), 40u);
  EXPECT_THAT(outcomes, Contains("EPERM"));
  EXPECT_THAT(outcomes, Contains("ok"));

  Result again = RunIpcfault({"run", "--seed", seed, "-e", "connect:error=EPERM:p=0.5",
                              "--", Probe(), "connect", "40"});
  EXPECT_EQ(Outcomes(again.out), outcomes);
  EXPECT_THAT(again.err, Not(HasSubstr("--seed="))) << "a given seed is not printed";
}

TEST_F(IpcfaultTest, TemporaryLogIsRemoved) {
  std::string tmp = Path("tmp");
  ASSERT_EQ(mkdir(tmp.c_str(), 0700), 0);
  Result r = RunIpcfault({"run", "-e", "connect:error=ECONNREFUSED", "--", Probe(),
                       "connect", "2"},
                      {"TMPDIR=" + tmp, "TEST_UNDECLARED_OUTPUTS_DIR", "IPCFAULT_LOG"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.err, HasSubstr("fired 2 times")) << r;
  EXPECT_THAT(r.err, Not(HasSubstr("fire log:"))) << r;
  Result ls = RunProgram({"/bin/ls", "-A", tmp});
  EXPECT_EQ(ls.out, "") << "the temporary log was left behind";
}

// Issue 14: a process that changes its uid keeps counting (the counters
// are shared memory, not a file it may no longer open), whether it forked
// from the program or exec'd after the change.
bool CanChangeUid() {
  pid_t pid = fork();
  if (pid == 0) _exit(setuid(65534) == 0 ? 0 : 1);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_F(IpcfaultTest, FiresAfterAUidChangeAreCounted) {
  // Root outside a sandbox; Bazel's linux-sandbox maps no other uid.
  if (!CanChangeUid()) GTEST_SKIP() << "cannot change uid here";
  Result r = RunIpcfault({"run", "-e", "connect:error=ECONNREFUSED", "--", Probe(),
                          "setuid", "65534", "connect", "2"},
                         {"TEST_UNDECLARED_OUTPUTS_DIR", "IPCFAULT_LOG"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ECONNREFUSED", "ECONNREFUSED")) << r;
  EXPECT_THAT(r.err, HasSubstr("fired 2 times (1 process)")) << r;

  // With a log the user keeps, written by root: a uid-65534 process forked
  // after the change (an nginx worker) cannot append to it, and is counted
  // all the same.
  std::string log = Path("fires.log");
  r = RunIpcfault({"run", "-e", "connect:error=ECONNREFUSED", "--log", log, "--",
                   Probe(), "setuid", "65534", "fork", "connect", "1"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ECONNREFUSED")) << r;
  EXPECT_THAT(r.err, HasSubstr("fired 1 time (1 process)")) << r;
}

// Issue 14: counts come from shared memory; a million fires are summed, not
// parsed (the benchmark times it; here, exactness across processes).
TEST_F(IpcfaultTest, SummaryCountsEveryFireOfEveryProcessExactly) {
  Result r = RunIpcfault({"run", "-e", "close:error=EIO:fd=any", "--", Probe(), "closes",
                   "20000"},
                  {"TEST_UNDECLARED_OUTPUTS_DIR", "IPCFAULT_LOG"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.err, HasSubstr("fired 20000 times (1 process)")) << r;
}

// Issue 14: nothing on disk when no log is asked for, and SIGKILL to
// ipcfault takes the program with it.
TEST_F(IpcfaultTest, KilledIpcfaultTakesTheProgramAndLeavesNoFile) {
  std::string tmp = Path("tmp");
  ASSERT_EQ(mkdir(tmp.c_str(), 0700), 0);
  Child child({selftest::IpcfaultBinary(), "run", "-e", "connect:error=ECONNREFUSED",
               "--", Probe(), "connect-then-wait", "1"},
              {"TMPDIR=" + tmp, "TEST_UNDECLARED_OUTPUTS_DIR", "IPCFAULT_LOG"});
  ASSERT_TRUE(child.WaitForStdout("ready\n"));
  std::vector<ConnectLine> connects = ConnectLines(child.out());
  ASSERT_EQ(connects.size(), 1u) << child.out();
  EXPECT_EQ(connects[0].outcome, "ECONNREFUSED");
  const pid_t program = connects[0].pid;
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, program, 0));
  ASSERT_GE(pidfd, 0) << strerror(errno);

  ASSERT_EQ(kill(child.pid(), SIGKILL), 0);
  Result r = child.Finish();
  EXPECT_TRUE(WIFSIGNALED(r.status)) << r;
  // The program dies too (a pidfd reads ready when its process has exited).
  pollfd p = {pidfd, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 60000), 1) << "the program outlived ipcfault";
  close(pidfd);
  Result ls = RunProgram({"/bin/ls", "-A", tmp});
  EXPECT_EQ(ls.out, "") << "a file was left behind";
}

// Issue 14: a signal sent to ipcfault's process group reaches the program
// once (it is in a group of its own; ipcfault forwards what it gets).
TEST_F(IpcfaultTest, GroupSignalReachesTheProgramOnce) {
  // setsid(1): ipcfault leads a process group of its own, as under a shell
  // or GNU timeout.
  Child child({"/usr/bin/setsid", selftest::IpcfaultBinary(), "run", "-q", "--",
               Probe(), "count-ints"});
  ASSERT_TRUE(child.WaitForStdout("\n"));
  std::smatch m;
  std::string out = child.out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("ready pgid=([0-9]+)"))) << out;
  EXPECT_NE(std::stoi(m[1]), child.pid()) << "the program shares ipcfault's group";
  constexpr int kSignals = 20;
  for (int i = 1; i <= kSignals; ++i) {
    ASSERT_EQ(kill(-child.pid(), SIGINT), 0);
    // Each acknowledged before the next is sent, so none merge.
    std::string acks;
    for (int k = 0; k < i; ++k) acks += "INT\n";
    ASSERT_TRUE(child.WaitForStdout(acks)) << child.out();
  }
  ASSERT_EQ(kill(child.pid(), SIGTERM), 0);
  Result r = child.Finish();
  EXPECT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("ints ", kSignals, "\n"))) << r;
}

TEST_F(IpcfaultTest, PreloadAloneArmsFromTheEnvironment) {
  std::string log = Path("direct.log");
  Result r = RunProgram({Probe(), "connect", "2"},
                 PreloadEnv({"IPCFAULT_SCENARIO=# refused once\nconnect:error=ECONNREFUSED:when=1\n",
                  "IPCFAULT_LOG=" + log}));
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ECONNREFUSED", "ok"));
  EXPECT_EQ(ParseLog(ReadFile(log)).size(), 1u);

  // No scenario: inert.
  r = RunProgram({Probe(), "connect", "1"}, PreloadEnv({"IPCFAULT_SCENARIO",
                                      "IPCFAULT_SCENARIO_FILE"}));
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ok"));
}

TEST_F(IpcfaultTest, PreloadWarnsWhenTheLogCannotBeWrittenAndStillInjects) {
  Result r = RunProgram({Probe(), "connect", "1"},
                        PreloadEnv({"IPCFAULT_SCENARIO=connect:error=EPERM",
                                    "IPCFAULT_LOG=" + Path("no/such/dir/x.log")}));
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("EPERM"));
  EXPECT_THAT(r.err, HasSubstr("ipcfault: warning: cannot open the fire log")) << r;
}

TEST_F(IpcfaultTest, RelativeLogPathIsFixedAtTheFirstLoad) {
  // The first process starts in dir_ with IPCFAULT_LOG=fires.log, changes to
  // sub/ and execs a grandchild there: both log to dir_/fires.log.
  std::string sub = Path("sub");
  ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
  std::vector<std::string> env = PreloadEnv({"IPCFAULT_SCENARIO=connect:error=EPERM",
                                             "IPCFAULT_LOG=fires.log"});
  std::vector<std::string> argv = {"/bin/sh", "-c", "cd \"$0\" && exec env \"$@\"",
                                   dir_};
  for (const std::string& e : env) argv.push_back(e);
  for (const std::string& a : {Probe(), std::string("cd"), sub, std::string("spawn"),
                               Probe(), std::string("connect"), std::string("1")}) {
    argv.push_back(a);
  }
  Result r = RunProgram(argv);
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("EPERM"));
  EXPECT_EQ(ParseLog(ReadFile(Path("fires.log"))).size(), 1u);
  EXPECT_FALSE(Exists(sub + "/fires.log"));
}

TEST_F(IpcfaultTest, PreloadLogsToUndeclaredOutputsByDefault) {
  std::string outputs = Path("outputs");
  ASSERT_EQ(mkdir(outputs.c_str(), 0755), 0);
  Result r = RunProgram({Probe(), "connect", "1"},
                 PreloadEnv({"IPCFAULT_SCENARIO=connect:error=EPERM",
                  "IPCFAULT_LOG", "TEST_UNDECLARED_OUTPUTS_DIR=" + outputs}));
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("EPERM"));
  std::vector<LogLine> lines = ParseLog(ReadFile(outputs + "/ipcfault.log"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].errno_name, "\"EPERM\"");
}

// ---------------------------------------------------------------------------
// Children: fork, exec, scope.

TEST_F(IpcfaultTest, ScopeAllReachesAForkedAndExecdGrandchild) {
  std::string log = Path("fires.log");
  Result r = RunIpcfault({"run", "-e", "connect:error=ECONNREFUSED:when=1", "--log", log,
                       "--", Probe(), "spawn", Probe(), "connect", "2"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  std::vector<ConnectLine> connects = ConnectLines(r.out);
  ASSERT_EQ(connects.size(), 2u) << r;
  EXPECT_EQ(connects[0].outcome, "ECONNREFUSED");
  EXPECT_EQ(connects[1].outcome, "ok");
  std::vector<LogLine> lines = ParseLog(ReadFile(log));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].pid, connects[0].pid);  // logged by the grandchild

  r = RunIpcfault({"run", "-e", "connect:error=EPERM", "--", Probe(), "spawn", Probe(),
                "env"});
  EXPECT_THAT(r.out, HasSubstr("IPCFAULT_SCOPE=all\n"));
  EXPECT_THAT(r.out, MatchesRegex("(.|\n)*LD_PRELOAD=[^\n]*/libipcfault_preload.so(.|\n)*"));
}

TEST_F(IpcfaultTest, ScopeFirstSparesWhatTheProgramExecs) {
  Result r = RunIpcfault({"run", "--scope=first", "-e", "connect:error=ECONNREFUSED:when=1",
                       "--", Probe(), "spawn", Probe(), "connect", "2"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ok", "ok")) << r;
  EXPECT_THAT(r.err, HasSubstr("never fired"));

  // The exec'd program sees neither the library nor the scenario.
  r = RunIpcfault({"run", "--scope=first", "-e", "connect:error=EPERM", "--", Probe(),
                "spawn", Probe(), "env"},
               {"LD_PRELOAD"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.out, HasSubstr("LD_PRELOAD unset\n"));
  EXPECT_THAT(r.out, HasSubstr("IPCFAULT_SCENARIO unset\n"));
  EXPECT_THAT(r.out, HasSubstr("IPCFAULT_LOG unset\n"));
  EXPECT_THAT(r.out, HasSubstr("IPCFAULT_SCOPE unset\n"));

  // The first process itself, and a child it forks without exec, keep it.
  r = RunIpcfault({"run", "--scope=first", "-e", "connect:error=ECONNREFUSED:when=1",
                "--", Probe(), "connect", "2"});
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ECONNREFUSED", "ok")) << r;
  r = RunIpcfault({"run", "--scope=first", "-e", "connect:error=ECONNREFUSED:when=1",
                "--", Probe(), "fork", "connect", "2"});
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ECONNREFUSED", "ok")) << r;
}

// Issue 14: --scope=first holds for a program that execs with a copy of the
// environment it started with (here read back from /proc/self/environ,
// which shows the strings the kernel gave it), not with environ.
TEST_F(IpcfaultTest, ScopeFirstHoldsForAProgramsOwnCopyOfItsEnvironment) {
  Result r = RunIpcfault({"run", "--scope=first", "-e",
                          "connect:error=ECONNREFUSED:when=1", "--", Probe(),
                          "spawn-proc-environ", Probe(), "connect", "1"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(Outcomes(r.out), ElementsAre("ok")) << r;
  r = RunIpcfault({"run", "--scope=first", "-e", "connect:error=EPERM", "--",
                   Probe(), "spawn-proc-environ", Probe(), "env"},
                  {"LD_PRELOAD"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  EXPECT_THAT(r.out, HasSubstr("LD_PRELOAD unset\n")) << r;
  EXPECT_THAT(r.out, HasSubstr("IPCFAULT_SCENARIO unset\n")) << r;
  EXPECT_THAT(r.out, HasSubstr("IPCFAULT_SCOPE unset\n")) << r;
}

TEST_F(IpcfaultTest, ForkedChildKeepsRulesAndCounts) {
  // when=2: the parent's connect is the rule's first matching call; the
  // child forked after it counts on from there, so its connect is the second.
  Result r = RunIpcfault({"run", "-e", "connect:error=ECONNREFUSED:when=2", "--", Probe(),
                       "connect-then-fork", "1", "2"});
  ASSERT_EQ(r.exit_code(), 0) << r;
  std::vector<ConnectLine> connects = ConnectLines(r.out);
  ASSERT_EQ(connects.size(), 3u) << r;
  EXPECT_EQ(connects[0].outcome, "ok");            // parent, 1st
  EXPECT_EQ(connects[1].outcome, "ECONNREFUSED");  // child, 2nd
  EXPECT_EQ(connects[2].outcome, "ok");            // child, 3rd
  EXPECT_NE(connects[0].pid, connects[1].pid);
}

TEST_F(IpcfaultTest, ConcurrentProcessesNeverInterleaveLogLines) {
  constexpr int kProcesses = 3;
  constexpr int kConnects = 2000;
  std::string log = Path("fires.log");
  Result r = RunIpcfault({"run", "-e", "connect:error=ENETDOWN", "--log", log, "--",
                       Probe(), "hammer", absl::StrCat(kProcesses),
                       absl::StrCat(kConnects)});
  ASSERT_EQ(r.exit_code(), 0) << r;
  for (int p = 0; p < kProcesses; ++p) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("hammer ", p, ": ", kConnects,
                                              " ENETDOWN\n")));
  }
  std::vector<LogLine> lines = ParseLog(ReadFile(log));
  ASSERT_EQ(lines.size(), size_t{kProcesses * kConnects});
  std::map<int64_t, std::set<uint64_t>> ordinals;
  for (const LogLine& line : lines) {
    EXPECT_EQ(line.call, "connect");
    EXPECT_EQ(line.errno_name, "\"ENETDOWN\"");
    EXPECT_TRUE(ordinals[line.pid].insert(line.ordinal).second)
        << "ordinal " << line.ordinal << " twice in pid " << line.pid;
  }
  ASSERT_EQ(ordinals.size(), size_t{kProcesses});
  for (const auto& [pid, seen] : ordinals) {
    EXPECT_EQ(seen.size(), size_t{kConnects}) << pid;
    EXPECT_EQ(*seen.begin(), 1u);
    EXPECT_EQ(*seen.rbegin(), uint64_t{kConnects});
  }
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("fired ", kProcesses * kConnects,
                                            " times (", kProcesses, " processes)")))
      << r;
}

// docs/run.md's example log line is a record as this test reads them.
TEST(RunDoc, ExampleLogLineHasTheDocumentedFormat) {
  std::string doc = ReadFile(Runfile("docs/run.md"));
  ASSERT_FALSE(doc.empty()) << "docs/run.md is missing from the runfiles";
  size_t block = doc.find("```json\n");
  ASSERT_NE(block, std::string::npos);
  size_t start = block + 8;
  std::string line = doc.substr(start, doc.find('\n', start) - start);
  std::optional<LogLine> parsed = selftest::ParseLogLine(line);
  ASSERT_TRUE(parsed.has_value()) << line;
  EXPECT_EQ(parsed->call, "connect");
  EXPECT_EQ(parsed->errno_name, "\"ECONNREFUSED\"");
}

}  // namespace
}  // namespace ipcfault
