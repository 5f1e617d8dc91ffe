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


# OvS's libtool is configured without shared libraries: it never relinks
# the programs it installs, which keep their run path into the build tree
# (libprotostack.la's .libs).  "ps-install-runpath" sets the run path of
# the installed programs to the installed library's directory.
ps-install-runpath:
	@for p in $(bin_PROGRAMS:$(EXEEXT)=) $(sbin_PROGRAMS:$(EXEEXT)=); do \
	    for d in '$(DESTDIR)$(bindir)' '$(DESTDIR)$(sbindir)'; do \
	        f="$$d/`basename $$p`"; \
	        if test -f "$$f" && readelf -d "$$f" | grep -q 'R.*PATH'; then \
	            echo "patchelf --set-rpath '$(libdir)' $$f"; \
	            patchelf --set-rpath '$(libdir)' "$$f" || exit 1; \
	        fi; \
	    done; \
	done
.PHONY: ps-install-runpath
