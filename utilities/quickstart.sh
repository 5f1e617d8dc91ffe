#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# utilities/quickstart.sh demo|demo-lib|check
#
# Sets up a fresh Debian 12 machine for protostack and runs one job:
#   demo   install what is missing, build (the library and the patched
#          OvS), and run the main job: the libmoon paper's VXLAN packet
#          built, printed and decoded by tshark; then, as root, the same
#          VXLAN through OvS: a sandboxed switch with a push_stack flow and
#          a native type=vxlan port side by side, tshark decoding both
#          outputs (utilities/ovs-sandbox.sh demo), and a first throughput
#          figure of each on DPDK net_null ports (utilities/ovs-vxlan-rate.sh);
#   demo-lib  the library part of demo alone;
#   check  install what is missing, build, and run the whole test suite,
#          then the unit and stress tests again with ASan and UBSan
#          (build-sanitizers) and the stress programs with TSan (build-tsan).
# The build goes to ./build (out of tree); ccache is used when present.

set -e

job=${1:-}
case $job in
    demo|demo-lib|check) ;;
    *) echo "usage: $0 demo|demo-lib|check" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Debian packages the build and the tests need.
packages="build-essential autoconf automake libtool pkg-config
          libcmocka-dev libpcap-dev tshark python3-scapy valgrind ccache
          clang libclang-rt-14-dev
          openvswitch-source libdpdk-dev dpdk dpdk-dev libcap-ng-dev
          libunbound-dev libssl-dev libnuma-dev tcpdump patchelf
          libnl-route-3-dev iproute2 python3-matplotlib"

missing=
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "quickstart: installing:$missing"
    SUDO=
    if [ "$(id -u)" != 0 ]; then
        SUDO=sudo
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends $missing > /dev/null
fi

if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    ./boot.sh > /dev/null 2>&1 || ./boot.sh
fi
mkdir -p build
cd build
jobs=$(nproc 2> /dev/null || echo 2)
CC=${CC:-$(command -v ccache > /dev/null && echo "ccache gcc" || echo gcc)}
if [ ! -f Makefile ]; then
    echo "quickstart: configuring build/"
    ../configure -q CC="$CC"
fi
if [ -x ovs/vswitchd/ovs-vswitchd ]; then
    echo "quickstart: building (up to date: seconds)"
else
    echo "quickstart: building the library and the patched OvS in build/" \
         "(2 cores: about 25 min with a cold ccache, 5 min warm)"
fi
# A line a minute while make works: the OvS build is long and quiet.
(
    m=0
    while sleep 60 > /dev/null 2>&1; do
        m=$((m + 1))
        n=$(find ovs -name '*.o' 2> /dev/null | wc -l)
        echo "quickstart: still building ($m min, $n OvS objects so far)"
    done
) &
ticker=$!
status=0
make -s -j"$jobs" || status=$?
kill $ticker 2> /dev/null || true
[ $status = 0 ] || exit $status

# Configures the build in the current directory, the first time, with
# clang (through ccache when present) and CFLAGS "$1".
configure_clang() {
    if [ ! -f Makefile ]; then
        CLANG=$(command -v ccache > /dev/null && echo "ccache clang" \
                || echo clang)
        flags=$1
        shift
        ../configure -q CC="$CLANG" CFLAGS="$flags" "$@"
    fi
}

case $job in
demo|demo-lib)
    echo "quickstart: the library builds the VXLAN packet of the paper's" \
         "Listing 8"
    ./utilities/protostack-demo -w vxlan-demo.pcap
    echo
    echo "tshark's reading of build/vxlan-demo.pcap:"
    tshark -r vxlan-demo.pcap -o ip.check_checksum:TRUE \
        -o udp.check_checksum:TRUE -V 2> /dev/null \
        | grep -E '^[A-Z]|Checksum|Network Identifier|Length|Port'
    if [ $job = demo-lib ]; then
        exit 0
    fi
    if [ ! -x ovs/vswitchd/ovs-vswitchd ]; then
        echo "quickstart: no OvS in build/ovs (see configure's warnings):" \
             "the OvS part of the demo is skipped"
        exit 0
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "quickstart: the OvS part of the demo needs root" \
             "(a network namespace): run $0 demo as root"
        exit 0
    fi
    echo
    echo "quickstart: the same VXLAN through Open vSwitch: push_stack and" \
         "a native type=vxlan port side by side"
    BUILD=$top/build "$top/utilities/ovs-sandbox.sh" demo
    echo
    echo "quickstart: a first throughput figure of each (DPDK net_null" \
         "ports, one PMD thread, 3 s each)"
    BUILD=$top/build "$top/utilities/ovs-vxlan-rate.sh" 3
    ;;
check)
    status=0
    # The logs of OvS's testsuite are counted below: none from an
    # earlier run.
    rm -f tests/ovs-testsuite.log tests/ovs-upstream-testsuite.log
    make -s -j"$jobs" check || status=$?
    if [ $status != 0 ] && [ -f test-suite.log ]; then
        cat test-suite.log
    fi

    # OvS's own tests that cover what the patch touches (ofp-actions,
    # odp, tunnel_push_pop, nsh, dpif-netdev), against the patched build:
    # 56 tests, about 3.5 minutes.
    if [ -x ovs/vswitchd/ovs-vswitchd ]; then
        make -s ovs-check-upstream || status=$?
    fi

    # The unit and stress tests again, built by clang (its warnings are
    # errors too) with AddressSanitizer and UndefinedBehaviorSanitizer:
    # every finding fails the run.  The library alone: OvS is built once
    # per run, in build/ (whose "make check" ran its testsuite with ours
    # above).
    mkdir -p "$top/build-sanitizers"
    cd "$top/build-sanitizers"
    configure_clang "-O1 -g -fsanitize=address,undefined \
                     -fno-sanitize-recover=all -fno-omit-frame-pointer" \
                    --without-ovs
    make -s -j"$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        make -s -j"$jobs" check \
        TESTS='$(unit_tests) $(stress_tests) tests/fuzz/regress.sh' \
        || status=$?
    if [ $status != 0 ] && [ -f test-suite.log ]; then
        cat test-suite.log
    fi

    # The stress programs, built by clang with ThreadSanitizer: only the
    # library and those programs, a few seconds each.
    mkdir -p "$top/build-tsan"
    cd "$top/build-tsan"
    configure_clang "-O1 -g -fsanitize=thread -fno-omit-frame-pointer" \
                    --without-ovs
    make -s -j"$jobs" stacks/jit-prelude.inc stacks/builtin-protocols.inc
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        make -s -j"$jobs" check-TESTS TESTS='$(stress_tests)' \
        check_PROGRAMS='$(stress_tests)' || status=$?
    if [ $status != 0 ] && [ -f test-suite.log ]; then
        cat test-suite.log
    fi

    # The fuzz targets, built with libFuzzer (clang), each fuzzed for
    # $FUZZ_SECONDS (60) seconds, one at a time: a finding fails the run.
    # New inputs and findings stay in build-fuzz/fuzz-out/
    # (docs/fuzzing.md).
    mkdir -p "$top/build-fuzz"
    cd "$top/build-fuzz"
    configure_clang "-O1 -g" --enable-fuzzing --without-ovs
    make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" || status=$?
    cd "$top/build"

    # The fuzz target of the OvS actions, built in build/'s OvS tree with
    # build-fuzz/'s library (docs/fuzzing.md), fuzzed as long: about 20 s
    # of build.
    if [ -x ovs/vswitchd/ovs-vswitchd ]; then
        make -s ovs-fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" || status=$?
    fi

    # One closing line that counts the test cases of every program:
    # cmocka's "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)",
    # the interop suite's own "N passed, M failed", and the summaries of
    # OvS's testsuite, which ran our suites (tests/ovs-testsuite.log) and
    # OvS's own (tests/ovs-upstream-testsuite.log): "All N tests were
    # successful." or "ERROR: N tests were run," then "M failed
    # unexpectedly.".
    cat tests/*.log tests/fuzz/*.log ../build-sanitizers/tests/*.log \
        ../build-sanitizers/tests/fuzz/*.log \
        2> /dev/null | awk '
        /^\[  PASSED  \] [0-9]+ test/ { p += $4 }
        /^\[  FAILED  \] [0-9]+ test/ { f += $4 }
        /^[0-9]+ passed, [0-9]+ failed$/ { p += $1; f += $3 }
        /^All [0-9]+ tests? (was|were) successful/ { p += $2 }
        /^ERROR: (All )?[0-9]+ tests? (was|were) run,/ {
            run = ($2 == "All") ? $3 : $2 }
        /^[0-9]+ failed( unexpectedly)?\.$/ { f += $1; p += run - $1 }
        END { printf "%d passed, %d failed\n", p, f }'
    exit $status
    ;;
esac
