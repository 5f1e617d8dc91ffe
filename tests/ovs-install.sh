#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# "make install" into a scratch DESTDIR, then: every installed OvS
# program's run path is the installed library's directory (none into the
# build tree), the dynamic linker finds the installed libprotostack for
# them, and the installed ovs-ofctl parses and prints a push_stack action
# with that library.
#
# Run by "make check" after OvS's testsuite (ofproto-ext/automake.mk,
# target ovs-installcheck), which sets PS_BUILDDIR (the build directory),
# PS_LIBDIR, PS_BINDIR and PS_SBINDIR (where make install puts things).

set -e
: "${PS_BUILDDIR:?}" "${PS_LIBDIR:?}" "${PS_BINDIR:?}" "${PS_SBINDIR:?}"

dest=`mktemp -d /tmp/ps-install.XXXXXX`
trap 'rm -rf "$dest"' EXIT
fail () {
    echo "ovs-install.sh: $*" >&2
    exit 1
}

if ! make -C "$PS_BUILDDIR" install DESTDIR="$dest" > "$dest/make.log" 2>&1
then
    tail -20 "$dest/make.log" >&2
    fail "make install DESTDIR=$dest failed"
fi

lib=$dest$PS_LIBDIR
test -f "$lib/libprotostack.so" || fail "no $lib/libprotostack.so"

n=0
for prog in ovs-vswitchd ovsdb-server ovsdb-tool ovs-vsctl ovs-ofctl \
            ovs-appctl ovs-dpctl; do
    f=$dest$PS_BINDIR/$prog
    test -f "$f" || f=$dest$PS_SBINDIR/$prog
    test -f "$f" || fail "$prog: not installed"
    runpath=`readelf -d "$f" | sed -n 's/.*R[UN]*PATH.*\[\(.*\)\]/\1/p'`
    test "$runpath" = "$PS_LIBDIR" \
        || fail "$prog: run path \"$runpath\", expected \"$PS_LIBDIR\""
    found=`LD_LIBRARY_PATH=$lib ldd "$f" \
           | sed -n 's/.*libprotostack[^ ]* => \([^ ]*\).*/\1/p'`
    test -n "$found" \
        && test "`readlink -f "$found"`" \
                = "`readlink -f "$lib/libprotostack.so"`" \
        || fail "$prog: libprotostack found at \"$found\", not in $lib"
    n=`expr $n + 1`
done

# The installed ovs-ofctl, with only the installed library to load: the
# dynamic linker's cache and the run path cannot reach the build tree.
actions='push_stack(eth,ip4,udp,vxlan,vxlan.vni=0x4d2),fix_length,output:2'
canonical='push_stack(eth,ip4,udp,vxlan,vxlan.vni=1234),fix_length,output:2'
out=`LD_LIBRARY_PATH=$lib "$dest$PS_BINDIR/ovs-ofctl" parse-flow \
        "actions=$actions" 2>&1` || fail "installed ovs-ofctl: $out"
case $out in
    *"actions=$canonical"*) ;;
    *) fail "installed ovs-ofctl printed: $out" ;;
esac
echo "ovs-install.sh: $n installed programs run against $lib"
