#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# run-encap.sh [BUILDDIR]: runs bench/bench-encap of an existing build (it
# builds nothing) and prints Markdown tables (docs/jit.md explains them):
#
#   (a) instructions per packet of each way of pushing eth/ip4/udp/vxlan
#       headers in front of a 64-byte inner frame: the best hand-written
#       way (b, the baseline), hand-written as OvS's tnl_push (h), static
#       (s), JIT (j, j'), interpreter (i), and the ratio to (b), with the
#       goals static <= 1.00x, JIT function <= 1.05x, JIT through
#       ps_encap_apply() <= 1.15x and interpreter <= 2x;
#   (b) ns and TSC cycles per packet of the same;
#   (c) the JIT's compile latency (median, max), the latency of a disk
#       cache hit in a new process and of a memory cache hit, and the
#       instructions per packet of the code, for each compiler at hand:
#       cc (the default), gcc, clang, tcc;
#   (d) the libmoon paper's Fig. 3: cycles and instructions per packet as
#       the inner frame copied behind the headers grows from 64 to 1518
#       bytes, for (h), (j) and (i); bench-fig3.dat and, drawn by
#       bench/plot-fig3.py, bench-fig3.png go to BUILDDIR.
#
# Instructions: each way runs under callgrind for N and for 2N packets;
# the difference of the two totals, divided by N, is the cost of one
# packet with every start-up cost (loading the protocols, compiling the
# stack, the start-up check, the JIT) removed.  It is exact: two runs give
# the same number.  Way "loop" is the bare loop, which every way includes;
# the "net" columns subtract it.
#
# BUILDDIR defaults to $PS_BUILDDIR, else to the "build" directory next to
# this script's parent.  The environment may set PROTOSTACK_DATADIR
# (default: the source tree's protocols), VALGRIND (default: valgrind),
# PYTHON3 (default: /usr/bin/python3), BENCH_N (callgrind packets, default
# 100000), BENCH_TIMED_N (timed packets, default 10000000),
# BENCH_COMPILE_K (encapsulations compiled per compiler, default 20),
# BENCH_COMPILERS (default "cc gcc clang tcc"), BENCH_FIG3_N (callgrind
# packets per size, default 20000), BENCH_FIG3_TIMED_N (timed packets per
# size, default 2000000) and BENCH_PARTS (default "a b c d": which tables
# to make; (a) and (b) come together).

set -e

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-${PS_BUILDDIR:-$srcdir/build}}
builddir=$(cd "$builddir" && pwd)
prog=$builddir/bench/bench-encap
if test ! -x "$prog"; then
    echo "$0: $prog not found: build it first (make bench-encap)" >&2
    exit 1
fi

PROTOSTACK_DATADIR=${PROTOSTACK_DATADIR:-$srcdir/protocols}
export PROTOSTACK_DATADIR
unset PROTOSTACK_TIER
VALGRIND=${VALGRIND:-valgrind}
PYTHON3=${PYTHON3:-/usr/bin/python3}
n=${BENCH_N:-100000}
timed_n=${BENCH_TIMED_N:-10000000}
compile_k=${BENCH_COMPILE_K:-20}
compilers=${BENCH_COMPILERS:-cc gcc clang tcc}
fig3_n=${BENCH_FIG3_N:-20000}
fig3_timed_n=${BENCH_FIG3_TIMED_N:-2000000}
parts=${BENCH_PARTS:-a b c d}

# A libtool build makes $prog a wrapper script; valgrind must run the real
# program, which "libtool --mode=execute" finds.
if test -x "$builddir/libtool"; then
    run="$builddir/libtool --mode=execute"
else
    run=
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-encap.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# The JIT's cache for everything but (c): private, so that a run neither
# reads nor leaves modules in the user's cache.
PROTOSTACK_JIT_DIR=$tmp/jit-default
export PROTOSTACK_JIT_DIR

have_valgrind=yes
if ! command -v "$VALGRIND" > /dev/null 2>&1; then
    echo "$0: $VALGRIND not found: no instruction counts" >&2
    have_valgrind=no
fi

wants () {
    case " $parts " in
        *" $1 "*) return 0 ;;
        *) return 1 ;;
    esac
}

# The total of instructions (Ir) that callgrind counted for one run of
# "bench-encap ARGS...".
count_total () {
    out=$tmp/callgrind.out
    $run "$VALGRIND" --tool=callgrind --callgrind-out-file="$out" \
        "$prog" "$@" > /dev/null 2> "$tmp/log" || {
        cat "$tmp/log" >&2
        echo "$0: callgrind run of \"bench-encap $*\" failed" >&2
        return 1
    }
    sed -n 's/^totals: *\([0-9][0-9]*\).*/\1/p' "$out"
}

# Instructions per packet of way $1 over $2 packets (N and 2N runs), with
# further options after; "-" without valgrind.
count_per_packet () {
    if test $have_valgrind = no; then
        echo -
        return 0
    fi
    way=$1
    cn=$2
    shift 2
    ir1=$(count_total --one "$way" "$cn" "$@") || return 1
    ir2=$(count_total --one "$way" $((2 * cn)) "$@") || return 1
    awk -v a="$ir1" -v b="$ir2" -v n="$cn" \
        'BEGIN { printf "%.2f", (b - a) / n }'
}

cpu_model=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1)
commit=$(git -C "$srcdir" rev-parse --short HEAD 2> /dev/null || echo unknown)
if test -n "$(git -C "$srcdir" status --porcelain --untracked-files=no \
                  2> /dev/null)"; then
    commit="$commit (with uncommitted changes)"
fi
echo "# bench-encap"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); source $commit;" \
     "$(nproc) CPUs, ${cpu_model:-unknown CPU}; $(uname -sr);" \
     "$(cc --version 2> /dev/null | head -n 1); load average" \
     "$(cut -d' ' -f1-3 /proc/loadavg) at start."
echo

# The start-up check, which also fills the JIT cache for what follows.
"$prog" --check > /dev/null

if wants a || wants b; then
    : > "$tmp/instructions"
    for way in loop best hand static jitfn jit interp; do
        echo "$way $(count_per_packet "$way" "$n")" >> "$tmp/instructions"
    done
    "$prog" --timed "$timed_n" | grep -v '^#' > "$tmp/timed"

    echo "## (a, b) Tiers: eth/ip4/udp/vxlan push, 64-byte inner frame"
    echo
    echo "Instructions: callgrind, ($n x 2 - $n packets) / $n." \
         "Time: best of 20 runs of $((timed_n / 20)) packets; cycles are" \
         "TSC cycles."
    echo
    awk '
        function way_name(w) {
            return (w == "loop" ? "bare loop" \
                    : w == "best" ? "(b) best hand-written (baseline)" \
                    : w == "hand" ? "(h) hand-written, as OvS tnl_push" \
                    : w == "static" ? "(s) static, generated at build time" \
                    : w == "jitfn" ? "(j) JIT, compiled function" \
                    : w == "jit" ? "(j'"'"') JIT, ps_encap_apply()" \
                    : w == "interp" ? "(i) interpreter, ps_encap_apply()" \
                    : w)
        }
        FILENAME == ARGV[1] {
            order[++n_ways] = $1
            ins[$1] = $2
            next
        }
        {
            ns[$1] = $2
            cyc[$1] = $3
        }
        END {
            print "| way | instr/packet | vs (b) | net of loop " \
                  "| net vs (b) | ns/packet | cycles/packet |"
            print "|---|--:|--:|--:|--:|--:|--:|"
            loop = ins["loop"]
            for (i = 1; i <= n_ways; i++) {
                w = order[i]
                if (ins[w] == "-") {
                    insn = ratio = net = net_ratio = "-"
                } else {
                    insn = sprintf("%.2f", ins[w])
                    net = w == "loop" ? "-" : sprintf("%.2f", ins[w] - loop)
                    if (w == "loop" || !ins["best"]) {
                        ratio = net_ratio = "-"
                    } else {
                        ratio = sprintf("%.2fx", ins[w] / ins["best"])
                        net_ratio = sprintf("%.2fx", (ins[w] - loop) \
                                            / (ins["best"] - loop))
                    }
                }
                printf "| %s | %s | %s | %s | %s | %s | %s |\n", \
                       way_name(w), insn, ratio, net, net_ratio, ns[w], cyc[w]
            }
            print ""
            if (ins["best"] != "-" && ins["best"]) {
                b = ins["best"] - loop
                st = (ins["static"] - loop) / b
                j = (ins["jitfn"] - loop) / b
                ja = (ins["jit"] - loop) / b
                it = (ins["interp"] - loop) / b
                printf "Goals (instructions net of the loop, against (b)): " \
                       "static <= 1.00x: %s (%.2fx); " \
                       "JIT function <= 1.05x: %s (%.2fx); " \
                       "JIT through ps_encap_apply() <= 1.15x: %s (%.2fx); " \
                       "interpreter <= 2x: %s (%.2fx).\n", \
                       st <= 1.005 ? "met" : "MISSED", st, \
                       j <= 1.055 ? "met" : "MISSED", j, \
                       ja <= 1.155 ? "met" : "MISSED", ja, \
                       it <= 2.005 ? "met" : "MISSED", it
                print ""
            }
        }
    ' "$tmp/instructions" "$tmp/timed"
fi

if wants c; then
    # tcc 0.9.27 has no __builtin_bswap16/32/64, which the JIT's prelude
    # (include/protostack/bits.h) uses: with the JIT's -w it compiles them
    # as calls to undefined functions, and dlopen() fails.  "tcc+shim"
    # forces them, through $PROTOSTACK_CC alone, to macros in plain C.
    cat > "$tmp/bswap-shim.h" <<'EOF'
#define __builtin_bswap16(x) ((unsigned short) \
    ((unsigned short) (x) << 8 | (unsigned short) (x) >> 8))
#define __builtin_bswap32(x) \
    ((((unsigned int) (x) & 0xff) << 24) \
     | (((unsigned int) (x) & 0xff00) << 8) \
     | (((unsigned int) (x) >> 8) & 0xff00) | ((unsigned int) (x) >> 24))
#define __builtin_bswap64(x) \
    (((unsigned long long) __builtin_bswap32((unsigned int) (x)) << 32) \
     | __builtin_bswap32((unsigned long long) (x) >> 32))
EOF
    : > "$tmp/compilers"
    dashes=" | - | - | - | - | - | - | - | - | - |"
    : > "$tmp/compiler-notes"
    for cc in $compilers; do
        set -- "$cc"
        if test "$cc" = tcc; then
            set -- tcc "tcc -include $tmp/bswap-shim.h"
        fi
        for ccmd in "$@"; do
            label=$cc
            test "$ccmd" = "$cc" || label="$cc+shim"
            cc0=${ccmd%% *}
            if ! command -v "$cc0" > /dev/null 2>&1; then
                echo "| $label | not installed$dashes" >> "$tmp/compilers"
                continue
            fi
            version=$("$cc0" --version 2> /dev/null | head -n 1)
            test -n "$version" || version=$("$cc0" -v 2>&1 | head -n 1)
            dir=$tmp/jit-$label
            export PROTOSTACK_CC="$ccmd"
            if ! "$prog" --compile-latency "$compile_k" --cache-dir "$dir" \
                    > "$tmp/lat1" 2> "$tmp/err" \
                || ! "$prog" --compile-latency "$compile_k" \
                    --cache-dir "$dir" > "$tmp/lat2" 2>> "$tmp/err"; then
                msg=$(tr '\n' ' ' < "$tmp/err" | sed 's/|/\\|/g' \
                      | cut -c1-300)
                echo "| $label | $version | fails${dashes#" | -"}" \
                    >> "$tmp/compilers"
                echo "- $label (PROTOSTACK_CC=\"$ccmd\"): $msg" \
                    >> "$tmp/compiler-notes"
                unset PROTOSTACK_CC
                continue
            fi
            # The module of the benchmarked labels, compiled before
            # callgrind counts.
            PROTOSTACK_JIT_DIR=$dir "$prog" --check > /dev/null
            ins=$(PROTOSTACK_JIT_DIR=$dir count_per_packet jitfn "$n") \
                || ins=-
            unset PROTOSTACK_CC
            awk -v label="$label" -v version="$version" -v ins="$ins" '
                FILENAME == ARGV[1] && $1 == "latency" {
                    first[$2] = $4 " | " $5
                }
                FILENAME == ARGV[2] && $1 == "latency" {
                    second[$2] = $4 " | " $5
                }
                END {
                    printf "| %s | %s | %s | %s | %s | %s | %s |\n", \
                           label, version, first["compile"], \
                           first["compiler-run"], second["disk"], \
                           first["memory"], ins
                }
            ' "$tmp/lat1" "$tmp/lat2" >> "$tmp/compilers"
        done
    done

    echo "## (c) JIT compile latency and code speed per compiler"
    echo
    echo "$compile_k encapsulations that differ in their VNI, created with" \
         "PS_TIER_JIT into an empty cache (\"compile\": the whole" \
         "ps_encap_create(); \"compiler run\": writing the C, running the" \
         "compiler and renaming the .so, ps_jit_get_stats()), then again" \
         "in a new process on the same cache (\"disk hit\": dlopen() of" \
         "the cached .so) and again in the same process (\"memory hit\")." \
         "Latencies in ms. JIT instr/packet: way (j) of (a) with this" \
         "compiler's module."
    echo
    echo "| compiler | version | compile median | compile max" \
         "| compiler run median | compiler run max | disk hit median" \
         "| disk hit max | memory hit median | memory hit max" \
         "| JIT instr/packet |"
    echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    cat "$tmp/compilers"
    echo
    if test -s "$tmp/compiler-notes"; then
        echo "Failures:"
        echo
        cat "$tmp/compiler-notes"
        echo
    fi
fi

if wants d; then
    sizes=$(awk 'BEGIN {
        for (s = 64; s <= 1518; s += 64) {
            print s
        }
        print 1518
    }')
    data=$builddir/bench-fig3.dat
    echo "# size way cycles/packet ns/packet instr/packet" > "$data"
    for size in $sizes; do
        "$prog" --timed "$fig3_timed_n" --size "$size" | grep -v '^#' \
            > "$tmp/timed"
        for way in loop hand jit interp; do
            ins=$(count_per_packet "$way" "$fig3_n" --size "$size")
            awk -v size="$size" -v way="$way" -v ins="$ins" \
                '$1 == way { print size, way, $3, $2, ins }' "$tmp/timed" \
                >> "$data"
        done
    done

    echo "## (d) Fig. 3: cost as the copied inner frame grows"
    echo
    echo "Each packet: copy the inner frame into the buffer behind the" \
         "headroom, then push the headers (libmoon's Listing 8)." \
         "\"copy only\" is the bare loop with the copy. Cycles: TSC, best" \
         "of 20 runs of $((fig3_timed_n / 20)) packets; instructions:" \
         "callgrind, exact."
    echo
    awk '
        $1 == "#" { next }
        {
            if (!($1 in seen)) {
                seen[$1] = 1
                order[++n_sizes] = $1
            }
            cyc[$1, $2] = $3
            ins[$1, $2] = $5
        }
        END {
            print "| inner bytes | copy only cycles | (h) cycles " \
                  "| (j) cycles | (i) cycles | copy only instr " \
                  "| (h) instr | (j) instr | (i) instr |"
            print "|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
            for (i = 1; i <= n_sizes; i++) {
                s = order[i]
                printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s, \
                       cyc[s, "loop"], cyc[s, "hand"], cyc[s, "jit"], \
                       cyc[s, "interp"], ins[s, "loop"], ins[s, "hand"], \
                       ins[s, "jit"], ins[s, "interp"]
            }
        }
    ' "$data"
    echo
    if "$PYTHON3" "$srcdir/bench/plot-fig3.py" "$data" \
            "$builddir/bench-fig3.png" > "$tmp/plot" 2>&1; then
        echo "Plot: $builddir/bench-fig3.png ($(cat "$tmp/plot"))."
    else
        echo "Plot failed: $(cat "$tmp/plot")"
    fi
    echo
fi
