# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# Sourced by the DPDK benchmarks (run-vtep.sh, run-ovs.sh): 2 MB
# hugepages for one run, shared with whatever else uses them.
#
# bench_huge_setup DIR PAGES: makes sure that at least PAGES 2 MB pages
# are free (raising nr_hugepages if it must, never lowering it: other
# programs may be using them) and mounts a private hugetlbfs on DIR.
# Sets bench_huge to "yes" when that worked, else "no" (not root, or the
# kernel could not find the memory): the caller then runs DPDK with
# --no-huge.  bench_huge_cleanup unmounts DIR; the pages stay reserved.

bench_huge=no
bench_huge_dir=

bench_huge_setup () {
    bench_huge_dir=$1
    _nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
    bench_huge=no
    if test "$(id -u)" != 0 || test ! -w "$_nr"; then
        return 0
    fi
    _free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
    if test "${_free:-0}" -lt "$2"; then
        echo $(($(cat "$_nr") + $2 - ${_free:-0})) > "$_nr" 2> /dev/null \
            || true
        _free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
    fi
    mkdir -p "$bench_huge_dir"
    if test "${_free:-0}" -ge "$2" \
       && mount -t hugetlbfs -o pagesize=2M nodev "$bench_huge_dir" \
            2> /dev/null; then
        bench_huge=yes
    fi
}

bench_huge_cleanup () {
    if test "$bench_huge" = yes; then
        umount "$bench_huge_dir" 2> /dev/null || true
        bench_huge=no
    fi
}
