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
 * fields in network byte order. */

#include <stdint.h>

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

#endif /* bench/hand-written.h */
