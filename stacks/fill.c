/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Filling packets from a compiled stack: labels, typed setters and
 * getters, and the interpreter of the fix-up plan (lengths, checksums,
 * entropy).  The generated static code and the JIT follow the same plan
 * and must give the same bytes. */

#include <config.h>
#include "stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

static const struct ps_field_info *
field_info(const struct ps_stack *stack, size_t field)
{
    return &stack->fields[field].info;
}

static enum ps_error
parse_value(const struct ps_stack *stack, size_t field, const char *text,
            struct ps_label_value *pv, char **errorp)
{
    const struct ps_field_info *fi = field_info(stack, field);
    size_t n = fi->bits / 8;

    pv->field = field;
    pv->bytes = NULL;
    switch (fi->type) {
    case PS_FIELD_UINT:
        if (!ps_parse_uint(text, &pv->uint)) {
            return ps_set_error(errorp, PS_ERR_RANGE,
                                "%s=%s: not an unsigned integer", fi->label,
                                text);
        }
        if (fi->bits < 64 && pv->uint >> fi->bits) {
            return ps_set_error(errorp, PS_ERR_RANGE,
                                "%s=%s: out of range for a %zu-bit field "
                                "(maximum %"PRIu64")", fi->label, text,
                                fi->bits, (UINT64_C(1) << fi->bits) - 1);
        }
        return PS_OK;

    case PS_FIELD_MAC:
        pv->bytes = ps_xmalloc(n);
        if (!ps_mac_parse(text, (struct ps_mac *) pv->bytes)) {
            free(pv->bytes);
            pv->bytes = NULL;
            return ps_set_error(errorp, PS_ERR_ADDRESS,
                                "%s=%s: not a MAC address "
                                "(xx:xx:xx:xx:xx:xx)", fi->label, text);
        }
        return PS_OK;

    case PS_FIELD_IP4: {
        uint32_t addr;
        if (!ps_ip4_parse(text, &addr)) {
            return ps_set_error(errorp, PS_ERR_ADDRESS,
                                "%s=%s: not an IPv4 address", fi->label,
                                text);
        }
        pv->bytes = ps_xmalloc(4);
        ps_store_be32(pv->bytes, addr);
        return PS_OK;
    }

    case PS_FIELD_IP6:
        pv->bytes = ps_xmalloc(n);
        if (!ps_ip6_parse(text, (struct ps_ip6 *) pv->bytes)) {
            free(pv->bytes);
            pv->bytes = NULL;
            return ps_set_error(errorp, PS_ERR_ADDRESS,
                                "%s=%s: not an IPv6 address", fi->label,
                                text);
        }
        return PS_OK;

    case PS_FIELD_BYTES:
        pv->bytes = ps_xmalloc(n ? n : 1);
        if (!ps_parse_bytes(text, pv->bytes, n)) {
            free(pv->bytes);
            pv->bytes = NULL;
            return ps_set_error(errorp, PS_ERR_ADDRESS,
                                "%s=%s: not %zu bytes written as 0x... or "
                                "xx:xx:...", fi->label, text, n);
        }
        return PS_OK;
    }
    return PS_ERR_TYPE;
}

void
ps_stack_write_label(const struct ps_stack *stack, uint8_t *pkt,
                     const struct ps_label_value *pv)
{
    const struct ps_field_info *fi = field_info(stack, pv->field);
    if (fi->type == PS_FIELD_UINT) {
        ps_bits_set(pkt, fi->bit_offset, fi->bits, pv->uint);
    } else {
        memcpy(pkt + fi->bit_offset / 8, pv->bytes, fi->bits / 8);
    }
}

enum ps_error
ps_stack_parse_labels(const struct ps_stack *stack, const char *labels,
             struct ps_label_value **valuesp, size_t *n_valuesp,
             char **errorp)
{
    struct ps_label_value *values = NULL;
    size_t n_values = 0, allocated = 0;
    enum ps_error error = PS_OK;

    *valuesp = NULL;
    *n_valuesp = 0;
    if (!labels) {
        return PS_OK;
    }
    const char *p = labels;
    size_t index = 0;
    while (*p && !error) {
        size_t len = strcspn(p, ",");
        char *item = ps_xmemdup0(p, len);
        char *start = item + strspn(item, " \t");
        char *end = start + strlen(start);
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            *--end = '\0';
        }
        index++;
        if (*start) {
            char *eq = strchr(start, '=');
            if (!eq) {
                error = ps_set_error(errorp, PS_ERR_SYNTAX,
                                     "label %zu (\"%s\"): expected "
                                     "HEADER.FIELD=VALUE", index, start);
            } else {
                char *name_end = eq;
                while (name_end > start && name_end[-1] == ' ') {
                    name_end--;
                }
                *name_end = '\0';
                const char *value = eq + 1 + strspn(eq + 1, " \t");
                size_t field;
                error = ps_stack_find_field(stack, start, &field, errorp);
                for (size_t i = 0; !error && i < n_values; i++) {
                    if (values[i].field == field) {
                        error = ps_set_error(errorp, PS_ERR_DUPLICATE,
                                             "label %s is given twice",
                                             start);
                    }
                }
                if (!error) {
                    struct ps_label_value *pv;
                    pv = ps_array_push((void **) &values, &n_values,
                                       &allocated, sizeof *pv);
                    error = parse_value(stack, field, value, pv, errorp);
                }
            }
        }
        free(item);
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    if (error) {
        ps_label_values_free(values, n_values);
        return error;
    }
    *valuesp = values;
    *n_valuesp = n_values;
    return PS_OK;
}

/* Checks that a packet of 'pkt_len' bytes fits 'stack': no shorter than
 * its headers, and no longer than each length field that is computed
 * (not given in 'values') can express. */
static enum ps_error
check_length(const struct ps_stack *stack, size_t pkt_len,
             const struct ps_label_value *values, size_t n_values,
             char **errorp)
{
    if (pkt_len < stack->size) {
        return ps_set_error(errorp, PS_ERR_SHORT,
                            "packet of %zu bytes is shorter than the %zu "
                            "bytes of stack %s", pkt_len, stack->size,
                            stack->spec);
    }
    if (pkt_len <= stack->max_len) {
        return PS_OK;
    }
    for (size_t i = 0; i < stack->n_lengths; i++) {
        const struct ps_length_fixup *l = &stack->lengths[i];
        size_t max = ps_length_fixup_max(stack, l);
        if (pkt_len > max
            && !ps_label_values_has(values, n_values, l->field)) {
            const struct ps_field_info *fi = &stack->fields[l->field].info;
            return ps_set_error(errorp, PS_ERR_RANGE,
                                "packet of %zu bytes is too long for %s "
                                "(%zu bits): at most %zu bytes", pkt_len,
                                fi->label, fi->bits, max);
        }
    }
    return PS_OK;
}

bool
ps_label_values_has(const struct ps_label_value *values, size_t n,
                    size_t field)
{
    for (size_t i = 0; i < n; i++) {
        if (values[i].field == field) {
            return true;
        }
    }
    return false;
}


enum ps_error
ps_stack_fill(const struct ps_stack *stack, uint8_t *pkt, size_t pkt_len,
              const char *labels, char **errorp)
{
    struct ps_label_value *values;
    size_t n_values;

    /* A short buffer first, as every function that takes 'pkt_len'; the
     * upper bound depends on which lengths the labels give. */
    enum ps_error error = (pkt_len < stack->size
                           ? check_length(stack, pkt_len, NULL, 0, errorp)
                           : ps_stack_parse_labels(stack, labels, &values,
                                                   &n_values, errorp));
    if (error) {
        return error;
    }
    error = check_length(stack, pkt_len, values, n_values, errorp);
    if (error) {
        ps_label_values_free(values, n_values);
        return error;
    }

    memcpy(pkt, stack->template, stack->size);
    for (size_t i = 0; i < n_values; i++) {
        ps_stack_write_label(stack, pkt, &values[i]);
    }
    for (size_t i = 0; i < stack->n_lengths; i++) {
        if (!ps_label_values_has(values, n_values, stack->lengths[i].field)) {
            ps_stack_apply_length(stack, pkt, &stack->lengths[i], pkt_len);
        }
    }
    for (size_t i = 0; i < stack->n_checksums; i++) {
        if (!ps_label_values_has(values, n_values,
                                 stack->checksums[i].field)) {
            ps_stack_apply_checksum(stack, pkt, pkt_len, &stack->checksums[i]);
        }
    }
    ps_label_values_free(values, n_values);
    return PS_OK;
}

void
ps_label_values_free(struct ps_label_value *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(values[i].bytes);
    }
    free(values);
}

enum ps_error
ps_stack_set_text(const struct ps_stack *stack, uint8_t *pkt,
                  const char *label, const char *value, char **errorp)
{
    size_t field;
    struct ps_label_value pv;

    enum ps_error error = ps_stack_find_field(stack, label, &field, errorp);
    if (!error) {
        error = parse_value(stack, field, value, &pv, errorp);
    }
    if (!error) {
        ps_stack_write_label(stack, pkt, &pv);
        free(pv.bytes);
    }
    return error;
}

static void
format_hex_bytes(const uint8_t *p, size_t n, char *buf, size_t size)
{
    if (size < 3) {
        if (size) {
            buf[0] = '\0';
        }
        return;
    }
    size_t pos = snprintf(buf, size, "0x");
    for (size_t i = 0; i < n && pos + 3 <= size; i++) {
        pos += snprintf(buf + pos, size - pos, "%02x", p[i]);
    }
}

enum ps_error
ps_stack_get_text(const struct ps_stack *stack, const uint8_t *pkt,
                  size_t field, char *buf, size_t size)
{
    if (field >= stack->n_fields) {
        return PS_ERR_NO_FIELD;
    }
    const struct ps_field_info *fi = field_info(stack, field);
    const uint8_t *p = pkt + fi->bit_offset / 8;
    char tmp[PS_IP6_STRLEN];

    switch (fi->type) {
    case PS_FIELD_UINT: {
        uint64_t v = ps_bits_get(pkt, fi->bit_offset, fi->bits);
        snprintf(buf, size, fi->hex ? "0x%"PRIx64 : "%"PRIu64, v);
        break;
    }
    case PS_FIELD_MAC:
        snprintf(buf, size, "%s",
                 ps_mac_format((const struct ps_mac *) p, tmp));
        break;
    case PS_FIELD_IP4:
        snprintf(buf, size, "%s", ps_ip4_format(ps_load_be32(p), tmp));
        break;
    case PS_FIELD_IP6: {
        struct ps_ip6 a;
        memcpy(&a, p, sizeof a);
        snprintf(buf, size, "%s", ps_ip6_format(&a, tmp));
        break;
    }
    case PS_FIELD_BYTES:
        if (!fi->bits) {
            snprintf(buf, size, "%s", "");
        } else {
            format_hex_bytes(p, fi->bits / 8, buf, size);
        }
        break;
    }
    return PS_OK;
}

/* Typed setters and getters. */

static enum ps_error
check_field(const struct ps_stack *stack, size_t field,
            enum ps_field_type type)
{
    if (field >= stack->n_fields) {
        return PS_ERR_NO_FIELD;
    }
    return field_info(stack, field)->type == type ? PS_OK : PS_ERR_TYPE;
}

enum ps_error
ps_stack_set_uint(const struct ps_stack *stack, uint8_t *pkt, size_t field,
                  uint64_t value)
{
    enum ps_error error = check_field(stack, field, PS_FIELD_UINT);
    if (error) {
        return error;
    }
    const struct ps_field_info *fi = field_info(stack, field);
    if (fi->bits < 64 && value >> fi->bits) {
        return PS_ERR_RANGE;
    }
    ps_bits_set(pkt, fi->bit_offset, fi->bits, value);
    return PS_OK;
}

enum ps_error
ps_stack_set_mac(const struct ps_stack *stack, uint8_t *pkt, size_t field,
                 const struct ps_mac *mac)
{
    enum ps_error error = check_field(stack, field, PS_FIELD_MAC);
    if (!error) {
        memcpy(pkt + field_info(stack, field)->bit_offset / 8, mac->b, 6);
    }
    return error;
}

enum ps_error
ps_stack_set_ip4(const struct ps_stack *stack, uint8_t *pkt, size_t field,
                 uint32_t addr)
{
    enum ps_error error = check_field(stack, field, PS_FIELD_IP4);
    if (!error) {
        ps_store_be32(pkt + field_info(stack, field)->bit_offset / 8, addr);
    }
    return error;
}

enum ps_error
ps_stack_set_ip6(const struct ps_stack *stack, uint8_t *pkt, size_t field,
                 const struct ps_ip6 *addr)
{
    enum ps_error error = check_field(stack, field, PS_FIELD_IP6);
    if (!error) {
        memcpy(pkt + field_info(stack, field)->bit_offset / 8, addr->b, 16);
    }
    return error;
}

enum ps_error
ps_stack_set_bytes(const struct ps_stack *stack, uint8_t *pkt, size_t field,
                   const void *data, size_t n)
{
    enum ps_error error = check_field(stack, field, PS_FIELD_BYTES);
    if (error) {
        return error;
    }
    const struct ps_field_info *fi = field_info(stack, field);
    if (n != fi->bits / 8) {
        return PS_ERR_RANGE;
    }
    memcpy(pkt + fi->bit_offset / 8, data, n);
    return PS_OK;
}

uint64_t
ps_stack_get_uint(const struct ps_stack *stack, const uint8_t *pkt,
                  size_t field)
{
    if (field >= stack->n_fields) {
        return 0;
    }
    const struct ps_field_info *fi = field_info(stack, field);
    return fi->bits <= 64 ? ps_bits_get(pkt, fi->bit_offset, fi->bits) : 0;
}

void
ps_stack_get_mac(const struct ps_stack *stack, const uint8_t *pkt,
                 size_t field, struct ps_mac *mac)
{
    memset(mac, 0, sizeof *mac);
    if (!check_field(stack, field, PS_FIELD_MAC)) {
        memcpy(mac->b, pkt + field_info(stack, field)->bit_offset / 8, 6);
    }
}

void
ps_stack_get_ip6(const struct ps_stack *stack, const uint8_t *pkt,
                 size_t field, struct ps_ip6 *addr)
{
    memset(addr, 0, sizeof *addr);
    if (!check_field(stack, field, PS_FIELD_IP6)) {
        memcpy(addr->b, pkt + field_info(stack, field)->bit_offset / 8, 16);
    }
}

/* The fix-up plan, interpreted. */

void
ps_stack_apply_length(const struct ps_stack *stack, uint8_t *pkt,
                      const struct ps_length_fixup *l, size_t pkt_len)
{
    const struct ps_field_info *fi = field_info(stack, l->field);
    size_t span = pkt_len - l->start;
    uint64_t value = span >= l->sub ? (span - l->sub) / l->unit : 0;
    ps_bits_set(pkt, fi->bit_offset, fi->bits, value);
}

enum ps_error
ps_stack_set_length(const struct ps_stack *stack, uint8_t *pkt,
                    size_t pkt_len)
{
    enum ps_error error = check_length(stack, pkt_len, NULL, 0, NULL);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < stack->n_lengths; i++) {
        ps_stack_apply_length(stack, pkt, &stack->lengths[i], pkt_len);
    }
    return PS_OK;
}

uint64_t
ps_checksum_add_pseudo(uint64_t sum, const uint8_t *pkt,
                       const struct ps_checksum_fixup *c, size_t span_len)
{
    /* Each item is summed alone and moved to its place by its 'shift'
     * (see pseudo_place_items() in stack.c); the constant ones are
     * summed already. */
    sum += c->pseudo_sum;
    for (size_t i = 0; i < c->n_summed; i++) {
        const struct ps_pseudo_item *pi = &c->summed[i];
        uint64_t v;

        switch (pi->kind) {
        case PS_PSEUDO_BYTES: {
            const uint8_t *at = pkt + pi->offset;
            if (pi->route_types) {
                at = ps_route_last(pkt + pi->route_offset, pi->route_len,
                                   pi->route_types, pi->bits / 8, at);
            }
            if (!pi->shift) {
                sum = ps_csum_add(sum, at, pi->bits / 8);
                continue;
            }
            v = ps_csum_add(0, at, pi->bits / 8);
            break;
        }
        case PS_PSEUDO_PROTO:
            v = ps_bits_get(pkt, pi->offset, pi->proto_bits) & pi->mask;
            break;
        case PS_PSEUDO_LENGTH:
            v = span_len & pi->mask;
            break;
        case PS_PSEUDO_ZERO:
        case PS_PSEUDO_CONST:
        default:
            continue;
        }
        sum += ((v >> 32) + (v & 0xffffffff)) << pi->shift;
    }
    return sum;
}

/* ps_csum_add() of the 'len' bytes at 'p', at least 8, which start at an
 * even place of a checksum's span, as a sum that ps_csum_finish() folds
 * to the same checksum.  16 bytes a step as words in the machine's byte
 * order, added with their carries: a one's complement sum of 16-bit words
 * is the same in either byte order but for a swap of its two bytes (RFC
 * 1071, section 2(B)), and is zero only if every byte is.  The last 7
 * bytes or fewer go to ps_csum_add(). */
uint64_t
ps_csum_add_long(uint64_t sum, const uint8_t *p, size_t len)
{
    uint64_t s0 = 0, s1 = 0, c0 = 0, c1 = 0;

    for (; len >= 16; p += 16, len -= 16) {
        uint64_t a, b;
        memcpy(&a, p, sizeof a);
        memcpy(&b, p + 8, sizeof b);
        s0 += a;
        c0 += s0 < a;
        s1 += b;
        c1 += s1 < b;
    }
    if (len >= 8) {
        uint64_t a;
        memcpy(&a, p, sizeof a);
        s0 += a;
        c0 += s0 < a;
        p += 8;
        len -= 8;
    }

    /* Folded to 16 bits, end-around carries included (2^64, 2^32 and 2^16
     * are all 1 modulo 0xffff). */
    uint64_t x = s0 + s1;
    x += x < s1;
    uint64_t c = c0 + c1;
    x += c;
    x += x < c;
    x = (x & 0xffffffff) + (x >> 32);
    x = (x & 0xffffffff) + (x >> 32);
    x = (x & 0xffff) + (x >> 16);
    x = (x & 0xffff) + (x >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    x = PS_BSWAP16((uint16_t) x);
#endif
    return ps_csum_add(sum + x, p, len);
}

void
ps_stack_apply_checksum(const struct ps_stack *stack, uint8_t *pkt,
                        size_t pkt_len, const struct ps_checksum_fixup *c)
{
    const struct ps_field_info *fi = field_info(stack, c->field);
    uint8_t *field = pkt + fi->bit_offset / 8;
    size_t end = c->end ? c->end : pkt_len;
    size_t span_len = end - c->start;

    field[0] = field[1] = 0;
    uint64_t sum = ps_csum_add_span(0, pkt + c->start, span_len);
    if (c->n_pseudo) {
        sum = ps_checksum_add_pseudo(sum, pkt, c, span_len);
    }
    uint16_t csum = ps_csum_finish(sum);
    if (!csum && c->nonzero) {
        csum = 0xffff;
    }
    ps_store_be16(field, csum);
}

enum ps_error
ps_stack_fix_checksums(const struct ps_stack *stack, uint8_t *pkt,
                       size_t pkt_len)
{
    enum ps_error error = check_length(stack, pkt_len, NULL, 0, NULL);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < stack->n_checksums; i++) {
        ps_stack_apply_checksum(stack, pkt, pkt_len, &stack->checksums[i]);
    }
    return PS_OK;
}

enum ps_error
ps_stack_fix_checksum(const struct ps_stack *stack, uint8_t *pkt,
                      size_t pkt_len, size_t header)
{
    enum ps_error error = check_length(stack, pkt_len, NULL, 0, NULL);
    if (error) {
        return error;
    }
    if (header >= stack->n_headers) {
        return PS_ERR_ABSENT;
    }
    for (size_t i = 0; i < stack->n_checksums; i++) {
        if (stack->checksums[i].header == header) {
            ps_stack_apply_checksum(stack, pkt, pkt_len, &stack->checksums[i]);
        }
    }
    return PS_OK;
}

void
ps_stack_set_entropy(const struct ps_stack *stack, uint8_t *pkt,
                     uint32_t hash)
{
    if (stack->entropy_field >= 0) {
        const struct ps_field_info *fi = field_info(stack,
                                                    stack->entropy_field);
        uint64_t port = (((uint64_t) hash * (PS_ENTROPY_MAX - PS_ENTROPY_MIN))
                         >> 32) + PS_ENTROPY_MIN;
        ps_bits_set(pkt, fi->bit_offset, fi->bits, port);
    }
}
