/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* bench-dissect: ps_dissect() against a hand-written parser of the same
 * headers, on two packets:
 *
 *     udp      eth,ip4,udp, 64 bytes of payload.
 *     vxlan    eth,ip4,udp,vxlan,eth,ip4,udp, 64 bytes of inner payload.
 *
 * Ways:
 *
 *     hand         a parser written for these headers only: EtherType,
 *                  IPv4 version, header length and protocol, UDP port
 *                  4789, each header's bounds checked.
 *     hand-verify  the same, also verifying every length field and every
 *                  checksum (IPv4 header, UDP with its pseudo-header).
 *     dissect      ps_dissect(), which verifies lengths and checksums,
 *                  then ps_dissection_destroy().
 *     dissect-into ps_dissect_into() into a dissection reused for every
 *                  packet (nothing allocated per packet), verifying, then
 *                  ps_dissection_clear().
 *     dissect-noverify  the same with PS_DISSECT_NO_VERIFY: headers
 *                  only, as the hand-written parser without verifying.
 *     dissect-with ps_dissect_with() from a dissector of "eth" resolved
 *                  once, into a dissection reused without clearing it,
 *                  verifying.
 *     dissect-with-noverify  the same with PS_DISSECT_NO_VERIFY.
 *     dissect-walk dissect-into on the packet followed by a trailer of
 *                  0 to TRAILERS - 1 zero bytes, one more each time:
 *                  frames of lengths that seldom repeat, whose lengths
 *                  fields stay the same.
 *     dissect-cold dissect-with of the packet from "eth" of two
 *                  registries of the same protocols in turn: as the
 *                  thread's plans are of one registry generation at a
 *                  time, every frame is walked (and leaves a plan), as
 *                  the first frame of a stack shape on a thread is.
 *     dissect-flow dissect-with on frames of the same headers whose
 *                  payload is 18 to 1,400 bytes, another each time
 *                  (FLOW_FRAMES of them), their lengths and checksums
 *                  right: packets of one flow as a network has them.
 *     dissect-flow-noverify  the same with PS_DISSECT_NO_VERIFY.
 *     dissect-flows  dissect-with on frames of the packet's length, each
 *                  of another flow (FLOW_FRAMES of them): other
 *                  addresses, UDP source ports and VNI, outer and inner.
 *     hand-flow-verify  hand-verify on the frames of dissect-flow.
 *     miniflow     Open vSwitch's miniflow_extract() on a dp_packet of
 *                  the same bytes: the flow key of the outer eth, ip4 and
 *                  udp (OvS parses an inner frame only after popping the
 *                  tunnel), without verifying.  Only in bench-dissect-ovs,
 *                  this file built against the OvS build (bench/automake.mk)
 *                  when there is one.
 *
 * Every way is called through a function pointer with the packet and a
 * struct result to fill: the number of headers and an array of their
 * offsets (the hand-written parser writes its own; the dissector's are
 * the dissection's 'offsets').  The loop checks each result in the same
 * way: the number of headers and every offset against the packet's.
 *
 * Usage:
 *     bench-dissect --timed N          times every (packet, way) pair, N
 *                                      iterations each (the fastest of 10
 *                                      runs of N / 10), in ns per packet.
 *     bench-dissect --one PKT WAY N    runs one pair N times (callgrind).
 *
 * Each way runs 2 * FLOW_FRAMES times before anything is timed; the
 * program exits with status 1 if one found other headers or offsets, or
 * a problem, in that run or in the run of --one. */

#ifdef BENCH_MINIFLOW
/* OvS's configuration, which its headers need.  One of them includes
 * <config.h>, which is ours in this build directory: its package name
 * and version then replace OvS's, which nothing here uses. */
#include "ovs/config.h"
#undef PACKAGE
#undef PACKAGE_BUGREPORT
#undef PACKAGE_NAME
#undef PACKAGE_STRING
#undef PACKAGE_TARNAME
#undef PACKAGE_VERSION
#undef VERSION
#include "dp-packet.h"
#include "flow.h"
#include "packets.h"
#else
#include <config.h>
#endif

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protostack/protostack.h"

#define PAYLOAD 64
#define TRAILERS 600

#define FLOW_FRAMES 256

static struct ps_registry *registry;
static const struct ps_dissector *eth;

/* A second registry of the same protocols: a thread's plans are of one
 * registry generation at a time, so that dissecting with each in turn
 * walks every frame. */
static struct ps_registry *registry2;
static const struct ps_dissector *eth2;

static uint16_t
be16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

/* RFC 1071 sum of 'n' bytes, not folded: 4 bytes at a time into 64
 * bits (a 32-bit word is its two 16-bit words, the upper one times
 * 2**16, which is 1 modulo 0xffff). */
static uint64_t
sum16(uint64_t sum, const uint8_t *p, size_t n)
{
    for (; n >= 4; p += 4, n -= 4) {
        uint32_t w;
        memcpy(&w, p, sizeof w);
        sum += __builtin_bswap32(w);
    }
    if (n >= 2) {
        sum += be16(p);
        p += 2;
        n -= 2;
    }
    if (n) {
        sum += p[0] << 8;
    }
    return sum;
}

static uint16_t
fold(uint64_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) sum;
}

/* What each way finds: the number of headers and where each starts,
 * then where they end (as struct ps_dissection has them). */
#define MAX_HEADERS 8
struct result {
    int n_headers;
    const size_t *offsets;
};

/* Parses eth,ip4,udp[,vxlan,eth,ip4,udp] at 'pkt' ('len' bytes) into
 * 'r', its offsets into 'offsets' (room for MAX_HEADERS + 1); returns
 * the number of headers found, or -1 on a bad length or checksum when
 * 'verify'.  Inlined into hand_headers() and hand_headers_verify(), each
 * compiled for its value of 'verify'. */
static inline int __attribute__((__always_inline__))
hand_parse(const uint8_t *pkt, size_t len, bool verify, struct result *r,
           size_t *offsets)
{
    const uint8_t *p = pkt;
    int n = 0;

    r->offsets = offsets;
    for (int level = 0; level < 2; level++) {
        offsets[n] = p - pkt;
        if (len < 14 || be16(p + 12) != 0x0800) {
            n += len >= 14;
            offsets[n] = p - pkt + (len >= 14 ? 14 : 0);
            return r->n_headers = n;
        }
        p += 14;
        len -= 14;
        offsets[++n] = p - pkt;
        if (len < 20 || p[0] >> 4 != 4) {
            return r->n_headers = n;
        }
        size_t ihl = (p[0] & 0xf) * 4;
        size_t tot = be16(p + 2);
        if (ihl < 20 || len < ihl) {
            return r->n_headers = n;
        }
        if (verify && (tot < ihl || tot > len
                       || (fold(sum16(0, p, ihl)) != 0xffff
                           && fold(sum16(0, p, ihl)) != 0))) {
            return -1;
        }
        const uint8_t *ip = p;
        len = tot < len ? tot : len;
        p += ihl;
        len -= ihl;
        offsets[++n] = p - pkt;
        if (ip[9] != 17 || (be16(ip + 6) & 0x3fff) || len < 8) {
            return r->n_headers = n;
        }
        size_t ulen = be16(p + 4);
        if (verify) {
            if (ulen != len) {
                return -1;
            }
            if (be16(p + 6)) {
                uint64_t s = sum16(0, ip + 12, 8) + 17 + ulen;
                if (fold(sum16(s, p, ulen)) != 0xffff) {
                    return -1;
                }
            }
        }
        uint16_t dst = be16(p + 2);
        p += 8;
        len -= 8;
        offsets[++n] = p - pkt;
        if (dst != 4789 || len < 8) {
            return r->n_headers = n;
        }
        p += 8;
        len -= 8;
        n++;
    }
    offsets[n] = p - pkt;
    return r->n_headers = n;
}

/* hand_parse() without and with verifying, not inlined into their
 * callers, so that they are called as the library is. */
static int __attribute__((__noinline__))
hand_headers(const uint8_t *pkt, size_t len, struct result *r,
             size_t *offsets)
{
    return hand_parse(pkt, len, false, r, offsets);
}

static int __attribute__((__noinline__))
hand_headers_verify(const uint8_t *pkt, size_t len, struct result *r,
                    size_t *offsets)
{
    return hand_parse(pkt, len, true, r, offsets);
}

struct packet {
    const char *name;
    const char *spec;
    int n_headers;
    uint8_t *data;
    size_t len;
    size_t offsets[MAX_HEADERS + 1];    /* Where its headers are. */
    void *dp_packet;            /* The same bytes for OvS (miniflow). */

    /* The same headers with FLOW_FRAMES other payload lengths, each
     * frame's lengths and checksums right: packets of one flow. */
    uint8_t *flow[FLOW_FRAMES];
    size_t flow_len[FLOW_FRAMES];

    /* FLOW_FRAMES frames of the packet's length, each of another flow:
     * other addresses and UDP source ports (outer and inner) and, for
     * VXLAN, another VNI. */
    uint8_t *flows[FLOW_FRAMES];
};

static struct packet packets[] = {
    { .name = "udp", .spec = "eth,ip4,udp", .n_headers = 3 },
    { .name = "vxlan", .spec = "eth,ip4,udp,vxlan,eth,ip4,udp",
      .n_headers = 7 },
};

static uint8_t *
craft_frame_labels(const struct ps_stack *stack, size_t len,
                   const char *labels)
{
    uint8_t *data = calloc(1, len + TRAILERS);
    char *error = NULL;

    if (ps_stack_fill(stack, data, len, labels, &error)) {
        fprintf(stderr, "bench-dissect: %s\n", error);
        exit(1);
    }
    return data;
}

static uint8_t *
craft_frame(const struct ps_stack *stack, size_t len)
{
    return craft_frame_labels(stack, len, "ip4.src=192.0.2.1,"
                              "ip4.dst=192.0.2.2,udp.src=1234");
}

static void
craft(struct packet *pk)
{
    const struct ps_stack *stack;
    char *error = NULL;

    if (ps_registry_stack(registry, pk->spec, &stack, &error)) {
        fprintf(stderr, "bench-dissect: %s\n", error);
        exit(1);
    }
    size_t size = ps_stack_size(stack);
    pk->len = size + PAYLOAD;
    pk->data = craft_frame(stack, pk->len);
    for (int i = 0; i < pk->n_headers; i++) {
        pk->offsets[i] = ps_stack_header(stack, i)->offset;
    }
    pk->offsets[pk->n_headers] = size;

    /* Payloads of 18 to 1,400 bytes in an order without a pattern that
     * a plan per length could follow (each length once in a while). */
    uint32_t x = 1;
    for (size_t i = 0; i < FLOW_FRAMES; i++) {
        x = x * 1103515245 + 12345;
        pk->flow_len[i] = size + 18 + (x >> 8) % 1383;
        pk->flow[i] = craft_frame(stack, pk->flow_len[i]);

        char labels[256];
        int n = snprintf(labels, sizeof labels, "ip4.src=10.0.%zu.1,"
                         "ip4.dst=10.1.%zu.2,udp.src=%zu", i, i, 1024 + i);
        if (pk->n_headers > 3) {
            snprintf(labels + n, sizeof labels - n, ",vxlan.vni=%zu,"
                     "inner_ip4.src=172.16.%zu.1,inner_ip4.dst=172.17.%zu.2,"
                     "inner_udp.src=%zu", 5000 + i, i, i, 20000 + i);
        }
        pk->flows[i] = craft_frame_labels(stack, pk->len, labels);
    }
}

/* Each way runs once on 'pk', fills 'r' and returns the number of
 * headers found, -1 for a problem. */
static int
way_hand(const struct packet *pk, struct result *r)
{
    static size_t offsets[MAX_HEADERS + 1];
    return hand_headers(pk->data, pk->len, r, offsets);
}

static int
way_hand_verify(const struct packet *pk, struct result *r)
{
    static size_t offsets[MAX_HEADERS + 1];
    return hand_headers_verify(pk->data, pk->len, r, offsets);
}

static int
dissection_result(const struct ps_dissection *d, struct result *r)
{
    r->offsets = d->offsets;
    return r->n_headers = (d->n_problems || d->truncated || !d->stack
                           ? -1 : (int) d->n_headers);
}

static int
way_dissect(const struct packet *pk, struct result *r)
{
    struct ps_dissection *d;
    if (ps_dissect(registry, "eth", pk->data, pk->len, &d, NULL)) {
        return -1;
    }
    /* The offsets belong to the stack, which outlives 'd'. */
    int n = dissection_result(d, r);
    ps_dissection_destroy(d);
    return n;
}

/* ps_dissect_into() of the packet followed by 'trailer' bytes. */
static int
dissect_into(const struct packet *pk, size_t trailer, unsigned int flags,
             struct result *r)
{
    static struct ps_dissection d;
    if (ps_dissect_into(registry, "eth", pk->data, pk->len + trailer, flags,
                        &d, NULL)) {
        return -1;
    }
    int n = dissection_result(&d, r);
    ps_dissection_clear(&d);
    return n;
}

static int
way_dissect_into(const struct packet *pk, struct result *r)
{
    return dissect_into(pk, 0, 0, r);
}

static int
way_dissect_noverify(const struct packet *pk, struct result *r)
{
    return dissect_into(pk, 0, PS_DISSECT_NO_VERIFY, r);
}

/* ps_dissect_with() of 'len' bytes of 'data', the dissection reused
 * without ps_dissection_clear(). */
static int
dissect_with(const uint8_t *data, size_t len, unsigned int flags,
             struct result *r)
{
    static struct ps_dissection d;
    if (ps_dissect_with(eth, data, len, flags, &d, NULL)) {
        return -1;
    }
    return dissection_result(&d, r);
}

static int
way_with(const struct packet *pk, struct result *r)
{
    return dissect_with(pk->data, pk->len, 0, r);
}

static int
way_with_noverify(const struct packet *pk, struct result *r)
{
    return dissect_with(pk->data, pk->len, PS_DISSECT_NO_VERIFY, r);
}

static int
way_dissect_walk(const struct packet *pk, struct result *r)
{
    static size_t trailer;
    trailer = (trailer + 1) % TRAILERS;
    return dissect_into(pk, trailer, 0, r);
}

static int
way_dissect_cold(const struct packet *pk, struct result *r)
{
    static struct ps_dissection d;
    static unsigned int i;
    if (ps_dissect_with(i++ % 2 ? eth2 : eth, pk->data, pk->len, 0, &d,
                        NULL)) {
        return -1;
    }
    return dissection_result(&d, r);
}

static int
way_hand_flow_verify(const struct packet *pk, struct result *r)
{
    static size_t offsets[MAX_HEADERS + 1];
    static size_t i;
    i = (i + 1) % FLOW_FRAMES;
    return hand_headers_verify(pk->flow[i], pk->flow_len[i], r, offsets);
}

static int
way_dissect_flow(const struct packet *pk, struct result *r)
{
    static size_t i;
    i = (i + 1) % FLOW_FRAMES;
    return dissect_with(pk->flow[i], pk->flow_len[i], 0, r);
}

static int
way_dissect_flows(const struct packet *pk, struct result *r)
{
    static size_t i;
    i = (i + 1) % FLOW_FRAMES;
    return dissect_with(pk->flows[i], pk->len, 0, r);
}

static int
way_dissect_flow_noverify(const struct packet *pk, struct result *r)
{
    static size_t i;
    i = (i + 1) % FLOW_FRAMES;
    return dissect_with(pk->flow[i], pk->flow_len[i], PS_DISSECT_NO_VERIFY,
                        r);
}

#ifdef BENCH_MINIFLOW
static int
way_miniflow(const struct packet *pk, struct result *r)
{
    static size_t offsets[MAX_HEADERS + 1];
    static struct {
        struct miniflow mf;
        uint64_t buf[FLOW_U64S];
    } m;
    struct dp_packet *p = pk->dp_packet;

    if (!p) {
        return -1;
    }
    miniflow_extract(p, &m.mf);
    /* The outer UDP header found: three headers, where the packet says
     * they are. */
    offsets[1] = p->l3_ofs;
    offsets[2] = p->l4_ofs;
    offsets[3] = p->l4_ofs + 8;
    r->offsets = offsets;
    return r->n_headers = (MINIFLOW_GET_U8(&m.mf, nw_proto) == IPPROTO_UDP
                           ? 3 : -1);
}
#endif

struct way {
    const char *name;
    int (*run)(const struct packet *, struct result *);
    int headers;                /* It finds only so many; 0: all. */
};

static const struct way ways[] = {
    { "hand", way_hand, 0 },
    { "hand-verify", way_hand_verify, 0 },
    { "dissect", way_dissect, 0 },
    { "dissect-into", way_dissect_into, 0 },
    { "dissect-noverify", way_dissect_noverify, 0 },
    { "dissect-with", way_with, 0 },
    { "dissect-with-noverify", way_with_noverify, 0 },
    { "dissect-walk", way_dissect_walk, 0 },
    { "dissect-cold", way_dissect_cold, 0 },
    { "hand-flow-verify", way_hand_flow_verify, 0 },
    { "dissect-flow", way_dissect_flow, 0 },
    { "dissect-flow-noverify", way_dissect_flow_noverify, 0 },
    { "dissect-flows", way_dissect_flows, 0 },
#ifdef BENCH_MINIFLOW
    { "miniflow", way_miniflow, 3 },
#endif
};

static volatile unsigned int sink;

/* Whether 'r' is 'want' headers where 'pk' has them. */
static inline bool
result_ok(const struct result *r, int want, const struct packet *pk)
{
    if (r->n_headers != want) {
        return false;
    }
    size_t diff = 0;
    for (int i = 0; i <= want; i++) {
        diff |= r->offsets[i] ^ pk->offsets[i];
    }
    return !diff;
}

/* Runs 'way' 'n' times on 'pk', each result checked in the same way:
 * returns how many were wrong. */
static unsigned int
run(const struct packet *pk, const struct way *way, long n)
{
    int (*fn)(const struct packet *, struct result *) = way->run;
    int want = way->headers ? way->headers : pk->n_headers;
    unsigned int bad = 0;

    for (long i = 0; i < n; i++) {
        struct result r;
        fn(pk, &r);
        bad += !result_ok(&r, want, pk);
    }
    sink = bad;
    return bad;
}

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(int argc, char *argv[])
{
    char *error = NULL;

    registry = ps_registry_create();
    if (ps_registry_load_default(registry, &error)) {
        fprintf(stderr, "bench-dissect: %s\n", error);
        return 1;
    }
    eth = ps_registry_dissector(registry, "eth");
    registry2 = ps_registry_create();
    if (ps_registry_load_default(registry2, &error)) {
        fprintf(stderr, "bench-dissect: %s\n", error);
        return 1;
    }
    eth2 = ps_registry_dissector(registry2, "eth");
    for (size_t i = 0; i < sizeof packets / sizeof *packets; i++) {
        craft(&packets[i]);
#ifdef BENCH_MINIFLOW
        struct dp_packet *p = dp_packet_new(packets[i].len);
        dp_packet_put(p, packets[i].data, packets[i].len);
        pkt_metadata_init(&p->md, 0);
        packets[i].dp_packet = p;
#endif
        for (size_t w = 0; w < sizeof ways / sizeof *ways; w++) {
            /* Every frame of the ways that vary them. */
            unsigned int bad = run(&packets[i], &ways[w], 2 * FLOW_FRAMES);
            if (bad) {
                fprintf(stderr, "bench-dissect: %s %s found other headers "
                        "than the %d of the packet %u times\n",
                        packets[i].name, ways[w].name,
                        packets[i].n_headers, bad);
                return 1;
            }
        }
    }

    if (argc == 3 && !strcmp(argv[1], "--timed")) {
        long n = atol(argv[2]);
        printf("| packet | way | ns/packet |\n|---|---|---|\n");
        for (size_t i = 0; i < sizeof packets / sizeof *packets; i++) {
            for (size_t w = 0; w < sizeof ways / sizeof *ways; w++) {
                double best = 0;
                for (int r = 0; r < 10; r++) {
                    double t0 = now_ns();
                    run(&packets[i], &ways[w], n / 10);
                    double t = (now_ns() - t0) / (n / 10);
                    best = r && best < t ? best : t;
                }
                printf("| %s | %s | %.1f |\n", packets[i].name,
                       ways[w].name, best);
            }
        }
    } else if (argc == 5 && !strcmp(argv[1], "--one")) {
        for (size_t i = 0; i < sizeof packets / sizeof *packets; i++) {
            for (size_t w = 0; w < sizeof ways / sizeof *ways; w++) {
                if (!strcmp(packets[i].name, argv[2])
                    && !strcmp(ways[w].name, argv[3])) {
                    if (run(&packets[i], &ways[w], atol(argv[4]))) {
                        return 1;
                    }
                    ps_registry_destroy(registry);
                    ps_registry_destroy(registry2);
                    return 0;
                }
            }
        }
        fprintf(stderr, "bench-dissect: unknown packet %s or way %s\n",
                argv[2], argv[3]);
        return 1;
    } else {
        fprintf(stderr, "usage: bench-dissect --timed N | "
                "--one udp|vxlan WAY N\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof packets / sizeof *packets; i++) {
        free(packets[i].data);
        for (size_t j = 0; j < FLOW_FRAMES; j++) {
            free(packets[i].flow[j]);
            free(packets[i].flows[j]);
        }
#ifdef BENCH_MINIFLOW
        dp_packet_delete(packets[i].dp_packet);
#endif
    }
    ps_registry_destroy(registry);
    ps_registry_destroy(registry2);
    return 0;
}
