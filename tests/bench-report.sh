#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# Tests of bench/report.py, which turns the raw files of "make
# bench-ovs" into report.md and its plots: on raw files made up here,
# whose figures give known ratios, the goals must be judged met or missed
# as the figures say, and the four plots must be PNG files.  The
# benchmarks themselves (root, DPDK, minutes) are not run.
#
# Run by `make check` (PS_TEST_SRCDIR, PYTHON3_SYSTEM from
# tests/automake.mk).  Needs matplotlib (python3-matplotlib).  Prints
# "ok  NAME" or "FAIL NAME: reason" per check, then "N passed, M failed".

: "${PS_TEST_SRCDIR:=$(dirname "$0")}"
python=${PYTHON3_SYSTEM:-/usr/bin/python3}
report=$PS_TEST_SRCDIR/../bench/report.py
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-report.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
check () {
    name=$1
    shift
    if "$@" > /dev/null 2>&1; then
        echo "ok  $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
}

# Setup 1: cycles per packet floor 20, hand-written 30, static 30, JIT
# 31, interpreter 45 (above the floor: 10, 10, 11, 25).
for rep in 0 1 2 3 4; do
    for mode in floor:20 best:30 static:30 jit:31 interp:45; do
        echo "${mode%:*} $rep $((${mode#*:} * 1000)) 1000 0"
    done
done > "$tmp/vtep-64.raw"
echo "TSC 2.000 GHz; hugepages: no" > "$tmp/vtep-64.md"
cp "$tmp/vtep-64.raw" "$tmp/vtep-copy-64.raw"
sed 's/ \([0-9]*\) 1000 0$/ \1 500 0/' "$tmp/vtep-64.raw" \
    > "$tmp/vtep-copy-1518.raw"
printf 'date: 2026-01-01 00:00 UTC\ncpu: Test CPU\ncpus: 2\n' \
    > "$tmp/machine.txt"

# Setups 2 and 4, at 2 GHz: 1,000,000 packets in 50, 80 and 60 ms of
# CPU (plain, native, push: 100, 160 and 120 cycles per packet) with one
# tunnel; 50, 100 and 125 ms with ten.
for rep in 0 1 2; do
    for phase in "null 1" "tunnels 1"; do
        for way in plain:50 native:80 push:60; do
            echo "$phase ${way%:*} $rep 1 1 1 0 100 0 0 1000000" \
                 "${way#*:}000000"
        done
    done
    for way in plain:50 native:100 push:125; do
        echo "tunnels 10 ${way%:*} $rep 1 1 1 0 100 0 0 1000000" \
             "${way#*:}000000"
    done
done > "$tmp/ovs.dat"

check "report.py runs" "$python" "$report" "$tmp"
# The report's text with its filled lines joined again.
tr '\n' ' ' < "$tmp/report.md" | tr -s ' ' > "$tmp/report.txt"
has () {
    grep -F -e "$1" "$tmp/report.txt"
}
goal="of hand-written above the floor:"
check "static within 5%: met" \
    has "static within 5% $goal **met** on the medians (1.00x)"
check "JIT within 5%: missed at 1.10x" \
    has "JIT within 5% $goal **missed** on the medians (1.10x)"
check "interpreter within 2x: missed at 2.50x" \
    has "interpreter within 2x $goal **missed** on the medians (2.50x)"
check "cost above plain: met, 20 against 60" \
    has "most half of native VXLAN's: **met** on the medians (20 against 60"
check "throughput: met, 1.33x" \
    has "**met** on the medians (1.33x: 16.67 against 12.50 Mpps)"
check "tunnels: missed, 52% against 20%" \
    has "**missed** on the medians (push_stack 52%, native 20%)"
check "tunnels by repetition: missed, 1.33x then 0.80x" \
    has "**missed** by repetition (push_stack against native 1.33x at 1, 0.80x at 10)"
check "throughput by repetition: met, 1.33x" \
    has "**met** by repetition (1.33x)"
check "cost above plain by repetition: met, 20 against 60" \
    has "**met** by repetition (20 against 60)"
check "Fig. 3 table: 1518 bytes" \
    has "| 1518 | 40.0 | 60.0 (20.0) |"
for png in setup1-vtep setup2-ovs setup3-sizes setup4-tunnels; do
    check "$png.png is a PNG" \
        sh -c "head -c 8 '$tmp/$png.png' | od -An -c | grep -q 'P   N   G'"
done

echo "$passed passed, $failed failed"
test "$failed" = 0
