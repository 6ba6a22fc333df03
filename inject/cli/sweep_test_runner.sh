#!/bin/bash
# The body of every ipcfault_sweep_test (sweep.bzl): `ipcfault sweep` with
# the rule's options. The sweep reads Bazel's sharding variables itself and
# writes its reports under $TEST_UNDECLARED_OUTPUTS_DIR.
ipcfault="$1"
shift
exec "$ipcfault" sweep "$@"
