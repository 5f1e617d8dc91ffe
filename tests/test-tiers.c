/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Three tiers, one behaviour: every shipped protocol, in stacks with and
 * without constant labels, is pushed by the interpreter and by JIT code at
 * many packet sizes, and the stacks generated at build time by the static
 * tier too; all must give byte-identical packets, as OvS's action
 * autovalidator demands of its implementations. */

#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "protostack/protostack.h"
#include "test-common.h"
#include "stack-cases.h"
#include "protostack/static/ps_eth_ip4_udp.h"
#include "protostack/static/ps_eth_ip6_tcp.h"
#include "protostack/static/ps_eth_ip4_udp_vxlan_inner_eth.h"
#include "protostack/static/ps_eth_ip4_gre_inner_eth.h"
#include "protostack/static/ps_eth_vlan_ip4_udp.h"

#define MAX_PKT 1600

static int
setup(void **state)
{
    char *dir = NULL;

    /* A JIT cache of the test's own, so that it compiles for real. */
    if (asprintf(&dir, "%s/tests/jit-cache", getenv("PS_BUILDDIR")
                 ? getenv("PS_BUILDDIR") : ".") < 0) {
        return -1;
    }
    ps_jit_set_cache_dir(dir);
    free(dir);

    if (setup_registry(state)) {
        return -1;
    }
    /* Test-only protocols for cases the shipped ones do not cover. */
    char *path = NULL, *error = NULL;
    if (asprintf(&path, "%s/extra/units.proto", getenv("PS_TEST_SRCDIR")
                 ? getenv("PS_TEST_SRCDIR") : "tests") < 0
        || ps_registry_load_file(registry, path, &error)) {
        fprintf(stderr, "%s\n", error ? error : "out of memory");
        return -1;
    }
    free(path);
    return 0;
}

/* Cases beyond stack_cases[], with the test-only protocols. */
static const struct stack_case extra_cases[] = {
    { "eth,ip4,udp,units", "units.tag=0x1234" },
    { "eth,ip6,udp,units,{eth,name=inner_eth}", NULL },
};

#define N_CASES (ARRAY_SIZE(stack_cases) + ARRAY_SIZE(extra_cases))

static const struct stack_case *
nth_case(size_t k)
{
    return (k < ARRAY_SIZE(stack_cases) ? &stack_cases[k]
            : &extra_cases[k - ARRAY_SIZE(stack_cases)]);
}

static size_t
nth_size(size_t stack_size, size_t i)
{
    static const size_t big[] = { 255, 256, 511, 1000, 1500, MAX_PKT };
    if (i < 64) {
        return stack_size + i;
    }
    i -= 64;
    return i < sizeof big / sizeof *big ? big[i] : 0;
}

/* Creates the stack of case 'k' and its encapsulations by the interpreter
 * and by the JIT. */
static void
create_case(size_t k, struct ps_stack **stack, struct ps_encap **interp,
            struct ps_encap **jit)
{
    char *error = NULL;

    *interp = *jit = NULL;
    if (ps_stack_create(registry, nth_case(k)->spec, stack, &error)
        || ps_encap_create(*stack, nth_case(k)->labels, PS_TIER_INTERP,
                           interp, &error)
        || ps_encap_create(*stack, nth_case(k)->labels, PS_TIER_JIT, jit,
                           &error)) {
        fail_msg("%s: %s", nth_case(k)->spec, error);
    }
}

static void
test_interpreter_equals_jit(void **state)
{
    static uint8_t a[MAX_PKT], b[MAX_PKT], c[MAX_PKT];

    for (size_t k = 0; k < N_CASES; k++) {
        struct ps_stack *stack;
        struct ps_encap *interp, *jit;

        create_case(k, &stack, &interp, &jit);
        assert_int_equal(ps_encap_tier(interp), PS_TIER_INTERP);
        assert_int_equal(ps_encap_tier(jit), PS_TIER_JIT);

        /* Every JIT setter stores what the run-time setter stores. */
        for (size_t f = 0; f < ps_stack_n_fields(stack); f++) {
            const struct ps_field_info *fi = ps_stack_field(stack, f);
            ps_field_setter *set = ps_encap_field_setter(jit, f);
            assert_null(ps_encap_field_setter(interp, f));
            if (fi->type != PS_FIELD_UINT && fi->type != PS_FIELD_IP4) {
                assert_null(set);
                continue;
            }
            assert_non_null(set);
            uint64_t v = rng_next();
            if (fi->bits < 64) {
                v &= (UINT64_C(1) << fi->bits) - 1;
            }
            rng_fill(a, ps_stack_size(stack));
            memcpy(b, a, ps_stack_size(stack));
            set(a, v);
            if (fi->type == PS_FIELD_IP4) {
                ps_stack_set_ip4(stack, b, f, v);
            } else {
                ps_stack_set_uint(stack, b, f, v);
            }
            assert_memory_equal(a, b, ps_stack_size(stack));
        }
        assert_memory_equal(ps_encap_template(interp),
                            ps_encap_template(jit), ps_stack_size(stack));

        /* The JIT function reads only ps_encap_jit_data_size() bytes of
         * its data: given a copy of them at an odd address, followed by
         * garbage, it pushes the same. */
        size_t size = ps_stack_size(stack);
        size_t data_size = ps_encap_jit_data_size(jit);
        ps_encap_fn *fn = ps_encap_jit_function(jit);
        uint8_t *copy = malloc(1 + data_size + 64);

        assert_true(data_size >= size);
        assert_int_equal(data_size, ps_encap_jit_data_size(interp));
        assert_non_null(fn);
        assert_non_null(copy);
        memset(copy, 0xa5, 1 + data_size + 64);
        memcpy(copy + 1, ps_encap_jit_data(jit), data_size);

        for (size_t i = 0; nth_size(size, i); i++) {
            size_t len = nth_size(size, i);
            uint32_t hash = rng_next();
            rng_fill(a, len);
            memcpy(b, a, len);
            memcpy(c, a, len);
            ps_encap_apply(interp, a, len, hash);
            ps_encap_apply(jit, b, len, hash);
            fn(copy + 1, c, len, hash);
            if (memcmp(a, c, len)) {
                fail_msg("%s, %zu bytes: the JIT function given a copy of "
                         "its data differs from the interpreter",
                         nth_case(k)->spec, len);
            }
            if (memcmp(a, b, len)) {
                for (size_t j = 0; j < len; j++) {
                    if (a[j] != b[j]) {
                        fail_msg("%s, %zu bytes: byte %zu is %#x by the "
                                 "interpreter, %#x by the JIT",
                                 nth_case(k)->spec, len, j, a[j], b[j]);
                    }
                }
            }
        }
        free(copy);
        ps_encap_destroy(jit);
        ps_encap_destroy(interp);
        ps_stack_destroy(stack);
    }
}

/* Without labels, the interpreter's encapsulation must also equal
 * ps_stack_fill() followed by the entropy. */
static void
test_encap_equals_fill(void **state)
{
    static uint8_t a[MAX_PKT], b[MAX_PKT];

    for (size_t k = 0; k < N_CASES; k++) {
        struct ps_stack *stack;
        struct ps_encap *encap = NULL;
        char *error = NULL;

        if (ps_stack_create(registry, nth_case(k)->spec, &stack, &error)
            || ps_encap_create(stack, nth_case(k)->labels, PS_TIER_INTERP,
                               &encap, &error)) {
            fail_msg("%s: %s", nth_case(k)->spec, error);
        }
        size_t len = ps_stack_size(stack) + 100;
        uint32_t hash = rng_next();
        rng_fill(a, len);
        memcpy(b, a, len);
        ps_encap_apply(encap, a, len, hash);
        assert_int_equal(ps_stack_fill(stack, b, len, nth_case(k)->labels,
                                       NULL), PS_OK);
        const char *labels = nth_case(k)->labels;
        if (ps_stack_entropy_field(stack) >= 0
            && (!labels || !strstr(labels, "udp.src"))) {
            ps_stack_set_entropy(stack, b, hash);
            ps_stack_fix_checksums(stack, b, len);
            if (labels && strstr(labels, "cksum=0")) {
                /* A checksum given as a label stays as given. */
                assert_int_equal(ps_stack_set_text(stack, b, "udp.cksum",
                                                   "0", NULL), PS_OK);
            }
        }
        assert_memory_equal(a, b, len);
        ps_encap_destroy(encap);
        ps_stack_destroy(stack);
    }
}

#define STATIC_ENCAP(NAME, SPEC)                                            \
    {                                                                       \
        struct ps_stack *stack;                                             \
        struct ps_encap *encap;                                             \
        assert_int_equal(ps_stack_create(registry, SPEC, &stack, NULL),     \
                         PS_OK);                                            \
        assert_int_equal(ps_encap_create(stack, NULL, PS_TIER_INTERP,       \
                                         &encap, NULL), PS_OK);             \
        for (size_t i = 0; nth_size(NAME##_SIZE, i); i++) {                 \
            size_t len = nth_size(NAME##_SIZE, i);                          \
            uint32_t hash = rng_next();                                     \
            rng_fill(a, len);                                           \
            memcpy(b, a, len);                                              \
            NAME##_encap((struct NAME *) a, len, hash);                     \
            ps_encap_apply(encap, b, len, hash);                            \
            assert_memory_equal(a, b, len);                                 \
        }                                                                   \
        ps_encap_destroy(encap);                                            \
        ps_stack_destroy(stack);                                            \
    }

static void
test_static_equals_interpreter(void **state)
{
    static uint8_t a[MAX_PKT], b[MAX_PKT];

    STATIC_ENCAP(ps_eth_ip4_udp, "eth,ip4,udp");
    STATIC_ENCAP(ps_eth_ip6_tcp, "eth,ip6,tcp");
    STATIC_ENCAP(ps_eth_ip4_udp_vxlan_inner_eth,
                 "eth,ip4,udp,vxlan,{eth,name=inner_eth}");
    STATIC_ENCAP(ps_eth_ip4_gre_inner_eth,
                 "eth,ip4,gre,{eth,name=inner_eth}");
    STATIC_ENCAP(ps_eth_vlan_ip4_udp, "{eth,subtype=vlan},ip4,udp");
}

/* A push checks the headroom and writes nothing when it is short. */
static void
test_push_headroom(void **state)
{
    struct ps_stack *stack;
    struct ps_encap *encap;
    uint8_t buf[200], copy[200];

    assert_int_equal(ps_stack_create(registry, "eth,ip4,udp,vxlan", &stack,
                                     NULL), PS_OK);
    assert_int_equal(ps_encap_create(stack, NULL, PS_TIER_INTERP, &encap,
                                     NULL), PS_OK);
    rng_fill(buf, sizeof buf);
    memcpy(copy, buf, sizeof buf);
    assert_null(ps_encap_push(encap, buf + 49, 64, 49, 1));
    assert_memory_equal(buf, copy, sizeof buf);
    assert_ptr_equal(ps_encap_push(encap, buf + 50, 64, 50, 1), buf);
    assert_memory_equal(buf + 50, copy + 50, 64);
    ps_encap_destroy(encap);
    ps_stack_destroy(stack);
}

/* The same code compiles once: a second encapsulation shares the loaded
 * module, and the on-disk cache serves a new process (simulated by the
 * statistics of this one). */
static void
test_jit_cache(void **state)
{
    struct ps_stack *stack;
    struct ps_encap *e1, *e2, *e3;
    struct ps_jit_stats before, after;

    assert_int_equal(ps_stack_create(registry, "eth,ip4,udp,vxlan", &stack,
                                     NULL), PS_OK);
    assert_int_equal(ps_encap_create(stack, "vxlan.vni=4242", PS_TIER_JIT,
                                     &e1, NULL), PS_OK);
    ps_jit_get_stats(&before);
    assert_int_equal(ps_encap_create(stack, "vxlan.vni=4242", PS_TIER_JIT,
                                     &e2, NULL), PS_OK);
    ps_jit_get_stats(&after);
    assert_int_equal(after.memory_hits, before.memory_hits + 1);
    assert_int_equal(after.compiles, before.compiles);

    /* Auto: the interpreter serves until the JIT is ready. */
    assert_int_equal(ps_encap_create(stack, "vxlan.vni=4243", PS_TIER_AUTO,
                                     &e3, NULL), PS_OK);
    assert_int_equal(ps_encap_wait(e3), PS_TIER_JIT);
    ps_encap_destroy(e3);
    ps_encap_destroy(e2);
    ps_encap_destroy(e1);
    ps_stack_destroy(stack);
}

/* With no usable compiler, auto falls back to the interpreter and jit
 * fails with a message. */
static void
test_jit_without_compiler(void **state)
{
    struct ps_stack *stack;
    struct ps_encap *encap;
    char *error = NULL;

    setenv("PROTOSTACK_CC", "/nonexistent/cc", 1);
    assert_int_equal(ps_stack_create(registry, "eth,ip4,udp,vxlan", &stack,
                                     NULL), PS_OK);
    assert_int_equal(ps_encap_create(stack, "vxlan.vni=999", PS_TIER_JIT,
                                     &encap, &error), PS_ERR_IO);
    assert_non_null(strstr(error, "/nonexistent/cc"));
    free(error);
    assert_int_equal(ps_encap_create(stack, "vxlan.vni=999", PS_TIER_AUTO,
                                     &encap, NULL), PS_OK);
    assert_int_equal(ps_encap_wait(encap), PS_TIER_INTERP);
    ps_encap_destroy(encap);
    ps_stack_destroy(stack);
    unsetenv("PROTOSTACK_CC");
}

/* Encapsulations that differ only in label values share one compiled
 * module (labels are data), and each still writes its own bytes, those
 * of the interpreter: 1,000 label sets per shape, in the JIT tier and in
 * the AUTO tier created all at once. */
static void
test_shapes_share_modules(void **state)
{
    enum { N = 1000 };
    static const char *const specs[] = {
        "eth,ip4,udp,vxlan",
        "eth,ip6,udp,{geneve,length=8}",
    };
    static const enum ps_tier tiers[] = { PS_TIER_JIT, PS_TIER_AUTO };
    static uint8_t a[MAX_PKT], b[MAX_PKT];

    for (size_t s = 0; s < ARRAY_SIZE(specs); s++) {
        for (size_t t = 0; t < ARRAY_SIZE(tiers); t++) {
            enum ps_tier tier = tiers[t];
            struct ps_encap **jit = calloc(N, sizeof *jit);
            struct ps_encap **interp = calloc(N, sizeof *interp);
            struct ps_stack *stack;
            struct ps_jit_stats before, after;
            char *error = NULL;

            assert_int_equal(ps_stack_create(registry, specs[s], &stack,
                                             NULL), PS_OK);
            ps_jit_wait_idle();
            ps_jit_get_stats(&before);
            for (int i = 0; i < N; i++) {
                char labels[256];
                if (s == 0) {
                    snprintf(labels, sizeof labels, "vxlan.vni=%d,"
                             "ip4.dst=10.%d.%d.%d,ip4.src=192.0.2.%d",
                             i + (int) t * N, i >> 16, (i >> 8) & 255,
                             i & 255, i % 200);
                } else {
                    snprintf(labels, sizeof labels, "geneve.vni=%d,"
                             "ip6.dst=2001:db8::%x,geneve.options="
                             "0x%016"PRIx64, i, i + (int) t * N, rng_next());
                }
                if (ps_encap_create(stack, labels, tier, &jit[i], &error)
                    || ps_encap_create(stack, labels, PS_TIER_INTERP,
                                       &interp[i], &error)) {
                    fail_msg("%s %s: %s", specs[s], labels, error);
                }
            }
            ps_jit_wait_idle();
            ps_jit_get_stats(&after);
            /* One module for the shape: compiled, or found on disk, once;
             * found in memory by every other encapsulation. */
            assert_true(after.compiles + after.disk_hits
                        - before.compiles - before.disk_hits <= 1);
            assert_int_equal(after.not_started, before.not_started);
            for (int i = 0; i < N; i++) {
                assert_int_equal(ps_encap_wait(jit[i]), PS_TIER_JIT);
                assert_ptr_equal(ps_encap_jit_function(jit[i]),
                                 ps_encap_jit_function(jit[0]));
                size_t len = ps_stack_size(stack) + i % 300;
                uint32_t hash = rng_next();
                rng_fill(a, len);
                memcpy(b, a, len);
                ps_encap_apply(jit[i], a, len, hash);
                ps_encap_apply(interp[i], b, len, hash);
                assert_memory_equal(a, b, len);
            }
            for (int i = 0; i < N; i++) {
                ps_encap_destroy(jit[i]);
                ps_encap_destroy(interp[i]);
            }
            free(jit);
            free(interp);
            ps_stack_destroy(stack);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interpreter_equals_jit),
        cmocka_unit_test(test_encap_equals_fill),
        cmocka_unit_test(test_static_equals_interpreter),
        cmocka_unit_test(test_push_headroom),
        cmocka_unit_test(test_jit_cache),
        cmocka_unit_test(test_shapes_share_modules),
        cmocka_unit_test(test_jit_without_compiler),
    };
    return cmocka_run_group_tests(tests, setup, teardown_registry);
}
