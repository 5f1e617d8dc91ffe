/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "ps-dp.h"

#include <errno.h>
#include <string.h>
#include "cmap.h"
#include "coverage.h"
#include "dp-packet.h"
#include "dpif.h"
#include "flow.h"
#include "hash.h"
#include "netlink.h"
#include "odp-netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "protostack/protostack.h"
#include "ps-ofp.h"
#include "sset.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(protostack);

COVERAGE_DEFINE(protostack_push);
COVERAGE_DEFINE(protostack_pop);
COVERAGE_DEFINE(protostack_pop_miss);
COVERAGE_DEFINE(protostack_drop_headroom);
COVERAGE_DEFINE(protostack_drop_length);
COVERAGE_DEFINE(protostack_headroom_copy);
COVERAGE_DEFINE(protostack_drop_error);
COVERAGE_DEFINE(protostack_set);
COVERAGE_DEFINE(protostack_set_miss);
COVERAGE_DEFINE(protostack_hash_ip);
COVERAGE_DEFINE(protostack_hash_other);
COVERAGE_DEFINE(protostack_hash_flow);

/* A binding field that pop_stack compares with the packet. */
struct ps_dp_check {
    size_t field;
    uint64_t value;
};

/* One distinct datapath action, compiled.  Entries are never freed: they
 * are as many as the distinct actions the switch ever translated (and
 * those that protostack/set-tier retired), and an action made in this
 * process may carry, instead of its text form, a pointer to its entry,
 * whose key then gives the text. */
struct ps_dp_entry {
    /* What a batch needs, first: with traffic spread over many flows,
     * each batch's entry is a cache miss. */
    uint32_t hash;              /* Hash of the action's text form. */
    int type;                   /* OVS_ACTION_ATTR_PUSH_STACK, _POP_,
                                 * _SET_. */
    unsigned int flags;         /* PS_DP_*. */
    size_t size;                /* Bytes of headers. */
    struct ps_encap *encap;     /* push_stack only. */
    size_t max_len;             /* The stack's ps_stack_max_length(). */
    uint32_t id;                /* Index of its counters. */

    struct cmap_node node;      /* In 'ps_dp_entries'. */
    size_t key_len;
    const struct ps_stack *stack;
    struct ps_dp_check *checks; /* pop_stack only. */
    size_t n_checks;
    long long int compile_ns;   /* Time ps_encap_create() took. */

    /* push_stack: where OvS's parser finds the headers of the packet once
     * pushed, so that OvS's set actions after it find them too. */
    bool has_offsets;
    uint16_t l2_5_ofs, l3_ofs, l4_ofs;

    /* set_stack: the bits that its labels write ('mask') and their values,
     * over bytes [lo, hi) of the stack; with fix_length, the headers whose
     * checksums to compute, in order, and whether to write the entropy. */
    uint8_t *mask;
    uint8_t *value;
    size_t lo, hi;
    size_t *csum_headers;
    size_t n_csum_headers;
    bool entropy;

    size_t n_flows;             /* Datapath flows that use it, as the
                                 * main thread last counted them. */
    struct ovs_list retired_node; /* In 'ps_dp_retired', once retired. */

    uint8_t key[];              /* The action's text form. */
};

static struct cmap ps_dp_entries = CMAP_INITIALIZER;
static struct ovs_mutex ps_dp_mutex = OVS_MUTEX_INITIALIZER;

/* The entries that protostack/set-tier removed from 'ps_dp_entries'.  Their
 * compiled forms are freed, their keys kept for the actions that point to
 * them. */
static struct ovs_list ps_dp_retired OVS_GUARDED_BY(ps_dp_mutex)
    = OVS_LIST_INITIALIZER(&ps_dp_retired);

/* The id of the next entry compiled.  Ids are never reused, so that the
 * entries compiled after protostack/set-tier count from zero. */
static uint32_t ps_dp_next_id OVS_GUARDED_BY(ps_dp_mutex);

/* Counters.  Each thread that executes actions counts the packets of
 * every entry in an array of its own, indexed by the entry's id, and the
 * counters of an entry are the sums over the threads' arrays: counting a
 * batch then writes no line that another thread writes, nor the entry
 * (with traffic spread over many flows, the entry is a cache miss).  Only
 * its thread writes an array; protostack/show reads them all. */
struct ps_dp_counter {
    atomic_ullong n_packets;    /* Packets pushed, set or popped. */
    atomic_ullong n_missed;     /* Drops (push), misses (set, pop). */
};

struct ps_dp_counter_array {
    size_t n;
    struct ps_dp_counter counters[];
};

/* One thread's counters, in 'ps_dp_threads'.  Never freed: the packets
 * that a thread counted still count after it exits. */
struct ps_dp_thread {
    struct ovs_list node;
    OVSRCU_TYPE(struct ps_dp_counter_array *) array;
};

static struct ovs_mutex ps_dp_threads_mutex = OVS_MUTEX_INITIALIZER;
static struct ovs_list ps_dp_threads OVS_GUARDED_BY(ps_dp_threads_mutex)
    = OVS_LIST_INITIALIZER(&ps_dp_threads);
DEFINE_STATIC_PER_THREAD_DATA(struct ps_dp_thread *, ps_dp_thread, NULL);

/* Incremented whenever entries are removed from 'ps_dp_entries'
 * (protostack/set-tier): references of older generations are stale. */
static atomic_uint ps_dp_generation = 0;

/* Whether this process runs a datapath (ps_dp_init() was called): only
 * then does ps_dp_put_action() compile the actions it writes. */
static atomic_bool ps_dp_running = false;

/* A datapath action's payload starts with a reference to its compiled
 * entry, written by ps_dp_put_action() in this process, with what a batch
 * needs of the entry: for push_stack, its JIT function and a copy of its
 * data (ps_encap_jit_data(), 'data_len' bytes, padded to 8) follow the
 * reference.  Hashing the action's text and comparing it in
 * 'ps_dp_entries' for every batch costs about as much as the
 * encapsulation of a packet, and with traffic spread over many flows a
 * batch is often a single packet, whose entry, and the encapsulation's
 * data, are cache misses: with the reference and the copy, push_stack
 * reads only the action, as OvS's native tunnel push does.  The reference
 * is used only while 'generation' is current (protostack/set-tier retires
 * every entry); otherwise the text is looked up.
 *
 * The text form (the key: flags, spec and labels) follows only when
 * 'entry' is null: the action was made where no datapath runs (test-odp,
 * say), or its entry could not be compiled.  Otherwise the entry's key is
 * the text: the entry is never freed, and an action of this process is
 * never read by another.  Leaving the text out keeps the action about as
 * long as OvS's native tunnel push: the 150 bytes or so of a VXLAN
 * stack's text, before the output action that follows, cost about 18 ns
 * a packet with traffic spread over 1,000 flows (docs/benchmarks.md). */
struct ps_dp_ref {
    ps_encap_fn *fn;            /* push_stack with fix_length: the JIT
                                 * function, or NULL while the interpreter
                                 * runs (then the entry's encap does). */
    struct ps_dp_entry *entry;
    uint32_t generation;
    uint32_t id;                /* The entry's id. */
    uint32_t max_len;           /* The stack's ps_stack_max_length(). */
    uint16_t size;              /* Bytes of headers. */
    uint16_t data_len;          /* Bytes of JIT data that follow. */
    uint16_t l2_5_ofs, l3_ofs, l4_ofs;
    uint8_t flags;              /* PS_DP_* and PS_DP_REF_OFFSETS. */
};

/* In a reference's 'flags': the entry has offsets ('has_offsets'). */
#define PS_DP_REF_OFFSETS 0x80
BUILD_ASSERT_DECL(!(PS_DP_FIX_LENGTH & PS_DP_REF_OFFSETS));

/* The reference and the JIT data are what a batch reads of the action:
 * kept small, so that with traffic spread over many flows (each batch of
 * one flow a cache miss) they take as few cache lines as OvS's native
 * tunnel push does. */
BUILD_ASSERT_DECL(sizeof(struct ps_dp_ref) == 40);

/* The bytes of the payload before the key, for 'data_len' bytes of
 * data. */
static size_t
ps_dp_ref_len(size_t data_len)
{
    return sizeof(struct ps_dp_ref) + ROUND_UP(data_len, 8);
}

/* The tier that new entries compile for (protostack/set-tier). */
static atomic_int ps_dp_tier = PS_TIER_AUTO;
static struct vlog_rate_limit ps_dp_rl = VLOG_RATE_LIMIT_INIT(5, 5);

static struct ps_dp_entry *ps_dp_get(int type, const uint8_t *key,
                                     size_t len);

/* Text form. */

static const char *
ps_dp_action_name(int type)
{
    return (type == OVS_ACTION_ATTR_PUSH_STACK ? "push_stack"
            : type == OVS_ACTION_ATTR_SET_STACK ? "set_stack"
            : "pop_stack");
}

/* The text form of datapath action 'a', in 'data' and 'len': the one the
 * payload carries, or that of the entry it refers to (false if the payload
 * is too short for the reference and its data, or has neither). */
static bool
ps_dp_key(const struct nlattr *a, const uint8_t **data, size_t *len)
{
    const uint8_t *payload = nl_attr_get(a);
    size_t size = nl_attr_get_size(a);
    struct ps_dp_ref ref;

    if (size < sizeof ref) {
        return false;
    }
    memcpy(&ref, payload, sizeof ref);
    if (ref.data_len > size || ps_dp_ref_len(ref.data_len) > size) {
        return false;
    }
    if (ref.entry) {
        if (size != ps_dp_ref_len(ref.data_len)) {
            return false;
        }
        *data = ref.entry->key;
        *len = ref.entry->key_len;
    } else {
        *data = payload + ps_dp_ref_len(ref.data_len);
        *len = size - ps_dp_ref_len(ref.data_len);
    }
    return true;
}

static bool
ps_dp_split(const uint8_t *key, size_t len, unsigned int *flags,
            const char **spec, const char **labels)
{
    const char *data = (const char *) key;

    if (len < 3 || data[len - 1]) {
        return false;
    }
    const char *end = memchr(data + 1, '\0', len - 1);
    if (!end || end + 1 >= data + len) {
        return false;
    }
    if (memchr(end + 1, '\0', data + len - (end + 1)) != data + len - 1) {
        return false;
    }
    *flags = (uint8_t) data[0];
    *spec = data + 1;
    *labels = end + 1;
    return true;
}

/* Fills 'ref' with what a batch needs of entry 'e'.  Returns false if
 * 'e' does not fit in a reference (a stack or data over 64 kB, which the
 * switch's own flows never have): its actions then go by the text. */
static bool
ps_dp_ref_init(struct ps_dp_ref *ref, struct ps_dp_entry *e)
{
    size_t data_len = e->encap ? ps_encap_jit_data_size(e->encap) : 0;

    memset(ref, 0, sizeof *ref);
    if (e->size > UINT16_MAX || data_len > UINT16_MAX - 8) {
        return false;
    }
    ref->entry = e;
    ref->id = e->id;
    ref->size = e->size;
    ref->max_len = MIN(e->max_len, UINT32_MAX);
    ref->flags = e->flags | (e->has_offsets ? PS_DP_REF_OFFSETS : 0);
    ref->l2_5_ofs = e->l2_5_ofs;
    ref->l3_ofs = e->l3_ofs;
    ref->l4_ofs = e->l4_ofs;
    ref->data_len = data_len;
    if (e->encap && e->flags & PS_DP_FIX_LENGTH) {
        ref->fn = ps_encap_jit_function(e->encap);
    }
    return true;
}

void
ps_dp_put_action(struct ofpbuf *odp, int type, unsigned int flags,
                 const char *spec, const char *labels)
{
    size_t spec_len = strlen(spec);
    size_t labels_len = strlen(labels);
    size_t len = 1 + spec_len + 1 + labels_len + 1;
    uint8_t *key = xmalloc(len);
    struct ps_dp_ref ref;
    bool running;

    key[0] = flags;
    memcpy(key + 1, spec, spec_len + 1);
    memcpy(key + 1 + spec_len + 1, labels, labels_len + 1);

    memset(&ref, 0, sizeof ref);
    atomic_read_relaxed(&ps_dp_running, &running);
    if (running) {
        uint32_t generation;
        struct ps_dp_entry *e;

        atomic_read_explicit(&ps_dp_generation, &generation,
                             memory_order_acquire);
        e = ps_dp_get(type, key, len);
        if (e && ps_dp_ref_init(&ref, e)) {
            ref.generation = generation;
        }
    }

    /* The text follows only when there is no entry to give it. */
    size_t ref_len = ps_dp_ref_len(ref.data_len);
    size_t key_len = ref.entry ? 0 : len;
    uint8_t *p = nl_msg_put_unspec_zero(odp, type, ref_len + key_len);
    memcpy(p, &ref, sizeof ref);
    if (ref.data_len) {
        memcpy(p + sizeof ref, ps_encap_jit_data(ref.entry->encap),
               ref.data_len);
    }
    memcpy(p + ref_len, key, key_len);
    free(key);
}

/* Formats the text form 'key' of 'len' bytes of an action of 'type'
 * (or NULL for a payload too short to have one). */
static void
ps_dp_format_key(struct ds *s, int type, const uint8_t *key, size_t len)
{
    const char *name = ps_dp_action_name(type);
    const char *spec, *labels;
    unsigned int flags;

    if (!key || !ps_dp_split(key, len, &flags, &spec, &labels)) {
        ds_put_format(s, "%s(<malformed>)", name);
        return;
    }
    ds_put_format(s, "%s(%s", name, spec);
    if (labels[0]) {
        ds_put_format(s, ",%s", labels);
    }
    if (flags & PS_DP_FIX_LENGTH) {
        ds_put_cstr(s, ",fix_length");
    }
    ds_put_char(s, ')');
}

void
ps_dp_format_action(struct ds *s, const struct nlattr *a)
{
    const uint8_t *key = NULL;
    size_t len = 0;

    if (!ps_dp_key(a, &key, &len)) {
        key = NULL;
    }
    ps_dp_format_key(s, nl_attr_type(a), key, len);
}

int
ps_dp_parse_action(const char *s, struct ofpbuf *odp)
{
    int type;
    size_t n;

    if (!strncmp(s, "push_stack(", 11)) {
        type = OVS_ACTION_ATTR_PUSH_STACK;
        n = 11;
    } else if (!strncmp(s, "set_stack(", 10)) {
        type = OVS_ACTION_ATTR_SET_STACK;
        n = 10;
    } else if (!strncmp(s, "pop_stack(", 10)) {
        type = OVS_ACTION_ATTR_POP_STACK;
        n = 10;
    } else {
        return 0;
    }
    bool push = type != OVS_ACTION_ATTR_POP_STACK;  /* Labels, fix_length. */

    /* The argument ends at the ')' outside braces. */
    int depth = 0;
    size_t end;
    for (end = n; s[end]; end++) {
        if (s[end] == '{') {
            depth++;
        } else if (s[end] == '}') {
            depth--;
        } else if (s[end] == ')' && !depth) {
            break;
        }
    }
    if (s[end] != ')') {
        return -EINVAL;
    }

    char *arg = xmemdup0(s + n, end - n);
    unsigned int flags = 0;
    size_t arg_len = strlen(arg);
    if (push && arg_len >= 11 && !strcmp(arg + arg_len - 11, ",fix_length")) {
        arg[arg_len - 11] = '\0';
        flags |= PS_DP_FIX_LENGTH;
    }

    const struct ps_stack *stack;
    char *spec, *labels;
    char *error = ps_ovs_parse_stack(arg, push, &stack, &spec, &labels);
    free(arg);
    if (error) {
        VLOG_WARN("%s", error);
        free(error);
        return -EINVAL;
    }
    ps_dp_put_action(odp, type, flags, spec, labels);
    free(spec);
    free(labels);
    return end + 1;
}

/* Compiled actions. */

static struct ps_dp_entry *
ps_dp_lookup(int type, const uint8_t *key, size_t len, uint32_t hash)
{
    struct ps_dp_entry *e;

    CMAP_FOR_EACH_WITH_HASH (e, node, hash, &ps_dp_entries) {
        if (e->type == type && e->key_len == len
            && !memcmp(e->key, key, len)) {
            return e;
        }
    }
    return NULL;
}

/* For a push_stack entry 'e' whose stack starts with Ethernet: finds where
 * OvS's parser sees the headers of the packet once pushed (the template
 * filled with 'labels'), for the packets the entry pushes. */
static void
ps_dp_compile_offsets(struct ps_dp_entry *e, const char *labels)
{
    struct flow flow;
    uint16_t offsets[3];

    if (ps_ovs_parse_pushed(e->stack, labels, &flow, offsets)) {
        e->has_offsets = true;
        e->l2_5_ofs = offsets[0];
        e->l3_ofs = offsets[1];
        e->l4_ofs = offsets[2];
    }
}

/* Gives 'packet', whose headers 'e' has just pushed, the offsets of its
 * headers. */
static inline void
ps_dp_set_offsets(const struct ps_dp_ref *e, struct dp_packet *packet)
{
    dp_packet_reset_offsets(packet);
    if (e->flags & PS_DP_REF_OFFSETS) {
        packet->packet_type = htonl(PT_ETH);
        packet->l2_5_ofs = e->l2_5_ofs;
        packet->l3_ofs = e->l3_ofs;
        packet->l4_ofs = e->l4_ofs;
    }
}

/* Compiles the set_stack entry 'e' with 'labels': the bits they write,
 * found by writing them with the library's setters into a buffer of zeros
 * and one of ones (the bits that then agree are written), and, for
 * fix_length, the checksums and the entropy that no label gives.  Returns
 * false (logging why) if a label cannot be written. */
static bool
ps_dp_compile_set(struct ps_dp_entry *e, const char *labels)
{
    size_t size = e->size;
    size_t n_fields = ps_stack_n_fields(e->stack);
    uint8_t *zeros = xzalloc(size);
    uint8_t *ones = xmalloc(size);
    bool *labelled = xcalloc(n_fields ? n_fields : 1, sizeof *labelled);
    char *copy = xstrdup(labels);
    char *save_ptr = NULL;
    bool ok = true;

    memset(ones, 0xff, size);
    for (char *item = strtok_r(copy, ",", &save_ptr); ok && item;
         item = strtok_r(NULL, ",", &save_ptr)) {
        char *eq = strchr(item, '=');
        char *ps_error = NULL;
        size_t field;

        ok = (eq != NULL);
        if (ok) {
            *eq = '\0';
            ok = (!ps_stack_find_field(e->stack, item, &field, &ps_error)
                  && !ps_stack_set_text(e->stack, zeros, item, eq + 1,
                                        &ps_error)
                  && !ps_stack_set_text(e->stack, ones, item, eq + 1,
                                        &ps_error));
        }
        if (ok) {
            labelled[field] = true;
        } else {
            VLOG_WARN_RL(&ps_dp_rl, "set_stack(%s,%s): %s",
                         ps_stack_spec(e->stack), labels,
                         ps_error ? ps_error : "malformed labels");
        }
        free(ps_error);
    }

    if (ok) {
        e->mask = xmalloc(size);
        e->value = xmalloc(size);
        e->lo = size;
        e->hi = 0;
        for (size_t i = 0; i < size; i++) {
            e->mask[i] = ~(zeros[i] ^ ones[i]);
            e->value[i] = zeros[i] & e->mask[i];
            if (e->mask[i]) {
                e->lo = MIN(e->lo, i);
                e->hi = i + 1;
            }
        }

        size_t n = ps_stack_n_checksum_fixups(e->stack);
        e->csum_headers = xcalloc(n ? n : 1, sizeof *e->csum_headers);
        for (size_t i = 0; i < n; i++) {
            const struct ps_checksum_fixup *c
                = ps_stack_checksum_fixup(e->stack, i);
            if (!labelled[c->field]
                && (!e->n_csum_headers
                    || e->csum_headers[e->n_csum_headers - 1] != c->header)) {
                e->csum_headers[e->n_csum_headers++] = c->header;
            }
        }
        int entropy = ps_stack_entropy_field(e->stack);
        e->entropy = entropy >= 0 && !labelled[entropy];
    }
    free(copy);
    free(labelled);
    free(ones);
    free(zeros);
    return ok;
}

/* Compiles the action of 'type' whose text form is 'key' of 'len' bytes
 * into a new entry, or returns NULL (logging why). */
static struct ps_dp_entry *
ps_dp_compile(int type, const uint8_t *key, size_t len, uint32_t hash)
    OVS_REQUIRES(ps_dp_mutex)
{
    const char *name = ps_dp_action_name(type);
    bool push = type == OVS_ACTION_ATTR_PUSH_STACK;
    bool set = type == OVS_ACTION_ATTR_SET_STACK;
    const char *spec, *labels;
    unsigned int flags;

    if (!ps_dp_split(key, len, &flags, &spec, &labels)) {
        VLOG_WARN_RL(&ps_dp_rl, "malformed %s datapath action", name);
        return NULL;
    }

    const struct ps_stack *stack;
    char *canonical_spec, *canonical_labels;
    char *error = ps_ovs_check_stack(spec, labels, push || set, &stack,
                                     &canonical_spec, &canonical_labels);
    if (error) {
        VLOG_WARN_RL(&ps_dp_rl, "%s: %s", name, error);
        free(error);
        return NULL;
    }
    free(canonical_spec);
    free(canonical_labels);

    struct ps_dp_entry *e = xzalloc(sizeof *e + len);
    e->hash = hash;
    e->type = type;
    e->key_len = len;
    memcpy(e->key, key, len);
    e->stack = stack;
    e->flags = flags;
    e->size = ps_stack_size(stack);
    e->id = ps_dp_next_id++;

    if (push) {
        long long int start = time_usec();
        char *ps_error = NULL;
        int tier;

        atomic_read_relaxed(&ps_dp_tier, &tier);
        if (ps_encap_create(stack, labels, tier, &e->encap, &ps_error)) {
            VLOG_WARN_RL(&ps_dp_rl, "push_stack(%s,%s): %s", spec, labels,
                         ps_error ? ps_error : "cannot compile");
            free(ps_error);
            free(e);
            return NULL;
        }
        e->compile_ns = (time_usec() - start) * 1000;
        e->max_len = ps_stack_max_length(stack);
        ps_dp_compile_offsets(e, labels);
    } else if (set) {
        if (!ps_dp_compile_set(e, labels)) {
            free(e);
            return NULL;
        }
    } else {
        /* The binding fields of every header but the last (whose
         * successor is the payload), and the @magic fields of every
         * header (ip4.version), must hold their template values. */
        size_t n_headers = ps_stack_n_headers(stack);
        size_t n_fields = ps_stack_n_fields(stack);
        const uint8_t *template = ps_stack_template(stack);

        e->checks = xcalloc(n_fields ? n_fields : 1, sizeof *e->checks);
        for (size_t i = 0; i < n_fields; i++) {
            const struct ps_field_info *f = ps_stack_field(stack, i);

            if (f->type == PS_FIELD_UINT
                && (f->magic || (f->rule == PS_RULE_NEXT
                                 && f->header + 1 < n_headers))) {
                struct ps_dp_check *c = &e->checks[e->n_checks++];
                c->field = i;
                c->value = ps_stack_get_uint(stack, template, i);
            }
        }
    }
    cmap_insert(&ps_dp_entries, &e->node, hash);
    return e;
}

/* Frees what entry 'e' compiled, once retired by protostack/set-tier and
 * no thread can be executing it: 'e' itself and its key stay, for the
 * actions that refer to it. */
static void
ps_dp_entry_retire(struct ps_dp_entry *e)
{
    if (e->encap) {
        ps_encap_destroy(e->encap);
        e->encap = NULL;
    }
    free(e->checks);
    e->checks = NULL;
    free(e->mask);
    e->mask = NULL;
    free(e->value);
    e->value = NULL;
    free(e->csum_headers);
    e->csum_headers = NULL;
}

/* The entry of the action of 'type' whose text form is 'key' of 'len'
 * bytes: found, or compiled. */
static struct ps_dp_entry *
ps_dp_get(int type, const uint8_t *key, size_t len)
{
    uint32_t hash = hash_bytes(key, len, type);
    struct ps_dp_entry *e = ps_dp_lookup(type, key, len, hash);

    if (OVS_UNLIKELY(!e)) {
        ovs_mutex_lock(&ps_dp_mutex);
        e = ps_dp_lookup(type, key, len, hash);
        if (!e) {
            e = ps_dp_compile(type, key, len, hash);
        }
        ovs_mutex_unlock(&ps_dp_mutex);
    }
    return e;
}

/* Headroom. */

/* Returns 'packet' when it can grow by 'headroom' bytes at its front, or a
 * copy of it that can, or NULL when no copy can be made ('packet' is then
 * left as it was).
 *
 * Only a DPDK mbuf may need the copy: OvS reallocates other packets as
 * they grow, but aborts growing an mbuf past its headroom (128 bytes by
 * default), which a stack longer than that needs.  The copy is a fresh
 * mbuf of the packet's own pool (the pool of the port that received it),
 * with the data placed so that the stack and the default headroom fit in
 * front of it.  It stays a DPDK mbuf, as netdev-dpdk wants every packet of
 * a batch it sends to be, and carries the packet's metadata, offsets,
 * offload flags and hash.  It cannot be made when the pool is empty or
 * the packet and the stack do not fit in one of its mbufs. */
static struct dp_packet *
ps_dp_headroom(struct dp_packet *packet, size_t headroom)
{
    if (OVS_LIKELY(packet->source != DPBUF_DPDK
                   || dp_packet_headroom(packet) >= headroom)) {
        return packet;
    }
#ifdef DPDK_NETDEV
    const struct rte_mbuf *orig = &packet->mbuf;
    size_t len = dp_packet_size(packet);
    struct rte_mbuf *m;

    if (orig->nb_segs != 1 || !orig->pool) {
        return NULL;
    }
    m = rte_pktmbuf_alloc(orig->pool);
    if (!m) {
        return NULL;
    }
    if (headroom + len > m->buf_len) {
        rte_pktmbuf_free(m);
        return NULL;
    }
    m->data_off = MIN(headroom + RTE_PKTMBUF_HEADROOM, m->buf_len - len);

    struct dp_packet *copy = CONTAINER_OF(m, struct dp_packet, mbuf);
    memcpy(dp_packet_data(copy), dp_packet_data(packet), len);
    dp_packet_set_size(copy, len);
    m->tx_offload = orig->tx_offload;
    m->packet_type = orig->packet_type;
    m->ol_flags |= orig->ol_flags & ~(RTE_MBUF_F_EXTERNAL
                                      | RTE_MBUF_F_INDIRECT);
    m->hash = orig->hash;
    memcpy(&copy->l2_pad_size, &packet->l2_pad_size,
           sizeof *packet - offsetof(struct dp_packet, l2_pad_size));
    return copy;
#else
    return NULL;
#endif
}

/* Flow entropy. */

/* True if 'l4', the 'size' bytes of IP payload of protocol 'proto', is a
 * UDP or TCP header from which miniflow_extract() takes the ports. */
static inline bool
ps_dp_hash_l4_ok(uint8_t proto, const uint8_t *l4, size_t size)
{
    if (proto == IPPROTO_UDP) {
        return size >= UDP_HEADER_LEN;
    } else if (proto == IPPROTO_TCP) {
        size_t tcp_len;

        if (size < TCP_HEADER_LEN) {
            return false;
        }
        tcp_len = (l4[12] >> 4) * 4;
        return tcp_len >= TCP_HEADER_LEN && size >= tcp_len;
    }
    return false;
}

/* Adds the protocol and the ports at 'l4' to 'hash' and finishes it, as
 * miniflow_hash_5tuple() does. */
static inline uint32_t
ps_dp_hash_l4(uint32_t hash, uint8_t proto, const uint8_t *l4)
{
    uint32_t ports;

    memcpy(&ports, l4, 4);
    hash = hash_add(hash, proto);
    hash = hash_add(hash, ports);
    return hash_finish(hash, 42);
}

/* Computes in '*hash' the hash that the datapath gives the IPv6 packet 'ip'
 * of 'size' bytes when it classifies it (the RSS hash that
 * miniflow_extract() sets, dp_packet_update_rss_hash_ipv6_tcp_udp(), which
 * needs the packet's offsets set), when its first next header is UDP or
 * TCP, well formed; returns false otherwise (extension headers, say: the
 * caller then goes through flow_extract()). */
static bool
ps_dp_hash_ip6(const uint8_t *ip, size_t size, uint32_t *hash)
{
    if (size < IPV6_HEADER_LEN || (ip[0] >> 4) != 6) {
        return false;
    }

    size_t plen = (ip[4] << 8) | ip[5];
    uint8_t proto = ip[6];
    const uint8_t *l4 = ip + IPV6_HEADER_LEN;

    if (plen > size - IPV6_HEADER_LEN || !ps_dp_hash_l4_ok(proto, l4, plen)) {
        return false;
    }

    /* The source and destination, as the four 64-bit words of the
     * miniflow. */
    uint32_t h = 0;
    for (size_t i = 0; i < 4; i++) {
        uint64_t word;

        memcpy(&word, ip + 8 + 8 * i, 8);
        h = hash_add64(h, word);
    }
    *hash = ps_dp_hash_l4(h, proto, l4);
    return true;
}

/* Computes in '*hash' the hash that the datapath gives the IPv4 packet 'ip'
 * of 'size' bytes when it classifies it (the RSS hash that
 * miniflow_extract() sets, dp_packet_update_rss_hash_ipv4_tcp_udp()), when
 * it is a well-formed UDP or TCP packet and no fragment; returns false
 * otherwise (the caller then goes through flow_extract()).  OvS's own
 * functions cannot serve: they read the packet's offsets, which a packet
 * forwarded by "simple match" does not have. */
static bool
ps_dp_hash_ip4(const uint8_t *ip, size_t size, uint32_t *hash)
{
    if (size < IP_HEADER_LEN) {
        return false;
    }

    size_t ihl = (ip[0] & 0x0f) * 4;
    size_t tot_len = (ip[2] << 8) | ip[3];
    uint8_t proto = ip[9];

    if ((ip[0] >> 4) != 4 || ihl < IP_HEADER_LEN || tot_len < ihl
        || tot_len > size || (((ip[6] << 8) | ip[7]) & 0x3fff)) {
        return false;
    }

    /* The L4 header as miniflow_extract() wants it to take the ports. */
    const uint8_t *l4 = ip + ihl;
    if (!ps_dp_hash_l4_ok(proto, l4, tot_len - ihl)) {
        return false;
    }

    uint32_t src, dst;

    memcpy(&src, ip + 12, 4);
    memcpy(&dst, ip + 16, 4);
    *hash = ps_dp_hash_l4(hash_add(hash_add(0, src), dst), proto, l4);
    return true;
}

/* ps_dp_hash() returns the 5-tuple hash of the frame that starts 'ofs'
 * bytes into 'packet' (after a stack pushed before): the packet's RSS hash
 * when the NIC or the datapath set one, otherwise (ps_dp_hash__()) the
 * hash that the datapath
 * computes for the packets it classifies (miniflow_hash_5tuple()), which is
 * then stored as the packet's RSS hash.  Packets of DPDK vdevs and dummy
 * ports carry no RSS hash, and the datapath skips computing one when it
 * forwards by "simple match" (flows matching the input port only): without
 * this, the UDP source port of a tunnel would depend on the path a packet
 * took.  Untagged IPv4 and IPv6 UDP and TCP (no IPv4 fragment, no IPv6
 * extension header), and frames of no IP protocol, are hashed from the
 * bytes, the rest through flow_extract() (the packet's
 * offsets are kept). */
static uint32_t __attribute__((noinline))
ps_dp_hash__(struct dp_packet *packet, size_t ofs)
{
    const uint8_t *p = (const uint8_t *) dp_packet_data(packet) + ofs;
    size_t size = dp_packet_size(packet) - ofs;
    uint32_t hash;

    if (OVS_LIKELY((ofs || packet->packet_type == htonl(PT_ETH))
                   && size >= ETH_HEADER_LEN + LLC_SNAP_HEADER_LEN)) {
        uint16_t type = (p[12] << 8) | p[13];

        if (type == ETH_TYPE_IP || type == ETH_TYPE_IPV6) {
            const uint8_t *ip = p + ETH_HEADER_LEN;
            size_t ip_size = size - ETH_HEADER_LEN;

            if (type == ETH_TYPE_IP
                ? ps_dp_hash_ip4(ip, ip_size, &hash)
                : ps_dp_hash_ip6(ip, ip_size, &hash)) {
                COVERAGE_INC(protostack_hash_ip);
                dp_packet_set_rss_hash(packet, hash);
                return hash;
            }
        } else if ((type >= ETH_TYPE_MIN
                    && type != ETH_TYPE_ARP && type != ETH_TYPE_VLAN_8021Q
                    && type != ETH_TYPE_VLAN_8021AD)
                   || (type < ETH_TYPE_MIN
                       && (p[14] != LLC_DSAP_SNAP || p[15] != LLC_SSAP_SNAP
                           || p[16] != LLC_CNTL_SNAP))) {
            /* Neither IPv4, IPv6 nor ARP, even behind a VLAN tag or an
             * LLC SNAP header: the 5-tuple hash hashes nothing. */
            hash = hash_finish(0, 42);
            COVERAGE_INC(protostack_hash_other);
            dp_packet_set_rss_hash(packet, hash);
            return hash;
        }
    }

    uint16_t l2_pad_size = packet->l2_pad_size;
    uint16_t l2_5_ofs = packet->l2_5_ofs;
    uint16_t l3_ofs = packet->l3_ofs;
    uint16_t l4_ofs = packet->l4_ofs;
    ovs_be32 packet_type = packet->packet_type;
    struct flow flow;

    if (ofs) {
        /* The payload of a stack is taken for an Ethernet frame. */
        dp_packet_pull(packet, ofs);
        packet->packet_type = htonl(PT_ETH);
    }
    flow_extract(packet, &flow);
    if (ofs) {
        dp_packet_push_uninit(packet, ofs);
        packet->packet_type = packet_type;
    }
    packet->l2_pad_size = l2_pad_size;
    packet->l2_5_ofs = l2_5_ofs;
    packet->l3_ofs = l3_ofs;
    packet->l4_ofs = l4_ofs;
    /* flow_extract() gave IPv4 and IPv6 TCP and UDP packets the datapath's
     * RSS hash (dp_packet_update_rss_hash_ipv6_tcp_udp(), say, which takes
     * the first next header, not the last): the datapath uses it. */
    hash = (dp_packet_rss_valid(packet)
            ? dp_packet_get_rss_hash(packet)
            : flow_hash_5tuple(&flow, 0));
    COVERAGE_INC(protostack_hash_flow);
    dp_packet_set_rss_hash(packet, hash);
    return hash;
}

/* ps_dp_hash__(), with the packet's RSS hash taken inline. */
static inline uint32_t
ps_dp_hash(struct dp_packet *packet, size_t ofs)
{
    return (OVS_LIKELY(dp_packet_rss_valid(packet))
            ? dp_packet_get_rss_hash(packet)
            : ps_dp_hash__(packet, ofs));
}

/* The reference of datapath action 'a', in '*ref': its own when that is
 * current, else made from the entry looked up (or compiled) from its text
 * form.  Stores in '*data' the encapsulation's JIT data (push_stack): the
 * action's copy, or the entry's.  Returns false if 'a' has no entry. */
static inline bool
ps_dp_get_action(const struct nlattr *a, int type, struct ps_dp_ref *ref,
                 const uint8_t **data)
{
    const uint8_t *payload = (const uint8_t *) (a + 1);
    size_t size = a->nla_len - NLA_HDRLEN;
    unsigned int generation;

    if (OVS_LIKELY(size >= sizeof *ref)) {
        memcpy(ref, payload, sizeof *ref);
        atomic_read_explicit(&ps_dp_generation, &generation,
                             memory_order_acquire);
        if (OVS_LIKELY(ref->entry && ref->generation == generation
                       && ps_dp_ref_len(ref->data_len) <= size)) {
            *data = payload + sizeof *ref;
            return true;
        }
    }

    const uint8_t *key;
    size_t len;
    if (!ps_dp_key(a, &key, &len)) {
        return false;
    }

    struct ps_dp_entry *e = ps_dp_get(type, key, len);
    if (!e || !ps_dp_ref_init(ref, e)) {
        return false;
    }
    *data = e->encap ? ps_encap_jit_data(e->encap) : NULL;
    return true;
}

/* Execution. */

/* The counters of this thread, with room for 'id' at least. */
static struct ps_dp_counter_array * __attribute__((noinline))
ps_dp_counters_grow(struct ps_dp_thread **threadp, uint32_t id)
{
    struct ps_dp_thread *thread = *threadp;
    struct ps_dp_counter_array *old = NULL;

    if (!thread) {
        thread = xzalloc(sizeof *thread);
        ovsrcu_init(&thread->array, NULL);
        ovs_mutex_lock(&ps_dp_threads_mutex);
        ovs_list_push_back(&ps_dp_threads, &thread->node);
        ovs_mutex_unlock(&ps_dp_threads_mutex);
        *threadp = thread;
    } else {
        old = ovsrcu_get_protected(struct ps_dp_counter_array *,
                                   &thread->array);
    }

    size_t n = MAX(64, MAX((old ? old->n : 0) * 2, (size_t) id + 1));
    struct ps_dp_counter_array *new
        = xzalloc(sizeof *new + n * sizeof new->counters[0]);
    new->n = n;
    for (size_t i = 0; old && i < old->n; i++) {
        unsigned long long v;

        atomic_read_relaxed(&old->counters[i].n_packets, &v);
        atomic_init(&new->counters[i].n_packets, v);
        atomic_read_relaxed(&old->counters[i].n_missed, &v);
        atomic_init(&new->counters[i].n_missed, v);
    }
    ovsrcu_set(&thread->array, new);
    if (old) {
        ovsrcu_postpone(free, old);
    }
    return new;
}

/* Adds to the packet and miss counters of the entry whose id is 'id', in
 * this thread's counters. */
static inline void
ps_dp_count(uint32_t id, unsigned long long n_packets,
            unsigned long long n_missed)
{
    struct ps_dp_thread **threadp = ps_dp_thread_get();
    struct ps_dp_counter_array *array
        = (OVS_LIKELY(*threadp)
           ? ovsrcu_get_protected(struct ps_dp_counter_array *,
                                  &(*threadp)->array)
           : NULL);

    if (OVS_UNLIKELY(!array || id >= array->n)) {
        array = ps_dp_counters_grow(threadp, id);
    }

    /* This thread alone writes its counters: no atomic addition. */
    struct ps_dp_counter *c = &array->counters[id];
    unsigned long long v;

    atomic_read_relaxed(&c->n_packets, &v);
    atomic_store_relaxed(&c->n_packets, v + n_packets);
    if (n_missed) {
        atomic_read_relaxed(&c->n_missed, &v);
        atomic_store_relaxed(&c->n_missed, v + n_missed);
    }
}

/* The counters of entry 'e', summed over the threads. */
static void
ps_dp_read_counters(const struct ps_dp_entry *e,
                    unsigned long long *n_packets,
                    unsigned long long *n_missed)
{
    struct ps_dp_thread *thread;

    *n_packets = *n_missed = 0;
    ovs_mutex_lock(&ps_dp_threads_mutex);
    LIST_FOR_EACH (thread, node, &ps_dp_threads) {
        struct ps_dp_counter_array *array
            = ovsrcu_get(struct ps_dp_counter_array *, &thread->array);

        if (array && e->id < array->n) {
            unsigned long long v;

            atomic_read_relaxed(&array->counters[e->id].n_packets, &v);
            *n_packets += v;
            atomic_read_relaxed(&array->counters[e->id].n_missed, &v);
            *n_missed += v;
        }
    }
    ovs_mutex_unlock(&ps_dp_threads_mutex);
}

/* push_stack: 'e' is the action's reference, 'data' the encapsulation's
 * JIT data.  Reads the entry only when the JIT function is not there yet
 * and in the rare paths. */
static void
ps_dp_push(const struct ps_dp_ref *e, const uint8_t *data,
           struct dp_packet_batch *batch)
{
    size_t size = e->size;
    const uint8_t *template = data;
    bool fix = e->flags & PS_DP_FIX_LENGTH;
    ps_encap_fn *fn = e->fn;
    size_t max_len = e->max_len;
    size_t n = dp_packet_batch_size(batch);
    unsigned long long n_short = 0, n_long = 0, n_copied = 0;
    struct dp_packet *packet;
    size_t i;

    DP_PACKET_BATCH_REFILL_FOR_EACH (i, n, packet, batch) {
        /* A packet too long for the stack's length fields would get
         * wrapped lengths: dropped and counted. */
        if (OVS_UNLIKELY(fix && dp_packet_size(packet) > max_len - size)) {
            n_long++;
            dp_packet_delete(packet);
            continue;
        }

        struct dp_packet *room = ps_dp_headroom(packet, size);
        if (OVS_UNLIKELY(room != packet)) {
            dp_packet_delete(packet);
            if (!room) {
                n_short++;
                continue;
            }
            packet = room;
            n_copied++;
        }

        uint32_t hash = fix ? ps_dp_hash(packet, 0) : 0;
        uint8_t *p;
        if (OVS_LIKELY(dp_packet_headroom(packet) >= size)) {
            /* dp_packet_push_uninit() without its call. */
            p = (uint8_t *) dp_packet_data(packet) - size;
            dp_packet_set_data(packet, p);
            dp_packet_set_size(packet, dp_packet_size(packet) + size);
        } else {
            p = dp_packet_push_uninit(packet, size);
        }
        if (fix) {
            size_t len = dp_packet_size(packet);

            if (OVS_LIKELY(fn)) {
                fn(data, p, len, hash);
            } else {
                ps_encap_apply(e->entry->encap, p, len, hash);
            }
        } else {
            memcpy(p, template, size);
        }
        ps_dp_set_offsets(e, packet);
        dp_packet_batch_refill(batch, packet, i);
    }

    unsigned long long n_dropped = n_short + n_long;

    COVERAGE_ADD(protostack_push, n - n_dropped);
    ps_dp_count(e->id, n - n_dropped, n_dropped);
    if (OVS_UNLIKELY(n_copied)) {
        COVERAGE_ADD(protostack_headroom_copy, n_copied);
    }
    if (OVS_UNLIKELY(n_short)) {
        COVERAGE_ADD(protostack_drop_headroom, n_short);
        VLOG_WARN_RL(&ps_dp_rl, "push_stack(%s): dropped %llu DPDK packets "
                     "with less than %"PRIuSIZE" bytes of headroom that "
                     "could not be copied into a larger mbuf (pool empty, "
                     "or packet and stack larger than an mbuf)",
                     ps_stack_spec(e->entry->stack), n_short, size);
    }
    if (OVS_UNLIKELY(n_long)) {
        COVERAGE_ADD(protostack_drop_length, n_long);
        VLOG_WARN_RL(&ps_dp_rl, "push_stack(%s): dropped %llu packets too "
                     "long for the stack's length fields (%"PRIuSIZE" "
                     "bytes at most)", ps_stack_spec(e->entry->stack), n_long,
                     max_len);
    }
}

static void
ps_dp_pop(struct ps_dp_entry *e, struct dp_packet_batch *batch)
{
    unsigned long long n_popped = 0, n_missed = 0;
    struct dp_packet *packet;

    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        const uint8_t *p = dp_packet_data(packet);
        bool match = dp_packet_size(packet) >= e->size;

        for (size_t j = 0; match && j < e->n_checks; j++) {
            const struct ps_dp_check *c = &e->checks[j];
            match = ps_stack_get_uint(e->stack, p, c->field) == c->value;
        }
        if (match) {
            dp_packet_reset_packet(packet, e->size);
            n_popped++;
        } else {
            n_missed++;
        }
    }
    COVERAGE_ADD(protostack_pop, n_popped);
    COVERAGE_ADD(protostack_pop_miss, n_missed);
    ps_dp_count(e->id, n_popped, n_missed);
}

/* set_stack: writes the labels of 'e' into the stack at the front of each
 * packet of 'batch'; with fix_length, then its lengths, entropy and
 * checksums, but those the labels give.  A packet shorter than the stack,
 * or too long for its length fields with fix_length, is left alone and
 * counted. */
static void
ps_dp_set(struct ps_dp_entry *e, struct dp_packet_batch *batch)
{
    bool fix = e->flags & PS_DP_FIX_LENGTH;
    size_t max_len = ps_stack_max_length(e->stack);
    unsigned long long n_set = 0, n_missed = 0;
    struct dp_packet *packet;

    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        uint8_t *p = dp_packet_data(packet);
        size_t len = dp_packet_size(packet);

        if (OVS_UNLIKELY(len < e->size || (fix && len > max_len))) {
            n_missed++;
            continue;
        }
        if (fix) {
            ps_stack_set_length(e->stack, p, len);
            if (e->entropy) {
                ps_stack_set_entropy(e->stack, p,
                                     ps_dp_hash(packet, e->size));
            }
        }
        for (size_t j = e->lo; j < e->hi; j++) {
            p[j] = (p[j] & ~e->mask[j]) | e->value[j];
        }
        for (size_t j = 0; fix && j < e->n_csum_headers; j++) {
            ps_stack_fix_checksum(e->stack, p, len, e->csum_headers[j]);
        }
        n_set++;
    }

    COVERAGE_ADD(protostack_set, n_set);
    COVERAGE_ADD(protostack_set_miss, n_missed);
    ps_dp_count(e->id, n_set, n_missed);
}

void
ps_dp_execute(struct dp_packet_batch *batch, const struct nlattr *a)
{
    int type = a->nla_type & NLA_TYPE_MASK;
    const uint8_t *data;
    struct ps_dp_ref ref;

    if (OVS_UNLIKELY(!ps_dp_get_action(a, type, &ref, &data))) {
        COVERAGE_ADD(protostack_drop_error, dp_packet_batch_size(batch));
        dp_packet_delete_batch(batch, true);
        return;
    }

    if (type == OVS_ACTION_ATTR_PUSH_STACK) {
        ps_dp_push(&ref, data, batch);
    } else if (type == OVS_ACTION_ATTR_SET_STACK) {
        ps_dp_set(ref.entry, batch);
    } else {
        ps_dp_pop(ref.entry, batch);
    }
}

/* Commands. */

static const char *
ps_dp_tier_name(const struct ps_dp_entry *e)
{
    if (!e->encap) {
        return "-";
    }
    return ps_encap_tier(e->encap) == PS_TIER_JIT ? "jit" : "interpreter";
}

/* Adds 1 to the flow count of the entry of each of our actions in the
 * datapath actions 'actions' (of 'len' bytes), nested ones included. */
static void
ps_dp_count_flow_actions(const struct nlattr *actions, size_t len)
{
    const struct nlattr *a;
    size_t left;

    NL_ATTR_FOR_EACH (a, left, actions, len) {
        int type = nl_attr_type(a);

        if (type == OVS_ACTION_ATTR_PUSH_STACK
            || type == OVS_ACTION_ATTR_SET_STACK
            || type == OVS_ACTION_ATTR_POP_STACK) {
            const uint8_t *key;
            size_t key_len;

            if (ps_dp_key(a, &key, &key_len)) {
                struct ps_dp_entry *e = ps_dp_lookup(
                    type, key, key_len, hash_bytes(key, key_len, type));
                if (e) {
                    e->n_flows++;
                }
            }
        } else if (type == OVS_ACTION_ATTR_CLONE) {
            ps_dp_count_flow_actions(nl_attr_get(a), nl_attr_get_size(a));
        }
    }
}

/* Counts, in each entry's 'n_flows', the flows of every datapath that use
 * it, as "ovs-dpctl dump-flows" would list them.  Main thread only. */
static void
ps_dp_count_flows(void)
{
    struct sset types = SSET_INITIALIZER(&types);
    struct ps_dp_entry *e;
    const char *type;

    CMAP_FOR_EACH (e, node, &ps_dp_entries) {
        e->n_flows = 0;
    }
    dp_enumerate_types(&types);
    SSET_FOR_EACH (type, &types) {
        struct sset names = SSET_INITIALIZER(&names);
        const char *name;

        if (dp_enumerate_names(type, &names)) {
            sset_destroy(&names);
            continue;
        }
        SSET_FOR_EACH (name, &names) {
            struct dpif *dpif;

            if (dpif_open(name, type, &dpif)) {
                continue;
            }
            struct dpif_flow_dump *dump = dpif_flow_dump_create(dpif, false,
                                                                NULL);
            struct dpif_flow_dump_thread *thread
                = dpif_flow_dump_thread_create(dump);
            struct dpif_flow flows[50];
            int n;

            while ((n = dpif_flow_dump_next(thread, flows,
                                            ARRAY_SIZE(flows))) > 0) {
                for (int i = 0; i < n; i++) {
                    ps_dp_count_flow_actions(flows[i].actions,
                                             flows[i].actions_len);
                }
            }
            dpif_flow_dump_thread_destroy(thread);
            dpif_flow_dump_destroy(dump);
            dpif_close(dpif);
        }
        sset_destroy(&names);
    }
    sset_destroy(&types);
}

static void
ps_dp_unixctl_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ps_dp_entry *e;

    ps_dp_count_flows();
    CMAP_FOR_EACH (e, node, &ps_dp_entries) {
        unsigned long long n_packets, n_missed;
        struct ds action = DS_EMPTY_INITIALIZER;

        ps_dp_format_key(&action, e->type, e->key, e->key_len);

        ps_dp_read_counters(e, &n_packets, &n_missed);
        ds_put_format(&s, "%s\n  %"PRIuSIZE" bytes, tier %s, compiled in "
                      "%lld us, packets %llu, %s %llu, flows %"PRIuSIZE"\n",
                      ds_cstr(&action), e->size, ps_dp_tier_name(e),
                      e->compile_ns / 1000, n_packets,
                      e->encap ? "dropped" : "missed", n_missed,
                      e->n_flows);
        ds_destroy(&action);
    }

    /* The JIT never unloads a module: the modules in memory are those
     * compiled and those loaded from the disk cache. */
    struct ps_jit_stats stats;
    ps_jit_get_stats(&stats);
    ds_put_format(&s, "jit: modules %llu (%llu compiled, %llu from the "
                  "disk cache), %llu failed, %llu shared in memory\n",
                  stats.compiles + stats.disk_hits, stats.compiles,
                  stats.disk_hits, stats.failures, stats.memory_hits);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "protostack/set-tier auto|jit|interp": the tier of every compiled
 * action.  The entries are retired (their counters with them) and
 * compiled again, for the new tier, by the next packets that need them. */
static void
ps_dp_unixctl_set_tier(struct unixctl_conn *conn, int argc OVS_UNUSED,
                       const char *argv[], void *aux OVS_UNUSED)
{
    enum ps_tier tier;

    if (!strcmp(argv[1], "auto")) {
        tier = PS_TIER_AUTO;
    } else if (!strcmp(argv[1], "jit")) {
        tier = PS_TIER_JIT;
    } else if (!strcmp(argv[1], "interp")) {
        tier = PS_TIER_INTERP;
    } else {
        unixctl_command_reply_error(conn, "protostack/set-tier: expected "
                                    "auto, jit or interp");
        return;
    }

    struct ps_dp_entry *e;
    unsigned int orig;
    ovs_mutex_lock(&ps_dp_mutex);
    atomic_store_relaxed(&ps_dp_tier, tier);
    atomic_add_explicit(&ps_dp_generation, 1, &orig, memory_order_release);
    CMAP_FOR_EACH (e, node, &ps_dp_entries) {
        cmap_remove(&ps_dp_entries, &e->node, e->hash);
        ovs_list_push_back(&ps_dp_retired, &e->retired_node);
        ovsrcu_postpone(ps_dp_entry_retire, e);
    }
    ovs_mutex_unlock(&ps_dp_mutex);
    unixctl_command_reply(conn, NULL);
}

/* "protostack/load FILE": adds the protocols of FILE to the running
 * switch; flows added afterwards may use them. */
static void
ps_dp_unixctl_load(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[], void *aux OVS_UNUSED)
{
    char *error = ps_ovs_load(argv[1]);

    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

/* protostack/hash FRAME: the hash that push_stack gives the Ethernet frame
 * FRAME (hexadecimal) when it comes without one, and the one that the
 * datapath gives it when it classifies it (miniflow_extract(), which sets
 * the RSS hash of TCP and UDP packets, else miniflow_hash_5tuple()): the
 * two must be equal, whatever way push_stack found it (from the bytes, or
 * through flow_extract()). */
static void
ps_dp_unixctl_hash(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[], void *aux OVS_UNUSED)
{
    struct dp_packet *classified, *packet;
    const char *error = eth_from_hex(argv[1], &classified);

    if (error) {
        unixctl_command_reply_error(conn, error);
        return;
    }
    eth_from_hex(argv[1], &packet);

    struct {
        struct miniflow mf;
        uint64_t buf[FLOW_MAX_PACKET_U64S];
    } key;
    miniflow_extract(classified, &key.mf);
    uint32_t datapath = (dp_packet_rss_valid(classified)
                         ? dp_packet_get_rss_hash(classified)
                         : miniflow_hash_5tuple(&key.mf, 0));

    /* This thread's counts, not yet gathered, tell the way taken. */
    unsigned int n_ip = *counter_protostack_hash_ip_get();
    unsigned int n_other = *counter_protostack_hash_other_get();
    packet->packet_type = htonl(PT_ETH);
    uint32_t ours = ps_dp_hash(packet, 0);
    const char *way
        = (*counter_protostack_hash_ip_get() != n_ip ? "bytes, ip"
           : *counter_protostack_hash_other_get() != n_other
           ? "bytes, no ip" : "flow_extract");

    char *reply = xasprintf("push_stack 0x%08"PRIx32", datapath 0x%08"PRIx32
                            " (%s)", ours, datapath, way);
    unixctl_command_reply(conn, reply);
    free(reply);
    dp_packet_delete(classified);
    dp_packet_delete(packet);
}

void
ps_dp_init(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        unixctl_command_register("protostack/show", "", 0, 0,
                                 ps_dp_unixctl_show, NULL);
        unixctl_command_register("protostack/set-tier", "auto|jit|interp",
                                 1, 1, ps_dp_unixctl_set_tier, NULL);
        unixctl_command_register("protostack/load", "FILE", 1, 1,
                                 ps_dp_unixctl_load, NULL);
        unixctl_command_register("protostack/hash", "FRAME", 1, 1,
                                 ps_dp_unixctl_hash, NULL);
        atomic_store_relaxed(&ps_dp_running, true);
        ovsthread_once_done(&once);
    }
}
