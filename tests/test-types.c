/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of the address types (protostack/types.h) and of the bit and
 * checksum helpers (protostack/bits.h). */

#include <config.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "protostack/bits.h"
#include "protostack/types.h"
#include "test-common.h"

/* Builds an IPv6 address from its eight groups. */
static struct ps_ip6
ip6_from_groups(const uint16_t g[8])
{
    struct ps_ip6 a;

    for (int i = 0; i < 8; i++) {
        a.b[2 * i] = g[i] >> 8;
        a.b[2 * i + 1] = g[i];
    }
    return a;
}

/* Parses 's', which the test knows to be valid. */
static struct ps_ip6
ip6(const char *s)
{
    struct ps_ip6 a;

    if (!ps_ip6_parse(s, &a)) {
        fail_msg("\"%s\" should parse as an IPv6 address", s);
    }
    return a;
}

static void
assert_ip6_text(const struct ps_ip6 *a, const char *expected)
{
    char buf[PS_IP6_STRLEN];

    assert_string_equal(ps_ip6_format(a, buf), expected);
}

/* The 128-bit reference for the IPv6 arithmetic. */
typedef unsigned __int128 u128;

static u128
ip6_to_u128(const struct ps_ip6 *a)
{
    u128 v = 0;

    for (int i = 0; i < 16; i++) {
        v = v << 8 | a->b[i];
    }
    return v;
}

static struct ps_ip6
u128_to_ip6(u128 v)
{
    struct ps_ip6 a;

    for (int i = 15; i >= 0; i--) {
        a.b[i] = v;
        v >>= 8;
    }
    return a;
}

/* MAC addresses. */

static void
test_mac_parse_valid(void **state)
{
    static const uint8_t expected[6] = { 0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0xff };
    struct ps_mac mac;

    assert_true(ps_mac_parse("00:1a:2b:3c:4d:ff", &mac));
    assert_memory_equal(mac.b, expected, 6);

    /* Upper and mixed case. */
    memset(&mac, 0, sizeof mac);
    assert_true(ps_mac_parse("00:1A:2b:3C:4D:FF", &mac));
    assert_memory_equal(mac.b, expected, 6);

    assert_true(ps_mac_parse("ff:ff:ff:ff:ff:ff", &mac));
    for (int i = 0; i < 6; i++) {
        assert_int_equal(mac.b[i], 0xff);
    }
    assert_true(ps_mac_parse("00:00:00:00:00:00", &mac));
    for (int i = 0; i < 6; i++) {
        assert_int_equal(mac.b[i], 0);
    }
}

static void
test_mac_parse_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        ":",
        "00:11:22:33:44",             /* Five octets. */
        "00:11:22:33:44:",            /* Empty sixth octet. */
        "00:11:22:33:44:55:",         /* Trailing colon. */
        "00:11:22:33:44:55:66",       /* Seven octets. */
        "00:11:22:33:44:55 ",         /* Trailing blank. */
        " 00:11:22:33:44:55",         /* Leading blank. */
        "00:11:22:33:44:55x",         /* Trailing junk. */
        "0:11:22:33:44:55",           /* One-digit octet. */
        "000:11:22:33:44:55",         /* Three-digit octet. */
        "00:11:22:33:44:5",
        "00-11-22-33-44-55",          /* Wrong separator. */
        "00.11.22.33.44.55",
        "001122334455",               /* No separators. */
        "00:11:22:33:44:5g",          /* Not hexadecimal. */
        "0x:11:22:33:44:55",
        "00::11:22:33:44",
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct ps_mac mac;

        memset(&mac, 0x5a, sizeof mac);
        if (ps_mac_parse(bad[i], &mac)) {
            fail_msg("\"%s\" was accepted as a MAC address", bad[i]);
        }
        /* The output is left untouched on failure. */
        for (int j = 0; j < 6; j++) {
            assert_int_equal(mac.b[j], 0x5a);
        }
    }
}

static void
test_mac_format(void **state)
{
    struct ps_mac mac = { { 0x00, 0x1A, 0xbc, 0x0d, 0xE0, 0x0f } };
    char buf[PS_MAC_STRLEN];

    /* The return value is the buffer itself. */
    assert_ptr_equal(ps_mac_format(&mac, buf), buf);
    assert_string_equal(buf, "00:1a:bc:0d:e0:0f");
    assert_int_equal(strlen(buf), PS_MAC_STRLEN - 1);

    memset(&mac, 0xff, sizeof mac);
    assert_string_equal(ps_mac_format(&mac, buf), "ff:ff:ff:ff:ff:ff");
}

static void
test_mac_round_trip(void **state)
{
    for (int i = 0; i < 1000; i++) {
        struct ps_mac a, b;
        char buf[PS_MAC_STRLEN];

        rng_fill(a.b, sizeof a.b);
        ps_mac_format(&a, buf);
        assert_true(ps_mac_parse(buf, &b));
        assert_memory_equal(a.b, b.b, 6);
    }
}

/* IPv4 addresses. */

static void
test_ip4_parse_valid(void **state)
{
    static const struct {
        const char *s;
        uint32_t addr;
    } cases[] = {
        { "0.0.0.0", 0 },
        { "255.255.255.255", 0xffffffff },
        { "192.0.2.1", 0xc0000201 },
        { "10.0.0.255", 0x0a0000ff },
        { "1.2.3.4", 0x01020304 },
        { "100.200.10.0", 0x64c80a00 },
        { "127.0.0.1", 0x7f000001 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint32_t addr = 0xdeadbeef;

        if (!ps_ip4_parse(cases[i].s, &addr)) {
            fail_msg("\"%s\" was rejected", cases[i].s);
        }
        assert_int_equal(addr, cases[i].addr);
    }
}

static void
test_ip4_parse_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        ".",
        "1.2.3",                    /* Three parts. */
        "1.2.3.4.5",                /* Five parts. */
        "1.2.3.",
        ".1.2.3",
        "1..2.3",
        "1.2.3.4.",                 /* Trailing dot. */
        "1.2.3.4 ",                 /* Trailing blank. */
        " 1.2.3.4",                 /* Leading blank. */
        "1.2.3.4x",                 /* Trailing junk. */
        "1.2.3.4/24",
        "256.0.0.1",                /* Out-of-range parts. */
        "1.256.0.1",
        "1.2.3.256",
        "1.2.3.999",
        "1.2.3.1000",
        "4294967297.0.0.0",
        "01.2.3.4",                 /* Leading zeros. */
        "1.02.3.4",
        "1.2.3.04",
        "00.1.2.3",
        "1.2.3.00",
        "-1.2.3.4",                 /* Signs and other bases. */
        "+1.2.3.4",
        "0x1.2.3.4",
        "1.2.3.0x4",
        "a.b.c.d",
        "1,2,3,4",
        "::1",
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        uint32_t addr = 0x5a5a5a5a;

        if (ps_ip4_parse(bad[i], &addr)) {
            fail_msg("\"%s\" was accepted as an IPv4 address", bad[i]);
        }
        assert_int_equal(addr, 0x5a5a5a5a);
    }
}

static void
test_ip4_format(void **state)
{
    char buf[PS_IP4_STRLEN];

    assert_ptr_equal(ps_ip4_format(0xc0000201, buf), buf);
    assert_string_equal(buf, "192.0.2.1");
    assert_string_equal(ps_ip4_format(0, buf), "0.0.0.0");
    assert_string_equal(ps_ip4_format(0xffffffff, buf), "255.255.255.255");
    assert_int_equal(strlen(buf), PS_IP4_STRLEN - 1);
    assert_string_equal(ps_ip4_format(0x0a00ff01, buf), "10.0.255.1");
}

static void
test_ip4_round_trip(void **state)
{
    for (int i = 0; i < 1000; i++) {
        uint32_t a = rng_next() >> 32, b;
        char buf[PS_IP4_STRLEN];

        ps_ip4_format(a, buf);
        assert_true(ps_ip4_parse(buf, &b));
        assert_int_equal(a, b);
    }
}

/* IPv6 addresses. */

static void
test_ip6_parse_valid(void **state)
{
    static const struct {
        const char *s;
        uint16_t g[8];
    } cases[] = {
        { "::", { 0, 0, 0, 0, 0, 0, 0, 0 } },
        { "::1", { 0, 0, 0, 0, 0, 0, 0, 1 } },
        { "1::", { 1, 0, 0, 0, 0, 0, 0, 0 } },
        { "1::2", { 1, 0, 0, 0, 0, 0, 0, 2 } },
        { "2001:db8::1", { 0x2001, 0xdb8, 0, 0, 0, 0, 0, 1 } },
        { "2001:DB8:0:0:0:0:0:1", { 0x2001, 0xdb8, 0, 0, 0, 0, 0, 1 } },
        { "2001:0db8:0000:0000:0000:0000:0000:0001",
          { 0x2001, 0xdb8, 0, 0, 0, 0, 0, 1 } },
        { "1:2:3:4:5:6:7:8", { 1, 2, 3, 4, 5, 6, 7, 8 } },
        { "1:2:3:4:5:6:7::", { 1, 2, 3, 4, 5, 6, 7, 0 } },
        { "::2:3:4:5:6:7:8", { 0, 2, 3, 4, 5, 6, 7, 8 } },
        { "1:2:3::6:7:8", { 1, 2, 3, 0, 0, 6, 7, 8 } },
        { "fe80::1:2", { 0xfe80, 0, 0, 0, 0, 0, 1, 2 } },
        { "FFFF:ffff:FfFf:ffff:ffff:ffff:ffff:ffff",
          { 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
            0xffff } },
        /* Embedded IPv4. */
        { "::ffff:192.0.2.1", { 0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201 } },
        { "::192.0.2.1", { 0, 0, 0, 0, 0, 0, 0xc000, 0x0201 } },
        { "1:2:3:4:5:6:1.2.3.4", { 1, 2, 3, 4, 5, 6, 0x0102, 0x0304 } },
        { "64:ff9b::255.255.255.255",
          { 0x64, 0xff9b, 0, 0, 0, 0, 0xffff, 0xffff } },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ps_ip6 a, expected = ip6_from_groups(cases[i].g);

        memset(&a, 0x5a, sizeof a);
        if (!ps_ip6_parse(cases[i].s, &a)) {
            fail_msg("\"%s\" was rejected", cases[i].s);
        }
        if (memcmp(a.b, expected.b, 16)) {
            char buf[PS_IP6_STRLEN];
            fail_msg("\"%s\" parsed as %s", cases[i].s,
                     ps_ip6_format(&a, buf));
        }
    }
}

static void
test_ip6_parse_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        ":",
        ":::",                      /* Three colons. */
        "::::",
        "1:::2",
        "1::2::3",                  /* Two "::". */
        "::1::",
        "::1::2",
        "1:2:3:4:5:6:7",            /* Seven groups, no "::". */
        "1:2:3:4:5:6:7:8:9",        /* Nine groups. */
        "1:2:3:4:5:6:7:8::",        /* Eight groups and "::". */
        "::1:2:3:4:5:6:7:8",
        "1:2:3:4::5:6:7:8",
        "12345::",                  /* Five hex digits. */
        "1:2:3:4:5:6:7:10000",
        "g::",                      /* Not hexadecimal. */
        "::g",
        ":1::",                     /* Single leading colon. */
        ":1:2:3:4:5:6:7:8",
        "1::2:",                    /* Single trailing colon. */
        "1:2:3:4:5:6:7:8:",
        "1:2:3:4:5:6:7:8 ",         /* Trailing blank or junk. */
        " ::1",
        "::1 ",
        "::1x",
        "::1%eth0",
        "::1/64",
        "1.2.3.4",                  /* Plain IPv4. */
        "1:2:3:4:5:6:7:1.2.3.4",    /* Embedded IPv4 with too many groups. */
        "::ffff:01.2.3.4",          /* Malformed embedded IPv4. */
        "::ffff:1.2.3",
        "::ffff:256.1.1.1",
        "::ffff:1.2.3.4.5",
        "::1.2.3.4:5",
        "::ffff:1a.2.3.4",
        "1.2.3.4::",
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct ps_ip6 a;

        memset(&a, 0x5a, sizeof a);
        if (ps_ip6_parse(bad[i], &a)) {
            fail_msg("\"%s\" was accepted as an IPv6 address", bad[i]);
        }
        for (int j = 0; j < 16; j++) {
            assert_int_equal(a.b[j], 0x5a);
        }
    }
}

/* RFC 5952 output. */
static void
test_ip6_format_rfc5952(void **state)
{
    static const struct {
        uint16_t g[8];
        const char *s;
    } cases[] = {
        /* Section 4.3: lower case. */
        { { 0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345,
            0x6789 }, "abcd:ef01:2345:6789:abcd:ef01:2345:6789" },
        /* Section 4.1: leading zeros dropped. */
        { { 0x2001, 0x0db8, 0x00aa, 0x000b, 0x0c00, 0x0001, 0x0010,
            0x0100 }, "2001:db8:aa:b:c00:1:10:100" },
        { { 0x2001, 0xdb8, 0, 0, 0, 0, 0, 1 }, "2001:db8::1" },
        /* Section 4.2.2: a single zero group is not shortened. */
        { { 0x2001, 0xdb8, 0, 1, 1, 1, 1, 1 }, "2001:db8:0:1:1:1:1:1" },
        { { 1, 2, 3, 4, 5, 6, 7, 0 }, "1:2:3:4:5:6:7:0" },
        { { 0, 1, 2, 3, 4, 5, 6, 7 }, "0:1:2:3:4:5:6:7" },
        { { 1, 0, 1, 0, 1, 0, 1, 0 }, "1:0:1:0:1:0:1:0" },
        /* Section 4.2.3: the longest run... */
        { { 0x2001, 0, 0, 1, 0, 0, 0, 1 }, "2001:0:0:1::1" },
        { { 0, 0, 1, 0, 0, 0, 1, 0 }, "0:0:1::1:0" },
        /* ...and the first of equal runs. */
        { { 0x2001, 0xdb8, 0, 0, 1, 0, 0, 1 }, "2001:db8::1:0:0:1" },
        { { 0, 0, 1, 1, 0, 0, 1, 1 }, "::1:1:0:0:1:1" },
        { { 1, 0, 0, 1, 1, 1, 0, 0 }, "1::1:1:1:0:0" },
        /* Runs at either end, and everything zero. */
        { { 0, 0, 0, 0, 0, 0, 0, 0 }, "::" },
        { { 0, 0, 0, 0, 0, 0, 0, 1 }, "::1" },
        { { 1, 0, 0, 0, 0, 0, 0, 0 }, "1::" },
        { { 1, 2, 3, 4, 5, 6, 0, 0 }, "1:2:3:4:5:6::" },
        { { 0, 0, 3, 4, 5, 6, 7, 8 }, "::3:4:5:6:7:8" },
        { { 1, 0, 0, 0, 0, 0, 0, 8 }, "1::8" },
        { { 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
            0xffff }, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ps_ip6 a = ip6_from_groups(cases[i].g);
        char buf[PS_IP6_STRLEN];

        assert_ptr_equal(ps_ip6_format(&a, buf), buf);
        assert_string_equal(buf, cases[i].s);

        /* The canonical text parses back to the same address. */
        struct ps_ip6 b;
        assert_true(ps_ip6_parse(buf, &b));
        assert_memory_equal(a.b, b.b, 16);
    }
}

static void
test_ip6_format_longest(void **state)
{
    /* The longest text form fits PS_IP6_STRLEN. */
    uint16_t g[8] = { 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
                      0xffff, 0xffff };
    struct ps_ip6 a = ip6_from_groups(g);
    char buf[PS_IP6_STRLEN + 8];

    memset(buf, 'x', sizeof buf);
    ps_ip6_format(&a, buf);
    assert_true(strlen(buf) < PS_IP6_STRLEN);
    assert_int_equal(buf[PS_IP6_STRLEN], 'x');
}

static void
test_ip6_round_trip(void **state)
{
    for (int i = 0; i < 5000; i++) {
        uint16_t g[8];

        /* Random groups, many of them zero, to exercise the runs. */
        for (int j = 0; j < 8; j++) {
            uint64_t r = rng_next();
            g[j] = (r & 3) ? 0 : (r >> 32) & ((r & 4) ? 0xf : 0xffff);
        }
        struct ps_ip6 a = ip6_from_groups(g), b;
        char buf[PS_IP6_STRLEN], buf2[PS_IP6_STRLEN];

        ps_ip6_format(&a, buf);
        if (!ps_ip6_parse(buf, &b)) {
            fail_msg("formatted \"%s\" does not parse", buf);
        }
        assert_memory_equal(a.b, b.b, 16);

        /* Formatting is canonical: the same text again, and never a
         * "::" that stands for a single group. */
        assert_string_equal(ps_ip6_format(&b, buf2), buf);
        if (strstr(buf, "::")) {
            int groups = 0;
            for (const char *p = buf; *p; p++) {
                groups += *p != ':' && (p == buf || p[-1] == ':');
            }
            assert_true(groups <= 6);
        }
    }
}

/* 128-bit arithmetic. */

static void
test_ip6_add_sub(void **state)
{
    struct ps_ip6 a;

    /* Zero changes nothing. */
    a = ip6("2001:db8::1");
    ps_ip6_add(&a, 0);
    assert_ip6_text(&a, "2001:db8::1");
    ps_ip6_sub(&a, 0);
    assert_ip6_text(&a, "2001:db8::1");

    /* Carry and borrow across one byte. */
    a = ip6("::ff");
    ps_ip6_add(&a, 1);
    assert_ip6_text(&a, "::100");
    ps_ip6_sub(&a, 1);
    assert_ip6_text(&a, "::ff");

    /* Across the 64-bit halves. */
    a = ip6("::ffff:ffff:ffff:ffff");
    ps_ip6_add(&a, 1);
    assert_ip6_text(&a, "0:0:0:1::");
    ps_ip6_sub(&a, 1);
    assert_ip6_text(&a, "::ffff:ffff:ffff:ffff");

    a = ip6("::1");
    ps_ip6_add(&a, UINT64_MAX);
    assert_ip6_text(&a, "0:0:0:1::");
    ps_ip6_sub(&a, UINT64_MAX);
    assert_ip6_text(&a, "::1");

    a = ip6("2001:db8:0:ffff:ffff:ffff:ffff:fff0");
    ps_ip6_add(&a, 0x20);
    assert_ip6_text(&a, "2001:db8:1::10");

    a = ip6("1::");
    ps_ip6_sub(&a, UINT64_MAX);
    assert_ip6_text(&a, "0:ffff:ffff:ffff::1");

    /* Wrap at 2**128. */
    a = ip6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    ps_ip6_add(&a, 1);
    assert_ip6_text(&a, "::");
    a = ip6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
    ps_ip6_add(&a, 5);
    assert_ip6_text(&a, "::3");
    a = ip6("::");
    ps_ip6_sub(&a, 1);
    assert_ip6_text(&a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    a = ip6("::2");
    ps_ip6_sub(&a, 5);
    assert_ip6_text(&a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd");
}

static void
test_ip6_add_sub_ip6(void **state)
{
    struct ps_ip6 a, b;

    a = ip6("::ffff:ffff:ffff:ffff");
    b = ip6("::1");
    ps_ip6_add_ip6(&a, &b);
    assert_ip6_text(&a, "0:0:0:1::");

    a = ip6("2001:db8::ff");
    b = ip6("1:2:3:4:5:6:7:1");
    ps_ip6_add_ip6(&a, &b);
    assert_ip6_text(&a, "2002:dba:3:4:5:6:7:100");
    ps_ip6_sub_ip6(&a, &b);
    assert_ip6_text(&a, "2001:db8::ff");

    /* The carry out of the top bit is dropped. */
    a = ip6("8000::");
    b = ip6("8000::1");
    ps_ip6_add_ip6(&a, &b);
    assert_ip6_text(&a, "::1");

    a = ip6("::1");
    b = ip6("::2");
    ps_ip6_sub_ip6(&a, &b);
    assert_ip6_text(&a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");

    a = ip6("0:0:0:1::");
    b = ip6("::1");
    ps_ip6_sub_ip6(&a, &b);
    assert_ip6_text(&a, "::ffff:ffff:ffff:ffff");

    /* a - a = 0, and 'a' may be its own operand. */
    a = ip6("2001:db8:1:2:3:4:5:6");
    ps_ip6_sub_ip6(&a, &a);
    assert_ip6_text(&a, "::");
    a = ip6("4000::1");
    ps_ip6_add_ip6(&a, &a);
    assert_ip6_text(&a, "8000::2");
}

static void
test_ip6_arith_reference(void **state)
{
    /* Random operands against unsigned __int128. */
    for (int i = 0; i < 20000; i++) {
        struct ps_ip6 a, b, r;
        uint64_t n = rng_next();

        rng_fill(a.b, 16);
        rng_fill(b.b, 16);
        if (i % 4 == 0) {
            /* Runs of 0xff to provoke long carries. */
            memset(a.b + 8, 0xff, 8);
            n |= 1;
        } else if (i % 4 == 1) {
            memset(a.b + 8, 0, 8);
        }
        u128 va = ip6_to_u128(&a), vb = ip6_to_u128(&b);

        r = a;
        ps_ip6_add(&r, n);
        assert_true(ip6_to_u128(&r) == va + n);
        r = a;
        ps_ip6_sub(&r, n);
        assert_true(ip6_to_u128(&r) == va - n);
        r = a;
        ps_ip6_add_ip6(&r, &b);
        assert_true(ip6_to_u128(&r) == va + vb);
        r = a;
        ps_ip6_sub_ip6(&r, &b);
        assert_true(ip6_to_u128(&r) == va - vb);

        int c = ps_ip6_cmp(&a, &b);
        assert_int_equal(c, va < vb ? -1 : va > vb ? 1 : 0);
        assert_int_equal(ps_ip6_cmp(&a, &a), 0);

        struct ps_ip6 check = u128_to_ip6(va);
        assert_memory_equal(check.b, a.b, 16);
    }
}

static void
test_ip6_cmp(void **state)
{
    struct ps_ip6 a = ip6("::1"), b = ip6("::2");

    assert_int_equal(ps_ip6_cmp(&a, &b), -1);
    assert_int_equal(ps_ip6_cmp(&b, &a), 1);
    assert_int_equal(ps_ip6_cmp(&a, &a), 0);

    /* The first byte is the most significant. */
    a = ip6("1::");
    b = ip6("::ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assert_int_equal(ps_ip6_cmp(&a, &b), 1);
    assert_int_equal(ps_ip6_cmp(&b, &a), -1);

    a = ip6("ff00::");
    b = ip6("1::");
    assert_int_equal(ps_ip6_cmp(&a, &b), 1);

    a = ip6("2001:db8::1");
    b = ip6("2001:DB8:0:0:0:0:0:1");
    assert_int_equal(ps_ip6_cmp(&a, &b), 0);

    /* Exactly -1, 0 or 1, however far apart. */
    a = ip6("::");
    b = ip6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assert_int_equal(ps_ip6_cmp(&a, &b), -1);
    assert_int_equal(ps_ip6_cmp(&b, &a), 1);
}

/* Wrapping counters. */

static void
test_inc_wrap(void **state)
{
    assert_int_equal(ps_inc_wrap(0, 3), 1);
    assert_int_equal(ps_inc_wrap(1, 3), 2);
    assert_int_equal(ps_inc_wrap(2, 3), 0);
    assert_int_equal(ps_inc_wrap(0, 1), 0);
    assert_int_equal(ps_inc_wrap(0, 2), 1);
    assert_int_equal(ps_inc_wrap(1, 2), 0);

    /* n = 0: always 0. */
    assert_int_equal(ps_inc_wrap(0, 0), 0);
    assert_int_equal(ps_inc_wrap(5, 0), 0);

    /* Near the top of the range. */
    assert_int_equal(ps_inc_wrap(UINT64_MAX - 2, UINT64_MAX),
                     UINT64_MAX - 1);
    assert_int_equal(ps_inc_wrap(UINT64_MAX - 1, UINT64_MAX), 0);

    /* A counter cycles through [0, n). */
    uint64_t v = 0;
    for (int i = 1; i <= 20; i++) {
        v = ps_inc_wrap(v, 7);
        assert_int_equal(v, i % 7);
    }
}

static void
test_add_wrap(void **state)
{
    assert_int_equal(ps_add_wrap(0, 0, 5), 0);
    assert_int_equal(ps_add_wrap(1, 2, 5), 3);
    assert_int_equal(ps_add_wrap(3, 4, 5), 2);
    assert_int_equal(ps_add_wrap(4, 1, 5), 0);
    assert_int_equal(ps_add_wrap(1, 12, 5), 3);   /* Step above n. */
    assert_int_equal(ps_add_wrap(7, 3, 5), 0);    /* Start above n. */
    assert_int_equal(ps_add_wrap(0, 10, 1), 0);
    assert_int_equal(ps_add_wrap(123, 456, 0), 0);
    assert_int_equal(ps_add_wrap(UINT64_MAX, 1, UINT64_MAX), 1);
    assert_int_equal(ps_add_wrap(UINT64_MAX, UINT64_MAX, 10), 0);

    /* Small moduli against the mathematical definition. */
    for (int i = 0; i < 10000; i++) {
        uint64_t v = rng_next(), step = rng_next();
        uint64_t n = (rng_next() >> 40) + 1;

        assert_int_equal(ps_add_wrap(v, step, n),
                         (uint64_t) (((u128) v + step) % n));
    }
}

static void
test_add_wrap_large_modulus(void **state)
{
    /* For n above 2**63, 'v % n + step % n' can exceed 64 bits; the
     * result must still be (v + step) mod n. */
    uint64_t n = UINT64_MAX;
    uint64_t v = UINT64_MAX - 1, step = UINT64_MAX - 1;

    assert_int_equal(ps_add_wrap(v, step, n),
                     (uint64_t) (((u128) v + step) % n));
    assert_int_equal(ps_add_wrap(v, step, n), UINT64_MAX - 2);

    for (int i = 0; i < 10000; i++) {
        uint64_t v2 = rng_next(), step2 = rng_next();
        uint64_t n2 = rng_next() | (UINT64_C(1) << 63);

        assert_int_equal(ps_add_wrap(v2, step2, n2),
                         (uint64_t) (((u128) v2 + step2) % n2));
    }
}

/* Bit fields: a slow reference, one bit at a time. */

static int
ref_get_bit(const uint8_t *p, size_t bit)
{
    return (p[bit / 8] >> (7 - bit % 8)) & 1;
}

static void
ref_set_bit(uint8_t *p, size_t bit, int value)
{
    uint8_t mask = 0x80 >> (bit % 8);

    if (value) {
        p[bit / 8] |= mask;
    } else {
        p[bit / 8] &= ~mask;
    }
}

static uint64_t
ref_bits_get(const uint8_t *p, size_t bit, unsigned int width)
{
    uint64_t v = 0;

    for (unsigned int i = 0; i < width; i++) {
        v = v << 1 | ref_get_bit(p, bit + i);
    }
    return v;
}

static void
ref_bits_set(uint8_t *p, size_t bit, unsigned int width, uint64_t v)
{
    for (unsigned int i = 0; i < width; i++) {
        ref_set_bit(p, bit + i, (v >> (width - 1 - i)) & 1);
    }
}

#define BITS_BUF 24

static void
check_bits_get(const uint8_t *buf, size_t bit, unsigned int width)
{
    uint64_t got = ps_bits_get(buf, bit, width);
    uint64_t expected = ref_bits_get(buf, bit, width);

    if (got != expected) {
        fail_msg("ps_bits_get(bit %zu, width %u) = 0x%016"PRIx64
                 ", expected 0x%016"PRIx64, bit, width, got, expected);
    }
}

static void
check_bits_set(const uint8_t *orig, size_t bit, unsigned int width,
               uint64_t v)
{
    uint8_t got[BITS_BUF], expected[BITS_BUF];

    memcpy(got, orig, BITS_BUF);
    memcpy(expected, orig, BITS_BUF);
    ps_bits_set(got, bit, width, v);
    ref_bits_set(expected, bit, width, v);
    if (memcmp(got, expected, BITS_BUF)) {
        char g[3 * BITS_BUF + 1], e[3 * BITS_BUF + 1];
        for (int i = 0; i < BITS_BUF; i++) {
            snprintf(g + 3 * i, 4, "%02x ", got[i]);
            snprintf(e + 3 * i, 4, "%02x ", expected[i]);
        }
        fail_msg("ps_bits_set(bit %zu, width %u, 0x%016"PRIx64"):\n"
                 "got      %s\nexpected %s", bit, width, v, g, e);
    }

    /* Reading back gives the low 'width' bits of the value. */
    uint64_t mask = width == 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
    assert_int_equal(ps_bits_get(got, bit, width), v & mask);
}

static void
test_bits_get(void **state)
{
    uint8_t buf[BITS_BUF];

    for (int round = 0; round < 50; round++) {
        rng_fill(buf, sizeof buf);
        if (round == 0) {
            memset(buf, 0xff, sizeof buf);
        } else if (round == 1) {
            memset(buf, 0, sizeof buf);
        }
        for (size_t bit = 0; bit < 16; bit++) {
            for (unsigned int width = 1; width <= 64; width++) {
                check_bits_get(buf, bit, width);
            }
        }
    }
}

static void
test_bits_get_known(void **state)
{
    static const uint8_t buf[] = {
        0x45, 0x00, 0x12, 0x34, 0xab, 0xcd, 0xef, 0x01,
        0x23, 0x45, 0x67, 0x89, 0xfe, 0xdc, 0xba, 0x98,
    };

    assert_int_equal(ps_bits_get(buf, 0, 4), 4);
    assert_int_equal(ps_bits_get(buf, 4, 4), 5);
    assert_int_equal(ps_bits_get(buf, 0, 8), 0x45);
    assert_int_equal(ps_bits_get(buf, 16, 16), 0x1234);
    assert_int_equal(ps_bits_get(buf, 12, 12), 0x012);
    assert_int_equal(ps_bits_get(buf, 32, 24), 0xabcdef);
    assert_int_equal(ps_bits_get(buf, 0, 32), 0x45001234);
    assert_int_equal(ps_bits_get(buf, 0, 64), UINT64_C(0x45001234abcdef01));
    assert_int_equal(ps_bits_get(buf, 4, 64), UINT64_C(0x5001234abcdef012));
    assert_int_equal(ps_bits_get(buf, 1, 1), 1);
    assert_int_equal(ps_bits_get(buf, 2, 1), 0);
    /* A 58-bit field at bit 7 spans nine bytes. */
    u128 first9 = (u128) UINT64_C(0x45001234abcdef01) << 8 | 0x23;
    assert_int_equal(ps_bits_get(buf, 7, 58),
                     (uint64_t) (first9 >> 7) & ((UINT64_C(1) << 58) - 1));
}

static void
test_bits_set(void **state)
{
    uint8_t buf[BITS_BUF];

    for (int round = 0; round < 30; round++) {
        rng_fill(buf, sizeof buf);
        if (round == 0) {
            memset(buf, 0xff, sizeof buf);
        } else if (round == 1) {
            memset(buf, 0, sizeof buf);
        }
        for (size_t bit = 0; bit < 16; bit++) {
            for (unsigned int width = 1; width <= 64; width++) {
                /* A random value, with bits above 'width' set too: they
                 * must be ignored. */
                check_bits_set(buf, bit, width, rng_next());
                check_bits_set(buf, bit, width, 0);
                check_bits_set(buf, bit, width, UINT64_MAX);
            }
        }
    }
}

static void
test_bits_set_neighbours(void **state)
{
    /* Zero and all-ones fields inside all-ones and zero buffers: the bits
     * around the field keep their value. */
    for (size_t bit = 0; bit < 8; bit++) {
        for (unsigned int width = 1; width <= 64; width++) {
            uint8_t buf[BITS_BUF];

            memset(buf, 0xff, sizeof buf);
            ps_bits_set(buf, bit, width, 0);
            for (size_t i = 0; i < 8 * BITS_BUF; i++) {
                int expected = i < bit || i >= bit + width;
                if (ref_get_bit(buf, i) != expected) {
                    fail_msg("set 0 at bit %zu width %u: bit %zu is %d",
                             bit, width, i, !expected);
                }
            }

            memset(buf, 0, sizeof buf);
            ps_bits_set(buf, bit, width, UINT64_MAX);
            for (size_t i = 0; i < 8 * BITS_BUF; i++) {
                int expected = i >= bit && i < bit + width;
                if (ref_get_bit(buf, i) != expected) {
                    fail_msg("set ones at bit %zu width %u: bit %zu is %d",
                             bit, width, i, !expected);
                }
            }
        }
    }
}

static void
test_bits_set_known(void **state)
{
    uint8_t buf[8] = { 0 };

    ps_bits_set(buf, 0, 4, 4);
    ps_bits_set(buf, 4, 4, 5);
    assert_int_equal(buf[0], 0x45);
    ps_bits_set(buf, 8, 6, 0x2e);
    ps_bits_set(buf, 14, 2, 3);
    assert_int_equal(buf[1], 0xbb);
    ps_bits_set(buf, 20, 24, 0xabcdef);
    assert_int_equal(buf[2], 0x0a);
    assert_int_equal(buf[3], 0xbc);
    assert_int_equal(buf[4], 0xde);
    assert_int_equal(buf[5], 0xf0);
    ps_bits_set(buf, 16, 16, 0x1234);
    assert_int_equal(buf[2], 0x12);
    assert_int_equal(buf[3], 0x34);
    assert_int_equal(buf[4], 0xde);
}

/* The Internet checksum: a reference that sums 16-bit words. */

static uint16_t
ref_csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;

    for (size_t i = 0; i < len; i += 2) {
        uint16_t word = p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
        sum += word;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
}

static void
test_csum_known(void **state)
{
    /* RFC 1071, section 3: the sum is 0xddf2, the checksum 0x220d. */
    static const uint8_t rfc1071[] = {
        0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7,
    };
    assert_int_equal(ps_csum_finish(ps_csum_add(0, rfc1071, 8)), 0x220d);

    /* A real IPv4 header with its checksum 0xb861 zeroed. */
    uint8_t ip4[20] = {
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
        0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
    };
    assert_int_equal(ps_csum_finish(ps_csum_add(0, ip4, 20)), 0xb861);
    /* With the checksum in place, the header sums to zero. */
    ip4[10] = 0xb8;
    ip4[11] = 0x61;
    assert_int_equal(ps_csum_finish(ps_csum_add(0, ip4, 20)), 0);

    /* Nothing, and zeros, give 0xffff. */
    assert_int_equal(ps_csum_finish(ps_csum_add(0, ip4, 0)), 0xffff);
    static const uint8_t zeros[7] = { 0 };
    assert_int_equal(ps_csum_finish(ps_csum_add(0, zeros, 7)), 0xffff);

    /* One odd byte is the high byte of a word. */
    static const uint8_t one[1] = { 0x12 };
    assert_int_equal(ps_csum_finish(ps_csum_add(0, one, 1)),
                     (uint16_t) ~0x1200);
    static const uint8_t three[3] = { 0x01, 0x02, 0x03 };
    assert_int_equal(ps_csum_finish(ps_csum_add(0, three, 3)),
                     (uint16_t) ~(0x0102 + 0x0300));
}

static void
test_csum_reference(void **state)
{
    uint8_t buf[1100];

    for (int round = 0; round < 200; round++) {
        rng_fill(buf, sizeof buf);
        if (round % 10 == 0) {
            memset(buf, 0xff, sizeof buf);
        }
        for (size_t len = 0; len <= 70; len++) {
            /* Odd start addresses too. */
            for (size_t start = 0; start < 3; start++) {
                uint16_t got = ps_csum_finish(ps_csum_add(0, buf + start,
                                                          len));
                uint16_t expected = ref_csum(buf + start, len);
                if (got != expected) {
                    fail_msg("length %zu at +%zu: 0x%04x, expected 0x%04x",
                             len, start, got, expected);
                }
            }
        }
        size_t len = 1000 + round % 7;
        assert_int_equal(ps_csum_finish(ps_csum_add(0, buf, len)),
                         ref_csum(buf, len));
    }
}

static void
test_csum_incremental(void **state)
{
    uint8_t buf[301];

    rng_fill(buf, sizeof buf);
    /* Sums of pieces of even length add up to the sum of the whole. */
    for (size_t split = 0; split <= sizeof buf; split += 2) {
        uint64_t sum = ps_csum_add(0, buf, split);
        sum = ps_csum_add(sum, buf + split, sizeof buf - split);
        assert_int_equal(ps_csum_finish(sum), ref_csum(buf, sizeof buf));
    }

    /* A long run of 0xff bytes: many carries to fold. */
    static uint8_t ones[70000];
    memset(ones, 0xff, sizeof ones);
    assert_int_equal(ps_csum_finish(ps_csum_add(0, ones, sizeof ones)),
                     ref_csum(ones, sizeof ones));
    assert_int_equal(ps_csum_finish(ps_csum_add(0, ones, 69999)),
                     ref_csum(ones, 69999));
}

static void
test_csum_finish_fold(void **state)
{
    /* ps_csum_finish() folds any 64-bit sum, as a one's complement sum
     * of 16-bit words, i.e. modulo 0xffff. */
    assert_int_equal(ps_csum_finish(0), 0xffff);
    assert_int_equal(ps_csum_finish(0xffff), 0);
    assert_int_equal(ps_csum_finish(0x10000), 0xfffe);
    assert_int_equal(ps_csum_finish(0x2ddf0), 0x220d);
    assert_int_equal(ps_csum_finish(UINT64_MAX), 0);
    assert_int_equal(ps_csum_finish(UINT64_C(0xffffffff)), 0);

    for (int i = 0; i < 10000; i++) {
        uint64_t sum = rng_next() >> (rng_next() % 48);
        uint64_t folded = sum;

        while (folded >> 16) {
            folded = (folded & 0xffff) + (folded >> 16);
        }
        assert_int_equal(ps_csum_finish(sum), ~folded & 0xffff);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac_parse_valid),
        cmocka_unit_test(test_mac_parse_invalid),
        cmocka_unit_test(test_mac_format),
        cmocka_unit_test(test_mac_round_trip),
        cmocka_unit_test(test_ip4_parse_valid),
        cmocka_unit_test(test_ip4_parse_invalid),
        cmocka_unit_test(test_ip4_format),
        cmocka_unit_test(test_ip4_round_trip),
        cmocka_unit_test(test_ip6_parse_valid),
        cmocka_unit_test(test_ip6_parse_invalid),
        cmocka_unit_test(test_ip6_format_rfc5952),
        cmocka_unit_test(test_ip6_format_longest),
        cmocka_unit_test(test_ip6_round_trip),
        cmocka_unit_test(test_ip6_add_sub),
        cmocka_unit_test(test_ip6_add_sub_ip6),
        cmocka_unit_test(test_ip6_arith_reference),
        cmocka_unit_test(test_ip6_cmp),
        cmocka_unit_test(test_inc_wrap),
        cmocka_unit_test(test_add_wrap),
        cmocka_unit_test(test_add_wrap_large_modulus),
        cmocka_unit_test(test_bits_get),
        cmocka_unit_test(test_bits_get_known),
        cmocka_unit_test(test_bits_set),
        cmocka_unit_test(test_bits_set_neighbours),
        cmocka_unit_test(test_bits_set_known),
        cmocka_unit_test(test_csum_known),
        cmocka_unit_test(test_csum_reference),
        cmocka_unit_test(test_csum_incremental),
        cmocka_unit_test(test_csum_finish_fold),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
