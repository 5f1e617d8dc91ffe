# Command-line programs, and the static stack headers generated at build
# time by one of them.

# ps-gen: prints the static C header of a stack (used by the build).
noinst_PROGRAMS += utilities/ps-gen
utilities_ps_gen_SOURCES = utilities/ps-gen.c
utilities_ps_gen_LDADD = libprotostack.la

# ps-check: loads protocol files or directories and reports errors.
noinst_PROGRAMS += utilities/ps-check
utilities_ps_check_SOURCES = utilities/ps-check.c
utilities_ps_check_LDADD = libprotostack.la

# protostack: list, explain, craft, gen.
bin_PROGRAMS += utilities/protostack
utilities_protostack_SOURCES = \
	utilities/capture.c \
	utilities/capture.h \
	utilities/protostack.c
utilities_protostack_CFLAGS = $(AM_CFLAGS) $(PCAP_CFLAGS)
utilities_protostack_LDADD = libprotostack.la $(PCAP_LIBS)
dist_man1_MANS = docs/protostack.1

# protostack-demo: builds a VXLAN packet and prints it (the quickstart's
# main job for now).
bin_PROGRAMS += utilities/protostack-demo
utilities_protostack_demo_SOURCES = \
	utilities/capture.c \
	utilities/capture.h \
	utilities/protostack-demo.c
utilities_protostack_demo_CFLAGS = $(AM_CFLAGS) $(PCAP_CFLAGS)
utilities_protostack_demo_LDADD = libprotostack.la $(PCAP_LIBS)

# ps-vxlan-nl: creates and deletes a kernel VXLAN device through
# libnl-route (utilities/ovs-peers-check.sh).
if HAVE_LIBNL_ROUTE
noinst_PROGRAMS += utilities/ps-vxlan-nl
utilities_ps_vxlan_nl_SOURCES = utilities/ps-vxlan-nl.c
utilities_ps_vxlan_nl_CFLAGS = $(AM_CFLAGS) $(LIBNL_ROUTE_CFLAGS)
utilities_ps_vxlan_nl_LDADD = $(LIBNL_ROUTE_LIBS)
endif

# Static stack headers, generated from the protocol files at build time,
# never committed.  Each entry: 'NAME=SPEC'.
STATIC_STACKS = \
	'ps_eth_ip4_udp=eth,ip4,udp' \
	'ps_eth_ip6_tcp=eth,ip6,tcp' \
	'ps_eth_ip4_udp_vxlan_inner_eth=eth,ip4,udp,vxlan,{eth,name=inner_eth}' \
	'ps_eth_ip4_gre_inner_eth=eth,ip4,gre,{eth,name=inner_eth}' \
	'ps_eth_vlan_ip4_udp={eth,subtype=vlan},ip4,udp'
static_headers = \
	include/protostack/static/ps_eth_ip4_udp.h \
	include/protostack/static/ps_eth_ip6_tcp.h \
	include/protostack/static/ps_eth_ip4_udp_vxlan_inner_eth.h \
	include/protostack/static/ps_eth_ip4_gre_inner_eth.h \
	include/protostack/static/ps_eth_vlan_ip4_udp.h
staticincludedir = $(includedir)/protostack/static
nodist_staticinclude_HEADERS = $(static_headers)
BUILT_SOURCES += $(static_headers)
CLEANFILES += $(static_headers) include/protostack/static/stamp

$(static_headers): include/protostack/static/stamp
include/protostack/static/stamp: utilities/ps-gen$(EXEEXT) \
		$(dist_protocols_DATA)
	$(AM_V_GEN)$(MKDIR_P) include/protostack/static && \
	for entry in $(STATIC_STACKS); do \
	    name=$${entry%%=*}; spec=$${entry#*=}; \
	        utilities/ps-gen$(EXEEXT) "$$spec" "$$name" \
	        > include/protostack/static/$$name.h.tmp && \
	    mv include/protostack/static/$$name.h.tmp \
	        include/protostack/static/$$name.h || exit 1; \
	done && touch $@
