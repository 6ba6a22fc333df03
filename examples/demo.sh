#!/usr/bin/env bash
# The three example programs at work, as a newcomer first runs them:
#
#   ./bazelw run //examples:demo
#
# Starts echo_server on an ephemeral port (read from its first line), runs
# echo_client against it, stops the server with SIGTERM, then runs
# graceful_shutdown twice: a child that handles SIGTERM, and one that ignores
# it and has to be killed.
set -euo pipefail

# The binaries: beside this script in its runfiles, under `bazel run` or not.
bin=""
for candidate in "${RUNFILES_DIR:-/nonexistent}/ipcfault/examples" "$0.runfiles/ipcfault/examples" \
                 "$(pwd)/examples" "$(dirname "$0")"; do
  if [[ -x "$candidate/echo_server" ]]; then bin="$candidate"; break; fi
done
if [[ -z "$bin" ]]; then
  echo "demo: cannot find echo_server next to $0; run it with: bazel run //examples:demo" >&2
  exit 1
fi

echo "\$ echo_server --port=0 &"
coproc SERVER { exec "$bin/echo_server" --port=0; }
server_pid=$SERVER_PID
# Our own copy of the server's stdout: bash drops SERVER[] once it exits.
exec {server_out}<&"${SERVER[0]:?echo_server exited at once}"
trap 'kill -KILL "$server_pid" 2>/dev/null || true' EXIT
if ! read -r -t 20 listening <&"$server_out"; then
  echo "demo: echo_server did not report its port" >&2
  exit 1
fi
echo "$listening"
port="${listening##*:}"

echo "\$ echo_client --port=$port"
"$bin/echo_client" --port="$port"

echo "\$ kill -TERM <echo_server>"
kill -TERM "$server_pid"
read -r -t 20 stopped <&"$server_out" || true
echo "$stopped"
wait "$server_pid"
trap - EXIT

echo "\$ graceful_shutdown"
"$bin/graceful_shutdown"

echo "\$ graceful_shutdown --child_ignores_sigterm --timeout=500ms"
status=0
"$bin/graceful_shutdown" --child_ignores_sigterm --timeout=500ms || status=$?
echo "(exit status $status: the child had to be killed)"
[[ $status -eq 3 ]]
