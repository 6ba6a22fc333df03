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
