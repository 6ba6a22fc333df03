#!/usr/bin/env bash
# The CMake build, as a team without Bazel uses it. Configures ipcfault with
# CMake, which reads every BUILD.bazel file (a target or source it cannot
# build fails here, and the Bazel-only targets it reports must be the ones
# the README names); builds the libraries `cmake --install` installs
# (Release, -j2) and installs them into a temporary prefix; then builds and
# tests examples/downstream_cmake against that prefix with
# find_package(ipcfault), and a program with `pkg-config --cflags --libs
# ipcfault` that arms a rule.
#
# To keep `bazel test //...` short, the command and the preload library are
# not compiled again here: Bazel's (this test's data) are put where
# `cmake --install` puts them, <prefix>/bin and <prefix>/lib/ipcfault, and
# must work from there, outside any runfiles, from another directory. The
# whole CMake build and its ctest are the README's commands, run by hand.
#
#   cmake_test.sh IPCFAULT PRELOAD_LIBRARY
set -euo pipefail

ipcfault_bin=$(readlink -f "$1")
preload_lib=$(readlink -f "$2")
# The real source tree behind the runfiles (as downstream_test does).
src=$(dirname "$(readlink -f "${TEST_SRCDIR}/${TEST_WORKSPACE}/WORKSPACE")")
tmp="${TEST_TMPDIR}/cmake"
rm -rf "$tmp"
mkdir -p "$tmp"
log="$tmp/log"
prefix="$tmp/prefix"
export HOME="$tmp/home"
mkdir -p "$HOME"

step() {
  local name=$1
  shift
  local start=$SECONDS
  if ! "$@" >>"$log" 2>&1; then
    tail -n 80 "$log"
    echo "cmake_test: '$name' failed: $*" >&2
    exit 1
  fi
  echo "cmake_test: $name: $((SECONDS - start)) s"
}

# Debug, not the README's Release: the test checks the build, the install
# and the package, not the code's speed, and unoptimised compiles take about
# half the time (the libraries the command and the preload library link are
# -O2 whatever the build type: FAST_COPTS in inject/BUILD.bazel).
step configure cmake -S "$src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_INSTALL_PREFIX="$prefix"

# The README names every Bazel-only target.
bazel_only=$(sed -n 's/^-- ipcfault: Bazel-only targets: //p' "$log")
readme=$(sed -n '/^## With CMake/,/^## /p' "$src/README.md" | tr '\n' ' ')
for target in $bazel_only; do
  [[ "$readme" == *"\`${target}\`"* ]] || {
    echo "cmake_test: ${target} is Bazel-only (tagged no-cmake, fuzz or manual);" \
      "say so in the README's 'With CMake' section" >&2
    exit 1
  }
done

step build cmake --build "$tmp/build" --target ipcfault_libraries -j2
step install cmake --install "$tmp/build"
mkdir -p "$prefix/bin" "$prefix/lib/ipcfault"
cp "$ipcfault_bin" "$prefix/bin/ipcfault"
cp "$preload_lib" "$prefix/lib/ipcfault/libipcfault_preload.so"

# The installed layout.
for f in lib/cmake/ipcfault/ipcfaultConfig.cmake lib/pkgconfig/ipcfault.pc \
         lib/libipcfault_faults.a lib/libipcfault_interpose.a \
         include/ipcfault/inject/faults.h include/ipcfault/fixtures/gtest.h \
         include/ipcfault/inject/mock_sys.h include/ipcfault/testing/status_matchers.h \
         libexec/ipcfault/ipcfault_echo_server; do
  [[ -e "$prefix/$f" ]] || { echo "cmake_test: $prefix/$f was not installed" >&2; exit 1; }
done

# The fence: no internal/ header is installed (docs/call_spec.md, "Fences").
internal_headers=$(cd "$prefix/include" && find . -path '*/internal/*' -type f)
[[ -z "$internal_headers" ]] || {
  echo "$internal_headers" >&2
  echo "cmake_test: these internal headers were installed" >&2
  exit 1
}

# Outside Bazel's runfiles and from elsewhere, the command finds its preload
# library in ../lib/ipcfault/: bash's connect() to /dev/tcp fails as armed
# (for real, a loopback port with no listener refuses), and the fire is
# logged.
out=$(cd / && env -u TEST_SRCDIR -u RUNFILES_DIR -u IPCFAULT_PRELOAD_LIBRARY \
  "$prefix/bin/ipcfault" run -e inject=connect:error=ENETUNREACH:when=1 \
  --log "$tmp/fires.log" -- bash -c 'exec 7<>/dev/tcp/127.0.0.1/9' 2>&1) || true
grep -q "connect: Network is unreachable" <<<"$out" &&
  grep -q '"call":"connect".*"errno":"ENETUNREACH"' "$tmp/fires.log" || {
  echo "$out"
  echo "cmake_test: the installed ipcfault did not inject into bash's connect" >&2
  exit 1
}

# The downstream project, against the installed package only.
cp -r "$src/examples/downstream_cmake" "$tmp/downstream"
cd "$tmp/downstream"
step "downstream configure" env -u TEST_SRCDIR -u RUNFILES_DIR \
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug -DCMAKE_PREFIX_PATH="$prefix"
step "downstream build" cmake --build build -j2
step "downstream ctest" env -u TEST_SRCDIR -u RUNFILES_DIR \
  ctest --test-dir build --output-on-failure
# Each of the project's tests ran and passed.
for t in linecheck_test ipcfault_run; do
  grep -Eq "Test +#[0-9]+: ${t} \.+ +Passed" "$log" || {
    tail -n 40 "$log"
    echo "cmake_test: the downstream test ${t} did not run and pass" >&2
    exit 1
  }
done

# pkg-config alone.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
step "pkg-config build" sh -c \
  'c++ -o refused pkg_config_example.cc $(pkg-config --cflags --libs ipcfault)'
step "pkg-config run" ./refused
grep -q "first connect: Connection refused; second connect: ok; fired 1" "$log" || {
  tail -n 20 "$log"
  echo "cmake_test: the pkg-config program did not see its rule fire" >&2
  exit 1
}
echo "cmake_test: PASS"
