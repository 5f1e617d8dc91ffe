#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# run-vtep.sh [BUILDDIR]: runs bench/dpdk-vtep of an existing build (it
# builds nothing) on two net_null ports, one lcore, 64-byte frames, and
# prints its Markdown report (bench/dpdk-vtep.c explains the modes).
#
# Hugepages are used when they can be set up (root: 2 MB pages reserved
# if too few are free, and a private hugetlbfs mounted for the run);
# otherwise the EAL runs with --no-huge.  The report says which.
#
# The environment may set VTEP_PACKETS (per run, default 10000000),
# VTEP_REPS (default 7), VTEP_MODES (default: all), VTEP_FRAME (the
# net_null frame size, default 64), VTEP_COPY (1: net_null writes each
# received frame and reads each sent one, copy=1, so that the frame's
# bytes pass through the cache as from a NIC; default 0), VTEP_LCORE
# (default 1 if the machine has two CPUs, else 0) and VTEP_RAW (a file
# that receives the raw lines too).

set -e

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-${PS_BUILDDIR:-$srcdir/build}}
builddir=$(cd "$builddir" && pwd)
prog=$builddir/bench/dpdk-vtep
if test ! -x "$prog"; then
    echo "$0: $prog not found: configure with DPDK (libdpdk-dev) and" \
         "build it first" >&2
    exit 1
fi
unset PROTOSTACK_TIER

packets=${VTEP_PACKETS:-10000000}
reps=${VTEP_REPS:-7}
frame=${VTEP_FRAME:-64}
null=size=$frame
if test "${VTEP_COPY:-0}" = 1; then
    null=$null,copy=1
fi
lcore=${VTEP_LCORE:-$(test "$(nproc)" -ge 2 && echo 1 || echo 0)}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-vtep.XXXXXX")
PROTOSTACK_JIT_DIR=$tmp/jit
export PROTOSTACK_JIT_DIR

# Hugepages: 256 free 2 MB pages for the run (bench/hugepages.sh).
. "$srcdir/bench/hugepages.sh"
bench_huge_setup "$tmp/huge" 256
huge=$bench_huge
cleanup () {
    bench_huge_cleanup
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if test $huge = yes; then
    mem="--huge-dir $tmp/huge --in-memory -m 256"
else
    mem="--no-huge -m 512"
fi

if test -x "$builddir/libtool"; then
    run="$builddir/libtool --mode=execute"
else
    run=
fi

cpu_model=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1)
commit=$(git -C "$srcdir" rev-parse --short HEAD 2> /dev/null || echo unknown)
echo "# dpdk-vtep: the paper's Listing 8 in C"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); source $commit;" \
     "$(nproc) CPUs, ${cpu_model:-unknown CPU}; $(uname -sr);" \
     "DPDK $(pkg-config --modversion libdpdk 2> /dev/null || echo '?');" \
     "hugepages: $huge; lcore $lcore; net_null frames of $frame bytes" \
     "($null)."
echo
set -- --packets "$packets" --reps "$reps"
if test -n "$VTEP_MODES"; then
    set -- "$@" --modes "$VTEP_MODES"
fi
echo "Command: dpdk-vtep -l $lcore --no-pci $mem --log-level=error" \
     "--vdev net_null0,$null --vdev net_null1,$null -- $*"
echo
$run "$prog" -l "$lcore" --no-pci $mem --log-level=error \
    --file-prefix "vtep$$" \
    --vdev "net_null0,$null" --vdev "net_null1,$null" \
    -- "$@" > "$tmp/out"
grep -v '^raw ' "$tmp/out"
echo
echo "Raw (mode, repetition, TSC cycles, packets, bursts left out):"
echo
echo '```'
sed -n 's/^raw //p' "$tmp/out"
echo '```'
if test -n "$VTEP_RAW"; then
    sed -n 's/^raw //p' "$tmp/out" > "$VTEP_RAW"
fi
