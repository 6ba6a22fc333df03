// inject/internal/engine_status.cc
//
// The engine's absl::Status entry points (arming.h), over its Status-free
// ones. In a file of their own so that the preload library, which takes the
// Status-free ones, links no object that names absl::Status (docs/run.md,
// "A libc-only preload library").

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/internal/arming.h"

namespace ipcfault::inject_internal {

absl::Status ArmGroup(std::shared_ptr<RuleGroup> group) {
  std::string why;
  if (TryArmGroup(std::move(group), &why)) return absl::OkStatus();
  if (why == kAlreadyArmed) return absl::FailedPreconditionError(why);
  return absl::InvalidArgumentError(why);
}

absl::StatusOr<uint64_t> ProcessSeed() {
  uint64_t seed = 0;
  std::string why;
  if (!TryProcessSeed(&seed, &why)) return absl::InvalidArgumentError(why);
  return seed;
}

absl::StatusOr<uint64_t> ParseSeed(absl::string_view text) {
  uint64_t value = 0;
  if (!ParseSeedValue(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not an unsigned 64-bit number"));
  }
  return value;
}

}  // namespace ipcfault::inject_internal
