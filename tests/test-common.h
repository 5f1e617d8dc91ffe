/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef TESTS_TEST_COMMON_H
#define TESTS_TEST_COMMON_H 1

/* Helpers shared by the cmocka tests: a deterministic pseudo-random
 * generator, so that every run tests the same values and a failure
 * reproduces, and the shipped protocols loaded once per test program. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "protostack/protostack.h"

#define ARRAY_SIZE(A) (sizeof (A) / sizeof (A)[0])

/* xorshift64*. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static inline uint64_t
rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(0x2545f4914f6cdd1d);
}

static inline void
rng_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = rng_next() >> 56;
    }
}

/* Returns a registry with the shipped protocols (built in), or
 * NULL after printing why. */
static inline struct ps_registry *
load_shipped_protocols(void)
{
    struct ps_registry *reg = ps_registry_create();
    char *error = NULL;
    if (ps_registry_load_default(reg, &error)) {
        fprintf(stderr, "%s\n", error);
        free(error);
        ps_registry_destroy(reg);
        return NULL;
    }
    return reg;
}

/* The shipped protocols, for the tests of a cmocka group that uses
 * setup_registry() and teardown_registry() as its setup and teardown. */
static struct ps_registry *registry __attribute__((__unused__));

static int __attribute__((__unused__))
setup_registry(void **state)
{
    registry = load_shipped_protocols();
    return registry ? 0 : -1;
}

static int __attribute__((__unused__))
teardown_registry(void **state)
{
    ps_registry_destroy(registry);
    registry = NULL;
    return 0;
}

#endif /* tests/test-common.h */
