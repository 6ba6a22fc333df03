#!/bin/sh
# What the `ipcfault` command leaves out of the static C++ runtime, as the
# preload library does (docs/run.md, "The command's own start").
#
# It never constructs the standard streams
# (inject/internal/no_standard_streams.cc): this checks that no code in it
# refers to std::cout, std::cerr, std::clog, std::cin or their wide twins,
# but Abseil's CordRepBtree::AssertValid (inlined into its callers), which
# would print a corrupt Cord tree to std::cout just before aborting. The
# command writes through stdio (inject/cli/cli_util.h: Out, Err). Also that
# the command's std::ios_base::Init is the one doing nothing, and that it
# holds no exception emergency pool (libstdc++'s eh_alloc.o, whose static
# constructor mallocs 73 KB; inject/internal/preload_eh_alloc.cc), and no
# demangler (inject/internal/terse_terminate.cc).
# Usage: command_runtime_test.sh IPCFAULT_BINARY
set -eu
binary="$1"
users="$(objdump -d --no-show-raw-insn -C "$binary" | awk '
  /^[0-9a-f]+ <.*>:$/ { fn = $0 }
  /<std::(w?cout|w?cerr|w?clog|w?cin)([@+>])/ { print fn }' | sort -u)"
status=0
if [ -z "$users" ]; then
  echo "note: nothing in $binary refers to a standard stream"
fi
printf '%s\n' "$users" | while IFS= read -r fn; do
  [ -n "$fn" ] || continue
  case "$fn" in
    *"cord_internal::CordRepBtree::"*) echo "allowed: $fn" ;;
    *) echo "FAIL: $fn refers to a standard stream, which //:ipcfault never constructs (write with Out or Err, inject/cli/cli_util.h)"; exit 1 ;;
  esac
done || status=1
# The no-op Init is a return (after endbr64 where the build has CET);
# libstdc++'s builds eight streams and a locale. What follows the return is
# alignment padding.
init="$(objdump -d --no-show-raw-insn "$binary" | awk '
  /^[0-9a-f]+ <_ZNSt8ios_base4InitC1Ev>:$/ { p = 1; next }
  p && /^$/ { exit }
  p {
    sub(/^[ \t]*[0-9a-f]+:[ \t]*/, "")
    if ($1 == "ret" || $1 == "retq") { body = body "ret"; exit }
    body = body $1 " "
  }
  END { print body }')"
case "$init" in
  ret | "endbr64 ret")
    echo "ok: std::ios_base::Init::Init() is: $init" ;;
  *)
    echo "FAIL: std::ios_base::Init::Init() in $binary is not the no-op of //inject:lean_cxx_runtime (it begins: $(printf '%s' "$init" | cut -c1-120))"
    status=1 ;;
esac
pool="$(nm -C "$binary" | grep -E 'emergency_pool|eh_alloc' || true)"
if [ -n "$pool" ]; then
  echo "FAIL: libstdc++'s eh_alloc.o is linked into $binary:"
  printf '%s\n' "$pool"
  status=1
else
  echo "ok: no exception emergency pool"
fi
# Its terminate handler is lean_cxx_runtime's, which needs no demangler
# (inject/internal/terse_terminate.cc).
demangler="$(nm "$binary" | grep -E ' (__cxa_demangle|cplus_demangle[a-z_]*)$' || true)"
if [ -n "$demangler" ]; then
  echo "FAIL: libstdc++'s demangler is linked into $binary (its verbose terminate handler):"
  printf '%s\n' "$demangler"
  status=1
else
  echo "ok: no libstdc++ demangler"
fi
exit "$status"
