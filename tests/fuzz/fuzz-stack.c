/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Fuzz target: stack specs and labels, into exact-size buffers.
 *
 * Input: a stack spec, '\n', labels ("ip4.dst=192.0.2.1,..."), '\n', then
 * the payload.  The spec is compiled against the shipped protocols, the
 * packet (headers and payload) filled in a buffer of exactly its size.
 * Checks:
 * - every failure gives a message, and a failed fill writes nothing;
 * - the canonical spec compiles into the same stack, and the registry's
 *   cache gives the same stack;
 * - a packet one byte shorter than the stack is refused untouched;
 * - each field's text, read into a buffer of the size the API documents,
 *   sets the field back to the same bytes;
 * - ps_stack_set_length() and ps_stack_fix_checksums() change nothing in
 *   a packet filled without labels;
 * - the static C generator and a recast to another variable length. */

#include <config.h>
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static struct ps_registry *registry;

/* A registry whose stack cache the inputs fill, renewed now and then so
 * that its memory stays bounded. */
static struct ps_registry *cache_registry;
static unsigned int cache_uses;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    registry = ps_fuzz_load_registry();
    cache_registry = ps_fuzz_load_registry();
    return 0;
}

static void
check_same_stack(const struct ps_stack *a, const struct ps_stack *b,
                 const char *what)
{
    size_t size = ps_stack_size(a);

    if (ps_stack_size(b) != size
        || ps_stack_n_headers(b) != ps_stack_n_headers(a)
        || ps_stack_n_fields(b) != ps_stack_n_fields(a)
        || memcmp(ps_stack_template(a), ps_stack_template(b), size)
        || strcmp(ps_stack_spec(a), ps_stack_spec(b))) {
        ps_fuzz_fail("%s of %s gives another stack: %s (%zu bytes)", what,
                     ps_stack_spec(a), ps_stack_spec(b), ps_stack_size(b));
    }
}

static void
check_canonical(const struct ps_stack *stack)
{
    const char *spec = ps_stack_spec(stack);
    struct ps_stack *again;
    char *error = NULL;

    if (ps_stack_create(registry, spec, &again, &error)) {
        ps_fuzz_fail("canonical spec %s does not compile: %s", spec, error);
    }
    check_same_stack(stack, again, "the canonical spec");
    ps_stack_destroy(again);
}

static void
check_cache(const char *spec, const struct ps_stack *stack)
{
    const struct ps_stack *cached;
    char *error = NULL;

    if (++cache_uses >= 4096) {
        ps_registry_destroy(cache_registry);
        cache_registry = ps_fuzz_load_registry();
        cache_uses = 0;
    }
    if (ps_registry_stack(cache_registry, spec, &cached, &error)) {
        ps_fuzz_fail("spec %s compiles, but not through the registry's "
                     "cache: %s", spec, error);
    }
    check_same_stack(stack, cached, "the registry's cache");
}

/* Every field's text sets it back to the same bytes. */
static void
check_text_round_trip(const struct ps_stack *stack, const uint8_t *pkt)
{
    size_t size = ps_stack_size(stack);
    uint8_t *copy = malloc(size ? size : 1);

    for (size_t f = 0; f < ps_stack_n_fields(stack); f++) {
        const struct ps_field_info *fi = ps_stack_field(stack, f);
        size_t text_size = ps_fuzz_text_size(fi);
        size_t big_size = 2 * text_size + 64;
        char *text = malloc(text_size);
        char *big = malloc(big_size);
        char *error = NULL;

        if (ps_stack_get_text(stack, pkt, f, text, text_size)
            || ps_stack_get_text(stack, pkt, f, big, big_size)) {
            ps_fuzz_fail("%s: ps_stack_get_text() fails", fi->label);
        }
        if (strcmp(text, big)) {
            ps_fuzz_fail("%s: text \"%s\" needs more than the %zu bytes "
                         "documented", fi->label, big, text_size);
        }
        free(big);
        if (fi->bits) {
            memcpy(copy, pkt, size);
            enum ps_error e = ps_stack_set_text(stack, copy, fi->label, text,
                                                &error);
            if (e) {
                ps_fuzz_fail("%s: its own text \"%s\" is refused: %s",
                             fi->label, text, error);
            }
            if (memcmp(copy, pkt, size)) {
                ps_fuzz_fail("%s: its own text \"%s\" changes the packet",
                             fi->label, text);
            }
        }
        free(text);
    }
    free(copy);
}

static void
check_fill(const struct ps_stack *stack, const char *labels,
           const uint8_t *payload, size_t payload_len)
{
    size_t size = ps_stack_size(stack);
    size_t len = size + payload_len;
    uint8_t *pkt = malloc(len ? len : 1);
    uint8_t *copy = malloc(len ? len : 1);
    char *error = NULL;

    memset(pkt, 0x5a, size);
    memcpy(pkt + size, payload, payload_len);
    memcpy(copy, pkt, len);

    /* One byte short: refused, nothing written. */
    if (size) {
        if (ps_stack_fill(stack, pkt, size - 1, labels, &error)
            != PS_ERR_SHORT) {
            ps_fuzz_fail("stack %s of %zu bytes filled into %zu bytes",
                         ps_stack_spec(stack), size, size - 1);
        }
        free(error);
        error = NULL;
        if (memcmp(pkt, copy, len)) {
            ps_fuzz_fail("stack %s: a fill refused as short wrote bytes",
                         ps_stack_spec(stack));
        }
    }

    enum ps_error e = ps_stack_fill(stack, pkt, len, labels, &error);
    ps_fuzz_check_message(e, error, "ps_stack_fill()");
    if (e) {
        if (memcmp(pkt, copy, len)) {
            ps_fuzz_fail("stack %s, labels \"%s\": a failed fill wrote bytes",
                         ps_stack_spec(stack), labels);
        }
        free(error);
    } else {
        check_text_round_trip(stack, pkt);
    }

    /* Without labels, lengths and checksums are already right. */
    if (ps_stack_fill(stack, pkt, len, NULL, &error)) {
        ps_fuzz_fail("stack %s: fill without labels fails: %s",
                     ps_stack_spec(stack), error);
    }
    memcpy(copy, pkt, len);
    if (ps_stack_set_length(stack, copy, len)
        || ps_stack_fix_checksums(stack, copy, len)
        || memcmp(pkt, copy, len)) {
        ps_fuzz_fail("stack %s, %zu bytes: lengths or checksums of a fill "
                     "without labels are fixed again differently",
                     ps_stack_spec(stack), len);
    }
    free(copy);
    free(pkt);
}

static void
check_recast(const struct ps_stack *stack, const uint8_t *payload,
             size_t payload_len)
{
    size_t n = ps_stack_n_headers(stack);
    if (!n || !payload_len) {
        return;
    }

    const struct ps_stack *variant;
    char *error = NULL;
    size_t header = payload[0] % n;
    size_t length = payload_len > 1 ? payload[1] : 0;
    enum ps_error e = ps_registry_stack_variant(cache_registry, stack, header,
                                                length, &variant, &error);
    ps_fuzz_check_message(e, error, "ps_registry_stack_variant()");
    if (!e) {
        check_canonical(variant);
    }
    free(error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ps_fuzz_input in = { data, size };
    char *spec = ps_fuzz_take_line(&in);
    char *labels = ps_fuzz_take_line(&in);
    struct ps_stack *stack;
    char *error = NULL;

    enum ps_error e = ps_stack_create(registry, spec, &stack, &error);
    ps_fuzz_check_message(e, error, "ps_stack_create()");
    if (!e) {
        check_canonical(stack);
        check_cache(spec, stack);
        check_fill(stack, labels, in.data, in.size);
        check_recast(stack, in.data, in.size);

        char *name = ps_stack_default_name(stack);
        char *code = ps_stack_generate_c(stack, name);
        if (!code) {
            ps_fuzz_fail("stack %s: no C from its default name %s",
                         ps_stack_spec(stack), name);
        }
        free(code);
        free(name);
        ps_stack_destroy(stack);
    }
    free(error);
    free(labels);
    free(spec);
    return 0;
}
