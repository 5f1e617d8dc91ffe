/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef BENCH_HAND_WRITTEN_H
#define BENCH_HAND_WRITTEN_H 1

/* The headers of an eth/ip4/udp/vxlan packet as hand-written C declares
 * them, the baseline of the benchmarks: packed structs like OvS's
 * eth_header, ip_header, udp_header and vxlanhdr (and DPDK's rte_*_hdr),
 * fields in network byte order; and the encapsulation of one tunnel
 * written by hand, two ways. */

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct hw_eth {
    uint8_t dst[6];
    uint8_t src[6];
    uint16_t type;
} __attribute__((__packed__));

struct hw_ip4 {
    uint8_t ihl_ver;
    uint8_t tos;
    uint16_t tot_len;
    uint16_t id;
    uint16_t frag_off;
    uint8_t ttl;
    uint8_t proto;
    uint16_t csum;
    uint32_t src;
    uint32_t dst;
} __attribute__((__packed__));

struct hw_udp {
    uint16_t src;
    uint16_t dst;
    uint16_t len;
    uint16_t csum;
} __attribute__((__packed__));

struct hw_vxlan {
    uint32_t flags;             /* 0x08 in the first byte. */
    uint32_t vni;               /* VNI in the top 24 bits. */
} __attribute__((__packed__));

struct hw_vxlan_hdr {
    struct hw_eth eth;
    struct hw_ip4 ip4;
    struct hw_udp udp;
    struct hw_vxlan vxlan;
} __attribute__((__packed__));

/* The encapsulation of one VXLAN tunnel, written by hand: the baselines
 * of bench-encap and dpdk-vtep.  Its values must be those of the
 * benchmarks' labels (BENCH_ENCAP_LABELS in bench/encap.mk), which both
 * programs check at start-up against the library's bytes. */

#define HW_HDR_LEN 50
#define HW_IP4_SRC 0xc0000201   /* 192.0.2.1. */
#define HW_IP4_DST 0xc00002fe   /* 192.0.2.254. */
#define HW_VNI 1234
#define HW_VXLAN_PORT 4789
#define HW_TTL 64
#define HW_ENTROPY_MIN 32768    /* As OvS's tnl_udp_port_min.  */
#define HW_ENTROPY_MAX 61000    /* As OvS's tnl_udp_port_max.  */

#define HW_ETH_DST 0x00, 0x11, 0x22, 0x33, 0x44, 0x55
#define HW_ETH_SRC 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff

_Static_assert(sizeof(struct hw_vxlan_hdr) == HW_HDR_LEN,
               "bad hand-written structs");

/* The UDP source port from the flow hash, as OvS's tnl_udp_port_min and
 * max spread it. */
static inline uint16_t
hw_entropy_port(uint32_t hash)
{
    return (((uint64_t) hash * (HW_ENTROPY_MAX - HW_ENTROPY_MIN)) >> 32)
           + HW_ENTROPY_MIN;
}

/* (h) As OvS's native tunnel push (lib/netdev-native-tnl.c) does it: a
 * template built at run time, once per megaflow, with a checksum for a
 * zero tot_len; per packet, the IPv4 checksum is read back and updated
 * with OvS's recalc_csum16() (RFC 1624, eqn. 3), folding in a loop. */

static inline uint16_t
hw_csum_finish(uint32_t partial)
{
    while (partial >> 16) {
        partial = (partial & 0xffff) + (partial >> 16);
    }
    return ~partial;
}

/* One's complement sums do not depend on byte order: no ntohs() is
 * needed. */
static inline uint16_t
hw_recalc_csum16(uint16_t old_csum, uint16_t old_u16, uint16_t new_u16)
{
    uint16_t hc_complement = ~old_csum;
    uint16_t m_complement = ~old_u16;
    uint32_t sum = (uint32_t) hc_complement + m_complement + new_u16;

    return hw_csum_finish(sum);
}

/* Builds the template of hw_ovs_encap() into 'h'. */
static inline void
hw_ovs_build_template(struct hw_vxlan_hdr *h)
{
    static const uint8_t dst[6] = { HW_ETH_DST };
    static const uint8_t src[6] = { HW_ETH_SRC };

    memset(h, 0, sizeof *h);
    memcpy(h->eth.dst, dst, 6);
    memcpy(h->eth.src, src, 6);
    h->eth.type = htons(0x0800);
    h->ip4.ihl_ver = 0x45;
    h->ip4.ttl = HW_TTL;
    h->ip4.proto = 17;
    h->ip4.src = htonl(HW_IP4_SRC);
    h->ip4.dst = htonl(HW_IP4_DST);

    uint32_t sum = 0;
    for (size_t i = 0; i < sizeof h->ip4; i += 2) {
        uint16_t w;

        memcpy(&w, (uint8_t *) &h->ip4 + i, 2);
        sum += w;
    }
    h->ip4.csum = hw_csum_finish(sum);

    h->udp.dst = htons(HW_VXLAN_PORT);
    h->vxlan.flags = htonl(0x08000000);
    h->vxlan.vni = htonl(HW_VNI << 8);
}

static inline void
hw_ovs_encap(const struct hw_vxlan_hdr *template, uint8_t *pkt,
             size_t pkt_len, uint32_t hash)
{
    struct hw_vxlan_hdr *h = (struct hw_vxlan_hdr *) pkt;
    uint16_t ip_tot_len = pkt_len - sizeof h->eth;

    memcpy(h, template, sizeof *h);
    h->ip4.tot_len = htons(ip_tot_len);
    h->ip4.csum = hw_recalc_csum16(h->ip4.csum, 0, h->ip4.tot_len);
    h->udp.src = htons(hw_entropy_port(hash));
    h->udp.len = htons(ip_tot_len - sizeof h->ip4);
    /* The UDP checksum is zero in the template: nothing to do. */
}

/* (b) The best way, as a DPDK programmer writes it for one tunnel known
 * at compile time: the template is a constant (its stores are
 * immediates), the sum of the IPv4 header without tot_len and csum is
 * folded at compile time, and the checksum takes one add and one fold:
 * 'HW_BEST_BASE + tot_len' is at most 0x1fffe, which one fold brings to
 * at most 0xffff. */
#define HW_FOLD(S) (((S) & 0xffff) + ((S) >> 16))
#define HW_BEST_BASE                                                    \
    HW_FOLD(HW_FOLD(0x4500 + (HW_TTL << 8 | 17)                         \
                    + (HW_IP4_SRC >> 16) + (HW_IP4_SRC & 0xffff)        \
                    + (HW_IP4_DST >> 16) + (HW_IP4_DST & 0xffff)))

static inline void
hw_best_encap(uint8_t *pkt, size_t pkt_len, uint32_t hash)
{
    static const uint8_t template[HW_HDR_LEN] = {
        HW_ETH_DST, HW_ETH_SRC, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        HW_TTL, 17, 0x00, 0x00,
        HW_IP4_SRC >> 24, HW_IP4_SRC >> 16 & 0xff,
        HW_IP4_SRC >> 8 & 0xff, HW_IP4_SRC & 0xff,
        HW_IP4_DST >> 24, HW_IP4_DST >> 16 & 0xff,
        HW_IP4_DST >> 8 & 0xff, HW_IP4_DST & 0xff,
        0x00, 0x00, HW_VXLAN_PORT >> 8, HW_VXLAN_PORT & 0xff,
        0x00, 0x00, 0x00, 0x00,                 /* udp.len, udp.cksum */
        0x08, 0x00, 0x00, 0x00,                 /* vxlan flags */
        HW_VNI >> 16, HW_VNI >> 8 & 0xff, HW_VNI & 0xff, 0x00,
    };
    struct hw_vxlan_hdr *h = (struct hw_vxlan_hdr *) pkt;
    uint32_t ip_tot_len = pkt_len - sizeof h->eth;
    uint32_t sum = HW_BEST_BASE + ip_tot_len;

    memcpy(h, template, sizeof *h);
    h->ip4.tot_len = htons(ip_tot_len);
    h->ip4.csum = htons(~HW_FOLD(sum));
    h->udp.src = htons(hw_entropy_port(hash));
    h->udp.len = htons(ip_tot_len - sizeof h->ip4);
}

#endif /* bench/hand-written.h */
