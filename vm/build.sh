#!/usr/bin/env bash
# Builds what the IPVS VM boots: an uncompressed vmlinux from Debian's stock kernel (it has IPVS
# and dummy as modules) and an initramfs with busybox, iproute2, ipvsadm, ipset, iptables, nft,
# the modules, swift-kube-proxy and skp-lab (the lab harness) with their shared libraries, and
# vm/init.sh as /init. SKP_LAB defaults to the skp-lab beside BINARY.
#   [VM_EXTRA=DIR] vm/build.sh OUT_DIR [BINARY [SKP_LAB]]   (needs: qemu-system-x86 linux-image-amd64 busybox-static ipvsadm ipset cpio)
# VM_EXTRA's files land in the guest's /extra; with /extra/step0.json there, /init runs
# vm/ipvs-suite.sh; with /extra/demo, vm/ipvs-demo.sh; with /extra/bench-args, the benchmark.
set -euo pipefail
OUT=${1:?OUT_DIR}; BIN=${2:-.build/release/swift-kube-proxy}; LAB=${3:-$(dirname "$BIN")/skp-lab}
KV=$(ls /lib/modules | grep -v "^$(uname -r)$" | sort -V | tail -1)
[ -n "$KV" ] || { echo "no Debian kernel under /lib/modules (apt-get install linux-image-amd64)" >&2; exit 1; }
mkdir -p "$OUT"; ROOT=$(mktemp -d); trap 'rm -rf "$ROOT"' EXIT

# 1. vmlinux: the xz payload of the bzImage, uncompressed (PVH boot: twice as fast as bzImage).
if [ ! -s "$OUT/vmlinux" ]; then
  offset=$(grep -abo $'\xfd7zXZ\x00' "/boot/vmlinuz-$KV" | head -1 | cut -d: -f1)
  tail -c +$((offset + 1)) "/boot/vmlinuz-$KV" | xz -dc --single-stream > "$OUT/vmlinux" 2>/dev/null || true
  [ -s "$OUT/vmlinux" ] || { echo "could not extract vmlinux from /boot/vmlinuz-$KV" >&2; exit 1; }
fi

# 2. The root file system.
mkdir -p "$ROOT"/{bin,sbin,lib,lib64,usr/sbin,usr/lib,etc,proc,sys,dev,run,tmp,var/run/netns,www}
copy_bin() { # copy a binary and every library ldd lists, under the same paths
  local f=$1 dest=${2:-$1}
  mkdir -p "$ROOT$(dirname "$dest")"; rm -f "$ROOT$dest"; cp -L "$f" "$ROOT$dest"
  { ldd "$f" 2>/dev/null || true; } | { grep -o '/[^ ]*' || true; } | while read -r lib; do
    [ -e "$ROOT$lib" ] || { mkdir -p "$ROOT$(dirname "$lib")"; cp -L "$lib" "$ROOT$lib"; }
  done
}
BUSYBOX=$(command -v busybox)
copy_bin "$BUSYBOX" /bin/busybox
copy_bin /bin/ip /bin/ip
copy_bin /bin/bash /bin/bash
for tool in /usr/sbin/ipvsadm /usr/sbin/ipset /usr/sbin/nft /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-nft-multi /usr/sbin/conntrack; do
  [ -x "$tool" ] && copy_bin "$tool"
done
for fam in iptables ip6tables; do   # iptables, iptables-legacy-save, iptables-nft-restore, ... as Debian names them
  for suffix in "" -save -restore; do
    ln -sf xtables-legacy-multi "$ROOT/usr/sbin/$fam$suffix"
    ln -sf xtables-legacy-multi "$ROOT/usr/sbin/$fam-legacy$suffix"; ln -sf xtables-nft-multi "$ROOT/usr/sbin/$fam-nft$suffix"
  done
done
mkdir -p "$ROOT/usr/lib/x86_64-linux-gnu/xtables"
for so in /usr/lib/x86_64-linux-gnu/xtables/*.so; do copy_bin "$so"; done
copy_bin /lib/x86_64-linux-gnu/libm.so.6
cp /etc/protocols "$ROOT/etc/protocols"
copy_bin "$(realpath "$BIN")" /bin/swift-kube-proxy
copy_bin "$(realpath "$LAB")" /bin/skp-lab
strip --strip-debug "$ROOT/bin/swift-kube-proxy" "$ROOT/bin/skp-lab" 2>/dev/null || true   # a debug build carries ~100 MB of symbols
cp -L /lib64/ld-linux-x86-64.so.2 "$ROOT/lib64/"
# busybox applets last, never over a real tool copied above.
for applet in $("$ROOT/bin/busybox" --list); do [ -e "$ROOT/bin/$applet" ] || [ -e "$ROOT/usr/sbin/$applet" ] || ln -s busybox "$ROOT/bin/$applet"; done
ln -sf ../bin/busybox "$ROOT/sbin/modprobe"

# 3. Modules with their dependencies (modules.dep), then depmod for the guest.
MODS="crc32c_generic ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_mh veth dummy nf_conntrack xt_statistic xt_set xt_comment xt_mark xt_MASQUERADE xt_conntrack xt_addrtype xt_physdev xt_ipvs ipt_REJECT ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip ip_set_hash_ipportnet ip_set_hash_net ip_set_bitmap_port nft_numgen nf_tables iptable_nat iptable_filter iptable_mangle ip6table_nat ip6table_filter ip6table_mangle ip6t_REJECT nf_conntrack_netlink xt_nat xt_recent xt_tcpudp"
want=$(for m in $MODS; do modprobe -S "$KV" --show-depends "$m" 2>/dev/null | awk '/^insmod/ {print $2}'; done | sort -u)
for f in $want; do mkdir -p "$ROOT$(dirname "$f")"; cp "$f" "$ROOT$f"; done
cp /lib/modules/"$KV"/modules.{order,builtin,builtin.modinfo} "$ROOT/lib/modules/$KV/" 2>/dev/null || true
depmod -b "$ROOT" "$KV"

# 4. /init, the lab and the traffic suite (run when the test supplies /extra), and the pack.
cp "$(dirname "$0")/init.sh" "$ROOT/init"; chmod +x "$ROOT/init"
mkdir -p "$ROOT/lab"; cp "$(dirname "$0")/../lab/lab.sh" "$ROOT/lab/lab.sh"; cp "$(dirname "$0")/ipvs-suite.sh" "$(dirname "$0")/ipvs-demo.sh" "$ROOT/"
if [ -d "${VM_EXTRA:-}" ]; then mkdir -p "$ROOT/extra"; cp -r "$VM_EXTRA"/. "$ROOT/extra/"; fi
(cd "$ROOT" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$OUT/initramfs.gz")
echo "built $OUT/vmlinux ($KV) and $OUT/initramfs.gz ($(du -h "$OUT/initramfs.gz" | cut -f1))"
