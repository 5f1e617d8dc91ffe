/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Per-protocol tests.  For every protocol in protocols/, a realistic stack
 * that contains it is compiled, its layout is checked against the
 * protocol's standard, a packet is filled from labels and compared byte
 * for byte with one built by an independent encoder, and the values the
 * definition computes (bindings into the lower header, lengths,
 * checksums) are checked.
 *
 * The expected packets were generated with Scapy 2.5 (Debian's
 * /usr/bin/python3) when these tests were written, as bytes(PACKET) for
 * the expression given before each array, after:
 *
 *     import struct
 *     from scapy.all import *
 *     from scapy.contrib.geneve import GENEVE, GeneveOptions
 *     from scapy.contrib.gtp import GTP_U_Header
 *     from scapy.contrib.lacp import LACP
 *     from scapy.contrib.mpls import MPLS
 *     from scapy.contrib.nsh import NSH
 *     from scapy.contrib.slowprot import SlowProtocol
 *     from scapy.layers.ipsec import AH, ESP
 *     from scapy.layers.netflow import NetflowHeader, NetflowHeaderV10
 *     from scapy.layers.vxlan import VXLAN
 *     M1, M2 = '02:00:00:00:00:01', '02:00:00:00:00:02'
 *     E = lambda **kw: Ether(dst=M2, src=M1, **kw)
 *     A1, A2 = '192.0.2.1', '192.0.2.2'
 *     B1, B2 = '2001:db8::1', '2001:db8::2'
 *     PAY16 = bytes(range(16))
 *
 * Where Scapy has no layer for a protocol (PTP, sFlow), its bytes were
 * built with struct.pack from the standard, as the comment says.  The
 * bytes that follow the stack's headers (the payload) are copied from the
 * expected packet before filling, since the library does not write
 * them. */

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

/* Labels shared by most packets below: the outer Ethernet addresses (E()
 * in the Scapy expressions) and the outer IPv4 or IPv6 header. */
#define ETH_LABELS "eth.dst=02:00:00:00:00:02,eth.src=02:00:00:00:00:01,"
#define IP4_LABELS "ip4.id=0x1234,ip4.src=192.0.2.1,ip4.dst=192.0.2.2,"
#define IP6_LABELS "ip6.src=2001:db8::1,ip6.dst=2001:db8::2,"
#define INNER_ETH_LABELS \
    "inner_eth.dst=02:00:00:00:00:04,inner_eth.src=02:00:00:00:00:03,"
#define INNER_IP4_LABELS \
    "inner_ip4.id=0x5678,inner_ip4.src=10.0.0.1,inner_ip4.dst=10.0.0.2,"

static struct ps_registry *registry;

static int
load_protocols(void **state)
{
    char *error = NULL;

    registry = ps_registry_create();
    if (ps_registry_load_default(registry, &error) != PS_OK) {
        fprintf(stderr, "loading protocols from %s: %s\n",
                ps_registry_default_dir(), error ? error : "");
        free(error);
        return -1;
    }
    return 0;
}

static int
unload_protocols(void **state)
{
    ps_registry_destroy(registry);
    registry = NULL;
    return 0;
}

/* Compiles 'spec', or fails the test. */
static struct ps_stack *
create_stack(const char *spec)
{
    struct ps_stack *stack = NULL;
    char *error = NULL;
    enum ps_error e;

    e = ps_stack_create(registry, spec, &stack, &error);
    if (e != PS_OK) {
        fail_msg("%s: %s: %s", spec, ps_error_name(e), error ? error : "");
    }
    return stack;
}

/* Checks that compiling 'spec' fails with 'expected'. */
static void
check_spec_error(const char *spec, enum ps_error expected)
{
    struct ps_stack *stack = NULL;
    char *error = NULL;
    enum ps_error e;

    e = ps_stack_create(registry, spec, &stack, &error);
    if (e != expected) {
        fail_msg("%s: %s (%s), expected %s", spec, ps_error_name(e),
                 error ? error : "", ps_error_name(expected));
    }
    free(error);
    ps_stack_destroy(stack);
}

/* Returns the index of the field with 'label', or fails the test. */
static size_t
find_field(const struct ps_stack *stack, const char *label)
{
    char *error = NULL;
    size_t field;

    if (ps_stack_find_field(stack, label, &field, &error) != PS_OK) {
        fail_msg("%s: %s", ps_stack_spec(stack), error ? error : label);
    }
    return field;
}

/* Checks that header 'name' of 'stack' is 'size' bytes at byte 'offset'
 * of the stack. */
static void
check_header(const struct ps_stack *stack, const char *name, size_t offset,
             size_t size)
{
    const struct ps_header_info *h;
    int i = ps_stack_find_header(stack, name);

    if (i < 0) {
        fail_msg("%s: no header %s", ps_stack_spec(stack), name);
    }
    h = ps_stack_header(stack, i);
    if (h->offset != offset || h->size != size) {
        fail_msg("%s: header %s is %zu bytes at %zu, expected %zu at %zu",
                 ps_stack_spec(stack), name, h->size, h->offset, size,
                 offset);
    }
}

/* Checks that field 'label' of 'stack' is 'bits' wide and starts
 * 'bit_offset' bits into its header. */
static void
check_field(const struct ps_stack *stack, const char *label,
            size_t bit_offset, size_t bits)
{
    const struct ps_field_info *f = ps_stack_field(stack,
                                                   find_field(stack, label));
    const struct ps_header_info *h = ps_stack_header(stack, f->header);
    size_t offset = f->bit_offset - 8 * h->offset;

    if (offset != bit_offset || f->bits != bits) {
        fail_msg("%s: %zu bits at bit %zu of its header, "
                 "expected %zu bits at bit %zu",
                 label, f->bits, offset, bits, bit_offset);
    }
}

/* Returns the label of the field that holds byte 'ofs' of 'stack', or
 * "payload". */
static const char *
byte_label(const struct ps_stack *stack, size_t ofs)
{
    for (size_t i = 0; i < ps_stack_n_fields(stack); i++) {
        const struct ps_field_info *f = ps_stack_field(stack, i);

        if (f->bit_offset < 8 * (ofs + 1)
            && f->bit_offset + f->bits > 8 * ofs) {
            return f->label;
        }
    }
    return "payload";
}

/* Compiles 'spec', fills a packet of 'len' bytes with 'labels' and
 * compares it with 'expected', which is 'len' bytes long too.  Returns
 * the stack, for more checks; the caller destroys it. */
static struct ps_stack *
check_fill(const char *spec, const char *labels, const uint8_t *expected,
           size_t len)
{
    struct ps_stack *stack = create_stack(spec);
    size_t size = ps_stack_size(stack);
    char *error = NULL;
    size_t n_diffs = 0;
    uint8_t *pkt;
    enum ps_error e;

    if (size > len) {
        fail_msg("%s: %zu bytes of headers, expected packet is %zu bytes",
                 spec, size, len);
    }

    /* Garbage in the headers, to catch bytes that filling leaves alone. */
    pkt = malloc(len);
    assert_non_null(pkt);
    memset(pkt, 0xa5, size);
    memcpy(pkt + size, expected + size, len - size);

    e = ps_stack_fill(stack, pkt, len, labels, &error);
    if (e != PS_OK) {
        fail_msg("%s: filling %s: %s: %s", spec, labels, ps_error_name(e),
                 error ? error : "");
    }

    for (size_t i = 0; i < len; i++) {
        if (pkt[i] != expected[i]) {
            print_error("%s: byte %zu (%s) is 0x%02x, expected 0x%02x\n",
                        spec, i, byte_label(stack, i), pkt[i], expected[i]);
            n_diffs++;
        }
    }
    free(pkt);
    if (n_diffs) {
        fail_msg("%s: %zu of %zu bytes differ", spec, n_diffs, len);
    }
    return stack;
}

#define CHECK_FILL(SPEC, LABELS, EXPECTED) \
    check_fill(SPEC, LABELS, EXPECTED, sizeof EXPECTED)

/* Fills a packet of 'pkt_len' bytes (zero payload) of 'stack' with
 * 'labels' (NULL for none) and returns the value of field 'label'. */
static uint64_t
fill_uint(const struct ps_stack *stack, size_t pkt_len, const char *labels,
          const char *label)
{
    uint8_t *pkt = calloc(1, pkt_len);
    char *error = NULL;
    uint64_t value;
    enum ps_error e;

    assert_non_null(pkt);
    e = ps_stack_fill(stack, pkt, pkt_len, labels, &error);
    if (e != PS_OK) {
        fail_msg("%s: filling %zu bytes: %s: %s", ps_stack_spec(stack),
                 pkt_len, ps_error_name(e), error ? error : "");
    }
    value = ps_stack_get_uint(stack, pkt, find_field(stack, label));
    free(pkt);
    return value;
}

/* Checks that field 'label' of a packet of 'pkt_len' bytes of 'stack',
 * filled without labels, is 'expected'. */
static void
check_computed(const struct ps_stack *stack, size_t pkt_len,
               const char *label, uint64_t expected)
{
    uint64_t value = fill_uint(stack, pkt_len, NULL, label);

    if (value != expected) {
        fail_msg("%s: %zu-byte packet: %s is %#"PRIx64", expected %#"PRIx64,
                 ps_stack_spec(stack), pkt_len, label, value, expected);
    }
}

/* Compiles 'spec' and checks that, in a packet of the size of its
 * headers filled without labels, field 'label' is 'expected'. */
static void
check_spec_computed(const char *spec, const char *label, uint64_t expected)
{
    struct ps_stack *stack = create_stack(spec);

    check_computed(stack, ps_stack_size(stack), label, expected);
    ps_stack_destroy(stack);
}

/* Checks that filling 'stack' with 'labels' fails with 'expected'. */
static void
check_fill_error(const struct ps_stack *stack, const char *labels,
                 enum ps_error expected)
{
    size_t size = ps_stack_size(stack);
    uint8_t *pkt = calloc(1, size);
    char *error = NULL;
    enum ps_error e;

    assert_non_null(pkt);
    e = ps_stack_fill(stack, pkt, size, labels, &error);
    free(pkt);
    if (e != expected) {
        fail_msg("%s: filling %s: %s (%s), expected %s",
                 ps_stack_spec(stack), labels, ps_error_name(e),
                 error ? error : "", ps_error_name(expected));
    }
    free(error);
}

/* AH, RFC 4302. */

/* Scapy's AH does not compute payloadlen, so it is given from RFC 4302
 * (the AH length in 4-byte words, minus 2): (12 + 16) / 4 - 2 = 5 for a
 * 16-byte ICV.
 * Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / AH(nh=1, payloadlen=5,
 *     reserved=0, spi=0x1000, seq=7, icv=bytes(range(0xa0, 0xb0))) /
 *     ICMP(id=0x4242, seq=1) / Raw(PAY16) */
static const uint8_t ah_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x48, 0x12, 0x34, 0x00, 0x00, 0x40, 0x33, 0xe4, 0x4b,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* ah */
    0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x07,
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
    0xac, 0xad, 0xae, 0xaf,
    /* icmp */
    0x08, 0x00, 0x7d, 0x7c, 0x42, 0x42, 0x00, 0x01,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_ah(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,{ah,length=16},icmp",
                       ETH_LABELS IP4_LABELS
                       "ah.spi=0x1000,ah.seq=7,"
                       "ah.icv=0xa0a1a2a3a4a5a6a7a8a9aaabacadaeaf,"
                       "icmp.id=0x4242,icmp.seq=1",
                       ah_pkt);
    check_header(stack, "ah", 34, 28);
    check_field(stack, "ah.next", 0, 8);
    check_field(stack, "ah.plen", 8, 8);
    check_field(stack, "ah.reserved", 16, 16);
    check_field(stack, "ah.spi", 32, 32);
    check_field(stack, "ah.seq", 64, 32);
    check_field(stack, "ah.icv", 96, 128);

    /* Bindings: IP protocol 51 below, ICMP's protocol number 1 in 'next'. */
    check_computed(stack, ps_stack_size(stack), "ip4.proto", 51);
    check_computed(stack, ps_stack_size(stack), "ah.next", 1);

    /* The payload length is the header's, in words minus 2, whatever the
     * packet length. */
    check_computed(stack, ps_stack_size(stack), "ah.plen", 5);
    check_computed(stack, ps_stack_size(stack) + 100, "ah.plen", 5);
    ps_stack_destroy(stack);

    /* A 12-byte ICV (HMAC-SHA1-96) by default; 20 bytes over IPv6. */
    stack = create_stack("eth,ip4,ah,icmp");
    check_header(stack, "ah", 34, 24);
    check_computed(stack, ps_stack_size(stack), "ah.plen", 4);
    check_computed(stack, ps_stack_size(stack) + 64, "ah.plen", 4);
    ps_stack_destroy(stack);

    stack = create_stack("eth,ip6,{ah,length=20},tcp");
    check_header(stack, "ah", 54, 32);
    check_computed(stack, ps_stack_size(stack), "ah.plen", 6);
    check_computed(stack, ps_stack_size(stack), "ip6.next", 51);
    check_computed(stack, ps_stack_size(stack), "ah.next", 6);
    ps_stack_destroy(stack);

    /* No value of 'plen' gives a 3-byte ICV. */
    check_spec_error("eth,ip4,{ah,length=3},icmp", PS_ERR_LAYOUT);
}

/* ARP, RFC 826. */

/* Scapy: Ether(dst='ff:ff:ff:ff:ff:ff', src=M1) / ARP(op=1, hwsrc=M1,
 *     psrc=A1, hwdst='00:00:00:00:00:00', pdst=A2) / Padding(bytes(18)) */
static const uint8_t arp_pkt[] = {
    /* eth */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x06,
    /* arp */
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x01, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xc0, 0x00, 0x02, 0x02,
    /* payload */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void
test_arp(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,arp",
                       "eth.dst=ff:ff:ff:ff:ff:ff,eth.src=02:00:00:00:00:01,"
                       "arp.op=1,arp.sha=02:00:00:00:00:01,"
                       "arp.spa=192.0.2.1,arp.tha=00:00:00:00:00:00,"
                       "arp.tpa=192.0.2.2",
                       arp_pkt);
    check_header(stack, "arp", 14, 28);
    check_field(stack, "arp.htype", 0, 16);
    check_field(stack, "arp.ptype", 16, 16);
    check_field(stack, "arp.hlen", 32, 8);
    check_field(stack, "arp.plen", 40, 8);
    check_field(stack, "arp.op", 48, 16);
    check_field(stack, "arp.sha", 64, 48);
    check_field(stack, "arp.spa", 112, 32);
    check_field(stack, "arp.tha", 144, 48);
    check_field(stack, "arp.tpa", 192, 32);

    check_computed(stack, 60, "eth.type", 0x0806);
    check_computed(stack, 60, "arp.htype", 1);
    check_computed(stack, 60, "arp.ptype", 0x0800);
    ps_stack_destroy(stack);
}

/* DNS, RFC 1035. */

/* Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / UDP(sport=33333,
 *     dport=53) / DNS(id=0xbeef, rd=1, qd=DNSQR(qname='example.com',
 *     qtype='A')) */
static const uint8_t dns_query_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x39, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x7c,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0x82, 0x35, 0x00, 0x35, 0x00, 0x25, 0x6a, 0xd8,
    /* dns */
    0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* payload */
    0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d,
    0x00, 0x00, 0x01, 0x00, 0x01,
};

/* Scapy: E() / IP(id=0x1234, src=A2, dst=A1) / UDP(sport=53,
 *     dport=33333) / DNS(id=0xbeef, qr=1, rd=1, ra=1, rcode=3,
 *     qd=DNSQR(qname='example.com', qtype='A')) */
static const uint8_t dns_reply_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x39, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x7c,
    0xc0, 0x00, 0x02, 0x02, 0xc0, 0x00, 0x02, 0x01,
    /* udp */
    0x00, 0x35, 0x82, 0x35, 0x00, 0x25, 0xea, 0x54,
    /* dns */
    0xbe, 0xef, 0x81, 0x83, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* payload */
    0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d,
    0x00, 0x00, 0x01, 0x00, 0x01,
};

static void
test_dns(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,udp,dns",
                       ETH_LABELS IP4_LABELS "udp.src=33333,"
                       "dns.id=0xbeef,dns.rd=1,dns.qdcount=1",
                       dns_query_pkt);
    check_header(stack, "dns", 42, 12);
    check_field(stack, "dns.id", 0, 16);
    check_field(stack, "dns.qr", 16, 1);
    check_field(stack, "dns.opcode", 17, 4);
    check_field(stack, "dns.aa", 21, 1);
    check_field(stack, "dns.tc", 22, 1);
    check_field(stack, "dns.rd", 23, 1);
    check_field(stack, "dns.ra", 24, 1);
    check_field(stack, "dns.z", 25, 1);
    check_field(stack, "dns.ad", 26, 1);
    check_field(stack, "dns.cd", 27, 1);
    check_field(stack, "dns.rcode", 28, 4);
    check_field(stack, "dns.qdcount", 32, 16);
    check_field(stack, "dns.ancount", 48, 16);
    check_field(stack, "dns.nscount", 64, 16);
    check_field(stack, "dns.arcount", 80, 16);

    /* The first binding, on the destination port, fills. */
    check_computed(stack, ps_stack_size(stack), "udp.dst", 53);
    check_computed(stack, ps_stack_size(stack), "udp.src", 0);
    ps_stack_destroy(stack);

    /* The answer: NXDOMAIN from port 53. */
    stack = CHECK_FILL("eth,ip4,udp,dns",
                       ETH_LABELS
                       "ip4.id=0x1234,ip4.src=192.0.2.2,ip4.dst=192.0.2.1,"
                       "udp.src=53,udp.dst=33333,"
                       "dns.id=0xbeef,dns.qr=1,dns.rd=1,dns.ra=1,"
                       "dns.rcode=3,dns.qdcount=1",
                       dns_reply_pkt);
    ps_stack_destroy(stack);
}

/* ESP, RFC 4303. */

/* Scapy: E() / IPv6(src=B1, dst=B2) / ESP(spi=0x101, seq=42,
 *     data=bytes(range(0x80, 0xa0))) */
static const uint8_t esp_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x86, 0xdd,
    /* ip6 */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x28, 0x32, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02,
    /* esp */
    0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x2a,
    /* payload */
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
    0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
};

static void
test_esp(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip6,esp",
                       ETH_LABELS IP6_LABELS "esp.spi=0x101,esp.seq=42",
                       esp_pkt);
    check_header(stack, "esp", 54, 8);
    check_field(stack, "esp.spi", 0, 32);
    check_field(stack, "esp.seq", 32, 32);

    check_computed(stack, 62, "ip6.next", 50);
    check_computed(stack, 62, "esp.seq", 1);
    check_computed(stack, 62 + 32, "ip6.plen", 40);
    check_computed(stack, 62 + 100, "ip6.plen", 108);
    ps_stack_destroy(stack);

    check_spec_computed("eth,ip4,esp", "ip4.proto", 50);
}

/* Ethernet II. */

/* Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / UDP(sport=1024,
 *     dport=9) / Raw(PAY16) */
static const uint8_t eth_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x89,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0x04, 0x00, 0x00, 0x09, 0x00, 0x18, 0x3f, 0x71,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_eth_plain(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,udp",
                       ETH_LABELS IP4_LABELS "udp.src=1024,udp.dst=9",
                       eth_pkt);
    check_header(stack, "eth", 0, 14);
    check_field(stack, "eth.dst", 0, 48);
    check_field(stack, "eth.src", 48, 48);
    check_field(stack, "eth.type", 96, 16);
    assert_string_equal(ps_stack_header(stack, 0)->subtype, "plain");
    check_computed(stack, 42, "eth.type", 0x0800);
    ps_stack_destroy(stack);

    check_spec_computed("eth,ip6", "eth.type", 0x86dd);
    check_spec_computed("eth,arp", "eth.type", 0x0806);

    /* Nothing follows: the default of next(0xffff). */
    check_spec_computed("eth", "eth.type", 0xffff);
}

/* IEEE 802.1Q. */

/* Scapy: E() / Dot1Q(prio=5, id=0, vlan=100) / IP(id=0x1234, src=A1,
 *     dst=A2) / UDP(sport=1024, dport=9) / Raw(PAY16) */
static const uint8_t eth_vlan_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x81, 0x00, 0xa0, 0x64, 0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x89,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0x04, 0x00, 0x00, 0x09, 0x00, 0x18, 0x3f, 0x71,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_eth_vlan(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("{eth,subtype=vlan},ip4,udp",
                       ETH_LABELS
                       "eth.tpid=0x8100,eth.pcp=5,eth.dei=0,eth.vid=100,"
                       IP4_LABELS "udp.src=1024,udp.dst=9",
                       eth_vlan_pkt);
    check_header(stack, "eth", 0, 18);
    check_header(stack, "ip4", 18, 20);
    assert_string_equal(ps_stack_header(stack, 0)->subtype, "vlan");
    check_field(stack, "eth.dst", 0, 48);
    check_field(stack, "eth.src", 48, 48);
    check_field(stack, "eth.tpid", 96, 16);
    check_field(stack, "eth.pcp", 112, 3);
    check_field(stack, "eth.dei", 115, 1);
    check_field(stack, "eth.vid", 116, 12);
    check_field(stack, "eth.type", 128, 16);

    check_computed(stack, 46, "eth.tpid", 0x8100);
    check_computed(stack, 46, "eth.type", 0x0800);
    check_fill_error(stack, "eth.vid=4096", PS_ERR_RANGE);
    check_fill_error(stack, "eth.pcp=8", PS_ERR_RANGE);
    ps_stack_destroy(stack);
}

/* IEEE 802.1ad. */

/* Scapy: E() / Dot1AD(prio=3, id=0, vlan=1000) / Dot1Q(prio=5, id=1,
 *     vlan=100) / IPv6(src=B1, dst=B2) / UDP(sport=1024, dport=9) /
 *     Raw(PAY16) */
static const uint8_t eth_qinq_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x88, 0xa8, 0x63, 0xe8, 0x81, 0x00, 0xb0, 0x64, 0x86, 0xdd,
    /* ip6 */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02,
    /* udp */
    0x04, 0x00, 0x00, 0x09, 0x00, 0x18, 0x68, 0x00,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_eth_qinq(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("{eth,subtype=qinq},ip6,udp",
                       ETH_LABELS
                       "eth.tpid=0x88a8,eth.pcp=3,eth.dei=0,eth.vid=1000,"
                       "eth.ctpid=0x8100,eth.cpcp=5,eth.cdei=1,eth.cvid=100,"
                       IP6_LABELS "udp.src=1024,udp.dst=9",
                       eth_qinq_pkt);
    check_header(stack, "eth", 0, 22);
    check_header(stack, "ip6", 22, 40);
    assert_string_equal(ps_stack_header(stack, 0)->subtype, "qinq");
    check_field(stack, "eth.tpid", 96, 16);
    check_field(stack, "eth.pcp", 112, 3);
    check_field(stack, "eth.dei", 115, 1);
    check_field(stack, "eth.vid", 116, 12);
    check_field(stack, "eth.ctpid", 128, 16);
    check_field(stack, "eth.cpcp", 144, 3);
    check_field(stack, "eth.cdei", 147, 1);
    check_field(stack, "eth.cvid", 148, 12);
    check_field(stack, "eth.type", 160, 16);

    check_computed(stack, 70, "eth.tpid", 0x88a8);
    check_computed(stack, 70, "eth.ctpid", 0x8100);
    check_computed(stack, 70, "eth.type", 0x86dd);
    ps_stack_destroy(stack);
}

/* Geneve, RFC 8926. */

/* Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / UDP(sport=49152,
 *     dport=6081) / GENEVE(critical=1, proto=0x6558, vni=0x123456,
 *     options=[GeneveOptions(classid=0x0102, type=0x80, data=bytes([0x0a,
 *     0x0b, 0x0c, 0x0d]))]) / Ether(dst='02:00:00:00:00:04',
 *     src='02:00:00:00:00:03') / IP(id=0x5678, src='10.0.0.1',
 *     dst='10.0.0.2') / ICMP(id=1, seq=1) / Raw(PAY16) */
static const uint8_t geneve_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x66, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x4f,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0xc0, 0x00, 0x17, 0xc1, 0x00, 0x52, 0x30, 0x95,
    /* geneve */
    0x02, 0x40, 0x65, 0x58, 0x12, 0x34, 0x56, 0x00, 0x01, 0x02, 0x80, 0x01,
    0x0a, 0x0b, 0x0c, 0x0d,
    /* inner_eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03,
    0x08, 0x00,
    /* inner_ip4 */
    0x45, 0x00, 0x00, 0x2c, 0x56, 0x78, 0x00, 0x00, 0x40, 0x01, 0x10, 0x57,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    /* icmp */
    0x08, 0x00, 0xbf, 0xbd, 0x00, 0x01, 0x00, 0x01,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_geneve(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,udp,{geneve,length=8},{eth,name=inner_eth},"
                       "{ip4,name=inner_ip4},icmp",
                       ETH_LABELS IP4_LABELS "udp.src=49152,"
                       "geneve.c=1,geneve.vni=0x123456,"
                       "geneve.options=0x010280010a0b0c0d,"
                       INNER_ETH_LABELS INNER_IP4_LABELS
                       "icmp.id=1,icmp.seq=1",
                       geneve_pkt);
    check_header(stack, "geneve", 42, 16);
    check_header(stack, "inner_eth", 58, 14);
    check_field(stack, "geneve.ver", 0, 2);
    check_field(stack, "geneve.opt_len", 2, 6);
    check_field(stack, "geneve.o", 8, 1);
    check_field(stack, "geneve.c", 9, 1);
    check_field(stack, "geneve.reserved", 10, 6);
    check_field(stack, "geneve.proto", 16, 16);
    check_field(stack, "geneve.vni", 32, 24);
    check_field(stack, "geneve.reserved2", 56, 8);
    check_field(stack, "geneve.options", 64, 64);

    check_computed(stack, 100, "udp.dst", 6081);
    check_computed(stack, 100, "geneve.proto", 0x6558);
    check_computed(stack, 100, "geneve.opt_len", 2);
    check_computed(stack, 200, "geneve.opt_len", 2);
    ps_stack_destroy(stack);

    stack = create_stack("eth,ip4,udp,geneve,{eth,name=inner_eth}");
    check_header(stack, "geneve", 42, 8);
    check_computed(stack, 64, "geneve.opt_len", 0);
    check_computed(stack, 164, "geneve.opt_len", 0);
    ps_stack_destroy(stack);

    /* The longest options, 63 words. */
    check_spec_computed("eth,ip4,udp,{geneve,length=252},"
                        "{eth,name=inner_eth}", "geneve.opt_len", 63);
    check_spec_error("eth,ip4,udp,{geneve,length=6},{eth,name=inner_eth}",
                     PS_ERR_LAYOUT);
    check_spec_error("eth,ip4,udp,{geneve,length=256},{eth,name=inner_eth}",
                     PS_ERR_LAYOUT);
}

/* GRE, RFC 2784 and RFC 2890. */

/* Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / GRE(chksum_present=1,
 *     key_present=1, key=42, proto=0x0800) / IP(id=0x5678, src='10.0.0.1',
 *     dst='10.0.0.2') / UDP(sport=1024, dport=9) / Raw(PAY16) */
static const uint8_t gre_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x4c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x2f, 0xe4, 0x4b,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* gre */
    0xa0, 0x00, 0x08, 0x00, 0x6c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
    /* inner_ip4 */
    0x45, 0x00, 0x00, 0x2c, 0x56, 0x78, 0x00, 0x00, 0x40, 0x11, 0x10, 0x47,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    /* udp */
    0x04, 0x00, 0x00, 0x09, 0x00, 0x18, 0xaf, 0x72,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_gre(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,{gre,c=1,k=1},{ip4,name=inner_ip4},udp",
                       ETH_LABELS IP4_LABELS "gre.key=42,"
                       INNER_IP4_LABELS "udp.src=1024,udp.dst=9",
                       gre_pkt);
    check_header(stack, "gre", 34, 12);
    check_header(stack, "inner_ip4", 46, 20);
    check_field(stack, "gre.c", 0, 1);
    check_field(stack, "gre.r", 1, 1);
    check_field(stack, "gre.k", 2, 1);
    check_field(stack, "gre.s", 3, 1);
    check_field(stack, "gre.reserved0", 4, 9);
    check_field(stack, "gre.ver", 13, 3);
    check_field(stack, "gre.proto", 16, 16);
    check_field(stack, "gre.cksum", 32, 16);
    check_field(stack, "gre.reserved1", 48, 16);
    check_field(stack, "gre.key", 64, 32);

    check_computed(stack, 74, "ip4.proto", 47);
    check_computed(stack, 74, "gre.proto", 0x0800);
    check_computed(stack, 74, "gre.c", 1);
    check_computed(stack, 74, "gre.k", 1);
    ps_stack_destroy(stack);

    /* The optional fields come and go with their flags. */
    stack = create_stack("eth,ip6,gre,{eth,name=inner_eth}");
    check_header(stack, "gre", 54, 4);
    check_computed(stack, 72, "ip6.next", 47);
    check_computed(stack, 72, "gre.proto", 0x6558);
    ps_stack_destroy(stack);

    stack = create_stack("eth,ip4,{gre,c=1},{ip6,name=inner_ip6}");
    check_header(stack, "gre", 34, 8);
    check_field(stack, "gre.cksum", 32, 16);
    check_computed(stack, 82, "gre.proto", 0x86dd);
    ps_stack_destroy(stack);

    stack = create_stack("eth,ip4,{gre,k=1,s=1},{ip4,name=inner_ip4}");
    check_header(stack, "gre", 34, 12);
    check_field(stack, "gre.key", 32, 32);
    check_field(stack, "gre.seq", 64, 32);
    ps_stack_destroy(stack);
}

/* GTP-U, 3GPP TS 29.281. */

/* Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / UDP(sport=2152,
 *     dport=2152) / GTP_U_Header(gtp_type=255, teid=0x1234abcd) /
 *     IP(id=0x5678, src='10.0.0.1', dst='10.0.0.2') / UDP(sport=1024,
 *     dport=9) / Raw(PAY16) */
static const uint8_t gtpu_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x50, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x65,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0x08, 0x68, 0x08, 0x68, 0x00, 0x3c, 0x8f, 0xa1,
    /* gtpu */
    0x30, 0xff, 0x00, 0x2c, 0x12, 0x34, 0xab, 0xcd,
    /* inner_ip4 */
    0x45, 0x00, 0x00, 0x2c, 0x56, 0x78, 0x00, 0x00, 0x40, 0x11, 0x10, 0x47,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    /* inner_udp */
    0x04, 0x00, 0x00, 0x09, 0x00, 0x18, 0xaf, 0x72,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_gtpu(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,udp,gtpu,{ip4,name=inner_ip4},"
                       "{udp,name=inner_udp}",
                       ETH_LABELS IP4_LABELS "udp.src=2152,"
                       "gtpu.teid=0x1234abcd,"
                       INNER_IP4_LABELS "inner_udp.src=1024,inner_udp.dst=9",
                       gtpu_pkt);
    check_header(stack, "gtpu", 42, 8);
    check_header(stack, "inner_ip4", 50, 20);
    check_field(stack, "gtpu.version", 0, 3);
    check_field(stack, "gtpu.pt", 3, 1);
    check_field(stack, "gtpu.reserved", 4, 1);
    check_field(stack, "gtpu.e", 5, 1);
    check_field(stack, "gtpu.s", 6, 1);
    check_field(stack, "gtpu.pn", 7, 1);
    check_field(stack, "gtpu.type", 8, 8);
    check_field(stack, "gtpu.len", 16, 16);
    check_field(stack, "gtpu.teid", 32, 32);

    check_computed(stack, 78, "udp.dst", 2152);
    check_computed(stack, 78, "gtpu.type", 255);

    /* The length counts what follows the mandatory header. */
    check_computed(stack, 78, "gtpu.len", 28);
    check_computed(stack, 178, "gtpu.len", 128);
    ps_stack_destroy(stack);
}

/* ICMP, RFC 792. */

/* Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / ICMP(type=8, code=0,
 *     id=0x1234, seq=1) / Raw(b'abcdefghijklmnopqrstuvwabcdefghi') */
static const uint8_t icmp_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x01, 0xe4, 0x89,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* icmp */
    0x08, 0x00, 0x3b, 0x27, 0x12, 0x34, 0x00, 0x01,
    /* payload */
    0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c,
    0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x61,
    0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
};

static void
test_icmp(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,icmp",
                       ETH_LABELS IP4_LABELS
                       "icmp.type=8,icmp.code=0,icmp.id=0x1234,icmp.seq=1",
                       icmp_pkt);
    check_header(stack, "icmp", 34, 8);
    check_field(stack, "icmp.type", 0, 8);
    check_field(stack, "icmp.code", 8, 8);
    check_field(stack, "icmp.cksum", 16, 16);
    check_field(stack, "icmp.id", 32, 16);
    check_field(stack, "icmp.seq", 48, 16);

    check_computed(stack, 42, "ip4.proto", 1);

    /* An echo request with no data: 0x08 0x00, then zeroes. */
    check_computed(stack, 42, "icmp.cksum", 0xf7ff);
    ps_stack_destroy(stack);
}

/* ICMPv6, RFC 4443. */

/* Scapy: E() / IPv6(src=B1, dst=B2) / ICMPv6EchoRequest(id=0x1234,
 *     seq=1, data=b'abcdefghijklmnopqrstuvwabcdefghi') */
static const uint8_t icmp6_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x86, 0xdd,
    /* ip6 */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x28, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02,
    /* icmp6 */
    0x80, 0x00, 0x67, 0x4f, 0x12, 0x34, 0x00, 0x01,
    /* payload */
    0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c,
    0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x61,
    0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
};

static void
test_icmp6(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip6,icmp6",
                       ETH_LABELS IP6_LABELS
                       "icmp6.type=128,icmp6.id=0x1234,icmp6.seq=1",
                       icmp6_pkt);
    check_header(stack, "icmp6", 54, 8);
    check_field(stack, "icmp6.type", 0, 8);
    check_field(stack, "icmp6.code", 8, 8);
    check_field(stack, "icmp6.cksum", 16, 16);
    check_field(stack, "icmp6.id", 32, 16);
    check_field(stack, "icmp6.seq", 48, 16);

    check_computed(stack, 62, "ip6.next", 58);

    /* With zero addresses, the pseudo-header adds the length (8) and the
     * next header (58) to the type (0x8000): ~0x8042. */
    check_computed(stack, 62, "icmp6.cksum", 0x7fbd);
    ps_stack_destroy(stack);
}

/* IPv4, RFC 791. */

/* Scapy: E() / IP(tos=0xb8, id=0x1c46, flags='DF', ttl=32, src=A1,
 *     dst=A2, options=[IPOption_Router_Alert(), IPOption_NOP(),
 *     IPOption_NOP(), IPOption_NOP(), IPOption_EOL()]) / UDP(sport=1024,
 *     dport=9) / Raw(PAY16) */
static const uint8_t ip4_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x47, 0xb8, 0x00, 0x34, 0x1c, 0x46, 0x40, 0x00, 0x20, 0x11, 0x21, 0xb2,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, 0x94, 0x04, 0x00, 0x00,
    0x01, 0x01, 0x01, 0x00,
    /* udp */
    0x04, 0x00, 0x00, 0x09, 0x00, 0x18, 0x3f, 0x71,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

/* Scapy: E() / IP(id=0x1c46, flags='MF', frag=185, proto=17, src=A1,
 *     dst=A2) / Raw(PAY16) */
static const uint8_t ip4_frag_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x24, 0x1c, 0x46, 0x20, 0xb9, 0x40, 0x11, 0xb9, 0xc6,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_ip4(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,{ip4,length=8},udp",
                       ETH_LABELS
                       "ip4.dscp=46,ip4.ecn=0,ip4.id=0x1c46,ip4.df=1,"
                       "ip4.ttl=32,ip4.src=192.0.2.1,ip4.dst=192.0.2.2,"
                       "ip4.options=0x9404000001010100,"
                       "udp.src=1024,udp.dst=9",
                       ip4_pkt);
    check_header(stack, "ip4", 14, 28);
    check_header(stack, "udp", 42, 8);
    check_field(stack, "ip4.version", 0, 4);
    check_field(stack, "ip4.ihl", 4, 4);
    check_field(stack, "ip4.dscp", 8, 6);
    check_field(stack, "ip4.ecn", 14, 2);
    check_field(stack, "ip4.len", 16, 16);
    check_field(stack, "ip4.id", 32, 16);
    check_field(stack, "ip4.reserved", 48, 1);
    check_field(stack, "ip4.df", 49, 1);
    check_field(stack, "ip4.mf", 50, 1);
    check_field(stack, "ip4.frag", 51, 13);
    check_field(stack, "ip4.ttl", 64, 8);
    check_field(stack, "ip4.proto", 72, 8);
    check_field(stack, "ip4.cksum", 80, 16);
    check_field(stack, "ip4.src", 96, 32);
    check_field(stack, "ip4.dst", 128, 32);
    check_field(stack, "ip4.options", 160, 64);

    check_computed(stack, 50, "ip4.ihl", 7);
    check_computed(stack, 150, "ip4.ihl", 7);
    check_computed(stack, 50, "ip4.len", 36);
    check_computed(stack, 150, "ip4.len", 136);
    check_computed(stack, 50, "ip4.proto", 17);
    ps_stack_destroy(stack);

    /* A later fragment: the offset is 13 bits, after three flag bits. */
    stack = CHECK_FILL("eth,ip4",
                       ETH_LABELS
                       "ip4.id=0x1c46,ip4.mf=1,ip4.frag=185,ip4.proto=17,"
                       "ip4.src=192.0.2.1,ip4.dst=192.0.2.2",
                       ip4_frag_pkt);
    check_fill_error(stack, "ip4.frag=8192", PS_ERR_RANGE);

    /* Nothing follows: the default of next(255). */
    check_computed(stack, 34, "ip4.proto", 255);
    ps_stack_destroy(stack);

    check_spec_computed("eth,ip4,udp", "ip4.ihl", 5);
    check_spec_computed("eth,{ip4,length=40},udp", "ip4.ihl", 15);
    check_spec_computed("eth,ip4,ip6", "ip4.proto", 41);
    check_spec_error("eth,{ip4,length=3},udp", PS_ERR_LAYOUT);
    check_spec_error("eth,{ip4,length=44},udp", PS_ERR_LAYOUT);
}

/* IPv6, RFC 8200. */

/* Scapy: E() / IPv6(tc=0xb8, fl=0x12345, hlim=255, src=B1, dst=B2) /
 *     UDP(sport=1024, dport=9) / Raw(PAY16) */
static const uint8_t ip6_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x86, 0xdd,
    /* ip6 */
    0x6b, 0x81, 0x23, 0x45, 0x00, 0x18, 0x11, 0xff, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02,
    /* udp */
    0x04, 0x00, 0x00, 0x09, 0x00, 0x18, 0x68, 0x00,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_ip6(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip6,udp",
                       ETH_LABELS
                       "ip6.tc=0xb8,ip6.flow=0x12345,ip6.hlim=255,"
                       IP6_LABELS "udp.src=1024,udp.dst=9",
                       ip6_pkt);
    check_header(stack, "ip6", 14, 40);
    check_field(stack, "ip6.version", 0, 4);
    check_field(stack, "ip6.tc", 4, 8);
    check_field(stack, "ip6.flow", 12, 20);
    check_field(stack, "ip6.plen", 32, 16);
    check_field(stack, "ip6.next", 48, 8);
    check_field(stack, "ip6.hlim", 56, 8);
    check_field(stack, "ip6.src", 64, 128);
    check_field(stack, "ip6.dst", 192, 128);

    check_computed(stack, 62, "ip6.next", 17);
    check_computed(stack, 62, "ip6.plen", 8);
    check_computed(stack, 162, "ip6.plen", 108);
    ps_stack_destroy(stack);

    /* Nothing follows: the default of next(59), "no next header". */
    check_spec_computed("eth,ip6", "ip6.next", 59);
    check_spec_computed("eth,ip6,{ip4,name=inner_ip4}", "ip6.next", 4);
}

/* IPFIX, RFC 7011. */

/* Scapy's NetflowHeaderV10 leaves the 2-byte version field out of
 * 'length', so the message length is given from RFC 7011 (header and
 * sets): 16 + 16 = 32.  The payload is a data set for template 256, padded
 * to 16 bytes:
 * IPFIX_SET = struct.pack('!HHIIH', 256, 16, 0x0a000001, 0x0a000002,
 *     6) + bytes(2)
 * Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / UDP(sport=4739,
 *     dport=4739) / NetflowHeader(version=10) /
 *     NetflowHeaderV10(length=32, ExportTime=1700000000,
 *     flowSequence=1234, ObservationDomainID=256) / Raw(IPFIX_SET) */
static const uint8_t ipfix_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x79,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0x12, 0x83, 0x12, 0x83, 0x00, 0x28, 0xe5, 0x2a,
    /* ipfix */
    0x00, 0x0a, 0x00, 0x20, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x04, 0xd2,
    0x00, 0x00, 0x01, 0x00,
    /* payload */
    0x01, 0x00, 0x00, 0x10, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    0x00, 0x06, 0x00, 0x00,
};

static void
test_ipfix(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,udp,ipfix",
                       ETH_LABELS IP4_LABELS "udp.src=4739,"
                       "ipfix.export_time=1700000000,ipfix.seq=1234,"
                       "ipfix.domain=256",
                       ipfix_pkt);
    check_header(stack, "ipfix", 42, 16);
    check_field(stack, "ipfix.version", 0, 16);
    check_field(stack, "ipfix.len", 16, 16);
    check_field(stack, "ipfix.export_time", 32, 32);
    check_field(stack, "ipfix.seq", 64, 32);
    check_field(stack, "ipfix.domain", 96, 32);

    check_computed(stack, 58, "udp.dst", 4739);
    check_computed(stack, 58, "ipfix.version", 10);

    /* The message length counts the header. */
    check_computed(stack, 58, "ipfix.len", 16);
    check_computed(stack, 58 + 100, "ipfix.len", 116);
    ps_stack_destroy(stack);
}

/* LACP, IEEE 802.1AX. */

/* Scapy: Ether(dst='01:80:c2:00:00:02', src=M1) /
 *     SlowProtocol(subtype=1) / LACP(actor_system_priority=32768,
 *     actor_system=M1, actor_key=13, actor_port_priority=32768,
 *     actor_port_number=1, actor_state=0x3d,
 *     partner_system_priority=65535, partner_system='02:00:00:00:00:0a',
 *     partner_key=17, partner_port_priority=255, partner_port_number=7,
 *     partner_state=0x3f, collector_max_delay=5) */
static const uint8_t lacp_pkt[] = {
    /* eth */
    0x01, 0x80, 0xc2, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x88, 0x09,
    /* lacp */
    0x01, 0x01, 0x01, 0x14, 0x80, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x0d, 0x80, 0x00, 0x00, 0x01, 0x3d, 0x00, 0x00, 0x00, 0x02, 0x14,
    0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x11, 0x00, 0xff,
    0x00, 0x07, 0x3f, 0x00, 0x00, 0x00, 0x03, 0x10, 0x00, 0x05, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00,
};

static void
test_lacp(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,lacp",
                       "eth.dst=01:80:c2:00:00:02,eth.src=02:00:00:00:00:01,"
                       "lacp.actor_sys_prio=32768,"
                       "lacp.actor_sys=02:00:00:00:00:01,"
                       "lacp.actor_key=13,lacp.actor_port_prio=32768,"
                       "lacp.actor_port=1,lacp.actor_state=0x3d,"
                       "lacp.partner_sys_prio=65535,"
                       "lacp.partner_sys=02:00:00:00:00:0a,"
                       "lacp.partner_key=17,lacp.partner_port_prio=255,"
                       "lacp.partner_port=7,lacp.partner_state=0x3f,"
                       "lacp.coll_max_delay=5",
                       lacp_pkt);
    check_header(stack, "lacp", 14, 110);
    check_field(stack, "lacp.subtype", 0, 8);
    check_field(stack, "lacp.version", 8, 8);
    check_field(stack, "lacp.actor_type", 16, 8);
    check_field(stack, "lacp.actor_len", 24, 8);
    check_field(stack, "lacp.actor_sys_prio", 32, 16);
    check_field(stack, "lacp.actor_sys", 48, 48);
    check_field(stack, "lacp.actor_key", 96, 16);
    check_field(stack, "lacp.actor_port_prio", 112, 16);
    check_field(stack, "lacp.actor_port", 128, 16);
    check_field(stack, "lacp.actor_state", 144, 8);
    check_field(stack, "lacp.actor_reserved", 152, 24);
    check_field(stack, "lacp.partner_type", 176, 8);
    check_field(stack, "lacp.partner_len", 184, 8);
    check_field(stack, "lacp.partner_sys_prio", 192, 16);
    check_field(stack, "lacp.partner_sys", 208, 48);
    check_field(stack, "lacp.partner_key", 256, 16);
    check_field(stack, "lacp.partner_port_prio", 272, 16);
    check_field(stack, "lacp.partner_port", 288, 16);
    check_field(stack, "lacp.partner_state", 304, 8);
    check_field(stack, "lacp.partner_reserved", 312, 24);
    check_field(stack, "lacp.coll_type", 336, 8);
    check_field(stack, "lacp.coll_len", 344, 8);
    check_field(stack, "lacp.coll_max_delay", 352, 16);
    check_field(stack, "lacp.coll_reserved", 368, 96);
    check_field(stack, "lacp.term_type", 464, 8);
    check_field(stack, "lacp.term_len", 472, 8);
    check_field(stack, "lacp.reserved", 480, 400);

    check_computed(stack, 124, "eth.type", 0x8809);
    ps_stack_destroy(stack);
}

/* MPLS, RFC 3032. */

/* Scapy: E() / MPLS(label=0x12345, cos=5, s=0, ttl=255) /
 *     MPLS(label=1000, cos=0, s=1, ttl=64) / IP(id=0x1234, src=A1, dst=A2)
 *     / UDP(sport=1024, dport=9) / Raw(PAY16) */
static const uint8_t mpls_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x88, 0x47,
    /* mpls */
    0x12, 0x34, 0x5a, 0xff,
    /* inner_mpls */
    0x00, 0x3e, 0x81, 0x40,
    /* ip4 */
    0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x89,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0x04, 0x00, 0x00, 0x09, 0x00, 0x18, 0x3f, 0x71,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_mpls(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,mpls,{mpls,name=inner_mpls},ip4,udp",
                       ETH_LABELS
                       "mpls.label=0x12345,mpls.tc=5,mpls.ttl=255,"
                       "inner_mpls.label=1000,inner_mpls.tc=0,"
                       "inner_mpls.ttl=64,"
                       IP4_LABELS "udp.src=1024,udp.dst=9",
                       mpls_pkt);
    check_header(stack, "mpls", 14, 4);
    check_header(stack, "inner_mpls", 18, 4);
    check_header(stack, "ip4", 22, 20);
    check_field(stack, "mpls.label", 0, 20);
    check_field(stack, "mpls.tc", 20, 3);
    check_field(stack, "mpls.s", 23, 1);
    check_field(stack, "mpls.ttl", 24, 8);
    check_field(stack, "inner_mpls.label", 0, 20);

    /* Bottom of stack only on the last entry. */
    check_computed(stack, 50, "eth.type", 0x8847);
    check_computed(stack, 50, "mpls.s", 0);
    check_computed(stack, 50, "inner_mpls.s", 1);
    check_fill_error(stack, "mpls.label=0x100000", PS_ERR_RANGE);
    ps_stack_destroy(stack);

    check_spec_computed("eth,mpls,ip6", "mpls.s", 1);
}

/* NSH, RFC 8300. */

/* Scapy: E(type=0x894f) / NSH(mdtype=1, nextproto=1, spi=42, si=254,
 *     context_header=bytes(range(0x10, 0x20))) / IP(id=0x1234, src=A1,
 *     dst=A2) / ICMP(id=1, seq=1) / Raw(PAY16) */
static const uint8_t nsh_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x89, 0x4f,
    /* nsh */
    0x0f, 0xc6, 0x01, 0x01, 0x00, 0x00, 0x2a, 0xfe, 0x10, 0x11, 0x12, 0x13,
    0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    /* ip4 */
    0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x01, 0xe4, 0x99,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* icmp */
    0x08, 0x00, 0xbf, 0xbd, 0x00, 0x01, 0x00, 0x01,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

/* Scapy's NSH counts MD type 2 TLVs instead of 4-byte words in 'length',
 * so it is given: 2 + 2 = 4 words (RFC 8300).
 * The context is one 8-byte context header: class 0x0102, type 1, 4 bytes
 * of metadata (the length is in bytes in RFC 8300):
 * NSH_TLV = struct.pack('!HBBI', 0x0102, 0x01, 0x04, 0xdeadbeef)
 * Scapy: E(type=0x894f) / NSH(mdtype=2, length=4, nextproto=1, spi=42,
 *     si=254) / Raw(NSH_TLV) / IP(id=0x1234, src=A1, dst=A2) / ICMP(id=1,
 *     seq=1) / Raw(PAY16) */
static const uint8_t nsh_md2_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x89, 0x4f,
    /* nsh */
    0x0f, 0xc4, 0x02, 0x01, 0x00, 0x00, 0x2a, 0xfe, 0x01, 0x02, 0x01, 0x04,
    0xde, 0xad, 0xbe, 0xef,
    /* ip4 */
    0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x01, 0xe4, 0x99,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* icmp */
    0x08, 0x00, 0xbf, 0xbd, 0x00, 0x01, 0x00, 0x01,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_nsh(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,nsh,ip4,icmp",
                       ETH_LABELS "nsh.spi=42,nsh.si=254,"
                       "nsh.context=0x101112131415161718191a1b1c1d1e1f,"
                       IP4_LABELS "icmp.id=1,icmp.seq=1",
                       nsh_pkt);
    check_header(stack, "nsh", 14, 24);
    check_field(stack, "nsh.ver", 0, 2);
    check_field(stack, "nsh.o", 2, 1);
    check_field(stack, "nsh.u", 3, 1);
    check_field(stack, "nsh.ttl", 4, 6);
    check_field(stack, "nsh.len", 10, 6);
    check_field(stack, "nsh.reserved", 16, 4);
    check_field(stack, "nsh.mdtype", 20, 4);
    check_field(stack, "nsh.next_proto", 24, 8);
    check_field(stack, "nsh.spi", 32, 24);
    check_field(stack, "nsh.si", 56, 8);
    check_field(stack, "nsh.context", 64, 128);

    check_computed(stack, 66, "eth.type", 0x894f);
    check_computed(stack, 66, "nsh.next_proto", 1);

    /* MD type 1: 6 words, whatever the packet length. */
    check_computed(stack, 66, "nsh.len", 6);
    check_computed(stack, 166, "nsh.len", 6);
    ps_stack_destroy(stack);

    /* MD type 2 with one 8-byte context header. */
    stack = CHECK_FILL("eth,{nsh,length=8},ip4,icmp",
                       ETH_LABELS "nsh.mdtype=2,nsh.spi=42,nsh.si=254,"
                       "nsh.context=0x01020104deadbeef,"
                       IP4_LABELS "icmp.id=1,icmp.seq=1",
                       nsh_md2_pkt);
    check_header(stack, "nsh", 14, 16);
    check_computed(stack, 58, "nsh.len", 4);
    check_computed(stack, 158, "nsh.len", 4);
    ps_stack_destroy(stack);

    /* MD type 2 with no context header. */
    stack = create_stack("eth,{nsh,length=0},{eth,name=inner_eth}");
    check_header(stack, "nsh", 14, 8);
    check_computed(stack, 36, "nsh.len", 2);
    check_computed(stack, 36, "nsh.next_proto", 3);
    ps_stack_destroy(stack);

    check_spec_computed("eth,nsh,ip6", "nsh.next_proto", 2);
    check_spec_computed("eth,nsh,mpls", "nsh.next_proto", 5);
    check_spec_error("eth,{nsh,length=6},ip4", PS_ERR_LAYOUT);
}

/* PTP, IEEE 1588. */

/* Scapy has no PTP layer: the Sync message is built with struct.pack from
 * IEEE 1588-2008, 13.3 and 13.6:
 * PTP_SYNC = struct.pack('!BBHBBHqIQHHBb', 0x00, 0x02, 44, 0, 0,
 *     0x0200, 0, 0, 0x001122fffe334455, 1, 1000, 0, -3) +
 *     struct.pack('!HII', 0, 1700000000, 500000000)
 * Scapy: Ether(dst='01:00:5e:00:01:81', src=M1) / IP(id=0x1234, ttl=1,
 *     src=A1, dst='224.0.1.129') / UDP(sport=319, dport=319) /
 *     Raw(PTP_SYNC) */
static const uint8_t ptp_pkt[] = {
    /* eth */
    0x01, 0x00, 0x5e, 0x00, 0x01, 0x81, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x48, 0x12, 0x34, 0x00, 0x00, 0x01, 0x11, 0x03, 0xef,
    0xc0, 0x00, 0x02, 0x01, 0xe0, 0x00, 0x01, 0x81,
    /* udp */
    0x01, 0x3f, 0x01, 0x3f, 0x00, 0x34, 0x13, 0xb6,
    /* ptp */
    0x00, 0x02, 0x00, 0x2c, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x22, 0xff,
    0xfe, 0x33, 0x44, 0x55, 0x00, 0x01, 0x03, 0xe8, 0x00, 0xfd,
    /* payload */
    0x00, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x1d, 0xcd, 0x65, 0x00,
};

static void
test_ptp(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,udp,ptp",
                       "eth.dst=01:00:5e:00:01:81,eth.src=02:00:00:00:00:01,"
                       "ip4.id=0x1234,ip4.ttl=1,ip4.src=192.0.2.1,"
                       "ip4.dst=224.0.1.129,udp.src=319,"
                       "ptp.msg_type=0,ptp.domain=0,ptp.flags=0x0200,"
                       "ptp.correction=0,ptp.clock_id=0x001122fffe334455,"
                       "ptp.port_id=1,ptp.seq=1000,ptp.control=0,"
                       "ptp.log_interval=253",
                       ptp_pkt);
    check_header(stack, "ptp", 42, 34);
    check_field(stack, "ptp.sdo_id", 0, 4);
    check_field(stack, "ptp.msg_type", 4, 4);
    check_field(stack, "ptp.minor_version", 8, 4);
    check_field(stack, "ptp.version", 12, 4);
    check_field(stack, "ptp.msg_len", 16, 16);
    check_field(stack, "ptp.domain", 32, 8);
    check_field(stack, "ptp.reserved1", 40, 8);
    check_field(stack, "ptp.flags", 48, 16);
    check_field(stack, "ptp.correction", 64, 64);
    check_field(stack, "ptp.reserved2", 128, 32);
    check_field(stack, "ptp.clock_id", 160, 64);
    check_field(stack, "ptp.port_id", 224, 16);
    check_field(stack, "ptp.seq", 240, 16);
    check_field(stack, "ptp.control", 256, 8);
    check_field(stack, "ptp.log_interval", 264, 8);

    check_computed(stack, 76, "udp.dst", 319);
    check_computed(stack, 76, "ptp.version", 2);

    /* The message length counts the header: 44 for Sync, 64 for
     * Announce. */
    check_computed(stack, 76 + 10, "ptp.msg_len", 44);
    check_computed(stack, 76 + 30, "ptp.msg_len", 64);
    ps_stack_destroy(stack);

    /* PTP over Ethernet (IEEE 1588 Annex F). */
    stack = create_stack("eth,ptp");
    check_header(stack, "ptp", 14, 34);
    check_computed(stack, 58, "eth.type", 0x88f7);
    check_computed(stack, 58, "ptp.msg_len", 44);
    ps_stack_destroy(stack);
}

/* sFlow version 5. */

/* Scapy has no sFlow layer: the datagram, with one counters sample of no
 * records, is built with struct.pack from sFlow version 5:
 * SFLOW = struct.pack('!II4sIIII', 5, 1, bytes([192, 0, 2, 1]), 0, 7,
 *     123456, 1) + struct.pack('!IIIII', 2, 12, 1, 3, 0)
 * Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / UDP(sport=49152,
 *     dport=6343) / Raw(SFLOW) */
static const uint8_t sflow_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x4c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x69,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0xc0, 0x00, 0x18, 0xc7, 0x00, 0x38, 0xfe, 0x4e,
    /* sflow */
    0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, 0xe2, 0x40,
    0x00, 0x00, 0x00, 0x01,
    /* payload */
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
};

static void
test_sflow(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,udp,sflow",
                       ETH_LABELS IP4_LABELS "udp.src=49152,"
                       "sflow.agent=192.0.2.1,sflow.sub_agent=0,"
                       "sflow.seq=7,sflow.uptime=123456,sflow.samples=1",
                       sflow_pkt);
    check_header(stack, "sflow", 42, 28);
    check_field(stack, "sflow.version", 0, 32);
    check_field(stack, "sflow.agent_type", 32, 32);
    check_field(stack, "sflow.agent", 64, 32);
    check_field(stack, "sflow.sub_agent", 96, 32);
    check_field(stack, "sflow.seq", 128, 32);
    check_field(stack, "sflow.uptime", 160, 32);
    check_field(stack, "sflow.samples", 192, 32);

    check_computed(stack, 70, "udp.dst", 6343);
    check_computed(stack, 70, "sflow.version", 5);
    check_computed(stack, 70, "sflow.agent_type", 1);
    ps_stack_destroy(stack);
}

/* TCP, RFC 9293. */

/* Scapy: E() / IP(id=0x1234, flags='DF', src=A1, dst=A2) /
 *     TCP(sport=49152, dport=443, seq=0x01020304, ack=0, flags='S',
 *     window=64240, options=[('MSS', 1460), ('SAckOK', b''), ('NOP',
 *     None), ('WScale', 7), ('NOP', None), ('NOP', None)]) */
static const uint8_t tcp4_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x34, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0xa4, 0x8c,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* tcp */
    0xc0, 0x00, 0x01, 0xbb, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x80, 0x02, 0xfa, 0xf0, 0x2a, 0x5b, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
    0x04, 0x02, 0x01, 0x03, 0x03, 0x07, 0x01, 0x01,
};

/* Scapy: E() / IPv6(src=B1, dst=B2) / TCP(sport=49152, dport=80,
 *     seq=0x01020304, ack=0x0a0b0c0d, flags='PA', window=502) / Raw(b'GET
 *     / HTTP/1.1\r\n\r\n') */
static const uint8_t tcp6_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x86, 0xdd,
    /* ip6 */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x26, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02,
    /* tcp */
    0xc0, 0x00, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d,
    0x50, 0x18, 0x01, 0xf6, 0x99, 0x40, 0x00, 0x00,
    /* payload */
    0x47, 0x45, 0x54, 0x20, 0x2f, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x31,
    0x2e, 0x31, 0x0d, 0x0a, 0x0d, 0x0a,
};

static void
test_tcp(void **state)
{
    struct ps_stack *stack;

    /* A SYN with MSS, SACK permitted and window scale options. */
    stack = CHECK_FILL("eth,ip4,{tcp,length=12}",
                       ETH_LABELS
                       "ip4.id=0x1234,ip4.df=1,"
                       "ip4.src=192.0.2.1,ip4.dst=192.0.2.2,"
                       "tcp.src=49152,tcp.dst=443,tcp.seq=0x01020304,"
                       "tcp.ack=0,tcp.syn=1,tcp.window=64240,"
                       "tcp.options=0x020405b40402010303070101",
                       tcp4_pkt);
    check_header(stack, "tcp", 34, 32);
    check_field(stack, "tcp.src", 0, 16);
    check_field(stack, "tcp.dst", 16, 16);
    check_field(stack, "tcp.seq", 32, 32);
    check_field(stack, "tcp.ack", 64, 32);
    check_field(stack, "tcp.doff", 96, 4);
    check_field(stack, "tcp.reserved", 100, 4);
    check_field(stack, "tcp.cwr", 104, 1);
    check_field(stack, "tcp.ece", 105, 1);
    check_field(stack, "tcp.urg", 106, 1);
    check_field(stack, "tcp.ackf", 107, 1);
    check_field(stack, "tcp.psh", 108, 1);
    check_field(stack, "tcp.rst", 109, 1);
    check_field(stack, "tcp.syn", 110, 1);
    check_field(stack, "tcp.fin", 111, 1);
    check_field(stack, "tcp.window", 112, 16);
    check_field(stack, "tcp.cksum", 128, 16);
    check_field(stack, "tcp.urgptr", 144, 16);
    check_field(stack, "tcp.options", 160, 96);

    check_computed(stack, 66, "ip4.proto", 6);
    check_computed(stack, 66, "tcp.doff", 8);
    check_computed(stack, 166, "tcp.doff", 8);
    ps_stack_destroy(stack);

    /* Data over IPv6: the checksum covers the IPv6 pseudo-header. */
    stack = CHECK_FILL("eth,ip6,tcp",
                       ETH_LABELS IP6_LABELS
                       "tcp.src=49152,tcp.dst=80,tcp.seq=0x01020304,"
                       "tcp.ack=0x0a0b0c0d,tcp.ackf=1,tcp.psh=1,tcp.syn=0,"
                       "tcp.window=502",
                       tcp6_pkt);
    check_header(stack, "tcp", 54, 20);
    check_computed(stack, 74, "ip6.next", 6);
    check_computed(stack, 74, "tcp.doff", 5);
    ps_stack_destroy(stack);

    check_spec_computed("eth,ip4,{tcp,length=40}", "tcp.doff", 15);
    check_spec_error("eth,ip4,{tcp,length=2}", PS_ERR_LAYOUT);
    check_spec_error("eth,ip4,{tcp,length=44}", PS_ERR_LAYOUT);
}

/* UDP, RFC 768. */

/* Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / UDP(sport=12345,
 *     dport=7) / Raw(PAY16) */
static const uint8_t udp_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x89,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0x30, 0x39, 0x00, 0x07, 0x00, 0x18, 0x13, 0x3a,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

/* The two payload bytes are the checksum of the same datagram with a zero
 * payload, so that the checksum computes to zero and is sent as 0xffff
 * (RFC 768).
 * Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / UDP(sport=12345,
 *     dport=7) / Raw(bytes([0x4b, 0x96])) */
static const uint8_t udp_zero_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x1e, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x97,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0x30, 0x39, 0x00, 0x07, 0x00, 0x0a, 0xff, 0xff,
    /* payload */
    0x4b, 0x96,
};

static void
test_udp(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,udp",
                       ETH_LABELS IP4_LABELS "udp.src=12345,udp.dst=7",
                       udp_pkt);
    check_header(stack, "udp", 34, 8);
    check_field(stack, "udp.src", 0, 16);
    check_field(stack, "udp.dst", 16, 16);
    check_field(stack, "udp.len", 32, 16);
    check_field(stack, "udp.cksum", 48, 16);

    check_computed(stack, 42, "ip4.proto", 17);
    check_computed(stack, 42, "udp.len", 8);
    check_computed(stack, 142, "udp.len", 108);

    /* Nothing follows: the default of next(0). */
    check_computed(stack, 42, "udp.dst", 0);
    assert_int_equal(ps_stack_entropy_field(stack),
                     find_field(stack, "udp.src"));
    ps_stack_destroy(stack);

    /* A checksum that computes to zero is sent as 0xffff. */
    stack = CHECK_FILL("eth,ip4,udp",
                       ETH_LABELS IP4_LABELS "udp.src=12345,udp.dst=7",
                       udp_zero_pkt);
    ps_stack_destroy(stack);
}

/* VXLAN, RFC 7348. */

/* Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / UDP(sport=49152,
 *     dport=4789) / VXLAN(flags=0x08, vni=0x123456) /
 *     Ether(dst='02:00:00:00:00:04', src='02:00:00:00:00:03') /
 *     IP(id=0x5678, src='10.0.0.1', dst='10.0.0.2') / ICMP(id=1, seq=1) /
 *     Raw(PAY16) */
static const uint8_t vxlan_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x5e, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x57,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0xc0, 0x00, 0x12, 0xb5, 0x00, 0x4a, 0x2c, 0x65,
    /* vxlan */
    0x08, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x00,
    /* inner_eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03,
    0x08, 0x00,
    /* inner_ip4 */
    0x45, 0x00, 0x00, 0x2c, 0x56, 0x78, 0x00, 0x00, 0x40, 0x01, 0x10, 0x57,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    /* icmp */
    0x08, 0x00, 0xbf, 0xbd, 0x00, 0x01, 0x00, 0x01,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_vxlan(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,udp,vxlan,{eth,name=inner_eth},"
                       "{ip4,name=inner_ip4},icmp",
                       ETH_LABELS IP4_LABELS "udp.src=49152,"
                       "vxlan.vni=0x123456,"
                       INNER_ETH_LABELS INNER_IP4_LABELS
                       "icmp.id=1,icmp.seq=1",
                       vxlan_pkt);
    check_header(stack, "vxlan", 42, 8);
    check_header(stack, "inner_eth", 50, 14);
    check_header(stack, "inner_ip4", 64, 20);
    check_field(stack, "vxlan.flags", 0, 8);
    check_field(stack, "vxlan.reserved1", 8, 24);
    check_field(stack, "vxlan.vni", 32, 24);
    check_field(stack, "vxlan.reserved2", 56, 8);

    check_computed(stack, 92, "udp.dst", 4789);
    check_computed(stack, 92, "vxlan.flags", 0x08);
    check_computed(stack, 92, "inner_eth.type", 0x0800);
    check_fill_error(stack, "vxlan.vni=0x1000000", PS_ERR_RANGE);
    ps_stack_destroy(stack);
}

/* VXLAN-GPE, draft-ietf-nvo3-vxlan-gpe. */

/* Scapy: E() / IP(id=0x1234, src=A1, dst=A2) / UDP(sport=49152,
 *     dport=4790) / VXLAN(flags=0x0c, NextProtocol=2, vni=0x123456) /
 *     IPv6(src='fd00::1', dst='fd00::2') / ICMPv6EchoRequest(id=1, seq=1,
 *     data=PAY16) */
static const uint8_t vxlan_gpe_pkt[] = {
    /* eth */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00,
    /* ip4 */
    0x45, 0x00, 0x00, 0x64, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe4, 0x51,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    /* udp */
    0xc0, 0x00, 0x12, 0xb6, 0x00, 0x50, 0x9a, 0x56,
    /* vxlan_gpe */
    0x0c, 0x00, 0x00, 0x02, 0x12, 0x34, 0x56, 0x00,
    /* inner_ip6 */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02,
    /* icmp6 */
    0x80, 0x00, 0x4d, 0x66, 0x00, 0x01, 0x00, 0x01,
    /* payload */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f,
};

static void
test_vxlan_gpe(void **state)
{
    struct ps_stack *stack;

    stack = CHECK_FILL("eth,ip4,udp,vxlan_gpe,{ip6,name=inner_ip6},icmp6",
                       ETH_LABELS IP4_LABELS "udp.src=49152,"
                       "vxlan_gpe.vni=0x123456,"
                       "inner_ip6.src=fd00::1,inner_ip6.dst=fd00::2,"
                       "icmp6.id=1,icmp6.seq=1",
                       vxlan_gpe_pkt);
    check_header(stack, "vxlan_gpe", 42, 8);
    check_header(stack, "inner_ip6", 50, 40);
    check_field(stack, "vxlan_gpe.reserved0", 0, 2);
    check_field(stack, "vxlan_gpe.ver", 2, 2);
    check_field(stack, "vxlan_gpe.i", 4, 1);
    check_field(stack, "vxlan_gpe.p", 5, 1);
    check_field(stack, "vxlan_gpe.b", 6, 1);
    check_field(stack, "vxlan_gpe.o", 7, 1);
    check_field(stack, "vxlan_gpe.reserved1", 8, 16);
    check_field(stack, "vxlan_gpe.next_proto", 24, 8);
    check_field(stack, "vxlan_gpe.vni", 32, 24);
    check_field(stack, "vxlan_gpe.reserved2", 56, 8);

    check_computed(stack, 98, "udp.dst", 4790);
    check_computed(stack, 98, "vxlan_gpe.next_proto", 2);
    ps_stack_destroy(stack);

    check_spec_computed("eth,ip4,udp,vxlan_gpe,{ip4,name=inner_ip4}",
                        "vxlan_gpe.next_proto", 1);
    check_spec_computed("eth,ip4,udp,vxlan_gpe,{eth,name=inner_eth}",
                        "vxlan_gpe.next_proto", 3);
    check_spec_computed("eth,ip4,udp,vxlan_gpe,nsh,{eth,name=inner_eth}",
                        "vxlan_gpe.next_proto", 4);
    check_spec_computed("eth,ip4,udp,vxlan_gpe,mpls,{ip4,name=inner_ip4}",
                        "vxlan_gpe.next_proto", 5);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ah),
        cmocka_unit_test(test_arp),
        cmocka_unit_test(test_dns),
        cmocka_unit_test(test_esp),
        cmocka_unit_test(test_eth_plain),
        cmocka_unit_test(test_eth_vlan),
        cmocka_unit_test(test_eth_qinq),
        cmocka_unit_test(test_geneve),
        cmocka_unit_test(test_gre),
        cmocka_unit_test(test_gtpu),
        cmocka_unit_test(test_icmp),
        cmocka_unit_test(test_icmp6),
        cmocka_unit_test(test_ip4),
        cmocka_unit_test(test_ip6),
        cmocka_unit_test(test_ipfix),
        cmocka_unit_test(test_lacp),
        cmocka_unit_test(test_mpls),
        cmocka_unit_test(test_nsh),
        cmocka_unit_test(test_ptp),
        cmocka_unit_test(test_sflow),
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_vxlan),
        cmocka_unit_test(test_vxlan_gpe),
    };

    return cmocka_run_group_tests(tests, load_protocols, unload_protocols);
}
