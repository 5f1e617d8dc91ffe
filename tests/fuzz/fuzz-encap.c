/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Fuzz target: encapsulation, the interpreter against ps_stack_fill(),
 * and the JIT against the interpreter.
 *
 * Input: a stack spec, '\n', constant labels, '\n', 4 bytes of flow hash
 * (big-endian), then the payload.  The interpreter's encapsulation of the
 * stack with the labels must write what ps_stack_fill() writes with the
 * same labels and the flow entropy (ps_fuzz_check_encap()).
 *
 * Compiling C per input would be far too slow, so the JIT compiles a few
 * fixed encapsulations (jit_cases[]) once, at start-up; an input whose
 * spec and labels are one of them, as written there, is pushed by the JIT
 * code too, which must write the same bytes as the interpreter. */

#include <config.h>
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static struct ps_registry *registry;

struct jit_case {
    const char *spec;
    const char *labels;
    struct ps_stack *stack;
    struct ps_encap *encap;
};

/* Plans of every kind: straight-line shapes with incremental checksums,
 * checksums with IPv4 and IPv6 pseudo-headers, flag-controlled fields,
 * variable lengths, lengths in other units, no entropy field. */
static struct jit_case jit_cases[] = {
    { "eth,ip4,udp,vxlan,{eth,name=inner_eth}",
      "ip4.src=192.0.2.1,ip4.dst=192.0.2.254,vxlan.vni=1234,udp.cksum=0",
      NULL, NULL },
    { "eth,ip6,udp,{geneve,length=8},{eth,name=inner_eth}", "geneve.vni=77",
      NULL, NULL },
    { "eth,{ip4,length=8},{gre,c=1,k=1,s=1},{eth,name=inner_eth}",
      "gre.key=0x1234", NULL, NULL },
    { "{eth,subtype=qinq},mpls,{mpls,name=mpls2},ip6,{tcp,length=12}",
      "eth.vid=10,mpls.label=100,mpls2.label=200", NULL, NULL },
    { "eth,ip4,udp,gtpu,{ip4,name=inner_ip4},{udp,name=inner_udp}",
      "gtpu.teid=0xabcdef,inner_udp.src=53", NULL, NULL },
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    registry = ps_fuzz_load_registry();
    unsetenv("PROTOSTACK_TIER");
    for (size_t i = 0; i < sizeof jit_cases / sizeof *jit_cases; i++) {
        struct jit_case *c = &jit_cases[i];
        char *error = NULL;

        if (ps_stack_create(registry, c->spec, &c->stack, &error)
            || ps_encap_create(c->stack, c->labels, PS_TIER_JIT, &c->encap,
                               &error)) {
            ps_fuzz_fail("JIT case %s with %s: %s", c->spec, c->labels,
                         error);
        }
        if (ps_encap_tier(c->encap) != PS_TIER_JIT) {
            ps_fuzz_fail("JIT case %s: not run by the JIT", c->spec);
        }
    }
    return 0;
}

static const struct jit_case *
find_jit_case(const char *spec, const char *labels)
{
    for (size_t i = 0; i < sizeof jit_cases / sizeof *jit_cases; i++) {
        if (!strcmp(spec, jit_cases[i].spec)
            && !strcmp(labels, jit_cases[i].labels)) {
            return &jit_cases[i];
        }
    }
    return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ps_fuzz_input in = { data, size };
    char *spec = ps_fuzz_take_line(&in);
    char *labels = ps_fuzz_take_line(&in);
    uint32_t hash = ps_fuzz_take_u32(&in);
    struct ps_stack *stack;
    char *error = NULL;

    enum ps_error e = ps_stack_create(registry, spec, &stack, &error);
    ps_fuzz_check_message(e, error, "ps_stack_create()");
    if (!e) {
        struct ps_encap *encap;
        e = ps_encap_create(stack, labels, PS_TIER_INTERP, &encap, &error);
        ps_fuzz_check_message(e, error, "ps_encap_create()");
        if (!e) {
            if (ps_encap_tier(encap) != PS_TIER_INTERP) {
                ps_fuzz_fail("%s: PS_TIER_INTERP gives another tier", spec);
            }
            ps_fuzz_check_encap(stack, labels, encap, in.data, in.size,
                                hash);

            const struct jit_case *c = find_jit_case(spec, labels);
            if (c) {
                ps_fuzz_check_same_encap(encap, c->encap, in.data, in.size,
                                         hash);
            }
            ps_encap_destroy(encap);
        }
        ps_stack_destroy(stack);
    }
    free(error);
    free(labels);
    free(spec);
    return 0;
}
