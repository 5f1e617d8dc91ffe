/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of the protocol definition language: the parser
 * (ps_definitions_parse(), stacks/definition.c) and the registry that
 * loads and checks definitions (stacks/registry.c). */

#include <config.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "protocol.h"
#include "protostack/protostack.h"

#include "test-common.h"

/* The shipped protocols, in name order. */
static const char *const shipped[] = {
    "ah", "arp", "dns", "esp", "eth", "geneve", "gre", "gtpu", "gtpu_ext",
    "icmp", "icmp6", "ip4", "ip6", "ip6_dst", "ip6_frag", "ip6_hbh", "ip6_rt",
    "ipfix", "lacp", "mpls", "nsh", "ptp", "sflow", "tcp", "udp", "vlan",
    "vxlan", "vxlan_gpe",
};

/* The first line of most test texts. */
#define P "protocol p \"P\" {\n"

static struct ps_registry *
default_registry(void)
{
    struct ps_registry *reg = ps_registry_create();
    char *error = NULL;
    enum ps_error code = ps_registry_load_default(reg, &error);

    if (code) {
        fail_msg("loading the default protocols: %s: %s",
                 ps_error_name(code), error ? error : "(no message)");
    }
    assert_null(error);
    return reg;
}

static void
assert_code(enum ps_error got, enum ps_error expected, const char *error)
{
    if (got != expected) {
        fail_msg("got %s, expected %s (message: %s)", ps_error_name(got),
                 ps_error_name(expected), error ? error : "(none)");
    }
}

/* True if 'msg' starts with "NAME:LINE:COL: " for some positive LINE and
 * COL. */
static bool
has_position(const char *msg, const char *name)
{
    size_t n = strlen(name);

    if (strncmp(msg, name, n) || msg[n] != ':') {
        return false;
    }
    const char *p = msg + n + 1;
    for (int i = 0; i < 2; i++) {
        if (!isdigit((unsigned char) *p) || *p == '0') {
            return false;
        }
        while (isdigit((unsigned char) *p)) {
            p++;
        }
        if (*p++ != ':') {
            return false;
        }
    }
    return *p == ' ';
}

/* Parses 'text' as "t.proto", which must fail with 'code', through both
 * ps_definitions_parse() and ps_registry_load_string(), and returns the
 * message (to be freed). */
static char *
parse_failure(const char *text, enum ps_error code)
{
    struct ps_definitions defs;
    char *error = NULL;
    enum ps_error got;

    memset(&defs, 0x5a, sizeof defs);
    got = ps_definitions_parse("t.proto", text, &defs, &error);
    assert_code(got, code, error);
    assert_non_null(error);
    /* Nothing is left in 'defs'. */
    assert_int_equal(defs.n_protocols, 0);
    assert_int_equal(defs.n_bindings, 0);
    assert_int_equal(defs.n_pseudos, 0);
    assert_null(defs.protocols);

    /* Without 'errorp', the same code. */
    assert_int_equal(ps_definitions_parse("t.proto", text, &defs, NULL),
                     code);

    /* The registry reports the same error and stays empty. */
    struct ps_registry *reg = ps_registry_create();
    char *error2 = NULL;
    got = ps_registry_load_string(reg, "t.proto", text, &error2);
    assert_code(got, code, error2);
    assert_non_null(error2);
    assert_string_equal(error2, error);
    assert_int_equal(ps_registry_n_protocols(reg), 0);
    assert_int_equal(ps_registry_n_bindings(reg), 0);
    free(error2);
    ps_registry_destroy(reg);

    if (!has_position(error, "t.proto")) {
        fail_msg("message \"%s\" does not start with t.proto:LINE:COL: ",
                 error);
    }
    return error;
}

/* Checks that 'text' fails with 'code' at 'line':'column' with a message
 * that contains 'substring'. */
static void
check_error(const char *text, enum ps_error code, int line, int column,
            const char *substring)
{
    char *error = parse_failure(text, code);
    char prefix[64];

    snprintf(prefix, sizeof prefix, "t.proto:%d:%d: ", line, column);
    if (strncmp(error, prefix, strlen(prefix))) {
        fail_msg("message \"%s\" should start with \"%s\"", error, prefix);
    }
    if (substring && !strstr(error, substring)) {
        fail_msg("message \"%s\" should contain \"%s\"", error, substring);
    }
    free(error);
}

/* Like check_error(), checking only the line. */
static void
check_error_line(const char *text, enum ps_error code, int line,
                 const char *substring)
{
    char *error = parse_failure(text, code);
    char prefix[64];

    snprintf(prefix, sizeof prefix, "t.proto:%d:", line);
    if (strncmp(error, prefix, strlen(prefix))) {
        fail_msg("message \"%s\" should start with \"%s\"", error, prefix);
    }
    if (substring && !strstr(error, substring)) {
        fail_msg("message \"%s\" should contain \"%s\"", error, substring);
    }
    free(error);
}

static const struct ps_pfield *
find_field(const struct ps_protocol *p, const char *name)
{
    for (size_t i = 0; i < p->n_fields; i++) {
        if (!strcmp(p->fields[i]->name, name)) {
            return p->fields[i];
        }
    }
    fail_msg("protocol %s has no field %s", p->name, name);
    return NULL;
}

/* Valid definitions. */

static void
test_minimal(void **state)
{
    struct ps_definitions defs;
    char *error = NULL;

    assert_int_equal(ps_definitions_parse("min.proto",
                                          "protocol m \"Minimal\" {\n"
                                          "    bit<8> a = 7 \"A\";\n"
                                          "}\n", &defs, &error), PS_OK);
    assert_null(error);
    assert_int_equal(defs.n_protocols, 1);
    assert_int_equal(defs.n_bindings, 0);
    assert_int_equal(defs.n_pseudos, 0);

    const struct ps_protocol *p = defs.protocols[0];
    assert_string_equal(p->name, "m");
    assert_string_equal(p->doc, "Minimal");
    assert_string_equal(p->file, "min.proto");
    assert_int_equal(p->n_fields, 1);
    assert_int_equal(p->n_variants, 1);
    assert_string_equal(p->variants[0].name, "plain");
    assert_null(p->variants[0].when_field);
    assert_int_equal(p->variants[0].n_fields, 1);
    assert_ptr_equal(p->variants[0].fields[0], p->fields[0]);

    const struct ps_pfield *f = p->fields[0];
    assert_string_equal(f->name, "a");
    assert_string_equal(f->doc, "A");
    assert_int_equal(f->type, PS_FIELD_UINT);
    assert_int_equal(f->bits, 8);
    assert_int_equal(f->rule, PS_RULE_CONST);
    assert_int_equal(f->value, 7);
    assert_string_equal(f->rule_text, "7");
    assert_null(f->cond);
    assert_null(f->size_expr);
    assert_false(f->hex);
    assert_false(f->entropy);
    assert_int_equal(f->pos.line, 2);
    assert_int_equal(f->pos.column, 5);

    ps_definitions_clear(&defs);
    assert_int_equal(defs.n_protocols, 0);

    /* The registry takes it too. */
    struct ps_registry *reg = ps_registry_create();
    assert_int_equal(ps_registry_load_string(reg, "min.proto",
                                             "protocol m \"Minimal\" "
                                             "{ bit<8> a \"A\"; }", &error),
                     PS_OK);
    assert_null(error);
    assert_int_equal(ps_registry_n_protocols(reg), 1);
    assert_string_equal(ps_registry_protocol_name(reg, 0), "m");
    assert_string_equal(ps_registry_protocol_doc(reg, 0), "Minimal");
    assert_null(ps_registry_protocol_name(reg, 1));
    ps_registry_destroy(reg);
}

static void
test_full_syntax(void **state)
{
    static const char text[] =
        "# A comment.\n"
        "// Another comment.\n"
        "/* A block\n"
        "   comment. */\n"
        "protocol full \"Say \\\"hi\\\" \\\\ ok\" {\n"
        "    bit<4>  ver = 0x4                  \"Version\";\n"
        "    bit<4>  hl = length(header, unit=4) \"Header length\";\n"
        "    bit<16> len = length(rest, sub=2, unit=4) @hex \"Length\";\n"
        "    bit<16> plen = length(payload)     \"Payload length\";\n"
        "    bit<16> ck = checksum(rest, pseudo, nonzero) @hex \"Sum\";\n"
        "    bit<8>  nxt = next(5)              \"Next\";\n"
        "    bit<8>  nxt2 = next                \"Next 2\";\n"
        "    bit<16> port @entropy              \"Port\";\n"
        "    bit<1>  f                          \"Flag\";\n"
        "    bit<7>  pad                        \"Padding\";\n"
        "    bit<32> opt if f = 9               \"Optional\";\n"
        "    mac     m = \"01:80:C2:00:00:02\"  \"MAC\";\n"
        "    ip4     a4 = \"192.0.2.1\"         \"IPv4\";\n"
        "    ip6     a6 = \"2001:db8::1\"       \"IPv6\";\n"
        "    bytes<3> b3 = \"0x010203\"         \"Bytes\";\n"
        "    bit<64> big = 0xffffffffffffffff   \"Big\";\n"
        "    bytes   var[(hl * 4 - 20) / 2] @size(12) \"Options\"; /* c */\n"
        "};\n"
        "pseudo_header full { a4; zero(8); proto(8); length(16); }\n"
        "bind full after eth.type == 0x1234;\n"
        "bind eth after full;\n";
    struct ps_definitions defs;
    char *error = NULL;

    enum ps_error code = ps_definitions_parse("full.proto", text, &defs,
                                              &error);
    if (code) {
        fail_msg("%s: %s", ps_error_name(code), error);
    }
    assert_int_equal(defs.n_protocols, 1);
    const struct ps_protocol *p = defs.protocols[0];
    assert_string_equal(p->name, "full");
    assert_string_equal(p->doc, "Say \"hi\" \\ ok");
    assert_int_equal(p->n_fields, 17);

    const struct ps_pfield *f = find_field(p, "ver");
    assert_int_equal(f->bits, 4);
    assert_int_equal(f->value, 4);
    assert_int_equal(f->pos.line, 6);

    f = find_field(p, "hl");
    assert_int_equal(f->rule, PS_RULE_LENGTH);
    assert_int_equal(f->span, PS_SPAN_HEADER);
    assert_int_equal(f->sub, 0);
    assert_int_equal(f->unit, 4);
    assert_string_equal(f->rule_text, "length(header, unit=4)");

    f = find_field(p, "len");
    assert_int_equal(f->rule, PS_RULE_LENGTH);
    assert_int_equal(f->span, PS_SPAN_REST);
    assert_int_equal(f->sub, 2);
    assert_int_equal(f->unit, 4);
    assert_true(f->hex);
    assert_string_equal(f->rule_text, "length(rest, sub=2, unit=4)");

    f = find_field(p, "plen");
    assert_int_equal(f->span, PS_SPAN_PAYLOAD);
    assert_int_equal(f->unit, 1);
    assert_string_equal(f->rule_text, "length(payload)");

    f = find_field(p, "ck");
    assert_int_equal(f->rule, PS_RULE_CHECKSUM);
    assert_int_equal(f->span, PS_SPAN_REST);
    assert_true(f->pseudo);
    assert_true(f->nonzero);
    assert_string_equal(f->rule_text, "checksum(rest, pseudo, nonzero)");

    f = find_field(p, "nxt");
    assert_int_equal(f->rule, PS_RULE_NEXT);
    assert_int_equal(f->value, 5);
    assert_string_equal(f->rule_text, "next(5)");
    f = find_field(p, "nxt2");
    assert_int_equal(f->rule, PS_RULE_NEXT);
    assert_int_equal(f->value, 0);
    assert_string_equal(f->rule_text, "next");

    f = find_field(p, "port");
    assert_true(f->entropy);
    assert_false(f->hex);
    assert_string_equal(f->rule_text, "0");

    f = find_field(p, "opt");
    assert_string_equal(f->cond, "f");
    assert_int_equal(f->value, 9);

    static const uint8_t mac[] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x02 };
    f = find_field(p, "m");
    assert_int_equal(f->type, PS_FIELD_MAC);
    assert_int_equal(f->bits, 48);
    assert_non_null(f->bytes);
    assert_memory_equal(f->bytes, mac, 6);

    static const uint8_t a4[] = { 192, 0, 2, 1 };
    f = find_field(p, "a4");
    assert_int_equal(f->type, PS_FIELD_IP4);
    assert_int_equal(f->bits, 32);
    assert_memory_equal(f->bytes, a4, 4);

    static const uint8_t a6[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                  0, 0, 0, 0, 0, 0, 0, 1 };
    f = find_field(p, "a6");
    assert_int_equal(f->type, PS_FIELD_IP6);
    assert_int_equal(f->bits, 128);
    assert_memory_equal(f->bytes, a6, 16);

    static const uint8_t b3[] = { 1, 2, 3 };
    f = find_field(p, "b3");
    assert_int_equal(f->type, PS_FIELD_BYTES);
    assert_int_equal(f->bits, 24);
    assert_memory_equal(f->bytes, b3, 3);

    f = find_field(p, "big");
    assert_int_equal(f->bits, 64);
    assert_int_equal(f->value, UINT64_MAX);

    f = find_field(p, "var");
    assert_int_equal(f->type, PS_FIELD_BYTES);
    assert_int_equal(f->bits, 0);
    assert_non_null(f->size_expr);
    assert_int_equal(f->default_size, 12);
    assert_string_equal(f->rule_text, "size (((hl * 4) - 20) / 2)");

    /* The statements after the protocol. */
    assert_int_equal(defs.n_pseudos, 1);
    const struct ps_pseudo_decl *d = &defs.pseudos[0];
    assert_string_equal(d->protocol, "full");
    assert_int_equal(d->n_items, 4);
    assert_int_equal(d->items[0].kind, PS_PDECL_FIELD);
    assert_string_equal(d->items[0].field, "a4");
    assert_int_equal(d->items[1].kind, PS_PDECL_ZERO);
    assert_int_equal(d->items[1].bits, 8);
    assert_int_equal(d->items[2].kind, PS_PDECL_PROTO);
    assert_int_equal(d->items[2].bits, 8);
    assert_int_equal(d->items[3].kind, PS_PDECL_LENGTH);
    assert_int_equal(d->items[3].bits, 16);
    assert_int_equal(d->pos.line, 24);
    assert_int_equal(d->pos.column, 1);

    assert_int_equal(defs.n_bindings, 2);
    const struct ps_binding *b = &defs.bindings[0];
    assert_string_equal(b->upper, "full");
    assert_string_equal(b->lower, "eth");
    assert_string_equal(b->field, "type");
    assert_int_equal(b->value, 0x1234);
    assert_int_equal(b->pos.line, 25);
    assert_int_equal(b->pos.column, 1);
    b = &defs.bindings[1];
    assert_string_equal(b->upper, "eth");
    assert_string_equal(b->lower, "full");
    assert_null(b->field);
    assert_int_equal(b->pos.line, 26);

    ps_definitions_clear(&defs);
}

/* A field present when any of several flags is set. */
static void
test_cond_or(void **state)
{
    struct ps_definitions defs = { 0 };
    char *error = NULL;
    enum ps_error e = ps_definitions_parse(
        "t.proto",
        P "    bit<1> a \"A\";\n    bit<1> b \"B\";\n    bit<6> c \"C\";\n"
        "    bit<8> x if a || b \"X\";\n}\n", &defs, &error);
    assert_int_equal(e, PS_OK);
    assert_null(error);
    const struct ps_pfield *x = defs.protocols[0]->fields[3];
    assert_int_equal(ps_pfield_n_flags(x), 2);
    assert_string_equal(ps_pfield_flag(x, 0), "a");
    assert_string_equal(ps_pfield_flag(x, 1), "b");
    assert_true(ps_pfield_has_flag(x, "b"));
    assert_false(ps_pfield_has_flag(x, "c"));
    ps_definitions_clear(&defs);

    check_error_line(P "    bit<1> a \"A\";\n"
                     "    bit<8> x if a || z \"X\";\n}\n",
                     PS_ERR_SYNTAX, 3, "field x depends on z");
}

/* Bindings with further conditions, on the lower and the upper
 * protocol. */
static void
test_binding_conditions(void **state)
{
    struct ps_definitions defs = { 0 };
    char *error = NULL;
    enum ps_error e = ps_definitions_parse(
        "t.proto",
        "bind u after l.a == 1 && l.b == 0 && u.c != 0x20;\n"
        "bind u after l && u.c == 3;\n", &defs, &error);
    assert_int_equal(e, PS_OK);
    assert_null(error);
    assert_int_equal(defs.n_bindings, 2);

    const struct ps_binding *b = &defs.bindings[0];
    assert_string_equal(b->field, "a");
    assert_int_equal(b->value, 1);
    assert_int_equal(b->n_conds, 2);
    assert_false(b->conds[0].upper);
    assert_string_equal(b->conds[0].field, "b");
    assert_false(b->conds[0].not_equal);
    assert_int_equal(b->conds[0].value, 0);
    assert_true(b->conds[1].upper);
    assert_string_equal(b->conds[1].field, "c");
    assert_true(b->conds[1].not_equal);
    assert_int_equal(b->conds[1].value, 0x20);

    b = &defs.bindings[1];
    assert_null(b->field);
    assert_int_equal(b->n_conds, 1);
    assert_true(b->conds[0].upper);
    assert_int_equal(b->conds[0].value, 3);
    ps_definitions_clear(&defs);
}

/* A lookup for ps_expr_eval(): fields "a" = 10, "b" = 3, "z" = 0. */
static bool
test_lookup(const char *field, void *aux, int64_t *valuep)
{
    int *calls = aux;

    ++*calls;
    if (!strcmp(field, "a")) {
        *valuep = 10;
    } else if (!strcmp(field, "b")) {
        *valuep = 3;
    } else if (!strcmp(field, "z")) {
        *valuep = 0;
    } else {
        return false;
    }
    return true;
}

/* Parses "bytes v[EXPR]" after fields a, b and z and evaluates EXPR. */
static bool
eval_expr(const char *expr, int64_t *valuep)
{
    char *text = NULL;
    struct ps_definitions defs;
    char *error = NULL;

    text = malloc(strlen(expr) + 200);
    sprintf(text, "protocol e \"E\" { bit<8> a \"A\"; bit<8> b \"B\"; "
            "bit<8> z \"Z\"; bytes v[%s] \"V\"; }", expr);
    enum ps_error code = ps_definitions_parse("e.proto", text, &defs,
                                              &error);
    if (code) {
        fail_msg("%s: %s", expr, error);
    }
    free(text);

    const struct ps_pfield *f = find_field(defs.protocols[0], "v");
    int calls = 0;
    bool ok = ps_expr_eval(f->size_expr, test_lookup, &calls, valuep);
    ps_definitions_clear(&defs);
    return ok;
}

static void
test_expr_eval(void **state)
{
    static const struct {
        const char *expr;
        int64_t value;
    } cases[] = {
        { "7", 7 },
        { "a", 10 },
        { "a * 4 - 20", 20 },
        { "a + b * 2", 16 },            /* '*' binds tighter. */
        { "(a + b) * 2", 26 },
        { "a - b - 2", 5 },             /* Left associative. */
        { "a / b / 2", 1 },
        { "a / b", 3 },                 /* Integer division. */
        { "b - a", -7 },
        { "((a))", 10 },
        { "a * b * 2 - (a - 1) / 2", 56 },
        { "0x10 + a", 26 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int64_t value = -12345;

        if (!eval_expr(cases[i].expr, &value)) {
            fail_msg("\"%s\" did not evaluate", cases[i].expr);
        }
        if (value != cases[i].value) {
            fail_msg("\"%s\" = %"PRId64", expected %"PRId64,
                     cases[i].expr, value, cases[i].value);
        }
    }

    /* Division by zero fails. */
    int64_t value;
    assert_false(eval_expr("a / z", &value));
    assert_false(eval_expr("(a + 1) / (b - 3)", &value));

    /* So does a field the lookup does not know. */
    struct ps_expr field = { .op = PS_EXPR_FIELD, .field = "nope" };
    int calls = 0;
    assert_false(ps_expr_eval(&field, test_lookup, &calls, &value));
    assert_int_equal(calls, 1);
    struct ps_expr num = { .op = PS_EXPR_NUM, .num = 3 };
    struct ps_expr sum = { .op = PS_EXPR_ADD, .left = &num, .right = &field };
    assert_false(ps_expr_eval(&sum, test_lookup, &calls, &value));
}

static void
test_variants_custom(void **state)
{
    static const char text[] =
        "protocol v \"V\" {\n"
        "    bit<8> a \"A\";\n"
        "    variant one when t == 1 \"One\" {\n"
        "        bit<8> t = 1 \"T\";\n"
        "        bit<8> x \"X\";\n"
        "    }\n"
        "    bit<8> b \"B\";\n"
        "    variant two when t == 2 \"Two\" {\n"
        "        bit<8> t = 2 \"T\";\n"
        "    }\n"
        "    bit<8> c \"C\";\n"
        "}\n";
    struct ps_definitions defs;
    char *error = NULL;

    assert_int_equal(ps_definitions_parse("v.proto", text, &defs, &error),
                     PS_OK);
    const struct ps_protocol *p = defs.protocols[0];
    assert_int_equal(p->n_variants, 3);
    assert_int_equal(p->n_fields, 6);

    /* plain: a b c.  one: a t x b c.  two: a b t c. */
    static const char *const layouts[3][6] = {
        { "a", "b", "c" },
        { "a", "t", "x", "b", "c" },
        { "a", "b", "t", "c" },
    };
    static const char *const names[3] = { "plain", "one", "two" };
    for (size_t i = 0; i < 3; i++) {
        const struct ps_variant *v = &p->variants[i];
        size_t n = 0;

        while (n < 6 && layouts[i][n]) {
            n++;
        }
        assert_string_equal(v->name, names[i]);
        assert_int_equal(v->n_fields, n);
        for (size_t j = 0; j < n; j++) {
            assert_string_equal(v->fields[j]->name, layouts[i][j]);
        }
    }
    assert_string_equal(p->variants[1].when_field, "t");
    assert_int_equal(p->variants[1].when_value, 1);
    assert_string_equal(p->variants[1].doc, "One");
    assert_int_equal(p->variants[2].when_value, 2);
    assert_string_equal(p->variants[0].doc, "V");

    assert_non_null(ps_variant_find_field(&p->variants[1], "x"));
    assert_null(ps_variant_find_field(&p->variants[2], "x"));
    assert_null(ps_variant_find_field(&p->variants[0], "t"));
    ps_definitions_clear(&defs);
}

/* Errors, each with its position. */

static void
test_error_unknown_type(void **state)
{
    check_error(P "    int<8> a \"A\";\n}\n", PS_ERR_SYNTAX, 2, 5,
                "unknown field type \"int\"");
    check_error(P "    bit<8> a \"A\";\n    uint32 b \"B\";\n}\n",
                PS_ERR_SYNTAX, 3, 5, "uint32");
}

static void
test_error_bit_width(void **state)
{
    check_error(P "    bit<0> a \"A\";\n}\n", PS_ERR_SYNTAX, 2, 5,
                "bit<N> needs a width from 1 to 64");
    check_error(P "    bit<65> a \"A\";\n}\n", PS_ERR_SYNTAX, 2, 5,
                "bit<N> needs a width from 1 to 64");
    check_error(P "  bit a \"A\";\n}\n", PS_ERR_SYNTAX, 2, 3,
                "bit<N> needs a width");
    check_error(P "    bytes<0> a \"A\";\n}\n", PS_ERR_SYNTAX, 2, 5,
                "bytes<N> needs a size");
    check_error(P "    bit<8 a \"A\";\n}\n", PS_ERR_SYNTAX, 2, 11,
                "expected '>'");
    check_error(P "    bit<99999999999999999999> a \"A\";\n}\n",
                PS_ERR_SYNTAX, 2, 9, "malformed or too large integer");

    /* The limits themselves are fine. */
    struct ps_definitions defs;
    assert_int_equal(ps_definitions_parse("t.proto",
                                          P "    bit<1> a \"A\";\n"
                                          "    bit<64> b \"B\";\n"
                                          "    bit<7> c \"C\";\n}\n",
                                          &defs, NULL), PS_OK);
    assert_int_equal(defs.protocols[0]->fields[0]->bits, 1);
    assert_int_equal(defs.protocols[0]->fields[1]->bits, 64);
    ps_definitions_clear(&defs);
}

static void
test_error_missing_semicolon(void **state)
{
    check_error(P "    bit<8> a \"A\"\n    bit<8> b \"B\";\n}\n",
                PS_ERR_SYNTAX, 3, 5, "expected ';', found \"bit\"");
    check_error(P "    bit<8> a \"A\"\n}\n", PS_ERR_SYNTAX, 3, 1,
                "expected ';', found '}'");
    check_error("bind a after b\n", PS_ERR_SYNTAX, 2, 1,
                "expected ';', found end of file");
}

static void
test_error_missing_description(void **state)
{
    check_error(P "    bit<8> a;\n}\n", PS_ERR_SYNTAX, 2, 13,
                "expected the field's description, found ';'");
    check_error(P "    bit<8> a = 1 @hex;\n}\n", PS_ERR_SYNTAX, 2, 22,
                "description");
    check_error("protocol p {\n    bit<8> a \"A\";\n}\n", PS_ERR_SYNTAX,
                1, 12, "expected the protocol's description");
}

static void
test_error_duplicate_field(void **state)
{
    check_error(P "    bit<8> a \"A\";\n    bit<8> a \"B\";\n}\n",
                PS_ERR_DUPLICATE, 3, 5, "duplicate field a");
    check_error(P "    bit<8> a \"A\";\n    bit<16> b \"B\";\n"
                "    mac a \"C\";\n}\n", PS_ERR_DUPLICATE, 4, 5,
                "duplicate field a");
    /* A variant's field that repeats a plain field. */
    check_error(P "    bit<8> a \"A\";\n"
                "    variant v when a == 1 \"V\" {\n"
                "        bit<8> a \"A2\";\n"
                "    }\n}\n", PS_ERR_DUPLICATE, 4, 9,
                "duplicate field a in p subtype v");
}

static void
test_error_annotations(void **state)
{
    check_error(P "    bit<8> a @foo \"A\";\n}\n", PS_ERR_SYNTAX, 2, 14,
                "unknown annotation @foo");
    check_error(P "    bit<8> a @hex @bar \"A\";\n}\n", PS_ERR_SYNTAX, 2,
                19, "unknown annotation @bar");
    check_error(P "    mac m @entropy \"M\";\n}\n", PS_ERR_SYNTAX, 2, 11,
                "@entropy needs an integer field");
    check_error(P "    bit<16> c = checksum(header) @entropy \"C\";\n}\n",
                PS_ERR_SYNTAX, 2, 34,
                "@entropy needs an integer field with a constant default");
    check_error(P "    bit<8> n = next(0) @entropy \"N\";\n}\n",
                PS_ERR_SYNTAX, 2, 24,
                "@entropy needs an integer field with a constant default");
    check_error(P "    bit<8> a @size(4) \"A\";\n}\n", PS_ERR_SYNTAX, 2,
                14, "@size applies only to a variable-length member");
    check_error(P "    bit<8> n \"N\";\n    bytes o[n] @size(70000) \"O\";\n"
                "}\n", PS_ERR_SYNTAX, 3, 16, "too large");
}

static void
test_error_checksum_width(void **state)
{
    check_error(P "    bit<8> c = checksum(rest) \"C\";\n}\n", PS_ERR_SYNTAX,
                2, 5, "a checksum field must be bit<16>");
    check_error(P "    bit<8> a \"A\";\n"
                "    bit<32> c = checksum(header) \"C\";\n}\n",
                PS_ERR_SYNTAX, 3, 5, "a checksum field must be bit<16>");
    check_error(P "    mac c = checksum(header) \"C\";\n}\n", PS_ERR_SYNTAX,
                2, 5, "checksum() needs an integer field");
    check_error(P "    ip4 l = length(rest) \"L\";\n}\n", PS_ERR_SYNTAX,
                2, 5, "length() needs an integer field");
}

static void
test_error_default_width(void **state)
{
    check_error(P "    bit<4> v = 16 \"V\";\n}\n", PS_ERR_SYNTAX, 2, 16,
                "default 16 does not fit in the 4 bits of field v");
    check_error(P "    bit<1> f = 2 \"F\";\n    bit<7> g \"G\";\n}\n",
                PS_ERR_SYNTAX, 2, 16, "does not fit");
    check_error(P "    bit<4> v = next(16) \"V\";\n}\n", PS_ERR_SYNTAX, 2,
                5, "fallback 16 does not fit in 4 bits");
    check_error(P "    bit<8> a = 99999999999999999999 \"A\";\n}\n",
                PS_ERR_SYNTAX, 2, 16, "too large integer");

    /* The largest value that fits is fine. */
    struct ps_definitions defs;
    assert_int_equal(ps_definitions_parse("t.proto",
                                          P "    bit<4> v = 15 \"V\";\n"
                                          "    bit<4> w = next(0xf) \"W\";\n"
                                          "}\n", &defs, NULL), PS_OK);
    ps_definitions_clear(&defs);
}

static void
test_error_default_type(void **state)
{
    check_error(P "    bit<8> a = \"x\" \"A\";\n}\n", PS_ERR_SYNTAX, 2, 16,
                "cannot have a quoted default");
    check_error(P "    mac m = 5 \"M\";\n}\n", PS_ERR_SYNTAX, 2, 13,
                "needs a quoted default");
    check_error(P "    mac m = \"zz\" \"M\";\n}\n", PS_ERR_SYNTAX, 2, 13,
                "\"zz\" is not a valid default for field m");
    check_error(P "    ip4 a = \"01.2.3.4\" \"A\";\n}\n", PS_ERR_SYNTAX, 2,
                13, "not a valid default");
    check_error(P "    ip6 a = \"1::2::3\" \"A\";\n}\n", PS_ERR_SYNTAX, 2,
                13, "not a valid default");
    check_error(P "    bytes<2> b = \"0x010203\" \"B\";\n}\n",
                PS_ERR_SYNTAX, 2, 18, "not a valid default");
    check_error(P "    mac m = next \"M\";\n}\n", PS_ERR_SYNTAX, 2, 5,
                "next needs an integer field");
    check_error(P "    bit<8> l = length(rest, unit=0) \"L\";\n}\n",
                PS_ERR_SYNTAX, 2, 35, "unit must not be 0");
    check_error(P "    bit<8> l = length(rest, pseudo) \"L\";\n}\n",
                PS_ERR_SYNTAX, 2, 29, "unknown length option");
    check_error(P "    bit<16> c = checksum(rest, sub=1) \"C\";\n}\n",
                PS_ERR_SYNTAX, 2, 32, "unknown checksum option");
    check_error(P "    bit<8> l = length(all) \"L\";\n}\n", PS_ERR_SYNTAX,
                2, 23, "expected a span");
    check_error(P "    bit<8> l = ; \"L\";\n}\n", PS_ERR_SYNTAX, 2, 16,
                "expected a default value");
}

static void
test_error_conditional(void **state)
{
    /* An unknown flag. */
    check_error(P "    bit<8> a if zz \"A\";\n}\n", PS_ERR_SYNTAX, 2, 5,
                "field a depends on zz");
    /* A flag declared later. */
    check_error(P "    bit<8> a if f \"A\";\n    bit<8> f \"F\";\n}\n",
                PS_ERR_SYNTAX, 2, 5, "field a depends on f");
    /* A conditional flag. */
    check_error(P "    bit<8> f \"F\";\n    bit<8> g if f \"G\";\n"
                "    bit<8> h if g \"H\";\n}\n", PS_ERR_SYNTAX, 4, 5,
                "field h depends on g");
    /* A flag that is not an integer. */
    check_error(P "    mac f \"F\";\n    bit<8> g if f \"G\";\n}\n",
                PS_ERR_SYNTAX, 3, 5, "field g depends on f");
    /* A field may not depend on itself. */
    check_error(P "    bit<8> f if f \"F\";\n}\n", PS_ERR_SYNTAX, 2, 5,
                "depends on f");
}

static void
test_error_size_expr(void **state)
{
    /* An unknown field. */
    check_error(P "    bit<8> n \"N\";\n    bytes opt[m * 4] \"O\";\n}\n",
                PS_ERR_SYNTAX, 3, 5, "size of opt uses m");
    /* A field declared later. */
    check_error(P "    bytes opt[n * 4] \"O\";\n    bit<8> n \"N\";\n}\n",
                PS_ERR_SYNTAX, 2, 5, "size of opt uses n");
    /* A field that is not an integer. */
    check_error(P "    mac n \"N\";\n    bytes opt[n] \"O\";\n}\n",
                PS_ERR_SYNTAX, 3, 5, "size of opt uses n");
    /* Malformed expressions. */
    check_error(P "    bit<8> n \"N\";\n    bytes o[] \"O\";\n}\n",
                PS_ERR_SYNTAX, 3, 13, "expected a number, a field or '('");
    check_error(P "    bit<8> n \"N\";\n    bytes o[(n * 4] \"O\";\n}\n",
                PS_ERR_SYNTAX, 3, 19, "expected ')'");
    check_error(P "    bit<8> n \"N\";\n    bytes o[n * 3000000000] \"O\";\n"
                "}\n", PS_ERR_SYNTAX, 3, 17, "number too large");
    check_error(P "    bit<8> a[4] \"A\";\n}\n", PS_ERR_SYNTAX, 2, 13,
                "only \"bytes NAME[SIZE]\" may have a variable size");
    check_error(P "    bytes b \"B\";\n}\n", PS_ERR_SYNTAX, 2, 13,
                "bytes field b needs a size");
}

static void
test_error_two_variable_members(void **state)
{
    check_error(P "    bit<8> n \"N\";\n    bytes a[n] \"A\";\n"
                "    bytes b[n] \"B\";\n}\n", PS_ERR_SYNTAX, 4, 5,
                "p has more than one variable-length member");
}

static void
test_error_unterminated(void **state)
{
    /* A string ends at the end of its line. */
    check_error("protocol p \"P {\n    bit<8> a \"A\";\n}\n", PS_ERR_SYNTAX,
                1, 12, "unterminated string");
    check_error(P "    bit<8> a \"A", PS_ERR_SYNTAX, 2, 14,
                "unterminated string");
    check_error("protocol p \"P\" {\n    bit<8> a \"A\";\n}\n  /* open\n",
                PS_ERR_SYNTAX, 4, 3, "unterminated comment");
    check_error(P "    bit<8> a /* \"A\";\n}\n", PS_ERR_SYNTAX, 2, 14,
                "unterminated comment");
    check_error(P "    bit<8> a \"A\";\n", PS_ERR_SYNTAX, 3, 1,
                "expected '}' to close protocol p");
}

static void
test_error_bad_character(void **state)
{
    check_error(P "    bit<8> a $ \"A\";\n}\n", PS_ERR_SYNTAX, 2, 14,
                "unexpected character '$'");
    check_error(P "\tbit<8> a \"A\";\n}\n?", PS_ERR_SYNTAX, 4, 1,
                "unexpected character '?'");
    check_error(P "    bit<8> a \x01 \"A\";\n}\n", PS_ERR_SYNTAX, 2, 14,
                "unexpected character \\x01");
}

static void
test_error_statements(void **state)
{
    check_error("foo bar;\n", PS_ERR_SYNTAX, 1, 1,
                "expected protocol, bind or pseudo_header, found \"foo\"");
    check_error("\n\n   42\n", PS_ERR_SYNTAX, 3, 4,
                "expected protocol, bind or pseudo_header, found a number");
    check_error("protocol p \"P\" { }\n", PS_ERR_SYNTAX, 2, 1,
                "protocol p has no fields");
    check_error("bind a b;\n", PS_ERR_SYNTAX, 1, 8,
                "expected \"after\", found \"b\"");
    check_error("bind a after b.c = 1;\n", PS_ERR_SYNTAX, 1, 18,
                "expected '=='");
    check_error("bind a after b.c == x;\n", PS_ERR_SYNTAX, 1, 21,
                "expected a value");
    check_error_line(P "    bit<8> a \"A\";\n    variant v when a == 1 @hex "
                     "\"V\" { bit<8> b \"B\"; }\n}\n", PS_ERR_SYNTAX, 3,
                     "unknown subtype annotation \"hex\"");
    check_error("bind a after b.c == 1 && c.d == 2;\n", PS_ERR_SYNTAX, 1,
                26, "condition on c in a binding of a after b");
    check_error("bind a after b.c == 1 && b.d = 2;\n", PS_ERR_SYNTAX, 1, 30,
                "expected '=='");
    check_error("bind a after b.c == 1 & b.d == 2;\n", PS_ERR_SYNTAX, 1, 23,
                "expected ';', found '&'");
    check_error("pseudo_header p { foo(8); }\n", PS_ERR_SYNTAX, 1, 19,
                "unknown pseudo-header item foo()");
    check_error("pseudo_header p { zero(7); }\n", PS_ERR_SYNTAX, 1, 19,
                "bad width 7");
    check_error("pseudo_header p { a or route(o); }\n", PS_ERR_SYNTAX, 1,
                24, "route(): no option type");
    check_error("pseudo_header p { a or x(o, 131); }\n", PS_ERR_SYNTAX, 1,
                24, "expected route(FIELD, TYPE...) after \"or\"");
    check_error("pseudo_header p { a or route(o, 1); }\n", PS_ERR_SYNTAX, 1,
                24, "route(): up to 4 option types from 2 to 255");
    check_error("pseudo_header p { a or route(o, 2, 3, 4, 5, 6); }\n",
                PS_ERR_SYNTAX, 1, 24,
                "route(): up to 4 option types from 2 to 255");
    check_error("pseudo_header p { src; proto(64); }\n", PS_ERR_SYNTAX, 1,
                24, "bad width 64");
}

static void
test_error_variants(void **state)
{
    check_error_line(P "    bit<16> t \"T\";\n"
                     "    variant v when t == 1 \"V\" { bit<8> x \"X\"; }\n"
                     "    variant v when t == 2 \"W\" { bit<8> y \"Y\"; }\n"
                     "}\n", PS_ERR_DUPLICATE, 4, "duplicate subtype v");
    check_error_line(P "    variant plain when t == 1 \"V\" {\n"
                     "        bit<8> t \"T\";\n    }\n}\n", PS_ERR_DUPLICATE,
                     2, "duplicate subtype plain");
    char *error = parse_failure(P "    bit<8> a \"A\";\n"
                                "    variant v when zz == 1 \"V\" {\n"
                                "        bit<8> x \"X\";\n    }\n}\n",
                                PS_ERR_SYNTAX);
    assert_non_null(strstr(error, "names zz"));
    free(error);
    error = parse_failure(P "    variant v when t == 16 \"V\" {\n"
                          "        bit<4> t \"T\";\n"
                          "        bit<4> u \"U\";\n    }\n"
                          "    bit<8> a \"A\";\n}\n", PS_ERR_SYNTAX);
    assert_non_null(strstr(error, "16 does not fit"));
    free(error);
}

static void
test_error_two_protocols(void **state)
{
    char *error = parse_failure("protocol a \"A\" { bit<8> x \"X\"; }\n"
                                "protocol b \"B\" { bit<8> y \"Y\"; }\n",
                                PS_ERR_DUPLICATE);
    assert_string_equal(error, "t.proto:2:1: second protocol in one file "
                        "(a is already defined here)");
    free(error);
}

/* Registry checks across loads. */

static void
test_duplicate_protocol(void **state)
{
    static const char text[] =
        "protocol dup \"D\" {\n    bit<8> a \"A\";\n}\n";
    struct ps_registry *reg = ps_registry_create();
    char *error = NULL;

    assert_int_equal(ps_registry_load_string(reg, "a.proto", text, &error),
                     PS_OK);
    enum ps_error code = ps_registry_load_string(reg, "b.proto", text,
                                                 &error);
    assert_code(code, PS_ERR_DUPLICATE, error);
    assert_non_null(error);
    assert_non_null(strstr(error, "dup"));
    assert_non_null(strstr(error, "b.proto"));
    assert_non_null(strstr(error, "a.proto"));
    assert_int_equal(ps_registry_n_protocols(reg), 1);
    free(error);

    /* A shipped protocol, loaded again. */
    struct ps_registry *def = default_registry();
    error = NULL;
    code = ps_registry_load_string(def, "udp2.proto",
                                   "protocol udp \"U\" { bit<8> a \"A\"; }",
                                   &error);
    assert_code(code, PS_ERR_DUPLICATE, error);
    assert_int_equal(ps_registry_n_protocols(def), 28);
    free(error);

    /* The shipped protocols, twice. */
    error = NULL;
    code = ps_registry_load_default(def, &error);
    assert_code(code, PS_ERR_DUPLICATE, error);
    assert_int_equal(ps_registry_n_protocols(def), 28);
    free(error);

    ps_registry_destroy(def);
    ps_registry_destroy(reg);
}

static void
test_duplicate_protocol_position(void **state)
{
    /* protostack.h: an error in a protocol file names "file:line:col". */
    static const char text[] =
        "protocol dup \"D\" {\n    bit<8> a \"A\";\n}\n";
    struct ps_registry *reg = ps_registry_create();
    char *error = NULL;

    assert_int_equal(ps_registry_load_string(reg, "a.proto", text, NULL),
                     PS_OK);
    assert_int_equal(ps_registry_load_string(reg, "b.proto", text, &error),
                     PS_ERR_DUPLICATE);
    if (!has_position(error, "b.proto")) {
        fail_msg("message \"%s\" does not start with b.proto:LINE:COL: ",
                 error);
    }
    free(error);
    ps_registry_destroy(reg);
}

static void
test_duplicate_pseudo_header(void **state)
{
    struct ps_registry *reg = default_registry();
    size_t n_bindings = ps_registry_n_bindings(reg);
    char *error = NULL;

    enum ps_error code = ps_registry_load_string(
        reg, "ps.proto", "\npseudo_header ip4 { src; dst; }\n", &error);
    assert_code(code, PS_ERR_DUPLICATE, error);
    assert_true(!strncmp(error, "ps.proto:2:1: ", 14));
    free(error);

    /* A pseudo-header naming a field the protocol lacks. */
    code = ps_registry_load_string(reg, "ps.proto",
                                   "pseudo_header udp { src; nosuch; }\n",
                                   &error);
    assert_code(code, PS_ERR_NO_FIELD, error);
    assert_true(!strncmp(error, "ps.proto:1:1: ", 14));
    assert_non_null(strstr(error, "nosuch"));
    free(error);

    /* A source route in a field that is not a bytes field, or none. */
    static const char *const routes[] = {
        "pseudo_header udp { src or route(dst, 131); }\n",
        "pseudo_header udp { src or route(nosuch, 131); }\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
        code = ps_registry_load_string(reg, "ps.proto", routes[i], &error);
        assert_code(code, PS_ERR_NO_FIELD, error);
        assert_true(!strncmp(error, "ps.proto:1:1: ", 14));
        assert_non_null(strstr(error, "route("));
        free(error);
    }

    /* One that parses: the items as declared. */
    struct ps_definitions defs = { 0 };
    code = ps_definitions_parse("r.proto", "pseudo_header r { a or route("
                                "o, 131, 0x89); b; }\n", &defs, &error);
    assert_code(code, PS_OK, error);
    assert_int_equal(defs.pseudos[0].n_items, 2);
    assert_string_equal(defs.pseudos[0].items[0].route, "o");
    assert_int_equal(defs.pseudos[0].items[0].route_types, 0x8983);
    assert_null(defs.pseudos[0].items[1].route);
    ps_definitions_clear(&defs);

    assert_int_equal(ps_registry_n_protocols(reg), 28);
    assert_int_equal(ps_registry_n_bindings(reg), n_bindings);
    ps_registry_destroy(reg);
}

static void
test_binding_no_field(void **state)
{
    struct ps_registry *reg = default_registry();
    size_t n_bindings = ps_registry_n_bindings(reg);
    char *error = NULL;

    enum ps_error code = ps_registry_load_string(
        reg, "x.proto",
        "protocol x \"X\" {\n    bit<8> a \"A\";\n}\n\n"
        "bind x after udp.nosuch == 5;\n", &error);
    assert_code(code, PS_ERR_NO_FIELD, error);
    if (strncmp(error, "x.proto:5:1: ", 13)) {
        fail_msg("message \"%s\" should start with \"x.proto:5:1: \"",
                 error);
    }
    assert_non_null(strstr(error, "udp"));
    assert_non_null(strstr(error, "nosuch"));
    free(error);

    /* A MAC field is no integer field. */
    code = ps_registry_load_string(
        reg, "x.proto",
        "protocol x \"X\" {\n    bit<8> a \"A\";\n}\n"
        "  bind x after eth.src == 1;\n", &error);
    assert_code(code, PS_ERR_NO_FIELD, error);
    assert_true(!strncmp(error, "x.proto:4:3: ", 13));
    free(error);

    /* A binding within the new file, on the new protocol. */
    code = ps_registry_load_string(
        reg, "x.proto",
        "protocol x \"X\" {\n    bit<8> a \"A\";\n}\n"
        "bind udp after x.b == 1;\n", &error);
    assert_code(code, PS_ERR_NO_FIELD, error);
    assert_true(!strncmp(error, "x.proto:4:1: ", 13));
    free(error);

    /* A condition on an unknown field of the lower protocol, of the
     * upper one, and on an upper field that is not read ahead. */
    static const struct {
        const char *bind;
        const char *words[2];
    } conds[] = {
        { "bind x after udp.dst == 5 && udp.nosuch == 0;",
          { "udp", "nosuch" } },
        { "bind x after udp.dst == 5 && x.nosuch == 1;", { "x", "nosuch" } },
        { "bind x after udp && x.b == 1;", { "x", "b" } },
        { "bind tcp after x.a == 1 && tcp.options != 0;",
          { "tcp", "options" } },
    };
    for (size_t i = 0; i < ARRAY_SIZE(conds); i++) {
        char text[256];
        snprintf(text, sizeof text, "protocol x \"X\" {\n    bit<8> a "
                 "\"A\";\n    bytes b[a] \"B\";\n}\n%s\n", conds[i].bind);
        code = ps_registry_load_string(reg, "x.proto", text, &error);
        assert_code(code, PS_ERR_NO_FIELD, error);
        if (strncmp(error, "x.proto:5:1: ", 13)) {
            fail_msg("message \"%s\" should start with \"x.proto:5:1: \"",
                     error);
        }
        for (size_t j = 0; j < 2; j++) {
            if (!strstr(error, conds[i].words[j])) {
                fail_msg("message \"%s\" should name %s", error,
                         conds[i].words[j]);
            }
        }
        free(error);
    }

    /* A condition on the upper protocol, loaded after the binding. */
    code = ps_registry_load_string(
        reg, "y.proto", "bind y after udp.dst == 7 && y.nosuch == 1;\n",
        &error);
    assert_code(code, PS_OK, error);
    code = ps_registry_load_string(
        reg, "z.proto", "protocol y \"Y\" {\n    bit<8> a \"A\";\n}\n",
        &error);
    assert_code(code, PS_ERR_NO_FIELD, error);
    assert_true(!strncmp(error, "y.proto:1:1: ", 13));
    free(error);
    n_bindings++;

    /* Nothing was added. */
    assert_int_equal(ps_registry_n_protocols(reg), 28);
    assert_int_equal(ps_registry_n_bindings(reg), n_bindings);
    assert_null(ps_registry_find(reg, "x"));
    ps_registry_destroy(reg);
}

static void
test_binding_range(void **state)
{
    struct ps_registry *reg = default_registry();
    size_t n_bindings = ps_registry_n_bindings(reg);
    char *error = NULL;

    enum ps_error code = ps_registry_load_string(
        reg, "x.proto",
        "protocol x \"X\" {\n    bit<8> a \"A\";\n}\n\n"
        "bind x after udp.dst == 65536;\n", &error);
    assert_code(code, PS_ERR_RANGE, error);
    if (strncmp(error, "x.proto:5:1: ", 13)) {
        fail_msg("message \"%s\" should start with \"x.proto:5:1: \"",
                 error);
    }
    assert_non_null(strstr(error, "65536"));
    free(error);

    /* A field of a variant: eth.vid has 12 bits. */
    code = ps_registry_load_string(
        reg, "x.proto",
        "protocol x \"X\" {\n    bit<8> a \"A\";\n}\n"
        "bind x after eth.vid == 4096;\n", &error);
    assert_code(code, PS_ERR_RANGE, error);
    assert_true(!strncmp(error, "x.proto:4:1: ", 13));
    free(error);
    assert_int_equal(ps_registry_n_protocols(reg), 28);
    assert_int_equal(ps_registry_n_bindings(reg), n_bindings);

    /* The largest value that fits is accepted. */
    code = ps_registry_load_string(
        reg, "x.proto",
        "protocol x \"X\" {\n    bit<8> a \"A\";\n}\n"
        "bind x after eth.vid == 4095;\n"
        "bind x after udp.dst == 65535;\n", &error);
    assert_code(code, PS_OK, error);
    assert_int_equal(ps_registry_n_protocols(reg), 29);
    assert_int_equal(ps_registry_n_bindings(reg), n_bindings + 2);
    ps_registry_destroy(reg);
}

static void
test_binding_lazy(void **state)
{
    struct ps_registry *reg = ps_registry_create();
    char *error = NULL;

    /* A binding may name protocols not loaded yet... */
    assert_int_equal(ps_registry_load_string(reg, "b.proto",
                                             "bind zz after newp.f == 300;\n",
                                             &error), PS_OK);
    assert_int_equal(ps_registry_n_bindings(reg), 1);

    /* ...and is checked when they come. */
    enum ps_error code = ps_registry_load_string(
        reg, "n.proto", "protocol newp \"N\" {\n    bit<8> g \"G\";\n}\n",
        &error);
    assert_code(code, PS_ERR_NO_FIELD, error);
    assert_true(!strncmp(error, "b.proto:1:1: ", 13));
    free(error);
    code = ps_registry_load_string(
        reg, "n.proto", "protocol newp \"N\" {\n    bit<8> f \"F\";\n}\n",
        &error);
    assert_code(code, PS_ERR_RANGE, error);
    assert_true(!strncmp(error, "b.proto:1:1: ", 13));
    free(error);
    assert_int_equal(ps_registry_n_protocols(reg), 0);

    code = ps_registry_load_string(
        reg, "n.proto", "protocol newp \"N\" {\n    bit<16> f \"F\";\n}\n",
        &error);
    assert_code(code, PS_OK, error);
    assert_int_equal(ps_registry_n_protocols(reg), 1);
    ps_registry_destroy(reg);
}

/* Loading files and directories. */

struct tmpdir {
    char path[64];
    char *files[8];
    size_t n_files;
};

static void
tmpdir_create(struct tmpdir *t)
{
    strcpy(t->path, "/tmp/ps-test-definition-XXXXXX");
    assert_non_null(mkdtemp(t->path));
    t->n_files = 0;
}

static void
tmpdir_add(struct tmpdir *t, const char *name, const char *text)
{
    char *path = malloc(strlen(t->path) + strlen(name) + 2);
    sprintf(path, "%s/%s", t->path, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_true(t->n_files < ARRAY_SIZE(t->files));
    t->files[t->n_files++] = path;
}

static void
tmpdir_destroy(struct tmpdir *t)
{
    for (size_t i = 0; i < t->n_files; i++) {
        unlink(t->files[i]);
        free(t->files[i]);
    }
    rmdir(t->path);
}

static void
test_load_dir(void **state)
{
    struct ps_registry *reg = ps_registry_create();
    struct tmpdir t;
    char *error = NULL;

    tmpdir_create(&t);
    tmpdir_add(&t, "a.proto",
               "protocol zeta \"Z\" { bit<8> f \"F\"; }\n"
               "bind zeta after alpha.g == 3;\n");
    tmpdir_add(&t, "b.proto", "protocol alpha \"A\" { bit<8> g \"G\"; }\n");
    /* Ignored: not "*.proto", or hidden. */
    tmpdir_add(&t, "README", "not a protocol\n");
    tmpdir_add(&t, ".hidden.proto", "garbage\n");
    tmpdir_add(&t, "c.proto~", "garbage\n");

    enum ps_error code = ps_registry_load_dir(reg, t.path, &error);
    assert_code(code, PS_OK, error);
    assert_int_equal(ps_registry_n_protocols(reg), 2);
    assert_string_equal(ps_registry_protocol_name(reg, 0), "alpha");
    assert_string_equal(ps_registry_protocol_name(reg, 1), "zeta");
    assert_string_equal(ps_registry_protocol_doc(reg, 0), "A");
    assert_int_equal(ps_registry_n_bindings(reg), 1);

    /* One file by itself. */
    struct ps_registry *reg2 = ps_registry_create();
    code = ps_registry_load_file(reg2, t.files[1], &error);
    assert_code(code, PS_OK, error);
    assert_int_equal(ps_registry_n_protocols(reg2), 1);
    ps_registry_destroy(reg2);

    tmpdir_destroy(&t);
    ps_registry_destroy(reg);
}

static void
test_load_dir_missing(void **state)
{
    struct ps_registry *reg = ps_registry_create();
    char *error = NULL;

    enum ps_error code = ps_registry_load_dir(reg, "/nonexistent/ps-dir",
                                              &error);
    assert_code(code, PS_ERR_IO, error);
    assert_non_null(error);
    assert_non_null(strstr(error, "/nonexistent/ps-dir"));
    free(error);

    code = ps_registry_load_file(reg, "/nonexistent/x.proto", &error);
    assert_code(code, PS_ERR_IO, error);
    assert_non_null(strstr(error, "/nonexistent/x.proto"));
    free(error);

    /* Without 'errorp'. */
    assert_int_equal(ps_registry_load_dir(reg, "/nonexistent/ps-dir", NULL),
                     PS_ERR_IO);
    assert_int_equal(ps_registry_n_protocols(reg), 0);
    ps_registry_destroy(reg);
}

static void
test_load_file_null_byte(void **state)
{
    struct ps_registry *reg = ps_registry_create();
    struct tmpdir t;
    char *error = NULL;

    tmpdir_create(&t);
    tmpdir_add(&t, "n.proto", "protocol n \"N\" { bit<8> a \"A\"; }\n");
    FILE *f = fopen(t.files[0], "a");
    fputc('\0', f);
    fclose(f);
    enum ps_error code = ps_registry_load_file(reg, t.files[0], &error);
    assert_code(code, PS_ERR_SYNTAX, error);
    assert_non_null(strstr(error, "null byte"));
    free(error);
    assert_int_equal(ps_registry_n_protocols(reg), 0);
    tmpdir_destroy(&t);
    ps_registry_destroy(reg);
}

/* Compiles 'spec' and returns its template as a malloc()'d copy. */
static uint8_t *
compile_template(const struct ps_registry *reg, const char *spec,
                 size_t *sizep)
{
    struct ps_stack *stack;
    char *error = NULL;

    enum ps_error code = ps_stack_create(reg, spec, &stack, &error);
    if (code) {
        fail_msg("%s: %s: %s", spec, ps_error_name(code), error);
    }
    *sizep = ps_stack_size(stack);
    uint8_t *copy = malloc(*sizep);
    memcpy(copy, ps_stack_template(stack), *sizep);
    ps_stack_destroy(stack);
    return copy;
}

static void
test_atomic_load_string(void **state)
{
    struct ps_registry *reg = default_registry();
    size_t n_bindings = ps_registry_n_bindings(reg);
    size_t size0, size1;
    struct ps_stack *stack;
    uint8_t *before = compile_template(reg,
                                       "eth,ip4,udp,vxlan,{eth,name=inner}",
                                       &size0);
    char *error = NULL;

    /* A protocol whose binding is bad: neither it nor its bindings go in,
     * though a good binding comes first. */
    enum ps_error code = ps_registry_load_string(
        reg, "bad.proto",
        "protocol eth2 \"E\" { bit<8> a \"A\"; }\n"
        "bind eth2 after udp.dst == 1;\n"
        "bind eth2 after vxlan.nosuch == 1;\n", &error);
    assert_code(code, PS_ERR_NO_FIELD, error);
    free(error);
    assert_int_equal(ps_registry_n_protocols(reg), 28);
    assert_int_equal(ps_registry_n_bindings(reg), n_bindings);
    assert_int_equal(ps_stack_create(reg, "eth,ip4,udp,eth2", &stack, NULL),
                     PS_ERR_NO_PROTOCOL);

    /* A syntax error after a good protocol. */
    code = ps_registry_load_string(
        reg, "bad.proto",
        "protocol eth2 \"E\" { bit<8> a \"A\"; }\n"
        "bind vxlan after udp.dst == 9;\n"
        "bind oops\n", &error);
    assert_code(code, PS_ERR_SYNTAX, error);
    free(error);
    assert_int_equal(ps_registry_n_protocols(reg), 28);
    assert_int_equal(ps_registry_n_bindings(reg), n_bindings);

    /* Previously good stacks compile to the same bytes. */
    uint8_t *after = compile_template(reg,
                                      "eth,ip4,udp,vxlan,{eth,name=inner}",
                                      &size1);
    assert_int_equal(size0, size1);
    assert_memory_equal(before, after, size0);
    free(after);
    free(before);
    ps_registry_destroy(reg);
}

static void
test_atomic_load_dir(void **state)
{
    struct ps_registry *reg = default_registry();
    size_t n_bindings = ps_registry_n_bindings(reg);
    size_t size0, size1;
    uint8_t *before = compile_template(reg, "eth,ip4,udp", &size0);
    struct tmpdir t;
    char *error = NULL;

    /* A good file, then a bad one. */
    tmpdir_create(&t);
    tmpdir_add(&t, "a.proto",
               "protocol newa \"A\" { bit<8> a \"A\"; }\n"
               "bind newa after udp.dst == 1000;\n");
    tmpdir_add(&t, "b.proto", "protocol newb \"B\" {\n    bit<8> b;\n}\n");
    enum ps_error code = ps_registry_load_dir(reg, t.path, &error);
    assert_code(code, PS_ERR_SYNTAX, error);
    /* The message names the file and the position. */
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/b.proto:2:13: ", t.path);
    if (strncmp(error, prefix, strlen(prefix))) {
        fail_msg("message \"%s\" should start with \"%s\"", error, prefix);
    }
    free(error);
    assert_int_equal(ps_registry_n_protocols(reg), 28);
    assert_int_equal(ps_registry_n_bindings(reg), n_bindings);
    assert_null(ps_registry_find(reg, "newa"));
    tmpdir_destroy(&t);

    /* Two good files, the second of which redefines a shipped protocol. */
    tmpdir_create(&t);
    tmpdir_add(&t, "a.proto", "protocol newa \"A\" { bit<8> a \"A\"; }\n");
    tmpdir_add(&t, "b.proto", "protocol tcp \"T\" { bit<8> b \"B\"; }\n");
    code = ps_registry_load_dir(reg, t.path, &error);
    assert_code(code, PS_ERR_DUPLICATE, error);
    free(error);
    assert_int_equal(ps_registry_n_protocols(reg), 28);
    assert_null(ps_registry_find(reg, "newa"));
    tmpdir_destroy(&t);

    /* Two files that define the same protocol. */
    tmpdir_create(&t);
    tmpdir_add(&t, "a.proto", "protocol newa \"A\" { bit<8> a \"A\"; }\n");
    tmpdir_add(&t, "b.proto", "protocol newa \"B\" { bit<8> b \"B\"; }\n");
    code = ps_registry_load_dir(reg, t.path, &error);
    assert_code(code, PS_ERR_DUPLICATE, error);
    free(error);
    assert_int_equal(ps_registry_n_protocols(reg), 28);
    tmpdir_destroy(&t);

    /* A binding in one file that the other file's protocol breaks. */
    tmpdir_create(&t);
    tmpdir_add(&t, "a.proto", "bind newa after newb.f == 256;\n");
    tmpdir_add(&t, "b.proto", "protocol newb \"B\" { bit<8> f \"F\"; }\n");
    code = ps_registry_load_dir(reg, t.path, &error);
    assert_code(code, PS_ERR_RANGE, error);
    free(error);
    assert_int_equal(ps_registry_n_protocols(reg), 28);
    assert_int_equal(ps_registry_n_bindings(reg), n_bindings);
    tmpdir_destroy(&t);

    uint8_t *after = compile_template(reg, "eth,ip4,udp", &size1);
    assert_int_equal(size0, size1);
    assert_memory_equal(before, after, size0);
    free(after);
    free(before);
    ps_registry_destroy(reg);
}

/* The shipped protocols. */

static void
test_load_default(void **state)
{
    struct ps_registry *reg = default_registry();

    assert_int_equal(ps_registry_n_protocols(reg), 28);
    assert_int_equal(ARRAY_SIZE(shipped), 28);
    for (size_t i = 0; i < ARRAY_SIZE(shipped); i++) {
        assert_string_equal(ps_registry_protocol_name(reg, i), shipped[i]);
        const char *doc = ps_registry_protocol_doc(reg, i);
        assert_non_null(doc);
        assert_true(strlen(doc) > 0);
        assert_non_null(ps_registry_find(reg, shipped[i]));
    }
    assert_null(ps_registry_protocol_name(reg, 28));
    assert_null(ps_registry_find(reg, "nosuch"));
    assert_string_equal(ps_registry_protocol_doc(reg, 26),
                        "Virtual eXtensible LAN (RFC 7348)");

    /* Built in, and said so. */
    assert_null(ps_registry_default_dir());
    for (size_t i = 0; ps_registry_protocol_name(reg, i); i++) {
        char *want = NULL;
        assert_true(asprintf(&want, "built-in:%s.proto",
                             ps_registry_protocol_name(reg, i)) > 0);
        assert_string_equal(ps_registry_protocol_file(reg, i), want);
        free(want);
    }

    /* A few definitions as shipped. */
    const struct ps_protocol *udp = ps_registry_find(reg, "udp");
    assert_int_equal(udp->n_fields, 4);
    assert_true(find_field(udp, "src")->entropy);
    assert_int_equal(find_field(udp, "dst")->rule, PS_RULE_NEXT);
    assert_true(find_field(udp, "cksum")->nonzero);
    const struct ps_pseudo_decl *d = ps_registry_find_pseudo(reg, "ip6");
    assert_non_null(d);
    assert_int_equal(d->n_items, 5);
    assert_null(ps_registry_find_pseudo(reg, "udp"));

    ps_registry_destroy(reg);
}

static void
test_eth_variants(void **state)
{
    struct ps_registry *reg = default_registry();
    const struct ps_protocol *eth = ps_registry_find(reg, "eth");

    assert_non_null(eth);
    assert_int_equal(eth->n_variants, 3);
    assert_int_equal(eth->n_fields, 15);

    static const char *const plain[] = { "dst", "src", "type" };
    static const char *const vlan[] = {
        "dst", "src", "tpid", "pcp", "dei", "vid", "type",
    };
    static const char *const qinq[] = {
        "dst", "src", "tpid", "pcp", "dei", "vid", "ctpid", "cpcp", "cdei",
        "cvid", "type",
    };
    static const struct {
        const char *name;
        const char *when;
        uint64_t value;
        const char *const *fields;
        size_t n;
    } expected[] = {
        { "plain", NULL, 0, plain, ARRAY_SIZE(plain) },
        { "vlan", "tpid", 0x8100, vlan, ARRAY_SIZE(vlan) },
        { "qinq", "tpid", 0x88a8, qinq, ARRAY_SIZE(qinq) },
    };

    for (size_t i = 0; i < 3; i++) {
        const struct ps_variant *v = &eth->variants[i];

        assert_string_equal(v->name, expected[i].name);
        if (expected[i].when) {
            assert_string_equal(v->when_field, expected[i].when);
            assert_int_equal(v->when_value, expected[i].value);
        } else {
            assert_null(v->when_field);
        }
        assert_int_equal(v->n_fields, expected[i].n);
        for (size_t j = 0; j < expected[i].n; j++) {
            assert_string_equal(v->fields[j]->name, expected[i].fields[j]);
        }
    }
    assert_string_equal(eth->variants[1].doc, "IEEE 802.1Q VLAN tag");
    assert_int_equal(ps_variant_find_field(&eth->variants[1], "vid")->bits,
                     12);
    assert_int_equal(ps_variant_find_field(&eth->variants[2],
                                           "ctpid")->value, 0x8100);
    assert_null(ps_variant_find_field(&eth->variants[1], "cvid"));
    assert_null(ps_variant_find_field(&eth->variants[0], "tpid"));
    ps_registry_destroy(reg);
}

static void
test_error_names(void **state)
{
    assert_string_equal(ps_error_name(PS_OK), "PS_OK");
    assert_string_equal(ps_error_name(PS_ERR_SYNTAX), "PS_ERR_SYNTAX");
    assert_string_equal(ps_error_name(PS_ERR_NO_PROTOCOL),
                        "PS_ERR_NO_PROTOCOL");
    assert_string_equal(ps_error_name(PS_ERR_NO_SUBTYPE),
                        "PS_ERR_NO_SUBTYPE");
    assert_string_equal(ps_error_name(PS_ERR_NO_FIELD), "PS_ERR_NO_FIELD");
    assert_string_equal(ps_error_name(PS_ERR_DUPLICATE), "PS_ERR_DUPLICATE");
    assert_string_equal(ps_error_name(PS_ERR_RANGE), "PS_ERR_RANGE");
    assert_string_equal(ps_error_name(PS_ERR_ADDRESS), "PS_ERR_ADDRESS");
    assert_string_equal(ps_error_name(PS_ERR_TYPE), "PS_ERR_TYPE");
    assert_string_equal(ps_error_name(PS_ERR_SHORT), "PS_ERR_SHORT");
    assert_string_equal(ps_error_name(PS_ERR_LAYOUT), "PS_ERR_LAYOUT");
    assert_string_equal(ps_error_name(PS_ERR_IO), "PS_ERR_IO");
    assert_string_equal(ps_error_name(PS_ERR_ABSENT), "PS_ERR_ABSENT");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_full_syntax),
        cmocka_unit_test(test_expr_eval),
        cmocka_unit_test(test_variants_custom),
        cmocka_unit_test(test_error_unknown_type),
        cmocka_unit_test(test_error_bit_width),
        cmocka_unit_test(test_error_missing_semicolon),
        cmocka_unit_test(test_error_missing_description),
        cmocka_unit_test(test_error_duplicate_field),
        cmocka_unit_test(test_error_annotations),
        cmocka_unit_test(test_error_checksum_width),
        cmocka_unit_test(test_error_default_width),
        cmocka_unit_test(test_error_default_type),
        cmocka_unit_test(test_error_conditional),
        cmocka_unit_test(test_error_size_expr),
        cmocka_unit_test(test_error_two_variable_members),
        cmocka_unit_test(test_error_unterminated),
        cmocka_unit_test(test_error_bad_character),
        cmocka_unit_test(test_error_statements),
        cmocka_unit_test(test_error_variants),
        cmocka_unit_test(test_error_two_protocols),
        cmocka_unit_test(test_duplicate_protocol),
        cmocka_unit_test(test_duplicate_protocol_position),
        cmocka_unit_test(test_duplicate_pseudo_header),
        cmocka_unit_test(test_binding_no_field),
        cmocka_unit_test(test_binding_range),
        cmocka_unit_test(test_binding_lazy),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_load_dir_missing),
        cmocka_unit_test(test_load_file_null_byte),
        cmocka_unit_test(test_atomic_load_string),
        cmocka_unit_test(test_atomic_load_dir),
        cmocka_unit_test(test_load_default),
        cmocka_unit_test(test_eth_variants),
        cmocka_unit_test(test_binding_conditions),
        cmocka_unit_test(test_cond_or),
        cmocka_unit_test(test_error_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
