/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The registry's cache of compiled stacks, by spec text.  A stack that
 * has been compiled once is found again with one hash lookup: this is
 * what makes recasting a packet to the variant of a stack with another
 * variable length cheap, as in the libmoon paper.
 *
 * Any number of threads may use the cache at once.  A hit takes no lock
 * and writes nothing shared: one atomic acquire load of the cache's
 * table, then a walk down one hash chain.  A miss compiles the stack
 * without any lock, then takes the cache's mutex only to insert it.
 *
 * The index is a table for one registry generation.  Its entries never
 * change once published (a new one is pushed on a chain's head with a
 * release store), so readers need no lock.  A table that is full is
 * replaced by a copy twice as large, and a load replaces it with an empty
 * one (stacks must be compiled again against the new definitions); the
 * table replaced is kept, for readers still walking it, until the
 * registry is destroyed, as is every stack the cache compiled (stacks
 * handed out live as long as the registry).  Growth is geometric, so the
 * old tables of one generation take less memory than its live one. */

#include <config.h>
#include "stack.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

#define MIN_BUCKETS 64

struct cache_entry {
    uint64_t hash;
    const struct ps_stack *stack;
    struct cache_entry *next;   /* Never changes once published. */
    char spec[];                /* The spec as given, the key. */
};

/* A recast: the variant of 'stack' with header 'header' of 'length'
 * bytes, found without building its spec again. */
struct variant_entry {
    const struct ps_stack *stack;
    size_t header;
    size_t length;
    const struct ps_stack *variant;
    struct variant_entry *next; /* Never changes once published. */
};

/* The index for one registry generation. */
struct cache_table {
    uint64_t generation;
    size_t mask;                /* Number of buckets, minus 1. */
    struct cache_entry *_Atomic *buckets;
    struct variant_entry *_Atomic *variants;

    /* Under the cache's mutex. */
    size_t n_entries;
    size_t n_variants;
    struct cache_table *older;  /* The table this one replaced. */
};

/* Data derived from one generation of definitions, for another module
 * (the dissector's index of bindings): built once, kept until the cache
 * is destroyed. */
struct cache_aux {
    uint64_t generation;
    void (*destroy)(void *);    /* Also tells the kinds apart. */
    void *data;
    struct cache_aux *next;     /* Never changes once published. */
};

struct ps_stack_cache {
    struct cache_table *_Atomic table;
    struct cache_aux *_Atomic aux;

    /* 'mutex' serialises changes and guards what follows. */
    pthread_mutex_t mutex;
    struct ps_stack **stacks;   /* Every stack the cache compiled. */
    size_t n_stacks, allocated_stacks;
    size_t max_stacks;          /* Bound on 'n_stacks', 0 for none. */
};

static uint64_t
hash_string(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++) {
        h = (h ^ (uint8_t) *s) * UINT64_C(0x100000001b3);
    }
    return h;
}

static uint64_t
hash_variant(const struct ps_stack *stack, size_t header, size_t length)
{
    uint64_t h = (uintptr_t) stack;
    h = (h ^ header) * UINT64_C(0x100000001b3);
    h = (h ^ length) * UINT64_C(0x100000001b3);
    return h ^ (h >> 32);
}

static struct cache_table *
table_create(uint64_t generation, size_t n_buckets)
{
    struct cache_table *t = ps_xzalloc(sizeof *t);
    t->generation = generation;
    t->mask = n_buckets - 1;
    t->buckets = ps_xmalloc(n_buckets * sizeof *t->buckets);
    t->variants = ps_xmalloc(n_buckets * sizeof *t->variants);
    for (size_t i = 0; i < n_buckets; i++) {
        atomic_init(&t->buckets[i], NULL);
        atomic_init(&t->variants[i], NULL);
    }
    return t;
}

static void
table_destroy(struct cache_table *t)
{
    for (size_t i = 0; i <= t->mask; i++) {
        struct cache_entry *e = atomic_load(&t->buckets[i]);
        while (e) {
            struct cache_entry *next = e->next;
            free(e);
            e = next;
        }
        struct variant_entry *v = atomic_load(&t->variants[i]);
        while (v) {
            struct variant_entry *next = v->next;
            free(v);
            v = next;
        }
    }
    free(t->buckets);
    free(t->variants);
    free(t);
}

static struct cache_table *
current_table(const struct ps_stack_cache *cache_)
{
    /* C11 atomic_load() does not take a pointer to const. */
    struct ps_stack_cache *cache = (struct ps_stack_cache *) cache_;
    return atomic_load_explicit(&cache->table, memory_order_acquire);
}

static const struct cache_entry *
find_entry(const struct cache_table *t, const char *spec, uint64_t hash)
{
    const struct cache_entry *e;
    e = atomic_load_explicit(&t->buckets[hash & t->mask],
                             memory_order_acquire);
    for (; e; e = e->next) {
        if (e->hash == hash && !strcmp(e->spec, spec)) {
            return e;
        }
    }
    return NULL;
}

static const struct variant_entry *
find_variant(const struct cache_table *t, const struct ps_stack *stack,
             size_t header, size_t length)
{
    const struct variant_entry *e;
    uint64_t hash = hash_variant(stack, header, length);
    e = atomic_load_explicit(&t->variants[hash & t->mask],
                             memory_order_acquire);
    for (; e; e = e->next) {
        if (e->stack == stack && e->header == header
            && e->length == length) {
            return e;
        }
    }
    return NULL;
}

/* The functions below change the table: the caller holds the mutex. */

static void
push_entry(struct cache_table *t, const char *spec, uint64_t hash,
           const struct ps_stack *stack)
{
    size_t len = strlen(spec);
    struct cache_entry *e = ps_xmalloc(sizeof *e + len + 1);
    struct cache_entry *_Atomic *bucket = &t->buckets[hash & t->mask];

    e->hash = hash;
    e->stack = stack;
    memcpy(e->spec, spec, len + 1);
    e->next = atomic_load_explicit(bucket, memory_order_relaxed);
    atomic_store_explicit(bucket, e, memory_order_release);
    t->n_entries++;
}

static void
push_variant(struct cache_table *t, const struct ps_stack *stack,
             size_t header, size_t length, const struct ps_stack *variant)
{
    struct variant_entry *e = ps_xmalloc(sizeof *e);
    uint64_t hash = hash_variant(stack, header, length);
    struct variant_entry *_Atomic *bucket = &t->variants[hash & t->mask];

    e->stack = stack;
    e->header = header;
    e->length = length;
    e->variant = variant;
    e->next = atomic_load_explicit(bucket, memory_order_relaxed);
    atomic_store_explicit(bucket, e, memory_order_release);
    t->n_variants++;
}

/* Publishes 'new' in place of 't', which stays allocated for readers. */
static struct cache_table *
replace_table(struct ps_stack_cache *cache, struct cache_table *t,
              struct cache_table *new)
{
    new->older = t;
    atomic_store_explicit(&cache->table, new, memory_order_release);
    return new;
}

/* Returns a table with room for one more entry and one more recast: 't'
 * or, if it is full, a copy of it twice as large. */
static struct cache_table *
make_room(struct ps_stack_cache *cache, struct cache_table *t)
{
    if (t->n_entries <= t->mask && t->n_variants <= t->mask) {
        return t;
    }
    struct cache_table *new = table_create(t->generation,
                                           (t->mask + 1) * 2);
    for (size_t i = 0; i <= t->mask; i++) {
        const struct cache_entry *e;
        e = atomic_load_explicit(&t->buckets[i], memory_order_relaxed);
        for (; e; e = e->next) {
            push_entry(new, e->spec, e->hash, e->stack);
        }
        const struct variant_entry *v;
        v = atomic_load_explicit(&t->variants[i], memory_order_relaxed);
        for (; v; v = v->next) {
            push_variant(new, v->stack, v->header, v->length, v->variant);
        }
    }
    return replace_table(cache, t, new);
}

void
ps_stack_cache_set_limit(struct ps_stack_cache *cache, size_t max_stacks)
{
    pthread_mutex_lock(&cache->mutex);
    cache->max_stacks = max_stacks;
    pthread_mutex_unlock(&cache->mutex);
}

struct ps_stack_cache *
ps_stack_cache_create(void)
{
    struct ps_stack_cache *cache = ps_xzalloc(sizeof *cache);
    atomic_init(&cache->table, table_create(0, MIN_BUCKETS));
    atomic_init(&cache->aux, NULL);
    pthread_mutex_init(&cache->mutex, NULL);
    return cache;
}

void
ps_stack_cache_destroy(struct ps_stack_cache *cache)
{
    if (cache) {
        struct cache_table *t = atomic_load(&cache->table);
        while (t) {
            struct cache_table *older = t->older;
            table_destroy(t);
            t = older;
        }
        for (size_t i = 0; i < cache->n_stacks; i++) {
            ps_stack_destroy(cache->stacks[i]);
        }
        struct cache_aux *a = atomic_load(&cache->aux);
        while (a) {
            struct cache_aux *next = a->next;
            a->destroy(a->data);
            free(a);
            a = next;
        }
        free(cache->stacks);
        pthread_mutex_destroy(&cache->mutex);
        free(cache);
    }
}

static void *
find_aux(const struct cache_aux *a, uint64_t generation,
         void (*destroy)(void *))
{
    for (; a; a = a->next) {
        if (a->generation == generation && a->destroy == destroy) {
            return a->data;
        }
    }
    return NULL;
}

void *
ps_stack_cache_aux(struct ps_stack_cache *cache, uint64_t generation,
                   void *(*build)(const void *arg), const void *arg,
                   void (*destroy)(void *))
{
    struct cache_aux *head = atomic_load_explicit(&cache->aux,
                                                  memory_order_acquire);
    void *data = find_aux(head, generation, destroy);
    if (data) {
        return data;
    }

    /* Build without a lock, then publish with a compare-and-swap; if
     * another thread published the same meanwhile, keep its own. */
    struct cache_aux *new = ps_xmalloc(sizeof *new);
    new->generation = generation;
    new->destroy = destroy;
    new->data = build(arg);
    for (;;) {
        new->next = head;
        if (atomic_compare_exchange_weak_explicit(&cache->aux, &head, new,
                                                  memory_order_release,
                                                  memory_order_acquire)) {
            return new->data;
        }
        data = find_aux(head, generation, destroy);
        if (data) {
            destroy(new->data);
            free(new);
            return data;
        }
    }
}

void
ps_stack_cache_flush(struct ps_stack_cache *cache, uint64_t generation)
{
    pthread_mutex_lock(&cache->mutex);
    struct cache_table *t = atomic_load_explicit(&cache->table,
                                                 memory_order_relaxed);
    /* An empty table is replaced by the first miss. */
    if (t->generation < generation && (t->n_entries || t->n_variants)) {
        replace_table(cache, t, table_create(generation, MIN_BUCKETS));
    }
    pthread_mutex_unlock(&cache->mutex);
}

/* A recast to remember with the stack it gives. */
struct recast {
    const struct ps_stack *stack;
    size_t header;
    size_t length;
};

/* Returns in '*stackp' the stack compiled from 'spec' against snapshot
 * 'snap' of 'reg''s definitions (if NULL, the current one), from the cache
 * or compiled and added to it; with 'recast', also remembers that it is
 * that recast. */
static enum ps_error
cache_stack(const struct ps_registry *reg, const struct ps_snapshot *snap,
            const char *spec, const struct recast *recast,
            const struct ps_stack **stackp, char **errorp)
{
    struct ps_stack_cache *cache = ps_registry_cache(reg);
    struct cache_table *t = current_table(cache);
    uint64_t hash = hash_string(spec);

    /* A load flushes the table before it returns, so a hit is a stack of
     * definitions no older than those of the last load that returned.
     * A caller that reads one snapshot takes only a stack of its
     * generation. */
    const struct cache_entry *e = find_entry(t, spec, hash);
    if (e && !recast && (!snap || t->generation == snap->generation)) {
        *stackp = e->stack;
        return PS_OK;
    }

    /* Compile without the lock: other threads keep finding and
     * compiling stacks meanwhile. */
    if (!snap) {
        snap = ps_registry_snapshot(reg);
    }
    struct ps_stack *stack = NULL;
    if (e && t->generation != snap->generation) {
        /* A load is under way: compile for it. */
        e = NULL;
    }
    if (!e) {
        enum ps_error error = ps_stack_create_from(snap, spec, &stack,
                                                   errorp);
        if (error) {
            *stackp = NULL;
            return error;
        }
        stack->owner = cache;
    }

    pthread_mutex_lock(&cache->mutex);
    if (stack && cache->max_stacks && cache->n_stacks >= cache->max_stacks) {
        size_t max_stacks = cache->max_stacks;

        pthread_mutex_unlock(&cache->mutex);
        ps_stack_destroy(stack);
        *stackp = NULL;
        return ps_set_error(errorp, PS_ERR_RANGE, "%s: the registry has "
                            "compiled %zu stacks, its limit: no new one "
                            "can be compiled", spec, max_stacks);
    }
    t = atomic_load_explicit(&cache->table, memory_order_relaxed);
    if (t->generation < snap->generation) {
        /* The first miss since a load: start a table for it. */
        t = replace_table(cache, t, table_create(snap->generation,
                                                 MIN_BUCKETS));
    }
    /* If a load came after 'snap' and another thread made a table for it
     * already, what this call found or compiled is right for the
     * definitions it started with, but does not go into that table. */
    if (t->generation == snap->generation) {
        e = e ? e : find_entry(t, spec, hash);
        if (e && stack) {
            /* Another thread compiled it first. */
            ps_stack_destroy(stack);
            stack = NULL;
        }
        t = make_room(cache, t);
        if (!e) {
            push_entry(t, spec, hash, stack);
        }
        if (recast && !find_variant(t, recast->stack, recast->header,
                                    recast->length)) {
            push_variant(t, recast->stack, recast->header, recast->length,
                         e ? e->stack : stack);
        }
    }
    *stackp = e ? e->stack : stack;
    if (stack) {
        struct ps_stack **slot = ps_array_push((void **) &cache->stacks,
                                               &cache->n_stacks,
                                               &cache->allocated_stacks,
                                               sizeof *slot);
        *slot = stack;
    }
    pthread_mutex_unlock(&cache->mutex);
    return PS_OK;
}

enum ps_error
ps_registry_stack(struct ps_registry *reg, const char *spec,
                  const struct ps_stack **stackp, char **errorp)
{
    return cache_stack(reg, NULL, spec, NULL, stackp, errorp);
}

enum ps_error
ps_snapshot_stack(const struct ps_registry *reg,
                  const struct ps_snapshot *snap, const char *spec,
                  const struct ps_stack **stackp, char **errorp)
{
    return cache_stack(reg, snap, spec, NULL, stackp, errorp);
}

enum ps_error
ps_registry_stack_variant(struct ps_registry *reg,
                          const struct ps_stack *stack, size_t header,
                          size_t length, const struct ps_stack **variantp,
                          char **errorp)
{
    if (header >= stack->n_headers) {
        *variantp = NULL;
        return ps_set_error(errorp, PS_ERR_ABSENT, "stack %s has no header "
                            "%zu", stack->spec, header);
    }
    /* Known recasts first: no spec to build.  Only stacks that the cache
     * owns are remembered by address: those live as long as the registry,
     * so no other stack can take their address. */
    const struct ps_stack_cache *cache = ps_registry_cache(reg);
    bool owned = stack->owner == cache;
    if (owned) {
        const struct variant_entry *e = find_variant(current_table(cache),
                                                     stack, header, length);
        if (e) {
            *variantp = e->variant;
            return PS_OK;
        }
    }

    char *spec = ps_stack_variant_spec(stack, header, length);
    struct recast recast = { stack, header, length };
    enum ps_error error = cache_stack(reg, NULL, spec,
                                      owned ? &recast : NULL, variantp,
                                      errorp);
    free(spec);
    return error;
}
