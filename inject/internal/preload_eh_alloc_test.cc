// Tests for internal/preload_eh_alloc.cc, which the test is built with: its
// hidden definitions are what the test's own throws call, while the
// system's libstdc++ (a shared library here) runs the rest of each throw and
// frees the exception with its own __cxa_free_exception. A header of another
// size than the runtime's would make that free() take a pointer malloc never
// returned: glibc aborts ("free(): invalid pointer"), ASan reports it.

#include <cxxabi.h>
#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace {

using AllocateFn = void* (*)(size_t);
using FreeFn = void (*)(void*);
using AllocateDependentFn = void* (*)();

// The system C++ runtime's own function `name`: the test's definitions are
// hidden, so the loader finds only libstdc++'s.
template <typename Fn>
Fn Runtimes(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

// The file that holds the code at `address`.
std::string ObjectOf(const void* address) {
  Dl_info info = {};
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

void Anchor() {}

TEST(PreloadEhAlloc, TheTestsThrowsUseTheseDefinitions) {
  const void* ours = reinterpret_cast<const void*>(&abi::__cxa_allocate_exception);
  const auto runtimes = Runtimes<AllocateFn>("__cxa_allocate_exception");
  ASSERT_NE(runtimes, nullptr) << "no libstdc++ in the process";
  EXPECT_NE(ours, reinterpret_cast<const void*>(runtimes));
  EXPECT_EQ(ObjectOf(ours), ObjectOf(reinterpret_cast<const void*>(&Anchor)));
  EXPECT_NE(ObjectOf(ours), ObjectOf(reinterpret_cast<const void*>(runtimes)));
}

// Allocated here, freed by the runtime, and the other way round.
TEST(PreloadEhAlloc, TheRuntimeFreesWhatTheseAllocateAndTheOtherWayRound) {
  const auto runtime_allocate = Runtimes<AllocateFn>("__cxa_allocate_exception");
  const auto runtime_free = Runtimes<FreeFn>("__cxa_free_exception");
  const auto runtime_allocate_dependent =
      Runtimes<AllocateDependentFn>("__cxa_allocate_dependent_exception");
  const auto runtime_free_dependent = Runtimes<FreeFn>("__cxa_free_dependent_exception");
  ASSERT_NE(runtime_allocate, nullptr);
  ASSERT_NE(runtime_free, nullptr);
  ASSERT_NE(runtime_allocate_dependent, nullptr);
  ASSERT_NE(runtime_free_dependent, nullptr);
  for (size_t size : {size_t{1}, size_t{16}, size_t{100}, size_t{4096}, size_t{1 << 20}}) {
    void* ours = abi::__cxa_allocate_exception(size);
    ASSERT_NE(ours, nullptr);
    // The thrown object is aligned as the ABI asks, and all of it is ours.
    EXPECT_EQ(reinterpret_cast<uintptr_t>(ours) % __BIGGEST_ALIGNMENT__, 0u);
    memset(ours, 0xab, size);
    runtime_free(ours);

    void* theirs = runtime_allocate(size);
    ASSERT_NE(theirs, nullptr);
    memset(theirs, 0xcd, size);
    abi::__cxa_free_exception(theirs);
  }
  void* ours = abi::__cxa_allocate_dependent_exception();
  ASSERT_NE(ours, nullptr);
  runtime_free_dependent(ours);
  void* theirs = runtime_allocate_dependent();
  ASSERT_NE(theirs, nullptr);
  abi::__cxa_free_dependent_exception(static_cast<abi::__cxa_dependent_exception*>(theirs));
}

// Whole throws: allocated here, thrown, caught and freed by the runtime.
TEST(PreloadEhAlloc, ExceptionsThrownCarryTheirValues) {
  for (int i = 0; i < 1000; ++i) {
    const std::string message(static_cast<size_t>(i % 97) * 13 + 1, static_cast<char>('a' + i % 26));
    try {
      throw std::runtime_error(message);
    } catch (const std::runtime_error& e) {
      ASSERT_EQ(e.what(), message);
    }
    try {
      throw i;
    } catch (int caught) {
      ASSERT_EQ(caught, i);
    }
  }
}

TEST(PreloadEhAlloc, NestedAndRethrownExceptionsKeepTheirValues) {
  try {
    try {
      throw std::out_of_range("inner");
    } catch (...) {
      std::throw_with_nested(std::logic_error("outer"));
    }
  } catch (const std::logic_error& outer) {
    EXPECT_STREQ(outer.what(), "outer");
    try {
      std::rethrow_if_nested(outer);
      ADD_FAILURE() << "no nested exception";
    } catch (const std::out_of_range& inner) {
      EXPECT_STREQ(inner.what(), "inner");
    }
  }
}

// An exception kept past its catch (std::exception_ptr) and rethrown on
// another thread: the runtime's reference count, in the header, keeps it.
TEST(PreloadEhAlloc, AnExceptionPtrOutlivesItsCatchAndCrossesThreads) {
  std::exception_ptr kept;
  try {
    throw std::runtime_error(std::string(300, 'k'));
  } catch (...) {
    kept = std::current_exception();
  }
  ASSERT_TRUE(kept);
  std::string seen;
  std::thread other([&] {
    try {
      std::rethrow_exception(kept);
    } catch (const std::runtime_error& e) {
      seen = e.what();
    }
  });
  other.join();
  EXPECT_EQ(seen, std::string(300, 'k'));
  kept = nullptr;
}

}  // namespace
