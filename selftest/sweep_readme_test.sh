#!/bin/bash
# The README's sweep section, run: `ipcfault sweep` over the example
# client's suite (no finding), then over the same suite linked against a
# client that takes the first read for the whole echo (a finding, with the
# command that replays it). The commands read as typed at the top of a
# workspace after `bazel build`: bazel-bin/ is the runfiles tree here.

set -u
cd "$TEST_TMPDIR" || exit 1
ln -sfn "$TEST_SRCDIR/ipcfault" bazel-bin
out="$TEST_TMPDIR/out.txt"
fail() { echo "FAIL: $*"; cat "$out"; exit 1; }
expect() { grep -qE -- "$1" "$out" || fail "no line matches: $1"; }

# The real client: every fault it is given, it survives or reports.
bazel-bin/ipcfault sweep --gtest_filter=EchoClientTest.EchoesTheThreeTitles --sites=EchoConnection:: \
    --json=sweep.json -- bazel-bin/examples/echo_client_test >"$out" 2>&1
[[ $? -eq 0 ]] || fail "the real client's sweep did not exit 0"
expect "^ipcfault sweep: 1 test case\(s\), plan of [0-9]+ runs \(the naive plan: [0-9]+\), [0-9]+ at a time\$"
# (A build with line information, --config=asan's, names FILE:LINE first.)
expect "^read at ([^ ]+:[0-9]+ )?EchoConnection::ReadExactly < ([^ ]+:[0-9]+ )?EchoConnection::Echo  \[site [0-9a-f]{12}, EchoClientTest.EchoesTheThreeTitles\]\$"
expect "^  [0-9]+ runs: [0-9]+ failed, [0-9]+ passed\$"
expect "^ipcfault sweep: [0-9]+ runs: [0-9]+ failed, [0-9]+ passed; 0 findings\$"
grep -q '"verdict": "passed"' sweep.json || fail "sweep.json has no passed run"
grep -q '"findings": \[$' sweep.json || fail "sweep.json has no findings list"

# The broken client: short reads are transient, so failing on one is a finding.
bazel-bin/ipcfault sweep --gtest_filter=EchoClientTest.EchoesTheThreeTitles \
    --sites=EchoConnection::ReadExactly -- bazel-bin/selftest/client_ignores_short_read_plain_suite >"$out" 2>&1
[[ $? -eq 1 ]] || fail "the broken client's sweep did not exit 1"
expect "^  FINDING short=1 when=1 +failed: exit status 1: Value of: RunEchoClient"
expect "^    replay: ipcfault run -e read:short=1:when=1:site=[0-9a-f]{12} -- bazel-bin/selftest/client_ignores_short_read_plain_suite --gtest_filter=EchoClientTest.EchoesTheThreeTitles\$"

# The replay makes the same run fail the same way.
rule=$(grep -m1 -oE "read:short=1:when=1:site=[0-9a-f]{12}" "$out")
bazel-bin/ipcfault run -e "$rule" -- bazel-bin/selftest/client_ignores_short_read_plain_suite \
    --gtest_filter=EchoClientTest.EchoesTheThreeTitles >"$out" 2>&1
[[ $? -eq 1 ]] || fail "the replay did not fail"
expect "^ipcfault: rule 0 read:short=1:when=1:site=[0-9a-f]{12}: fired 1 time"
rm -f sweep.json bazel-bin
echo PASS
