#!/usr/bin/env bash
# Runs examples/demo.sh (the README's first command) and checks what it printed.
set -euo pipefail
out="$("$1" 2>&1)"
echo "$out"
expect() {
  if ! grep -Eq -- "$1" <<<"$out"; then
    echo "FAIL: no line matching: $1" >&2
    exit 1
  fi
}
p='[0-9]+'
expect "^listening on 127\.0\.0\.1:$p\$"
expect "^\(server\) echo_server: accept\(127\.0\.0\.1:$p\): Too many open files \[EMFILE\]; pausing accept for 100ms\$"
expect "^echo_client: connect\(127\.0\.0\.1:$p\): Connection refused \[ECONNREFUSED\]\$"
expect "^ipcfault: rule 0 connect:error=ECONNREFUSED:when=1: fired 1 time"
expect "^ipcfault: rule 0 read:short=1: fired $p times"
expect "^\(server\) ipcfault: rule 0 accept:error=EMFILE:when=1: fired 1 time"
expect "^\(server\) stopped by SIGTERM\$"
expect "^graceful_shutdown: kill\($p, SIGTERM\): Operation not permitted \[EPERM\]\$"
expect "^ipcfault: rule 0 kill:error=EPERM:when=1: fired 1 time"
expect "^child $p exited with status 0 after SIGTERM\$"
# Exit statuses, in order: refused client 1, short-read client 0, server 0,
# failed kill 1, graceful shutdown 0.
statuses="$(grep -Eo '^\(exit status [0-9]+\)$' <<<"$out" | tr -dc '0-9\n' | paste -sd' ')"
if [[ "$statuses" != "1 0 0 1 0" ]]; then
  echo "FAIL: exit statuses were '$statuses', not '1 0 0 1 0'" >&2
  exit 1
fi
# The three titles come back whole: twice (no faults; short reads), in order.
titles="$(grep -Ex 'War and Peace|Pride and Prejudice|The Sound and the Fury' <<<"$out")"
expected="$(printf '%s\n' 'War and Peace' 'Pride and Prejudice' 'The Sound and the Fury' \
                         'War and Peace' 'Pride and Prejudice' 'The Sound and the Fury')"
if [[ "$titles" != "$expected" ]]; then
  echo "FAIL: the echoes were not the three titles twice, in order:" >&2
  echo "$titles" >&2
  exit 1
fi
echo PASS
