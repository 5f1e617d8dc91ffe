#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# run-fig4.sh [BUILDDIR]: runs bench/bench-fig4 of an existing build (it
# builds nothing) and prints a Markdown table of the libmoon paper's Fig. 4
# operations: exact instructions per operation, and timings.
#
# Instructions: each (op, way) pair runs under callgrind for N and for 2N
# iterations; the difference of the two totals, divided by N, is the cost
# of one iteration with every start-up cost (loading the protocols,
# compiling the stack, the start-up check) removed.  Timings: one run of
# "bench-fig4 --timed".
#
# BUILDDIR defaults to $PS_BUILDDIR, else to the "build" directory in the
# source tree.  The environment may set VALGRIND (default: valgrind), BENCH_N
# (callgrind iterations, default 102400, a multiple of the 256 packet
# buffers) and BENCH_TIMED_N (timed iterations, default 1000000).

set -e

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-${PS_BUILDDIR:-$srcdir/build}}
prog=$builddir/bench/bench-fig4
if test ! -x "$prog"; then
    echo "$0: $prog not found: build it first (make bench)" >&2
    exit 1
fi

VALGRIND=${VALGRIND:-valgrind}
n=${BENCH_N:-102400}
timed_n=${BENCH_TIMED_N:-1000000}

# A libtool build makes $prog a wrapper script; valgrind must run the real
# program, which "libtool --mode=execute" finds.
if test -x "$builddir/libtool"; then
    run="$builddir/libtool --mode=execute"
else
    run=
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-fig4.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# The total of instructions (Ir) that callgrind counted for one run.
count () {
    out=$tmp/callgrind.$1.$2.$3
    $run "$VALGRIND" --tool=callgrind --callgrind-out-file="$out" \
        "$prog" --one "$1" "$2" "$3" 2> "$tmp/log" || {
        cat "$tmp/log" >&2
        echo "$0: callgrind run of \"$1 $2 $3\" failed" >&2
        exit 1
    }
    sed -n 's/^totals: *\([0-9][0-9]*\).*/\1/p' "$out"
}

"$prog" --list > "$tmp/pairs"

have_valgrind=yes
if ! command -v "$VALGRIND" > /dev/null 2>&1; then
    echo "$0: $VALGRIND not found: no instruction counts" >&2
    have_valgrind=no
fi

: > "$tmp/instructions"
while read -r op way; do
    if test $have_valgrind = yes; then
        ir1=$(count "$op" "$way" "$n")
        ir2=$(count "$op" "$way" $((2 * n)))
        echo "$op $way $ir1 $ir2" >> "$tmp/instructions"
    else
        echo "$op $way - -" >> "$tmp/instructions"
    fi
done < "$tmp/pairs"

"$prog" --timed "$timed_n" | grep -v '^#' > "$tmp/timed"

awk -v n="$n" '
    function way_name(w) {
        return (w == "hand" ? "(a) hand-written" \
                : w == "bytes" ? "(a2) hand-written, byte stores" \
                : w == "static" ? "(b) static accessors" \
                : w == "runtime" ? "(c) run-time API" \
                : w == "labels" ? "(c'"'"') labels text" : w)
    }
    function op_name(o) {
        return (o == "loop" ? "loop overhead" \
                : o == "ip4-src" ? "set ip4 src" \
                : o == "vni" ? "set vni" \
                : o == "fill" ? "fill headers" : o)
    }
    FILENAME == ARGV[1] {
        key = $1 " " $2
        order[++n_pairs] = key
        op[key] = $1
        way[key] = $2
        ins[key] = $3 == "-" ? "-" : ($4 - $3) / n
        next
    }
    {
        ns[$1 " " $2] = $3
        cycles[$1 " " $2] = $4
    }
    END {
        print "| op | way | instructions/op | vs (a) | ns/op | cycles/op |"
        print "|---|---|--:|--:|--:|--:|"
        for (i = 1; i <= n_pairs; i++) {
            key = order[i]
            ref = op[key] " hand"
            if (ins[key] == "-") {
                insn = "-"
                ratio = "-"
            } else {
                insn = sprintf("%.2f", ins[key])
                ratio = (op[key] == "loop" || ins[ref] == "" || !ins[ref]) \
                        ? "-" : sprintf("%.2fx", ins[key] / ins[ref])
            }
            printf "| %s | %s | %s | %s | %s | %s |\n", op_name(op[key]), \
                   way_name(way[key]), insn, ratio, ns[key], cycles[key]
        }
    }
' "$tmp/instructions" "$tmp/timed"
