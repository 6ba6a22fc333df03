#!/bin/bash
# The proof that the example fault suites have teeth. Each case names a
# broken variant of an example program (built by broken_variant() in
# selftest/BUILD.bazel: the program with one error path broken, linked with
# its unchanged fault suite from examples/), the test of that suite that
# guards the path, and a text its failure must show. For each case:
#   - the broken variant's suite, filtered to that test, must FAIL, naming
#     the test and showing the text;
#   - the real program's suite, filtered to the same test, must PASS.
# Cases run in parallel (some failures are upper-bound timeouts).

set -u

# The inner gtest runs must not write this test's result files.
unset XML_OUTPUT_FILE GTEST_OUTPUT TEST_PREMATURE_EXIT_FILE TEST_SHARD_STATUS_FILE \
  TEST_WARNINGS_OUTPUT_FILE TEST_TOTAL_SHARDS TEST_SHARD_INDEX GTEST_SHARD_INDEX \
  GTEST_TOTAL_SHARDS

# variant|real suite|test|failure text (grep -E)
CASES=(
  "client_ignores_short_read|examples/echo_client_faults_test|EchoClientFaultsTest.ShortReadsAreReassembledIntoTheExactEchoes|differs: sent \"War and Peace\", got \"W\\\\x00"
  "client_ignores_short_write|examples/echo_client_faults_test|EchoClientFaultsTest.PartialWritesStillDeliverEveryByte|read\\(127\\.0\\.0\\.1:[0-9]+\\): no reply within 5s \\(got 3 of 13 bytes\\)"
  "client_no_eintr_retry|examples/echo_client_faults_test|EchoClientFaultsTest.ReadInterruptedByASignalIsRetried|read\\(127\\.0\\.0\\.1:[0-9]+\\): Interrupted system call \\[EINTR\\]"
  "client_no_eintr_retry|examples/echo_client_faults_test|EchoClientFaultsTest.WriteInterruptedByASignalIsRetried|write\\(127\\.0\\.0\\.1:[0-9]+\\): Interrupted system call \\[EINTR\\]"
  "client_no_timeout|examples/echo_client_faults_test|NeverRepliesTest.SilentServerEndsInTheClientsTimeout|the client was still waiting for the silent server after 10s"
  "server_stops_on_failed_accept|examples/echo_server_faults_test|Errnos/AcceptFailureTest.LogsAndKeepsServingTheNextClients/EMFILE|no echo within 10s \\(got 0 of 12 bytes\\)"
  "server_stops_on_failed_accept|examples/echo_server_faults_test|Errnos/AcceptFailureTest.LogsAndKeepsServingTheNextClients/ECONNABORTED|no echo within 10s \\(got 0 of 12 bytes\\)"
  "server_dies_of_sigpipe|examples/echo_server_faults_test|EchoServerFaultsTest.WriteToAGoneClientFailsWithEpipeAndTheServerLives|which killed by SIGPIPE"
  "server_ignores_short_write|examples/echo_server_faults_test|EchoServerFaultsTest.ShortWritesStillEchoEveryByte|no echo within 10s \\(got 3 of 3000 bytes\\)"
  "shutdown_never_escalates|examples/graceful_shutdown_faults_test|GracefulShutdownFaultsTest.ChildIgnoringSigtermIsKilledWithSigkill|Expected: killed by SIGKILL"
  "shutdown_no_waitpid_eintr_retry|examples/graceful_shutdown_faults_test|GracefulShutdownFaultsTest.WaitpidInterruptedByASignalIsRetried|waitpid\\([0-9]+\\): Interrupted system call \\[EINTR\\]"
)

out="${TEST_TMPDIR:-$(mktemp -d)}/teeth"
mkdir -p "$out"

check_case() {
  local i="$1" variant="$2" real="$3" test="$4" text="$5"
  local broken_log="$out/$i.broken.log" real_log="$out/$i.real.log"
  "selftest/${variant}_suite" --gtest_filter="$test" >"$broken_log" 2>&1
  local broken_rc=$?
  "$real" --gtest_filter="$test" >"$real_log" 2>&1
  local real_rc=$?
  local bad=0
  if [[ $broken_rc -eq 0 ]]; then
    echo "FAIL: $test PASSED against the broken $variant: it does not guard its path"
    bad=1
  elif ! grep -qF "[  FAILED  ] $test" "$broken_log"; then
    echo "FAIL: $variant: exit $broken_rc, but not because $test failed"
    bad=1
  elif ! grep -qE -- "$text" "$broken_log"; then
    echo "FAIL: $variant: $test failed, but without the expected text: $text"
    bad=1
  fi
  if [[ $real_rc -ne 0 ]] || ! grep -qF "[  PASSED  ] 1 test." "$real_log"; then
    echo "FAIL: $test did not pass (exactly one test) against the real program ($real, exit $real_rc)"
    bad=1
  fi
  if [[ $bad -ne 0 ]]; then
    echo "--- $variant, $test:"; cat "$broken_log"
    echo "--- real program, $test:"; cat "$real_log"
    return 1
  fi
  echo "ok: $test fails against $variant (exit $broken_rc) and passes against the real program"
}

pids=()
for i in "${!CASES[@]}"; do
  IFS='|' read -r variant real test text <<<"${CASES[$i]}"
  check_case "$i" "$variant" "$real" "$test" "$text" >"$out/$i.result" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed=1
  cat "$out/$i.result"
done
if [[ $failed -ne 0 ]]; then
  echo "FAILED: see above"
  exit 1
fi
echo "PASSED: ${#CASES[@]} cases"
