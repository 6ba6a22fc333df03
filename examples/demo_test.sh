#!/usr/bin/env bash
# Runs examples/demo.sh and checks what it printed.
set -euo pipefail
out="$("$1" 2>&1)"
echo "$out"
expect() {
  if ! grep -Eq "$1" <<<"$out"; then
    echo "FAIL: no line matching: $1" >&2
    exit 1
  fi
}
expect '^listening on 127\.0\.0\.1:[0-9]+$'
expect '^War and Peace$'
expect '^Pride and Prejudice$'
expect '^The Sound and the Fury$'
expect '^stopped by SIGTERM$'
expect '^child [0-9]+ exited with status 0 after SIGTERM$'
expect '^child [0-9]+ ignored SIGTERM; sent SIGKILL; killed by signal 9$'
echo PASS
