// The preload library's dynamic symbol table holds the functions it
// interposes (every call of the table, the _FORTIFY_SOURCE entry points, the
// exec family it watches, the stdio functions that reach a socket stream)
// and nothing else: no C++ symbol of its own or of
// Abseil that a program's own copy could clash with.
//
// One known exception, checked to stay that narrow: gold keeps exporting
// the weak std::string instantiations the library's objects carry, because
// libstdc++.so defines them too (they are the same code; the library still
// links libstdc++.so and Abseil's shared libraries, see docs/run.md).

#include <stdio.h>
#include <stdlib.h>

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"

namespace ipcfault {
namespace {

std::set<std::string> DefinedDynamicSymbols(const std::string& library) {
  std::set<std::string> symbols;
  std::string command = "nm -D --defined-only '" + library + "'";
  FILE* nm = popen(command.c_str(), "r");
  EXPECT_NE(nm, nullptr);
  if (nm == nullptr) return symbols;
  char line[4096];
  while (fgets(line, sizeof(line), nm) != nullptr) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    size_t space = s.rfind(' ');
    std::string name = s.substr(space + 1);
    char type = space >= 1 ? s[space - 1] : '?';
    // Lower case: a local entry (a TLS variable's), bound to nothing outside.
    if (type >= 'a' && type <= 'z') continue;
    if (type == 'W' && (name.rfind("_ZNSt7__cxx1112basic_string", 0) == 0 ||
                        name.rfind("_ZNKSt7__cxx1112basic_string", 0) == 0)) {
      continue;
    }
    if (size_t at = name.find('@'); at != std::string::npos) name.resize(at);
    symbols.insert(name);
  }
  EXPECT_EQ(pclose(nm), 0) << command;
  return symbols;
}

TEST(PreloadSymbols, ExportsTheInterposedFunctionsOnly) {
  const std::string library =
      std::string(getenv("TEST_SRCDIR")) + "/ipcfault/inject/libipcfault_preload.so";
  std::set<std::string> exported = DefinedDynamicSymbols(library);
  ASSERT_FALSE(exported.empty());

  std::set<std::string> interposed;
  for (const CallInfo& info : AllCalls()) interposed.insert(std::string(info.name));
  for (const char* name :
       {"__read_chk", "__recv_chk", "__recvfrom_chk", "__poll_chk", "execve",
        "execv", "execvp", "execvpe", "execl", "execlp", "execle", "posix_spawn",
        "posix_spawnp",
        // Sockets behind stdio (interpose_stdio.cc, docs/fidelity.md): the
        // read functions of a stream and its flushes.
        "fgets", "fgets_unlocked", "fread", "fread_unlocked", "fgetc", "fgetc_unlocked",
        "getc", "getc_unlocked", "__uflow", "getline", "getdelim", "__getdelim", "fflush",
        "fflush_unlocked", "fclose",
        // sendfile's name under _FILE_OFFSET_BITS=64 (an alias of sendfile).
        "sendfile64"}) {
    interposed.insert(name);
  }
  // The two entry points by which copies of ipcfault in one process share
  // their Bypass (inject/bypass.h).
  interposed.insert("ipcfault_bypass_depth");
  interposed.insert("ipcfault_attach_bypass");
  for (const std::string& name : exported) {
    // Fortified twins the call table may add (__NAME_chk) are interposed too.
    bool fortified = name.size() > 6 && name.rfind("__", 0) == 0 &&
                     name.compare(name.size() - 4, 4, "_chk") == 0;
    EXPECT_TRUE(interposed.count(name) > 0 || fortified)
        << name << " is exported but not an interposed function";
  }
  for (const CallInfo& info : AllCalls()) {
    EXPECT_TRUE(exported.count(std::string(info.name)) > 0)
        << info.name << " is in the call table but not exported";
  }
}

}  // namespace
}  // namespace ipcfault
