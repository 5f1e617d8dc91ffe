/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The C generator: writes, for one compiled stack, a header with a packed
 * struct and 'static inline' accessors, fill, set-length and checksum
 * functions.  Offsets and widths are constants in the output, so each
 * accessor compiles to the loads, shifts and stores of hand-written code.
 * The generated functions follow the same fix-up plan as the interpreter
 * in fill.c and give the same bytes. */

#include <config.h>
#include "stack.h"

#include <stdlib.h>
#include <string.h>
#include "util.h"

/* Text from protocol files and specs (descriptions, rule texts, specs,
 * labels) is written into the generated C only through this function,
 * which returns a copy (malloc()'d) that is inert inside a block comment:
 * printable ASCII only (no newline that could end a preprocessor line,
 * no backslash that could splice lines), no comment delimiters, no "??"
 * that could begin a trigraph, and at most 200 bytes. */
static char *
comment_text(const char *text)
{
    struct ps_ds ds = PS_DS_INITIALIZER;
    for (const char *p = text; *p && ds.len < 200; p++) {
        char c = *p;
        char prev = ds.len ? ds.s[ds.len - 1] : '\0';
        if (c < 0x20 || c > 0x7e || c == '\\') {
            c = '_';
        }
        if ((prev == '*' && c == '/') || (prev == '/' && c == '*')
            || (prev == '?' && c == '?')) {
            ps_ds_put_char(&ds, ' ');
        }
        ps_ds_put_char(&ds, c);
    }
    return ps_ds_steal(&ds);
}

/* True if every name that the generated code uses as a C identifier (the
 * stack's headers and fields) is one. */
static bool
names_are_identifiers(const struct ps_stack *stack)
{
    for (size_t i = 0; i < stack->n_headers; i++) {
        if (!ps_is_identifier(stack->headers[i].info.name)) {
            return false;
        }
    }
    for (size_t i = 0; i < stack->n_fields; i++) {
        if (!ps_is_identifier(stack->fields[i].info.name)) {
            return false;
        }
    }
    return true;
}

static const char *
uint_type(size_t bits)
{
    return (bits <= 8 ? "uint8_t" : bits <= 16 ? "uint16_t"
            : bits <= 32 ? "uint32_t" : "uint64_t");
}

/* Writes an expression for the 'nbytes' bytes at 'offset' of 'b' as one
 * big-endian integer. */
static void
put_bytes_expr(struct ps_ds *ds, size_t offset, size_t nbytes)
{
    for (size_t i = 0; i < nbytes; i++) {
        size_t shift = 8 * (nbytes - 1 - i);
        if (i) {
            ps_ds_put_cstr(ds, " | ");
        }
        if (shift) {
            ps_ds_put_format(ds, "(uint64_t) b[%zu] << %zu", offset + i,
                             shift);
        } else {
            ps_ds_put_format(ds, "b[%zu]", offset + i);
        }
    }
}

static bool
is_plain_word(size_t bit, size_t bits)
{
    return !(bit % 8) && (bits == 8 || bits == 16 || bits == 32
                          || bits == 64);
}

/* Writes the body of an integer getter: "return ...;". */
static void
put_uint_get(struct ps_ds *ds, size_t bit, size_t bits)
{
    size_t offset = bit / 8, shift = bit % 8;
    size_t nbytes = (shift + bits + 7) / 8;
    size_t tail = nbytes * 8 - shift - bits;

    if (is_plain_word(bit, bits)) {
        if (bits == 8) {
            ps_ds_put_format(ds, "    return b[%zu];\n", offset);
        } else {
            ps_ds_put_format(ds, "    return ps_load_be%zu(b + %zu);\n",
                             bits, offset);
        }
    } else if (nbytes > 8) {
        ps_ds_put_format(ds, "    return ps_bits_get(b, %zu, %zu);\n", bit,
                         bits);
    } else {
        ps_ds_put_cstr(ds, "    return (");
        put_bytes_expr(ds, offset, nbytes);
        ps_ds_put_format(ds, ") >> %zu & UINT64_C(0x%"PRIx64");\n", tail,
                         bits == 64 ? UINT64_MAX
                         : (UINT64_C(1) << bits) - 1);
    }
}

/* Writes the body of an integer setter of 'v'. */
static void
put_uint_set(struct ps_ds *ds, size_t bit, size_t bits, const char *v,
             size_t stack_size)
{
    size_t offset = bit / 8, shift = bit % 8;
    size_t nbytes = (shift + bits + 7) / 8;
    size_t tail = nbytes * 8 - shift - bits;

    if (is_plain_word(bit, bits)) {
        if (bits == 8) {
            ps_ds_put_format(ds, "    b[%zu] = %s;\n", offset, v);
        } else {
            ps_ds_put_format(ds, "    ps_store_be%zu(b + %zu, %s);\n", bits,
                             offset, v);
        }
        return;
    }
    if (nbytes > 8) {
        ps_ds_put_format(ds, "    ps_bits_set(b, %zu, %zu, %s);\n", bit,
                         bits, v);
        return;
    }
    uint64_t mask = (bits == 64 ? UINT64_MAX
                     : (UINT64_C(1) << bits) - 1) << tail;
    if (!shift && bits == 24 && offset + 4 <= stack_size) {
        /* One 32-bit store that writes back the byte after the field, which
         * the stack holds: fewer instructions than three byte stores, and
         * the caller's masking of 'v' to 24 bits becomes dead code. */
        ps_ds_put_format(ds, "    ps_store_be32(b + %zu, (uint32_t) %s << 8 "
                         "| b[%zu]);\n", offset, v, offset + 3);
        return;
    }
    if (!shift && bits % 8 == 0) {
        /* Whole bytes, unusual width (24 bits): no merge needed. */
        for (size_t i = 0; i < nbytes; i++) {
            ps_ds_put_format(ds, "    b[%zu] = (uint64_t) %s >> %zu;\n",
                             offset + i, v, 8 * (nbytes - 1 - i));
        }
        return;
    }
    ps_ds_put_cstr(ds, "    uint64_t old = ");
    put_bytes_expr(ds, offset, nbytes);
    ps_ds_put_format(ds, ";\n    uint64_t new = (old & ~UINT64_C(0x%"PRIx64
                     ")) | ((uint64_t) %s << %zu & UINT64_C(0x%"PRIx64
                     "));\n", mask, v, tail, mask);
    for (size_t i = 0; i < nbytes; i++) {
        /* Only bytes the field touches are written back. */
        ps_ds_put_format(ds, "    b[%zu] = new >> %zu;\n", offset + i,
                         8 * (nbytes - 1 - i));
    }
}

static void
put_accessors(struct ps_ds *ds, const struct ps_stack *stack,
              const char *name, const struct ps_field_info *fi)
{
    const struct ps_header_info *h = &stack->headers[fi->header].info;
    size_t offset = fi->bit_offset / 8;
    size_t n = fi->bits / 8;
    char *fn = ps_xasprintf("%s_%s_%s", name, h->name, fi->name);

    char *label = comment_text(fi->label);
    char *doc = comment_text(fi->doc);
    char *rule = comment_text(fi->rule_text);
    ps_ds_put_format(ds, "\n/* %s: %s (%s). */\n", label, doc, rule);
    free(label);
    free(doc);
    free(rule);
    switch (fi->type) {
    case PS_FIELD_UINT:
        ps_ds_put_format(ds, "static inline %s\n%s_get(const struct %s *p)\n"
                         "{\n    const uint8_t *b = (const uint8_t *) p;\n",
                         uint_type(fi->bits), fn, name);
        put_uint_get(ds, fi->bit_offset, fi->bits);
        ps_ds_put_format(ds, "}\n\n/* Stores the low %zu bits of 'v'. */\n"
                         "static inline void\n%s_set(struct %s *p, %s v)\n"
                         "{\n    uint8_t *b = (uint8_t *) p;\n", fi->bits,
                         fn, name, uint_type(fi->bits));
        put_uint_set(ds, fi->bit_offset, fi->bits, "v", stack->size);
        ps_ds_put_cstr(ds, "}\n");
        break;
    case PS_FIELD_IP4:
        ps_ds_put_format(ds, "static inline uint32_t\n%s_get(const struct %s "
                         "*p)\n{\n    return ps_load_be32((const uint8_t *) "
                         "p + %zu);\n}\n\n/* 'addr' in host byte order. */\n"
                         "static inline void\n%s_set(struct %s *p, uint32_t "
                         "addr)\n{\n    ps_store_be32((uint8_t *) p + %zu, "
                         "addr);\n}\n", fn, name, offset, fn, name, offset);
        break;
    case PS_FIELD_MAC:
    case PS_FIELD_IP6: {
        const char *type = fi->type == PS_FIELD_MAC ? "ps_mac" : "ps_ip6";
        ps_ds_put_format(ds, "static inline void\n%s_get(const struct %s *p, "
                         "struct %s *out)\n{\n    memcpy(out->b, "
                         "(const uint8_t *) p + %zu, %zu);\n}\n\n"
                         "static inline void\n%s_set(struct %s *p, "
                         "const struct %s *v)\n{\n    memcpy((uint8_t *) p "
                         "+ %zu, v->b, %zu);\n}\n", fn, name, type, offset, n,
                         fn, name, type, offset, n);
        break;
    }
    case PS_FIELD_BYTES:
        ps_ds_put_format(ds, "#define %s_SIZE %zu\n\n"
                         "static inline uint8_t *\n%s_data(struct %s *p)\n"
                         "{\n    return (uint8_t *) p + %zu;\n}\n\n"
                         "/* Copies %s_SIZE bytes from 'data'. */\n"
                         "static inline void\n%s_set(struct %s *p, "
                         "const void *data)\n{\n    memcpy((uint8_t *) p + "
                         "%zu, data, %zu);\n}\n", fn, n, fn, name, offset, fn,
                         fn, name, offset, n);
        break;
    }
    free(fn);
}

/* Writes the members of one header's struct.  Fields that share bytes
 * become one byte array named after all of them. */
static void
put_header_struct(struct ps_ds *ds, const struct ps_stack *stack,
                  const char *name, const struct ps_stack_header *h)
{
    char *doc = comment_text(h->info.doc);
    ps_ds_put_format(ds, "\n/* %s: %s, %zu bytes. */\nstruct %s_%s {\n",
                     h->info.name, doc, h->info.size, name, h->info.name);
    free(doc);
    size_t i = 0;
    while (i < h->n_fields) {
        const struct ps_field_info *first;
        first = &stack->fields[h->first_field + i].info;
        size_t start = first->bit_offset;
        size_t end = start + first->bits;
        struct ps_ds member = PS_DS_INITIALIZER;
        ps_ds_put_cstr(&member, first->name);
        i++;
        while (end % 8 && i < h->n_fields) {
            const struct ps_field_info *fi;
            fi = &stack->fields[h->first_field + i].info;
            ps_ds_put_format(&member, "_%s", fi->name);
            end = fi->bit_offset + fi->bits;
            i++;
        }
        size_t bytes = (end - start) / 8;
        if (bytes) {
            ps_ds_put_format(ds, "    uint8_t %s[%zu];\n", ps_ds_cstr(&member),
                             bytes);
        }
        ps_ds_destroy(&member);
    }
    if (!h->info.size) {
        ps_ds_put_cstr(ds, "    uint8_t empty_[0];\n");
    }
    ps_ds_put_cstr(ds, "} __attribute__((__packed__));\n");
}

/* Writes statements that add the 'len' bytes at 'offset' of 'b', as
 * big-endian 16-bit words, to 'sum': one load per word for a short span,
 * so that the compiler need not unroll a loop, else ps_csum_add(). */
static void
put_sum_bytes(struct ps_ds *ds, size_t offset, size_t len)
{
    if (len > 64) {
        ps_ds_put_format(ds, "        sum = ps_csum_add(sum, b + %zu, %zu);\n",
                         offset, len);
        return;
    }
    for (; len >= 4; offset += 4, len -= 4) {
        ps_ds_put_format(ds, "        sum += ps_load_be32(b + %zu);\n",
                         offset);
    }
    if (len >= 2) {
        ps_ds_put_format(ds, "        sum += ps_load_be16(b + %zu);\n",
                         offset);
        offset += 2;
        len -= 2;
    }
    if (len) {
        ps_ds_put_format(ds, "        sum += (uint64_t) b[%zu] << 8;\n",
                         offset);
    }
}

/* Like put_sum_bytes() for 'len' bytes of the stack's headers at
 * 'offset' (even, from the span's start), but loading each field, or run
 * of bit fields that fill whole bytes, by itself: the loads then match
 * the stores that the template copy, the setters and set_length() just
 * made, and the CPU forwards them from its store buffer instead of
 * waiting for the stores to reach the cache (a load that spans two
 * stores cannot be forwarded). */
static void
put_sum_fields(struct ps_ds *ds, const struct ps_stack *stack, size_t offset,
               size_t len)
{
    size_t end = offset + len;
    size_t pos = offset;

    if (len > 64 || end > stack->size) {
        put_sum_bytes(ds, offset, len);
        return;
    }
    for (size_t i = 0; i < stack->n_fields && pos < end; i++) {
        const struct ps_field_info *fi = &stack->fields[i].info;
        size_t field_end = (fi->bit_offset + fi->bits) / 8;
        if ((fi->bit_offset + fi->bits) % 8 || field_end <= pos) {
            /* Not the end of a run of whole bytes, or before 'pos'. */
            continue;
        }
        size_t run_end = field_end < end ? field_end : end;
        if ((pos - offset) % 2) {
            /* The run starts in the low byte of a word. */
            ps_ds_put_format(ds, "        sum += b[%zu];\n", pos);
            pos++;
        }
        put_sum_bytes(ds, pos, run_end - pos);
        pos = run_end;
    }
    if (pos < end) {
        put_sum_bytes(ds, pos, end - pos);
    }
}

/* Returns true if every item of the pseudo-header of 'c' can be added to
 * the sum where it is, without copying the pseudo-header: byte runs that
 * start on a 16-bit word and are whole words, values of at most 4 bytes
 * (an n-byte value that ends on a word boundary adds itself, one that
 * ends in the middle of a word adds itself times 256, modulo 0xffff). */
static bool
pseudo_is_direct(const struct ps_checksum_fixup *c)
{
    size_t pos = 0;

    for (size_t i = 0; i < c->n_pseudo; i++) {
        const struct ps_pseudo_item *pi = &c->pseudo[i];
        size_t n = pi->bits / 8;

        if (pi->bits % 8
            || (pi->kind == PS_PSEUDO_BYTES && (pos % 2 || n % 2))
            || (pi->kind != PS_PSEUDO_BYTES && pi->kind != PS_PSEUDO_ZERO
                && n > 4)) {
            return false;
        }
        pos += n;
    }
    return true;
}

/* The C expression of where the bytes of pseudo-header item 'pi' are:
 * its field, or the final destination of a source route in the packet
 * (malloc()'d). */
static char *
route_expr(const struct ps_pseudo_item *pi)
{
    if (!pi->route_types) {
        return ps_xasprintf("b + %zu", pi->offset);
    }
    return ps_xasprintf("ps_route_last(b + %zu, %zu, UINT32_C(0x%"PRIx32"), "
                        "%zu, b + %zu)", pi->route_offset, pi->route_len,
                        pi->route_types, (size_t) pi->bits / 8, pi->offset);
}

/* Writes the pseudo-header of 'c' as additions to 'sum' (see
 * pseudo_is_direct()). */
static void
put_pseudo_direct(struct ps_ds *ds, const struct ps_checksum_fixup *c)
{
    size_t pos = 0, run_offset = 0, run_len = 0;

    for (size_t i = 0; i < c->n_pseudo; i++) {
        const struct ps_pseudo_item *pi = &c->pseudo[i];
        size_t n = pi->bits / 8;

        if (pi->kind == PS_PSEUDO_BYTES && pi->route_types) {
            put_sum_bytes(ds, run_offset, run_len);
            run_len = 0;
            char *at = route_expr(pi);
            ps_ds_put_format(ds, "        sum = ps_csum_add(sum, %s, %zu);\n",
                             at, n);
            free(at);
        } else if (pi->kind == PS_PSEUDO_BYTES) {
            /* Adjacent fields (ip4.src, ip4.dst) make one run. */
            if (run_len && pi->offset == run_offset + run_len) {
                run_len += n;
            } else {
                put_sum_bytes(ds, run_offset, run_len);
                run_offset = pi->offset;
                run_len = n;
            }
        } else if (pi->kind != PS_PSEUDO_ZERO) {
            put_sum_bytes(ds, run_offset, run_len);
            run_len = 0;

            char *v;
            if (pi->kind == PS_PSEUDO_CONST) {
                v = ps_xasprintf("UINT64_C(%"PRIu64")", pi->value);
            } else if (pi->kind == PS_PSEUDO_PROTO) {
                struct ps_ds get = PS_DS_INITIALIZER;
                put_uint_get(&get, pi->offset, pi->proto_bits);
                /* "    return EXPR;\n" -> "(EXPR)". */
                const char *s = ps_ds_cstr(&get) + strlen("    return ");
                v = ps_xasprintf("(%.*s)", (int) (strlen(s) - 2), s);
                ps_ds_destroy(&get);
            } else {
                v = ps_xstrdup("len");
            }
            if (pi->kind == PS_PSEUDO_PROTO && pi->proto_bits <= 8 * n) {
                ps_ds_put_format(ds, "        sum += (uint64_t) %s", v);
            } else {
                ps_ds_put_format(ds, "        sum += (uint64_t) (%s & "
                                 "UINT64_C(0x%"PRIx64"))", v,
                                 (UINT64_C(1) << (8 * n)) - 1);
            }
            ps_ds_put_cstr(ds, (pos + n) % 2 ? " << 8;\n" : ";\n");
            free(v);
        }
        pos += n;
    }
    put_sum_bytes(ds, run_offset, run_len);
}

/* Writes the pseudo-header of 'c' copied into a buffer 'ph', then summed:
 * for pseudo-headers that pseudo_is_direct() refuses. */
static void
put_pseudo_buffer(struct ps_ds *ds, const struct ps_checksum_fixup *c)
{
    size_t total = 0;
    for (size_t i = 0; i < c->n_pseudo; i++) {
        total += c->pseudo[i].bits / 8;
    }
    ps_ds_put_format(ds, "        uint8_t ph[%zu];\n", total);
    size_t pos = 0;
    for (size_t i = 0; i < c->n_pseudo; i++) {
        const struct ps_pseudo_item *pi = &c->pseudo[i];
        size_t n = pi->bits / 8;
        if (pi->kind == PS_PSEUDO_BYTES) {
            char *at = route_expr(pi);
            ps_ds_put_format(ds, "        memcpy(ph + %zu, %s, %zu);\n",
                             pos, at, n);
            free(at);
        } else if (pi->kind == PS_PSEUDO_ZERO) {
            ps_ds_put_format(ds, "        memset(ph + %zu, 0, %zu);\n",
                             pos, n);
        } else {
            const char *v = "len";
            char *proto = NULL;
            if (pi->kind == PS_PSEUDO_CONST) {
                proto = ps_xasprintf("UINT64_C(%"PRIu64")", pi->value);
                v = proto;
            } else if (pi->kind == PS_PSEUDO_PROTO) {
                struct ps_ds get = PS_DS_INITIALIZER;
                put_uint_get(&get, pi->offset, pi->proto_bits);
                /* "    return EXPR;\n" -> "(EXPR)". */
                const char *s = ps_ds_cstr(&get) + strlen("    return ");
                proto = ps_xasprintf("(uint64_t) (%.*s)",
                                     (int) (strlen(s) - 2), s);
                ps_ds_destroy(&get);
                v = proto;
            }
            for (size_t j = 0; j < n; j++) {
                ps_ds_put_format(ds, "        ph[%zu] = (uint64_t) %s >> "
                                 "%zu;\n", pos + j, v, 8 * (n - 1 - j));
            }
            free(proto);
        }
        pos += n;
    }
    ps_ds_put_format(ds, "        sum = ps_csum_add(sum, ph, %zu);\n",
                     total);
}

/* Writes the computation of checksum 'c'.  The checksum field itself is
 * left out of the sum rather than zeroed first and summed: a load that
 * spans the fresh 2-byte store of zero cannot be forwarded from it and
 * stalls. */
static void
put_checksum(struct ps_ds *ds, const struct ps_stack *stack,
             const struct ps_checksum_fixup *c, bool named)
{
    const struct ps_field_info *fi = &stack->fields[c->field].info;
    size_t offset = fi->bit_offset / 8;
    size_t end = c->end ? c->end : stack->size;
    bool inside = offset >= c->start && offset + 2 <= end;
    bool skip = inside && (offset - c->start) % 2 == 0;
    bool direct = pseudo_is_direct(c);

    bool need_len = !c->end;
    for (size_t i = 0; i < c->n_pseudo; i++) {
        need_len |= c->pseudo[i].kind == PS_PSEUDO_LENGTH;
    }

    if (named) {
        char *label = comment_text(fi->label);
        ps_ds_put_format(ds, "    /* %s. */\n", label);
        free(label);
    }
    ps_ds_put_cstr(ds, "    {\n");
    if (inside && !skip) {
        ps_ds_put_format(ds, "        b[%zu] = b[%zu] = 0;\n", offset,
                         offset + 1);
    }
    if (need_len) {
        if (c->end) {
            ps_ds_put_format(ds, "        size_t len = %zu;\n",
                             c->end - c->start);
        } else {
            ps_ds_put_format(ds, "        size_t len = pkt_len - %zu;\n",
                             c->start);
        }
    }
    ps_ds_put_cstr(ds, "        uint64_t sum = 0;\n");
    if (skip) {
        put_sum_fields(ds, stack, c->start, offset - c->start);
        if (c->end) {
            put_sum_fields(ds, stack, offset + 2, c->end - offset - 2);
        } else {
            ps_ds_put_format(ds, "        sum = ps_csum_add(sum, b + %zu, "
                             "len - %zu);\n", offset + 2,
                             offset + 2 - c->start);
        }
    } else if (c->end) {
        put_sum_fields(ds, stack, c->start, c->end - c->start);
    } else {
        ps_ds_put_format(ds, "        sum = ps_csum_add(sum, b + %zu, "
                         "len);\n", c->start);
    }
    if (c->n_pseudo) {
        if (direct) {
            put_pseudo_direct(ds, c);
        } else {
            put_pseudo_buffer(ds, c);
        }
    }
    ps_ds_put_cstr(ds, "        uint16_t csum = ps_csum_finish(sum);\n");
    if (c->nonzero) {
        ps_ds_put_cstr(ds, "        csum = csum ? csum : 0xffff;\n");
    }
    ps_ds_put_format(ds, "        ps_store_be16(b + %zu, csum);\n    }\n",
                     offset);
}

/* Writes the expression for the value of length fix-up 'l'. */
static void
put_length_value(struct ps_ds *ds, const struct ps_length_fixup *l)
{
    if (l->sub) {
        ps_ds_put_format(ds, "pkt_len - %zu >= %zu ? (pkt_len - %zu - %zu)",
                         l->start, l->sub, l->start, l->sub);
    } else {
        ps_ds_put_format(ds, "(pkt_len - %zu)", l->start);
    }
    if (l->unit != 1) {
        ps_ds_put_format(ds, " / %zu", l->unit);
    }
    if (l->sub) {
        ps_ds_put_cstr(ds, " : 0");
    }
}

/* True if the field's accessors take and give integers (IPv4 addresses in
 * host order included). */
static bool
has_integer_value(const struct ps_field_info *fi)
{
    return fi->type == PS_FIELD_UINT || fi->type == PS_FIELD_IP4;
}

static char *
field_function(const struct ps_stack *stack, const char *name, size_t field)
{
    const struct ps_field_info *fi = &stack->fields[field].info;
    return ps_xasprintf("%s_%s_%s", name,
                        stack->headers[fi->header].info.name, fi->name);
}

/* True if 'field' is a length that 'encap' computes per packet (into a
 * local "lenFIELD" of the generated code). */
static bool
is_computed_length(const struct ps_encap *encap, size_t field)
{
    for (size_t k = 0; k < encap->n_lengths; k++) {
        if (encap->stack->lengths[encap->lengths[k]].field == field) {
            return true;
        }
    }
    return false;
}

/* The largest sum of incremental checksum 'ec' whose template part is
 * 'base'. */
static uint64_t
max_incremental_sum(const struct ps_stack *stack,
                    const struct ps_encap_checksum *ec, uint64_t base)
{
    uint64_t max = base;
    for (size_t j = 0; j < ec->n_vars; j++) {
        size_t bits = stack->fields[ec->vars[j].field].info.bits;
        max += (bits >= 32 ? UINT64_MAX >> 16
                : (UINT64_C(1) << bits) - 1) << ec->vars[j].shift;
    }
    return max;
}

/* Writes "uint16_t csum = ..." from 'sum', which is at most 'max', with
 * as few folds as 'max' allows. */
static void
put_fold(struct ps_ds *ds, uint64_t max)
{
    if (max <= 0x1fffe) {
        /* One fold brings any sum up to 0x1fffe to 0xffff at most. */
        ps_ds_put_cstr(ds, "        sum = (sum & 0xffff) + (sum >> 16);\n"
                       "        uint16_t csum = ~sum;\n");
    } else if (max <= UINT32_MAX) {
        ps_ds_put_cstr(ds, "        sum = (sum & 0xffff) + (sum >> 16);\n"
                       "        sum = (sum & 0xffff) + (sum >> 16);\n"
                       "        uint16_t csum = ~sum;\n");
    } else {
        ps_ds_put_cstr(ds, "        uint16_t csum = ps_csum_finish(sum);\n");
    }
}

/* Writes NAME_encap(): what ps_encap_apply() does, with incremental
 * checksums where the plan allows them. */
static void
put_encap(struct ps_ds *ds, const struct ps_encap *encap, const char *name)
{
    const struct ps_stack *stack = encap->stack;

    ps_ds_put_format(ds, "\n/* Writes the headers for a packet of 'pkt_len' "
                     "bytes whose payload follows\n * them: template, "
                     "lengths, entropy from 'hash', checksums. */\n"
                     "static inline void\n%s_encap(struct %s *p, size_t "
                     "pkt_len, uint32_t hash)\n{\n"
                     "    uint8_t *b = (uint8_t *) p;\n\n"
                     "    memcpy(b, %s_template, %zu);\n", name, name, name,
                     stack->size);
    for (size_t i = 0; i < encap->n_lengths; i++) {
        const struct ps_length_fixup *l = &stack->lengths[encap->lengths[i]];
        char *fn = field_function(stack, name, l->field);
        ps_ds_put_format(ds, "    uint64_t len%zu = ", l->field);
        put_length_value(ds, l);
        ps_ds_put_format(ds, ";\n    %s_set(p, len%zu);\n", fn, l->field);
        free(fn);
    }
    if (encap->entropy_field >= 0) {
        ps_ds_put_format(ds, "    %s_set_entropy(p, hash);\n", name);
    } else {
        ps_ds_put_cstr(ds, "    (void) hash;\n");
    }
    for (size_t i = 0; i < encap->n_checksums; i++) {
        const struct ps_encap_checksum *ec = &encap->checksums[i];
        const struct ps_checksum_fixup *c = &stack->checksums[ec->fixup];
        if (!ec->incremental) {
            put_checksum(ds, stack, c, true);
            continue;
        }
        const struct ps_field_info *fi = &stack->fields[c->field].info;
        uint64_t max = max_incremental_sum(stack, ec, ec->base);
        bool narrow = max <= UINT32_MAX;
        char *label = comment_text(fi->label);
        ps_ds_put_format(ds, "    /* %s, from the template's sum. */\n"
                         "    {\n        %s sum = 0x%"PRIx32";\n",
                         label, narrow ? "uint32_t" : "uint64_t",
                         ec->base);
        free(label);
        for (size_t j = 0; j < ec->n_vars; j++) {
            size_t field = ec->vars[j].field;
            if (is_computed_length(encap, field)) {
                /* The value stored: the packet is no longer than
                 * ps_stack_max_length(), so it fits the field. */
                ps_ds_put_format(ds, "        sum += (uint64_t) len%zu << "
                                 "%u;\n", field, ec->vars[j].shift);
            } else {
                char *fn = field_function(stack, name, field);
                ps_ds_put_format(ds, "        sum += (uint64_t) %s_get(p) << "
                                 "%u;\n", fn, ec->vars[j].shift);
                free(fn);
            }
        }
        put_fold(ds, max);
        if (c->nonzero) {
            ps_ds_put_cstr(ds, "        csum = csum ? csum : 0xffff;\n");
        }
        ps_ds_put_format(ds, "        ps_store_be16(b + %zu, csum);\n    }\n",
                         fi->bit_offset / 8);
    }
    ps_ds_put_cstr(ds, "}\n");
}

/* The JIT's code.  It depends on the shape of an encapsulation (the
 * stack's layout and fix-up plan, which fields the labels fixed) and on
 * nothing else: the template and the checksums' partial sums are data
 * that the function takes, names and texts appear nowhere.  So every
 * encapsulation of one shape, whatever its label values, runs the same
 * compiled module. */

/* Returns "(EXPR)" for the integer field at 'bit' of 'bits' bits of 'b'
 * (malloc()'d). */
static char *
uint_get_expr(size_t bit, size_t bits)
{
    struct ps_ds get = PS_DS_INITIALIZER;
    put_uint_get(&get, bit, bits);
    /* "    return EXPR;\n" -> "(EXPR)". */
    const char *s = ps_ds_cstr(&get) + strlen("    return ");
    char *expr = ps_xasprintf("((uint64_t) %.*s)", (int) (strlen(s) - 2), s);
    ps_ds_destroy(&get);
    return expr;
}

/* Writes the statements that store 'v' into field 'field'. */
static void
put_field_store(struct ps_ds *ds, const struct ps_stack *stack,
                size_t field, const char *v)
{
    const struct ps_field_info *fi = &stack->fields[field].info;
    put_uint_set(ds, fi->bit_offset, fi->bits, v, stack->size);
}

size_t
ps_encap_data_size(const struct ps_encap *encap)
{
    return PS_ENCAP_BASES_OFFSET(encap->stack->size)
           + 4 * encap->n_checksums;
}

char *
ps_generate_jit_encap(const struct ps_encap *encap)
{
    const struct ps_stack *stack = encap->stack;
    struct ps_ds ds = PS_DS_INITIALIZER;
    size_t bases = PS_ENCAP_BASES_OFFSET(stack->size);

    ps_ds_put_format(&ds, "\nvoid\nps_jit_encap(const uint8_t *data, "
                     "uint8_t *b, size_t pkt_len, uint32_t hash)\n{\n"
                     "    memcpy(b, data, %zu);\n", stack->size);
    for (size_t i = 0; i < encap->n_lengths; i++) {
        const struct ps_length_fixup *l = &stack->lengths[encap->lengths[i]];
        char *v = ps_xasprintf("len%zu", l->field);
        ps_ds_put_format(&ds, "    uint64_t %s = ", v);
        put_length_value(&ds, l);
        ps_ds_put_cstr(&ds, ";\n");
        put_field_store(&ds, stack, l->field, v);
        free(v);
    }
    if (encap->entropy_field >= 0) {
        ps_ds_put_format(&ds, "    uint64_t entropy = (((uint64_t) hash * "
                         "%d) >> 32) + %d;\n",
                         PS_ENTROPY_MAX - PS_ENTROPY_MIN, PS_ENTROPY_MIN);
        put_field_store(&ds, stack, encap->entropy_field, "entropy");
    } else {
        ps_ds_put_cstr(&ds, "    (void) hash;\n");
    }
    for (size_t i = 0; i < encap->n_checksums; i++) {
        const struct ps_encap_checksum *ec = &encap->checksums[i];
        const struct ps_checksum_fixup *c = &stack->checksums[ec->fixup];
        if (!ec->incremental) {
            put_checksum(&ds, stack, c, false);
            continue;
        }
        const struct ps_field_info *fi = &stack->fields[c->field].info;
        /* The template's part of the sum is folded: at most 0xffff. */
        uint64_t max = max_incremental_sum(stack, ec, 0xffff);
        ps_ds_put_format(&ds, "    {\n        uint32_t base;\n"
                         "        memcpy(&base, data + %zu, 4);\n"
                         "        %s sum = base;\n", bases + 4 * i,
                         max <= UINT32_MAX ? "uint32_t" : "uint64_t");
        for (size_t j = 0; j < ec->n_vars; j++) {
            size_t field = ec->vars[j].field;
            if (is_computed_length(encap, field)) {
                ps_ds_put_format(&ds, "        sum += (uint64_t) len%zu << "
                                 "%u;\n", field, ec->vars[j].shift);
            } else {
                const struct ps_field_info *vf = &stack->fields[field].info;
                char *get = uint_get_expr(vf->bit_offset, vf->bits);
                ps_ds_put_format(&ds, "        sum += %s << %u;\n", get,
                                 ec->vars[j].shift);
                free(get);
            }
        }
        put_fold(&ds, max);
        if (c->nonzero) {
            ps_ds_put_cstr(&ds, "        csum = csum ? csum : 0xffff;\n");
        }
        ps_ds_put_format(&ds, "        ps_store_be16(b + %zu, csum);\n    }\n",
                         fi->bit_offset / 8);
    }
    ps_ds_put_cstr(&ds, "}\n");
    return ps_ds_steal(&ds);
}

char *
ps_generate_jit_setters(const struct ps_stack *stack)
{
    struct ps_ds ds = PS_DS_INITIALIZER;
    struct ps_ds table = PS_DS_INITIALIZER;

    for (size_t i = 0; i < stack->n_fields; i++) {
        const struct ps_field_info *fi = &stack->fields[i].info;
        if (!has_integer_value(fi)) {
            continue;
        }
        ps_ds_put_format(&ds, "\nstatic void\nps_jit_set_%zu(uint8_t *b, "
                         "uint64_t v)\n{\n", i);
        put_field_store(&ds, stack, i, "v");
        ps_ds_put_cstr(&ds, "}\n");
        ps_ds_put_format(&table, "    [%zu] = ps_jit_set_%zu,\n", i, i);
    }
    ps_ds_put_format(&ds, "\nvoid (*const ps_jit_setters[%zu])(uint8_t *, "
                     "uint64_t) = {\n%s};\n", stack->n_fields + 1,
                     table.len ? ps_ds_cstr(&table) : "");
    ps_ds_destroy(&table);
    return ps_ds_steal(&ds);
}

char *
ps_stack_generate_c(const struct ps_stack *stack, const char *name)
{
    struct ps_encap *encap;
    if (ps_encap_build(stack, NULL, &encap, NULL)) {
        return NULL;
    }
    char *code = ps_generate_c(encap, name);
    ps_encap_destroy(encap);
    return code;
}

char *
ps_generate_c(const struct ps_encap *encap, const char *name)
{
    const struct ps_stack *stack = encap->stack;

    if (!name || !ps_is_identifier(name) || !names_are_identifiers(stack)) {
        return NULL;
    }

    struct ps_ds ds = PS_DS_INITIALIZER;
    char *guard = ps_xasprintf("PS_STATIC_%s_H", name);
    for (char *p = guard; *p; p++) {
        *p = *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p;
    }
    char *spec = comment_text(stack->spec);
    ps_ds_put_format(&ds, "/* Generated by protostack from the stack \"%s\".\n"
                     " * Do not edit: regenerate it. */\n\n"
                     "#ifndef %s\n#define %s 1\n\n"
                     "#include <stddef.h>\n#include <stdint.h>\n"
                     "#include <string.h>\n", spec, guard, guard);
    free(spec);
    ps_ds_put_cstr(&ds, "#include \"protostack/bits.h\"\n"
                   "#include \"protostack/types.h\"\n");

    for (size_t i = 0; i < stack->n_headers; i++) {
        put_header_struct(&ds, stack, name, &stack->headers[i]);
    }
    ps_ds_put_format(&ds, "\n/* The whole stack, %zu bytes, then the "
                     "payload. */\nstruct %s {\n", stack->size, name);
    for (size_t i = 0; i < stack->n_headers; i++) {
        ps_ds_put_format(&ds, "    struct %s_%s %s;\n", name,
                         stack->headers[i].info.name,
                         stack->headers[i].info.name);
    }
    ps_ds_put_format(&ds, "    uint8_t payload[];\n"
                     "} __attribute__((__packed__));\n\n"
                     "#define %s_SIZE %zu\n", name, stack->size);
    for (size_t i = 0; i < stack->n_headers; i++) {
        const struct ps_header_info *h = &stack->headers[i].info;
        ps_ds_put_format(&ds, "#define %s_%s_OFFSET %zu\n", name, h->name,
                         h->offset);
    }

    /* Template. */
    ps_ds_put_format(&ds, "\n/* Defaults, binding values and labels; lengths "
                     "as for no payload. */\nstatic const uint8_t "
                     "%s_template[%zu] = {", name,
                     stack->size ? stack->size : 1);
    for (size_t i = 0; i < stack->size; i++) {
        ps_ds_put_format(&ds, "%s0x%02x,", i % 12 ? " " : "\n    ",
                         encap->template[i]);
    }
    ps_ds_put_cstr(&ds, "\n};\n");

    for (size_t i = 0; i < stack->n_fields; i++) {
        put_accessors(&ds, stack, name, &stack->fields[i].info);
    }

    /* Whole-stack functions. */
    ps_ds_put_format(&ds, "\n/* Writes the template. */\nstatic inline void\n"
                     "%s_fill(struct %s *p)\n{\n    memcpy(p, %s_template, "
                     "%zu);\n}\n", name, name, name, stack->size);

    ps_ds_put_format(&ds, "\n/* Sets every length field for a packet of "
                     "'pkt_len' bytes\n * (at least %s_SIZE). */\n"
                     "static inline void\n%s_set_length(struct %s *p, "
                     "size_t pkt_len)\n{\n", name, name, name);
    if (!stack->n_lengths) {
        ps_ds_put_cstr(&ds, "    (void) p;\n    (void) pkt_len;\n");
    }
    for (size_t i = 0; i < stack->n_lengths; i++) {
        const struct ps_length_fixup *l = &stack->lengths[i];
        const struct ps_field_info *fi = &stack->fields[l->field].info;
        const struct ps_header_info *h = &stack->headers[fi->header].info;
        struct ps_ds v = PS_DS_INITIALIZER;
        put_length_value(&v, l);
        ps_ds_put_format(&ds, "    %s_%s_%s_set(p, %s);\n", name, h->name,
                         fi->name, ps_ds_cstr(&v));
        ps_ds_destroy(&v);
    }
    ps_ds_put_cstr(&ds, "}\n");

    /* Checksums: all of them, and one function per header that has any. */
    ps_ds_put_format(&ds, "\n/* Computes every checksum, innermost first, for "
                     "a packet of 'pkt_len'\n * bytes. */\n"
                     "static inline void\n%s_fix_checksums(struct %s *p, "
                     "size_t pkt_len)\n{\n    uint8_t *b = (uint8_t *) p;\n",
                     name, name);
    if (!stack->n_checksums) {
        ps_ds_put_cstr(&ds, "    (void) b;\n    (void) pkt_len;\n");
    }
    for (size_t i = 0; i < stack->n_checksums; i++) {
        put_checksum(&ds, stack, &stack->checksums[i], true);
    }
    ps_ds_put_cstr(&ds, "}\n");
    for (size_t h = 0; h < stack->n_headers; h++) {
        bool any = false;
        for (size_t i = 0; i < stack->n_checksums; i++) {
            any |= stack->checksums[i].header == h;
        }
        if (!any) {
            continue;
        }
        ps_ds_put_format(&ds, "\nstatic inline void\n%s_%s_fix_checksum("
                         "struct %s *p, size_t pkt_len)\n{\n"
                         "    uint8_t *b = (uint8_t *) p;\n", name,
                         stack->headers[h].info.name, name);
        for (size_t i = 0; i < stack->n_checksums; i++) {
            if (stack->checksums[i].header == h) {
                put_checksum(&ds, stack, &stack->checksums[i], true);
            }
        }
        ps_ds_put_cstr(&ds, "}\n");
    }

    if (stack->entropy_field >= 0) {
        const struct ps_field_info *fi;
        fi = &stack->fields[stack->entropy_field].info;
        char *label = comment_text(fi->label);
        ps_ds_put_format(&ds, "\n/* Writes flow entropy 'hash' into %s. */\n"
                         "static inline void\n%s_set_entropy(struct %s *p, "
                         "uint32_t hash)\n{\n    %s_%s_%s_set(p, (((uint64_t) "
                         "hash * %d) >> 32) + %d);\n}\n", label, name,
                         name, name, stack->headers[fi->header].info.name,
                         fi->name, PS_ENTROPY_MAX - PS_ENTROPY_MIN,
                         PS_ENTROPY_MIN);
        free(label);
    }

    put_encap(&ds, encap, name);

    /* A table of the integer and IPv4 fields, for tests that compare
     * every accessor with the run-time API. */
    ps_ds_put_format(&ds, "\n#ifdef PS_STATIC_FIELD_TABLE\n"
                     "struct %s_field {\n    const char *label;\n"
                     "    uint64_t (*get)(const struct %s *);\n"
                     "    void (*set)(struct %s *, uint64_t);\n};\n",
                     name, name, name);
    struct ps_ds table = PS_DS_INITIALIZER;
    for (size_t i = 0; i < stack->n_fields; i++) {
        const struct ps_field_info *fi = &stack->fields[i].info;
        if (!has_integer_value(fi)) {
            continue;
        }
        char *fn = field_function(stack, name, i);
        ps_ds_put_format(&ds, "\nstatic uint64_t\n%s_get64(const struct %s "
                         "*p)\n{\n    return %s_get(p);\n}\n\n"
                         "static void\n%s_set64(struct %s *p, uint64_t v)\n"
                         "{\n    %s_set(p, v);\n}\n", fn, name, fn, fn, name,
                         fn);
        ps_ds_put_format(&table, "    { \"%s\", %s_get64, %s_set64 },\n",
                         fi->label, fn, fn);
        free(fn);
    }
    ps_ds_put_format(&ds, "\nstatic const struct %s_field %s_fields[] = {\n"
                     "%s", name, name, table.len ? ps_ds_cstr(&table) : "");
    ps_ds_destroy(&table);
    ps_ds_put_cstr(&ds, "    { NULL, NULL, NULL },\n};\n"
                   "#endif /* PS_STATIC_FIELD_TABLE */\n");

    ps_ds_put_format(&ds, "\n#endif /* %s */\n", guard);
    free(guard);
    return ps_ds_steal(&ds);
}
