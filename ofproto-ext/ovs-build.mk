# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Read after OvS's own Makefile when protostack's build runs make in the
# OvS tree (ofproto-ext/automake.mk): OvS generates headers such as
# odp-netlink.h only on "make all", so building a few programs needs its
# BUILT_SOURCES first.

ps-built-sources: $(BUILT_SOURCES)
.PHONY: ps-built-sources

# Our suites beside tests/protostack.at (which OvS's TESTSUITE_AT lists)
# are m4_include()d by it: "ps-testsuite" regenerates the testsuite when
# one changes.  (protostack's ovs-check makes it before OvS's "make
# check", whose sub-makes do not read this file.)
$(TESTSUITE): $(wildcard $(srcdir)/tests/protostack*.at)
ps-testsuite: $(TESTSUITE)
.PHONY: ps-testsuite


