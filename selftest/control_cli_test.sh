#!/usr/bin/env bash
# `ipcfault run --control` and `ipcfault ctl` as a shell script uses them:
# the lines README.md quotes ("Live control"), run against examples'
# echo_server and echo_client. The server fails its accepts while the rule
# is armed (a client waits, unserved), then serves the waiting client once
# it is disarmed.
set -euo pipefail
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
ipcfault="$(absolute "$1")"
echo_server="$(absolute "$2")"
echo_client="$(absolute "$3")"
dir="$(mktemp -d "${TEST_TMPDIR:-/tmp}/control.XXXXXX")"
mkfifo "$dir/server.out"
run=""
cleanup() {
  if [[ -n "$run" ]]; then kill "$run" 2>/dev/null || true; wait "$run" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$dir"
mkdir bin
ln -s "$ipcfault" bin/ipcfault
ln -s "$echo_server" echo_server
ln -s "$echo_client" echo_client
PATH="$dir/bin:$PATH"

# The server, under control; its first line ("listening on ...") is the
# handshake: the control socket exists from before it starts.
ipcfault run --control=ctl -- ./echo_server --port=0 >server.out 2>server.err &
run=$!
exec 3<server.out
read -r listening <&3
port="${listening##*:}"
./echo_client --port="$port" >/dev/null || fail "the server does not serve"

id=$(ipcfault ctl ctl arm -e accept:error=EMFILE)
./echo_client --port="$port" --timeout=60s >client.out &   # waits, unserved
ipcfault ctl ctl wait "$id" --fired=3 --timeout=60s
ipcfault ctl ctl list
ipcfault ctl ctl disarm "$id"
wait $!                                                   # served at last

[[ "$id" == 1 ]] || fail "arm printed '$id', not the rule's id 1"
grep -qx 'War and Peace' client.out || fail "the waiting client was not served: $(cat client.out)"
list="$(ipcfault ctl ctl list)"
grep -Eq '^1 +disarmed +[0-9]+ +[0-9]+  accept:error=EMFILE$' <<<"$list" || fail "list: $list"
kill -TERM "$run"
status=0
wait "$run" || status=$?
run=""
[[ "$status" == 0 ]] || fail "ipcfault run exited $status: $(cat server.err)"
emfile="$(grep -c 'accept(127.0.0.1:[0-9]*): Too many open files \[EMFILE\]; pausing accept' server.err || true)"
[[ "$emfile" -ge 3 ]] || fail "the server logged $emfile EMFILE accepts: $(cat server.err)"
grep -Eq "^ipcfault: rule 1 accept:error=EMFILE \(disarmed\): fired $emfile times" server.err ||
  fail "no summary line for rule 1: $(cat server.err)"
[[ ! -e ctl ]] || fail "the control socket outlived the run"
set +e
ipcfault ctl ctl list 2>ctl.err
status=$?
set -e
[[ "$status" == 2 ]] || fail "ctl on an ended run exited $status"
grep -q 'no such control socket' ctl.err || fail "ctl on an ended run said: $(cat ctl.err)"
echo PASS
