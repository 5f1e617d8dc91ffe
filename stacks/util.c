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

/* Quoted text in a message is cut after this many bytes. */
#define QUOTE_MAX 80

/* A message longer than this (after quoting) is cut. */
#define MESSAGE_MAX 1024

static bool
is_ascii_print(unsigned char c)
{
    return c >= 0x20 && c < 0x7f;
}

char *
ps_error_sanitize(char *msg)
{
    struct ps_ds ds = PS_DS_INITIALIZER;
    bool quoted = false;
    size_t in_quote = 0;

    for (const unsigned char *p = (const unsigned char *) msg; *p; p++) {
        if (ds.len >= MESSAGE_MAX) {
            ps_ds_put_cstr(&ds, "...");
            break;
        }
        if (*p == '"') {
            quoted = !quoted;
            in_quote = 0;
            ps_ds_put_char(&ds, '"');
            continue;
        }
        if (quoted && ++in_quote > QUOTE_MAX) {
            /* Skip to the closing quote. */
            if (in_quote == QUOTE_MAX + 1) {
                ps_ds_put_cstr(&ds, "...");
            }
            continue;
        }
        if (is_ascii_print(*p)) {
            ps_ds_put_char(&ds, *p);
        } else if (*p == '\n') {
            ps_ds_put_cstr(&ds, "\\n");
        } else if (*p == '\t') {
            ps_ds_put_cstr(&ds, "\\t");
        } else {
            ps_ds_put_format(&ds, "\\x%02x", *p);
        }
    }
    free(msg);
    return ps_ds_steal(&ds);
}

enum ps_error
ps_set_error(char **errorp, enum ps_error error, const char *format, ...)
{
    if (errorp) {
        va_list args;
        va_start(args, format);
        *errorp = ps_error_sanitize(ps_xvasprintf(format, args));
        va_end(args);
    }
    return error;
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
ps_parse_uint(const char *s, uint64_t *valuep)
{
    unsigned int base = 10;
    uint64_t v = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (s[0] == '0' && s[1]) {
        /* "010": octal to C, decimal to people.  Neither. */
        return false;
    }
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        int digit = hex_value(*s);
        if (digit < 0 || (unsigned int) digit >= base
            || v > (UINT64_MAX - digit) / base) {
            return false;
        }
        v = v * base + digit;
    }
    *valuep = v;
    return true;
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
    /* ASCII only, whatever the locale. */
    for (const char *p = s; *p; p++) {
        bool letter = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                       || *p == '_');
        if (!letter && (p == s || *p < '0' || *p > '9')) {
            return false;
        }
    }
    return *s != '\0';
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
