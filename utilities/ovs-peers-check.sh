#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# utilities/ovs-peers-check.sh: protostack's tunnels against
# implementations we did not write (docs/ovs.md, "Peers").  Needs root and
# the OvS of the build tree.
#
#   ours    ovs-vswitchd of the build tree, namespace psdpdk-pa-PID, with
#           push_stack and pop_stack flows;
#   native  a second ovs-vswitchd (namespace psdpdk-pb-PID) with OvS's own
#           tunnel ports, type=vxlan, type=gre and type=geneve (with an
#           option mapped to tun_metadata0), joined to "ours" by a veth
#           pair, 172.31.1.1 (ours) - 172.31.1.2 (native);
#   kernel  a namespace (psdpdk-pk-PID) holding a Linux VXLAN device made
#           through libnl-route (utilities/ps-vxlan-nl), joined to "ours"
#           by a second veth pair, 172.31.2.1 - 172.31.2.2.
#
# Four frames go through each path; the inner frames that come out must
# be byte-identical to them:
#   push_stack on ours -> native tunnel port decapsulates -> capture;
#   native tunnel port encapsulates -> pop_stack on ours -> capture;
#   push_stack on ours -> kernel VXLAN device -> capture on that device.
# Everything (daemons, namespaces, veths) is removed at the end, also
# after a failure.  Prints one line per path; exits 0 when all pass, 77
# (skip) when not root or without OvS, 1 otherwise.  The kernel path is
# skipped without the helper (libnl-route-3-dev) or the vxlan module.

set -e

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/utilities/ovs-instance.sh"

R=$build/psdpdk-peers
NSK=psdpdk-pk-$$
capture_pid=
cleanup () {
    if [ -n "$capture_pid" ]; then
        kill "$capture_pid" 2> /dev/null || true
    fi
    ovsi_stop_all
    ip netns del "$NSK" 2> /dev/null || true
}
trap cleanup EXIT

frames="50540000000750540000000508004500002000004000401126cb0a0000010a00000204d20050000c000061626364
50540000000b50540000000a08004500002b0001000040115fb40a0102030a04050615b3270f0017780070726f746f737461636b2d6470646b
50540000000d50540000000c0800450000280001000040065ebe0a0708090a0000029c400050000000000000000050022000d7400000
50540000000f50540000000e86dd600000000030114020010db800000000000000000000000520010db800000000000000000000000603e807d000302ef078787878787878787878787878787878787878787878787878787878787878787878787878787878"
rm -rf "$R"
mkdir -p "$R"
echo "$frames" | sort > "$R/frames"

status=0
# Checks that pcap $2 holds exactly the input frames; $1 names the path.
check () {
    if [ ! -f "$2" ]; then
        echo "FAIL: $1: no capture"
        status=1
    elif ovsi_pcap_hex "$2" | sort | cmp -s - "$R/frames"; then
        echo "PASS: $1: the 4 inner frames byte-identical"
    else
        echo "FAIL: $1: the inner frames differ"
        ovsi_pcap_hex "$2" | sort | diff - "$R/frames" || true
        status=1
    fi
}

ovsi_start ours "$R/ours" psdpdk-pa-$$
ovsi_start native "$R/native" psdpdk-pb-$$
ip netns add "$NSK"

# The veth pairs, created in their namespaces.
va=psdpdka$$ vb=psdpdkb$$ vj=psdpdkj$$ vk=psdpdkk$$
ip link add "$va" netns psdpdk-pa-$$ type veth peer name "$vb" \
    netns psdpdk-pb-$$
ip link add "$vj" netns psdpdk-pa-$$ type veth peer name "$vk" netns "$NSK"
ip -n psdpdk-pa-$$ link set "$va" up
ip -n psdpdk-pa-$$ link set "$vj" up
ip -n psdpdk-pb-$$ link set "$vb" up
ip -n "$NSK" link set lo up
ip -n "$NSK" link set "$vk" up
ip -n "$NSK" addr add 172.31.2.2/24 dev "$vk"
mac_k=$(ip netns exec "$NSK" cat /sys/class/net/"$vk"/address)

# Native: the underlay bridge owns 172.31.1.2; the tunnel ports are on br1.
ovsi native ovs-vsctl add-br br-underlay \
    -- set bridge br-underlay datapath_type=netdev fail_mode=secure \
       other_config:hwaddr=aa:55:aa:55:00:02 \
    -- add-port br-underlay "$vb" -- set Interface "$vb" ofport_request=1
ovsi native ip addr add 172.31.1.2/24 dev br-underlay
ovsi native ip link set br-underlay up
ovsi native ovs-appctl ovs/route/add 172.31.1.0/24 br-underlay > /dev/null
ovsi native ovs-appctl tnl/arp/set br-underlay 172.31.1.1 \
    aa:55:aa:55:00:01 > /dev/null
ovsi native ovs-ofctl add-flow br-underlay in_port=LOCAL,actions=output:1
ovsi native ovs-ofctl add-flow br-underlay in_port=1,actions=LOCAL
ovsi native ovs-vsctl add-br br1 \
    -- set bridge br1 datapath_type=netdev fail_mode=secure \
    -- add-port br1 vxlan0 -- set Interface vxlan0 type=vxlan \
       ofport_request=1 options:remote_ip=172.31.1.1 options:key=100 \
    -- add-port br1 gre0 -- set Interface gre0 type=gre ofport_request=2 \
       options:remote_ip=172.31.1.1 \
    -- add-port br1 gnv0 -- set Interface gnv0 type=geneve \
       ofport_request=3 options:remote_ip=172.31.1.1 options:key=300
ovsi native ovs-ofctl add-tlv-map br1 \
    '{class=0x0102,type=0x80,len=4}->tun_metadata0'
# Dummy ports: d1x receive the decapsulated frames, e1x inject frames to
# encapsulate.
for t in 1 2 3; do
    ovsi native ovs-vsctl \
        -- add-port br1 d1$t -- set Interface d1$t type=dummy \
           ofport_request=1$t options:tx_pcap="$R/native-decap-$t.pcap" \
        -- add-port br1 e1$t -- set Interface e1$t type=dummy \
           ofport_request=2$t
done
ovsi native ovs-ofctl add-flows br1 - <<EOF
in_port=1,actions=output:11
in_port=2,actions=output:12
in_port=3,tun_metadata0=0x0a0b0c0d,actions=output:13
in_port=21,actions=output:1
in_port=22,actions=output:2
in_port=23,actions=set_field:0x0a0b0c0d->tun_metadata0,output:3
EOF

# Ours: ports 2 (to native) and 3 (to the kernel); dummy ports 1x inject
# frames to push, 2x receive the popped ones.
ovsi ours ovs-vsctl add-br br0 \
    -- set bridge br0 datapath_type=netdev fail_mode=secure \
    -- add-port br0 "$va" -- set Interface "$va" ofport_request=2 \
    -- add-port br0 "$vj" -- set Interface "$vj" ofport_request=3
for t in 1 2 3 4; do
    ovsi ours ovs-vsctl \
        -- add-port br0 i1$t -- set Interface i1$t type=dummy \
           ofport_request=1$t \
        -- add-port br0 o2$t -- set Interface o2$t type=dummy \
           ofport_request=2$t options:tx_pcap="$R/ours-pop-$t.pcap"
done
under=eth.src=aa:55:aa:55:00:01,eth.dst=aa:55:aa:55:00:02
under=$under,ip4.src=172.31.1.1,ip4.dst=172.31.1.2
opt=geneve.options=0x010280010a0b0c0d
ovsi ours ovs-ofctl add-flows br0 - <<EOF
in_port=11,actions=push_stack(eth,ip4,udp,vxlan,$under,vxlan.vni=100),fix_length,output:2
in_port=12,actions=push_stack(eth,ip4,gre,$under),fix_length,output:2
in_port=13,actions=push_stack(eth,ip4,udp,{geneve,length=8},$under,geneve.vni=300,$opt),fix_length,output:2
in_port=14,actions=push_stack(eth,ip4,udp,vxlan,eth.src=aa:55:aa:55:00:03,eth.dst=$mac_k,ip4.src=172.31.2.1,ip4.dst=172.31.2.2,vxlan.vni=42),fix_length,output:3
in_port=2,udp,tp_dst=4789,actions=pop_stack(eth,ip4,udp,vxlan),output:21
in_port=2,ip,nw_proto=47,actions=pop_stack(eth,ip4,gre),output:22
in_port=2,udp,tp_dst=6081,actions=pop_stack(eth,ip4,udp,{geneve,length=8}),output:23
EOF

# The kernel's VXLAN device, and a capture on it.
kernel=no
if [ -x "$build/utilities/ps-vxlan-nl" ] \
   && ip netns exec "$NSK" "$build/utilities/ps-vxlan-nl" add psdpdk-vx0 42 \
        172.31.2.2 "$vk" 4789; then
    kernel=yes
    ip netns exec "$NSK" tcpdump -Z root -U -n -Q in -i psdpdk-vx0 \
        -w "$R/kernel.pcap" 2> "$R/tcpdump.log" &
    capture_pid=$!
    i=0
    while ! grep -q listening "$R/tcpdump.log" && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
else
    echo "SKIP: kernel: no utilities/ps-vxlan-nl or no VXLAN device"
fi

for f in $frames; do
    for t in 1 2 3 4; do
        ovsi ours ovs-appctl netdev-dummy/receive i1$t "$f" > /dev/null
    done
    for t in 1 2 3; do
        ovsi native ovs-appctl netdev-dummy/receive e1$t "$f" > /dev/null
    done
done
sleep 2
ovsi_stop native
ovsi_stop ours
if [ -n "$capture_pid" ]; then
    kill "$capture_pid"
    wait "$capture_pid" || true
    capture_pid=
fi

check "push_stack VXLAN -> native type=vxlan" "$R/native-decap-1.pcap"
check "push_stack GRE -> native type=gre" "$R/native-decap-2.pcap"
check "push_stack Geneve with an option -> native type=geneve" \
    "$R/native-decap-3.pcap"
check "native type=vxlan -> pop_stack" "$R/ours-pop-1.pcap"
check "native type=gre -> pop_stack" "$R/ours-pop-2.pcap"
check "native type=geneve with an option -> pop_stack" "$R/ours-pop-3.pcap"
if [ $kernel = yes ]; then
    check "push_stack VXLAN -> Linux kernel VXLAN device" "$R/kernel.pcap"
    ip netns exec "$NSK" "$build/utilities/ps-vxlan-nl" del psdpdk-vx0
fi
exit $status
