#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# utilities/ovs-flows-bench.sh [N]
#
# Installs N (default 10000) VXLAN encapsulation flows of distinct VNIs
# and remote addresses into the sandboxed switch of ovs-sandbox.sh, once
# for a native type=vxlan port (set_field:->tun_id, set_field:->tun_dst,
# output:vxlan0) and once as push_stack flows, each in a switch of its
# own, and sends one packet through each flow.  Prints, for each: the
# time "ovs-ofctl add-flows" took and the CPU time ovs-vswitchd spent
# meanwhile, the same for the packets (sent through a dummy port, each
# the first of its flow: an upcall, a translation, a datapath flow), the
# datapath flows, and ovs-vswitchd's
# resident memory before the flows, after them and after the packets;
# for push_stack, protostack/show's count of compiled actions and of JIT
# modules (one per stack layout is expected).  Needs root (the sandbox's
# network namespace).

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
work=$(mktemp -d)
trap '"$sandbox" stop > /dev/null 2>&1; rm -rf "$work"' EXIT

in_ns () {
    ip netns exec "$NS" "$@"
}

rss_kb () {
    awk '/^VmRSS/ { print $2 }' /proc/"$(cat "$R/ovs-vswitchd.pid")"/status
}

now_ms () {
    echo $(( $(date +%s%N) / 1000000 ))
}

# Milliseconds of CPU (user and system) that ovs-vswitchd has used: less
# noisy than wall-clock time on a shared machine.
hz=$(getconf CLK_TCK)
cpu_ms () {
    awk -v hz="$hz" '{ print int(($14 + $15) * 1000 / hz) }' \
        /proc/"$(cat "$R/ovs-vswitchd.pid")"/stat
}

# Flow I matches nw_dst 10.X.Y.Z (I in three bytes) and sends to remote
# 172.16.Y.Z with VNI I; packet I is a UDP packet to 10.X.Y.Z.
awk -v n="$n" -v ps="$work/ps.flows" -v native="$work/native.flows" \
    -v packets="$work/packets" 'BEGIN {
    for (i = 1; i <= n; i++) {
        a = int(i / 65536); b = int(i / 256) % 256; c = i % 256
        m = sprintf("in_port=1,ip,nw_dst=10.%d.%d.%d", a, b, c)
        printf "%s,actions=push_stack(eth,ip4,udp,vxlan," \
               "eth.dst=aa:55:aa:55:00:02,ip4.src=172.31.1.1," \
               "ip4.dst=172.16.%d.%d,vxlan.vni=%d),fix_length,output:2\n", \
               m, b, c, i > ps
        printf "%s,actions=set_field:%d->tun_id," \
               "set_field:172.16.%d.%d->tun_dst,output:3\n", \
               m, i, b, c > native
        printf "in_port(1),eth(src=50:54:00:00:00:05," \
               "dst=50:54:00:00:00:07),eth_type(0x0800)," \
               "ipv4(src=10.255.0.1,dst=10.%d.%d.%d,proto=17,tos=0," \
               "ttl=64,frag=no),udp(src=1234,dst=80)\n", a, b, c > packets
    }
}'

# A switch of its own: br0 with dummy ports p1 (in) and p2 (out) and a
# VXLAN port whose remote and key come from the flow; the underlay
# bridge routes 172.16.0.0/16 through 172.31.1.2, whose MAC is known.
start () {
    "$sandbox" start > "$work/sandbox.log" 2>&1 \
        || { cat "$work/sandbox.log" >&2; exit 1; }
    # Datapath flows stay while the packets are sent (10 s idle by default).
    in_ns ovs-vsctl set Open_vSwitch . other_config:max-idle=600000
    in_ns ovs-vsctl add-br br-underlay \
        -- set bridge br-underlay datapath_type=netdev \
           other_config:hwaddr=aa:55:aa:55:00:01 \
        -- add-port br-underlay p0 \
        -- set Interface p0 type=dummy ofport_request=1 \
        -- add-br br0 -- set bridge br0 datapath_type=netdev \
        -- add-port br0 p1 -- set Interface p1 type=dummy ofport_request=1 \
        -- add-port br0 p2 -- set Interface p2 type=dummy ofport_request=2 \
        -- add-port br0 vxlan0 -- set Interface vxlan0 type=vxlan \
           ofport_request=3 options:remote_ip=flow options:key=flow
    in_ns ip addr add 172.31.1.1/24 dev br-underlay
    in_ns ip link set br-underlay up
    in_ns ovs-appctl ovs/route/add 172.31.1.0/24 br-underlay > /dev/null
    in_ns ovs-appctl ovs/route/add 172.16.0.0/16 br-underlay 172.31.1.2 \
        > /dev/null
    in_ns ovs-appctl tnl/arp/set br-underlay 172.31.1.2 aa:55:aa:55:00:02 \
        > /dev/null
    in_ns ovs-ofctl add-flow br-underlay in_port=LOCAL,actions=output:1
    in_ns ovs-ofctl del-flows br0
}

# Packets that the datapath has seen (hits and misses).
dp_packets () {
    in_ns ovs-appctl dpctl/show \
        | sed -n 's/.*lookups: hit:\([0-9]*\) missed:\([0-9]*\).*/\1 \2/p' \
        | awk '{ s += $1 + $2 } END { print s + 0 }'
}

# run NAME FLOWS: installs FLOWS in a fresh switch, then one packet per
# flow, 25 per command (a dummy port queues 100 packets; the switch takes
# 32 per round of its main loop).
run () {
    start
    rss0=$(rss_kb)
    c0=$(cpu_ms)
    t0=$(now_ms)
    in_ns ovs-ofctl add-flows br0 "$2"
    t1=$(now_ms)
    c1=$(cpu_ms)
    rss1=$(rss_kb)
    base=$(dp_packets)
    xargs -n 25 ip netns exec "$NS" ovs-appctl netdev-dummy/receive p1 \
        < "$work/packets" > /dev/null
    waited=0
    while [ $(( $(dp_packets) - base )) -lt "$n" ]; do
        if [ $waited -ge 600 ]; then
            echo "$1: only $(( $(dp_packets) - base )) of $n packets" \
                 "reached the datapath in 60 s" >&2
            exit 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    t2=$(now_ms)
    c2=$(cpu_ms)
    rss2=$(rss_kb)
    echo "$1: $n flows installed in $((t1 - t0)) ms" \
         "(ovs-vswitchd CPU $((c1 - c0)) ms), one packet through each in" \
         "$((t2 - t1)) ms (CPU $((c2 - c1)) ms)," \
         "$(in_ns ovs-appctl dpctl/dump-flows | grep -c '^') datapath flows;"
    echo "  ovs-vswitchd RSS $rss0 kB, with the flows $rss1 kB" \
         "(+$((rss1 - rss0))), after the packets $rss2 kB" \
         "(+$((rss2 - rss0)))"
}

run "native vxlan" "$work/native.flows"
"$sandbox" stop > /dev/null

run "push_stack" "$work/ps.flows"
# The background compile has ended when every action runs JIT code (or
# after 60 s: the counts below then tell).
waited=0
while in_ns ovs-appctl protostack/show | grep -q 'tier interpreter' \
        && [ $waited -lt 600 ]; do
    sleep 0.1
    waited=$((waited + 1))
done
in_ns ovs-appctl protostack/show > "$work/show"
echo "  compiled actions: $(grep -c '^push_stack' "$work/show")," \
     "running JIT code: $(grep -c 'tier jit' "$work/show")," \
     "packets: $(sed -n 's/.*packets \([0-9]*\),.*/\1/p' "$work/show" \
                 | awk '{ s += $1 } END { print s }')"
echo "  $(tail -1 "$work/show")"
