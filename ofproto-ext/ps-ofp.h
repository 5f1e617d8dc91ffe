/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef PS_OFP_H
#define PS_OFP_H 1

/* The OvS side of protostack stacks: one registry of protocols for the
 * whole process, and the text forms of the arguments of the push_stack,
 * pop_stack and set_field actions, checked against it.
 *
 * Every function here may be called from any thread: the registry is
 * guarded by one mutex.  Parsers return NULL on success or a malloc()'d
 * message that names the culprit. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

struct flow;
struct ofpact;
struct ofpact_ps_stack;
struct ps_registry;
struct ps_stack;

/* The longest stack, in bytes of headers, that a push_stack action may
 * push: the datapath action carries a template of this size at most. */
#define PS_OVS_MAX_STACK_SIZE 256

/* Loads the protocols of ps_registry_load_default() on first use.
 * Returns NULL on success, else a malloc()'d message (and every later
 * call fails the same way). */
char *ps_ovs_registry_init(void) OVS_WARN_UNUSED_RESULT;

/* Loads the protocol file 'path' into the registry: flows parsed or
 * decoded afterwards may use its protocols.  Either all of the file loads
 * or nothing does.  Protocols in $PROTOSTACK_LOAD (files or directories,
 * separated by colons) load with the shipped ones, in every process
 * (ovs-ofctl too). */
char *ps_ovs_load(const char *path) OVS_WARN_UNUSED_RESULT;

/* Parses 'arg', "SPEC[,LABEL=VALUE...]", the argument of push_stack
 * (with 'allow_labels') or pop_stack (without).  On success stores the
 * compiled stack (owned by the registry, it lives as long as the
 * process), and malloc()'d canonical forms of the spec and of the labels
 * ("" for none). */
char *ps_ovs_parse_stack(const char *arg, bool allow_labels,
                         const struct ps_stack **stackp,
                         char **specp, char **labelsp)
    OVS_WARN_UNUSED_RESULT;

/* Like ps_ovs_parse_stack(), for a spec and labels given apart (the
 * OpenFlow encoding). */
char *ps_ovs_check_stack(const char *spec, const char *labels,
                         bool allow_labels, const struct ps_stack **stackp,
                         char **canonical_specp, char **canonical_labelsp)
    OVS_WARN_UNUSED_RESULT;

/* Checks that 'label' ("vxlan.vni") names a field of 'stack' and that
 * 'value' is a valid value of it, and stores the value's canonical text
 * form in '*canonicalp' (malloc()'d). */
char *ps_ovs_check_field(const struct ps_stack *stack, const char *label,
                         const char *value, char **canonicalp)
    OVS_WARN_UNUSED_RESULT;

/* Returns the labels ("gre.proto=0x6558"), malloc()'d, that give the "next
 * header" fields of the last header of 'stack' the binding values of the
 * protocol 'payload' ("eth") that follows it in the packet, or NULL if
 * there are none. */
char *ps_ovs_payload_labels(const struct ps_stack *stack,
                            const char *payload);

/* Parses, with OvS's flow_extract(), the headers of a packet that starts
 * with 'stack' filled with 'labels' (the packet as push_stack leaves it,
 * without payload) into 'flow' (metadata zero) and, if 'offsets' is
 * nonnull, stores the packet's l2_5, l3 and l4 offsets there.  Returns
 * false if OvS cannot parse it: the stack does not start with Ethernet. */
bool ps_ovs_parse_pushed(const struct ps_stack *stack, const char *labels,
                         struct flow *flow, uint16_t offsets[3]);

/* The latest push_stack in the 'len' bytes of 'ofpacts' that no pop_stack
 * follows, or NULL: the stack that a set_field on a stack field or a
 * fix_length there belongs to. */
const struct ofpact_ps_stack *ps_ovs_pushed_stack(const struct ofpact *,
                                                  size_t len);

/* True if 'name' looks like the label of a stack field, HEADER.FIELD: no
 * field of OvS has a dot in its name. */
bool ps_ovs_is_label(const char *name);

#endif /* ps-ofp.h */
