#!/usr/bin/env bash
# The CMake build, as a team without Bazel uses it: configures ipcfault with
# CMake (which reads every BUILD.bazel file: a target or source it cannot
# build fails here), builds what `cmake --install` installs (Release, -j2),
# installs it into a temporary prefix, then builds and tests
# examples/downstream_cmake against that prefix with find_package(ipcfault),
# and builds a program with `pkg-config --cflags --libs ipcfault` that arms
# a rule. The toolkit's own tests under CMake (ctest) are not run here: they
# are the same tests `bazel test` runs.
set -euo pipefail

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

step configure cmake -S "$src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release
step build cmake --build "$tmp/build" --target ipcfault_installed -j2
step install cmake --install "$tmp/build" --prefix "$prefix"

# The installed layout.
for f in bin/ipcfault lib/ipcfault/libipcfault_preload.so \
         lib/cmake/ipcfault/ipcfaultConfig.cmake lib/pkgconfig/ipcfault.pc \
         include/ipcfault/inject/faults.h include/ipcfault/fixtures/gtest.h \
         include/ipcfault/inject/mock_sys.h; do
  [[ -e "$prefix/$f" ]] || { echo "cmake_test: $prefix/$f was not installed" >&2; exit 1; }
done
"$prefix/bin/ipcfault" --help >"$tmp/help" 2>&1 || true
grep -q "ipcfault run" "$tmp/help" || {
  cat "$tmp/help"
  echo "cmake_test: the installed ipcfault --help does not describe 'ipcfault run'" >&2
  exit 1
}

# The downstream project, against the installed package only.
cp -r "$src/examples/downstream_cmake" "$tmp/downstream"
cd "$tmp/downstream"
step "downstream configure" cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix"
step "downstream build" cmake --build build -j2
step "downstream ctest" ctest --test-dir build --output-on-failure
# Each of the project's tests ran and passed.
for t in linecheck_test package_test ipcfault_run; do
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
