/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Address types: parsing, RFC 5952 formatting and 128-bit arithmetic. */

#include <config.h>
#include "protostack/types.h"

#include <stdio.h>
#include <string.h>

static int
hex_digit(char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : -1);
}

bool
ps_mac_parse(const char *s, struct ps_mac *out)
{
    struct ps_mac mac;

    for (int i = 0; i < 6; i++) {
        int hi = hex_digit(s[0]);
        int lo = hi < 0 ? -1 : hex_digit(s[1]);
        if (lo < 0) {
            return false;
        }
        mac.b[i] = hi << 4 | lo;
        s += 2;
        if (i < 5 && *s++ != ':') {
            return false;
        }
    }
    if (*s) {
        return false;
    }
    *out = mac;
    return true;
}

char *
ps_mac_format(const struct ps_mac *mac, char buf[PS_MAC_STRLEN])
{
    snprintf(buf, PS_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac->b[0], mac->b[1], mac->b[2], mac->b[3], mac->b[4],
             mac->b[5]);
    return buf;
}

/* Parses a dotted-quad at 's' (four decimal parts, 0-255, no leading
 * zeros) into 'addr', and returns a pointer past it, or NULL. */
static const char *
parse_dotted_quad(const char *s, uint32_t *addr)
{
    uint32_t a = 0;

    for (int i = 0; i < 4; i++) {
        if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] >= '0'
                                         && s[1] <= '9')) {
            return NULL;
        }
        unsigned int part = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            part = part * 10 + (*s++ - '0');
            if (++digits > 3 || part > 255) {
                return NULL;
            }
        }
        a = a << 8 | part;
        if (i < 3 && *s++ != '.') {
            return NULL;
        }
    }
    *addr = a;
    return s;
}

bool
ps_ip4_parse(const char *s, uint32_t *out)
{
    uint32_t a;
    const char *end = parse_dotted_quad(s, &a);
    if (!end || *end) {
        return false;
    }
    *out = a;
    return true;
}

char *
ps_ip4_format(uint32_t a, char buf[PS_IP4_STRLEN])
{
    snprintf(buf, PS_IP4_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
             (a >> 8) & 0xff, a & 0xff);
    return buf;
}

bool
ps_ip6_parse(const char *s, struct ps_ip6 *out)
{
    uint16_t groups[8];
    int n = 0;                  /* Groups parsed. */
    int gap = -1;               /* Index where "::" stands, or -1. */

    if (s[0] == ':') {
        if (s[1] != ':') {
            return false;
        }
        gap = 0;
        s += 2;
    }
    while (*s) {
        if (n >= 8) {
            return false;
        }
        /* An embedded IPv4 address ends the text. */
        const char *p = s;
        while (hex_digit(*p) >= 0) {
            p++;
        }
        if (*p == '.') {
            uint32_t a;
            const char *end = parse_dotted_quad(s, &a);
            if (!end || *end || n > 6) {
                return false;
            }
            groups[n++] = a >> 16;
            groups[n++] = a & 0xffff;
            break;
        }
        if (p == s || p - s > 4) {
            return false;
        }
        unsigned int g = 0;
        for (; s < p; s++) {
            g = g << 4 | hex_digit(*s);
        }
        groups[n++] = g;
        if (!*s) {
            break;
        }
        if (*s != ':') {
            return false;
        }
        s++;
        if (*s == ':') {
            if (gap >= 0) {
                return false;
            }
            gap = n;
            s++;
        } else if (!*s) {
            return false;       /* Trailing single ':'. */
        }
    }

    struct ps_ip6 a;
    if (gap < 0) {
        if (n != 8) {
            return false;
        }
    } else if (n > 7) {
        return false;
    }
    int zeros = 8 - n;
    int j = 0;
    for (int i = 0; i < n; i++) {
        if (i == gap) {
            j += zeros;
        }
        a.b[2 * j] = groups[i] >> 8;
        a.b[2 * j + 1] = groups[i];
        j++;
    }
    if (gap >= 0) {
        /* Fill the gap's groups with zeros. */
        for (int k = gap; k < gap + zeros; k++) {
            a.b[2 * k] = a.b[2 * k + 1] = 0;
        }
        /* Groups after the gap were already written at their place. */
    }
    *out = a;
    return true;
}

char *
ps_ip6_format(const struct ps_ip6 *a, char buf[PS_IP6_STRLEN])
{
    uint16_t g[8];
    for (int i = 0; i < 8; i++) {
        g[i] = a->b[2 * i] << 8 | a->b[2 * i + 1];
    }

    /* The longest run of two or more zero groups; the first if tied. */
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        if (g[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && !g[j]) {
            j++;
        }
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }

    char *p = buf;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            *p++ = ':';
            if (i == 0) {
                *p++ = ':';
            }
            i += best_len - 1;
            continue;
        }
        p += sprintf(p, "%x%s", g[i], i < 7 ? ":" : "");
    }
    *p = '\0';
    return buf;
}

void
ps_ip6_add_ip6(struct ps_ip6 *a, const struct ps_ip6 *n)
{
    unsigned int carry = 0;
    for (int i = 15; i >= 0; i--) {
        unsigned int s = a->b[i] + n->b[i] + carry;
        a->b[i] = s;
        carry = s >> 8;
    }
}

void
ps_ip6_sub_ip6(struct ps_ip6 *a, const struct ps_ip6 *n)
{
    int borrow = 0;
    for (int i = 15; i >= 0; i--) {
        int d = a->b[i] - n->b[i] - borrow;
        borrow = d < 0;
        a->b[i] = d;
    }
}

static void
ip6_from_u64(struct ps_ip6 *a, uint64_t n)
{
    memset(a, 0, sizeof *a);
    for (int i = 15; i >= 8; i--) {
        a->b[i] = n;
        n >>= 8;
    }
}

void
ps_ip6_add(struct ps_ip6 *a, uint64_t n)
{
    struct ps_ip6 b;
    ip6_from_u64(&b, n);
    ps_ip6_add_ip6(a, &b);
}

void
ps_ip6_sub(struct ps_ip6 *a, uint64_t n)
{
    struct ps_ip6 b;
    ip6_from_u64(&b, n);
    ps_ip6_sub_ip6(a, &b);
}

int
ps_ip6_cmp(const struct ps_ip6 *a, const struct ps_ip6 *b)
{
    int c = memcmp(a->b, b->b, 16);
    return c < 0 ? -1 : c > 0;
}
