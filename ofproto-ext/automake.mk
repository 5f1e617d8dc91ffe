# Open vSwitch with the protostack actions (docs/ovs.md).
#
# "make" unpacks the OvS 3.1 source tarball into ovs/ in the build tree
# (once, and again only when ovs-hooks.patch changes), applies the patch
# (hook points only), links our files into the OvS tree, configures OvS
# --with-dpdk=shared and builds its programs against libprotostack.la.
# Our files are symbolic links in the OvS tree, so OvS's own dependency
# tracking recompiles what depends on one of them when it changes.

# Our files that the patch compiles into OvS (linked into ovs/lib/).
ovs_linked_files = \
	ofproto-ext/ps-ofp.c \
	ofproto-ext/ps-ofp.h \
	ofproto-ext/ps-ofp-actions.inc \
	ofproto-ext/ps-xlate.inc

# Our header that OvS's public include/openvswitch/ofp-actions.h
# includes (linked into ovs/include/openvswitch/).
ovs_linked_headers = \
	ofproto-ext/ps-ofpacts.h

# Our autotest suites, run by OvS's testsuite (linked into ovs/tests/).
# The patch includes protostack.at in the testsuite; the others are
# included from it, and OvS's make regenerates the testsuite when any of
# them changes (ovs-build.mk).
ovs_linked_tests = \
	tests/ovs/protostack.at \
	tests/ovs/protostack-captures.at \
	tests/ovs/protostack-flows.at \
	tests/ovs/protostack-xlate.at

EXTRA_DIST += \
	docs/ovs.md \
	tests/ovs-install.sh \
	utilities/ovs-sandbox.sh \
	utilities/ovs-flows-bench.sh \
	ofproto-ext/ovs-build.mk \
	ofproto-ext/ovs-hooks.patch \
	$(ovs_linked_files) \
	$(ovs_linked_headers) \
	$(ovs_linked_tests)

ovs_programs = \
	vswitchd/ovs-vswitchd \
	ovsdb/ovsdb-server \
	ovsdb/ovsdb-tool \
	utilities/ovs-vsctl \
	utilities/ovs-ofctl \
	utilities/ovs-appctl \
	utilities/ovs-dpctl

# The keyword of our suites in OvS's testsuite; OVS_TESTSUITEFLAGS='-k
# ofp-actions' runs one of OvS's own groups against the patched build.
OVS_TESTSUITEFLAGS = -j2 -k protostack

# OvS's own tests that cover what the patch touches ("make
# ovs-check-upstream", run by utilities/quickstart.sh check after our
# suites): the keyword groups ofp-actions (without ours, which share it),
# tunnel_push_pop, nsh and dpif-netdev, the rest of ofp-actions.at ("action
# parsing errors") and odp.at, whose tests have no keyword "odp" (only
# ours have): "OVS datapath ..." and "odp-execute ...".
OVS_UPSTREAM_TESTSUITEFLAGS = -j2 \
	-k ofp-actions,!protostack -k action,parsing,errors \
	-k OVS,datapath -k odp-execute \
	-k tunnel_push_pop -k nsh -k dpif-netdev

# OvS's make, with where libprotostack is.  Recipes spell $(MAKE) out so
# that the sub-make shares the jobserver.
OVS_MAKE_ARGS = -C ovs -f Makefile \
	-f '$(abs_top_srcdir)/ofproto-ext/ovs-build.mk' \
	PROTOSTACK_CPPFLAGS='-I$(abs_top_srcdir)/include' \
	PROTOSTACK_LIBS='$(abs_top_builddir)/libprotostack.la' \
	PS_TESTSUITE_AT='$(ovs_linked_tests:tests/ovs/%=tests/%)'

ovs/.ps-source.stamp: $(OVS_TARBALL) $(srcdir)/ofproto-ext/ovs-hooks.patch
	$(AM_V_GEN)rm -rf ovs ovs.tmp && $(MKDIR_P) ovs.tmp && \
	tar xzf '$(OVS_TARBALL)' --no-same-owner --strip-components=1 \
	    -C ovs.tmp && \
	(cd ovs.tmp && \
	 patch -s -p1 < '$(abs_top_srcdir)/ofproto-ext/ovs-hooks.patch') && \
	for f in $(ovs_linked_files); do \
	    ln -s '$(abs_top_srcdir)/'$$f ovs.tmp/lib/ || exit 1; \
	done && \
	for f in $(ovs_linked_headers); do \
	    ln -s '$(abs_top_srcdir)/'$$f ovs.tmp/include/openvswitch/ || exit 1; \
	done && \
	(cd ovs.tmp && automake) && \
	mv ovs.tmp ovs && touch $@

ovs/.ps-configure.stamp: ovs/.ps-source.stamp
	$(AM_V_GEN)cd ovs && ./configure -q --with-dpdk=shared \
	    --prefix='$(prefix)' CC='$(CC)' && touch .ps-configure.stamp

ovs-programs: ovs/.ps-configure.stamp libprotostack.la ovs-link-tests
	$(AM_V_at)$(MAKE) $(OVS_MAKE_ARGS) ps-built-sources
	$(AM_V_at)$(MAKE) $(OVS_MAKE_ARGS) $(ovs_programs)
.PHONY: ovs-programs

# The tree is unpacked again only when the patch changes: a suite added
# since then is linked here.
ovs-link-tests: ovs/.ps-source.stamp
	$(AM_V_at)for f in $(ovs_linked_tests); do \
	    test -e ovs/tests/`basename $$f` \
	    || ln -s '$(abs_top_srcdir)/'$$f ovs/tests/ || exit 1; \
	done
.PHONY: ovs-link-tests

# OvS's testsuite with our suites in it, against the patched build, with
# TESTSUITEFLAGS "$$flags"; its log is kept as "$$log" (the next run
# overwrites OvS's), where utilities/quickstart.sh counts the tests.
ovs_check_run = rm -f ovs/tests/testsuite.log; \
	PROTOSTACK_DATADIR='$(abs_top_srcdir)/protocols' \
	PROTOSTACK_JIT_DIR='$(abs_top_builddir)/tests/ovs-jit' \
	    $(MAKE) $(OVS_MAKE_ARGS) ps-testsuite check \
	    TESTSUITEFLAGS="$$flags"; \
	status=$$?; \
	if test -f ovs/tests/testsuite.log; then \
	    cp ovs/tests/testsuite.log "$$log"; \
	fi; \
	exit $$status

ovs-check: ovs-programs ovs-link-tests
	$(AM_V_at)flags='$(OVS_TESTSUITEFLAGS)'; \
	log=tests/ovs-testsuite.log; $(ovs_check_run)
ovs-check-upstream: ovs-programs ovs-link-tests
	$(AM_V_at)flags='$(OVS_UPSTREAM_TESTSUITEFLAGS)'; \
	log=tests/ovs-upstream-testsuite.log; $(ovs_check_run)
.PHONY: ovs-check ovs-check-upstream

# After the library: OvS's programs, with the installed libprotostack's
# directory as their run path (ovs-build.mk).
ovs-install:
	$(MAKE) $(OVS_MAKE_ARGS) install DESTDIR='$(DESTDIR)'
	$(MAKE) $(OVS_MAKE_ARGS) ps-install-runpath DESTDIR='$(DESTDIR)'
ovs-uninstall:
	$(MAKE) $(OVS_MAKE_ARGS) uninstall DESTDIR='$(DESTDIR)'
.PHONY: ovs-install ovs-uninstall

# "make install" into a scratch DESTDIR: the installed programs run
# against the installed libprotostack (tests/ovs-install.sh).
ovs-installcheck: ovs-programs
	$(AM_V_at)PS_BUILDDIR='$(abs_top_builddir)' PS_LIBDIR='$(libdir)' \
	PS_BINDIR='$(bindir)' PS_SBINDIR='$(sbindir)' \
	    $(SHELL) '$(srcdir)/tests/ovs-install.sh'
.PHONY: ovs-installcheck

# The fuzz target of our OpenFlow actions (docs/fuzzing.md), built in
# the OvS tree (ofproto-ext/ovs-build.mk).  With gcc and
# tests/fuzz/driver.c, as tests/fuzz/fuzz-ovs-actions, which "make check"
# runs over its corpus (tests/fuzz/regress.sh).  "make ovs-fuzz" builds
# it for libFuzzer, with the libprotostack.a of a build configured with
# --enable-fuzzing (FUZZ_PROTOSTACK_LIB; by default that of
# utilities/quickstart.sh check, build-fuzz/ next to this build), and
# fuzzes it for FUZZ_SECONDS as "make fuzz" does the library's targets.
FUZZ_PROTOSTACK_LIB = $(abs_top_builddir)/../build-fuzz/.libs/libprotostack.a
ovs_fuzz_args = \
	PS_FUZZ_SRCDIR='$(abs_top_srcdir)/tests/fuzz' \
	PS_FUZZ_PROTOCOLS='$(abs_top_srcdir)/protocols' \
	PS_FUZZ_DRIVER='$(abs_top_builddir)/tests/fuzz/fuzz-ovs-actions' \
	PS_LIBFUZZER='$(abs_top_builddir)/tests/fuzz/libfuzzer-ovs-actions' \
	PS_FUZZ_PROTOSTACK='$(FUZZ_PROTOSTACK_LIB)'

tests/fuzz/fuzz-ovs-actions: ovs-programs
	$(AM_V_at)$(MAKE) $(OVS_MAKE_ARGS) $(ovs_fuzz_args) \
	    '$(abs_top_builddir)/$@'

ovs-fuzz: ovs-programs
	@test -f '$(FUZZ_PROTOSTACK_LIB)' || { \
	    echo "$@: no $(FUZZ_PROTOSTACK_LIB): configure a build with" \
	         "CC=clang --enable-fuzzing --without-ovs and make it, or" \
	         "give FUZZ_PROTOSTACK_LIB" >&2; exit 1; }
	$(AM_V_at)$(MAKE) $(OVS_MAKE_ARGS) $(ovs_fuzz_args) \
	    '$(abs_top_builddir)/tests/fuzz/libfuzzer-ovs-actions'
	@$(MKDIR_P) $(FUZZ_OUT)/ovs-actions; \
	echo "fuzz-ovs-actions: $(FUZZ_SECONDS) s, log in" \
	     "$(FUZZ_OUT)/ovs-actions.log"; \
	$(FUZZ_ENV) tests/fuzz/libfuzzer-ovs-actions \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=25 -print_final_stats=1 \
	    -dict=$(srcdir)/tests/fuzz/ovs-actions.dict \
	    -artifact_prefix=$(FUZZ_OUT)/ovs-actions- $(FUZZ_FLAGS) \
	    $(FUZZ_OUT)/ovs-actions $(srcdir)/tests/fuzz/corpus/ovs-actions \
	    > $(FUZZ_OUT)/ovs-actions.log 2>&1; \
	status=$$?; \
	grep -E '^(#[0-9]+.*(DONE|INITED)|stat::number_of_executed_units)' \
	    $(FUZZ_OUT)/ovs-actions.log | tail -n 2; \
	if test $$status != 0; then \
	    echo "fuzz-ovs-actions: FINDING"; \
	    grep -E -A12 '^(==[0-9]+==ERROR|fuzz check failed)|^SUMMARY' \
	        $(FUZZ_OUT)/ovs-actions.log; \
	    grep -E '^(artifact_prefix|Test unit written)' \
	        $(FUZZ_OUT)/ovs-actions.log; \
	fi; \
	exit $$status
.PHONY: ovs-fuzz

# With --without-ovs (or without its source), none of it runs.
if BUILD_OVS
all-local: ovs-programs
check-local:
	$(MAKE) $(AM_MAKEFLAGS) ovs-check
	$(MAKE) $(AM_MAKEFLAGS) ovs-installcheck
check_SCRIPTS = tests/fuzz/fuzz-ovs-actions
install-exec-hook: ovs-install
uninstall-local: ovs-uninstall
endif

clean-local: clean-ovs
clean-ovs:
	if test -f ovs/Makefile; then $(MAKE) -C ovs clean; fi
	rm -rf tests/ovs-jit tests/ovs-testsuite.log \
	    tests/ovs-upstream-testsuite.log tests/fuzz/fuzz-ovs-actions \
	    tests/fuzz/libfuzzer-ovs-actions
distclean-local: distclean-ovs
distclean-ovs:
	rm -rf ovs ovs.tmp
.PHONY: clean-ovs distclean-ovs

# push_stack on DPDK ports (net_pcap vdevs, no hugepages needed), against
# the same flows on dummy ports: about 20 s; push_stack and pop_stack
# against native OvS tunnel ports and the kernel's VXLAN: about 15 s; 10
# million packets through push_stack on net_null ports: about 20 s.  As
# root (skipped otherwise).
EXTRA_DIST += \
	utilities/ovs-instance.sh \
	utilities/ovs-dpdk-check.sh \
	utilities/ovs-dpdk-soak.sh \
	utilities/ovs-peers-check.sh \
	utilities/ovs-vxlan-rate.sh
if BUILD_OVS
TESTS += \
	utilities/ovs-dpdk-check.sh \
	utilities/ovs-dpdk-soak.sh \
	utilities/ovs-peers-check.sh
endif
clean-local: clean-dpdk-check
clean-dpdk-check:
	rm -rf psdpdk-check psdpdk-soak psdpdk-peers psdpdk-rate
.PHONY: clean-dpdk-check
