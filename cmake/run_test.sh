#!/bin/sh
# Runs one test of the CMake build as `bazel test` would (Bazel's
# tools/test/test-setup.sh): in the runfiles tree (<build>/runfiles/ipcfault),
# with TEST_SRCDIR, TEST_WORKSPACE, a fresh TEST_TMPDIR (also HOME) and
# TEST_UNDECLARED_OUTPUTS_DIR (where `ipcfault run` keeps its fire log under
# a test), removed afterwards, and "." first on PATH.
#   run_test.sh RUNFILES_DIR PROGRAM [ARGS...]
runfiles=$1
shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipcfault_test.XXXXXX") || exit 1
cd "$runfiles/ipcfault" || exit 1
mkdir "$tmp/outputs" || exit 1
TEST_SRCDIR=$runfiles TEST_WORKSPACE=ipcfault TEST_TMPDIR=$tmp HOME=$tmp \
  TEST_UNDECLARED_OUTPUTS_DIR=$tmp/outputs \
  GTEST_TMP_DIR=$tmp PATH=".:$PATH" "$@"
status=$?
rm -rf "$tmp"
exit $status
