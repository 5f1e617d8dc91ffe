/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* bench-recast: what a stack with a variable-length header costs at run
 * time, as the libmoon paper's "recasting": compiling a variant from its
 * spec the first time, then finding it again in the registry's cache.
 *
 *     bench-recast N      prints "compile NS" and "recast NS": the mean
 *                         nanoseconds of ps_stack_create() and of a cached
 *                         ps_registry_stack_variant(), over N calls. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "protostack/protostack.h"

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * UINT64_C(1000000000) + ts.tv_nsec;
}

static void __attribute__((__noreturn__))
fatal(char *error)
{
    fprintf(stderr, "bench-recast: %s\n", error ? error : "failed");
    exit(1);
}

int
main(int argc, char *argv[])
{
    long n = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
    if (n <= 0) {
        fprintf(stderr, "usage: bench-recast N\n");
        return 2;
    }

    struct ps_registry *reg = ps_registry_create();
    const struct ps_stack *base, *variant;
    char *error = NULL;
    if (ps_registry_load_default(reg, &error)
        || ps_registry_stack(reg, "eth,ip4,{tcp,length=0}", &base, &error)) {
        fatal(error);
    }

    /* Compiling: IPv4 option lengths 0 to 40, each compiled anew. */
    uint64_t start = now_ns();
    for (long i = 0; i < n; i++) {
        char spec[64];
        struct ps_stack *stack;
        snprintf(spec, sizeof spec, "eth,{ip4,length=%ld},tcp", i % 11 * 4);
        if (ps_stack_create(reg, spec, &stack, &error)) {
            fatal(error);
        }
        ps_stack_destroy(stack);
    }
    printf("compile %.0f\n", (double) (now_ns() - start) / n);

    /* Recasting: TCP option lengths 0 to 40, each found in the cache after
     * its first use. */
    for (size_t len = 0; len <= 40; len += 4) {
        if (ps_registry_stack_variant(reg, base, 2, len, &variant, &error)) {
            fatal(error);
        }
    }
    size_t total = 0;
    start = now_ns();
    for (long i = 0; i < n; i++) {
        if (ps_registry_stack_variant(reg, base, 2, i % 11 * 4, &variant,
                                      &error)) {
            fatal(error);
        }
        total += ps_stack_size(variant);
    }
    printf("recast %.0f\n", (double) (now_ns() - start) / n);
    ps_registry_destroy(reg);
    return total ? 0 : 1;
}
