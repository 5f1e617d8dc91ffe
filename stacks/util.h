/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef STACKS_UTIL_H
#define STACKS_UTIL_H 1

/* Small helpers shared by the engine: allocation that never returns NULL,
 * a growable string, and error messages. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include "protostack/bits.h"
#include "protostack/protostack.h"

#define PS_PRINTF(FMT, ARG) __attribute__((__format__(printf, FMT, ARG)))
#define PS_ARRAY_SIZE(A) (sizeof (A) / sizeof (A)[0])

/* Casts away const, for a field that caches what a const object
 * computes on demand (as OvS's CONST_CAST). */
#define CONST_CAST(TYPE, POINTER) ((TYPE) (uintptr_t) (POINTER))

void *ps_xmalloc(size_t);
void *ps_xzalloc(size_t);
void *ps_xrealloc(void *, size_t);
char *ps_xstrdup(const char *);
char *ps_xmemdup0(const char *, size_t);
char *ps_xasprintf(const char *format, ...) PS_PRINTF(1, 2);
char *ps_xvasprintf(const char *format, va_list) PS_PRINTF(1, 0);

/* Grows '*arrayp' (of '*n' elements of 'size' bytes, '*allocated'
 * allocated) so that one more element fits, and returns a pointer to the
 * new, zeroed element. */
void *ps_array_push(void **arrayp, size_t *n, size_t *allocated,
                    size_t size);

/* A growable null-terminated string. */
struct ps_ds {
    char *s;
    size_t len;
    size_t allocated;
};

#define PS_DS_INITIALIZER { NULL, 0, 0 }

void ps_ds_put_cstr(struct ps_ds *, const char *);
void ps_ds_put_char(struct ps_ds *, char);
void ps_ds_put_format(struct ps_ds *, const char *, ...) PS_PRINTF(2, 3);
void ps_ds_put_vformat(struct ps_ds *, const char *, va_list)
    PS_PRINTF(2, 0);
const char *ps_ds_cstr(struct ps_ds *);
char *ps_ds_steal(struct ps_ds *);
void ps_ds_destroy(struct ps_ds *);

/* Stores a message made from 'format' in '*errorp' (if 'errorp' is
 * non-null) and returns 'error'.  The message goes through
 * ps_error_sanitize(). */
enum ps_error ps_set_error(char **errorp, enum ps_error error,
                           const char *format, ...) PS_PRINTF(3, 4);

/* Makes error message 'msg' (malloc()'d, consumed) safe to print on one
 * line: quoted text ("...") is cut after 80 bytes with "...", control
 * and non-ASCII bytes are escaped (\n, \x01), and the whole is cut after
 * about 1 KB.  Returns the new message. */
char *ps_error_sanitize(char *msg);

/* Parses an unsigned integer that fills all of 's': decimal without
 * leading zeros, or "0x" (once) and hexadecimal digits.  Returns false on
 * any other text ("0x0x5", "010", "+5", " 5") or on overflow. */
bool ps_parse_uint(const char *s, uint64_t *valuep);

/* Parses exactly 'n' bytes written as "0x0102..." or "01:02:...". */
bool ps_parse_bytes(const char *s, uint8_t *out, size_t n);

/* True if 's' is a C identifier. */
bool ps_is_identifier(const char *s);

#endif /* stacks/util.h */
