#!/usr/bin/env bash
# Boots the IPVS VM under software emulation (TCG; KVM here only runs PVM guests) and prints the
# guest's serial console. Exits non-zero when the guest did not reach VM-TESTS-DONE in time.
#   vm/run.sh OUT_DIR [TIMEOUT_SECONDS]
set -euo pipefail
OUT=${1:?OUT_DIR}; TIMEOUT=${2:-180}
log="$OUT/console.log"
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m "${VM_MEMORY:-1G}" -nographic -no-reboot -nic none \
  -kernel "$OUT/vmlinux" -initrd "$OUT/initramfs.gz" -append "console=ttyS0 quiet panic=-1" > "$log" 2>&1 || true
tr -d '\r' < "$log"
grep -q VM-TESTS-DONE "$log"
