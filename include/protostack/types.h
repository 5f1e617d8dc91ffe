/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef PROTOSTACK_TYPES_H
#define PROTOSTACK_TYPES_H 1

/* Address types of protostack: MAC, IPv4 and IPv6 addresses, their text
 * forms, and the arithmetic a packet generator needs on them (the libmoon
 * paper's Listing 7 varies IPv6 source addresses per packet). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A MAC address, in wire order. */
struct ps_mac {
    uint8_t b[6];
};

/* An IPv6 address, in wire order. */
struct ps_ip6 {
    uint8_t b[16];
};

/* Buffer sizes, terminating null included, for the text forms. */
#define PS_MAC_STRLEN 18
#define PS_IP4_STRLEN 16
#define PS_IP6_STRLEN 46

/* Parsers return true on success and leave '*out' untouched on failure.
 * They accept exactly one address: no surrounding white space, no
 * trailing characters. */
bool ps_mac_parse(const char *s, struct ps_mac *out);
bool ps_ip4_parse(const char *s, uint32_t *out);  /* Host byte order. */
bool ps_ip6_parse(const char *s, struct ps_ip6 *out);

/* Formatters write a null-terminated string into 'buf' and return it.
 * IPv6 output follows RFC 5952: lower case, no leading zeros, the
 * longest run of two or more zero groups (the first of equal runs)
 * shortened to "::". */
char *ps_mac_format(const struct ps_mac *, char buf[PS_MAC_STRLEN]);
char *ps_ip4_format(uint32_t addr, char buf[PS_IP4_STRLEN]);
char *ps_ip6_format(const struct ps_ip6 *, char buf[PS_IP6_STRLEN]);

/* 128-bit arithmetic on IPv6 addresses, modulo 2**128. */
void ps_ip6_add(struct ps_ip6 *, uint64_t n);
void ps_ip6_sub(struct ps_ip6 *, uint64_t n);
void ps_ip6_add_ip6(struct ps_ip6 *, const struct ps_ip6 *n);
void ps_ip6_sub_ip6(struct ps_ip6 *, const struct ps_ip6 *n);
int ps_ip6_cmp(const struct ps_ip6 *, const struct ps_ip6 *);

/* Returns 'v + 1', or 0 when that reaches 'n' (or when 'n' is 0): a
 * counter that cycles through [0, n). */
static inline uint64_t
ps_inc_wrap(uint64_t v, uint64_t n)
{
    return v + 1 >= n ? 0 : v + 1;
}

/* Returns 'v + step' wrapped into [0, n), or 0 if 'n' is 0. */
static inline uint64_t
ps_add_wrap(uint64_t v, uint64_t step, uint64_t n)
{
    if (!n) {
        return 0;
    }
    v %= n;
    step %= n;
    return v >= n - step ? v - (n - step) : v + step;
}

#ifdef __cplusplus
}
#endif

#endif /* protostack/types.h */
