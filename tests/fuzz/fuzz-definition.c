/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Fuzz target: the definition language, and everything downstream of it.
 *
 * Input: the text of a protocol file.  It is loaded into an empty
 * registry; when it loads, the shipped protocols are loaded beside it
 * (those that clash with it are left out), and every protocol it defines
 * is compiled in stacks that try each of its subtypes, its flags set and
 * unset, a variable length, alone and after and before the protocols it
 * binds to.  Every stack that compiles is filled into a buffer of exactly
 * its size, encapsulated by the interpreter (which must write what
 * ps_stack_fill() writes: ps_fuzz_check_encap()), generated as C, and the
 * filled packet dissected and dumped. */

#include <config.h>
#include "fuzz.h"
#include "protocol.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shipped protocol files: names and texts. */
static char **shipped_names;
static char **shipped_texts;
static size_t n_shipped;

/* At most this many stacks per input, so that one input stays fast. */
#define MAX_STACKS 24

static char *
read_text(const char *path)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        ps_fuzz_fail("%s: cannot open", path);
    }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = malloc(size + 1);
    if (size < 0 || fread(text, 1, size, file) != (size_t) size) {
        ps_fuzz_fail("%s: cannot read", path);
    }
    text[size] = '\0';
    fclose(file);
    return text;
}

static int
is_proto(const struct dirent *de)
{
    size_t len = strlen(de->d_name);
    return len > 6 && !strcmp(de->d_name + len - 6, ".proto");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = ps_fuzz_protocols_dir();
    struct dirent **entries;
    int n = scandir(dir, &entries, is_proto, alphasort);

    if (n <= 0) {
        ps_fuzz_fail("%s: no protocol files", dir);
    }
    shipped_names = calloc(n, sizeof *shipped_names);
    shipped_texts = calloc(n, sizeof *shipped_texts);
    for (int i = 0; i < n; i++) {
        size_t size = strlen(dir) + 1 + strlen(entries[i]->d_name) + 1;
        char *path = malloc(size);
        snprintf(path, size, "%s/%s", dir, entries[i]->d_name);
        shipped_names[i] = path;
        shipped_texts[i] = read_text(path);
        free(entries[i]);
    }
    free(entries);
    n_shipped = n;
    return 0;
}

/* The stacks tried for one input, as specs. */
struct specs {
    char *specs[MAX_STACKS];
    size_t n;
};

static void
add_spec(struct specs *specs, const char *a, const char *b)
{
    if (specs->n < MAX_STACKS) {
        size_t size = strlen(a) + 1 + (b ? strlen(b) : 0) + 1;
        char *spec = malloc(size);
        snprintf(spec, size, "%s%s%s", a, b ? "," : "", b ? b : "");
        specs->specs[specs->n++] = spec;
    }
}

/* "{P,subtype=V,FLAG=1,...,length=L}" for 'p' in variant 'v', with every
 * flag field set to 'flag' and, if 'length' is non-negative, the variable
 * length 'length'. */
static char *
header_item(const struct ps_protocol *p, const struct ps_variant *v,
            int flag, int length)
{
    size_t size = strlen(p->name) + strlen(v->name) + 64;
    for (size_t i = 0; i < v->n_fields; i++) {
        if (v->fields[i]->cond) {
            size += strlen(v->fields[i]->cond) + 4;
        }
    }

    char *item = malloc(size);
    size_t pos = snprintf(item, size, "{%s,subtype=%s", p->name, v->name);
    for (size_t i = 0; i < v->n_fields; i++) {
        const char *cond = v->fields[i]->cond;
        bool seen = false;
        for (size_t j = 0; cond && j < i; j++) {
            seen |= v->fields[j]->cond && !strcmp(v->fields[j]->cond, cond);
        }
        if (cond && !seen) {
            pos += snprintf(item + pos, size - pos, ",%s=%d", cond, flag);
        }
    }
    if (length >= 0) {
        pos += snprintf(item + pos, size - pos, ",length=%d", length);
    }
    snprintf(item + pos, size - pos, "}");
    return item;
}

static bool
has_variable_member(const struct ps_variant *v)
{
    for (size_t i = 0; i < v->n_fields; i++) {
        if (v->fields[i]->size_expr) {
            return true;
        }
    }
    return false;
}

/* Stacks of 'p' alone and next to the protocols it binds to. */
static void
collect_specs(const struct ps_registry *reg, const struct ps_protocol *p,
              struct specs *specs)
{
    for (size_t v = 0; v < p->n_variants; v++) {
        const struct ps_variant *var = &p->variants[v];
        for (int flag = 0; flag < 2; flag++) {
            int length = flag && has_variable_member(var) ? 4 : -1;
            char *item = header_item(p, var, flag, length);
            add_spec(specs, item, NULL);
            free(item);
        }
    }

    const struct ps_variant *plain = &p->variants[0];
    char *item = header_item(p, plain, 1, -1);
    const struct ps_snapshot *snap = ps_registry_snapshot(reg);
    for (size_t i = 0; i < ps_snapshot_n_bindings(snap); i++) {
        const struct ps_binding *b = ps_snapshot_binding(snap, i);
        if (!strcmp(b->upper, p->name) && ps_registry_find(reg, b->lower)) {
            add_spec(specs, b->lower, item);
        }
        if (!strcmp(b->lower, p->name) && ps_registry_find(reg, b->upper)) {
            add_spec(specs, item, b->upper);
        }
    }
    free(item);
}

/* Fills, encapsulates, generates and dissects the stack of 'spec', if it
 * compiles. */
static void
exercise(const struct ps_registry *reg, const char *spec,
         const char *first)
{
    static const uint8_t payload[16] = {
        0x45, 0x00, 0x00, 0x10, 0xde, 0xad, 0xbe, 0xef,
        0x01, 0x02, 0x03, 0x04, 0xff, 0xfe, 0x80, 0x00,
    };
    struct ps_stack *stack;
    char *error = NULL;

    enum ps_error e = ps_stack_create(reg, spec, &stack, &error);
    ps_fuzz_check_message(e, error, "ps_stack_create()");
    free(error);
    if (e) {
        return;
    }

    size_t len = ps_stack_size(stack) + sizeof payload;
    uint8_t *pkt = malloc(len);
    memcpy(pkt + ps_stack_size(stack), payload, sizeof payload);
    if (ps_stack_fill(stack, pkt, len, NULL, &error)) {
        ps_fuzz_fail("stack %s: fill without labels fails: %s", spec, error);
    }

    struct ps_encap *encap;
    if (ps_encap_create(stack, NULL, PS_TIER_INTERP, &encap, &error)) {
        ps_fuzz_fail("stack %s: encapsulation without labels fails: %s",
                     spec, error);
    }
    ps_fuzz_check_encap(stack, NULL, encap, payload, sizeof payload,
                        0x9e3779b9);

    char *name = ps_stack_default_name(stack);
    char *code = ps_stack_generate_c(stack, name);
    char *encap_code = ps_encap_generate_c(encap, name);
    if (!code || !encap_code) {
        ps_fuzz_fail("stack %s: no C for its default name %s", spec, name);
    }
    free(encap_code);
    free(code);
    free(name);
    ps_encap_destroy(encap);

    struct ps_dissection *d;
    e = ps_dissect(reg, first, pkt, len, &d, &error);
    ps_fuzz_check_message(e, error, "ps_dissect()");
    free(error);
    if (!e) {
        free(ps_dissection_format(d, pkt, PS_DUMP_HEX));
        ps_dissection_destroy(d);
    }
    free(pkt);
    ps_stack_destroy(stack);
}

/* The protocol of the first header of 'spec'. */
static char *
first_protocol(const char *spec)
{
    spec += *spec == '{';
    size_t len = strcspn(spec, ",}");
    char *name = malloc(len + 1);
    memcpy(name, spec, len);
    name[len] = '\0';
    return name;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';

    struct ps_registry *reg = ps_registry_create();
    char *error = NULL;
    enum ps_error e = ps_registry_load_string(reg, "fuzz", text, &error);
    ps_fuzz_check_message(e, error, "ps_registry_load_string()");
    free(error);
    if (e) {
        if (ps_registry_n_protocols(reg)) {
            ps_fuzz_fail("a failed load left %zu protocols in the registry",
                         ps_registry_n_protocols(reg));
        }
        ps_registry_destroy(reg);
        free(text);
        return 0;
    }

    /* The protocols of the input, before the shipped ones join them. */
    size_t n_new = ps_registry_n_protocols(reg);
    char **names = calloc(n_new ? n_new : 1, sizeof *names);
    for (size_t i = 0; i < n_new; i++) {
        names[i] = strdup(ps_registry_protocol_name(reg, i));
    }
    for (size_t i = 0; i < n_shipped; i++) {
        ps_registry_load_string(reg, shipped_names[i], shipped_texts[i],
                                NULL);
    }

    struct specs specs = { .n = 0 };
    for (size_t i = 0; i < n_new; i++) {
        const struct ps_protocol *p = ps_registry_find(reg, names[i]);
        if (!p) {
            ps_fuzz_fail("protocol %s loaded, then lost", names[i]);
        }
        collect_specs(reg, p, &specs);
    }
    for (size_t i = 0; i < specs.n; i++) {
        char *first = first_protocol(specs.specs[i]);
        exercise(reg, specs.specs[i], first);
        free(first);
        free(specs.specs[i]);
    }

    for (size_t i = 0; i < n_new; i++) {
        free(names[i]);
    }
    free(names);
    ps_registry_destroy(reg);
    free(text);
    return 0;
}
