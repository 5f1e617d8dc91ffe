#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# utilities/ovs-flows-bench.sh [N]
#
# Installs N (default 10000) VXLAN encapsulation flows of distinct VNIs
# and remote addresses into the sandboxed switch of ovs-sandbox.sh, once
# as push_stack flows and once for a native type=vxlan port
# (set_field:->tun_id, set_field:->tun_dst, output:vxlan0), and prints
# the time "ovs-ofctl add-flows" took and ovs-vswitchd's resident memory
# after each.  Then sends one packet through each of the first 20
# push_stack flows and prints protostack/show's count of compiled stacks.
# Needs root (the sandbox's network namespace).

set -e

n=${1:-10000}
top=$(cd "$(dirname "$0")/.." && pwd)
sandbox=$top/utilities/ovs-sandbox.sh
build=${BUILD:-$top/build}
R=${PS_SANDBOX:-$build/sandbox}
NS=${PS_SANDBOX_NS:-protostack}
ovs=$build/ovs
PATH=$ovs/vswitchd:$ovs/ovsdb:$ovs/utilities:$PATH
export OVS_RUNDIR=$R OVS_DBDIR=$R OVS_LOGDIR=$R OVS_SYSCONFDIR=$R
export PROTOSTACK_DATADIR=${PROTOSTACK_DATADIR:-$top/protocols}

in_ns () {
    ip netns exec "$NS" "$@"
}

rss_kb () {
    awk '/^VmRSS/ { print $2 }' /proc/"$(cat "$R/ovs-vswitchd.pid")"/status
}

# Milliseconds that "$@" takes.
time_ms () {
    start=$(date +%s%N)
    "$@"
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
}

"$sandbox" start > /dev/null
trap '"$sandbox" stop > /dev/null' EXIT

in_ns ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev \
    -- add-port br0 p1 -- set Interface p1 type=dummy ofport_request=1 \
    -- add-port br0 p2 -- set Interface p2 type=dummy ofport_request=2 \
    -- add-port br0 vxlan0 -- set Interface vxlan0 type=vxlan \
       ofport_request=3 options:remote_ip=flow options:key=flow
in_ns ovs-ofctl del-flows br0

# Flow I matches nw_dst 10.X.Y.Z (I in three bytes) and sends to remote
# 172.16.X.Y with VNI I.
awk -v n="$n" -v ps="$R/ps.flows" -v native="$R/native.flows" 'BEGIN {
    for (i = 1; i <= n; i++) {
        a = int(i / 65536); b = int(i / 256) % 256; c = i % 256
        m = sprintf("in_port=1,ip,nw_dst=10.%d.%d.%d", a, b, c)
        printf "%s,actions=push_stack(eth,ip4,udp,vxlan," \
               "eth.dst=00:11:22:33:44:55,ip4.src=192.0.2.1," \
               "ip4.dst=172.16.%d.%d,vxlan.vni=%d),fix_length,output:2\n", \
               m, b, c, i > ps
        printf "%s,actions=set_field:%d->tun_id," \
               "set_field:172.16.%d.%d->tun_dst,output:3\n", \
               m, i, b, c > native
    }
}'

rss0=$(rss_kb)
ms=$(time_ms in_ns ovs-ofctl add-flows br0 "$R/ps.flows")
rss1=$(rss_kb)
echo "push_stack: $n flows installed in $ms ms; ovs-vswitchd RSS" \
     "$rss0 -> $rss1 kB"
in_ns ovs-ofctl del-flows br0
ms=$(time_ms in_ns ovs-ofctl add-flows br0 "$R/native.flows")
rss2=$(rss_kb)
echo "native vxlan: $n flows installed in $ms ms; ovs-vswitchd RSS" \
     "-> $rss2 kB"

# Traffic through the first 20 push_stack flows: one compiled stack per
# distinct datapath action.
in_ns ovs-ofctl del-flows br0
head -20 "$R/ps.flows" | in_ns ovs-ofctl add-flows br0 -
for i in $(seq 1 20); do
    packet="in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)"
    packet="$packet,eth_type(0x0800),ipv4(src=10.255.0.1,dst=10.0.0.$i"
    packet="$packet,proto=17,tos=0,ttl=64,frag=no),udp(src=1234,dst=80)"
    in_ns ovs-appctl netdev-dummy/receive p1 "$packet" > /dev/null
done
sleep 1
echo "compiled stacks after 20 flows with traffic:" \
     "$(in_ns ovs-appctl protostack/show | grep -c '^push_stack')"
in_ns ovs-appctl protostack/show | tail -1
