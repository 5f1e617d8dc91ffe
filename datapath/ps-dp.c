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
#include "hash.h"
#include "netlink.h"
#include "odp-netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "protostack/protostack.h"
#include "ps-ofp.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(protostack);

COVERAGE_DEFINE(protostack_push);
COVERAGE_DEFINE(protostack_pop);
COVERAGE_DEFINE(protostack_pop_miss);
COVERAGE_DEFINE(protostack_drop_headroom);
COVERAGE_DEFINE(protostack_drop_error);

/* A binding field that pop_stack compares with the packet. */
struct ps_dp_check {
    size_t field;
    uint64_t value;
};

/* One distinct datapath action, compiled.  Entries are never freed: they
 * are as many as the distinct actions the switch ever translated. */
struct ps_dp_entry {
    /* What a batch needs, first: with traffic spread over many flows,
     * each batch's entry is a cache miss. */
    uint32_t hash;              /* Hash of the action's text form. */
    int type;                   /* OVS_ACTION_ATTR_PUSH_STACK or _POP_. */
    unsigned int flags;         /* PS_DP_*. */
    size_t size;                /* Bytes of headers. */
    struct ps_encap *encap;     /* push_stack only. */
    const uint8_t *template;    /* ps_encap_template(encap). */
    size_t max_len;             /* The stack's ps_stack_max_length(). */
    OVSRCU_TYPE(ps_encap_fn *) fn; /* ps_encap_jit_function(encap), once
                                    * there is one. */

    struct cmap_node node;      /* In 'ps_dp_entries'. */
    size_t key_len;
    const struct ps_stack *stack;
    struct ps_dp_check *checks; /* pop_stack only. */
    size_t n_checks;
    long long int compile_ns;   /* Time ps_encap_create() took. */

    atomic_ullong n_packets;    /* Packets pushed or popped. */
    atomic_ullong n_missed;     /* Drops (push), misses (pop). */

    uint8_t key[];              /* The action's text form. */
};

static struct cmap ps_dp_entries = CMAP_INITIALIZER;
static struct ovs_mutex ps_dp_mutex = OVS_MUTEX_INITIALIZER;

/* Incremented whenever entries are removed from 'ps_dp_entries'
 * (protostack/set-tier): references of older generations are stale. */
static atomic_uint ps_dp_generation = 0;

/* Whether this process runs a datapath (ps_dp_init() was called): only
 * then does ps_dp_put_action() compile the actions it writes. */
static atomic_bool ps_dp_running = false;

/* A datapath action's payload starts with a reference to its compiled
 * entry, written by ps_dp_put_action() in this process, followed by the
 * text form (the key): flags, spec and labels.  Hashing the text and
 * comparing it in 'ps_dp_entries' for every batch costs about as much as
 * the encapsulation of a packet, and with traffic spread over many flows
 * a batch is often a single packet; the reference spares both.  It is
 * used only while 'generation' is current; otherwise, or when 'entry' is
 * null (the action was made where no datapath runs), the text is looked
 * up.  The text form of the action ignores it. */
struct ps_dp_ref {
    uint32_t generation;
    uint32_t hash;              /* The entry's hash, as a check. */
    struct ps_dp_entry *entry;
    const uint8_t *data;        /* ps_encap_jit_data() of its encap: its
                                 * cache miss overlaps the entry's. */
};

/* The tier that new entries compile for (protostack/set-tier). */
static atomic_int ps_dp_tier = PS_TIER_AUTO;
static struct vlog_rate_limit ps_dp_rl = VLOG_RATE_LIMIT_INIT(5, 5);

static struct ps_dp_entry *ps_dp_get(int type, const uint8_t *key,
                                     size_t len);

/* Text form. */

/* The text form of the payload of datapath action 'a': 'data' and 'len'
 * (false if the payload is too short even for the reference). */
static bool
ps_dp_key(const struct nlattr *a, const uint8_t **data, size_t *len)
{
    size_t size = nl_attr_get_size(a);

    if (size < sizeof(struct ps_dp_ref)) {
        return false;
    }
    *data = (const uint8_t *) nl_attr_get(a) + sizeof(struct ps_dp_ref);
    *len = size - sizeof(struct ps_dp_ref);
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

void
ps_dp_put_action(struct ofpbuf *odp, int type, unsigned int flags,
                 const char *spec, const char *labels)
{
    size_t spec_len = strlen(spec);
    size_t labels_len = strlen(labels);
    size_t len = 1 + spec_len + 1 + labels_len + 1;
    uint8_t *p = nl_msg_put_unspec_uninit(odp, type, sizeof(struct ps_dp_ref)
                                                     + len);
    uint8_t *key = p + sizeof(struct ps_dp_ref);
    struct ps_dp_ref ref;
    bool running;

    key[0] = flags;
    memcpy(key + 1, spec, spec_len + 1);
    memcpy(key + 1 + spec_len + 1, labels, labels_len + 1);

    memset(&ref, 0, sizeof ref);
    atomic_read_relaxed(&ps_dp_running, &running);
    if (running) {
        atomic_read_explicit(&ps_dp_generation, &ref.generation,
                             memory_order_acquire);
        ref.entry = ps_dp_get(type, key, len);
        if (ref.entry) {
            ref.hash = ref.entry->hash;
            ref.data = (ref.entry->encap ? ps_encap_jit_data(ref.entry->encap)
                        : NULL);
        }
    }
    memcpy(p, &ref, sizeof ref);
}

/* Formats the text form 'key' of 'len' bytes of an action of 'type'
 * (or NULL for a payload too short to have one). */
static void
ps_dp_format_key(struct ds *s, int type, const uint8_t *key, size_t len)
{
    bool push = type == OVS_ACTION_ATTR_PUSH_STACK;
    const char *spec, *labels;
    unsigned int flags;

    if (!key || !ps_dp_split(key, len, &flags, &spec, &labels)) {
        ds_put_format(s, "%s(<malformed>)", push ? "push_stack"
                                                 : "pop_stack");
        return;
    }
    ds_put_format(s, "%s(%s", push ? "push_stack" : "pop_stack", spec);
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
    bool push;
    size_t n;

    if (!strncmp(s, "push_stack(", 11)) {
        push = true;
        n = 11;
    } else if (!strncmp(s, "pop_stack(", 10)) {
        push = false;
        n = 10;
    } else {
        return 0;
    }

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
    ps_dp_put_action(odp, push ? OVS_ACTION_ATTR_PUSH_STACK
                               : OVS_ACTION_ATTR_POP_STACK,
                     flags, spec, labels);
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

/* Compiles the action of 'type' whose text form is 'key' of 'len' bytes
 * into a new entry, or returns NULL (logging why). */
static struct ps_dp_entry *
ps_dp_compile(int type, const uint8_t *key, size_t len, uint32_t hash)
    OVS_REQUIRES(ps_dp_mutex)
{
    bool push = type == OVS_ACTION_ATTR_PUSH_STACK;
    const char *spec, *labels;
    unsigned int flags;

    if (!ps_dp_split(key, len, &flags, &spec, &labels)) {
        VLOG_WARN_RL(&ps_dp_rl, "malformed %s datapath action",
                     push ? "push_stack" : "pop_stack");
        return NULL;
    }

    const struct ps_stack *stack;
    char *canonical_spec, *canonical_labels;
    char *error = ps_ovs_check_stack(spec, labels, push, &stack,
                                     &canonical_spec, &canonical_labels);
    if (error) {
        VLOG_WARN_RL(&ps_dp_rl, "%s: %s", push ? "push_stack" : "pop_stack",
                     error);
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
        e->template = ps_encap_template(e->encap);
        e->max_len = ps_stack_max_length(stack);
    } else {
        /* The binding fields of every header but the last (whose
         * successor is the payload) must hold their template values. */
        size_t n_headers = ps_stack_n_headers(stack);
        size_t n_fields = ps_stack_n_fields(stack);
        const uint8_t *template = ps_stack_template(stack);

        e->checks = xcalloc(n_fields ? n_fields : 1, sizeof *e->checks);
        for (size_t i = 0; i < n_fields; i++) {
            const struct ps_field_info *f = ps_stack_field(stack, i);

            if (f->rule == PS_RULE_NEXT && f->header + 1 < n_headers
                && f->type == PS_FIELD_UINT) {
                struct ps_dp_check *c = &e->checks[e->n_checks++];
                c->field = i;
                c->value = ps_stack_get_uint(stack, template, i);
            }
        }
    }
    cmap_insert(&ps_dp_entries, &e->node, hash);
    return e;
}

static void
ps_dp_entry_free(struct ps_dp_entry *e)
{
    if (e->encap) {
        ps_encap_destroy(e->encap);
    }
    free(e->checks);
    free(e);
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

/* The entry of datapath action 'a': from its reference when that is
 * current, else looked up (or compiled) from its text form.  Stores in
 * '*data' the encapsulation's JIT data (push_stack). */
static struct ps_dp_entry *
ps_dp_get_action(const struct nlattr *a, const uint8_t **data)
{
    struct ps_dp_ref ref;
    unsigned int generation;
    const uint8_t *key;
    size_t len;

    if (OVS_UNLIKELY(!ps_dp_key(a, &key, &len))) {
        return NULL;
    }
    memcpy(&ref, nl_attr_get(a), sizeof ref);
    atomic_read_explicit(&ps_dp_generation, &generation,
                         memory_order_acquire);
    if (OVS_LIKELY(ref.entry && ref.generation == generation
                   && ref.hash == ref.entry->hash)) {
        *data = ref.data;
        return ref.entry;
    }

    struct ps_dp_entry *e = ps_dp_get(nl_attr_type(a), key, len);
    *data = e && e->encap ? ps_encap_jit_data(e->encap) : NULL;
    return e;
}

/* Execution. */

/* A flow hash for a packet that has no RSS hash (OvS computes none for
 * the flows of its simple-match path): of the first 40 bytes of 'frame'
 * (Ethernet, and IPv4 addresses and ports when the frame has them), five
 * 8-byte words loaded straight from the frame (through a buffer, the
 * loads waited for the stores: a third of push_stack's time in perf)
 * and multiplied independently, so that the multiplications overlap. */
static uint32_t
ps_dp_frame_hash(const uint8_t *frame, size_t len)
{
    static const uint64_t k[5] = {
        0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL, 0x165667b19e3779f9ULL,
        0xd6e8feb86659fd93ULL, 0xff51afd7ed558ccdULL,
    };
    uint8_t short_frame[40];
    uint64_t w0, w1, w2, w3, w4;

    if (OVS_UNLIKELY(len < sizeof short_frame)) {
        memset(short_frame, 0, sizeof short_frame);
        memcpy(short_frame, frame, len);
        frame = short_frame;
    }
    memcpy(&w0, frame, 8);
    memcpy(&w1, frame + 8, 8);
    memcpy(&w2, frame + 16, 8);
    memcpy(&w3, frame + 24, 8);
    memcpy(&w4, frame + 32, 8);

    uint64_t h = (len ^ (w0 * k[0]) ^ (w1 * k[1]) ^ (w2 * k[2])
                  ^ (w3 * k[3]) ^ (w4 * k[4]));
    h = (h ^ (h >> 29)) * k[0];
    return h >> 32;
}

static void
ps_dp_push(struct ps_dp_entry *e, const uint8_t *data,
           struct dp_packet_batch *batch)
{
    size_t size = e->size;
    const uint8_t *template = e->template;
    bool fix = e->flags & PS_DP_FIX_LENGTH;
    ps_encap_fn *fn = NULL;
    size_t max_len = e->max_len;

    if (fix) {
        fn = ovsrcu_get(ps_encap_fn *, &e->fn);
        if (OVS_UNLIKELY(!fn)) {
            fn = ps_encap_jit_function(e->encap);
            if (fn) {
                ovsrcu_set(&e->fn, fn);
            }
        }
    }
    size_t n = dp_packet_batch_size(batch);
    unsigned long long n_dropped = 0;
    struct dp_packet *packet;
    size_t i;

    DP_PACKET_BATCH_REFILL_FOR_EACH (i, n, packet, batch) {
        /* A DPDK mbuf cannot grow past its headroom: OvS would abort in
         * dp_packet_resize().  Other packets are reallocated.  A packet
         * too long for the stack's length fields would get wrapped
         * lengths: dropped and counted too. */
        if (OVS_UNLIKELY((packet->source == DPBUF_DPDK
                          && dp_packet_headroom(packet) < size)
                         || (fix
                             && dp_packet_size(packet) > max_len - size))) {
            n_dropped++;
            dp_packet_delete(packet);
            continue;
        }

        uint8_t *p = dp_packet_push_uninit(packet, size);
        if (fix) {
            size_t len = dp_packet_size(packet);
            uint32_t hash = (dp_packet_rss_valid(packet)
                             ? dp_packet_get_rss_hash(packet)
                             : ps_dp_frame_hash(p + size, len - size));
            if (fn) {
                fn(data, p, len, hash);
            } else {
                ps_encap_apply(e->encap, p, len, hash);
            }
        } else {
            memcpy(p, template, size);
        }
        dp_packet_reset_offsets(packet);
        dp_packet_batch_refill(batch, packet, i);
    }

    unsigned long long orig;

    COVERAGE_ADD(protostack_push, n - n_dropped);
    atomic_add_relaxed(&e->n_packets, n - n_dropped, &orig);
    if (n_dropped) {
        COVERAGE_ADD(protostack_drop_headroom, n_dropped);
        atomic_add_relaxed(&e->n_missed, n_dropped, &orig);
        VLOG_WARN_RL(&ps_dp_rl, "push_stack(%s): dropped %llu packets "
                     "with less than %"PRIuSIZE" bytes of headroom",
                     ps_stack_spec(e->stack), n_dropped, size);
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
    unsigned long long orig;

    COVERAGE_ADD(protostack_pop, n_popped);
    COVERAGE_ADD(protostack_pop_miss, n_missed);
    atomic_add_relaxed(&e->n_packets, n_popped, &orig);
    atomic_add_relaxed(&e->n_missed, n_missed, &orig);
}

void
ps_dp_execute(struct dp_packet_batch *batch, const struct nlattr *a)
{
    const uint8_t *data;
    struct ps_dp_entry *e = ps_dp_get_action(a, &data);

    if (OVS_UNLIKELY(!e)) {
        COVERAGE_ADD(protostack_drop_error, dp_packet_batch_size(batch));
        dp_packet_delete_batch(batch, true);
        return;
    }
    if (e->type == OVS_ACTION_ATTR_PUSH_STACK) {
        ps_dp_push(e, data, batch);
    } else {
        ps_dp_pop(e, batch);
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

static void
ps_dp_unixctl_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ps_dp_entry *e;

    CMAP_FOR_EACH (e, node, &ps_dp_entries) {
        unsigned long long n_packets, n_missed;
        struct ds action = DS_EMPTY_INITIALIZER;

        ps_dp_format_key(&action, e->type, e->key, e->key_len);

        atomic_read_relaxed(&e->n_packets, &n_packets);
        atomic_read_relaxed(&e->n_missed, &n_missed);
        ds_put_format(&s, "%s\n  %"PRIuSIZE" bytes, tier %s, compiled in "
                      "%lld us, packets %llu, %s %llu\n",
                      ds_cstr(&action), e->size, ps_dp_tier_name(e),
                      e->compile_ns / 1000, n_packets,
                      e->encap ? "dropped" : "missed", n_missed);
        ds_destroy(&action);
    }

    struct ps_jit_stats stats;
    ps_jit_get_stats(&stats);
    ds_put_format(&s, "jit: %llu compiled, %llu failed, %llu from the disk "
                  "cache, %llu shared in memory\n", stats.compiles,
                  stats.failures, stats.disk_hits, stats.memory_hits);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "protostack/set-tier auto|jit|interp": the tier of every compiled
 * action.  The entries are dropped (their counters too) and compiled
 * again, for the new tier, by the next packets that need them. */
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
        ovsrcu_postpone(ps_dp_entry_free, e);
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
        atomic_store_relaxed(&ps_dp_running, true);
        ovsthread_once_done(&once);
    }
}
