/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of the stack compiler (stacks/stack.c) and of the run-time
 * API that fills packets (stacks/fill.c), with the shipped protocols.
 * Lengths and checksums are checked against an independent reference
 * written here. */

#include <config.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "protostack/protostack.h"
#include "test-common.h"

static void
assert_code(enum ps_error got, enum ps_error expected, const char *error)
{
    if (got != expected) {
        fail_msg("got %s, expected %s (message: %s)", ps_error_name(got),
                 ps_error_name(expected), error ? error : "(none)");
    }
}

static void
assert_contains(const char *s, const char *substring)
{
    if (!s || !strstr(s, substring)) {
        fail_msg("\"%s\" should contain \"%s\"", s ? s : "(null)",
                 substring);
    }
}

static struct ps_stack *
compile_in(const struct ps_registry *r, const char *spec)
{
    struct ps_stack *stack = NULL;
    char *error = NULL;
    enum ps_error code = ps_stack_create(r, spec, &stack, &error);

    if (code) {
        fail_msg("compiling \"%s\": %s: %s", spec, ps_error_name(code),
                 error ? error : "(no message)");
    }
    assert_non_null(stack);
    assert_null(error);
    return stack;
}

static struct ps_stack *
compile(const char *spec)
{
    return compile_in(registry, spec);
}

static size_t
field(const struct ps_stack *stack, const char *label)
{
    size_t index = SIZE_MAX;
    char *error = NULL;

    if (ps_stack_find_field(stack, label, &index, &error)) {
        fail_msg("%s: %s", label, error);
    }
    assert_true(index < ps_stack_n_fields(stack));
    assert_string_equal(ps_stack_field(stack, index)->label, label);
    return index;
}

/* The value of integer field 'label' in 'pkt'. */
static uint64_t
get(const struct ps_stack *stack, const uint8_t *pkt, const char *label)
{
    return ps_stack_get_uint(stack, pkt, field(stack, label));
}

static uint16_t
be16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* The reference Internet checksum: 16-bit words, one at a time. */

static uint64_t
ref_sum(uint64_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i += 2) {
        sum += (uint16_t) (p[i] << 8 | (i + 1 < len ? p[i + 1] : 0));
    }
    return sum;
}

static uint16_t
ref_finish(uint64_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
}

/* The checksum of the 'len' bytes at 'p', with the 16-bit field at offset
 * 'cksum' counted as zero, plus 'pseudo' (a partial sum). */
static uint16_t
ref_csum(const uint8_t *p, size_t len, size_t cksum, uint64_t pseudo)
{
    uint8_t *copy = malloc(len ? len : 1);

    memcpy(copy, p, len);
    copy[cksum] = copy[cksum + 1] = 0;
    uint16_t c = ref_finish(ref_sum(pseudo, copy, len));
    free(copy);
    return c;
}

/* RFC 768 / RFC 793 pseudo-header of the IPv4 header at 'ip'. */
static uint64_t
ref_pseudo4(const uint8_t *ip, uint8_t proto, size_t len)
{
    uint8_t ph[12];

    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = proto;
    ph[10] = len >> 8;
    ph[11] = len;
    return ref_sum(0, ph, sizeof ph);
}

/* RFC 8200 section 8.1 pseudo-header of the IPv6 header at 'ip'. */
static uint64_t
ref_pseudo6(const uint8_t *ip, uint8_t next, size_t len)
{
    uint8_t ph[40];

    memcpy(ph, ip + 8, 32);
    ph[32] = len >> 24;
    ph[33] = len >> 16;
    ph[34] = len >> 8;
    ph[35] = len;
    ph[36] = ph[37] = ph[38] = 0;
    ph[39] = next;
    return ref_sum(0, ph, sizeof ph);
}

/* Checks the IPv4 header at 'ip' ('hlen' bytes) for a datagram of
 * 'total' bytes. */
static void
check_ip4(const uint8_t *ip, size_t hlen, size_t total, uint8_t proto)
{
    assert_int_equal(ip[0] >> 4, 4);
    assert_int_equal((ip[0] & 0xf) * 4, hlen);
    assert_int_equal(be16(ip + 2), total);
    assert_int_equal(ip[8], 64);
    assert_int_equal(ip[9], proto);
    assert_int_equal(be16(ip + 10), ref_csum(ip, hlen, 10, 0));
    /* And so the header sums to zero, as a receiver checks. */
    assert_int_equal(ref_finish(ref_sum(0, ip, hlen)), 0);
}

/* Checks the UDP header at 'pkt + udp' of a packet of 'pkt_len' bytes,
 * carried in the IPv4 or IPv6 header at 'pkt + ip'. */
static void
check_udp(const uint8_t *pkt, size_t ip, int version, size_t udp,
          size_t pkt_len)
{
    size_t len = pkt_len - udp;
    uint64_t pseudo = (version == 4 ? ref_pseudo4(pkt + ip, 17, len)
                       : ref_pseudo6(pkt + ip, 17, len));
    uint16_t c = ref_csum(pkt + udp, len, 6, pseudo);

    assert_int_equal(be16(pkt + udp + 4), len);
    assert_int_equal(be16(pkt + udp + 6), c ? c : 0xffff);
}

/* Checks a checksum at 'cksum' within the 'len' bytes at 'p' that takes
 * 'proto' and the pseudo-header of the IPv4 or IPv6 header at 'ip'. */
static void
check_l4(const uint8_t *ip, int version, const uint8_t *p, size_t len,
         size_t cksum, uint8_t proto)
{
    uint64_t pseudo = (version == 4 ? ref_pseudo4(ip, proto, len)
                       : ref_pseudo6(ip, proto, len));

    assert_int_equal(be16(p + cksum), ref_csum(p, len, cksum, pseudo));
}

/* Spec parsing. */

static void
test_spec_canonical(void **state)
{
    static const struct {
        const char *spec;
        const char *canonical;
    } cases[] = {
        { "eth,ip4,udp,vxlan,{eth,name=inner_eth}",
          "eth,ip4,udp,vxlan,{eth,name=inner_eth}" },
        { " eth , ip4 ,\t{ udp , name = u } ", "eth,ip4,{udp,name=u}" },
        { "{eth},ip4", "eth,ip4" },
        { "{eth,subtype=vlan},ip6,{tcp,length=12}",
          "{eth,subtype=vlan},ip6,{tcp,length=12}" },
        { "eth,ip4,{gre, k=1 ,s=1}", "eth,ip4,{gre,k=1,s=1}" },
        { "eth", "eth" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ps_stack *stack = compile(cases[i].spec);

        assert_string_equal(ps_stack_spec(stack), cases[i].canonical);
        /* The canonical form compiles to the same stack. */
        struct ps_stack *again = compile(ps_stack_spec(stack));
        assert_int_equal(ps_stack_size(again), ps_stack_size(stack));
        assert_memory_equal(ps_stack_template(again),
                            ps_stack_template(stack), ps_stack_size(stack));
        ps_stack_destroy(again);
        ps_stack_destroy(stack);
    }

    struct ps_stack *stack = compile(" eth , ip4 ,\t{ udp , name = u } ");
    assert_int_equal(ps_stack_n_headers(stack), 3);
    assert_string_equal(ps_stack_header(stack, 2)->name, "u");
    assert_string_equal(ps_stack_header(stack, 2)->protocol, "udp");
    assert_string_equal(ps_stack_header(stack, 2)->subtype, "plain");
    assert_int_equal(ps_stack_find_header(stack, "u"), 2);
    assert_int_equal(ps_stack_find_header(stack, "udp"), -1);
    field(stack, "u.dst");
    ps_stack_destroy(stack);
}

struct spec_error {
    const char *spec;
    enum ps_error code;
    const char *substrings[3];
};

static void
check_spec_errors(const struct spec_error *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct ps_stack *stack = (struct ps_stack *) &stack;
        char *error = NULL;
        enum ps_error code = ps_stack_create(registry, cases[i].spec, &stack,
                                             &error);

        if (code != cases[i].code) {
            fail_msg("\"%s\": got %s, expected %s (%s)", cases[i].spec,
                     ps_error_name(code), ps_error_name(cases[i].code),
                     error ? error : "no message");
        }
        assert_null(stack);
        assert_non_null(error);
        for (size_t j = 0; j < 3 && cases[i].substrings[j]; j++) {
            assert_contains(error, cases[i].substrings[j]);
        }
        free(error);

        /* Without 'errorp', the same code. */
        assert_int_equal(ps_stack_create(registry, cases[i].spec, &stack,
                                         NULL),
                         code);
        assert_null(stack);
    }
}

static void
test_spec_syntax_errors(void **state)
{
    static const struct spec_error cases[] = {
        { "", PS_ERR_SYNTAX, { NULL } },
        { "   ", PS_ERR_SYNTAX, { NULL } },
        { "eth,,ip4", PS_ERR_SYNTAX, { "column 5" } },
        { "eth,ip4,", PS_ERR_SYNTAX, { NULL } },
        { "eth ip4", PS_ERR_SYNTAX, { "eth ip4" } },
        { "eth}", PS_ERR_SYNTAX, { NULL } },
        { "{eth", PS_ERR_SYNTAX, { "'{' without '}'" } },
        { "{eth}x", PS_ERR_SYNTAX, { "column 6" } },
        { "{eth,name}", PS_ERR_SYNTAX, { "KEY=VALUE", "name" } },
        { "{eth,=x}", PS_ERR_SYNTAX, { "KEY=VALUE" } },
        { "{eth,name=}", PS_ERR_SYNTAX, { "KEY=VALUE" } },
        { "{eth,name=1x}", PS_ERR_SYNTAX, { "1x" } },
        { "{,name=x}", PS_ERR_SYNTAX, { "protocol name" } },
        { "eth,ip-4", PS_ERR_SYNTAX, { "ip-4" } },
        /* An option given twice: only the first would be checked. */
        { "eth,{ip4,subtype=plain,subtype=*/ int x; /*}", PS_ERR_SYNTAX,
          { "subtype", "twice", "column 24" } },
        { "eth,{ip4,name=a,name=b}", PS_ERR_SYNTAX, { "name", "twice" } },
        { "eth,ip4,{gre,k=1,k=1}", PS_ERR_SYNTAX, { "k", "twice" } },
    };

    check_spec_errors(cases, ARRAY_SIZE(cases));
}

static void
test_spec_errors(void **state)
{
    static const struct spec_error cases[] = {
        /* Unknown protocols, named with their column. */
        { "eth,ip4,foo", PS_ERR_NO_PROTOCOL, { "\"foo\"", "column 9" } },
        { "eth, {bar,name=b}", PS_ERR_NO_PROTOCOL,
          { "\"bar\"", "column 6" } },
        { "Eth", PS_ERR_NO_PROTOCOL, { "\"Eth\"", "column 1" } },
        /* Unknown subtypes. */
        { "{eth,subtype=foo}", PS_ERR_NO_SUBTYPE,
          { "foo", "plain, vlan, qinq" } },
        { "eth,{ip4,subtype=vlan}", PS_ERR_NO_SUBTYPE, { "vlan", "ip4" } },
        /* Header names used twice. */
        { "eth,eth,{eth,name=inner_eth}", PS_ERR_DUPLICATE,
          { "\"inner_eth\"", "column 9" } },
        { "{eth,name=inner_eth},eth", PS_ERR_DUPLICATE,
          { "\"inner_eth\"", "column 22" } },
        { "{eth,name=x},{ip4,name=x}", PS_ERR_DUPLICATE, { "\"x\"" } },
        { "{eth,name=ip4},ip4", PS_ERR_DUPLICATE, { "\"ip4\"" } },
        /* Options that are not options of the protocol. */
        { "eth,{ip4,foo=1}", PS_ERR_NO_FIELD, { "foo", "ip4" } },
        { "eth,{ip4,foo=*/}", PS_ERR_RANGE, { "foo" } },
        { "eth,ip4,{gre,k=0x0x1}", PS_ERR_RANGE, { "0x0x1" } },
        { "eth,ip4,{gre,k=01}", PS_ERR_RANGE, { "k=01" } },
        { "eth,{ip4,ttl=1}", PS_ERR_NO_FIELD, { "ttl" } },
        { "eth,{gre,key=1}", PS_ERR_NO_FIELD, { "key" } },
        /* Values that do not fit. */
        { "eth,ip4,{gre,k=2}", PS_ERR_RANGE, { "k=2" } },
        { "eth,{ip4,length=70000}", PS_ERR_RANGE, { "70000" } },
        /* length= on a protocol without a variable-length member. */
        { "eth,ip4,{udp,length=4}", PS_ERR_LAYOUT, { "udp", "length" } },
        { "{eth,length=0}", PS_ERR_LAYOUT, { "eth" } },
        /* Lengths that no header field can express. */
        { "eth,{ip4,length=3}", PS_ERR_LAYOUT, { "ip4.options" } },
        { "eth,{ip4,length=44}", PS_ERR_LAYOUT, { "ip4" } },
        { "eth,ip4,{tcp,length=2}", PS_ERR_LAYOUT, { "tcp.options" } },
        { "eth,ip4,udp,{geneve,length=3}", PS_ERR_LAYOUT,
          { "geneve.options" } },
    };

    check_spec_errors(cases, ARRAY_SIZE(cases));

    /* A value that is not a number. */
    struct ps_stack *stack;
    char *error = NULL;
    assert_int_not_equal(ps_stack_create(registry, "eth,{ip4,length=x}",
                                         &stack, &error), PS_OK);
    assert_null(stack);
    assert_contains(error, "length=x");
    free(error);
}

static void
test_spec_ip4_length(void **state)
{
    struct ps_stack *stack = compile("eth,{ip4,length=8},udp");
    const uint8_t *t = ps_stack_template(stack);

    assert_int_equal(ps_stack_size(stack), 14 + 28 + 8);
    assert_int_equal(ps_stack_header(stack, 1)->size, 28);
    assert_int_equal(ps_stack_header(stack, 2)->offset, 42);
    assert_int_equal(get(stack, t, "ip4.ihl"), 7);
    assert_int_equal(t[14], 0x47);

    const struct ps_field_info *fi = ps_stack_field(stack,
                                                    field(stack,
                                                          "ip4.options"));
    assert_int_equal(fi->type, PS_FIELD_BYTES);
    assert_int_equal(fi->bits, 64);
    assert_int_equal(fi->bit_offset, 8 * (14 + 20));

    /* The template is a legal packet: the header checksum covers the
     * options. */
    check_ip4(t + 14, 28, 36, 17);
    check_udp(t, 14, 4, 42, 50);
    ps_stack_destroy(stack);

    /* length=0 is the default layout. */
    stack = compile("eth,{ip4,length=0}");
    assert_int_equal(ps_stack_size(stack), 34);
    assert_int_equal(get(stack, ps_stack_template(stack), "ip4.ihl"), 5);
    ps_stack_destroy(stack);

    /* The longest options IPv4 allows. */
    stack = compile("{ip4,length=40}");
    assert_int_equal(ps_stack_size(stack), 60);
    assert_int_equal(get(stack, ps_stack_template(stack), "ip4.ihl"), 15);
    ps_stack_destroy(stack);
}

static void
test_spec_tcp_length(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,{tcp,length=12}");
    const uint8_t *t = ps_stack_template(stack);

    assert_int_equal(ps_stack_size(stack), 14 + 20 + 32);
    assert_int_equal(ps_stack_header(stack, 2)->size, 32);
    assert_int_equal(get(stack, t, "tcp.doff"), 8);
    assert_int_equal(t[34 + 12], 0x80);
    assert_int_equal(get(stack, t, "tcp.syn"), 1);
    assert_int_equal(get(stack, t, "tcp.window"), 8192);
    assert_int_equal(ps_stack_field(stack,
                                    field(stack, "tcp.options"))->bits, 96);
    check_ip4(t + 14, 20, 52, 6);
    check_l4(t + 14, 4, t + 34, 32, 16, 6);
    ps_stack_destroy(stack);

    stack = compile("eth,ip4,tcp");
    assert_int_equal(get(stack, ps_stack_template(stack), "tcp.doff"), 5);
    ps_stack_destroy(stack);
}

static void
test_spec_gre_flags(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,{gre,k=1,s=1},"
                                     "{eth,name=inner_eth}");
    const uint8_t *t = ps_stack_template(stack);
    static const char *const labels[] = {
        "gre.c", "gre.r", "gre.k", "gre.s", "gre.reserved0", "gre.ver",
        "gre.proto", "gre.key", "gre.seq",
    };

    assert_int_equal(ps_stack_header(stack, 2)->size, 12);
    assert_int_equal(ps_stack_size(stack), 14 + 20 + 12 + 14);
    const struct ps_header_info *h = ps_stack_header(stack, 2);
    const struct ps_field_info *first = ps_stack_field(stack,
                                                       field(stack,
                                                             "gre.c"));
    for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
        const struct ps_field_info *fi = ps_stack_field(
            stack, field(stack, labels[0]) + i);
        assert_string_equal(fi->label, labels[i]);
        assert_int_equal(fi->header, 2);
    }
    assert_int_equal(first->bit_offset, 8 * h->offset);
    assert_int_equal(ps_stack_field(stack, field(stack, "gre.key"))
                     ->bit_offset, 8 * (34 + 4));
    assert_int_equal(ps_stack_field(stack, field(stack, "gre.seq"))
                     ->bit_offset, 8 * (34 + 8));

    /* The flags are set in the template. */
    assert_int_equal(t[34], 0x30);
    assert_int_equal(t[35], 0x00);
    assert_int_equal(get(stack, t, "gre.k"), 1);
    assert_int_equal(get(stack, t, "gre.s"), 1);
    assert_int_equal(get(stack, t, "gre.c"), 0);
    assert_int_equal(be16(t + 36), 0x6558);
    assert_int_equal(t[14 + 9], 47);

    size_t index;
    assert_int_equal(ps_stack_find_field(stack, "gre.cksum", &index, NULL),
                     PS_ERR_NO_FIELD);
    ps_stack_destroy(stack);

    /* Without flags: 4 bytes. */
    stack = compile("eth,ip4,gre,{eth,name=inner_eth}");
    assert_int_equal(ps_stack_header(stack, 2)->size, 4);
    assert_int_equal(ps_stack_template(stack)[34], 0);
    assert_int_equal(ps_stack_find_field(stack, "gre.key", &index, NULL),
                     PS_ERR_NO_FIELD);
    ps_stack_destroy(stack);

    /* With a checksum: computed over the GRE header and payload. */
    stack = compile("eth,ip4,{gre,c=1},{eth,name=inner_eth}");
    assert_int_equal(ps_stack_header(stack, 2)->size, 8);
    t = ps_stack_template(stack);
    assert_int_equal(t[34], 0x80);
    field(stack, "gre.reserved1");
    uint8_t pkt[200];
    rng_fill(pkt, sizeof pkt);
    assert_int_equal(ps_stack_fill(stack, pkt, 151, NULL, NULL), PS_OK);
    assert_int_equal(be16(pkt + 38), ref_csum(pkt + 34, 151 - 34, 4, 0));
    check_ip4(pkt + 14, 20, 151 - 14, 47);
    ps_stack_destroy(stack);
}

static void
test_spec_subtypes(void **state)
{
    struct ps_stack *stack = compile("{eth,subtype=qinq},ip4");
    const uint8_t *t = ps_stack_template(stack);

    assert_int_equal(ps_stack_header(stack, 0)->size, 22);
    assert_string_equal(ps_stack_header(stack, 0)->subtype, "qinq");
    assert_string_equal(ps_stack_header(stack, 0)->protocol, "eth");
    assert_int_equal(ps_stack_header(stack, 1)->offset, 22);
    assert_int_equal(ps_stack_size(stack), 42);

    static const struct {
        const char *label;
        size_t bit_offset;
        size_t bits;
        uint64_t value;
    } fields[] = {
        { "eth.dst", 0, 48, 0 },
        { "eth.src", 48, 48, 0 },
        { "eth.tpid", 96, 16, 0x88a8 },
        { "eth.pcp", 112, 3, 0 },
        { "eth.dei", 115, 1, 0 },
        { "eth.vid", 116, 12, 0 },
        { "eth.ctpid", 128, 16, 0x8100 },
        { "eth.cpcp", 144, 3, 0 },
        { "eth.cdei", 147, 1, 0 },
        { "eth.cvid", 148, 12, 0 },
        { "eth.type", 160, 16, 0x0800 },
    };
    assert_int_equal(ps_stack_header(stack, 0)->size * 8, 176);
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        size_t f = field(stack, fields[i].label);
        const struct ps_field_info *fi = ps_stack_field(stack, f);

        assert_int_equal(f, i);
        assert_int_equal(fi->bit_offset, fields[i].bit_offset);
        assert_int_equal(fi->bits, fields[i].bits);
        if (fi->type == PS_FIELD_UINT) {
            assert_int_equal(ps_stack_get_uint(stack, t, f),
                             fields[i].value);
        }
    }
    assert_int_equal(be16(t + 12), 0x88a8);
    assert_int_equal(be16(t + 16), 0x8100);
    assert_int_equal(be16(t + 20), 0x0800);
    check_ip4(t + 22, 20, 20, 255);
    ps_stack_destroy(stack);

    stack = compile("{eth,subtype=vlan},ip6");
    t = ps_stack_template(stack);
    assert_int_equal(ps_stack_header(stack, 0)->size, 18);
    assert_int_equal(be16(t + 12), 0x8100);
    assert_int_equal(be16(t + 16), 0x86dd);
    assert_int_equal(get(stack, t, "eth.type"), 0x86dd);
    ps_stack_destroy(stack);

    stack = compile("{eth,subtype=plain}");
    assert_int_equal(ps_stack_size(stack), 14);
    assert_string_equal(ps_stack_header(stack, 0)->subtype, "plain");
    ps_stack_destroy(stack);
}

/* Layout. */

static void
test_layout_vxlan(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp,vxlan,"
                                     "{eth,name=inner_eth}");

    assert_string_equal(ps_stack_spec(stack),
                        "eth,ip4,udp,vxlan,{eth,name=inner_eth}");
    assert_int_equal(ps_stack_size(stack), 64);
    assert_int_equal(ps_stack_n_headers(stack), 5);
    assert_null(ps_stack_header(stack, 5));

    static const struct {
        const char *name, *protocol;
        size_t offset, size;
    } headers[] = {
        { "eth", "eth", 0, 14 },
        { "ip4", "ip4", 14, 20 },
        { "udp", "udp", 34, 8 },
        { "vxlan", "vxlan", 42, 8 },
        { "inner_eth", "eth", 50, 14 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(headers); i++) {
        const struct ps_header_info *h = ps_stack_header(stack, i);

        assert_string_equal(h->name, headers[i].name);
        assert_string_equal(h->protocol, headers[i].protocol);
        assert_string_equal(h->subtype, "plain");
        assert_int_equal(h->offset, headers[i].offset);
        assert_int_equal(h->size, headers[i].size);
        assert_int_equal(ps_stack_find_header(stack, headers[i].name), i);
    }
    assert_string_equal(ps_stack_header(stack, 3)->doc,
                        "Virtual eXtensible LAN (RFC 7348)");
    assert_int_equal(ps_stack_find_header(stack, "inner"), -1);

    /* 3 + 16 + 4 + 4 + 3 fields, in wire order. */
    assert_int_equal(ps_stack_n_fields(stack), 30);
    assert_null(ps_stack_field(stack, 30));
    size_t prev_end = 0;
    for (size_t i = 0; i < ps_stack_n_fields(stack); i++) {
        const struct ps_field_info *fi = ps_stack_field(stack, i);
        assert_int_equal(fi->bit_offset, prev_end);
        prev_end = fi->bit_offset + fi->bits;
    }
    assert_int_equal(prev_end, 64 * 8);

    static const struct {
        const char *label;
        size_t header, bit_offset, bits;
        enum ps_field_type type;
        enum ps_field_rule rule;
        const char *rule_text;
        bool hex;
    } fields[] = {
        { "eth.dst", 0, 0, 48, PS_FIELD_MAC, PS_RULE_CONST, "0", false },
        { "eth.type", 0, 96, 16, PS_FIELD_UINT, PS_RULE_NEXT,
          "next(65535)", true },
        { "ip4.version", 1, 112, 4, PS_FIELD_UINT, PS_RULE_CONST, "4",
          false },
        { "ip4.ihl", 1, 116, 4, PS_FIELD_UINT, PS_RULE_LENGTH,
          "length(header, unit=4)", false },
        { "ip4.len", 1, 128, 16, PS_FIELD_UINT, PS_RULE_LENGTH,
          "length(rest)", false },
        { "ip4.frag", 1, 163, 13, PS_FIELD_UINT, PS_RULE_CONST, "0",
          false },
        { "ip4.proto", 1, 184, 8, PS_FIELD_UINT, PS_RULE_NEXT, "next(255)",
          false },
        { "ip4.cksum", 1, 192, 16, PS_FIELD_UINT, PS_RULE_CHECKSUM,
          "checksum(header)", true },
        { "ip4.src", 1, 208, 32, PS_FIELD_IP4, PS_RULE_CONST, "0", false },
        { "ip4.options", 1, 272, 0, PS_FIELD_BYTES, PS_RULE_CONST,
          "size ((ihl * 4) - 20)", false },
        { "udp.src", 2, 272, 16, PS_FIELD_UINT, PS_RULE_CONST, "0", false },
        { "udp.dst", 2, 288, 16, PS_FIELD_UINT, PS_RULE_NEXT, "next(0)",
          false },
        { "udp.cksum", 2, 320, 16, PS_FIELD_UINT, PS_RULE_CHECKSUM,
          "checksum(rest, pseudo, nonzero)", true },
        { "vxlan.flags", 3, 336, 8, PS_FIELD_UINT, PS_RULE_CONST, "8",
          true },
        { "vxlan.vni", 3, 368, 24, PS_FIELD_UINT, PS_RULE_CONST, "0",
          false },
        { "inner_eth.dst", 4, 400, 48, PS_FIELD_MAC, PS_RULE_CONST, "0",
          false },
        { "inner_eth.src", 4, 448, 48, PS_FIELD_MAC, PS_RULE_CONST, "0",
          false },
        { "inner_eth.type", 4, 496, 16, PS_FIELD_UINT, PS_RULE_NEXT,
          "next(65535)", true },
    };
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        const struct ps_field_info *fi = ps_stack_field(
            stack, field(stack, fields[i].label));

        assert_int_equal(fi->header, fields[i].header);
        assert_int_equal(fi->bit_offset, fields[i].bit_offset);
        assert_int_equal(fi->bits, fields[i].bits);
        assert_int_equal(fi->type, fields[i].type);
        assert_int_equal(fi->rule, fields[i].rule);
        assert_string_equal(fi->rule_text, fields[i].rule_text);
        assert_int_equal(fi->hex, fields[i].hex);
        assert_non_null(fi->doc);
    }
    const struct ps_field_info *vni = ps_stack_field(stack,
                                                     field(stack,
                                                           "vxlan.vni"));
    assert_string_equal(vni->name, "vni");
    assert_string_equal(vni->doc, "VXLAN network identifier");

    /* Flow entropy goes into the outer UDP source port. */
    assert_int_equal(ps_stack_entropy_field(stack), field(stack, "udp.src"));
    assert_true(ps_stack_field(stack, field(stack, "udp.src"))->entropy);
    assert_false(ps_stack_field(stack, field(stack, "udp.dst"))->entropy);
    ps_stack_destroy(stack);
}

static void
test_fixup_plan(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp,vxlan,"
                                     "{eth,name=inner_eth}");

    assert_int_equal(ps_stack_n_length_fixups(stack), 2);
    const struct ps_length_fixup *l = ps_stack_length_fixup(stack, 0);
    assert_int_equal(l->field, field(stack, "ip4.len"));
    assert_int_equal(l->start, 14);
    assert_int_equal(l->sub, 0);
    assert_int_equal(l->unit, 1);
    l = ps_stack_length_fixup(stack, 1);
    assert_int_equal(l->field, field(stack, "udp.len"));
    assert_int_equal(l->start, 34);
    assert_null(ps_stack_length_fixup(stack, 2));

    /* Checksums, innermost first. */
    assert_int_equal(ps_stack_n_checksum_fixups(stack), 2);
    const struct ps_checksum_fixup *c = ps_stack_checksum_fixup(stack, 0);
    assert_int_equal(c->field, field(stack, "udp.cksum"));
    assert_int_equal(c->header, 2);
    assert_int_equal(c->start, 34);
    assert_int_equal(c->end, 0);
    assert_true(c->nonzero);
    assert_int_equal(c->n_pseudo, 5);
    assert_int_equal(c->pseudo[0].kind, PS_PSEUDO_BYTES);
    assert_int_equal(c->pseudo[0].offset, 26);
    assert_int_equal(c->pseudo[0].bits, 32);
    assert_int_equal(c->pseudo[1].kind, PS_PSEUDO_BYTES);
    assert_int_equal(c->pseudo[1].offset, 30);
    assert_int_equal(c->pseudo[2].kind, PS_PSEUDO_ZERO);
    assert_int_equal(c->pseudo[2].bits, 8);
    /* UDP's protocol number, as ip4 binds it. */
    assert_int_equal(c->pseudo[3].kind, PS_PSEUDO_CONST);
    assert_int_equal(c->pseudo[3].value, 17);
    assert_int_equal(c->pseudo[3].bits, 8);
    assert_int_equal(c->pseudo[4].kind, PS_PSEUDO_LENGTH);
    assert_int_equal(c->pseudo[4].bits, 16);
    /* As it is summed: the addresses as one, the constant items added up
     * already, then the length. */
    assert_int_equal(c->pseudo_sum, 17);
    assert_int_equal(c->n_summed, 2);
    assert_int_equal(c->summed[0].kind, PS_PSEUDO_BYTES);
    assert_int_equal(c->summed[0].offset, 26);
    assert_int_equal(c->summed[0].bits, 64);
    assert_int_equal(c->summed[0].shift, 0);
    assert_int_equal(c->summed[1].kind, PS_PSEUDO_LENGTH);
    assert_int_equal(c->summed[1].mask, 0xffff);
    assert_int_equal(c->summed[1].shift, 0);

    c = ps_stack_checksum_fixup(stack, 1);
    assert_int_equal(c->field, field(stack, "ip4.cksum"));
    assert_int_equal(c->header, 1);
    assert_int_equal(c->start, 14);
    assert_int_equal(c->end, 34);
    assert_false(c->nonzero);
    assert_int_equal(c->n_pseudo, 0);
    assert_null(ps_stack_checksum_fixup(stack, 2));
    ps_stack_destroy(stack);

    /* UDP without an IP header below sums no pseudo-header. */
    stack = compile("eth,udp");
    assert_int_equal(ps_stack_n_checksum_fixups(stack), 1);
    assert_int_equal(ps_stack_checksum_fixup(stack, 0)->n_pseudo, 0);
    ps_stack_destroy(stack);

    /* With an extension header in between, the pseudo-header still
     * carries the upper layer's number. */
    stack = compile("eth,ip4,ah,tcp");
    c = ps_stack_checksum_fixup(stack, 0);
    assert_int_equal(c->field, field(stack, "tcp.cksum"));
    assert_int_equal(c->start, 58);
    assert_int_equal(c->n_pseudo, 5);
    assert_int_equal(c->pseudo[3].kind, PS_PSEUDO_CONST);
    assert_int_equal(c->pseudo[3].value, 6);
    ps_stack_destroy(stack);

    /* Without a binding between the two, the network header's own
     * next-protocol field. */
    stack = compile("eth,ip4,icmp6");
    c = ps_stack_checksum_fixup(stack, 0);
    assert_int_equal(c->field, field(stack, "icmp6.cksum"));
    assert_int_equal(c->n_pseudo, 5);
    assert_int_equal(c->pseudo[3].kind, PS_PSEUDO_PROTO);
    assert_int_equal(c->pseudo[3].offset, 8 * 23);
    assert_int_equal(c->pseudo[3].proto_bits, 8);
    ps_stack_destroy(stack);
}

/* A pseudo-header whose items fall at odd places of its 16-bit words,
 * some of an odd count of bytes: the checksum is the one of the
 * pseudo-header written out byte by byte. */
static void
test_pseudo_odd_places(void **state)
{
    struct ps_registry *r = ps_registry_create();
    char *error = NULL;

    assert_code(ps_registry_load_default(r, &error), PS_OK, error);
    assert_code(ps_registry_load_string(
                    r, "odd.proto",
                    "protocol odd \"Odd places\" {\n"
                    "    bit<8>  tag = 0x5a     \"Tag\";\n"
                    "    bit<8>  nxt = next(99) \"Next\";\n"
                    "    bit<24> src = 0xf1e2d3 \"Source\";\n"
                    "    bit<16> dst = 0xc4b5   \"Destination\";\n"
                    "    bit<8>  hop = 0xa6     \"Hop\";\n"
                    "};\n"
                    "pseudo_header odd { tag; zero(8); src; dst; proto(8); "
                    "length(24); hop; zero(8); }\n",
                    &error),
                PS_OK, error);

    struct ps_stack *stack = compile_in(r, "eth,odd,udp");
    const struct ps_checksum_fixup *c = ps_stack_checksum_fixup(stack, 0);
    assert_int_equal(c->field, field(stack, "udp.cksum"));
    assert_int_equal(c->n_pseudo, 8);
    /* The tag; the source and destination as one string at place 2; the
     * protocol, ending at place 8; the length, ending at the odd place
     * 11; the hop, beginning there. */
    assert_int_equal(c->pseudo_sum, 0);
    assert_int_equal(c->n_summed, 5);
    assert_int_equal(c->summed[0].bits, 8);
    assert_int_equal(c->summed[0].shift, 0);
    assert_int_equal(c->summed[1].bits, 40);
    assert_int_equal(c->summed[1].shift, 0);
    assert_int_equal(c->summed[2].kind, PS_PSEUDO_PROTO);
    assert_int_equal(c->summed[2].shift, 0);
    assert_int_equal(c->summed[3].kind, PS_PSEUDO_LENGTH);
    assert_int_equal(c->summed[3].shift, 8);
    assert_int_equal(c->summed[4].kind, PS_PSEUDO_BYTES);
    assert_int_equal(c->summed[4].shift, 8);

    /* Payloads of an odd and an even length. */
    for (size_t extra = 7; extra <= 8; extra++) {
        size_t size = ps_stack_size(stack);
        size_t len = size + extra;
        uint8_t *pkt = malloc(len);

        assert_non_null(pkt);

        memcpy(pkt, ps_stack_template(stack), size);
        for (size_t i = size; i < len; i++) {
            pkt[i] = 0x11 * (i - size + 1);
        }
        assert_int_equal(ps_stack_set_length(stack, pkt, len), PS_OK);
        assert_int_equal(ps_stack_fix_checksums(stack, pkt, len), PS_OK);

        const uint8_t *odd = pkt + 14;
        size_t span = len - 22;
        uint8_t ph[13] = {
            odd[0], 0, odd[2], odd[3], odd[4], odd[5], odd[6], odd[1],
            span >> 16, span >> 8, span, odd[7], 0
        };
        uint16_t want = ref_csum(pkt + 22, span, 6,
                                 ref_sum(0, ph, sizeof ph));
        assert_int_equal(odd[1], 99);
        assert_int_equal(be16(pkt + 22 + 6), want ? want : 0xffff);
        free(pkt);
    }
    ps_stack_destroy(stack);
    ps_registry_destroy(r);
}

/* The template. */

struct binding_case {
    const char *spec;
    const char *label;
    uint64_t value;
};

static void
test_template_bindings(void **state)
{
    static const struct binding_case cases[] = {
        { "eth", "eth.type", 0xffff },
        { "eth,ip4", "eth.type", 0x0800 },
        { "eth,ip4", "ip4.proto", 255 },
        { "eth,ip4,udp", "ip4.proto", 17 },
        { "eth,ip4,udp", "udp.dst", 0 },
        { "eth,ip4,udp,vxlan,{eth,name=inner_eth}", "udp.dst", 4789 },
        { "eth,ip4,udp,vxlan,{eth,name=inner_eth}", "inner_eth.type",
          0xffff },
        { "eth,ip6", "eth.type", 0x86dd },
        { "eth,ip6", "ip6.next", 59 },
        { "eth,ip6,udp", "ip6.next", 17 },
        { "eth,ip6,tcp", "ip6.next", 6 },
        { "eth,ip6,icmp6", "ip6.next", 58 },
        { "eth,ip4,icmp", "ip4.proto", 1 },
        { "eth,ip4,ip6", "ip4.proto", 41 },
        { "eth,mpls,ip4", "eth.type", 0x8847 },
        { "eth,mpls,ip4", "mpls.s", 1 },
        { "eth,mpls", "mpls.s", 1 },
        { "eth,mpls,{mpls,name=mpls2},ip4", "mpls.s", 0 },
        { "eth,mpls,{mpls,name=mpls2},ip4", "mpls2.s", 1 },
        { "eth,{mpls,name=m1},{mpls,name=m2},{mpls,name=m3},ip6", "m1.s",
          0 },
        { "eth,{mpls,name=m1},{mpls,name=m2},{mpls,name=m3},ip6", "m2.s",
          0 },
        { "eth,{mpls,name=m1},{mpls,name=m2},{mpls,name=m3},ip6", "m3.s",
          1 },
        { "eth,ip4,gre,{eth,name=inner_eth}", "gre.proto", 0x6558 },
        { "eth,ip4,gre,{eth,name=inner_eth}", "ip4.proto", 47 },
        { "eth,ip4,gre,{ip4,name=inner}", "gre.proto", 0x0800 },
        { "eth,ip6,gre,{ip6,name=inner}", "gre.proto", 0x86dd },
        { "eth,ip4,udp,geneve,{eth,name=inner}", "udp.dst", 6081 },
        { "eth,ip4,udp,geneve,{eth,name=inner}", "geneve.proto", 0x6558 },
        { "eth,ip4,udp,dns", "udp.dst", 53 },
        { "eth,ip4,udp,ptp", "udp.dst", 319 },
        { "eth,ptp", "eth.type", 0x88f7 },
        { "eth,ip4,udp,vxlan_gpe,nsh,{eth,name=inner}",
          "vxlan_gpe.next_proto", 4 },
        { "eth,ip4,udp,vxlan_gpe,nsh,{eth,name=inner}", "nsh.next_proto",
          3 },
        { "eth,ip4,udp,gtpu,{ip4,name=inner}", "udp.dst", 2152 },
        { "eth,arp", "eth.type", 0x0806 },
        { "{eth,subtype=vlan},ip4", "eth.type", 0x0800 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ps_stack *stack = compile(cases[i].spec);
        uint64_t value = get(stack, ps_stack_template(stack),
                             cases[i].label);

        if (value != cases[i].value) {
            fail_msg("%s: %s = 0x%"PRIx64", expected 0x%"PRIx64,
                     cases[i].spec, cases[i].label, value, cases[i].value);
        }
        ps_stack_destroy(stack);
    }
}

static void
test_template_legal(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp,vxlan,"
                                     "{eth,name=inner_eth}");
    const uint8_t *t = ps_stack_template(stack);

    /* Defaults. */
    assert_int_equal(be16(t + 12), 0x0800);
    assert_int_equal(t[14], 0x45);
    assert_int_equal(t[15], 0);
    assert_int_equal(be16(t + 16), 50);
    assert_int_equal(t[22], 64);
    assert_int_equal(t[23], 17);
    assert_int_equal(be16(t + 34), 0);
    assert_int_equal(be16(t + 36), 4789);
    assert_int_equal(be16(t + 38), 30);
    assert_int_equal(t[42], 0x08);
    for (size_t i = 43; i < 50; i++) {
        assert_int_equal(t[i], 0);
    }
    assert_int_equal(be16(t + 62), 0xffff);

    /* A legal packet with no payload. */
    check_ip4(t + 14, 20, 50, 17);
    check_udp(t, 14, 4, 34, 64);
    ps_stack_destroy(stack);
}

/* Filling packets. */

static void
test_fill_ip4_udp(void **state)
{
    static const size_t lengths[] = { 42, 43, 64, 101, 1500, 9000 };
    struct ps_stack *stack = compile("eth,ip4,udp");
    size_t buf_size = 9100;
    uint8_t *pkt = malloc(buf_size), *orig = malloc(buf_size);

    for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
        size_t len = lengths[i];
        char *error = NULL;

        rng_fill(orig, buf_size);
        memcpy(pkt, orig, buf_size);
        assert_code(ps_stack_fill(stack, pkt, len, NULL, &error), PS_OK,
                    error);
        assert_null(error);

        check_ip4(pkt + 14, 20, len - 14, 17);
        check_udp(pkt, 14, 4, 34, len);
        assert_int_equal(get(stack, pkt, "ip4.len"), len - 14);
        assert_int_equal(get(stack, pkt, "udp.len"), len - 34);

        /* The payload and what follows the packet are untouched. */
        assert_memory_equal(pkt + 42, orig + 42, buf_size - 42);

        /* "" is no labels too. */
        uint8_t *again = malloc(buf_size);
        memcpy(again, orig, buf_size);
        assert_int_equal(ps_stack_fill(stack, again, len, "", NULL), PS_OK);
        assert_memory_equal(again, pkt, buf_size);
        free(again);
    }
    free(pkt);
    free(orig);
    ps_stack_destroy(stack);
}

static void
test_fill_ip6(void **state)
{
    static const size_t lengths[] = { 62, 63, 100, 1501 };
    uint8_t pkt[1600];

    for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
        size_t len = lengths[i];

        /* UDP. */
        struct ps_stack *stack = compile("eth,ip6,udp");
        rng_fill(pkt, sizeof pkt);
        assert_int_equal(ps_stack_fill(stack, pkt, len,
                                       "ip6.src=2001:db8::1,"
                                       "ip6.dst=2001:db8::ffff:2", NULL),
                         PS_OK);
        assert_int_equal(pkt[14] >> 4, 6);
        assert_int_equal(be16(pkt + 18), len - 54);
        assert_int_equal(pkt[20], 17);
        assert_int_equal(pkt[21], 64);
        check_udp(pkt, 14, 6, 54, len);
        ps_stack_destroy(stack);

        /* TCP. */
        stack = compile("eth,ip6,tcp");
        rng_fill(pkt, sizeof pkt);
        size_t tlen = len + 12;
        assert_int_equal(ps_stack_fill(stack, pkt, tlen,
                                       "ip6.src=fe80::1", NULL), PS_OK);
        assert_int_equal(be16(pkt + 18), tlen - 54);
        assert_int_equal(pkt[20], 6);
        check_l4(pkt + 14, 6, pkt + 54, tlen - 54, 16, 6);
        ps_stack_destroy(stack);

        /* ICMPv6. */
        stack = compile("eth,ip6,icmp6");
        rng_fill(pkt, sizeof pkt);
        assert_int_equal(ps_stack_fill(stack, pkt, len, NULL, NULL), PS_OK);
        assert_int_equal(pkt[20], 58);
        check_l4(pkt + 14, 6, pkt + 54, len - 54, 2, 58);
        ps_stack_destroy(stack);
    }
}

static void
test_fill_ip4_tcp_icmp(void **state)
{
    uint8_t pkt[300];

    struct ps_stack *stack = compile("eth,ip4,{tcp,length=12}");
    for (size_t len = 66; len < 80; len++) {
        rng_fill(pkt, sizeof pkt);
        assert_int_equal(ps_stack_fill(stack, pkt, len,
                                       "ip4.src=10.0.0.1,ip4.dst=10.0.0.2,"
                                       "tcp.dst=80", NULL), PS_OK);
        check_ip4(pkt + 14, 20, len - 14, 6);
        check_l4(pkt + 14, 4, pkt + 34, len - 34, 16, 6);
        assert_int_equal(be16(pkt + 36), 80);
    }
    ps_stack_destroy(stack);

    stack = compile("eth,ip4,icmp");
    for (size_t len = 42; len < 60; len++) {
        rng_fill(pkt, sizeof pkt);
        assert_int_equal(ps_stack_fill(stack, pkt, len, NULL, NULL), PS_OK);
        check_ip4(pkt + 14, 20, len - 14, 1);
        assert_int_equal(be16(pkt + 36),
                         ref_csum(pkt + 34, len - 34, 2, 0));
    }
    ps_stack_destroy(stack);
}

static void
test_fill_extension_header(void **state)
{
    uint8_t pkt[300];

    /* AH between IP and the transport: the transport checksum takes the
     * transport's number and span (RFC 4302 leaves it untouched). */
    struct ps_stack *stack = compile("eth,ip4,ah,tcp");
    assert_int_equal(ps_stack_size(stack), 14 + 20 + 24 + 20);
    for (size_t len = 78; len < 300; len += 31) {
        rng_fill(pkt, sizeof pkt);
        assert_int_equal(ps_stack_fill(stack, pkt, len,
                                       "ip4.src=10.1.1.1,ip4.dst=10.2.2.2",
                                       NULL), PS_OK);
        check_ip4(pkt + 14, 20, len - 14, 51);
        assert_int_equal(pkt[34], 6);
        check_l4(pkt + 14, 4, pkt + 58, len - 58, 16, 6);
    }
    ps_stack_destroy(stack);

    stack = compile("eth,ip6,ah,udp");
    for (size_t len = 86; len < 300; len += 31) {
        rng_fill(pkt, sizeof pkt);
        assert_int_equal(ps_stack_fill(stack, pkt, len, "ip6.src=2001:db8::9",
                                       NULL), PS_OK);
        assert_int_equal(pkt[20], 51);
        assert_int_equal(pkt[54], 17);
        check_udp(pkt, 14, 6, 78, len);
    }
    ps_stack_destroy(stack);
}

static void
test_fill_vxlan(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp,vxlan,"
                                     "{eth,name=inner_eth}");
    uint8_t pkt[1600], orig[1600];

    for (size_t len = 64; len < 1600; len += 97) {
        rng_fill(orig, sizeof orig);
        memcpy(pkt, orig, sizeof pkt);
        assert_int_equal(ps_stack_fill(stack, pkt, len,
                                       "ip4.dst=192.0.2.254,"
                                       "vxlan.vni=1234", NULL), PS_OK);
        check_ip4(pkt + 14, 20, len - 14, 17);
        check_udp(pkt, 14, 4, 34, len);
        assert_int_equal(be32(pkt + 30), 0xc00002fe);
        assert_int_equal(get(stack, pkt, "vxlan.vni"), 1234);
        assert_int_equal(pkt[46], 0);
        assert_int_equal(pkt[47], 0x04);
        assert_int_equal(pkt[48], 0xd2);
        assert_int_equal(pkt[49], 0);
        assert_memory_equal(pkt + 64, orig + 64, sizeof pkt - 64);
    }
    ps_stack_destroy(stack);
}

static void
test_fill_labels_override(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp");
    uint8_t pkt[100];

    /* A length given by a label stays; the others are computed, and the
     * checksums cover the given value. */
    rng_fill(pkt, sizeof pkt);
    assert_int_equal(ps_stack_fill(stack, pkt, 100, "ip4.len=1", NULL),
                     PS_OK);
    assert_int_equal(be16(pkt + 16), 1);
    assert_int_equal(be16(pkt + 38), 66);
    assert_int_equal(be16(pkt + 24), ref_csum(pkt + 14, 20, 10, 0));
    check_udp(pkt, 14, 4, 34, 100);

    /* A checksum given by a label stays, even 0 with the nonzero rule. */
    rng_fill(pkt, sizeof pkt);
    assert_int_equal(ps_stack_fill(stack, pkt, 100, "udp.cksum=0", NULL),
                     PS_OK);
    assert_int_equal(be16(pkt + 40), 0);
    check_ip4(pkt + 14, 20, 86, 17);

    rng_fill(pkt, sizeof pkt);
    assert_int_equal(ps_stack_fill(stack, pkt, 100,
                                   "ip4.cksum=0x1234,udp.len=7", NULL),
                     PS_OK);
    assert_int_equal(be16(pkt + 24), 0x1234);
    assert_int_equal(be16(pkt + 38), 7);
    assert_int_equal(be16(pkt + 16), 86);

    /* Fields that the template fills from bindings and constants. */
    rng_fill(pkt, sizeof pkt);
    assert_int_equal(ps_stack_fill(stack, pkt, 100,
                                   " ip4.ttl = 5 , udp.src=0x1234 ,"
                                   "ip4.proto=6,eth.type=0x86dd,,", NULL),
                     PS_OK);
    assert_int_equal(pkt[22], 5);
    assert_int_equal(pkt[23], 6);
    assert_int_equal(be16(pkt + 12), 0x86dd);
    assert_int_equal(be16(pkt + 34), 0x1234);
    assert_int_equal(be16(pkt + 24), ref_csum(pkt + 14, 20, 10, 0));
    /* The pseudo-header carries UDP's number, 17, whatever ip4.proto
     * says. */
    uint16_t c = ref_csum(pkt + 34, 66, 6, ref_pseudo4(pkt + 14, 17, 66));
    assert_int_equal(be16(pkt + 40), c ? c : 0xffff);

    /* Addresses. */
    rng_fill(pkt, sizeof pkt);
    assert_int_equal(ps_stack_fill(stack, pkt, 100,
                                   "eth.src=00:1A:2b:3c:4d:5e,"
                                   "eth.dst=ff:ff:ff:ff:ff:ff,"
                                   "ip4.src=198.51.100.7", NULL), PS_OK);
    static const uint8_t macs[] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e,
    };
    assert_memory_equal(pkt, macs, 12);
    assert_int_equal(be32(pkt + 26), 0xc6336407);
    check_ip4(pkt + 14, 20, 86, 17);
    check_udp(pkt, 14, 4, 34, 100);
    ps_stack_destroy(stack);
}

/* Calls ps_stack_fill() with 'labels', which must fail with 'code' and a
 * message that names 'name', and checks that nothing was written. */
static void
check_fill_error(const struct ps_stack *stack, size_t pkt_len,
                 const char *labels, enum ps_error code, const char *name)
{
    uint8_t pkt[200], orig[200];
    char *error = NULL;

    assert_true(pkt_len <= sizeof pkt);
    memset(orig, 0xa5, sizeof orig);
    memcpy(pkt, orig, sizeof pkt);
    enum ps_error got = ps_stack_fill(stack, pkt, pkt_len, labels, &error);
    if (got != code) {
        fail_msg("\"%s\": got %s, expected %s (%s)", labels,
                 ps_error_name(got), ps_error_name(code),
                 error ? error : "no message");
    }
    assert_non_null(error);
    if (name) {
        assert_contains(error, name);
    }
    free(error);
    if (memcmp(pkt, orig, sizeof pkt)) {
        fail_msg("\"%s\": the failed fill wrote into the packet", labels);
    }

    /* Without 'errorp'. */
    assert_int_equal(ps_stack_fill(stack, pkt, pkt_len, labels, NULL), code);
    assert_memory_equal(pkt, orig, sizeof pkt);
}

static void
test_fill_errors(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp,vxlan,"
                                     "{eth,name=inner_eth}");

    check_fill_error(stack, 100, "nosuch.x=1", PS_ERR_NO_FIELD, "nosuch.x");
    check_fill_error(stack, 100, "ip4.nosuch=1", PS_ERR_NO_FIELD,
                     "ip4.nosuch");
    check_fill_error(stack, 100, "inner.src=00:00:00:00:00:01",
                     PS_ERR_NO_FIELD, "inner.src");
    check_fill_error(stack, 100, "ttl=1", PS_ERR_NO_FIELD, "ttl");
    check_fill_error(stack, 100, "ip4.ttl", PS_ERR_SYNTAX, "ip4.ttl");
    check_fill_error(stack, 100, "vxlan.vni=16777216", PS_ERR_RANGE,
                     "vxlan.vni");
    check_fill_error(stack, 100, "ip4.version=16", PS_ERR_RANGE,
                     "ip4.version");
    check_fill_error(stack, 100, "udp.dst=65536", PS_ERR_RANGE, "udp.dst");
    check_fill_error(stack, 100, "ip4.df=2", PS_ERR_RANGE, "ip4.df");
    check_fill_error(stack, 100, "eth.src=00:11:22:33:44", PS_ERR_ADDRESS,
                     "eth.src");
    check_fill_error(stack, 100, "inner_eth.dst=00:11:22:33:44:55:66",
                     PS_ERR_ADDRESS, "inner_eth.dst");
    check_fill_error(stack, 100, "ip4.dst=256.1.1.1", PS_ERR_ADDRESS,
                     "ip4.dst");
    check_fill_error(stack, 100, "ip4.dst=01.2.3.4", PS_ERR_ADDRESS,
                     "ip4.dst");
    check_fill_error(stack, 100, "ip4.src=2001:db8::1", PS_ERR_ADDRESS,
                     "ip4.src");
    check_fill_error(stack, 100, "ip4.ttl=1,ip4.ttl=2", PS_ERR_DUPLICATE,
                     "ip4.ttl");
    check_fill_error(stack, 100, "ip4.ttl=1, ip4.ttl =1", PS_ERR_DUPLICATE,
                     "ip4.ttl");

    /* A good label before a bad one is not written either. */
    check_fill_error(stack, 100, "ip4.ttl=5,eth.dst=1:2:3:4:5:6",
                     PS_ERR_ADDRESS, "eth.dst");
    check_fill_error(stack, 100, "vxlan.vni=7,udp.src=1,nosuch.a=1",
                     PS_ERR_NO_FIELD, "nosuch.a");

    /* A value that is not a number. */
    uint8_t pkt[100];
    memset(pkt, 0xa5, sizeof pkt);
    char *error = NULL;
    assert_int_not_equal(ps_stack_fill(stack, pkt, 100, "ip4.ttl=abc",
                                       &error), PS_OK);
    assert_contains(error, "ip4.ttl");
    free(error);
    for (size_t i = 0; i < sizeof pkt; i++) {
        assert_int_equal(pkt[i], 0xa5);
    }

    /* A packet shorter than the stack. */
    check_fill_error(stack, 63, NULL, PS_ERR_SHORT, NULL);
    check_fill_error(stack, 0, "", PS_ERR_SHORT, NULL);
    check_fill_error(stack, 63, "vxlan.vni=1", PS_ERR_SHORT, NULL);
    ps_stack_destroy(stack);

    stack = compile("eth,ip6,udp");
    check_fill_error(stack, 100, "ip6.src=1::2::3", PS_ERR_ADDRESS,
                     "ip6.src");
    check_fill_error(stack, 100, "ip6.dst=192.0.2.1", PS_ERR_ADDRESS,
                     "ip6.dst");
    check_fill_error(stack, 100, "ip6.flow=0x100000", PS_ERR_RANGE,
                     "ip6.flow");
    ps_stack_destroy(stack);

    stack = compile("eth,{ip4,length=4}");
    check_fill_error(stack, 100, "ip4.options=0x010203", PS_ERR_ADDRESS,
                     "ip4.options");
    check_fill_error(stack, 100, "ip4.options=01:02:03:04:05",
                     PS_ERR_ADDRESS, "ip4.options");
    ps_stack_destroy(stack);
}

static void
test_find_field(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp");
    size_t index = 12345;
    char *error = NULL;

    assert_int_equal(ps_stack_find_field(stack, "ip4.ttl", &index, &error),
                     PS_OK);
    assert_int_equal(index, 13);
    assert_null(error);

    index = 12345;
    assert_code(ps_stack_find_field(stack, "ip4ttl", &index, &error),
                PS_ERR_NO_FIELD, error);
    assert_contains(error, "ip4ttl");
    assert_int_equal(index, 12345);
    free(error);

    assert_code(ps_stack_find_field(stack, "foo.ttl", &index, &error),
                PS_ERR_NO_FIELD, error);
    assert_contains(error, "foo.ttl");
    assert_contains(error, "\"foo\"");
    free(error);

    assert_code(ps_stack_find_field(stack, "ip4.foo", &index, &error),
                PS_ERR_NO_FIELD, error);
    assert_contains(error, "ip4.foo");
    assert_contains(error, "\"foo\"");
    free(error);

    assert_int_equal(ps_stack_find_field(stack, "", &index, NULL),
                     PS_ERR_NO_FIELD);
    ps_stack_destroy(stack);
}

/* Text and typed access. */

static void
test_get_text(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp");
    uint8_t pkt[42];
    char buf[128];

    memcpy(pkt, ps_stack_template(stack), sizeof pkt);

    static const struct {
        const char *label;
        const char *text;
    } cases[] = {
        { "eth.dst", "00:00:00:00:00:00" },
        { "eth.type", "0x800" },           /* @hex */
        { "ip4.version", "4" },
        { "ip4.ttl", "64" },
        { "ip4.proto", "17" },
        { "ip4.id", "0x0" },               /* @hex */
        { "ip4.len", "28" },
        { "ip4.src", "0.0.0.0" },
        { "udp.len", "8" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        memset(buf, 'x', sizeof buf);
        assert_int_equal(ps_stack_get_text(stack, pkt,
                                           field(stack, cases[i].label),
                                           buf, sizeof buf), PS_OK);
        assert_string_equal(buf, cases[i].text);
    }

    /* The checksum is @hex too. */
    ps_stack_get_text(stack, pkt, field(stack, "ip4.cksum"), buf,
                      sizeof buf);
    char expected[16];
    snprintf(expected, sizeof expected, "0x%x", be16(pkt + 24));
    assert_string_equal(buf, expected);

    /* Set as text, read back as text. */
    static const struct {
        const char *label;
        const char *value;
        const char *text;
    } set[] = {
        { "ip4.dst", "192.0.2.1", "192.0.2.1" },
        { "eth.src", "AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff" },
        { "ip4.ttl", "0x11", "17" },
        { "ip4.id", "4660", "0x1234" },
        { "eth.type", "0X86DD", "0x86dd" },
        { "udp.dst", "65535", "65535" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(set); i++) {
        char *error = NULL;

        assert_code(ps_stack_set_text(stack, pkt, set[i].label, set[i].value,
                                      &error), PS_OK, error);
        ps_stack_get_text(stack, pkt, field(stack, set[i].label), buf,
                          sizeof buf);
        assert_string_equal(buf, set[i].text);
    }
    assert_int_equal(be32(pkt + 30), 0xc0000201);

    /* An index out of range. */
    assert_int_equal(ps_stack_get_text(stack, pkt, ps_stack_n_fields(stack),
                                       buf, sizeof buf), PS_ERR_NO_FIELD);
    ps_stack_destroy(stack);

    /* IPv6 and bytes. */
    stack = compile("eth,{ip4,length=4},ip6");
    uint8_t pkt6[14 + 24 + 40];
    memcpy(pkt6, ps_stack_template(stack), sizeof pkt6);
    assert_int_equal(ps_stack_set_text(stack, pkt6, "ip6.src",
                                       "2001:DB8:0:0::1", NULL), PS_OK);
    ps_stack_get_text(stack, pkt6, field(stack, "ip6.src"), buf, sizeof buf);
    assert_string_equal(buf, "2001:db8::1");
    ps_stack_get_text(stack, pkt6, field(stack, "ip6.dst"), buf, sizeof buf);
    assert_string_equal(buf, "::");
    ps_stack_get_text(stack, pkt6, field(stack, "ip6.flow"), buf,
                      sizeof buf);
    assert_string_equal(buf, "0x0");
    assert_int_equal(ps_stack_set_text(stack, pkt6, "ip4.options",
                                       "0x01020304", NULL), PS_OK);
    ps_stack_get_text(stack, pkt6, field(stack, "ip4.options"), buf,
                      sizeof buf);
    assert_string_equal(buf, "0x01020304");
    assert_int_equal(ps_stack_set_text(stack, pkt6, "ip4.options",
                                       "a0:b0:c0:d0", NULL), PS_OK);
    ps_stack_get_text(stack, pkt6, field(stack, "ip4.options"), buf,
                      sizeof buf);
    assert_string_equal(buf, "0xa0b0c0d0");
    assert_int_equal(pkt6[34], 0xa0);
    ps_stack_destroy(stack);
}

static void
test_set_text_errors(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp");
    uint8_t pkt[42], orig[42];
    static const struct {
        const char *label, *value;
        enum ps_error code;
    } cases[] = {
        { "ip4.nosuch", "1", PS_ERR_NO_FIELD },
        { "nosuch.ttl", "1", PS_ERR_NO_FIELD },
        { "ip4.ttl", "256", PS_ERR_RANGE },
        { "ip4.ihl", "16", PS_ERR_RANGE },
        { "eth.dst", "00:11:22:33:44:5", PS_ERR_ADDRESS },
        { "ip4.src", "1.2.3.4.5", PS_ERR_ADDRESS },
    };

    memcpy(orig, ps_stack_template(stack), sizeof orig);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *error = NULL;

        memcpy(pkt, orig, sizeof pkt);
        assert_code(ps_stack_set_text(stack, pkt, cases[i].label,
                                      cases[i].value, &error),
                    cases[i].code, error);
        assert_contains(error, cases[i].label);
        free(error);
        assert_memory_equal(pkt, orig, sizeof pkt);
    }
    ps_stack_destroy(stack);
}

/* Checks that 'pkt' still equals 'orig' ('n' bytes). */
#define assert_unchanged(PKT, ORIG, N) assert_memory_equal(PKT, ORIG, N)

static void
test_typed_setters(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp,vxlan,"
                                     "{eth,name=inner_eth}");
    uint8_t pkt[64], orig[64];
    size_t ttl = field(stack, "ip4.ttl");
    size_t src = field(stack, "ip4.src");
    size_t dst = field(stack, "ip4.dst");
    size_t mac = field(stack, "eth.src");
    size_t vni = field(stack, "vxlan.vni");
    size_t type = field(stack, "eth.type");
    size_t n = ps_stack_n_fields(stack);

    rng_fill(orig, sizeof orig);
    memcpy(pkt, orig, sizeof pkt);

    /* Integers. */
    assert_int_equal(ps_stack_set_uint(stack, pkt, ttl, 200), PS_OK);
    assert_int_equal(pkt[22], 200);
    assert_int_equal(ps_stack_get_uint(stack, pkt, ttl), 200);
    memcpy(orig, pkt, sizeof pkt);
    assert_int_equal(ps_stack_set_uint(stack, pkt, ttl, 256), PS_ERR_RANGE);
    assert_unchanged(pkt, orig, sizeof pkt);
    assert_int_equal(ps_stack_set_uint(stack, pkt, vni, 0xffffff), PS_OK);
    assert_int_equal(ps_stack_get_uint(stack, pkt, vni), 0xffffff);
    memcpy(orig, pkt, sizeof pkt);
    assert_int_equal(ps_stack_set_uint(stack, pkt, vni, 0x1000000),
                     PS_ERR_RANGE);
    assert_int_equal(ps_stack_set_uint(stack, pkt, vni, UINT64_MAX),
                     PS_ERR_RANGE);
    assert_int_equal(ps_stack_set_uint(stack, pkt, src, 1), PS_ERR_TYPE);
    assert_int_equal(ps_stack_set_uint(stack, pkt, mac, 1), PS_ERR_TYPE);
    assert_int_equal(ps_stack_set_uint(stack, pkt, n, 1), PS_ERR_NO_FIELD);
    assert_unchanged(pkt, orig, sizeof pkt);

    /* Neighbouring bits are kept: ip4.mf, then ip4.frag beside it. */
    size_t mf = field(stack, "ip4.mf"), frag = field(stack, "ip4.frag");
    size_t df = field(stack, "ip4.df");
    assert_int_equal(ps_stack_set_uint(stack, pkt, df, 0), PS_OK);
    assert_int_equal(ps_stack_set_uint(stack, pkt, mf, 1), PS_OK);
    assert_int_equal(ps_stack_set_uint(stack, pkt, frag, 0), PS_OK);
    assert_int_equal(ps_stack_get_uint(stack, pkt, mf), 1);
    assert_int_equal(ps_stack_set_uint(stack, pkt, frag, 0x1fff), PS_OK);
    assert_int_equal(ps_stack_get_uint(stack, pkt, mf), 1);
    assert_int_equal(ps_stack_get_uint(stack, pkt, df), 0);
    assert_int_equal(be16(pkt + 20) & 0x7fff, 0x3fff);

    /* MAC addresses. */
    struct ps_mac m = { { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 } }, m2;
    assert_int_equal(ps_stack_set_mac(stack, pkt, mac, &m), PS_OK);
    assert_memory_equal(pkt + 6, m.b, 6);
    ps_stack_get_mac(stack, pkt, mac, &m2);
    assert_memory_equal(m2.b, m.b, 6);
    assert_int_equal(ps_stack_get_uint(stack, pkt, mac),
                     UINT64_C(0x02005e102030));
    memcpy(orig, pkt, sizeof pkt);
    assert_int_equal(ps_stack_set_mac(stack, pkt, ttl, &m), PS_ERR_TYPE);
    assert_int_equal(ps_stack_set_mac(stack, pkt, src, &m), PS_ERR_TYPE);
    assert_int_equal(ps_stack_set_mac(stack, pkt, n, &m), PS_ERR_NO_FIELD);
    assert_unchanged(pkt, orig, sizeof pkt);
    memset(&m2, 0x77, sizeof m2);
    ps_stack_get_mac(stack, pkt, ttl, &m2);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(m2.b[i], 0);
    }

    /* IPv4 addresses, in host byte order. */
    assert_int_equal(ps_stack_set_ip4(stack, pkt, dst, 0xc0000201), PS_OK);
    assert_int_equal(be32(pkt + 30), 0xc0000201);
    assert_int_equal(ps_stack_get_uint(stack, pkt, dst), 0xc0000201);
    memcpy(orig, pkt, sizeof pkt);
    assert_int_equal(ps_stack_set_ip4(stack, pkt, type, 1), PS_ERR_TYPE);
    assert_int_equal(ps_stack_set_ip4(stack, pkt, mac, 1), PS_ERR_TYPE);
    assert_int_equal(ps_stack_set_ip4(stack, pkt, n, 1), PS_ERR_NO_FIELD);
    assert_unchanged(pkt, orig, sizeof pkt);

    /* IPv6 and bytes setters on fields of other types. */
    struct ps_ip6 a6 = { { 0x20, 0x01, 0x0d, 0xb8 } };
    uint8_t bytes[4] = { 1, 2, 3, 4 };
    assert_int_equal(ps_stack_set_ip6(stack, pkt, src, &a6), PS_ERR_TYPE);
    assert_int_equal(ps_stack_set_bytes(stack, pkt, ttl, bytes, 1),
                     PS_ERR_TYPE);
    assert_int_equal(ps_stack_set_bytes(stack, pkt, src, bytes, 4),
                     PS_ERR_TYPE);
    assert_unchanged(pkt, orig, sizeof pkt);
    ps_stack_destroy(stack);

    /* IPv6 addresses and bytes. */
    stack = compile("eth,{ip4,length=4},ip6");
    uint8_t p6[78], o6[78];
    rng_fill(p6, sizeof p6);
    size_t s6 = field(stack, "ip6.src"), opt = field(stack, "ip4.options");
    struct ps_ip6 b6;
    assert_int_equal(ps_stack_set_ip6(stack, p6, s6, &a6), PS_OK);
    assert_memory_equal(p6 + 38 + 8, a6.b, 16);
    ps_stack_get_ip6(stack, p6, s6, &b6);
    assert_memory_equal(b6.b, a6.b, 16);
    assert_int_equal(ps_stack_get_uint(stack, p6, s6), 0);
    assert_int_equal(ps_stack_set_bytes(stack, p6, opt, bytes, 4), PS_OK);
    assert_memory_equal(p6 + 34, bytes, 4);
    memcpy(o6, p6, sizeof p6);
    assert_int_equal(ps_stack_set_bytes(stack, p6, opt, bytes, 3),
                     PS_ERR_RANGE);
    assert_int_equal(ps_stack_set_bytes(stack, p6, opt, bytes, 5),
                     PS_ERR_RANGE);
    assert_int_equal(ps_stack_set_ip6(stack, p6, field(stack, "ip6.next"),
                                      &a6), PS_ERR_TYPE);
    assert_int_equal(ps_stack_set_ip6(stack, p6, opt, &a6), PS_ERR_TYPE);
    assert_int_equal(ps_stack_set_uint(stack, p6, opt, 0), PS_ERR_TYPE);
    assert_unchanged(p6, o6, sizeof p6);
    memset(&b6, 0x77, sizeof b6);
    ps_stack_get_ip6(stack, p6, field(stack, "ip6.next"), &b6);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(b6.b[i], 0);
    }
    ps_stack_destroy(stack);
}

/* Lengths and checksums on demand. */

static void
test_set_length(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp");
    uint8_t pkt[200], orig[200];

    rng_fill(orig, sizeof orig);
    memcpy(orig, ps_stack_template(stack), 42);
    memcpy(pkt, orig, sizeof pkt);
    assert_int_equal(ps_stack_set_length(stack, pkt, 100), PS_OK);
    assert_int_equal(be16(pkt + 16), 86);
    assert_int_equal(be16(pkt + 38), 66);
    /* Nothing else changed, checksums included. */
    pkt[16] = orig[16];
    pkt[17] = orig[17];
    pkt[38] = orig[38];
    pkt[39] = orig[39];
    assert_memory_equal(pkt, orig, sizeof pkt);

    /* Too short: nothing written. */
    memcpy(pkt, orig, sizeof pkt);
    assert_int_equal(ps_stack_set_length(stack, pkt, 41), PS_ERR_SHORT);
    assert_memory_equal(pkt, orig, sizeof pkt);
    assert_int_equal(ps_stack_set_length(stack, pkt, 42), PS_OK);
    assert_int_equal(be16(pkt + 16), 28);
    assert_int_equal(be16(pkt + 38), 8);
    ps_stack_destroy(stack);

    /* A length of the payload only (GTP-U), and in words minus 2 (AH). */
    stack = compile("eth,ip4,udp,gtpu,{ip4,name=inner}");
    memcpy(pkt, ps_stack_template(stack), ps_stack_size(stack));
    assert_int_equal(get(stack, pkt, "gtpu.len"), 20);
    assert_int_equal(ps_stack_set_length(stack, pkt, 150), PS_OK);
    assert_int_equal(get(stack, pkt, "gtpu.len"), 150 - 50);
    assert_int_equal(get(stack, pkt, "inner.len"), 150 - 50);
    assert_int_equal(get(stack, pkt, "udp.len"), 150 - 34);
    ps_stack_destroy(stack);

    stack = compile("eth,ip4,ah,udp");
    assert_int_equal(ps_stack_header(stack, 2)->size, 24);
    assert_int_equal(get(stack, ps_stack_template(stack), "ah.plen"), 4);
    assert_int_equal(get(stack, ps_stack_template(stack), "ah.next"), 17);
    ps_stack_destroy(stack);
}

static void
test_fix_checksum(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp");
    uint8_t pkt[64], good[64], orig[64];

    rng_fill(pkt, sizeof pkt);
    assert_int_equal(ps_stack_fill(stack, pkt, 64, NULL, NULL), PS_OK);
    memcpy(good, pkt, sizeof pkt);

    /* Spoil both checksums. */
    pkt[24] = pkt[25] = 0xde;
    pkt[40] = pkt[41] = 0xad;
    memcpy(orig, pkt, sizeof pkt);

    /* Ethernet has no checksum: nothing changes. */
    assert_int_equal(ps_stack_fix_checksum(stack, pkt, 64, 0), PS_OK);
    assert_memory_equal(pkt, orig, sizeof pkt);

    /* IPv4 only. */
    assert_int_equal(ps_stack_fix_checksum(stack, pkt, 64, 1), PS_OK);
    assert_int_equal(be16(pkt + 24), be16(good + 24));
    assert_int_equal(be16(pkt + 40), 0xadad);

    /* Then UDP only. */
    pkt[24] = pkt[25] = 0xde;
    assert_int_equal(ps_stack_fix_checksum(stack, pkt, 64, 2), PS_OK);
    assert_int_equal(be16(pkt + 40), be16(good + 40));
    assert_int_equal(be16(pkt + 24), 0xdede);

    /* Errors. */
    memcpy(orig, pkt, sizeof pkt);
    assert_int_equal(ps_stack_fix_checksum(stack, pkt, 64, 3),
                     PS_ERR_ABSENT);
    assert_int_equal(ps_stack_fix_checksum(stack, pkt, 41, 1),
                     PS_ERR_SHORT);
    assert_int_equal(ps_stack_fix_checksums(stack, pkt, 41), PS_ERR_SHORT);
    assert_memory_equal(pkt, orig, sizeof pkt);

    /* All of them. */
    assert_int_equal(ps_stack_fix_checksums(stack, pkt, 64), PS_OK);
    assert_memory_equal(pkt, good, sizeof pkt);
    ps_stack_destroy(stack);
}

static void
test_entropy(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp,vxlan,"
                                     "{eth,name=inner_eth}");
    size_t src = field(stack, "udp.src");
    uint8_t pkt[64], orig[64];

    assert_int_equal(ps_stack_entropy_field(stack), src);
    rng_fill(orig, sizeof orig);

    memcpy(pkt, orig, sizeof pkt);
    ps_stack_set_entropy(stack, pkt, 0);
    assert_int_equal(be16(pkt + 34), PS_ENTROPY_MIN);
    /* Only the source port is written. */
    pkt[34] = orig[34];
    pkt[35] = orig[35];
    assert_memory_equal(pkt, orig, sizeof pkt);

    ps_stack_set_entropy(stack, pkt, UINT32_MAX);
    uint16_t top = be16(pkt + 34);
    assert_true(top <= PS_ENTROPY_MAX);
    assert_true(top >= PS_ENTROPY_MAX - 1);

    /* Every hash lands in the range, in the order of the hashes, and the
     * whole range is used. */
    uint16_t prev = 0;
    uint32_t hash = 0;
    bool seen_high = false;
    for (int i = 0; i < 200000; i++) {
        uint32_t next = hash + 42949 + (rng_next() & 0xff);
        if (next < hash) {
            break;              /* Wrapped around. */
        }
        hash = next;
        ps_stack_set_entropy(stack, pkt, hash);
        uint16_t port = be16(pkt + 34);
        assert_in_range(port, PS_ENTROPY_MIN, PS_ENTROPY_MAX);
        assert_true(port >= prev);
        prev = port;
        seen_high |= port > PS_ENTROPY_MAX - 100;
    }
    assert_true(seen_high);
    for (int i = 0; i < 10000; i++) {
        ps_stack_set_entropy(stack, pkt, rng_next() >> 32);
        assert_in_range(be16(pkt + 34), PS_ENTROPY_MIN, PS_ENTROPY_MAX);
    }
    ps_stack_destroy(stack);

    /* A stack without an entropy field: nothing is written. */
    stack = compile("eth,ip4");
    assert_int_equal(ps_stack_entropy_field(stack), -1);
    memcpy(pkt, orig, sizeof pkt);
    ps_stack_set_entropy(stack, pkt, 12345);
    assert_memory_equal(pkt, orig, sizeof pkt);
    ps_stack_destroy(stack);
}

static void
test_udp_nonzero(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp");
    uint8_t pkt[44];

    /* Two payload bytes, zero first: the checksum C without them.  A
     * payload word equal to C makes the one's complement sum 0xffff, so
     * the checksum computes to 0, which UDP sends as 0xffff. */
    memset(pkt, 0, sizeof pkt);
    assert_int_equal(ps_stack_fill(stack, pkt, 44,
                                   "ip4.src=192.0.2.1,ip4.dst=192.0.2.2,"
                                   "udp.src=1234,udp.dst=5678", NULL),
                     PS_OK);
    uint16_t c = ref_csum(pkt + 34, 10, 6, ref_pseudo4(pkt + 14, 17, 10));
    assert_int_not_equal(c, 0);
    assert_int_equal(be16(pkt + 40), c);
    pkt[42] = c >> 8;
    pkt[43] = c;
    assert_int_equal(ref_csum(pkt + 34, 10, 6,
                              ref_pseudo4(pkt + 14, 17, 10)), 0);

    assert_int_equal(ps_stack_fill(stack, pkt, 44,
                                   "ip4.src=192.0.2.1,ip4.dst=192.0.2.2,"
                                   "udp.src=1234,udp.dst=5678", NULL),
                     PS_OK);
    assert_int_equal(be16(pkt + 40), 0xffff);
    /* A receiver finds it good: everything sums to 0xffff. */
    assert_int_equal(ref_finish(ref_sum(ref_pseudo4(pkt + 14, 17, 10),
                                        pkt + 34, 10)), 0);

    /* ps_stack_fix_checksums() follows the same rule. */
    pkt[40] = pkt[41] = 0;
    assert_int_equal(ps_stack_fix_checksums(stack, pkt, 44), PS_OK);
    assert_int_equal(be16(pkt + 40), 0xffff);
    ps_stack_destroy(stack);

    /* ICMP has no such rule: a checksum of 0 is sent as 0. */
    stack = compile("eth,ip4,icmp");
    uint8_t icmp[44];
    memset(icmp, 0, sizeof icmp);
    assert_int_equal(ps_stack_fill(stack, icmp, 44, NULL, NULL), PS_OK);
    c = be16(icmp + 36);
    assert_int_equal(c, ref_csum(icmp + 34, 10, 2, 0));
    icmp[42] = c >> 8;
    icmp[43] = c;
    assert_int_equal(ps_stack_fill(stack, icmp, 44, NULL, NULL), PS_OK);
    assert_int_equal(be16(icmp + 36), 0);
    ps_stack_destroy(stack);
}

/* A protocol loaded at run time. */

static void
test_runtime_protocol(void **state)
{
    const char *srcdir = getenv("PS_TEST_SRCDIR");
    if (!srcdir || !srcdir[0]) {
        fail_msg("PS_TEST_SRCDIR is not set");
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/extra/demo.proto", srcdir);

    struct ps_registry *r = ps_registry_create();
    char *error = NULL;
    assert_code(ps_registry_load_default(r, &error), PS_OK, error);
    assert_code(ps_registry_load_file(r, path, &error), PS_OK, error);
    assert_int_equal(ps_registry_n_protocols(r), 29);

    /* The shipped registry does not know it. */
    struct ps_stack *stack;
    assert_int_equal(ps_stack_create(registry, "eth,ip4,udp,demo", &stack,
                                     &error), PS_ERR_NO_PROTOCOL);
    assert_contains(error, "\"demo\"");
    free(error);

    stack = compile_in(r, "eth,ip4,udp,demo");
    /* The stack keeps no reference to the registry. */
    ps_registry_destroy(r);

    const uint8_t *t = ps_stack_template(stack);
    assert_int_equal(ps_stack_size(stack), 50);
    assert_string_equal(ps_stack_header(stack, 3)->doc,
                        "Demonstration protocol loaded at run time "
                        "(test only)");
    assert_int_equal(get(stack, t, "udp.dst"), 7777);
    assert_int_equal(get(stack, t, "demo.kind"), 1);
    assert_int_equal(get(stack, t, "demo.len"), 8);
    assert_string_equal(ps_stack_field(stack, field(stack, "demo.len"))
                        ->rule_text, "length(rest)");

    uint8_t pkt[300];
    for (size_t len = 50; len < 300; len += 37) {
        rng_fill(pkt, sizeof pkt);
        assert_int_equal(ps_stack_fill(stack, pkt, len,
                                       "demo.tag=0xdeadbeef", NULL), PS_OK);
        assert_int_equal(get(stack, pkt, "demo.len"), len - 42);
        assert_int_equal(be16(pkt + 44), len - 42);
        assert_int_equal(be32(pkt + 46), 0xdeadbeef);
        assert_int_equal(be16(pkt + 36), 7777);
        check_ip4(pkt + 14, 20, len - 14, 17);
        check_udp(pkt, 14, 4, 34, len);
    }
    char buf[64];
    ps_stack_get_text(stack, pkt, field(stack, "demo.tag"), buf, sizeof buf);
    assert_string_equal(buf, "0xdeadbeef");
    ps_stack_get_text(stack, pkt, field(stack, "demo.flags"), buf,
                      sizeof buf);
    assert_string_equal(buf, "0x0");
    ps_stack_destroy(stack);
}

/* Code generation and names. */

static void
test_generate_c(void **state)
{
    struct ps_stack *stack = compile("eth,ip4,udp");
    static const char *const bad[] = {
        "", "1abc", "a-b", "a b", "eth,ip4", "x.y", "é",
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *c = ps_stack_generate_c(stack, bad[i]);
        if (c) {
            free(c);
            fail_msg("\"%s\" was taken as a C identifier", bad[i]);
        }
    }
    assert_null(ps_stack_generate_c(stack, NULL));

    char *c = ps_stack_generate_c(stack, "my_stack");
    assert_non_null(c);
    assert_contains(c, "my_stack");
    assert_contains(c, "eth,ip4,udp");
    free(c);
    c = ps_stack_generate_c(stack, "_x9");
    assert_non_null(c);
    free(c);
    ps_stack_destroy(stack);
}

static void
test_default_name(void **state)
{
    static const struct {
        const char *spec;
        const char *name;
    } cases[] = {
        { "eth,ip4,udp", "eth_ip4_udp" },
        { "eth,ip4,udp,vxlan,{eth,name=inner_eth}",
          "eth_ip4_udp_vxlan_inner_eth" },
        { "{eth,subtype=vlan},ip4,udp", "eth_vlan_ip4_udp" },
        { "eth,ip4,{udp,name=u}", "eth_ip4_u" },
        { "eth,ip4,{gre,k=1},{eth,name=inner}", "eth_ip4_gre_inner" },
        { "{eth,subtype=qinq}", "eth_qinq" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ps_stack *stack = compile(cases[i].spec);
        char *name = ps_stack_default_name(stack);

        assert_string_equal(name, cases[i].name);
        /* It names generated code. */
        char *c = ps_stack_generate_c(stack, name);
        assert_non_null(c);
        free(c);
        free(name);
        ps_stack_destroy(stack);
    }
}

/* The registry's stack cache, and recasting to another variable length. */
static void
test_registry_cache_and_variant(void **state)
{
    struct ps_registry *r = ps_registry_create();
    const struct ps_stack *a, *b, *v8, *v0;
    char *error = NULL;
    size_t field;

    assert_int_equal(ps_registry_load_default(r, NULL), PS_OK);
    assert_int_equal(ps_registry_stack(r, "eth,ip4,udp", &a, NULL), PS_OK);
    assert_int_equal(ps_registry_stack(r, "eth,ip4,udp", &b, NULL), PS_OK);
    assert_ptr_equal(a, b);

    assert_int_equal(ps_registry_stack_variant(r, a, 1, 8, &v8, NULL),
                     PS_OK);
    assert_string_equal(ps_stack_spec(v8), "eth,{ip4,length=8},udp");
    assert_int_equal(ps_stack_size(v8), ps_stack_size(a) + 8);
    assert_int_equal(ps_stack_find_field(v8, "ip4.ihl", &field, NULL), PS_OK);
    assert_int_equal(ps_stack_get_uint(v8, ps_stack_template(v8), field), 7);
    assert_int_equal(ps_registry_stack_variant(r, v8, 1, 8, &b, NULL),
                     PS_OK);
    assert_ptr_equal(b, v8);
    assert_int_equal(ps_registry_stack_variant(r, v8, 1, 0, &v0, NULL),
                     PS_OK);
    assert_int_equal(ps_stack_size(v0), ps_stack_size(a));

    /* Options of other headers survive a recast. */
    assert_int_equal(ps_registry_stack(r, "{eth,subtype=vlan},ip4,"
                                       "{tcp,name=t}", &a, NULL), PS_OK);
    assert_int_equal(ps_registry_stack_variant(r, a, 2, 12, &v8, NULL),
                     PS_OK);
    assert_string_equal(ps_stack_spec(v8),
                        "{eth,subtype=vlan},ip4,{tcp,name=t,length=12}");

    /* Errors: no such header, no variable member, a bad length. */
    assert_int_equal(ps_registry_stack_variant(r, a, 9, 4, &b, &error),
                     PS_ERR_ABSENT);
    free(error);
    assert_int_equal(ps_registry_stack_variant(r, a, 0, 4, &b, NULL),
                     PS_ERR_LAYOUT);
    assert_int_equal(ps_registry_stack_variant(r, v0, 1, 3, &b, NULL),
                     PS_ERR_LAYOUT);

    /* A stack of the caller's own recasts too. */
    struct ps_stack *own;
    assert_int_equal(ps_stack_create(r, "eth,ip4,udp", &own, NULL), PS_OK);
    assert_int_equal(ps_registry_stack_variant(r, own, 1, 4, &b, NULL),
                     PS_OK);
    assert_int_equal(ps_stack_size(b), 46);
    ps_stack_destroy(own);

    /* A load retires the cache, but stacks handed out stay valid. */
    assert_int_equal(ps_registry_stack(r, "eth,ip4,udp", &a, NULL), PS_OK);
    assert_int_equal(ps_registry_load_string(r, "x.proto",
                                             "protocol x \"X\" "
                                             "{ bit<8> y \"Y\"; }", NULL),
                     PS_OK);
    assert_int_equal(ps_registry_stack(r, "eth,ip4,udp", &b, NULL), PS_OK);
    assert_ptr_not_equal(a, b);
    assert_int_equal(ps_stack_size(a), 42);
    ps_registry_destroy(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_canonical),
        cmocka_unit_test(test_spec_syntax_errors),
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_spec_ip4_length),
        cmocka_unit_test(test_spec_tcp_length),
        cmocka_unit_test(test_spec_gre_flags),
        cmocka_unit_test(test_spec_subtypes),
        cmocka_unit_test(test_layout_vxlan),
        cmocka_unit_test(test_fixup_plan),
        cmocka_unit_test(test_pseudo_odd_places),
        cmocka_unit_test(test_template_bindings),
        cmocka_unit_test(test_template_legal),
        cmocka_unit_test(test_fill_ip4_udp),
        cmocka_unit_test(test_fill_ip6),
        cmocka_unit_test(test_fill_ip4_tcp_icmp),
        cmocka_unit_test(test_fill_extension_header),
        cmocka_unit_test(test_fill_vxlan),
        cmocka_unit_test(test_fill_labels_override),
        cmocka_unit_test(test_fill_errors),
        cmocka_unit_test(test_find_field),
        cmocka_unit_test(test_get_text),
        cmocka_unit_test(test_set_text_errors),
        cmocka_unit_test(test_typed_setters),
        cmocka_unit_test(test_set_length),
        cmocka_unit_test(test_fix_checksum),
        cmocka_unit_test(test_entropy),
        cmocka_unit_test(test_udp_nonzero),
        cmocka_unit_test(test_runtime_protocol),
        cmocka_unit_test(test_generate_c),
        cmocka_unit_test(test_default_name),
        cmocka_unit_test(test_registry_cache_and_variant),
    };

    return cmocka_run_group_tests(tests, setup_registry, teardown_registry);
}
