/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef PROTOSTACK_BITS_H
#define PROTOSTACK_BITS_H 1

/* Network-order bit-field access at any bit offset and width (1 to 64
 * bits), and the Internet checksum.  Everything here is 'static inline':
 * the generated static stack headers and the engine use the same code,
 * and with constant offsets and widths the compiler reduces each call to
 * the loads, shifts and stores one would write by hand. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Byte swaps: the compiler's builtins, or plain C for compilers without
 * them (tcc, which the JIT may be given). */
#if defined(__GNUC__) && !defined(__TINYC__)
#define PS_BSWAP16(X) __builtin_bswap16(X)
#define PS_BSWAP32(X) __builtin_bswap32(X)
#define PS_BSWAP64(X) __builtin_bswap64(X)
#else
#define PS_BSWAP16(X) ((uint16_t) ((uint16_t) (X) << 8 | (uint16_t) (X) >> 8))
#define PS_BSWAP32(X) \
    ((uint32_t) PS_BSWAP16((uint16_t) (X)) << 16 \
     | PS_BSWAP16((uint16_t) ((uint32_t) (X) >> 16)))
#define PS_BSWAP64(X) \
    ((uint64_t) PS_BSWAP32((uint32_t) (X)) << 32 \
     | PS_BSWAP32((uint32_t) ((uint64_t) (X) >> 32)))
#endif

static inline uint16_t
ps_load_be16(const uint8_t *p)
{
    uint16_t v;

    memcpy(&v, p, sizeof v);
    return PS_BSWAP16(v);
}

static inline uint32_t
ps_load_be32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof v);
    return PS_BSWAP32(v);
}

static inline uint64_t
ps_load_be64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof v);
    return PS_BSWAP64(v);
}

static inline void
ps_store_be16(uint8_t *p, uint16_t v)
{
    v = PS_BSWAP16(v);
    memcpy(p, &v, sizeof v);
}

static inline void
ps_store_be32(uint8_t *p, uint32_t v)
{
    v = PS_BSWAP32(v);
    memcpy(p, &v, sizeof v);
}

static inline void
ps_store_be64(uint8_t *p, uint64_t v)
{
    v = PS_BSWAP64(v);
    memcpy(p, &v, sizeof v);
}

/* Fields of 58 to 64 bits that straddle nine bytes: rare, and kept out of
 * line so that the common cases below need no spare registers.  The nine
 * bytes are a 72-bit number: 'hi', the first eight, then 'lo'; the field
 * ends 'tail' (0 to 7) bits before its end.  Plain C, no 128-bit integers,
 * so that every compiler the JIT may use takes it. */
static uint64_t __attribute__((__noinline__, __cold__, __unused__))
ps_bits_get9(const uint8_t *p, unsigned int tail, unsigned int width)
{
    uint64_t hi = ps_load_be64(p);
    uint64_t v = (hi << (8 - tail)) | (p[8] >> tail);
    return width == 64 ? v : v & ((UINT64_C(1) << width) - 1);
}

static void __attribute__((__noinline__, __cold__, __unused__))
ps_bits_set9(uint8_t *p, unsigned int tail, unsigned int width, uint64_t v)
{
    unsigned int hi_bits = tail + width - 8;    /* 50 to 64. */
    uint64_t hi_mask = (hi_bits == 64 ? UINT64_MAX
                        : (UINT64_C(1) << hi_bits) - 1);
    uint8_t lo_mask = 0xff << tail;

    ps_store_be64(p, (ps_load_be64(p) & ~hi_mask)
                     | ((v >> (8 - tail)) & hi_mask));
    p[8] = (p[8] & ~lo_mask) | ((uint8_t) (v << tail) & lo_mask);
}

/* Returns the 'width'-bit unsigned field that starts 'bit' bits into
 * 'base', most significant bit first. */
static inline uint64_t
ps_bits_get(const uint8_t *base, size_t bit, unsigned int width)
{
    const uint8_t *p = base + bit / 8;
    unsigned int shift = bit % 8;

    if (!shift) {
        switch (width) {
        case 8:
            return p[0];
        case 16:
            return ps_load_be16(p);
        case 32:
            return ps_load_be32(p);
        case 64:
            return ps_load_be64(p);
        }
    }

    /* Gather the bytes that hold the field, at most nine. */
    unsigned int nbytes = (shift + width + 7) / 8;
    unsigned int tail = nbytes * 8 - shift - width;
    if (nbytes <= 8) {
        uint64_t v = 0;
        for (unsigned int i = 0; i < nbytes; i++) {
            v = (v << 8) | p[i];
        }
        v >>= tail;
        return width == 64 ? v : v & ((UINT64_C(1) << width) - 1);
    } else {
        return ps_bits_get9(p, tail, width);
    }
}

/* Stores the low 'width' bits of 'v' as the field that starts 'bit' bits
 * into 'base'; the neighbouring bits are kept. */
static inline void
ps_bits_set(uint8_t *base, size_t bit, unsigned int width, uint64_t v)
{
    uint8_t *p = base + bit / 8;
    unsigned int shift = bit % 8;

    if (!shift) {
        switch (width) {
        case 8:
            p[0] = v;
            return;
        case 16:
            ps_store_be16(p, v);
            return;
        case 32:
            ps_store_be32(p, v);
            return;
        case 64:
            ps_store_be64(p, v);
            return;
        }
    }

    if (width < 64) {
        v &= (UINT64_C(1) << width) - 1;
    }
    if (!shift && !(width % 8)) {
        /* Whole bytes of an unusual width (a 24-bit VNI): no merge. */
        for (unsigned int i = width / 8; i-- > 0;) {
            p[i] = v;
            v >>= 8;
        }
        return;
    }
    unsigned int nbytes = (shift + width + 7) / 8;
    unsigned int tail = nbytes * 8 - shift - width;
    if (nbytes <= 8) {
        uint64_t mask = (width == 64 ? UINT64_MAX
                         : (UINT64_C(1) << width) - 1) << tail;
        uint64_t old = 0;
        for (unsigned int i = 0; i < nbytes; i++) {
            old = (old << 8) | p[i];
        }
        uint64_t new = (old & ~mask) | (v << tail);
        for (unsigned int i = nbytes; i-- > 0;) {
            p[i] = new;
            new >>= 8;
        }
    } else {
        ps_bits_set9(p, tail, width, v);
    }
}

/* Adds 'len' bytes at 'p' to the one's complement sum 'sum' (RFC 1071)
 * and returns the unfolded result.  An odd final byte is padded with a
 * zero byte. */
static inline uint64_t
ps_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
    while (len >= 8) {
        uint64_t w;

        memcpy(&w, p, 8);
        w = PS_BSWAP64(w);
        sum += (w >> 32) + (w & 0xffffffff);
        p += 8;
        len -= 8;
    }
    if (len >= 4) {
        uint32_t w;

        memcpy(&w, p, 4);
        sum += PS_BSWAP32(w);
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        sum += ps_load_be16(p);
        p += 2;
        len -= 2;
    }
    if (len) {
        sum += (uint32_t) p[0] << 8;
    }
    return sum;
}

/* Returns the last 'n' bytes of the first source route option in the
 * options at 'opts' ('len' bytes), or 'dflt' if there is none.  The
 * options are laid out as IPv4's and TCP's (RFC 791 section 3.1): type 0
 * ends them, type 1 is one byte of padding, any other type is followed by
 * a length byte that counts the type and itself.  A source route option
 * has one of the types in the bytes of 'types' (up to four, 0 for none)
 * and, after its type, length and pointer, at least 'n' bytes: a list of
 * addresses whose last is the final destination (RFC 791 Loose and Strict
 * Source and Record Route).  A malformed length ends the walk. */
static inline const uint8_t *
ps_route_last(const uint8_t *opts, size_t len, uint32_t types, size_t n,
              const uint8_t *dflt)
{
    size_t i = 0;

    while (i < len && opts[i]) {
        if (opts[i] == 1) {
            i++;
            continue;
        }
        size_t olen = i + 1 < len ? opts[i + 1] : 0;
        if (olen < 2 || olen > len - i) {
            break;
        }
        if (olen >= 3 + n
            && (opts[i] == (types & 0xff) || opts[i] == (types >> 8 & 0xff)
                || opts[i] == (types >> 16 & 0xff)
                || opts[i] == (types >> 24 & 0xff))) {
            return opts + i + olen - n;
        }
        i += olen;
    }
    return dflt;
}

/* Folds a sum from ps_csum_add() into the 16-bit checksum to store, in
 * host byte order. */
static inline uint16_t
ps_csum_finish(uint64_t sum)
{
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return ~sum & 0xffff;
}

#ifdef __cplusplus
}
#endif

#endif /* protostack/bits.h */
