#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# The fuzz targets' regression run: each target (tests/fuzz/fuzz-NAME)
# runs once over every input of its committed corpus
# (tests/fuzz/corpus/NAME/), which holds the seeds and everything fuzzing
# ever found.  Run by `make check`, which sets PS_BUILDDIR, PS_TEST_SRCDIR
# and PROTOSTACK_DATADIR (tests/automake.mk); by hand, from a build
# directory:
#
#     PS_TEST_SRCDIR=../tests sh ../tests/fuzz/regress.sh [NAME...]
#
# A target that fails is run again on each input alone, and every input
# that fails is named.  The targets of Open vSwitch (ovs-*) are skipped in
# a build without it.  Prints "N passed, M failed" (targets) and exits 1
# if any input failed.

: "${PS_TEST_SRCDIR:=$(dirname "$0")/..}"
: "${PS_BUILDDIR:=.}"
: "${PROTOSTACK_DATADIR:=$PS_TEST_SRCDIR/../protocols}"
export PROTOSTACK_DATADIR
# The encapsulation target compiles with the JIT: a cache of its own.
PROTOSTACK_JIT_DIR=$PS_BUILDDIR/tests/fuzz/jit-cache
export PROTOSTACK_JIT_DIR
unset PROTOSTACK_TIER

names=${*:-$(ls "$PS_TEST_SRCDIR/fuzz/corpus")}
passed=0
failed=0
for name in $names; do
    prog=$PS_BUILDDIR/tests/fuzz/fuzz-$name
    corpus=$PS_TEST_SRCDIR/fuzz/corpus/$name
    out=$PS_BUILDDIR/tests/fuzz/fuzz-$name.out
    n=$(ls "$corpus" | wc -l)
    # The targets of Open vSwitch are built only with it.
    case $name in
        ovs-*)
            if [ ! -e "$prog" ] && [ ! -f "$PS_BUILDDIR/ovs/Makefile" ]; then
                echo "skip fuzz-$name: no Open vSwitch in this build"
                continue
            fi
            ;;
    esac
    # libFuzzer runs the corpus and stops (-runs=0); the driver ignores
    # options.
    if "$prog" -runs=0 "$corpus" > "$out" 2>&1; then
        echo "ok   fuzz-$name: $n inputs"
        passed=$((passed + 1))
        continue
    fi
    failed=$((failed + 1))
    echo "FAIL fuzz-$name: the corpus run failed:"
    tail -n 30 "$out"
    for input in "$corpus"/*; do
        if ! "$prog" "$input" > /dev/null 2>&1; then
            echo "FAIL fuzz-$name: $input"
        fi
    done
done
echo "$passed passed, $failed failed"
[ $failed = 0 ]
