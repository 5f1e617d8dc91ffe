/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Stress for the JIT's life cycle, as a switch drives it, meant to run
 * under ThreadSanitizer: "PMD" threads push headers with shared AUTO
 * encapsulations while the pool compiles them and switches them from
 * the interpreter to JIT code; "handler" threads create AUTO
 * encapsulations of a few codes (compiles, memory hits, queued and
 * running compiles), and some in the JIT tier, push packets with some,
 * and destroy them at once or later.  Every packet must equal the interpreter's.
 *
 * stress-jit [SECONDS]   (default 3, or $PS_STRESS_SECONDS) */

#include <config.h>

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protostack/protostack.h"
#include "test-common.h"

#define SPEC "eth,ip4,udp,vxlan"
#define N_SHARED 4              /* Shared encapsulations. */
#define N_CODES 6               /* Codes that the handlers create. */
#define N_PMDS 2
#define N_HANDLERS 2
#define MAX_PKT 256

static struct ps_stack *stack;
static struct ps_encap *shared[N_SHARED], *shared_ref[N_SHARED];
static atomic_bool stop;
static atomic_ulong packets, switches, mismatches, created, destroyed;

/* A generator of one's own per thread. */
static uint64_t
next_random(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(0x2545f4914f6cdd1d);
}

static enum ps_error
make_encap(unsigned int vni, enum ps_tier tier, struct ps_encap **encapp)
{
    char labels[64];
    char *error = NULL;
    snprintf(labels, sizeof labels, "vxlan.vni=%u", vni);
    enum ps_error e = ps_encap_create(stack, labels, tier, encapp, &error);
    if (e) {
        fprintf(stderr, "stress-jit: %s: %s\n", labels, error);
        free(error);
    }
    return e;
}

/* Pushes one packet with 'encap' and with the interpreter's 'ref'; counts
 * a mismatch. */
static void
push_and_check(const struct ps_encap *encap, const struct ps_encap *ref,
               uint64_t *rng)
{
    uint8_t a[MAX_PKT], b[MAX_PKT];
    size_t size = ps_encap_size(encap);
    size_t len = size + next_random(rng) % (MAX_PKT - size);
    uint32_t hash = next_random(rng);

    for (size_t i = 0; i < len; i++) {
        a[i] = b[i] = next_random(rng);
    }
    ps_encap_fn *fn = ps_encap_jit_function(encap);
    if (fn && next_random(rng) % 2) {
        /* As a datapath calls it per batch. */
        fn(ps_encap_jit_data(encap), a, len, hash);
    } else {
        ps_encap_apply(encap, a, len, hash);
    }
    ps_encap_apply(ref, b, len, hash);
    if (memcmp(a, b, len)) {
        atomic_fetch_add(&mismatches, 1);
    }
    atomic_fetch_add(&packets, 1);
}

static void *
pmd_main(void *arg)
{
    uint64_t rng = 0x1234567 + (uintptr_t) arg;
    enum ps_tier seen[N_SHARED];

    for (int i = 0; i < N_SHARED; i++) {
        seen[i] = ps_encap_tier(shared[i]);
    }
    while (!atomic_load(&stop)) {
        for (int i = 0; i < N_SHARED; i++) {
            push_and_check(shared[i], shared_ref[i], &rng);
            enum ps_tier tier = ps_encap_tier(shared[i]);
            if (tier != seen[i]) {
                atomic_fetch_add(&switches, 1);
                seen[i] = tier;
            }
        }
    }
    return NULL;
}

static void *
handler_main(void *arg)
{
    uint64_t rng = 0x7654321 + (uintptr_t) arg;

    while (!atomic_load(&stop)) {
        unsigned int vni = 3100 + next_random(&rng) % N_CODES;
        struct ps_encap *encap, *ref;

        /* Now and then the JIT tier, which compiles in this thread, or
         * waits for a pool thread that compiles the same code. */
        enum ps_tier tier = (next_random(&rng) % 8 ? PS_TIER_AUTO
                             : PS_TIER_JIT);
        if (make_encap(vni, tier, &encap)) {
            atomic_fetch_add(&mismatches, 1);
            break;
        }
        atomic_fetch_add(&created, 1);

        unsigned int r = next_random(&rng) % 32;
        if (!r) {
            ps_encap_wait(encap);
        }
        switch (r % 4) {
        case 0:
            break;              /* Destroyed while queued or running. */
        case 1: case 2:
            if (make_encap(vni, PS_TIER_INTERP, &ref)) {
                atomic_fetch_add(&mismatches, 1);
                break;
            }
            for (int i = 0; i < 20; i++) {
                push_and_check(encap, ref, &rng);
            }
            ps_encap_destroy(ref);
            break;
        default: {
            struct ps_jit_stats stats;
            ps_jit_get_stats(&stats);
            free(ps_encap_jit_error(encap));
            if (!ps_jit_cache_dir()) {
                atomic_fetch_add(&mismatches, 1);
            }
            break;
        }
        }
        ps_encap_destroy(encap);
        atomic_fetch_add(&destroyed, 1);
    }
    return NULL;
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
             struct FTW *ftw)
{
    return remove(path);
}

int
main(int argc, char *argv[])
{
    const char *env = getenv("PS_STRESS_SECONDS");
    double seconds = argc > 1 ? atof(argv[1]) : env ? atof(env) : 3;
    struct ps_registry *reg = load_shipped_protocols();
    char *dir = NULL;
    int status = 0;

    /* An empty cache of its own, so that the pool compiles for real. */
    if (!reg || asprintf(&dir, "%s/tests/stress-jit-cache",
                         getenv("PS_BUILDDIR") ? getenv("PS_BUILDDIR")
                         : ".") < 0
        || ps_stack_create(reg, SPEC, &stack, NULL)) {
        return 1;
    }
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    ps_jit_set_cache_dir(dir);

    for (int i = 0; i < N_SHARED; i++) {
        if (make_encap(3000 + i, PS_TIER_AUTO, &shared[i])
            || make_encap(3000 + i, PS_TIER_INTERP, &shared_ref[i])) {
            return 1;
        }
    }

    pthread_t threads[N_PMDS + N_HANDLERS];
    for (uintptr_t i = 0; i < N_PMDS + N_HANDLERS; i++) {
        if (pthread_create(&threads[i], NULL,
                           i < N_PMDS ? pmd_main : handler_main,
                           (void *) i)) {
            return 1;
        }
    }
    struct timespec ts = {
        .tv_sec = seconds,
        .tv_nsec = (seconds - (long) seconds) * 1e9,
    };
    nanosleep(&ts, NULL);
    atomic_store(&stop, true);
    for (int i = 0; i < N_PMDS + N_HANDLERS; i++) {
        pthread_join(threads[i], NULL);
    }
    ps_jit_wait_idle();

    /* The shared encapsulations end up compiled. */
    for (int i = 0; i < N_SHARED; i++) {
        if (ps_encap_wait(shared[i]) != PS_TIER_JIT) {
            char *error = ps_encap_jit_error(shared[i]);
            fprintf(stderr, "stress-jit: shared encapsulation %d is not "
                    "compiled: %s\n", i, error);
            free(error);
            status = 1;
        }
        ps_encap_destroy(shared[i]);
        ps_encap_destroy(shared_ref[i]);
    }

    struct ps_jit_stats stats;
    ps_jit_get_stats(&stats);
    printf("stress-jit: %.1f s, %lu packets, %lu mismatches, %lu switches "
           "to JIT seen, %lu encapsulations created and %lu destroyed; "
           "JIT: %llu compiles, %llu memory hits, %llu dropped, %llu "
           "failures\n", seconds, atomic_load(&packets),
           atomic_load(&mismatches), atomic_load(&switches),
           atomic_load(&created), atomic_load(&destroyed), stats.compiles,
           stats.memory_hits, stats.dropped, stats.failures);
    if (atomic_load(&mismatches) || stats.failures
        || stats.compiles > N_SHARED + N_CODES) {
        status = 1;
    }

    ps_stack_destroy(stack);
    ps_registry_destroy(reg);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
    return status;
}
