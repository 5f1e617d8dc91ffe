/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The dissector's table of one registry generation (see dissect.h). */

#include <config.h>
#include "dissect.h"

#include <stdlib.h>
#include <string.h>
#include "util.h"

#define MIN_STACK_BUCKETS 64

static uint64_t
hash_name(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++) {
        h = (h ^ (uint8_t) *s) * UINT64_C(0x100000001b3);
    }
    return h ^ (h >> 32);
}

/* The index of field 'name' among the first 'n' fields of 'v', or
 * PS_DNONE. */
static int
field_index(const struct ps_variant *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n && i < v->n_fields; i++) {
        if (!strcmp(v->fields[i]->name, name)) {
            return i;
        }
    }
    return PS_DNONE;
}

static struct ps_dexpr *
dexpr_build(const struct ps_expr *e, const struct ps_variant *v,
            size_t before)
{
    struct ps_dexpr *d = ps_xzalloc(sizeof *d);
    d->op = e->op;
    d->num = e->num;
    d->field = (e->op == PS_EXPR_FIELD ? field_index(v, before, e->field)
                : PS_DNONE);
    if (e->left) {
        d->left = dexpr_build(e->left, v, before);
    }
    if (e->right) {
        d->right = dexpr_build(e->right, v, before);
    }
    return d;
}

/* Finds whether 'e', over layout 'v', is affine in one integer field of
 * at most 32 bits ('*field' * '*mul' + '*add'), and the range of values
 * it takes ['*lo', '*hi'], each within 31 bits.  '*field' is PS_DNONE
 * for a constant. */
static bool
dexpr_affine(const struct ps_dexpr *e, const struct ps_variant *v,
             int *field, int64_t *mul, int64_t *add, int64_t *lo,
             int64_t *hi)
{
    int lf, rf;
    int64_t lm, la, llo, lhi, rm, ra, rlo, rhi;

    switch (e->op) {
    case PS_EXPR_NUM:
        *field = PS_DNONE;
        *mul = 0;
        *add = *lo = *hi = e->num;
        break;
    case PS_EXPR_FIELD:
        if (e->field == PS_DNONE
            || v->fields[e->field]->type != PS_FIELD_UINT
            || v->fields[e->field]->bits > 30) {
            return false;
        }
        *field = e->field;
        *mul = 1;
        *add = *lo = 0;
        *hi = (INT64_C(1) << v->fields[e->field]->bits) - 1;
        break;
    case PS_EXPR_ADD:
    case PS_EXPR_SUB:
    case PS_EXPR_MUL:
        if (!dexpr_affine(e->left, v, &lf, &lm, &la, &llo, &lhi)
            || !dexpr_affine(e->right, v, &rf, &rm, &ra, &rlo, &rhi)
            || (lf != PS_DNONE && rf != PS_DNONE)) {
            return false;
        }
        *field = lf != PS_DNONE ? lf : rf;
        if (e->op == PS_EXPR_ADD) {
            *mul = lm + rm;
            *add = la + ra;
            *lo = llo + rlo;
            *hi = lhi + rhi;
        } else if (e->op == PS_EXPR_SUB) {
            *mul = lm - rm;
            *add = la - ra;
            *lo = llo - rhi;
            *hi = lhi - rlo;
        } else {
            /* One side is a constant. */
            int64_t k = lf == PS_DNONE ? la : ra;
            int64_t m = lf == PS_DNONE ? rm : lm;
            int64_t a = lf == PS_DNONE ? ra : la;
            int64_t flo = lf == PS_DNONE ? rlo : llo;
            int64_t fhi = lf == PS_DNONE ? rhi : lhi;
            *mul = m * k;
            *add = a * k;
            *lo = k < 0 ? fhi * k : flo * k;
            *hi = k < 0 ? flo * k : fhi * k;
        }
        break;
    case PS_EXPR_DIV:
    default:
        return false;
    }
    /* ps_expr_eval() saturates operands beyond 31 bits. */
    return *lo >= -INT32_MAX && *hi <= INT32_MAX
           && *mul >= -INT32_MAX && *mul <= INT32_MAX
           && *add >= -INT32_MAX && *add <= INT32_MAX;
}

static void
dexpr_destroy(struct ps_dexpr *d)
{
    if (d) {
        dexpr_destroy(d->left);
        dexpr_destroy(d->right);
        free(d);
    }
}

/* Finds integer field 'name' among the leading fixed fields of the plain
 * layout of 'dp', as the dissector reads it ahead in a payload, for
 * condition 'dc'. */
static void
leading_place(const struct ps_dproto *dp, const char *name,
              struct ps_dcond *dc)
{
    const struct ps_dvariant *dv = &dp->variants[0];
    int i = field_index(dv->v, dv->n_fixed, name);

    if (i != PS_DNONE && dv->fields[i].uint) {
        dc->known = true;
        dc->bit = dv->fixed[i].bit;
        dc->bits = dv->fixed[i].bits;
    }
}

/* Lays out the fields of variant 'v' of 'p', without the bindings. */
static void
dvariant_build(struct ps_dvariant *dv, const struct ps_protocol *p,
               size_t index)
{
    const struct ps_variant *v = &p->variants[index];
    size_t allocated_checks = 0, allocated_sizes = 0, allocated_flags = 0;

    dv->v = v;
    dv->index = index;
    dv->n_fields = v->n_fields;
    dv->fields = ps_xzalloc((v->n_fields + 1) * sizeof *dv->fields);
    dv->fixed = ps_xzalloc((v->n_fields + 1) * sizeof *dv->fixed);
    dv->when = v->when_field ? field_index(v, v->n_fields, v->when_field)
                             : PS_DNONE;
    dv->n_fixed = v->n_fields;
    for (size_t i = 0; i < v->n_fields; i++) {
        const struct ps_pfield *pf = v->fields[i];
        struct ps_dfield *f = &dv->fields[i];

        f->pf = pf;
        f->bits = pf->bits;
        f->uint = pf->type == PS_FIELD_UINT;
        f->n_flags = ps_pfield_n_flags(pf);
        f->flags = ps_xzalloc((f->n_flags + 1) * sizeof *f->flags);
        for (size_t k = 0; k < f->n_flags; k++) {
            f->flags[k] = field_index(v, i, ps_pfield_flag(pf, k));
        }
        if (pf->size_expr) {
            struct ps_dexpr *e = dexpr_build(pf->size_expr, v, i);
            int64_t lo, hi;
            e->affine = dexpr_affine(e, v, &e->affine_field, &e->mul,
                                     &e->add, &lo, &hi);
            f->size = e;
            *(int *) ps_array_push((void **) &dv->sizes, &dv->n_sizes,
                                   &allocated_sizes, sizeof(int)) = i;
        }
        if ((pf->cond || pf->size_expr) && dv->n_fixed == v->n_fields) {
            dv->n_fixed = i;
        }
        dv->has_flags |= pf->cond != NULL;
        for (size_t j = 0; j < v->n_fields; j++) {
            f->is_flag |= ps_pfield_has_flag(v->fields[j], pf->name);
        }
        if (f->uint && (pf->magic || (pf->rule == PS_RULE_LENGTH
                                      && pf->span != PS_SPAN_HEADER))) {
            struct ps_dcheck *c;
            c = ps_array_push((void **) &dv->checks, &dv->n_checks,
                              &allocated_checks, sizeof *c);
            c->field = i;
            c->magic = pf->magic;
            c->value = pf->value;
            c->length = pf->rule == PS_RULE_LENGTH
                        && pf->span != PS_SPAN_HEADER;
            c->span = pf->span;
            c->unit = pf->unit;
            c->sub = pf->sub;
            c->max = c->length ? SIZE_MAX / 2 / pf->unit : 0;
        }
    }
    for (size_t i = 0; i < v->n_fields; i++) {
        if (dv->fields[i].is_flag) {
            *(int *) ps_array_push((void **) &dv->flag_fields,
                                   &dv->n_flag_fields, &allocated_flags,
                                   sizeof(int)) = i;
        }
    }
    size_t bit = 0;
    for (size_t i = 0; i < dv->n_fixed; i++) {
        dv->fixed[i].bit = bit;
        dv->fixed[i].bits = dv->fields[i].bits;
        dv->fixed[i].present = true;
        bit += dv->fields[i].bits;
    }
    dv->fixed_bits = bit;
}

static int
compare_entries(const void *a_, const void *b_)
{
    const struct ps_dgroup_entry *a = a_, *b = b_;
    return (a->value < b->value ? -1 : a->value > b->value ? 1
            : a->bind < b->bind ? -1 : a->bind > b->bind);
}

/* Resolves the bindings of 'snap' after layout 'dv' of 'lower'. */
static void
dvariant_bind(struct ps_dvariant *dv, const struct ps_dproto *lower,
              const struct ps_dtable *t)
{
    const struct ps_snapshot *snap = t->snap;
    size_t allocated = 0, allocated_groups = 0, allocated_fixed = 0;

    for (size_t j = 0; j < ps_snapshot_n_bindings(snap); j++) {
        const struct ps_binding *b = ps_snapshot_binding(snap, j);
        if (strcmp(b->lower, lower->p->name)) {
            continue;
        }
        struct ps_dbind *db = ps_array_push((void **) &dv->binds,
                                            &dv->n_binds, &allocated,
                                            sizeof *db);
        db->b = b;
        db->upper = ps_dtable_find(t, b->upper);
        db->field = (b->field ? field_index(dv->v, dv->n_fields, b->field)
                     : PS_DNONE);
        db->n_conds = b->n_conds;
        db->conds = ps_xzalloc((b->n_conds + 1) * sizeof *db->conds);
        for (size_t k = 0; k < b->n_conds; k++) {
            const struct ps_binding_cond *c = &b->conds[k];
            struct ps_dcond *dc = &db->conds[k];
            dc->upper = c->upper;
            dc->not_equal = c->not_equal;
            dc->value = c->value;
            dc->field = PS_DNONE;
            if (!c->upper) {
                dc->field = field_index(dv->v, dv->n_fields, c->field);
            } else if (db->upper) {
                leading_place(db->upper, c->field, dc);
            }
        }
        size_t index = dv->n_binds - 1;
        if (!b->field) {
            *(size_t *) ps_array_push((void **) &dv->fixed_binds,
                                      &dv->n_fixed_binds, &allocated_fixed,
                                      sizeof(size_t)) = index;
            continue;
        }
        if (db->field == PS_DNONE || !dv->fields[db->field].uint) {
            continue;           /* Never matches. */
        }
        struct ps_dgroup *g = NULL;
        for (size_t k = 0; k < dv->n_groups; k++) {
            if (dv->groups[k].field == db->field) {
                g = &dv->groups[k];
            }
        }
        if (!g) {
            g = ps_array_push((void **) &dv->groups, &dv->n_groups,
                              &allocated_groups, sizeof *g);
            g->field = db->field;
        }
        g->entries = ps_xrealloc(g->entries, (g->n + 1) * sizeof *g->entries);
        g->entries[g->n++] = (struct ps_dgroup_entry) { b->value, index };
    }
    for (size_t k = 0; k < dv->n_groups; k++) {
        struct ps_dgroup *g = &dv->groups[k];
        qsort(g->entries, g->n, sizeof *g->entries, compare_entries);
        size_t n_slots = 8;
        while (n_slots < g->n * 2) {
            n_slots *= 2;
        }
        g->mask = n_slots - 1;
        g->slots = ps_xzalloc(n_slots * sizeof *g->slots);
        memset(g->filter, 0, sizeof g->filter);
        for (size_t i = 0; i < g->n; i++) {
            unsigned int b = ps_dgroup_filter_bit(g->entries[i].value);
            g->filter[b / 64] |= UINT64_C(1) << b % 64;
        }
        for (size_t i = 0, hi; i < g->n; i = hi) {
            for (hi = i + 1; hi < g->n; hi++) {
                if (g->entries[hi].value != g->entries[i].value) {
                    break;
                }
            }
            size_t slot = ps_dgroup_slot(g->entries[i].value, g->mask);
            while (g->slots[slot].hi) {
                slot = (slot + 1) & g->mask;
            }
            g->slots[slot].lo = i;
            g->slots[slot].hi = hi;
        }
    }
}

static void
dvariant_destroy(struct ps_dvariant *dv)
{
    for (size_t i = 0; i < dv->n_fields; i++) {
        free(dv->fields[i].flags);
        dexpr_destroy(dv->fields[i].size);
    }
    for (size_t i = 0; i < dv->n_binds; i++) {
        free(dv->binds[i].conds);
    }
    for (size_t i = 0; i < dv->n_groups; i++) {
        free(dv->groups[i].entries);
        free(dv->groups[i].slots);
    }
    free(dv->fields);
    free(dv->fixed);
    free(dv->checks);
    free(dv->sizes);
    free(dv->flag_fields);
    free(dv->binds);
    free(dv->groups);
    free(dv->fixed_binds);
}

static void *
dtable_build(const void *snap_)
{
    const struct ps_snapshot *snap = snap_;
    static atomic_uint_fast64_t serials = 1;
    struct ps_dtable *t = ps_xzalloc(sizeof *t);

    t->serial = atomic_fetch_add(&serials, 1);

    t->snap = snap;
    t->n_protos = snap->defs.n_protocols;
    t->protos = ps_xzalloc((t->n_protos + 1) * sizeof *t->protos);
    size_t n_slots = 16;
    while (n_slots < t->n_protos * 2) {
        n_slots *= 2;
    }
    t->by_name = ps_xzalloc(n_slots * sizeof *t->by_name);
    t->by_name_mask = n_slots - 1;

    /* Layouts first, then names, then the bindings that use both. */
    for (size_t i = 0; i < t->n_protos; i++) {
        const struct ps_protocol *p = snap->defs.protocols[i];
        struct ps_dproto *dp = &t->protos[i];
        size_t allocated_magic = 0;

        dp->p = p;
        dp->index = i;
        dp->n_variants = p->n_variants;
        dp->variants = ps_xzalloc(p->n_variants * sizeof *dp->variants);
        for (size_t k = 0; k < p->n_variants; k++) {
            dvariant_build(&dp->variants[k], p, k);
            dp->has_subtypes |= k && !p->variants[k].unparsed;
        }
        for (size_t k = 0; k < p->n_fields; k++) {
            dp->has_magic |= p->fields[k]->magic;
        }
        const struct ps_dvariant *plain = &dp->variants[0];
        for (size_t k = 0; k < plain->n_fixed; k++) {
            const struct ps_dfield *f = &plain->fields[k];
            if (f->pf->magic) {
                struct ps_dmagic *m;
                m = ps_array_push((void **) &dp->magic, &dp->n_magic,
                                  &allocated_magic, sizeof *m);
                m->bit = plain->fixed[k].bit;
                m->bits = plain->fixed[k].bits;
                m->uint = f->uint;
                m->value = f->pf->value;
            }
        }

        size_t slot = hash_name(p->name) & t->by_name_mask;
        while (t->by_name[slot]) {
            slot = (slot + 1) & t->by_name_mask;
        }
        t->by_name[slot] = dp;
    }
    for (size_t i = 0; i < t->n_protos; i++) {
        struct ps_dproto *dp = &t->protos[i];
        for (size_t k = 0; k < dp->n_variants; k++) {
            dvariant_bind(&dp->variants[k], dp, t);
        }
    }

    struct ps_dstack_index *ix = ps_xzalloc(sizeof *ix);
    ix->mask = MIN_STACK_BUCKETS - 1;
    ix->buckets = ps_xmalloc(MIN_STACK_BUCKETS * sizeof *ix->buckets);
    for (size_t i = 0; i < MIN_STACK_BUCKETS; i++) {
        atomic_init(&ix->buckets[i], NULL);
    }
    atomic_init(&t->index, ix);
    atomic_init(&t->last_found, NULL);
    pthread_mutex_init(&t->mutex, NULL);
    return t;
}

static void
dtable_destroy(void *t_)
{
    struct ps_dtable *t = t_;
    struct ps_dstack_index *ix = atomic_load(&t->index);

    /* Each index has its own entries (growth copies them). */
    while (ix) {
        struct ps_dstack_index *older = ix->older;
        for (size_t i = 0; i <= ix->mask; i++) {
            struct ps_dstack *e = atomic_load(&ix->buckets[i]);
            while (e) {
                struct ps_dstack *next = e->next;
                free(e);
                e = next;
            }
        }
        free(ix->buckets);
        free(ix);
        ix = older;
    }
    for (size_t i = 0; i < t->n_protos; i++) {
        for (size_t k = 0; k < t->protos[i].n_variants; k++) {
            dvariant_destroy(&t->protos[i].variants[k]);
        }
        free(t->protos[i].variants);
        free(t->protos[i].magic);
    }
    free(t->protos);
    free(t->by_name);
    pthread_mutex_destroy(&t->mutex);
    free(t);
}

const struct ps_dtable *
ps_dtable_get__(const struct ps_registry *reg,
                const struct ps_snapshot *snap_)
{
    /* A snapshot never changes but for this memo. */
    struct ps_snapshot *snap = CONST_CAST(struct ps_snapshot *, snap_);
    const struct ps_dtable *t;

    t = atomic_load_explicit(&snap->dissect_table, memory_order_acquire);
    if (!t) {
        /* The cache keeps one table per generation: threads that race
         * here store the same. */
        t = ps_stack_cache_aux(ps_registry_cache(reg), snap->generation,
                               dtable_build, snap, dtable_destroy);
        atomic_store_explicit(&snap->dissect_table, t, memory_order_release);
    }
    return t;
}

/* Whether names 'a' and 'b' are the same: short, compared here rather
 * than by a call. */

const struct ps_dproto *
ps_dtable_find__(const struct ps_dtable *t_, const char *name)
{
    struct ps_dtable *t = CONST_CAST(struct ps_dtable *, t_);
    if (!name) {
        return NULL;
    }
    const struct ps_dproto *dp;
    dp = atomic_load_explicit(&t->last_found, memory_order_relaxed);
    if (dp && ps_dsame_name(dp->p->name, name)) {
        return dp;
    }
    size_t slot = hash_name(name) & t->by_name_mask;
    while ((dp = t->by_name[slot]) != NULL) {
        if (ps_dsame_name(dp->p->name, name)) {
            /* Written only when it changes: the line stays shared. */
            atomic_store_explicit(&t->last_found, dp, memory_order_relaxed);
            return dp;
        }
        slot = (slot + 1) & t->by_name_mask;
    }
    return NULL;
}

static struct ps_dstack_index *
current_index(const struct ps_dtable *t_)
{
    /* C11 atomic_load() does not take a pointer to const. */
    struct ps_dtable *t = CONST_CAST(struct ps_dtable *, t_);
    return atomic_load_explicit(&t->index, memory_order_acquire);
}

static const struct ps_dstack *
find_in(const struct ps_dstack_index *ix, const uint64_t *key, size_t n,
        uint64_t hash)
{
    const struct ps_dstack *e;
    e = atomic_load_explicit(&ix->buckets[hash & ix->mask],
                             memory_order_acquire);
    for (; e; e = e->next) {
        if (e->hash == hash && e->n_key == n
            && !memcmp(e->key, key, n * sizeof *key)) {
            return e;
        }
    }
    return NULL;
}

const struct ps_stack *
ps_dtable_lookup(const struct ps_dtable *t, const uint64_t *key, size_t n,
                 uint64_t hash)
{
    const struct ps_dstack *e = find_in(current_index(t), key, n, hash);
    return e ? e->stack : NULL;
}

/* Publishes 'e' in 'ix' (under the table's mutex). */
static void
push(struct ps_dstack_index *ix, struct ps_dstack *e)
{
    struct ps_dstack *_Atomic *bucket = &ix->buckets[e->hash & ix->mask];
    e->next = atomic_load_explicit(bucket, memory_order_relaxed);
    atomic_store_explicit(bucket, e, memory_order_release);
}

void
ps_dtable_insert(const struct ps_dtable *t_, const uint64_t *key, size_t n,
                 uint64_t hash, const struct ps_stack *stack)
{
    struct ps_dtable *t = CONST_CAST(struct ps_dtable *, t_);

    pthread_mutex_lock(&t->mutex);
    struct ps_dstack_index *ix = atomic_load_explicit(&t->index,
                                                      memory_order_relaxed);
    if (find_in(ix, key, n, hash)) {
        pthread_mutex_unlock(&t->mutex);
        return;                 /* Another thread was first. */
    }
    if (t->n_stacks > ix->mask) {
        /* Twice as many buckets; entries are copied, since a published
         * entry's 'next' never changes.  The old index stays, with its
         * entries, for readers still walking it, until the table is
         * destroyed. */
        struct ps_dstack_index *new = ps_xzalloc(sizeof *new);
        new->mask = ix->mask * 2 + 1;
        new->buckets = ps_xmalloc((new->mask + 1) * sizeof *new->buckets);
        for (size_t i = 0; i <= new->mask; i++) {
            atomic_init(&new->buckets[i], NULL);
        }
        for (size_t i = 0; i <= ix->mask; i++) {
            struct ps_dstack *e = atomic_load_explicit(&ix->buckets[i],
                                                       memory_order_relaxed);
            while (e) {
                struct ps_dstack *next = e->next;
                struct ps_dstack *copy = ps_xmalloc(sizeof *copy + e->n_key
                                                    * sizeof *e->key);
                memcpy(copy, e, sizeof *copy + e->n_key * sizeof *e->key);
                push(new, copy);
                e = next;
            }
        }
        new->older = ix;
        atomic_store_explicit(&t->index, new, memory_order_release);
        ix = new;
    }
    struct ps_dstack *e = ps_xmalloc(sizeof *e + n * sizeof *key);
    e->hash = hash;
    e->stack = stack;
    e->n_key = n;
    memcpy(e->key, key, n * sizeof *key);
    push(ix, e);
    t->n_stacks++;
    pthread_mutex_unlock(&t->mutex);
}
