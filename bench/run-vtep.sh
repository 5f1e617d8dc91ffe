#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# run-vtep.sh [BUILDDIR]: runs bench/dpdk-vtep of an existing build (it
# builds nothing) on two net_null ports, one lcore, 64-byte frames, and
# prints its Markdown report (bench/dpdk-vtep.c explains the modes).
#
# Hugepages are used when they can be set up (root: 2 MB pages reserved
# and a private hugetlbfs mounted for the run, both undone at the end);
# otherwise the EAL runs with --no-huge.  The report says which.
#
# The environment may set VTEP_PACKETS (per run, default 10000000),
# VTEP_REPS (default 7), VTEP_MODES (default: all), VTEP_FRAME (the
# net_null frame size, default 64) and VTEP_LCORE (default 1 if the
# machine has two CPUs, else 0).

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
PROTOSTACK_DATADIR=${PROTOSTACK_DATADIR:-$srcdir/protocols}
export PROTOSTACK_DATADIR
unset PROTOSTACK_TIER

packets=${VTEP_PACKETS:-10000000}
reps=${VTEP_REPS:-7}
frame=${VTEP_FRAME:-64}
lcore=${VTEP_LCORE:-$(test "$(nproc)" -ge 2 && echo 1 || echo 0)}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-vtep.XXXXXX")
PROTOSTACK_JIT_DIR=$tmp/jit
export PROTOSTACK_JIT_DIR

# Hugepages: reserve what the run needs on top of what is there.
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
old_nr=
huge=no
if test "$(id -u)" = 0 && test -w "$nr"; then
    old_nr=$(cat "$nr")
    echo $((old_nr + 256)) > "$nr" 2> /dev/null || true
    mkdir -p "$tmp/huge"
    if test "$(cat "$nr")" -ge $((old_nr + 256)) \
       && mount -t hugetlbfs -o pagesize=2M nodev "$tmp/huge" 2> /dev/null
    then
        huge=yes
    fi
fi
cleanup () {
    if test $huge = yes; then
        umount "$tmp/huge" 2> /dev/null || true
    fi
    if test -n "$old_nr"; then
        echo "$old_nr" > "$nr" 2> /dev/null || true
    fi
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
     "hugepages: $huge; lcore $lcore; net_null frames of $frame bytes."
echo
set -- --packets "$packets" --reps "$reps"
if test -n "$VTEP_MODES"; then
    set -- "$@" --modes "$VTEP_MODES"
fi
echo "Command: dpdk-vtep -l $lcore --no-pci $mem --log-level=error" \
     "--vdev net_null0,size=$frame --vdev net_null1,size=$frame -- $*"
echo
$run "$prog" -l "$lcore" --no-pci $mem --log-level=error \
    --file-prefix "vtep$$" \
    --vdev "net_null0,size=$frame" --vdev "net_null1,size=$frame" \
    -- "$@" > "$tmp/out"
grep -v '^raw ' "$tmp/out"
echo
echo "Raw (mode, repetition, TSC cycles, packets):"
echo
echo '```'
sed -n 's/^raw //p' "$tmp/out"
echo '```'
