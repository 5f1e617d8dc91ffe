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
#include "protostack/bits.h"
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
    size_t *offsets;                    /* Each header's offset, then
                                         * 'size': 'n_headers' + 1. */
    struct ps_stack_field *fields;
    size_t n_fields;

    struct ps_length_fixup *lengths;
    size_t n_lengths;
    struct ps_checksum_fixup *checksums;
    size_t n_checksums;
    int entropy_field;

    /* The JIT modules of this stack's encapsulations, by shape: found
     * again without generating code (encap.c). */
    struct ps_jit_memo *_Atomic jit_memo;

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

/* What a straight-line function of the interpreter reads per packet,
 * just in front of the template: every tier's function then takes the
 * same 'data' (the template), and ps_encap_apply() is one indirect
 * call. */
struct ps_fast_plan {
    const struct ps_encap *encap;       /* For the general interpreter. */
    uint16_t size;                      /* Of the template. */
    uint16_t len_offset[PS_FAST_LENGTHS];
    uint16_t len_start[PS_FAST_LENGTHS];
    uint16_t ent_offset;
    uint16_t csum_offset[PS_FAST_CHECKSUMS];
    uint16_t csum_start[PS_FAST_CHECKSUMS];
    uint32_t csum_base[PS_FAST_CHECKSUMS];
};

/* An encapsulation's data: the plan, then the template (the 'data' of
 * ps_encap_fn) and the incremental checksums' partial sums. */
struct ps_encap_block {
    struct ps_fast_plan plan;
    uint8_t template[] __attribute__((__aligned__(16)));
};

struct ps_jit_module;

struct ps_encap {
    const struct ps_stack *stack;
    struct ps_encap_block *block;
    uint8_t *template;          /* block->template. */
    size_t *lengths;            /* Indices into the stack's lengths. */
    size_t n_lengths;
    struct ps_encap_checksum *checksums;
    size_t n_checksums;
    int entropy_field;          /* -1 if none, or given by a label. */

    /* The interpreter's plan. */
    struct ps_encap_step *steps;
    size_t n_steps;
    ps_encap_fn *_Atomic run;   /* What ps_encap_apply() calls: the JIT's
                                 * function, a straight-line one, or the
                                 * steps' loop. */

    /* The JIT tier: 'fn' is null until compiled code is ready.  It takes
     * 'template' as its data (see ps_generate_jit_encap()). */
    ps_encap_fn *_Atomic fn;
    void (*const *_Atomic setters)(uint8_t *, uint64_t); /* On demand. */
    struct ps_jit_job *job;     /* PS_TIER_AUTO's background compile. */
    char *jit_error;            /* Why it could not start. */
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
void ps_stack_cache_set_limit(struct ps_stack_cache *, size_t max_stacks);

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

char *ps_generate_c(const struct ps_encap *, const char *name);

/* jit.c: modules, loaded for the life of the process, and their entry
 * points (generate-c.c's JIT variant), looked up once when a module
 * loads: the encapsulation function "ps_jit_encap" and the table of
 * field setters "ps_jit_setters", each NULL if the module has none. */
struct ps_jit_module *ps_jit_load(const char *code, char **errorp);

/* The module of 'code' if it is loaded already, else NULL: never
 * compiles, never waits for a compile. */
struct ps_jit_module *ps_jit_find(const char *code);

/* Counts a module found without ps_jit_load() or ps_jit_find() as a
 * memory hit. */
void ps_jit_count_memory_hit(void);

/* encap.c: frees a stack's memo of modules. */
void ps_jit_memo_destroy(struct ps_jit_memo *);
void *ps_jit_encap_function(const struct ps_jit_module *);
void *ps_jit_setters(const struct ps_jit_module *);

/* jit.c: background compiles on a small pool of threads.
 *
 * ps_jit_submit() queues 'code' (which it takes) and returns a job, or
 * NULL with a message if the compile cannot start (the queue is full, no
 * thread could be started).  When the compile ends, a pool thread calls
 * 'done' with the module (NULL on failure, with the message in
 * '*errorp', which 'done' may also set), holding the pool's lock: 'done'
 * must be short and take no lock (ps_jit_encap_function() and
 * ps_jit_setters() take none).  ps_jit_cancel() returns at once and frees
 * the job: a queued compile is dropped, a running one finishes on its
 * thread and 'done' is not called; after it returns, 'done' is neither
 * running nor called for the job. */
struct ps_jit_job;
typedef void ps_jit_done_fn(void *aux, struct ps_jit_module *,
                            char **errorp);
struct ps_jit_job *ps_jit_submit(char *code, ps_jit_done_fn *, void *aux,
                                 char **errorp);
void ps_jit_cancel(struct ps_jit_job *);
void ps_jit_job_wait(struct ps_jit_job *);
char *ps_jit_job_error(const struct ps_jit_job *);

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
static inline size_t
ps_length_fixup_max(const struct ps_stack *stack,
                    const struct ps_length_fixup *l)
{
    size_t bits = stack->fields[l->field].info.bits;
    if (bits >= 48) {
        return SIZE_MAX;
    }
    /* The value is (pkt_len - start - sub) / unit, at most 2**bits - 1. */
    return l->start + l->sub + (((size_t) 1 << bits) * l->unit - 1);
}
void ps_stack_apply_length(const struct ps_stack *, uint8_t *pkt,
                           const struct ps_length_fixup *, size_t pkt_len);
void ps_stack_apply_checksum(const struct ps_stack *, uint8_t *pkt,
                             size_t pkt_len,
                             const struct ps_checksum_fixup *);

/* ps_csum_add() of the 'len' bytes at 'p', at least 8, which start at an
 * even place of a checksum's span: 16 bytes a step (fill.c).  Hidden, so
 * that the library calls it directly, not through the PLT. */
uint64_t ps_csum_add_long(uint64_t sum, const uint8_t *p, size_t len)
    __attribute__((__visibility__("hidden")));

/* ps_csum_add() of the 'len' bytes at 'p', which start at an even place of
 * a checksum's span, as a sum that ps_csum_finish() folds to the same
 * checksum: a span of 32 bytes or more by ps_csum_add_long(). */
static inline uint64_t
ps_csum_add_span(uint64_t sum, const uint8_t *p, size_t len)
{
    return (len >= 32 ? ps_csum_add_long(sum, p, len)
            : ps_csum_add(sum, p, len));
}

/* Adds to 'sum' the pseudo-header of checksum 'c', read from 'pkt', for a
 * span of 'span_len' bytes. */
uint64_t ps_checksum_add_pseudo(uint64_t sum, const uint8_t *pkt,
                                const struct ps_checksum_fixup *c,
                                size_t span_len);

#endif /* stacks/stack.h */
