#!/usr/bin/env bash
# ipcfault's main job, as a newcomer first sees it:
#
#   ./bazelw run //examples:demo
#
# Runs the three example programs, unmodified, under `ipcfault run` with real
# failure scenarios: the server's first accept fails with EMFILE (it logs it
# and still serves the client), the client's connect is refused, every read
# the client makes returns at most one byte (it reassembles the echoes), and
# the graceful-shutdown parent's kill fails with EPERM. Between them, the
# same programs without faults. //examples:demo_test checks what it prints.
set -uo pipefail

# The binaries: in this script's runfiles, under `bazel run` or not.
root=""
for candidate in "${RUNFILES_DIR:-/nonexistent}/ipcfault" "$0.runfiles/ipcfault" "$(pwd)"; do
  if [[ -x "$candidate/examples/echo_server" && -x "$candidate/ipcfault" ]]; then
    root="$(cd "$candidate" && pwd)"
    break
  fi
done
if [[ -z "$root" ]]; then
  echo "demo: cannot find the example programs next to $0; run it with: bazel run //examples:demo" >&2
  exit 1
fi
ipcfault() { "$root/ipcfault" "$@"; }
# The programs and scenarios by short names, as a user types them. (Under
# `bazel run`, ipcfault resolves programs against the directory bazel was run
# from, BUILD_WORKING_DIRECTORY; here they are relative to this one.)
cd "$root/examples" || exit 1
unset BUILD_WORKING_DIRECTORY

if [[ -t 1 ]]; then
  say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
  say() { printf '\n%s\n' "$*"; }
fi
show() { printf '$ %s\n' "$*"; }

say "1. The echo server; its first accept() fails with EMFILE"
show "ipcfault run --scenario scenarios/server_accept_emfile.scenario -- ./echo_server --port=0 &"
coproc SERVER {
  exec "$root/ipcfault" run --scenario scenarios/server_accept_emfile.scenario -- ./echo_server --port=0 2>&1
}
server_pid=$SERVER_PID
# Our own copy of the server's output: bash drops SERVER[] once it exits.
exec {server_out}<&"${SERVER[0]:?echo_server exited at once}"
trap 'kill -KILL "$server_pid" 2>/dev/null' EXIT
if ! read -r -t 20 listening <&"$server_out"; then
  echo "demo: echo_server did not report its port" >&2
  exit 1
fi
echo "$listening"
port="${listening##*:}"

say "2. The client, no faults: the server logs the failed accept and still serves it"
show "./echo_client --port=$port"
./echo_client --port="$port"
read -r -t 20 accept_log <&"$server_out"
echo "(server) $accept_log"

say "3. The client, its connect() refused"
show "ipcfault run -e inject=connect:error=ECONNREFUSED:when=1 -- ./echo_client --port=$port"
ipcfault run -e inject=connect:error=ECONNREFUSED:when=1 -- ./echo_client --port="$port"
echo "(exit status $?)"

say "4. The client, every read() returning at most 1 byte: it reassembles each echo"
show "ipcfault run -e inject=read:short=1 -- ./echo_client --port=$port"
ipcfault run -e inject=read:short=1 -- ./echo_client --port="$port"
echo "(exit status $?)"

say "5. The server stops cleanly on SIGTERM (ipcfault forwards it)"
show "kill -TERM %1"
kill -TERM "$server_pid"
while read -r -t 20 line <&"$server_out"; do echo "(server) $line"; done
wait "$server_pid"
echo "(exit status $?)"
trap - EXIT

say "6. Graceful shutdown, its kill() failing with EPERM"
show "ipcfault run -e inject=kill:error=EPERM:when=1 -- ./graceful_shutdown"
ipcfault run -e inject=kill:error=EPERM:when=1 -- ./graceful_shutdown
echo "(exit status $?)"

say "7. Graceful shutdown, no faults: the child's SIGTERM handler ends it"
show "./graceful_shutdown"
./graceful_shutdown
echo "(exit status $?)"
