/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef PS_DP_H
#define PS_DP_H 1

/* The userspace datapath side of protostack stacks: the datapath actions
 * OVS_ACTION_ATTR_PUSH_STACK, OVS_ACTION_ATTR_POP_STACK and
 * OVS_ACTION_ATTR_SET_STACK (userspace only), their text form for dpctl
 * and ofproto/trace, and their execution on a batch of packets.
 * set_stack(SPEC,LABELS[,fix_length]) rewrites the stack SPEC at the front
 * of the packet: it writes the labels, then, with fix_length, every
 * length, checksum and the entropy that no label gives.
 *
 * An action's text form is a flags byte, the spec and the labels, each
 * string null-terminated: the text from which the encapsulation (template
 * and fix-up plan) is compiled, once per distinct action, by the library.
 * In a process that runs a datapath, the action carries instead a
 * reference to the compiled form, and the encapsulation's data, so that a
 * batch reads nothing else; elsewhere it carries the text. */

#include <stdbool.h>
#include <stddef.h>
#include "compiler.h"

struct dp_packet_batch;
struct ds;
struct nlattr;
struct ofpbuf;

/* Flags of a push_stack datapath action. */
#define PS_DP_FIX_LENGTH 0x01   /* Lengths, checksums, entropy. */

/* Registers the "protostack/..." unixctl commands.  Called once by the
 * userspace datapath at its initialisation. */
void ps_dp_init(void);

/* Appends a datapath action of 'type' (OVS_ACTION_ATTR_PUSH_STACK,
 * OVS_ACTION_ATTR_POP_STACK or OVS_ACTION_ATTR_SET_STACK) to 'odp'. */
void ps_dp_put_action(struct ofpbuf *odp, int type, unsigned int flags,
                      const char *spec, const char *labels);

/* Formats the action 'a' as "push_stack(SPEC[,LABELS][,fix_length])",
 * "set_stack(SPEC[,LABELS][,fix_length])" or "pop_stack(SPEC)". */
void ps_dp_format_action(struct ds *, const struct nlattr *a);

/* Parses the text form of any of the actions at the start of 's' and appends
 * it to 'odp'.  Returns the number of bytes parsed, 0 if 's' starts with
 * neither action, or a negative errno value. */
int ps_dp_parse_action(const char *s, struct ofpbuf *odp);

/* Executes 'a' on every packet of 'batch'.  A packet without the headroom
 * that push_stack needs is dropped and counted, a packet that pop_stack
 * does not find the stack on, or that set_stack cannot rewrite, is left
 * alone and counted.  After push_stack, the packet's header offsets are
 * those of the pushed headers (when the stack starts with Ethernet), for
 * OvS's set actions that follow. */
void ps_dp_execute(struct dp_packet_batch *batch, const struct nlattr *a);

#endif /* ps-dp.h */
