#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# utilities/ovs-sandbox.sh start|stop|demo
#
# Runs the patched Open vSwitch of the build tree (build/ovs, see
# docs/ovs.md) in a sandbox: a private run directory (build/sandbox) and
# a network namespace of its own ("protostack"), the userspace datapath
# with dummy ports.  Needs root (for the namespace).
#   start  starts ovsdb-server and ovs-vswitchd in the sandbox;
#   stop   stops them and removes the namespace;
#   demo   starts, creates bridge br0 with dummy ports p1, p2 and p3 and
#          a native VXLAN port vxlan0 (leaving through bridge br-underlay
#          and its dummy port p0), adds a VXLAN push_stack flow from p1 to
#          p2 and a flow from p3 to vxlan0 with the same addresses and
#          VNI, sends two frames into p1 and two into p3, lets tshark
#          decode what p2 and p0 sent, side by side, and stops.
# Environment: BUILD (default build), PS_SANDBOX (the run directory),
# PS_SANDBOX_NS (the namespace).

set -e

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
case $build in
    /*) ;;
    *) build=$(pwd)/$build ;;
esac
ovs=$build/ovs
R=${PS_SANDBOX:-$build/sandbox}
NS=${PS_SANDBOX_NS:-protostack}

if [ ! -x "$ovs/vswitchd/ovs-vswitchd" ]; then
    echo "$0: no OvS in $ovs: build it first (docs/ovs.md)" >&2
    exit 1
fi

export OVS_RUNDIR=$R OVS_DBDIR=$R OVS_LOGDIR=$R OVS_SYSCONFDIR=$R
export OVS_PKGDATADIR=$ovs OVS_BINDIR=$ovs/utilities
export PROTOSTACK_DATADIR=${PROTOSTACK_DATADIR:-$top/protocols}
export PROTOSTACK_JIT_DIR=${PROTOSTACK_JIT_DIR:-$R/jit}
PATH=$ovs/vswitchd:$ovs/ovsdb:$ovs/utilities:$PATH
export PATH

# Runs a command inside the namespace.
in_ns () {
    ip netns exec "$NS" "$@"
}

start () {
    stop > /dev/null 2>&1 || true
    rm -rf "$R"
    mkdir -p "$R"
    ip netns add "$NS"
    echo "sandbox: run directory $R, network namespace $NS"
    ovsdb-tool create "$R/conf.db" "$ovs/vswitchd/vswitch.ovsschema"
    in_ns ovsdb-server --detach --no-chdir --pidfile --log-file -vconsole:off \
        --remote=punix:"$R/db.sock" "$R/conf.db"
    in_ns ovs-vsctl --no-wait init
    in_ns ovs-vswitchd --enable-dummy --disable-system -vconsole:off \
        --disable-system-route --detach --no-chdir --pidfile --log-file
    echo "sandbox: ovsdb-server and ovs-vswitchd are running"
}

stop () {
    status=0
    if [ -f "$R/ovs-vswitchd.pid" ]; then
        in_ns ovs-appctl -t ovs-vswitchd exit --cleanup || status=1
    fi
    if [ -f "$R/ovsdb-server.pid" ]; then
        in_ns ovs-appctl -t ovsdb-server exit || status=1
    fi
    if ip netns list | grep -qw "$NS"; then
        ip netns del "$NS" || status=1
    fi
    echo "sandbox: stopped"
    return $status
}

# The frame that the demo sends: Ethernet, IPv4, UDP, four bytes.
inner=50540000000750540000000508004500002000004000401126cb0a000001
inner=${inner}0a00000204d20050000c000061626364

# Prints tshark's reading of pcap file $1: the layers, and the fields that
# lengths, checksums, ports and the VNI are in.
decode () {
    tshark -r "$1" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
        -V 2> /dev/null \
        | grep -E '^[A-Z]|Checksum|Network Identifier|Length|Port'
}

demo () {
    trap 'stop' EXIT
    start
    labels=eth.src=aa:bb:cc:dd:ee:ff,eth.dst=00:11:22:33:44:55
    labels=$labels,ip4.src=192.0.2.1,ip4.dst=192.0.2.254,vxlan.vni=1234

    echo "sandbox: bridge br0: dummy ports p1 -> p2 through push_stack," \
         "p3 -> native VXLAN port vxlan0"
    in_ns ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev \
        -- add-port br0 p1 -- set Interface p1 type=dummy ofport_request=1 \
        -- add-port br0 p2 -- set Interface p2 type=dummy ofport_request=2 \
           options:tx_pcap="$R/p2-tx.pcap" \
        -- add-port br0 p3 -- set Interface p3 type=dummy ofport_request=3 \
        -- add-port br0 vxlan0 -- set Interface vxlan0 type=vxlan \
           ofport_request=4 options:remote_ip=192.0.2.254 options:key=1234

    # Native VXLAN leaves through an underlay bridge that owns 192.0.2.1,
    # with the same addresses as the push_stack flow.
    echo "sandbox: bridge br-underlay (192.0.2.1, aa:bb:cc:dd:ee:ff):" \
         "native VXLAN leaves through its dummy port p0"
    in_ns ovs-vsctl add-br br-underlay \
        -- set bridge br-underlay datapath_type=netdev fail_mode=secure \
           other_config:hwaddr=aa:bb:cc:dd:ee:ff \
        -- add-port br-underlay p0 -- set Interface p0 type=dummy \
           ofport_request=1 options:tx_pcap="$R/p0-tx.pcap"
    in_ns ip addr add 192.0.2.1/24 dev br-underlay
    in_ns ip link set br-underlay up
    in_ns ovs-appctl ovs/route/add 192.0.2.0/24 br-underlay > /dev/null
    in_ns ovs-appctl tnl/arp/set br-underlay 192.0.2.254 \
        00:11:22:33:44:55 > /dev/null
    in_ns ovs-ofctl add-flow br-underlay \
        in_port=LOCAL,udp,tp_dst=4789,actions=output:1

    flow="in_port=1,actions=push_stack(eth,ip4,udp,vxlan,$labels)"
    flow="$flow,fix_length,output:2"
    echo "sandbox: ovs-ofctl add-flow br0 '$flow'"
    in_ns ovs-ofctl add-flow br0 "$flow"
    echo "sandbox: ovs-ofctl add-flow br0 'in_port=3,actions=output:4'"
    in_ns ovs-ofctl add-flow br0 in_port=3,actions=output:4
    in_ns ovs-ofctl dump-flows br0 --no-stats
    echo "sandbox: the datapath actions, from ofproto/trace:"
    in_ns ovs-appctl ofproto/trace br0 in_port=1,udp | tail -1
    in_ns ovs-appctl ofproto/trace br0 in_port=3,udp | tail -1

    echo "sandbox: two frames into p1 and two into p3"
    for port in p1 p1 p3 p3; do
        in_ns ovs-appctl netdev-dummy/receive $port "$inner"
    done
    sleep 1
    in_ns ovs-appctl protostack/show
    echo "sandbox: tshark's reading of $R/p2-tx.pcap (push_stack):"
    decode "$R/p2-tx.pcap"
    echo "sandbox: tshark's reading of $R/p0-tx.pcap (native VXLAN):"
    decode "$R/p0-tx.pcap"
    echo "sandbox: side by side (push_stack, then native):"
    for f in p2 p0; do
        tshark -r "$R/$f-tx.pcap" -T fields -E header=y -E occurrence=f \
            -e eth.src -e eth.dst -e ip.src -e ip.dst -e ip.flags.df \
            -e ip.ttl -e udp.srcport -e udp.dstport -e udp.checksum \
            -e vxlan.vni 2> /dev/null | sed -n '1p;2p' \
            | sed "1s/^/        /; 2s/^/$f-tx.pcap /"
    done
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    demo) demo ;;
    *) echo "usage: $0 start|stop|demo" >&2; exit 2 ;;
esac
