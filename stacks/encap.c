/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Encapsulations: a stack with constant labels, compiled to push its
 * headers in front of a payload.  The plan that remains after the labels
 * is run by the interpreter here, or by code from generate-c.c, compiled
 * at build time (static) or at run time (jit.c).  All give the same
 * bytes. */

#include <config.h>
#include "stack.h"

#include <stdlib.h>
#include <string.h>
#include "util.h"

static const struct ps_field_info *
field_info(const struct ps_stack *stack, size_t field)
{
    return &stack->fields[field].info;
}

/* True if field 'f' lies, even partly, in bytes [start, end). */
static bool
field_in_span(const struct ps_field_info *f, size_t start, size_t end)
{
    return f->bits && f->bit_offset < end * 8
           && f->bit_offset + f->bits > start * 8;
}

/* Decides whether checksum 'c' can be updated incrementally: its span is
 * fixed, it has no pseudo-header, and within it only the encapsulation's
 * length fields and entropy field change from packet to packet. */
static void
plan_incremental(struct ps_encap *encap, struct ps_encap_checksum *ec)
{
    const struct ps_stack *stack = encap->stack;
    const struct ps_checksum_fixup *c = &stack->checksums[ec->fixup];
    size_t allocated = 0;

    if (!c->end || c->n_pseudo) {
        return;
    }
    for (size_t i = 0; i < encap->n_checksums; i++) {
        const struct ps_checksum_fixup *other;
        other = &stack->checksums[encap->checksums[i].fixup];
        if (other != c
            && field_in_span(field_info(stack, other->field), c->start,
                             c->end)) {
            return;
        }
    }

    uint8_t *copy = ps_xmalloc(stack->size);
    memcpy(copy, encap->template, stack->size);
    for (size_t i = 0; i <= encap->n_lengths; i++) {
        size_t field;
        if (i < encap->n_lengths) {
            field = stack->lengths[encap->lengths[i]].field;
        } else if (encap->entropy_field >= 0) {
            field = encap->entropy_field;
        } else {
            break;
        }
        const struct ps_field_info *fi = field_info(stack, field);
        if (!field_in_span(fi, c->start, c->end)) {
            continue;
        }
        struct ps_encap_var *var;
        var = ps_array_push((void **) &ec->vars, &ec->n_vars, &allocated,
                            sizeof *var);
        var->field = field;
        /* A bit's weight in a one's complement sum of 16-bit words depends
         * only on its position within its word, since 2**16 == 1 modulo
         * 0xffff: the field's low bit has weight 2**shift. */
        size_t last_bit = fi->bit_offset + fi->bits - 1 - c->start * 8;
        var->shift = 15 - last_bit % 16;
        ps_bits_set(copy, fi->bit_offset, fi->bits, 0);
    }
    const struct ps_field_info *cf = field_info(stack, c->field);
    ps_bits_set(copy, cf->bit_offset, 16, 0);

    uint64_t sum = ps_csum_add(0, copy + c->start, c->end - c->start);
    ec->base = (uint16_t) ~ps_csum_finish(sum);
    ec->incremental = true;
    free(copy);
}

static inline uint16_t
entropy_port(uint32_t hash)
{
    return (((uint64_t) hash * (PS_ENTROPY_MAX - PS_ENTROPY_MIN)) >> 32)
           + PS_ENTROPY_MIN;
}

/* A checksum from its template's folded sum 'base' (at most 0xffff) and
 * the 16-bit word at 'start': one fold brings the sum, at most 0x1fffe,
 * to 16 bits. */
static inline void
incremental16(uint8_t *pkt, uint32_t base, size_t start, size_t offset)
{
    uint32_t sum = base + ps_load_be16(pkt + start);
    sum = (sum & 0xffff) + (sum >> 16);
    ps_store_be16(pkt + offset, ~sum);
}

static inline const struct ps_fast_plan *
plan_of(const uint8_t *data)
{
    return (const struct ps_fast_plan *)
        (data - offsetof(struct ps_encap_block, template));
}

/* The straight-line interpreter of a plan of 'n_len' 16-bit lengths,
 * 'n_ent' (0 or 1) entropy fields and 'n_csum' incremental checksums,
 * with a template copied as 'copy' says (0: 32 to 64 bytes, 1: 16 to 31,
 * 2: any).  With constant counts, the loops unroll. */
static inline __attribute__((__always_inline__)) void
run_shape(const uint8_t *data, uint8_t *pkt, size_t pkt_len, uint32_t hash,
          int n_len, int n_ent, int n_csum, int copy)
{
    const struct ps_fast_plan *plan = plan_of(data);
    size_t size = plan->size;

    if (copy == 0) {
        memcpy(pkt, data, 32);
        memcpy(pkt + size - 32, data + size - 32, 32);
    } else if (copy == 1) {
        memcpy(pkt, data, 16);
        memcpy(pkt + size - 16, data + size - 16, 16);
    } else {
        memcpy(pkt, data, size);
    }
    for (int i = 0; i < n_len; i++) {
        ps_store_be16(pkt + plan->len_offset[i],
                      pkt_len - plan->len_start[i]);
    }
    for (int i = 0; i < n_ent; i++) {
        ps_store_be16(pkt + plan->ent_offset, entropy_port(hash));
    }
    for (int i = 0; i < n_csum; i++) {
        incremental16(pkt, plan->csum_base[i], plan->csum_start[i],
                      plan->csum_offset[i]);
    }
}

#define SHAPE(L, E, C, K)                                               \
    static void                                                         \
    shape_##L##_##E##_##C##_##K(const uint8_t *data, uint8_t *pkt,      \
                                size_t pkt_len, uint32_t hash)          \
    {                                                                   \
        run_shape(data, pkt, pkt_len, hash, L, E, C, K);                \
    }
#define SHAPES_LEC(L, E, C) SHAPE(L, E, C, 0) SHAPE(L, E, C, 1) \
    SHAPE(L, E, C, 2)
#define SHAPES_LE(L, E) SHAPES_LEC(L, E, 0) SHAPES_LEC(L, E, 1) \
    SHAPES_LEC(L, E, 2)
#define SHAPES_L(L) SHAPES_LE(L, 0) SHAPES_LE(L, 1)
SHAPES_L(0) SHAPES_L(1) SHAPES_L(2) SHAPES_L(3)

#define SHAPE_COPIES(L, E, C) \
    { shape_##L##_##E##_##C##_0, shape_##L##_##E##_##C##_1, \
      shape_##L##_##E##_##C##_2 }
#define SHAPE_ROW(L, E) \
    { SHAPE_COPIES(L, E, 0), SHAPE_COPIES(L, E, 1), SHAPE_COPIES(L, E, 2) }
static ps_encap_fn *const shapes[PS_FAST_LENGTHS + 1][2]
                                [PS_FAST_CHECKSUMS + 1][3] = {
    { SHAPE_ROW(0, 0), SHAPE_ROW(0, 1) },
    { SHAPE_ROW(1, 0), SHAPE_ROW(1, 1) },
    { SHAPE_ROW(2, 0), SHAPE_ROW(2, 1) },
    { SHAPE_ROW(3, 0), SHAPE_ROW(3, 1) },
};

static void interpret(const uint8_t *data, uint8_t *pkt, size_t pkt_len,
                      uint32_t hash);

static bool
is_aligned16(const struct ps_field_info *fi)
{
    return fi->bits == 16 && !(fi->bit_offset % 8);
}

/* Resolves the plan to steps with byte offsets, and picks a straight-line
 * function for its shape if it has one. */
static void
plan_steps(struct ps_encap *encap)
{
    const struct ps_stack *stack = encap->stack;
    size_t n_len = 0, n_ent = 0, n_csum = 0, n_slow = 0;

    encap->steps = ps_xzalloc((encap->n_lengths + 1 + encap->n_checksums)
                              * sizeof *encap->steps);
    for (size_t i = 0; i < encap->n_lengths; i++) {
        const struct ps_length_fixup *l = &stack->lengths[encap->lengths[i]];
        const struct ps_field_info *fi = field_info(stack, l->field);
        struct ps_encap_step *st = &encap->steps[encap->n_steps++];
        st->offset = fi->bit_offset / 8;
        st->index = i;
        if (is_aligned16(fi) && !l->sub && l->unit == 1) {
            st->kind = PS_STEP_LENGTH16;
            st->start = l->start;
            n_len++;
        } else {
            st->kind = PS_STEP_LENGTH;
            n_slow++;
        }
    }
    if (encap->entropy_field >= 0) {
        const struct ps_field_info *fi = field_info(stack,
                                                    encap->entropy_field);
        struct ps_encap_step *st = &encap->steps[encap->n_steps++];
        st->offset = fi->bit_offset / 8;
        st->kind = is_aligned16(fi) ? PS_STEP_ENTROPY16 : PS_STEP_ENTROPY;
        n_ent += st->kind == PS_STEP_ENTROPY16;
        n_slow += st->kind == PS_STEP_ENTROPY;
    }
    for (size_t i = 0; i < encap->n_checksums; i++) {
        const struct ps_encap_checksum *ec = &encap->checksums[i];
        const struct ps_checksum_fixup *c = &stack->checksums[ec->fixup];
        struct ps_encap_step *st = &encap->steps[encap->n_steps++];
        st->offset = field_info(stack, c->field)->bit_offset / 8;
        st->index = i;
        st->kind = PS_STEP_CHECKSUM;
        if (ec->incremental && ec->n_vars == 1 && !c->nonzero
            && !ec->vars[0].shift
            && is_aligned16(field_info(stack, ec->vars[0].field))) {
            st->kind = PS_STEP_INCREMENTAL16;
            st->start = field_info(stack, ec->vars[0].field)->bit_offset / 8;
            st->base = ec->base;
            n_csum++;
        } else {
            n_slow++;
        }
    }
    struct ps_fast_plan *plan = &encap->block->plan;
    plan->encap = encap;
    plan->size = stack->size;
    ps_encap_fn *run = interpret;
    if (!n_slow && n_len <= PS_FAST_LENGTHS && n_ent <= 1
        && n_csum <= PS_FAST_CHECKSUMS && stack->size <= UINT16_MAX) {
        const struct ps_encap_step *st = encap->steps;
        for (size_t i = 0; i < n_len; i++, st++) {
            plan->len_offset[i] = st->offset;
            plan->len_start[i] = st->start;
        }
        for (size_t i = 0; i < n_ent; i++, st++) {
            plan->ent_offset = st->offset;
        }
        for (size_t i = 0; i < n_csum; i++, st++) {
            plan->csum_offset[i] = st->offset;
            plan->csum_start[i] = st->start;
            plan->csum_base[i] = st->base;
        }
        int copy = (stack->size >= 32 && stack->size <= 64 ? 0
                    : stack->size >= 16 && stack->size < 32 ? 1 : 2);
        run = shapes[n_len][n_ent][n_csum][copy];
    }
    atomic_init(&encap->run, run);
}

enum ps_error
ps_encap_build(const struct ps_stack *stack, const char *labels,
               struct ps_encap **encapp, char **errorp)
{
    struct ps_label_value *values;
    size_t n_values;

    *encapp = NULL;
    enum ps_error error = ps_stack_parse_labels(stack, labels, &values,
                                                &n_values, errorp);
    if (error) {
        return error;
    }

    struct ps_encap *encap = ps_xzalloc(sizeof *encap);
    encap->stack = stack;
    /* The plan, the template, then the partial sums of the incremental
     * checksums: the data of every tier's function. */
    if (posix_memalign((void **) &encap->block, 64,
                       sizeof *encap->block
                       + PS_ENCAP_BASES_OFFSET(stack->size)
                       + 4 * stack->n_checksums + 1)) {
        abort();
    }
    memset(encap->block, 0, sizeof *encap->block);
    encap->template = encap->block->template;
    memcpy(encap->template, stack->template, stack->size);
    for (size_t i = 0; i < n_values; i++) {
        ps_stack_write_label(stack, encap->template, &values[i]);
    }

    /* What the labels leave to compute per packet. */
    encap->lengths = ps_xmalloc((stack->n_lengths + 1)
                                * sizeof *encap->lengths);
    for (size_t i = 0; i < stack->n_lengths; i++) {
        if (!ps_label_values_has(values, n_values,
                                 stack->lengths[i].field)) {
            encap->lengths[encap->n_lengths++] = i;
        }
    }
    encap->entropy_field = stack->entropy_field;
    if (encap->entropy_field >= 0
        && ps_label_values_has(values, n_values, encap->entropy_field)) {
        encap->entropy_field = -1;
    }
    encap->checksums = ps_xzalloc((stack->n_checksums + 1)
                                  * sizeof *encap->checksums);
    for (size_t i = 0; i < stack->n_checksums; i++) {
        if (!ps_label_values_has(values, n_values,
                                 stack->checksums[i].field)) {
            encap->checksums[encap->n_checksums++].fixup = i;
        }
    }
    ps_label_values_free(values, n_values);

    /* The template as a packet with no payload: lengths and checksums
     * right, entropy zero. */
    for (size_t i = 0; i < encap->n_lengths; i++) {
        ps_stack_apply_length(stack, encap->template,
                              &stack->lengths[encap->lengths[i]],
                              stack->size);
    }
    for (size_t i = 0; i < encap->n_checksums; i++) {
        ps_stack_apply_checksum(stack, encap->template, stack->size,
                                &stack->checksums[encap->checksums[i].fixup]);
    }
    for (size_t i = 0; i < encap->n_checksums; i++) {
        const struct ps_encap_checksum *ec = &encap->checksums[i];
        plan_incremental(encap, &encap->checksums[i]);
        memcpy(encap->template + PS_ENCAP_BASES_OFFSET(stack->size) + 4 * i,
               &ec->base, 4);
    }
    plan_steps(encap);
    *encapp = encap;
    return PS_OK;
}

/* The interpreter: the steps, for plans without a straight-line shape.
 * Never inlined, so that ps_encap_apply()'s other paths save no
 * registers. */
static void
interpret(const uint8_t *data, uint8_t *pkt, size_t pkt_len, uint32_t hash)
{
    const struct ps_encap *encap = plan_of(data)->encap;
    const struct ps_stack *stack = encap->stack;

    memcpy(pkt, data, stack->size);
    for (const struct ps_encap_step *st = encap->steps,
             *end = st + encap->n_steps; st < end; st++) {
        switch (st->kind) {
        case PS_STEP_LENGTH16:
            ps_store_be16(pkt + st->offset, pkt_len - st->start);
            break;
        case PS_STEP_ENTROPY16:
            ps_store_be16(pkt + st->offset, entropy_port(hash));
            break;
        case PS_STEP_LENGTH:
            ps_stack_apply_length(
                stack, pkt, &stack->lengths[encap->lengths[st->index]],
                pkt_len);
            break;
        case PS_STEP_ENTROPY:
            ps_stack_set_entropy(stack, pkt, hash);
            break;
        case PS_STEP_INCREMENTAL16:
            incremental16(pkt, st->base, st->start, st->offset);
            break;
        case PS_STEP_CHECKSUM:
            ps_stack_apply_checksum(
                stack, pkt, pkt_len,
                &stack->checksums[encap->checksums[st->index].fixup]);
            break;
        }
    }
}

void
ps_encap_apply(const struct ps_encap *encap, uint8_t *pkt, size_t pkt_len,
               uint32_t hash)
{
    ps_encap_fn *run = atomic_load_explicit(&encap->run,
                                            memory_order_acquire);
    run(encap->template, pkt, pkt_len, hash);
}

ps_encap_fn *
ps_encap_jit_function(const struct ps_encap *encap)
{
    return atomic_load_explicit(&encap->fn, memory_order_acquire);
}

const uint8_t *
ps_encap_jit_data(const struct ps_encap *encap)
{
    return encap->template;
}

size_t
ps_encap_jit_data_size(const struct ps_encap *encap)
{
    return ps_encap_data_size(encap);
}

uint8_t *
ps_encap_push(const struct ps_encap *encap, uint8_t *payload,
              size_t payload_len, size_t headroom, uint32_t hash)
{
    size_t size = encap->stack->size;
    if (headroom < size || payload_len > encap->stack->max_len - size) {
        return NULL;
    }
    uint8_t *pkt = payload - size;
    ps_encap_apply(encap, pkt, payload_len + size, hash);
    return pkt;
}

/* The JIT tier. */

/* A stack's memo of modules: the JIT's code depends only on the stack and
 * on which lengths, checksums and entropy field its labels left to
 * compute (the shape), so a module found once for a shape is found again
 * by that signature and the compiler command, without generating code or
 * hashing it.  Entries are only added (with a compare-and-swap) and live
 * as long as the stack. */
struct ps_jit_memo {
    struct ps_jit_memo *next;
    struct ps_jit_module *module;
    char *cc;                   /* $PROTOSTACK_CC when it was loaded. */
    size_t n_sig;
    size_t sig[];
};

void
ps_jit_memo_destroy(struct ps_jit_memo *memo)
{
    while (memo) {
        struct ps_jit_memo *next = memo->next;
        free(memo->cc);
        free(memo);
        memo = next;
    }
}

/* The shape of 'encap' as a signature, in 'sig' (room for n_lengths + 1 +
 * 2 * n_checksums + 2 entries); returns its length. */
static size_t
shape_signature(const struct ps_encap *encap, size_t *sig)
{
    size_t n = 0;
    for (size_t i = 0; i < encap->n_lengths; i++) {
        sig[n++] = encap->lengths[i];
    }
    sig[n++] = SIZE_MAX;
    sig[n++] = encap->entropy_field;
    for (size_t i = 0; i < encap->n_checksums; i++) {
        sig[n++] = encap->checksums[i].fixup;
        sig[n++] = encap->checksums[i].incremental;
    }
    return n;
}

static const char *
current_cc(void)
{
    const char *cc = getenv("PROTOSTACK_CC");
    return cc ? cc : "";
}

static struct ps_jit_module *
memo_find(const struct ps_encap *encap)
{
    size_t *sig = ps_xmalloc((encap->n_lengths + 2 * encap->n_checksums + 2)
                             * sizeof *sig);
    size_t n = shape_signature(encap, sig);
    const char *cc = current_cc();
    struct ps_jit_memo *m;
    for (m = atomic_load_explicit(&encap->stack->jit_memo,
                                  memory_order_acquire);
         m; m = m->next) {
        if (m->n_sig == n && !memcmp(m->sig, sig, n * sizeof *sig)
            && !strcmp(m->cc, cc)) {
            break;
        }
    }
    free(sig);
    if (m) {
        ps_jit_count_memory_hit();
    }
    return m ? m->module : NULL;
}

static void
memo_add(const struct ps_encap *encap, struct ps_jit_module *module)
{
    struct ps_stack *stack = CONST_CAST(struct ps_stack *, encap->stack);
    size_t max = encap->n_lengths + 2 * encap->n_checksums + 2;
    struct ps_jit_memo *m = ps_xzalloc(sizeof *m + max * sizeof *m->sig);
    m->module = module;
    m->cc = ps_xstrdup(current_cc());
    m->n_sig = shape_signature(encap, m->sig);
    m->next = atomic_load_explicit(&stack->jit_memo, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&stack->jit_memo,
                                                  &m->next, m,
                                                  memory_order_release,
                                                  memory_order_relaxed)) {
        continue;
    }
}

static enum ps_tier
tier_from_env(enum ps_tier tier)
{
    const char *env = getenv("PROTOSTACK_TIER");
    if (env && !strcmp(env, "jit")) {
        return PS_TIER_JIT;
    } else if (env && !strcmp(env, "interp")) {
        return PS_TIER_INTERP;
    } else if (env && !strcmp(env, "auto")) {
        return PS_TIER_AUTO;
    }
    return tier;
}

/* Publishes the compiled function of 'module' in 'encap'.  Takes no
 * lock. */
static bool
jit_publish(struct ps_encap *encap, const struct ps_jit_module *module,
            char **errorp)
{
    ps_encap_fn *fn = (ps_encap_fn *) ps_jit_encap_function(module);
    if (!fn) {
        ps_set_error(errorp, PS_ERR_IO, "JIT module has no ps_jit_encap");
        return false;
    }
    atomic_store_explicit(&encap->fn, fn, memory_order_release);
    atomic_store_explicit(&encap->run, fn, memory_order_release);
    return true;
}

/* Called by a JIT pool thread, holding the pool's lock, when the
 * background compile of 'encap_' ends, unless the encapsulation was
 * destroyed first. */
static void
jit_done(void *encap_, struct ps_jit_module *module, char **errorp)
{
    if (module && jit_publish(encap_, module, errorp)) {
        memo_add(encap_, module);
    }
}

enum ps_error
ps_encap_create(const struct ps_stack *stack, const char *labels,
                enum ps_tier tier, struct ps_encap **encapp, char **errorp)
{
    struct ps_encap *encap;
    enum ps_error error = ps_encap_build(stack, labels, &encap, errorp);
    if (error) {
        return error;
    }

    tier = tier_from_env(tier);
    if (tier == PS_TIER_JIT) {
        char *jit_error = NULL;
        struct ps_jit_module *module = memo_find(encap);
        if (!module) {
            char *code = ps_generate_jit_encap(encap);
            module = ps_jit_load(code, &jit_error);
            free(code);
            if (module) {
                memo_add(encap, module);
            }
        }
        if (!module || !jit_publish(encap, module, &jit_error)) {
            ps_encap_destroy(encap);
            ps_set_error(errorp, PS_ERR_IO, "JIT: %s", jit_error);
            free(jit_error);
            return PS_ERR_IO;
        }
    } else if (tier == PS_TIER_AUTO) {
        /* The interpreter serves until a pool thread publishes the
         * compiled function.  A compile that cannot start leaves its
         * reason for ps_encap_jit_error(). */
        struct ps_jit_module *module = memo_find(encap);
        if (module && jit_publish(encap, module, NULL)) {
            /* Another encapsulation of this shape compiled it. */
        } else {
            char *code = ps_generate_jit_encap(encap);
            module = ps_jit_find(code);
            if (module && jit_publish(encap, module, NULL)) {
                free(code);
                memo_add(encap, module);
            } else {
                encap->job = ps_jit_submit(code, jit_done, encap,
                                           &encap->jit_error);
            }
        }
    }
    *encapp = encap;
    return PS_OK;
}

enum ps_tier
ps_encap_wait(struct ps_encap *encap)
{
    if (encap->job) {
        ps_jit_job_wait(encap->job);
    }
    return ps_encap_tier(encap);
}

char *
ps_encap_jit_error(const struct ps_encap *encap)
{
    return (encap->jit_error ? ps_xstrdup(encap->jit_error)
            : encap->job ? ps_jit_job_error(encap->job)
            : NULL);
}

ps_field_setter *
ps_encap_field_setter(const struct ps_encap *encap_, size_t field)
{
    struct ps_encap *encap = CONST_CAST(struct ps_encap *, encap_);
    if (!atomic_load_explicit(&encap->fn, memory_order_acquire)
        || field >= encap->stack->n_fields) {
        return NULL;
    }
    void (*const *setters)(uint8_t *, uint64_t);
    setters = atomic_load_explicit(&encap->setters, memory_order_acquire);
    if (!setters) {
        /* A module of its own, which encapsulations need not compile:
         * found in the JIT's cache after the first time. */
        char *code = ps_generate_jit_setters(encap->stack);
        struct ps_jit_module *module = ps_jit_load(code, NULL);
        free(code);
        setters = module ? ps_jit_setters(module) : NULL;
        if (!setters) {
            return NULL;
        }
        atomic_store_explicit(&encap->setters, setters,
                              memory_order_release);
    }
    return setters[field];
}

enum ps_tier
ps_encap_tier(const struct ps_encap *encap)
{
    return (atomic_load_explicit(&encap->fn, memory_order_acquire)
            ? PS_TIER_JIT : PS_TIER_INTERP);
}

void
ps_encap_destroy(struct ps_encap *encap)
{
    if (!encap) {
        return;
    }
    /* Never waits for a compiler: a compile still queued is dropped, one
     * running finishes on its pool thread, which then drops the result. */
    ps_jit_cancel(encap->job);
    for (size_t i = 0; i < encap->n_checksums; i++) {
        free(encap->checksums[i].vars);
    }
    free(encap->checksums);
    free(encap->steps);
    free(encap->lengths);
    free(encap->block);
    free(encap->jit_error);
    free(encap);
}

const struct ps_stack *
ps_encap_stack(const struct ps_encap *encap)
{
    return encap->stack;
}

size_t
ps_encap_size(const struct ps_encap *encap)
{
    return encap->stack->size;
}

const uint8_t *
ps_encap_template(const struct ps_encap *encap)
{
    return encap->template;
}

char *
ps_encap_generate_c(const struct ps_encap *encap, const char *name)
{
    return ps_generate_c(encap, name);
}
