// inject/internal/preload_absl.cc
//
// Linked into libipcfault_preload.so only (//inject:preload_runtime, as an
// alwayslink object), ahead of Debian's Abseil archives: the definitions of
// the few Abseil symbols whose archive members would otherwise bring
// libstdc++'s iostreams and locales into the library (docs/run.md, "A
// libc-only preload library").
//
// Debian builds Abseil without -ffunction-sections, so an archive member
// comes whole: libabsl_strings.a's string_view.cc.o holds both
// absl::string_view's out-of-line find functions, which nearly every Abseil
// string function calls, and operator<<(std::ostream&, string_view);
// libabsl_int128.a's int128.cc.o holds both kuint128max, which
// absl::Duration's code needs, and the int128 stream operators. The stream
// operators pull in std::ostream, std::stringstream and the classic locale's
// facets: 650 KB of the library's 1.7 MB, three thousand relocations and
// their pages, which every program the library enters paid at start-up
// (a tenth of /bin/true's time) for code the library never runs.
//
// Defined here instead, the two members are never linked in. The
// definitions follow the standard's std::string_view (which absl's mirrors);
// preload_absl_test checks them against std::string_view. Local to the
// library like all its C++ symbols (preload.lds).

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "absl/numeric/int128.h"
#include "absl/strings/string_view.h"

namespace absl {
ABSL_NAMESPACE_BEGIN

const uint128 kuint128max = MakeUint128(~uint64_t{0}, ~uint64_t{0});

namespace {

using size_type = string_view::size_type;

// Which bytes a set of characters holds.
class ByteSet {
 public:
  explicit ByteSet(string_view chars) {
    for (char c : chars) bits_[static_cast<unsigned char>(c)] = true;
  }
  bool Has(char c) const { return bits_[static_cast<unsigned char>(c)]; }

 private:
  bool bits_[256] = {};
};

}  // namespace

size_type string_view::find(string_view s, size_type pos) const noexcept {
  if (pos > length_ || s.length_ > length_ - pos) return npos;
  if (s.length_ == 0) return pos;
  const char* hit = static_cast<const char*>(
      memmem(ptr_ + pos, length_ - pos, s.ptr_, s.length_));
  return hit == nullptr ? npos : static_cast<size_type>(hit - ptr_);
}

size_type string_view::find(char c, size_type pos) const noexcept {
  if (pos >= length_) return npos;
  const void* hit = memchr(ptr_ + pos, c, length_ - pos);
  return hit == nullptr ? npos
                        : static_cast<size_type>(static_cast<const char*>(hit) - ptr_);
}

size_type string_view::rfind(string_view s, size_type pos) const noexcept {
  if (s.length_ > length_) return npos;
  for (size_type i = std::min(pos, length_ - s.length_);; --i) {
    if (s.length_ == 0 || memcmp(ptr_ + i, s.ptr_, s.length_) == 0) return i;
    if (i == 0) return npos;
  }
}

size_type string_view::rfind(char c, size_type pos) const noexcept {
  if (length_ == 0) return npos;
  for (size_type i = std::min(pos, length_ - 1);; --i) {
    if (ptr_[i] == c) return i;
    if (i == 0) return npos;
  }
}

size_type string_view::find_first_of(string_view s, size_type pos) const noexcept {
  const ByteSet set(s);
  for (size_type i = pos; i < length_; ++i) {
    if (set.Has(ptr_[i])) return i;
  }
  return npos;
}

size_type string_view::find_last_of(string_view s, size_type pos) const noexcept {
  if (length_ == 0) return npos;
  const ByteSet set(s);
  for (size_type i = std::min(pos, length_ - 1);; --i) {
    if (set.Has(ptr_[i])) return i;
    if (i == 0) return npos;
  }
}

size_type string_view::find_first_not_of(string_view s, size_type pos) const noexcept {
  const ByteSet set(s);
  for (size_type i = pos; i < length_; ++i) {
    if (!set.Has(ptr_[i])) return i;
  }
  return npos;
}

size_type string_view::find_first_not_of(char c, size_type pos) const noexcept {
  for (size_type i = pos; i < length_; ++i) {
    if (ptr_[i] != c) return i;
  }
  return npos;
}

size_type string_view::find_last_not_of(string_view s, size_type pos) const noexcept {
  if (length_ == 0) return npos;
  const ByteSet set(s);
  for (size_type i = std::min(pos, length_ - 1);; --i) {
    if (!set.Has(ptr_[i])) return i;
    if (i == 0) return npos;
  }
}

size_type string_view::find_last_not_of(char c, size_type pos) const noexcept {
  if (length_ == 0) return npos;
  for (size_type i = std::min(pos, length_ - 1);; --i) {
    if (ptr_[i] != c) return i;
    if (i == 0) return npos;
  }
}

ABSL_NAMESPACE_END
}  // namespace absl
