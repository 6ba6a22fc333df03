// inject/internal/preload_runtime.cc
//
// Linked into libipcfault_preload.so only (never into the command, the
// fixtures or a test): nan and nanf, the only functions the library's code
// (Abseil's charconv, which absl::SimpleAtod reaches) takes from libm rather
// than libc, defined here from libc's strtod, so that the library needs
// nothing but libc and the loader (docs/run.md, "A libc-only preload
// library"). The others Abseil uses, frexp, ldexp and modf, libc exports
// too; :static_runtime names libc before the toolchain's -lm so that they
// bind there. Hidden: the program's own nan is libm's.
//
// The rest of what the static C++ runtime would cost every program the
// library enters is replaced next door: the standard streams' start-up
// (no_standard_streams.cc), the exception pool (preload_eh_alloc.cc),
// Abseil's members that bring iostreams in (preload_absl.cc).

#include <cstdlib>

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

// Under their C names through asm labels, so that they can be hidden:
// <cstdlib> already declares nan and nanf with default visibility.
extern "C" {
__attribute__((visibility("hidden"))) double IpcfaultNan(const char* tag) __asm__("nan");
__attribute__((visibility("hidden"))) float IpcfaultNanf(const char* tag) __asm__("nanf");
double IpcfaultNan(const char* tag) { return QuietNan<double, std::strtod>(tag); }
float IpcfaultNanf(const char* tag) { return QuietNan<float, std::strtof>(tag); }
}
