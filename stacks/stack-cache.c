/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The registry's cache of compiled stacks, by spec text.  A stack that
 * has been compiled once is found again with one hash lookup: this is
 * what makes recasting a packet to the variant of a stack with another
 * variable length cheap, as in the libmoon paper. */

#include <config.h>
#include "stack.h"

#include <stdlib.h>
#include <string.h>
#include "util.h"

struct cache_entry {
    char *spec;
    uint64_t hash;
    struct ps_stack *stack;
    struct cache_entry *next;
};

/* A recast: the variant of 'stack' with header 'header' of 'length'
 * bytes, found without building its spec again. */
struct variant_entry {
    const struct ps_stack *stack;
    size_t header;
    size_t length;
    const struct ps_stack *variant;
    struct variant_entry *next;
};

#define N_VARIANT_BUCKETS 256

struct ps_stack_cache {
    struct cache_entry **buckets;
    size_t n_buckets;
    size_t n_entries;
    struct variant_entry *variants[N_VARIANT_BUCKETS];
    uint64_t generation;        /* Registry generation it was built for. */
    struct cache_entry *retired; /* Stale stacks, kept alive for users. */
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

static void
free_chain(struct cache_entry *e)
{
    while (e) {
        struct cache_entry *next = e->next;
        free(e->spec);
        ps_stack_destroy(e->stack);
        free(e);
        e = next;
    }
}

static void
clear_variants(struct ps_stack_cache *cache)
{
    for (size_t i = 0; i < N_VARIANT_BUCKETS; i++) {
        struct variant_entry *e = cache->variants[i];
        while (e) {
            struct variant_entry *next = e->next;
            free(e);
            e = next;
        }
        cache->variants[i] = NULL;
    }
}

static size_t
variant_bucket(const struct ps_stack *stack, size_t header, size_t length)
{
    uint64_t h = (uintptr_t) stack;
    h = (h ^ header) * UINT64_C(0x100000001b3);
    h = (h ^ length) * UINT64_C(0x100000001b3);
    return (h ^ (h >> 32)) % N_VARIANT_BUCKETS;
}

void
ps_stack_cache_destroy(struct ps_stack_cache *cache)
{
    if (cache) {
        clear_variants(cache);
        for (size_t i = 0; i < cache->n_buckets; i++) {
            free_chain(cache->buckets[i]);
        }
        free_chain(cache->retired);
        free(cache->buckets);
        free(cache);
    }
}

/* Moves every entry to the retired list: a load changed the definitions,
 * so new lookups must compile again, but stacks already handed out stay
 * valid until the registry is destroyed. */
static void
retire_all(struct ps_stack_cache *cache)
{
    for (size_t i = 0; i < cache->n_buckets; i++) {
        struct cache_entry *e = cache->buckets[i];
        while (e) {
            struct cache_entry *next = e->next;
            e->next = cache->retired;
            cache->retired = e;
            e = next;
        }
        cache->buckets[i] = NULL;
    }
    cache->n_entries = 0;
}

static void
grow(struct ps_stack_cache *cache)
{
    size_t n = cache->n_buckets ? cache->n_buckets * 2 : 64;
    struct cache_entry **buckets = ps_xzalloc(n * sizeof *buckets);
    for (size_t i = 0; i < cache->n_buckets; i++) {
        struct cache_entry *e = cache->buckets[i];
        while (e) {
            struct cache_entry *next = e->next;
            e->next = buckets[e->hash % n];
            buckets[e->hash % n] = e;
            e = next;
        }
    }
    free(cache->buckets);
    cache->buckets = buckets;
    cache->n_buckets = n;
}

enum ps_error
ps_registry_stack(struct ps_registry *reg, const char *spec,
                  const struct ps_stack **stackp, char **errorp)
{
    struct ps_stack_cache **cachep = ps_registry_cache(reg);
    struct ps_stack_cache *cache = *cachep;
    uint64_t generation = ps_registry_generation(reg);

    if (!cache) {
        cache = *cachep = ps_xzalloc(sizeof *cache);
        cache->generation = generation;
        grow(cache);
    } else if (cache->generation != generation) {
        retire_all(cache);
        clear_variants(cache);
        cache->generation = generation;
    }

    uint64_t hash = hash_string(spec);
    for (struct cache_entry *e = cache->buckets[hash % cache->n_buckets]; e;
         e = e->next) {
        if (e->hash == hash && !strcmp(e->spec, spec)) {
            *stackp = e->stack;
            return PS_OK;
        }
    }

    struct ps_stack *stack;
    enum ps_error error = ps_stack_create(reg, spec, &stack, errorp);
    if (error) {
        *stackp = NULL;
        return error;
    }
    if (cache->n_entries >= cache->n_buckets) {
        grow(cache);
    }
    struct cache_entry *e = ps_xmalloc(sizeof *e);
    e->spec = ps_xstrdup(spec);
    e->hash = hash;
    stack->owner = cache;
    e->stack = stack;
    e->next = cache->buckets[hash % cache->n_buckets];
    cache->buckets[hash % cache->n_buckets] = e;
    cache->n_entries++;
    *stackp = stack;
    return PS_OK;
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
    struct ps_stack_cache *cache = *ps_registry_cache(reg);
    size_t bucket = variant_bucket(stack, header, length);
    bool owned = cache && stack->owner == cache;
    if (owned && cache->generation == ps_registry_generation(reg)) {
        for (struct variant_entry *e = cache->variants[bucket]; e;
             e = e->next) {
            if (e->stack == stack && e->header == header
                && e->length == length) {
                *variantp = e->variant;
                return PS_OK;
            }
        }
    }

    char *spec = ps_stack_variant_spec(stack, header, length);
    enum ps_error error = ps_registry_stack(reg, spec, variantp, errorp);
    free(spec);
    if (!error && owned) {
        /* ps_registry_stack() made the cache current. */
        cache = *ps_registry_cache(reg);
        struct variant_entry *e = ps_xmalloc(sizeof *e);
        e->stack = stack;
        e->header = header;
        e->length = length;
        e->variant = *variantp;
        e->next = cache->variants[bucket];
        cache->variants[bucket] = e;
    }
    return error;
}
