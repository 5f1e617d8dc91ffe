/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef PS_OFPACTS_H
#define PS_OFPACTS_H 1

/* The internal form of the OpenFlow actions on protostack stacks, included
 * by include/openvswitch/ofp-actions.h (ofproto-ext/ovs-hooks.patch adds
 * them to its OFPACTS list).  Their OpenFlow encoding, parsing and
 * formatting are in ps-ofp-actions.inc. */

#ifdef __cplusplus
extern "C" {
#endif

struct ps_stack;

/* OFPACT_PUSH_STACK, OFPACT_POP_STACK.
 *
 * Used for NXAST_PUSH_STACK and NXAST_POP_STACK.  'text' holds the spec
 * in canonical form, a null byte, the labels ("" for none, always for
 * pop_stack) and a null byte. */
struct ofpact_ps_stack {
    OFPACT_PADDED_MEMBERS(
        struct ofpact ofpact;
        const struct ps_stack *stack;   /* Compiled; owned by the registry,
                                         * which lives as long as the
                                         * process. */
        uint16_t spec_len;              /* strlen() of the spec. */
        uint16_t labels_len;            /* strlen() of the labels. */
    );
    char text[];
};

/* OFPACT_SET_STACK_FIELD.
 *
 * Used for NXAST_SET_STACK_FIELD: "set_field:VALUE->HEADER.FIELD" on a
 * field of the stack that the latest push_stack before it pushed.  'text'
 * holds the label, a null byte, the value in canonical text form and a
 * null byte. */
struct ofpact_ps_field {
    OFPACT_PADDED_MEMBERS(
        struct ofpact ofpact;
        const struct ps_stack *stack;   /* As in its push_stack. */
        uint16_t label_len;             /* strlen() of the label. */
        uint16_t value_len;             /* strlen() of the value. */
    );
    char text[];
};

#ifdef __cplusplus
}
#endif

#endif /* ps-ofpacts.h */
