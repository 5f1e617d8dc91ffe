# Benchmarks: the libmoon paper's Fig. 4 in C (docs/benchmarks.md).

# The static header of the outer VXLAN headers only (50 bytes), generated
# at build time like those in utilities/automake.mk, for the bench alone:
# it is neither installed nor distributed.
bench_static_header = bench/ps_eth_ip4_udp_vxlan.h
BUILT_SOURCES += $(bench_static_header)
CLEANFILES += $(bench_static_header)

$(bench_static_header): utilities/ps-gen$(EXEEXT) $(dist_protocols_DATA)
	$(AM_V_GEN)$(MKDIR_P) bench && \
	utilities/ps-gen$(EXEEXT) 'eth,ip4,udp,vxlan' ps_eth_ip4_udp_vxlan \
	    > $@.tmp && \
	mv $@.tmp $@

# bench-fig4: three operations on an eth/ip4/udp/vxlan packet, each done by
# hand, with the static accessors and with the run-time API.
noinst_PROGRAMS += bench/bench-fig4
bench_bench_fig4_SOURCES = bench/bench-fig4.c bench/hand-written.h
nodist_bench_bench_fig4_SOURCES = $(bench_static_header)
bench_bench_fig4_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)/bench
bench_bench_fig4_LDADD = libprotostack.la

EXTRA_DIST += bench/run-fig4.sh

# "make bench": exact instructions per operation under callgrind, then
# timings; prints a Markdown table.
bench: bench/bench-fig4$(EXEEXT)
	VALGRIND='$(VALGRIND)' \
	    $(SHELL) $(srcdir)/bench/run-fig4.sh '$(abs_top_builddir)'
.PHONY: bench

# bench-dissect: ps_dissect() against a hand-written parser of the same
# headers (docs/benchmarks.md, "Dissection").
noinst_PROGRAMS += bench/bench-dissect
bench_bench_dissect_SOURCES = bench/bench-dissect.c
bench_bench_dissect_LDADD = libprotostack.la

# bench-dissect-api: ps_dissect_into() only, to be compiled against
# older libraries as well (docs/benchmarks.md, "Dissection").
noinst_PROGRAMS += bench/bench-dissect-api
bench_bench_dissect_api_SOURCES = bench/bench-dissect-api.c
bench_bench_dissect_api_LDADD = libprotostack.la

# bench-dissect-ovs: the same program with one more way, Open vSwitch's
# miniflow_extract() (docs/benchmarks.md), linked against the OvS build
# when there is one.  It is built after OvS's library, by "make
# bench-dissect-ovs" or, with OvS, "make all".
if BUILD_OVS
EXTRA_PROGRAMS += bench/bench-dissect-ovs
bench_bench_dissect_ovs_SOURCES = bench/bench-dissect.c
bench_bench_dissect_ovs_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_MINIFLOW \
	-I$(top_builddir)/ovs/include -I$(top_builddir)/ovs/lib \
	-I$(top_builddir)/ovs $(DPDK_CFLAGS)
bench_bench_dissect_ovs_CFLAGS = $(AM_CFLAGS) -Wno-sign-compare
bench_bench_dissect_ovs_LDADD = libprotostack.la ovs/lib/libopenvswitch.la
CLEANFILES += bench/bench-dissect-ovs$(EXEEXT)

bench-dissect-ovs: ovs-programs
	$(AM_V_at)$(MAKE) $(AM_MAKEFLAGS) bench/bench-dissect-ovs$(EXEEXT)
all-local: bench-dissect-ovs
endif
.PHONY: bench-dissect-ovs
