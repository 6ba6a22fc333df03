// inject/internal/preload_eh_alloc.cc
//
// Linked into libipcfault_preload.so and the `ipcfault` command
// (//inject:lean_cxx_runtime), and into preload_eh_alloc_test: the C++
// runtime's four exception-allocation functions, in place of libstdc++.a's
// eh_alloc.o.
//
// libstdc++'s own versions come with an emergency pool, for throwing
// std::bad_alloc when malloc fails, which a static constructor allocates:
// 73 KB from malloc in every program the library enters, before its main().
// In a program that has not called malloc by then (/bin/true, and most
// programs before their main()), that one call initialises the allocator
// (a getrandom and two brk system calls) and writes two new heap pages,
// and the pool's bookkeeping writes a page of the library's .bss: three
// page faults and three system calls of a start-up that takes ~60 faults in
// all (docs/run.md, "Cost", has the figures).
//
// These allocate each exception from malloc, as libstdc++'s do while malloc
// succeeds, with the same header before the thrown object (the Itanium C++
// ABI's __cxa_exception, after GCC's reference count; the layout below),
// so that an exception allocated here is freed correctly by the runtime's
// own code and the other way round (preload_eh_alloc_test checks both
// against the system's libstdc++). What is lost is the pool itself: a throw
// inside the library when malloc has already failed terminates the process
// instead of throwing std::bad_alloc. The library's code lets no exception
// out into the program (its entry points are C functions), and the command
// catches no std::bad_alloc, so that throw would have ended in
// std::terminate as well.
//
// Hidden, like internal/preload_runtime.cc's definitions: the program's own
// exceptions stay its C++ runtime's business.

#include <unwind.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace ipcfault::inject_internal {
namespace {

// The Itanium C++ ABI's exception header (section 2.2.1), field for field,
// and GCC's wrapper of it; only their sizes are used here. What
// std::rethrow_exception throws, a dependent exception, is a header of the
// same fields (its first two hold the primary exception and padding) with
// no object after it.
struct CxaException {
  void* exception_type;
  void (*exception_destructor)(void*);
  void (*unexpected_handler)();
  void (*terminate_handler)();
  CxaException* next_exception;
  int handler_count;
  int handler_switch_value;
  const unsigned char* action_record;
  const unsigned char* language_specific_data;
  _Unwind_Ptr catch_temp;
  void* adjusted_ptr;
  _Unwind_Exception unwind_header;
};

// What __cxa_allocate_exception puts before a thrown object.
struct CxaRefcountedException {
  int reference_count;
  CxaException exception;
};

constexpr size_t kHeader = sizeof(CxaRefcountedException);

// A zeroed block of `header + extra` bytes from malloc, or std::terminate.
void* AllocateZeroedHeader(size_t header, size_t extra) {
  if (extra > SIZE_MAX - header) std::terminate();
  void* block = malloc(header + extra);
  if (block == nullptr) std::terminate();
  memset(block, 0, header);
  return block;
}

}  // namespace
}  // namespace ipcfault::inject_internal

// Under their C names through asm labels, as in preload_runtime.cc:
// <cxxabi.h> declares them with default visibility.
extern "C" {
__attribute__((visibility("hidden"))) void* IpcfaultAllocateException(size_t size) noexcept
    __asm__("__cxa_allocate_exception");
__attribute__((visibility("hidden"))) void IpcfaultFreeException(void* object) noexcept
    __asm__("__cxa_free_exception");
__attribute__((visibility("hidden"))) void* IpcfaultAllocateDependentException() noexcept
    __asm__("__cxa_allocate_dependent_exception");
__attribute__((visibility("hidden"))) void IpcfaultFreeDependentException(void* header) noexcept
    __asm__("__cxa_free_dependent_exception");

void* IpcfaultAllocateException(size_t size) noexcept {
  using ipcfault::inject_internal::kHeader;
  char* block =
      static_cast<char*>(ipcfault::inject_internal::AllocateZeroedHeader(kHeader, size));
  return block + kHeader;
}

void IpcfaultFreeException(void* object) noexcept {
  using ipcfault::inject_internal::kHeader;
  free(static_cast<char*>(object) - kHeader);
}

void* IpcfaultAllocateDependentException() noexcept {
  return ipcfault::inject_internal::AllocateZeroedHeader(
      sizeof(ipcfault::inject_internal::CxaException), 0);
}

void IpcfaultFreeDependentException(void* header) noexcept { free(header); }
}
