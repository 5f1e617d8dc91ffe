# Fuzz targets (docs/fuzzing.md).  Each target is one LLVMFuzzerTestOneInput()
# with a committed corpus (tests/fuzz/corpus/NAME/) and dictionary
# (tests/fuzz/NAME.dict).  Configured with --enable-fuzzing (clang), they
# link with libFuzzer; otherwise with driver.c, a main() that runs them
# over their corpus.  Either way "make check" runs every target over its
# corpus (tests/fuzz/regress.sh); "make fuzz" fuzzes in a fuzzing build.
# The target of the OvS actions, fuzz-ovs-actions.c, is built in the OvS
# tree (ofproto-ext/automake.mk).

fuzz_names = definition dissect encap stack
fuzz_programs = \
	tests/fuzz/fuzz-definition \
	tests/fuzz/fuzz-dissect \
	tests/fuzz/fuzz-encap \
	tests/fuzz/fuzz-stack
check_PROGRAMS += $(fuzz_programs)
TESTS += tests/fuzz/regress.sh

FUZZ_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPS_FUZZ_PROTOCOLS_DIR='"$(abs_top_srcdir)/protocols"'
FUZZ_COMMON = tests/fuzz/fuzz.h tests/fuzz/fuzz-common.c
if FUZZING
FUZZ_MAIN =
FUZZ_LINK = -fsanitize=fuzzer
else
FUZZ_MAIN = tests/fuzz/driver.c
FUZZ_LINK =
endif
# Static, so that a target is one program to run, debug or copy.
FUZZ_LINK_FLAGS = -static $(FUZZ_LINK)

tests_fuzz_fuzz_definition_SOURCES = \
	tests/fuzz/fuzz-definition.c $(FUZZ_COMMON) $(FUZZ_MAIN)
tests_fuzz_fuzz_definition_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_definition_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_definition_LDADD = libprotostack.la

tests_fuzz_fuzz_dissect_SOURCES = \
	tests/fuzz/fuzz-dissect.c $(FUZZ_COMMON) $(FUZZ_MAIN)
tests_fuzz_fuzz_dissect_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_dissect_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_dissect_LDADD = libprotostack.la

tests_fuzz_fuzz_encap_SOURCES = \
	tests/fuzz/fuzz-encap.c $(FUZZ_COMMON) $(FUZZ_MAIN)
tests_fuzz_fuzz_encap_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_encap_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_encap_LDADD = libprotostack.la

tests_fuzz_fuzz_stack_SOURCES = \
	tests/fuzz/fuzz-stack.c $(FUZZ_COMMON) $(FUZZ_MAIN)
tests_fuzz_fuzz_stack_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_stack_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_stack_LDADD = libprotostack.la

EXTRA_DIST += \
	docs/fuzzing.md \
	tests/fuzz/regress.sh \
	tests/fuzz/make-seeds.py \
	tests/fuzz/driver.c \
	tests/fuzz/definition.dict \
	tests/fuzz/dissect.dict \
	tests/fuzz/encap.dict \
	tests/fuzz/stack.dict \
	tests/fuzz/fuzz-ovs-actions.c \
	tests/fuzz/ovs-actions.dict \
	tests/fuzz/corpus

# "make fuzz": fuzzes each target (or those in FUZZ_TARGETS) for
# FUZZ_SECONDS, one after the other, in one process each.  New inputs go
# to $(FUZZ_OUT)/NAME/, findings to $(FUZZ_OUT)/NAME-crash-* (and the
# like), the output to $(FUZZ_OUT)/NAME.log; the committed corpus is only
# read.  "make fuzz-merge" adds to the committed corpus what in
# $(FUZZ_OUT)/NAME/ covers something new (libFuzzer's -merge=1).
FUZZ_SECONDS = 60
FUZZ_TARGETS = $(fuzz_names)
FUZZ_OUT = fuzz-out
FUZZ_FLAGS =
# A smaller quarantine and shorter allocation stacks than ASan's defaults
# make the targets 2 to 3 times faster here (their libraries allocate
# much); reproduce a finding with the defaults for full stacks.
FUZZ_ASAN_OPTIONS = quarantine_size_mb=32:malloc_context_size=5
FUZZ_ENV = \
	ASAN_OPTIONS='$(FUZZ_ASAN_OPTIONS)' \
	PROTOSTACK_DATADIR='$(abs_top_srcdir)/protocols' \
	PROTOSTACK_JIT_DIR='$(abs_top_builddir)/tests/fuzz/jit-cache'

if FUZZING
fuzz:
	@$(MAKE) $(AM_MAKEFLAGS) $(BUILT_SOURCES) && \
	$(MAKE) $(AM_MAKEFLAGS) $(fuzz_programs) || exit 1; \
	status=0; \
	for t in $(FUZZ_TARGETS); do \
	    $(MKDIR_P) $(FUZZ_OUT)/$$t; \
	    echo "fuzz-$$t: $(FUZZ_SECONDS) s, log in $(FUZZ_OUT)/$$t.log"; \
	    $(FUZZ_ENV) tests/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) \
	        -timeout=25 -print_final_stats=1 \
	        -dict=$(srcdir)/tests/fuzz/$$t.dict \
	        -artifact_prefix=$(FUZZ_OUT)/$$t- $(FUZZ_FLAGS) \
	        $(FUZZ_OUT)/$$t $(srcdir)/tests/fuzz/corpus/$$t \
	        > $(FUZZ_OUT)/$$t.log 2>&1 || { \
	        status=1; echo "fuzz-$$t: FINDING"; \
	        grep -E -A12 '^(==[0-9]+==ERROR|fuzz check failed)|^SUMMARY' \
	            $(FUZZ_OUT)/$$t.log; \
	        grep -E '^(artifact_prefix|Test unit written)' \
	            $(FUZZ_OUT)/$$t.log; }; \
	    grep -E '^(#[0-9]+.*(DONE|INITED)|stat::number_of_executed_units)' \
	        $(FUZZ_OUT)/$$t.log | tail -n 2; \
	done; \
	exit $$status

fuzz-merge:
	@$(MAKE) $(AM_MAKEFLAGS) $(BUILT_SOURCES) && \
	$(MAKE) $(AM_MAKEFLAGS) $(fuzz_programs) || exit 1; \
	for t in $(FUZZ_TARGETS); do \
	    $(FUZZ_ENV) tests/fuzz/fuzz-$$t -merge=1 \
	        $(srcdir)/tests/fuzz/corpus/$$t $(FUZZ_OUT)/$$t \
	        > $(FUZZ_OUT)/$$t-merge.log 2>&1 || exit 1; \
	    tail -n 1 $(FUZZ_OUT)/$$t-merge.log; \
	done
else
fuzz fuzz-merge:
	@echo "$@: configure with --enable-fuzzing (and CC=clang) first" >&2
	@exit 1
endif
.PHONY: fuzz fuzz-merge

clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/jit-cache tests/fuzz/*.out $(FUZZ_OUT)
.PHONY: clean-fuzz
