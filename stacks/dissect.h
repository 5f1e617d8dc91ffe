/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef STACKS_DISSECT_H
#define STACKS_DISSECT_H 1

/* The dissector's table: the protocol definitions of one registry
 * generation compiled for reading packets (dissect-table.c), used by the
 * walk in dissect.c.
 *
 * Every name is resolved once, when the table is built: a field is an
 * index into its layout, a binding's upper protocol a pointer, a size
 * expression a tree over field indices, and the leading fields of each
 * layout that no condition or size moves have their places computed.
 * The bindings on a field of a layout are sorted by value, so that the
 * successor of a header is a binary search.  Stacks found in packets are
 * kept by a hash of the header sequence (protocols, subtypes, sizes and
 * flags), never by spec text.
 *
 * A table is built once per registry generation (ps_stack_cache_aux())
 * and is read-only but for its index of stacks, which readers walk
 * without a lock (entries never change once published) and writers
 * change under the table's mutex. */

#include <pthread.h>
#include <stdatomic.h>
#include "protocol.h"
#include "stack.h"

#define PS_DNONE (-1)           /* No field. */

/* A size expression with its fields resolved to indices in a layout. */
struct ps_dexpr {
    enum ps_expr_op op;
    int64_t num;
    int field;                  /* PS_EXPR_FIELD; PS_DNONE if unknown. */
    struct ps_dexpr *left, *right;

    /* At the root, when the expression is 'field' * 'mul' + 'add' with
     * no intermediate value beyond 31 bits for any value of the field
     * (ps_expr_eval() would saturate): evaluated that way. */
    bool affine;
    int affine_field;
    int64_t mul, add;
};

/* A field of a layout. */
struct ps_dfield {
    const struct ps_pfield *pf;
    unsigned int bits;          /* Width, unless 'size'. */
    bool uint;                  /* An integer field. */
    bool is_flag;               /* A field of the layout depends on it. */
    int *flags;                 /* The flags it depends on (indices), or
                                 * PS_DNONE for one not placed before it;
                                 * present if any is set. */
    size_t n_flags;
    struct ps_dexpr *size;      /* Its size in bytes, or NULL. */
};

/* Where a field lies in a header found in a packet. */
struct ps_dplace {
    uint32_t bit;               /* From the header's start. */
    uint32_t bits;
    bool present;
};

/* A further condition of a binding, resolved. */
struct ps_dcond {
    bool upper;
    int field;                  /* Lower: index in the lower layout. */
    bool known;                 /* Upper: a leading integer field of its
                                 * plain layout (else it never holds)... */
    uint32_t bit, bits;         /* ...and its place there. */
    bool not_equal;
    uint64_t value;
};

/* A binding after a layout, resolved for that layout. */
struct ps_dbind {
    const struct ps_binding *b;
    const struct ps_dproto *upper;      /* NULL if not loaded. */
    int field;                  /* PS_DNONE for a fixed successor. */
    struct ps_dcond *conds;
    size_t n_conds;
};

/* The bindings on one integer field of a layout, sorted by value, then
 * by load order. */
struct ps_dgroup_entry {
    uint64_t value;
    size_t bind;                /* Index into the layout's binds. */
};

struct ps_dgroup {
    int field;
    struct ps_dgroup_entry *entries;
    size_t n;
    /* By value, open addressing: the range of entries of each value
     * ('hi' is 0 in an empty slot). */
    struct ps_dgroup_slot {
        size_t lo, hi;
    } *slots;
    size_t mask;

    /* Bit ps_dgroup_filter_bit() of each value is set: a value whose bit
     * is clear is in no entry. */
    uint64_t filter[8];
};

static inline unsigned int
ps_dgroup_filter_bit(uint64_t value)
{
    return (value * UINT64_C(0x9e3779b97f4a7c15)) >> 55;
}

/* The slot where the look-up of 'value' starts, in a group with
 * 'mask' + 1 slots. */
static inline size_t
ps_dgroup_slot(uint64_t value, size_t mask)
{
    return (size_t) ((value * UINT64_C(0x9e3779b97f4a7c15)) >> 40) & mask;
}

/* A field that the walk reads in every header of a layout: an integer
 * with a @magic constant, or a length beyond the header. */
struct ps_dcheck {
    int field;
    bool magic;
    uint64_t value;             /* The @magic constant. */
    bool length;
    enum ps_span span;          /* The length's... */
    size_t unit, sub;
    uint64_t max;               /* ...and its largest usable value. */
};

/* One layout ("plain" or a variant) of a protocol. */
struct ps_dvariant {
    const struct ps_variant *v;
    size_t index;               /* In the protocol's variants. */
    struct ps_dfield *fields;
    size_t n_fields;
    size_t n_fixed;             /* Leading fields without a condition or
                                 * a size... */
    struct ps_dplace *fixed;    /* ...and their places. */
    size_t fixed_bits;          /* Bits of those fields. */
    int when;                   /* The variant's "when" field, or
                                 * PS_DNONE. */
    bool has_flags;             /* Some field is conditional. */

    struct ps_dcheck *checks;
    size_t n_checks;
    int *sizes;                 /* Fields with a size, in order. */
    size_t n_sizes;
    int *flag_fields;           /* Fields that are flags, in order. */
    size_t n_flag_fields;

    /* Bindings after this layout, in load order: those on a field,
     * indexed by 'groups', and fixed successors, listed in 'fixed_binds'
     * (indices into 'binds'). */
    struct ps_dbind *binds;
    size_t n_binds;
    struct ps_dgroup *groups;
    size_t n_groups;
    size_t *fixed_binds;
    size_t n_fixed_binds;
};

/* An integer @magic field among the leading fixed fields of a protocol's
 * plain layout, read ahead to tell a fixed successor. */
struct ps_dmagic {
    uint32_t bit, bits;
    bool uint;
    uint64_t value;
};

struct ps_dproto {
    const struct ps_protocol *p;
    size_t index;               /* In the snapshot's protocols. */
    struct ps_dvariant *variants;       /* [0] is "plain". */
    size_t n_variants;
    bool has_magic;             /* Any field of any layout. */
    bool has_subtypes;          /* A variant that dissection may pick. */
    struct ps_dmagic *magic;    /* Plain layout, leading fields. */
    size_t n_magic;

    /* The dissector of its name (ps_registry_dissector()), once a
     * dissection from it has found this protocol by name, or NULL: any
     * thread may set it, always to the same value. */
    const struct ps_dissector *_Atomic dissector;
};

/* A stack found in packets, by its key: the header sequence. */
struct ps_dstack {
    uint64_t hash;
    const struct ps_stack *stack;
    struct ps_dstack *next;     /* Never changes once published. */
    size_t n_key;
    uint64_t key[];
};

struct ps_dstack_index {
    size_t mask;                /* Number of buckets, minus 1. */
    struct ps_dstack *_Atomic *buckets;
    struct ps_dstack_index *older;      /* Kept for readers. */
};

struct ps_dtable {
    const struct ps_snapshot *snap;
    uint64_t serial;            /* Unique among all tables ever built. */
    struct ps_dproto *protos;
    size_t n_protos;
    const struct ps_dproto **by_name;   /* Open addressing, by name. */
    size_t by_name_mask;

    /* The protocol last found by name, for the next look-up of the same
     * name (dissections from "eth", one after another). */
    const struct ps_dproto *_Atomic last_found;

    struct ps_dstack_index *_Atomic index;
    pthread_mutex_t mutex;      /* For changes of the index. */
    size_t n_stacks;            /* Under 'mutex'. */
};

/* The table of snapshot 'snap' of 'reg', built on first use. */
const struct ps_dtable *ps_dtable_get__(const struct ps_registry *,
                                        const struct ps_snapshot *);

static inline const struct ps_dtable *
ps_dtable_get(const struct ps_registry *reg, const struct ps_snapshot *snap)
{
    /* A snapshot never changes but for this memo. */
    struct ps_snapshot *s = (struct ps_snapshot *) (uintptr_t) snap;
    const struct ps_dtable *t;

    t = atomic_load_explicit(&s->dissect_table, memory_order_acquire);
    return t ? t : ps_dtable_get__(reg, snap);
}

/* Whether strings 'a' and 'b' are the same. */
static inline bool
ps_dsame_name(const char *a, const char *b)
{
    /* One index, and the end tested only after a match: about 5
     * instructions a character. */
    for (size_t i = 0;; i++) {
        char c = a[i];
        if (b[i] != c) {
            return false;
        }
        if (!c) {
            return true;
        }
    }
}

/* The protocol named 'name', or NULL. */
const struct ps_dproto *ps_dtable_find__(const struct ps_dtable *,
                                         const char *name);

static inline const struct ps_dproto *
ps_dtable_find(const struct ps_dtable *t, const char *name)
{
    /* The protocol found last, as ps_dtable_find__() does first, without
     * a call. */
    struct ps_dtable *t_ = (struct ps_dtable *) (uintptr_t) t;
    const struct ps_dproto *dp;

    dp = atomic_load_explicit(&t_->last_found, memory_order_relaxed);
    return (dp && name && ps_dsame_name(dp->p->name, name) ? dp
            : ps_dtable_find__(t, name));
}

/* The stack of key 'key' ('n' words, hash 'hash'), or NULL. */
const struct ps_stack *ps_dtable_lookup(const struct ps_dtable *,
                                        const uint64_t *key, size_t n,
                                        uint64_t hash);

/* Remembers 'stack' (owned by the registry's cache) for 'key'. */
void ps_dtable_insert(const struct ps_dtable *, const uint64_t *key,
                      size_t n, uint64_t hash, const struct ps_stack *);

static inline uint64_t
ps_dkey_hash(const uint64_t *key, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h = (h ^ key[i]) * UINT64_C(0x100000001b3);
    }
    return h ^ (h >> 29);
}

#endif /* stacks/dissect.h */
