/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Hostile input, as a switch gets it from controllers and from protocol
 * files loaded at run time: text that tries to get into generated C,
 * expressions deep enough to exhaust the stack, names that collide with
 * spec options, layouts that only break with some flags set, lengths that
 * wrap, lenient numbers and unbounded error messages.  Each test fails
 * without the fix it keeps. */

#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protostack/protostack.h"
#include "stack.h"
#include "test-common.h"

/* Loads definition 'text' (named "test.proto") into 'registry'; returns
 * the error code and the message in '*errorp'. */
static enum ps_error
load(const char *text, char **errorp)
{
    *errorp = NULL;
    return ps_registry_load_string(registry, "test.proto", text, errorp);
}

static void
assert_load_fails(const char *text, const char *needle1,
                  const char *needle2)
{
    char *error;
    if (load(text, &error) == PS_OK) {
        fail_msg("loaded: %s", text);
    }
    if (!strstr(error, needle1) || (needle2 && !strstr(error, needle2))) {
        fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", error, needle1,
                 needle2 ? needle2 : "");
    }
    free(error);
}

/* Generated C. */

/* Returns 'code' without its block comments. */
static char *
strip_comments(const char *code)
{
    char *out = malloc(strlen(code) + 1);
    char *q = out;
    for (const char *p = code; *p;) {
        if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            assert_non_null(end);
            p = end + 2;
        } else {
            *q++ = *p++;
        }
    }
    *q = '\0';
    return out;
}

/* A protocol whose texts try every way out of a C comment, and the same
 * protocol with plain texts. */
#define HOSTILE_PROTOCOL(NAME, DOC1, DOC2, DOC3, DOC4)                      \
    "protocol " NAME " \"" DOC1 "\" {\n"                                   \
    "    bit<8> kind = 1 \"" DOC2 "\";\n"                                  \
    "    bit<8> flag \"" DOC3 "\";\n"                                      \
    "    bit<16> len = length(rest) \"" DOC4 "\";\n"                       \
    "    bit<16> cksum = checksum(header) \"" DOC4 "\";\n"                 \
    "    bytes<2> extra if flag \"" DOC2 "\";\n"                           \
    "    variant big when kind == 2 \"" DOC3 "\" {\n"                      \
    "        bit<32> more \"" DOC1 "\";\n"                                 \
    "    }\n"                                                              \
    "}\n"

static const char hostile_text[] = HOSTILE_PROTOCOL(
    "hostile",
    "*/ int injected_global = 1; /*",
    "x ?" "?/",
    "%> } __attribute__((constructor)) static void injected_ctor(void) "
    "{ abort(); } <% /* \\\\",
    "\t\001\x7f\xc3\xa9 */\\\\ #define kind 0 //");
static const char plain_text[] = HOSTILE_PROTOCOL(
    "plainer", "a", "b", "c", "d");

/* Writes 'code' to a file in a temporary directory, compiles it into an
 * object, and checks that every symbol it defines is one of ours
 * (prefix "ps_", or 'name'), and that it has no constructor. */
static void
compile_and_check_symbols(const char *code, const char *prelude,
                          const char *name)
{
    char dir[] = "/tmp/ps-test-security-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *src, *cmd;
    assert_true(asprintf(&src, "%s/gen.c", dir) > 0);
    FILE *f = fopen(src, "w");
    assert_non_null(f);
    fputs(prelude, f);
    fputs(code, f);
    fclose(f);

    const char *srcdir = getenv("PS_TEST_SRCDIR");
    assert_true(asprintf(&cmd, "cd %s && cc -std=gnu11 -w -c -fPIC "
                         "-I%s/../include gen.c -o gen.o && nm "
                         "--defined-only gen.o | awk '{print $3}' "
                         "| grep -v -e '^ps_' -e '^%s' > bad-symbols; "
                         "objdump -h gen.o | grep -e init_array -e ctors "
                         "-e fini_array >> bad-symbols; test -s gen.o",
                         dir, srcdir ? srcdir : "tests", name) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);

    assert_true(asprintf(&cmd, "%s/bad-symbols", dir) > 0);
    f = fopen(cmd, "r");
    assert_non_null(f);
    char line[256];
    if (fgets(line, sizeof line, f)) {
        fail_msg("generated code defines \"%s\"", line);
    }
    fclose(f);
    free(cmd);

    assert_true(asprintf(&cmd, "rm -rf %s", dir) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(src);
}

static void
generate_both(const char *spec, char **static_code, char **jit_code)
{
    struct ps_stack *stack = NULL;
    struct ps_encap *encap = NULL;
    char *error = NULL;
    if (ps_stack_create(registry, spec, &stack, &error)
        || ps_encap_create(stack, NULL, PS_TIER_INTERP, &encap, &error)) {
        fail_msg("%s: %s", spec, error);
    }
    *static_code = ps_encap_generate_c(encap, "gen_stack");
    char *encap_code = ps_generate_jit_encap(encap);
    char *setters_code = ps_generate_jit_setters(stack);
    assert_true(asprintf(jit_code, "%s%s", encap_code, setters_code) > 0);
    free(encap_code);
    free(setters_code);
    assert_non_null(*static_code);
    assert_non_null(*jit_code);
    ps_encap_destroy(encap);
    ps_stack_destroy(stack);
}

static void
test_generated_c_is_inert(void **state)
{
    char *error;
    if (load(hostile_text, &error) || load(plain_text, &error)) {
        fail_msg("%s", error);
    }

    static const char *const specs[][2] = {
        { "eth,{hostile,flag=1}", "eth,{plainer,flag=1}" },
        { "eth,{hostile,subtype=big},udp", "eth,{plainer,subtype=big},udp" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
        char *hostile_static, *hostile_jit, *plain_static, *plain_jit;
        generate_both(specs[i][0], &hostile_static, &hostile_jit);
        generate_both(specs[i][1], &plain_static, &plain_jit);

        /* Outside comments, the code is the same but for the protocol's
         * name (of the same length): the texts changed only comments. */
        char *codes[][2] = {
            { hostile_static, plain_static },
            { hostile_jit, plain_jit },
        };
        for (size_t j = 0; j < 2; j++) {
            char *a = strip_comments(codes[j][0]);
            char *b = strip_comments(codes[j][1]);
            for (char *p = a; (p = strstr(p, "hostile")); p += 7) {
                memcpy(p, "plainer", 7);
            }
            assert_string_equal(a, b);
            free(a);
            free(b);

            /* No line of generated C carries a control character, a
             * backslash or a trigraph. */
            for (const char *p = codes[j][0]; *p; p++) {
                assert_true(*p == '\n' || (*p >= 0x20 && *p < 0x7f));
                assert_false(*p == '\\' && p[1] != 'n' && p[1] != '0');
                assert_false(p[0] == '?' && p[1] == '?');
            }
        }

        compile_and_check_symbols(hostile_static, "", "gen_stack");
        compile_and_check_symbols(hostile_jit,
                                  "#include \"protostack/bits.h\"\n"
                                  "#include \"protostack/types.h\"\n",
                                  "ps_jit_stack");
        free(hostile_static);
        free(hostile_jit);
        free(plain_static);
        free(plain_jit);
    }
}

static void
test_names_must_be_identifiers(void **state)
{
    struct ps_stack *stack;
    char *error = NULL;

    /* Field and protocol names come from the grammar's identifiers. */
    assert_load_fails("protocol bad \"x\" { bit<8> a*/b \"y\"; }",
                      "test.proto:1:", NULL);
    assert_load_fails("protocol bad*/x \"x\" { bit<8> a \"y\"; }",
                      "test.proto:1:", NULL);
    /* Header names from the spec must be identifiers. */
    assert_int_equal(ps_stack_create(registry, "eth,{ip4,name=a*/b}",
                                     &stack, &error), PS_ERR_SYNTAX);
    assert_non_null(strstr(error, "not an identifier"));
    free(error);
}

/* Spec options and field names. */

static void
test_flag_named_like_a_spec_option(void **state)
{
    assert_load_fails("protocol clash \"x\" {\n"
                      "    bit<8> length \"Flag\";\n"
                      "    bit<8> data if length \"Data\";\n"
                      "}\n", "test.proto:2:", "length");
    assert_load_fails("protocol clash \"x\" {\n"
                      "    bit<8> subtype \"Flag\";\n"
                      "    bit<8> data if subtype \"Data\";\n"
                      "}\n", "spec option", NULL);
    /* A field named so that controls nothing is fine (LACP's
     * "subtype"). */
    char *error;
    if (load("protocol noclash \"x\" { bit<8> length \"L\"; }", &error)) {
        fail_msg("%s", error);
    }
}

/* Expressions. */

static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t len = strlen(head) + strlen(unit) * n + strlen(tail);
    char *s = malloc(len + 1);
    char *p = stpcpy(s, head);
    for (size_t i = 0; i < n; i++) {
        p = stpcpy(p, unit);
    }
    strcpy(p, tail);
    return s;
}

static void
test_deep_expressions(void **state)
{
    static const char head[] = "protocol deep \"x\" { bit<8> n \"N\"; "
                               "bytes data[";
    static const char tail[] = "] \"Data\"; }";

    char *text = repeat(head, "(", 100000, "");
    assert_load_fails(text, "nested more than", NULL);
    free(text);

    text = repeat(head, "n+", 200000, "n");
    char *full = repeat(text, "", 0, tail);
    assert_load_fails(full, "more than", "terms");
    free(full);
    free(text);

    text = repeat(head, "n*", 200000, "1");
    full = repeat(text, "", 0, tail);
    assert_load_fails(full, "more than", "terms");
    free(full);
    free(text);

    /* Within the bounds, an expression still loads. */
    char *error;
    text = repeat(head, "(", 20, "n");
    full = repeat(text, ")", 20, tail);
    if (load(full, &error)) {
        fail_msg("%s", error);
    }
    free(full);
    free(text);
}

/* Layouts that break byte alignment only with some flags set. */
static void
test_alignment_checked_at_load(void **state)
{
    assert_load_fails("protocol odd \"x\" {\n"
                      "    bit<4> f \"Flag\";\n"
                      "    bit<4> low \"Low\";\n"
                      "    bit<4> half if f \"Half a byte\";\n"
                      "}\n", "test.proto:", "f=1");
    assert_load_fails("protocol odd \"x\" {\n"
                      "    bit<1> a \"Flag a\";\n"
                      "    bit<7> pad \"Pad\";\n"
                      "    bit<4> nib if a \"Nibble\";\n"
                      "    bit<4> nib2 if a \"Nibble\";\n"
                      "    bit<1> b \"Flag b\";\n"
                      "    bit<7> pad2 \"Pad\";\n"
                      "    bit<4> x if b \"Nibble\";\n"
                      "    ip4 addr \"Address\";\n"
                      "}\n", "test.proto:9:", "a=0, b=1");
}

/* Lengths that do not fit their fields. */
static void
test_lengths_do_not_wrap(void **state)
{
    struct ps_stack *stack;
    char *error = NULL;
    size_t len = 65553;
    uint8_t *pkt = calloc(1, len + 64);

    assert_int_equal(ps_stack_create(registry, "eth,ip4,udp", &stack,
                                     NULL), PS_OK);
    assert_int_equal(ps_stack_max_length(stack), 14 + 65535);
    assert_int_equal(ps_stack_fill(stack, pkt, len, NULL, &error),
                     PS_ERR_RANGE);
    assert_non_null(strstr(error, "ip4.len"));
    free(error);
    assert_int_equal(ps_stack_set_length(stack, pkt, len), PS_ERR_RANGE);
    assert_int_equal(ps_stack_fill(stack, pkt, 14 + 65535, NULL, NULL),
                     PS_OK);

    struct ps_encap *encap;
    assert_int_equal(ps_encap_create(stack, NULL, PS_TIER_INTERP, &encap,
                                     NULL), PS_OK);
    assert_null(ps_encap_push(encap, pkt + 64, len - 42, 64, 0));
    assert_non_null(ps_encap_push(encap, pkt + 64, 65535 + 14 - 42, 64, 0));
    ps_encap_destroy(encap);

    /* A length given as a label is not computed: the packet is what the
     * user asked for, and the dissector flags it. */
    assert_int_equal(ps_stack_fill(stack, pkt, len, "ip4.len=3", &error),
                     PS_OK);
    struct ps_dissection *d;
    assert_int_equal(ps_dissect(registry, "eth", pkt, len, &d, NULL), PS_OK);
    char *dump = ps_dissection_format(d, pkt, 0);
    assert_non_null(strstr(dump, "len=3 [bad length 3 (65539 bytes do not "
                           "fit in 16 bits)]"));
    free(dump);
    ps_dissection_destroy(d);
    ps_stack_destroy(stack);
    free(pkt);
}

/* Two checksums in one header, the first declared covering the second. */
static void
test_checksum_order_by_coverage(void **state)
{
    char *error;
    if (load("protocol twosum \"x\" {\n"
             "    bit<16> outer = checksum(header) \"Covers inner\";\n"
             "    bit<16> inner = checksum(payload) \"Payload\";\n"
             "    bit<32> tag = 0x12345678 \"Tag\";\n"
             "}\n", &error)) {
        fail_msg("%s", error);
    }
    struct ps_stack *stack;
    assert_int_equal(ps_stack_create(registry, "twosum", &stack, NULL),
                     PS_OK);
    uint8_t pkt[8 + 37];
    rng_fill(pkt, sizeof pkt);
    assert_int_equal(ps_stack_fill(stack, pkt, sizeof pkt, NULL, NULL),
                     PS_OK);
    /* The header, inner checksum included, sums to 0xffff. */
    uint32_t sum = 0;
    for (size_t i = 0; i < 8; i += 2) {
        sum += pkt[i] << 8 | pkt[i + 1];
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    assert_int_equal(sum, 0xffff);
    assert_int_equal(ps_stack_checksum_fixup(stack, 0)->field, 1);
    ps_stack_destroy(stack);

    /* Two that cover each other cannot be computed. */
    if (load("protocol loop \"x\" {\n"
             "    bit<16> a = checksum(header) \"A\";\n"
             "    bit<16> b = checksum(rest) \"B\";\n"
             "}\n", &error)) {
        fail_msg("%s", error);
    }
    assert_int_equal(ps_stack_create(registry, "loop", &stack, &error),
                     PS_ERR_LAYOUT);
    assert_non_null(strstr(error, "cover each other"));
    free(error);
}

/* Numbers. */
static void
test_strict_numbers(void **state)
{
    static const char *const bad[] = {
        "0x0x5", "010", "0x", "", "+5", "-1", "0b1", "1e3", "5h",
        "18446744073709551616", "0x10000000000000000",
    };
    struct ps_stack *stack;
    uint8_t pkt[64];

    assert_int_equal(ps_stack_create(registry, "eth,ip4,udp", &stack,
                                     NULL), PS_OK);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *labels, *error = NULL;
        assert_true(asprintf(&labels, "udp.src=%s", bad[i]) > 0);
        if (ps_stack_fill(stack, pkt, sizeof pkt, labels, &error)
            == PS_OK) {
            fail_msg("accepted %s", labels);
        }
        free(error);
        free(labels);
    }
    assert_int_equal(ps_stack_fill(stack, pkt, sizeof pkt,
                                   "udp.src=0,udp.dst=0x0,ip4.ttl=0xff",
                                   NULL), PS_OK);
    assert_int_equal(ps_stack_fill(stack, pkt, sizeof pkt,
                                   "udp.src=65535,udp.dst=0XFFFF", NULL),
                     PS_OK);
    ps_stack_destroy(stack);
}

/* Error messages. */
static void
test_error_messages_bounded(void **state)
{
    size_t n = 1 << 20;
    char *spec = repeat("eth,", "a", n, "");
    struct ps_stack *stack;
    char *error = NULL;

    assert_int_equal(ps_stack_create(registry, spec, &stack, &error),
                     PS_ERR_NO_PROTOCOL);
    assert_true(strlen(error) < 400);
    assert_non_null(strstr(error, "aaa...\""));
    free(error);
    free(spec);

    assert_int_not_equal(ps_stack_create(registry, "eth,\nip4\x01,udp",
                                         &stack, &error), PS_OK);
    assert_null(strchr(error, '\n'));
    assert_null(strchr(error, '\x01'));
    assert_non_null(strstr(error, "\\n"));
    free(error);

    assert_load_fails("protocol p \"x\" {\n bit<8> \x01 \"y\"; }",
                      "\\x01", NULL);
}

/* Parse errors from several threads at once keep their own words. */
struct parse_job {
    int id;
    bool ok;
};

static void *
parse_thread(void *job_)
{
    struct parse_job *job = job_;
    char *text;
    char want[64];

    assert_true(asprintf(&text, "protocol p%d \"x\" { bit<8> f%d = "
                         "bogus%d \"y\"; }", job->id, job->id,
                         job->id) > 0);
    snprintf(want, sizeof want, "found \"bogus%d\"", job->id);
    job->ok = true;
    for (int i = 0; i < 2000 && job->ok; i++) {
        struct ps_registry *reg = ps_registry_create();
        char *error = NULL;
        job->ok = (ps_registry_load_string(reg, "t.proto", text, &error)
                   && strstr(error, want));
        free(error);
        ps_registry_destroy(reg);
    }
    free(text);
    return NULL;
}

static void
test_parse_errors_per_thread(void **state)
{
    pthread_t threads[4];
    struct parse_job jobs[4];

    for (int i = 0; i < 4; i++) {
        jobs[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, parse_thread,
                                        &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_true(jobs[i].ok);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generated_c_is_inert,
                                        setup_registry, teardown_registry),
        cmocka_unit_test_setup_teardown(test_names_must_be_identifiers,
                                        setup_registry, teardown_registry),
        cmocka_unit_test_setup_teardown(test_flag_named_like_a_spec_option,
                                        setup_registry, teardown_registry),
        cmocka_unit_test_setup_teardown(test_deep_expressions,
                                        setup_registry, teardown_registry),
        cmocka_unit_test_setup_teardown(test_alignment_checked_at_load,
                                        setup_registry, teardown_registry),
        cmocka_unit_test_setup_teardown(test_lengths_do_not_wrap,
                                        setup_registry, teardown_registry),
        cmocka_unit_test_setup_teardown(test_checksum_order_by_coverage,
                                        setup_registry, teardown_registry),
        cmocka_unit_test_setup_teardown(test_strict_numbers,
                                        setup_registry, teardown_registry),
        cmocka_unit_test_setup_teardown(test_error_messages_bounded,
                                        setup_registry, teardown_registry),
        cmocka_unit_test(test_parse_errors_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
