"""sweep_suite: an example's plain (no-fault) GoogleTest suite linked against
a broken variant of its program (selftest/broken.bzl), for `ipcfault sweep`
to find the break with no scenario written by hand (docs/sweep.md).

The fault suites (examples/*_faults_test.cc) link //inject:interpose into the
test binary; a sweep reaches a program through LD_PRELOAD instead, so it
sweeps the plain suites, which link no interposer.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library")

_COMMON = [
    "//examples:errors",
    "//examples:net",
    "//testing:status_matchers",
    "@abseil-cpp//absl/status",
    "@abseil-cpp//absl/status:statusor",
    "@abseil-cpp//absl/strings",
    "@abseil-cpp//absl/time",
    "@googletest//:gtest_main",
]

def sweep_suite(name, variant, program, tags = []):
    """`name`: the plain suite of `program` against `variant`'s library.

    Args:
      name: the suite binary.
      variant: a broken_variant's name (its library is variant + "_lib").
      program: "client" (echo_client_test.cc against a broken client),
        "server" (echo_server_test.cc against a broken server, with
        test_util's ServerThread built against it too), or "shutdown"
        (graceful_shutdown_test.cc).
      tags: more tags (it is always "manual").
    """
    lib = ":" + variant + "_lib"
    if program == "client":
        srcs = ["//examples:echo_client_test.cc"]
        deps = [lib, "//examples:echo_server_lib", "//examples:test_util"]
    elif program == "shutdown":
        srcs = ["//examples:graceful_shutdown_test.cc"]
        deps = [lib, "//examples:test_util"]
    elif program == "server":
        # test_util's ServerThread, compiled against the broken server.
        cc_library(
            name = name + "_test_util",
            testonly = True,
            srcs = ["//examples:test_util.cc"],
            hdrs = ["//examples:test_util.h"],
            include_prefix = "ipcfault/examples",
            strip_include_prefix = "/examples",
            deps = [lib, "//examples:program_headers"] + _COMMON,
        )
        srcs = ["//examples:echo_server_test.cc"]
        deps = [lib, ":" + name + "_test_util"]
    else:
        fail("program must be client, server or shutdown")
    cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        deps = deps + ["//examples:program_headers"] + _COMMON,
        # Built only for the sweep tests that use them (and by hand).
        tags = ["manual"] + tags,
    )
