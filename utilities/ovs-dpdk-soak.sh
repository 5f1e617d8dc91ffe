#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# utilities/ovs-dpdk-soak.sh [N]: N (default 10,000,000) packets through a
# push_stack flow on DPDK ports (docs/ovs.md, "DPDK ports").  Needs root
# and the OvS of the build tree.
#
# One ovs-vswitchd of the build tree with DPDK (run directory
# build/psdpdk-soak, network namespace psdpdk-soak-PID), bridge br0 with
# net_null ports: p1 generates 64-byte frames as fast as the PMD polls it,
# p2 (no-rx) sends and frees them.  The flow pushes a VXLAN stack with
# fix_length from p1 to p2.  Once at least N packets went through, p1 is
# set down, and the script checks that
#   - the mbufs of the shared pool in use are back at their level before
#     the traffic (no leak),
#   - ovs-vswitchd is still running,
#   - the flow's n_packets in dump-flows, the packets of the action in
#     protostack/show and the packets that p2 sent are the same number,
#     that of the packets received by the PMD less those it dropped
#     because their upcall failed while the first one set the flow up.
# Prints the figures; exits 0 when all hold, 77 when not root or without
# OvS, 1 otherwise.

set -e

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/utilities/ovs-instance.sh"

N=${1:-10000000}
R=$build/psdpdk-soak

# The mbufs in use in the pool of DPDK port $1, as OvS counts them (the
# mbufs neither in the pool's ring nor in the caches of its lcores).
pool_in_use () {
    ovsi sw ovs-appctl netdev-dpdk/get-mempool-info "$1" \
        | sed -n 's/.*count: avail ([0-9]*), in use (\([0-9]*\)).*/\1/p'
}

ovsi_start sw "$R" psdpdk-soak-$$ dpdk
ovsi sw ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev \
    fail_mode=secure
flow='in_port=1,actions=push_stack(eth,ip4,udp,vxlan,eth.src=aa:bb:cc:dd:ee:ff,eth.dst=00:11:22:33:44:55,ip4.src=192.0.2.1,ip4.dst=192.0.2.254,vxlan.vni=1234),fix_length,output:2'
ovsi sw ovs-ofctl add-flow br0 "$flow"
ovsi sw ovs-vsctl add-port br0 p2 -- set Interface p2 type=dpdk \
    ofport_request=2 options:dpdk-devargs=net_null_soak2,no-rx=1
before=$(pool_in_use p2)
echo "soak: mbufs in use before the traffic: $before"

start=$(date +%s.%N)
ovsi sw ovs-appctl dpif-netdev/pmd-stats-clear > /dev/null
ovsi sw ovs-vsctl add-port br0 p1 -- set Interface p1 type=dpdk \
    ofport_request=1 options:dpdk-devargs=net_null_soak1
echo "soak: sending $N packets from p1"
# At least 100,000 packets a second, or the run fails.
deadline=$(( $(date +%s) + 30 + N / 100000 ))
while :; do
    n=$(ovsi sw ovs-appctl protostack/show | awk '/packets/ {
            sub(",", "", $10); print $10; exit }')
    if [ "${n:-0}" -ge "$N" ]; then
        break
    fi
    if ! ovsi sw ovs-appctl version > /dev/null 2>&1; then
        echo "FAIL: ovs-vswitchd died"
        exit 1
    fi
    if [ "$(date +%s)" -gt $deadline ]; then
        echo "FAIL: only ${n:-0} packets went through"
        exit 1
    fi
    sleep 0.5
done
# p1 stops receiving: netdev-dpdk/set-admin-state sets the device down
# without touching OpenFlow ports or flows.  (A drop flow, or setting the
# OpenFlow port down, would change the datapath flow, and OvS would credit
# the statistics of its last moments to the new flow or to none.)
ovsi sw ovs-appctl netdev-dpdk/set-admin-state p1 down > /dev/null
end=$(date +%s.%N)
sleep 1

# The flow's statistics follow the datapath's within a few seconds.
i=0
while :; do
    flow_packets=$(ovsi sw ovs-ofctl dump-flows br0 | sed -n \
                   's/.*n_packets=\([0-9]*\),.*actions=push_stack.*/\1/p')
    ps_packets=$(ovsi sw ovs-appctl protostack/show | awk '/packets/ {
                     sub(",", "", $10); print $10; exit }')
    if [ "$flow_packets" = "$ps_packets" ] || [ $i -ge 20 ]; then
        break
    fi
    sleep 0.5
    i=$((i + 1))
done
# The PMD counts the packets it received, and the misses whose upcall
# failed (dropped while the first upcall installs the flow).
pmd_stats=$(ovsi sw ovs-appctl dpif-netdev/pmd-stats-show)
received=$(echo "$pmd_stats" \
           | awk '/packets received:/ { s += $3 } END { print s }')
failed=$(echo "$pmd_stats" \
         | awk '/miss with failed upcall:/ { s += $5 } END { print s }')
during=$(pool_in_use p2)
show=$(ovsi sw ovs-appctl protostack/show | grep -A1 '^push_stack')
ps_dropped=$(echo "$show" | sed -n 's/.*dropped \([0-9]*\).*/\1/p')
sent=$(ovsi sw ovs-appctl dpctl/show -s | awk '
        /port 2: p2/ { p = 1; next }
        p && /TX packets:/ { split($2, a, ":"); print a[2]; exit }')
if pid=$(cat "$R/ovs-vswitchd.pid") && kill -0 "$pid"; then
    alive=yes
else
    alive=no
fi
seconds=$(echo "$end $start" | awk '{ printf "%.1f", $1 - $2 }')

echo "soak: $flow_packets packets through push_stack in $seconds s"
echo "soak: push_stack flow n_packets $flow_packets, protostack/show" \
     "$ps_packets (dropped $ps_dropped), sent by p2 $sent; received by" \
     "the PMD $received, of which $failed missed while the flow was" \
     "being set up"
echo "soak: mbufs in use before $before, after $during;" \
     "ovs-vswitchd running: $alive"
if [ "$flow_packets" -ge "$N" ] && [ "$flow_packets" = "$ps_packets" ] \
   && [ "$flow_packets" = "$sent" ] \
   && [ "$received" = $((flow_packets + failed)) ] \
   && [ "$ps_dropped" = 0 ] && [ "$before" = "$during" ] \
   && [ $alive = yes ]; then
    echo "PASS: soak"
else
    echo "FAIL: soak"
    exit 1
fi
