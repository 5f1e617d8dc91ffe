/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ps-check PATH...: loads protocol files and directories, in order, into
 * one registry, prints every error, and lists what loaded. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "protostack/protostack.h"

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE-OR-DIR...\n", argv[0]);
        return 2;
    }

    struct ps_registry *reg = ps_registry_create();
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        char *error = NULL;
        enum ps_error e = (!stat(argv[i], &st) && S_ISDIR(st.st_mode)
                           ? ps_registry_load_dir(reg, argv[i], &error)
                           : ps_registry_load_file(reg, argv[i], &error));
        if (e) {
            fprintf(stderr, "%s\n", error);
            free(error);
            status = 1;
        }
    }
    for (size_t i = 0; i < ps_registry_n_protocols(reg); i++) {
        printf("%-10s %s\n", ps_registry_protocol_name(reg, i),
               ps_registry_protocol_doc(reg, i));
    }
    ps_registry_destroy(reg);
    return status;
}
