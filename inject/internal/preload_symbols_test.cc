// The preload library needs nothing but libc and the loader (its DT_NEEDED
// entries, read from the ELF file itself), and its dynamic symbol table holds
// the functions it interposes (every call of the table, the _FORTIFY_SOURCE
// entry points, the stdio functions that reach a socket stream; the exec
// family, which it watches, is in the table) and nothing else: no C++ symbol
// of its own, of Abseil or of libstdc++ (linked in statically: docs/run.md,
// "A libc-only preload library") that a program's own copy could clash with.

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/inject/call.h"

namespace ipcfault {
namespace {

struct NmSymbol {
  char type;  // nm's letter: lower case for a local symbol
  std::string name;
};

// The symbols `nm FLAGS LIBRARY` lists.
std::vector<NmSymbol> ListSymbols(const std::string& flags, const std::string& library) {
  std::vector<NmSymbol> symbols;
  const std::string command = "nm " + flags + " '" + library + "'";
  FILE* nm = popen(command.c_str(), "r");
  EXPECT_NE(nm, nullptr) << command;
  if (nm == nullptr) return symbols;
  char line[4096];
  while (fgets(line, sizeof(line), nm) != nullptr) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    const size_t space = s.rfind(' ');
    if (space == std::string::npos) continue;
    symbols.push_back({space >= 1 ? s[space - 1] : '?', s.substr(space + 1)});
  }
  EXPECT_EQ(pclose(nm), 0) << command;
  return symbols;
}

std::set<std::string> DefinedDynamicSymbols(const std::string& library) {
  std::set<std::string> symbols;
  for (NmSymbol& symbol : ListSymbols("-D --defined-only", library)) {
    // Lower case: a local entry (a TLS variable's), bound to nothing outside.
    if (symbol.type >= 'a' && symbol.type <= 'z') continue;
#if defined(__SANITIZE_ADDRESS__)
    // ASan's one-definition-rule indicators of the library's globals.
    if (symbol.name.rfind("__odr_asan", 0) == 0) continue;
#endif
    if (size_t at = symbol.name.find('@'); at != std::string::npos) symbol.name.resize(at);
    symbols.insert(std::move(symbol.name));
  }
  return symbols;
}

std::string Library() {
  return std::string(getenv("TEST_SRCDIR")) + "/ipcfault/inject/libipcfault_preload.so";
}

// The DT_NEEDED entries of a 64-bit ELF shared object, read from the file:
// the PT_DYNAMIC segment's entries, their names in DT_STRTAB (a virtual
// address, mapped back to the file through the PT_LOAD segments).
std::vector<std::string> NeededLibraries(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Elf64_Ehdr eh;
  if (file.size() < sizeof(eh) || memcmp(file.data(), ELFMAG, SELFMAG) != 0 ||
      file[EI_CLASS] != ELFCLASS64) {
    *error = path + ": not a 64-bit ELF file";
    return {};
  }
  memcpy(&eh, file.data(), sizeof(eh));
  std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
  for (size_t i = 0; i < phdrs.size(); ++i) {
    const size_t at = eh.e_phoff + i * eh.e_phentsize;
    if (at + sizeof(Elf64_Phdr) > file.size()) {
      *error = path + ": truncated program headers";
      return {};
    }
    memcpy(&phdrs[i], file.data() + at, sizeof(Elf64_Phdr));
  }
  auto file_offset = [&](uint64_t vaddr) -> uint64_t {
    for (const Elf64_Phdr& ph : phdrs) {
      if (ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
        return vaddr - ph.p_vaddr + ph.p_offset;
      }
    }
    return UINT64_MAX;
  };
  std::vector<Elf64_Dyn> dynamic;
  for (const Elf64_Phdr& ph : phdrs) {
    if (ph.p_type != PT_DYNAMIC) continue;
    for (uint64_t at = ph.p_offset; at + sizeof(Elf64_Dyn) <= ph.p_offset + ph.p_filesz &&
                                    at + sizeof(Elf64_Dyn) <= file.size();
         at += sizeof(Elf64_Dyn)) {
      Elf64_Dyn d;
      memcpy(&d, file.data() + at, sizeof(d));
      if (d.d_tag == DT_NULL) break;
      dynamic.push_back(d);
    }
  }
  uint64_t strtab = UINT64_MAX;
  for (const Elf64_Dyn& d : dynamic) {
    if (d.d_tag == DT_STRTAB) strtab = file_offset(d.d_un.d_ptr);
  }
  if (dynamic.empty() || strtab >= file.size()) {
    *error = path + ": no dynamic section or string table";
    return {};
  }
  std::vector<std::string> needed;
  for (const Elf64_Dyn& d : dynamic) {
    if (d.d_tag != DT_NEEDED) continue;
    if (strtab + d.d_un.d_val >= file.size()) {
      *error = path + ": DT_NEEDED name out of the file";
      return {};
    }
    needed.emplace_back(file.c_str() + strtab + d.d_un.d_val);
  }
  return needed;
}

TEST(PreloadSymbols, NeedsOnlyLibcAndTheLoader) {
  std::string error;
  const std::vector<std::string> needed = NeededLibraries(Library(), &error);
  ASSERT_EQ(error, "");
  // libc (libdl, libpthread and librt are empty stubs of it since glibc
  // 2.34) and the loader. Not libm: mapping and relocating it cost a tenth
  // of /bin/true's start-up (internal/preload_runtime.cc).
  const std::set<std::string> allowed = {"libc.so.6", "libdl.so.2", "libpthread.so.0",
                                         "librt.so.1", "ld-linux-x86-64.so.2"};
  for (const std::string& name : needed) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // Under --config=asan/tsan the library is sanitizer-built: its runtime.
    if (name.rfind("libasan.so", 0) == 0 || name.rfind("libubsan.so", 0) == 0 ||
        name.rfind("libtsan.so", 0) == 0) {
      continue;
    }
#endif
    EXPECT_TRUE(allowed.count(name) > 0)
        << "libipcfault_preload.so needs " << name << ": it must need only libc and the loader";
  }
  EXPECT_THAT(needed, testing::Contains("libc.so.6"));
}

// internal/no_standard_streams.cc makes std::ios_base::Init do nothing,
// which is sound only while the library uses no standard stream: then
// libstdc++'s globals_io.o, which defines them, is not linked in.
TEST(PreloadSymbols, DefinesNoStandardStream) {
  const std::vector<NmSymbol> symbols = ListSymbols("--defined-only", Library());
  std::vector<std::string> streams;
  for (const NmSymbol& symbol : symbols) {
    const std::string& name = symbol.name;
    for (const char* stream : {"_ZSt3cin", "_ZSt4cout", "_ZSt4cerr", "_ZSt4clog", "_ZSt4wcin",
                               "_ZSt5wcout", "_ZSt5wcerr", "_ZSt5wclog"}) {
      if (name == stream) streams.push_back(name);
    }
    // std::locale's members, and std::ostream's: internal/preload_absl.cc
    // keeps the Abseil archive members that bring them out of the library.
    if (name.rfind("_ZNSt6locale", 0) == 0 || name.rfind("_ZNSo", 0) == 0) {
      streams.push_back(name);
    }
  }
  // The check needs the library's symbol table (Bazel strips debug
  // information only).
  ASSERT_GT(symbols.size(), 1000u) << "no symbol table to check";
  EXPECT_THAT(streams, testing::IsEmpty())
      << "the preload library uses a standard stream (whose initialisation "
         "internal/no_standard_streams.cc has removed), a locale or an ostream "
         "(which internal/preload_absl.cc keeps out)";
}

// internal/preload_eh_alloc.cc takes the place of libstdc++'s eh_alloc.o,
// whose emergency pool a static constructor would allocate from malloc in
// every program the library enters.
TEST(PreloadSymbols, HoldsNoExceptionEmergencyPool) {
  const std::vector<NmSymbol> symbols = ListSymbols("--defined-only", Library());
  ASSERT_GT(symbols.size(), 1000u) << "no symbol table to check";
  std::vector<std::string> pool;
  std::vector<char> allocator_types;
  for (const NmSymbol& symbol : symbols) {
    if (symbol.name.find("emergency_pool") != std::string::npos ||
        symbol.name.find("eh_alloc") != std::string::npos) {
      pool.push_back(symbol.name);
    }
    if (symbol.name == "__cxa_allocate_exception") allocator_types.push_back(symbol.type);
  }
  EXPECT_THAT(pool, testing::IsEmpty())
      << "libstdc++'s eh_alloc.o is linked into the preload library";
  // Defined, and local to the library: the program's own throws keep their
  // C++ runtime's.
  EXPECT_THAT(allocator_types, testing::ElementsAre('t'));
}

// internal/terse_terminate.cc takes the place of libstdc++'s vterminate.o,
// whose __verbose_terminate_handler brings in the C++ demangler: 3 KB of
// pointer tables the loader would relocate in every program the library
// enters.
TEST(PreloadSymbols, HoldsNoDemangler) {
  const std::vector<NmSymbol> symbols = ListSymbols("--defined-only", Library());
  ASSERT_GT(symbols.size(), 1000u) << "no symbol table to check";
  std::vector<std::string> demangler;
  for (const NmSymbol& symbol : symbols) {
    if (symbol.name.find("demangle") != std::string::npos) demangler.push_back(symbol.name);
  }
  EXPECT_THAT(demangler, testing::IsEmpty())
      << "libstdc++'s demangler is linked into the preload library";
}

// The pages of the library that the loader writes when it relocates it:
// each is copied for the process, in every program the library enters
// (~15 us apiece on the build machine's VM; docs/run.md, "A libc-only
// preload library"). Its own tables hold characters or are built on first
// use (inject/call.cc), so what is left is the C++ runtime's vtables, the
// GOT and the real functions' slots.
TEST(PreloadSymbols, LoaderRelocatesThreePagesAtMost) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Under --config=asan/tsan the library is sanitizer-built: its globals'
  // descriptors alone are thousands of relocations. The figure is the
  // optimized build's.
  GTEST_SKIP() << "a sanitizer build of the library";
#endif
  const std::string command = "readelf -rW '" + Library() + "'";
  FILE* readelf = popen(command.c_str(), "r");
  ASSERT_NE(readelf, nullptr) << command;
  std::set<unsigned long long> pages;
  size_t relocations = 0;
  char line[4096];
  while (fgets(line, sizeof(line), readelf) != nullptr) {
    // "000000000007d320  0000000000000008 R_X86_64_RELATIVE  ..."
    char* end = nullptr;
    unsigned long long offset = strtoull(line, &end, 16);
    if (end == line || end - line < 12 || *end != ' ') continue;
    pages.insert(offset / 4096);
    ++relocations;
  }
  ASSERT_EQ(pclose(readelf), 0) << command;
  ASSERT_GT(relocations, 100u) << "no relocations read from " << command;
  EXPECT_LE(pages.size(), 3u)
      << relocations << " relocations write " << pages.size()
      << " pages of the library at load: a new table of pointers? Give it "
         "characters, or build it on first use (inject/call.cc)";
}

TEST(PreloadSymbols, ExportsTheInterposedFunctionsOnly) {
  const std::string library = Library();
  std::set<std::string> exported = DefinedDynamicSymbols(library);
  ASSERT_FALSE(exported.empty());

  std::set<std::string> interposed;
  for (const CallInfo& info : AllCalls()) interposed.insert(std::string(info.name));
  for (const char* name :
       {"__read_chk", "__recv_chk", "__recvfrom_chk", "__poll_chk",
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
  for (const char* name : {"ipcfault_bypass_depth", "ipcfault_attach_bypass"}) {
    EXPECT_TRUE(exported.count(name) > 0)
        << name << " is not exported: the copies of ipcfault in a process cannot find "
                   "each other's Bypass";
  }
}

}  // namespace
}  // namespace ipcfault
