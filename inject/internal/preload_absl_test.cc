// inject/internal/preload_absl_test.cc
//
// preload_absl.cc's absl::string_view search functions, linked into this
// test ahead of Debian's Abseil (whose definitions they then replace, as in
// the preload library), against std::string_view's: every haystack and
// needle over a three-letter alphabet up to four characters, at every
// position and npos.

#include <dlfcn.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace {

std::vector<std::string> Words(int max_length) {
  std::vector<std::string> words = {""};
  for (size_t i = 0; i < words.size(); ++i) {
    if (static_cast<int>(words[i].size()) == max_length) continue;
    for (char c : {'a', 'b', 'c'}) words.push_back(words[i] + c);
  }
  return words;
}

std::vector<size_t> Positions(size_t length) {
  std::vector<size_t> positions;
  for (size_t p = 0; p <= length + 2; ++p) positions.push_back(p);
  positions.push_back(std::string_view::npos);
  positions.push_back(std::string_view::npos - 1);
  return positions;
}

// The object that defines the code at `address`.
std::string DefiningObject(const void* address) {
  Dl_info info;
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "(none)";
  return info.dli_fname;
}

// The test runs this file's definitions, not Debian's libabsl_strings.so's:
// the executable defines them, so they take the shared library's place.
TEST(PreloadAbsl, TheseDefinitionsAreTheOnesCalled) {
  using Rfind = absl::string_view::size_type (absl::string_view::*)(
      char, absl::string_view::size_type) const noexcept;
  Rfind rfind = &absl::string_view::rfind;
  // A pointer to a non-virtual member function holds its address first
  // (the Itanium C++ ABI).
  const void* code;
  memcpy(&code, &rfind, sizeof(code));
  Dl_info self;
  ASSERT_NE(dladdr(reinterpret_cast<const void*>(&DefiningObject), &self), 0);
  EXPECT_EQ(DefiningObject(code), self.dli_fname);
  EXPECT_EQ(DefiningObject(&absl::kuint128max), self.dli_fname);
}

TEST(PreloadAbsl, StringSearchesMatchStdStringView) {
  int checked = 0;
  for (const std::string& hay : Words(4)) {
    const absl::string_view a(hay);
    const std::string_view s(hay);
    for (const std::string& needle : Words(3)) {
      for (size_t pos : Positions(hay.size())) {
        SCOPED_TRACE("haystack \"" + hay + "\", needle \"" + needle + "\", pos " +
                     std::to_string(pos));
        ASSERT_EQ(a.find(needle, pos), s.find(needle, pos));
        ASSERT_EQ(a.rfind(needle, pos), s.rfind(needle, pos));
        ASSERT_EQ(a.find_first_of(needle, pos), s.find_first_of(needle, pos));
        ASSERT_EQ(a.find_last_of(needle, pos), s.find_last_of(needle, pos));
        ASSERT_EQ(a.find_first_not_of(needle, pos), s.find_first_not_of(needle, pos));
        ASSERT_EQ(a.find_last_not_of(needle, pos), s.find_last_not_of(needle, pos));
        if (needle.size() == 1) {
          const char c = needle[0];
          ASSERT_EQ(a.find(c, pos), s.find(c, pos));
          ASSERT_EQ(a.rfind(c, pos), s.rfind(c, pos));
          ASSERT_EQ(a.find_first_not_of(c, pos), s.find_first_not_of(c, pos));
          ASSERT_EQ(a.find_last_not_of(c, pos), s.find_last_not_of(c, pos));
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 40000);
}

// Bytes above 0x7f are characters like any other (a signed char must not
// index below the set).
TEST(PreloadAbsl, HighBytesAreCharacters) {
  const std::string hay = "a\xff" "b\x80";
  const absl::string_view a(hay);
  EXPECT_EQ(a.find_first_of("\x80\xff"), 1u);
  EXPECT_EQ(a.find_last_of("\xff"), 1u);
  EXPECT_EQ(a.find_first_not_of("a\xff"), 2u);
  EXPECT_EQ(a.find_last_not_of("\x80"), 2u);
  EXPECT_EQ(a.rfind('\x80'), 3u);
}

TEST(PreloadAbsl, Uint128Max) {
  EXPECT_EQ(absl::kuint128max, absl::Uint128Max());
  EXPECT_EQ(absl::Uint128High64(absl::kuint128max), ~uint64_t{0});
  EXPECT_EQ(absl::Uint128Low64(absl::kuint128max), ~uint64_t{0});
}

}  // namespace
