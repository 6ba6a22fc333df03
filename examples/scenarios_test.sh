#!/bin/bash
# Runs the example binaries under `ipcfault run --scenario FILE` with each
# scenario file of examples/scenarios/, and asserts what a user would see:
# the exit status, the exact stdout, the one line the program printed on
# stderr, and ipcfault's summary saying that the rule fired.
#
# Usage (from the BUILD rule): scenarios_test.sh IPCFAULT ECHO_CLIENT ECHO_SERVER GRACEFUL_SHUTDOWN

set -u
IPCFAULT="$1"
CLIENT="$2"
SERVER="$3"
SHUTDOWN="$4"
SCENARIOS="examples/scenarios"
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
TITLES=$'War and Peace\nPride and Prejudice\nThe Sound and the Fury'

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect NAME RC WANT_RC STDOUT WANT_STDOUT STDERR_FILE STDERR_LINE_REGEX
# WANT_STDOUT "-" skips the stdout check.
expect() {
  local name="$1" rc="$2" want_rc="$3" out="$4" want_out="$5" err="$6" line="$7"
  local bad=0
  [[ "$rc" == "$want_rc" ]] || { fail "$name: exit status $rc, want $want_rc"; bad=1; }
  if [[ "$want_out" != "-" && "$out" != "$want_out" ]]; then
    fail "$name: stdout is '$out', want '$want_out'"
    bad=1
  fi
  grep -qEx -- "$line" "$err" || { fail "$name: no stderr line matching: $line"; bad=1; }
  grep -qE '^ipcfault: rule 0 .*: fired [1-9][0-9]* times? ' "$err" ||
    { fail "$name: ipcfault's summary does not say rule 0 fired"; bad=1; }
  if [[ $bad -ne 0 ]]; then
    echo "--- stderr of $name:"
    cat "$err"
  else
    echo "ok: $name"
  fi
}

# Starts "$@" (an echo_server, maybe under ipcfault run) with stdout on a
# pipe; waits for its "listening on 127.0.0.1:PORT" line (the readiness
# handshake; 60 s is only an upper bound). Sets SERVER_PID, SERVER_PORT.
start_server() {
  local err="$1"
  shift
  coproc SRV { exec "$@" 2>"$err"; }
  SERVER_PID=$SRV_PID
  local line=""
  read -t 60 -r line <&"${SRV[0]}"
  if [[ ! "$line" =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]]; then
    fail "server did not report listening (got '$line')"
    cat "$err"
    kill -KILL "$SERVER_PID"
    wait "$SERVER_PID"
    exit 1
  fi
  SERVER_PORT="${BASH_REMATCH[1]}"
}

# SIGTERM (ipcfault forwards it) and reap; sets SERVER_RC.
stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID"
  SERVER_RC=$?
}

# --- The client, against a real (fault-free) echo_server --------------------

start_server "$TMP/plain_server.err" "$SERVER"
PORT="$SERVER_PORT"
WHERE="127\\.0\\.0\\.1:$PORT"

# client_case SCENARIO WANT_RC WANT_STDOUT STDERR_LINE_REGEX
client_case() {
  local scenario="$1" want_rc="$2" want_out="$3" line="$4"
  local err="$TMP/$scenario.err" out rc
  out=$("$IPCFAULT" run --scenario "$SCENARIOS/$scenario.scenario" -- \
    "$CLIENT" --port="$PORT" 2>"$err")
  rc=$?
  expect "$scenario" "$rc" "$want_rc" "$out" "$want_out" "$err" "$line"
}

client_case client_refused 1 "" \
  "echo_client: connect\\($WHERE\\): Connection refused \\[ECONNREFUSED\\]"
client_case client_resolver_again 1 "" \
  "echo_client: getaddrinfo\\(127\\.0\\.0\\.1\\): Temporary failure in name resolution \\[EAI_AGAIN\\]"
client_case client_short_reads 0 "$TITLES" \
  "ipcfault: .*echo_client exited with status 0"
client_case client_partial_writes 0 "$TITLES" \
  "ipcfault: .*echo_client exited with status 0"
client_case client_reset 1 "War and Peace" \
  "echo_client: read\\($WHERE\\): Connection reset by peer \\[ECONNRESET\\]"
client_case client_eintr 0 "$TITLES" \
  "ipcfault: .*echo_client exited with status 0"

stop_server
[[ $SERVER_RC -eq 0 ]] || fail "the plain echo_server exited with $SERVER_RC"

# --- The server, under ipcfault run; a plain echo_client talks to it --------

# server_case SCENARIO STDERR_LINE_REGEX (PORT stands for the server's port)
server_case() {
  local scenario="$1" line="$2"
  local err="$TMP/$scenario.err"
  start_server "$err" "$IPCFAULT" run --scenario "$SCENARIOS/$scenario.scenario" -- "$SERVER"
  local out rc
  out=$("$CLIENT" --port="$SERVER_PORT" 2>"$TMP/$scenario.client.err")
  rc=$?
  if [[ $rc -ne 0 || "$out" != "$TITLES" ]]; then
    fail "$scenario: the client got '$out' (exit $rc) from the server, want the three titles"
    cat "$TMP/$scenario.client.err"
  fi
  stop_server
  expect "$scenario" "$SERVER_RC" 0 - - "$err" "${line//PORT/$SERVER_PORT}"
}

server_case server_accept_emfile \
  "echo_server: accept\\(127\\.0\\.0\\.1:PORT\\): Too many open files \\[EMFILE\\]; pausing accept for 100ms"
server_case server_accept_econnaborted \
  "echo_server: accept\\(127\\.0\\.0\\.1:PORT\\): Software caused connection abort \\[ECONNABORTED\\]"

# --- The graceful shutdown --------------------------------------------------

# shutdown_case SCENARIO STDERR_LINE_REGEX
shutdown_case() {
  local scenario="$1" line="$2"
  local err="$TMP/$scenario.err" out rc
  out=$("$IPCFAULT" run --scenario "$SCENARIOS/$scenario.scenario" -- "$SHUTDOWN" 2>"$err")
  rc=$?
  expect "$scenario" "$rc" 1 "$out" "" "$err" "$line"
}

shutdown_case shutdown_kill_eperm \
  "graceful_shutdown: kill\\([0-9]+, SIGTERM\\): Operation not permitted \\[EPERM\\]"
shutdown_case shutdown_fork_eagain \
  "graceful_shutdown: fork: Resource temporarily unavailable \\[EAGAIN\\]"
shutdown_case shutdown_child_sigaction \
  "graceful_shutdown: sigaction\\(SIGTERM\\) in child [0-9]+: Invalid argument \\[EINVAL\\]; child exited with status 2"

# Every scenario file is exercised above.
for f in "$SCENARIOS"/*.scenario; do
  name=$(basename "$f" .scenario)
  [[ -e "$TMP/$name.err" ]] || fail "$f is not run by this test"
done

if [[ $failures -ne 0 ]]; then
  echo "FAILED: $failures"
  exit 1
fi
echo "PASSED"
