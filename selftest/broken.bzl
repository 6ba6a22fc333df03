"""broken_variant: a deliberately broken build of an example program, and
its fault suite compiled against it (for //selftest:teeth_test)."""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library")

def _shell_quote(s):
    return "'" + s.replace("'", "'\\''").replace("$", "$$") + "'"

def broken_variant(name, src, suite, replacements, deps):
    """Builds `src` with `replacements` applied and `suite` linked against it.

    Args:
      name: the variant; the suite binary is `name` + "_suite".
      src: the program's .cc (a label exported by //examples).
      suite: the fault suite's test .cc (exported by //examples), unchanged.
      replacements: [(old, new), ...]: literal code fragments; each old must
        occur exactly once in src (the build fails otherwise).
      deps: what the program's library depends on besides its header.
    """
    args = []
    for old, new in replacements:
        args.append(_shell_quote(old))
        args.append(_shell_quote(new))
    native.genrule(
        name = name + "_src",
        srcs = [src],
        outs = [name + ".cc"],
        tools = ["break.pl"],
        cmd = "perl $(location break.pl) $< $@ " + " ".join(args),
        testonly = True,
    )
    cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = [name + ".cc"],
        deps = ["//examples:program_headers"] + deps,
    )
    cc_binary(
        name = name + "_suite",
        testonly = True,
        srcs = [suite],
        deps = [
            name + "_lib",
            "//examples:fault_suite_deps",
        ],
    )
