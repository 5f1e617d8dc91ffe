/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* A main() for a fuzz target built without libFuzzer: runs
 * LLVMFuzzerTestOneInput() once on every file named on the command line
 * and on every file of every directory named there (in name order), each
 * in a buffer of exactly its size.  Arguments that start with '-'
 * (libFuzzer options) are ignored, so that one command line serves both
 * builds.  A failing input aborts the program after its name is
 * printed. */

#include <config.h>
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static size_t n_inputs;

static void
run_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(EXIT_FAILURE);
    }

    uint8_t *data = NULL;
    size_t size = 0;
    uint8_t chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, file)) > 0) {
        uint8_t *bigger = realloc(data, size + n);
        if (!bigger) {
            fprintf(stderr, "%s: out of memory\n", path);
            exit(EXIT_FAILURE);
        }
        data = bigger;
        memcpy(data + size, chunk, n);
        size += n;
    }
    if (ferror(file)) {
        fprintf(stderr, "%s: read error\n", path);
        exit(EXIT_FAILURE);
    }
    fclose(file);

    /* realloc() kept the buffer at exactly 'size' bytes; an empty input
     * gets a buffer of its own all the same. */
    if (!data) {
        data = malloc(1);
    }
    fprintf(stderr, "Running: %s\n", path);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    n_inputs++;
}

static int
select_entry(const struct dirent *de)
{
    return de->d_name[0] != '.';
}

static void
run_path(const char *path)
{
    struct stat st;

    if (stat(path, &st)) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(EXIT_FAILURE);
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }

    struct dirent **entries;
    int n = scandir(path, &entries, select_entry, alphasort);
    if (n < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(EXIT_FAILURE);
    }
    for (int i = 0; i < n; i++) {
        size_t size = strlen(path) + 1 + strlen(entries[i]->d_name) + 1;
        char *name = malloc(size);
        if (!name) {
            exit(EXIT_FAILURE);
        }
        snprintf(name, size, "%s/%s", path, entries[i]->d_name);
        run_path(name);
        free(name);
        free(entries[i]);
    }
    free(entries);
}

int
main(int argc, char *argv[])
{
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            run_path(argv[i]);
        }
    }
    printf("%s: %zu inputs, no failure\n", argv[0], n_inputs);
    return 0;
}
