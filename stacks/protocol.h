/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef STACKS_PROTOCOL_H
#define STACKS_PROTOCOL_H 1

/* The data model of protocol definitions, as read from protocols/\*.proto
 * by definition.c and kept by registry.c.  Nothing here knows any
 * protocol by name. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "protostack/protostack.h"

/* Where a definition came from, for error messages. */
struct ps_srcpos {
    const char *file;           /* Owned by the protocol or binding. */
    int line;
    int column;
};

/* An integer expression over the fields of one header, e.g. the size of
 * IPv4 options "ihl * 4 - 20". */
enum ps_expr_op {
    PS_EXPR_NUM,
    PS_EXPR_FIELD,
    PS_EXPR_ADD,
    PS_EXPR_SUB,
    PS_EXPR_MUL,
    PS_EXPR_DIV,
};

struct ps_expr {
    enum ps_expr_op op;
    int64_t num;                /* PS_EXPR_NUM. */
    char *field;                /* PS_EXPR_FIELD. */
    struct ps_expr *left, *right;
};

/* A span of a packet, relative to one header. */
enum ps_span {
    PS_SPAN_HEADER,             /* The header, variable part included. */
    PS_SPAN_REST,               /* The header and all that follows it. */
    PS_SPAN_PAYLOAD,            /* All that follows the header. */
};

/* A field as declared. */
struct ps_pfield {
    char *name;
    char *doc;
    struct ps_srcpos pos;
    enum ps_field_type type;
    unsigned int bits;          /* Width; 0 for a variable-length member. */
    struct ps_expr *size_expr;  /* Variable-length member's size. */
    size_t default_size;        /* Its size when a stack gives none. */
    char *cond;                 /* Flag field it depends on, or NULL. */
    char **or_conds;            /* More flags: "if a || b"; present when
                                 * any of them is set. */
    size_t n_or_conds;

    enum ps_field_rule rule;
    char *rule_text;
    uint64_t value;             /* PS_RULE_CONST integer; NEXT fallback. */
    uint8_t *bytes;             /* PS_RULE_CONST for address and bytes
                                 * fields ('bits' / 8 bytes), or NULL. */
    enum ps_span span;          /* PS_RULE_LENGTH, PS_RULE_CHECKSUM. */
    uint64_t sub;               /* PS_RULE_LENGTH. */
    uint64_t unit;              /* PS_RULE_LENGTH. */
    bool pseudo;                /* PS_RULE_CHECKSUM. */
    bool nonzero;               /* PS_RULE_CHECKSUM. */

    bool hex;
    bool entropy;
    bool magic;                 /* The constant identifies the protocol. */
};

/* One layout of a protocol: "plain", or a variant such as "vlan". */
struct ps_variant {
    char *name;
    char *doc;
    char *when_field;           /* NULL for "plain". */
    uint64_t when_value;
    bool unparsed;              /* @unparsed: for building stacks only;
                                 * the dissector never chooses it. */
    struct ps_pfield **fields;  /* In wire order; not owned. */
    size_t n_fields;
};

struct ps_protocol {
    char *name;
    char *doc;
    char *file;
    int line, column;           /* Of the "protocol" keyword. */
    struct ps_pfield **fields;  /* Every declared field; owned. */
    size_t n_fields;
    struct ps_variant *variants; /* variants[0] is "plain". */
    size_t n_variants;
};

/* A further condition of a binding, "&& PROTO.FIELD == VALUE" (or
 * "!="): on an integer field of the lower header, or on one of the upper
 * header's leading fixed fields, read ahead in the payload. */
struct ps_binding_cond {
    bool upper;                 /* On the upper protocol's field. */
    char *field;
    bool not_equal;             /* "!=" rather than "==". */
    uint64_t value;
};

/* "bind UPPER after LOWER[.FIELD == VALUE] [&& COND]...;" */
struct ps_binding {
    char *upper;
    char *lower;
    char *field;                /* NULL for a fixed successor. */
    uint64_t value;
    struct ps_binding_cond *conds; /* All must hold too. */
    size_t n_conds;
    struct ps_srcpos pos;
    char *file;
};

enum ps_pseudo_decl_kind {
    PS_PDECL_FIELD,
    PS_PDECL_ZERO,
    PS_PDECL_PROTO,
    PS_PDECL_LENGTH,
};

struct ps_pseudo_decl_item {
    enum ps_pseudo_decl_kind kind;
    char *field;                /* PS_PDECL_FIELD. */
    char *route;                /* "FIELD or route(ROUTE, TYPE...)": the
                                 * options field that may hold a source
                                 * route, or NULL... */
    uint32_t route_types;       /* ...and its types, one per byte. */
    unsigned int bits;          /* The others. */
};

/* "pseudo_header PROTOCOL { ... }" */
struct ps_pseudo_decl {
    char *protocol;
    struct ps_pseudo_decl_item *items;
    size_t n_items;
    struct ps_srcpos pos;
    char *file;
};

/* What one file (or string) defines. */
struct ps_definitions {
    struct ps_protocol **protocols;
    size_t n_protocols, allocated_protocols;
    struct ps_binding *bindings;
    size_t n_bindings, allocated_bindings;
    struct ps_pseudo_decl *pseudos;
    size_t n_pseudos, allocated_pseudos;
};

/* definition.c */
enum ps_error ps_definitions_parse(const char *name, const char *text,
                                   struct ps_definitions *,
                                   char **errorp);
void ps_definitions_clear(struct ps_definitions *);
void ps_protocol_destroy(struct ps_protocol *);
void ps_binding_clear(struct ps_binding *);
void ps_pseudo_decl_clear(struct ps_pseudo_decl *);
void ps_expr_destroy(struct ps_expr *);

/* Evaluates 'expr' with 'lookup' giving field values.  Returns false on
 * an unknown field or a division by zero. */
bool ps_expr_eval(const struct ps_expr *,
                  bool (*lookup)(const char *field, void *aux,
                                 int64_t *valuep),
                  void *aux, int64_t *valuep);

/* Applies binary operator 'op' to 'l' and 'r' as ps_expr_eval() does
 * (saturating operands beyond 31 bits).  Returns false on a division by
 * zero. */
bool ps_expr_apply(enum ps_expr_op op, int64_t l, int64_t r,
                   int64_t *valuep);

/* The flags that conditional field 'f' depends on: 0 if it is
 * unconditional; it is present when any of them is set. */
size_t ps_pfield_n_flags(const struct ps_pfield *f);
const char *ps_pfield_flag(const struct ps_pfield *f, size_t i);

/* Whether 'f' depends on flag 'name'. */
bool ps_pfield_has_flag(const struct ps_pfield *f, const char *name);

/* Returns the field of 'variant' named 'name', or NULL. */
const struct ps_pfield *ps_variant_find_field(const struct ps_variant *,
                                              const char *name);

/* registry.c */

/* An immutable view of a registry's definitions, as one load left them.
 * A load never changes a published snapshot: it publishes a new one
 * (atomically, with release semantics).  Every snapshot, and everything
 * it points to, stays valid until ps_registry_destroy(), so a reader may
 * keep one as long as it likes without locking or announcing itself.
 *
 * An operation that reads the registry more than once (compiling a
 * stack, dissecting a packet) takes one snapshot first and reads only it,
 * so that it never mixes two generations of definitions. */
struct ps_snapshot {
    struct ps_definitions defs; /* Read-only; 'allocated_*' unused. */
    uint64_t generation;        /* Counts the loads that changed it. */
    struct ps_snapshot *older;  /* The one it replaced (for destroy). */

    /* The dissector's table of this generation, once built: a memo of
     * what the stack cache keeps (dissect-table.c), set by any reader. */
    const void *_Atomic dissect_table;
};

/* Returns the current snapshot of 'reg' (never NULL).  Lock-free: one
 * atomic acquire load.  Safe from any thread, even during a load. */
const struct ps_snapshot *ps_registry_snapshot(const struct ps_registry *);

/* What readers see of a registry: the start of struct ps_registry
 * (registry.c), so that a reader in the library loads the snapshot
 * without a call. */
struct ps_registry_head {
    struct ps_snapshot *_Atomic current;
};

/* ps_registry_snapshot(), inline. */
static inline const struct ps_snapshot *
ps_registry_snapshot_inline(const struct ps_registry *reg)
{
    /* C11 atomic_load() does not take a pointer to const. */
    struct ps_registry_head *h = (struct ps_registry_head *) (uintptr_t) reg;
    return atomic_load_explicit(&h->current, memory_order_acquire);
}

const struct ps_protocol *ps_snapshot_find(const struct ps_snapshot *,
                                           const char *name);
size_t ps_snapshot_n_bindings(const struct ps_snapshot *);
const struct ps_binding *ps_snapshot_binding(const struct ps_snapshot *,
                                             size_t i);
const struct ps_pseudo_decl *ps_snapshot_find_pseudo(
    const struct ps_snapshot *, const char *protocol);

/* The same, each on the current snapshot: for one look-up only. */
const struct ps_protocol *ps_registry_find(const struct ps_registry *,
                                           const char *name);
size_t ps_registry_n_bindings(const struct ps_registry *);
const struct ps_pseudo_decl *ps_registry_find_pseudo(
    const struct ps_registry *, const char *protocol);

/* A first protocol of dissections (ps_registry_dissector()): one per
 * name per registry, never changed, freed with the registry. */
struct ps_dissector {
    const struct ps_registry *reg;
    char *first;
};

/* The registry's stack cache (stack-cache.c), created with the
 * registry. */
struct ps_stack_cache *ps_registry_cache(const struct ps_registry *);

#endif /* stacks/protocol.h */
