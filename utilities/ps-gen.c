/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ps-gen SPEC [NAME]: prints the static C header of a stack.  The build
 * uses it to generate include/protostack/static/\*.h. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include "protostack/protostack.h"

int
main(int argc, char *argv[])
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s SPEC [NAME]\n", argv[0]);
        return 2;
    }

    struct ps_registry *reg = ps_registry_create();
    struct ps_stack *stack = NULL;
    char *error = NULL;
    if (ps_registry_load_default(reg, &error)
        || ps_stack_create(reg, argv[1], &stack, &error)) {
        fprintf(stderr, "%s: %s\n", argv[0], error);
        return 1;
    }

    char *name = argc > 2 ? NULL : ps_stack_default_name(stack);
    char *code = ps_stack_generate_c(stack, argc > 2 ? argv[2] : name);
    if (!code) {
        fprintf(stderr, "%s: \"%s\" is not a C identifier\n", argv[0],
                argc > 2 ? argv[2] : name);
        return 1;
    }
    fputs(code, stdout);
    free(code);
    free(name);
    ps_stack_destroy(stack);
    ps_registry_destroy(reg);
    return fflush(stdout) ? 1 : 0;
}
