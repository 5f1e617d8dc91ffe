/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* bench-fig4: the libmoon paper's Fig. 4 (section IV.D) in C.  The paper
 * compares setting the IPv4 source address of a packet by hand, byte by
 * byte, with setting it through the generated accessor of a protocol
 * stack.  This program does three operations on an eth/ip4/udp/vxlan
 * packet, each in three ways:
 *
 *     ip4-src  sets ip4.src to a value that changes every iteration.
 *     vni      sets the 24-bit vxlan.vni, also changing.
 *     fill     fills the 50 bytes of outer headers of a VXLAN packet that
 *              carries a 64-byte inner frame: template, MACs, addresses,
 *              VNI, UDP source port, ip4.len and udp.len, the IPv4 header
 *              checksum and the UDP checksum (computed by all three ways,
 *              over the pseudo-header, the UDP header and the payload, as
 *              the library's udp definition asks for by default).
 *
 *     hand     (a) hand-written: packed structs in the manner of DPDK's
 *              rte_*_hdr, htonl()/htons() stores, memcpy() of a template
 *              and an RFC 1071 sum written out as in DPDK's
 *              __rte_raw_cksum().
 *     static   (b) the static header generated at build time from
 *              "eth,ip4,udp,vxlan": ps_eth_ip4_udp_vxlan_*_set(), _fill(),
 *              _set_length() and _fix_checksums().
 *     runtime  (c) the run-time API, fields looked up once before the
 *              loop: ps_stack_set_ip4(), ps_stack_set_uint(), and for
 *              "fill" a memcpy() of ps_stack_template() then the typed
 *              setters, ps_stack_set_length() and ps_stack_fix_checksums().
 *     labels   (c') "fill" only: ps_stack_fill() with a label string, as
 *              in the paper's Listing 8; the strings are formatted before
 *              the loop, one per ring buffer.
 *
 * The "loop" op with way "none" runs the bare loop, whose cost every other
 * figure includes.
 *
 * Two choices keep the ways comparable.  The packet length is a run-time
 * value, as it is for a packet received, so no way can fold the lengths
 * and the sum over the payload into constants.  The hand-written "vni"
 * is DPDK's idiom, one 32-bit store of htonl(vni << 8), which also zeroes
 * the reserved byte after the VNI; the accessors keep that byte, as a
 * setter of one field must.
 *
 * Every way must give the same bytes as the hand-written one; the program
 * checks that at start-up and exits with status 1 if not.
 *
 * Usage:
 *     bench-fig4 --list              prints the (op, way) pairs.
 *     bench-fig4 --timed N           times every pair, N iterations each
 *                                    (the fastest of 20 runs of N / 20).
 *     bench-fig4 --one OP WAY N      runs one pair N times (for callgrind).
 *
 * Each iteration works on the next of RING_SIZE packet buffers, so that
 * no work can be hoisted out of the loop, and a compiler barrier after
 * each operation (never inside it) keeps the stores from being merged
 * across iterations or dropped. */

#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "protostack/protostack.h"
#include "hand-written.h"
#include "ps_eth_ip4_udp_vxlan.h"

#define RING_SIZE 256           /* Packet buffers, used in turn. */
#define BUF_SIZE 128            /* Bytes per buffer. */
#define HDR_LEN 50              /* eth + ip4 + udp + vxlan. */
#define INNER_LEN 64            /* The encapsulated frame. */
#define TIMED_CHUNKS 20         /* Timed runs per pair; the best counts. */

#define BARRIER() asm volatile("" ::: "memory")
#define ALWAYS_INLINE inline __attribute__((__always_inline__))
#define NOINLINE __attribute__((__noinline__))

/* The values written. */
static const struct ps_mac eth_dst_mac = {
    { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 }
};
static const struct ps_mac eth_src_mac = {
    { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff }
};
#define IP4_SRC_ADDR 0xc0000201  /* 192.0.2.1, "fill". */
#define IP4_DST_BASE 0xc6336400  /* 198.51.100.0, plus i, "fill". */
#define SET_ADDR_BASE 0x0a000000 /* 10.0.0.0, plus i, "ip4-src". */
#define VNI_BASE 1234            /* Plus i, "fill". */

static inline uint32_t
set_addr(uint32_t i)
{
    return SET_ADDR_BASE + i;
}

static inline uint32_t
set_vni(uint32_t i)
{
    return i & 0xffffff;
}

static inline uint32_t
fill_ip4_dst(uint32_t i)
{
    return IP4_DST_BASE + i;
}

static inline uint32_t
fill_vni(uint32_t i)
{
    return (VNI_BASE + i) & 0xffffff;
}

static inline uint16_t
fill_udp_src(uint32_t i)
{
    return 0xc000 | (i & 0x3fff);
}

/* The packet buffers. */
static uint8_t ring[RING_SIZE][BUF_SIZE] __attribute__((__aligned__(64)));

static inline uint8_t *
ring_pkt(uint64_t i)
{
    return ring[i % RING_SIZE];
}

/* What the operations need besides the packet, all set up before any
 * loop: the run-time stack and the indexes of its fields, the packet
 * length, and the label strings of way "labels". */
struct bench_ctx {
    const struct ps_stack *stack;
    const uint8_t *template;    /* ps_stack_template(). */
    size_t hdr_len;             /* ps_stack_size(). */
    size_t pkt_len;             /* hdr_len + INNER_LEN. */
    size_t eth_dst, eth_src;    /* Field indexes. */
    size_t ip4_src, ip4_dst;
    size_t udp_src, vxlan_vni;
    char *labels[RING_SIZE];    /* For i % RING_SIZE. */
};

/* (a) Hand-written, on the structs of bench/hand-written.h (DPDK's
 * rte_ether_hdr, rte_ipv4_hdr, rte_udp_hdr and rte_vxlan_hdr are the
 * same). */

_Static_assert(sizeof(struct hw_vxlan_hdr) == HDR_LEN, "bad hw structs");
_Static_assert(ps_eth_ip4_udp_vxlan_SIZE == HDR_LEN, "bad static stack");

/* The outer headers with what never changes; lengths and checksums are
 * left zero, to be set per packet. */
static const uint8_t hw_template[HDR_LEN] = {
    /* Ethernet: addresses set per packet, type IPv4. */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00,
    /* IPv4: version 4, IHL 5, TTL 64, protocol UDP. */
    0x45, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* UDP: destination port 4789. */
    0x00, 0x00, 0x12, 0xb5, 0x00, 0x00, 0x00, 0x00,
    /* VXLAN: flag I. */
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Adds the 16-bit words of 'data' in host byte order to 'sum' (RFC 1071
 * sums are byte-order independent), as DPDK's __rte_raw_cksum() does. */
static inline uint32_t
hw_sum16(const void *data, size_t len, uint32_t sum)
{
    const uint8_t *p = data;
    const uint8_t *end = p + (len & ~(size_t) 1);

    for (; p != end; p += 2) {
        uint16_t w;

        memcpy(&w, p, 2);
        sum += w;
    }
    if (len & 1) {
        uint16_t w = 0;

        memcpy(&w, p, 1);
        sum += w;
    }
    return sum;
}

/* Folds 'sum' and returns its complement, in network byte order. */
static inline uint16_t
hw_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return ~sum;
}

static ALWAYS_INLINE void
ip4_src_hand(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
    struct hw_vxlan_hdr *h = (struct hw_vxlan_hdr *) pkt;

    h->ip4.src = htonl(set_addr(i));
}

/* As in DPDK code, one 32-bit store, which also zeroes the reserved byte
 * that follows the VNI. */
static ALWAYS_INLINE void
vni_hand(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
    struct hw_vxlan_hdr *h = (struct hw_vxlan_hdr *) pkt;

    h->vxlan.vni = htonl(set_vni(i) << 8);
}

/* Three byte stores: the field alone, keeping the byte that follows, as
 * the generated setter must. */
static ALWAYS_INLINE void
vni_bytes(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
    struct hw_vxlan_hdr *h = (struct hw_vxlan_hdr *) pkt;
    uint8_t *vni = (uint8_t *) &h->vxlan.vni;
    uint32_t v = set_vni(i);

    vni[0] = v >> 16;
    vni[1] = v >> 8;
    vni[2] = v;
}

static ALWAYS_INLINE void
fill_hand(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
    struct hw_vxlan_hdr *h = (struct hw_vxlan_hdr *) pkt;
    size_t pkt_len = ctx->pkt_len;
    uint16_t ip_len = pkt_len - sizeof h->eth;
    uint16_t udp_len = ip_len - sizeof h->ip4;

    memcpy(h, hw_template, sizeof hw_template);
    memcpy(h->eth.dst, eth_dst_mac.b, 6);
    memcpy(h->eth.src, eth_src_mac.b, 6);
    h->ip4.tot_len = htons(ip_len);
    h->ip4.src = htonl(IP4_SRC_ADDR);
    h->ip4.dst = htonl(fill_ip4_dst(i));
    h->udp.src = htons(fill_udp_src(i));
    h->udp.len = htons(udp_len);
    h->vxlan.vni = htonl(fill_vni(i) << 8);

    /* Both checksum fields are still zero from the template. */
    h->ip4.csum = hw_fold(hw_sum16(&h->ip4, sizeof h->ip4, 0));

    uint32_t sum = hw_sum16(&h->ip4.src, 8, 0);
    sum += htons(17) + htons(udp_len);
    sum = hw_sum16(&h->udp, udp_len, sum);
    uint16_t cksum = hw_fold(sum);
    h->udp.csum = cksum ? cksum : 0xffff;
}

/* (b) Static accessors. */

static ALWAYS_INLINE void
ip4_src_static(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
    struct ps_eth_ip4_udp_vxlan *p = (struct ps_eth_ip4_udp_vxlan *) pkt;

    ps_eth_ip4_udp_vxlan_ip4_src_set(p, set_addr(i));
}

static ALWAYS_INLINE void
vni_static(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
    struct ps_eth_ip4_udp_vxlan *p = (struct ps_eth_ip4_udp_vxlan *) pkt;

    ps_eth_ip4_udp_vxlan_vxlan_vni_set(p, set_vni(i));
}

static ALWAYS_INLINE void
fill_static(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
    struct ps_eth_ip4_udp_vxlan *p = (struct ps_eth_ip4_udp_vxlan *) pkt;
    size_t pkt_len = ctx->pkt_len;

    ps_eth_ip4_udp_vxlan_fill(p);
    ps_eth_ip4_udp_vxlan_eth_dst_set(p, &eth_dst_mac);
    ps_eth_ip4_udp_vxlan_eth_src_set(p, &eth_src_mac);
    ps_eth_ip4_udp_vxlan_ip4_src_set(p, IP4_SRC_ADDR);
    ps_eth_ip4_udp_vxlan_ip4_dst_set(p, fill_ip4_dst(i));
    ps_eth_ip4_udp_vxlan_udp_src_set(p, fill_udp_src(i));
    ps_eth_ip4_udp_vxlan_vxlan_vni_set(p, fill_vni(i));
    ps_eth_ip4_udp_vxlan_set_length(p, pkt_len);
    ps_eth_ip4_udp_vxlan_fix_checksums(p, pkt_len);
}

/* (c) Run-time API.  The setters cannot fail here: the fields and their
 * types were checked at start-up and every value fits. */

static ALWAYS_INLINE void
ip4_src_runtime(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
    ps_stack_set_ip4(ctx->stack, pkt, ctx->ip4_src, set_addr(i));
}

static ALWAYS_INLINE void
vni_runtime(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
    ps_stack_set_uint(ctx->stack, pkt, ctx->vxlan_vni, set_vni(i));
}

static ALWAYS_INLINE void
fill_runtime(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
    const struct ps_stack *stack = ctx->stack;
    size_t pkt_len = ctx->pkt_len;

    memcpy(pkt, ctx->template, ctx->hdr_len);
    ps_stack_set_mac(stack, pkt, ctx->eth_dst, &eth_dst_mac);
    ps_stack_set_mac(stack, pkt, ctx->eth_src, &eth_src_mac);
    ps_stack_set_ip4(stack, pkt, ctx->ip4_src, IP4_SRC_ADDR);
    ps_stack_set_ip4(stack, pkt, ctx->ip4_dst, fill_ip4_dst(i));
    ps_stack_set_uint(stack, pkt, ctx->udp_src, fill_udp_src(i));
    ps_stack_set_uint(stack, pkt, ctx->vxlan_vni, fill_vni(i));
    ps_stack_set_length(stack, pkt, pkt_len);
    ps_stack_fix_checksums(stack, pkt, pkt_len);
}

/* (c') Run-time API, labels text. */
static ALWAYS_INLINE void
fill_labels(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
    ps_stack_fill(ctx->stack, pkt, ctx->pkt_len, ctx->labels[i % RING_SIZE],
                  NULL);
}

/* The bare loop. */
static ALWAYS_INLINE void
loop_none(const struct bench_ctx *ctx, uint8_t *pkt, uint32_t i)
{
}

/* For each pair, loop_OP_WAY() runs the operation 'n' times with the
 * operation inlined into the loop, and once_OP_WAY() runs it once, for the
 * start-up check.  The loop works on a copy of '*ctxp' in local
 * variables, so that the barrier does not force the context to be read
 * again from memory on each iteration. */
#define BENCH_PAIR(OP, WAY)                                             \
    static void NOINLINE                                                \
    loop_##OP##_##WAY(const struct bench_ctx *ctxp, uint64_t n)         \
    {                                                                   \
        const struct bench_ctx ctx = *ctxp;                             \
                                                                        \
        for (uint64_t i = 0; i < n; i++) {                              \
            OP##_##WAY(&ctx, ring_pkt(i), i);                           \
            BARRIER();                                                  \
        }                                                               \
    }                                                                   \
                                                                        \
    static void                                                         \
    once_##OP##_##WAY(const struct bench_ctx *ctx, uint8_t *pkt,        \
                      uint32_t i)                                       \
    {                                                                   \
        OP##_##WAY(ctx, pkt, i);                                        \
    }

BENCH_PAIR(loop, none)
BENCH_PAIR(ip4_src, hand)
BENCH_PAIR(ip4_src, static)
BENCH_PAIR(ip4_src, runtime)
BENCH_PAIR(vni, hand)
BENCH_PAIR(vni, bytes)
BENCH_PAIR(vni, static)
BENCH_PAIR(vni, runtime)
BENCH_PAIR(fill, hand)
BENCH_PAIR(fill, static)
BENCH_PAIR(fill, runtime)
BENCH_PAIR(fill, labels)

struct bench {
    const char *op;
    const char *way;
    void (*loop)(const struct bench_ctx *, uint64_t n);
    void (*once)(const struct bench_ctx *, uint8_t *pkt, uint32_t i);
};

#define BENCH(OP_NAME, WAY_NAME, OP, WAY) \
    { OP_NAME, WAY_NAME, loop_##OP##_##WAY, once_##OP##_##WAY }

/* The first way of each op is the reference for the start-up check. */
static const struct bench benches[] = {
    BENCH("loop", "none", loop, none),
    BENCH("ip4-src", "hand", ip4_src, hand),
    BENCH("ip4-src", "static", ip4_src, static),
    BENCH("ip4-src", "runtime", ip4_src, runtime),
    BENCH("vni", "hand", vni, hand),
    BENCH("vni", "bytes", vni, bytes),
    BENCH("vni", "static", vni, static),
    BENCH("vni", "runtime", vni, runtime),
    BENCH("fill", "hand", fill, hand),
    BENCH("fill", "static", fill, static),
    BENCH("fill", "runtime", fill, runtime),
    BENCH("fill", "labels", fill, labels),
};
#define N_BENCHES (sizeof benches / sizeof benches[0])

static void __attribute__((__noreturn__))
fatal(const char *what, char *error)
{
    fprintf(stderr, "bench-fig4: %s: %s\n", what, error ? error : "failed");
    free(error);
    exit(1);
}

static size_t
find_field(const struct ps_stack *stack, const char *label)
{
    char *error = NULL;
    size_t field;

    if (ps_stack_find_field(stack, label, &field, &error)) {
        fatal(label, error);
    }
    return field;
}

static void
ctx_init(struct bench_ctx *ctx, struct ps_registry **registryp)
{
    struct ps_registry *registry = ps_registry_create();
    struct ps_stack *stack;
    char *error = NULL;

    if (ps_registry_load_default(registry, &error)) {
        fatal("loading protocols", error);
    }
    if (ps_stack_create(registry, "eth,ip4,udp,vxlan", &stack, &error)) {
        fatal("creating stack", error);
    }
    *registryp = registry;

    memset(ctx, 0, sizeof *ctx);
    ctx->stack = stack;
    ctx->template = ps_stack_template(stack);
    ctx->hdr_len = ps_stack_size(stack);
    ctx->pkt_len = ctx->hdr_len + INNER_LEN;
    if (ctx->hdr_len != HDR_LEN || ctx->pkt_len > BUF_SIZE) {
        fprintf(stderr, "bench-fig4: stack is %zu bytes, expected %d\n",
                ctx->hdr_len, HDR_LEN);
        exit(1);
    }
    ctx->eth_dst = find_field(stack, "eth.dst");
    ctx->eth_src = find_field(stack, "eth.src");
    ctx->ip4_src = find_field(stack, "ip4.src");
    ctx->ip4_dst = find_field(stack, "ip4.dst");
    ctx->udp_src = find_field(stack, "udp.src");
    ctx->vxlan_vni = find_field(stack, "vxlan.vni");

    for (uint32_t i = 0; i < RING_SIZE; i++) {
        char dst_mac[PS_MAC_STRLEN], src_mac[PS_MAC_STRLEN];
        char src[PS_IP4_STRLEN], dst[PS_IP4_STRLEN];
        char buf[256];

        snprintf(buf, sizeof buf,
                 "eth.dst=%s,eth.src=%s,ip4.src=%s,ip4.dst=%s,"
                 "udp.src=%"PRIu16",vxlan.vni=%"PRIu32,
                 ps_mac_format(&eth_dst_mac, dst_mac),
                 ps_mac_format(&eth_src_mac, src_mac),
                 ps_ip4_format(IP4_SRC_ADDR, src),
                 ps_ip4_format(fill_ip4_dst(i), dst),
                 fill_udp_src(i), fill_vni(i));
        ctx->labels[i] = strdup(buf);
        if (!ctx->labels[i]) {
            fatal("strdup", NULL);
        }
    }
}

static void
ctx_destroy(struct bench_ctx *ctx, struct ps_registry *registry)
{
    for (size_t i = 0; i < RING_SIZE; i++) {
        free(ctx->labels[i]);
    }
    ps_stack_destroy((struct ps_stack *) ctx->stack);
    ps_registry_destroy(registry);
}

/* Writes into 'pkt' (BUF_SIZE bytes) a legal packet: a payload pattern as
 * the inner frame, and the headers from ps_stack_fill() with defaults. */
static void
make_base_packet(const struct bench_ctx *ctx, uint8_t *pkt)
{
    char *error = NULL;

    for (size_t k = 0; k < BUF_SIZE; k++) {
        pkt[k] = k * 37 + 11;
    }
    if (ps_stack_fill(ctx->stack, pkt, ctx->pkt_len, NULL, &error)) {
        fatal("filling base packet", error);
    }
}

static void
dump(const char *name, const uint8_t *pkt)
{
    fprintf(stderr, "%-8s", name);
    for (size_t k = 0; k < HDR_LEN + 2; k++) {
        fprintf(stderr, "%02x", pkt[k]);
    }
    fputc('\n', stderr);
}

/* Checks that every way of each op gives the same BUF_SIZE bytes as its
 * reference way, for several iteration numbers, and that the reference
 * wrote what it should.  Exits with status 1 on a difference. */
static void
check_ways(const struct bench_ctx *ctx)
{
    static const uint32_t iters[] = {
        0, 1, 77, 255, 65535, 0x12345678, UINT32_MAX,
    };
    uint8_t base[BUF_SIZE], ref[BUF_SIZE], out[BUF_SIZE];
    const struct bench *first = NULL;
    bool ok = true;

    make_base_packet(ctx, base);
    for (size_t b = 0; b < N_BENCHES; b++) {
        const struct bench *bench = &benches[b];

        if (!first || strcmp(first->op, bench->op)) {
            first = bench;
        }
        for (size_t k = 0; k < sizeof iters / sizeof iters[0]; k++) {
            uint32_t i = iters[k];

            if (!strcmp(bench->way, "labels") && i >= RING_SIZE) {
                /* Its labels are those of i % RING_SIZE. */
                continue;
            }
            memcpy(ref, base, BUF_SIZE);
            first->once(ctx, ref, i);
            memcpy(out, base, BUF_SIZE);
            bench->once(ctx, out, i);
            if (memcmp(ref, out, BUF_SIZE)) {
                fprintf(stderr, "bench-fig4: %s: %s and %s differ for "
                        "i=%"PRIu32":\n", bench->op, first->way, bench->way,
                        i);
                dump(first->way, ref);
                dump(bench->way, out);
                ok = false;
            }
        }
    }

    /* The references themselves. */
    uint32_t i = 0x12345678;
    memcpy(out, base, BUF_SIZE);
    once_ip4_src_hand(ctx, out, i);
    ok &= ps_stack_get_uint(ctx->stack, out, ctx->ip4_src) == set_addr(i);
    memcpy(out, base, BUF_SIZE);
    once_vni_hand(ctx, out, i);
    ok &= ps_stack_get_uint(ctx->stack, out, ctx->vxlan_vni) == set_vni(i);

    /* "fill" must give what ps_stack_fill() gives with the same labels. */
    i = 200;
    memcpy(ref, base, BUF_SIZE);
    once_fill_hand(ctx, ref, i);
    memcpy(out, base, BUF_SIZE);
    if (ps_stack_fill(ctx->stack, out, ctx->pkt_len, ctx->labels[i], NULL)
        || memcmp(ref, out, BUF_SIZE)) {
        fprintf(stderr, "bench-fig4: fill: hand differs from labels\n");
        ok = false;
    }

    if (!ok) {
        fprintf(stderr, "bench-fig4: the ways do not give the same "
                "packets\n");
        exit(1);
    }
}

static const struct bench *
find_bench(const char *op, const char *way)
{
    for (size_t b = 0; b < N_BENCHES; b++) {
        if (!strcmp(benches[b].op, op) && !strcmp(benches[b].way, way)) {
            return &benches[b];
        }
    }
    return NULL;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t
now_cycles(void)
{
#if defined(__x86_64__)
    return __rdtsc();
#else
    return 0;
#endif
}

/* Runs each pair 'n' times in all, in TIMED_CHUNKS runs of 'n' /
 * TIMED_CHUNKS iterations after a warm-up run of that many, and prints
 * the time and TSC cycle count per operation of the fastest run: the
 * least disturbed by other work on the machine. */
static void
run_timed(const struct bench_ctx *ctx, uint64_t n)
{
    uint64_t chunk = n / TIMED_CHUNKS ? n / TIMED_CHUNKS : 1;

    printf("# op way ns/op cycles/op (fastest of %d runs of %"PRIu64
           " iterations; cycles are TSC ticks)\n", TIMED_CHUNKS, chunk);
    for (size_t b = 0; b < N_BENCHES; b++) {
        const struct bench *bench = &benches[b];
        double best_ns = 0, best_cycles = 0;

        bench->loop(ctx, chunk);
        for (int rep = 0; rep < TIMED_CHUNKS; rep++) {
            uint64_t t0 = now_ns();
            uint64_t c0 = now_cycles();
            bench->loop(ctx, chunk);
            uint64_t c1 = now_cycles();
            uint64_t t1 = now_ns();

            double ns = (double) (t1 - t0) / chunk;
            double cycles = (double) (c1 - c0) / chunk;
            if (!rep || ns < best_ns) {
                best_ns = ns;
                best_cycles = cycles;
            }
        }
#if defined(__x86_64__)
        printf("%s %s %.2f %.2f\n", bench->op, bench->way, best_ns,
               best_cycles);
#else
        printf("%s %s %.2f -\n", bench->op, bench->way, best_ns);
#endif
    }
}

static bool
parse_count(const char *s, uint64_t *np)
{
    char *end;

    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno || end == s || *end || !n || s[0] == '-') {
        fprintf(stderr, "bench-fig4: \"%s\": bad iteration count\n", s);
        return false;
    }
    *np = n;
    return true;
}

static void
usage(void)
{
    fprintf(stderr, "usage: bench-fig4 --list\n"
            "       bench-fig4 --timed N\n"
            "       bench-fig4 --one OP WAY N\n");
    exit(2);
}

int
main(int argc, char *argv[])
{
    struct ps_registry *registry;
    struct bench_ctx ctx;
    uint64_t n;

    if (argc == 2 && !strcmp(argv[1], "--list")) {
        for (size_t b = 0; b < N_BENCHES; b++) {
            printf("%s %s\n", benches[b].op, benches[b].way);
        }
        return 0;
    }

    const struct bench *one = NULL;
    if (argc == 3 && !strcmp(argv[1], "--timed")) {
        if (!parse_count(argv[2], &n)) {
            return 2;
        }
    } else if (argc == 5 && !strcmp(argv[1], "--one")) {
        one = find_bench(argv[2], argv[3]);
        if (!one) {
            fprintf(stderr, "bench-fig4: no pair \"%s %s\" (see --list)\n",
                    argv[2], argv[3]);
            return 2;
        }
        if (!parse_count(argv[4], &n)) {
            return 2;
        }
    } else {
        usage();
    }

    ctx_init(&ctx, &registry);
    check_ways(&ctx);
    make_base_packet(&ctx, ring[0]);
    for (size_t k = 1; k < RING_SIZE; k++) {
        memcpy(ring[k], ring[0], BUF_SIZE);
    }

    if (one) {
        one->loop(&ctx, n);
    } else {
        run_timed(&ctx, n);
    }

    ctx_destroy(&ctx, registry);
    return 0;
}
