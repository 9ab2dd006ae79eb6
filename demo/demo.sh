#!/usr/bin/env bash
# The demo: a small Kubernetes "cluster" in network namespaces on this machine, swift-kube-proxy
# programming its node, and real connections to each Service. Everything happens inside
# namespaces this script creates and deletes; the machine's own network is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/debug/swift-kube-proxy}
BIN=$(realpath "$BIN")
P=demo-
if [ "$(id -u)" != 0 ]; then echo "the demo creates network namespaces: run it as root" >&2; exit 1; fi

APISERVER=$(dirname "$BIN")/skp-apiserver
LAB=$(dirname "$BIN")/skp-lab   # the lab's pod servers and probes
cleanup() {
  [ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null || true
  [ -n "${API_PID:-}" ] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true
  lab/lab.sh down "$P"
}
trap cleanup EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
probe() { # probe FROM DST PORT COUNT [extra...]
  local from=$1 dst=$2 port=$3 count=$4; shift 4
  ip netns exec "${P}${from}" "$LAB" probe --dst "$dst" --port "$port" --count "$count" "$@" | sed 's/^/      /'
}

say "1. The lab: one node, three pods, a client pod and an external host (network namespaces)"
lab/lab.sh up "$P" "$LAB"
cat <<'TXT'
   pod1 198.18.1.2   pod2 198.18.1.6   pod3 198.18.1.10   client 198.18.1.14   (pods, behind the node)
   node 198.18.2.1   external hosts 198.18.2.2 and 198.18.2.3 (outside the node)
   Each pod answers TCP 8080/9090 and UDP 5353 with its own name.
TXT

say "2. The cluster (examples/cluster.yaml): Services and their endpoints"
grep '^#   ' examples/cluster.yaml | sed 's/^#/ /'

for dataplane in iptables/nft iptables/legacy nftables; do
  mode=${dataplane%%/*}; backend=${dataplane#*/}
  if [ "$mode" = nftables ]; then flags=(--proxy-mode nftables); label="nftables mode"
  else flags=(--proxy-mode iptables --iptables-backend "$backend"); label="iptables mode, $backend backend"; fi
  say "3. swift-kube-proxy runs inside the node namespace ($label)"
  ip netns exec "${P}node" "$BIN" run --config examples/config.yaml --manifests examples/cluster.yaml \
    "${flags[@]}" > "/tmp/${P}proxy.log" 2>&1 &
  PROXY_PID=$!
  for _ in $(seq 1 100); do grep -q "sync done" "/tmp/${P}proxy.log" && break; sleep 0.1; done
  sed 's/^/   /' "/tmp/${P}proxy.log"
  if [ "$mode" = nftables ]; then
    echo "   nft list table ip kube-proxy now holds $(ip netns exec "${P}node" nft list table ip kube-proxy | grep -c ' : goto ') verdict-map entries."
  else
    echo "   iptables-save now holds $(ip netns exec "${P}node" "iptables-${backend}-save" | grep -c '^-A KUBE') kube-proxy rules."
  fi

  say "4. Real connections ($label): who answered, out of 100"
  echo "   web (ClusterIP 198.18.10.10:80, 3 ready pods + 1 unready endpoint that must never be used):"
  probe client 198.18.10.10 80 100
  echo "   dns (ClusterIP 198.18.10.12:53, UDP):"
  probe client 198.18.10.12 53 100 --udp
  echo "   multi, second port (198.18.10.11:9090 -> pod1, pod2):"
  probe client 198.18.10.11 9090 100
  echo "   nodeport (198.18.2.1:30080 from the external host):"
  probe ext 198.18.2.1 30080 100
  echo "   extip (external IP 198.18.20.1:80 -> pod3):"
  probe ext 198.18.20.1 80 100
  echo "   lb (198.18.30.1:80) from 198.18.2.2, which loadBalancerSourceRanges allows:"
  probe ext 198.18.30.1 80 100 --src 198.18.2.2
  echo "   lb from 198.18.2.3, which it does not (dropped: the connection times out):"
  probe ext 198.18.30.1 80 1 --src 198.18.2.3 --timeout 1500
  echo "   sticky (ClientIP affinity): 100 connections from one client, one pod:"
  probe client 198.18.10.16 80 100
  echo "   local (NodePort 30082, externalTrafficPolicy Local) from outside: only the pod on this node:"
  probe ext 198.18.2.1 30082 100
  echo "   empty (no endpoints): refused at once by a REJECT rule:"
  probe client 198.18.10.18 80 1 --timeout 4000

  kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true; PROXY_PID=
  ip netns exec "${P}node" "$BIN" cleanup | sed 's/^/   /'
done

say "5. Following an API server: run --kubeconfig (kube-proxy's real job)"
echo "   skp-apiserver (a test API server: list + watch over TLS with client certificates) serves"
echo "   examples/cluster.yaml from the external host 198.18.2.2:6443; the proxy lists and watches it."
work=$(mktemp -d)
cp examples/cluster.yaml "$work/cluster.yaml"; : > "$work/later.yaml"
ip netns exec "${P}ext" "$APISERVER" --listen 198.18.2.2:6443 --pki "$work/pki" \
  --manifests "$work/cluster.yaml" "$work/later.yaml" > "/tmp/${P}apiserver.log" 2>&1 &
API_PID=$!
for _ in $(seq 1 100); do [ -f "$work/pki/kubeconfig" ] && break; sleep 0.1; done
ip netns exec "${P}node" "$BIN" run --config examples/config.yaml --kubeconfig "$work/pki/kubeconfig" \
  --proxy-mode nftables --healthz-bind-address 198.18.2.1:10256 > "/tmp/${P}proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 100); do grep -q "sync done" "/tmp/${P}proxy.log" && break; sleep 0.1; done
sed 's/^/   /' "/tmp/${P}proxy.log"
echo "   web through the API server's view:"
probe client 198.18.10.10 80 30
echo "   A new Service is created through the API (a watch event); a moment later it answers:"
cat > "$work/later.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: late, namespace: demo}
spec: {clusterIP: 198.18.10.40, ports: [{name: http, port: 80, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: late-1, namespace: demo, labels: {kubernetes.io/service-name: late}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [198.18.1.10], conditions: {ready: true}}]
YAML
for _ in $(seq 1 50); do
  [ "$(ip netns exec "${P}client" "$LAB" probe --dst 198.18.10.40 --port 80 --count 1 --timeout 300)" = "pod3 1" ] && break; sleep 0.1
done
probe client 198.18.10.40 80 10
echo "   /healthz (upstream's JSON) and a few /metrics lines:"
ip netns exec "${P}client" curl -s http://198.18.2.1:10256/healthz | sed 's/^/      /'; echo
ip netns exec "${P}node" curl -s http://127.0.0.1:10249/metrics \
  | grep -E '^kubeproxy_(sync_proxy_rules_duration_seconds_count|sync_partial_proxy_rules_duration_seconds_count|sync_proxy_rules_last_timestamp_seconds)\{' | sed 's/^/      /'
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true; PROXY_PID=
kill "$API_PID"; wait "$API_PID" 2>/dev/null || true; API_PID=
ip netns exec "${P}node" "$BIN" cleanup > /dev/null
rm -rf "$work"

say "6. How did the client's connection to web find a pod? swift-kube-proxy trace explains it rule by rule (iptables mode)"
"$BIN" trace --config examples/config.yaml --manifests examples/cluster.yaml --host-address 198.18.2.1/24 \
  --kernel-features no-nfacct,random-fully --src 198.18.1.14 --dst 198.18.10.10 --dport 80 | sed 's/^/   /'

say "   ... and in nftables mode: one verdict-map lookup instead of a scan of every Service"
"$BIN" trace --config examples/config.yaml --manifests examples/cluster.yaml --host-address 198.18.2.1/24 \
  --proxy-mode nftables --src 198.18.1.14 --dst 198.18.10.10 --dport 80 | sed 's/^/   /'

say "   ... and in IPVS mode: the same ipset-matching rules for every Service, then one hash lookup of the virtual server"
"$BIN" trace --config examples/config.yaml --manifests examples/cluster.yaml --host-address 198.18.2.1/24 \
  --kernel-features no-nfacct,random-fully --proxy-mode ipvs --src 198.18.1.14 --dst 198.18.10.10 --dport 80 | tail -16 | sed 's/^/   /'

say "7. IPVS mode, on a kernel that has IPVS (this machine's has not): the lab again, inside a small VM"
if [ "${DEMO_IPVS:-1}" != 0 ] && command -v qemu-system-x86_64 >/dev/null && ls /boot/vmlinuz-* >/dev/null 2>&1; then
  vmdir=$(mktemp -d); mkdir -p "$vmdir/extra"
  cp examples/cluster.yaml examples/config.yaml "$vmdir/extra/"; touch "$vmdir/extra/demo"
  echo "   booting Debian's stock kernel under qemu with swift-kube-proxy inside (about a minute)..."
  if VM_EXTRA="$vmdir/extra" vm/build.sh "$vmdir" "$BIN" "$LAB" >/dev/null && vm/run.sh "$vmdir" 300 > "$vmdir/console.txt"; then
    sed -n '/VM-STEP demo/,/VM-TESTS-DONE/p' "$vmdir/console.txt" | grep -v '^VM-' | grep -v '^\[ *[0-9]' || true
  else
    echo "   (the VM did not finish; see $vmdir/console.txt)"; vmdir=
  fi
  [ -n "$vmdir" ] && rm -rf "$vmdir"
else
  echo "   (skipped: needs qemu-system-x86 and linux-image-amd64, which make demo installs; DEMO_IPVS=0 skips it)"
fi

say "8. Removing the lab"
