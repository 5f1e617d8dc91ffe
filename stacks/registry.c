/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The registry of protocols: what the loaded protocol files define.  A
 * load is all or nothing: files are parsed and checked against what is
 * already known before anything is added.
 *
 * Readers never lock.  They read an immutable snapshot (protocol.h) that
 * a load publishes with one atomic store; loads serialise among
 * themselves on a mutex.  Nothing a snapshot points to is ever changed or
 * freed before ps_registry_destroy():
 *
 *   - protocols, bindings and pseudo-headers, once loaded, are kept as
 *     they are (a load only adds);
 *   - the arrays that list them are append-only: a load writes past the
 *     end that published snapshots see, and an array that is full is
 *     copied into one twice as large rather than realloc()'d, the old one
 *     kept on 'retired' for the readers that still use it;
 *   - each load that changes anything adds one small snapshot header.
 *
 * So a reader needs no read-side section, hazard pointer or reference
 * count, and may hold a snapshot for as long as it likes (a compile, a
 * dissection).  The price is memory kept until the registry is
 * destroyed: per load, one snapshot header, and over all loads, outgrown
 * arrays that add up to less than the live ones (geometric growth).  All
 * of it is proportional to what the loads defined, which the registry
 * keeps anyway; a load that defines nothing publishes nothing. */

#include <config.h>
#include "protocol.h"
#include "stack.h"

#include <dirent.h>
#include <sys/stat.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

struct ps_registry {
    /* What readers see: first, as ps_registry_snapshot_inline() reads
     * it. */
    struct ps_registry_head head;

    /* Loads: 'mutex' serialises them and guards what follows. */
    pthread_mutex_t mutex;
    struct ps_definitions defs; /* Everything loaded, owned. */
    void **retired;             /* Outgrown arrays, for old snapshots. */
    size_t n_retired, allocated_retired;

    struct ps_stack_cache *cache; /* Set at creation, never changed. */

    /* The dissectors handed out, one per name (under 'mutex'). */
    struct ps_dissector **dissectors;
    size_t n_dissectors, allocated_dissectors;
};

struct ps_stack_cache *
ps_registry_cache(const struct ps_registry *reg)
{
    return reg->cache;
}

const struct ps_snapshot *
ps_registry_snapshot(const struct ps_registry *reg)
{
    return ps_registry_snapshot_inline(reg);
}

struct ps_registry *
ps_registry_create(void)
{
    struct ps_registry *reg = ps_xzalloc(sizeof *reg);
    atomic_init(&reg->head.current,
                ps_xzalloc(sizeof(struct ps_snapshot)));
    pthread_mutex_init(&reg->mutex, NULL);
    reg->cache = ps_stack_cache_create();
    return reg;
}

const struct ps_dissector *
ps_registry_dissector(struct ps_registry *reg, const char *first)
{
    struct ps_dissector *dis = NULL;

    pthread_mutex_lock(&reg->mutex);
    for (size_t i = 0; !dis && i < reg->n_dissectors; i++) {
        if (!strcmp(reg->dissectors[i]->first, first)) {
            dis = reg->dissectors[i];
        }
    }
    if (!dis) {
        struct ps_dissector **slot;
        dis = ps_xmalloc(sizeof *dis);
        dis->reg = reg;
        dis->first = ps_xstrdup(first);
        slot = ps_array_push((void **) &reg->dissectors, &reg->n_dissectors,
                             &reg->allocated_dissectors, sizeof *slot);
        *slot = dis;
    }
    pthread_mutex_unlock(&reg->mutex);
    return dis;
}

const char *
ps_dissector_first(const struct ps_dissector *dis)
{
    return dis->first;
}

void
ps_registry_set_stack_limit(struct ps_registry *reg, size_t max_stacks)
{
    ps_stack_cache_set_limit(reg->cache, max_stacks);
}

void
ps_registry_destroy(struct ps_registry *reg)
{
    if (reg) {
        ps_stack_cache_destroy(reg->cache);
        struct ps_snapshot *snap = atomic_load(&reg->head.current);
        while (snap) {
            struct ps_snapshot *older = snap->older;
            free(snap);
            snap = older;
        }
        for (size_t i = 0; i < reg->n_retired; i++) {
            free(reg->retired[i]);
        }
        free(reg->retired);
        for (size_t i = 0; i < reg->n_dissectors; i++) {
            free(reg->dissectors[i]->first);
            free(reg->dissectors[i]);
        }
        free(reg->dissectors);
        ps_definitions_clear(&reg->defs);
        pthread_mutex_destroy(&reg->mutex);
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
ps_snapshot_find(const struct ps_snapshot *snap, const char *name)
{
    return find_protocol(&snap->defs, name);
}

size_t
ps_snapshot_n_bindings(const struct ps_snapshot *snap)
{
    return snap->defs.n_bindings;
}

const struct ps_binding *
ps_snapshot_binding(const struct ps_snapshot *snap, size_t i)
{
    return &snap->defs.bindings[i];
}

const struct ps_pseudo_decl *
ps_snapshot_find_pseudo(const struct ps_snapshot *snap, const char *protocol)
{
    for (size_t i = 0; i < snap->defs.n_pseudos; i++) {
        if (!strcmp(snap->defs.pseudos[i].protocol, protocol)) {
            return &snap->defs.pseudos[i];
        }
    }
    return NULL;
}

const struct ps_protocol *
ps_registry_find(const struct ps_registry *reg, const char *name)
{
    return ps_snapshot_find(ps_registry_snapshot(reg), name);
}

size_t
ps_registry_n_bindings(const struct ps_registry *reg)
{
    return ps_snapshot_n_bindings(ps_registry_snapshot(reg));
}

const struct ps_pseudo_decl *
ps_registry_find_pseudo(const struct ps_registry *reg, const char *protocol)
{
    return ps_snapshot_find_pseudo(ps_registry_snapshot(reg), protocol);
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

/* Returns the integer field 'name' among the fixed fields that start the
 * plain layout of 'p' (those the dissector reads ahead in a payload), or
 * NULL. */
static const struct ps_pfield *
find_leading_uint_field(const struct ps_protocol *p, const char *name)
{
    const struct ps_variant *v = &p->variants[0];
    for (size_t i = 0; i < v->n_fields; i++) {
        const struct ps_pfield *f = v->fields[i];
        if (f->cond || f->size_expr) {
            break;
        }
        if (!strcmp(f->name, name)) {
            return f->type == PS_FIELD_UINT ? f : NULL;
        }
    }
    return NULL;
}

/* Checks that 'value' fits in field 'f' of 'proto', for binding 'b'. */
static enum ps_error
check_binding_value(const struct ps_binding *b, const char *proto,
                    const struct ps_pfield *f, uint64_t value, char **errorp)
{
    if (f->bits < 64 && value >> f->bits) {
        return ps_set_error(errorp, PS_ERR_RANGE,
                            "%s:%d:%d: %"PRIu64" does not fit in the %u "
                            "bits of %s.%s", b->pos.file, b->pos.line,
                            b->pos.column, value, f->bits, proto, f->name);
    }
    return PS_OK;
}

/* Checks the fields that binding 'b' names against its 'lower' and
 * 'upper' protocols, either of which may be NULL (not loaded yet: checked
 * when it is). */
static enum ps_error
check_binding(const struct ps_binding *b, const struct ps_protocol *lower,
              const struct ps_protocol *upper, char **errorp)
{
    enum ps_error error = PS_OK;
    if (lower && b->field) {
        const struct ps_pfield *f = find_uint_field(lower, b->field);
        if (!f) {
            return ps_set_error(errorp, PS_ERR_NO_FIELD,
                                "%s:%d:%d: %s has no integer field %s",
                                b->pos.file, b->pos.line, b->pos.column,
                                b->lower, b->field);
        }
        error = check_binding_value(b, b->lower, f, b->value, errorp);
    }
    for (size_t i = 0; !error && i < b->n_conds; i++) {
        const struct ps_binding_cond *c = &b->conds[i];
        const struct ps_protocol *p = c->upper ? upper : lower;
        if (!p) {
            continue;
        }
        const struct ps_pfield *f = (c->upper
                                     ? find_leading_uint_field(p, c->field)
                                     : find_uint_field(p, c->field));
        if (!f) {
            return ps_set_error(errorp, PS_ERR_NO_FIELD,
                                "%s:%d:%d: condition on %s.%s: %s has no "
                                "integer field %s%s", b->pos.file,
                                b->pos.line, b->pos.column, p->name,
                                c->field, p->name, c->field,
                                c->upper ? " among the fixed fields that "
                                "start it" : "");
        }
        error = check_binding_value(b, p->name, f, c->value, errorp);
    }
    return error;
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
        const struct ps_pfield *route = NULL;
        for (size_t j = 0; item->route && j < p->n_fields; j++) {
            if (!strcmp(p->fields[j]->name, item->route)) {
                route = p->fields[j];
            }
        }
        if (item->route
            && (!route || route->type != PS_FIELD_BYTES || route->cond)) {
            return ps_set_error(errorp, PS_ERR_NO_FIELD,
                                "%s:%d:%d: pseudo-header of %s: route(%s): "
                                "%s is not an unconditional bytes field of "
                                "%s", d->pos.file, d->pos.line,
                                d->pos.column, d->protocol, item->route,
                                item->route, d->protocol);
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
        error = check_binding(b, find_in_either(new, old, b->lower),
                              find_in_either(new, old, b->upper), errorp);
        if (error) {
            return error;
        }
    }
    for (size_t i = 0; i < old->n_bindings; i++) {
        const struct ps_binding *b = &old->bindings[i];
        error = check_binding(b, find_protocol(new, b->lower),
                              find_protocol(new, b->upper), errorp);
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

/* Appends the 'n' elements of 'size' bytes at 'src' to '*arrayp', which
 * has '*np' elements and room for '*allocated'.  Used both for parsed
 * definitions that no reader sees and, with 'reg', for the registry's
 * arrays: then a full array is never realloc()'d, since snapshots point
 * into it; a larger copy replaces it and 'reg' keeps the old one. */
static void
append_array(struct ps_registry *reg, void **arrayp, size_t *np,
             size_t *allocated, const void *src, size_t n, size_t size)
{
    if (!n) {
        return;
    }
    if (*np + n > *allocated) {
        size_t want = *allocated ? *allocated : 8;
        while (want < *np + n) {
            want *= 2;
        }
        if (reg) {
            void *array = ps_xmalloc(want * size);
            if (*np) {
                memcpy(array, *arrayp, *np * size);
            }
            void **slot = ps_array_push((void **) &reg->retired,
                                        &reg->n_retired,
                                        &reg->allocated_retired,
                                        sizeof *slot);
            *slot = *arrayp;
            *arrayp = array;
        } else {
            *arrayp = ps_xrealloc(*arrayp, want * size);
        }
        *allocated = want;
    }
    memcpy((char *) *arrayp + *np * size, src, n * size);
    *np += n;
}

/* Moves everything in 'src' to the end of 'dst' ('reg''s definitions if
 * 'reg' is nonnull). */
static void
move_definitions(struct ps_registry *reg, struct ps_definitions *dst,
                 struct ps_definitions *src)
{
    size_t first_binding = dst->n_bindings;
    size_t first_pseudo = dst->n_pseudos;

    append_array(reg, (void **) &dst->protocols, &dst->n_protocols,
                 &dst->allocated_protocols, src->protocols,
                 src->n_protocols, sizeof *src->protocols);
    append_array(reg, (void **) &dst->bindings, &dst->n_bindings,
                 &dst->allocated_bindings, src->bindings, src->n_bindings,
                 sizeof *src->bindings);
    append_array(reg, (void **) &dst->pseudos, &dst->n_pseudos,
                 &dst->allocated_pseudos, src->pseudos, src->n_pseudos,
                 sizeof *src->pseudos);
    for (size_t i = first_binding; i < dst->n_bindings; i++) {
        dst->bindings[i].pos.file = dst->bindings[i].file;
    }
    for (size_t i = first_pseudo; i < dst->n_pseudos; i++) {
        dst->pseudos[i].pos.file = dst->pseudos[i].file;
    }
    free(src->protocols);
    free(src->bindings);
    free(src->pseudos);
    memset(src, 0, sizeof *src);
}

/* Adds 'new' to 'reg' and publishes the result.  Called with 'reg''s
 * mutex held. */
static void
publish(struct ps_registry *reg, struct ps_definitions *new)
{
    if (!new->n_protocols && !new->n_bindings && !new->n_pseudos) {
        return;
    }
    move_definitions(reg, &reg->defs, new);

    struct ps_snapshot *old = atomic_load_explicit(&reg->head.current,
                                                   memory_order_relaxed);
    struct ps_snapshot *snap = ps_xzalloc(sizeof *snap);
    snap->defs.protocols = reg->defs.protocols;
    snap->defs.n_protocols = reg->defs.n_protocols;
    snap->defs.bindings = reg->defs.bindings;
    snap->defs.n_bindings = reg->defs.n_bindings;
    snap->defs.pseudos = reg->defs.pseudos;
    snap->defs.n_pseudos = reg->defs.n_pseudos;
    snap->generation = old->generation + 1;
    snap->older = old;
    atomic_store_explicit(&reg->head.current, snap, memory_order_release);
    ps_stack_cache_flush(reg->cache, snap->generation);
}

static enum ps_error
commit(struct ps_registry *reg, struct ps_definitions *new, char **errorp)
{
    pthread_mutex_lock(&reg->mutex);
    enum ps_error error = check_new_definitions(reg, new, errorp);
    if (!error) {
        publish(reg, new);
    }
    pthread_mutex_unlock(&reg->mutex);
    ps_definitions_clear(new);
    return error;
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

/* One protocol file to load: its text if it is built in, else its path;
 * 'base' is its file name, by which a file of a later directory replaces
 * an earlier one. */
struct source {
    char *name;                 /* For messages and ps_registry_list(). */
    const char *base;           /* Points into 'name'. */
    char *path;                 /* NULL: built in. */
    const char *text;           /* Built in. */
};

struct sources {
    struct source *s;
    size_t n, allocated;
};

/* The protocol files shipped with protostack, compiled in. */
static const struct {
    const char *base;
    const char *text;
} builtin_protocols[] = {
#include "builtin-protocols.inc"
};

static void
sources_add(struct sources *ss, char *name, char *path, const char *text)
{
    const char *sep = strrchr(name, '/');
    sep = sep ? sep : strchr(name, ':');
    const char *base = sep ? sep + 1 : name;
    for (size_t i = 0; i < ss->n; i++) {
        if (!strcmp(ss->s[i].base, base)) {
            free(ss->s[i].name);
            free(ss->s[i].path);
            ss->s[i] = (struct source) { name, base, path, text };
            return;
        }
    }
    struct source *src = ps_array_push((void **) &ss->s, &ss->n,
                                       &ss->allocated, sizeof *src);
    *src = (struct source) { name, base, path, text };
}

static void
sources_clear(struct sources *ss)
{
    for (size_t i = 0; i < ss->n; i++) {
        free(ss->s[i].name);
        free(ss->s[i].path);
    }
    free(ss->s);
    memset(ss, 0, sizeof *ss);
}

static int
compare_strings(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;
    return strcmp(*a, *b);
}

/* Adds every "*.proto" file of 'dir', in name order. */
static enum ps_error
sources_add_dir(struct sources *ss, const char *dir, char **errorp)
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
    for (size_t i = 0; i < n_names; i++) {
        sources_add(ss, names[i], ps_xstrdup(names[i]), NULL);
    }
    free(names);
    return PS_OK;
}

/* Adds 'path', a directory or a file. */
static enum ps_error
sources_add_path(struct sources *ss, const char *path, char **errorp)
{
    struct stat st;
    if (stat(path, &st)) {
        return ps_set_error(errorp, PS_ERR_IO, "%s: %s", path,
                            strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        return sources_add_dir(ss, path, errorp);
    }
    sources_add(ss, ps_xstrdup(path), ps_xstrdup(path), NULL);
    return PS_OK;
}

/* Adds the default protocols: $PROTOSTACK_DATADIR if set, else the
 * built-in ones. */
static enum ps_error
sources_add_default(struct sources *ss, char **errorp)
{
    const char *dir = ps_registry_default_dir();
    if (dir) {
        return sources_add_dir(ss, dir, errorp);
    }
    for (size_t i = 0; i < PS_ARRAY_SIZE(builtin_protocols); i++) {
        sources_add(ss, ps_xasprintf("built-in:%s", builtin_protocols[i].base),
                    NULL, builtin_protocols[i].text);
    }
    return PS_OK;
}

/* Parses every source and loads them all, or nothing. */
static enum ps_error
load_sources(struct ps_registry *reg, const struct sources *ss,
             char **errorp)
{
    struct ps_definitions all = { 0 };
    enum ps_error error = PS_OK;
    for (size_t i = 0; i < ss->n && !error; i++) {
        const struct source *src = &ss->s[i];
        struct ps_definitions one;
        char *text = NULL;
        if (src->path) {
            error = read_file(src->path, &text, errorp);
        }
        if (!error) {
            error = ps_definitions_parse(src->name, src->path ? text
                                         : src->text, &one, errorp);
        }
        free(text);
        if (!error) {
            move_definitions(NULL, &all, &one);
        }
    }
    if (error) {
        ps_definitions_clear(&all);
        return error;
    }
    return commit(reg, &all, errorp);
}

enum ps_error
ps_registry_load_file(struct ps_registry *reg, const char *path,
                      char **errorp)
{
    struct sources ss = { 0 };
    sources_add(&ss, ps_xstrdup(path), ps_xstrdup(path), NULL);
    enum ps_error error = load_sources(reg, &ss, errorp);
    sources_clear(&ss);
    return error;
}

enum ps_error
ps_registry_load_dir(struct ps_registry *reg, const char *dir,
                     char **errorp)
{
    struct sources ss = { 0 };
    enum ps_error error = sources_add_dir(&ss, dir, errorp);
    if (!error) {
        error = load_sources(reg, &ss, errorp);
    }
    sources_clear(&ss);
    return error;
}

const char *
ps_registry_default_dir(void)
{
    const char *dir = getenv("PROTOSTACK_DATADIR");
    return dir && dir[0] ? dir : NULL;
}

enum ps_error
ps_registry_load_default(struct ps_registry *reg, char **errorp)
{
    return ps_registry_load_default_with(reg, NULL, 0, errorp);
}

enum ps_error
ps_registry_load_default_with(struct ps_registry *reg,
                              const char *const *paths, size_t n_paths,
                              char **errorp)
{
    struct sources ss = { 0 };
    enum ps_error error = sources_add_default(&ss, errorp);
    for (size_t i = 0; i < n_paths && !error; i++) {
        error = sources_add_path(&ss, paths[i], errorp);
    }
    if (!error) {
        error = load_sources(reg, &ss, errorp);
    }
    sources_clear(&ss);
    return error;
}

/* Listing, in name order. */

static const struct ps_protocol *
nth_by_name(const struct ps_registry *reg, size_t i)
{
    /* The registry holds a few dozen protocols: ranking each one on
     * demand is cheap and keeps no second index in sync. */
    const struct ps_definitions *d = &ps_registry_snapshot(reg)->defs;
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
    return ps_registry_snapshot(reg)->defs.n_protocols;
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

const char *
ps_registry_protocol_file(const struct ps_registry *reg, size_t i)
{
    const struct ps_protocol *p = nth_by_name(reg, i);
    return p ? p->file : NULL;
}
