/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Fuzz target: the dissector and the dump.
 *
 * Input: the name of the first protocol ("eth"), a '\n', one byte of dump
 * flags (PS_DUMP_*), then the packet, which is dissected from a buffer of
 * exactly its size against the shipped protocols and dumped.  Checks what
 * the API promises of a dissection: it never covers more than the bytes
 * given, its stack takes exactly the header bytes, and its spec compiles
 * back into a stack of the same layout. */

#include <config.h>
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static struct ps_registry *registry;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    registry = ps_fuzz_load_registry();
    return 0;
}

static void
check_dissection(const struct ps_dissection *d, const char *first,
                 size_t len)
{
    if (d->len != len || d->packet_len > len || d->header_len > len) {
        ps_fuzz_fail("dissecting %zu bytes from %s: len %zu, packet_len "
                     "%zu, header_len %zu", len, first, d->len,
                     d->packet_len, d->header_len);
    }
    if (!d->stack) {
        return;
    }

    const char *spec = ps_stack_spec(d->stack);
    if (ps_stack_size(d->stack) != d->header_len) {
        ps_fuzz_fail("dissection %s: stack of %zu bytes, header_len %zu",
                     spec, ps_stack_size(d->stack), d->header_len);
    }
    for (size_t i = 0; i < d->n_problems; i++) {
        if (d->problems[i].field >= ps_stack_n_fields(d->stack)
            || !d->problems[i].message) {
            ps_fuzz_fail("dissection %s: problem %zu names field %zu of %zu",
                         spec, i, d->problems[i].field,
                         ps_stack_n_fields(d->stack));
        }
    }

    /* The spec the dissector wrote compiles back into the same layout. */
    struct ps_stack *again;
    char *error = NULL;
    if (ps_stack_create(registry, spec, &again, &error)) {
        ps_fuzz_fail("dissection %s: its spec does not compile: %s", spec,
                     error);
    }
    if (ps_stack_size(again) != ps_stack_size(d->stack)
        || ps_stack_n_fields(again) != ps_stack_n_fields(d->stack)
        || strcmp(ps_stack_spec(again), spec)) {
        ps_fuzz_fail("dissection %s compiles into %s (%zu bytes, %zu "
                     "fields), not %zu bytes, %zu fields", spec,
                     ps_stack_spec(again), ps_stack_size(again),
                     ps_stack_n_fields(again), ps_stack_size(d->stack),
                     ps_stack_n_fields(d->stack));
    }
    ps_stack_destroy(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ps_fuzz_input in = { data, size };
    char *first = ps_fuzz_take_line(&in);
    unsigned int flags = in.size ? in.data[0] : 0;

    if (in.size) {
        in.data++;
        in.size--;
    }

    uint8_t *pkt = malloc(in.size ? in.size : 1);
    memcpy(pkt, in.data, in.size);

    struct ps_dissection *d;
    char *error = NULL;
    enum ps_error e = ps_dissect(registry, first, pkt, in.size, &d, &error);
    ps_fuzz_check_message(e, error, "ps_dissect()");
    if (!e) {
        check_dissection(d, first, in.size);
        free(ps_dissection_format(d, pkt, flags));
        ps_dissection_destroy(d);
    }
    free(error);
    free(pkt);
    free(first);
    return 0;
}
