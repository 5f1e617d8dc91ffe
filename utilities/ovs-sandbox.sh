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
#   demo   starts, creates bridge br0 with dummy ports p1 and p2, adds a
#          VXLAN push_stack flow from p1 to p2, sends two frames into p1,
#          lets tshark decode what p2 sent, and stops.
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

demo () {
    trap 'stop' EXIT
    start
    in_ns ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev \
        -- add-port br0 p1 -- set Interface p1 type=dummy ofport_request=1 \
        -- add-port br0 p2 -- set Interface p2 type=dummy ofport_request=2 \
           options:tx_pcap="$R/p2-tx.pcap"
    labels=eth.src=aa:bb:cc:dd:ee:ff,eth.dst=00:11:22:33:44:55
    labels=$labels,ip4.src=192.0.2.1,ip4.dst=192.0.2.254,vxlan.vni=1234
    flow="in_port=1,actions=push_stack(eth,ip4,udp,vxlan,$labels)"
    flow="$flow,fix_length,output:2"
    echo "sandbox: ovs-ofctl add-flow br0 '$flow'"
    in_ns ovs-ofctl add-flow br0 "$flow"
    in_ns ovs-ofctl dump-flows br0 --no-stats
    echo "sandbox: the datapath action, from ofproto/trace:"
    in_ns ovs-appctl ofproto/trace br0 in_port=1,udp | tail -1
    in_ns ovs-appctl netdev-dummy/receive p1 "$inner"
    in_ns ovs-appctl netdev-dummy/receive p1 "$inner"
    sleep 1
    in_ns ovs-appctl protostack/show
    echo "sandbox: tshark's reading of $R/p2-tx.pcap:"
    tshark -r "$R/p2-tx.pcap" -o ip.check_checksum:TRUE \
        -o udp.check_checksum:TRUE -V 2> /dev/null \
        | grep -E '^[A-Z]|Checksum|Network Identifier|Length|Port'
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    demo) demo ;;
    *) echo "usage: $0 start|stop|demo" >&2; exit 2 ;;
esac
