#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# utilities/ovs-vxlan-rate.sh [SECONDS]: a first throughput figure of
# VXLAN encapsulation by push_stack and by a native OvS type=vxlan port,
# in the same switch, one after the other, SECONDS (default 3) each
# (docs/ovs.md).  Needs root and the OvS of the build tree; a short run on
# a shared machine: docs/benchmarks.md has the real benchmarks.
#
# One ovs-vswitchd with DPDK (one PMD thread, no hugepages unless
# PS_HUGEPAGES; run directory build/psdpdk-rate, namespace
# psdpdk-rate-PID), net_null ports: p1 generates 64-byte frames, p2 and
# the underlay's p0 free what they are given.  Flow 1: p1 -> push_stack
# VXLAN -> p2.  Flow 2: p1 -> vxlan0 (remote 192.0.2.254, VNI 1234, out
# through br-underlay, 192.0.2.1, and p0).  Prints Mpps and the PMD's
# processing cycles per packet of each.  Both send the UDP checksum 0, as
# OvS sends VXLAN by default (RFC 7348 allows it): push_stack with the
# label udp.cksum=0, so that both do the same work.

set -e

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/utilities/ovs-instance.sh"

seconds=${1:-3}
R=$build/psdpdk-rate

ovsi_start rate "$R" psdpdk-rate-$$ dpdk
ovsi rate ovs-vsctl add-br br-underlay \
    -- set bridge br-underlay datapath_type=netdev fail_mode=secure \
       other_config:hwaddr=aa:bb:cc:dd:ee:ff \
    -- add-port br-underlay p0 -- set Interface p0 type=dpdk \
       ofport_request=1 options:dpdk-devargs=net_null_rate0,no-rx=1
ovsi rate ip addr add 192.0.2.1/24 dev br-underlay
ovsi rate ip link set br-underlay up
ovsi rate ovs-appctl ovs/route/add 192.0.2.0/24 br-underlay > /dev/null
ovsi rate ovs-appctl tnl/arp/set br-underlay 192.0.2.254 \
    00:11:22:33:44:55 > /dev/null
ovsi rate ovs-ofctl add-flow br-underlay \
    in_port=LOCAL,udp,tp_dst=4789,actions=output:1
ovsi rate ovs-vsctl add-br br0 \
    -- set bridge br0 datapath_type=netdev fail_mode=secure \
    -- add-port br0 p2 -- set Interface p2 type=dpdk ofport_request=2 \
       options:dpdk-devargs=net_null_rate2,no-rx=1 \
    -- add-port br0 vxlan0 -- set Interface vxlan0 type=vxlan \
       ofport_request=3 options:remote_ip=192.0.2.254 options:key=1234

labels=eth.src=aa:bb:cc:dd:ee:ff,eth.dst=00:11:22:33:44:55
labels=$labels,ip4.src=192.0.2.1,ip4.dst=192.0.2.254,vxlan.vni=1234
labels=$labels,udp.cksum=0
ovsi rate ovs-ofctl add-flow br0 \
    "in_port=1,actions=push_stack(eth,ip4,udp,vxlan,$labels),fix_length,output:2"
ovsi rate ovs-vsctl add-port br0 p1 -- set Interface p1 type=dpdk \
    ofport_request=1 options:dpdk-devargs=net_null_rate1

# Measures the current flow for $seconds; prints "Mpps cycles/packet".
measure () {
    sleep 1
    ovsi rate ovs-appctl dpif-netdev/pmd-stats-clear > /dev/null
    sleep "$seconds"
    ovsi rate ovs-appctl dpif-netdev/pmd-stats-show | awk -v s="$seconds" '
        /packets received:/ { n += $3 }
        /avg processing cycles per packet:/ { c = $6 }
        END { printf "%.2f Mpps, %d cycles/packet\n", n / s / 1e6, c }'
}

echo "rate: push_stack(eth,ip4,udp,vxlan,...),fix_length: $(measure)"
ovsi rate ovs-ofctl mod-flows br0 in_port=1,actions=output:3
echo "rate: native type=vxlan port (tnl_push):          $(measure)"
