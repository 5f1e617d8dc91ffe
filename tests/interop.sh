#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# Interop tests against tshark and Scapy (tests/interop.py), run by
# `make check`, which sets PS_BUILDDIR, PS_TEST_SRCDIR,
# TSHARK and PYTHON3_SYSTEM (tests/automake.mk).  It can also be run by
# hand from a build directory; arguments go to interop.py (-v, case
# names...).
#
# tshark and Scapy are required, not optional: CI installs them (Debian's
# tshark and python3-scapy), so a missing one is a failure, not a skip.

: "${PS_TEST_SRCDIR:=$(dirname "$0")}"
: "${PS_BUILDDIR:=.}"
export PS_TEST_SRCDIR PS_BUILDDIR
unset PROTOSTACK_DATADIR

fail() {
    echo "FAIL interop: $*"
    echo "0 passed, 1 failed"
    exit 1
}

# Scapy is installed for Debian's own Python: a python3 found first on
# PATH (pyenv, a virtualenv) may lack it, so use the configured one.
python=${PYTHON3_SYSTEM:-/usr/bin/python3}
[ -x "$python" ] || fail "no Python at $python (set PYTHON3_SYSTEM)"
"$python" -c 'import scapy' 2>/dev/null \
    || fail "$python cannot import scapy (apt-get install python3-scapy)"

if [ -z "$TSHARK" ]; then
    TSHARK=$(command -v tshark) \
        || fail "tshark not found (apt-get install tshark)"
fi
[ -x "$TSHARK" ] || fail "tshark at $TSHARK is not executable"
export TSHARK

[ -x "$PS_BUILDDIR/utilities/protostack" ] \
    || fail "no tool at $PS_BUILDDIR/utilities/protostack (set PS_BUILDDIR)"

exec "$python" "$PS_TEST_SRCDIR/interop.py" "$@"
