/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The registry of protocols: what the loaded protocol files define.  A
 * load is all or nothing: files are parsed and checked against what is
 * already known before anything is added. */

#include <config.h>
#include "protocol.h"
#include "stack.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

struct ps_registry {
    struct ps_definitions defs;
    uint64_t generation;        /* Counts successful loads. */
    struct ps_stack_cache *cache;
};

struct ps_stack_cache **
ps_registry_cache(struct ps_registry *reg)
{
    return &reg->cache;
}

uint64_t
ps_registry_generation(const struct ps_registry *reg)
{
    return reg->generation;
}

struct ps_registry *
ps_registry_create(void)
{
    return ps_xzalloc(sizeof(struct ps_registry));
}

void
ps_registry_destroy(struct ps_registry *reg)
{
    if (reg) {
        ps_stack_cache_destroy(reg->cache);
        ps_definitions_clear(&reg->defs);
        free(reg);
    }
}

static const struct ps_protocol *
find_protocol(const struct ps_definitions *defs, const char *name)
{
    for (size_t i = 0; i < defs->n_protocols; i++) {
        if (!strcmp(defs->protocols[i]->name, name)) {
            return defs->protocols[i];
        }
    }
    return NULL;
}

const struct ps_protocol *
ps_registry_find(const struct ps_registry *reg, const char *name)
{
    return find_protocol(&reg->defs, name);
}

size_t
ps_registry_n_bindings(const struct ps_registry *reg)
{
    return reg->defs.n_bindings;
}

const struct ps_binding *
ps_registry_binding(const struct ps_registry *reg, size_t i)
{
    return &reg->defs.bindings[i];
}

const struct ps_pseudo_decl *
ps_registry_find_pseudo(const struct ps_registry *reg, const char *protocol)
{
    for (size_t i = 0; i < reg->defs.n_pseudos; i++) {
        if (!strcmp(reg->defs.pseudos[i].protocol, protocol)) {
            return &reg->defs.pseudos[i];
        }
    }
    return NULL;
}

/* Finds 'protocol' first in 'a', then in 'b'. */
static const struct ps_protocol *
find_in_either(const struct ps_definitions *a, const struct ps_definitions *b,
               const char *name)
{
    const struct ps_protocol *p = find_protocol(a, name);
    return p ? p : find_protocol(b, name);
}

/* Returns the integer field 'name' in any layout of 'p', or NULL. */
static const struct ps_pfield *
find_uint_field(const struct ps_protocol *p, const char *name)
{
    for (size_t i = 0; i < p->n_fields; i++) {
        if (!strcmp(p->fields[i]->name, name)
            && p->fields[i]->type == PS_FIELD_UINT) {
            return p->fields[i];
        }
    }
    return NULL;
}

static enum ps_error
check_binding(const struct ps_binding *b, const struct ps_protocol *lower,
              char **errorp)
{
    if (!lower || !b->field) {
        return PS_OK;
    }
    const struct ps_pfield *f = find_uint_field(lower, b->field);
    if (!f) {
        return ps_set_error(errorp, PS_ERR_NO_FIELD,
                            "%s:%d:%d: %s has no integer field %s",
                            b->pos.file, b->pos.line, b->pos.column,
                            b->lower, b->field);
    }
    if (f->bits < 64 && b->value >> f->bits) {
        return ps_set_error(errorp, PS_ERR_RANGE,
                            "%s:%d:%d: %"PRIu64" does not fit in the %u "
                            "bits of %s.%s", b->pos.file, b->pos.line,
                            b->pos.column, b->value, f->bits, b->lower,
                            b->field);
    }
    return PS_OK;
}

static enum ps_error
check_pseudo(const struct ps_pseudo_decl *d, const struct ps_protocol *p,
             char **errorp)
{
    if (!p) {
        return PS_OK;
    }
    for (size_t i = 0; i < d->n_items; i++) {
        const struct ps_pseudo_decl_item *item = &d->items[i];
        if (item->kind != PS_PDECL_FIELD) {
            continue;
        }
        const struct ps_pfield *f = NULL;
        for (size_t j = 0; j < p->n_fields; j++) {
            if (!strcmp(p->fields[j]->name, item->field)) {
                f = p->fields[j];
            }
        }
        if (!f || !f->bits || f->bits % 8 || f->cond) {
            return ps_set_error(errorp, PS_ERR_NO_FIELD,
                                "%s:%d:%d: pseudo-header of %s: %s is not "
                                "a whole-byte unconditional field of %s",
                                d->pos.file, d->pos.line, d->pos.column,
                                d->protocol, item->field, d->protocol);
        }
    }
    return PS_OK;
}

/* Checks 'new' against itself and against what 'reg' already has. */
static enum ps_error
check_new_definitions(const struct ps_registry *reg,
                      const struct ps_definitions *new, char **errorp)
{
    const struct ps_definitions *old = &reg->defs;

    for (size_t i = 0; i < new->n_protocols; i++) {
        const struct ps_protocol *p = new->protocols[i];
        const struct ps_protocol *dup = find_protocol(old, p->name);
        for (size_t j = 0; !dup && j < i; j++) {
            if (!strcmp(new->protocols[j]->name, p->name)) {
                dup = new->protocols[j];
            }
        }
        if (dup) {
            return ps_set_error(errorp, PS_ERR_DUPLICATE,
                                "%s:%d:%d: protocol %s is already defined "
                                "at %s:%d:%d", p->file, p->line, p->column,
                                p->name, dup->file, dup->line, dup->column);
        }
    }
    for (size_t i = 0; i < new->n_pseudos; i++) {
        const struct ps_pseudo_decl *d = &new->pseudos[i];
        bool dup = false;
        for (size_t j = 0; j < old->n_pseudos; j++) {
            dup |= !strcmp(old->pseudos[j].protocol, d->protocol);
        }
        for (size_t j = 0; j < i; j++) {
            dup |= !strcmp(new->pseudos[j].protocol, d->protocol);
        }
        if (dup) {
            return ps_set_error(errorp, PS_ERR_DUPLICATE,
                                "%s:%d:%d: second pseudo_header for %s",
                                d->pos.file, d->pos.line, d->pos.column,
                                d->protocol);
        }
    }

    /* Bindings and pseudo-headers, new or old, that name a protocol that
     * is known now. */
    enum ps_error error;
    for (size_t i = 0; i < new->n_bindings; i++) {
        const struct ps_binding *b = &new->bindings[i];
        error = check_binding(b, find_in_either(new, old, b->lower), errorp);
        if (error) {
            return error;
        }
    }
    for (size_t i = 0; i < old->n_bindings; i++) {
        const struct ps_binding *b = &old->bindings[i];
        error = check_binding(b, find_protocol(new, b->lower), errorp);
        if (error) {
            return error;
        }
    }
    for (size_t i = 0; i < new->n_pseudos; i++) {
        const struct ps_pseudo_decl *d = &new->pseudos[i];
        error = check_pseudo(d, find_in_either(new, old, d->protocol),
                             errorp);
        if (error) {
            return error;
        }
    }
    for (size_t i = 0; i < old->n_pseudos; i++) {
        const struct ps_pseudo_decl *d = &old->pseudos[i];
        error = check_pseudo(d, find_protocol(new, d->protocol), errorp);
        if (error) {
            return error;
        }
    }
    return PS_OK;
}

/* Moves everything in 'new' into 'reg'. */
static void
merge_definitions(struct ps_registry *reg, struct ps_definitions *new)
{
    struct ps_definitions *d = &reg->defs;

    for (size_t i = 0; i < new->n_protocols; i++) {
        struct ps_protocol **slot;
        slot = ps_array_push((void **) &d->protocols, &d->n_protocols,
                             &d->allocated_protocols, sizeof *slot);
        *slot = new->protocols[i];
    }
    for (size_t i = 0; i < new->n_bindings; i++) {
        struct ps_binding *b = ps_array_push((void **) &d->bindings,
                                             &d->n_bindings,
                                             &d->allocated_bindings,
                                             sizeof *b);
        *b = new->bindings[i];
        b->pos.file = b->file;
    }
    for (size_t i = 0; i < new->n_pseudos; i++) {
        struct ps_pseudo_decl *p = ps_array_push((void **) &d->pseudos,
                                                 &d->n_pseudos,
                                                 &d->allocated_pseudos,
                                                 sizeof *p);
        *p = new->pseudos[i];
        p->pos.file = p->file;
    }
    free(new->protocols);
    free(new->bindings);
    free(new->pseudos);
    memset(new, 0, sizeof *new);
}

/* Appends 'src' to 'dst' (both parsed, neither checked yet). */
static void
append_definitions(struct ps_definitions *dst, struct ps_definitions *src)
{
    struct ps_registry tmp = { .defs = *dst };
    merge_definitions(&tmp, src);
    *dst = tmp.defs;
}

static enum ps_error
commit(struct ps_registry *reg, struct ps_definitions *new, char **errorp)
{
    enum ps_error error = check_new_definitions(reg, new, errorp);
    if (error) {
        ps_definitions_clear(new);
        return error;
    }
    merge_definitions(reg, new);
    reg->generation++;
    return PS_OK;
}

enum ps_error
ps_registry_load_string(struct ps_registry *reg, const char *name,
                        const char *text, char **errorp)
{
    struct ps_definitions new;
    enum ps_error error = ps_definitions_parse(name, text, &new, errorp);
    return error ? error : commit(reg, &new, errorp);
}

static enum ps_error
read_file(const char *path, char **textp, char **errorp)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return ps_set_error(errorp, PS_ERR_IO, "%s: %s", path,
                            strerror(errno));
    }
    struct ps_ds ds = PS_DS_INITIALIZER;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (!buf[i]) {
                fclose(f);
                ps_ds_destroy(&ds);
                return ps_set_error(errorp, PS_ERR_SYNTAX,
                                    "%s: contains a null byte", path);
            }
            ps_ds_put_char(&ds, buf[i]);
        }
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        ps_ds_destroy(&ds);
        return ps_set_error(errorp, PS_ERR_IO, "%s: read error", path);
    }
    ps_ds_put_cstr(&ds, "");
    *textp = ps_ds_steal(&ds);
    return PS_OK;
}

static enum ps_error
parse_file(const char *path, struct ps_definitions *defs, char **errorp)
{
    char *text;
    enum ps_error error = read_file(path, &text, errorp);
    if (!error) {
        error = ps_definitions_parse(path, text, defs, errorp);
        free(text);
    }
    return error;
}

enum ps_error
ps_registry_load_file(struct ps_registry *reg, const char *path,
                      char **errorp)
{
    struct ps_definitions new;
    enum ps_error error = parse_file(path, &new, errorp);
    return error ? error : commit(reg, &new, errorp);
}

static int
compare_strings(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;
    return strcmp(*a, *b);
}

enum ps_error
ps_registry_load_dir(struct ps_registry *reg, const char *dir,
                     char **errorp)
{
    DIR *d = opendir(dir);
    if (!d) {
        return ps_set_error(errorp, PS_ERR_IO, "%s: %s", dir,
                            strerror(errno));
    }
    char **names = NULL;
    size_t n_names = 0, allocated = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 6 && !strcmp(de->d_name + len - 6, ".proto")
            && de->d_name[0] != '.') {
            char **slot = ps_array_push((void **) &names, &n_names,
                                        &allocated, sizeof *slot);
            *slot = ps_xasprintf("%s/%s", dir, de->d_name);
        }
    }
    closedir(d);
    qsort(names, n_names, sizeof *names, compare_strings);

    struct ps_definitions all = { 0 };
    enum ps_error error = PS_OK;
    for (size_t i = 0; i < n_names && !error; i++) {
        struct ps_definitions one;
        error = parse_file(names[i], &one, errorp);
        if (!error) {
            append_definitions(&all, &one);
        }
    }
    for (size_t i = 0; i < n_names; i++) {
        free(names[i]);
    }
    free(names);
    if (error) {
        ps_definitions_clear(&all);
        return error;
    }
    return commit(reg, &all, errorp);
}

const char *
ps_registry_default_dir(void)
{
    const char *dir = getenv("PROTOSTACK_DATADIR");
    return dir && dir[0] ? dir : PS_PROTOCOLS_DIR;
}

enum ps_error
ps_registry_load_default(struct ps_registry *reg, char **errorp)
{
    return ps_registry_load_dir(reg, ps_registry_default_dir(), errorp);
}

/* Listing, in name order. */

static const struct ps_protocol *
nth_by_name(const struct ps_registry *reg, size_t i)
{
    /* The registry holds a few dozen protocols: ranking each one on
     * demand is cheap and keeps no second index in sync. */
    const struct ps_definitions *d = &reg->defs;
    for (size_t j = 0; j < d->n_protocols; j++) {
        size_t rank = 0;
        for (size_t k = 0; k < d->n_protocols; k++) {
            rank += strcmp(d->protocols[k]->name, d->protocols[j]->name) < 0;
        }
        if (rank == i) {
            return d->protocols[j];
        }
    }
    return NULL;
}

size_t
ps_registry_n_protocols(const struct ps_registry *reg)
{
    return reg->defs.n_protocols;
}

const char *
ps_registry_protocol_name(const struct ps_registry *reg, size_t i)
{
    const struct ps_protocol *p = nth_by_name(reg, i);
    return p ? p->name : NULL;
}

const char *
ps_registry_protocol_doc(const struct ps_registry *reg, size_t i)
{
    const struct ps_protocol *p = nth_by_name(reg, i);
    return p ? p->doc : NULL;
}
