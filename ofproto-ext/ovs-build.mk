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

# The fuzz target of our OpenFlow actions, tests/fuzz/fuzz-ovs-actions.c
# (docs/fuzzing.md), built against this tree's libopenvswitch.
# PS_FUZZ_SRCDIR is protostack's tests/fuzz, PS_FUZZ_PROTOCOLS its
# protocols/.
#
# $(PS_FUZZ_DRIVER): built like OvS (gcc) with tests/fuzz/driver.c, a
# main() that runs the target over files: the corpus regression of "make
# check".
#
# $(PS_LIBFUZZER): built by PS_FUZZ_CC (clang) for libFuzzer with ASan
# and UBSan.  Instrumented: the target, lib/ofp-actions.c (which
# includes our ps-ofp-actions.inc), lib/ps-ofp.c, and libprotostack,
# PS_FUZZ_PROTOSTACK (the libprotostack.a of a build configured with
# --enable-fuzzing).  The rest of OvS comes from this tree's
# libopenvswitch.a as it is, whose ofp-actions.o and ps-ofp.o the
# instrumented objects replace: a clang build of all of OvS's lib
# (10 minutes of CPU) is not needed.
PS_FUZZ_DRIVER = tests/oss-fuzz/ps-fuzz-ovs-actions
PS_LIBFUZZER = tests/oss-fuzz/ps-libfuzzer-ovs-actions
PS_FUZZ_CC = clang
PS_FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
ps_fuzz_sources = \
	$(PS_FUZZ_SRCDIR)/fuzz-ovs-actions.c \
	$(PS_FUZZ_SRCDIR)/fuzz-common.c
ps_fuzz_cppflags = $(DEFS) $(DEFAULT_INCLUDES) $(AM_CPPFLAGS) $(CPPFLAGS) \
	$(OVS_CFLAGS) \
	-I'$(PS_FUZZ_SRCDIR)' \
	-DPS_FUZZ_PROTOCOLS_DIR='"$(PS_FUZZ_PROTOCOLS)"'

$(PS_FUZZ_DRIVER): $(ps_fuzz_sources) $(PS_FUZZ_SRCDIR)/driver.c \
		lib/libopenvswitch.la
	$(AM_V_CCLD)$(LIBTOOL) --quiet --tag=CC --mode=link $(CC) \
	    $(ps_fuzz_cppflags) $(AM_CFLAGS) $(CFLAGS) -static $(LDFLAGS) \
	    -o $@ $(ps_fuzz_sources) $(PS_FUZZ_SRCDIR)/driver.c \
	    lib/libopenvswitch.la

ps_libfuzzer_objects = \
	ps-fuzz/fuzz-ovs-actions.o \
	ps-fuzz/fuzz-common.o \
	ps-fuzz/ofp-actions.o \
	ps-fuzz/ps-ofp.o
ps-fuzz/%.o: $(PS_FUZZ_SRCDIR)/%.c
	@$(MKDIR_P) ps-fuzz
	$(AM_V_CC)$(PS_FUZZ_CC) $(ps_fuzz_cppflags) $(PS_FUZZ_CFLAGS) \
	    -fsanitize=fuzzer-no-link -Wall -Werror -MMD -MP -c -o $@ $<
ps-fuzz/%.o: lib/%.c
	@$(MKDIR_P) ps-fuzz
	$(AM_V_CC)$(PS_FUZZ_CC) $(ps_fuzz_cppflags) $(PS_FUZZ_CFLAGS) \
	    -fsanitize=fuzzer-no-link -w -MMD -MP -c -o $@ $<
ps-fuzz/ofp-actions.o: lib/ofp-actions.inc1 lib/ofp-actions.inc2
-include $(wildcard ps-fuzz/*.d)

# The libraries that libopenvswitch.la depends on, from its .la file:
# libtool libraries as their static archives, libprotostack as
# PS_FUZZ_PROTOSTACK.
$(PS_LIBFUZZER): $(ps_libfuzzer_objects) lib/libopenvswitch.la \
		$(PS_FUZZ_PROTOSTACK)
	$(AM_V_CCLD)libs=`sed -n "s/^dependency_libs='\(.*\)'/\1/p" \
	    lib/libopenvswitch.la | tr ' ' '\n' | sed \
	    -e 's|.*/libprotostack\.la$$|$(PS_FUZZ_PROTOSTACK)|' \
	    -e 's|^\(.*\)/\([^/]*\)\.la$$|\1/.libs/\2.a|'` && \
	$(PS_FUZZ_CC) $(PS_FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ \
	    $(ps_libfuzzer_objects) -Wl,--start-group \
	    lib/.libs/libopenvswitch.a $$libs -Wl,--end-group

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
