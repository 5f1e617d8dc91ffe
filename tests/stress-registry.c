/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* stress-registry: loads protocols into a registry while other threads
 * compile stacks from it, find them in its cache, recast them, fill
 * packets and dissect them, and checks every result.  It is meant to run
 * under ThreadSanitizer and AddressSanitizer: a registry that changes
 * under its readers, or a cache that is not safe from several threads,
 * shows up as a data race, a use after free or a wrong result.
 *
 *     stress-registry [SECONDS]     runs for SECONDS (default 3, or
 *                                   $PS_STRESS_SECONDS)
 *
 * The loader thread loads protocols s0, s1, ... one per load, through
 * most of the run, each with two bindings after UDP ("bind sN after
 * udp.dst == 20000 + N", then the same with 40000 + N), and publishes
 * how many it has loaded.  The other
 * threads only use protocols loaded already, so every result is known:
 * sN's tag defaults to N, filling picks the first binding (udp.dst is
 * 20000 + N), and the dissector finds sN behind either port. */

#include <config.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "protostack/protostack.h"

#define MAX_LOADS 300           /* Protocols the loader adds at most. */
#define PKT_LEN 100
#define ARRAY_SIZE(A) (sizeof (A) / sizeof (A)[0])

static struct ps_registry *reg;
static atomic_size_t n_loaded;  /* s0 ... s(n_loaded - 1) are loaded. */
static atomic_bool stop;
static atomic_uint n_failures;

static void fail(const char *format, ...)
    __attribute__((__format__(printf, 1, 2)));

static void
fail(const char *format, ...)
{
    if (atomic_fetch_add(&n_failures, 1) < 10) {
        va_list args;
        va_start(args, format);
        flockfile(stderr);
        fputs("stress-registry: ", stderr);
        vfprintf(stderr, format, args);
        putc('\n', stderr);
        funlockfile(stderr);
        va_end(args);
    }
    atomic_store(&stop, true);
}

/* Fails with 'error' (freed) unless 'code' is PS_OK. */
static bool
ok(enum ps_error code, char *error, const char *what)
{
    if (code) {
        fail("%s: %s: %s", what, ps_error_name(code),
             error ? error : "(no message)");
    }
    free(error);
    return !code;
}

/* A thread's own xorshift64*, seeded by the thread. */
static uint64_t
rng_next(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(0x2545f4914f6cdd1d);
}

/* A protocol loaded already, at random, or -1 if none is yet. */
static long
pick_loaded(uint64_t *rng)
{
    size_t n = atomic_load_explicit(&n_loaded, memory_order_acquire);
    return n ? (long) (rng_next(rng) % n) : -1;
}

static uint64_t
field(const struct ps_stack *stack, const uint8_t *pkt, const char *label)
{
    size_t idx;
    char *error = NULL;
    if (!ok(ps_stack_find_field(stack, label, &idx, &error), error,
            label)) {
        return UINT64_MAX;
    }
    return ps_stack_get_uint(stack, pkt, idx);
}

/* Checks the fields that follow from the definitions of s'k' in a packet
 * (or template) of 'stack', whose headers are eth, ip4, udp and s'k'. */
static void
check_stack(const struct ps_stack *stack, const uint8_t *pkt, long k,
            const char *what)
{
    char label[32];
    const struct ps_header_info *h = ps_stack_header(stack, 3);
    char name[32];

    snprintf(name, sizeof name, "s%ld", k);
    if (ps_stack_n_headers(stack) != 4 || !h || strcmp(h->protocol, name)) {
        fail("%s: stack %s is not eth,ip4,udp,%s", what,
             ps_stack_spec(stack), name);
        return;
    }
    uint64_t dst = field(stack, pkt, "udp.dst");
    if (dst != (uint64_t) (20000 + k)) {
        fail("%s: %s: udp.dst is %"PRIu64", not %ld (the first binding)",
             what, ps_stack_spec(stack), dst, 20000 + k);
    }
    snprintf(label, sizeof label, "s%ld.tag", k);
    uint64_t tag = field(stack, pkt, label);
    if (tag != (uint64_t) k) {
        fail("%s: %s: %s is %"PRIu64", not %ld", what,
             ps_stack_spec(stack), label, tag, k);
    }
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_for(double seconds)
{
    struct timespec ts = {
        .tv_sec = (time_t) seconds,
        .tv_nsec = (long) ((seconds - (time_t) seconds) * 1e9),
    };
    while (nanosleep(&ts, &ts)) {
        continue;
    }
}

/* Loads MAX_LOADS protocols spread over the first 80% of 'seconds', so
 * that loads keep coming while the readers run, then tries loads that
 * change nothing. */
static void *
loader(void *seconds_)
{
    double interval = *(const double *) seconds_ * 0.8 / MAX_LOADS;
    double start = now();

    for (long i = 0; !atomic_load(&stop); i++) {
        char text[512];
        char name[32];
        char *error = NULL;
        long k = i < MAX_LOADS ? i : i % MAX_LOADS;

        double wait = start + i * interval - now();
        if (i < MAX_LOADS && wait > 0) {
            sleep_for(wait);
        }

        snprintf(name, sizeof name, "stress-%ld", i);
        snprintf(text, sizeof text,
                 "protocol s%ld \"Stress protocol %ld\" {\n"
                 "    bit<8>  kind = 1           \"Kind\";\n"
                 "    bit<8>  flags @hex         \"Flags\";\n"
                 "    bit<16> len = length(rest) \"Length\";\n"
                 "    bit<32> tag = %ld          \"Tag\";\n"
                 "}\n"
                 "bind s%ld after udp.dst == %ld;\n"
                 "bind s%ld after udp.dst == %ld;\n",
                 k, k, k, k, 20000 + k, k, 40000 + k);
        enum ps_error code = ps_registry_load_string(reg, name, text,
                                                     &error);
        if (i < MAX_LOADS) {
            if (ok(code, error, name)) {
                atomic_store_explicit(&n_loaded, i + 1,
                                      memory_order_release);
            }
        } else {
            /* All loaded: a second definition must fail and change
             * nothing, and a load that defines nothing must succeed. */
            if (code != PS_ERR_DUPLICATE) {
                fail("%s: loading s%ld twice gave %s, not "
                     "PS_ERR_DUPLICATE", name, k, ps_error_name(code));
            }
            free(error);
            error = NULL;
            ok(ps_registry_load_string(reg, name, "# Nothing.\n", &error),
               error, name);
            size_t n = ps_registry_n_protocols(reg);
            if (n != MAX_LOADS + 28) {
                fail("%s: %zu protocols, not %d", name, n, MAX_LOADS + 28);
            }
        }
    }
    return NULL;
}

/* Compiles a stack with ps_stack_create(). */
static void
compile_once(uint64_t *rng, long k)
{
    char spec[64];
    struct ps_stack *stack;
    char *error = NULL;

    snprintf(spec, sizeof spec, "eth,ip4,udp,s%ld", k);
    if (ok(ps_stack_create(reg, spec, &stack, &error), error, spec)) {
        check_stack(stack, ps_stack_template(stack), k, "compile");
        ps_stack_destroy(stack);
    }
}

/* Finds stacks in the registry's cache and recasts them. */
static void
cache_once(uint64_t *rng, long k)
{
    char spec[64];
    const struct ps_stack *base, *again, *variant;
    char *error = NULL;

    /* A few specs only, so that most calls hit. */
    k %= 16;
    snprintf(spec, sizeof spec, "eth,{ip4,length=0},udp,s%ld", k);
    if (!ok(ps_registry_stack(reg, spec, &base, &error), error, spec)) {
        return;
    }
    check_stack(base, ps_stack_template(base), k, "cache");
    if (!ok(ps_registry_stack(reg, spec, &again, &error), error, spec)) {
        return;
    }
    check_stack(again, ps_stack_template(again), k, "cache again");

    size_t length = rng_next(rng) % 11 * 4;
    if (!ok(ps_registry_stack_variant(reg, base, 1, length, &variant,
                                      &error), error, spec)) {
        return;
    }
    check_stack(variant, ps_stack_template(variant), k, "recast");
    const struct ps_header_info *ip = ps_stack_header(variant, 1);
    uint64_t ihl = field(variant, ps_stack_template(variant), "ip4.ihl");
    if (ip->size != 20 + length || ihl != 5 + length / 4) {
        fail("recast of %s to %zu bytes of options: ip4 is %zu bytes, "
             "ihl %"PRIu64, spec, length, ip->size, ihl);
    }
}

/* Fills a packet and dissects it. */
static void
dissect_once(uint64_t *rng, long k)
{
    char spec[64], labels[128], label[32];
    const struct ps_stack *stack;
    uint8_t pkt[PKT_LEN];
    char *error = NULL;

    snprintf(spec, sizeof spec, "eth,ip4,udp,s%ld", k);
    if (!ok(ps_registry_stack(reg, spec, &stack, &error), error, spec)) {
        return;
    }
    memset(pkt, 0xa5, sizeof pkt);
    snprintf(labels, sizeof labels, "s%ld.flags=0x5a,ip4.src=10.0.0.%ld",
             k, k % 256);
    if (!ok(ps_stack_fill(stack, pkt, sizeof pkt, labels, &error),
            error, labels)) {
        return;
    }
    check_stack(stack, pkt, k, "fill");
    snprintf(label, sizeof label, "s%ld.len", k);
    uint64_t len = field(stack, pkt, label);
    if (len != PKT_LEN - 42) {
        fail("fill: %s is %"PRIu64", not %d", label, len, PKT_LEN - 42);
    }

    /* Through the first binding, or the second. */
    bool second = rng_next(rng) & 1;
    if (second) {
        snprintf(labels, sizeof labels, "udp.dst=%ld", 40000 + k);
        if (!ok(ps_stack_fill(stack, pkt, sizeof pkt, labels, &error),
                error, labels)) {
            return;
        }
    }
    struct ps_dissection *d;
    if (!ok(ps_dissect(reg, "eth", pkt, sizeof pkt, &d, &error), error,
            "dissect")) {
        return;
    }
    const struct ps_header_info *h = d->stack
                                     ? ps_stack_header(d->stack, 3)
                                     : NULL;
    char name[32];
    snprintf(name, sizeof name, "s%ld", k);
    if (!h || strcmp(h->protocol, name) || d->n_problems
        || d->header_len != 50) {
        fail("dissect: packet of %s (udp.dst %ld) dissects as %s with "
             "%zu problems", spec, second ? 40000 + k : 20000 + k,
             d->stack ? ps_stack_spec(d->stack) : "nothing",
             d->n_problems);
    }
    ps_dissection_destroy(d);

    /* Listing, one call at a time. */
    size_t n = ps_registry_n_protocols(reg);
    if (n < (size_t) k + 23 || !ps_registry_protocol_name(reg, n - 1)) {
        fail("listing: %zu protocols with s%ld loaded", n, k);
    }
}

/* A reader thread: runs 'op' on protocols loaded already, until told to
 * stop. */
struct worker {
    const char *name;
    void (*op)(uint64_t *rng, long k); /* Uses protocol s'k'. */
    pthread_t thread;
    size_t n_ops;
};

static void *
run_worker(void *worker_)
{
    struct worker *w = worker_;
    uint64_t rng = (uintptr_t) w * UINT64_C(0x9e3779b97f4a7c15) + 1;

    while (!atomic_load(&stop)) {
        long k = pick_loaded(&rng);
        if (k >= 0) {
            w->op(&rng, k);
            w->n_ops++;
        }
    }
    return NULL;
}

int
main(int argc, char *argv[])
{
    const char *arg = argc > 1 ? argv[1] : getenv("PS_STRESS_SECONDS");
    double seconds = arg ? strtod(arg, NULL) : 3;
    if (seconds <= 0) {
        fprintf(stderr, "usage: stress-registry [SECONDS]\n");
        return 2;
    }

    char *error = NULL;
    reg = ps_registry_create();
    if (!ok(ps_registry_load_default(reg, &error), error, "load default")) {
        return 1;
    }

    struct worker workers[] = {
        { .name = "compiler", .op = compile_once },
        { .name = "compiler", .op = compile_once },
        { .name = "cache", .op = cache_once },
        { .name = "cache", .op = cache_once },
        { .name = "dissector", .op = dissect_once },
        { .name = "dissector", .op = dissect_once },
    };
    pthread_t load_thread;
    for (size_t i = 0; i < ARRAY_SIZE(workers); i++) {
        pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]);
    }
    pthread_create(&load_thread, NULL, loader, &seconds);

    sleep_for(seconds);
    atomic_store(&stop, true);

    pthread_join(load_thread, NULL);
    size_t loads = atomic_load(&n_loaded);
    for (size_t i = 0; i < ARRAY_SIZE(workers); i++) {
        struct worker *w = &workers[i];
        pthread_join(w->thread, NULL);
        printf("%s thread %zu: %zu operations\n", w->name, i, w->n_ops);
        if (!w->n_ops && !atomic_load(&n_failures)) {
            fail("%s thread %zu did nothing in %g s", w->name, i, seconds);
        }
    }
    printf("%zu protocols loaded\n", loads);
    if (loads < 10 && !atomic_load(&n_failures)) {
        fail("only %zu protocols loaded in %g s", loads, seconds);
    }
    ps_registry_destroy(reg);

    unsigned int failures = atomic_load(&n_failures);
    printf("%u failures\n", failures);
    return failures ? 1 : 0;
}
