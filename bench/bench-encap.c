/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* bench-encap: the per-packet cost of pushing eth/ip4/udp/vxlan headers
 * (50 bytes) in front of an inner frame, with the constant labels
 * BENCH_ENCAP_LABELS (MACs, addresses, VNI and udp.cksum=0: no UDP
 * checksum, as OvS sends VXLAN by default), in four ways:
 *
 *     best     (b) the best hand-written C: a constant template, the
 *              IPv4 checksum from a sum folded at compile time plus
 *              tot_len with one fold, constant stores.  The baseline.
 *     hand     (h) hand-written C doing what OvS's native tnl_push does
 *              per packet (lib/netdev-native-tnl.c): memcpy() of the
 *              50-byte template, ip tot_len, the IPv4 checksum updated
 *              incrementally from the template's (RFC 1624, OvS's
 *              recalc_csum16()), the UDP source port from the flow hash,
 *              udp len; the UDP checksum stays zero.  The template is
 *              built at start-up, as OvS builds one per megaflow.
 *     static   (s) NAME_encap() of the header that bench/gen-encap
 *              generated at build time from the same stack and labels.
 *     jitfn    (j) the function of an encapsulation created with
 *              PS_TIER_JIT, fetched once with ps_encap_jit_function() and
 *              called per packet, as a caller pushing a batch does: the
 *              same C, compiled at run time by $PROTOSTACK_CC into a
 *              shared object.
 *     jit      (j') ps_encap_apply() of the same encapsulation.
 *     interp   (i) ps_encap_apply() with PS_TIER_INTERP.
 *
 * Way "loop" runs the bare loop (and, with --size, the copy of the inner
 * frame), whose cost every other way includes.
 *
 * Every way must write the same bytes: the program checks that at start-up
 * for several inner sizes and hashes, and exits with status 1 if not.
 *
 * Usage:
 *     bench-encap --check               runs the start-up check only.
 *     bench-encap --timed N             times every way, N packets each
 *                                       (the fastest of 20 runs of N / 20);
 *                                       prints "WAY NS CYCLES" per packet.
 *     bench-encap --one WAY N           encapsulates N packets (for
 *                                       callgrind).
 *     bench-encap --compile-latency K [--cache-dir DIR]
 *                                       (default DIR: a new directory in
 *                                       /tmp) creates K encapsulations that
 *                                       differ in their VNI with
 *                                       PS_TIER_JIT, then the same K again,
 *                                       and reports the latency of each
 *                                       ps_encap_create() by what the JIT
 *                                       did: compile, disk (the shared
 *                                       object was in DIR) or memory.
 *                                       Run it twice on one DIR to see the
 *                                       disk cache hit of a new process.
 *
 * Options for --timed and --one:
 *     --size BYTES   copies an inner frame of BYTES bytes (14 to 1518)
 *                    into the buffer behind the headers for each packet
 *                    before the headers are pushed, as libmoon's
 *                    encapsulation task does (the paper's Listing 8 and
 *                    Fig. 3).  Without it, the inner frame is 64 bytes,
 *                    written once at start-up and never copied: only the
 *                    headers are measured.
 *
 * Packet i goes to buffer i % RING_SIZE of a ring, with RX_HEADROOM bytes
 * of headroom before the inner frame, and has the flow hash
 * i * 2654435761 (mod 2**32).  Its length is read from a per-slot array,
 * as from an mbuf, so that no way can fold the lengths and the IPv4
 * checksum into constants outside the loop.  With --size, the inner frame
 * is copied from the same slot of a second ring, like received frames.  A
 * compiler barrier after each packet (never inside the encapsulation)
 * keeps stores from being merged across packets or dropped. */

#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "protostack/protostack.h"
#include "hand-written.h"
#include "ps_bench_vxlan.h"

#ifndef BENCH_ENCAP_LABELS
#error "BENCH_ENCAP_LABELS must be defined (see bench/encap.mk)"
#endif

#define SPEC "eth,ip4,udp,vxlan"
#define RING_SIZE 256           /* Packet buffers, used in turn. */
#define RX_HEADROOM 128         /* As DPDK's RTE_PKTMBUF_HEADROOM. */
#define HDR_LEN 50              /* eth + ip4 + udp + vxlan. */
#define DEFAULT_INNER_LEN 64
#define MIN_INNER_LEN 14
#define MAX_INNER_LEN 1518
#define TIMED_CHUNKS 20         /* Timed runs per way; the best counts. */
#define HASH_MULT UINT32_C(2654435761)

#define BARRIER() asm volatile("" ::: "memory")
#define ALWAYS_INLINE inline __attribute__((__always_inline__))
#define NOINLINE __attribute__((__noinline__))
#define OVS_UNUSED __attribute__((__unused__))


/* What the ways need besides the packet, set up before any loop. */
struct bench_ctx {
    const struct ps_encap *jit;         /* PS_TIER_JIT. */
    ps_encap_fn *jit_fn;                /* Its compiled function. */
    const uint8_t *jit_data;            /* And the data it takes. */
    const struct ps_encap *interp;      /* PS_TIER_INTERP. */
    uint8_t *tx;                        /* RING_SIZE buffers of tx_stride. */
    size_t tx_stride;
    const uint8_t *rx;                  /* RING_SIZE inner frames. */
    size_t rx_stride;
    const uint32_t *lens;               /* Each slot's inner frame length,
                                         * read per packet like an mbuf's
                                         * length: the same for all, but
                                         * the compiler cannot know it. */
    size_t inner_len;
    bool copy;                          /* Copy the inner frame? */
};

/* (h) Hand-written, as OvS's native tunnel push, on the structs of
 * bench/hand-written.h. */

_Static_assert(HW_HDR_LEN == HDR_LEN,
               "bad hand-written structs");
_Static_assert(ps_bench_vxlan_SIZE == HDR_LEN, "bad static header");

/* Built once at start-up, like the header OvS keeps per megaflow. */
static struct hw_vxlan_hdr hw_template __attribute__((__aligned__(64)));

static ALWAYS_INLINE void
hand_encap(const struct bench_ctx *ctx OVS_UNUSED, uint8_t *pkt,
           size_t pkt_len, uint32_t hash)
{
    hw_ovs_encap(&hw_template, pkt, pkt_len, hash);
}

/* (b) The best hand-written way. */
static ALWAYS_INLINE void
best_encap(const struct bench_ctx *ctx OVS_UNUSED, uint8_t *pkt,
           size_t pkt_len, uint32_t hash)
{
    hw_best_encap(pkt, pkt_len, hash);
}

/* (s) Static, generated at build time. */
static ALWAYS_INLINE void
static_encap(const struct bench_ctx *ctx OVS_UNUSED, uint8_t *pkt,
             size_t pkt_len, uint32_t hash)
{
    ps_bench_vxlan_encap((struct ps_bench_vxlan *) pkt, pkt_len, hash);
}

/* (j) JIT. */
static ALWAYS_INLINE void
jit_encap(const struct bench_ctx *ctx, uint8_t *pkt, size_t pkt_len,
          uint32_t hash)
{
    ps_encap_apply(ctx->jit, pkt, pkt_len, hash);
}

/* (j) JIT, the compiled function called directly. */
static ALWAYS_INLINE void
jitfn_encap(const struct bench_ctx *ctx, uint8_t *pkt, size_t pkt_len,
            uint32_t hash)
{
    ctx->jit_fn(ctx->jit_data, pkt, pkt_len, hash);
}

/* (i) Interpreter. */
static ALWAYS_INLINE void
interp_encap(const struct bench_ctx *ctx, uint8_t *pkt, size_t pkt_len,
             uint32_t hash)
{
    ps_encap_apply(ctx->interp, pkt, pkt_len, hash);
}

/* The bare loop.  It keeps the per-packet inputs that every way uses
 * alive (the packet's address, its length read from the slot, the hash),
 * so that subtracting it removes the harness and nothing more. */
static ALWAYS_INLINE void
loop_encap(const struct bench_ctx *ctx OVS_UNUSED, uint8_t *pkt,
           size_t pkt_len, uint32_t hash)
{
    asm volatile("" :: "r"(pkt), "r"(pkt_len), "r"(hash));
}

/* For each way, loop_WAY() encapsulates 'n' packets with the way inlined
 * into the loop (ps_encap_apply() itself is a call into the library).  The
 * loop works on a copy of '*ctxp' in local variables, so that the barrier
 * does not force the context to be read again for each packet. */
#define BENCH_WAY(WAY)                                                  \
    static void NOINLINE                                                \
    loop_##WAY(const struct bench_ctx *ctxp, uint64_t n)                \
    {                                                                   \
        const struct bench_ctx ctx = *ctxp;                             \
                                                                        \
        for (uint64_t i = 0; i < n; i++) {                              \
            size_t slot = i % RING_SIZE;                                \
            size_t inner_len = ctx.lens[slot];                          \
            uint8_t *inner = ctx.tx + slot * ctx.tx_stride              \
                             + RX_HEADROOM;                             \
                                                                        \
            if (ctx.copy) {                                             \
                memcpy(inner, ctx.rx + slot * ctx.rx_stride, inner_len); \
            }                                                           \
            WAY##_encap(&ctx, inner - HDR_LEN, inner_len + HDR_LEN,     \
                        (uint32_t) i * HASH_MULT);                      \
            BARRIER();                                                  \
        }                                                               \
    }                                                                   \
                                                                        \
    static void                                                         \
    once_##WAY(const struct bench_ctx *ctx, uint8_t *pkt,               \
               size_t pkt_len, uint32_t hash)                           \
    {                                                                   \
        WAY##_encap(ctx, pkt, pkt_len, hash);                           \
    }

BENCH_WAY(loop)
BENCH_WAY(best)
BENCH_WAY(hand)
BENCH_WAY(static)
BENCH_WAY(jitfn)
BENCH_WAY(jit)
BENCH_WAY(interp)

struct way {
    const char *name;
    void (*loop)(const struct bench_ctx *, uint64_t n);
    void (*once)(const struct bench_ctx *, uint8_t *pkt, size_t pkt_len,
                 uint32_t hash);
};

static const struct way ways[] = {
    { "loop", loop_loop, once_loop },
    { "best", loop_best, once_best },
    { "hand", loop_hand, once_hand },
    { "static", loop_static, once_static },
    { "jitfn", loop_jitfn, once_jitfn },
    { "jit", loop_jit, once_jit },
    { "interp", loop_interp, once_interp },
};
#define N_WAYS (sizeof ways / sizeof ways[0])

static void __attribute__((__noreturn__))
fatal(const char *format, const char *arg)
{
    fprintf(stderr, "bench-encap: ");
    fprintf(stderr, format, arg);
    fputc('\n', stderr);
    exit(1);
}

static void *
xmalloc_aligned(size_t size)
{
    void *p;

    if (posix_memalign(&p, 64, size)) {
        fatal("out of memory%s", "");
    }
    memset(p, 0, size);
    return p;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * UINT64_C(1000000000) + ts.tv_nsec;
}

static inline uint64_t
cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return 0;
#endif
}

static uint64_t
parse_count(const char *s, const char *what)
{
    char *end;

    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || !v) {
        fatal("%s: expected a positive integer", what);
    }
    return v;
}

/* The library objects every mode needs. */
struct bench_env {
    struct ps_registry *reg;
    struct ps_stack *stack;
    struct ps_encap *jit;
    struct ps_encap *interp;
};

static void
env_create(struct bench_env *env, bool with_encaps)
{
    char *error = NULL;

    env->reg = ps_registry_create();
    env->stack = NULL;
    env->jit = env->interp = NULL;
    if (ps_registry_load_default(env->reg, &error)
        || ps_stack_create(env->reg, SPEC, &env->stack, &error)) {
        fatal("%s", error);
    }
    if (!with_encaps) {
        return;
    }
    if (ps_encap_create(env->stack, BENCH_ENCAP_LABELS, PS_TIER_JIT,
                        &env->jit, &error)
        || ps_encap_create(env->stack, BENCH_ENCAP_LABELS, PS_TIER_INTERP,
                           &env->interp, &error)) {
        fatal("%s", error);
    }
    if (ps_encap_tier(env->jit) != PS_TIER_JIT
        || ps_encap_tier(env->interp) != PS_TIER_INTERP) {
        fatal("encapsulations are not in the tiers asked for%s", "");
    }
    if (ps_encap_size(env->jit) != HDR_LEN) {
        fatal("stack " SPEC " is not %s bytes", "50");
    }
}

static void
env_destroy(struct bench_env *env)
{
    ps_encap_destroy(env->jit);
    ps_encap_destroy(env->interp);
    ps_stack_destroy(env->stack);
    ps_registry_destroy(env->reg);
}

/* Sets up the rings for inner frames of 'inner_len' bytes. */
static void
ctx_init(struct bench_ctx *ctx, const struct bench_env *env,
         size_t inner_len, bool copy)
{
    ctx->jit = env->jit;
    ctx->jit_fn = env->jit ? ps_encap_jit_function(env->jit) : NULL;
    ctx->jit_data = env->jit ? ps_encap_jit_data(env->jit) : NULL;
    ctx->interp = env->interp;
    ctx->inner_len = inner_len;
    ctx->copy = copy;
    ctx->tx_stride = (RX_HEADROOM + inner_len + 63) / 64 * 64;
    ctx->rx_stride = (inner_len + 63) / 64 * 64;
    ctx->tx = xmalloc_aligned(RING_SIZE * ctx->tx_stride);

    uint8_t *rx = xmalloc_aligned(RING_SIZE * ctx->rx_stride);
    uint32_t *lens = xmalloc_aligned(RING_SIZE * sizeof *lens);
    for (size_t slot = 0; slot < RING_SIZE; slot++) {
        lens[slot] = inner_len;
        for (size_t j = 0; j < inner_len; j++) {
            rx[slot * ctx->rx_stride + j] = slot * 7 + j;
        }
        memcpy(ctx->tx + slot * ctx->tx_stride + RX_HEADROOM,
               rx + slot * ctx->rx_stride, inner_len);
    }
    ctx->rx = rx;
    ctx->lens = lens;
}

static void
ctx_destroy(struct bench_ctx *ctx)
{
    free(ctx->tx);
    free((void *) ctx->rx);
    free((void *) ctx->lens);
}

/* The start-up check: every way writes the same bytes as the hand-written
 * one, for several inner sizes and hashes, and the hand-written packet is
 * right (IPv4 checksum, lengths, source port range).  Returns false, after
 * printing what differs, if not. */
static bool
check_ways(const struct bench_env *env)
{
    static const size_t sizes[] = { 0, 1, 14, 46, 64, 65, 200, 1000, 1518 };
    static const uint32_t hashes[] = {
        0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x12345678,
        (uint32_t) 3 * HASH_MULT, (uint32_t) 1000 * HASH_MULT,
    };
    enum { BUF = HDR_LEN + MAX_INNER_LEN };
    static uint8_t bufs[N_WAYS][BUF];
    struct bench_ctx ctx;
    bool ok = true;

    ctx_init(&ctx, env, DEFAULT_INNER_LEN, false);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t pkt_len = HDR_LEN + sizes[si];
        for (size_t hi = 0; hi < sizeof hashes / sizeof hashes[0]; hi++) {
            uint32_t hash = hashes[hi];
            for (size_t w = 1; w < N_WAYS; w++) {
                /* Garbage where the headers go, so that a byte a way
                 * does not write shows up; the same payload for all. */
                memset(bufs[w], 0x5a + w, HDR_LEN);
                for (size_t j = HDR_LEN; j < BUF; j++) {
                    bufs[w][j] = j * 13;
                }
                ways[w].once(&ctx, bufs[w], pkt_len, hash);
            }
            for (size_t w = 2; w < N_WAYS; w++) {
                if (memcmp(bufs[w], bufs[1], pkt_len)) {
                    fprintf(stderr, "bench-encap: way %s differs from way "
                            "best (inner %zu bytes, hash 0x%08"PRIx32"):\n",
                            ways[w].name, sizes[si], hash);
                    for (size_t j = 0; j < HDR_LEN; j++) {
                        if (bufs[w][j] != bufs[1][j]) {
                            fprintf(stderr, "    byte %zu: 0x%02x, best "
                                    "0x%02x\n", j, bufs[w][j], bufs[1][j]);
                        }
                    }
                    ok = false;
                }
            }

            /* The hand-written packet is right. */
            const struct hw_vxlan_hdr *h = (const void *) bufs[1];
            uint32_t sum = 0;
            for (size_t j = 0; j < sizeof h->ip4; j += 2) {
                uint16_t w;

                memcpy(&w, (const uint8_t *) &h->ip4 + j, 2);
                sum += w;
            }
            uint32_t port = ntohs(h->udp.src);
            if (hw_csum_finish(sum)
                || ntohs(h->ip4.tot_len) != pkt_len - 14
                || ntohs(h->udp.len) != pkt_len - 34
                || port < PS_ENTROPY_MIN || port >= PS_ENTROPY_MAX
                || h->udp.csum) {
                fprintf(stderr, "bench-encap: bad hand-written packet "
                        "(inner %zu bytes, hash 0x%08"PRIx32")\n",
                        sizes[si], hash);
                ok = false;
            }
        }
    }
    ctx_destroy(&ctx);
    return ok;
}

static void
run_timed(const struct bench_env *env, uint64_t n, size_t inner_len,
          bool copy)
{
    uint64_t chunk = n / TIMED_CHUNKS ? n / TIMED_CHUNKS : 1;
    struct bench_ctx ctx;

    ctx_init(&ctx, env, inner_len, copy);
    printf("# way ns/packet cycles/packet (TSC), best of %d runs of "
           "%"PRIu64" packets, inner frame %zu bytes%s\n", TIMED_CHUNKS,
           chunk, inner_len, copy ? " copied" : "");
    for (size_t w = 0; w < N_WAYS; w++) {
        double best_ns = 0, best_cycles = 0;

        ways[w].loop(&ctx, chunk);      /* Warm up. */
        for (int r = 0; r < TIMED_CHUNKS; r++) {
            uint64_t t0 = now_ns();
            uint64_t c0 = cycles();
            ways[w].loop(&ctx, chunk);
            uint64_t c1 = cycles();
            uint64_t t1 = now_ns();
            double ns = (double) (t1 - t0) / chunk;
            if (!r || ns < best_ns) {
                best_ns = ns;
                best_cycles = (double) (c1 - c0) / chunk;
            }
        }
        printf("%s %.2f %.1f\n", ways[w].name, best_ns, best_cycles);
    }
    ctx_destroy(&ctx);
}

static void
run_one(const struct bench_env *env, const char *name, uint64_t n,
        size_t inner_len, bool copy)
{
    for (size_t w = 0; w < N_WAYS; w++) {
        if (!strcmp(ways[w].name, name)) {
            struct bench_ctx ctx;

            ctx_init(&ctx, env, inner_len, copy);
            ways[w].loop(&ctx, n);
            ctx_destroy(&ctx);
            return;
        }
    }
    fatal("%s: unknown way (loop, best, hand, static, jitfn, jit, "
          "interp)", name);
}

static int
compare_u64(const void *a_, const void *b_)
{
    const uint64_t *a = a_, *b = b_;

    return *a < *b ? -1 : *a > *b;
}

/* Prints "latency KIND N MEDIAN_MS MAX_MS" for the 'n' latencies in ns at
 * 'v' (sorted here). */
static void
print_latency(const char *kind, uint64_t *v, size_t n)
{
    if (!n) {
        printf("latency %s 0 - -\n", kind);
        return;
    }
    qsort(v, n, sizeof *v, compare_u64);
    double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    printf("latency %s %zu %.3f %.3f\n", kind, n, median / 1e6,
           v[n - 1] / 1e6);
}

/* Creates 'k' JIT encapsulations of distinct shapes (encapsulations that
 * differ only in label values share a module): IPv4 options of 0 to 40
 * bytes times Geneve options of 0, 4, 8... bytes, twice, and reports each
 * creation's latency by what the JIT did.  There is no start-up check in
 * this mode, so that nothing but these 'k' modules goes into the
 * cache. */
static void
run_compile_latency(const struct bench_env *env, size_t k)
{
    enum { COMPILE, DISK, MEMORY, N_KINDS };
    static const char *const kind_names[N_KINDS] = {
        "compile", "disk", "memory"
    };
    uint64_t *lat[N_KINDS];
    uint64_t *compiler_ns = calloc(2 * k, sizeof *compiler_ns);
    size_t n_lat[N_KINDS] = { 0 }, n_compiler = 0;
    struct ps_encap **encaps = calloc(k, sizeof *encaps);

    for (int i = 0; i < N_KINDS; i++) {
        lat[i] = calloc(2 * k, sizeof *lat[i]);
    }
    printf("# cache %s, compiler \"%s\"\n", ps_jit_cache_dir(),
           getenv("PROTOSTACK_CC") ? getenv("PROTOSTACK_CC") : "cc");
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < k; i++) {
            char spec[128], *labels = strdup("geneve.vni=7");
            const struct ps_stack *stack;
            struct ps_jit_stats before, after;
            struct ps_encap *encap;
            char *error = NULL;

            snprintf(spec, sizeof spec, "eth,{ip4,length=%zu},udp,"
                     "{geneve,length=%zu}", 4 * (i % 11), 4 * (i / 11));
            if (ps_registry_stack(env->reg, spec, &stack, &error)) {
                fatal("%s", error);
            }
            ps_jit_get_stats(&before);
            uint64_t t0 = now_ns();
            if (ps_encap_create(stack, labels, PS_TIER_JIT, &encap,
                                &error)) {
                fatal("%s", error);
            }
            uint64_t t = now_ns() - t0;
            ps_jit_get_stats(&after);

            int kind;
            if (after.compiles > before.compiles) {
                kind = COMPILE;
                compiler_ns[n_compiler++] = after.last_compile_ns;
            } else if (after.disk_hits > before.disk_hits) {
                kind = DISK;
            } else if (after.memory_hits > before.memory_hits) {
                kind = MEMORY;
            } else {
                fatal("JIT statistics did not move for \"%s\"", labels);
            }
            lat[kind][n_lat[kind]++] = t;
            printf("create %d %zu %s %.3f\n", pass, i, kind_names[kind],
                   t / 1e6);
            free(labels);
            if (pass) {
                ps_encap_destroy(encap);
            } else {
                encaps[i] = encap;
            }
        }
    }
    for (int i = 0; i < N_KINDS; i++) {
        print_latency(kind_names[i], lat[i], n_lat[i]);
        free(lat[i]);
    }
    print_latency("compiler-run", compiler_ns, n_compiler);
    for (size_t i = 0; i < k; i++) {
        ps_encap_destroy(encaps[i]);
    }
    free(encaps);
    free(compiler_ns);
}

/* Resident memory of the process, in KB. */
static long
rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) {
            resident = 0;
        }
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Creates 'k' encapsulations of one shape that differ in label values,
 * in the JIT tier, for two tunnels: eth/ip4/udp/vxlan with distinct VNIs
 * and addresses, and eth/ip6/udp/geneve with 8 bytes of distinct options.
 * Reports for each the creation rate, the modules the JIT compiled or
 * loaded, and the resident memory they added. */
static void
run_create_many(const struct bench_env *env, size_t k)
{
    static const char *const specs[] = {
        "eth,ip4,udp,vxlan",
        "eth,ip6,udp,{geneve,length=8}",
    };
    printf("# cache %s\n", ps_jit_cache_dir());
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        struct ps_encap **encaps = calloc(k, sizeof *encaps);
        const struct ps_stack *stack;
        struct ps_jit_stats before, after;
        char *error = NULL;
        char labels[256];

        if (ps_registry_stack(env->reg, specs[s], &stack, &error)) {
            fatal("%s", error);
        }
        long rss0 = rss_kb();
        ps_jit_get_stats(&before);
        uint64_t t0 = now_ns();
        for (size_t i = 0; i < k; i++) {
            if (s == 0) {
                snprintf(labels, sizeof labels, "vxlan.vni=%zu,"
                         "ip4.src=192.0.2.1,ip4.dst=10.%zu.%zu.%zu", i,
                         i >> 16, (i >> 8) & 255, i & 255);
            } else {
                snprintf(labels, sizeof labels, "geneve.vni=%zu,"
                         "ip6.dst=2001:db8::%zx,geneve.options="
                         "0x0101%04zx%08x", i, i, i & 0xffff,
                         (unsigned int) (i * 2654435761u));
            }
            if (ps_encap_create(stack, labels, PS_TIER_JIT, &encaps[i],
                                &error)) {
                fatal("%s", error);
            }
        }
        uint64_t t = now_ns() - t0;
        ps_jit_get_stats(&after);
        long rss1 = rss_kb();
        printf("create-many %s %zu %.3f %.0f %llu %llu %llu %ld\n",
               specs[s], k, t / 1e9, k / (t / 1e9),
               after.compiles - before.compiles,
               after.disk_hits - before.disk_hits,
               after.memory_hits - before.memory_hits, rss1 - rss0);
        for (size_t i = 0; i < k; i++) {
            ps_encap_destroy(encaps[i]);
        }
        free(encaps);
    }
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: bench-encap [--size BYTES] --check\n"
            "       bench-encap [--size BYTES] --timed N\n"
            "       bench-encap [--size BYTES] --one WAY N\n"
            "       bench-encap [--cache-dir DIR] --compile-latency K\n"
            "       bench-encap [--cache-dir DIR] --create-many K\n"
            "WAY: loop, best, hand, static, jitfn, jit, interp\n");
    exit(2);
}

int
main(int argc, char *argv[])
{
    const char *mode = NULL, *way = NULL, *cache_dir = NULL;
    uint64_t n = 0;
    size_t inner_len = DEFAULT_INNER_LEN;
    bool copy = false;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--check")) {
            mode = arg;
        } else if (!strcmp(arg, "--timed") && i + 1 < argc) {
            mode = arg;
            n = parse_count(argv[++i], "--timed");
        } else if (!strcmp(arg, "--one") && i + 2 < argc) {
            mode = arg;
            way = argv[++i];
            n = parse_count(argv[++i], "--one");
        } else if (!strcmp(arg, "--compile-latency") && i + 1 < argc) {
            mode = arg;
            n = parse_count(argv[++i], "--compile-latency");
        } else if (!strcmp(arg, "--create-many") && i + 1 < argc) {
            mode = arg;
            n = parse_count(argv[++i], "--create-many");
        } else if (!strcmp(arg, "--size") && i + 1 < argc) {
            inner_len = parse_count(argv[++i], "--size");
            copy = true;
            if (inner_len < MIN_INNER_LEN || inner_len > MAX_INNER_LEN) {
                fatal("--size %s: expected 14 to 1518 bytes", argv[i]);
            }
        } else if (!strcmp(arg, "--cache-dir") && i + 1 < argc) {
            cache_dir = argv[++i];
        } else {
            usage();
        }
    }
    if (!mode) {
        usage();
    }

    /* The tiers are chosen here, one per way: $PROTOSTACK_TIER must not
     * override them. */
    unsetenv("PROTOSTACK_TIER");
    char tmp_dir[] = "/tmp/bench-encap-jit.XXXXXX";
    bool create_many = !strcmp(mode, "--create-many");
    if (!cache_dir && (!strcmp(mode, "--compile-latency") || create_many)) {
        /* An empty cache, left behind for a second run with
         * --cache-dir. */
        cache_dir = mkdtemp(tmp_dir);
        if (!cache_dir) {
            fatal("mkdtemp: %s", strerror(errno));
        }
    }
    if (cache_dir) {
        ps_jit_set_cache_dir(cache_dir);
    }

    struct bench_env env;
    bool compile_latency = !strcmp(mode, "--compile-latency");
    env_create(&env, !compile_latency && !create_many);
    hw_ovs_build_template(&hw_template);
    if (!compile_latency && !create_many && !check_ways(&env)) {
        fprintf(stderr, "bench-encap: the ways do not give the same "
                "bytes\n");
        return 1;
    }

    if (!strcmp(mode, "--check")) {
        printf("all ways give the same bytes\n");
    } else if (!strcmp(mode, "--timed")) {
        run_timed(&env, n, inner_len, copy);
    } else if (!strcmp(mode, "--one")) {
        run_one(&env, way, n, inner_len, copy);
    } else if (create_many) {
        run_create_many(&env, n);
    } else {
        run_compile_latency(&env, n);
    }
    env_destroy(&env);
    return fflush(stdout) ? 1 : 0;
}
