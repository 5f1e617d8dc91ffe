/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The static tier against the interpreter: for every stack generated at
 * build time, every accessor, the template, and fill + set-length +
 * checksums at many packet sizes must give the same bytes as the run-time
 * API, the way OvS's action autovalidator compares implementations. */

#include <config.h>

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

#define PS_STATIC_FIELD_TABLE 1
#include "protostack/static/ps_eth_ip4_udp.h"
#include "protostack/static/ps_eth_ip6_tcp.h"
#include "protostack/static/ps_eth_ip4_udp_vxlan_inner_eth.h"
#include "protostack/static/ps_eth_ip4_gre_inner_eth.h"
#include "protostack/static/ps_eth_vlan_ip4_udp.h"

#define MAX_PKT 1600

static struct ps_stack *
compile(const char *spec)
{
    struct ps_stack *stack;
    char *error = NULL;
    if (ps_stack_create(registry, spec, &stack, &error)) {
        fail_msg("%s", error);
    }
    return stack;
}

/* Packet sizes to try: every size near the stack's own, then larger. */
static size_t
nth_size(size_t stack_size, size_t i)
{
    static const size_t big[] = { 127, 128, 255, 256, 511, 999, 1500,
                                  MAX_PKT };
    if (i < 70) {
        return stack_size + i;
    }
    i -= 70;
    return i < sizeof big / sizeof *big ? big[i] : 0;
}

/* Instantiates the tests of one static stack NAME compiled from SPEC.
 * 'struct NAME_field' and 'NAME_fields' come from the generated header
 * with PS_STATIC_FIELD_TABLE defined. */
#define STATIC_STACK_TESTS(NAME, SPEC)                                      \
static void                                                                 \
test_##NAME##_template(void **state)                                        \
{                                                                           \
    struct ps_stack *stack = compile(SPEC);                                 \
    assert_int_equal(ps_stack_size(stack), NAME##_SIZE);                    \
    assert_int_equal(sizeof(struct NAME), NAME##_SIZE);                     \
    assert_memory_equal(NAME##_template, ps_stack_template(stack),          \
                        NAME##_SIZE);                                       \
    for (size_t h = 0; h < ps_stack_n_headers(stack); h++) {                \
        assert_true(ps_stack_header(stack, h)->offset                       \
                    < NAME##_SIZE + 1);                                     \
    }                                                                       \
    ps_stack_destroy(stack);                                                \
}                                                                           \
                                                                            \
static void                                                                 \
test_##NAME##_accessors(void **state)                                       \
{                                                                           \
    struct ps_stack *stack = compile(SPEC);                                 \
    uint8_t a[NAME##_SIZE], b[NAME##_SIZE];                                 \
    size_t n_checked = 0;                                                   \
                                                                            \
    for (const struct NAME##_field *f = NAME##_fields; f->label; f++) {     \
        size_t field;                                                       \
        assert_int_equal(ps_stack_find_field(stack, f->label, &field,       \
                                             NULL), PS_OK);                 \
        const struct ps_field_info *fi = ps_stack_field(stack, field);      \
        for (int round = 0; round < 64; round++) {                          \
            uint64_t v = rng_next();                                        \
            if (fi->bits < 64) {                                            \
                v &= (UINT64_C(1) << fi->bits) - 1;                         \
            }                                                               \
            if (round == 0) {                                               \
                v = 0;                                                      \
            } else if (round == 1) {                                        \
                v = fi->bits < 64 ? (UINT64_C(1) << fi->bits) - 1           \
                    : UINT64_MAX;                                           \
            }                                                               \
            rng_fill(a, sizeof a);                                      \
            memcpy(b, a, sizeof a);                                         \
            f->set((struct NAME *) a, v);                                   \
            if (fi->type == PS_FIELD_IP4) {                                 \
                assert_int_equal(ps_stack_set_ip4(stack, b, field, v),      \
                                 PS_OK);                                    \
            } else {                                                        \
                assert_int_equal(ps_stack_set_uint(stack, b, field, v),     \
                                 PS_OK);                                    \
            }                                                               \
            assert_memory_equal(a, b, sizeof a);                            \
            assert_true(f->get((struct NAME *) a) == v);                    \
            assert_true(ps_stack_get_uint(stack, a, field) == v);           \
        }                                                                   \
        n_checked++;                                                        \
    }                                                                       \
    assert_true(n_checked > 0);                                             \
    ps_stack_destroy(stack);                                                \
}                                                                           \
                                                                            \
static void                                                                 \
test_##NAME##_fill(void **state)                                            \
{                                                                           \
    struct ps_stack *stack = compile(SPEC);                                 \
    static uint8_t a[MAX_PKT], b[MAX_PKT];                                  \
                                                                            \
    for (size_t i = 0; nth_size(NAME##_SIZE, i); i++) {                     \
        size_t len = nth_size(NAME##_SIZE, i);                              \
        rng_fill(a, len);                                               \
        memcpy(b, a, len);                                                  \
                                                                            \
        NAME##_fill((struct NAME *) a);                                     \
        NAME##_set_length((struct NAME *) a, len);                          \
        NAME##_fix_checksums((struct NAME *) a, len);                       \
        assert_int_equal(ps_stack_fill(stack, b, len, NULL, NULL), PS_OK);  \
        assert_memory_equal(a, b, len);                                     \
                                                                            \
        /* Changing a header field and fixing the checksums again must  \
         * also agree. */                                                   \
        size_t field = rng_next() % ps_stack_n_fields(stack);               \
        const struct ps_field_info *fi = ps_stack_field(stack, field);      \
        if (fi->bits) {                                                     \
            rng_fill(a + fi->bit_offset / 8, (fi->bits + 7) / 8);       \
            memcpy(b, a, len);                                              \
            NAME##_set_length((struct NAME *) a, len);                      \
            NAME##_fix_checksums((struct NAME *) a, len);                   \
            ps_stack_set_length(stack, b, len);                             \
            ps_stack_fix_checksums(stack, b, len);                          \
            assert_memory_equal(a, b, len);                                 \
        }                                                                   \
    }                                                                       \
    ps_stack_destroy(stack);                                                \
}

STATIC_STACK_TESTS(ps_eth_ip4_udp, "eth,ip4,udp")
STATIC_STACK_TESTS(ps_eth_ip6_tcp, "eth,ip6,tcp")
STATIC_STACK_TESTS(ps_eth_ip4_udp_vxlan_inner_eth,
                   "eth,ip4,udp,vxlan,{eth,name=inner_eth}")
STATIC_STACK_TESTS(ps_eth_ip4_gre_inner_eth,
                   "eth,ip4,gre,{eth,name=inner_eth}")
STATIC_STACK_TESTS(ps_eth_vlan_ip4_udp, "{eth,subtype=vlan},ip4,udp")

/* Address and per-header functions, checked on the VXLAN stack. */
static void
test_vxlan_addresses_and_header_checksum(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp,vxlan,{eth,name=inner_eth}");
    static uint8_t a[200], b[200];
    struct ps_eth_ip4_udp_vxlan_inner_eth *p = (void *) a;
    struct ps_mac mac, got;
    size_t field;

    assert_true(ps_mac_parse("02:11:22:33:44:55", &mac));
    rng_fill(a, sizeof a);
    memcpy(b, a, sizeof a);
    ps_eth_ip4_udp_vxlan_inner_eth_inner_eth_src_set(p, &mac);
    assert_int_equal(ps_stack_find_field(stack, "inner_eth.src", &field,
                                         NULL), PS_OK);
    assert_int_equal(ps_stack_set_mac(stack, b, field, &mac), PS_OK);
    assert_memory_equal(a, b, sizeof a);
    ps_eth_ip4_udp_vxlan_inner_eth_inner_eth_src_get(p, &got);
    assert_memory_equal(&got, &mac, sizeof mac);

    /* Only the IPv4 header's checksum. */
    ps_eth_ip4_udp_vxlan_inner_eth_ip4_fix_checksum(p, sizeof a);
    ps_stack_fix_checksum(stack, b, sizeof b,
                          ps_stack_find_header(stack, "ip4"));
    assert_memory_equal(a, b, sizeof a);

    /* Entropy into udp.src. */
    for (int i = 0; i < 100; i++) {
        uint32_t hash = rng_next();
        ps_eth_ip4_udp_vxlan_inner_eth_set_entropy(p, hash);
        ps_stack_set_entropy(stack, b, hash);
        assert_memory_equal(a, b, sizeof a);
        uint16_t port = ps_eth_ip4_udp_vxlan_inner_eth_udp_src_get(p);
        assert_true(port >= PS_ENTROPY_MIN && port <= PS_ENTROPY_MAX);
    }

    /* The payload starts right after the headers. */
    assert_ptr_equal(p->payload, ps_stack_payload(stack, a));
    ps_stack_destroy(stack);
}

static void
test_ip6_addresses(void **state)
{
    struct ps_stack *stack = compile("eth,ip6,tcp");
    uint8_t a[ps_eth_ip6_tcp_SIZE], b[ps_eth_ip6_tcp_SIZE];
    struct ps_eth_ip6_tcp *p = (void *) a;
    struct ps_ip6 addr, got;
    size_t field;

    assert_true(ps_ip6_parse("2001:db8::1", &addr));
    for (int i = 0; i < 10; i++) {
        rng_fill(a, sizeof a);
        memcpy(b, a, sizeof a);
        ps_ip6_add(&addr, rng_next());
        ps_eth_ip6_tcp_ip6_src_set(p, &addr);
        assert_int_equal(ps_stack_find_field(stack, "ip6.src", &field, NULL),
                         PS_OK);
        assert_int_equal(ps_stack_set_ip6(stack, b, field, &addr), PS_OK);
        assert_memory_equal(a, b, sizeof a);
        ps_eth_ip6_tcp_ip6_src_get(p, &got);
        assert_int_equal(ps_ip6_cmp(&got, &addr), 0);
    }
    ps_stack_destroy(stack);
}

#define STACK_TESTS(NAME)                       \
    cmocka_unit_test(test_##NAME##_template),   \
    cmocka_unit_test(test_##NAME##_accessors),  \
    cmocka_unit_test(test_##NAME##_fill)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        STACK_TESTS(ps_eth_ip4_udp),
        STACK_TESTS(ps_eth_ip6_tcp),
        STACK_TESTS(ps_eth_ip4_udp_vxlan_inner_eth),
        STACK_TESTS(ps_eth_ip4_gre_inner_eth),
        STACK_TESTS(ps_eth_vlan_ip4_udp),
        cmocka_unit_test(test_vxlan_addresses_and_header_checksum),
        cmocka_unit_test(test_ip6_addresses),
    };
    return cmocka_run_group_tests(tests, setup_registry, teardown_registry);
}
