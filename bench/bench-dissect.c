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
 *                  packet (nothing allocated per packet), verifying.
 *     dissect-noverify  the same with PS_DISSECT_NO_VERIFY: headers
 *                  only, as the hand-written parser without verifying.
 *     dissect-walk dissect-into on the packet followed by a trailer of
 *                  0 to TRAILERS - 1 zero bytes, one more each time: as
 *                  the dissector keeps a plan per recently seen frame
 *                  length (stacks/dissect.c), frames of lengths that
 *                  seldom repeat are walked, and this is what that
 *                  costs.  The other ways dissect the same frame every
 *                  time, which takes its plan.
 *     miniflow     Open vSwitch's miniflow_extract() on a dp_packet of
 *                  the same bytes: the flow key of the outer eth, ip4 and
 *                  udp (OvS parses an inner frame only after popping the
 *                  tunnel), without verifying.  Only in bench-dissect-ovs,
 *                  this file built against the OvS build (bench/automake.mk)
 *                  when there is one.
 *
 * Usage:
 *     bench-dissect --timed N          times every (packet, way) pair, N
 *                                      iterations each (the fastest of 10
 *                                      runs of N / 10), in ns per packet.
 *     bench-dissect --one PKT WAY N    runs one pair N times (callgrind).
 *
 * Each way checks, before it is timed, that it finds the headers and no
 * problem; the program exits with status 1 if not. */

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

static struct ps_registry *registry;

static uint16_t
be16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

/* RFC 1071 sum of 'n' bytes, not folded. */
static uint32_t
sum16(uint32_t sum, const uint8_t *p, size_t n)
{
    for (; n > 1; p += 2, n -= 2) {
        sum += be16(p);
    }
    if (n) {
        sum += p[0] << 8;
    }
    return sum;
}

static uint16_t
fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) sum;
}

/* Parses eth,ip4,udp[,vxlan,eth,ip4,udp] at 'p' ('len' bytes); returns
 * the number of headers found, or -1 on a bad length or checksum when
 * 'verify'. */
static int
hand_parse(const uint8_t *p, size_t len, bool verify)
{
    int n = 0;

    for (int level = 0; level < 2; level++) {
        if (len < 14 || be16(p + 12) != 0x0800) {
            return n + (len >= 14);
        }
        p += 14;
        len -= 14;
        n++;
        if (len < 20 || p[0] >> 4 != 4) {
            return n;
        }
        size_t ihl = (p[0] & 0xf) * 4;
        size_t tot = be16(p + 2);
        if (ihl < 20 || len < ihl) {
            return n;
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
        n++;
        if (ip[9] != 17 || (be16(ip + 6) & 0x3fff) || len < 8) {
            return n;
        }
        size_t ulen = be16(p + 4);
        if (verify) {
            if (ulen != len) {
                return -1;
            }
            if (be16(p + 6)) {
                uint32_t s = sum16(0, ip + 12, 8) + 17 + ulen;
                if (fold(sum16(s, p, ulen)) != 0xffff) {
                    return -1;
                }
            }
        }
        uint16_t dst = be16(p + 2);
        p += 8;
        len -= 8;
        n++;
        if (dst != 4789 || len < 8) {
            return n;
        }
        p += 8;
        len -= 8;
        n++;
    }
    return n;
}

struct packet {
    const char *name;
    const char *spec;
    int n_headers;
    uint8_t *data;
    size_t len;
    void *dp_packet;            /* The same bytes for OvS (miniflow). */
};

static struct packet packets[] = {
    { "udp", "eth,ip4,udp", 3, NULL, 0, NULL },
    { "vxlan", "eth,ip4,udp,vxlan,eth,ip4,udp", 7, NULL, 0, NULL },
};

static void
craft(struct packet *pk)
{
    const struct ps_stack *stack;
    char *error = NULL;

    if (ps_registry_stack(registry, pk->spec, &stack, &error)) {
        fprintf(stderr, "bench-dissect: %s\n", error);
        exit(1);
    }
    pk->len = ps_stack_size(stack) + PAYLOAD;
    pk->data = calloc(1, pk->len + TRAILERS);
    if (ps_stack_fill(stack, pk->data, pk->len,
                      "ip4.src=192.0.2.1,ip4.dst=192.0.2.2,udp.src=1234",
                      &error)) {
        fprintf(stderr, "bench-dissect: %s\n", error);
        exit(1);
    }
}

/* Each way runs once on 'pk' and returns the number of headers found, -1
 * for a problem. */
static int
way_hand(const struct packet *pk)
{
    return hand_parse(pk->data, pk->len, false);
}

static int
way_hand_verify(const struct packet *pk)
{
    return hand_parse(pk->data, pk->len, true);
}

static int
dissection_result(const struct ps_dissection *d)
{
    return (d->n_problems || d->truncated || !d->stack
            ? -1 : (int) ps_stack_n_headers(d->stack));
}

static int
way_dissect(const struct packet *pk)
{
    struct ps_dissection *d;
    if (ps_dissect(registry, "eth", pk->data, pk->len, &d, NULL)) {
        return -1;
    }
    int n = dissection_result(d);
    ps_dissection_destroy(d);
    return n;
}

/* ps_dissect_into() of the packet followed by 'trailer' bytes. */
static int
dissect_into(const struct packet *pk, size_t trailer, unsigned int flags)
{
    static struct ps_dissection d;
    if (ps_dissect_into(registry, "eth", pk->data, pk->len + trailer, flags,
                        &d, NULL)) {
        return -1;
    }
    int n = dissection_result(&d);
    ps_dissection_clear(&d);
    return n;
}

static int
way_dissect_into(const struct packet *pk)
{
    return dissect_into(pk, 0, 0);
}

static int
way_dissect_noverify(const struct packet *pk)
{
    return dissect_into(pk, 0, PS_DISSECT_NO_VERIFY);
}

static int
way_dissect_walk(const struct packet *pk)
{
    static size_t trailer;
    trailer = (trailer + 1) % TRAILERS;
    return dissect_into(pk, trailer, 0);
}

#ifdef BENCH_MINIFLOW
static int
way_miniflow(const struct packet *pk)
{
    static struct {
        struct miniflow mf;
        uint64_t buf[FLOW_U64S];
    } m;
    struct dp_packet *p = pk->dp_packet;

    if (!p) {
        return -1;
    }
    miniflow_extract(p, &m.mf);
    /* The outer UDP header found: three headers. */
    return MINIFLOW_GET_U8(&m.mf, nw_proto) == IPPROTO_UDP ? 3 : -1;
}
#endif

struct way {
    const char *name;
    int (*run)(const struct packet *);
    int headers;                /* It finds only so many; 0: all. */
};

static const struct way ways[] = {
    { "hand", way_hand, 0 },
    { "hand-verify", way_hand_verify, 0 },
    { "dissect", way_dissect, 0 },
    { "dissect-into", way_dissect_into, 0 },
    { "dissect-noverify", way_dissect_noverify, 0 },
    { "dissect-walk", way_dissect_walk, 0 },
#ifdef BENCH_MINIFLOW
    { "miniflow", way_miniflow, 3 },
#endif
};

static volatile int sink;

static void
run(const struct packet *pk, const struct way *way, long n)
{
    int (*fn)(const struct packet *) = way->run;
    for (long i = 0; i < n; i++) {
        sink = fn(pk);
    }
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
    for (size_t i = 0; i < sizeof packets / sizeof *packets; i++) {
        craft(&packets[i]);
#ifdef BENCH_MINIFLOW
        struct dp_packet *p = dp_packet_new(packets[i].len);
        dp_packet_put(p, packets[i].data, packets[i].len);
        pkt_metadata_init(&p->md, 0);
        packets[i].dp_packet = p;
#endif
        for (size_t w = 0; w < sizeof ways / sizeof *ways; w++) {
            int got = ways[w].run(&packets[i]);
            int want = ways[w].headers ? ways[w].headers
                       : packets[i].n_headers;
            /* The hand-written parser stops after the inner UDP. */
            if (got != want) {
                fprintf(stderr, "bench-dissect: %s %s found %d headers, "
                        "not %d\n", packets[i].name, ways[w].name, got,
                        want);
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
                    run(&packets[i], &ways[w], atol(argv[4]));
                    ps_registry_destroy(registry);
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
#ifdef BENCH_MINIFLOW
        dp_packet_delete(packets[i].dp_packet);
#endif
    }
    ps_registry_destroy(registry);
    return 0;
}
