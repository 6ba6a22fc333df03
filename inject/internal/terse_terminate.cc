// inject/internal/terse_terminate.cc
//
// __gnu_cxx::__verbose_terminate_handler, the handler std::terminate calls
// by default, for the preload library and the `ipcfault` command
// (//inject:lean_cxx_runtime), in place of libstdc++'s: it says what was
// thrown as libstdc++'s does, but under the type's mangled name
// ("St12length_error"), and aborts.
//
// Why: libstdc++.a's (vterminate.o) brings in the C++ demangler, whose
// tables are 3 KB of pointers. In a shared object the loader relocates
// every such pointer when the program starts, so in the preload library
// they were one more page written, and copied, in every process it enters
// (~15 us on the build machine's VM; docs/run.md, "A libc-only preload
// library"). Defining the function here keeps that archive member, and the
// demangler, out of the link. A libstdc++ that named it otherwise would
// link its own again, and preload_symbols_test's HoldsNoDemangler (and the
// command's command_runtime_test) would say so.
//
// The library's std::terminate is private to it (it exports the interposed
// calls only): a C++ program it enters keeps its own runtime's handler. The
// library lets no exception out of its entry points, so this runs only on
// a bug of ours.

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cxxabi.h>

#include <exception>
#include <typeinfo>

namespace {

void Say(const char* text) {
  size_t left = strlen(text);
  while (left > 0) {
    ssize_t n = write(STDERR_FILENO, text, left);
    if (n <= 0) return;
    text += n;
    left -= static_cast<size_t>(n);
  }
}

[[noreturn]] void TerseTerminate() {
  const std::type_info* thrown = abi::__cxa_current_exception_type();
  if (thrown == nullptr) {
    Say("ipcfault: terminate called without an active exception\n");
    abort();
  }
  Say("ipcfault: terminate called after throwing an instance of '");
  Say(thrown->name());
  Say("'");
  try {
    throw;
  } catch (const std::exception& e) {
    Say(": ");
    Say(e.what());
  } catch (...) {
  }
  Say("\n");
  abort();
}

}  // namespace

// Under its mangled name, so that it can be hidden in the library (whose
// version script exports every name but the local ones, while libstdc++'s
// headers give __gnu_cxx default visibility).
extern "C" __attribute__((visibility("hidden"), noreturn)) void IpcfaultTerseTerminate()
    __asm__("_ZN9__gnu_cxx27__verbose_terminate_handlerEv");
extern "C" void IpcfaultTerseTerminate() { TerseTerminate(); }
