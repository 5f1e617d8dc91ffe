/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The dissector: parses a packet of unknown stack with the bindings of the
 * protocol definitions, then compiles the stack it found, so that every
 * other function (labels, text forms, the fix-up plan) works on it.  The
 * plan also tells which lengths and checksums to verify.  Every read is
 * checked against the packet's length. */

#include <config.h>
#include "stack.h"

#include <stdlib.h>
#include <string.h>
#include "util.h"

#define MAX_HEADERS 64

/* A field's place in a header being parsed. */
struct placed_field {
    const struct ps_pfield *pf;
    size_t bit;                 /* From the header's start. */
    size_t bits;
};

/* A header found in the packet. */
struct found_header {
    const struct ps_protocol *p;
    const struct ps_variant *v;
    size_t offset;
    size_t size;
    struct placed_field *fields;
    size_t n_fields;
    bool has_var;
    size_t var_len;
    size_t default_var_len;     /* What a spec without length= gives. */
};

/* The part of a packet being read: 'len' bytes from 'base'. */
struct view {
    const uint8_t *base;
    size_t len;
};

static bool
read_bits(const struct view *view, size_t bit, size_t bits, uint64_t *value)
{
    if (bits > 64 || bit + bits > view->len * 8) {
        return false;
    }
    *value = bits ? ps_bits_get(view->base, bit, bits) : 0;
    return true;
}

static const struct placed_field *
find_placed(const struct found_header *h, const char *name)
{
    for (size_t i = 0; i < h->n_fields; i++) {
        const char *fname = h->fields[i].pf->name;
        /* Most fields differ in their first character: no call. */
        if (fname[0] == name[0] && !strcmp(fname, name)) {
            return &h->fields[i];
        }
    }
    return NULL;
}

struct packet_lookup {
    const struct found_header *h;
    const struct view *view;
};

static bool
packet_lookup(const char *name, void *aux_, int64_t *valuep)
{
    struct packet_lookup *aux = aux_;
    const struct placed_field *f = find_placed(aux->h, name);
    uint64_t v;
    if (!f || f->pf->type != PS_FIELD_UINT
        || !read_bits(aux->view, f->bit, f->bits, &v)) {
        return false;
    }
    *valuep = v;
    return true;
}

/* Lays out variant 'v' of 'p' on the bytes of 'view' (which start at the
 * header): flags and sizes come from the packet.  On failure returns false
 * with the reason in '*why' (malloc()'d). */
static bool
layout_from_packet(const struct ps_protocol *p, const struct ps_variant *v,
                   const struct view *view, struct found_header *h,
                   char **why)
{
    size_t bit = 0;

    h->p = p;
    h->v = v;
    h->fields = ps_xzalloc((v->n_fields + 1) * sizeof *h->fields);
    h->n_fields = 0;
    h->has_var = false;
    for (size_t i = 0; i < v->n_fields; i++) {
        const struct ps_pfield *pf = v->fields[i];
        size_t bits = pf->bits;

        bool present = !pf->cond;
        for (size_t k = 0; k < ps_pfield_n_flags(pf); k++) {
            const struct placed_field *flag;
            uint64_t on;
            flag = find_placed(h, ps_pfield_flag(pf, k));
            if (!flag || !read_bits(view, flag->bit, flag->bits, &on)) {
                *why = ps_xasprintf("%s needs more bytes than the %zu left",
                                    p->name, view->len);
                return false;
            }
            present |= on != 0;
        }
        if (!present) {
            continue;
        }
        if (pf->size_expr) {
            struct packet_lookup aux = { h, view };
            int64_t size;
            if (!ps_expr_eval(pf->size_expr, packet_lookup, &aux, &size)) {
                *why = ps_xasprintf("%s needs more bytes than the %zu left",
                                    p->name, view->len);
                return false;
            }
            if (size < 0 || size > 65535) {
                *why = ps_xasprintf("%s.%s would be %"PRId64" bytes long",
                                    p->name, pf->name, size);
                return false;
            }
            bits = size * 8;
            h->has_var = true;
            h->var_len = size;
            h->default_var_len = pf->default_size;
        }
        struct placed_field *f = &h->fields[h->n_fields++];
        f->pf = pf;
        f->bit = bit;
        f->bits = bits;
        bit += bits;
    }
    h->size = bit / 8;
    return true;
}

/* Checks that header 'h', laid out, fits in 'view'. */
static bool
header_fits(const struct found_header *h, const struct view *view,
            char **why)
{
    if (h->size > view->len) {
        bool plain = h->v == &h->p->variants[0];
        *why = ps_xasprintf("%s%s%s needs %zu bytes, %zu left", h->p->name,
                            plain ? "" : " ", plain ? "" : h->v->name,
                            h->size, view->len);
        return false;
    }
    return true;
}

static void
found_header_clear(struct found_header *h)
{
    free(h->fields);
    h->fields = NULL;
}

/* Parses protocol 'p' at the start of 'view': picks the variant whose
 * "when" field holds its value, else "plain". */
static bool
parse_header(const struct ps_protocol *p, const struct view *view,
             struct found_header *h, char **why)
{
    for (size_t i = 1; i < p->n_variants; i++) {
        const struct ps_variant *v = &p->variants[i];
        char *ignore = NULL;
        if (v->unparsed) {
            continue;
        }
        if (layout_from_packet(p, v, view, h, &ignore)) {
            const struct placed_field *f = find_placed(h, v->when_field);
            uint64_t value;
            if (f && read_bits(view, f->bit, f->bits, &value)
                && value == v->when_value) {
                /* The subtype is chosen; it may still be cut short. */
                if (header_fits(h, view, why)) {
                    return true;
                }
                found_header_clear(h);
                return false;
            }
        }
        free(ignore);
        found_header_clear(h);
    }
    if (layout_from_packet(p, &p->variants[0], view, h, why)
        && header_fits(h, view, why)) {
        return true;
    }
    found_header_clear(h);
    return false;
}

enum magic_result {
    MAGIC_MATCH,
    MAGIC_MISMATCH,
    MAGIC_UNREADABLE,           /* Too few bytes to tell. */
};

/* Reads field 'name' of protocol 'p' ahead, at the start of 'view', if it
 * is among the fixed fields that start the plain layout. */
static enum magic_result
peek_field(const struct ps_protocol *p, const char *name,
           const struct view *view, uint64_t *value)
{
    const struct ps_variant *v = &p->variants[0];
    size_t bit = 0;
    for (size_t i = 0; i < v->n_fields; i++) {
        const struct ps_pfield *pf = v->fields[i];
        if (pf->cond || pf->size_expr) {
            break;
        }
        if (!strcmp(pf->name, name)) {
            return (pf->type != PS_FIELD_UINT ? MAGIC_MISMATCH
                    : read_bits(view, bit, pf->bits, value) ? MAGIC_MATCH
                    : MAGIC_UNREADABLE);
        }
        bit += pf->bits;
    }
    return MAGIC_MISMATCH;
}

/* Checks whether every @magic field of 'p' (plain layout) holds its
 * constant in the bytes of 'view'. */
static enum magic_result
magic_matches(const struct ps_protocol *p, const struct view *view)
{
    const struct ps_variant *v = &p->variants[0];
    for (size_t i = 0; i < v->n_fields; i++) {
        const struct ps_pfield *pf = v->fields[i];
        if (pf->cond || pf->size_expr) {
            break;
        }
        uint64_t value;
        enum magic_result r = (pf->magic
                               ? peek_field(p, pf->name, view, &value)
                               : MAGIC_MATCH);
        if (r != MAGIC_MATCH) {
            return r;
        } else if (pf->magic && value != pf->value) {
            return MAGIC_MISMATCH;
        }
    }
    return MAGIC_MATCH;
}

static bool
has_magic(const struct ps_protocol *p)
{
    for (size_t i = 0; i < p->n_fields; i++) {
        if (p->fields[i]->magic) {
            return true;
        }
    }
    return false;
}

/* Checks the further conditions of binding 'b' of 'upper' after 'h':
 * MAGIC_MATCH if all hold, MAGIC_UNREADABLE if one is on a field of
 * 'upper' beyond the end of 'rest'. */
static enum magic_result
binding_conds_hold(const struct ps_binding *b, const struct found_header *h,
                   const struct ps_protocol *upper,
                   const struct view *packet, const struct view *rest)
{
    for (size_t i = 0; i < b->n_conds; i++) {
        const struct ps_binding_cond *c = &b->conds[i];
        enum magic_result known = MAGIC_MISMATCH;
        uint64_t value;
        if (c->upper) {
            known = peek_field(upper, c->field, rest, &value);
        } else {
            const struct placed_field *f = find_placed(h, c->field);
            if (f && f->pf->type == PS_FIELD_UINT
                && read_bits(packet, h->offset * 8 + f->bit, f->bits,
                             &value)) {
                known = MAGIC_MATCH;
            }
        }
        if (known != MAGIC_MATCH) {
            return known;
        }
        if ((value == c->value) == c->not_equal) {
            return MAGIC_MISMATCH;
        }
    }
    return MAGIC_MATCH;
}

/* Sets '*why', if not yet set, to say that the payload of 'h', 'rest', is
 * too short to tell what follows. */
static void
too_short_to_tell(const struct found_header *h, const struct view *rest,
                  char **why)
{
    if (!*why) {
        *why = ps_xasprintf("%s payload of %zu bytes is too short to tell "
                            "what follows", h->p->name, rest->len);
    }
}

/* Whether protocol names 'a' and 'b' are the same: most bindings are
 * told apart by the first character, without a call. */
/* The bindings of one lower protocol, in load order, each with its upper
 * protocol found (NULL if not loaded). */
struct index_binding {
    const struct ps_binding *b;
    const struct ps_protocol *upper;
};

struct index_lower {
    const struct ps_protocol *lower;
    struct index_binding *bindings;
    size_t n;
};

/* The graph of bindings of one registry generation, by lower protocol:
 * built once per generation (ps_stack_cache_aux()), so that a packet's
 * successors are found without comparing names. */
struct binding_index {
    struct index_lower *lowers;
    size_t n;
};

static void *
binding_index_build(const void *snap_)
{
    const struct ps_snapshot *snap = snap_;
    struct binding_index *ix = ps_xzalloc(sizeof *ix);

    ix->n = snap->defs.n_protocols;
    ix->lowers = ps_xzalloc((ix->n + 1) * sizeof *ix->lowers);
    for (size_t i = 0; i < ix->n; i++) {
        struct index_lower *l = &ix->lowers[i];
        size_t allocated = 0;
        l->lower = snap->defs.protocols[i];
        for (size_t j = 0; j < ps_snapshot_n_bindings(snap); j++) {
            const struct ps_binding *b = ps_snapshot_binding(snap, j);
            if (!strcmp(b->lower, l->lower->name)) {
                struct index_binding *ib;
                ib = ps_array_push((void **) &l->bindings, &l->n,
                                   &allocated, sizeof *ib);
                ib->b = b;
                ib->upper = ps_snapshot_find(snap, b->upper);
            }
        }
    }
    return ix;
}

static void
binding_index_destroy(void *ix_)
{
    struct binding_index *ix = ix_;
    for (size_t i = 0; i < ix->n; i++) {
        free(ix->lowers[i].bindings);
    }
    free(ix->lowers);
    free(ix);
}

/* The bindings after protocol 'p' (none if 'p' is not in the index). */
static const struct index_lower *
index_find(const struct binding_index *ix, const struct ps_protocol *p)
{
    for (size_t i = 0; i < ix->n; i++) {
        if (ix->lowers[i].lower == p) {
            return &ix->lowers[i];
        }
    }
    return &ix->lowers[ix->n];          /* Zeroed: no bindings. */
}

/* Chooses the protocol that follows 'h', whose payload is 'rest'.  When
 * the payload is too short to choose, returns NULL with the reason in
 * '*why'. */
static const struct ps_protocol *
next_protocol(const struct binding_index *ix, const struct found_header *h,
              const struct view *packet, const struct view *rest,
              char **why)
{
    const struct index_lower *l = index_find(ix, h->p);

    /* A binding on a field of 'h' that holds the binding's value. */
    for (size_t i = 0; i < l->n; i++) {
        const struct ps_binding *b = l->bindings[i].b;
        if (!b->field) {
            continue;
        }
        const struct placed_field *f = find_placed(h, b->field);
        uint64_t value;
        if (f && f->pf->type == PS_FIELD_UINT
            && read_bits(packet, h->offset * 8 + f->bit, f->bits, &value)
            && value == b->value) {
            const struct ps_protocol *upper = l->bindings[i].upper;
            enum magic_result r = (upper ? binding_conds_hold(b, h, upper,
                                                              packet, rest)
                                   : MAGIC_MISMATCH);
            if (r == MAGIC_MATCH) {
                free(*why);
                *why = NULL;
                return upper;
            } else if (r == MAGIC_UNREADABLE) {
                too_short_to_tell(h, rest, why);
            }
        }
    }

    /* A fixed successor: the first whose magic fields match, or the
     * first without magic fields. */
    const struct ps_protocol *fallback = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const struct ps_binding *b = l->bindings[i].b;
        if (b->field) {
            continue;
        }
        const struct ps_protocol *upper = l->bindings[i].upper;
        enum magic_result r = (upper ? binding_conds_hold(b, h, upper,
                                                          packet, rest)
                               : MAGIC_MISMATCH);
        if (r == MAGIC_UNREADABLE) {
            too_short_to_tell(h, rest, why);
        }
        if (r != MAGIC_MATCH) {
            continue;
        }
        if (!has_magic(upper)) {
            fallback = fallback ? fallback : upper;
            continue;
        }
        switch (magic_matches(upper, rest)) {
        case MAGIC_MATCH:
            free(*why);
            *why = NULL;
            return upper;
        case MAGIC_UNREADABLE:
            too_short_to_tell(h, rest, why);
            break;
        case MAGIC_MISMATCH:
            break;
        }
    }
    if (fallback) {
        free(*why);
        *why = NULL;
    }
    return fallback;
}

/* Builds the spec item of 'h' named 'name'. */
static void
put_spec_item(struct ps_ds *spec, const struct found_header *h,
              const char *name, const struct view *packet)
{
    struct ps_ds opts = PS_DS_INITIALIZER;

    if (strcmp(name, h->p->name)) {
        ps_ds_put_format(&opts, ",name=%s", name);
    }
    if (h->v != &h->p->variants[0]) {
        ps_ds_put_format(&opts, ",subtype=%s", h->v->name);
    }
    if (h->has_var && h->var_len != h->default_var_len) {
        ps_ds_put_format(&opts, ",length=%zu", h->var_len);
    }
    /* Flags that control conditional fields, as the packet has them. */
    bool has_conds = false;
    for (size_t j = 0; j < h->v->n_fields; j++) {
        has_conds |= h->v->fields[j]->cond != NULL;
    }
    for (size_t i = 0; has_conds && i < h->n_fields; i++) {
        const struct ps_pfield *pf = h->fields[i].pf;
        bool is_flag = false;
        for (size_t j = 0; j < h->v->n_fields; j++) {
            is_flag |= ps_pfield_has_flag(h->v->fields[j], pf->name);
        }
        uint64_t value;
        if (is_flag && read_bits(packet, h->offset * 8 + h->fields[i].bit,
                                 h->fields[i].bits, &value)) {
            ps_ds_put_format(&opts, ",%s=%"PRIu64, pf->name, value);
        }
    }
    if (opts.len) {
        ps_ds_put_format(spec, "{%s%s}", h->p->name, ps_ds_cstr(&opts));
    } else {
        ps_ds_put_cstr(spec, h->p->name);
    }
    ps_ds_destroy(&opts);
}


static void
add_problem(struct ps_dissection *d, size_t *allocated, size_t field,
            char *message)
{
    struct ps_dissection_problem *pr;
    pr = ps_array_push((void **) &d->problems, &d->n_problems, allocated,
                       sizeof *pr);
    pr->field = field;
    pr->message = message;
}

/* Where the lengths of the packet end a header's span. */
struct header_span {
    size_t bound;               /* Where the outer headers' lengths end it
                                 * (the frame's end if none does). */
    size_t end;                 /* Where its own length fields end it. */
    bool exact;                 /* 'bound' is the lower header's own
                                 * length: a length must reach it. */
};

/* Whether 'a' and 'b' are the same one's complement checksum: 0x0000 and
 * 0xffff are both zero (RFC 1071, RFC 1624 section 3). */
static bool
same_checksum(uint64_t a, uint64_t b)
{
    return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

/* Verifies the stack's lengths and checksums against the packet.  Each
 * length field bounds its own header's span only: it is checked against
 * the bound its outer headers set ('spans'), never against an inner
 * header's length. */
static void
verify(struct ps_dissection *d, const uint8_t *pkt,
       const struct header_span *spans)
{
    const struct ps_stack *stack = d->stack;
    size_t allocated = d->n_problems;
    uint8_t *copy = ps_xmalloc(d->len);

    memcpy(copy, pkt, d->len);
    for (size_t i = 0; i < stack->n_lengths; i++) {
        const struct ps_length_fixup *l = &stack->lengths[i];
        const struct ps_field_info *fi = &stack->fields[l->field].info;
        const struct ps_stack_header *h = &stack->headers[fi->header];
        size_t bound = spans[fi->header].bound;
        uint64_t have = ps_bits_get(pkt, fi->bit_offset, fi->bits);
        uint64_t end = (have > SIZE_MAX / l->unit / 2 ? UINT64_MAX
                        : l->start + l->sub + have * l->unit);

        if (end > bound) {
            add_problem(d, &allocated, l->field,
                        ps_xasprintf("bad length %"PRIu64" (%zu bytes "
                                     "left)", have, bound - l->start));
        } else if (bound > ps_length_fixup_max(stack, l)) {
            add_problem(d, &allocated, l->field,
                        ps_xasprintf("bad length %"PRIu64" (%zu bytes do "
                                     "not fit in %zu bits)", have,
                                     bound - l->start, fi->bits));
        } else if (spans[fi->header].exact
                   || end < h->info.offset + h->info.size) {
            ps_stack_apply_length(stack, copy, l, bound);
            uint64_t want = ps_bits_get(copy, fi->bit_offset, fi->bits);
            if (have != want) {
                add_problem(d, &allocated, l->field,
                            ps_xasprintf("bad length %"PRIu64" (expected "
                                         "%"PRIu64")", have, want));
            }
        }
    }

    /* Checksums over the packet as it is (lengths as found), each over
     * its own header's span. */
    memcpy(copy, pkt, d->len);
    for (size_t i = 0; i < stack->n_checksums; i++) {
        const struct ps_checksum_fixup *c = &stack->checksums[i];
        const struct ps_field_info *fi = &stack->fields[c->field].info;
        uint64_t have = ps_bits_get(pkt, fi->bit_offset, 16);
        ps_stack_apply_checksum(stack, copy, spans[c->header].end, c);
        uint64_t want = ps_bits_get(copy, fi->bit_offset, 16);
        /* An optional checksum of zero (UDP over IPv4) means "none". */
        if (!(c->nonzero ? have == want || have == 0
              : same_checksum(have, want))) {
            add_problem(d, &allocated, c->field,
                        ps_xasprintf("bad cksum 0x%04"PRIx64" (expected "
                                     "0x%04"PRIx64")", have, want));
        }
        /* Inner checksums were computed on the packet's bytes; keep them
         * so outer checksums see the packet as it is. */
        memcpy(copy + fi->bit_offset / 8, pkt + fi->bit_offset / 8, 2);
    }
    free(copy);
}

enum ps_error
ps_dissect(const struct ps_registry *reg, const char *first,
           const uint8_t *pkt, size_t len, struct ps_dissection **dp,
           char **errorp)
{
    /* One snapshot for the whole dissection, stack included. */
    const struct ps_snapshot *snap = ps_registry_snapshot(reg);
    const struct ps_protocol *p = ps_snapshot_find(snap, first);
    const struct binding_index *ix = ps_stack_cache_aux(
        ps_registry_cache(reg), snap->generation, binding_index_build, snap,
        binding_index_destroy);
    *dp = NULL;
    if (!p) {
        return ps_set_error(errorp, PS_ERR_NO_PROTOCOL, "unknown protocol "
                            "\"%s\"", first);
    }

    struct ps_dissection *d = ps_xzalloc(sizeof *d);
    struct found_header headers[MAX_HEADERS];
    size_t n = 0, offset = 0;
    struct view packet = { pkt, len };
    struct ps_ds spec = PS_DS_INITIALIZER;

    d->len = d->packet_len = len;
    /* Bytes that belong to the packet: length fields may end it before
     * the frame does (Ethernet padding). */
    size_t limit = len;
    size_t limit_by = SIZE_MAX; /* The header whose length set 'limit'. */
    struct header_span spans[MAX_HEADERS];
    struct magic_problem {
        size_t header, field;
        uint64_t have, want;
    } magic[MAX_HEADERS];
    size_t n_magic = 0;

    while (p && n < MAX_HEADERS) {
        struct view rest = { pkt + offset, limit - offset };
        struct found_header *h = &headers[n];
        char *why = NULL;

        memset(h, 0, sizeof *h);
        if (!parse_header(p, &rest, h, &why)) {
            d->truncated = why;
            break;
        }
        h->offset = offset;
        spans[n].bound = limit;
        spans[n].exact = n && limit_by == n - 1;

        /* Name it: the k-th header of its protocol. */
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            k += headers[i].p == p;
        }
        char *name = ps_stack_header_default_name(p->name, k);
        if (n) {
            ps_ds_put_char(&spec, ',');
        }
        put_spec_item(&spec, h, name, &packet);
        free(name);

        for (size_t i = 0; i < h->n_fields; i++) {
            const struct placed_field *f = &h->fields[i];
            uint64_t v;
            if (f->pf->type != PS_FIELD_UINT
                || !read_bits(&packet, offset * 8 + f->bit, f->bits, &v)) {
                continue;
            }
            if (f->pf->magic && v != f->pf->value && n_magic < MAX_HEADERS) {
                magic[n_magic++] = (struct magic_problem) {
                    n, i, v, f->pf->value
                };
            }
            if (f->pf->rule == PS_RULE_LENGTH
                && f->pf->span != PS_SPAN_HEADER
                && v <= SIZE_MAX / 2 / f->pf->unit) {
                size_t end = (f->pf->span == PS_SPAN_REST ? offset
                              : offset + h->size) + v * f->pf->unit
                             + f->pf->sub;
                if (end >= offset + h->size && end <= limit) {
                    if (limit_by == SIZE_MAX) {
                        /* The outermost length ends the packet; the
                         * rest of the frame is a trailer (padding). */
                        d->packet_len = end;
                    }
                    limit = end;
                    limit_by = n;
                }
            }
        }
        spans[n].end = limit;

        offset += h->size;
        n++;
        struct view next = { pkt + offset, limit - offset };
        if (!next.len && limit_by != SIZE_MAX) {
            /* The lengths say the packet is whole and has no payload: a
             * binding names what a payload is, if there is one. */
            break;
        }
        p = next_protocol(ix, h, &packet, &next, &d->truncated);
    }
    if (n == MAX_HEADERS && p) {
        d->truncated = ps_xasprintf("more than %d headers", MAX_HEADERS);
    }

    enum ps_error error = PS_OK;
    if (n) {
        /* From the registry's cache: the stack is compiled once per
         * registry generation, and owned by the cache. */
        const struct ps_stack *stack;
        error = ps_snapshot_stack(reg, snap, ps_ds_cstr(&spec), &stack,
                                  errorp);
        d->stack = (struct ps_stack *) stack;
    }
    if (!error && d->stack) {
        /* The compiled stack must lay out as the bytes read: nothing is
         * read past them afterwards. */
        bool fits = d->stack->n_headers == n && d->stack->size <= len;
        for (size_t i = 0; fits && i < n; i++) {
            fits = d->stack->headers[i].info.size == headers[i].size;
        }
        if (!fits) {
            error = ps_set_error(errorp, PS_ERR_LAYOUT,
                                 "stack \"%s\" found in the packet does "
                                 "not lay out as its %zu bytes",
                                 ps_ds_cstr(&spec), len);
        }
    }
    for (size_t i = 0; i < n; i++) {
        found_header_clear(&headers[i]);
    }
    ps_ds_destroy(&spec);
    if (error) {
        ps_dissection_destroy(d);
        return error;
    }
    if (d->stack) {
        size_t allocated = 0;
        for (size_t i = 0; i < n_magic; i++) {
            size_t field = d->stack->headers[magic[i].header].first_field
                           + magic[i].field;
            add_problem(d, &allocated, field,
                        ps_xasprintf("bad value %"PRIu64" (expected "
                                     "%"PRIu64")", magic[i].have,
                                     magic[i].want));
        }
        d->header_len = d->stack->size;
        verify(d, pkt, spans);
    }
    *dp = d;
    return PS_OK;
}

void
ps_dissection_destroy(struct ps_dissection *d)
{
    if (d) {
        if (d->stack && !d->stack->owner) {
            ps_stack_destroy(d->stack);
        }
        for (size_t i = 0; i < d->n_problems; i++) {
            free(d->problems[i].message);
        }
        free(d->problems);
        free(d->truncated);
        free(d);
    }
}

/* Dump. */

static void
put_hex(struct ps_ds *ds, const uint8_t *p, size_t start, size_t end,
        bool text2pcap)
{
    for (size_t i = start; i < end; i += 16) {
        if (text2pcap) {
            ps_ds_put_format(ds, "%06zx ", i);
            for (size_t j = i; j < i + 16 && j < end; j++) {
                ps_ds_put_format(ds, " %02x", p[j]);
            }
        } else {
            ps_ds_put_format(ds, "\t0x%04zx: ", i);
            for (size_t j = i; j < i + 16 && j < end; j++) {
                ps_ds_put_format(ds, "%s%02x", (j - i) % 2 ? "" : " ", p[j]);
            }
        }
        ps_ds_put_char(ds, '\n');
    }
}

/* Appends 'v' in decimal, or in hexadecimal after "0x" if 'hex', as
 * ps_stack_get_text() writes it, without a printf per field. */
static void
put_uint(struct ps_ds *ds, uint64_t v, bool hex)
{
    char buf[24];
    char *p = buf + sizeof buf;
    unsigned int base = hex ? 16 : 10;

    *--p = '\0';
    do {
        *--p = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (hex) {
        *--p = 'x';
        *--p = '0';
    }
    ps_ds_put_cstr(ds, p);
}

/* The one-line summary of 'd' (PS_DUMP_SUMMARY). */
static char *
format_summary(const struct ps_dissection *d)
{
    struct ps_ds ds = PS_DS_INITIALIZER;
    const struct ps_stack *stack = d->stack;
    size_t n_headers = stack ? stack->n_headers : 0;

    for (size_t h = 0; h < n_headers; h++) {
        if (h) {
            ps_ds_put_char(&ds, ' ');
        }
        ps_ds_put_cstr(&ds, stack->headers[h].info.name);
    }
    size_t payload = d->packet_len > d->header_len
                     ? d->packet_len - d->header_len : 0;
    if (payload) {
        ps_ds_put_cstr(&ds, n_headers ? ", payload " : "payload ");
        put_uint(&ds, payload, false);
    }
    for (size_t i = 0; i < d->n_problems; i++) {
        ps_ds_put_cstr(&ds, i ? " " : ", bad ");
        ps_ds_put_cstr(&ds, stack->fields[d->problems[i].field].info.label);
    }
    if (d->truncated) {
        ps_ds_put_cstr(&ds, ", truncated: ");
        ps_ds_put_cstr(&ds, d->truncated);
    }
    ps_ds_put_char(&ds, '\n');
    return ps_ds_steal(&ds);
}

char *
ps_dissection_format(const struct ps_dissection *d, const uint8_t *pkt,
                     unsigned int flags)
{
    if (flags & PS_DUMP_SUMMARY) {
        return format_summary(d);
    }

    struct ps_ds ds = PS_DS_INITIALIZER;
    const struct ps_stack *stack = d->stack;
    bool t2p = flags & PS_DUMP_TEXT2PCAP;
    const char *prefix = t2p ? "# " : "";
    size_t n_headers = stack ? stack->n_headers : 0;

    for (size_t h = 0; h < n_headers; h++) {
        const struct ps_stack_header *sh = &stack->headers[h];
        ps_ds_put_cstr(&ds, prefix);
        ps_ds_put_cstr(&ds, sh->info.name);
        if (strcmp(sh->info.name, sh->info.protocol)
            || strcmp(sh->info.subtype, "plain")) {
            ps_ds_put_format(&ds, " (%s%s%s)", sh->info.protocol,
                             strcmp(sh->info.subtype, "plain") ? " " : "",
                             strcmp(sh->info.subtype, "plain")
                             ? sh->info.subtype : "");
        }
        ps_ds_put_char(&ds, ':');
        for (size_t i = 0; i < sh->n_fields; i++) {
            size_t f = sh->first_field + i;
            const struct ps_field_info *fi = &stack->fields[f].info;
            if (!fi->bits) {
                continue;
            }
            ps_ds_put_char(&ds, ' ');
            ps_ds_put_cstr(&ds, fi->name);
            ps_ds_put_char(&ds, '=');
            if (fi->type == PS_FIELD_UINT) {
                put_uint(&ds, ps_bits_get(pkt, fi->bit_offset, fi->bits),
                         fi->hex);
            } else {
                char buf[64];
                size_t size = fi->bits / 4 + 8;
                char *text = size <= sizeof buf ? buf : ps_xmalloc(size);
                ps_stack_get_text(stack, pkt, f, text,
                                  size <= sizeof buf ? sizeof buf : size);
                ps_ds_put_cstr(&ds, text);
                if (text != buf) {
                    free(text);
                }
            }
            for (size_t j = 0; j < d->n_problems; j++) {
                if (d->problems[j].field == f) {
                    ps_ds_put_format(&ds, " [%s]", d->problems[j].message);
                }
            }
        }
        ps_ds_put_char(&ds, '\n');
        if ((flags & PS_DUMP_HEX) && !t2p) {
            put_hex(&ds, pkt, sh->info.offset,
                    sh->info.offset + sh->info.size, false);
        }
    }
    if (d->truncated) {
        ps_ds_put_format(&ds, "%struncated: %s\n", prefix, d->truncated);
    }
    size_t payload = d->packet_len > d->header_len
                     ? d->packet_len - d->header_len : 0;
    if (payload) {
        ps_ds_put_format(&ds, "%spayload: %zu bytes\n", prefix, payload);
    }
    if (d->len > d->packet_len) {
        ps_ds_put_format(&ds, "%strailer: %zu bytes\n", prefix,
                         d->len - d->packet_len);
    }
    if ((flags & PS_DUMP_HEX) && !t2p && d->len > d->header_len) {
        put_hex(&ds, pkt, d->header_len, d->len, false);
    }
    if (t2p) {
        put_hex(&ds, pkt, 0, d->len, true);
    }
    return ps_ds_steal(&ds);
}
