# Tests: cmocka unit tests, and interop tests against decoders and
# encoders we did not write (tshark, Scapy).

AM_TESTS_ENVIRONMENT = \
	unset PROTOSTACK_DATADIR PROTOSTACK_PATH; \
	PS_TEST_SRCDIR='$(abs_top_srcdir)/tests'; \
	export PS_TEST_SRCDIR; \
	PS_BUILDDIR='$(abs_top_builddir)'; \
	export PS_BUILDDIR; \
	TSHARK='$(TSHARK)'; \
	export TSHARK; \
	PYTHON3_SYSTEM='$(PYTHON3_SYSTEM)'; \
	export PYTHON3_SYSTEM;

TESTS_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
TESTS_LDADD = libprotostack.la $(CMOCKA_LIBS)

unit_tests = \
	tests/test-types \
	tests/test-definition \
	tests/test-stack \
	tests/test-protocols \
	tests/test-static \
	tests/test-tiers \
	tests/test-dissect \
	tests/test-security \
	tests/test-registry \
	tests/test-jit
check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests) tests/interop.sh tests/cli.sh tests/bench-report.sh

# Stress programs: several threads drive the library as a switch would.
# They run in "make check" and, built with ThreadSanitizer, in
# utilities/quickstart.sh check (a few seconds each).
stress_tests = \
	tests/stress-registry \
	tests/stress-jit
check_PROGRAMS += $(stress_tests)
TESTS += $(stress_tests)

tests_test_types_SOURCES = tests/test-types.c tests/test-common.h
tests_test_types_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_test_types_LDADD = $(TESTS_LDADD)

tests_test_definition_SOURCES = tests/test-definition.c tests/test-common.h
tests_test_definition_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_test_definition_LDADD = $(TESTS_LDADD)

tests_test_stack_SOURCES = tests/test-stack.c tests/test-common.h
tests_test_stack_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_test_stack_LDADD = $(TESTS_LDADD)

tests_test_protocols_SOURCES = tests/test-protocols.c
tests_test_protocols_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_test_protocols_LDADD = $(TESTS_LDADD)

tests_test_static_SOURCES = tests/test-static.c tests/test-common.h
nodist_tests_test_static_SOURCES = $(static_headers)
tests_test_static_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_test_static_LDADD = $(TESTS_LDADD)

tests_test_tiers_SOURCES = \
	tests/test-tiers.c tests/stack-cases.h tests/test-common.h
nodist_tests_test_tiers_SOURCES = $(static_headers)
tests_test_tiers_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_test_tiers_LDADD = $(TESTS_LDADD)

tests_test_dissect_SOURCES = \
	tests/test-dissect.c tests/stack-cases.h tests/test-common.h
tests_test_dissect_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_test_dissect_LDADD = $(TESTS_LDADD)

tests_test_security_SOURCES = tests/test-security.c tests/test-common.h
tests_test_security_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_test_security_LDADD = $(TESTS_LDADD) -lpthread

tests_test_registry_SOURCES = tests/test-registry.c tests/test-common.h
tests_test_registry_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_test_registry_LDADD = $(TESTS_LDADD)

tests_stress_registry_SOURCES = tests/stress-registry.c
tests_stress_registry_LDADD = libprotostack.la -lpthread

tests_test_jit_SOURCES = tests/test-jit.c tests/test-common.h
tests_test_jit_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_test_jit_LDADD = $(TESTS_LDADD)

tests_stress_jit_SOURCES = tests/stress-jit.c tests/test-common.h
tests_stress_jit_CPPFLAGS = $(AM_CPPFLAGS)
tests_stress_jit_LDADD = libprotostack.la -lpthread

clean-local: clean-jit-cache
clean-jit-cache:
	rm -rf tests/jit-cache tests/jit-test tests/stress-jit-cache
.PHONY: clean-jit-cache

EXTRA_DIST += \
	tests/interop.sh \
	tests/cli.sh \
	tests/bench-report.sh \
	tests/interop.py \
	tests/jit-cc-fds.sh \
	tests/extra/demo.proto \
	tests/extra/units.proto
