"""ipcfault_dependencies(): the repositories ipcfault needs, for any WORKSPACE.

In ipcfault's own WORKSPACE and in a downstream one:

    local_repository(name = "ipcfault", path = "third_party/ipcfault")
    load("@ipcfault//third_party:repositories.bzl", "ipcfault_dependencies")
    ipcfault_dependencies()

Each repository is declared only if the workspace has not declared it already,
so a workspace that brings its own googletest or Abseil keeps them.
"""

load(":system_libs.bzl", "system_abseil", "system_benchmark", "system_googletest")

def _vendored_repository_impl(rctx):
    # Symlinks a folder of ipcfault's own third_party/ into a repository, so it
    # resolves wherever ipcfault itself is checked out.
    source = rctx.path(rctx.attr.marker).dirname
    for child in source.readdir():
        rctx.symlink(child, child.basename)

_vendored_repository = repository_rule(
    implementation = _vendored_repository_impl,
    attrs = {"marker": attr.label(mandatory = True, allow_single_file = True)},
    local = True,
)

def _maybe(rule, name, **kwargs):
    if name not in native.existing_rules():
        rule(name = name, **kwargs)

def ipcfault_dependencies():
    """Declares rules_cc, rules_java, platforms, googletest, Abseil, benchmark."""
    _maybe(
        _vendored_repository,
        name = "rules_cc",
        marker = "@ipcfault//third_party/rules_cc:WORKSPACE",
    )
    _maybe(
        _vendored_repository,
        name = "remote_coverage_tools",
        marker = "@ipcfault//third_party/remote_coverage_tools:WORKSPACE",
    )

    # Debian's bazel-rules-java and bazel-platforms.
    _maybe(native.local_repository, name = "rules_java", path = "/usr/share/bazel/rules/java")
    _maybe(native.local_repository, name = "platforms", path = "/usr/share/bazel/tools/platforms")

    _maybe(system_googletest, name = "googletest")
    _maybe(system_abseil, name = "abseil-cpp")
    _maybe(system_benchmark, name = "google_benchmark")
