#!/bin/bash
# `ipcfault record`, and `ipcfault sweep`'s edges: bad input is one line,
# exit 2 and nothing run; shards joined by `sweep merge` are the whole plan;
# --junit has one testcase per run.

set -u
cd "$TEST_TMPDIR" || exit 1
ipcfault="$TEST_SRCDIR/ipcfault/ipcfault"
suite="$TEST_SRCDIR/ipcfault/examples/echo_client_test"
test_case=EchoClientTest.EchoesTheThreeTitles
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Bad input: exit 2, the reason on stderr, nothing swept (no report written).
bad() {
  local what="$1" text="$2"
  shift 2
  "$ipcfault" sweep --json=bad.json "$@" >out.txt 2>err.txt
  local rc=$?
  [[ $rc -eq 2 ]] || fail "$what: exit $rc, not 2"
  grep -qF -- "$text" err.txt || { fail "$what: stderr lacks '$text'"; cat err.txt; }
  [[ ! -e bad.json ]] || fail "$what: a report was written"
  [[ ! -s out.txt ]] || fail "$what: something was printed on stdout"
}
bad "unknown class" "unknown fault class 'torture'" --faults=errors,torture -- "$suite"
bad "no program" "no PROGRAM given" --faults=errors
bad "missing program" "no-such-program" -- ./no-such-program
printf 'only-two words\n' >baseline.txt
bad "bad baseline" "baseline.txt:1: expected 'SITE FAULT REASON...'" --baseline=baseline.txt -- "$suite"
exit_one="$TEST_SRCDIR/ipcfault/selftest/exit_one"
bad "failing plain run" "the plain run of $exit_one must pass, but it ended with exit status 1" -- "$exit_one"
bad "gtest filter on a non-gtest program" "is not a GoogleTest binary" --gtest_filter=X -- /bin/true

# record: every call of the test case, with its site.
"$ipcfault" record --json=record.json -- "$suite" --gtest_filter=$test_case >record.txt 2>/dev/null
[[ $? -eq 0 ]] || fail "record did not pass the program's exit status 0 through"
# (A build with line information, --config=asan's, names FILE:LINE first.)
grep -qE "^  connect +1 +[0-9]+ socket +[0-9a-f]{12} ([^ ]+:[0-9]+ )?EchoConnection::Connect" record.txt ||
  { fail "record lists no connect from EchoConnection::Connect"; cat record.txt; }
grep -qE "^[0-9]+ calls from [0-9]+ sites in 1 process\(es\)" record.txt || fail "record has no summary"
grep -q '"sites": \[' record.json || fail "record.json has no sites"

# Two shards, merged: the whole plan, each run once.
for i in 0 1; do
  mkdir -p "shards/$i"
  "$ipcfault" sweep -q --shard=$i/2 --faults=short --gtest_filter=$test_case \
    --json="shards/$i/sweep.json" -- "$suite" >/dev/null 2>&1
  [[ $? -eq 0 ]] || fail "shard $i/2 did not pass"
done
"$ipcfault" sweep merge --junit=all.xml --json=all.json shards >merge.txt 2>merge.err
[[ $? -eq 0 ]] || fail "merge did not exit 0"
plan=$(grep -oE '"plan_size": [0-9]+' shards/0/sweep.json | grep -oE '[0-9]+$')
runs=$(grep -c '"rule": ' all.json)
[[ -n "$plan" && "$plan" -gt 0 && "$runs" -eq "$plan" ]] || fail "merged $runs runs of a plan of $plan"
[[ $(grep -c '<testcase ' all.xml) -eq "$plan" ]] || fail "all.xml: not one testcase per run"
grep -qF "2 report(s), $plan of a plan of $plan runs" merge.err || { fail "merge did not count"; cat merge.err; }

[[ $failures -eq 0 ]] && echo PASS
exit $((failures > 0))
