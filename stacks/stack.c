/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The stack compiler: a spec such as "eth,ip4,udp,vxlan,{eth,name=inner}"
 * becomes a layout (every header and field with its offset), a template
 * (the headers filled with defaults and binding values) and a fix-up plan
 * (lengths that follow the packet length, checksums, the entropy field).
 * Nothing here knows a protocol by name: all of it follows from the
 * definitions in the registry. */

#include <config.h>
#include "stack.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

/* One parsed item of a spec. */
struct spec_option {
    char *key;
    char *value;
};

struct spec_item {
    char *protocol;
    size_t column;              /* 1-based position in the spec. */
    struct spec_option *options;
    size_t n_options, allocated_options;
};

struct spec {
    struct spec_item *items;
    size_t n_items, allocated_items;
};

static void
spec_clear(struct spec *spec)
{
    for (size_t i = 0; i < spec->n_items; i++) {
        struct spec_item *item = &spec->items[i];
        free(item->protocol);
        for (size_t j = 0; j < item->n_options; j++) {
            free(item->options[j].key);
            free(item->options[j].value);
        }
        free(item->options);
    }
    free(spec->items);
    memset(spec, 0, sizeof *spec);
}

/* Copies [start, end) of a spec with surrounding blanks removed. */
static char *
trimmed_copy(const char *start, const char *end)
{
    while (start < end && isspace((unsigned char) *start)) {
        start++;
    }
    while (end > start && isspace((unsigned char) end[-1])) {
        end--;
    }
    return ps_xmemdup0(start, end - start);
}

static bool
is_name(const char *s)
{
    return ps_is_identifier(s);
}

/* Returns the value of option 'key' of 'item', or NULL. */
static const char *
find_option(const struct spec_item *item, const char *key)
{
    for (size_t i = 0; i < item->n_options; i++) {
        if (!strcmp(item->options[i].key, key)) {
            return item->options[i].value;
        }
    }
    return NULL;
}

static enum ps_error
parse_spec(const char *text, struct spec *spec, char **errorp)
{
    const char *p = text;

    memset(spec, 0, sizeof *spec);
    for (;;) {
        while (isspace((unsigned char) *p)) {
            p++;
        }
        struct spec_item *item = ps_array_push((void **) &spec->items,
                                               &spec->n_items,
                                               &spec->allocated_items,
                                               sizeof *item);
        item->column = p - text + 1;
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close) {
                return ps_set_error(errorp, PS_ERR_SYNTAX,
                                    "stack spec \"%s\", column %zu: '{' "
                                    "without '}'", text, item->column);
            }
            /* Split the braces' contents at commas. */
            const char *q = p + 1;
            bool first = true;
            for (;;) {
                const char *comma = memchr(q, ',', close - q);
                const char *end = comma ? comma : close;
                char *part = trimmed_copy(q, end);
                size_t column = q - text + 1;
                if (first) {
                    item->protocol = part;
                    first = false;
                } else {
                    char *eq = strchr(part, '=');
                    char *key = eq ? trimmed_copy(part, eq) : NULL;
                    if (!eq || !is_name(key) || !eq[1]) {
                        free(key);
                        enum ps_error e = ps_set_error(
                            errorp, PS_ERR_SYNTAX,
                            "stack spec \"%s\", column %zu: expected "
                            "KEY=VALUE, found \"%s\"", text, column, part);
                        free(part);
                        return e;
                    }
                    if (find_option(item, key)) {
                        enum ps_error e = ps_set_error(
                            errorp, PS_ERR_SYNTAX,
                            "stack spec \"%s\", column %zu: option %s is "
                            "given twice", text, column, key);
                        free(key);
                        free(part);
                        return e;
                    }
                    struct spec_option *opt;
                    opt = ps_array_push((void **) &item->options,
                                        &item->n_options,
                                        &item->allocated_options,
                                        sizeof *opt);
                    opt->key = key;
                    opt->value = trimmed_copy(eq + 1, eq + strlen(eq));
                    free(part);
                }
                if (!comma) {
                    break;
                }
                q = comma + 1;
            }
            p = close + 1;
        } else {
            const char *end = p + strcspn(p, ",{}");
            item->protocol = trimmed_copy(p, end);
            p = end;
        }
        if (!is_name(item->protocol)) {
            return ps_set_error(errorp, PS_ERR_SYNTAX,
                                "stack spec \"%s\", column %zu: expected a "
                                "protocol name, found \"%s\"", text,
                                item->column, item->protocol);
        }
        while (isspace((unsigned char) *p)) {
            p++;
        }
        if (!*p) {
            return PS_OK;
        }
        if (*p != ',') {
            return ps_set_error(errorp, PS_ERR_SYNTAX,
                                "stack spec \"%s\", column %zu: expected "
                                "',' between protocols", text,
                                (size_t) (p - text + 1));
        }
        p++;
    }
}

/* The stack under construction. */

static const char *
stack_strdup(struct ps_stack *stack, const char *s)
{
    char **slot = ps_array_push((void **) &stack->strings, &stack->n_strings,
                                &stack->allocated_strings, sizeof *slot);
    *slot = ps_xstrdup(s);
    return *slot;
}

static const char *
stack_take_string(struct ps_stack *stack, char *s)
{
    char **slot = ps_array_push((void **) &stack->strings, &stack->n_strings,
                                &stack->allocated_strings, sizeof *slot);
    *slot = s;
    return s;
}

void
ps_stack_destroy(struct ps_stack *stack)
{
    if (!stack) {
        return;
    }
    for (size_t i = 0; i < stack->n_strings; i++) {
        free(stack->strings[i]);
    }
    free(stack->strings);
    for (size_t i = 0; i < stack->n_checksums; i++) {
        free((void *) stack->checksums[i].pseudo);
    }
    free(stack->checksums);
    free(stack->lengths);
    free(stack->fields);
    for (size_t i = 0; i < stack->n_headers; i++) {
        free(stack->headers[i].options);
    }
    free(stack->headers);
    free(stack->offsets);
    free(stack->template);
    free(stack->spec);
    ps_jit_memo_destroy(atomic_load_explicit(&stack->jit_memo,
                                             memory_order_acquire));
    free(stack);
}

/* Finds field 'name' of header 'h'; returns its index or -1. */
static int
header_find_field(const struct ps_stack *stack,
                  const struct ps_stack_header *h, const char *name)
{
    for (size_t i = 0; i < h->n_fields; i++) {
        if (!strcmp(stack->fields[h->first_field + i].info.name, name)) {
            return h->first_field + i;
        }
    }
    return -1;
}

/* Per-header options from the spec, resolved. */
struct header_options {
    bool has_length;
    uint64_t length;
};

static enum ps_error
parse_option_uint(const char *spec, const struct spec_item *item,
                  const struct spec_option *opt, uint64_t *valuep,
                  char **errorp)
{
    if (!ps_parse_uint(opt->value, valuep)) {
        return ps_set_error(errorp, PS_ERR_RANGE,
                            "stack spec \"%s\", column %zu: %s=%s is not "
                            "a number", spec, item->column, opt->key,
                            opt->value);
    }
    return PS_OK;
}

/* Returns the value of flag field 'flag' in the layout being built for
 * 'item': the spec's option if given, else the flag's constant default. */
static uint64_t
flag_value(const struct spec_item *item, const struct ps_variant *v,
           const char *flag)
{
    const char *opt = find_option(item, flag);
    uint64_t value;
    if (opt && ps_parse_uint(opt, &value)) {
        return value;
    }
    const struct ps_pfield *f = ps_variant_find_field(v, flag);
    return f && f->rule == PS_RULE_CONST ? f->value : 0;
}

static bool
is_flag_of(const struct ps_variant *v, const char *name)
{
    for (size_t i = 0; i < v->n_fields; i++) {
        if (ps_pfield_has_flag(v->fields[i], name)) {
            return true;
        }
    }
    return false;
}

/* Lays out the header for 'item' at byte 'offset'. */
static enum ps_error
layout_header(struct ps_stack *stack, const char *spec,
              const struct spec_item *item, const struct ps_protocol *p,
              const struct ps_variant *v, size_t offset,
              size_t *allocated_fields, char **errorp)
{
    struct ps_stack_header *h = &stack->headers[stack->n_headers - 1];
    enum ps_error error;

    /* Options: name and subtype are handled by the caller. */
    struct header_options opts = { false, 0 };
    bool has_var = false;
    for (size_t i = 0; i < v->n_fields; i++) {
        has_var |= v->fields[i]->size_expr != NULL;
    }
    for (size_t i = 0; i < item->n_options; i++) {
        const struct spec_option *opt = &item->options[i];
        uint64_t value;
        if (!strcmp(opt->key, "name") || !strcmp(opt->key, "subtype")) {
            continue;
        }
        error = parse_option_uint(spec, item, opt, &value, errorp);
        if (error) {
            return error;
        }
        if (!strcmp(opt->key, "length")) {
            if (!has_var) {
                return ps_set_error(errorp, PS_ERR_LAYOUT,
                                    "stack spec \"%s\", column %zu: %s has "
                                    "no variable-length member for length=",
                                    spec, item->column, p->name);
            }
            if (value > 65535) {
                return ps_set_error(errorp, PS_ERR_RANGE,
                                    "stack spec \"%s\", column %zu: "
                                    "length=%"PRIu64" is too large",
                                    spec, item->column, value);
            }
            opts.has_length = true;
            opts.length = value;
        } else if (!is_flag_of(v, opt->key)) {
            return ps_set_error(errorp, PS_ERR_NO_FIELD,
                                "stack spec \"%s\", column %zu: %s is not "
                                "an option of %s (name, subtype, length, or "
                                "a flag field that controls conditional "
                                "fields)", spec, item->column, opt->key,
                                p->name);
        } else {
            const struct ps_pfield *flag = ps_variant_find_field(v, opt->key);
            if (flag->bits < 64 && value >> flag->bits) {
                return ps_set_error(errorp, PS_ERR_RANGE,
                                    "stack spec \"%s\", column %zu: "
                                    "%s=%"PRIu64" does not fit in %u bits",
                                    spec, item->column, opt->key, value,
                                    flag->bits);
            }
        }
    }

    size_t bit = 0;
    h->first_field = stack->n_fields;
    for (size_t i = 0; i < v->n_fields; i++) {
        const struct ps_pfield *pf = v->fields[i];
        bool present = !pf->cond;
        for (size_t k = 0; k < ps_pfield_n_flags(pf); k++) {
            present |= flag_value(item, v, ps_pfield_flag(pf, k)) != 0;
        }
        if (!present) {
            continue;
        }
        size_t bits = pf->bits;
        if (pf->size_expr) {
            bits = 8 * (opts.has_length ? opts.length : pf->default_size);
        }
        if ((pf->type != PS_FIELD_UINT || pf->rule == PS_RULE_CHECKSUM)
            && bit % 8) {
            return ps_set_error(errorp, PS_ERR_LAYOUT,
                                "%s: field %s.%s starts at bit %zu, not on "
                                "a byte boundary", p->file, p->name,
                                pf->name, bit);
        }
        struct ps_stack_field *sf;
        sf = ps_array_push((void **) &stack->fields, &stack->n_fields,
                           allocated_fields, sizeof *sf);
        sf->pf = pf;
        sf->info.name = stack_strdup(stack, pf->name);
        sf->info.label = stack_take_string(
            stack, ps_xasprintf("%s.%s", h->info.name, pf->name));
        sf->info.doc = stack_strdup(stack, pf->doc);
        sf->info.header = stack->n_headers - 1;
        sf->info.bit_offset = offset * 8 + bit;
        sf->info.bits = bits;
        sf->info.type = pf->type;
        sf->info.rule = pf->rule;
        sf->info.rule_text = stack_strdup(stack, pf->rule_text);
        sf->info.hex = pf->hex;
        sf->info.entropy = pf->entropy;
        sf->info.magic = pf->magic;
        bit += bits;
    }
    h->n_fields = stack->n_fields - h->first_field;
    if (bit % 8) {
        return ps_set_error(errorp, PS_ERR_LAYOUT,
                            "%s: %s subtype %s is %zu bits long, not a "
                            "whole number of bytes", p->file, p->name,
                            v->name, bit);
    }
    h->info.offset = offset;
    h->info.size = bit / 8;
    return PS_OK;
}

/* Writes the template value of every field that has a constant. */
static enum ps_error
fill_constants(struct ps_stack *stack, const char *spec,
               const struct spec *sp, char **errorp)
{
    for (size_t i = 0; i < stack->n_fields; i++) {
        const struct ps_stack_field *sf = &stack->fields[i];
        const struct ps_pfield *pf = sf->pf;
        uint8_t *t = stack->template;
        const struct spec_item *item = &sp->items[sf->info.header];
        const char *opt = find_option(item, pf->name);
        uint64_t value;

        if (opt && !pf->cond && ps_parse_uint(opt, &value)
            && strcmp(pf->name, "name") && strcmp(pf->name, "subtype")
            && strcmp(pf->name, "length")) {
            /* A flag chosen by the spec. */
            ps_bits_set(t, sf->info.bit_offset, sf->info.bits, value);
        } else if (pf->rule == PS_RULE_CONST && pf->bytes) {
            memcpy(t + sf->info.bit_offset / 8, pf->bytes, sf->info.bits / 8);
        } else if ((pf->rule == PS_RULE_CONST || pf->rule == PS_RULE_NEXT)
                   && pf->type == PS_FIELD_UINT) {
            ps_bits_set(t, sf->info.bit_offset, sf->info.bits, pf->value);
        } else if (pf->rule == PS_RULE_LENGTH
                   && pf->span == PS_SPAN_HEADER) {
            const struct ps_stack_header *h = &stack->headers[sf->info.header];
            if (h->info.size < pf->sub) {
                return ps_set_error(errorp, PS_ERR_LAYOUT,
                                    "stack spec \"%s\": %s is shorter than "
                                    "%s allows", spec, h->info.name,
                                    sf->info.rule_text);
            }
            value = (h->info.size - pf->sub) / pf->unit;
            if (sf->info.bits < 64 && value >> sf->info.bits) {
                return ps_set_error(errorp, PS_ERR_LAYOUT,
                                    "stack spec \"%s\": %s is %zu bytes "
                                    "long, too long for %s", spec,
                                    h->info.name, h->info.size,
                                    sf->info.label);
            }
            ps_bits_set(t, sf->info.bit_offset, sf->info.bits, value);
        }
    }
    return PS_OK;
}

/* Fills binding values: each header's fields that select the next header
 * get the value of the first binding between the two protocols. */
static void
fill_bindings(struct ps_stack *stack, const struct ps_snapshot *snap)
{
    for (size_t i = 0; i + 1 < stack->n_headers; i++) {
        const struct ps_stack_header *lower = &stack->headers[i];
        const struct ps_stack_header *upper = &stack->headers[i + 1];
        for (size_t j = 0; j < ps_snapshot_n_bindings(snap); j++) {
            const struct ps_binding *b = ps_snapshot_binding(snap, j);
            if (!b->field || strcmp(b->upper, upper->proto->name)
                || strcmp(b->lower, lower->proto->name)) {
                continue;
            }
            int f = header_find_field(stack, lower, b->field);
            if (f >= 0 && stack->fields[f].info.type == PS_FIELD_UINT) {
                const struct ps_field_info *fi = &stack->fields[f].info;
                ps_bits_set(stack->template, fi->bit_offset, fi->bits,
                            b->value);
                /* The binding's other conditions on the lower header's
                 * fields, where they name a value. */
                for (size_t k = 0; k < b->n_conds; k++) {
                    const struct ps_binding_cond *c = &b->conds[k];
                    int cf = (c->upper || c->not_equal ? -1
                              : header_find_field(stack, lower, c->field));
                    if (cf >= 0
                        && stack->fields[cf].info.type == PS_FIELD_UINT) {
                        fi = &stack->fields[cf].info;
                        ps_bits_set(stack->template, fi->bit_offset,
                                    fi->bits, c->value);
                    }
                }
                break;
            }
        }
    }
}

struct template_lookup {
    const struct ps_stack *stack;
    const struct ps_stack_header *h;
};

static bool
template_lookup(const char *name, void *aux_, int64_t *valuep)
{
    struct template_lookup *aux = aux_;
    int f = header_find_field(aux->stack, aux->h, name);
    if (f < 0 || aux->stack->fields[f].info.type != PS_FIELD_UINT) {
        return false;
    }
    const struct ps_field_info *fi = &aux->stack->fields[f].info;
    *valuep = ps_bits_get(aux->stack->template, fi->bit_offset, fi->bits);
    return true;
}

/* Checks that every variable-length member's size expression, evaluated
 * on the template, gives back the size the layout chose. */
static enum ps_error
check_variable_sizes(const struct ps_stack *stack, const char *spec,
                     char **errorp)
{
    for (size_t i = 0; i < stack->n_fields; i++) {
        const struct ps_stack_field *sf = &stack->fields[i];
        if (!sf->pf->size_expr) {
            continue;
        }
        const struct ps_stack_header *h = &stack->headers[sf->info.header];
        struct template_lookup aux = { stack, h };
        int64_t size;
        if (!ps_expr_eval(sf->pf->size_expr, template_lookup, &aux, &size)
            || size != (int64_t) (sf->info.bits / 8)) {
            return ps_set_error(errorp, PS_ERR_LAYOUT,
                                "stack spec \"%s\": %s cannot be %zu bytes "
                                "long (its %s gives %"PRId64" bytes from "
                                "the header's fields)", spec,
                                sf->info.label, sf->info.bits / 8,
                                sf->info.rule_text, size);
        }
    }
    return PS_OK;
}

/* Places the items of the pseudo-header of checksum 'c', 'items': sets
 * each item's 'shift' and 'mask', 'c->pseudo_sum' to the sum of the
 * constant items and puts the others, as they are summed, after the
 * declared ones in 'items' (which has room for twice 'c->n_pseudo').
 *
 * The one's complement sum is a sum modulo 0xffff, in which a number of
 * 2 * k bytes is the sum of its 16-bit words and a byte moved one place
 * toward the front is a multiplication by 256: so each item is summed
 * alone, as if it began at an even place, and moved by 8 bits when it
 * does not.  Bytes of the packet that follow bytes of the packet there
 * and in the pseudo-header are summed with them, as one. */
static void
pseudo_place_items(struct ps_checksum_fixup *c, struct ps_pseudo_item *items)
{
    struct ps_pseudo_item *summed = &items[c->n_pseudo];
    size_t n_summed = 0;
    size_t place = 0;

    c->pseudo_sum = 0;
    for (size_t i = 0; i < c->n_pseudo; i++) {
        struct ps_pseudo_item *pi = &items[i];
        size_t bytes = pi->bits / 8;

        /* Bytes are moved when they begin at an odd place; a number,
         * whose last byte is its lowest, when it ends at one. */
        size_t mark = pi->kind == PS_PSEUDO_BYTES ? place : place + bytes;
        pi->shift = mark % 2 ? 8 : 0;
        pi->mask = bytes < 8 ? (UINT64_C(1) << 8 * bytes) - 1 : UINT64_MAX;
        place += bytes;

        const struct ps_pseudo_item *prev = i ? &items[i - 1] : NULL;
        if (pi->kind == PS_PSEUDO_CONST) {
            uint64_t v = pi->value & pi->mask;
            c->pseudo_sum += ((v >> 32) + (v & 0xffffffff)) << pi->shift;
        } else if (pi->kind == PS_PSEUDO_ZERO) {
            /* Adds nothing. */
        } else if (pi->kind == PS_PSEUDO_BYTES && !pi->route_types
                   && prev && prev->kind == PS_PSEUDO_BYTES
                   && !prev->route_types
                   && prev->offset + prev->bits / 8 == pi->offset) {
            /* 'prev' is the last summed item, or its end. */
            summed[n_summed - 1].bits += pi->bits;
        } else {
            summed[n_summed++] = *pi;
        }
    }
    c->summed = summed;
    c->n_summed = n_summed;
}

/* Finds the value with which network header 'ip' binds protocol 'upper'
 * through its next-protocol field (the field whose default is "next"). */
static bool
upper_protocol_number(const struct ps_snapshot *snap,
                      const struct ps_stack_header *ip, const char *upper,
                      uint64_t *valuep)
{
    for (size_t i = 0; i < ip->variant->n_fields; i++) {
        const struct ps_pfield *pf = ip->variant->fields[i];
        if (pf->rule != PS_RULE_NEXT) {
            continue;
        }
        for (size_t j = 0; j < ps_snapshot_n_bindings(snap); j++) {
            const struct ps_binding *b = ps_snapshot_binding(snap, j);
            if (b->field && !strcmp(b->field, pf->name)
                && !strcmp(b->upper, upper)
                && !strcmp(b->lower, ip->proto->name)) {
                *valuep = b->value;
                return true;
            }
        }
        break;
    }
    return false;
}

static enum ps_error
plan_checksum(struct ps_stack *stack, const struct ps_snapshot *snap,
              size_t field, size_t *allocated, char **errorp)
{
    const struct ps_stack_field *sf = &stack->fields[field];
    const struct ps_stack_header *h = &stack->headers[sf->info.header];
    struct ps_checksum_fixup *c;

    c = ps_array_push((void **) &stack->checksums, &stack->n_checksums,
                      allocated, sizeof *c);
    c->field = field;
    c->header = sf->info.header;
    c->nonzero = sf->pf->nonzero;
    switch (sf->pf->span) {
    case PS_SPAN_HEADER:
        c->start = h->info.offset;
        c->end = h->info.offset + h->info.size;
        break;
    case PS_SPAN_REST:
        c->start = h->info.offset;
        c->end = 0;
        break;
    case PS_SPAN_PAYLOAD:
        c->start = h->info.offset + h->info.size;
        c->end = 0;
        break;
    }
    if (!sf->pf->pseudo) {
        return PS_OK;
    }

    /* The nearest enclosing header with a pseudo-header.  A stack without
     * one (UDP straight on Ethernet) sums no pseudo-header. */
    for (size_t j = sf->info.header; j-- > 0;) {
        const struct ps_stack_header *ip = &stack->headers[j];
        const struct ps_pseudo_decl *d;
        d = ps_snapshot_find_pseudo(snap, ip->proto->name);
        if (!d) {
            continue;
        }
        struct ps_pseudo_item *items = ps_xzalloc(2 * d->n_items
                                                   * sizeof *items);
        c->pseudo = items;
        c->n_pseudo = d->n_items;
        for (size_t k = 0; k < d->n_items; k++) {
            const struct ps_pseudo_decl_item *di = &d->items[k];
            struct ps_pseudo_item *pi = &items[k];
            int f;
            pi->bits = di->bits;
            switch (di->kind) {
            case PS_PDECL_FIELD:
                f = header_find_field(stack, ip, di->field);
                if (f < 0 || stack->fields[f].info.bit_offset % 8
                    || stack->fields[f].info.bits % 8) {
                    return ps_set_error(errorp, PS_ERR_LAYOUT,
                                        "pseudo-header of %s: no whole-byte "
                                        "field %s", ip->info.name,
                                        di->field);
                }
                pi->kind = PS_PSEUDO_BYTES;
                pi->offset = stack->fields[f].info.bit_offset / 8;
                pi->bits = stack->fields[f].info.bits;
                if (di->route) {
                    /* A source route in the header's options may hold
                     * the final destination. */
                    int r = header_find_field(stack, ip, di->route);
                    if (r < 0 || stack->fields[r].info.bit_offset % 8
                        || stack->fields[r].info.bits % 8) {
                        return ps_set_error(errorp, PS_ERR_LAYOUT,
                                            "pseudo-header of %s: no "
                                            "whole-byte field %s",
                                            ip->info.name, di->route);
                    }
                    pi->route_offset = stack->fields[r].info.bit_offset / 8;
                    pi->route_len = stack->fields[r].info.bits / 8;
                    /* No options, no route. */
                    pi->route_types = pi->route_len ? di->route_types : 0;
                }
                break;
            case PS_PDECL_ZERO:
                pi->kind = PS_PSEUDO_ZERO;
                break;
            case PS_PDECL_LENGTH:
                pi->kind = PS_PSEUDO_LENGTH;
                break;
            case PS_PDECL_PROTO:
                /* The upper-layer protocol's number, as the network
                 * header binds it ("bind tcp after ip4.proto == 6"), even
                 * with extension headers (AH) in between. */
                if (upper_protocol_number(snap, ip, h->proto->name,
                                          &pi->value)) {
                    pi->kind = PS_PSEUDO_CONST;
                    break;
                }
                /* Else the network header's own next-protocol field. */
                pi->kind = PS_PSEUDO_PROTO;
                f = -1;
                for (size_t m = 0; m < ip->n_fields; m++) {
                    const struct ps_stack_field *nf;
                    nf = &stack->fields[ip->first_field + m];
                    if (nf->pf->rule == PS_RULE_NEXT) {
                        f = ip->first_field + m;
                        break;
                    }
                }
                if (f < 0) {
                    return ps_set_error(errorp, PS_ERR_LAYOUT,
                                        "pseudo-header of %s: proto() needs "
                                        "a field whose default is next",
                                        ip->info.name);
                }
                pi->offset = stack->fields[f].info.bit_offset;
                pi->proto_bits = stack->fields[f].info.bits;
                break;
            }
        }
        pseudo_place_items(c, items);
        break;
    }
    return PS_OK;
}

/* True if the span of checksum 'c' covers the field of checksum 'd'. */
static bool
checksum_covers(const struct ps_stack *stack,
                const struct ps_checksum_fixup *c,
                const struct ps_checksum_fixup *d)
{
    size_t offset = stack->fields[d->field].info.bit_offset / 8;
    return offset >= c->start && (!c->end || offset < c->end);
}

/* Orders checksums [first, n_checksums) of one header so that a checksum
 * comes after every checksum whose field its span covers. */
static enum ps_error
order_by_coverage(struct ps_stack *stack, size_t first, char **errorp)
{
    struct ps_checksum_fixup *cs = stack->checksums;
    for (size_t done = first; done < stack->n_checksums; done++) {
        /* Pick the first remaining checksum that covers no other
         * remaining one. */
        size_t pick = SIZE_MAX;
        for (size_t i = done; i < stack->n_checksums && pick == SIZE_MAX;
             i++) {
            bool covers = false;
            for (size_t j = done; j < stack->n_checksums; j++) {
                covers |= j != i && checksum_covers(stack, &cs[i], &cs[j]);
            }
            if (!covers) {
                pick = i;
            }
        }
        if (pick == SIZE_MAX) {
            return ps_set_error(errorp, PS_ERR_LAYOUT,
                                "stack spec \"%s\": the checksums of %s "
                                "cover each other", stack->spec,
                                stack->headers[cs[done].header].info.name);
        }
        struct ps_checksum_fixup tmp = cs[pick];
        memmove(&cs[done + 1], &cs[done], (pick - done) * sizeof *cs);
        cs[done] = tmp;
    }
    return PS_OK;
}

/* Builds the fix-up plan: lengths that follow the packet length, and
 * checksums from the innermost header out; within a header, a checksum
 * after those its span covers. */
static enum ps_error
plan_fixups(struct ps_stack *stack, const struct ps_snapshot *snap,
            char **errorp)
{
    size_t allocated_lengths = 0, allocated_checksums = 0;

    stack->entropy_field = -1;
    for (size_t i = 0; i < stack->n_fields; i++) {
        const struct ps_stack_field *sf = &stack->fields[i];
        const struct ps_stack_header *h = &stack->headers[sf->info.header];
        if (sf->pf->rule == PS_RULE_LENGTH
            && sf->pf->span != PS_SPAN_HEADER) {
            struct ps_length_fixup *l;
            l = ps_array_push((void **) &stack->lengths, &stack->n_lengths,
                              &allocated_lengths, sizeof *l);
            l->field = i;
            l->start = h->info.offset;
            if (sf->pf->span == PS_SPAN_PAYLOAD) {
                l->start += h->info.size;
            }
            l->sub = sf->pf->sub;
            l->unit = sf->pf->unit;
        }
        if (sf->info.entropy && stack->entropy_field < 0) {
            stack->entropy_field = i;
        }
    }
    stack->max_len = SIZE_MAX;
    for (size_t i = 0; i < stack->n_lengths; i++) {
        size_t max = ps_length_fixup_max(stack, &stack->lengths[i]);
        if (max < stack->max_len) {
            stack->max_len = max;
        }
    }

    for (size_t i = stack->n_headers; i-- > 0;) {
        const struct ps_stack_header *h = &stack->headers[i];
        size_t first = stack->n_checksums;
        for (size_t j = 0; j < h->n_fields; j++) {
            size_t f = h->first_field + j;
            if (stack->fields[f].pf->rule == PS_RULE_CHECKSUM) {
                enum ps_error error = plan_checksum(stack, snap, f,
                                                    &allocated_checksums,
                                                    errorp);
                if (error) {
                    return error;
                }
            }
        }
        enum ps_error error = order_by_coverage(stack, first, errorp);
        if (error) {
            return error;
        }
    }
    return PS_OK;
}

static void
canonical_spec(struct ps_stack *stack, const struct spec *sp)
{
    struct ps_ds ds = PS_DS_INITIALIZER;
    for (size_t i = 0; i < sp->n_items; i++) {
        const struct spec_item *item = &sp->items[i];
        if (i) {
            ps_ds_put_char(&ds, ',');
        }
        if (item->n_options) {
            ps_ds_put_char(&ds, '{');
        }
        ps_ds_put_cstr(&ds, item->protocol);
        for (size_t j = 0; j < item->n_options; j++) {
            ps_ds_put_format(&ds, ",%s=%s", item->options[j].key,
                             item->options[j].value);
        }
        if (item->n_options) {
            ps_ds_put_char(&ds, '}');
        }
    }
    stack->spec = ps_ds_steal(&ds);
}

char *
ps_stack_header_default_name(const char *protocol, size_t k)
{
    return (k == 0 ? ps_xstrdup(protocol)
            : k == 1 ? ps_xasprintf("inner_%s", protocol)
            : ps_xasprintf("inner%zu_%s", k, protocol));
}

static enum ps_error
compile(struct ps_stack *stack, const struct ps_snapshot *snap,
        const char *spec, const struct spec *sp, char **errorp)
{
    size_t allocated_fields = 0;
    size_t offset = 0;
    enum ps_error error;

    stack->headers = ps_xzalloc(sp->n_items * sizeof *stack->headers);
    for (size_t i = 0; i < sp->n_items; i++) {
        const struct spec_item *item = &sp->items[i];
        const struct ps_protocol *p = ps_snapshot_find(snap, item->protocol);
        if (!p) {
            return ps_set_error(errorp, PS_ERR_NO_PROTOCOL,
                                "stack spec \"%s\", column %zu: unknown "
                                "protocol \"%s\"", spec, item->column,
                                item->protocol);
        }
        const char *subtype = find_option(item, "subtype");
        const struct ps_variant *v = NULL;
        for (size_t j = 0; j < p->n_variants; j++) {
            if (!subtype || !strcmp(subtype, p->variants[j].name)) {
                v = &p->variants[j];
                break;
            }
        }
        if (!v) {
            struct ps_ds known = PS_DS_INITIALIZER;
            for (size_t j = 0; j < p->n_variants; j++) {
                ps_ds_put_format(&known, "%s%s", j ? ", " : "",
                                 p->variants[j].name);
            }
            error = ps_set_error(errorp, PS_ERR_NO_SUBTYPE,
                                 "stack spec \"%s\", column %zu: %s has no "
                                 "subtype \"%s\" (known: %s)", spec,
                                 item->column, p->name, subtype,
                                 ps_ds_cstr(&known));
            ps_ds_destroy(&known);
            return error;
        }
        const char *name = find_option(item, "name");
        if (name && !is_name(name)) {
            return ps_set_error(errorp, PS_ERR_SYNTAX,
                                "stack spec \"%s\", column %zu: name=\"%s\" "
                                "is not an identifier", spec, item->column,
                                name);
        }
        char *auto_name = NULL;
        if (!name) {
            /* The k-th unnamed header of a protocol is named as the
             * dissector names it: ip4, inner_ip4, inner2_ip4... */
            size_t k = 0;
            for (size_t j = 0; j < stack->n_headers; j++) {
                k += stack->headers[j].proto == p;
            }
            auto_name = ps_stack_header_default_name(p->name, k);
            name = auto_name;
        }
        for (size_t j = 0; j < stack->n_headers; j++) {
            if (!strcmp(stack->headers[j].info.name, name)) {
                error = ps_set_error(errorp, PS_ERR_DUPLICATE,
                                     "stack spec \"%s\", column %zu: "
                                     "header name \"%s\" is used twice; "
                                     "give one another name (e.g. "
                                     "{%s,name=outer_%s})", spec,
                                     item->column, name, p->name, p->name);
                free(auto_name);
                return error;
            }
        }

        struct ps_stack_header *h = &stack->headers[stack->n_headers++];
        h->options = ps_xmalloc((item->n_options + 1) * sizeof *h->options);
        for (size_t j = 0; j < item->n_options; j++) {
            h->options[h->n_options++] = stack_take_string(
                stack, ps_xasprintf("%s=%s", item->options[j].key,
                                    item->options[j].value));
        }
        h->proto = p;
        h->variant = v;
        h->info.name = stack_strdup(stack, name);
        free(auto_name);
        h->info.protocol = stack_strdup(stack, p->name);
        h->info.subtype = stack_strdup(stack, v->name);
        h->info.doc = stack_strdup(stack, v->doc);
        error = layout_header(stack, spec, item, p, v, offset,
                              &allocated_fields, errorp);
        if (error) {
            return error;
        }
        offset += h->info.size;
    }
    stack->size = offset;
    stack->template = ps_xzalloc(offset);

    error = fill_constants(stack, spec, sp, errorp);
    if (error) {
        return error;
    }
    fill_bindings(stack, snap);
    error = check_variable_sizes(stack, spec, errorp);
    if (error) {
        return error;
    }
    error = plan_fixups(stack, snap, errorp);
    if (error) {
        return error;
    }
    /* The template is a legal packet with no payload. */
    ps_stack_set_length(stack, stack->template, stack->size);
    ps_stack_fix_checksums(stack, stack->template, stack->size);
    return PS_OK;
}

enum ps_error
ps_stack_create(const struct ps_registry *reg, const char *spec,
                struct ps_stack **stackp, char **errorp)
{
    return ps_stack_create_from(ps_registry_snapshot(reg), spec, stackp,
                                errorp);
}

enum ps_error
ps_stack_create_from(const struct ps_snapshot *snap, const char *spec,
                     struct ps_stack **stackp, char **errorp)
{
    struct spec sp;
    enum ps_error error;

    *stackp = NULL;
    if (!spec || !spec[strspn(spec, " \t")]) {
        return ps_set_error(errorp, PS_ERR_SYNTAX, "empty stack spec");
    }
    error = parse_spec(spec, &sp, errorp);
    if (error) {
        spec_clear(&sp);
        return error;
    }

    struct ps_stack *stack = ps_xzalloc(sizeof *stack);
    canonical_spec(stack, &sp);
    error = compile(stack, snap, spec, &sp, errorp);
    spec_clear(&sp);
    if (error) {
        ps_stack_destroy(stack);
        return error;
    }
    /* Definitions may be unloaded later: drop every pointer into them. */
    for (size_t i = 0; i < stack->n_headers; i++) {
        stack->headers[i].proto = NULL;
        stack->headers[i].variant = NULL;
    }
    for (size_t i = 0; i < stack->n_fields; i++) {
        stack->fields[i].pf = NULL;
    }
    stack->offsets = ps_xmalloc((stack->n_headers + 1)
                                * sizeof *stack->offsets);
    for (size_t i = 0; i < stack->n_headers; i++) {
        stack->offsets[i] = stack->headers[i].info.offset;
    }
    stack->offsets[stack->n_headers] = stack->size;
    *stackp = stack;
    return PS_OK;
}

/* Accessors. */

const char *
ps_stack_spec(const struct ps_stack *stack)
{
    return stack->spec;
}

size_t
ps_stack_size(const struct ps_stack *stack)
{
    return stack->size;
}

size_t
ps_stack_max_length(const struct ps_stack *stack)
{
    return stack->max_len;
}

const uint8_t *
ps_stack_template(const struct ps_stack *stack)
{
    return stack->template;
}

size_t
ps_stack_n_headers(const struct ps_stack *stack)
{
    return stack->n_headers;
}

const struct ps_header_info *
ps_stack_header(const struct ps_stack *stack, size_t i)
{
    return i < stack->n_headers ? &stack->headers[i].info : NULL;
}

size_t
ps_stack_n_fields(const struct ps_stack *stack)
{
    return stack->n_fields;
}

const struct ps_field_info *
ps_stack_field(const struct ps_stack *stack, size_t i)
{
    return i < stack->n_fields ? &stack->fields[i].info : NULL;
}

int
ps_stack_find_header(const struct ps_stack *stack, const char *name)
{
    for (size_t i = 0; i < stack->n_headers; i++) {
        if (!strcmp(stack->headers[i].info.name, name)) {
            return i;
        }
    }
    return -1;
}

enum ps_error
ps_stack_find_field(const struct ps_stack *stack, const char *label,
                    size_t *fieldp, char **errorp)
{
    for (size_t i = 0; i < stack->n_fields; i++) {
        if (!strcmp(stack->fields[i].info.label, label)) {
            *fieldp = i;
            return PS_OK;
        }
    }
    const char *dot = strchr(label, '.');
    if (!dot) {
        return ps_set_error(errorp, PS_ERR_NO_FIELD,
                            "label \"%s\" is not HEADER.FIELD", label);
    }
    char *header = ps_xmemdup0(label, dot - label);
    int h = ps_stack_find_header(stack, header);
    enum ps_error error;
    if (h < 0) {
        error = ps_set_error(errorp, PS_ERR_NO_FIELD,
                             "label \"%s\": stack %s has no header \"%s\"",
                             label, stack->spec, header);
    } else {
        error = ps_set_error(errorp, PS_ERR_NO_FIELD,
                             "label \"%s\": header %s (%s) has no field "
                             "\"%s\"", label, header,
                             stack->headers[h].info.protocol, dot + 1);
    }
    free(header);
    return error;
}

size_t
ps_stack_n_length_fixups(const struct ps_stack *stack)
{
    return stack->n_lengths;
}

const struct ps_length_fixup *
ps_stack_length_fixup(const struct ps_stack *stack, size_t i)
{
    return i < stack->n_lengths ? &stack->lengths[i] : NULL;
}

size_t
ps_stack_n_checksum_fixups(const struct ps_stack *stack)
{
    return stack->n_checksums;
}

const struct ps_checksum_fixup *
ps_stack_checksum_fixup(const struct ps_stack *stack, size_t i)
{
    return i < stack->n_checksums ? &stack->checksums[i] : NULL;
}

int
ps_stack_entropy_field(const struct ps_stack *stack)
{
    return stack->entropy_field;
}

char *
ps_stack_variant_spec(const struct ps_stack *stack, size_t header,
                      size_t length)
{
    struct ps_ds ds = PS_DS_INITIALIZER;
    for (size_t i = 0; i < stack->n_headers; i++) {
        const struct ps_stack_header *h = &stack->headers[i];
        size_t n = 0;
        if (i) {
            ps_ds_put_char(&ds, ',');
        }
        ps_ds_put_format(&ds, "{%s", h->info.protocol);
        for (size_t j = 0; j < h->n_options; j++) {
            if (i != header || strncmp(h->options[j], "length=", 7)) {
                ps_ds_put_format(&ds, ",%s", h->options[j]);
                n++;
            }
        }
        if (i == header) {
            ps_ds_put_format(&ds, ",length=%zu", length);
            n++;
        }
        if (n) {
            ps_ds_put_char(&ds, '}');
        } else {
            /* No options: the plain name, without braces. */
            ds.len -= strlen(h->info.protocol) + 1;
            ps_ds_put_cstr(&ds, h->info.protocol);
        }
    }
    return ps_ds_steal(&ds);
}

char *
ps_stack_default_name(const struct ps_stack *stack)
{
    struct ps_ds ds = PS_DS_INITIALIZER;
    for (size_t i = 0; i < stack->n_headers; i++) {
        const struct ps_header_info *h = &stack->headers[i].info;
        if (i) {
            ps_ds_put_char(&ds, '_');
        }
        ps_ds_put_cstr(&ds, h->name);
        if (strcmp(h->subtype, "plain")) {
            ps_ds_put_format(&ds, "_%s", h->subtype);
        }
    }
    return ps_ds_steal(&ds);
}
