#!/usr/bin/env bash
# make bench: compile-time benchmarks, then apply timings inside scratch network namespaces
# (one per backend, deleted on exit; the machine's own namespace is never touched).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-1000,10000,30000}
swift build -c release --product skp-bench
BIN=$(swift build -c release --show-bin-path)/skp-bench
"$BIN" --sizes "$SIZES"
if [ "$(id -u)" != 0 ]; then echo "(apply benchmarks need root: skipped)"; exit 0; fi
for backend in legacy nft; do
  ns=skp-bench-$backend
  ip netns del "$ns" 2>/dev/null || true
  ip netns add "$ns"
  trap 'ip netns del '"$ns"' 2>/dev/null || true' EXIT
  ip netns exec "$ns" "$BIN" --sizes "$SIZES" --apply --backend "$backend" | sed -n '/## Apply/,$p'
  ip netns del "$ns"
done
