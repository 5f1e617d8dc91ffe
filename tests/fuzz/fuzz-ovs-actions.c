/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Fuzz target: the OpenFlow actions on protostack stacks in Open vSwitch
 * (push_stack, set_field on stack fields, fix_length, pop_stack), as OvS's
 * own tests/oss-fuzz/ofctl_parse_target.c and ofp_print_target.c do for
 * its actions.  Built in OvS's tree against the patched
 * libopenvswitch (ofproto-ext/automake.mk; docs/fuzzing.md).
 *
 * Input: one byte, then the rest.  Bit 0 of the byte chooses what the
 * rest is: 0, the text of an action list (as in "ovs-ofctl add-flow
 * actions=..."; no null byte); 1, the OpenFlow encoding of an action
 * list.  Bits 1 and 2 choose the OpenFlow version: 1.0, 1.3, 1.4, 1.5.
 *
 * Text is parsed (ofpacts_parse_actions()), formatted, encoded for the
 * version when the actions can be expressed in it, decoded again and
 * formatted again.  OpenFlow is decoded (ofpacts_pull_openflow_actions()),
 * formatted, encoded and decoded again.  Every list that decodes is also
 * checked (ofpacts_check()).  A parse error must come with a message.
 * When every action of the list is one of ours or "output", the round
 * trips must give back the same text: decode(encode(A)) formats as A, and
 * the text of A parses into actions that format as A.  Other actions of
 * OvS are run through the same code but not compared (their round trips
 * are OvS's business, and some are lossy by design). */

#include <config.h>
#include "fuzz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "openflow/openflow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "flow.h"
#include "util.h"

static const enum ofp_version versions[4] = {
    OFP10_VERSION, OFP13_VERSION, OFP14_VERSION, OFP15_VERSION,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    /* Bad actions are logged as warnings: not for every input. */
    vlog_set_verbosity("off");
    return 0;
}

/* Whether every action of 'ofpacts' is one of ours or "output" to a
 * physical port: those whose round trips must give back the same text.
 * (OvS refuses to decode some reserved ports that it encodes, e.g. "ANY"
 * in OpenFlow 1.5.) */
static bool
only_ours(const struct ofpbuf *ofpacts)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, ofpacts->data, ofpacts->size) {
        if (a->type == OFPACT_OUTPUT) {
            if (ofp_to_u16(ofpact_get_OUTPUT(a)->port)
                >= ofp_to_u16(OFPP_MAX)) {
                return false;
            }
        } else if (a->type != OFPACT_PUSH_STACK
                   && a->type != OFPACT_POP_STACK
                   && a->type != OFPACT_SET_STACK_FIELD
                   && a->type != OFPACT_FIX_LENGTH) {
            return false;
        }
    }
    return true;
}

/* The text form of 'ofpacts' (malloc()'d). */
static char *
format_actions(const struct ofpbuf *ofpacts)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ofpact_format_params fp = { .s = &s };

    ofpacts_format(ofpacts->data, ofpacts->size, &fp);
    return ds_steal_cstr(&s);
}

/* Parses 'text' into 'ofpacts' (cleared first); returns the error
 * message, or NULL.  An error without words fails the check. */
static char *
parse_actions(const char *text, struct ofpbuf *ofpacts,
              enum ofputil_protocol *usable)
{
    struct ofpact_parse_params pp = {
        .ofpacts = ofpacts,
        .usable_protocols = usable,
    };

    ofpbuf_clear(ofpacts);
    *usable = OFPUTIL_P_ANY;
    char *error = ofpacts_parse_actions(text, &pp);
    if (error && !error[0]) {
        ps_fuzz_fail("actions \"%s\": parse error without a message", text);
    }
    return error;
}

/* Decodes the 'size' bytes at 'data' for 'version' into 'ofpacts'
 * (cleared first), from a buffer of exactly that size. */
static enum ofperr
decode_actions(const void *data, size_t size, enum ofp_version version,
               struct ofpbuf *ofpacts)
{
    void *copy = xmalloc(size ? size : 1);
    struct ofpbuf in;

    if (size) {
        memcpy(copy, data, size);
    }

    ofpbuf_use_const(&in, copy, size);
    ofpbuf_clear(ofpacts);
    enum ofperr error = ofpacts_pull_openflow_actions(&in, size, version,
                                                      NULL, NULL, ofpacts);
    free(copy);
    return error;
}

/* Runs ofpacts_check() on a copy of 'ofpacts' (it may change them). */
static void
check_actions(const struct ofpbuf *ofpacts)
{
    struct ofpbuf *copy = ofpbuf_clone(ofpacts);
    struct match match;
    struct ofpact_check_params cp = {
        .match = &match,
        .max_ports = OFPP_MAX,
        .table_id = 0,
        .n_tables = 255,
    };

    match_init_catchall(&match);
    ofpacts_check(copy->data, copy->size, &cp);
    ofpbuf_delete(copy);
}

/* Encodes 'ofpacts' (whose text is 'text') for 'version', decodes the
 * result and, when 'compare', checks that it formats as 'text'. */
static void
round_trip(const struct ofpbuf *ofpacts, const char *text,
           enum ofp_version version, bool compare)
{
    struct ofpbuf openflow, back;

    ofpbuf_init(&openflow, 0);
    ofpbuf_init(&back, 0);
    ofpacts_put_openflow_actions(ofpacts->data, ofpacts->size, &openflow,
                                 version);
    enum ofperr error = decode_actions(openflow.data, openflow.size,
                                       version, &back);
    if (!compare) {
        /* Nothing to compare. */
    } else if (error) {
        ps_fuzz_fail("actions \"%s\": OpenFlow 0x%02x encoding does not "
                     "decode: %s", text, version, ofperr_to_string(error));
    } else {
        char *text2 = format_actions(&back);
        if (strcmp(text, text2)) {
            ps_fuzz_fail("actions \"%s\": after OpenFlow 0x%02x encoding "
                         "and decoding \"%s\"", text, version, text2);
        }
        free(text2);
    }
    ofpbuf_uninit(&openflow);
    ofpbuf_uninit(&back);
}

/* Checks that 'text', the format of some actions, parses into actions
 * that format the same. */
static void
reparse(const char *text)
{
    enum ofputil_protocol usable;
    struct ofpbuf ofpacts;

    ofpbuf_init(&ofpacts, 0);
    char *error = parse_actions(text, &ofpacts, &usable);
    if (error) {
        ps_fuzz_fail("actions \"%s\" (formatted) do not parse: %s", text,
                     error);
    }
    char *text2 = format_actions(&ofpacts);
    if (strcmp(text, text2)) {
        ps_fuzz_fail("actions \"%s\" (formatted) parse and format as "
                     "\"%s\"", text, text2);
    }
    free(text2);
    ofpbuf_uninit(&ofpacts);
}

/* Runs the checks on 'ofpacts', which parsed or decoded; encodes them for
 * 'version' if 'encode'. */
static void
check_all(const struct ofpbuf *ofpacts, enum ofp_version version,
          bool encode)
{
    bool compare = only_ours(ofpacts);
    char *text = format_actions(ofpacts);

    if (encode) {
        round_trip(ofpacts, text, version, compare);
    }
    if (compare) {
        reparse(text);
    }
    check_actions(ofpacts);
    free(text);
}

static void
fuzz_text(const uint8_t *data, size_t size, enum ofp_version version)
{
    if (memchr(data, '\0', size)) {
        return;
    }
    char *input = xmemdup0((const char *) data, size);
    enum ofputil_protocol usable;
    struct ofpbuf ofpacts;

    ofpbuf_init(&ofpacts, 0);
    char *error = parse_actions(input, &ofpacts, &usable);
    if (error) {
        free(error);
    } else {
        check_all(&ofpacts, version,
                  usable & ofputil_protocols_from_ofp_version(version));
    }
    ofpbuf_uninit(&ofpacts);
    free(input);
}

static void
fuzz_openflow(const uint8_t *data, size_t size, enum ofp_version version)
{
    struct ofpbuf ofpacts;

    ofpbuf_init(&ofpacts, 0);
    if (!decode_actions(data, size, version, &ofpacts)) {
        check_all(&ofpacts, version, true);
    }
    ofpbuf_uninit(&ofpacts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) {
        return 0;
    }
    enum ofp_version version = versions[(data[0] >> 1) & 3];
    if (data[0] & 1) {
        fuzz_openflow(data + 1, size - 1, version);
    } else {
        fuzz_text(data + 1, size - 1, version);
    }
    return 0;
}
