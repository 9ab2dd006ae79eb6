#!/bin/bash
# The demo's IPVS step, run inside the VM by vm/init.sh when /extra/demo exists: the lab around
# `swift-kube-proxy run --proxy-mode ipvs` with the example cluster, a few real connections, and
# the kernel's own view (ipvsadm -Ln, kube-ipvs0, the ipsets). Output is meant for people.
set -uo pipefail
B=/bin/swift-kube-proxy; L=/bin/skp-lab; P=demo; X=/extra
in_ns() { local ns=$1; shift; ip netns exec "$P$ns" "$@"; }
probe() { local label=$1 ns=$2; shift 2; echo "   $label"; in_ns "$ns" $L probe "$@" | sed 's/^/      /'; }
bash /lab/lab.sh up $P $L >/dev/null || { echo "lab up failed"; exit 1; }
ip netns exec ${P}node $B run --config $X/config.yaml --manifests $X/cluster.yaml --proxy-mode ipvs --iptables-backend legacy > /run/proxy.log 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q "sync done" /run/proxy.log && break; sleep 0.1; done
grep "sync done" /run/proxy.log | head -1 | sed 's/^/   /'
probe "web (ClusterIP 198.18.10.10:80), rr: 60 connections, exactly 20 each" client --dst 198.18.10.10 --port 80 --count 60
probe "nodeport (198.18.2.1:30080 from the external host)" ext --dst 198.18.2.1 --port 30080 --count 20
probe "sticky (ClientIP affinity = IPVS persistence): one pod" client --dst 198.18.10.16 --port 80 --count 20
probe "local (NodePort 30082, externalTrafficPolicy Local) from outside: only the pod on this node" ext --dst 198.18.2.1 --port 30082 --count 20
probe "lb from 198.18.2.3, outside loadBalancerSourceRanges: dropped" ext --dst 198.18.30.1 --port 80 --src 198.18.2.3 --timeout 1500
echo "   ipvsadm -Ln, the kernel's own view: $(in_ns node ipvsadm -Ln | grep -cE '^(TCP|UDP)') virtual servers; web, sticky and local's NodePort:"
for vs in 198.18.10.10:80 198.18.10.16:80 198.18.2.1:30082; do in_ns node ipvsadm -Ln -t $vs | tail -n +3; done | sed 's/^/      /'
echo "   kube-ipvs0: $(in_ns node ip -o addr show dev kube-ipvs0 | wc -l) Service addresses, $(in_ns node ip -o link show kube-ipvs0 | grep -o 'state [A-Z]*');" \
     "ipsets: $(in_ns node ipset list -n | wc -l)"
kill -TERM $pid; wait $pid
in_ns node $B cleanup | sed 's/^/   /'
bash /lab/lab.sh down $P
