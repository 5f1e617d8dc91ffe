# Encapsulation benchmarks (bench-encap): see bench/run-encap.sh.

# The constant labels of the benchmarked encapsulation, given both to the
# generator of its static header and to the program, which checks that
# every tier writes the same bytes.
bench_encap_labels = eth.src=aa:bb:cc:dd:ee:ff,eth.dst=00:11:22:33:44:55,$\
	ip4.src=192.0.2.1,ip4.dst=192.0.2.254,vxlan.vni=1234,udp.cksum=0

# gen-encap: prints the static header of an encapsulation (a stack with
# labels), which utilities/ps-gen cannot do.
noinst_PROGRAMS += bench/gen-encap
bench_gen_encap_SOURCES = bench/gen-encap.c
bench_gen_encap_CPPFLAGS = $(AM_CPPFLAGS)
bench_gen_encap_LDADD = libprotostack.la

# The static tier of bench-encap: generated at build time, for the bench
# alone; neither installed nor distributed.
bench_encap_header = bench/ps_bench_vxlan.h
BUILT_SOURCES += $(bench_encap_header)
CLEANFILES += $(bench_encap_header)

$(bench_encap_header): bench/gen-encap$(EXEEXT) $(dist_protocols_DATA)
	$(AM_V_GEN)$(MKDIR_P) bench && \
	PROTOSTACK_TIER=interp \
	    bench/gen-encap$(EXEEXT) 'eth,ip4,udp,vxlan' \
	    '$(bench_encap_labels)' ps_bench_vxlan > $@.tmp && \
	mv $@.tmp $@

# bench-encap: the per-packet cost of the hand-written, static, JIT and
# interpreted encapsulation, and the JIT's compile latency.
noinst_PROGRAMS += bench/bench-encap
bench_bench_encap_SOURCES = bench/bench-encap.c bench/hand-written.h
nodist_bench_bench_encap_SOURCES = $(bench_encap_header)
bench_bench_encap_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)/bench \
	'-DBENCH_ENCAP_LABELS="$(bench_encap_labels)"'
bench_bench_encap_LDADD = libprotostack.la

EXTRA_DIST += \
	bench/run-encap.sh \
	bench/plot-fig3.py \
	docs/jit.md

# "make bench-encap": instructions and cycles per packet for each tier, the
# JIT's compile latency with each compiler at hand, and Fig. 3 (cost as the
# copied inner frame grows), as Markdown tables; the plot goes to
# bench-fig3.png in the build directory.
bench-encap: bench/bench-encap$(EXEEXT)
	VALGRIND='$(VALGRIND)' PYTHON3='$(PYTHON3_SYSTEM)' \
	    $(SHELL) $(srcdir)/bench/run-encap.sh '$(abs_top_builddir)'
.PHONY: bench-encap

# bench-recast: compiling a variable-length variant, and finding it again.
noinst_PROGRAMS += bench/bench-recast
bench_bench_recast_SOURCES = bench/bench-recast.c
bench_bench_recast_LDADD = libprotostack.la

# dpdk-vtep: the libmoon paper's Listing 8 in C, on DPDK ports, with the
# static headers that "protostack gen" prints with and without labels
# (see bench/run-vtep.sh).
if HAVE_DPDK
comma = ,
vtep_headers = bench/vtep_labels.h bench/vtep_plain.h
BUILT_SOURCES += $(vtep_headers)
CLEANFILES += $(vtep_headers)

bench/vtep_labels.h: utilities/protostack$(EXEEXT) $(dist_protocols_DATA)
	$(AM_V_GEN)$(MKDIR_P) bench && \
	utilities/protostack$(EXEEXT) \
	    gen 'eth,ip4,udp,vxlan' $(subst $(comma), ,$(bench_encap_labels)) \
	    --name vtep > $@.tmp && \
	mv $@.tmp $@

bench/vtep_plain.h: utilities/protostack$(EXEEXT) $(dist_protocols_DATA)
	$(AM_V_GEN)$(MKDIR_P) bench && \
	utilities/protostack$(EXEEXT) \
	    gen 'eth,ip4,udp,vxlan' --name vtep_plain > $@.tmp && \
	mv $@.tmp $@

noinst_PROGRAMS += bench/dpdk-vtep
bench_dpdk_vtep_SOURCES = bench/dpdk-vtep.c bench/hand-written.h
nodist_bench_dpdk_vtep_SOURCES = $(vtep_headers)
bench_dpdk_vtep_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)/bench \
	$(DPDK_CFLAGS) '-DBENCH_ENCAP_LABELS="$(bench_encap_labels)"'
bench_dpdk_vtep_LDADD = libprotostack.la $(DPDK_LIBS)
endif

EXTRA_DIST += \
	bench/hugepages.sh \
	bench/report.py \
	bench/run-all.sh \
	bench/run-ovs.sh \
	bench/run-vtep.sh

# "make bench-vtep": dpdk-vtep on two net_null ports (bench/run-vtep.sh).
bench-vtep: all
	    $(SHELL) $(srcdir)/bench/run-vtep.sh '$(abs_top_builddir)'
.PHONY: bench-vtep

# "make bench-ovs": the paper's evaluation on DPDK and in OvS, every setup
# (bench/run-all.sh; root, about 20 minutes); the report and its plots go
# to bench-results/DATE in the build directory.  BENCH_SMOKE=1 runs each
# setup briefly, to check the scripts.
bench-ovs: all
	PYTHON3='$(PYTHON3_SYSTEM)' \
	    $(SHELL) $(srcdir)/bench/run-all.sh '$(abs_top_builddir)'
.PHONY: bench-ovs
