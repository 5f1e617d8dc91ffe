/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* bench-dissect-api: ps_dissect_into() from "eth" in a loop, with only
 * what the library's API had before ps_dissect_with() (commit 07b2e47),
 * so that the same program, compiled against an older library and its
 * header, measures it on the same loop (docs/benchmarks.md,
 * "Dissection"):
 *
 *     gcc -O2 -I<old tree>/include -I<old build>/include \
 *         bench/bench-dissect-api.c -L<old build>/.libs -lprotostack
 *
 * Usage: bench-dissect-api udp|vxlan MODE VERIFY N, where the packet is
 * eth,ip4,udp or eth,ip4,udp,vxlan,eth,ip4,udp, VERIFY 0 or 1, and MODE:
 *
 *     same   the packet, 64 bytes of payload, every time;
 *     trail  the packet followed by 0 to 599 zero bytes, one more each
 *            time;
 *     flow   256 frames of the same headers with payloads of 18 to
 *            1,400 bytes in turn, lengths and checksums right;
 *     cold   the packet from "eth" of two registries in turn (a thread's
 *            plans are of one registry generation: every frame walked).
 *
 * Exits with status 1 if a dissection found no stack or a problem. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protostack/protostack.h"

#define FRAMES 256
#define TRAILERS 600

int
main(int argc, char *argv[])
{
    struct ps_registry *regs[2];
    const struct ps_stack *stack;
    char *error = NULL;

    if (argc != 5) {
        fprintf(stderr, "usage: bench-dissect-api udp|vxlan "
                "same|trail|flow|cold 0|1 N\n");
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        regs[i] = ps_registry_create();
        if (ps_registry_load_default(regs[i], &error)) {
            fprintf(stderr, "bench-dissect-api: %s\n", error);
            return 1;
        }
    }
    const char *mode = argv[2];
    unsigned int flags = atoi(argv[3]) ? 0 : PS_DISSECT_NO_VERIFY;
    if (ps_registry_stack(regs[0], (!strcmp(argv[1], "udp")
                                    ? "eth,ip4,udp"
                                    : "eth,ip4,udp,vxlan,eth,ip4,udp"),
                          &stack, &error)) {
        fprintf(stderr, "bench-dissect-api: %s\n", error);
        return 1;
    }

    /* The frames: the payload lengths of bench-dissect's dissect-flow. */
    uint8_t *pkts[FRAMES];
    size_t lens[FRAMES];
    uint32_t x = 1;
    for (int i = 0; i < FRAMES; i++) {
        x = x * 1103515245 + 12345;
        lens[i] = ps_stack_size(stack) + (!strcmp(mode, "flow")
                                          ? 18 + (x >> 8) % 1383 : 64);
        pkts[i] = calloc(1, lens[i] + TRAILERS);
        if (ps_stack_fill(stack, pkts[i], lens[i], "ip4.src=192.0.2.1,"
                          "ip4.dst=192.0.2.2,udp.src=1234", &error)) {
            fprintf(stderr, "bench-dissect-api: %s\n", error);
            return 1;
        }
    }

    static struct ps_dissection d;
    long n = atol(argv[4]);
    unsigned int bad = 0;
    for (long i = 0; i < n; i++) {
        const struct ps_registry *reg = regs[0];
        size_t k = 0, len = lens[0];
        if (!strcmp(mode, "cold")) {
            reg = regs[i % 2];
        } else if (!strcmp(mode, "flow")) {
            k = i % FRAMES;
            len = lens[k];
        } else if (!strcmp(mode, "trail")) {
            len += i % TRAILERS;
        }
        bad += (ps_dissect_into(reg, "eth", pkts[k], len, flags, &d, NULL)
                || d.n_problems || !d.stack);
        ps_dissection_clear(&d);
    }

    for (int i = 0; i < FRAMES; i++) {
        free(pkts[i]);
    }
    ps_registry_destroy(regs[0]);
    ps_registry_destroy(regs[1]);
    if (bad) {
        fprintf(stderr, "bench-dissect-api: %u frames wrong\n", bad);
    }
    return bad != 0;
}
