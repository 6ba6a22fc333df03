// inject/internal/preload_runtime.cc
//
// Linked into libipcfault_preload.so only (never into the command, the
// fixtures or a test): two things the static C++ runtime would otherwise
// cost every program the library enters at start-up (docs/run.md, "A
// libc-only preload library").
//
// 1. std::ios_base::Init. With GCC 12, every translation unit that includes
//    <iostream> — and absl/status/status.h does, so nearly all of the
//    library's own — holds a static ios_base::Init object whose constructor
//    builds cin, cout, cerr, clog, their wide twins and the classic locale's
//    twenty-eight facets: a third of /bin/true's start-up on the build
//    machine, run in every process of every run, for streams the library
//    never uses. These definitions take the place of libstdc++.a's
//    ios_init.o and do nothing. They are sound only while nothing in the
//    library uses a standard stream: then libstdc++.a's globals_io.o, which
//    defines them, is never linked in, and preload_symbols_test checks that
//    the library defines no std::cout, std::cerr, std::clog or std::cin.
//    (GCC 13 moved the initialisation into libstdc++ itself, once.)
//
// 2. nan and nanf, the only functions the library's code (Abseil's
//    charconv, which absl::SimpleAtod reaches) takes from libm rather than
//    libc: defined here, from libc's strtod, so that the library needs
//    nothing but libc and the loader (the others Abseil uses, frexp, ldexp
//    and modf, libc exports too; :static_runtime names libc before the
//    toolchain's -lm so that they bind there). Hidden: the program's own
//    nan is libm's.

#include <cstdlib>

// Defined under their mangled names (std::ios_base::Init::Init() and
// ~Init(), the complete-object forms that every static Init object calls),
// so that they can be hidden: the version script exports every name but the
// local ones, and libstdc++'s headers give std:: default visibility.
extern "C" {
__attribute__((visibility("hidden"))) void IpcfaultNoStreamsInit(void*) __asm__(
    "_ZNSt8ios_base4InitC1Ev");
__attribute__((visibility("hidden"))) void IpcfaultNoStreamsFini(void*) __asm__(
    "_ZNSt8ios_base4InitD1Ev");
void IpcfaultNoStreamsInit(void*) {}
void IpcfaultNoStreamsFini(void*) {}
}

namespace {

// "NAN(" tag ")", as C11 7.22.1.3 defines nan(tag): what strtod parses. A
// tag too long for the buffer is cut, and strtod then reads a plain NAN.
template <typename T, T (*Parse)(const char*, char**)>
T QuietNan(const char* tag) {
  char text[64] = "NAN(";
  size_t n = 4;
  for (; tag != nullptr && *tag != '\0' && n + 2 < sizeof(text); ++tag) {
    text[n++] = *tag;
  }
  text[n++] = ')';
  text[n] = '\0';
  return Parse(text, nullptr);
}

}  // namespace

// Under their C names through asm labels, like the two above: <cstdlib>
// already declares nan and nanf with default visibility.
extern "C" {
__attribute__((visibility("hidden"))) double IpcfaultNan(const char* tag) __asm__("nan");
__attribute__((visibility("hidden"))) float IpcfaultNanf(const char* tag) __asm__("nanf");
double IpcfaultNan(const char* tag) { return QuietNan<double, std::strtod>(tag); }
float IpcfaultNanf(const char* tag) { return QuietNan<float, std::strtof>(tag); }
}
