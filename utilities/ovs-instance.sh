# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Shell functions, sourced by the scripts that run one or more patched
# Open vSwitch instances of the build tree (utilities/ovs-dpdk-check.sh,
# utilities/ovs-peers-check.sh).  Each instance has its own run directory
# and network namespace.  The caller sets "top" (the source tree) first;
# the build tree is $BUILD, or $PS_BUILDDIR (set by "make check"), or
# build/ in the source tree.  Without root or without the OvS programs
# in the build tree, the caller exits with status 77 (skipped).
#
#   ovsi_start NAME DIR NS [DPDK]  starts ovsdb-server and ovs-vswitchd of
#       instance NAME in run directory DIR inside namespace NS (created if
#       missing); with DPDK "dpdk", initialises DPDK (dpdk-init=true, on
#       hugepages when PS_HUGEPAGES=1, otherwise --no-huge --legacy-mem)
#       before ovs-vswitchd starts.
#   ovsi NAME CMD...  runs CMD (ovs-vsctl, ovs-ofctl, ovs-appctl, ...)
#       against instance NAME, inside its namespace.
#   ovsi_stop NAME  stops the daemons of NAME (never fails).
#   ovsi_stop_all   stops every instance started, removes their
#       namespaces: it is the EXIT trap (also on INT and TERM) unless the
#       caller installs another one.

build=${BUILD:-${PS_BUILDDIR:-$top/build}}
case $build in
    /*) ;;
    *) build=$(pwd)/$build ;;
esac
if [ "$(id -u)" != 0 ] || [ ! -x "$build/ovs/vswitchd/ovs-vswitchd" ]; then
    echo "$0: needs root and OvS built in $build/ovs: skipped" >&2
    exit 77
fi

ovs=$build/ovs
export OVS_PKGDATADIR=$ovs OVS_BINDIR=$ovs/utilities
export PROTOSTACK_DATADIR=${PROTOSTACK_DATADIR:-$top/protocols}
PATH=$ovs/vswitchd:$ovs/ovsdb:$ovs/utilities:$ovs/tests:$PATH
export PATH

ovsi_names=
ovsi_namespaces=
trap 'ovsi_stop_all' EXIT
trap 'exit 1' INT TERM

# Prints the run directory and namespace of instance $1.
ovsi_dir () {
    eval "echo \$ovsi_dir_$1"
}
ovsi_ns () {
    eval "echo \$ovsi_ns_$1"
}

ovsi () {
    _name=$1
    shift
    _dir=$(ovsi_dir "$_name")
    OVS_RUNDIR=$_dir OVS_DBDIR=$_dir OVS_LOGDIR=$_dir \
    OVS_SYSCONFDIR=$_dir PROTOSTACK_JIT_DIR=$_dir/jit \
        ip netns exec "$(ovsi_ns "$_name")" "$@"
}

# The EAL arguments of DPDK instance $1: hugepages (reserved beforehand,
# no mount needed) when PS_HUGEPAGES=1, otherwise ordinary memory.  EAL
# refuses --in-memory with --no-huge: the instance's runtime files go to
# /var/run/dpdk/psdpdk-NAME-PID, apart from other DPDK processes, and
# ovsi_stop removes them.
ovsi_dpdk_extra () {
    if [ "${PS_HUGEPAGES:-0}" = 1 ]; then
        echo "--no-pci --in-memory"
    else
        echo "--no-huge --legacy-mem --no-pci -m ${PS_DPDK_MEM:-1024}" \
             "--file-prefix=psdpdk-$1-$$"
    fi
}

ovsi_start () {
    _name=$1 _dir=$2 _ns=$3 _dpdk=${4:-}
    eval "ovsi_dir_$_name=\$_dir ovsi_ns_$_name=\$_ns"
    ovsi_names="$ovsi_names $_name"
    ovsi_stop "$_name"
    rm -rf "$_dir"
    mkdir -p "$_dir"
    if ! ip netns list | grep -qw "$_ns"; then
        ip netns add "$_ns"
        ovsi_namespaces="$ovsi_namespaces $_ns"
    fi
    ip netns exec "$_ns" ip link set lo up
    ovsdb-tool create "$_dir/conf.db" "$ovs/vswitchd/vswitch.ovsschema"
    ovsi "$_name" ovsdb-server --detach --no-chdir --pidfile --log-file \
        -vconsole:off --remote=punix:"$_dir/db.sock" "$_dir/conf.db"
    ovsi "$_name" ovs-vsctl --no-wait init
    if [ "$_dpdk" = dpdk ]; then
        ovsi "$_name" ovs-vsctl --no-wait set Open_vSwitch . \
            other_config:dpdk-init=true \
            other_config:dpdk-extra="$(ovsi_dpdk_extra "$_name")" \
            other_config:dpdk-lcore-mask=0x1 \
            other_config:pmd-cpu-mask="${PS_PMD_MASK:-0x2}"
    fi
    ovsi "$_name" ovs-vswitchd --enable-dummy --disable-system \
        --disable-system-route -vconsole:off --detach --no-chdir \
        --pidfile --log-file
    echo "$_name: ovs-vswitchd running, run directory $_dir, namespace $_ns"
}

ovsi_stop () {
    _dir=$(ovsi_dir "$1")
    [ -n "$_dir" ] || return 0
    for _daemon in ovs-vswitchd ovsdb-server; do
        if [ -f "$_dir/$_daemon.pid" ]; then
            _pid=$(cat "$_dir/$_daemon.pid")
            if [ $_daemon = ovs-vswitchd ]; then
                ovsi "$1" ovs-appctl -t "$_dir/$_daemon.$_pid.ctl" \
                    exit --cleanup > /dev/null 2>&1 || true
            else
                ovsi "$1" ovs-appctl -t "$_dir/$_daemon.$_pid.ctl" \
                    exit > /dev/null 2>&1 || true
            fi
            # A daemon that did not exit in 10 s is killed.
            _i=0
            while kill -0 "$_pid" 2> /dev/null && [ $_i -lt 100 ]; do
                sleep 0.1
                _i=$((_i + 1))
            done
            kill -9 "$_pid" 2> /dev/null || true
            rm -f "$_dir/$_daemon.pid"
        fi
    done
    rm -rf "/var/run/dpdk/psdpdk-$1-$$"
    return 0
}

ovsi_stop_all () {
    for _n in $ovsi_names; do
        ovsi_stop "$_n"
    done
    for _ns in $ovsi_namespaces; do
        ip netns del "$_ns" 2> /dev/null || true
    done
    ovsi_names=
    ovsi_namespaces=
}

# Prints the frames of pcap file $1, one line of hex each.
ovsi_pcap_hex () {
    python3 -c '
import struct, sys
with open(sys.argv[1], "rb") as f:
    data = f.read()
magic = struct.unpack("<I", data[:4])[0]
end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off = 24
while off + 16 <= len(data):
    incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
    print(data[off + 16:off + 16 + incl].hex())
    off += 16 + incl
' "$1"
}

# Writes the frames given in hex ($2...) to pcap file $1.
ovsi_hex_pcap () {
    python3 -c '
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, h in enumerate(sys.argv[2:]):
        b = bytes.fromhex(h)
        f.write(struct.pack("<IIII", 1, i, len(b), len(b)) + b)
' "$@"
}
