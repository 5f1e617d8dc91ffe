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
ovs_linked_tests = \
	tests/ovs/protostack.at

EXTRA_DIST += \
	docs/ovs.md \
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

# OvS's make, with where libprotostack is.  Recipes spell $(MAKE) out so
# that the sub-make shares the jobserver.
OVS_MAKE_ARGS = -C ovs -f Makefile \
	-f '$(abs_top_srcdir)/ofproto-ext/ovs-build.mk' \
	PROTOSTACK_CPPFLAGS='-I$(abs_top_srcdir)/include' \
	PROTOSTACK_LIBS='$(abs_top_builddir)/libprotostack.la'

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
	for f in $(ovs_linked_tests); do \
	    ln -s '$(abs_top_srcdir)/'$$f ovs.tmp/tests/ || exit 1; \
	done && \
	(cd ovs.tmp && automake) && \
	mv ovs.tmp ovs && touch $@

ovs/.ps-configure.stamp: ovs/.ps-source.stamp
	$(AM_V_GEN)cd ovs && ./configure -q --with-dpdk=shared \
	    --prefix='$(prefix)' CC='$(CC)' && touch .ps-configure.stamp

ovs-programs: ovs/.ps-configure.stamp libprotostack.la
	$(AM_V_at)$(MAKE) $(OVS_MAKE_ARGS) ps-built-sources
	$(AM_V_at)$(MAKE) $(OVS_MAKE_ARGS) $(ovs_programs)
.PHONY: ovs-programs

# OvS's testsuite with our suites in it, against the patched build.
ovs-check: ovs-programs
	$(AM_V_at)PROTOSTACK_DATADIR='$(abs_top_srcdir)/protocols' \
	PROTOSTACK_JIT_DIR='$(abs_top_builddir)/tests/ovs-jit' \
	    $(MAKE) $(OVS_MAKE_ARGS) check TESTSUITEFLAGS='$(OVS_TESTSUITEFLAGS)'
.PHONY: ovs-check

# After the library: OvS's programs are relinked against the installed
# libprotostack.
ovs-install:
	$(MAKE) $(OVS_MAKE_ARGS) install DESTDIR='$(DESTDIR)'
ovs-uninstall:
	$(MAKE) $(OVS_MAKE_ARGS) uninstall DESTDIR='$(DESTDIR)'
.PHONY: ovs-install ovs-uninstall

# With --without-ovs (or without its source), none of it runs.
if BUILD_OVS
all-local: ovs-programs
check-local: ovs-check
install-exec-hook: ovs-install
uninstall-local: ovs-uninstall
endif

clean-local: clean-ovs
clean-ovs:
	if test -f ovs/Makefile; then $(MAKE) -C ovs clean; fi
	rm -rf tests/ovs-jit
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
