#!/bin/bash
# The IPVS traffic suite, run inside the VM by vm/init.sh when the test put its files in /extra:
# the lab's namespaces (lab/lab.sh) around `swift-kube-proxy run --proxy-mode ipvs` in the node
# namespace, real connections from the client pod and the external host, and the kernel's own
# view (ipvsadm, iptables-save, ipset). Each result is one `VM-RESULT <name> <values>` line on the
# console; KernelTests/IPVSVMTests asserts on them.
#   /extra: config.yaml, step0.json (the example cluster + a "hold" Service on the pods' hold port),
#           step1-pod1.json / step1-pod2.json (the held pod removed), step2.json (a Service added, one removed)
set -uo pipefail
B=/bin/swift-kube-proxy; L=/bin/skp-lab; P=vm; X=/extra; RUN=/run/skp
mkdir -p $RUN
in_ns() { local ns=$1; shift; ip netns exec "$P$ns" "$@"; }
result() { echo "VM-RESULT $*"; }
# tally NAME NS ARGS...: "pod1=20 pod2=20 ..." from skp-lab probe's tally, in name order
tally() { local name=$1 ns=$2; shift 2; result "$name" $(in_ns "$ns" $L probe "$@" | awk '{printf "%s=%s ", $1, $2}'); }
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
# trace_live NAME SRC DST PORT [PROTO]: `trace --live` on the node's kernel state: the verdict, then the endpoints
trace_live() {
  local out; out=$(in_ns node $B trace --live --proxy-mode ipvs --src "$2" --dst "$3" --dport "$4" --protocol "${5:-tcp}" 2>&1)
  result "trace-live-$1" $(echo "$out" | awk '/^verdict:/ {print $2} /^  [0-9]/ {print $1}' | tr '\n' ' ')
  echo "$out" | grep -q "^verdict:" || echo "$out" | sed "s/^/VM-TRACE-LIVE-OUTPUT $1 /"
}

bash /lab/lab.sh up $P $L || { echo "VM-ERROR lab up failed"; exit 1; }
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
# trace --live walks what the kernel holds now (IPVS table over netlink, ipsets, iptables).
trace_live web 198.18.1.14 198.18.10.10 80; trace_live dns 198.18.1.14 198.18.10.12 53 udp
trace_live multi-metrics 198.18.1.14 198.18.10.11 9090; trace_live nodeport 198.18.2.2 198.18.2.1 30080
trace_live extip 198.18.2.2 198.18.20.1 80; trace_live lb-allowed 198.18.2.2 198.18.30.1 80
trace_live lb-denied 198.18.2.3 198.18.30.1 80; trace_live local-external 198.18.2.2 198.18.2.1 30082
trace_live local-cluster 198.18.1.14 198.18.10.17 80; trace_live empty 198.18.1.14 198.18.10.18 80

# Graceful termination: a connection held open to the hold Service survives its pod's removal;
# new connections avoid that pod; the real server goes once the connection is gone.
rm -f $RUN/release
in_ns client $L hold --dst 198.18.10.30 --port 80 --until-file $RUN/release --seconds 60 > $RUN/hold.out 2>&1 &
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

# verify: the live IPVS table, ipsets, kube-ipvs0 and iptables rules against a fresh sync in a
# scratch namespace; then a stray virtual server is drift. The proxy is stopped first: its next
# periodic sync would delete the stray (every virtual server not wanted is ours to delete).
verify() { in_ns node $B verify --config $X/config.yaml --manifests $RUN/cluster.json --iptables-backend legacy > $RUN/verify.out 2>&1; result "$1" $?; sed "s/^/VM-VERIFY-$1 /" $RUN/verify.out; }
verify verify-exit
stop_proxy
in_ns node ipvsadm -A -t 198.18.255.254:1 -s rr
verify verify-stray-exit
in_ns node ipvsadm -D -t 198.18.255.254:1

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
# The soak (VM_SOAK_SECONDS in /extra/soak-seconds, default 120): a new manifest every 0.5 s
# (/extra/soak-*.json: four probed Services whose endpoints change but always keep a ready pod,
# four others created and deleted) while the client connects to the probed Services and dns; a
# kill -9 and restart at 40%, an external flush (ipvsadm -C, iptables -t nat -F) at 70%: a
# target's failures are the flush's until it answers again (at most 15 s); repaired-after is when
# every target has. Then verify; RSS in KiB.
rss() { awk '/VmRSS/ {print $2}' /proc/"$(cat $RUN/proxy.pid)"/status; }
soak() {
  local dur; dur=$(cat $X/soak-seconds 2>/dev/null || echo 120)
  local variants; variants=$(ls $X/soak-*.json | wc -l)
  publish $X/soak-0.json
  start_proxy --iptables-sync-period 2s --iptables-min-sync-period 100ms
  local rss_start; rss_start=$(rss)
  local start=$SECONDS end=$((SECONDS + dur)) kill_at=$((SECONDS + dur * 4 / 10)) flush_at=$((SECONDS + dur * 7 / 10))
  ( i=0; while [ $SECONDS -lt $end ]; do i=$((i + 1)); publish $X/soak-$((i % variants)).json; sleep 0.5; done ) &
  # After the flush, each target's failures are the flush's until it answers again (at most 15 s):
  # partial syncs restore the Services that changed before the integrity check restores the rest.
  local churn=$! tried=0 failed=0 flush_failed=0 flushed= repaired=- rss_restart=0 back=" "
  while [ $SECONDS -lt $end ]; do
    if [ -n "$kill_at" ] && [ $SECONDS -ge $kill_at ]; then
      kill_at=; kill -9 "$(cat $RUN/proxy.pid)"; wait "$(cat $RUN/proxy.pid)" 2>/dev/null
      start_proxy --iptables-sync-period 2s --iptables-min-sync-period 100ms; rss_restart=$(rss)
    fi
    if [ -n "$flush_at" ] && [ $SECONDS -ge $flush_at ]; then
      flush_at=; in_ns node ipvsadm -C; in_ns node iptables-legacy -t nat -F; flushed=$SECONDS
    fi
    for target in "198.18.10.50 80" "198.18.10.51 80" "198.18.10.52 80" "198.18.10.53 80" "198.18.10.12 53 --udp"; do
      set -- $target
      out=$(in_ns client $L probe --each --dst $1 --port $2 ${3:-} --timeout 1000 2>&1 | head -1)
      tried=$((tried + 1))
      case "$out" in
        pod*) if [ -n "$flushed" ] && [ "$repaired" = - ]; then
                case "$back" in *" $1:$2 "*) ;; *) back="$back$1:$2 " ;; esac
                [ "$(echo $back | wc -w)" -eq 5 ] && repaired=$((SECONDS - flushed))
              fi ;;
        *) if [ -n "$flushed" ] && [ $((SECONDS - flushed)) -le 15 ] && case "$back" in *" $1:$2 "*) false ;; *) true ;; esac; then flush_failed=$((flush_failed + 1))
           else failed=$((failed + 1)); echo "VM-SOAK-FAIL $(( SECONDS - start ))s $1:$2 $out"
             # What the kernel and the proxy had at that moment.
             in_ns node ipvsadm -Ln -t "$1:$2" 2>&1 | sed 's/^/VM-SOAK-DIAG ipvs /'
             in_ns node ip -o addr show dev kube-ipvs0 | grep -c "$1/" | sed 's/^/VM-SOAK-DIAG bound /'
             tail -n 8 $RUN/proxy.log | sed 's/^/VM-SOAK-DIAG log /'; fi ;;
      esac
    done
  done
  wait $churn
  sleep 1
  verify soak-verify
  result soak tried=$tried failed=$failed flush-failed=$flush_failed repaired-after=$repaired syncs=$(syncs) \
    rss-start=$rss_start rss-restart=$rss_restart rss-end=$(rss) seconds=$dur
  stop_proxy
}
soak

# Dual-stack (/extra/dual.json): IPv6 beside IPv4 in the lab, a Node with an address of each
# family; one IPVS dataplane per family: a dual-stack Service on both ClusterIPs (TCP and UDP),
# an IPv6-only one, a NodePort on the IPv6 node address; KUBE-6- ipsets, IPv6 virtual servers.
if bash /lab/lab.sh up6 $P $L; then
  publish $X/dual.json
  start_proxy --iptables-sync-period 2s
  for _ in $(seq 1 300); do in_ns node ipvsadm -Ln | grep -q "\[2001:2:10::51\]:80" && break; sleep 0.1; done
  result dual-families $(grep -o 'families=[^ ]*' $RUN/proxy.log | head -1)
  tally dual-v4 client --dst 198.18.10.50 --port 80 --count 12
  tally dual-v6 client --dst 2001:2:10::50 --port 80 --count 12
  tally dual-v6-udp client --dst 2001:2:10::50 --port 53 --udp --count 6
  tally dual-six client --dst 2001:2:10::51 --port 80 --count 6
  tally dual-nodeport6 ext --dst 2001:2:2::1 --port 30090 --count 6
  result dual-sets6 $(in_ns node ipset list -n | grep -c '^KUBE-6-')
  result dual-vs6 $(in_ns node ipvsadm -Ln | grep -cE '^(TCP|UDP) +\[2001:')
  result dual-bound6 $(in_ns node ip -o -6 addr show dev kube-ipvs0 | grep -c ' 2001:2:10::')
  verify dual-verify
  grep -q "sync failed" $RUN/proxy.log && sed 's/^/VM-DUAL-LOG /' $RUN/proxy.log | head -40
  stop_proxy
else
  result dual-families lab-up6-failed
fi

bash /lab/lab.sh down $P

# Partial syncs equal full syncs in IPVS mode: seeded random changes, each compared with a fresh
# full sync (skp-lab partial-sync makes and deletes its own namespaces).
for seed in 1 2; do $L partial-sync --mode ipvs --seed $seed --steps 15 2>&1 | sed 's/^/VM-PARTIAL /'; done
echo "VM-SUITE-DONE"
