/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Parser of the protocol definition language (docs/definition-language.md).
 * Reads one file's text into a 'struct ps_definitions' and checks
 * everything that can be checked within the file.  Errors are reported as
 * "file:line:col: message". */

#include <config.h>
#include "protocol.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

enum token_type {
    TOK_EOF,
    TOK_IDENT,
    TOK_INT,
    TOK_STRING,
    TOK_PUNCT,                  /* One character, or a pair of them as
                                 * its first character + 128. */
};

#define TOK_EQEQ ('=' + 128)
#define TOK_NE ('!' + 128)
#define TOK_ANDAND ('&' + 128)
#define TOK_OROR ('|' + 128)

struct token {
    enum token_type type;
    char *text;                 /* TOK_IDENT, TOK_STRING. */
    uint64_t value;             /* TOK_INT. */
    int punct;                  /* TOK_PUNCT. */
    int line, column;
};

struct parser {
    const char *file;
    const char *p;              /* Next character. */
    int line, column;
    struct token tok;           /* Current token. */
    char *error;                /* First error, or NULL. */
    enum ps_error code;
    int expr_depth;             /* Parentheses open in an expression. */
    size_t expr_nodes;          /* Nodes of the expression being read. */
};

/* Bounds on one expression, so that the recursive functions that parse,
 * print, evaluate and free expressions keep to a small stack. */
#define MAX_EXPR_DEPTH 32
#define MAX_EXPR_NODES 256

static void PS_PRINTF(4, 5)
parse_error_at(struct parser *pr, int line, int column,
               const char *format, ...)
{
    if (pr->error) {
        return;
    }
    va_list args;
    va_start(args, format);
    char *msg = ps_xvasprintf(format, args);
    va_end(args);
    pr->error = ps_error_sanitize(ps_xasprintf("%s:%d:%d: %s", pr->file,
                                               line, column, msg));
    pr->code = PS_ERR_SYNTAX;
    free(msg);
}

#define parse_error(PR, ...) \
    parse_error_at(PR, (PR)->tok.line, (PR)->tok.column, __VA_ARGS__)

static void
advance_char(struct parser *pr)
{
    if (*pr->p == '\n') {
        pr->line++;
        pr->column = 1;
    } else {
        pr->column++;
    }
    pr->p++;
}

static void
skip_space_and_comments(struct parser *pr)
{
    for (;;) {
        if (isspace((unsigned char) *pr->p)) {
            advance_char(pr);
        } else if (*pr->p == '#' || (pr->p[0] == '/' && pr->p[1] == '/')) {
            while (*pr->p && *pr->p != '\n') {
                advance_char(pr);
            }
        } else if (pr->p[0] == '/' && pr->p[1] == '*') {
            int line = pr->line, column = pr->column;
            advance_char(pr);
            advance_char(pr);
            while (*pr->p && !(pr->p[0] == '*' && pr->p[1] == '/')) {
                advance_char(pr);
            }
            if (!*pr->p) {
                parse_error_at(pr, line, column, "unterminated comment");
                return;
            }
            advance_char(pr);
            advance_char(pr);
        } else {
            return;
        }
    }
}

static void
token_clear(struct token *tok)
{
    free(tok->text);
    tok->text = NULL;
}

/* Reads the next token into pr->tok. */
static void
next_token(struct parser *pr)
{
    token_clear(&pr->tok);
    skip_space_and_comments(pr);

    struct token *tok = &pr->tok;
    tok->line = pr->line;
    tok->column = pr->column;
    tok->punct = 0;

    unsigned char c = *pr->p;
    if (pr->error || !c) {
        tok->type = TOK_EOF;
    } else if (isalpha(c) || c == '_') {
        const char *start = pr->p;
        while (isalnum((unsigned char) *pr->p) || *pr->p == '_') {
            advance_char(pr);
        }
        tok->type = TOK_IDENT;
        tok->text = ps_xmemdup0(start, pr->p - start);
    } else if (isdigit(c)) {
        const char *start = pr->p;
        while (isalnum((unsigned char) *pr->p)) {
            advance_char(pr);
        }
        char *text = ps_xmemdup0(start, pr->p - start);
        tok->type = TOK_INT;
        if (!ps_parse_uint(text, &tok->value)) {
            parse_error_at(pr, tok->line, tok->column,
                           "malformed or too large integer \"%s\"", text);
            tok->type = TOK_EOF;
        }
        free(text);
    } else if (c == '"') {
        struct ps_ds ds = PS_DS_INITIALIZER;
        advance_char(pr);
        while (*pr->p != '"') {
            if (!*pr->p || *pr->p == '\n') {
                parse_error_at(pr, tok->line, tok->column,
                               "unterminated string");
                ps_ds_destroy(&ds);
                tok->type = TOK_EOF;
                return;
            }
            if (*pr->p == '\\' && (pr->p[1] == '"' || pr->p[1] == '\\')) {
                advance_char(pr);
            }
            ps_ds_put_char(&ds, *pr->p);
            advance_char(pr);
        }
        advance_char(pr);
        tok->type = TOK_STRING;
        ps_ds_put_cstr(&ds, "");
        tok->text = ps_ds_steal(&ds);
    } else if (strchr("{}()<>[];,=.@+-*/!&|", c)) {
        tok->type = TOK_PUNCT;
        advance_char(pr);
        if ((c == '=' || c == '!') && *pr->p == '=') {
            advance_char(pr);
            tok->punct = c + 128;
        } else if ((c == '&' || c == '|') && *pr->p == c) {
            advance_char(pr);
            tok->punct = c + 128;
        } else {
            tok->punct = c;
        }
    } else {
        parse_error_at(pr, tok->line, tok->column,
                       isprint(c) ? "unexpected character '%c'"
                       : "unexpected character \\x%02x", c);
        tok->type = TOK_EOF;
    }
}

/* The text of punctuation 'c' (a TOK_PUNCT's 'punct'). */
static const char *
punct_text(int c, char buf[3])
{
    switch (c) {
    case TOK_EQEQ:
        return "==";
    case TOK_NE:
        return "!=";
    case TOK_ANDAND:
        return "&&";
    case TOK_OROR:
        return "||";
    default:
        buf[0] = c;
        buf[1] = '\0';
        return buf;
    }
}

static bool
is_punct(const struct parser *pr, int c)
{
    return pr->tok.type == TOK_PUNCT && pr->tok.punct == c;
}

static bool
is_keyword(const struct parser *pr, const char *kw)
{
    return pr->tok.type == TOK_IDENT && !strcmp(pr->tok.text, kw);
}

/* A token as an error message names it.  Returned by value, so that
 * threads parsing at once never share a buffer. */
struct token_text {
    char s[64];
};

static struct token_text
token_description(const struct token *tok)
{
    struct token_text t;

    switch (tok->type) {
    case TOK_EOF:
        snprintf(t.s, sizeof t.s, "end of file");
        break;
    case TOK_IDENT:
        snprintf(t.s, sizeof t.s, "\"%.40s\"", tok->text);
        break;
    case TOK_INT:
        snprintf(t.s, sizeof t.s, "a number");
        break;
    case TOK_STRING:
        snprintf(t.s, sizeof t.s, "a string");
        break;
    case TOK_PUNCT:
    default: {
        char buf[3];
        snprintf(t.s, sizeof t.s, "'%s'", punct_text(tok->punct, buf));
        break;
    }
    }
    return t;
}

static bool
expect_punct(struct parser *pr, int c)
{
    if (!is_punct(pr, c)) {
        char buf[3];
        parse_error(pr, "expected '%s', found %s", punct_text(c, buf),
                    token_description(&pr->tok).s);
        return false;
    }
    next_token(pr);
    return true;
}

/* Takes the text of the current token if it is of 'type' (an identifier
 * or a string); else NULL, with an error naming 'what'. */
static char *
take_text(struct parser *pr, enum token_type type, const char *what)
{
    if (pr->tok.type != type) {
        parse_error(pr, "expected %s, found %s", what,
                    token_description(&pr->tok).s);
        return NULL;
    }
    char *s = pr->tok.text;
    pr->tok.text = NULL;
    next_token(pr);
    return s;
}

static char *
take_ident(struct parser *pr, const char *what)
{
    return take_text(pr, TOK_IDENT, what);
}

static char *
take_string(struct parser *pr, const char *what)
{
    return take_text(pr, TOK_STRING, what);
}

static bool
take_int(struct parser *pr, const char *what, uint64_t *valuep)
{
    if (pr->tok.type != TOK_INT) {
        parse_error(pr, "expected %s, found %s", what,
                    token_description(&pr->tok).s);
        return false;
    }
    *valuep = pr->tok.value;
    next_token(pr);
    return true;
}

/* Expressions. */

void
ps_expr_destroy(struct ps_expr *e)
{
    if (e) {
        ps_expr_destroy(e->left);
        ps_expr_destroy(e->right);
        free(e->field);
        free(e);
    }
}

static struct ps_expr *parse_expr(struct parser *);

/* Allocates an expression node, or fails if the expression being read
 * has too many. */
static struct ps_expr *
new_expr_node(struct parser *pr)
{
    if (++pr->expr_nodes > MAX_EXPR_NODES) {
        parse_error(pr, "expression has more than %d terms and operators",
                    MAX_EXPR_NODES);
        return NULL;
    }
    return ps_xzalloc(sizeof(struct ps_expr));
}

static struct ps_expr *
parse_primary(struct parser *pr)
{
    if (is_punct(pr, '(')) {
        if (pr->expr_depth >= MAX_EXPR_DEPTH) {
            parse_error(pr, "expression nested more than %d parentheses "
                        "deep", MAX_EXPR_DEPTH);
            return NULL;
        }
        pr->expr_depth++;
        next_token(pr);
        struct ps_expr *e = parse_expr(pr);
        if (e && !expect_punct(pr, ')')) {
            ps_expr_destroy(e);
            e = NULL;
        }
        pr->expr_depth--;
        return e;
    }

    struct ps_expr *e = new_expr_node(pr);
    if (!e) {
        return NULL;
    }
    if (pr->tok.type == TOK_INT) {
        if (pr->tok.value > INT32_MAX) {
            parse_error(pr, "number too large in expression");
            free(e);
            return NULL;
        }
        e->op = PS_EXPR_NUM;
        e->num = pr->tok.value;
        next_token(pr);
    } else if (pr->tok.type == TOK_IDENT) {
        e->op = PS_EXPR_FIELD;
        e->field = take_ident(pr, "a field");
    } else {
        parse_error(pr, "expected a number, a field or '(', found %s",
                    token_description(&pr->tok).s);
        free(e);
        return NULL;
    }
    return e;
}

static struct ps_expr *
parse_binary(struct parser *pr, int level)
{
    struct ps_expr *left = (level ? parse_primary(pr)
                            : parse_binary(pr, 1));
    while (left) {
        enum ps_expr_op op;
        if (level == 0 && is_punct(pr, '+')) {
            op = PS_EXPR_ADD;
        } else if (level == 0 && is_punct(pr, '-')) {
            op = PS_EXPR_SUB;
        } else if (level == 1 && is_punct(pr, '*')) {
            op = PS_EXPR_MUL;
        } else if (level == 1 && is_punct(pr, '/')) {
            op = PS_EXPR_DIV;
        } else {
            break;
        }
        next_token(pr);
        struct ps_expr *right = (level ? parse_primary(pr)
                                 : parse_binary(pr, 1));
        if (!right) {
            ps_expr_destroy(left);
            return NULL;
        }
        struct ps_expr *e = new_expr_node(pr);
        if (!e) {
            ps_expr_destroy(left);
            ps_expr_destroy(right);
            return NULL;
        }
        e->op = op;
        e->left = left;
        e->right = right;
        left = e;
    }
    return left;
}

static struct ps_expr *
parse_expr(struct parser *pr)
{
    return parse_binary(pr, 0);
}

bool
ps_expr_apply(enum ps_expr_op op, int64_t l, int64_t r, int64_t *valuep)
{
    /* Operands come from fields of at most 64 bits and constants of at
     * most 31 bits; saturate rather than overflow. */
    if (l > INT32_MAX || l < -INT32_MAX || r > INT32_MAX || r < -INT32_MAX) {
        *valuep = INT32_MAX;
        return true;
    }
    switch (op) {
    case PS_EXPR_ADD:
        *valuep = l + r;
        return true;
    case PS_EXPR_SUB:
        *valuep = l - r;
        return true;
    case PS_EXPR_MUL:
        *valuep = l * r;
        return true;
    case PS_EXPR_DIV:
        if (!r) {
            return false;
        }
        *valuep = l / r;
        return true;
    case PS_EXPR_NUM:
    case PS_EXPR_FIELD:
    default:
        return false;
    }
}

bool
ps_expr_eval(const struct ps_expr *e,
             bool (*lookup)(const char *field, void *aux, int64_t *valuep),
             void *aux, int64_t *valuep)
{
    int64_t l, r;

    switch (e->op) {
    case PS_EXPR_NUM:
        *valuep = e->num;
        return true;
    case PS_EXPR_FIELD:
        return lookup(e->field, aux, valuep);
    case PS_EXPR_ADD:
    case PS_EXPR_SUB:
    case PS_EXPR_MUL:
    case PS_EXPR_DIV:
        return (ps_expr_eval(e->left, lookup, aux, &l)
                && ps_expr_eval(e->right, lookup, aux, &r)
                && ps_expr_apply(e->op, l, r, valuep));
    }
    return false;
}

static void
expr_to_string(const struct ps_expr *e, struct ps_ds *ds)
{
    static const char ops[] = { [PS_EXPR_ADD] = '+', [PS_EXPR_SUB] = '-',
                                [PS_EXPR_MUL] = '*', [PS_EXPR_DIV] = '/' };
    switch (e->op) {
    case PS_EXPR_NUM:
        ps_ds_put_format(ds, "%"PRId64, e->num);
        break;
    case PS_EXPR_FIELD:
        ps_ds_put_cstr(ds, e->field);
        break;
    default:
        ps_ds_put_char(ds, '(');
        expr_to_string(e->left, ds);
        ps_ds_put_format(ds, " %c ", ops[e->op]);
        expr_to_string(e->right, ds);
        ps_ds_put_char(ds, ')');
        break;
    }
}

/* Fields. */

size_t
ps_pfield_n_flags(const struct ps_pfield *f)
{
    return f->cond ? 1 + f->n_or_conds : 0;
}

const char *
ps_pfield_flag(const struct ps_pfield *f, size_t i)
{
    return i ? f->or_conds[i - 1] : f->cond;
}

bool
ps_pfield_has_flag(const struct ps_pfield *f, const char *name)
{
    for (size_t i = 0; i < ps_pfield_n_flags(f); i++) {
        if (!strcmp(ps_pfield_flag(f, i), name)) {
            return true;
        }
    }
    return false;
}

static void
pfield_destroy(struct ps_pfield *f)
{
    if (f) {
        free(f->name);
        free(f->doc);
        ps_expr_destroy(f->size_expr);
        free(f->cond);
        for (size_t i = 0; i < f->n_or_conds; i++) {
            free(f->or_conds[i]);
        }
        free(f->or_conds);
        free(f->rule_text);
        free(f->bytes);
        free(f);
    }
}

static bool
parse_span(struct parser *pr, enum ps_span *spanp)
{
    if (is_keyword(pr, "header")) {
        *spanp = PS_SPAN_HEADER;
    } else if (is_keyword(pr, "rest")) {
        *spanp = PS_SPAN_REST;
    } else if (is_keyword(pr, "payload")) {
        *spanp = PS_SPAN_PAYLOAD;
    } else {
        parse_error(pr, "expected a span (header, rest or payload), "
                    "found %s", token_description(&pr->tok).s);
        return false;
    }
    next_token(pr);
    return true;
}

static const char *
span_name(enum ps_span span)
{
    return (span == PS_SPAN_HEADER ? "header"
            : span == PS_SPAN_REST ? "rest" : "payload");
}

/* Parses a constant default written as a string, for an address or bytes
 * field. */
static bool
parse_const_bytes(struct parser *pr, struct ps_pfield *f, const char *text)
{
    size_t n = f->bits / 8;
    f->bytes = ps_xzalloc(n);
    bool ok;

    switch (f->type) {
    case PS_FIELD_MAC:
        ok = ps_mac_parse(text, (struct ps_mac *) f->bytes);
        break;
    case PS_FIELD_IP4: {
        uint32_t a;
        ok = ps_ip4_parse(text, &a);
        if (ok) {
            ps_bits_set(f->bytes, 0, 32, a);
        }
        break;
    }
    case PS_FIELD_IP6:
        ok = ps_ip6_parse(text, (struct ps_ip6 *) f->bytes);
        break;
    case PS_FIELD_BYTES:
        ok = f->bits && ps_parse_bytes(text, f->bytes, n);
        break;
    case PS_FIELD_UINT:
    default:
        ok = false;
        break;
    }
    if (!ok) {
        parse_error(pr, "\"%s\" is not a valid default for field %s",
                    text, f->name);
    }
    return ok;
}

static bool
parse_default(struct parser *pr, struct ps_pfield *f)
{
    struct ps_ds text = PS_DS_INITIALIZER;

    if (pr->tok.type == TOK_INT) {
        if (f->type != PS_FIELD_UINT) {
            parse_error(pr, "field %s needs a quoted default", f->name);
            return false;
        }
        f->rule = PS_RULE_CONST;
        f->value = pr->tok.value;
        if (f->bits < 64 && f->value >> f->bits) {
            parse_error(pr, "default %"PRIu64" does not fit in the %u bits "
                        "of field %s", f->value, f->bits, f->name);
            return false;
        }
        ps_ds_put_format(&text, "%"PRIu64, f->value);
        next_token(pr);
    } else if (pr->tok.type == TOK_STRING) {
        f->rule = PS_RULE_CONST;
        if (f->type == PS_FIELD_UINT || !f->bits) {
            parse_error(pr, "field %s cannot have a quoted default",
                        f->name);
            return false;
        }
        if (!parse_const_bytes(pr, f, pr->tok.text)) {
            return false;
        }
        ps_ds_put_format(&text, "\"%s\"", pr->tok.text);
        next_token(pr);
    } else if (is_keyword(pr, "next")) {
        f->rule = PS_RULE_NEXT;
        next_token(pr);
        ps_ds_put_cstr(&text, "next");
        if (is_punct(pr, '(')) {
            next_token(pr);
            if (!take_int(pr, "the value used when no binding applies",
                          &f->value) || !expect_punct(pr, ')')) {
                ps_ds_destroy(&text);
                return false;
            }
            ps_ds_put_format(&text, "(%"PRIu64")", f->value);
        }
    } else if (is_keyword(pr, "length") || is_keyword(pr, "checksum")) {
        bool is_length = is_keyword(pr, "length");
        f->rule = is_length ? PS_RULE_LENGTH : PS_RULE_CHECKSUM;
        f->unit = 1;
        next_token(pr);
        if (!expect_punct(pr, '(') || !parse_span(pr, &f->span)) {
            return false;
        }
        ps_ds_put_format(&text, "%s(%s", is_length ? "length" : "checksum",
                         span_name(f->span));
        while (is_punct(pr, ',')) {
            next_token(pr);
            if (is_length && (is_keyword(pr, "sub")
                              || is_keyword(pr, "unit"))) {
                bool is_sub = is_keyword(pr, "sub");
                uint64_t v;
                next_token(pr);
                if (!expect_punct(pr, '=') || !take_int(pr, "a number", &v)) {
                    ps_ds_destroy(&text);
                    return false;
                }
                if (is_sub) {
                    f->sub = v;
                } else if (!v) {
                    parse_error(pr, "unit must not be 0");
                    ps_ds_destroy(&text);
                    return false;
                } else {
                    f->unit = v;
                }
                ps_ds_put_format(&text, ", %s=%"PRIu64,
                                 is_sub ? "sub" : "unit", v);
            } else if (!is_length && is_keyword(pr, "pseudo")) {
                f->pseudo = true;
                ps_ds_put_cstr(&text, ", pseudo");
                next_token(pr);
            } else if (!is_length && is_keyword(pr, "nonzero")) {
                f->nonzero = true;
                ps_ds_put_cstr(&text, ", nonzero");
                next_token(pr);
            } else {
                parse_error(pr, "unknown %s option %s",
                            is_length ? "length" : "checksum",
                            token_description(&pr->tok).s);
                ps_ds_destroy(&text);
                return false;
            }
        }
        if (!expect_punct(pr, ')')) {
            ps_ds_destroy(&text);
            return false;
        }
        ps_ds_put_char(&text, ')');
        if (f->type != PS_FIELD_UINT) {
            parse_error_at(pr, f->pos.line, f->pos.column,
                           "field %s: %s needs an integer field", f->name,
                           is_length ? "length()" : "checksum()");
            ps_ds_destroy(&text);
            return false;
        }
        if (!is_length && f->bits != 16) {
            parse_error_at(pr, f->pos.line, f->pos.column,
                           "field %s: a checksum field must be bit<16>",
                           f->name);
            ps_ds_destroy(&text);
            return false;
        }
    } else {
        parse_error(pr, "expected a default value, next, length() or "
                    "checksum(), found %s", token_description(&pr->tok).s);
        return false;
    }
    if (f->rule == PS_RULE_NEXT && f->type != PS_FIELD_UINT) {
        parse_error_at(pr, f->pos.line, f->pos.column,
                       "field %s: next needs an integer field", f->name);
        ps_ds_destroy(&text);
        return false;
    }
    if (f->rule == PS_RULE_NEXT && f->bits < 64 && f->value >> f->bits) {
        parse_error_at(pr, f->pos.line, f->pos.column,
                       "field %s: fallback %"PRIu64" does not fit in %u "
                       "bits", f->name, f->value, f->bits);
        ps_ds_destroy(&text);
        return false;
    }
    f->rule_text = ps_ds_steal(&text);
    return true;
}

static bool
parse_annotation(struct parser *pr, struct ps_pfield *f)
{
    int line = pr->tok.line, column = pr->tok.column;
    next_token(pr);                     /* '@' */
    char *name = take_ident(pr, "an annotation name");
    if (!name) {
        return false;
    }

    bool ok = true;
    if (!strcmp(name, "hex")) {
        f->hex = true;
    } else if (!strcmp(name, "entropy")) {
        /* Entropy replaces the field's value per packet: a value that is
         * computed (a length, a checksum, the next header's number)
         * would be written twice, each tier in its own order. */
        if (f->type != PS_FIELD_UINT || f->rule != PS_RULE_CONST) {
            parse_error_at(pr, line, column,
                           "@entropy needs an integer field with a "
                           "constant default");
            ok = false;
        }
        f->entropy = true;
    } else if (!strcmp(name, "magic")) {
        if (f->type != PS_FIELD_UINT || f->rule != PS_RULE_CONST) {
            parse_error_at(pr, line, column, "@magic needs an integer field "
                           "with a constant default");
            ok = false;
        }
        f->magic = true;
    } else if (!strcmp(name, "size")) {
        uint64_t size;
        if (!expect_punct(pr, '(') || !take_int(pr, "a size in bytes", &size)
            || !expect_punct(pr, ')')) {
            ok = false;
        } else if (!f->size_expr) {
            parse_error_at(pr, line, column, "@size applies only to a "
                           "variable-length member");
            ok = false;
        } else if (size > 65535) {
            parse_error_at(pr, line, column, "@size(%"PRIu64") is too large",
                           size);
            ok = false;
        } else {
            f->default_size = size;
        }
    } else {
        parse_error_at(pr, line, column, "unknown annotation @%s", name);
        ok = false;
    }
    free(name);
    return ok;
}

/* Parses one field declaration, starting at its type. */
static struct ps_pfield *
parse_field(struct parser *pr)
{
    struct ps_pfield *f = ps_xzalloc(sizeof *f);
    f->pos.line = pr->tok.line;
    f->pos.column = pr->tok.column;
    f->pos.file = NULL;         /* The file name does not outlive parsing. */

    char *type = take_ident(pr, "a field type (bit, mac, ip4, ip6, bytes)");
    if (!type) {
        goto error;
    }
    uint64_t width = 0;
    bool sized = false;
    if (!strcmp(type, "bit") || !strcmp(type, "bytes")) {
        f->type = !strcmp(type, "bit") ? PS_FIELD_UINT : PS_FIELD_BYTES;
        if (is_punct(pr, '<')) {
            next_token(pr);
            if (!take_int(pr, "a width", &width) || !expect_punct(pr, '>')) {
                goto error;
            }
            sized = true;
        }
        if (f->type == PS_FIELD_UINT) {
            if (!sized || width < 1 || width > 64) {
                parse_error_at(pr, f->pos.line, f->pos.column,
                               "bit<N> needs a width from 1 to 64");
                goto error;
            }
            f->bits = width;
        } else if (sized) {
            if (width < 1 || width > 65535) {
                parse_error_at(pr, f->pos.line, f->pos.column,
                               "bytes<N> needs a size from 1 to 65535");
                goto error;
            }
            f->bits = width * 8;
        }
    } else if (!strcmp(type, "mac")) {
        f->type = PS_FIELD_MAC;
        f->bits = 48;
    } else if (!strcmp(type, "ip4")) {
        f->type = PS_FIELD_IP4;
        f->bits = 32;
    } else if (!strcmp(type, "ip6")) {
        f->type = PS_FIELD_IP6;
        f->bits = 128;
    } else {
        parse_error_at(pr, f->pos.line, f->pos.column,
                       "unknown field type \"%s\" (bit<N>, mac, ip4, ip6, "
                       "bytes<N>, bytes NAME[SIZE])", type);
        goto error;
    }

    f->name = take_ident(pr, "a field name");
    if (!f->name) {
        goto error;
    }
    if (is_punct(pr, '[')) {
        if (f->type != PS_FIELD_BYTES || sized) {
            parse_error(pr, "only \"bytes NAME[SIZE]\" may have a variable "
                        "size");
            goto error;
        }
        next_token(pr);
        pr->expr_depth = 0;
        pr->expr_nodes = 0;
        f->size_expr = parse_expr(pr);
        if (!f->size_expr || !expect_punct(pr, ']')) {
            goto error;
        }
    } else if (f->type == PS_FIELD_BYTES && !sized) {
        parse_error(pr, "bytes field %s needs a size: bytes<N> %s or "
                    "bytes %s[EXPR]", f->name, f->name, f->name);
        goto error;
    }
    if (is_keyword(pr, "if")) {
        next_token(pr);
        f->cond = take_ident(pr, "a flag field");
        if (!f->cond) {
            goto error;
        }
        size_t allocated = 0;
        while (is_punct(pr, TOK_OROR)) {
            next_token(pr);
            char *flag = take_ident(pr, "a flag field");
            if (!flag) {
                goto error;
            }
            *(char **) ps_array_push((void **) &f->or_conds, &f->n_or_conds,
                                     &allocated, sizeof *f->or_conds) = flag;
        }
    }
    if (is_punct(pr, '=')) {
        next_token(pr);
        if (!parse_default(pr, f)) {
            goto error;
        }
    } else {
        f->rule_text = ps_xstrdup("0");
    }
    while (is_punct(pr, '@')) {
        if (!parse_annotation(pr, f)) {
            goto error;
        }
    }
    f->doc = take_string(pr, "the field's description");
    if (!f->doc || !expect_punct(pr, ';')) {
        goto error;
    }
    if (f->size_expr) {
        struct ps_ds ds = PS_DS_INITIALIZER;
        expr_to_string(f->size_expr, &ds);
        free(f->rule_text);
        f->rule_text = ps_xasprintf("size %s", ps_ds_cstr(&ds));
        ps_ds_destroy(&ds);
    }
    free(type);
    return f;

error:
    free(type);
    pfield_destroy(f);
    return NULL;
}

/* Protocols. */

void
ps_protocol_destroy(struct ps_protocol *p)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; i < p->n_fields; i++) {
        pfield_destroy(p->fields[i]);
    }
    free(p->fields);
    for (size_t i = 0; i < p->n_variants; i++) {
        struct ps_variant *v = &p->variants[i];
        free(v->name);
        free(v->doc);
        free(v->when_field);
        free(v->fields);
    }
    free(p->variants);
    free(p->name);
    free(p->doc);
    free(p->file);
    free(p);
}

const struct ps_pfield *
ps_variant_find_field(const struct ps_variant *v, const char *name)
{
    for (size_t i = 0; i < v->n_fields; i++) {
        if (!strcmp(v->fields[i]->name, name)) {
            return v->fields[i];
        }
    }
    return NULL;
}

static void
variant_add_field(struct ps_variant *v, struct ps_pfield *f)
{
    v->fields = ps_xrealloc(v->fields, (v->n_fields + 1) * sizeof *v->fields);
    v->fields[v->n_fields++] = f;
}

struct expr_check {
    const struct ps_variant *v;
    size_t limit;               /* Fields before this index are usable. */
    const char *bad;            /* First field name that is not. */
};

static bool
expr_check_lookup(const char *name, void *aux_, int64_t *valuep)
{
    struct expr_check *aux = aux_;
    for (size_t i = 0; i < aux->limit; i++) {
        const struct ps_pfield *f = aux->v->fields[i];
        if (!strcmp(f->name, name) && f->type == PS_FIELD_UINT) {
            *valuep = 1;
            return true;
        }
    }
    aux->bad = name;
    return false;
}

/* True if 'name' is one of the options that a stack spec item takes
 * besides flags. */
static bool
is_spec_option(const char *name)
{
    return (!strcmp(name, "name") || !strcmp(name, "subtype")
            || !strcmp(name, "length"));
}

#define MAX_FLAGS 12

/* Checks that variant 'v' of 'p' lays out in whole bytes, with addresses,
 * byte strings and checksums on byte boundaries, whichever of its flags
 * are set: a packet may set any of them. */
static bool
check_alignment(struct parser *pr, const struct ps_protocol *p,
                const struct ps_variant *v)
{
    const char *flags[MAX_FLAGS];
    size_t n_flags = 0;

    for (size_t i = 0; i < v->n_fields; i++) {
        for (size_t k = 0; k < ps_pfield_n_flags(v->fields[i]); k++) {
            const char *cond = ps_pfield_flag(v->fields[i], k);
            size_t j = 0;
            while (j < n_flags && strcmp(flags[j], cond)) {
                j++;
            }
            if (j == n_flags) {
                if (n_flags == MAX_FLAGS) {
                    parse_error_at(pr, v->fields[i]->pos.line,
                                   v->fields[i]->pos.column,
                                   "%s has more than %d flag fields",
                                   p->name, MAX_FLAGS);
                    return false;
                }
                flags[n_flags++] = cond;
            }
        }
    }

    for (unsigned int set = 0; set < 1u << n_flags; set++) {
        size_t bit = 0;
        const struct ps_pfield *bad = NULL;
        for (size_t i = 0; i < v->n_fields; i++) {
            const struct ps_pfield *f = v->fields[i];
            bool present = !f->cond;
            for (size_t j = 0; j < n_flags; j++) {
                present |= ((set & (1u << j))
                            && ps_pfield_has_flag(f, flags[j]));
            }
            if (!present) {
                continue;
            }
            if ((f->type != PS_FIELD_UINT || f->rule == PS_RULE_CHECKSUM
                 || f->size_expr) && bit % 8) {
                bad = f;
                break;
            }
            bit += f->size_expr ? 8 * f->default_size : f->bits;
        }
        if (!bad && !(bit % 8)) {
            continue;
        }

        struct ps_ds with = PS_DS_INITIALIZER;
        for (size_t j = 0; j < n_flags; j++) {
            ps_ds_put_format(&with, "%s%s=%d", j ? ", " : " with ",
                             flags[j], (set >> j) & 1);
        }
        if (bad) {
            parse_error_at(pr, bad->pos.line, bad->pos.column,
                           "field %s of %s%s%s starts at bit %zu%s, not on "
                           "a byte boundary", bad->name, p->name,
                           v->when_field ? " subtype " : "",
                           v->when_field ? v->name : "", bit,
                           ps_ds_cstr(&with));
        } else {
            parse_error_at(pr, p->line, p->column,
                           "%s%s%s is %zu bits long%s, not a whole number "
                           "of bytes", p->name,
                           v->when_field ? " subtype " : "",
                           v->when_field ? v->name : "", bit,
                           ps_ds_cstr(&with));
        }
        pr->code = PS_ERR_LAYOUT;
        ps_ds_destroy(&with);
        return false;
    }
    return true;
}

/* Checks what can be checked of one layout. */
static bool
check_variant(struct parser *pr, const struct ps_protocol *p,
              const struct ps_variant *v)
{
    size_t n_var = 0;

    for (size_t i = 0; i < v->n_fields; i++) {
        const struct ps_pfield *f = v->fields[i];
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(v->fields[j]->name, f->name)) {
                parse_error_at(pr, f->pos.line, f->pos.column,
                               "duplicate field %s in %s%s%s", f->name,
                               p->name, v->when_field ? " subtype " : "",
                               v->when_field ? v->name : "");
                pr->code = PS_ERR_DUPLICATE;
                return false;
            }
        }
        for (size_t k = 0; k < ps_pfield_n_flags(f); k++) {
            const char *cond = ps_pfield_flag(f, k);
            const struct ps_pfield *flag = NULL;
            for (size_t j = 0; j < i; j++) {
                if (!strcmp(v->fields[j]->name, cond)) {
                    flag = v->fields[j];
                }
            }
            if (!flag || flag->type != PS_FIELD_UINT || flag->cond) {
                parse_error_at(pr, f->pos.line, f->pos.column,
                               "field %s depends on %s, which is not an "
                               "earlier unconditional integer field",
                               f->name, cond);
                return false;
            }
            if (is_spec_option(flag->name)) {
                /* A flag is set in a stack spec as {gre,key=1}. */
                parse_error_at(pr, flag->pos.line, flag->pos.column,
                               "flag field %s of %s has the name of a "
                               "stack spec option (name, subtype, "
                               "length): rename it", flag->name, p->name);
                return false;
            }
        }
        if (f->size_expr) {
            struct expr_check aux = { v, i, NULL };
            int64_t value;
            if (!ps_expr_eval(f->size_expr, expr_check_lookup, &aux, &value)
                && aux.bad) {
                parse_error_at(pr, f->pos.line, f->pos.column,
                               "size of %s uses %s, which is not an earlier "
                               "integer field", f->name, aux.bad);
                return false;
            }
            if (++n_var > 1) {
                parse_error_at(pr, f->pos.line, f->pos.column,
                               "%s has more than one variable-length "
                               "member", p->name);
                return false;
            }
        }
    }
    if (!check_alignment(pr, p, v)) {
        return false;
    }
    if (v->when_field) {
        const struct ps_pfield *f = ps_variant_find_field(v, v->when_field);
        if (!f || f->type != PS_FIELD_UINT || f->cond) {
            parse_error(pr, "subtype %s of %s: \"when\" names %s, which is "
                        "not an unconditional integer field of it", v->name,
                        p->name, v->when_field);
            return false;
        }
        if (f->bits < 64 && v->when_value >> f->bits) {
            parse_error(pr, "subtype %s of %s: %"PRIu64" does not fit in "
                        "field %s", v->name, p->name, v->when_value,
                        f->name);
            return false;
        }
    }
    return true;
}

static struct ps_protocol *
parse_protocol(struct parser *pr)
{
    struct ps_protocol *p = ps_xzalloc(sizeof *p);
    p->file = ps_xstrdup(pr->file);
    p->line = pr->tok.line;
    p->column = pr->tok.column;
    next_token(pr);                     /* "protocol" */

    p->name = take_ident(pr, "a protocol name");
    if (!p->name) {
        goto error;
    }
    p->doc = take_string(pr, "the protocol's description");
    if (!p->doc || !expect_punct(pr, '{')) {
        goto error;
    }

    /* variants[0] is "plain".  Its fields, and those of every variant, are
     * filled in declaration order: a plain field goes into every layout, a
     * variant's field only into its own. */
    p->variants = ps_xzalloc(sizeof *p->variants);
    p->n_variants = 1;
    p->variants[0].name = ps_xstrdup("plain");
    p->variants[0].doc = ps_xstrdup(p->doc);

    while (!is_punct(pr, '}') && !pr->error) {
        if (pr->tok.type == TOK_EOF) {
            parse_error(pr, "expected '}' to close protocol %s", p->name);
            goto error;
        }
        if (is_keyword(pr, "variant")) {
            next_token(pr);
            struct ps_variant v = { .name = take_ident(pr, "a subtype name") };
            if (!v.name) {
                goto error;
            }
            for (size_t i = 0; i < p->n_variants; i++) {
                if (!strcmp(p->variants[i].name, v.name)) {
                    parse_error(pr, "duplicate subtype %s", v.name);
                    pr->code = PS_ERR_DUPLICATE;
                    free(v.name);
                    goto error;
                }
            }
            /* A variant starts with all plain fields declared so far. */
            v.fields = ps_xmalloc(p->variants[0].n_fields * sizeof *v.fields
                                  + 1);
            if (p->variants[0].n_fields) {
                memcpy(v.fields, p->variants[0].fields,
                       p->variants[0].n_fields * sizeof *v.fields);
            }
            v.n_fields = p->variants[0].n_fields;
            p->variants = ps_xrealloc(p->variants,
                                      (p->n_variants + 1)
                                      * sizeof *p->variants);
            struct ps_variant *vp = &p->variants[p->n_variants++];
            *vp = v;
            if (!is_keyword(pr, "when")) {
                parse_error(pr, "expected \"when FIELD == VALUE\" after "
                            "subtype %s", vp->name);
                goto error;
            }
            next_token(pr);
            vp->when_field = take_ident(pr, "a field");
            if (!vp->when_field || !expect_punct(pr, TOK_EQEQ)
                || !take_int(pr, "a value", &vp->when_value)) {
                goto error;
            }
            if (is_punct(pr, '@')) {
                next_token(pr);
                if (!is_keyword(pr, "unparsed")) {
                    parse_error(pr, "unknown subtype annotation %s "
                                "(expected @unparsed)",
                                token_description(&pr->tok).s);
                    goto error;
                }
                next_token(pr);
                vp->unparsed = true;
            }
            vp->doc = take_string(pr, "the subtype's description");
            if (!vp->doc || !expect_punct(pr, '{')) {
                goto error;
            }
            while (!is_punct(pr, '}')) {
                if (pr->tok.type == TOK_EOF) {
                    parse_error(pr, "expected '}' to close subtype %s",
                                vp->name);
                    goto error;
                }
                struct ps_pfield *f = parse_field(pr);
                if (!f) {
                    goto error;
                }
                p->fields = ps_xrealloc(p->fields, (p->n_fields + 1)
                                        * sizeof *p->fields);
                p->fields[p->n_fields++] = f;
                variant_add_field(&p->variants[p->n_variants - 1], f);
            }
            next_token(pr);
        } else {
            struct ps_pfield *f = parse_field(pr);
            if (!f) {
                goto error;
            }
            p->fields = ps_xrealloc(p->fields,
                                    (p->n_fields + 1) * sizeof *p->fields);
            p->fields[p->n_fields++] = f;
            for (size_t i = 0; i < p->n_variants; i++) {
                variant_add_field(&p->variants[i], f);
            }
        }
    }
    if (pr->error) {
        goto error;
    }
    next_token(pr);                     /* '}' */
    if (is_punct(pr, ';')) {
        next_token(pr);
    }
    if (!p->variants[0].n_fields) {
        parse_error(pr, "protocol %s has no fields", p->name);
        goto error;
    }
    for (size_t i = 0; i < p->n_variants; i++) {
        if (!check_variant(pr, p, &p->variants[i])) {
            goto error;
        }
    }
    return p;

error:
    ps_protocol_destroy(p);
    return NULL;
}

/* Other statements. */

void
ps_binding_clear(struct ps_binding *b)
{
    free(b->upper);
    free(b->lower);
    free(b->field);
    for (size_t i = 0; i < b->n_conds; i++) {
        free(b->conds[i].field);
    }
    free(b->conds);
    free(b->file);
}

void
ps_pseudo_decl_clear(struct ps_pseudo_decl *d)
{
    for (size_t i = 0; i < d->n_items; i++) {
        free(d->items[i].field);
        free(d->items[i].route);
    }
    free(d->items);
    free(d->protocol);
    free(d->file);
}

static bool
parse_bind(struct parser *pr, struct ps_definitions *defs)
{
    struct ps_binding *b = ps_array_push((void **) &defs->bindings,
                                         &defs->n_bindings,
                                         &defs->allocated_bindings,
                                         sizeof *b);
    b->file = ps_xstrdup(pr->file);
    b->pos.file = b->file;
    b->pos.line = pr->tok.line;
    b->pos.column = pr->tok.column;
    next_token(pr);                     /* "bind" */

    b->upper = take_ident(pr, "the upper protocol");
    if (!b->upper) {
        return false;
    }
    if (!is_keyword(pr, "after")) {
        parse_error(pr, "expected \"after\", found %s",
                    token_description(&pr->tok).s);
        return false;
    }
    next_token(pr);
    b->lower = take_ident(pr, "the lower protocol");
    if (!b->lower) {
        return false;
    }
    if (is_punct(pr, '.')) {
        next_token(pr);
        b->field = take_ident(pr, "a field of the lower protocol");
        if (!b->field || !expect_punct(pr, TOK_EQEQ)
            || !take_int(pr, "a value", &b->value)) {
            return false;
        }
    }
    size_t allocated = 0;
    while (is_punct(pr, TOK_ANDAND)) {
        next_token(pr);
        struct ps_binding_cond *c;
        c = ps_array_push((void **) &b->conds, &b->n_conds, &allocated,
                          sizeof *c);
        int line = pr->tok.line, column = pr->tok.column;
        char *proto = take_ident(pr, "the lower or upper protocol");
        if (!proto) {
            return false;
        }
        c->upper = !strcmp(proto, b->upper) && strcmp(proto, b->lower);
        if (!c->upper && strcmp(proto, b->lower)) {
            parse_error_at(pr, line, column, "condition on %s in a binding "
                           "of %s after %s: a condition names a field of "
                           "one of the two", proto, b->upper, b->lower);
            free(proto);
            return false;
        }
        free(proto);
        if (!expect_punct(pr, '.')) {
            return false;
        }
        c->field = take_ident(pr, "a field");
        if (!c->field) {
            return false;
        }
        if (is_punct(pr, TOK_NE)) {
            c->not_equal = true;
            next_token(pr);
        } else if (!expect_punct(pr, TOK_EQEQ)) {
            return false;
        }
        if (!take_int(pr, "a value", &c->value)) {
            return false;
        }
    }
    return expect_punct(pr, ';');
}

/* Parses "or route(FIELD, TYPE[, TYPE...])" after a pseudo-header field:
 * the last address of a source route option in FIELD takes the field's
 * place. */
static bool
parse_pseudo_route(struct parser *pr, struct ps_pseudo_decl_item *item)
{
    next_token(pr);                     /* "or" */
    int line = pr->tok.line, column = pr->tok.column;
    if (!is_keyword(pr, "route")) {
        parse_error(pr, "expected route(FIELD, TYPE...) after \"or\"");
        return false;
    }
    next_token(pr);
    if (!expect_punct(pr, '(')) {
        return false;
    }
    item->route = take_ident(pr, "the options field of the route");
    if (!item->route) {
        return false;
    }
    size_t n = 0;
    while (is_punct(pr, ',')) {
        uint64_t type;
        next_token(pr);
        if (!take_int(pr, "an option type", &type)) {
            return false;
        }
        if (type < 2 || type > 255 || n == 4) {
            parse_error_at(pr, line, column, "route(): up to 4 option "
                           "types from 2 to 255");
            return false;
        }
        item->route_types |= (uint32_t) type << (8 * n++);
    }
    if (!n) {
        parse_error_at(pr, line, column, "route(): no option type");
        return false;
    }
    return expect_punct(pr, ')');
}

static bool
parse_pseudo(struct parser *pr, struct ps_definitions *defs)
{
    struct ps_pseudo_decl *d = ps_array_push((void **) &defs->pseudos,
                                             &defs->n_pseudos,
                                             &defs->allocated_pseudos,
                                             sizeof *d);
    d->file = ps_xstrdup(pr->file);
    d->pos.file = d->file;
    d->pos.line = pr->tok.line;
    d->pos.column = pr->tok.column;
    next_token(pr);                     /* "pseudo_header" */

    d->protocol = take_ident(pr, "a protocol name");
    if (!d->protocol || !expect_punct(pr, '{')) {
        return false;
    }
    size_t allocated = 0;
    while (!is_punct(pr, '}')) {
        int line = pr->tok.line, column = pr->tok.column;
        char *name = take_ident(pr, "a field, zero(N), proto(N) or "
                                "length(N)");
        if (!name) {
            return false;
        }
        struct ps_pseudo_decl_item *item;
        item = ps_array_push((void **) &d->items, &d->n_items, &allocated,
                             sizeof *item);
        if (is_punct(pr, '(')) {
            uint64_t bits;
            next_token(pr);
            if (!take_int(pr, "a width in bits", &bits)
                || !expect_punct(pr, ')')) {
                free(name);
                return false;
            }
            if (!strcmp(name, "zero")) {
                item->kind = PS_PDECL_ZERO;
            } else if (!strcmp(name, "proto")) {
                item->kind = PS_PDECL_PROTO;
            } else if (!strcmp(name, "length")) {
                item->kind = PS_PDECL_LENGTH;
            } else {
                parse_error_at(pr, line, column, "unknown pseudo-header "
                               "item %s()", name);
                free(name);
                return false;
            }
            free(name);
            if (!bits || bits > 64 || bits % 8
                || (item->kind != PS_PDECL_ZERO && bits > 32)) {
                parse_error_at(pr, line, column, "bad width %"PRIu64" in "
                               "pseudo-header", bits);
                return false;
            }
            item->bits = bits;
        } else {
            item->kind = PS_PDECL_FIELD;
            item->field = name;
            item->bits = 0;
            if (is_keyword(pr, "or") && !parse_pseudo_route(pr, item)) {
                return false;
            }
        }
        if (!expect_punct(pr, ';')) {
            return false;
        }
    }
    next_token(pr);
    if (is_punct(pr, ';')) {
        next_token(pr);
    }
    return true;
}

void
ps_definitions_clear(struct ps_definitions *defs)
{
    for (size_t i = 0; i < defs->n_protocols; i++) {
        ps_protocol_destroy(defs->protocols[i]);
    }
    free(defs->protocols);
    for (size_t i = 0; i < defs->n_bindings; i++) {
        ps_binding_clear(&defs->bindings[i]);
    }
    free(defs->bindings);
    for (size_t i = 0; i < defs->n_pseudos; i++) {
        ps_pseudo_decl_clear(&defs->pseudos[i]);
    }
    free(defs->pseudos);
    memset(defs, 0, sizeof *defs);
}

enum ps_error
ps_definitions_parse(const char *name, const char *text,
                     struct ps_definitions *defs, char **errorp)
{
    struct parser pr = {
        .file = name,
        .p = text,
        .line = 1,
        .column = 1,
    };

    memset(defs, 0, sizeof *defs);
    next_token(&pr);
    while (pr.tok.type != TOK_EOF && !pr.error) {
        if (is_keyword(&pr, "protocol")) {
            if (defs->n_protocols) {
                parse_error(&pr, "second protocol in one file (%s is "
                            "already defined here)",
                            defs->protocols[0]->name);
                pr.code = PS_ERR_DUPLICATE;
                break;
            }
            struct ps_protocol *p = parse_protocol(&pr);
            if (p) {
                struct ps_protocol **slot;
                slot = ps_array_push((void **) &defs->protocols,
                                     &defs->n_protocols,
                                     &defs->allocated_protocols,
                                     sizeof *slot);
                *slot = p;
            }
        } else if (is_keyword(&pr, "bind")) {
            parse_bind(&pr, defs);
        } else if (is_keyword(&pr, "pseudo_header")) {
            parse_pseudo(&pr, defs);
        } else {
            parse_error(&pr, "expected protocol, bind or pseudo_header, "
                        "found %s", token_description(&pr.tok).s);
        }
    }
    token_clear(&pr.tok);
    if (pr.error) {
        ps_definitions_clear(defs);
        if (errorp) {
            *errorp = pr.error;
        } else {
            free(pr.error);
        }
        return pr.code;
    }
    return PS_OK;
}
