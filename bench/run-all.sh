#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# run-all.sh BUILDDIR [RESULTS]: the libmoon paper's evaluation on DPDK
# and in Open vSwitch (docs/benchmarks.md), every setup in one run, from
# an existing build with DPDK and OvS (it builds nothing).  Needs root.
#
#   setup 1  bench/dpdk-vtep, 64-byte frames (bench/run-vtep.sh);
#   setup 3  the same with net_null copying frames of 64 to 1518 bytes;
#   setup 2  OvS-DPDK, plain forwarding, native VXLAN and push_stack;
#   setup 4  the same against the number of tunnels (bench/run-ovs.sh).
#
# Writes RESULTS (default BUILDDIR/bench-results/DATE): report.md (the
# machine, versions, commands, every raw figure, the goals), the PNG
# plots that bench/report.py draws with matplotlib, and the raw files.
# Takes about 20 minutes.  BENCH_SMOKE=1 runs every setup briefly (about
# a minute), to check the scripts, not to measure; BENCH_SETUPS (default
# "1 2 3 4") runs only some (2 and 4 run together).

set -e

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${1:?usage: run-all.sh BUILDDIR [RESULTS]}" && pwd)
results=${2:-$builddir/bench-results/$(date -u +%Y%m%d-%H%M)}
mkdir -p "$results"
results=$(cd "$results" && pwd)
PYTHON3=${PYTHON3:-/usr/bin/python3}

if test "${BENCH_SMOKE:-0}" = 1; then
    vtep_packets=200000 vtep_reps=3
    sizes="64 1518"
    export OVS_BENCH_REPS=1 OVS_BENCH_SECS=1 OVS_BENCH_WARM=1
    export OVS_BENCH_TUNNELS="1 100" OVS_BENCH_FRAMES=1000
else
    vtep_packets=${VTEP_PACKETS:-10000000} vtep_reps=${VTEP_REPS:-7}
    sizes="64 128 256 512 1024 1518"
fi

if ! "$PYTHON3" -c 'import matplotlib' 2> /dev/null; then
    echo "$0: needs matplotlib (Debian: python3-matplotlib)" >&2
    exit 1
fi

log () {
    echo "run-all: $(date -u +%H:%M:%S) $*" >&2
}

# The machine and the versions.
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "source: $(git -C "$srcdir" rev-parse --short HEAD 2> /dev/null \
                    || echo unknown)$(git -C "$srcdir" diff --quiet HEAD \
                    2> /dev/null || echo ' (with local changes)')"
    echo "cpu: $(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1)"
    echo "cpus: $(nproc)"
    echo "kernel: $(uname -sr)"
    echo "compiler: $(${CC:-gcc} --version | head -n 1)"
    echo "dpdk: $(pkg-config --modversion libdpdk 2> /dev/null || echo '?')"
    echo "ovs: $("$builddir/ovs/vswitchd/ovs-vswitchd" --version \
                  | head -n 1)"
    echo "load-start: $(cut -d ' ' -f 1-3 /proc/loadavg)"
} > "$results/machine.txt"

setups=${BENCH_SETUPS:-1 2 3 4}
wants () {
    case " $setups " in
        *" $1 "*) return 0 ;;
        *) return 1 ;;
    esac
}
: > "$results/commands.txt"

vtep="VTEP_PACKETS=$vtep_packets VTEP_REPS=$vtep_reps sh bench/run-vtep.sh"
if wants 1; then
    log "setup 1: dpdk-vtep, 64-byte frames"
    echo "setup1: $vtep BUILDDIR" >> "$results/commands.txt"
    VTEP_PACKETS=$vtep_packets VTEP_REPS=$vtep_reps \
        VTEP_RAW=$results/vtep-64.raw \
        sh "$srcdir/bench/run-vtep.sh" "$builddir" > "$results/vtep-64.md"
fi

if wants 3; then
    for size in $sizes; do
        log "setup 3: dpdk-vtep, net_null copying $size-byte frames"
        VTEP_PACKETS=$vtep_packets VTEP_REPS=$vtep_reps VTEP_FRAME=$size \
            VTEP_COPY=1 VTEP_MODES=best,static,jit,interp \
            VTEP_RAW=$results/vtep-copy-$size.raw \
            sh "$srcdir/bench/run-vtep.sh" "$builddir" \
            > "$results/vtep-copy-$size.md"
    done
    echo "setup3: VTEP_FRAME=SIZE VTEP_COPY=1" \
         "VTEP_MODES=best,static,jit,interp $vtep BUILDDIR" \
         "(SIZE in $sizes)" >> "$results/commands.txt"
fi

# Setups 2 and 4, with perf profiles of the PMD thread when perf works.
if wants 2 || wants 4; then
    if test -z "$OVS_BENCH_PERF" && perf stat -e task-clock true \
            > /dev/null 2>&1; then
        export OVS_BENCH_PERF=1
    fi
    log "setups 2 and 4: OvS-DPDK"
    echo "setup2+4: OVS_BENCH_REPS=${OVS_BENCH_REPS:-5}" \
         "OVS_BENCH_SECS=${OVS_BENCH_SECS:-3}" \
         "OVS_BENCH_WARM=${OVS_BENCH_WARM:-2}" \
         "OVS_BENCH_TUNNELS='${OVS_BENCH_TUNNELS:-1 10 100 1000 10000}'" \
         "OVS_BENCH_FRAMES=${OVS_BENCH_FRAMES:-10000}" \
         "sh bench/run-ovs.sh BUILDDIR RESULTS" >> "$results/commands.txt"
    sh "$srcdir/bench/run-ovs.sh" "$builddir" "$results"
fi

echo "load-end: $(cut -d ' ' -f 1-3 /proc/loadavg)" >> "$results/machine.txt"
log "report"
"$PYTHON3" "$srcdir/bench/report.py" "$results"
log "done: $results/report.md"
