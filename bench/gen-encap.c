/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* gen-encap SPEC LABELS NAME: prints the static C header of an
 * encapsulation, the stack SPEC with the constant LABELS, whose
 * NAME_encap() does what ps_encap_apply() does.  utilities/ps-gen takes
 * no labels; the build uses this program to generate the static tier of
 * bench-encap. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include "protostack/protostack.h"

int
main(int argc, char *argv[])
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s SPEC LABELS NAME\n", argv[0]);
        return 2;
    }

    struct ps_registry *reg = ps_registry_create();
    struct ps_stack *stack = NULL;
    struct ps_encap *encap = NULL;
    char *error = NULL;
    if (ps_registry_load_default(reg, &error)
        || ps_stack_create(reg, argv[1], &stack, &error)
        || ps_encap_create(stack, argv[2], PS_TIER_INTERP, &encap, &error)) {
        fprintf(stderr, "%s: %s\n", argv[0], error);
        return 1;
    }

    char *code = ps_encap_generate_c(encap, argv[3]);
    if (!code) {
        fprintf(stderr, "%s: \"%s\" is not a C identifier\n", argv[0],
                argv[3]);
        return 1;
    }
    fputs(code, stdout);
    free(code);
    ps_encap_destroy(encap);
    ps_stack_destroy(stack);
    ps_registry_destroy(reg);
    return fflush(stdout) ? 1 : 0;
}
