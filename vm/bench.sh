#!/usr/bin/env bash
# The IPVS data-plane benchmark, on Debian's stock kernel in the qemu VM (this machine's kernel
# has no IPVS): `swift-kube-proxy bench` in the guest, IPVS beside the upstream iptables layout on
# the same guest kernel. Prints the guest's table and writes bench-results/ipvs-vm.csv.
#   vm/bench.sh [SERVICES] [ENDPOINTS] [SAMPLES] [MODES]   (defaults 1000,10000,30000 1 1000 ipvs,iptables-legacy)
# Under TCG emulation absolute times are slower than on hardware; compare modes within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVICES=${1:-1000,10000,30000}; ENDPOINTS=${2:-1}; SAMPLES=${3:-1000}; MODES=${4:-ipvs,iptables-legacy}
swift build -c release --product swift-kube-proxy >/dev/null
swift build -c release --product skp-lab >/dev/null   # the VM image's /init runs skp-lab ipvs-check
BIN=$(swift build -c release --show-bin-path)/swift-kube-proxy
OUT=$(mktemp -d); trap '[ -n "${VM_KEEP:-}" ] || rm -rf "$OUT"' EXIT
mkdir -p "$OUT/extra"
echo "--modes $MODES --services $SERVICES --endpoints $ENDPOINTS --samples $SAMPLES" > "$OUT/extra/bench-args"
VM_EXTRA="$OUT/extra" vm/build.sh "$OUT" "$BIN" >/dev/null
VM_MEMORY=${VM_MEMORY:-3G} vm/run.sh "$OUT" "${VM_TIMEOUT:-5400}" > "$OUT/console.txt" || { tail -50 "$OUT/console.txt"; exit 1; }
sed -n '/VM-STEP bench/,/VM-BENCH-CSV-BEGIN/p' "$OUT/console.txt" | grep -v "^VM-" | grep -v "^\[" || true
mkdir -p bench-results
sed -n '/VM-BENCH-CSV-BEGIN/,/VM-BENCH-CSV-END/p' "$OUT/console.txt" | grep -v "^VM-BENCH" > bench-results/ipvs-vm.csv
echo "wrote bench-results/ipvs-vm.csv"
