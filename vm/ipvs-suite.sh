#!/bin/bash
# The IPVS traffic suite, run inside the VM by vm/init.sh when the test put its files in /extra:
# the lab's namespaces (lab/lab.sh) around `swift-kube-proxy run --proxy-mode ipvs` in the node
# namespace, real connections from the client pod and the external host, and the kernel's own
# view (ipvsadm, iptables-save, ipset). Each result is one `VM-RESULT <name> <values>` line on the
# console; KernelTests/IPVSVMTests asserts on them.
#   /extra: config.yaml, step0.json (the example cluster + a "hold" Service on the pods' hold port),
#           step1-pod1.json / step1-pod2.json (the held pod removed), step2.json (a Service added, one removed)
set -uo pipefail
B=/bin/swift-kube-proxy; P=vm; X=/extra; RUN=/run/skp
mkdir -p $RUN
in_ns() { local ns=$1; shift; ip netns exec "$P$ns" "$@"; }
result() { echo "VM-RESULT $*"; }
# tally NAME NS ARGS...: "pod1=20 pod2=20 ..." from lab probe's tally, in name order
tally() { local name=$1 ns=$2; shift 2; result "$name" $(in_ns "$ns" $B lab probe "$@" | awk '{printf "%s=%s ", $1, $2}'); }
publish() { cp "$1" $RUN/cluster.json.tmp && mv $RUN/cluster.json.tmp $RUN/cluster.json; }
syncs() { grep -c "sync done" $RUN/proxy.log 2>/dev/null || echo 0; }
wait_sync() { # wait until the proxy logged more syncs than $1 (changes are picked up within a poll)
  for _ in $(seq 1 300); do [ "$(syncs)" -gt "$1" ] && return 0; sleep 0.1; done; echo "VM-ERROR no sync after $1"; return 1; }
start_proxy() { # not through in_ns: a backgrounded function would be a subshell, and $! its pid
  ip netns exec ${P}node $B run --config $X/config.yaml --manifests $RUN/cluster.json --iptables-backend legacy "$@" > $RUN/proxy.log 2>&1 &
  echo $! > $RUN/proxy.pid
  wait_sync 0 || { sed 's/^/VM-PROXY-LOG /' $RUN/proxy.log; bash /lab/lab.sh down $P; echo "VM-SUITE-DONE"; exit 1; }
}
stop_proxy() { kill -TERM "$(cat $RUN/proxy.pid)"; wait "$(cat $RUN/proxy.pid)"; result proxy-exit $?; }
table() { echo "VM-TABLE-BEGIN $1"; in_ns node ipvsadm -Ln | tail -n +4; echo "VM-TABLE-END $1"; }

bash /lab/lab.sh up $P $B || { echo "VM-ERROR lab up failed"; exit 1; }
publish $X/step0.json
start_proxy --iptables-sync-period 2s
grep -q "sync failed" $RUN/proxy.log && { echo "VM-ERROR sync failed"; sed 's/^/VM-PROXY-LOG /' $RUN/proxy.log; }

# Every Service kind.
tally web client --dst 198.18.10.10 --port 80 --count 60
tally dns client --dst 198.18.10.12 --port 53 --udp --count 30
tally multi-metrics client --dst 198.18.10.11 --port 9090 --count 20
tally nodeport ext --dst 198.18.2.1 --port 30080 --count 20
tally extip ext --dst 198.18.20.1 --port 80 --count 5
tally lb-allowed ext --dst 198.18.30.1 --port 80 --count 10 --src 198.18.2.2
tally lb-denied ext --dst 198.18.30.1 --port 80 --src 198.18.2.3 --timeout 1500
tally sticky client --dst 198.18.10.16 --port 80 --count 50
tally local-external ext --dst 198.18.2.1 --port 30082 --count 20
tally local-cluster client --dst 198.18.10.17 --port 80 --count 40
tally empty client --dst 198.18.10.18 --port 80 --timeout 3000
tally node-to-web node --dst 198.18.10.10 --port 80 --count 6
result healthz $(in_ns client wget -q -O - http://198.18.2.1:10256/healthz 2>&1 | head -c 400)
table initial
result ipvs0 $(in_ns node ip -o link show kube-ipvs0 | grep -o "state [A-Z]*") $(in_ns node ip -o addr show dev kube-ipvs0 | wc -l)
result ipsets $(in_ns node ipset list -n | sort | tr '\n' ' ')
result clusterip-set $(in_ns node ipset list KUBE-CLUSTER-IP | sed -n '/Members:/,$p' | tail -n +2 | sort | tr '\n' ' ')
in_ns node iptables-save | grep -E "^-A KUBE-" | sed 's/^/VM-IPTABLES /'

# Graceful termination: a connection held open to the hold Service survives its pod's removal;
# new connections avoid that pod; the real server goes once the connection is gone.
rm -f $RUN/release
in_ns client $B lab hold --dst 198.18.10.30 --port 80 --until-file $RUN/release --seconds 60 > $RUN/hold.out 2>&1 &
hold=$!
for _ in $(seq 1 50); do grep -q connected $RUN/hold.out && break; sleep 0.1; done
held=$(awk '/connected/ {print $3}' $RUN/hold.out)
result hold-connected "$held"
# Wait for the change itself: a periodic sync that read the old file may end first.
held_ip=$([ "$held" = pod1 ] && echo 198.18.1.2 || echo 198.18.1.6)
publish $X/step1-$held.json
for _ in $(seq 1 300); do in_ns node ipvsadm -Ln -t 198.18.10.30:80 | awk -v a="$held_ip:7070" '$2 == a && $4 == 0 {f=1} END {exit !f}' && break; sleep 0.1; done
result drained $(in_ns node ipvsadm -Ln -t 198.18.10.30:80 | awk '$1 == "->" && $2 != "RemoteAddress:Port" {print $2 "@" $4 "/" $5}' | sort | tr '\n' ' ')
tally hold-new client --dst 198.18.10.30 --port 80 --count 6 --timeout 300
touch $RUN/release; wait $hold
result hold-after $(awk '/after/ {print $3}' $RUN/hold.out)
gone=no
for _ in $(seq 1 300); do
  in_ns node ipvsadm -Ln -t 198.18.10.30:80 | grep -q "$held_ip:7070" || { gone=yes; break; }
  sleep 0.2
done
result drained-gone $gone $(in_ns node ipvsadm -Ln -t 198.18.10.30:80 | awk '$1 == "->" && $2 != "RemoteAddress:Port" {print $2 "@" $4}' | tr '\n' ' ')

# Changes while running: a Service added, another removed.
publish $X/step2.json
for _ in $(seq 1 300); do in_ns node ipvsadm -Ln | grep -q "198.18.10.40:80" && break; sleep 0.1; done
tally added client --dst 198.18.10.40 --port 80 --count 3 --timeout 1500
tally extip-removed ext --dst 198.18.20.1 --port 80 --timeout 1500
result extip-vs $(in_ns node ipvsadm -Ln | grep -c "198.18.20.1:80")
result extip-bound $(in_ns node ip -o addr show dev kube-ipvs0 | grep -c "198.18.20.1/")
tally web-after client --dst 198.18.10.10 --port 80 --count 30
stop_proxy

# A second scheduler, on restart: every virtual server switches to sh (source hashing). Before it,
# leave a wanted real server at weight 0, as a run stopped mid-drain would (a known upstream bug).
in_ns node ipvsadm -e -t 198.18.10.10:80 -r 198.18.1.2:8080 -m -w 0
result left-at-zero $(in_ns node ipvsadm -Ln -t 198.18.10.10:80 | awk '$2 == "198.18.1.2:8080" {print $4}')
start_proxy --iptables-sync-period 2s --ipvs-scheduler sh
result schedulers $(in_ns node ipvsadm -Ln | awk '$1 == "TCP" || $1 == "UDP" {print $3}' | sort -u | tr '\n' ' ')
tally web-sh client --dst 198.18.10.10 --port 80 --count 30
result weights $(in_ns node ipvsadm -Ln | awk '$1 == "->" && $2 != "RemoteAddress:Port" {print $4}' | sort -u | tr '\n' ' ')
stop_proxy

# cleanup removes everything IPVS mode made.
in_ns node $B cleanup > $RUN/cleanup.out 2>&1; result cleanup-exit $?
sed 's/^/VM-CLEANUP /' $RUN/cleanup.out
result after-cleanup vs=$(in_ns node ipvsadm -Ln | grep -cE "^(TCP|UDP|SCTP)") \
  link=$(in_ns node ip link show kube-ipvs0 >/dev/null 2>&1 && echo yes || echo no) \
  sets=$(in_ns node ipset list -n | wc -l) chains=$(in_ns node iptables-save | grep -c "KUBE-")
bash /lab/lab.sh down $P
echo "VM-SUITE-DONE"
