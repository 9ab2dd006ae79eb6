#!/usr/bin/env bash
# make image-test: runs the image that `make image` wrote, for real. podman loads skp.oci.tar and
# runs it privileged in the lab's node namespace (lab/lab.sh, prefix img: imgnode, imgpod1..3,
# imgclient, imgext) with examples/config.yaml and examples/cluster.yaml mounted, in each mode:
# real connections from the client pod and the external host must reach the pods through the
# Services, then SIGTERM (podman stop) must stop it with exit code 0, in time, leaving the rules.
# Last, the image's `cleanup` removes them. Only namespaces this script creates are touched; the
# container and the lab are removed on exit, on failure too.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-swift-kube-proxy:0.1}
ARCHIVE=${ARCHIVE:-skp.oci.tar}
P=img                                   # lab prefix
NAME=skp-image-test                     # container name
STOP_LIMIT_MS=5000                      # how long SIGTERM may take (podman stop sends SIGKILL at 10 s)
start=$SECONDS
ms() { echo $(( $(date +%s%N) / 1000000 )); }

if [ "$(id -u)" != 0 ]; then echo "make image-test creates network namespaces: run it as root" >&2; exit 1; fi
[ -f "$ARCHIVE" ] || { echo "no $ARCHIVE: run make image first" >&2; exit 1; }
bash image/deps.sh
# The lab's pod servers and probes (skp-lab, not in the image), built next to the image's binary.
if ! flock /tmp/skp-build.lock "${SWIFT:-swift}" build -c release --static-swift-stdlib --product skp-lab \
     --scratch-path .build-image > /tmp/skp-image-test-build.log 2>&1; then
  tail -n 20 /tmp/skp-image-test-build.log >&2; echo "skp-lab does not build" >&2; exit 1
fi
LAB=$PWD/.build-image/release/skp-lab

# No systemd here: cgroupfs and file events. runc: Debian 12's crun refuses hybrid cgroups.
podman() { command podman --cgroup-manager=cgroupfs --events-backend=file --runtime=runc "$@"; }
# Without CAP_SYS_RESOURCE the runtime cannot raise rlimits to podman's defaults: ask for what we have.
limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)

fail() { echo "FAIL: $*" >&2; echo "--- container log:" >&2; podman logs "$NAME" 2>&1 | tail -n 20 >&2 || true; exit 1; }
cleanup() {
  podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  lab/lab.sh down "$P"
  [ -n "${KEEP_IMAGE:-}" ] || podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM                # interrupted: still clean up

echo "== load $ARCHIVE"
podman load -q -i "$ARCHIVE"
podman image inspect "$IMAGE" --format 'entrypoint {{.Config.Entrypoint}} cmd {{.Config.Cmd}}, {{.Size}} bytes'

echo "== lab (prefix $P)"
lab/lab.sh up "$P" "$LAB"
touch /run/xtables.lock                 # the lock the DaemonSet shares with the host's iptables users

# probe FROM DST PORT COUNT [extra]: COUNT connections; each must be answered by a pod.
probe() {
  local from=$1 dst=$2 port=$3 count=$4 out; shift 4
  out=$(ip netns exec "$P$from" "$LAB" probe --dst "$dst" --port "$port" --count "$count" --timeout 1000 "$@") \
    || fail "lab probe to $dst:$port failed"
  echo "   $dst:$port from $from: $(echo "$out" | tr '\n' ' ')"
  echo "$out" | awk -v n="$count" '$1 !~ /^pod[123]$/ {bad=1} {sum+=$2} END {exit !(sum == n && !bad)}' \
    || fail "not every connection to $dst:$port reached a pod"
}

# run_mode LABEL ARGS...: the container with ARGS after the image name, traffic, SIGTERM.
run_mode() {
  local label=$1; shift
  echo "== $label: podman run --privileged --network ns:/run/netns/${P}node ... $*"
  podman run -d --name "$NAME" --privileged --network "ns:/run/netns/${P}node" "${limits[@]}" \
    -v "$PWD/examples:/etc/skp:ro" -v /run/xtables.lock:/run/xtables.lock -v /lib/modules:/lib/modules:ro \
    "$@" >/dev/null
  local ready= log
  for _ in $(seq 1 100); do
    log=$(podman logs "$NAME" 2>&1)
    grep -q 'sync done' <<<"$log" && { ready=1; break; }
    [ "$(podman inspect "$NAME" --format '{{.State.Running}}')" = true ] || fail "the container exited"
    sleep 0.2
  done
  [ -n "$ready" ] || fail "no 'sync done' in 20 s"
  grep -m1 'sync done' <<<"$log" | sed 's/^/   log: /'
  local body
  body=$(ip netns exec "${P}client" curl -s --max-time 3 http://198.18.10.10/) || fail "curl to the ClusterIP failed"
  echo "   curl http://198.18.10.10/ from client: $body"
  echo "$body" | grep -q 'pod[123]' || fail "the ClusterIP's answer names no pod"
  probe client 198.18.10.10 80 60                 # web: ClusterIP, TCP
  probe client 198.18.10.12 53 30 --udp           # dns: ClusterIP, UDP
  probe ext 198.18.2.1 30080 30                   # nodeport, from outside the node
  ip netns exec "${P}client" curl -sf --max-time 3 -o /dev/null http://198.18.2.1:10256/healthz \
    || fail "/healthz does not answer 200"
  echo "   /healthz: 200"
  local t0 took code
  t0=$(ms); podman stop -t 10 "$NAME" >/dev/null; took=$(( $(ms) - t0 ))
  code=$(podman inspect "$NAME" --format '{{.State.ExitCode}}')
  echo "   SIGTERM (podman stop): exit code $code after $took ms"
  [ "$code" = 0 ] || fail "exit code $code after SIGTERM (137: it needed SIGKILL)"
  [ "$took" -le $STOP_LIMIT_MS ] || fail "stopping took more than $STOP_LIMIT_MS ms"
  log=$(podman logs "$NAME" 2>&1)
  tail -n 1 <<<"$log" | sed 's/^/   last log line: /'
  podman rm "$NAME" >/dev/null
}

# --init-only, as an init container would run it: the conntrack sysctls of the node's namespace,
# then exit 0 without a rule.
echo "== --init-only, as an init container"
ip netns exec "${P}node" sh -c 'echo 300 > /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close_wait'
podman run --rm --privileged --network "ns:/run/netns/${P}node" "${limits[@]}" -v "$PWD/examples:/etc/skp:ro" \
  "$IMAGE" run --init-only --config /etc/skp/config.yaml >/dev/null 2>&1 || fail "run --init-only did not exit 0"
closeWait=$(ip netns exec "${P}node" cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close_wait)
echo "   exit 0; nf_conntrack_tcp_timeout_close_wait 300 -> $closeWait (upstream's default, 1 h)"
[ "$closeWait" = 3600 ] || fail "--init-only did not set the conntrack close-wait timeout"
[ "$(ip netns exec "${P}node" iptables-nft-save 2>/dev/null | grep -c '^-A KUBE-SERVICES')" = 0 ] || fail "--init-only wrote rules"

run_mode "iptables mode, nft backend" "$IMAGE" run --config /etc/skp/config.yaml \
  --manifests /etc/skp/cluster.yaml --proxy-mode iptables --iptables-backend nft
echo "   rules left in place: $(ip netns exec "${P}node" iptables-nft-save 2>/dev/null | grep -c '^-A KUBE') (iptables-nft-save)"
run_mode "iptables mode, legacy backend" "$IMAGE" run --config /etc/skp/config.yaml \
  --manifests /etc/skp/cluster.yaml --proxy-mode iptables --iptables-backend legacy
# As upstream's DaemonSet calls it: /usr/local/bin/kube-proxy --config=... (run is the default command).
run_mode "nftables mode, as kube-proxy" --entrypoint /usr/local/bin/kube-proxy "$IMAGE" \
  --config=/etc/skp/config.yaml --manifests /etc/skp/cluster.yaml --proxy-mode=nftables
echo "   rules left in place: $(ip netns exec "${P}node" nft list table ip kube-proxy | grep -c ' : goto ') verdict-map entries"

echo "== cleanup from the image"
podman run --rm --privileged --network "ns:/run/netns/${P}node" "${limits[@]}" \
  -v /run/xtables.lock:/run/xtables.lock "$IMAGE" cleanup | sed 's/^/   /'
# KUBE-FIREWALL stays, as with upstream: kubelet owns it (the route_localnet guard both write).
left=$(ip netns exec "${P}node" sh -c 'nft list table ip kube-proxy 2>/dev/null | grep -c chain;
  for b in nft legacy; do iptables-$b-save 2>/dev/null | grep "^-A KUBE" | grep -vc "^-A KUBE-FIREWALL"; done' | tr '\n' ' ') || true
echo "   left: nftables chains, iptables-nft rules, iptables-legacy rules (but KUBE-FIREWALL): $left"
[ "$left" = "0 0 0 " ] || fail "rules remain after cleanup"
echo "== image test passed in $((SECONDS - start)) s"
