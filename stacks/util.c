/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
out_of_memory(void)
{
    fputs("protostack: out of memory\n", stderr);
    abort();
}

void *
ps_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
ps_xzalloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
ps_xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

char *
ps_xmemdup0(const char *s, size_t n)
{
    char *p = ps_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
ps_xstrdup(const char *s)
{
    return ps_xmemdup0(s, strlen(s));
}

char *
ps_xvasprintf(const char *format, va_list args)
{
    va_list args2;
    va_copy(args2, args);
    int n = vsnprintf(NULL, 0, format, args);
    char *s = ps_xmalloc(n + 1);
    vsnprintf(s, n + 1, format, args2);
    va_end(args2);
    return s;
}

char *
ps_xasprintf(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *s = ps_xvasprintf(format, args);
    va_end(args);
    return s;
}

void *
ps_array_push(void **arrayp, size_t *n, size_t *allocated, size_t size)
{
    if (*n >= *allocated) {
        *allocated = *allocated ? *allocated * 2 : 8;
        *arrayp = ps_xrealloc(*arrayp, *allocated * size);
    }
    void *elem = (char *) *arrayp + (*n)++ * size;
    memset(elem, 0, size);
    return elem;
}

static void
ds_reserve(struct ps_ds *ds, size_t extra)
{
    if (ds->len + extra + 1 > ds->allocated) {
        ds->allocated = (ds->len + extra + 1) * 2;
        ds->s = ps_xrealloc(ds->s, ds->allocated);
    }
}

void
ps_ds_put_cstr(struct ps_ds *ds, const char *s)
{
    size_t n = strlen(s);
    ds_reserve(ds, n);
    memcpy(ds->s + ds->len, s, n + 1);
    ds->len += n;
}

void
ps_ds_put_char(struct ps_ds *ds, char c)
{
    ds_reserve(ds, 1);
    ds->s[ds->len++] = c;
    ds->s[ds->len] = '\0';
}

void
ps_ds_put_vformat(struct ps_ds *ds, const char *format, va_list args)
{
    va_list args2;
    va_copy(args2, args);
    int n = vsnprintf(NULL, 0, format, args);
    ds_reserve(ds, n);
    vsnprintf(ds->s + ds->len, n + 1, format, args2);
    ds->len += n;
    va_end(args2);
}

void
ps_ds_put_format(struct ps_ds *ds, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    ps_ds_put_vformat(ds, format, args);
    va_end(args);
}

const char *
ps_ds_cstr(struct ps_ds *ds)
{
    ds_reserve(ds, 0);
    ds->s[ds->len] = '\0';
    return ds->s;
}

char *
ps_ds_steal(struct ps_ds *ds)
{
    ps_ds_cstr(ds);
    char *s = ds->s;
    ds->s = NULL;
    ds->len = ds->allocated = 0;
    return s;
}

void
ps_ds_destroy(struct ps_ds *ds)
{
    free(ds->s);
    ds->s = NULL;
    ds->len = ds->allocated = 0;
}

enum ps_error
ps_set_error(char **errorp, enum ps_error error, const char *format, ...)
{
    if (errorp) {
        va_list args;
        va_start(args, format);
        *errorp = ps_xvasprintf(format, args);
        va_end(args);
    }
    return error;
}

bool
ps_parse_uint(const char *s, uint64_t *valuep)
{
    if (!isdigit((unsigned char) s[0])) {
        return false;
    }
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!isxdigit((unsigned char) s[0])) {
            return false;
        }
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || *end) {
        return false;
    }
    *valuep = v;
    return true;
}

static int
hex_value(char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : -1);
}

bool
ps_parse_bytes(const char *s, uint8_t *out, size_t n)
{
    bool colons = !(s[0] == '0' && (s[1] == 'x' || s[1] == 'X'));
    if (!colons) {
        s += 2;
    }
    for (size_t i = 0; i < n; i++) {
        if (colons && i && *s++ != ':') {
            return false;
        }
        int hi = hex_value(s[0]);
        int lo = hi < 0 ? -1 : hex_value(s[1]);
        if (lo < 0) {
            return false;
        }
        out[i] = hi << 4 | lo;
        s += 2;
    }
    return *s == '\0';
}

bool
ps_is_identifier(const char *s)
{
    if (!isalpha((unsigned char) s[0]) && s[0] != '_') {
        return false;
    }
    for (s++; *s; s++) {
        if (!isalnum((unsigned char) *s) && *s != '_') {
            return false;
        }
    }
    return true;
}

const char *
ps_error_name(enum ps_error error)
{
    switch (error) {
    case PS_OK: return "PS_OK";
    case PS_ERR_SYNTAX: return "PS_ERR_SYNTAX";
    case PS_ERR_NO_PROTOCOL: return "PS_ERR_NO_PROTOCOL";
    case PS_ERR_NO_SUBTYPE: return "PS_ERR_NO_SUBTYPE";
    case PS_ERR_NO_FIELD: return "PS_ERR_NO_FIELD";
    case PS_ERR_DUPLICATE: return "PS_ERR_DUPLICATE";
    case PS_ERR_RANGE: return "PS_ERR_RANGE";
    case PS_ERR_ADDRESS: return "PS_ERR_ADDRESS";
    case PS_ERR_TYPE: return "PS_ERR_TYPE";
    case PS_ERR_SHORT: return "PS_ERR_SHORT";
    case PS_ERR_LAYOUT: return "PS_ERR_LAYOUT";
    case PS_ERR_IO: return "PS_ERR_IO";
    case PS_ERR_ABSENT: return "PS_ERR_ABSENT";
    }
    return "PS_ERR_UNKNOWN";
}
