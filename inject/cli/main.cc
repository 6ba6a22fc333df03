// inject/cli/main.cc
//
// The `ipcfault` command: finds the command named by the first argument in
// kCommands and runs it. Each command lives in its own file (commands.h).

#include <elf.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ipcfault/inject/cli/cli_util.h"
#include "ipcfault/inject/cli/commands.h"

namespace ipcfault::cli {
namespace {

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14
#endif

// Maps the command's read-only segments (its code and constant data) into
// its page tables with one call, before the C++ runtime's initialisation
// and main() run, instead of a page fault at each first touch: a run's
// command took ~20 of them, each costing 5-20 µs on the build machine's VM,
// more than mapping the whole 2.5 MB at once (docs/run.md, "The command's
// own start"). Runs from .preinit_array: first of the program's own
// initialisers. A kernel without MADV_POPULATE_READ says EINVAL, and the
// pages fault in as before.
void PopulateReadOnlySegments(int, char**, char**) {
  const auto* phdr = reinterpret_cast<const ElfW(Phdr)*>(getauxval(AT_PHDR));
  const size_t count = getauxval(AT_PHNUM);
  if (phdr == nullptr) return;
  // Segment addresses are relative to the load base in a PIE (the command
  // under a sanitizer): PT_PHDR gives the base.
  uintptr_t base = 0;
  for (size_t i = 0; i < count; ++i) {
    if (phdr[i].p_type == PT_PHDR) {
      base = reinterpret_cast<uintptr_t>(phdr) - phdr[i].p_vaddr;
    }
  }
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (size_t i = 0; i < count; ++i) {
    if (phdr[i].p_type != PT_LOAD || (phdr[i].p_flags & PF_W) != 0) continue;
    const uintptr_t start = (base + phdr[i].p_vaddr) & ~(page - 1);
    const uintptr_t end = (base + phdr[i].p_vaddr + phdr[i].p_memsz + page - 1) & ~(page - 1);
    madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_READ);
  }
}

__attribute__((section(".preinit_array"), used)) void (*const populate_read_only)(
    int, char**, char**) = &PopulateReadOnlySegments;

// The commands, in the order `ipcfault --help` lists them.
constexpr Command kCommands[] = {
    {"run", "run a program with fault-injection rules (through LD_PRELOAD)",
     kRunHelp, &RunCommand},
    {"check", "validate scenario files and print them in canonical form",
     kCheckHelp, &CheckCommand},
    {"calls", "list the calls, call sets, documented errors and rule keys",
     kCallsHelp, &CallsCommand},
    {"record", "run a program once and list its calls and call sites",
     kRecordHelp, &RecordCommand},
    {"sweep", "find the faults a program or test does not survive",
     kSweepHelp, &SweepCommand},
    {"ctl", "change the rules of a run started with --control, while it runs",
     kCtlHelp, &CtlCommand},
};

const Command* FindCommand(absl::string_view name) {
  for (const Command& command : kCommands) {
    if (name == command.name) return &command;
  }
  return nullptr;
}

std::string MainHelp() {
  std::string help =
      "Usage: ipcfault COMMAND [OPTION]... [ARG]...\n"
      "Inject faults into the socket, signal and process calls of Linux "
      "programs.\n\nCommands:\n";
  for (const Command& command : kCommands) {
    absl::StrAppendFormat(&help, "  %-8s %s\n", command.name, command.summary);
  }
  absl::StrAppend(
      &help,
      "  help     show help for a command\n\n"
      "Options:\n"
      "  -h, --help   show this help and exit\n\n"
      "Rules use strace's -e inject= syntax, plus keys of ipcfault's own:\n"
      "  ipcfault run -e inject=connect:error=ECONNREFUSED:when=1 -- ./client\n\n"
      "Run 'ipcfault COMMAND --help' for a command's options.\n");
  return help;
}

std::string CommandNames() {
  std::vector<absl::string_view> names;
  for (const Command& command : kCommands) names.push_back(command.name);
  names.push_back("help");
  return absl::StrJoin(names, ", ");
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  CommandContext context;
  context.argv0 = argc > 0 ? argv[0] : "ipcfault";

  // `bazel run` starts us in the runfiles tree; relative paths on the
  // command line are meant from where the user typed it.
  if (std::string dir = GetEnv("BUILD_WORKING_DIRECTORY"); !dir.empty()) {
    if (chdir(dir.c_str()) != 0) {
      Err("ipcfault: cannot change to BUILD_WORKING_DIRECTORY ", dir, ": ", strerror(errno), "\n");
      return kExitUsage;
    }
  }

  if (args.empty()) {
    Err(MainHelp());
    return kExitUsage;
  }
  const std::string& name = args[0];
  absl::Span<const std::string> rest = absl::MakeConstSpan(args).subspan(1);
  if (IsHelp(name)) {
    Out(MainHelp());
    return kExitOk;
  }
  if (name == "help") {
    if (rest.empty()) {
      Out(MainHelp());
      return kExitOk;
    }
    const Command* command = FindCommand(rest[0]);
    if (command == nullptr) {
      PrintUsageError("", absl::StrCat("unknown command '", rest[0], "'"));
      return kExitUsage;
    }
    Out(command->help);
    return kExitOk;
  }
  if (const Command* command = FindCommand(name)) {
    return command->main(rest, context);
  }
  if (absl::StartsWith(name, "-")) {
    PrintUsageError("", absl::StrCat("unknown option '", name, "'"));
  } else {
    PrintUsageError("", absl::StrCat("unknown command '", name,
                                     "' (commands: ", CommandNames(), ")"));
  }
  return kExitUsage;
}

}  // namespace
}  // namespace ipcfault::cli

int main(int argc, char** argv) { return ipcfault::cli::Main(argc, argv); }
