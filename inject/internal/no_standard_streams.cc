// inject/internal/no_standard_streams.cc
//
// std::ios_base::Init, doing nothing (//inject:lean_cxx_runtime): linked
// into the preload library and into the `ipcfault` command, never
// into the fixtures or a test (docs/run.md, "A libc-only preload library"
// and "The command's own start").
//
// With GCC 12, every translation unit that includes <iostream> — and
// absl/status/status.h does, so nearly all of ipcfault's own — holds a
// static ios_base::Init object whose constructor builds cin, cout, cerr,
// clog, their wide twins and the classic locale's twenty-eight facets: a
// third of /bin/true's start-up on the build machine, in every process the
// library enters and in every `ipcfault` command, for streams neither uses.
// These definitions take the place of libstdc++.a's ios_init.o. They are
// sound only while nothing uses a standard stream: the library's
// preload_symbols_test checks that it defines none (libstdc++.a's
// globals_io.o, which defines them, is then never linked in), and the
// command's //selftest:command_runtime_test that no code of the command
// refers to one but Abseil's CordRepBtree::AssertValid, which would print a
// corrupt Cord tree to std::cout just before aborting the process. The
// command writes through stdio (inject/cli/cli_util.h: Out, Err). (GCC 13
// moved the initialisation into libstdc++ itself, once.)
//
// A locale or a string stream still works: std::locale builds the classic
// locale on first use, whoever asks.

// Defined under their mangled names (std::ios_base::Init::Init() and
// ~Init(), the complete-object forms that every static Init object calls),
// so that they can be hidden in the library: its version script exports
// every name but the local ones, and libstdc++'s headers give std::
// default visibility.
extern "C" {
__attribute__((visibility("hidden"))) void IpcfaultNoStreamsInit(void*) __asm__(
    "_ZNSt8ios_base4InitC1Ev");
__attribute__((visibility("hidden"))) void IpcfaultNoStreamsFini(void*) __asm__(
    "_ZNSt8ios_base4InitD1Ev");
void IpcfaultNoStreamsInit(void*) {}
void IpcfaultNoStreamsFini(void*) {}
}
