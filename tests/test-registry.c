/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of the registry's snapshots (stacks/registry.c) and of its
 * stack cache (stacks/stack-cache.c): what a reader holds stays valid and
 * unchanged across loads, and the cache finds the same stacks after it
 * grows.  The threads themselves are in tests/stress-registry.c. */

#include <config.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "protocol.h"
#include "stack.h"
#include "test-common.h"

/* Loads protocol r'i', bound after UDP port 30000 + 'i'. */
static void
load_one(struct ps_registry *reg, int i)
{
    char text[256];
    char *error = NULL;

    snprintf(text, sizeof text,
             "protocol r%d \"R%d\" { bit<16> tag = %d \"Tag\"; }\n"
             "bind r%d after udp.dst == %d;\n", i, i, i, i, 30000 + i);
    if (ps_registry_load_string(reg, "r.proto", text, &error)) {
        fail_msg("loading r%d: %s", i, error);
    }
}

/* A snapshot taken before loads sees none of them, and what it points to
 * stays where it was although the registry's arrays grew many times. */
static void
test_snapshot_survives_loads(void **state)
{
    struct ps_registry *reg = load_shipped_protocols();
    const struct ps_snapshot *old = ps_registry_snapshot(reg);
    size_t n_protocols = old->defs.n_protocols;
    size_t n_bindings = ps_snapshot_n_bindings(old);
    const struct ps_binding *first = ps_snapshot_binding(old, 0);
    const struct ps_binding *last = ps_snapshot_binding(old, n_bindings - 1);
    char *first_upper = strdup(first->upper);
    char *last_upper = strdup(last->upper);
    const struct ps_protocol *udp = ps_snapshot_find(old, "udp");

    assert_non_null(udp);
    for (int i = 0; i < 100; i++) {
        load_one(reg, i);
    }

    const struct ps_snapshot *new = ps_registry_snapshot(reg);
    assert_ptr_not_equal(new, old);
    assert_int_equal(new->generation, old->generation + 100);
    assert_int_equal(new->defs.n_protocols, n_protocols + 100);
    assert_int_equal(ps_snapshot_n_bindings(new), n_bindings + 100);

    /* The old snapshot: unchanged, and readable (ASan checks). */
    assert_int_equal(old->defs.n_protocols, n_protocols);
    assert_int_equal(ps_snapshot_n_bindings(old), n_bindings);
    assert_ptr_equal(ps_snapshot_binding(old, 0), first);
    assert_string_equal(first->upper, first_upper);
    assert_string_equal(last->upper, last_upper);
    assert_null(ps_snapshot_find(old, "r0"));
    assert_ptr_equal(ps_snapshot_find(old, "udp"), udp);

    /* The new one: the same protocols, and the new ones in order. */
    assert_ptr_equal(ps_snapshot_find(new, "udp"), udp);
    assert_non_null(ps_snapshot_find(new, "r99"));
    assert_string_equal(ps_snapshot_binding(new, 0)->upper, first_upper);
    assert_string_equal(ps_snapshot_binding(new, n_bindings + 7)->upper,
                        "r7");
    assert_int_equal(ps_snapshot_binding(new, n_bindings + 7)->value,
                     30007);

    /* Compiling against the old snapshot gives the old definitions. */
    struct ps_stack *stack;
    assert_int_equal(ps_stack_create_from(old, "eth,ip4,udp,r5", &stack,
                                          NULL), PS_ERR_NO_PROTOCOL);
    assert_int_equal(ps_stack_create_from(new, "eth,ip4,udp,r5", &stack,
                                          NULL), PS_OK);
    size_t dst;
    assert_int_equal(ps_stack_find_field(stack, "udp.dst", &dst, NULL),
                     PS_OK);
    assert_int_equal(ps_stack_get_uint(stack, ps_stack_template(stack),
                                       dst), 30005);
    ps_stack_destroy(stack);

    free(first_upper);
    free(last_upper);
    ps_registry_destroy(reg);
}

/* Only a load that changes something makes a new snapshot. */
static void
test_snapshot_generations(void **state)
{
    struct ps_registry *reg = ps_registry_create();
    const struct ps_snapshot *empty = ps_registry_snapshot(reg);
    char *error = NULL;

    assert_non_null(empty);
    assert_int_equal(empty->generation, 0);
    assert_int_equal(ps_snapshot_n_bindings(empty), 0);
    assert_null(ps_snapshot_find(empty, "eth"));

    assert_int_equal(ps_registry_load_string(reg, "none", "# Nothing.\n",
                                             NULL), PS_OK);
    assert_ptr_equal(ps_registry_snapshot(reg), empty);

    load_one(reg, 1);
    const struct ps_snapshot *one = ps_registry_snapshot(reg);
    assert_int_equal(one->generation, 1);

    /* A failed load publishes nothing. */
    assert_int_equal(ps_registry_load_string(reg, "dup",
                                             "protocol r1 \"Again\" "
                                             "{ bit<8> x \"X\"; }", &error),
                     PS_ERR_DUPLICATE);
    free(error);
    assert_ptr_equal(ps_registry_snapshot(reg), one);
    ps_registry_destroy(reg);
}

/* A binding loaded later between protocols already bound comes after the
 * first: filling keeps the first, dissecting knows both. */
static void
test_later_binding(void **state)
{
    struct ps_registry *reg = load_shipped_protocols();
    const struct ps_stack *stack;
    uint8_t pkt[64];
    size_t dst;

    assert_int_equal(ps_registry_load_string(reg, "later",
                                             "bind vxlan after udp.dst "
                                             "== 8472;", NULL), PS_OK);
    assert_int_equal(ps_registry_stack(reg, "eth,ip4,udp,vxlan", &stack,
                                       NULL), PS_OK);
    assert_int_equal(ps_stack_find_field(stack, "udp.dst", &dst, NULL),
                     PS_OK);
    assert_int_equal(ps_stack_get_uint(stack, ps_stack_template(stack),
                                       dst), 4789);

    struct ps_dissection *d;
    assert_int_equal(ps_stack_fill(stack, pkt, sizeof pkt, "udp.dst=8472",
                                   NULL), PS_OK);
    assert_int_equal(ps_dissect(reg, "eth", pkt, sizeof pkt, &d, NULL),
                     PS_OK);
    assert_string_equal(ps_stack_header(d->stack, 3)->protocol, "vxlan");
    ps_dissection_destroy(d);
    ps_registry_destroy(reg);
}

/* The cache grows (64 buckets at first) and keeps finding the same
 * stacks and recasts; a load makes it compile again and keeps what it
 * handed out. */
static void
test_cache_growth(void **state)
{
    enum { N = 300 };
    struct ps_registry *reg = load_shipped_protocols();
    const struct ps_stack *stacks[N], *variants[N], *s;

    for (int i = 0; i < N; i++) {
        char spec[64];
        snprintf(spec, sizeof spec, "eth,{ip4,length=0},{tcp,name=t%d}", i);
        assert_int_equal(ps_registry_stack(reg, spec, &stacks[i], NULL),
                         PS_OK);
        assert_int_equal(ps_registry_stack_variant(reg, stacks[i], 1,
                                                   i % 11 * 4, &variants[i],
                                                   NULL), PS_OK);
    }
    for (int i = 0; i < N; i++) {
        char spec[64];
        snprintf(spec, sizeof spec, "eth,{ip4,length=0},{tcp,name=t%d}", i);
        assert_int_equal(ps_registry_stack(reg, spec, &s, NULL), PS_OK);
        assert_ptr_equal(s, stacks[i]);
        assert_int_equal(ps_registry_stack_variant(reg, stacks[i], 1,
                                                   i % 11 * 4, &s, NULL),
                         PS_OK);
        assert_ptr_equal(s, variants[i]);
        assert_int_equal(ps_stack_size(s), 54 + i % 11 * 4);
    }

    load_one(reg, 1);
    assert_int_equal(ps_registry_stack(reg, "eth,{ip4,length=0},{tcp,"
                                       "name=t0}", &s, NULL), PS_OK);
    assert_ptr_not_equal(s, stacks[0]);
    assert_int_equal(ps_registry_stack_variant(reg, stacks[1], 1, 4, &s,
                                               NULL), PS_OK);
    assert_ptr_not_equal(s, variants[1]);
    assert_string_equal(ps_stack_spec(s),
                        "eth,{ip4,length=4},{tcp,name=t1}");
    assert_string_equal(ps_stack_spec(stacks[N - 1]),
                        "eth,{ip4,length=0},{tcp,name=t299}");
    ps_registry_destroy(reg);
}

/* With a bound, the cache compiles no more than that many stacks: a new
 * spec fails with a message that names the limit, while the stacks it
 * holds, and their recasts already made, are still found. */
static void
test_stack_limit(void **state)
{
    struct ps_registry *reg = load_shipped_protocols();
    const struct ps_stack *a, *b, *s;
    char *error = NULL;

    (void) state;
    ps_registry_set_stack_limit(reg, 2);
    assert_int_equal(ps_registry_stack(reg, "eth,ip4,udp", &a, NULL), PS_OK);
    assert_int_equal(ps_registry_stack(reg, "eth,ip6,tcp", &b, NULL), PS_OK);
    assert_int_equal(ps_registry_stack(reg, "eth,ip4,tcp", &s, &error),
                     PS_ERR_RANGE);
    assert_null(s);
    assert_non_null(strstr(error, "eth,ip4,tcp"));
    assert_non_null(strstr(error, "2 stacks, its limit"));
    free(error);
    error = NULL;
    assert_int_equal(ps_registry_stack_variant(reg, a, 1, 4, &s, &error),
                     PS_ERR_RANGE);
    free(error);

    assert_int_equal(ps_registry_stack(reg, "eth,ip4,udp", &s, NULL), PS_OK);
    assert_ptr_equal(s, a);
    assert_int_equal(ps_registry_stack(reg, "eth,ip6,tcp", &s, NULL), PS_OK);
    assert_ptr_equal(s, b);

    ps_registry_set_stack_limit(reg, 0);
    assert_int_equal(ps_registry_stack(reg, "eth,ip4,tcp", &s, NULL), PS_OK);
    assert_int_equal(ps_stack_size(s), 54);
    ps_registry_destroy(reg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_survives_loads),
        cmocka_unit_test(test_snapshot_generations),
        cmocka_unit_test(test_later_binding),
        cmocka_unit_test(test_cache_growth),
        cmocka_unit_test(test_stack_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
