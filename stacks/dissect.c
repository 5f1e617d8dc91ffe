/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The dissector: parses a packet of unknown stack with the bindings of the
 * protocol definitions, compiled once per registry generation into a
 * table (dissect-table.c), then finds the compiled stack of the headers
 * it found by a hash of their sequence, so that every other function
 * (labels, text forms, the fix-up plan) works on it.  The plan also tells
 * which lengths and checksums to verify.  Every read is checked against
 * the packet's length.  Nothing is allocated or written as text per
 * packet, but the dissection itself and what it reports wrong. */

#include <config.h>
#include "dissect.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

#define MAX_HEADERS 64
#define MAX_KEY 1024            /* Words of a stack's key. */
#define SCRATCH 512             /* Places of fields that move, for all the
                                 * headers of a packet. */
#define MAX_GROUPS 8            /* Fields with bindings, merged in order. */

/* A header found in the packet. */
struct found_header {
    const struct ps_dproto *p;
    const struct ps_dvariant *v;
    size_t offset;
    size_t size;
    struct ps_dplace *dyn;      /* Places of the fields from the layout's
                                 * 'n_fixed' on, or NULL if none. */
    bool dyn_owned;             /* 'dyn' is malloc()'d, not scratch. */
    bool has_var;
    size_t var_len;
    size_t default_var_len;     /* What a spec without length= gives. */
};

/* Room for the places of the fields that move. */
struct scratch {
    struct ps_dplace places[SCRATCH];
    size_t used;
};

/* What the end of the part of a packet being read is, as a plan sees it
 * (see "Plans" below): the end of the frame, the end that the outermost
 * length field gives (the packet's, before any trailer), or a place that
 * a length field of a value the plan holds gives. */
enum dvar {
    DVAR_CONST,
    DVAR_LEN,
    DVAR_P,
};

/* A length field that a plan does not hold to its value, in the order
 * the walk read them: the first, the outermost, gives the packet's end
 * ('end' within 'lo' and the frame's length); each one further in ends
 * where the outermost does.  'end' is 'add' + 'value' * 'unit', for a
 * value of at most 'max'. */
struct ps_dlen {
    uint32_t bit, bits;         /* The field, from the packet's start. */
    size_t add, unit, lo;
    uint64_t max;

    /* Filled by a plan, as in struct ps_dabsent. */
    size_t byte;
    unsigned int shift;
    uint64_t mask;
};

/* The reads of packet bytes that a walk made, in order (see "Plans"
 * below). */
#define MAX_READS 96
#define MAX_ABSENT 16
#define MAX_LENS 16
_Static_assert(MAX_READS + MAX_ABSENT <= 256, "a read's index fits a byte of "
               "its key (trace_sort())");
struct trace {
    const uint8_t *pkt;
    size_t n;                   /* MAX_READS + 1 if there were more. */
    struct ps_dread {
        uint32_t bit;           /* From the packet's start. */
        uint32_t bits;
        uint64_t value;
        bool free;              /* A length field of 'lens'. */
        bool absent;            /* In a plan: the value that a field of
                                 * 'absent' had. */
    } reads[MAX_READS + MAX_ABSENT];  /* From MAX_READS on, the values of
                                       * the fields of 'absent'. */

    /* The length fields that a plan checks by their relation to the
     * packet's ends... */
    size_t n_lens;
    struct ps_dlen lens[MAX_LENS];

    /* ...and the frame's lengths ('len_*') and packet's ends ('p_*') for
     * which each bound that the walk checked comes out the same. */
    size_t len_min, len_max, p_min, p_max;

    /* Successor fields that held no value of their group: only that
     * matters, not their value (a UDP source port). */
    size_t n_absent;
    struct ps_dabsent {
        uint32_t bit, bits;
        uint64_t value;         /* What it held. */
        const struct ps_dgroup *g;

        /* Filled by a plan: the field is ('byte' is not SIZE_MAX) the
         * 8 bytes from 'byte', big-endian, shifted right by 'shift',
         * under 'mask'. */
        size_t byte;
        unsigned int shift;
        uint64_t mask;
    } absent[MAX_ABSENT];
};

/* The part of a packet being read: 'len' bytes from 'base', and where
 * to record what is read, if anywhere, with what its end is. */
struct view {
    const uint8_t *base;
    size_t len;
    struct trace *trace;
    enum dvar end;
};

/* Records that the walk checked whether 'view' has its first 'need'
 * bytes, and 'ok' if it does: for a plan, a bound on the end of the
 * view. */
static inline void __attribute__((__always_inline__))
trace_bound(const struct view *view, size_t need, bool ok)
{
    struct trace *t = view->trace;
    size_t at = view->base - t->pkt + need;
    size_t *min = view->end == DVAR_LEN ? &t->len_min : &t->p_min;
    size_t *max = view->end == DVAR_LEN ? &t->len_max : &t->p_max;

    if (view->end == DVAR_CONST) {
        return;
    } else if (ok) {
        *min = *min > at ? *min : at;
    } else {
        *max = *max < at - 1 ? *max : at - 1;
    }
}

/* Records, for a plan, the walk's check of length field 'c' of the
 * header at 'offset' ('size' bytes), which holds 'value' (the trace's
 * last read), against the end 'limit', which is 'var'; returns what the
 * end is after the check.  A length that the walk takes is, if the end
 * was the frame's, the packet's end (the first), or if it was the
 * packet's and it ends there too, one that must end there:
 * the plan does not hold either to its value.  Any other is held to its
 * value, and a bound that it checked is recorded. */
static enum dvar
trace_length(struct trace *t, const struct ps_dcheck *c, size_t offset,
             size_t size, uint64_t value, size_t limit, enum dvar var)
{
    size_t base = c->span == PS_SPAN_REST ? offset : offset + size;
    size_t lo = offset + size;
    bool in_range = value <= c->max;
    size_t end = in_range ? base + value * c->unit + c->sub : 0;
    bool ok = in_range && end >= lo && end <= limit;

    if (ok && (var == DVAR_LEN || (var == DVAR_P && end == limit))) {
        if (!t->n || t->n > MAX_READS || t->n_lens >= MAX_LENS) {
            /* No room: no plan. */
            t->n = MAX_READS + 1;
            return DVAR_CONST;
        }
        struct ps_dread *r = &t->reads[t->n - 1];
        struct ps_dlen *l = &t->lens[t->n_lens++];
        l->bit = r->bit;
        l->bits = r->bits;
        l->add = base + c->sub;
        l->unit = c->unit;
        l->lo = lo;
        l->max = c->max;
        r->free = true;
        if (var == DVAR_P) {
            t->p_min = t->p_min > lo ? t->p_min : lo;
        }
        return DVAR_P;
    } else if (ok) {
        /* A place before the end, or after a place. */
        if (var == DVAR_P) {
            t->p_min = t->p_min > end ? t->p_min : end;
        }
        return DVAR_CONST;
    } else if (in_range && end >= lo) {
        /* Beyond the end. */
        struct view v = { t->pkt, 0, t, var };
        trace_bound(&v, end, false);
    }
    return var;
}

/* Returns the 'bits'-bit integer (at most 64 bits) 'bit' bits into
 * 'len' bytes at 'base', which hold it. */
static inline uint64_t
load_bits(const uint8_t *base, size_t len, size_t bit, size_t bits)
{
    size_t byte = bit / 8;
    unsigned int shift = bit % 8;
    if (bits && shift + bits <= 64 && byte + 8 <= len) {
        /* One load of the 8 bytes that hold the field. */
        return (ps_load_be64(base + byte) << shift) >> (64 - bits);
    }
    return bits ? ps_bits_get(base, bit, bits) : 0;
}

static inline void __attribute__((__always_inline__))
trace_read(struct trace *trace, const uint8_t *base, size_t bit,
           size_t bits, uint64_t value)
{
    if (trace->n < MAX_READS) {
        struct ps_dread *r = &trace->reads[trace->n++];
        r->bit = (base - trace->pkt) * 8 + bit;
        r->bits = bits;
        r->value = value;
        r->free = false;
        r->absent = false;
    } else {
        trace->n = MAX_READS + 1;
    }
}

/* Records that field 'bit', 'bits' wide, of the packet at 'base' holds
 * no value of group 'g'. */
static void
trace_absent(struct trace *trace, const uint8_t *base, size_t bit,
             size_t bits, uint64_t value, const struct ps_dgroup *g)
{
    if (trace->n_absent < MAX_ABSENT) {
        struct ps_dread *r = &trace->reads[MAX_READS + trace->n_absent];
        struct ps_dabsent *a = &trace->absent[trace->n_absent++];
        a->bit = (base - trace->pkt) * 8 + bit;
        a->bits = bits;
        a->value = value;
        a->g = g;
        *r = (struct ps_dread) { a->bit, bits, value, false, true };
    } else {
        trace->n = MAX_READS + 1;
    }
}

/* Returns the 'bits'-bit integer (at most 64 bits) 'bit' bits into
 * 'view', which holds it. */
static inline uint64_t
get_bits(const struct view *view, size_t bit, size_t bits)
{
    uint64_t value = load_bits(view->base, view->len, bit, bits);
    if (view->trace && bits) {
        trace_read(view->trace, view->base, bit, bits, value);
    }
    return value;
}

static inline bool __attribute__((__always_inline__))
read_bits(const struct view *view, size_t bit, size_t bits, uint64_t *value)
{
    if (bits > 64) {
        return false;
    }
    bool ok = bit + bits <= view->len * 8;
    if (view->trace) {
        trace_bound(view, (bit + bits + 7) / 8, ok);
    }
    if (!ok) {
        return false;
    }
    *value = get_bits(view, bit, bits);
    return true;
}

/* The place of field 'i' of layout 'v' whose moving fields are 'dyn'. */
static inline const struct ps_dplace *
place_of(const struct ps_dvariant *v, const struct ps_dplace *dyn, int i)
{
    return ((size_t) i < v->n_fixed ? &v->fixed[i]
            : &dyn[i - v->n_fixed]);
}

static inline const struct ps_dplace *
place(const struct found_header *h, int i)
{
    return place_of(h->v, h->dyn, i);
}

/* Evaluates size expression 'e' on the fields of layout 'v' placed so far
 * in 'view', as ps_expr_eval() with a lookup that knows placed integer
 * fields only. */
static bool
dexpr_eval(const struct ps_dexpr *e, const struct ps_dvariant *v,
           const struct ps_dplace *dyn, const struct view *view,
           int64_t *valuep)
{
    int64_t l, r;
    uint64_t u;

    switch (e->op) {
    case PS_EXPR_NUM:
        *valuep = e->num;
        return true;
    case PS_EXPR_FIELD:
        if (e->field == PS_DNONE || !v->fields[e->field].uint) {
            return false;
        } else {
            const struct ps_dplace *pl = place_of(v, dyn, e->field);
            if (!pl->present || !read_bits(view, pl->bit, pl->bits, &u)) {
                return false;
            }
            *valuep = u;
            return true;
        }
    case PS_EXPR_ADD:
    case PS_EXPR_SUB:
    case PS_EXPR_MUL:
    case PS_EXPR_DIV:
        return (dexpr_eval(e->left, v, dyn, view, &l)
                && dexpr_eval(e->right, v, dyn, view, &r)
                && ps_expr_apply(e->op, l, r, valuep));
    }
    return false;
}

/* Evaluates the size of a field, 'e', as dexpr_eval(). */
static inline bool
size_eval(const struct ps_dexpr *e, const struct ps_dvariant *v,
          const struct ps_dplace *dyn, const struct view *view,
          int64_t *valuep)
{
    if (!e->affine) {
        return dexpr_eval(e, v, dyn, view, valuep);
    }
    uint64_t u = 0;
    if (e->affine_field != PS_DNONE) {
        const struct ps_dplace *pl = place_of(v, dyn, e->affine_field);
        if (!pl->present || !read_bits(view, pl->bit, pl->bits, &u)) {
            return false;
        }
    }
    *valuep = (int64_t) u * e->mul + e->add;
    return true;
}

static void
found_header_clear(struct found_header *h)
{
    if (h->dyn_owned) {
        free(h->dyn);
    }
    h->dyn = NULL;
    h->dyn_owned = false;
}

/* Lays out variant 'v' of 'p' on the bytes of 'view' (which start at the
 * header): flags and sizes come from the packet.  The places of the
 * fields that move go to 'scratch' (not yet taken: the caller takes them
 * if it keeps the header) or, if it is full, to memory of their own.  On
 * failure returns false with the reason in '*why' (malloc()'d). */
static bool
layout_from_packet(const struct ps_dproto *p, const struct ps_dvariant *v,
                   const struct view *view, struct found_header *h,
                   struct scratch *scratch, char **why)
{
    size_t n_dyn = v->n_fields - v->n_fixed;

    h->p = p;
    h->v = v;
    h->has_var = false;
    h->dyn = NULL;
    h->dyn_owned = false;
    if (!n_dyn) {
        h->size = v->fixed_bits / 8;
        return true;
    }
    if (scratch->used + n_dyn <= SCRATCH) {
        h->dyn = &scratch->places[scratch->used];
    } else {
        h->dyn = ps_xmalloc(n_dyn * sizeof *h->dyn);
        h->dyn_owned = true;
    }

    size_t bit = v->fixed_bits;
    for (size_t i = v->n_fixed; i < v->n_fields; i++) {
        const struct ps_dfield *f = &v->fields[i];
        struct ps_dplace *pl = &h->dyn[i - v->n_fixed];
        size_t bits = f->bits;

        bool present = !f->n_flags;
        for (size_t k = 0; k < f->n_flags; k++) {
            const struct ps_dplace *flag;
            uint64_t on;
            flag = (f->flags[k] == PS_DNONE ? NULL
                    : place_of(v, h->dyn, f->flags[k]));
            if (!flag || !flag->present
                || !read_bits(view, flag->bit, flag->bits, &on)) {
                *why = ps_xasprintf("%s needs more bytes than the %zu left",
                                    p->p->name, view->len);
                return false;
            }
            present |= on != 0;
        }
        pl->bit = bit;
        pl->present = present;
        if (!present) {
            pl->bits = 0;
            continue;
        }
        if (f->size) {
            int64_t size;
            if (!size_eval(f->size, v, h->dyn, view, &size)) {
                *why = ps_xasprintf("%s needs more bytes than the %zu left",
                                    p->p->name, view->len);
                return false;
            }
            if (size < 0 || size > 65535) {
                *why = ps_xasprintf("%s.%s would be %"PRId64" bytes long",
                                    p->p->name, f->pf->name, size);
                return false;
            }
            bits = size * 8;
            h->has_var = true;
            h->var_len = size;
            h->default_var_len = f->pf->default_size;
        }
        pl->bits = bits;
        bit += bits;
    }
    h->size = bit / 8;
    return true;
}

/* Sets '*why' to say that header 'h' does not fit in 'view'. */
static void __attribute__((__cold__))
header_too_long(const struct found_header *h, const struct view *view,
                char **why)
{
    bool plain = h->v->index == 0;
    *why = ps_xasprintf("%s%s%s needs %zu bytes, %zu left",
                        h->p->p->name, plain ? "" : " ",
                        plain ? "" : h->v->v->name, h->size, view->len);
}

/* Checks that header 'h', laid out, fits in 'view'. */
static inline bool __attribute__((__always_inline__))
header_fits(const struct found_header *h, const struct view *view,
            char **why)
{
    if (view->trace) {
        trace_bound(view, h->size, h->size <= view->len);
    }
    if (h->size > view->len) {
        header_too_long(h, view, why);
        return false;
    }
    return true;
}

/* Keeps header 'h': its places in 'scratch' are taken. */
static bool
keep_header(struct found_header *h, struct scratch *scratch)
{
    if (h->dyn && !h->dyn_owned) {
        scratch->used += h->v->n_fields - h->v->n_fixed;
    }
    return true;
}

/* Parses protocol 'p' at the start of 'view': picks the variant whose
 * "when" field holds its value, else "plain". */
static bool
parse_header(const struct ps_dproto *p, const struct view *view,
             struct found_header *h, struct scratch *scratch, char **why)
{
    for (size_t i = 1; p->has_subtypes && i < p->n_variants; i++) {
        const struct ps_dvariant *v = &p->variants[i];
        char *ignore = NULL;
        if (v->v->unparsed) {
            continue;
        }
        if (layout_from_packet(p, v, view, h, scratch, &ignore)
            && v->when != PS_DNONE) {
            const struct ps_dplace *f = place(h, v->when);
            uint64_t value;
            if (f->present && read_bits(view, f->bit, f->bits, &value)
                && value == v->v->when_value) {
                /* The subtype is chosen; it may still be cut short. */
                if (header_fits(h, view, why)) {
                    return keep_header(h, scratch);
                }
                found_header_clear(h);
                return false;
            }
        }
        free(ignore);
        found_header_clear(h);
    }
    if (layout_from_packet(p, &p->variants[0], view, h, scratch, why)
        && header_fits(h, view, why)) {
        return keep_header(h, scratch);
    }
    found_header_clear(h);
    return false;
}

enum magic_result {
    MAGIC_MATCH,
    MAGIC_MISMATCH,
    MAGIC_UNREADABLE,           /* Too few bytes to tell. */
};

/* Checks whether every @magic field of 'p' (plain layout) holds its
 * constant in the bytes of 'view'. */
static enum magic_result
magic_matches(const struct ps_dproto *p, const struct view *view)
{
    for (size_t i = 0; i < p->n_magic; i++) {
        const struct ps_dmagic *m = &p->magic[i];
        uint64_t value;
        if (!m->uint) {
            return MAGIC_MISMATCH;
        } else if (!read_bits(view, m->bit, m->bits, &value)) {
            return MAGIC_UNREADABLE;
        } else if (value != m->value) {
            return MAGIC_MISMATCH;
        }
    }
    return MAGIC_MATCH;
}

/* Checks the further conditions of binding 'b' after 'h': MAGIC_MATCH if
 * all hold, MAGIC_UNREADABLE if one is on a field of the upper protocol
 * beyond the end of 'rest'. */
static inline enum magic_result __attribute__((__always_inline__))
binding_conds_hold(const struct ps_dbind *b, const struct found_header *h,
                   const struct view *packet, const struct view *rest)
{
    for (size_t i = 0; i < b->n_conds; i++) {
        const struct ps_dcond *c = &b->conds[i];
        enum magic_result known = MAGIC_MISMATCH;
        uint64_t value;
        if (c->upper) {
            if (c->known) {
                known = (read_bits(rest, c->bit, c->bits, &value)
                         ? MAGIC_MATCH : MAGIC_UNREADABLE);
            }
        } else if (c->field != PS_DNONE && h->v->fields[c->field].uint) {
            /* A kept header lies within the packet. */
            const struct ps_dplace *f = place(h, c->field);
            if (f->present) {
                value = get_bits(packet, h->offset * 8 + f->bit, f->bits);
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
                            "what follows", h->p->p->name, rest->len);
    }
}

/* Tries binding 'b', whose field holds its value, after 'h': returns its
 * upper protocol if its conditions hold. */
static inline const struct ps_dproto * __attribute__((__always_inline__))
try_binding(const struct ps_dbind *b, const struct found_header *h,
            const struct view *packet, const struct view *rest, char **why)
{
    enum magic_result r = (b->upper ? binding_conds_hold(b, h, packet, rest)
                           : MAGIC_MISMATCH);
    if (r == MAGIC_MATCH) {
        if (*why) {
            free(*why);
            *why = NULL;
        }
        return b->upper;
    } else if (r == MAGIC_UNREADABLE) {
        too_short_to_tell(h, rest, why);
    }
    return NULL;
}

/* The entries of 'value' in group 'g', or NULL. */
static inline const struct ps_dgroup_slot *
group_find(const struct ps_dgroup *g, uint64_t value)
{
    size_t slot = ps_dgroup_slot(value, g->mask);
    for (const struct ps_dgroup_slot *s; (s = &g->slots[slot])->hi;
         slot = (slot + 1) & g->mask) {
        if (g->entries[s->lo].value == value) {
            return s;
        }
    }
    return NULL;
}

/* Finds in group 'g' the bindings whose value is the one its field has
 * in header 'h': sets '*lo' and '*hi' to their range (empty if none). */
static inline void __attribute__((__always_inline__))
group_range(const struct ps_dgroup *g, const struct found_header *h,
            const struct view *packet, size_t *lo, size_t *hi)
{
    const struct ps_dplace *f = place(h, g->field);
    size_t bit = h->offset * 8 + f->bit;

    *lo = *hi = 0;
    if (!f->present) {
        return;
    }
    uint64_t value = load_bits(packet->base, packet->len, bit, f->bits);
    const struct ps_dgroup_slot *s = group_find(g, value);
    if (s) {
        *lo = s->lo;
        *hi = s->hi;
    }
    if (packet->trace && s && f->bits) {
        trace_read(packet->trace, packet->base, bit, f->bits, value);
    } else if (packet->trace && f->bits) {
        trace_absent(packet->trace, packet->base, bit, f->bits, value, g);
    }
}

/* The bindings on a field of 'h' that hold the binding's value, in load
 * order: returns the first upper protocol whose conditions hold. */
static const struct ps_dproto *
next_by_field(const struct found_header *h, const struct view *packet,
              const struct view *rest, char **why)
{
    const struct ps_dvariant *v = h->v;
    size_t lo[MAX_GROUPS], hi[MAX_GROUPS];

    if (v->n_groups == 1) {
        const struct ps_dgroup *g = &v->groups[0];
        size_t a, b;
        group_range(g, h, packet, &a, &b);
        for (; a < b; a++) {
            const struct ps_dproto *upper;
            upper = try_binding(&v->binds[g->entries[a].bind], h, packet,
                                rest, why);
            if (upper) {
                return upper;
            }
        }
        return NULL;
    } else if (v->n_groups > MAX_GROUPS) {
        /* Every binding on a field, in load order. */
        for (size_t i = 0; i < v->n_groups; i++) {
            group_range(&v->groups[i], h, packet, &lo[0], &hi[0]);
        }
        for (size_t i = 0; i < v->n_binds; i++) {
            const struct ps_dbind *b = &v->binds[i];
            const struct ps_dplace *f;
            uint64_t value;
            if (b->field == PS_DNONE || !v->fields[b->field].uint) {
                continue;
            }
            f = place(h, b->field);
            if (f->present
                && (value = get_bits(packet, h->offset * 8 + f->bit,
                                     f->bits)) == b->b->value) {
                const struct ps_dproto *upper;
                upper = try_binding(b, h, packet, rest, why);
                if (upper) {
                    return upper;
                }
            }
        }
        return NULL;
    }

    /* Several fields: merge their matches in load order. */
    for (size_t i = 0; i < v->n_groups; i++) {
        group_range(&v->groups[i], h, packet, &lo[i], &hi[i]);
    }
    for (;;) {
        size_t best = SIZE_MAX, best_group = 0;
        for (size_t i = 0; i < v->n_groups; i++) {
            if (lo[i] < hi[i] && v->groups[i].entries[lo[i]].bind < best) {
                best = v->groups[i].entries[lo[i]].bind;
                best_group = i;
            }
        }
        if (best == SIZE_MAX) {
            return NULL;
        }
        lo[best_group]++;
        const struct ps_dproto *upper = try_binding(&v->binds[best], h,
                                                    packet, rest, why);
        if (upper) {
            return upper;
        }
    }
}

/* Chooses the protocol that follows 'h', whose payload is 'rest'.  When
 * the payload is too short to choose, returns NULL with the reason in
 * '*why'. */
static const struct ps_dproto *
next_protocol(const struct found_header *h, const struct view *packet,
              const struct view *rest, char **why)
{
    const struct ps_dvariant *v = h->v;

    /* A binding on a field of 'h' that holds the binding's value. */
    if (v->n_groups) {
        const struct ps_dproto *upper = next_by_field(h, packet, rest, why);
        if (upper) {
            return upper;
        }
    }

    /* A fixed successor: the first whose magic fields match, or the
     * first without magic fields. */
    const struct ps_dproto *fallback = NULL;
    for (size_t i = 0; i < v->n_fixed_binds; i++) {
        const struct ps_dbind *b = &v->binds[v->fixed_binds[i]];
        const struct ps_dproto *upper = b->upper;
        enum magic_result r = (upper ? binding_conds_hold(b, h, packet, rest)
                               : MAGIC_MISMATCH);
        if (r == MAGIC_UNREADABLE) {
            too_short_to_tell(h, rest, why);
        }
        if (r != MAGIC_MATCH) {
            continue;
        }
        if (!upper->has_magic) {
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
    const struct ps_dvariant *v = h->v;

    if (strcmp(name, h->p->p->name)) {
        ps_ds_put_format(&opts, ",name=%s", name);
    }
    if (v->index) {
        ps_ds_put_format(&opts, ",subtype=%s", v->v->name);
    }
    if (h->has_var && h->var_len != h->default_var_len) {
        ps_ds_put_format(&opts, ",length=%zu", h->var_len);
    }
    /* Flags that control conditional fields, as the packet has them. */
    for (size_t i = 0; v->has_flags && i < v->n_flag_fields; i++) {
        const struct ps_dplace *f = place(h, v->flag_fields[i]);
        uint64_t value;
        if (f->present
            && read_bits(packet, h->offset * 8 + f->bit, f->bits, &value)) {
            ps_ds_put_format(&opts, ",%s=%"PRIu64,
                             v->fields[v->flag_fields[i]].pf->name, value);
        }
    }
    if (opts.len) {
        ps_ds_put_format(spec, "{%s%s}", h->p->p->name, ps_ds_cstr(&opts));
    } else {
        ps_ds_put_cstr(spec, h->p->p->name);
    }
    ps_ds_destroy(&opts);
}

/* The spec of the 'n' headers of 'headers', each named as a stack names
 * it: the k-th header of its protocol "inner_eth" and so on. */
static char *
headers_spec(const struct found_header *headers, size_t n,
             const struct view *packet)
{
    struct ps_ds spec = PS_DS_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        for (size_t j = 0; j < i; j++) {
            k += headers[j].p == headers[i].p;
        }
        char *name = ps_stack_header_default_name(headers[i].p->p->name, k);
        if (i) {
            ps_ds_put_char(&spec, ',');
        }
        put_spec_item(&spec, &headers[i], name, packet);
        free(name);
    }
    return ps_ds_steal(&spec);
}

/* Appends the key of header 'h' to 'key', which has '*n' words: its
 * protocol and layout, then the size of each sized field and the value of
 * each flag, all of which give its spec item.  Returns false if there is
 * no room. */
static bool
put_key(uint64_t *key, size_t *n, const struct found_header *h,
        const struct view *packet)
{
    const struct ps_dvariant *v = h->v;
    size_t n_extra = v->n_sizes + v->n_flag_fields;

    if (*n + 1 + n_extra > MAX_KEY) {
        return false;
    }
    key[(*n)++] = ((uint64_t) h->p->index | (uint64_t) v->index << 24
                   | (uint64_t) n_extra << 48);
    for (size_t i = 0; i < v->n_sizes; i++) {
        const struct ps_dplace *f = place(h, v->sizes[i]);
        key[(*n)++] = f->present ? f->bits : UINT64_MAX;
    }
    for (size_t i = 0; i < v->n_flag_fields; i++) {
        const struct ps_dplace *f = place(h, v->flag_fields[i]);
        uint64_t value;
        key[(*n)++] = (f->present
                       && read_bits(packet, h->offset * 8 + f->bit, f->bits,
                                    &value) ? value : UINT64_MAX);
    }
    return true;
}

/* The index, in its stack, of field 'i' of header 'h': fields that are
 * not present have none. */
static size_t
stack_field(const struct ps_stack *stack, size_t header,
            const struct found_header *h, int i)
{
    size_t field = stack->headers[header].first_field;
    for (int j = 0; j < i; j++) {
        field += place(h, j)->present;
    }
    return field;
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

/* What the ends of a header's span are, for a plan (enum dvar). */
struct span_vars {
    uint8_t bound, end;
};

/* Whether 'a' and 'b' are the same one's complement checksum: 0x0000 and
 * 0xffff are both zero (RFC 1071, RFC 1624 section 3). */
static bool
same_checksum(uint64_t a, uint64_t b)
{
    return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

/* The checksum 'c' should have in 'pkt' ('len' bytes), over its span up
 * to 'end', computed as ps_stack_apply_checksum() would write it. */
static uint64_t
expected_checksum(const struct ps_stack *stack, const uint8_t *pkt,
                  size_t len, const struct ps_checksum_fixup *c, size_t end)
{
    const struct ps_field_info *fi = &stack->fields[c->field].info;
    size_t at = fi->bit_offset / 8;
    size_t span = c->end ? c->end : end;

    if (at < c->start || at + 2 > span || (at - c->start) % 2) {
        /* The field is outside its span, or at an odd place in it: on a
         * copy with the field zeroed. */
        uint8_t *copy = ps_xmalloc(len);
        memcpy(copy, pkt, len);
        ps_stack_apply_checksum(stack, copy, end, c);
        uint64_t want = ps_load_be16(copy + at);
        free(copy);
        return want;
    }
    /* The span without the field (at an even place, so the words on
     * either side stay aligned), as if it were zero. */
    uint64_t sum = ps_csum_add_span(0, pkt + c->start, at - c->start);
    sum = ps_csum_add_span(sum, pkt + at + 2, span - at - 2);
    if (c->n_pseudo) {
        sum = ps_checksum_add_pseudo(sum, pkt, c, span - c->start);
    }
    uint16_t want = ps_csum_finish(sum);
    return !want && c->nonzero ? 0xffff : want;
}

/* Whether checksum 'c' holds in 'pkt' over its span up to 'end' as a
 * receiver checks it (RFC 1071): the span, its checksum field included,
 * and the pseudo-header sum to all ones.  Then the field is what
 * expected_checksum() computes, or the other zero.  False for a field
 * that is not at an even place of its span, which only
 * expected_checksum() checks. */
static inline bool
checksum_holds(const struct ps_stack *stack, const uint8_t *pkt,
               const struct ps_checksum_fixup *c, size_t end)
{
    size_t at = stack->fields[c->field].info.bit_offset / 8;
    size_t span = c->end ? c->end : end;

    if (at < c->start || at + 2 > span || (at - c->start) % 2) {
        return false;
    }
    uint64_t sum = ps_csum_add_span(0, pkt + c->start, span - c->start);
    if (c->n_pseudo) {
        sum = ps_checksum_add_pseudo(sum, pkt, c, span - c->start);
    }
    return !ps_csum_finish(sum);
}

/* Verifies the stack's lengths and checksums against the packet.  Each
 * length field bounds its own header's span only: it is checked against
 * the bound its outer headers set ('spans'), never against an inner
 * header's length.  Checksums are over the packet as it is (lengths as
 * found), each over its own header's span. */
static void
verify(struct ps_dissection *d, const uint8_t *pkt,
       const struct header_span *spans)
{
    const struct ps_stack *stack = d->stack;
    size_t allocated = d->n_problems;

    for (size_t i = 0; i < stack->n_lengths; i++) {
        const struct ps_length_fixup *l = &stack->lengths[i];
        const struct ps_field_info *fi = &stack->fields[l->field].info;
        const struct ps_stack_header *h = &stack->headers[fi->header];
        size_t bound = spans[fi->header].bound;
        uint64_t have = ps_bits_get(pkt, fi->bit_offset, fi->bits);
        uint64_t end = (have > (l->unit == 1 ? SIZE_MAX / 2
                                : SIZE_MAX / l->unit / 2)
                        ? UINT64_MAX : l->start + l->sub + have * l->unit);

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
            /* What ps_stack_apply_length() would write. */
            size_t span = bound - l->start;
            uint64_t want = (span < l->sub ? 0 : l->unit == 1
                             ? span - l->sub : (span - l->sub) / l->unit);
            if (fi->bits < 64) {
                want &= (UINT64_C(1) << fi->bits) - 1;
            }
            if (have != want) {
                add_problem(d, &allocated, l->field,
                            ps_xasprintf("bad length %"PRIu64" (expected "
                                         "%"PRIu64")", have, want));
            }
        }
    }

    for (size_t i = 0; i < stack->n_checksums; i++) {
        const struct ps_checksum_fixup *c = &stack->checksums[i];
        const struct ps_field_info *fi = &stack->fields[c->field].info;
        uint64_t have = ps_bits_get(pkt, fi->bit_offset, 16);
        if ((c->nonzero && !have)
            || checksum_holds(stack, pkt, c, spans[c->header].end)) {
            /* An optional checksum of zero (UDP over IPv4) means
             * "none"; one that holds needs no expected value. */
            continue;
        }
        uint64_t want = expected_checksum(stack, pkt, d->len, c,
                                          spans[c->header].end);
        if (!(c->nonzero ? have == want : same_checksum(have, want))) {
            add_problem(d, &allocated, c->field,
                        ps_xasprintf("bad cksum 0x%04"PRIx64" (expected "
                                     "0x%04"PRIx64")", have, want));
        }
    }
}

/* Plans.
 *
 * The walk is a function of the frame's length and of the values of the
 * bytes it reads, nothing else: each read's place follows from the
 * values read before it, and the length counts only where the walk
 * checks that a read or a header lies before the end of what it reads
 * (the frame's end, or where a length field ends the packet).  A walk
 * that found a stack without trouble leaves a plan: every (place,
 * width, value) it read (successor fields, @magic and length fields,
 * flags and sizes), the bounds it checked, and what it found (the
 * stack, the packet's length by its length fields, the spans that
 * verification needs).  A frame of the same first protocol whose bytes
 * hold the same values at those places and whose ends pass the same
 * bounds would be walked the same way, so it takes the plan's result
 * without the walk; verification then runs on it as always.  The reads
 * are compiled into a few 8-byte words of the packet, each with a mask
 * and the value it must have under the mask.
 *
 * Length fields are not held to their values, so that the packets of a
 * flow, whose payload lengths vary, and frames with trailers take the
 * same plan: the walk's ends are the frame's end, the packet's end P
 * that the outermost length field gives (it must lie between
 * the end of its header and the frame's end), or a place that a length
 * field held to its value gives.  An inner length field that ended
 * where P does must end there again, one that ended before P
 * is held to its value.  Each bound checked against the frame's end or
 * against P is a bound on the frame's length or on P (a range of each),
 * and each span that verification reads is one of the three ends.  A
 * frame of the same length as the plan's and the same length fields is
 * checked first by one set of words, all the values read.
 *
 * Each thread keeps its own plans, a few per table in slots by first
 * protocol and length, and the few it made or used last, so that readers
 * never lock; they are dropped when the thread dissects with another
 * table (tables have serial numbers that are never reused, so a stack of
 * a plan is only used while the table, and the snapshot that owns the
 * stack, are alive).  A frame that the plan of its slot does not take
 * is tried against those last plans.
 *
 * A plan's words follow from the places, widths and kinds of its reads,
 * in the order the walk made them, but for their values: each thread
 * keeps the layouts of the plans it made last (struct plan_template), so
 * that the walk of the first frame of another flow of a shape seen before
 * puts each value where the layout says, without sorting the reads or
 * finding their words again.
 *
 * Recording the reads and making a plan costs about as much as the walk
 * itself: a walk makes a plan for a slot that has none, else only on
 * every 16th miss of the slot, so that packets that seldom repeat a
 * shape cost little more than the walk, and a plan that serves most
 * packets stays when a few others come between them. */

#define PLAN_SLOTS 64           /* The bits of struct plans' 'used'. */

/* The bytes 'byte' to 'byte' + 7 of a packet must be 'value' under
 * 'mask': as the plan is made, both big-endian words; once made, both
 * in the machine's byte order, as the 8 bytes are loaded
 * (plan_native_word()). */
struct plan_word {
    size_t byte;
    uint64_t mask, value;
};

struct plan {
    size_t size;                /* Bytes, the arrays that follow it
                                 * included... */
    size_t alloc;               /* ...of 'alloc' allocated. */
    size_t refs;                /* Slots and recent plans that hold it. */
    const struct ps_dproto *first;
    size_t len;                 /* The frame's length when it was made. */
    const struct ps_stack *stack;
    size_t packet_len;          /* P for a frame of 'len' bytes. */
    struct header_span *spans;  /* One per header of 'stack', for a frame
                                 * of 'len' bytes... */
    struct span_vars *span_vars;        /* ...and what each end is. */

    /* The frame's lengths and the packet's ends it holds for. */
    size_t len_min, len_max, p_min, p_max;
    size_t n_lens;              /* Length fields checked as relations. */
    struct ps_dlen *lens;
    size_t n_reads;             /* Reads that no word holds... */
    struct ps_dread *reads;
    size_t n_absent;            /* ...fields that hold no value of a
                                 * group... */
    struct ps_dabsent *absent;
    /* The reads, length fields included, and the values that the fields
     * of 'absent' had, all as words: a frame of 'len' bytes that has
     * them all (one of the same flow and length) takes the plan without
     * anything else checked.  'exact' is false if they could not all be
     * put in words. */
    bool exact;
    size_t n_exact;
    struct plan_word *exact_words;
    /* The same without the length fields, within the shortest frame the
     * plan takes: a frame of the same flow and another length that has
     * them needs only its length fields checked. */
    bool flow;
    size_t n_flow;
    struct plan_word *flow_words;
    size_t n_words;             /* ...and the words. */
    struct plan_word words[];
};

#define PLAN_RECENT 4

/* Where a read goes in the exact words of a plan: the word, and the shift
 * of its value there. */
struct plan_put {
    uint8_t word;
    uint8_t shift;
};

/* The layout of a plan made from the reads of a walk, for the next walk
 * whose reads have the same shape: the same places, widths and kinds
 * ('free', 'absent'), in the same order, the same largest values of the
 * length fields and the same shortest frame.
 * Such a walk's plan has the same words, but for their values, and the
 * same places of its length fields and of the fields of 'absent': its
 * words are made from the values of its reads, each where the template
 * says, without sorting them or finding their words again.  A template is
 * kept only for a plan whose reads all go in words and whose exact words
 * plan_put_exact() made.  It holds no pointer into a table, so that it
 * outlives the plans of its table. */
struct plan_template {
    bool valid;
    size_t n, n_absent, n_lens; /* As in struct trace. */
    size_t end_max;             /* As trace_sort() returns it. */
    size_t len_min;             /* The plan's. */

    /* Indexed as the reads of struct trace: plan_read_shape() of each. */
    uint64_t shape[MAX_READS + MAX_ABSENT];
    uint16_t kinds[MAX_READS + MAX_ABSENT];
    struct plan_put put[MAX_READS + MAX_ABSENT];

    /* The words, values aside: the flow words are the first 'n_flow'
     * exact words under 'flow_mask'; each of 'words' takes its value from
     * the exact word 'words_src', a flow word. */
    size_t n_flow, n_words, n_exact;
    struct plan_word exact[MAX_READS + MAX_ABSENT];
    uint64_t flow_mask[MAX_READS + MAX_ABSENT];
    struct plan_word words[MAX_READS];
    uint8_t words_src[MAX_READS];

    /* The largest values of the length fields ('max' of struct
     * ps_dlen). */
    uint64_t lens_max[MAX_LENS];

    /* The places of the length fields and of the fields of 'absent' as
     * words ('byte', 'shift', 'mask' of struct ps_dlen, ps_dabsent). */
    struct plan_field {
        size_t byte;
        unsigned int shift;
        uint64_t mask;
    } lens[MAX_LENS], absent[MAX_ABSENT];
};

#define PLAN_TEMPLATES 4

struct plans {
    uint64_t serial;            /* Of the table of the plans. */
    uint64_t used;              /* Bit i: 'slots[i]' is nonnull. */
    struct plan *slots[PLAN_SLOTS];
    unsigned int misses[PLAN_SLOTS];
    size_t last_len[PLAN_SLOTS];        /* See plans_want_slot(). */
    size_t len_before;          /* The length of the frame before. */
    struct plan *recent[PLAN_RECENT];   /* Made or used last, first. */

    /* A plan that nothing holds any more, kept for its memory: the next
     * plan made takes it if it is large enough, without a malloc() and a
     * free() for each (a thread that walks frames of two tables in
     * turn drops its plans and makes one per frame). */
    struct plan *spare;

    /* The layouts of the plans made last, by plan_template_slot(). */
    struct plan_template templates[PLAN_TEMPLATES];
};

/* Drops a reference to 'plan' (if nonnull), held by 'plans'. */
static void
plan_unref(struct plans *plans, struct plan *plan)
{
    if (plan && !--plan->refs) {
        if (!plans->spare) {
            plans->spare = plan;
        } else if (plans->spare->alloc < plan->alloc) {
            free(plans->spare);
            plans->spare = plan;
        } else {
            free(plan);
        }
    }
}

/* Memory for a plan of 'size' bytes, its 'alloc' set: the spare plan of
 * 'plans' if it is large enough. */
static struct plan *
plan_alloc(struct plans *plans, size_t size)
{
    struct plan *plan = plans->spare;
    if (plan && plan->alloc >= size) {
        plans->spare = NULL;
    } else {
        plan = ps_xmalloc(size);
        plan->alloc = size;
    }
    return plan;
}

/* Initial-exec: one load from the thread pointer, without a call to
 * __tls_get_addr() per packet.  A program that dlopen()s the library
 * takes these 8 bytes from the static TLS that glibc keeps spare. */
static __thread struct plans *thread_plans
    __attribute__((__tls_model__("initial-exec")));
static pthread_key_t plans_key;
static pthread_once_t plans_once = PTHREAD_ONCE_INIT;

static void
plans_clear(struct plans *plans)
{
    for (; plans->used; plans->used &= plans->used - 1) {
        size_t i = __builtin_ctzll(plans->used);
        plan_unref(plans, plans->slots[i]);
        plans->slots[i] = NULL;
    }
    for (size_t i = 0; i < PLAN_RECENT; i++) {
        plan_unref(plans, plans->recent[i]);
        plans->recent[i] = NULL;
    }
}

/* Makes 'plan' the one used last, 'i' its index in the recent plans if
 * it is there already (else PLAN_RECENT). */
static void
plans_use(struct plans *plans, struct plan *plan, size_t i)
{
    if (i == PLAN_RECENT) {
        i = PLAN_RECENT - 1;
        plan_unref(plans, plans->recent[i]);
        plan->refs++;
    }
    for (; i; i--) {
        plans->recent[i] = plans->recent[i - 1];
    }
    plans->recent[0] = plan;
}

static void
plans_free(void *plans_)
{
    struct plans *plans = plans_;
    plans_clear(plans);
    free(plans->spare);
    free(plans);
}

static void
plans_init(void)
{
    pthread_key_create(&plans_key, plans_free);
}

/* The calling thread's plans for table 't'. */
static struct plans *
plans_get(const struct ps_dtable *t)
{
    struct plans *plans = thread_plans;

    if (!plans) {
        pthread_once(&plans_once, plans_init);
        plans = ps_xzalloc(sizeof *plans);
        pthread_setspecific(plans_key, plans);
        thread_plans = plans;
    }
    if (plans->serial != t->serial) {
        plans_clear(plans);
        plans->serial = t->serial;
    }
    return plans;
}

/* The slot of the plans of packets of 'len' bytes that start with
 * 'first'. */
static size_t
plan_slot(const struct ps_dproto *first, size_t len)
{
    uint64_t h = ((uint64_t) len << 16 | first->index)
                 * UINT64_C(0x9e3779b97f4a7c15);
    return h >> 58;
}

/* The 8 bytes at 'p' as a word in the machine's byte order. */
static inline uint64_t
plan_load(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The bits of word 'w' of a plan that differ from the packet 'pkt'. */
static inline uint64_t
plan_word_diff(const struct plan_word *w, const uint8_t *pkt)
{
    return (plan_load(pkt + w->byte) ^ w->value) & w->mask;
}

/* Whether the packet 'pkt' has the 'n' words of 'words' (all within
 * it).  Without a branch per word: three at a time, the differences
 * or'ed. */
static inline bool __attribute__((__always_inline__))
plan_words_hold(const struct plan_word *words, size_t n, const uint8_t *pkt)
{
    const struct plan_word *w = words;
    uint64_t diff = 0;

    for (; n >= 3; n -= 3, w += 3) {
        diff |= (plan_word_diff(&w[0], pkt) | plan_word_diff(&w[1], pkt)
                 | plan_word_diff(&w[2], pkt));
    }
    for (; n; n--, w++) {
        diff |= plan_word_diff(w, pkt);
    }
    return !diff;
}

/* The value of length field 'l' of a plan in the 'len' bytes of 'pkt',
 * or UINT64_MAX if it is beyond its largest usable value. */
static inline uint64_t __attribute__((__always_inline__))
plan_len_value(const struct ps_dlen *l, const uint8_t *pkt, size_t len)
{
    if (l->byte != SIZE_MAX) {
        /* At most its largest usable value (plan_create()). */
        return ps_load_be64(pkt + l->byte) >> l->shift & l->mask;
    }
    uint64_t value = load_bits(pkt, len, l->bit, l->bits);
    return value <= l->max ? value : UINT64_MAX;
}

/* Whether the length fields of 'plan' hold for the 'len' bytes of 'pkt'
 * as the walk checks them: if so, sets '*p' to the packet's end.  The
 * walk recorded them in its order, so the first gives the packet's end
 * and the others must end there. */
static inline bool __attribute__((__always_inline__))
plan_lens_hold(const struct plan *plan, const uint8_t *pkt, size_t len,
               size_t *p)
{
    size_t end_p = len;
    size_t n = plan->n_lens;

    if (n) {
        const struct ps_dlen *l = plan->lens;
        uint64_t value = plan_len_value(l, pkt, len);
        end_p = l->add + value * l->unit;
        if (value == UINT64_MAX || end_p < l->lo || end_p > len) {
            return false;
        }
        for (size_t i = 1; i < n; i++) {
            l = &plan->lens[i];
            value = plan_len_value(l, pkt, len);
            if (value == UINT64_MAX || l->add + value * l->unit != end_p) {
                return false;
            }
        }
    }
    if (end_p < plan->p_min || end_p > plan->p_max) {
        return false;
    }
    *p = end_p;
    return true;
}

/* Whether 'plan' holds for the 'len' bytes of 'pkt' that start with
 * 'first' as for a frame of the same flow (its flow words): if so, sets
 * '*p' to the packet's end. */
static inline bool __attribute__((__always_inline__))
plan_holds_flow(const struct plan *plan, const struct ps_dproto *first,
                const uint8_t *pkt, size_t len, size_t *p)
{
    return (plan->first == first && len >= plan->len_min
            && len <= plan->len_max && plan->flow
            && plan_words_hold(plan->flow_words, plan->n_flow, pkt)
            && plan_lens_hold(plan, pkt, len, p));
}

/* Whether 'plan' holds for the 'len' bytes of 'pkt' that start with
 * 'first': if so, sets '*p' to the packet's end. */
static bool
plan_holds(const struct plan *plan, const struct ps_dproto *first,
           const uint8_t *pkt, size_t len, size_t *p)
{
    if (plan->first != first || len < plan->len_min
        || len > plan->len_max) {
        return false;
    }
    if (len == plan->len && plan->exact
        && plan_words_hold(plan->exact_words, plan->n_exact, pkt)) {
        *p = plan->packet_len;
        return true;
    }
    if (!plan->flow
        || !plan_words_hold(plan->flow_words, plan->n_flow, pkt)) {
        if (!plan_words_hold(plan->words, plan->n_words, pkt)) {
            return false;
        }
        for (size_t i = 0; i < plan->n_reads; i++) {
            const struct ps_dread *r = &plan->reads[i];
            if (load_bits(pkt, len, r->bit, r->bits) != r->value) {
                return false;
            }
        }
        for (size_t i = 0; i < plan->n_absent; i++) {
            const struct ps_dabsent *a = &plan->absent[i];
            uint64_t value = (a->byte != SIZE_MAX
                              ? (ps_load_be64(pkt + a->byte) >> a->shift
                                 & a->mask)
                              : load_bits(pkt, len, a->bit, a->bits));
            unsigned int b = ps_dgroup_filter_bit(value);
            if (a->g->filter[b / 64] & UINT64_C(1) << b % 64
                && group_find(a->g, value)) {
                return false;
            }
        }
    }
    return plan_lens_hold(plan, pkt, len, p);
}

/* 'x', a big-endian word of a plan being made, as the 8 bytes that hold
 * it are loaded (in the machine's byte order). */
static inline uint64_t
plan_native_word(uint64_t x)
{
    uint8_t bytes[8];
    ps_store_be64(bytes, x);
    return plan_load(bytes);
}

/* Puts the 'n' reads of 'reads' in the order of the 'n' keys of 'keys'
 * (by place) into words within frames of at least 'len' bytes, in the
 * machine's byte order: each read in the word that the read before it
 * started if it fits there, else in a word of its own (which ends at the
 * frame's end at the latest).  All the reads were of the same bytes, so
 * the values of reads that overlap agree.  Returns the number of words
 * put in 'words'.  A read that fits no word (more than 8 bytes) clears
 * '*ok'. */
static size_t
plan_word_list(const struct ps_dread *reads, const uint64_t *keys,
               size_t n, size_t len, struct plan_word *words, bool *ok)
{
    size_t n_words = 0, byte = 0, w_end = 0;
    uint64_t w_mask = 0, w_value = 0;

    for (size_t i = 0; i < n; i++) {
        const struct ps_dread *r = &reads[keys[i] & 0xff];
        size_t end = r->bit + r->bits;
        if (!n_words || end > w_end) {
            if (len < 8 || r->bit % 8 + r->bits > 64) {
                *ok = false;
                continue;
            }
            if (n_words) {
                words[n_words - 1] = (struct plan_word) {
                    byte, plan_native_word(w_mask),
                    plan_native_word(w_value)
                };
            }
            n_words++;
            byte = r->bit / 8 < len - 8 ? r->bit / 8 : len - 8;
            w_end = byte * 8 + 64;
            w_mask = w_value = 0;
        }
        /* Reads are 1 to 64 bits wide. */
        uint64_t mask = UINT64_MAX >> (64 - r->bits);
        unsigned int shift = w_end - end;
        w_mask |= mask << shift;
        w_value |= (r->value & mask) << shift;
    }
    if (n_words) {
        words[n_words - 1] = (struct plan_word) {
            byte, plan_native_word(w_mask), plan_native_word(w_value)
        };
    }
    return n_words;
}

/* Makes in one pass the two lists of words of 'plan' within frames of at
 * least 'len' bytes from the 'n' reads of 'reads' in the order of the 'n'
 * keys of 'keys', but for the length fields ('free'): its flow words, of
 * all of them, as plan_word_list() makes them ('flow' is cleared if one
 * fits no word), and its words, the same under the masks of the reads
 * that are not values of the fields of 'absent', but for those that hold
 * none of them (a read that fits no word goes to its 'reads').  All the
 * reads were of the same bytes, so the values of reads that overlap
 * agree. */
static void __attribute__((__noinline__))
plan_word_lists(struct plan *plan, const struct ps_dread *reads,
                const uint64_t *keys, size_t n, size_t len,
                struct plan_template *tpl)
{
    struct plan_word *flow_words = plan->flow_words, *words = plan->words;
    size_t n_flow = 0, n_words = 0, byte = 0, w_end = 0;
    uint64_t mask = 0, value = 0, held = 0;

    plan->flow = true;
    plan->n_reads = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ps_dread *r = &reads[keys[i] & 0xff];
        if (r->free) {
            continue;
        }
        size_t end = r->bit + r->bits;
        if (!n_flow || end > w_end) {
            if (len < 8 || r->bit % 8 + r->bits > 64) {
                plan->flow = false;
                if (!r->absent) {
                    plan->reads[plan->n_reads++] = *r;
                }
                continue;
            }
            if (n_flow) {
                flow_words[n_flow - 1] = (struct plan_word) {
                    byte, plan_native_word(mask), plan_native_word(value)
                };
                if (held) {
                    tpl->words_src[n_words] = n_flow - 1;
                    words[n_words++] = (struct plan_word) {
                        byte, plan_native_word(held),
                        plan_native_word(value & held)
                    };
                }
            }
            n_flow++;
            byte = r->bit / 8 < len - 8 ? r->bit / 8 : len - 8;
            w_end = byte * 8 + 64;
            mask = value = held = 0;
        }
        /* Reads are 1 to 64 bits wide. */
        unsigned int shift = w_end - end;
        uint64_t m = (UINT64_MAX >> (64 - r->bits)) << shift;
        mask |= m;
        value |= (r->value << shift) & m;
        held |= r->absent ? 0 : m;
        tpl->put[keys[i] & 0xff] = (struct plan_put) { n_flow - 1, shift };
    }
    if (n_flow) {
        flow_words[n_flow - 1] = (struct plan_word) {
            byte, plan_native_word(mask), plan_native_word(value)
        };
        if (held) {
            tpl->words_src[n_words] = n_flow - 1;
            words[n_words++] = (struct plan_word) {
                byte, plan_native_word(held), plan_native_word(value & held)
            };
        }
    }
    plan->n_flow = n_flow;
    plan->n_words = n_words;
}

/* The place 'bits' bits wide (at least 1) at 'bit' as one of the 8-byte
 * words of a frame of at least 'len' bytes: sets '*byte' (SIZE_MAX if
 * none), '*shift' and '*mask'. */
static void
plan_field_word(size_t bit, size_t bits, size_t len, size_t *byte,
                unsigned int *shift, uint64_t *mask)
{
    *byte = SIZE_MAX;
    if (len >= 8 && bit % 8 + bits <= 64) {
        *byte = bit / 8 < len - 8 ? bit / 8 : len - 8;
        *shift = *byte * 8 + 64 - bit - bits;
        *mask = UINT64_MAX >> (64 - bits);
    }
}

/* Whether plan_put_exact() can make the exact words of 'plan' for a
 * frame: if it has its flow words and each of its length fields is in a
 * word. */
static inline bool
plan_can_put_exact(const struct plan *plan)
{
    if (!plan->flow) {
        return false;
    }
    for (size_t i = 0; i < plan->n_lens; i++) {
        if (plan->lens[i].byte == SIZE_MAX) {
            return false;
        }
    }
    return true;
}

/* Sets the exact words of 'plan', which has its flow words and whose
 * length fields are all in words ('byte' is not SIZE_MAX), for the frame
 * 'pkt' (of at least the shortest frame's length) that it holds for: the
 * words of the flow, with the values that its length fields have in
 * 'pkt'. */
static inline void __attribute__((__always_inline__))
plan_put_exact(struct plan *plan, const uint8_t *pkt)
{
    /* The words of the flow (within 'len' bytes, as they are within the
     * shortest frame the plan takes), then one a length field. */
    memcpy(plan->exact_words, plan->flow_words,
           plan->n_flow * sizeof *plan->flow_words);
    plan->n_exact = plan->n_flow;
    for (size_t i = 0; i < plan->n_lens; i++) {
        const struct ps_dlen *l = &plan->lens[i];
        uint64_t value = ps_load_be64(pkt + l->byte) >> l->shift & l->mask;
        size_t byte = l->byte;

        /* In the first word of the flow that holds the field, if any (no
         * word before it starts at the same byte), else in one of its
         * own. */
        size_t j = 0;
        while (j < plan->n_exact
               && !(plan->exact_words[j].byte * 8 <= l->bit
                    && (l->bit + l->bits
                        <= plan->exact_words[j].byte * 8 + 64))) {
            j++;
        }
        if (j < plan->n_exact) {
            byte = plan->exact_words[j].byte;
        } else {
            plan->exact_words[plan->n_exact++] = (struct plan_word) {
                byte, 0, 0
            };
        }
        unsigned int shift = byte * 8 + 64 - l->bit - l->bits;
        plan->exact_words[j].mask |= plan_native_word(l->mask << shift);
        plan->exact_words[j].value |= plan_native_word(value << shift);
    }
    plan->exact = true;
}

/* Sets 'keys' to the keys of the reads of 'trace' and of the values of
 * its fields of 'absent', each a place ('bit') times 256 plus its index in
 * 'reads', sorted, from 'keys[1]' on: 'keys[0]' is 0, no greater than any
 * key, so that an insertion needs no test of where the keys begin (the
 * reads come mostly in order: each goes at the end or near it).  Returns
 * the end, in bits, of the read that ends last (0 if none). */
static size_t __attribute__((__noinline__))
trace_sort(const struct trace *trace, uint64_t *keys)
{
    size_t n = trace->n, n_absent = trace->n_absent;
    size_t end_max = 0, n_keys = 0;

    keys[0] = 0;
    for (size_t i = 0; i < MAX_READS + n_absent; i++) {
        if (i == n) {
            /* On to the values of the fields of 'absent'. */
            i = MAX_READS - 1;
            continue;
        }
        const struct ps_dread *r = &trace->reads[i];
        size_t end = r->bit + r->bits;
        uint64_t key = (uint64_t) r->bit << 8 | i;
        size_t j = ++n_keys;

        end_max = end_max > end ? end_max : end;
        for (; keys[j - 1] > key; j--) {
            keys[j] = keys[j - 1];
        }
        keys[j] = key;
    }
    return end_max;
}

/* The shape of read 'r': its place and width in a word, and its kinds
 * in another (as their bytes are). */
_Static_assert(offsetof(struct ps_dread, bits)
               == offsetof(struct ps_dread, bit) + 4
               && (offsetof(struct ps_dread, absent)
                   == offsetof(struct ps_dread, free) + 1),
               "a read's place and width, and its kinds, are next to each "
               "other (plan_read_shape())");
static inline void
plan_read_shape(const struct ps_dread *r, uint64_t *place, uint16_t *kinds)
{
    memcpy(place, &r->bit, sizeof *place);
    memcpy(kinds, &r->free, sizeof *kinds);
}

/* The template of the plans of 'trace' among those of 'plans'. */
static inline struct plan_template *
plan_template_slot(struct plans *plans, const struct trace *trace)
{
    return &plans->templates[(trace->n ^ trace->n_absent << 2)
                             % PLAN_TEMPLATES];
}

/* The reads 'lo' to 'hi' of 'trace' by template 'tpl': puts their values
 * in 'exact' and returns the bits in which their shapes differ from the
 * template's (0 if none). */
static inline uint64_t __attribute__((__always_inline__))
plan_template_fill_reads(const struct plan_template *tpl,
                         const struct trace *trace, size_t lo, size_t hi,
                         uint64_t *exact)
{
    uint64_t diff = 0;

    for (size_t i = lo; i < hi; i++) {
        const struct ps_dread *r = &trace->reads[i];
        struct plan_put put = tpl->put[i];
        uint64_t place;
        uint16_t kinds;

        plan_read_shape(r, &place, &kinds);
        diff |= (place ^ tpl->shape[i]) | (kinds ^ tpl->kinds[i]);
        exact[put.word] |= r->value << put.shift;
    }
    return diff;
}

/* Whether 'tpl' is the template of the reads of 'trace' (but for the
 * shortest frame, which the caller checks).  If so, sets the first
 * 'tpl->n_exact' words of 'exact' to the values of the exact words of the
 * plan of 'trace', big-endian: all its reads, each under its mask in its
 * word.  All the reads were of the same bytes, so that the value of any
 * other word of the plan is that of the exact word at the same place
 * under its mask. */
static bool __attribute__((__noinline__))
plan_template_fill(const struct plan_template *tpl,
                   const struct trace *trace, uint64_t *exact)
{
    size_t n = trace->n, n_absent = trace->n_absent;
    uint64_t diff = 0;

    if (!tpl->valid || tpl->n != n || tpl->n_absent != n_absent
        || tpl->n_lens != trace->n_lens) {
        return false;
    }
    for (size_t k = 0; k < tpl->n_exact; k++) {
        exact[k] = 0;
    }
    for (size_t i = 0; i < trace->n_lens; i++) {
        diff |= trace->lens[i].max ^ tpl->lens_max[i];
    }
    diff |= plan_template_fill_reads(tpl, trace, 0, n, exact);
    diff |= plan_template_fill_reads(tpl, trace, MAX_READS,
                                     MAX_READS + n_absent, exact);
    return !diff;
}

/* Sets the words of 'plan', of the reads of 'trace', by template 'tpl',
 * which matches them, with the values of the exact words that
 * plan_template_fill() set in 'exact', and the places of its length
 * fields and of its fields of 'absent', as plan_create() would make
 * them. */
static void __attribute__((__noinline__))
plan_template_apply(const struct plan_template *tpl,
                    const struct trace *trace, const uint64_t *exact,
                    struct plan *plan)
{
    size_t n_absent = trace->n_absent;

    for (size_t k = 0; k < tpl->n_exact; k++) {
        plan->exact_words[k] = (struct plan_word) {
            tpl->exact[k].byte, tpl->exact[k].mask,
            plan_native_word(exact[k])
        };
    }
    for (size_t k = 0; k < tpl->n_flow; k++) {
        plan->flow_words[k] = (struct plan_word) {
            tpl->exact[k].byte, tpl->flow_mask[k],
            plan->exact_words[k].value & tpl->flow_mask[k]
        };
    }
    for (size_t k = 0; k < tpl->n_words; k++) {
        plan->words[k] = (struct plan_word) {
            tpl->words[k].byte, tpl->words[k].mask,
            plan->exact_words[tpl->words_src[k]].value & tpl->words[k].mask
        };
    }
    plan->n_flow = tpl->n_flow;
    plan->n_exact = tpl->n_exact;
    plan->n_words = tpl->n_words;
    plan->n_reads = 0;
    plan->flow = plan->exact = true;

    for (size_t i = 0; i < trace->n_lens; i++) {
        struct ps_dlen *l = &plan->lens[i];
        *l = trace->lens[i];
        l->byte = tpl->lens[i].byte;
        l->shift = tpl->lens[i].shift;
        l->mask = tpl->lens[i].mask;
    }
    for (size_t i = 0; i < n_absent; i++) {
        struct ps_dabsent *a = &plan->absent[i];
        *a = trace->absent[i];
        a->byte = tpl->absent[i].byte;
        a->shift = tpl->absent[i].shift;
        a->mask = tpl->absent[i].mask;
    }
}

/* Makes 'tpl' the template of 'plan', made from the reads of 'trace' with
 * the end of the last at 'end_max', whose flow words' reads
 * plan_word_lists() put in 'tpl' already, if the plan can have one. */
static void __attribute__((__noinline__))
plan_template_make(struct plan_template *tpl, const struct trace *trace,
                   size_t end_max, const struct plan *plan)
{
    size_t n = trace->n, n_absent = trace->n_absent;

    if (!plan->flow || plan->n_reads || !plan_can_put_exact(plan)) {
        return;
    }
    tpl->n = n;
    tpl->n_absent = n_absent;
    tpl->n_lens = trace->n_lens;
    tpl->end_max = end_max;
    tpl->len_min = plan->len_min;
    for (size_t i = 0; i < n; i++) {
        const struct ps_dread *r = &trace->reads[i];
        plan_read_shape(r, &tpl->shape[i], &tpl->kinds[i]);
        if (r->free) {
            /* In the first exact word that holds it, as
             * plan_put_exact() put it. */
            size_t j = 0;
            while (!(plan->exact_words[j].byte * 8 <= r->bit
                     && (r->bit + r->bits
                         <= plan->exact_words[j].byte * 8 + 64))) {
                j++;
            }
            tpl->put[i] = (struct plan_put) {
                j, plan->exact_words[j].byte * 8 + 64 - r->bit - r->bits
            };
        }
    }
    for (size_t i = MAX_READS; i < MAX_READS + n_absent; i++) {
        plan_read_shape(&trace->reads[i], &tpl->shape[i], &tpl->kinds[i]);
    }
    tpl->n_flow = plan->n_flow;
    tpl->n_words = plan->n_words;
    tpl->n_exact = plan->n_exact;
    for (size_t k = 0; k < plan->n_exact; k++) {
        tpl->exact[k] = plan->exact_words[k];
    }
    for (size_t k = 0; k < plan->n_flow; k++) {
        tpl->flow_mask[k] = plan->flow_words[k].mask;
    }
    for (size_t k = 0; k < plan->n_words; k++) {
        tpl->words[k] = plan->words[k];
    }
    for (size_t i = 0; i < plan->n_lens; i++) {
        tpl->lens_max[i] = plan->lens[i].max;
        tpl->lens[i] = (struct plan_field) {
            plan->lens[i].byte, plan->lens[i].shift, plan->lens[i].mask
        };
    }
    for (size_t i = 0; i < n_absent; i++) {
        tpl->absent[i] = (struct plan_field) {
            plan->absent[i].byte, plan->absent[i].shift, plan->absent[i].mask
        };
    }
    tpl->valid = true;
}

/* Makes the plan of the walk of 'len' bytes from 'first', which read
 * 'trace' and found 'stack', 'packet_len' bytes by its lengths, whose
 * headers have 'spans' that are 'span_vars'.  Returns NULL if the trace
 * does not make one. */
static struct plan *
plan_create(struct plans *plans, const struct ps_dproto *first, size_t len,
            const struct trace *trace, const struct ps_stack *stack,
            size_t packet_len, const struct header_span *spans,
            const struct span_vars *span_vars)
{
    size_t n_spans = stack->n_headers;
    size_t n = trace->n, n_absent = trace->n_absent;

    /* The reads and the values of the fields of 'absent', by place: their
     * keys, sorted unless the template of reads of their shape makes the
     * words.  Every frame the plan takes holds every place it reads, and
     * its packet's end is within the frame. */
    uint64_t sorted[1 + MAX_READS + MAX_ABSENT];
    const uint64_t *keys = &sorted[1];
    struct plan_template *tpl = plan_template_slot(plans, trace);
    uint64_t exact[MAX_READS + MAX_ABSENT];
    bool shaped = plan_template_fill(tpl, trace, exact);
    size_t end_max = shaped ? tpl->end_max : trace_sort(trace, sorted);
    size_t len_min = trace->len_min > stack->size ? trace->len_min
                     : stack->size;
    len_min = len_min > (end_max + 7) / 8 ? len_min : (end_max + 7) / 8;
    if (trace->n_lens) {
        len_min = len_min > trace->p_min ? len_min : trace->p_min;
    }
    bool by_template = shaped && tpl->len_min == len_min;
    if (shaped && !by_template) {
        trace_sort(trace, sorted);
    }
    if (len < len_min || len > trace->len_max
        || packet_len < trace->p_min || packet_len > trace->p_max) {
        /* Not the walk's own frame: a bound was misrecorded. */
        return NULL;
    }

    size_t size = (sizeof(struct plan)
                   + n * sizeof(struct plan_word)
                   + 2 * (n + n_absent) * sizeof(struct plan_word)
                   + n * sizeof(struct ps_dread)
                   + n_absent * sizeof(struct ps_dabsent)
                   + trace->n_lens * sizeof(struct ps_dlen)
                   + n_spans * sizeof(struct header_span)
                   + n_spans * sizeof(struct span_vars));
    struct plan *plan = plan_alloc(plans, size);

    plan->size = size;
    plan->refs = 0;
    plan->first = first;
    plan->len = len;
    plan->stack = stack;
    plan->packet_len = packet_len;
    plan->len_min = len_min;
    plan->len_max = trace->len_max;
    plan->p_min = trace->p_min;
    plan->p_max = trace->p_max;
    plan->exact_words = &plan->words[n];
    plan->flow_words = &plan->exact_words[n + n_absent];
    plan->reads = (struct ps_dread *) &plan->flow_words[n + n_absent];
    plan->absent = (struct ps_dabsent *) &plan->reads[n];
    plan->lens = (struct ps_dlen *) &plan->absent[n_absent];
    plan->spans = (struct header_span *) &plan->lens[trace->n_lens];
    plan->span_vars = (struct span_vars *) &plan->spans[n_spans];
    memcpy(plan->spans, spans, n_spans * sizeof *spans);
    memcpy(plan->span_vars, span_vars, n_spans * sizeof *span_vars);
    plan->n_lens = trace->n_lens;
    plan->n_absent = n_absent;
    if (by_template) {
        plan_template_apply(tpl, trace, exact, plan);
        return plan;
    }

    /* Else made from the reads, and kept as the template of the next
     * plan of the same shape. */
    tpl->valid = false;
    for (size_t i = 0; i < trace->n_lens; i++) {
        struct ps_dlen *l = &plan->lens[i];
        *l = trace->lens[i];
        plan_field_word(l->bit, l->bits, len_min, &l->byte, &l->shift,
                        &l->mask);
        if (l->byte != SIZE_MAX && l->mask > l->max) {
            /* Its values are checked against its largest usable one. */
            l->byte = SIZE_MAX;
        }
    }

    /* A field that must hold no value of its group is first tested
     * against a filter of the group's values. */
    for (size_t i = 0; i < n_absent; i++) {
        struct ps_dabsent *a = &plan->absent[i];
        *a = trace->absent[i];
        plan_field_word(a->bit, a->bits, len_min, &a->byte, &a->shift,
                        &a->mask);
    }

    /* In words: the reads but for the length fields and the values of
     * the fields of 'absent', within the shortest frame the plan takes
     * (the reads that fit no word are checked one by one); all of them,
     * for frames of 'len' bytes; and all but the length fields, for
     * frames of other lengths. */
    plan_word_lists(plan, trace->reads, keys, n + n_absent, len_min, tpl);
    if (plan_can_put_exact(plan)) {
        /* The same reads as words, as plan_specialize() puts them. */
        plan_put_exact(plan, trace->pkt);
    } else {
        plan->exact = true;
        plan->n_exact = plan_word_list(trace->reads, keys, n + n_absent,
                                       len, plan->exact_words, &plan->exact);
    }
    plan_template_make(tpl, trace, end_max, plan);
    return plan;
}

/* Returns 'plan' as it is for the 'len' bytes of 'pkt' from the same
 * flow, which it holds for with the packet's end at 'end_p', as the walk
 * of that frame would have made it: the same but for its length, the
 * packet's end and the spans, and with the exact words of that frame
 * (those of the flow and the values of its length fields).  NULL if the
 * length fields cannot be put in words. */
static struct plan *
plan_specialize(struct plans *plans, const struct plan *plan,
                const uint8_t *pkt, size_t len, size_t end_p)
{
    if (!plan_can_put_exact(plan)) {
        return NULL;
    }

    struct plan *new = plan_alloc(plans, plan->size);
    size_t alloc = new->alloc;
    memcpy(new, plan, plan->size);
    new->alloc = alloc;
#define PLAN_MOVE(MEMBER)                                               \
    new->MEMBER = (void *) ((char *) new                                \
                            + ((const char *) plan->MEMBER             \
                               - (const char *) plan))
    PLAN_MOVE(spans);
    PLAN_MOVE(span_vars);
    PLAN_MOVE(lens);
    PLAN_MOVE(reads);
    PLAN_MOVE(absent);
    PLAN_MOVE(exact_words);
    PLAN_MOVE(flow_words);
#undef PLAN_MOVE
    new->refs = 0;
    new->len = len;
    new->packet_len = end_p;
    for (size_t i = 0; i < plan->stack->n_headers; i++) {
        const struct span_vars *v = &plan->span_vars[i];
        struct header_span *span = &new->spans[i];
        span->bound = (v->bound == DVAR_LEN ? len
                       : v->bound == DVAR_P ? end_p : span->bound);
        span->end = (v->end == DVAR_LEN ? len
                     : v->end == DVAR_P ? end_p : span->end);
    }

    plan_put_exact(new, pkt);
    return new;
}

/* Whether a frame of 'len' bytes that a plan of another length took
 * should leave in its slot 'slot' that plan as it is for the frame: if
 * the slot has no plan, or a plan of another length and the frame
 * before it in the slot had the same length (a length that repeats, not
 * one of a flow whose lengths all vary). */
static inline bool __attribute__((__always_inline__))
plans_want_slot(struct plans *plans, size_t slot, size_t len)
{
    const struct plan *in_slot = plans->slots[slot];
    if (!in_slot) {
        return true;
    } else if (in_slot->len == len) {
        return false;
    } else if (plans->last_len[slot] == len) {
        return true;
    }
    plans->last_len[slot] = len;
    return false;
}

/* Puts into slot 'slot' 'plan' as it is for the frame 'pkt' ('len'
 * bytes), which it holds for with the packet's end at 'end_p': the next
 * frame of the flow of that length takes it at once. */
static void
plans_fill_slot(struct plans *plans, size_t slot, const struct plan *plan,
                const uint8_t *pkt, size_t len, size_t end_p)
{
    struct plan *old = plans->slots[slot];
    struct plan *new = plan_specialize(plans, plan, pkt, len, end_p);
    if (new) {
        plan_unref(plans, old);
        new->refs++;
        plans->slots[slot] = new;
        plans->used |= UINT64_C(1) << slot;
    }
}

/* Verifies the lengths and checksums of 'd', which 'plan' took (its
 * 'len' and 'packet_len' set), against the packet 'pkt'. */
static void
plan_verify(const struct plan *plan, const uint8_t *pkt,
            struct ps_dissection *d)
{
    size_t len = d->len, end_p = d->packet_len;

    if (len == plan->len && end_p == plan->packet_len) {
        verify(d, pkt, plan->spans);
        return;
    }

    /* The spans of this frame. */
    struct header_span spans[MAX_HEADERS];
    for (size_t i = 0; i < plan->stack->n_headers; i++) {
        const struct span_vars *v = &plan->span_vars[i];
        const struct header_span *made = &plan->spans[i];
        spans[i].bound = (v->bound == DVAR_LEN ? len
                          : v->bound == DVAR_P ? end_p : made->bound);
        spans[i].end = (v->end == DVAR_LEN ? len
                        : v->end == DVAR_P ? end_p : made->end);
        spans[i].exact = made->exact;
    }
    verify(d, pkt, spans);
}

/* Dissects the 'len' bytes of 'pkt' into 'd' by 'plan', which holds for
 * them with the packet's end at 'end_p'. */
static void
plan_apply(const struct plan *plan, const uint8_t *pkt, size_t len,
           size_t end_p, unsigned int flags, struct ps_dissection *d)
{
    const struct ps_stack *stack = plan->stack;

    *d = (struct ps_dissection) {
        .stack = CONST_CAST(struct ps_stack *, stack),
        .n_headers = stack->n_headers,
        .offsets = stack->offsets,
        .header_len = stack->size,
        .packet_len = end_p,
        .len = len,
    };
    if (!(flags & PS_DISSECT_NO_VERIFY)) {
        plan_verify(plan, pkt, d);
    }
}

/* The stack of the 'n' headers of 'headers' in snapshot 'snap' of 'reg':
 * from the table by the key of the headers, else compiled by the
 * registry's cache and remembered. */
static enum ps_error
find_stack(const struct ps_registry *reg, const struct ps_snapshot *snap,
           const struct ps_dtable *t, const struct found_header *headers,
           size_t n, const struct view *packet,
           const struct ps_stack **stackp, char **errorp)
{
    uint64_t key[MAX_KEY];
    size_t n_key = 0;
    bool keyed = true;

    for (size_t i = 0; keyed && i < n; i++) {
        keyed = put_key(key, &n_key, &headers[i], packet);
    }
    uint64_t hash = keyed ? ps_dkey_hash(key, n_key) : 0;
    *stackp = keyed ? ps_dtable_lookup(t, key, n_key, hash) : NULL;
    if (*stackp) {
        return PS_OK;
    }

    char *spec = headers_spec(headers, n, packet);
    enum ps_error error = ps_snapshot_stack(reg, snap, spec, stackp, errorp);
    free(spec);
    if (!error && keyed) {
        ps_dtable_insert(t, key, n_key, hash, *stackp);
    }
    return error;
}

static enum ps_error dissect_walk(const struct ps_registry *,
                                  const struct ps_snapshot *,
                                  const struct ps_dtable *,
                                  const struct ps_dproto *, struct plans *,
                                  struct plan **,
                                  const uint8_t *pkt, size_t len,
                                  unsigned int flags, struct ps_dissection *,
                                  char **errorp)
    __attribute__((__noinline__));

static enum ps_error dissect_into_rest(const struct ps_registry *,
                                       const char *first,
                                       const uint8_t *pkt, size_t len,
                                       unsigned int flags,
                                       struct ps_dissection *, char **errorp)
    __attribute__((__noinline__));
static enum ps_error dissect_from(const struct ps_registry *,
                                  const struct ps_dtable *,
                                  const struct ps_dproto *,
                                  const uint8_t *pkt, size_t len,
                                  unsigned int flags,
                                  struct ps_dissection *, char **errorp)
    __attribute__((__noinline__));
static enum ps_error verify_plan(const struct plan *, const uint8_t *pkt,
                                 struct ps_dissection *)
    __attribute__((__noinline__));
static enum ps_error dissect_into_flow(const struct ps_registry *,
                                       const char *first,
                                       const uint8_t *pkt, size_t len,
                                       unsigned int flags,
                                       struct ps_dissection *, char **errorp)
    __attribute__((__noinline__));
static enum ps_error dissect_with_flow(const struct ps_dissector *,
                                       const uint8_t *pkt, size_t len,
                                       unsigned int flags,
                                       struct ps_dissection *, char **errorp)
    __attribute__((__noinline__));
static enum ps_error dissect_with_rest(const struct ps_dissector *,
                                       const uint8_t *pkt, size_t len,
                                       unsigned int flags,
                                       struct ps_dissection *, char **errorp)
    __attribute__((__noinline__));
static void dissection_free(struct ps_dissection *)
    __attribute__((__noinline__));

/* Sets every member of 'd' (see the assertion below) for a packet of
 * 'len' bytes, its end at 'end_p', that 'plan' took. */
static inline void __attribute__((__always_inline__))
plan_fill(const struct plan *plan, size_t len, size_t end_p,
          struct ps_dissection *d)
{
    /* Member by member: a compound literal is a 'rep stos' of the whole
     * struct, then the stores. */
    const struct ps_stack *stack = plan->stack;
    d->stack = CONST_CAST(struct ps_stack *, stack);
    d->n_headers = stack->n_headers;
    d->offsets = stack->offsets;
    d->header_len = stack->size;
    d->packet_len = end_p;
    d->len = len;
    d->truncated = NULL;
    d->problems = NULL;
    d->n_problems = 0;
}

/* The path of a packet whose plan's words all hold (one of a flow seen
 * before, of the same length) from protocol 'p' of table 't', the
 * protocol found last.  It calls nothing, so that it saves and restores
 * few registers.  Returns the plan that took the packet (the caller
 * verifies it by the plan, if asked to), or NULL if the plan of its slot
 * does not take it. */
static inline const struct plan * __attribute__((__always_inline__))
dissect_by_plan(const struct ps_dtable *t, const struct ps_dproto *p,
                const struct plans *plans, const uint8_t *pkt, size_t len,
                struct ps_dissection *d)
{
    if (!plans || plans->serial != t->serial) {
        return NULL;
    }
    const struct plan *plan = plans->slots[plan_slot(p, len)];
    if (!plan || plan->len != len || plan->first != p || !plan->exact
        || !plan_words_hold(plan->exact_words, plan->n_exact, pkt)) {
        return NULL;
    }
    plan_fill(plan, len, plan->packet_len, d);
    return plan;
}

/* What the paths of plans return for 'd', which 'plan' took: verified
 * by the plan unless 'flags' say not to. */
static inline enum ps_error __attribute__((__always_inline__))
plan_done(const struct plan *plan, const uint8_t *pkt, unsigned int flags,
          struct ps_dissection *d)
{
    return flags & PS_DISSECT_NO_VERIFY ? PS_OK : verify_plan(plan, pkt, d);
}

/* The path of a packet of the flow of the plan used last, of any length:
 * as dissect_by_plan(), it calls nothing and leaves the slots as they
 * are. */
static inline const struct plan * __attribute__((__always_inline__))
dissect_by_recent(const struct ps_dtable *t, const struct ps_dproto *p,
                  const struct plans *plans, const uint8_t *pkt, size_t len,
                  struct ps_dissection *d)
{
    const struct plan *plan;
    size_t end_p;

    if (!plans || plans->serial != t->serial || !(plan = plans->recent[0])
        || !plan_holds_flow(plan, p, pkt, len, &end_p)) {
        return NULL;
    }
    plan_fill(plan, len, end_p, d);
    return plan;
}

/* The next path: dissect_by_recent(), and the plan, as it is for the
 * packet's length, into the length's slot if the length repeats. */
static inline const struct plan * __attribute__((__always_inline__))
dissect_by_flow(const struct ps_dtable *t, const struct ps_dproto *p,
                const struct plans *plans, const uint8_t *pkt, size_t len,
                struct ps_dissection *d)
{
    const struct plan *plan = dissect_by_recent(t, p, plans, pkt, len, d);
    if (plan) {
        struct plans *plans_ = CONST_CAST(struct plans *, plans);
        size_t slot = plan_slot(p, len);
        if (plans_want_slot(plans_, slot, len)) {
            plans_fill_slot(plans_, slot, plan, pkt, len, d->packet_len);
        }
    }
    return plan;
}

/* The first path of a packet from protocol 'p' of table 't', the
 * protocol found last: if its length is the one of the frame before, by
 * the plan of its slot (dissect_by_plan()), else by the plan used last
 * (dissect_by_recent()).  A flow's packets seldom repeat a length, and
 * the slot of a length seen once holds no plan for it: the slot is
 * tried when the length repeats. */
static inline const struct plan * __attribute__((__always_inline__))
dissect_first(const struct ps_dtable *t, const struct ps_dproto *p,
              const uint8_t *pkt, size_t len, struct ps_dissection *d)
{
    struct plans *plans = thread_plans;

    if (plans && plans->len_before != len) {
        plans->len_before = len;
        return dissect_by_recent(t, p, plans, pkt, len, d);
    }
    return dissect_by_plan(t, p, plans, pkt, len, d);
}

/* The table of the current snapshot of 'reg', if built yet, and its
 * protocol found last ('*pp'). */
static inline const struct ps_dtable *
dissect_table_inline(const struct ps_registry *reg,
                     const struct ps_dproto **pp)
{
    struct ps_snapshot *snap = CONST_CAST(struct ps_snapshot *,
                                          ps_registry_snapshot_inline(reg));
    struct ps_dtable *t = CONST_CAST(struct ps_dtable *,
                                     atomic_load_explicit(
                                         &snap->dissect_table,
                                         memory_order_acquire));
    *pp = (t ? atomic_load_explicit(&t->last_found, memory_order_relaxed)
           : NULL);
    return t;
}

/* A frame from the protocol found last that the plan of its slot does
 * not take goes on in dissect_into_flow(), as a tail call: the path of
 * the frames that it takes has no stack frame. */
enum ps_error
ps_dissect_into(const struct ps_registry *reg, const char *first,
                const uint8_t *pkt, size_t len, unsigned int flags,
                struct ps_dissection *d, char **errorp)
{
    const struct ps_dproto *p;
    const struct ps_dtable *t = dissect_table_inline(reg, &p);

    if (p && first && ps_dsame_name(p->p->name, first)) {
        const struct plan *plan = dissect_first(t, p, pkt, len, d);
        if (plan) {
            return plan_done(plan, pkt, flags, d);
        }
    }
    return dissect_into_flow(reg, first, pkt, len, flags, d, errorp);
}

/* ps_dissect_into() of a frame that the plan of its slot does not take:
 * the plan used last, if the frame is of its flow; else from the
 * protocol found last, if it is the one, dissect_from(); anything else
 * (no table yet, another first protocol, unknown protocol) goes to
 * dissect_into_rest(), which starts over. */
static enum ps_error
dissect_into_flow(const struct ps_registry *reg, const char *first,
                  const uint8_t *pkt, size_t len, unsigned int flags,
                  struct ps_dissection *d, char **errorp)
{
    const struct ps_dproto *p;
    const struct ps_dtable *t = dissect_table_inline(reg, &p);

    if (p && first && ps_dsame_name(p->p->name, first)) {
        const struct plan *plan = dissect_by_flow(t, p, thread_plans, pkt,
                                                  len, d);
        if (plan) {
            return plan_done(plan, pkt, flags, d);
        }
        /* The protocol is known: no need to find it again. */
        return dissect_from(reg, t, p, pkt, len, flags, d, errorp);
    }
    return dissect_into_rest(reg, first, pkt, len, flags, d, errorp);
}

/* Whether 'p', the protocol found last, is known to be the one of 'dis'
 * and 'd' holds nothing to free. */
static inline bool
dissector_ready(const struct ps_dissector *dis, const struct ps_dproto *p,
                const struct ps_dissection *d)
{
    return (p && !d->problems && !d->truncated
            && atomic_load_explicit(&CONST_CAST(struct ps_dproto *,
                                                p)->dissector,
                                    memory_order_relaxed) == dis);
}

/* As ps_dissect_into(), but the protocol found last is known to be the
 * dissector's by a pointer, not by its name, and the first path is
 * dissect_first()'s.  What it does not take (a dissection that holds
 * anything to free included) goes to dissect_with_flow(), as a tail
 * call. */
enum ps_error
ps_dissect_with(const struct ps_dissector *dis, const uint8_t *pkt,
                size_t len, unsigned int flags, struct ps_dissection *d,
                char **errorp)
{
    const struct ps_dproto *p;
    const struct ps_dtable *t = dissect_table_inline(dis->reg, &p);

    if (dissector_ready(dis, p, d)) {
        const struct plan *plan = dissect_first(t, p, pkt, len, d);
        if (plan) {
            return plan_done(plan, pkt, flags, d);
        }
    }
    return dissect_with_flow(dis, pkt, len, flags, d, errorp);
}

/* ps_dissect_with() of a frame that the plan of its slot does not take:
 * the plan used last, if the frame is of its flow, else
 * dissect_with_rest(). */
static enum ps_error
dissect_with_flow(const struct ps_dissector *dis, const uint8_t *pkt,
                  size_t len, unsigned int flags, struct ps_dissection *d,
                  char **errorp)
{
    const struct ps_dproto *p;
    const struct ps_dtable *t = dissect_table_inline(dis->reg, &p);

    if (dissector_ready(dis, p, d)) {
        const struct plan *plan = dissect_by_flow(t, p, thread_plans, pkt,
                                                  len, d);
        if (plan) {
            return plan_done(plan, pkt, flags, d);
        }
    }
    return dissect_with_rest(dis, pkt, len, flags, d, errorp);
}

/* The members that ps_dissect_into() sets one by one, and no other. */
_Static_assert(sizeof(struct ps_dissection)
               == 4 * sizeof(void *) + 5 * sizeof(size_t),
               "ps_dissect_into() sets every member of a dissection");

static enum ps_error
verify_plan(const struct plan *plan, const uint8_t *pkt,
            struct ps_dissection *d)
{
    plan_verify(plan, pkt, d);
    return PS_OK;
}

/* ps_dissect_into() of a packet that the words of no plan take, or
 * from a protocol other than the one found last. */
static enum ps_error
dissect_into_rest(const struct ps_registry *reg, const char *first,
                  const uint8_t *pkt, size_t len, unsigned int flags,
                  struct ps_dissection *d, char **errorp)
{
    /* One snapshot for the whole dissection, stack included. */
    const struct ps_snapshot *snap = ps_registry_snapshot(reg);
    const struct ps_dtable *t = ps_dtable_get(reg, snap);
    const struct ps_dproto *p = ps_dtable_find(t, first);

    if (!p) {
        memset(d, 0, sizeof *d);
        return ps_set_error(errorp, PS_ERR_NO_PROTOCOL, "unknown protocol "
                            "\"%s\"", first);
    }
    return dissect_from(reg, t, p, pkt, len, flags, d, errorp);
}

/* ps_dissect_with() of a packet that no plan took at once, of a
 * dissection that holds something to free, or from a protocol other than
 * the one found last. */
static enum ps_error
dissect_with_rest(const struct ps_dissector *dis, const uint8_t *pkt,
                  size_t len, unsigned int flags, struct ps_dissection *d,
                  char **errorp)
{
    if (d->problems || d->truncated) {
        dissection_free(d);
    }

    const struct ps_dproto *p;
    const struct ps_dtable *t = dissect_table_inline(dis->reg, &p);
    if (p && atomic_load_explicit(&CONST_CAST(struct ps_dproto *,
                                              p)->dissector,
                                  memory_order_relaxed) == dis) {
        return dissect_from(dis->reg, t, p, pkt, len, flags, d, errorp);
    }

    const struct ps_snapshot *snap = ps_registry_snapshot(dis->reg);
    t = ps_dtable_get(dis->reg, snap);
    p = ps_dtable_find(t, dis->first);
    if (!p) {
        memset(d, 0, sizeof *d);
        return ps_set_error(errorp, PS_ERR_NO_PROTOCOL, "unknown protocol "
                            "\"%s\"", dis->first);
    }
    atomic_store_explicit(&CONST_CAST(struct ps_dproto *, p)->dissector,
                          dis, memory_order_relaxed);
    return dissect_from(dis->reg, t, p, pkt, len, flags, d, errorp);
}

/* ps_dissect_into() from protocol 'p' of table 't' (whose snapshot is
 * the one of the whole dissection) of a packet that the words of no
 * plan take at once: the plan of its slot, then the plans used last, or
 * the walk. */
static enum ps_error
dissect_from(const struct ps_registry *reg, const struct ps_dtable *t,
             const struct ps_dproto *p, const uint8_t *pkt, size_t len,
             unsigned int flags, struct ps_dissection *d, char **errorp)
{
    const struct ps_snapshot *snap = t->snap;
    struct plans *plans = plans_get(t);
    size_t slot = plan_slot(p, len);
    struct plan *plan = plans->slots[slot];
    size_t end_p;

    if (plan && plan_holds(plan, p, pkt, len, &end_p)) {
        plan_apply(plan, pkt, len, end_p, flags, d);
        return PS_OK;
    }
    for (size_t i = 0; i < PLAN_RECENT; i++) {
        struct plan *recent = plans->recent[i];
        if (recent && recent != plan
            && plan_holds(recent, p, pkt, len, &end_p)) {
            if (plans_want_slot(plans, slot, len)) {
                plans_fill_slot(plans, slot, recent, pkt, len, end_p);
            }
            plans_use(plans, recent, i);
            plan_apply(recent, pkt, len, end_p, flags, d);
            return PS_OK;
        }
    }

    memset(d, 0, sizeof *d);
    bool make = !plan || !(++plans->misses[slot] % 16);
    struct plan *made = NULL;
    enum ps_error error = dissect_walk(reg, snap, t, p, plans,
                                       make ? &made : NULL, pkt, len, flags,
                                       d, errorp);
    if (made) {
        plan_unref(plans, plans->slots[slot]);
        plans->slots[slot] = made;
        plans->used |= UINT64_C(1) << slot;
        made->refs++;
        plans_use(plans, made, PLAN_RECENT);
    }
    return error;
}

/* Dissects the 'len' bytes of 'pkt' into 'd' (zeroed) by a walk of table
 * 't' of snapshot 'snap' of 'reg' from protocol 'p'; if 'made' is
 * nonnull, records its reads and sets '*made' to its plan, made for the
 * thread's 'plans', if it can make one. */
static enum ps_error
dissect_walk(const struct ps_registry *reg, const struct ps_snapshot *snap,
             const struct ps_dtable *t, const struct ps_dproto *p,
             struct plans *plans, struct plan **made, const uint8_t *pkt,
             size_t len, unsigned int flags, struct ps_dissection *d,
             char **errorp)
{
    struct found_header headers[MAX_HEADERS];
    struct scratch scratch;
    size_t n = 0, offset = 0;
    struct trace trace;
    struct view packet = { pkt, len, made ? &trace : NULL, DVAR_LEN };
    const struct ps_dproto *first_p = p;

    trace.pkt = pkt;
    trace.n = trace.n_absent = trace.n_lens = 0;
    trace.len_min = trace.p_min = 0;
    trace.len_max = trace.p_max = SIZE_MAX;

    scratch.used = 0;
    d->len = d->packet_len = len;
    /* Bytes that belong to the packet: length fields may end it before
     * the frame does (Ethernet padding). */
    size_t limit = len;
    size_t limit_by = SIZE_MAX; /* The header whose length set 'limit'. */
    enum dvar limit_var = DVAR_LEN;     /* What 'limit' is for a plan. */
    struct header_span spans[MAX_HEADERS];
    struct span_vars span_vars[MAX_HEADERS];
    struct magic_problem {
        size_t header;
        int field;
        uint64_t have, want;
    } magic[MAX_HEADERS];
    size_t n_magic = 0;

    while (p && n < MAX_HEADERS) {
        struct view rest = { pkt + offset, limit - offset, packet.trace,
                             limit_var };
        struct found_header *h = &headers[n];
        char *why = NULL;

        if (!parse_header(p, &rest, h, &scratch, &why)) {
            d->truncated = why;
            break;
        }
        h->offset = offset;
        spans[n].bound = limit;
        spans[n].exact = n && limit_by == n - 1;
        span_vars[n].bound = limit_var;

        const struct ps_dvariant *v = h->v;
        for (size_t i = 0; i < v->n_checks; i++) {
            const struct ps_dcheck *c = &v->checks[i];
            const struct ps_dplace *f = place(h, c->field);
            if (!f->present) {
                continue;
            }
            uint64_t value = get_bits(&packet, offset * 8 + f->bit, f->bits);
            if (c->magic && value != c->value && n_magic < MAX_HEADERS) {
                magic[n_magic++] = (struct magic_problem) {
                    n, c->field, value, c->value
                };
            }
            if (c->length && packet.trace && f->bits) {
                limit_var = trace_length(&trace, c, offset, h->size, value,
                                         limit, limit_var);
            }
            if (c->length && value <= c->max) {
                size_t end = (c->span == PS_SPAN_REST ? offset
                              : offset + h->size) + value * c->unit
                             + c->sub;
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
        span_vars[n].end = limit_var;

        offset += h->size;
        n++;
        struct view next = { pkt + offset, limit - offset, packet.trace,
                             limit_var };
        if (limit_by != SIZE_MAX && next.trace) {
            /* Whether the end is at 'offset' or beyond it. */
            trace_bound(&next, 1, next.len != 0);
            if (!next.len) {
                trace_bound(&next, 0, true);
            }
        }
        if (!next.len && limit_by != SIZE_MAX) {
            /* The lengths say the packet is whole and has no payload: a
             * binding names what a payload is, if there is one. */
            break;
        }
        p = next_protocol(h, &packet, &next, &d->truncated);
    }
    if (n == MAX_HEADERS && p) {
        d->truncated = ps_xasprintf("more than %d headers", MAX_HEADERS);
    }

    enum ps_error error = PS_OK;
    const struct ps_stack *stack = NULL;
    if (n) {
        /* The stack is compiled once per registry generation, and owned
         * by the registry's cache. */
        struct view untraced = { pkt, len, NULL, DVAR_LEN };
        error = find_stack(reg, snap, t, headers, n, &untraced, &stack,
                           errorp);
    }
    if (!error && stack) {
        /* The compiled stack must lay out as the bytes read: nothing is
         * read past them afterwards. */
        bool fits = stack->n_headers == n && stack->size <= len;
        for (size_t i = 0; fits && i < n; i++) {
            fits = stack->headers[i].info.size == headers[i].size;
        }
        if (!fits) {
            error = ps_set_error(errorp, PS_ERR_LAYOUT,
                                 "stack \"%s\" found in the packet does "
                                 "not lay out as its %zu bytes",
                                 stack->spec, len);
        }
    }
    if (!error && stack) {
        size_t allocated = 0;
        d->stack = CONST_CAST(struct ps_stack *, stack);
        d->n_headers = stack->n_headers;
        d->offsets = stack->offsets;
        for (size_t i = 0; i < n_magic; i++) {
            size_t field = stack_field(stack, magic[i].header,
                                       &headers[magic[i].header],
                                       magic[i].field);
            add_problem(d, &allocated, field,
                        ps_xasprintf("bad value %"PRIu64" (expected "
                                     "%"PRIu64")", magic[i].have,
                                     magic[i].want));
        }
        d->header_len = stack->size;
        if (!(flags & PS_DISSECT_NO_VERIFY)) {
            verify(d, pkt, spans);
        }
        if (made && !d->truncated && !n_magic && trace.n <= MAX_READS) {
            *made = plan_create(plans, first_p, len, &trace, stack,
                                d->packet_len, spans, span_vars);
        }
    }
    for (size_t i = 0; i < n; i++) {
        found_header_clear(&headers[i]);
    }
    if (error) {
        ps_dissection_clear(d);
    }
    return error;
}

enum ps_error
ps_dissect_flags(const struct ps_registry *reg, const char *first,
                 const uint8_t *pkt, size_t len, unsigned int flags,
                 struct ps_dissection **dp, char **errorp)
{
    struct ps_dissection *d = ps_xmalloc(sizeof *d);
    enum ps_error error = ps_dissect_into(reg, first, pkt, len, flags, d,
                                          errorp);
    if (error) {
        free(d);
        d = NULL;
    }
    *dp = d;
    return error;
}

enum ps_error
ps_dissect(const struct ps_registry *reg, const char *first,
           const uint8_t *pkt, size_t len, struct ps_dissection **dp,
           char **errorp)
{
    return ps_dissect_flags(reg, first, pkt, len, 0, dp, errorp);
}

/* Frees what 'd' holds and zeroes it. */
static void
dissection_free(struct ps_dissection *d)
{
    for (size_t i = 0; i < d->n_problems; i++) {
        free(d->problems[i].message);
    }
    free(d->problems);
    free(d->truncated);
    memset(d, 0, sizeof *d);
}

void
ps_dissection_clear(struct ps_dissection *d)
{
    /* A dissection without problems (the usual one) holds nothing to
     * free: zeroed without a stack frame. */
    if (!d) {
        return;
    }
    if (d->problems || d->truncated) {
        dissection_free(d);
    } else {
        memset(d, 0, sizeof *d);
    }
}

void
ps_dissection_destroy(struct ps_dissection *d)
{
    ps_dissection_clear(d);
    free(d);
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
