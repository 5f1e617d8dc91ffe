/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The dissector: round trips (fill, then dissect, gives back the stack and
 * every field), bad lengths and checksums found, truncated packets, and
 * hostile input: 100,000 random and mutated frames from a seeded
 * generator (run under ASan and UBSan by CI). */

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
#include "stack-cases.h"

#define PAYLOAD 37

/* Fills case 'k' into a new buffer of '*lenp' bytes (zero payload). */
static uint8_t *
craft(size_t k, struct ps_stack **stackp, size_t *lenp)
{
    char *error = NULL;
    if (ps_stack_create(registry, stack_cases[k].spec, stackp, &error)) {
        fail_msg("%s: %s", stack_cases[k].spec, error);
    }
    *lenp = ps_stack_size(*stackp) + PAYLOAD;
    uint8_t *pkt = calloc(1, *lenp);
    if (ps_stack_fill(*stackp, pkt, *lenp, stack_cases[k].labels, &error)) {
        fail_msg("%s: %s", stack_cases[k].spec, error);
    }
    return pkt;
}

/* Finds the header of 'crafted' that header 'h' of 'dissected' stands
 * for (same offset, protocol, subtype and size) and marks it in
 * 'covered'.  A dissected header may also lie inside a crafted header of
 * a subtype the dissector does not choose (eth's VLAN subtypes, whose
 * tags it reads as headers of their own): that marks it too.  Fails the
 * test if neither. */
static void
cover_header(const struct ps_stack *crafted,
             const struct ps_stack *dissected, size_t h, bool *covered,
             const char *spec)
{
    const struct ps_header_info *b = ps_stack_header(dissected, h);
    for (size_t i = 0; i < ps_stack_n_headers(crafted); i++) {
        const struct ps_header_info *a = ps_stack_header(crafted, i);
        if ((a->offset == b->offset && a->size == b->size
             && !strcmp(a->protocol, b->protocol)
             && !strcmp(a->subtype, b->subtype))
            || (strcmp(a->subtype, "plain") && b->offset >= a->offset
                && b->offset + b->size <= a->offset + a->size)) {
            covered[i] = true;
            return;
        }
    }
    fail_msg("%s: dissected header %s at %zu stands for no crafted one",
             spec, b->name, b->offset);
}

static void
test_round_trip(void **state)
{
    for (size_t k = 0; k < ARRAY_SIZE(stack_cases); k++) {
        const char *spec = stack_cases[k].spec;
        struct ps_stack *stack;
        struct ps_dissection *d;
        size_t len;
        uint8_t *pkt = craft(k, &stack, &len);
        char *error = NULL;

        if (ps_dissect(registry, "eth", pkt, len, &d, &error)) {
            fail_msg("%s: %s", spec, error);
        }
        /* Every crafted header is found; the dissector may go deeper
         * than the stack, into the payload (after vxlan always comes
         * eth), never less deep. */
        size_t n = ps_stack_n_headers(stack);
        bool *covered = calloc(n, sizeof *covered);
        if (!d->stack) {
            fail_msg("%s: dissected as nothing", spec);
        }
        for (size_t h = 0; h < ps_stack_n_headers(d->stack); h++) {
            const struct ps_header_info *b = ps_stack_header(d->stack, h);
            if (b->offset < ps_stack_size(stack)) {
                cover_header(stack, d->stack, h, covered, spec);
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (!covered[i]) {
                char *text = ps_dissection_format(d, pkt, 0);
                fail_msg("%s: header %zu not found in\n%s", spec, i, text);
            }
        }
        free(covered);
        /* Every field, labelled or computed, reads back the same, from a
         * field of the same place and width. */
        for (size_t f = 0; f < ps_stack_n_fields(stack); f++) {
            const struct ps_field_info *a = ps_stack_field(stack, f);
            size_t g = 0;
            while (g < ps_stack_n_fields(d->stack)
                   && (ps_stack_field(d->stack, g)->bit_offset
                       != a->bit_offset
                       || ps_stack_field(d->stack, g)->bits != a->bits)) {
                g++;
            }
            if (g == ps_stack_n_fields(d->stack)) {
                fail_msg("%s: no field where %s is", spec, a->label);
            }
            char ta[512], tb[512];
            ps_stack_get_text(stack, pkt, f, ta, sizeof ta);
            ps_stack_get_text(d->stack, pkt, g, tb, sizeof tb);
            assert_string_equal(ta, tb);
        }
        if (d->n_problems) {
            fail_msg("%s: %s", spec, d->problems[0].message);
        }
        assert_null(d->truncated);
        assert_true(d->header_len >= ps_stack_size(stack));
        assert_int_equal(d->packet_len, len);
        ps_dissection_destroy(d);
        ps_stack_destroy(stack);
        free(pkt);
    }
}

/* The stack a packet is found to have is compiled once per registry
 * generation: the same headers give the same stack, from the registry's
 * cache; after a load, a stack compiled anew. */
static void
test_stack_cached(void **state)
{
    struct ps_registry *reg = ps_registry_create();
    struct ps_stack *stack;
    struct ps_dissection *a, *b, *c;
    size_t len;
    char *error = NULL;
    uint8_t *pkt = craft(0, &stack, &len);

    assert_int_equal(ps_registry_load_default(reg, &error), PS_OK);
    assert_int_equal(ps_dissect(reg, "eth", pkt, len, &a, NULL), PS_OK);
    assert_int_equal(ps_dissect(reg, "eth", pkt, len, &b, NULL), PS_OK);
    assert_non_null(a->stack);
    assert_ptr_equal(a->stack, b->stack);
    assert_int_equal(ps_registry_load_string(
                         reg, "x.proto", "protocol x \"X\" {\n"
                         "    bit<8> a \"A\";\n}\n", &error), PS_OK);
    assert_int_equal(ps_dissect(reg, "eth", pkt, len, &c, NULL), PS_OK);
    assert_ptr_not_equal(a->stack, c->stack);
    assert_string_equal(ps_stack_spec(a->stack), ps_stack_spec(c->stack));
    ps_dissection_destroy(a);
    ps_dissection_destroy(b);
    ps_dissection_destroy(c);
    ps_stack_destroy(stack);
    free(pkt);
    ps_registry_destroy(reg);
}

/* The one-line summary: headers, payload, fields found bad, truncation. */
static void
test_summary(void **state)
{
    struct ps_stack *stack;
    struct ps_dissection *d;
    char *text;

    assert_int_equal(ps_stack_create(registry, "eth,ip4,udp", &stack,
                                     NULL), PS_OK);
    size_t len = ps_stack_size(stack) + 10;
    uint8_t *pkt = calloc(1, len);
    assert_int_equal(ps_stack_fill(stack, pkt, len, "udp.dst=9", NULL),
                     PS_OK);
    assert_int_equal(ps_dissect(registry, "eth", pkt, len, &d, NULL), PS_OK);
    text = ps_dissection_format(d, pkt, PS_DUMP_SUMMARY | PS_DUMP_HEX);
    assert_string_equal(text, "eth ip4 udp, payload 10\n");
    free(text);
    ps_dissection_destroy(d);

    pkt[41] ^= 1;                       /* The UDP checksum. */
    assert_int_equal(ps_dissect(registry, "eth", pkt, len - 12, &d, NULL),
                     PS_OK);
    text = ps_dissection_format(d, pkt, PS_DUMP_SUMMARY);
    assert_string_equal(text, "eth ip4, payload 6, bad ip4.len, truncated: "
                        "udp needs 8 bytes, 6 left\n");
    free(text);
    ps_dissection_destroy(d);
    assert_int_equal(ps_dissect(registry, "eth", pkt, len, &d, NULL), PS_OK);
    text = ps_dissection_format(d, pkt, PS_DUMP_SUMMARY);
    assert_string_equal(text, "eth ip4 udp, payload 10, bad udp.cksum\n");
    free(text);
    ps_dissection_destroy(d);
    ps_stack_destroy(stack);
    free(pkt);
}

/* Repeated protocols are named automatically. */
static void
test_names(void **state)
{
    struct ps_stack *stack;
    struct ps_dissection *d;
    size_t len;
    uint8_t *pkt = craft(0, &stack, &len);   /* VXLAN, inner Ethernet. */

    assert_int_equal(ps_dissect(registry, "eth", pkt, len, &d, NULL), PS_OK);
    assert_string_equal(ps_stack_header(d->stack, 4)->name, "inner_eth");
    ps_dissection_destroy(d);
    ps_stack_destroy(stack);
    free(pkt);

    /* Three Ethernet headers: eth, inner_eth, inner2_eth. */
    assert_int_equal(ps_stack_create(registry, "eth,ip4,udp,vxlan,"
                                     "{eth,name=e2},{ip4,name=i2},gre,"
                                     "{eth,name=e3}", &stack, NULL), PS_OK);
    len = ps_stack_size(stack);
    pkt = calloc(1, len);
    assert_int_equal(ps_stack_fill(stack, pkt, len, NULL, NULL), PS_OK);
    assert_int_equal(ps_dissect(registry, "eth", pkt, len, &d, NULL), PS_OK);
    assert_int_equal(ps_stack_find_header(d->stack, "inner2_eth"), 7);
    ps_dissection_destroy(d);
    ps_stack_destroy(stack);
    free(pkt);
}

static bool
has_problem(const struct ps_dissection *d, const char *label,
            const char *text)
{
    for (size_t i = 0; i < d->n_problems; i++) {
        const struct ps_field_info *fi;
        fi = ps_stack_field(d->stack, d->problems[i].field);
        if (!strcmp(fi->label, label)
            && strstr(d->problems[i].message, text)) {
            return true;
        }
    }
    return false;
}

static void
test_bad_lengths_and_checksums(void **state)
{
    struct ps_stack *stack;
    struct ps_dissection *d;
    size_t len;
    uint8_t *pkt = craft(0, &stack, &len);
    size_t field;

    /* A wrong IPv4 header checksum. */
    assert_int_equal(ps_stack_set_text(stack, pkt, "ip4.cksum", "0x1234",
                                       NULL), PS_OK);
    assert_int_equal(ps_dissect(registry, "eth", pkt, len, &d, NULL), PS_OK);
    assert_true(has_problem(d, "ip4.cksum", "bad cksum 0x1234"));
    char *text = ps_dissection_format(d, pkt, 0);
    assert_non_null(strstr(text, "cksum=0x1234 [bad cksum 0x1234 "
                           "(expected 0x"));
    free(text);
    ps_dissection_destroy(d);

    /* A payload byte changed under the UDP checksums, inner and outer. */
    assert_int_equal(ps_stack_fill(stack, pkt, len, NULL, NULL), PS_OK);
    pkt[len - 1] ^= 0x55;
    assert_int_equal(ps_dissect(registry, "eth", pkt, len, &d, NULL), PS_OK);
    assert_true(has_problem(d, "udp.cksum", "bad cksum"));
    assert_false(has_problem(d, "ip4.cksum", "bad cksum"));
    ps_dissection_destroy(d);

    /* An IPv4 length longer than the frame. */
    assert_int_equal(ps_stack_fill(stack, pkt, len, NULL, NULL), PS_OK);
    assert_int_equal(ps_stack_find_field(stack, "ip4.len", &field, NULL),
                     PS_OK);
    assert_int_equal(ps_stack_set_uint(stack, pkt, field, 1000), PS_OK);
    assert_int_equal(ps_dissect(registry, "eth", pkt, len, &d, NULL), PS_OK);
    assert_true(has_problem(d, "ip4.len", "bad length 1000"));
    ps_dissection_destroy(d);
    ps_stack_destroy(stack);
    free(pkt);
}

/* PS_DISSECT_NO_VERIFY finds the same headers and reports no length or
 * checksum; ps_dissect_into() reuses one dissection. */
static void
test_no_verify(void **state)
{
    struct ps_stack *stack;
    struct ps_dissection d, *v;
    size_t len, field;
    uint8_t *pkt = craft(0, &stack, &len);

    assert_int_equal(ps_stack_set_text(stack, pkt, "ip4.cksum", "0x1234",
                                       NULL), PS_OK);
    assert_int_equal(ps_stack_find_field(stack, "ip4.len", &field, NULL),
                     PS_OK);
    assert_int_equal(ps_stack_set_uint(stack, pkt, field, 1000), PS_OK);
    assert_int_equal(ps_dissect(registry, "eth", pkt, len, &v, NULL), PS_OK);
    assert_true(has_problem(v, "ip4.cksum", "bad cksum 0x1234"));
    assert_true(has_problem(v, "ip4.len", "bad length 1000"));

    for (int i = 0; i < 3; i++) {
        assert_int_equal(ps_dissect_into(registry, "eth", pkt, len,
                                         PS_DISSECT_NO_VERIFY, &d, NULL),
                         PS_OK);
        assert_ptr_equal(d.stack, v->stack);
        assert_int_equal(d.n_problems, 0);
        assert_null(d.truncated);
        assert_int_equal(d.header_len, v->header_len);
        ps_dissection_clear(&d);
    }
    assert_int_equal(ps_dissect_into(registry, "eth", pkt, len, 0, &d, NULL),
                     PS_OK);
    assert_int_equal(d.n_problems, v->n_problems);
    ps_dissection_clear(&d);
    assert_int_equal(ps_dissect_into(registry, "nosuch", pkt, len, 0, &d,
                                     NULL), PS_ERR_NO_PROTOCOL);
    assert_null(d.stack);
    ps_dissection_destroy(v);

    /* A @magic field is still checked. */
    pkt[14] = 0x55;
    assert_int_equal(ps_dissect_flags(registry, "eth", pkt, len,
                                      PS_DISSECT_NO_VERIFY, &v, NULL),
                     PS_OK);
    assert_true(has_problem(v, "ip4.version", "bad value 5"));
    assert_int_equal(v->n_problems, 1);
    ps_dissection_destroy(v);
    ps_stack_destroy(stack);
    free(pkt);
}

/* Ethernet padding: a short IPv4/UDP packet in a 60-byte frame. */
static void
test_padding(void **state)
{
    struct ps_stack *stack;
    struct ps_dissection *d;
    uint8_t pkt[60] = { 0 };

    assert_int_equal(ps_stack_create(registry, "eth,ip4,udp", &stack, NULL),
                     PS_OK);
    assert_int_equal(ps_stack_fill(stack, pkt, 46, "udp.dst=9", NULL),
                     PS_OK);
    assert_int_equal(ps_dissect(registry, "eth", pkt, sizeof pkt, &d, NULL),
                     PS_OK);
    assert_int_equal(d->n_problems, 0);
    assert_int_equal(d->packet_len, 46);
    char *text = ps_dissection_format(d, pkt, 0);
    assert_non_null(strstr(text, "trailer: 14 bytes"));
    free(text);
    ps_dissection_destroy(d);
    ps_stack_destroy(stack);
}

static void
test_truncated(void **state)
{
    for (size_t k = 0; k < ARRAY_SIZE(stack_cases); k++) {
        struct ps_stack *stack;
        size_t len;
        uint8_t *full = craft(k, &stack, &len);

        for (size_t cut = 0; cut < ps_stack_size(stack); cut++) {
            /* An exact-size copy, so that ASan sees any read past it. */
            uint8_t *pkt = malloc(cut ? cut : 1);
            struct ps_dissection *d;
            memcpy(pkt, full, cut);
            assert_int_equal(ps_dissect(registry, "eth", pkt, cut, &d, NULL),
                             PS_OK);
            assert_true(d->header_len <= cut);
            if (!d->truncated) {
                fail_msg("%s cut to %zu bytes: not truncated\n%s",
                         stack_cases[k].spec, cut,
                         ps_dissection_format(d, pkt, 0));
            }
            bool *covered = calloc(ps_stack_n_headers(stack),
                                   sizeof *covered);
            for (size_t h = 0; d->stack && h < ps_stack_n_headers(d->stack);
                 h++) {
                cover_header(stack, d->stack, h, covered,
                             stack_cases[k].spec);
            }
            free(covered);
            free(ps_dissection_format(d, pkt, PS_DUMP_HEX));
            ps_dissection_destroy(d);
            free(pkt);
        }
        ps_stack_destroy(stack);
        free(full);
    }
}

/* The dissection that dissect_text_by() reuses. */
static struct ps_dissection reused;

/* The text of the dissection of 'len' bytes of 'pkt' by 'reg' with
 * 'flags': by ps_dissect_flags(), or if 'with', by ps_dissect_with() of
 * the registry's dissector of "eth" into 'reused', as a caller that
 * dissects frame after frame does. */
static char *
dissect_text_by(struct ps_registry *reg, const uint8_t *pkt, size_t len,
                unsigned int flags, bool with)
{
    struct ps_dissection *d = &reused;
    char *error = NULL;
    if (with ? ps_dissect_with(ps_registry_dissector(reg, "eth"), pkt, len,
                               flags, d, &error)
        : ps_dissect_flags(reg, "eth", pkt, len, flags, &d, &error)) {
        fail_msg("%s", error);
    }
    char *text = ps_dissection_format(d, pkt, 0);
    char *summary = ps_dissection_format(d, pkt, PS_DUMP_SUMMARY);
    size_t n = strlen(text);
    text = realloc(text, n + strlen(summary) + 1);
    strcpy(text + n, summary);
    free(summary);
    if (!with) {
        ps_dissection_destroy(d);
    }
    return text;
}

/* The text of the dissection of 'len' bytes of 'pkt' by 'reg'. */
static char *
dissect_text(struct ps_registry *reg, const uint8_t *pkt, size_t len)
{
    return dissect_text_by(reg, pkt, len, 0, false);
}

/* A packet of the same length as the one before it is tried against
 * the plan that one's walk left: with any one bit of its headers
 * flipped, it must be dissected as a walk dissects it.  The walk is by a
 * second registry of the same protocols: a thread's plans are of one
 * table at a time, so alternating between the registries makes every
 * dissection by 'other' a walk, and leaves the plan of the unchanged
 * packet in place for the changed one. */
static void
test_plans(void **state)
{
    struct ps_registry *other = load_shipped_protocols();
    size_t n_differ = 0;

    assert_non_null(other);
    for (size_t k = 0; k < ARRAY_SIZE(stack_cases); k++) {
        struct ps_stack *stack;
        size_t len;
        uint8_t *pkt = craft(k, &stack, &len);
        char *orig = dissect_text(other, pkt, len);

        for (size_t bit = 0; bit < ps_stack_size(stack) * 8; bit++) {
            pkt[bit / 8] ^= 0x80 >> bit % 8;
            char *walked = dissect_text(other, pkt, len);
            pkt[bit / 8] ^= 0x80 >> bit % 8;
            /* The plan of the unchanged packet is tried on the changed
             * one. */
            free(dissect_text(registry, pkt, len));
            pkt[bit / 8] ^= 0x80 >> bit % 8;
            char *planned = dissect_text(registry, pkt, len);
            if (strcmp(walked, planned)) {
                fail_msg("%s, bit %zu flipped: walked\n%s\nby plan\n%s",
                         stack_cases[k].spec, bit, walked, planned);
            }
            n_differ += strcmp(walked, orig) != 0;
            pkt[bit / 8] ^= 0x80 >> bit % 8;
            free(walked);
            free(planned);
        }
        free(orig);
        free(pkt);
        ps_stack_destroy(stack);
    }
    /* Flips changed what the walk found (a checksum at the least). */
    assert_true(n_differ > 0);
    ps_registry_destroy(other);
}

/* Fills case 'k' into a new buffer of '*lenp' bytes: 'payload' bytes of
 * zero payload, then 'trailer' bytes of 'fill' that no length covers. */
static uint8_t *
craft_sized(size_t k, size_t payload, size_t trailer, uint8_t fill,
            size_t *lenp)
{
    struct ps_stack *stack;
    char *error = NULL;
    if (ps_stack_create(registry, stack_cases[k].spec, &stack, &error)) {
        fail_msg("%s: %s", stack_cases[k].spec, error);
    }
    size_t len = ps_stack_size(stack) + payload;
    uint8_t *pkt = calloc(1, len + trailer);
    if (ps_stack_fill(stack, pkt, len, stack_cases[k].labels, &error)) {
        fail_msg("%s: %s", stack_cases[k].spec, error);
    }
    memset(pkt + len, fill, trailer);
    *lenp = len + trailer;
    ps_stack_destroy(stack);
    return pkt;
}

/* test_plans_lengths() with 'flags', by ps_dissect_with() if 'with'. */
static void
check_plans_lengths(unsigned int flags, bool with)
{
    static const struct {
        size_t payload, trailer;
        uint8_t fill;
    } variants[] = {
        { PAYLOAD + 1, 0, 0 },
        { PAYLOAD + 300, 0, 0 },
        { 0, 0, 0 },
        { 3, 0, 0 },
        { PAYLOAD, 1, 0 },
        { PAYLOAD, 23, 0xff },
        { PAYLOAD - 7, 7, 0x45 },
        { PAYLOAD - 1, 0, 0 },
    };
    struct ps_registry *other = load_shipped_protocols();

    assert_non_null(other);
    for (size_t k = 0; k < ARRAY_SIZE(stack_cases); k++) {
        size_t len;
        uint8_t *orig = craft_sized(k, PAYLOAD, 0, 0, &len);

        for (size_t i = 0; i < ARRAY_SIZE(variants); i++) {
            size_t vlen;
            uint8_t *pkt = craft_sized(k, variants[i].payload,
                                       variants[i].trailer,
                                       variants[i].fill, &vlen);
            /* A frame cut short of its lengths as well. */
            size_t cut = i == ARRAY_SIZE(variants) - 1 ? vlen - 9 : vlen;
            size_t header_bits = (vlen - variants[i].payload
                                  - variants[i].trailer) * 8;

            for (size_t bit = 0; bit <= header_bits; bit++) {
                /* The last round flips nothing. */
                uint8_t flip = bit < header_bits ? 0x80 >> bit % 8 : 0;
                pkt[bit / 8 % vlen] ^= flip;
                char *walked = dissect_text_by(other, pkt, cut, flags, with);
                /* The plan of 'orig' on the frame; then again after the
                 * unchanged frame, which that plan takes, left it as it
                 * is for that frame's length in its slot. */
                for (int round = 0; round < 2; round++) {
                    pkt[bit / 8 % vlen] ^= flip;
                    free(dissect_text_by(other, pkt, cut, flags, with));
                    free(dissect_text_by(registry, orig, len, flags, with));
                    if (round) {
                        free(dissect_text_by(registry, pkt, cut, flags, with));
                        free(dissect_text_by(registry, pkt, cut, flags, with));
                    }
                    pkt[bit / 8 % vlen] ^= flip;
                    char *planned = dissect_text_by(registry, pkt, cut, flags, with);
                    if (strcmp(walked, planned)) {
                        fail_msg("%s, variant %zu, bit %zu flipped, round "
                                 "%d, flags %u, %s: walked\n%s\nby plan\n"
                                 "%s", stack_cases[k].spec, i, bit, round,
                                 flags, with ? "with" : "into", walked,
                                 planned);
                    }
                    free(planned);
                }
                pkt[bit / 8 % vlen] ^= flip;
                free(walked);
            }
            free(pkt);
        }
        free(orig);
    }
    ps_registry_destroy(other);
}

/* Frames of another length than the one whose walk left a plan, which
 * is tried on them: the same headers with other payload lengths (their
 * lengths and checksums right), with trailers of zeros and of other
 * bytes, and shorter than the packet; as they are and with any one bit
 * of their headers flipped, each must be dissected as a walk dissects
 * it.  As in test_plans(), 'other' walks, and dissecting the frame of
 * the plan with 'registry' right before leaves its plan as the only one
 * that the thread has (the plans of another table are dropped).  In a
 * second round the unchanged frame is dissected twice before the
 * changed one, so that the plan, as it is for the unchanged frame's
 * length, is in that length's slot.  By ps_dissect() and, with and
 * without verification, by ps_dissect_with(), whose first path for a
 * frame of another length than the one before is the plan used last. */
static void
test_plans_lengths(void **state)
{
    check_plans_lengths(0, false);
    check_plans_lengths(0, true);
    check_plans_lengths(PS_DISSECT_NO_VERIFY, true);
    ps_dissection_clear(&reused);
}

/* 100,000 frames: random bytes, and crafted packets truncated and with
 * random bytes changed.  Nothing may crash or read past a frame; the
 * result must be consistent. */
static void
test_hostile_frames(void **state)
{
    size_t n_cases = ARRAY_SIZE(stack_cases);
    uint8_t *crafted[ARRAY_SIZE(stack_cases)];
    size_t crafted_len[ARRAY_SIZE(stack_cases)];
    size_t n_headers_seen = 0;

    for (size_t k = 0; k < n_cases; k++) {
        struct ps_stack *stack;
        crafted[k] = craft(k, &stack, &crafted_len[k]);
        ps_stack_destroy(stack);
    }
    for (int i = 0; i < 100000; i++) {
        size_t k = rng_next() % n_cases;
        size_t len;
        uint8_t *pkt;

        if (i % 4 == 0) {
            len = rng_next() % 200;
            pkt = malloc(len ? len : 1);
            for (size_t j = 0; j < len; j++) {
                pkt[j] = rng_next();
            }
        } else {
            len = rng_next() % (crafted_len[k] + 1);
            pkt = malloc(len ? len : 1);
            memcpy(pkt, crafted[k], len);
            for (int m = rng_next() % 4; m > 0 && len; m--) {
                pkt[rng_next() % len] = rng_next();
            }
        }

        struct ps_dissection *d;
        char *error = NULL;
        if (ps_dissect(registry, "eth", pkt, len, &d, &error)) {
            fail_msg("frame %d: %s", i, error);
        }
        assert_true(d->header_len <= len);
        assert_true(d->packet_len <= len);
        for (size_t p = 0; p < d->n_problems; p++) {
            assert_true(d->problems[p].field < ps_stack_n_fields(d->stack));
        }
        n_headers_seen += d->stack ? ps_stack_n_headers(d->stack) : 0;
        free(ps_dissection_format(d, pkt, i % 2 ? PS_DUMP_HEX
                                  : PS_DUMP_TEXT2PCAP));
        ps_dissection_destroy(d);
        free(pkt);
    }
    /* The mutated frames are mostly parseable: the test did reach deep
     * into stacks, not just fail on the first header. */
    assert_true(n_headers_seen > 100000);
    for (size_t k = 0; k < n_cases; k++) {
        free(crafted[k]);
    }
}

/* A chain of headers, each a flag and 24 fields present when it is set:
 * more places of moving fields than the dissector keeps on its stack,
 * and the header limit. */
static void
test_many_fields(void **state)
{
    struct ps_registry *reg = ps_registry_create();
    char text[4096];
    size_t len = 0;
    char *error = NULL;

    len += snprintf(text + len, sizeof text - len,
                    "protocol t \"T\" {\n    bit<8> g \"G\";\n");
    for (int i = 0; i < 24; i++) {
        len += snprintf(text + len, sizeof text - len,
                        "    bit<8> f%d if g \"F\";\n", i);
    }
    snprintf(text + len, sizeof text - len, "}\nbind t after t;\n");
    assert_int_equal(ps_registry_load_string(reg, "t.proto", text, &error),
                     PS_OK);

    /* Flags clear: 64 headers of one byte, then the limit. */
    uint8_t pkt[64 * 25 + 10];
    struct ps_dissection *d;
    memset(pkt, 0, sizeof pkt);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(ps_dissect(reg, "t", pkt, sizeof pkt, &d, &error),
                         PS_OK);
        assert_non_null(d->stack);
        assert_int_equal(ps_stack_n_headers(d->stack), 64);
        assert_int_equal(d->header_len, 64);
        assert_non_null(d->truncated);
        assert_non_null(strstr(d->truncated, "more than 64 headers"));
        ps_dissection_destroy(d);
    }

    /* Flags set: 64 headers of 25 bytes, 1,536 moving fields. */
    memset(pkt, 1, sizeof pkt);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(ps_dissect(reg, "t", pkt, sizeof pkt, &d, &error),
                         PS_OK);
        assert_int_equal(ps_stack_n_headers(d->stack), 64);
        assert_int_equal(d->header_len, 64 * 25);
        ps_dissection_destroy(d);
    }

    /* Cut short: the headers that fit, then why. */
    assert_int_equal(ps_dissect(reg, "t", pkt, 10 * 25 + 7, &d, &error),
                     PS_OK);
    assert_int_equal(ps_stack_n_headers(d->stack), 10);
    assert_non_null(strstr(d->truncated, "t needs 25 bytes, 7 left"));
    ps_dissection_destroy(d);
    ps_registry_destroy(reg);
}

/* The text of the dissection, without verification, of 'len' bytes of
 * 'pkt' from protocol 'first' into 'd' (NULL if there is no such
 * protocol). */
static char *
dissect_into_text(const char *first, const uint8_t *pkt, size_t len)
{
    struct ps_dissection d;
    char *text = NULL;

    if (ps_dissect_into(registry, first, pkt, len, PS_DISSECT_NO_VERIFY, &d,
                        NULL)) {
        assert_null(d.stack);
        assert_null(d.truncated);
        assert_null(d.problems);
        return NULL;
    }
    text = ps_dissection_format(&d, pkt, 0);
    ps_dissection_clear(&d);
    return text;
}

/* A frame whose plan holds is dissected from the protocol found last by
 * name only if the caller's name is that name: the same buffer holding
 * another name, a prefix of it or a longer one gets what that name gets
 * by a string of its own. */
static void
test_first_name_in_place(void **state)
{
    static const char *names[] = { "eth", "ip4", "et", "etha", "", "eth" };
    char name[8];

    for (size_t k = 0; k < ARRAY_SIZE(stack_cases); k++) {
        struct ps_stack *stack;
        size_t len;
        uint8_t *pkt = craft(k, &stack, &len);

        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
            /* Each name twice before, so that the frame has its plan. */
            char *want = dissect_into_text(names[i], pkt, len);
            free(dissect_into_text(names[i], pkt, len));

            strcpy(name, "eth");
            free(dissect_into_text(name, pkt, len));
            strcpy(name, names[i]);
            char *got = dissect_into_text(name, pkt, len);
            if (!want || !got) {
                assert_null(want);
                assert_null(got);
            } else if (strcmp(want, got)) {
                fail_msg("%s from \"%s\": wanted\n%s\ngot\n%s",
                         stack_cases[k].spec, names[i], want, got);
            }
            free(want);
            free(got);
        }
        free(pkt);
        ps_stack_destroy(stack);
    }
}

/* Whether 'd' is what 'want' (from ps_dissect()) is, by its text and its
 * offsets. */
static void
assert_same_dissection(const struct ps_dissection *d,
                       const struct ps_dissection *want, const uint8_t *pkt,
                       const char *spec)
{
    char *a = ps_dissection_format(want, pkt, 0);
    char *b = ps_dissection_format(d, pkt, 0);
    if (strcmp(a, b)) {
        fail_msg("%s: ps_dissect() gives\n%s\nps_dissect_with()\n%s",
                 spec, a, b);
    }
    free(a);
    free(b);
    assert_ptr_equal(d->stack, want->stack);
    assert_int_equal(d->n_headers, ps_stack_n_headers(want->stack));
    for (size_t i = 0; i < d->n_headers; i++) {
        assert_int_equal(d->offsets[i],
                         ps_stack_header(want->stack, i)->offset);
    }
    assert_int_equal(d->offsets[d->n_headers], want->header_len);
}

/* ps_dissect_with() gives what ps_dissect() gives, on a dissection
 * reused without ps_dissection_clear() (one with problems, then one
 * without, each twice so that the second takes its plan); a dissector
 * is one per name, and one of a name not yet loaded works once it
 * is. */
static void
test_dissector(void **state)
{
    struct ps_registry *reg = load_shipped_protocols();
    const struct ps_dissector *eth = ps_registry_dissector(reg, "eth");
    struct ps_dissection d;
    char *error = NULL;

    assert_ptr_equal(eth, ps_registry_dissector(reg, "eth"));
    assert_ptr_not_equal(eth, ps_registry_dissector(reg, "ip4"));
    assert_string_equal(ps_dissector_first(eth), "eth");

    memset(&d, 0, sizeof d);
    for (size_t k = 0; k < ARRAY_SIZE(stack_cases); k++) {
        struct ps_stack *stack;
        size_t len;
        uint8_t *pkt = craft(k, &stack, &len);
        size_t bad = ps_stack_size(stack) - 1;

        for (int round = 0; round < 4; round++) {
            struct ps_dissection *want;
            /* Rounds 0 and 1 with the last header byte changed. */
            pkt[bad] ^= round < 2 ? 0x5a : 0;
            assert_int_equal(ps_dissect(reg, "eth", pkt, len, &want, NULL),
                             PS_OK);
            for (unsigned int flags = 0; flags <= PS_DISSECT_NO_VERIFY;
                 flags += PS_DISSECT_NO_VERIFY) {
                assert_int_equal(ps_dissect_with(eth, pkt, len, flags, &d,
                                                 NULL), PS_OK);
                if (!flags) {
                    assert_same_dissection(&d, want, pkt,
                                           stack_cases[k].spec);
                }
            }
            assert_same_dissection(&d, &d, pkt, stack_cases[k].spec);
            assert_int_equal(ps_dissect_with(eth, pkt, len, 0, &d, NULL),
                             PS_OK);
            assert_same_dissection(&d, want, pkt, stack_cases[k].spec);
            pkt[bad] ^= round < 2 ? 0x5a : 0;
            ps_dissection_destroy(want);
        }
        free(pkt);
        ps_stack_destroy(stack);
    }

    /* A name that no protocol has, then one loaded. */
    const struct ps_dissector *t = ps_registry_dissector(reg, "t");
    uint8_t pkt[4] = { 1, 2, 3, 4 };
    assert_int_equal(ps_dissect_with(t, pkt, sizeof pkt, 0, &d, &error),
                     PS_ERR_NO_PROTOCOL);
    assert_non_null(strstr(error, "\"t\""));
    free(error);
    assert_null(d.stack);
    assert_int_equal(ps_registry_load_string(
                         reg, "t.proto", "protocol t \"T\" {\n"
                         "    bit<16> a \"A\";\n}\n", &error), PS_OK);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(ps_dissect_with(t, pkt, sizeof pkt, 0, &d, NULL),
                         PS_OK);
        assert_int_equal(d.n_headers, 1);
        assert_int_equal(d.offsets[0], 0);
        assert_int_equal(d.offsets[1], 2);
        assert_int_equal(d.packet_len, 4);
    }
    /* From "eth" again, on the newer table. */
    assert_int_equal(ps_dissect_with(eth, pkt, sizeof pkt, 0, &d, NULL),
                     PS_OK);
    assert_null(d.stack);
    assert_non_null(d.truncated);
    ps_dissection_clear(&d);
    ps_registry_destroy(reg);
}

static void
test_unknown_first(void **state)
{
    struct ps_dissection *d;
    char *error = NULL;
    uint8_t pkt[20] = { 0 };

    assert_int_equal(ps_dissect(registry, "ethernet", pkt, sizeof pkt, &d,
                                &error), PS_ERR_NO_PROTOCOL);
    assert_non_null(strstr(error, "ethernet"));
    free(error);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_stack_cached),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_bad_lengths_and_checksums),
        cmocka_unit_test(test_no_verify),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_plans_lengths),
        cmocka_unit_test(test_hostile_frames),
        cmocka_unit_test(test_many_fields),
        cmocka_unit_test(test_unknown_first),
        cmocka_unit_test(test_first_name_in_place),
        cmocka_unit_test(test_dissector),
    };
    return cmocka_run_group_tests(tests, setup_registry, teardown_registry);
}
