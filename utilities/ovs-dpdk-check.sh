#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# utilities/ovs-dpdk-check.sh: push_stack flows on DPDK ports (docs/ovs.md,
# "DPDK ports").  Needs root and the OvS of the build tree.
#
# One ovs-vswitchd of the build tree with DPDK (no hugepages unless
# PS_HUGEPAGES=1, see docs/ovs.md; run directory
# build/psdpdk-check, network namespace psdpdk-check-PID).  For each case, a
# bridge holds two DPDK ports backed by net_pcap vdevs (the input reads
# four frames, over and over; the output writes a pcap) and two dummy
# ports, and the same push_stack action runs from each input to its
# output.  The frames that the DPDK output port sent must be
# byte-identical to those of the dummy port, and tshark must find no
# malformed packet and no bad checksum in them.  Cases: VXLAN, GRE,
# Geneve with an option, and two stacks longer than the 128 bytes of
# headroom of a DPDK mbuf (IPv6 + Geneve with 64 bytes of options, three
# nested VXLAN tunnels), which the datapath copies into a larger mbuf.
#
# Environment: BUILD (default build), PS_HUGEPAGES, PS_PMD_MASK (0x2).
# Prints one line per case; exits 0 when all pass, 77 (skip) when not
# root or without OvS, 1 otherwise.

set -e

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/utilities/ovs-instance.sh"

R=$build/psdpdk-check

# The input frames: IPv4 UDP (two), IPv4 TCP, IPv6 UDP.
frames="50540000000750540000000508004500002000004000401126cb0a0000010a00000204d20050000c000061626364
50540000000b50540000000a08004500002b0001000040115fb40a0102030a04050615b3270f0017780070726f746f737461636b2d6470646b
50540000000d50540000000c0800450000280001000040065ebe0a0708090a0000029c400050000000000000000050022000d7400000
50540000000f50540000000e86dd600000000030114020010db800000000000000000000000520010db800000000000000000000000603e807d000302ef078787878787878787878787878787878787878787878787878787878787878787878787878787878"

mac=eth.src=aa:bb:cc:dd:ee:ff,eth.dst=00:11:22:33:44:55
ip4=ip4.src=192.0.2.1,ip4.dst=192.0.2.254
ip6=ip6.src=2001:db8::1,ip6.dst=2001:db8::2
opt=0x010280010a0b0c0d
nested='eth,ip4,udp,vxlan,{eth,name=e2},{ip4,name=i2},{udp,name=u2},{vxlan,name=v2},{eth,name=e3},{ip4,name=i3},{udp,name=u3},{vxlan,name=v3}'
# NAME ACTIONS (before the output), one per line.
cases="vxlan push_stack(eth,ip4,udp,vxlan,$mac,$ip4,vxlan.vni=1234),fix_length
gre push_stack(eth,ip4,gre,$mac,$ip4),fix_length
geneve push_stack(eth,ip4,udp,{geneve,length=8},$mac,$ip4,geneve.vni=77,geneve.options=$opt),fix_length
bigv6 push_stack(eth,ip6,udp,{geneve,length=64},$mac,$ip6,geneve.vni=9),fix_length
nested push_stack($nested,$mac,$ip4,vxlan.vni=1,v2.vni=2,v3.vni=3,i2.dst=10.9.9.2,i3.dst=10.9.9.3),fix_length"

ovsi_start sw "$R" psdpdk-check-$$ dpdk
ovsi sw ovs-vsctl set Open_vSwitch . other_config:per-port-memory=true
ovsi_hex_pcap "$R/in.pcap" $frames

status=0
fail () {
    echo "FAIL: $*"
    status=1
}

echo "$cases" | while read -r name actions; do
    br=br-$name
    ovsi sw ovs-vsctl add-br $br -- set bridge $br datapath_type=netdev \
        fail_mode=secure
    # The DPDK input loops over its file: a meter lets 200 packets a
    # second through, so that the output stays small.
    ovsi sw ovs-ofctl -O OpenFlow13 add-meter $br \
        'meter=1,pktps,band=type=drop,rate=200'
    ovsi sw ovs-ofctl -O OpenFlow13 add-flow $br \
        "in_port=1,actions=meter:1,$actions,output:2"
    ovsi sw ovs-ofctl add-flow $br "in_port=3,actions=$actions,output:4"
    ovsi sw ovs-vsctl \
        -- add-port $br ${name}d1 -- set Interface ${name}d1 type=dummy \
           ofport_request=3 \
        -- add-port $br ${name}d2 -- set Interface ${name}d2 type=dummy \
           ofport_request=4 options:tx_pcap="$R/$name-dummy.pcap" \
        -- add-port $br ${name}o -- set Interface ${name}o type=dpdk \
           ofport_request=2 \
           options:dpdk-devargs="\"net_pcap_${name}o,tx_pcap=$R/$name-dpdk.pcap\""
    ovsi sw ovs-vsctl add-port $br ${name}i -- set Interface ${name}i \
        type=dpdk ofport_request=1 \
        options:dpdk-devargs="\"net_pcap_${name}i,rx_pcap=$R/in.pcap,infinite_rx=1\""
    # Each frame twice into the dummy port: the first one of all goes
    # through an upcall, the others through the datapath's flow.
    for f in $frames $frames; do
        ovsi sw ovs-appctl netdev-dummy/receive ${name}d1 $f > /dev/null
    done
    sleep 1
    # net_pcap writes its file out when the port goes.
    ovsi sw ovs-vsctl del-port ${name}i -- del-port ${name}o

    ovsi_pcap_hex "$R/$name-dpdk.pcap" | sort -u > "$R/$name-dpdk.hex"
    ovsi_pcap_hex "$R/$name-dummy.pcap" | sort -u > "$R/$name-dummy.hex"
    n=$(ovsi_pcap_hex "$R/$name-dpdk.pcap" | wc -l)
    bad=$(tshark -n -r "$R/$name-dpdk.pcap" -o ip.check_checksum:TRUE \
          -o udp.check_checksum:TRUE \
          -Y '_ws.malformed || _ws.expert.severity >= error' 2> /dev/null \
          | wc -l)
    ovsi sw ovs-vsctl del-br $br
    if [ "$n" -lt 4 ]; then
        fail "$name: the DPDK port sent $n packets"
    elif [ "$(wc -l < "$R/$name-dummy.hex")" != 4 ]; then
        fail "$name: the dummy port sent other than 4 distinct frames"
    elif ! cmp -s "$R/$name-dpdk.hex" "$R/$name-dummy.hex"; then
        fail "$name: DPDK and dummy ports sent different frames"
        diff "$R/$name-dpdk.hex" "$R/$name-dummy.hex" || true
    elif [ "$bad" != 0 ]; then
        fail "$name: tshark finds $bad malformed packets or bad checksums"
    else
        echo "PASS: $name: $n packets on DPDK ports, byte-identical to" \
             "the dummy ports"
    fi
    [ $status = 0 ] || exit 1
done || status=1

# The two long stacks went through copies into larger mbufs, no action
# dropped a packet.
ovsi sw ovs-appctl protostack/show
copies=$(ovsi sw ovs-appctl coverage/read-counter protostack_headroom_copy)
drops=$(ovsi sw ovs-appctl protostack/show | grep -c 'dropped [1-9]' || true)
if [ "$copies" -gt 0 ] && [ "$drops" = 0 ]; then
    echo "PASS: headroom: $copies packets copied into larger mbufs," \
         "none dropped"
else
    echo "FAIL: headroom: $copies packets copied, $drops actions dropped" \
         "packets"
    status=1
fi
exit $status
