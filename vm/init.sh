#!/bin/sh
# PID 1 of the IPVS VM: modules, then the checks; every result line goes to the serial console,
# and the VM powers off (qemu exits) when done.
export PATH=/bin:/sbin:/usr/sbin; IP=/bin/ip   # full path: busybox's own ip applet has no netns
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs run /run
for m in crc32c_generic ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_mh veth dummy nf_conntrack iptable_nat iptable_filter iptable_mangle ip6table_nat ip6table_filter ip6table_mangle ip6t_REJECT nf_conntrack_netlink \
         xt_set xt_comment xt_mark xt_MASQUERADE xt_conntrack xt_addrtype xt_physdev xt_ipvs ipt_REJECT xt_nat xt_statistic xt_recent \
         ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip ip_set_hash_ipportnet ip_set_bitmap_port; do modprobe $m 2>/dev/null; done
$IP link set lo up
echo "VM-KERNEL $(uname -r)"
# make demo's IPVS step (vm/ipvs-demo.sh) and nothing else.
if [ -f /extra/demo ]; then echo "VM-STEP demo"; /bin/bash /ipvs-demo.sh 2>&1; echo VM-TESTS-DONE; poweroff -f; fi
echo "VM-STEP ipvs-check"
skp-lab ipvs-check --until drain 2>&1
echo "VM-STEP ipvsadm"
ipvsadm -Ln 2>&1
skp-lab ipvs-check 2>&1 | tail -1
if [ -f /extra/step0.json ]; then echo "VM-STEP suite"; /bin/bash /ipvs-suite.sh 2>&1; fi
if [ -f /extra/bench-args ]; then   # vm/bench.sh: the data-plane benchmark on this kernel
  echo "VM-STEP bench"; mkdir -p /tmp/bench
  /bin/swift-kube-proxy bench $(cat /extra/bench-args) --output /tmp/bench 2>&1   # full path: bench starts itself in namespaces
  echo "VM-BENCH-CSV-BEGIN"; cat /tmp/bench/bench.csv; echo "VM-BENCH-CSV-END"
fi
echo VM-TESTS-DONE
poweroff -f
