#!/usr/bin/env bash
# Event-to-kernel latency of the daemon: skp-apiserver serves a synthetic cluster from the lab's
# external host; swift-kube-proxy follows it from the node namespace; skp-apiserver then changes one
# endpoint at a time (--churn N) and times each change until the proxy's next finished sync.
# Also prints the proxy's resident memory at that size. Everything runs in lab namespaces.
#   bench/daemon-latency.sh [SERVICESxENDPOINTS] [CHANGES] [MODE]     (default 10000x10 1000 nftables)
# MODE is a proxy mode, or nftables-maps for nftables mode in the endpoint-maps layout.
# minSyncPeriod is 0s (MIN_SYNC=1s for upstream's default, which then dominates back-to-back changes).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-10000x10}; CHANGES=${2:-1000}; MODE=${3:-nftables}
MODE_FLAGS="--proxy-mode $MODE"
[ "$MODE" = nftables-maps ] && MODE_FLAGS="--proxy-mode nftables --nftables-layout endpoint-maps"
swift build -c release --product swift-kube-proxy >/dev/null
swift build -c release --product skp-apiserver >/dev/null
swift build -c release --product skp-lab >/dev/null
BIN=$(realpath .build/release/swift-kube-proxy); API=$(realpath .build/release/skp-apiserver); LAB=$(realpath .build/release/skp-lab)
P=skpl-; work=$(mktemp -d)
cleanup() {
  [ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null || true
  [ -n "${API_PID:-}" ] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true
  lab/lab.sh down "$P"; rm -rf "$work"
}
trap cleanup EXIT
lab/lab.sh up "$P" "$LAB" >/dev/null
ip netns exec "${P}ext" "$API" --listen 198.18.2.2:6443 --pki "$work/pki" --synthetic "$SIZE" --node lab-node \
  --churn "$CHANGES" --proxy-log "$work/proxy.log" > "$work/api.log" 2>&1 &
API_PID=$!
for _ in $(seq 1 600); do grep -q "^loaded" "$work/api.log" && break; sleep 0.1; done
ip netns exec "${P}node" "$BIN" run --config examples/config.yaml --kubeconfig "$work/pki/kubeconfig" $MODE_FLAGS \
  --iptables-backend nft --iptables-min-sync-period "${MIN_SYNC:-0s}" > "$work/proxy.log" 2>&1 &
PROXY_PID=$!
start=$(date +%s.%N)
for _ in $(seq 1 6000); do grep -q "sync done" "$work/proxy.log" && break; sleep 0.1; done
echo "first sync done after $(echo "$(date +%s.%N) - $start" | bc) s (list + full sync): $(grep -m1 'sync done' "$work/proxy.log" | grep -o 'duration=[^ ]*')"
echo "resident memory after the first sync: $(( $(ps -o rss= -p "$PROXY_PID") / 1024 )) MiB"
wait "$API_PID"; API_PID=
cat "$work/api.log" | grep -v "^serving\|^loaded\|^waiting"
echo "resident memory after the changes: $(( $(ps -o rss= -p "$PROXY_PID") / 1024 )) MiB"
ip netns exec "${P}node" curl -s http://127.0.0.1:10249/metrics | grep -E '^kubeproxy_network_programming_duration_seconds_(count|sum)\{'
# Where a partial sync's time goes, from the wake-up to the end of the kernel write: the steps of
# its "sync done" lines (inputs = the objects turned into the state; decide = full or partial and
# which Services changed; list + compile = up to the start of the kernel write).
grep 'sync done' "$work/proxy.log" | grep 'full=false' | grep -o 'steps=.*' | sed 's/^steps=//' | tr ' ' '\n' | grep '=[0-9.]*s$' |
  sed 's/=/ /; s/s$//' | sort -k1,1 -k2,2n | awk '{k[NR] = $1; v[NR] = $2} END {
    for (i = 1; i <= NR; i = j) { for (j = i; j <= NR && k[j] == k[i]; j++) {}; n = j - i
      printf "partial-sync step %-10s p50 %.3f s  p99 %.3f s  (%d syncs)\n", k[i], v[i + int((n - 1) / 2)], v[i + int((n - 1) * 0.99 + 0.5)], n } }'
