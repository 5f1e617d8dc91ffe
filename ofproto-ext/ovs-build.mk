# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Read after OvS's own Makefile when protostack's build runs make in the
# OvS tree (ofproto-ext/automake.mk): OvS generates headers such as
# odp-netlink.h only on "make all", so building a few programs needs its
# BUILT_SOURCES first; and its testsuite knows only the suite that the
# patch names.

ps-built-sources: $(BUILT_SOURCES)
.PHONY: ps-built-sources

# Our suites that protostack.at includes (PS_TESTSUITE_AT, from
# ofproto-ext/automake.mk): the testsuite is generated again when one
# changes.  Made before "check", whose sub-makes do not read this file.
$(TESTSUITE): $(PS_TESTSUITE_AT)
ps-testsuite: $(TESTSUITE)
.PHONY: ps-testsuite
