#!/bin/sh
# Checks that interpose_fortify_test really calls the _FORTIFY_SOURCE entry
# points (so that its passing proves they are intercepted).
# Usage: fortify_symbols_test.sh BINARY
set -eu
binary="$1"
disassembly="$(objdump -d --no-show-raw-insn "$binary")"
status=0
for symbol in __read_chk __recv_chk __recvfrom_chk __poll_chk; do
  if printf '%s\n' "$disassembly" | grep -Eq "call +[0-9a-f]+ <${symbol}(@plt)?>"; then
    echo "ok: $binary calls $symbol"
  else
    echo "FAIL: $binary never calls $symbol (was it built with -O2 -D_FORTIFY_SOURCE=2?)"
    status=1
  fi
done
exit "$status"
