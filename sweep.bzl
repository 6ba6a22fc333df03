"""ipcfault_sweep_test: sweep a test (or any program) for the faults it does
not survive, as a Bazel test that shards over Bazel's test sharding protocol.

    load("@ipcfault//:sweep.bzl", "ipcfault_sweep_test")

    ipcfault_sweep_test(
        name = "client_sweep",
        test = ":client_test",        # a cc_test / cc_binary (gtest or not)
        shard_count = 8,
    )

Each shard runs the plain run, computes the whole plan, runs its slice of it
(TEST_TOTAL_SHARDS / TEST_SHARD_INDEX; it touches TEST_SHARD_STATUS_FILE) and
writes sweep.json, sweep.txt and sweep.xml under TEST_UNDECLARED_OUTPUTS_DIR;
`ipcfault sweep merge bazel-testlogs/PKG/NAME` joins the shards' reports.
The test fails when its slice holds a finding (one not in `baseline`).
See docs/sweep.md.
"""

def ipcfault_sweep_test(
        name,
        test,
        args = [],
        faults = None,
        only = None,
        sites = None,
        gtest_filter = None,
        occurrences = None,
        run_timeout = None,
        jobs = None,
        baseline = None,
        expect = [],
        shard_count = 4,
        size = "large",
        tags = [],
        **kwargs):
    """A test that runs `ipcfault sweep` on `test`.

    Args:
      name: the test's name.
      test: the program or test binary to sweep (a label).
      args: arguments for it.
      faults: --faults (e.g. "errors,short" or "+stall").
      only: --only: sweep only processes whose executable matches.
      sites: --sites: sweep only sites whose location contains this.
      gtest_filter: --gtest_filter: only these test cases.
      occurrences: --occurrences.
      run_timeout: --timeout of each run ("10s").
      jobs: --jobs per shard (default: the cores).
      baseline: a file of accepted findings ('SITE FAULT REASON' a line).
      expect: findings the sweep must report (each a string whose words
        all appear in a finding's call, fault, location and test); then any
        other finding fails the test. For tests of the sweep itself.
      shard_count: how many shards (machines, under remote execution).
      size: the test size (its timeout); a sweep is large by default.
      tags: tags for the test.
      **kwargs: passed to the sh_test (e.g. flaky, timeout).
    """
    ipcfault = Label("//:ipcfault")
    sweep_args = ["$(rootpath %s)" % str(ipcfault)]
    if faults:
        sweep_args.append("--faults=" + faults)
    if only:
        sweep_args.append("--only=" + only)
    if sites:
        sweep_args.append("--sites=" + sites)
    if gtest_filter:
        sweep_args.append("--gtest_filter=" + gtest_filter)
    if occurrences:
        sweep_args.append("--occurrences=%d" % occurrences)
    if run_timeout:
        sweep_args.append("--timeout=" + run_timeout)
    if jobs:
        sweep_args.append("--jobs=%d" % jobs)
    data = [ipcfault, test]
    if baseline:
        sweep_args.append("--baseline=$(rootpath %s)" % baseline)
        data.append(baseline)
    for e in expect:
        # Bazel splits args like a shell: keep each expectation one word.
        sweep_args.append("'--expect=%s'" % e.replace("'", ""))
    native.sh_test(
        name = name,
        srcs = [Label("//inject/cli:sweep_test_runner.sh")],
        args = sweep_args + ["--", "$(rootpath %s)" % test] + args,
        data = data,
        shard_count = shard_count,
        size = size,
        tags = tags,
        **kwargs
    )
