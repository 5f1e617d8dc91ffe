/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Helpers shared by the fuzz targets (see fuzz.h). */

#include <config.h>
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ps_fuzz_fail(const char *format, ...)
{
    va_list args;

    fputs("fuzz check failed: ", stderr);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    abort();
}

static void *
xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        ps_fuzz_fail("out of memory (%zu bytes)", size);
    }
    return p;
}

const char *
ps_fuzz_protocols_dir(void)
{
    const char *dir = getenv("PROTOSTACK_DATADIR");
    return dir && *dir ? dir : PS_FUZZ_PROTOCOLS_DIR;
}

struct ps_registry *
ps_fuzz_load_registry(void)
{
    struct ps_registry *reg = ps_registry_create();
    char *error = NULL;

    if (ps_registry_load_default(reg, &error)) {
        ps_fuzz_fail("loading the shipped protocols: %s", error);
    }
    return reg;
}

char *
ps_fuzz_take_line(struct ps_fuzz_input *in)
{
    const uint8_t *nl = memchr(in->data, '\n', in->size);
    size_t len = nl ? (size_t) (nl - in->data) : in->size;
    char *s = xmalloc(len + 1);

    memcpy(s, in->data, len);
    s[len] = '\0';
    len += nl != NULL;
    in->data += len;
    in->size -= len;
    return s;
}

uint32_t
ps_fuzz_take_u32(struct ps_fuzz_input *in)
{
    uint32_t value = 0;

    for (int i = 0; i < 4; i++) {
        value <<= 8;
        if (in->size) {
            value |= *in->data++;
            in->size--;
        }
    }
    return value;
}

size_t
ps_fuzz_text_size(const struct ps_field_info *fi)
{
    switch (fi->type) {
    case PS_FIELD_UINT:
        return sizeof "18446744073709551615";
    case PS_FIELD_MAC:
        return PS_MAC_STRLEN;
    case PS_FIELD_IP4:
        return PS_IP4_STRLEN;
    case PS_FIELD_IP6:
        return PS_IP6_STRLEN;
    case PS_FIELD_BYTES:
    default:
        return 3 * (fi->bits / 8) + 3;
    }
}

void
ps_fuzz_check_message(enum ps_error error, const char *message,
                      const char *what)
{
    if (error != PS_OK && !message) {
        ps_fuzz_fail("%s failed with %s but gave no message", what,
                     ps_error_name(error));
    }
}

/* Returns a new packet of 'size' header bytes, filled with a pattern,
 * followed by the payload, in a buffer of exactly its size. */
static uint8_t *
new_packet(size_t size, const uint8_t *payload, size_t payload_len)
{
    uint8_t *pkt = xmalloc(size + payload_len);

    memset(pkt, 0xa5, size);
    if (payload_len) {
        memcpy(pkt + size, payload, payload_len);
    }
    return pkt;
}

static void
compare(const char *what, const struct ps_stack *stack, const char *labels,
        const uint8_t *a, const uint8_t *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (a[i] != b[i]) {
            ps_fuzz_fail("%s: stack %s, labels \"%s\", %zu bytes: byte %zu "
                         "is %#x, expected %#x", what, ps_stack_spec(stack),
                         labels ? labels : "", len, i, a[i], b[i]);
        }
    }
}

/* The text of the label that gives the entropy field the value that
 * ps_stack_set_entropy() writes for 'hash', or NULL if the stack has no
 * entropy field. */
static char *
entropy_label(const struct ps_stack *stack, uint32_t hash)
{
    int field = ps_stack_entropy_field(stack);
    if (field < 0) {
        return NULL;
    }

    const struct ps_field_info *fi = ps_stack_field(stack, field);
    size_t size = ps_stack_size(stack);
    uint8_t *scratch = xmalloc(size);
    size_t text_size = ps_fuzz_text_size(fi);
    char *text = xmalloc(text_size);

    memset(scratch, 0, size);
    ps_stack_set_entropy(stack, scratch, hash);
    ps_stack_get_text(stack, scratch, field, text, text_size);

    size_t label_size = strlen(fi->label) + 1 + strlen(text) + 1;
    char *label = xmalloc(label_size);
    snprintf(label, label_size, "%s=%s", fi->label, text);
    free(text);
    free(scratch);
    return label;
}

/* Fills 'pkt' as the encapsulation should: ps_stack_fill() with 'labels'
 * and, unless they give it, the entropy field's value for 'hash'. */
static void
fill_as_encap(const struct ps_stack *stack, const char *labels,
              uint8_t *pkt, size_t len, uint32_t hash)
{
    char *entropy = entropy_label(stack, hash);
    char *error = NULL;
    enum ps_error e;

    if (entropy) {
        size_t size = (labels ? strlen(labels) : 0) + 1 + strlen(entropy) + 1;
        char *all = xmalloc(size);
        snprintf(all, size, "%s%s%s", labels ? labels : "",
                 labels && *labels ? "," : "", entropy);
        e = ps_stack_fill(stack, pkt, len, all, &error);
        free(all);
        if (e == PS_ERR_DUPLICATE) {
            /* The labels give the entropy field: it is constant. */
            free(error);
            error = NULL;
            e = ps_stack_fill(stack, pkt, len, labels, &error);
        }
    } else {
        e = ps_stack_fill(stack, pkt, len, labels, &error);
    }
    if (e) {
        ps_fuzz_fail("stack %s, labels \"%s\" (entropy %s): ps_encap_create()"
                     " took the labels, ps_stack_fill() fails: %s",
                     ps_stack_spec(stack), labels ? labels : "",
                     entropy ? entropy : "none", error ? error : "");
    }
    free(entropy);
}

void
ps_fuzz_check_encap(const struct ps_stack *stack, const char *labels,
                    const struct ps_encap *encap,
                    const uint8_t *payload, size_t payload_len,
                    uint32_t hash)
{
    size_t size = ps_stack_size(stack);
    size_t len = size + payload_len;
    uint8_t *a = new_packet(size, payload, payload_len);
    uint8_t *b = new_packet(size, payload, payload_len);
    uint8_t *c = new_packet(size, payload, payload_len);

    if (ps_encap_size(encap) != size) {
        ps_fuzz_fail("stack %s: encapsulation of %zu bytes, stack of %zu",
                     ps_stack_spec(stack), ps_encap_size(encap), size);
    }
    ps_encap_apply(encap, a, len, hash);
    fill_as_encap(stack, labels, b, len, hash);
    compare("ps_encap_apply() against ps_stack_fill()", stack, labels,
            a, b, len);

    /* One byte of headroom short: nothing written. */
    if (size) {
        memcpy(b, c, len);
        if (ps_encap_push(encap, c + size, payload_len, size - 1, hash)) {
            ps_fuzz_fail("stack %s: ps_encap_push() into %zu bytes of "
                         "headroom for %zu bytes of headers",
                         ps_stack_spec(stack), size - 1, size);
        }
        compare("ps_encap_push() with short headroom", stack, labels,
                c, b, len);
    }
    if (ps_encap_push(encap, c + size, payload_len, size, hash) != c) {
        ps_fuzz_fail("stack %s: ps_encap_push() with exact headroom did not "
                     "return the start of the buffer", ps_stack_spec(stack));
    }
    compare("ps_encap_push() against ps_encap_apply()", stack, labels,
            c, a, len);
    free(c);
    free(b);
    free(a);
}

void
ps_fuzz_check_same_encap(const struct ps_encap *x, const struct ps_encap *y,
                         const uint8_t *payload, size_t payload_len,
                         uint32_t hash)
{
    const struct ps_stack *stack = ps_encap_stack(x);
    size_t size = ps_stack_size(stack);
    size_t len = size + payload_len;
    uint8_t *a = new_packet(size, payload, payload_len);
    uint8_t *b = new_packet(size, payload, payload_len);

    ps_encap_apply(x, a, len, hash);
    ps_encap_apply(y, b, len, hash);
    compare("two tiers", stack, NULL, b, a, len);
    free(b);
    free(a);
}
