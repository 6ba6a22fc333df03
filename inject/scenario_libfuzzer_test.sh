#!/usr/bin/env bash
# Builds the scenario parser's fuzz target with clang's libFuzzer, ASan and
# UBSan against the system Abseil, and fuzzes it for a bounded number of runs
# from the seed corpus. Fails on a crash, a leak, undefined behaviour or a
# broken round-trip invariant (see scenario_fuzz.cc).
#
#   scenario_libfuzzer_test.sh RUNS
#
# Needs clang++ and libclang-rt-14-dev (./bazelw installs both). Runs offline
# inside Bazel's sandbox: everything it writes goes under $TEST_TMPDIR.
set -euo pipefail

runs="${1:-200000}"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
src="$PWD"   # the runfiles root of this workspace

cxx="${IPCFAULT_FUZZ_CXX:-clang++}"
if ! command -v "$cxx" >/dev/null; then
  echo "scenario_libfuzzer_test: $cxx not found; install clang and libclang-rt-14-dev" \
       "(./bazelw does)" >&2
  exit 1
fi

# Headers are included as "ipcfault/inject/...": give them that path.
mkdir -p "$tmp/include/ipcfault"
ln -sfn "$src/inject" "$tmp/include/ipcfault/inject"

absl_modules=(absl_status absl_statusor absl_strings absl_str_format absl_time)
read -r -a absl_cflags <<<"$(pkg-config --cflags "${absl_modules[@]}")"
read -r -a absl_libs <<<"$(pkg-config --libs "${absl_modules[@]}")"

binary="$tmp/scenario_fuzzer"
echo "scenario_libfuzzer_test: building $binary with $($cxx --version | head -1)"
"$cxx" -std=c++20 -g -O1 -Wall -Wextra \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$tmp/include" "${absl_cflags[@]}" \
  "$src/inject/scenario_fuzz.cc" "$src/inject/scenario.cc" "$src/inject/scenario_status.cc" \
  "$src/inject/scenario_format.cc" "$src/inject/call.cc" \
  "$src/inject/rule.cc" "$src/inject/rule_status.cc" "$src/inject/names.cc" \
  "${absl_libs[@]}" -o "$binary"

# libFuzzer adds what it finds to its first corpus directory: work on a copy.
corpus="$tmp/corpus"
mkdir -p "$corpus"
cp "$src"/inject/testdata/scenario_corpus/* "$corpus/"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
cd "$tmp"
set +e
"$binary" -runs="$runs" -seed=1 -max_len=512 -max_total_time=120 -print_final_stats=1 \
  -dict="$src/inject/testdata/scenario.dict" -artifact_prefix="$tmp/" "$corpus" \
  >"$tmp/fuzz.log" 2>&1
status=$?
set -e
# The log without libFuzzer's per-discovery lines.
grep -v -E "^(#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)|\"|\tNEW_FUNC)" "$tmp/fuzz.log" | tail -n 60
if [[ "$status" -ne 0 ]]; then
  echo "scenario_libfuzzer_test: the fuzzer failed (exit $status)" >&2
  if [[ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ]]; then
    cp "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$TEST_UNDECLARED_OUTPUTS_DIR/" \
      2>/dev/null || true
  fi
  exit 1
fi
done_line="$(grep -E '^Done [0-9]+ runs' "$tmp/fuzz.log" || true)"
echo "scenario_libfuzzer_test: ${done_line:-done}; no crash, no leak, invariants kept"
