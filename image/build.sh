#!/usr/bin/env bash
# make image: an OCI image of swift-kube-proxy, built from Debian packages and this checkout,
# without pulling anything from a container registry.
#
#   1. the release binary, Swift standard library and Foundation linked statically (glibc is the
#      rootfs's), stripped of debug info;
#   2. a minimal Debian bookworm root filesystem (mmdebstrap, variant "essential": no apt) with the
#      tools the dataplanes call: iptables (legacy + nft), nftables, ipset, iproute2, conntrack,
#      ca-certificates; no docs, man pages or locales;
#   3. one layer and the image config (entrypoint /usr/local/bin/swift-kube-proxy, cmd run),
#      assembled with umoci into an OCI layout, tarred as an OCI archive.
#
# Output: skp.oci.tar (OCI archive, tag $IMAGE), loadable with `podman load -i skp.oci.tar`,
# `skopeo copy oci-archive:skp.oci.tar ...` or `ctr -n k8s.io images import skp.oci.tar`.
# Needs root (mmdebstrap's root mode; its hooks chroot into the new tree). Work files live in
# .build-image/image/ (gitignored, next to the Swift build).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-swift-kube-proxy:0.1}      # the name:tag deploy/daemonset.yaml uses
OUT=${OUT:-skp.oci.tar}
SCRATCH=.build-image                      # never .build: other builds own it
WORK=$PWD/$SCRATCH/image
SWIFT=${SWIFT:-swift}
start=$SECONDS
step() { printf '\n== %s (%ds)\n' "$*" $((SECONDS - start)); }

if [ "$(id -u)" != 0 ]; then echo "make image runs mmdebstrap in root mode: run it as root" >&2; exit 1; fi
bash image/deps.sh

step "release binary (swift build -c release --static-swift-stdlib)"
if [ -n "${BINARY:-}" ]; then
  bin=$BINARY                             # BINARY=path: a release binary built elsewhere (CI)
else
  # The lock serialises Swift builds with the other users of this machine.
  flock /tmp/skp-build.lock "$SWIFT" build -c release --static-swift-stdlib \
    --product swift-kube-proxy --scratch-path "$SCRATCH"
  bin=$("$SWIFT" build -c release --scratch-path "$SCRATCH" --show-bin-path)/swift-kube-proxy
fi
rm -rf "$WORK"; mkdir -p "$WORK"
strip -o "$WORK/swift-kube-proxy" "$bin"      # debug info is most of the file
echo "binary: $(du -m "$bin" | cut -f1) MB, stripped $(du -m "$WORK/swift-kube-proxy" | cut -f1) MB"

step "root filesystem (mmdebstrap bookworm, variant essential)"
# The apt sources of this machine when it runs bookworm (its mirror), else deb.debian.org.
if grep -qs 'bookworm' /etc/apt/sources.list.d/debian.sources; then
  mirrors=(/etc/apt/sources.list.d/debian.sources)
else
  mirrors=("deb http://deb.debian.org/debian bookworm main"
           "deb http://deb.debian.org/debian bookworm-updates main"
           "deb http://deb.debian.org/debian-security bookworm-security main")
fi
# libstdc++6: the Swift runtime's one C++ dependency (not Essential in bookworm).
packages=iptables,nftables,ipset,iproute2,conntrack,ca-certificates,libstdc++6
# The merged-usr hook sets up /bin -> usr/bin as debootstrap does; without it apt picks the
# usrmerge package, which brings all of perl (45 MB). glibc's iconv modules (gconv, 8 MB) go too:
# nothing in the image converts character sets.
mmdebstrap --mode=root --variant=essential --include="$packages" \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/lib/*/gconv/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook="install -D -m 0755 '$WORK/swift-kube-proxy' \"\$1/usr/local/bin/swift-kube-proxy\"" \
  --customize-hook='ln -s swift-kube-proxy "$1/usr/local/bin/kube-proxy"' \
  --customize-hook='rm -rf "$1"/var/log/*.log "$1"/var/log/apt "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old' \
  --customize-hook="chroot \"\$1\" /usr/local/bin/kube-proxy --help > '$WORK/help.txt'" \
  --customize-hook='chroot "$1" sh -ec "iptables --version; iptables-legacy --version; nft --version; ipset --version; ip -V; conntrack --version"' \
  bookworm "$WORK/rootfs.tar" "${mirrors[@]}"
echo "the binary runs in it (kube-proxy --help): $(head -n 1 "$WORK/help.txt")"
echo "root filesystem: $(du -m "$WORK/rootfs.tar" | cut -f1) MB (tar)"

step "OCI image $IMAGE (umoci)"
layout=$WORK/oci
umoci init --layout "$layout"
umoci new --image "$layout:$IMAGE"
umoci raw add-layer --image "$layout:$IMAGE" --history.created_by "image/build.sh: mmdebstrap bookworm + swift-kube-proxy" "$WORK/rootfs.tar"
umoci config --image "$layout:$IMAGE" --no-history \
  --config.entrypoint /usr/local/bin/swift-kube-proxy --config.cmd run \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.workingdir / --config.stopsignal SIGTERM \
  --config.label org.opencontainers.image.title=swift-kube-proxy \
  --config.label org.opencontainers.image.revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
umoci gc --layout "$layout"
# ref.name holds $IMAGE; containerd's `ctr images import` and `podman load` name the image after
# this annotation instead, a full reference: what kubelet asks for when a Pod says $IMAGE.
case $IMAGE in */*) full=$IMAGE ;; *) full=docker.io/library/$IMAGE ;; esac
jq -c --arg n "$full" '.manifests[0].annotations["io.containerd.image.name"] = $n' "$layout/index.json" > "$WORK/index.json"
mv "$WORK/index.json" "$layout/index.json"
tar --sort=name -C "$layout" -cf "$OUT.tmp" . && mv "$OUT.tmp" "$OUT"
step "done"
echo "$OUT: $IMAGE, $(du -m "$OUT" | cut -f1) MB (compressed layer), $(du -m "$WORK/rootfs.tar" | cut -f1) MB uncompressed"
