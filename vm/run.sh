#!/usr/bin/env bash
# Boots the IPVS VM (KVM when the CPU has it, else software emulation: TCG) and prints the
# guest's serial console. Exits non-zero when the guest did not reach VM-TESTS-DONE in time.
#   vm/run.sh OUT_DIR [TIMEOUT_SECONDS]
set -euo pipefail
OUT=${1:?OUT_DIR}; TIMEOUT=${2:-180}
log="$OUT/console.log"
# KVM where the CPU offers hardware virtualisation (vmx/svm) and /dev/kvm is usable; else TCG. On
# this project's machine /dev/kvm is PVM, which cannot run a stock kernel (and has no vmx/svm).
# VM_ACCEL=tcg or kvm forces one.
ACCEL=${VM_ACCEL:-auto}
if [ "$ACCEL" = auto ]; then
  if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; else ACCEL=tcg; fi
fi
if [ "$ACCEL" = kvm ]; then CPU=host; else CPU=max; fi
timeout "$TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" -smp 2 -m "${VM_MEMORY:-1G}" -nographic -no-reboot -nic none \
  -kernel "$OUT/vmlinux" -initrd "$OUT/initramfs.gz" -append "console=ttyS0 quiet panic=-1" > "$log" 2>&1 || true
tr -d '\r' < "$log"
grep -q VM-TESTS-DONE "$log"
