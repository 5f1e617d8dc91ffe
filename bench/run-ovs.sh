#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# run-ovs.sh BUILDDIR OUTDIR: VXLAN encapsulation in the patched OvS-DPDK
# of BUILDDIR (it builds nothing), one PMD core, DPDK vdev ports; writes
# the raw figures to OUTDIR/ovs.dat and a Markdown report to
# OUTDIR/ovs.md.  Needs root (a network namespace, hugepages).
#
# Three ways of sending the packets of port "in" out of the switch, the
# same build in the same run, alternating, REPS times each:
#
#   plain   output:out, no encapsulation (the floor);
#   native  OvS's own VXLAN: set_field to tun_id and tun_dst, output to a
#           type=vxlan port (remote_ip=flow, key=flow), routed through
#           bridge br-ul (route and tnl/arp) to its port ul0;
#   push    push_stack(eth,ip4,udp,vxlan,...),fix_length,output:out.
#
# Phase "null" (setup 2): port "in" is net_null (64-byte frames, all
# alike), one flow per way matching in_port.  Phase "tunnels" (setup 4):
# port "in" is net_pcap with infinite_rx over a capture of FRAMES frames
# made by "protostack craft --vary", whose IPv4 destinations take N
# values; each way has N flows, one per destination, each to its own
# tunnel (VNI and remote address), for each N of TUNNELS.
#
# The flows of all three ways sit in tables 1 to 3; the one flow of
# table 0 resubmits to one of them, so a switch of way is one flow
# modification and "revalidator/purge".  The ways take turns, in an
# order that turns with each repetition.  After WARM seconds of traffic,
# "dpif-netdev/pmd-stats-clear", SECS seconds, then
# "dpif-netdev/pmd-perf-show" (Mpps and cycles per packet of the PMD)
# and the transmit counter of the output port ("dpctl/show -s") give one
# line of ovs.dat:
#
#   PHASE N WAY REP PMD_KPPS PMD_CYCLES_PER_PKT TX_MPPS SIMPLE% EMC% SMC%
#   MEGAFLOW% RX_PACKETS CPU_NS
#
# CPU_NS is the time the PMD thread ran in those seconds (its
# /proc/PID/task/TID/schedstat): on a machine shared with other jobs the
# thread is preempted now and then, and PMD_CYCLES_PER_PKT and TX_MPPS
# count that time too, while CPU_NS / RX_PACKETS does not.
#
# Environment: OVS_BENCH_REPS (5), OVS_BENCH_SECS (3), OVS_BENCH_WARM
# (2), OVS_BENCH_TUNNELS ("1 10 100 1000 10000"), OVS_BENCH_FRAMES
# (10000), OVS_BENCH_PHASES ("null tunnels"), OVS_BENCH_NS (the network
# namespace, psbench-ovs), OVS_BENCH_PERF (1: a perf profile of each
# way, see profile below), OVS_BENCH_ANNOTATE (a function whose hottest
# instructions the profile shows too).

set -e

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${1:?usage: run-ovs.sh BUILDDIR OUTDIR}" && pwd)
mkdir -p "${2:?usage: run-ovs.sh BUILDDIR OUTDIR}"
out=$(cd "$2" && pwd)
ovs=$builddir/ovs
if test ! -x "$ovs/vswitchd/ovs-vswitchd"; then
    echo "$0: no OvS in $ovs: configure with OvS and DPDK, build" >&2
    exit 1
fi
if test "$(id -u)" != 0; then
    echo "$0: needs root (network namespace, hugepages)" >&2
    exit 1
fi

reps=${OVS_BENCH_REPS:-5}
secs=${OVS_BENCH_SECS:-3}
warm=${OVS_BENCH_WARM:-2}
tunnels=${OVS_BENCH_TUNNELS:-1 10 100 1000 10000}
frames=${OVS_BENCH_FRAMES:-10000}
phases=${OVS_BENCH_PHASES:-null tunnels}
NS=${OVS_BENCH_NS:-psbench-ovs}
if test "$(nproc)" -ge 2; then
    pmd_mask=0x2
else
    pmd_mask=0x1
fi

R=$(mktemp -d "${TMPDIR:-/tmp}/psbench-ovs.XXXXXX")
export OVS_RUNDIR=$R OVS_DBDIR=$R OVS_LOGDIR=$R OVS_SYSCONFDIR=$R
export OVS_PKGDATADIR=$ovs OVS_BINDIR=$ovs/utilities
export PROTOSTACK_DATADIR=$srcdir/protocols PROTOSTACK_JIT_DIR=$R/jit
unset PROTOSTACK_TIER
PATH=$ovs/vswitchd:$ovs/ovsdb:$ovs/utilities:$PATH
export PATH
protostack=$builddir/utilities/protostack

. "$srcdir/bench/hugepages.sh"
bench_huge_setup "$R/huge" 1024
if test "$bench_huge" = yes; then
    eal="--no-pci --in-memory --huge-dir $R/huge"
else
    eal="--no-huge --legacy-mem --no-pci -m 1024"
fi

in_ns () {
    ip netns exec "$NS" "$@"
}

vsctl () {
    in_ns ovs-vsctl --timeout=60 "$@"
}

ofctl () {
    in_ns ovs-ofctl "$@"
}

appctl () {
    in_ns ovs-appctl --timeout=120 "$@"
}

stop () {
    if test -f "$R/ovs-vswitchd.pid"; then
        appctl -t ovs-vswitchd exit --cleanup > /dev/null 2>&1 || true
    fi
    if test -f "$R/ovsdb-server.pid"; then
        appctl -t ovsdb-server exit > /dev/null 2>&1 || true
    fi
    if ip netns list | grep -qw "$NS"; then
        ip netns del "$NS" || true
    fi
    bench_huge_cleanup
    cp "$R/ovs-vswitchd.log" "$out/ovs-vswitchd.log" 2> /dev/null || true
    rm -rf "$R"
}
trap stop EXIT
trap 'exit 1' INT TERM

log () {
    echo "run-ovs: $*" >&2
}

# Starts the switch with DPDK, one PMD core.
ip netns add "$NS"
ovsdb-tool create "$R/conf.db" "$ovs/vswitchd/vswitch.ovsschema"
in_ns ovsdb-server --detach --no-chdir --pidfile --log-file -vconsole:off \
    --remote=punix:"$R/db.sock" "$R/conf.db"
vsctl --no-wait init
vsctl --no-wait set Open_vSwitch . other_config:dpdk-init=true \
    other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=$pmd_mask \
    other_config:dpdk-extra="$eal"
in_ns ovs-vswitchd --disable-system --disable-system-route --detach \
    --no-chdir --pidfile --log-file -vconsole:off
echo "$eal" > "$out/ovs-eal.txt"

# The underlay: bridge br-ul (a tap device in the namespace, address
# 172.31.1.1), its port ul0, a route to the remotes 172.16.0.0/16
# through gateway 172.31.1.2, whose MAC address is set by tnl/arp.
vsctl add-br br-ul -- set bridge br-ul datapath_type=netdev \
        other_config:hwaddr=aa:55:aa:55:00:01 \
    -- add-port br-ul ul0 -- set Interface ul0 type=dpdk ofport_request=1 \
        'options:dpdk-devargs="net_null2,no-rx=1"'
in_ns ip addr add 172.31.1.1/24 dev br-ul
in_ns ip link set br-ul up
appctl ovs/route/add 172.16.0.0/16 br-ul 172.31.1.2 > /dev/null
appctl tnl/arp/set br-ul 172.31.1.2 aa:55:aa:55:00:02 > /dev/null
ofctl add-flow br-ul 'priority=10,in_port=LOCAL,actions=output:ul0'

vsctl add-br br0 -- set bridge br0 datapath_type=netdev \
    -- add-port br0 out -- set Interface out type=dpdk ofport_request=2 \
        'options:dpdk-devargs="net_null1,no-rx=1"' \
    -- add-port br0 vxlan0 -- set Interface vxlan0 type=vxlan \
        ofport_request=3 options:remote_ip=flow options:key=flow

# set_in DEVARGS: (re)creates port "in" (OpenFlow port 1).
set_in () {
    vsctl --if-exists del-port br0 in
    vsctl add-port br0 in -- set Interface in type=dpdk ofport_request=1 \
        "options:dpdk-devargs=\"$1\""
}

# flows N MATCH_IP: writes $R/flows: tables 1 (plain), 2 (native) and 3
# (push) with N flows each, flow I (from 0) matching IPv4 destination
# 10.0.0.1 + I (when MATCH_IP is 1; else in_port=1 alone, N must be 1)
# and sending to remote 172.16.0.1 + I with VNI 100 + I.
flows () {
    awk -v n="$1" -v ip="$2" 'BEGIN {
        labels = "eth.src=aa:55:aa:55:00:01,eth.dst=aa:55:aa:55:00:02," \
                 "ip4.src=172.31.1.1,udp.cksum=0"
        for (i = 0; i < n; i++) {
            a = i + 1
            dst = sprintf("%d.%d.%d", int(a / 65536) % 256,
                          int(a / 256) % 256, a % 256)
            m = ip ? "ip,nw_dst=10." dst : "in_port=1"
            printf "table=1,%s,actions=output:2\n", m
            printf "table=2,%s,actions=set_field:%d->tun_id," \
                   "set_field:172.16.%d.%d->tun_dst,output:3\n", \
                   m, 100 + i, int(a / 256) % 256, a % 256
            printf "table=3,%s,actions=push_stack(eth,ip4,udp,vxlan,%s," \
                   "ip4.dst=172.16.%d.%d,vxlan.vni=%d),fix_length," \
                   "output:2\n", m, labels, int(a / 256) % 256, a % 256, \
                   100 + i
        }
    }' > "$R/flows"
}

way_table () {
    case $1 in
        plain) echo 1 ;;
        native) echo 2 ;;
        push) echo 3 ;;
    esac
}

way_port () {
    case $1 in
        native) echo ul0 ;;
        *) echo out ;;
    esac
}

# The thread id of the PMD thread.
pmd_tid () {
    ps -T -o spid=,comm= -p "$(cat "$R/ovs-vswitchd.pid")" \
        | awk '$2 ~ /^pmd/ { print $1; exit }'
}

# Nanoseconds that the PMD thread has run so far.
pmd_ns () {
    pid=$(cat "$R/ovs-vswitchd.pid")
    awk '{ print $1 }' "/proc/$pid/task/$(pmd_tid)/schedstat"
}

# Transmitted packets of port $1 so far.
tx_packets () {
    appctl dpctl/show -s | awk -v port="$1" '
        $1 == "port" { name = $3 }
        name == port && $1 == "TX" {
            sub("packets:", "", $2)
            print $2
            exit
        }'
}

# switch_to WAY: sends the traffic through the flows of WAY.
switch_to () {
    ofctl add-flow br0 "table=0,priority=0,actions=resubmit(,$(way_table "$1"))"
    appctl revalidator/purge > /dev/null
}

# measure PHASE N WAY REP: one line of ovs.dat.
measure () {
    switch_to "$3"
    sleep "$warm"
    port=$(way_port "$3")
    appctl dpif-netdev/pmd-stats-clear > /dev/null
    cpu0=$(pmd_ns)
    tx0=$(tx_packets "$port")
    t0=$(date +%s%N)
    sleep "$secs"
    appctl dpif-netdev/pmd-perf-show > "$R/perf"
    cpu1=$(pmd_ns)
    tx1=$(tx_packets "$port")
    t1=$(date +%s%N)
    if test "$4" = 0; then
        {
            echo "== $1 $2 $3: dpif-netdev/pmd-perf-show"
            cat "$R/perf"
            appctl dpctl/dump-flows | grep -v '^flow-dump' > "$R/dp"
            echo "== $1 $2 $3: datapath flows (first 2 of" \
                 "$(wc -l < "$R/dp"))"
            head -n 2 "$R/dp"
        } >> "$out/ovs-details.txt"
    fi
    awk -v phase="$1" -v n="$2" -v way="$3" -v rep="$4" \
        -v tx="$((tx1 - tx0))" -v ns="$((t1 - t0))" \
        -v cpu="$((cpu1 - cpu0))" '
        # The percentage in the parentheses of a "- X hits:" line.
        function pct(line) {
            sub(/^[^(]*\( */, "", line)
            sub(/ *%.*/, "", line)
            return line
        }
        /Rx packets:/ {
            rx = $3
            kpps = $4; sub(/\(/, "", kpps)
            cyc = $6
        }
        /- Simple Match hits:/ { simple = pct($0) }
        /- EMC hits:/ { emc = pct($0) }
        /- SMC hits:/ { smc = pct($0) }
        /- Megaflow hits:/ { mf = pct($0) }
        END {
            printf "%s %s %s %s %s %s %.3f %s %s %s %s %s %s\n", phase, n,
                   way, rep, kpps, cyc, tx * 1000 / ns, simple, emc, smc, mf,
                   rx, cpu
        }' "$R/perf" >> "$out/ovs.dat"
    tail -n 1 "$out/ovs.dat" >&2
}

# profile PHASE N: with OVS_BENCH_PERF=1, "perf record -t" of the PMD
# thread for SECS seconds in each way, after the measurements; the
# report's top goes to ovs-details.txt.
profile () {
    if test "${OVS_BENCH_PERF:-0}" != 1; then
        return 0
    fi
    tid=$(pmd_tid)
    for way in plain native push; do
        switch_to "$way"
        sleep "$warm"
        appctl dpif-netdev/pmd-stats-clear > /dev/null
        cpu0=$(pmd_ns)
        perf record -q -t "$tid" -o "$R/perf.data" -- sleep "$secs" \
            > /dev/null 2>&1
        cpu1=$(pmd_ns)
        rx=$(appctl dpif-netdev/pmd-perf-show \
             | awk '/Rx packets:/ { print $3; exit }')
        {
            echo "== $1 $2 $way: perf record -t (PMD thread), $secs s," \
                 "$rx packets, $(((cpu1 - cpu0) / ${rx:-1})) ns of PMD" \
                 "time per packet; ns per packet of each symbol"
            perf report -i "$R/perf.data" --stdio --no-children \
                --sort symbol 2> /dev/null | grep -v '^#' | grep -v '^$' \
                | head -n 25 \
                | awk -v ns="$((cpu1 - cpu0))" -v rx="${rx:-0}" '{
                      pct = $1; sub(/%/, "", pct)
                      printf "%s %6.1f ns/packet\n", $0,
                             rx ? pct / 100 * ns / rx : 0
                  }'
            if test -n "$OVS_BENCH_ANNOTATE"; then
                perf annotate -i "$R/perf.data" --stdio \
                    "$OVS_BENCH_ANNOTATE" 2> /dev/null \
                    | awk '$1 + 0 >= 0.5'
            fi
        } >> "$out/ovs-details.txt"
    done
}

# run_phase PHASE N: every way, REPS times, interleaved.
run_phase () {
    for way in plain native push; do       # Warm-up: JIT, upcalls.
        switch_to "$way"
        sleep "$warm"
    done
    # The order of the ways turns with each repetition (plain native
    # push, then native push plain, then push plain native), so that no
    # way always follows the same one.
    rep=0
    while test "$rep" -lt "$reps"; do
        case $((rep % 3)) in
            0) order="plain native push" ;;
            1) order="native push plain" ;;
            2) order="push plain native" ;;
        esac
        for way in $order; do
            measure "$1" "$2" "$way" "$rep"
        done
        rep=$((rep + 1))
    done
    profile "$1" "$2"
}

: > "$out/ovs.dat"
: > "$out/ovs-details.txt"
for phase in $phases; do
    case $phase in
        null)
            log "phase null: net_null, 64-byte frames, one flow per way"
            set_in "net_null0,size=64"
            flows 1 0
            ofctl del-flows br0
            ofctl add-flows br0 "$R/flows"
            run_phase null 1
            ;;
        tunnels)
            for n in $tunnels; do
                log "phase tunnels: $n tunnels, $frames frames"
                "$protostack" craft eth,ip4,udp eth.src=50:54:00:00:00:05 \
                    eth.dst=50:54:00:00:00:07 ip4.src=10.255.0.1 \
                    ip4.dst=10.0.0.1 udp.src=1234 udp.dst=80 --size 64 \
                    --count "$frames" --vary "ip4.dst=+1:$n" \
                    -w "$R/in.pcap"
                set_in "net_pcap0,rx_pcap=$R/in.pcap,infinite_rx=1"
                flows "$n" 1
                ofctl del-flows br0
                ofctl add-flows br0 "$R/flows"
                run_phase tunnels "$n"
            done
            ;;
        *)
            echo "$0: unknown phase $phase" >&2
            exit 1
            ;;
    esac
done
appctl protostack/show | tail -n 3 > "$out/ovs-protostack-show.txt"
echo "$reps $secs $warm $frames" > "$out/ovs-params.txt"
