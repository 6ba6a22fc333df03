#include "ipcfault/inject/internal/error_names.h"

#include <netdb.h>
#include <string.h>

#include "ipcfault/inject/call.h"

namespace ipcfault::inject_internal {
namespace {

using Named = NamedCode;

constexpr Named kEaiCodes[] = {
    {EAI_BADFLAGS, "EAI_BADFLAGS"}, {EAI_NONAME, "EAI_NONAME"},
    {EAI_AGAIN, "EAI_AGAIN"},       {EAI_FAIL, "EAI_FAIL"},
    {EAI_FAMILY, "EAI_FAMILY"},     {EAI_SOCKTYPE, "EAI_SOCKTYPE"},
    {EAI_SERVICE, "EAI_SERVICE"},   {EAI_MEMORY, "EAI_MEMORY"},
    {EAI_SYSTEM, "EAI_SYSTEM"},     {EAI_OVERFLOW, "EAI_OVERFLOW"},
#ifdef EAI_NODATA
    {EAI_NODATA, "EAI_NODATA"},
#endif
#ifdef EAI_ADDRFAMILY
    {EAI_ADDRFAMILY, "EAI_ADDRFAMILY"},
#endif
};

constexpr Named kHErrnoCodes[] = {
    {HOST_NOT_FOUND, "HOST_NOT_FOUND"},
    {TRY_AGAIN, "TRY_AGAIN"},
    {NO_RECOVERY, "NO_RECOVERY"},
    {NO_DATA, "NO_DATA"},
};

template <size_t N>
const char* Lookup(const Named (&table)[N], int code) {
  for (const Named& entry : table) {
    if (entry.code == code) return entry.name;
  }
  return nullptr;
}

}  // namespace

absl::Span<const NamedCode> EaiCodes() { return kEaiCodes; }
absl::Span<const NamedCode> HErrnoCodes() { return kHErrnoCodes; }

const char* ErrorName(FailureStyle style, int error) {
  switch (style) {
    case FailureStyle::kEaiCode:
      return Lookup(kEaiCodes, error);
    case FailureStyle::kNullHErrno:
      return Lookup(kHErrnoCodes, error);
    case FailureStyle::kMinusOneErrno:
    case FailureStyle::kReturnsErrno:
    case FailureStyle::kNonzeroErrno:
    case FailureStyle::kSigErrErrno:
    case FailureStyle::kCannotFail:
      break;
  }
  // glibc >= 2.32: a lookup in a static table, no locale, no allocation.
  return strerrorname_np(error);
}

}  // namespace ipcfault::inject_internal
