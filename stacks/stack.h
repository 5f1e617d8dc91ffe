/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef STACKS_STACK_H
#define STACKS_STACK_H 1

/* A compiled stack: layout, template and fix-up plan.  Built by stack.c,
 * used by fill.c (the interpreter tier) and generate-c.c (static C). */

#include <stdatomic.h>
#include "protocol.h"
#include "protostack/protostack.h"

struct ps_stack_header {
    struct ps_header_info info;
    const char **options;               /* "key=value" from the spec. */
    size_t n_options;
    const struct ps_protocol *proto;    /* Valid only while compiling. */
    const struct ps_variant *variant;   /* Valid only while compiling. */
    size_t first_field;                 /* Index into 'fields'. */
    size_t n_fields;
};

struct ps_stack_field {
    struct ps_field_info info;
    const struct ps_pfield *pf;         /* Valid only while compiling. */
};

struct ps_stack {
    char *spec;
    const struct ps_stack_cache *owner; /* The registry cache that owns
                                         * it and keeps it alive, or
                                         * NULL. */
    size_t size;
    size_t max_len;                     /* The longest packet whose length
                                         * fields can hold its lengths. */
    uint8_t *template;

    struct ps_stack_header *headers;
    size_t n_headers;
    struct ps_stack_field *fields;
    size_t n_fields;

    struct ps_length_fixup *lengths;
    size_t n_lengths;
    struct ps_checksum_fixup *checksums;
    size_t n_checksums;
    int entropy_field;

    /* Strings owned by the stack (names, docs, labels, rule texts). */
    char **strings;
    size_t n_strings, allocated_strings;
};

/* An encapsulation (encap.c): a stack with constant labels. */

/* A field that changes per packet inside a checksummed span, and where
 * its value lands in the span's 16-bit words: 'value << shift' adds to
 * the one's complement sum. */
struct ps_encap_var {
    size_t field;
    unsigned int shift;
};

struct ps_encap_checksum {
    size_t fixup;               /* Index into the stack's checksums. */
    bool incremental;           /* Sum = 'base' + the vars' shares. */
    uint32_t base;              /* Folded sum of the span in the template
                                 * with the vars and the checksum zero. */
    struct ps_encap_var *vars;
    size_t n_vars;
};

/* The interpreter's plan: each step resolved to byte offsets once. */
enum ps_encap_step_kind {
    PS_STEP_LENGTH16,           /* A byte-aligned 16-bit length, no 'sub',
                                 * unit 1: pkt_len - 'start'. */
    PS_STEP_ENTROPY16,          /* A byte-aligned 16-bit entropy field. */
    PS_STEP_LENGTH,             /* Any other length: 'index' into the
                                 * encapsulation's lengths. */
    PS_STEP_ENTROPY,            /* Any other entropy field. */
    PS_STEP_INCREMENTAL16,      /* A checksum from 'base' plus one aligned
                                 * 16-bit field at 'start'. */
    PS_STEP_CHECKSUM,           /* Any other checksum: 'index' into the
                                 * encapsulation's checksums. */
};

struct ps_encap_step {
    enum ps_encap_step_kind kind;
    size_t offset;              /* The field's byte offset. */
    size_t start;
    uint32_t base;
    size_t index;
};

/* A plan made only of the 16-bit steps above, with at most
 * PS_FAST_LENGTHS lengths, one entropy field and PS_FAST_CHECKSUMS
 * incremental checksums, in that order, runs as a straight-line function
 * chosen by its shape (the counts). */
#define PS_FAST_LENGTHS 3
#define PS_FAST_CHECKSUMS 2

struct ps_encap;
typedef void ps_encap_shape_fn(const struct ps_encap *, uint8_t *pkt,
                               size_t pkt_len, uint32_t hash);

struct ps_jit_module;

struct ps_encap {
    const struct ps_stack *stack;
    uint8_t *template;
    size_t *lengths;            /* Indices into the stack's lengths. */
    size_t n_lengths;
    struct ps_encap_checksum *checksums;
    size_t n_checksums;
    int entropy_field;          /* -1 if none, or given by a label. */

    /* The interpreter's plan. */
    struct ps_encap_step *steps;
    size_t n_steps;
    ps_encap_shape_fn *shape_fn; /* Straight-line, or NULL: the steps. */

    /* The JIT tier: 'fn' is null until compiled code is ready. */
    ps_encap_fn *_Atomic fn;
    void (*const *setters)(uint8_t *, uint64_t); /* Set with 'fn'. */
    struct ps_jit_module *module;
    void *compile_thread;       /* A pthread_t, while compiling. */
    char *jit_error;
};

/* stack.c: the name a spec gives the 'k'th (0-based) unnamed header of
 * 'protocol', as the dissector does: "ip4", "inner_ip4", "inner2_ip4"
 * (malloc()'d). */
char *ps_stack_header_default_name(const char *protocol, size_t k);

/* stack.c: the spec of 'stack' with header 'header''s variable-length
 * member set to 'length' bytes (malloc()'d). */
char *ps_stack_variant_spec(const struct ps_stack *, size_t header,
                            size_t length);

/* stack.c: ps_stack_create() on one snapshot of a registry. */
enum ps_error ps_stack_create_from(const struct ps_snapshot *,
                                   const char *spec, struct ps_stack **,
                                   char **errorp);

/* stack-cache.c */
struct ps_stack_cache;
struct ps_stack_cache *ps_stack_cache_create(void);
void ps_stack_cache_destroy(struct ps_stack_cache *);

/* Makes the cache compile stacks again, against definitions of
 * 'generation' or later: a load calls it after publishing them. */
void ps_stack_cache_flush(struct ps_stack_cache *, uint64_t generation);

/* Returns the data that 'build'('arg') derives from definitions of
 * 'generation', built on the first call for that generation and kind
 * ('destroy' tells the kinds apart) and kept, for any thread, until the
 * cache is destroyed, which calls 'destroy' on it.  Lock-free. */
void *ps_stack_cache_aux(struct ps_stack_cache *, uint64_t generation,
                         void *(*build)(const void *arg), const void *arg,
                         void (*destroy)(void *));

/* Like ps_registry_stack(), for an operation that reads snapshot 'snap'
 * only: a stack of 'snap''s generation, from the cache when it is of that
 * generation (the stack lives as long as the registry). */
struct ps_snapshot;
enum ps_error ps_snapshot_stack(const struct ps_registry *,
                                const struct ps_snapshot *,
                                const char *spec,
                                const struct ps_stack **, char **errorp);

/* generate-c.c */
/* generate-c.c: the JIT's code for 'encap', which defines
 *
 *     void ps_jit_encap(const uint8_t *data, uint8_t *pkt, size_t pkt_len,
 *                       uint32_t hash);
 *
 * from the encapsulation's shape alone; 'data' is the block of
 * ps_encap_data_size() bytes that holds the template (at 0) and the
 * partial sums of the incremental checksums (uint32_t, in the host's
 * order, at PS_ENCAP_BASES_OFFSET()). */
#define PS_ENCAP_BASES_OFFSET(SIZE) (((SIZE) + 7) & ~(size_t) 7)
char *ps_generate_jit_encap(const struct ps_encap *);
size_t ps_encap_data_size(const struct ps_encap *);

/* generate-c.c: the JIT's setters for 'stack', which define
 * "void (*const ps_jit_setters[])(uint8_t *, uint64_t)", indexed by
 * field, null for fields that are not integers or IPv4 addresses. */
char *ps_generate_jit_setters(const struct ps_stack *);

char *ps_generate_c(const struct ps_encap *, const char *name,
                    bool for_jit);

/* jit.c */
struct ps_jit_module *ps_jit_load(const char *code, char **errorp);
void *ps_jit_symbol(const struct ps_jit_module *, const char *name);
void ps_jit_unref(struct ps_jit_module *);

/* encap.c: builds an encapsulation without starting the JIT. */
enum ps_error ps_encap_build(const struct ps_stack *, const char *labels,
                             struct ps_encap **, char **errorp);

/* fill.c: labels and the fix-up plan, for the other tiers. */

/* A label's value parsed from text, ready to be written. */
struct ps_label_value {
    size_t field;
    uint64_t uint;              /* PS_FIELD_UINT. */
    uint8_t *bytes;             /* Other types: bits / 8 bytes, owned. */
};

/* Parses "label=value,label=value" ('labels' may be NULL).  On success
 * '*valuesp' is an array of '*n_valuesp' values to free with
 * ps_label_values_free(). */
enum ps_error ps_stack_parse_labels(const struct ps_stack *,
                                    const char *labels,
                                    struct ps_label_value **valuesp,
                                    size_t *n_valuesp, char **errorp);
void ps_label_values_free(struct ps_label_value *, size_t n);
bool ps_label_values_has(const struct ps_label_value *, size_t n,
                         size_t field);
void ps_stack_write_label(const struct ps_stack *, uint8_t *pkt,
                          const struct ps_label_value *);

/* The longest packet whose length field 'l' can hold its value. */
size_t ps_length_fixup_max(const struct ps_stack *,
                           const struct ps_length_fixup *l);
void ps_stack_apply_length(const struct ps_stack *, uint8_t *pkt,
                           const struct ps_length_fixup *, size_t pkt_len);
void ps_stack_apply_checksum(const struct ps_stack *, uint8_t *pkt,
                             size_t pkt_len,
                             const struct ps_checksum_fixup *);

#endif /* stacks/stack.h */
