#!/usr/bin/env bash
# make bench: compile times, apply times against a bare iptables-restore, and the data-plane
# benchmark (swift-kube-proxy bench). Every kernel measurement runs in scratch network
# namespaces that are deleted afterwards; the machine's own namespace is never touched.
#   SIZES        Service counts for compile and bench     (default 1000,10000,30000)
#   APPLY_SIZES  Service counts for the apply comparison   (default 1000,10000)
#   MODES        modes for swift-kube-proxy bench          (default all five)
#   ELEMENT_SIZE Services x endpoints for the nftables element-cost comparison (default 10000x10)
#   SYNC_SIZE    Services (x 10 endpoints) for the nftables sync comparison: the netlink writer
#                in the endpoint-maps layout and in upstream's, nft alone, and upstream's single
#                transaction, in one run (default 10000; slow: the upstream shape takes about 3
#                minutes at 10000)
#   IPVS_VM      0 skips the IPVS benchmark in the qemu VM (vm/bench.sh; slow: software emulation)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-1000,10000,30000}
APPLY_SIZES=${APPLY_SIZES:-1000,10000}
MODES=${MODES:-iptables-legacy,iptables-nft,iptables-legacy-tree,iptables-nft-tree,nftables}
swift build -c release --product skp-bench --product swift-kube-proxy
DIR=$(swift build -c release --show-bin-path)
"$DIR/skp-bench" --sizes "$SIZES"
if [ "$(id -u)" != 0 ]; then echo "(kernel benchmarks need root: skipped)"; exit 0; fi
for backend in legacy nft; do
  ns=skp-bench-$backend
  ip netns del "$ns" 2>/dev/null || true
  ip netns add "$ns"
  trap 'ip netns del '"$ns"' 2>/dev/null || true' EXIT
  ip netns exec "$ns" "$DIR/skp-bench" --sizes "$APPLY_SIZES" --apply-only --apply --backend "$backend"
  ip netns del "$ns"
done
# One nftables element: nft (which loads its cache of the whole table first) against the netlink writer.
ns=skp-bench-elements; ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"
trap 'ip netns del '"$ns"' 2>/dev/null || true' EXIT
ip netns exec "$ns" "$DIR/skp-bench" --nftables-element-cost "${ELEMENT_SIZE:-10000x10}"
ip netns del "$ns"
# The periodic integrity check (tamper detection) against a full sync, iptables and nftables.
ns=skp-bench-integrity; ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"
trap 'ip netns del '"$ns"' 2>/dev/null || true' EXIT
ip netns exec "$ns" "$DIR/skp-bench" --integrity-cost "${INTEGRITY_SIZE:-10000x10}"
ip netns del "$ns"
"$DIR/swift-kube-proxy" bench --modes "$MODES" --services "$SIZES" --output bench-results
# nftables syncs at scale: full sync and one endpoint change, four ways, one run.
"$DIR/swift-kube-proxy" bench --modes nftables-maps,nftables,nftables-nft,nftables-upstream --services "${SYNC_SIZE:-10000}" --endpoints 10 \
  --samples 200 --output bench-results/nftables-sync
# IPVS needs a kernel with IPVS: the same benchmark in the qemu VM (vm/bench.sh), IPVS beside
# iptables on the guest kernel. IPVS_VM=0 skips it.
if [ "${IPVS_VM:-1}" != 0 ] && command -v qemu-system-x86_64 >/dev/null && ls /boot/vmlinuz-* >/dev/null 2>&1; then
  vm/bench.sh "$SIZES" 1 "${VM_SAMPLES:-1000}" ipvs,iptables-legacy
fi
