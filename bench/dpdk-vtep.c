/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* dpdk-vtep: the libmoon paper's Listing 8 in C.  One lcore receives
 * bursts of 32 packets from a DPDK port, pushes eth/ip4/udp/vxlan headers
 * (the labels of BENCH_ENCAP_LABELS, no UDP checksum, as OvS sends
 * VXLAN) in front of each, and transmits them on a second port.  With
 * net_null vdevs for both ports, what is measured is the encapsulation
 * and the I/O of the DPDK driver, nothing else.
 *
 * Modes, each the same loop with another encapsulation inlined into it:
 *
 *     floor        no encapsulation: receive and transmit (the I/O floor)
 *     best         (b) the best hand-written C (bench/hand-written.h)
 *     ovs          (h) hand-written as OvS's native tnl_push
 *     static       NAME_encap() of the header that "protostack gen SPEC
 *                  LABELS" printed at build time
 *     static-fill  the header that "protostack gen SPEC" (no labels)
 *                  printed: fill, setters for the labels, set_length,
 *                  set_entropy and the IPv4 header's fix_checksum, as a
 *                  user of the generated accessors writes it
 *     jit          the JIT's function, fetched once per burst with
 *                  ps_encap_jit_function(), called per packet
 *     interp       ps_encap_apply() of a PS_TIER_INTERP encapsulation
 *
 * Usage: dpdk-vtep [EAL options] -- [--packets N] [--reps R]
 *                  [--modes M1,M2,...]
 * The EAL options must create two ports (e.g. "--vdev net_null0 --vdev
 * net_null1"); port 0 receives, port 1 transmits.  Each repetition runs
 * every mode for N packets (default 10,000,000), R times (default 7);
 * within a repetition the modes take turns every 100,000 packets (a few
 * ms), so that drift in the machine's speed, which other jobs on it
 * cause, spreads over all of them.  Bursts that take longer than 50 us (the
 * thread was preempted: a burst takes a few us) are left out, cycles and
 * packets.  Prints one "raw MODE REP CYCLES PACKETS SKIPPED_BURSTS" line
 * per run, then a Markdown table: the median, lowest and highest
 * TSC cycles per packet, the median Mpps, and each mode's cost above the
 * floor with its ratio to (b).
 *
 * Before measuring, every mode's bytes are checked against those of (b)
 * for several lengths and hashes; the program exits with status 1 if any
 * differ. */

#include <config.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "protostack/protostack.h"
#include "hand-written.h"
#include "vtep_labels.h"
#include "vtep_plain.h"

#ifndef BENCH_ENCAP_LABELS
#error "BENCH_ENCAP_LABELS must be defined (see bench/encap.mk)"
#endif

#define VTEP_UNUSED __attribute__((__unused__))

#define BURST 32
#define SLICE UINT64_C(100000)  /* Packets that a mode runs at a turn. */
#define N_MBUFS 8191
#define RX_PORT 0
#define TX_PORT 1

_Static_assert(vtep_SIZE == HW_HDR_LEN, "bad static header");
_Static_assert(vtep_plain_SIZE == HW_HDR_LEN, "bad static header");

/* What the encapsulations need. */
struct vtep_ctx {
    struct hw_vxlan_hdr ovs_template;
    struct ps_encap *jit;
    struct ps_encap *interp;
    uint64_t drops;             /* Packets without headroom. */
};

/* The encapsulations, each of the packet 'pkt' of 'len' bytes whose
 * headers it writes, with flow hash 'hash'. */

static inline void
encap_best(struct vtep_ctx *v VTEP_UNUSED, uint8_t *pkt, size_t len,
           uint32_t hash)
{
    hw_best_encap(pkt, len, hash);
}

static inline void
encap_ovs(struct vtep_ctx *v, uint8_t *pkt, size_t len, uint32_t hash)
{
    hw_ovs_encap(&v->ovs_template, pkt, len, hash);
}

static inline void
encap_static(struct vtep_ctx *v VTEP_UNUSED, uint8_t *pkt, size_t len,
             uint32_t hash)
{
    vtep_encap((struct vtep *) pkt, len, hash);
}

static inline void
encap_static_fill(struct vtep_ctx *v VTEP_UNUSED, uint8_t *pkt, size_t len,
                  uint32_t hash)
{
    static const struct ps_mac src = { { HW_ETH_SRC } };
    static const struct ps_mac dst = { { HW_ETH_DST } };
    struct vtep_plain *p = (struct vtep_plain *) pkt;

    vtep_plain_fill(p);
    vtep_plain_eth_src_set(p, &src);
    vtep_plain_eth_dst_set(p, &dst);
    vtep_plain_ip4_src_set(p, HW_IP4_SRC);
    vtep_plain_ip4_dst_set(p, HW_IP4_DST);
    vtep_plain_vxlan_vni_set(p, HW_VNI);
    vtep_plain_udp_cksum_set(p, 0);
    vtep_plain_set_length(p, len);
    vtep_plain_set_entropy(p, hash);
    vtep_plain_ip4_fix_checksum(p, len);
}

static inline void
encap_interp(struct vtep_ctx *v, uint8_t *pkt, size_t len, uint32_t hash)
{
    ps_encap_apply(v->interp, pkt, len, hash);
}

/* Encapsulates the 'n' packets of 'pkts' with ENCAP, dropping any that
 * lack headroom (net_null's never do). */
#define ENCAP_BURST(ENCAP, V, PKTS, N)                                  \
    for (uint16_t i_ = 0; i_ < (N); i_++) {                             \
        struct rte_mbuf *m_ = (PKTS)[i_];                               \
        uint8_t *p_ = (uint8_t *) rte_pktmbuf_prepend(m_, HW_HDR_LEN);  \
        if (unlikely(!p_)) {                                            \
            (V)->drops++;                                               \
            continue;                                                   \
        }                                                               \
        ENCAP((V), p_, rte_pktmbuf_pkt_len(m_), m_->hash.rss);          \
    }

enum mode {
    MODE_FLOOR,
    MODE_BEST,
    MODE_OVS,
    MODE_STATIC,
    MODE_STATIC_FILL,
    MODE_JIT,
    MODE_INTERP,
    N_MODES
};

static const char *const mode_names[N_MODES] = {
    "floor", "best", "ovs", "static", "static-fill", "jit", "interp",
};

/* Forwards 'n_pkts' packets (at least) in mode 'mode'.  Returns the TSC
 * cycles that the bursts took and stores their packets in '*donep',
 * leaving out every burst that took longer than 'limit' cycles: on a
 * machine shared with other jobs the thread is sometimes preempted, for
 * far longer than a burst takes, and those bursts would measure the other
 * jobs.  Stores the number of bursts left out in '*skippedp'. */
static uint64_t
run(struct vtep_ctx *v, enum mode mode, uint64_t n_pkts, uint64_t limit,
    uint64_t *donep, uint64_t *skippedp)
{
    struct rte_mbuf *pkts[BURST];
    uint64_t done = 0, counted = 0, cycles = 0, skipped = 0;
    uint64_t prev = rte_rdtsc();

    while (done < n_pkts) {
        uint16_t n = rte_eth_rx_burst(RX_PORT, 0, pkts, BURST);

        switch (mode) {
        case MODE_FLOOR:
            break;
        case MODE_BEST:
            ENCAP_BURST(encap_best, v, pkts, n);
            break;
        case MODE_OVS:
            ENCAP_BURST(encap_ovs, v, pkts, n);
            break;
        case MODE_STATIC:
            ENCAP_BURST(encap_static, v, pkts, n);
            break;
        case MODE_STATIC_FILL:
            ENCAP_BURST(encap_static_fill, v, pkts, n);
            break;
        case MODE_JIT: {
            ps_encap_fn *fn = ps_encap_jit_function(v->jit);
            const uint8_t *data = ps_encap_jit_data(v->jit);
#define ENCAP_JIT(V, P, LEN, HASH) fn(data, P, LEN, HASH)
            ENCAP_BURST(ENCAP_JIT, v, pkts, n);
#undef ENCAP_JIT
            break;
        }
        case MODE_INTERP:
            ENCAP_BURST(encap_interp, v, pkts, n);
            break;
        case N_MODES:
        default:
            abort();
        }

        uint16_t sent = rte_eth_tx_burst(TX_PORT, 0, pkts, n);
        for (uint16_t i = sent; i < n; i++) {
            rte_pktmbuf_free(pkts[i]);
        }
        done += n;

        uint64_t now = rte_rdtsc();
        if (now - prev <= limit) {
            cycles += now - prev;
            counted += n;
        } else {
            skipped++;
        }
        prev = now;
    }
    *donep = counted;
    *skippedp = skipped;
    return cycles;
}

static void __attribute__((__noreturn__))
fatal(const char *message, const char *detail)
{
    fprintf(stderr, "dpdk-vtep: %s%s%s\n", message, detail ? ": " : "",
            detail ? detail : "");
    exit(1);
}

/* Checks that every mode writes the bytes of (b). */
static void
check_modes(struct vtep_ctx *v)
{
    static const size_t lens[] = { 64, 65, 114, 1000, 1514 };
    static const uint32_t hashes[] = { 0, 1, 0x9e3779b9, 0xffffffff };
    static uint8_t want[2048], got[2048];

    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        for (size_t j = 0; j < sizeof hashes / sizeof *hashes; j++) {
            size_t len = lens[i] + HW_HDR_LEN;
            uint32_t hash = hashes[j];
            ps_encap_fn *fn = ps_encap_jit_function(v->jit);
            const uint8_t *data = ps_encap_jit_data(v->jit);

            memset(want, 0x5a, len);
            hw_best_encap(want, len, hash);
            for (int mode = MODE_OVS; mode < N_MODES; mode++) {
                memset(got, 0xa5, len);
                memset(got + HW_HDR_LEN, 0x5a, len - HW_HDR_LEN);
                switch ((enum mode) mode) {
                case MODE_OVS:
                    encap_ovs(v, got, len, hash);
                    break;
                case MODE_STATIC:
                    encap_static(v, got, len, hash);
                    break;
                case MODE_STATIC_FILL:
                    encap_static_fill(v, got, len, hash);
                    break;
                case MODE_JIT:
                    fn(data, got, len, hash);
                    break;
                case MODE_INTERP:
                    encap_interp(v, got, len, hash);
                    break;
                case MODE_FLOOR:
                case MODE_BEST:
                case N_MODES:
                default:
                    break;
                }
                if (memcmp(want, got, len)) {
                    fatal("a mode writes other bytes than (b)",
                          mode_names[mode]);
                }
            }
        }
    }
}

static void
port_init(uint16_t port, struct rte_mempool *pool)
{
    struct rte_eth_conf conf;
    char name[RTE_ETH_NAME_MAX_LEN];

    memset(&conf, 0, sizeof conf);
    if (rte_eth_dev_get_name_by_port(port, name)) {
        snprintf(name, sizeof name, "port %u", port);
    }
    if (rte_eth_dev_configure(port, 1, 1, &conf) < 0
        || rte_eth_rx_queue_setup(port, 0, 1024, rte_socket_id(), NULL,
                                  pool) < 0
        || rte_eth_tx_queue_setup(port, 0, 1024, rte_socket_id(),
                                  NULL) < 0
        || rte_eth_dev_start(port) < 0) {
        fatal("cannot set up", name);
    }
}

static int
compare_u64(const void *a_, const void *b_)
{
    const uint64_t *a = a_, *b = b_;
    return *a < *b ? -1 : *a > *b;
}

int
main(int argc, char *argv[])
{
    int eal_args = rte_eal_init(argc, argv);
    if (eal_args < 0) {
        fatal("cannot initialise the EAL", rte_strerror(rte_errno));
    }
    argc -= eal_args;
    argv += eal_args;

    uint64_t n_pkts = 10000000;
    int reps = 7;
    bool wanted[N_MODES];
    for (int m = 0; m < N_MODES; m++) {
        wanted[m] = true;
    }
    static const struct option longopts[] = {
        { "packets", required_argument, NULL, 'n' },
        { "reps", required_argument, NULL, 'r' },
        { "modes", required_argument, NULL, 'm' },
        { NULL, 0, NULL, 0 },
    };
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        char *end;
        switch (c) {
        case 'n':
            n_pkts = strtoull(optarg, &end, 10);
            if (*end || !n_pkts) {
                fatal("--packets needs a positive number", optarg);
            }
            break;
        case 'r':
            reps = strtol(optarg, &end, 10);
            if (*end || reps < 1) {
                fatal("--reps needs a positive number", optarg);
            }
            break;
        case 'm': {
            char *copy = strdup(optarg), *save;
            for (int m = 0; m < N_MODES; m++) {
                wanted[m] = m == MODE_FLOOR || m == MODE_BEST;
            }
            for (char *w = strtok_r(copy, ",", &save); w;
                 w = strtok_r(NULL, ",", &save)) {
                int m = 0;
                while (m < N_MODES && strcmp(w, mode_names[m])) {
                    m++;
                }
                if (m == N_MODES) {
                    fatal("unknown mode", w);
                }
                wanted[m] = true;
            }
            free(copy);
            break;
        }
        default:
            fatal("usage: dpdk-vtep [EAL options] -- [--packets N] "
                  "[--reps R] [--modes M,...]", NULL);
        }
    }
    if (rte_eth_dev_count_avail() < 2) {
        fatal("needs two ports, e.g. --vdev net_null0 --vdev net_null1",
              NULL);
    }

    struct rte_mempool *pool = rte_pktmbuf_pool_create(
        "vtep", N_MBUFS, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
        rte_socket_id());
    if (!pool) {
        fatal("cannot create the mbuf pool", rte_strerror(rte_errno));
    }
    port_init(RX_PORT, pool);
    port_init(TX_PORT, pool);

    /* The library's encapsulations. */
    struct vtep_ctx v;
    struct ps_registry *reg = ps_registry_create();
    struct ps_stack *stack;
    char *error = NULL;
    memset(&v, 0, sizeof v);
    hw_ovs_build_template(&v.ovs_template);
    if (ps_registry_load_default(reg, &error)
        || ps_stack_create(reg, "eth,ip4,udp,vxlan", &stack, &error)
        || ps_encap_create(stack, BENCH_ENCAP_LABELS, PS_TIER_JIT, &v.jit,
                           &error)
        || ps_encap_create(stack, BENCH_ENCAP_LABELS, PS_TIER_INTERP,
                           &v.interp, &error)) {
        fatal("libprotostack", error);
    }
    check_modes(&v);

    uint64_t hz = rte_get_tsc_hz();
    uint64_t limit = hz / 20000;     /* 50 us: a burst takes a few. */
    uint64_t total_skipped = 0;
    uint64_t *per_pkt[N_MODES];       /* Cycles per packet, x 1000. */
    for (int m = 0; m < N_MODES; m++) {
        per_pkt[m] = calloc(reps, sizeof *per_pkt[m]);
        if (wanted[m]) {
            uint64_t done, skipped;
            run(&v, m, n_pkts / 10, limit, &done, &skipped); /* Warm up. */
        }
    }
    for (int r = 0; r < reps; r++) {
        uint64_t cycles[N_MODES], done[N_MODES], skipped[N_MODES];
        memset(cycles, 0, sizeof cycles);
        memset(done, 0, sizeof done);
        memset(skipped, 0, sizeof skipped);

        /* The modes take turns every SLICE packets, each slice starting
         * with the next mode: the other jobs' phases, which last from a
         * fraction of a second to seconds, then slow every mode alike
         * instead of the few modes that happen to run through them. */
        for (uint64_t s = 0; s * SLICE < n_pkts; s++) {
            uint64_t n = RTE_MIN(SLICE, n_pkts - s * SLICE);
            for (int i = 0; i < N_MODES; i++) {
                int m = (s + i) % N_MODES;
                if (wanted[m]) {
                    uint64_t d, k;
                    cycles[m] += run(&v, m, n, limit, &d, &k);
                    done[m] += d;
                    skipped[m] += k;
                }
            }
        }
        for (int m = 0; m < N_MODES; m++) {
            if (!wanted[m]) {
                continue;
            }
            printf("raw %s %d %"PRIu64" %"PRIu64" %"PRIu64"\n",
                   mode_names[m], r, cycles[m], done[m], skipped[m]);
            per_pkt[m][r] = cycles[m] * 1000 / (done[m] ? done[m] : 1);
            total_skipped += skipped[m];
        }
    }

    printf("\nTSC %.3f GHz; %d repetitions of %"PRIu64" packets per mode, "
           "interleaved; bursts of %d; %"PRIu64" packets dropped for "
           "headroom; %"PRIu64" bursts left out, each longer than %.0f us "
           "(the thread was preempted).\n\n",
           hz / 1e9, reps, n_pkts, BURST, v.drops, total_skipped,
           limit * 1e6 / hz);
    printf("| mode | cycles/packet (median) | lowest | highest | Mpps "
           "(median) | above floor | vs (b) above floor |\n"
           "|---|--:|--:|--:|--:|--:|--:|\n");
    double floor_median = 0, best_above = 0;
    for (int m = 0; m < N_MODES; m++) {
        if (!wanted[m]) {
            continue;
        }
        qsort(per_pkt[m], reps, sizeof *per_pkt[m], compare_u64);
        double median = per_pkt[m][reps / 2] / 1000.0;
        if (reps % 2 == 0) {
            median = (per_pkt[m][reps / 2 - 1] + per_pkt[m][reps / 2])
                     / 2000.0;
        }
        double above = median - floor_median;
        if (m == MODE_FLOOR) {
            floor_median = median;
        } else if (m == MODE_BEST) {
            best_above = above;
        }
        printf("| %s | %.1f | %.1f | %.1f | %.2f |", mode_names[m], median,
               per_pkt[m][0] / 1000.0, per_pkt[m][reps - 1] / 1000.0,
               hz / median / 1e6);
        if (m == MODE_FLOOR) {
            printf(" - | - |\n");
        } else {
            printf(" %.1f | %.2fx |\n", above,
                   best_above > 0 ? above / best_above : 0.0);
        }
    }

    ps_encap_destroy(v.jit);
    ps_encap_destroy(v.interp);
    ps_stack_destroy(stack);
    ps_registry_destroy(reg);
    rte_eth_dev_stop(RX_PORT);
    rte_eth_dev_stop(TX_PORT);
    rte_eal_cleanup();
    return 0;
}
