#!/usr/bin/env bash
# Builds and tests examples/downstream — a separate Bazel workspace that pulls
# ipcfault with local_repository, as a downstream team does — with a nested
# Bazel in batch mode, so a change that breaks downstream use fails
# `bazel test //...`.
set -euo pipefail

# The real source tree behind the runfiles (Bazel's sandbox mounts it
# read-only): follow the symlink of a file we depend on.
src_root=$(dirname "$(readlink -f "${TEST_SRCDIR}/${TEST_WORKSPACE}/WORKSPACE")")
work="${TEST_TMPDIR}/downstream"
mkdir -p "$work"
(cd "${src_root}/examples/downstream" && tar --exclude="./bazel-*" -cf - .) | tar -C "$work" -xf -
# The copy points at ipcfault by absolute path instead of ../..
sed -i "s|path = \"../..\"|path = \"${src_root}\"|" "$work/WORKSPACE"
grep -q "path = \"${src_root}\"" "$work/WORKSPACE" || {
  echo "downstream_test: could not rewrite the ipcfault path in WORKSPACE" >&2
  exit 1
}

cd "$work"
export HOME="${TEST_TMPDIR}/home"
mkdir -p "$HOME"
# --batch: no server (and no client/server socket); local spawns, since the
# outer sandbox cannot host another one.
log="${TEST_TMPDIR}/downstream.log"
status=0
bazel --batch --output_user_root="${TEST_TMPDIR}/bazel_root" \
  test //... \
  --spawn_strategy=local --test_strategy=standalone \
  --noshow_progress --test_output=errors >"$log" 2>&1 || status=$?
tail -n 60 "$log"
if ((status != 0)); then
  echo "downstream_test: the downstream workspace's bazel test failed ($status)" >&2
  exit 1
fi
# Each of the downstream suites must have run and passed, not been skipped.
for target in //greeter:greeter_test; do
  grep -Eq "^${target} +PASSED" "$log" || {
    echo "downstream_test: ${target} did not run and pass" >&2
    exit 1
  }
done

# Fences: ipcfault's internals (the engine, every target with a header under
# inject/internal/) are visible inside ipcfault only. A downstream package
# that names one must fail to build, each with Bazel's visibility error.
fenced=(engine real_functions arm_rules fire_log shared_counts preloadable
        sweep_support control_attach unix_address)
mkdir -p "$work/fence"
{
  echo 'load("@rules_cc//cc:defs.bzl", "cc_library")'
  for t in "${fenced[@]}"; do
    echo "cc_library(name = \"$t\", deps = [\"@ipcfault//inject:$t\"])"
  done
} >"$work/fence/BUILD.bazel"
fence_log="${TEST_TMPDIR}/fence.log"
if bazel --batch --output_user_root="${TEST_TMPDIR}/bazel_root" \
  build --nobuild --keep_going //fence:all \
  --noshow_progress >"$fence_log" 2>&1; then
  echo "downstream_test: a downstream target could depend on ipcfault's internals" >&2
  exit 1
fi
for t in "${fenced[@]}"; do
  grep -q "inject:$t' is not visible from target" "$fence_log" || {
    cat "$fence_log" >&2
    echo "downstream_test: @ipcfault//inject:$t is not fenced from downstream code" >&2
    exit 1
  }
done
echo "downstream_test: ${#fenced[@]} internal targets are not visible downstream"
