#!/usr/bin/env bash
# Installs what `make image` and `make image-test` use, only when something is missing:
# mmdebstrap (the Debian root filesystem), umoci (the OCI image), podman + runc (running it),
# binutils (strip), jq (the index's annotation), curl (the test's requests). All from this
# machine's apt sources; no container registry is contacted.
set -euo pipefail
need=()
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
command -v umoci >/dev/null 2>&1 || need+=(umoci)
command -v podman >/dev/null 2>&1 || need+=(podman)
# runc, not crun: Debian 12's crun refuses hosts with hybrid cgroups (v1 + a v2 controller).
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v strip >/dev/null 2>&1 || need+=(binutils)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing ${need[*]}: run as root (or install them) first" >&2; exit 1; fi
  echo "installing: ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
