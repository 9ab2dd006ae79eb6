#!/usr/bin/env bash
# The lab: network namespaces that stand for one Kubernetes node, its pods, a client pod and
# an external host. Nothing here touches the machine's own network namespace.
#
#   lab/lab.sh up   PREFIX SKP_LAB  create the namespaces, links, addresses and pod servers
#   lab/lab.sh down PREFIX          delete them (safe to run twice)
#   lab/lab.sh up6  PREFIX SKP_LAB  add IPv6 to a lab that is up (dual-stack; see below)
#
# Addresses (all from 198.18.0.0/15, the benchmarking range):
#   pods      PREFIXpod1 198.18.1.2  PREFIXpod2 198.18.1.6  PREFIXpod3 198.18.1.10   (pod CIDR 198.18.1.0/24)
#   client    PREFIXclient 198.18.1.14 (a pod without a server)
#   node      PREFIXnode: 198.18.1.1/.5/.9/.13 towards the pods, 198.18.2.1 towards the outside (its node IP)
#   external  PREFIXext 198.18.2.2 (allowed by the LoadBalancer's source range) and 198.18.2.3 (not allowed)
# Service addresses: ClusterIPs 198.18.10.0/24, external IPs 198.18.20.0/24, LoadBalancer IPs 198.18.30.0/24.
# Each pod server answers TCP 8080 and 9090 with an HTTP body holding its name, UDP 5353 with its name,
# and TCP 7070 with its name on every line while the connection stays open (skp-lab hold).
# SKP_LAB is the skp-lab binary (.build/debug/skp-lab): the pod servers and the readiness probes.
# IPv6 (up6, from 2001:2::/48): podN's link 2001:2:1:N::/64 (node ::1, pod ::2; client is N=4),
# node 2001:2:2::1 towards ext 2001:2:2::2; pod servers answer TCP 8080 and UDP 5353 over IPv6 too.
set -euo pipefail

cmd=${1:?usage: lab.sh up PREFIX SKP_LAB | up6 PREFIX SKP_LAB | down PREFIX}
P=${2:?prefix}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

down() {
  for ns in $(ip netns list | awk '{print $1}' | grep "^${P}" || true); do
    # Stop whatever still runs inside (servers, proxies) before removing the namespace.
    for pid in $(ip netns pids "$ns" 2>/dev/null || true); do kill "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

link() { # link NS_A IF_A ADDR_A NS_B IF_B ADDR_B
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  in_ns "$1" ip addr add "$3" dev "$2"; in_ns "$1" ip link set "$2" up
  in_ns "$4" ip addr add "$6" dev "$5"; in_ns "$4" ip link set "$5" up
}

up() {
  local bin=${3:?skp-lab binary}
  down
  trap 'down' ERR
  for ns in node pod1 pod2 pod3 client ext; do
    ip netns add "${P}${ns}"
    in_ns "${P}${ns}" ip link set lo up
  done
  local node=${P}node
  in_ns "$node" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$node" sysctl -qw net.ipv4.conf.all.rp_filter=0
  local i=1
  for pod in pod1 pod2 pod3 client; do
    local base=$(( (i - 1) * 4 ))
    link "$node" "v${pod}" "198.18.1.$((base + 1))/30" "${P}${pod}" eth0 "198.18.1.$((base + 2))/30"
    in_ns "${P}${pod}" ip route add default via "198.18.1.$((base + 1))"
    i=$((i + 1))
  done
  link "$node" eth0 198.18.2.1/24 "${P}ext" eth0 198.18.2.2/24
  in_ns "${P}ext" ip addr add 198.18.2.3/24 dev eth0
  in_ns "${P}ext" ip route add default via 198.18.2.1
  # The node reaches "the rest of the network" through the external host (which does not forward).
  in_ns "$node" ip route add default via 198.18.2.2
  for pod in pod1 pod2 pod3; do
    in_ns "${P}${pod}" "$bin" serve --name "$pod" --tcp 8080,9090 --udp 5353 --hold 7070 >/dev/null 2>&1 &
  done
  # Wait until every server answers on its own address.
  for addr in 198.18.1.2 198.18.1.6 198.18.1.10; do
    for _ in $(seq 1 50); do
      if in_ns "${P}client" "$bin" probe --dst "$addr" --port 8080 --timeout 200 | grep -q '^pod'; then break; fi
      sleep 0.1
    done
  done
  trap - ERR
}

up6() {
  local bin=${3:?skp-lab binary} node=${P}node i=1
  in_ns "$node" sysctl -qw net.ipv6.conf.all.forwarding=1
  for pod in pod1 pod2 pod3 client; do
    in_ns "$node" ip -6 addr add "2001:2:1:$i::1/64" dev "v$pod" nodad
    in_ns "${P}$pod" ip -6 addr add "2001:2:1:$i::2/64" dev eth0 nodad
    in_ns "${P}$pod" ip -6 route add default via "2001:2:1:$i::1"
    i=$((i + 1))
  done
  in_ns "$node" ip -6 addr add 2001:2:2::1/64 dev eth0 nodad
  in_ns "${P}ext" ip -6 addr add 2001:2:2::2/64 dev eth0 nodad
  in_ns "${P}ext" ip -6 route add default via 2001:2:2::1
  in_ns "$node" ip -6 route add default via 2001:2:2::2
  for pod in pod1 pod2 pod3; do
    in_ns "${P}${pod}" "$bin" serve --name "$pod" --tcp 8080 --udp 5353 --ipv6 >/dev/null 2>&1 &
  done
  for _ in $(seq 1 50); do
    in_ns "${P}client" "$bin" probe --dst 2001:2:1:3::2 --port 8080 --timeout 200 | grep -q '^pod3' && return 0
    sleep 0.1
  done
  echo "lab.sh: the IPv6 pod servers do not answer" >&2; return 1
}

case "$cmd" in
  up) up "$@" ;;
  up6) up6 "$@" ;;
  down) down ;;
  *) echo "usage: lab.sh up PREFIX SKP_LAB | up6 PREFIX SKP_LAB | down PREFIX" >&2; exit 2 ;;
esac
