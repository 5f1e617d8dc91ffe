/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef STACKS_STACK_H
#define STACKS_STACK_H 1

/* A compiled stack: layout, template and fix-up plan.  Built by stack.c,
 * used by fill.c (the interpreter tier) and generate-c.c (static C). */

#include "protocol.h"
#include "protostack/protostack.h"

struct ps_stack_header {
    struct ps_header_info info;
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
    size_t size;
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

#endif /* stacks/stack.h */
