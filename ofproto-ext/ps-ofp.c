/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "ps-ofp.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "dp-packet.h"
#include "flow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "ovs-thread.h"
#include "protostack/protostack.h"
#include "sset.h"
#include "util.h"

/* The process's registry.  ps_registry_stack() is not safe against
 * concurrent calls, so every use goes through 'ps_mutex'. */
static struct ovs_mutex ps_mutex = OVS_MUTEX_INITIALIZER;
static struct ps_registry *ps_registry OVS_GUARDED_BY(ps_mutex);
static char *ps_registry_error OVS_GUARDED_BY(ps_mutex);

static char *
ps_registry_init__(void)
    OVS_REQUIRES(ps_mutex)
{
    if (!ps_registry && !ps_registry_error) {
        struct ps_registry *registry = ps_registry_create();
        char *error = NULL;

        if (ps_registry_load_default(registry, &error)) {
            const char *dir = ps_registry_default_dir();
            ps_registry_error = xasprintf("protostack: cannot load the "
                                          "protocols from %s: %s",
                                          dir ? dir : "the library",
                                          error ? error : "unknown error");
        } else {
            /* $PROTOSTACK_LOAD: more protocol files or directories,
             * separated by colons. */
            const char *extra = getenv("PROTOSTACK_LOAD");
            char *copy = xstrdup(extra ? extra : "");
            char *save_ptr = NULL;

            for (char *path = strtok_r(copy, ":", &save_ptr); path;
                 path = strtok_r(NULL, ":", &save_ptr)) {
                if (ps_registry_load_file(registry, path, &error)
                    && ps_registry_load_dir(registry, path, NULL)) {
                    ps_registry_error = xasprintf(
                        "protostack: $PROTOSTACK_LOAD: %s",
                        error ? error : path);
                    break;
                }
                free(error);
                error = NULL;
            }
            free(copy);
        }
        free(error);
        if (ps_registry_error) {
            ps_registry_destroy(registry);
        } else {
            ps_registry = registry;
        }
    }
    return ps_registry_error ? xstrdup(ps_registry_error) : NULL;
}

char *
ps_ovs_registry_init(void)
{
    char *error;

    ovs_mutex_lock(&ps_mutex);
    error = ps_registry_init__();
    ovs_mutex_unlock(&ps_mutex);
    return error;
}

char *
ps_ovs_load(const char *path)
{
    char *error;

    ovs_mutex_lock(&ps_mutex);
    error = ps_registry_init__();
    if (!error) {
        char *ps_error = NULL;

        if (ps_registry_load_file(ps_registry, path, &ps_error)) {
            error = ps_error ? ps_error : xasprintf("%s: cannot load", path);
        }
    }
    ovs_mutex_unlock(&ps_mutex);
    return error;
}

/* Returns 's' without leading and trailing white space, malloc()'d. */
static char *
ps_strip(const char *s, size_t n)
{
    while (n && isspace((unsigned char) *s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char) s[n - 1])) {
        n--;
    }
    return xmemdup0(s, n);
}

/* Canonical labels "LABEL=VALUE,..." of 'stack' from 'labels', in
 * '*canonicalp'. */
static char *
ps_canonical_labels(const struct ps_stack *stack, const char *labels,
                    char **canonicalp)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    struct sset seen = SSET_INITIALIZER(&seen);
    char *copy = xstrdup(labels);
    char *save_ptr = NULL;
    char *error = NULL;

    for (char *item = strtok_r(copy, ",", &save_ptr); item;
         item = strtok_r(NULL, ",", &save_ptr)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            error = xasprintf("%s: label without `=VALUE'", item);
            break;
        }
        char *label = ps_strip(item, eq - item);
        char *value = ps_strip(eq + 1, strlen(eq + 1));
        char *canonical;

        if (!sset_add(&seen, label)) {
            error = xasprintf("%s: label given twice", label);
        } else {
            error = ps_ovs_check_field(stack, label, value, &canonical);
        }
        if (!error) {
            ds_put_format(&out, "%s%s=%s", out.length ? "," : "", label,
                          canonical);
            free(canonical);
        }
        free(label);
        free(value);
        if (error) {
            break;
        }
    }
    free(copy);
    sset_destroy(&seen);
    if (error) {
        ds_destroy(&out);
        return error;
    }
    *canonicalp = ds_steal_cstr(&out);
    return NULL;
}

char *
ps_ovs_check_stack(const char *spec, const char *labels, bool allow_labels,
                   const struct ps_stack **stackp, char **canonical_specp,
                   char **canonical_labelsp)
{
    const struct ps_stack *stack = NULL;
    char *error;

    ovs_mutex_lock(&ps_mutex);
    error = ps_registry_init__();
    if (!error) {
        char *ps_error = NULL;

        if (ps_registry_stack(ps_registry, spec, &stack, &ps_error)) {
            error = (ps_error ? xstrdup(ps_error)
                     : xasprintf("%s: bad stack", spec));
        }
        free(ps_error);
    }
    ovs_mutex_unlock(&ps_mutex);
    if (error) {
        return error;
    }

    if (ps_stack_size(stack) > PS_OVS_MAX_STACK_SIZE) {
        return xasprintf("%s: %"PRIuSIZE" bytes of headers, more than the "
                         "datapath's limit of %d", ps_stack_spec(stack),
                         ps_stack_size(stack), PS_OVS_MAX_STACK_SIZE);
    }
    if (labels[0] && !allow_labels) {
        return xasprintf("%s: labels are not allowed here", labels);
    }

    char *canonical_labels;
    error = ps_canonical_labels(stack, labels, &canonical_labels);
    if (error) {
        return error;
    }
    *stackp = stack;
    *canonical_specp = xstrdup(ps_stack_spec(stack));
    *canonical_labelsp = canonical_labels;
    return NULL;
}

char *
ps_ovs_parse_stack(const char *arg, bool allow_labels,
                   const struct ps_stack **stackp, char **specp,
                   char **labelsp)
{
    /* The spec's items are protocols or {...}; the labels start at the
     * first item outside braces that holds a '='. */
    const char *labels = NULL;
    const char *item = arg;
    int depth = 0;

    for (const char *p = arg; ; p++) {
        if (*p == '{') {
            depth++;
        } else if (*p == '}') {
            depth--;
        } else if (*p == '=' && !depth) {
            labels = item;
            break;
        } else if ((*p == ',' && !depth) || !*p) {
            if (!*p) {
                break;
            }
            item = p + 1;
        }
    }

    size_t spec_len = labels ? labels - arg : strlen(arg);
    while (spec_len && (isspace((unsigned char) arg[spec_len - 1])
                        || arg[spec_len - 1] == ',')) {
        spec_len--;
    }
    if (!spec_len) {
        return xasprintf("%s%smissing the stack (e.g. eth,ip4,udp,vxlan)",
                         arg, arg[0] ? ": " : "");
    }

    char *spec = ps_strip(arg, spec_len);
    char *error = ps_ovs_check_stack(spec, labels ? labels : "",
                                     allow_labels, stackp, specp, labelsp);
    free(spec);
    return error;
}

char *
ps_ovs_check_field(const struct ps_stack *stack, const char *label,
                   const char *value, char **canonicalp)
{
    size_t field;
    char *ps_error = NULL;
    char *error = NULL;

    if (ps_stack_find_field(stack, label, &field, &ps_error)) {
        error = (ps_error ? ps_error
                 : xasprintf("%s: no such field in %s", label,
                             ps_stack_spec(stack)));
        return error;
    }

    /* Checks and canonicalises the value by writing it into a copy of the
     * template and reading it back. */
    size_t size = ps_stack_size(stack);
    uint8_t *pkt = xmemdup(ps_stack_template(stack), size);
    if (ps_stack_set_text(stack, pkt, label, value, &ps_error)) {
        error = (ps_error ? ps_error
                 : xasprintf("%s=%s: bad value", label, value));
    } else {
        size_t buf_size = 3 * size + 64;
        char *buf = xmalloc(buf_size);

        if (ps_stack_get_text(stack, pkt, field, buf, buf_size)) {
            error = xasprintf("%s: cannot format its value", label);
            free(buf);
        } else {
            *canonicalp = buf;
        }
    }
    free(pkt);
    return error;
}

bool
ps_ovs_parse_pushed(const struct ps_stack *stack, const char *labels,
                    struct flow *flow, uint16_t offsets[3])
{
    const struct ps_header_info *first = ps_stack_header(stack, 0);
    size_t size = ps_stack_size(stack);
    uint8_t *buf = xmalloc(size);
    char *ps_error = NULL;
    bool ok = false;

    if (first && !strcmp(first->protocol, "eth")
        && !ps_stack_fill(stack, buf, size, labels, &ps_error)) {
        struct dp_packet packet;

        dp_packet_use_const(&packet, buf, size);
        packet.packet_type = htonl(PT_ETH);
        flow_extract(&packet, flow);
        if (offsets) {
            offsets[0] = packet.l2_5_ofs;
            offsets[1] = packet.l3_ofs;
            offsets[2] = packet.l4_ofs;
        }
        ok = true;
    }
    free(ps_error);
    free(buf);
    return ok;
}

const struct ofpact_ps_stack *
ps_ovs_pushed_stack(const struct ofpact *ofpacts, size_t len)
{
    const struct ofpact_ps_stack *pushed = NULL;
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, ofpacts, len) {
        if (a->type == OFPACT_PUSH_STACK) {
            pushed = ofpact_get_PUSH_STACK(a);
        } else if (a->type == OFPACT_POP_STACK) {
            pushed = NULL;
        }
    }
    return pushed;
}

bool
ps_ovs_is_label(const char *name)
{
    return strchr(name, '.') != NULL;
}

char *
ps_ovs_payload_labels(const struct ps_stack *stack, const char *payload)
{
    size_t n_headers = ps_stack_n_headers(stack);
    if (!n_headers) {
        return NULL;
    }

    /* The stack with the payload's protocol after it: the bindings give
     * its last header's "next" fields their values. */
    char *spec = xasprintf("%s,{%s,name=ps_payload}", ps_stack_spec(stack),
                           payload);
    const struct ps_stack *longer = NULL;
    char *ps_error = NULL;

    ovs_mutex_lock(&ps_mutex);
    char *error = ps_registry_init__();
    if (!error && ps_registry_stack(ps_registry, spec, &longer, &ps_error)) {
        longer = NULL;
    }
    ovs_mutex_unlock(&ps_mutex);
    free(error);
    free(ps_error);
    free(spec);
    if (!longer) {
        return NULL;
    }

    struct ds labels = DS_EMPTY_INITIALIZER;
    const uint8_t *template = ps_stack_template(longer);
    size_t n_fields = ps_stack_n_fields(stack);
    for (size_t i = 0; i < n_fields; i++) {
        const struct ps_field_info *f = ps_stack_field(stack, i);
        size_t field;

        if (f->header + 1 == n_headers && f->rule == PS_RULE_NEXT
            && f->type == PS_FIELD_UINT
            && !ps_stack_find_field(longer, f->label, &field, NULL)) {
            char text[64];

            if (ps_stack_get_uint(longer, template, field)
                && !ps_stack_get_text(longer, template, field, text,
                                      sizeof text)) {
                ds_put_format(&labels, "%s%s=%s", labels.length ? "," : "",
                              f->label, text);
            }
        }
    }
    if (!labels.length) {
        ds_destroy(&labels);
        return NULL;
    }
    return ds_steal_cstr(&labels);
}
