/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef PROTOSTACK_PROTOSTACK_H
#define PROTOSTACK_PROTOSTACK_H 1

/* libprotostack: protocol headers declared once (protocols/\*.proto),
 * compiled into stacks such as "eth,ip4,udp,vxlan,{eth,name=inner_eth}",
 * and used from C.
 *
 * Errors.  Every function that can fail returns an 'enum ps_error'
 * (PS_OK, zero, on success) and, when 'errorp' is non-null, stores a
 * malloc()'d message that names what is wrong and where (the label, the
 * position in a spec, "file:line:col" in a protocol file); the caller
 * frees it.  A function that fails writes nothing into the packet
 * buffer. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "protostack/types.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ps_error {
    PS_OK = 0,
    PS_ERR_SYNTAX,          /* Malformed protocol file, spec or labels. */
    PS_ERR_NO_PROTOCOL,     /* Unknown protocol. */
    PS_ERR_NO_SUBTYPE,      /* Unknown subtype of a protocol. */
    PS_ERR_NO_FIELD,        /* Unknown field or label. */
    PS_ERR_DUPLICATE,       /* Duplicate protocol, field or header name. */
    PS_ERR_RANGE,           /* Value does not fit the field. */
    PS_ERR_ADDRESS,         /* Malformed address or byte string. */
    PS_ERR_TYPE,            /* Setter of the wrong type for the field. */
    PS_ERR_SHORT,           /* Buffer or packet shorter than needed. */
    PS_ERR_LAYOUT,          /* Stack options that give no valid layout. */
    PS_ERR_IO,              /* A file or directory could not be read. */
    PS_ERR_ABSENT,          /* Header not in the stack. */
};

/* Returns a constant name for 'error', e.g. "PS_ERR_RANGE". */
const char *ps_error_name(enum ps_error error);

/* Registry: the set of known protocols. */

struct ps_registry;

struct ps_registry *ps_registry_create(void);
void ps_registry_destroy(struct ps_registry *);

/* Loads one protocol file, or every "*.proto" file in a directory (in
 * name order).  Either everything loads or, on error, the registry is
 * left exactly as it was.  Loads may run while other threads use the
 * registry; they never make those wait (see docs/c-api.md, "Threads"). */
enum ps_error ps_registry_load_file(struct ps_registry *, const char *path,
                                    char **errorp);
enum ps_error ps_registry_load_dir(struct ps_registry *, const char *dir,
                                   char **errorp);

/* Loads the shipped protocols, which are compiled into the library (no
 * data directory is needed); if $PROTOSTACK_DATADIR is set, the "*.proto"
 * files of that directory instead.  Messages name a built-in file
 * "built-in:udp.proto". */
enum ps_error ps_registry_load_default(struct ps_registry *, char **errorp);

/* Like ps_registry_load_default(), with the protocol files of 'paths'
 * (directories, whose "*.proto" files load in name order, or files) on
 * top: a file with the name of a shipped one ("udp.proto") replaces it,
 * definitions and bindings, and the others add to them.  All or
 * nothing, as one load. */
enum ps_error ps_registry_load_default_with(struct ps_registry *,
                                            const char *const *paths,
                                            size_t n_paths, char **errorp);

/* Returns $PROTOSTACK_DATADIR, which ps_registry_load_default() reads
 * instead of the built-in protocols, or NULL. */
const char *ps_registry_default_dir(void);

/* Where protocol 'i' (in the order of ps_registry_protocol_name()) was
 * defined: "built-in:udp.proto", a path, or the name given to
 * ps_registry_load_string(). */
const char *ps_registry_protocol_file(const struct ps_registry *, size_t i);

/* Loads definitions from a string; 'name' is used in error messages. */
enum ps_error ps_registry_load_string(struct ps_registry *, const char *name,
                                      const char *text, char **errorp);

size_t ps_registry_n_protocols(const struct ps_registry *);

/* Protocol 'i' in name order: its name and one-line description. */
const char *ps_registry_protocol_name(const struct ps_registry *, size_t i);
const char *ps_registry_protocol_doc(const struct ps_registry *, size_t i);

/* Stacks. */

struct ps_stack;

/* Compiles 'spec' (e.g. "eth,ip4,udp,vxlan,{eth,name=inner_eth}") against
 * 'registry'.  The stack keeps no reference to the registry. */
enum ps_error ps_stack_create(const struct ps_registry *, const char *spec,
                              struct ps_stack **stackp, char **errorp);
void ps_stack_destroy(struct ps_stack *);

/* Returns, in '*stackp', the stack compiled from 'spec', compiling it the
 * first time: later calls with the same text cost one hash lookup.  The
 * stack belongs to the registry and lives as long as it (never pass it to
 * ps_stack_destroy()).  Safe from several threads at once, and during
 * loads: a cached stack is found without a lock. */
enum ps_error ps_registry_stack(struct ps_registry *, const char *spec,
                                const struct ps_stack **stackp,
                                char **errorp);

/* Bounds the number of stacks the registry's cache compiles (those of
 * ps_registry_stack() and ps_registry_stack_variant(), which live as long
 * as the registry) to 'max_stacks'; 0, the default, sets no bound.  Once
 * the cache holds that many, a spec it has not seen fails with
 * PS_ERR_RANGE and a message that says so, while the stacks it holds are
 * still found.  A process that compiles specs from untrusted sources (a
 * switch, from its controllers) sets one, so that they cannot grow its
 * memory without end. */
void ps_registry_set_stack_limit(struct ps_registry *, size_t max_stacks);

/* Recasting: the variant of 'stack' whose header 'header' has a
 * variable-length member of 'length' bytes ({ip4,length=8} for IPv4 with
 * two option words), from the registry's cache as ps_registry_stack().
 * For a 'stack' that the registry owns, a recast it has seen before is
 * one hash lookup. */
enum ps_error ps_registry_stack_variant(struct ps_registry *,
                                        const struct ps_stack *,
                                        size_t header, size_t length,
                                        const struct ps_stack **variantp,
                                        char **errorp);

/* The spec in canonical form, e.g. "eth,ip4,{gre,k=1}". */
const char *ps_stack_spec(const struct ps_stack *);

/* Bytes taken by the headers of the stack. */
size_t ps_stack_size(const struct ps_stack *);

/* The longest packet (headers and payload) whose lengths every length
 * field of the stack can hold, e.g. 14 + 65535 for "eth,ip4,udp";
 * SIZE_MAX if no field limits it.  Functions that take 'pkt_len' fail with
 * PS_ERR_RANGE, writing nothing, above it. */
size_t ps_stack_max_length(const struct ps_stack *);

/* The template: ps_stack_size() bytes of headers filled with defaults,
 * lengths as for a packet with no payload. */
const uint8_t *ps_stack_template(const struct ps_stack *);

/* Layout. */

enum ps_field_type {
    PS_FIELD_UINT,              /* Unsigned integer, 1 to 64 bits. */
    PS_FIELD_MAC,
    PS_FIELD_IP4,
    PS_FIELD_IP6,
    PS_FIELD_BYTES,             /* Fixed or variable-length bytes. */
};

/* How a field gets its value when a packet is filled without a label. */
enum ps_field_rule {
    PS_RULE_CONST,              /* A constant (zero if none is given). */
    PS_RULE_NEXT,               /* Binding value of the next header. */
    PS_RULE_LENGTH,             /* A length. */
    PS_RULE_CHECKSUM,           /* A checksum. */
};

struct ps_header_info {
    const char *name;           /* Name in labels, e.g. "inner_eth". */
    const char *protocol;       /* e.g. "eth". */
    const char *subtype;        /* e.g. "vlan"; "plain" for none. */
    const char *doc;            /* Protocol's description. */
    size_t offset;              /* Bytes from the start of the stack. */
    size_t size;                /* Bytes, variable part included. */
};

struct ps_field_info {
    const char *label;          /* e.g. "inner_eth.src". */
    const char *name;           /* e.g. "src". */
    const char *doc;
    size_t header;              /* Index of its header. */
    size_t bit_offset;          /* From the start of the stack. */
    size_t bits;                /* Width in bits. */
    enum ps_field_type type;
    enum ps_field_rule rule;
    const char *rule_text;      /* The rule as written, e.g. "length(rest)". */
    bool hex;                   /* Best shown in hexadecimal. */
    bool entropy;               /* Takes flow entropy. */
    bool magic;                 /* Its default identifies the protocol
                                 * (@magic): a header whose field holds
                                 * another value is not of it. */
};

size_t ps_stack_n_headers(const struct ps_stack *);
const struct ps_header_info *ps_stack_header(const struct ps_stack *,
                                             size_t i);
size_t ps_stack_n_fields(const struct ps_stack *);
const struct ps_field_info *ps_stack_field(const struct ps_stack *, size_t i);

/* Returns the index of the header named 'name', or -1. */
int ps_stack_find_header(const struct ps_stack *, const char *name);

/* Finds the field with 'label' ("ip4.dst").  Returns PS_OK and stores its
 * index in '*fieldp', or an error naming the label. */
enum ps_error ps_stack_find_field(const struct ps_stack *, const char *label,
                                  size_t *fieldp, char **errorp);

/* Filling a packet.
 *
 * 'pkt' points to the first byte of the stack; 'pkt_len' is the length
 * of the whole packet from there (headers and payload), and the buffer
 * must hold all of it: checksums cover the payload.  Every function that
 * takes 'pkt_len' fails with PS_ERR_SHORT, writing nothing, when 'pkt_len'
 * is less than ps_stack_size(). */

/* Writes the template, then the labels (text, e.g.
 * "ip4.dst=192.0.2.254,vxlan.vni=1234"; NULL or "" for none), then every
 * length and checksum that no label gave.  With no labels the result is
 * a legal packet.  All labels are checked before anything is written. */
enum ps_error ps_stack_fill(const struct ps_stack *, uint8_t *pkt,
                            size_t pkt_len, const char *labels,
                            char **errorp);

/* Sets one field from its text form ("192.0.2.1", "0x11", "aa:bb:...").
 * 'pkt' must hold ps_stack_size() bytes. */
enum ps_error ps_stack_set_text(const struct ps_stack *, uint8_t *pkt,
                                const char *label, const char *value,
                                char **errorp);

/* Writes field 'field's value in text form into 'buf' (ip6 and bytes
 * fields may need up to 3 * size + 3 bytes; PS_IP6_STRLEN for ip6). */
enum ps_error ps_stack_get_text(const struct ps_stack *, const uint8_t *pkt,
                                size_t field, char *buf, size_t size);

/* Typed setters and getters by field index (see ps_stack_find_field()).
 * A setter of the wrong type returns PS_ERR_TYPE; an integer too wide for
 * the field PS_ERR_RANGE; nothing is written then.  IPv4 addresses are in
 * host byte order. */
enum ps_error ps_stack_set_uint(const struct ps_stack *, uint8_t *pkt,
                                size_t field, uint64_t value);
enum ps_error ps_stack_set_mac(const struct ps_stack *, uint8_t *pkt,
                               size_t field, const struct ps_mac *);
enum ps_error ps_stack_set_ip4(const struct ps_stack *, uint8_t *pkt,
                               size_t field, uint32_t addr);
enum ps_error ps_stack_set_ip6(const struct ps_stack *, uint8_t *pkt,
                               size_t field, const struct ps_ip6 *);
enum ps_error ps_stack_set_bytes(const struct ps_stack *, uint8_t *pkt,
                                 size_t field, const void *data, size_t n);

/* Integer, IPv4 (host order) and MAC fields read as integers. */
uint64_t ps_stack_get_uint(const struct ps_stack *, const uint8_t *pkt,
                           size_t field);
void ps_stack_get_mac(const struct ps_stack *, const uint8_t *pkt,
                      size_t field, struct ps_mac *);
void ps_stack_get_ip6(const struct ps_stack *, const uint8_t *pkt,
                      size_t field, struct ps_ip6 *);

/* Sets every length field for a packet of 'pkt_len' bytes: the libmoon
 * paper's setLength().  Only the headers are touched. */
enum ps_error ps_stack_set_length(const struct ps_stack *, uint8_t *pkt,
                                  size_t pkt_len);

/* Computes every checksum, innermost first, or only that of header
 * 'header' (an index). */
enum ps_error ps_stack_fix_checksums(const struct ps_stack *, uint8_t *pkt,
                                     size_t pkt_len);
enum ps_error ps_stack_fix_checksum(const struct ps_stack *, uint8_t *pkt,
                                    size_t pkt_len, size_t header);

/* Writes 'hash' into the field that takes flow entropy (a UDP source
 * port), scaled into the range OvS uses for tunnel source ports, 32768 to
 * 61000 (PS_ENTROPY_MIN, PS_ENTROPY_MAX).  Does nothing for a stack
 * without such a field. */
#define PS_ENTROPY_MIN 32768
#define PS_ENTROPY_MAX 61000
void ps_stack_set_entropy(const struct ps_stack *, uint8_t *pkt,
                          uint32_t hash);

/* The payload: the first byte after the stack's headers. */
static inline uint8_t *
ps_stack_payload(const struct ps_stack *stack, uint8_t *pkt)
{
    return pkt + ps_stack_size(stack);
}

/* The fix-up plan, for code generators (static C, JIT).  Lengths:
 * field = ((pkt_len - start) - sub) / unit.  Checksums, in the order they
 * must be computed: the Internet checksum of [start, end) (end 0: the end
 * of the packet), plus a pseudo-header when 'pseudo' is set. */

enum ps_pseudo_kind {
    PS_PSEUDO_BYTES,            /* Bytes of the packet at 'offset', or of a
                                 * source route ('route_types'). */
    PS_PSEUDO_ZERO,             /* 'bits' zero bits. */
    PS_PSEUDO_PROTO,            /* Field at 'offset' (bit offset). */
    PS_PSEUDO_LENGTH,           /* Checksummed span's length. */
    PS_PSEUDO_CONST,            /* 'value'. */
};

struct ps_pseudo_item {
    /* PS_PSEUDO_BYTES: when 'route_types' is nonzero, the options at
     * 'route_offset' ('route_len' bytes) may hold a source route whose
     * last address takes the place of the bytes at 'offset' (see
     * ps_route_last()). */
    size_t route_offset;
    size_t route_len;
    uint32_t route_types;

    enum ps_pseudo_kind kind;
    size_t offset;              /* Bytes; bits for PS_PSEUDO_PROTO. */
    size_t bits;                /* Width, in bits. */
    size_t proto_bits;          /* PS_PSEUDO_PROTO: the field's width. */
    uint64_t value;             /* PS_PSEUDO_CONST. */

    /* Where the item falls in the pseudo-header's 16-bit words: 8 if its
     * bytes are summed as if they began one byte later than an even
     * place would put them (a bytes item at an odd place, a number that
     * ends at one), else 0.  'mask' keeps a number to the item's
     * width. */
    unsigned int shift;
    uint64_t mask;
};

struct ps_length_fixup {
    size_t field;               /* Field index. */
    size_t start;
    size_t sub;
    size_t unit;
};

struct ps_checksum_fixup {
    size_t field;               /* Field index; 16 bits, byte-aligned. */
    size_t header;
    size_t start;
    size_t end;                 /* 0: end of packet. */
    bool nonzero;               /* Send 0 as 0xffff. */
    size_t n_pseudo;
    const struct ps_pseudo_item *pseudo;

    /* The pseudo-header as it is summed: 'pseudo_sum', the sum of its
     * constant items, and the 'n_summed' items of 'summed' (the others,
     * bytes of the packet that follow one another as one item). */
    uint64_t pseudo_sum;
    size_t n_summed;
    const struct ps_pseudo_item *summed;
};

size_t ps_stack_n_length_fixups(const struct ps_stack *);
const struct ps_length_fixup *ps_stack_length_fixup(const struct ps_stack *,
                                                    size_t i);
size_t ps_stack_n_checksum_fixups(const struct ps_stack *);
const struct ps_checksum_fixup *ps_stack_checksum_fixup(
    const struct ps_stack *, size_t i);

/* Returns the index of the field that takes flow entropy, or -1. */
int ps_stack_entropy_field(const struct ps_stack *);

/* Dissection: parsing a packet of unknown stack.
 *
 * From 'first' (e.g. "eth") at the packet's first byte, headers are
 * parsed as deep as the bindings allow: subtypes, variable lengths and
 * conditional fields from the packet's own fields, tunnels included.  A
 * protocol's first header is named after it, later ones "inner_eth",
 * "inner2_eth", and so on.  Nothing is read past 'len' bytes.  Lengths
 * and checksums are verified; what is wrong is reported, not fixed. */

struct ps_dissection_problem {
    size_t field;               /* Field index in the stack. */
    char *message;              /* "bad cksum 0x1234 (expected 0xf589)". */
};

struct ps_dissection {
    struct ps_stack *stack;     /* Headers found; NULL if none. */
    size_t n_headers;           /* ps_stack_n_headers() of 'stack'. */
    const size_t *offsets;      /* Where each header starts, then where
                                 * they end ('header_len'): 'n_headers'
                                 * + 1 offsets, owned by 'stack'; NULL
                                 * if 'stack' is. */
    size_t header_len;          /* Bytes of headers found. */
    size_t packet_len;          /* Bytes the outermost length field
                                 * covers (a shorter frame: all of it);
                                 * what follows is trailer or padding. */
    size_t len;                 /* Bytes given. */
    char *truncated;            /* Why dissection stopped early, or NULL:
                                 * "gre needs 8 bytes, 6 left". */
    struct ps_dissection_problem *problems;
    size_t n_problems;
};

enum ps_error ps_dissect(const struct ps_registry *, const char *first,
                         const uint8_t *pkt, size_t len,
                         struct ps_dissection **dissectionp, char **errorp);
void ps_dissection_destroy(struct ps_dissection *);

/* Flags for ps_dissect_flags() and ps_dissect_into(). */
enum {
    PS_DISSECT_NO_VERIFY = 1 << 0,  /* Find the headers only: lengths and
                                     * checksums are not verified (a
                                     * @magic field's value still is). */
};

/* ps_dissect() with 'flags' (0 is ps_dissect()). */
enum ps_error ps_dissect_flags(const struct ps_registry *, const char *first,
                               const uint8_t *pkt, size_t len,
                               unsigned int flags,
                               struct ps_dissection **dissectionp,
                               char **errorp);

/* The same into a dissection that the caller owns, so that a loop over
 * packets allocates nothing per packet (but for what it reports wrong):
 * free what it holds with ps_dissection_clear() before reusing it.  On
 * error '*dissection' holds nothing to free. */
enum ps_error ps_dissect_into(const struct ps_registry *, const char *first,
                              const uint8_t *pkt, size_t len,
                              unsigned int flags,
                              struct ps_dissection *dissection,
                              char **errorp);
void ps_dissection_clear(struct ps_dissection *);

/* A first protocol resolved once, for a loop over packets that all
 * start with it: ps_dissect_with() takes it instead of a name, which
 * ps_dissect_into() compares with the protocol it found last for every
 * packet.  There is one per name per registry, created by the first call
 * with that name and freed with the registry; a name that no protocol
 * has yet is accepted (it may be loaded later).  Any thread may use it;
 * it never changes. */
struct ps_dissector;
const struct ps_dissector *ps_registry_dissector(struct ps_registry *,
                                                 const char *first);
const char *ps_dissector_first(const struct ps_dissector *);

/* ps_dissect_into() from the first protocol of 'dissector', into
 * 'dissection', which is all zeros or holds what an earlier call of this
 * function left in it: what it holds is freed first, so that a loop over
 * packets neither calls ps_dissection_clear() nor allocates (but for what
 * it reports wrong).  Free what the last call left with
 * ps_dissection_clear().  On error '*dissection' holds nothing to
 * free. */
enum ps_error ps_dissect_with(const struct ps_dissector *,
                              const uint8_t *pkt, size_t len,
                              unsigned int flags,
                              struct ps_dissection *dissection,
                              char **errorp);

/* Dump formats for ps_dissection_format(). */
enum {
    PS_DUMP_HEX = 1 << 0,       /* A hex dump of each header after it. */
    PS_DUMP_TEXT2PCAP = 1 << 1, /* Hex that text2pcap reads; the rest as
                                 * '#' comments. */
    PS_DUMP_SUMMARY = 1 << 2,   /* One line: the headers' names, the
                                 * payload, the fields found bad, why it
                                 * was truncated.  The other flags are
                                 * then ignored. */
};

/* Returns a malloc()'d text: one tcpdump-like line per header with its
 * fields in text form and any problem, then the payload or what was
 * truncated. */
char *ps_dissection_format(const struct ps_dissection *,
                           const uint8_t *pkt, unsigned int flags);

/* Encapsulations.
 *
 * An encapsulation is a stack with constant labels (the arguments of an
 * OvS push_stack action), compiled to push its headers in front of a
 * payload: one template holding defaults and labels, and the fix-up
 * steps that remain (lengths, flow entropy, checksums; a checksum over a
 * span whose only changing fields are lengths is updated incrementally
 * from the template's).  It runs in one of three tiers, which give the
 * same bytes: static (generated at build time, see ps_encap_generate_c()),
 * JIT (the same C compiled at run time), and the interpreter. */

enum ps_tier {
    PS_TIER_AUTO,       /* JIT in the background; interpreter meanwhile
                         * and when no compiler can be used. */
    PS_TIER_JIT,        /* JIT before ps_encap_create() returns, or fail. */
    PS_TIER_INTERP,     /* The interpreter only. */
};

struct ps_encap;

/* Compiles 'stack' with 'labels' ("ip4.dst=192.0.2.254,udp.cksum=0"; NULL
 * or "" for none).  A label given here is constant: a length or checksum
 * field given a value is no longer computed.  $PROTOSTACK_TIER (auto,
 * jit, interp), when set, overrides 'tier'.  The stack must outlive the
 * encapsulation. */
enum ps_error ps_encap_create(const struct ps_stack *, const char *labels,
                              enum ps_tier tier, struct ps_encap **encapp,
                              char **errorp);
void ps_encap_destroy(struct ps_encap *);

const struct ps_stack *ps_encap_stack(const struct ps_encap *);
size_t ps_encap_size(const struct ps_encap *);
const uint8_t *ps_encap_template(const struct ps_encap *);

/* Writes the headers at 'pkt', for a packet of 'pkt_len' bytes (at least
 * ps_encap_size(), at most ps_stack_max_length() of its stack: a longer
 * one gets wrapped lengths) whose payload already follows them: template,
 * lengths, entropy from 'hash', checksums.  Checks nothing: the fast
 * path.  ps_encap_push() is the checked form. */
void ps_encap_apply(const struct ps_encap *, uint8_t *pkt, size_t pkt_len,
                    uint32_t hash);

/* Pushes the headers in front of the 'payload_len' bytes at 'payload',
 * which has 'headroom' writable bytes before it.  Returns the new start
 * of the packet, or NULL, writing nothing, if the headroom is short or
 * the packet would be longer than ps_stack_max_length(). */
uint8_t *ps_encap_push(const struct ps_encap *, uint8_t *payload,
                       size_t payload_len, size_t headroom, uint32_t hash);

/* The JIT-compiled function that ps_encap_apply() calls, or NULL while
 * the interpreter runs, and the data it takes: a caller that pushes a
 * batch can fetch both once and call fn(data, pkt, pkt_len, hash) per
 * packet, which saves the dispatch of ps_encap_apply().
 *
 * The function depends only on the shape of the encapsulation (its
 * stack's layout, and which lengths, checksums and entropy its labels
 * left to compute); the label values are in 'data' (the template and
 * partial checksums).  So encapsulations that differ only in label
 * values (another VNI, another address) share one compiled function.
 * 'data' lives as long as the encapsulation.
 *
 * ps_encap_jit_data_size() is the size of 'data' in bytes: the function
 * reads only those, so a caller may keep a copy of them (in a datapath
 * action, next to the function pointer) and pass the copy instead; the
 * copy needs no particular alignment.  The first ps_encap_size() bytes
 * are the template, the headers as pushed before lengths, entropy and
 * checksums are computed. */
typedef void ps_encap_fn(const uint8_t *data, uint8_t *pkt, size_t pkt_len,
                         uint32_t hash);
ps_encap_fn *ps_encap_jit_function(const struct ps_encap *);
const uint8_t *ps_encap_jit_data(const struct ps_encap *);
size_t ps_encap_jit_data_size(const struct ps_encap *);

/* The tier that runs now (PS_TIER_JIT or PS_TIER_INTERP). */
enum ps_tier ps_encap_tier(const struct ps_encap *);

/* Returns the JIT-compiled setter of integer or IPv4 field 'field' (an
 * index, see ps_stack_find_field()), which stores the low bits of its
 * value (IPv4 in host order), or NULL while no JIT code runs or for
 * fields of other types.  The setters are a module of their own, per
 * stack layout, compiled (or found in the cache) on the first call. */
typedef void ps_field_setter(uint8_t *pkt, uint64_t value);
ps_field_setter *ps_encap_field_setter(const struct ps_encap *,
                                       size_t field);

/* Waits for a background compilation to end; returns the tier then. */
enum ps_tier ps_encap_wait(struct ps_encap *);

/* Why the JIT does not run 'encap' (malloc()'d), or NULL: a background
 * compile that could not start (no thread, a full queue) or failed (the
 * compiler's messages). */
char *ps_encap_jit_error(const struct ps_encap *);

/* Like ps_stack_generate_c(), for an encapsulation: the template holds
 * the labels, and NAME_encap(p, pkt_len, hash) does what
 * ps_encap_apply() does. */
char *ps_encap_generate_c(const struct ps_encap *, const char *name);

/* The JIT's on-disk cache of compiled code, keyed by the hash of the
 * generated C and the compiler command.  Default: $PROTOSTACK_JIT_DIR,
 * else $XDG_CACHE_HOME/protostack/jit, else ~/.cache/protostack/jit.
 * The compiler is $PROTOSTACK_CC, else "cc".
 *
 * The cache must be a directory owned by the running user and writable
 * by no one else (it is created with mode 0700), below directories that
 * only root or the user can change, and a cached object a regular file
 * (not a symbolic link) owned by the user and writable by no one else.
 * Otherwise the JIT refuses the cache, compiles in a private temporary
 * directory, and says why on stderr the first time (and in
 * ps_jit_cache_problem()).
 *
 * ps_jit_cache_dir() returns the directory that the JIT would use now,
 * or NULL if there is none; the string stays valid for the life of the
 * process. */
void ps_jit_set_cache_dir(const char *dir);
const char *ps_jit_cache_dir(void);

/* Why the JIT last refused its cache (malloc()'d), or NULL. */
char *ps_jit_cache_problem(void);

struct ps_jit_stats {
    unsigned long long compiles;        /* Compiler runs that succeeded. */
    unsigned long long failures;        /* Loads and compiles that failed. */
    unsigned long long disk_hits;       /* Loaded from the disk cache. */
    unsigned long long memory_hits;     /* Shared with a loaded module. */
    unsigned long long last_compile_ns; /* Latest compiler run. */
    unsigned long long cache_refusals;  /* Cache directory or object
                                         * refused. */
    unsigned long long not_started;     /* Background compiles that could
                                         * not start. */
    unsigned long long dropped;         /* Background compiles whose
                                         * encapsulation was destroyed
                                         * first. */
    unsigned long long queued;          /* Background compiles waiting
                                         * now. */
    unsigned long long running;         /* Background compiles running
                                         * now. */
};
void ps_jit_get_stats(struct ps_jit_stats *);

/* Waits until no background compile is queued or running (for tests and
 * an orderly shutdown). */
void ps_jit_wait_idle(void);

/* Static code generation: writes a C header for 'stack' with a packed
 * struct, per-field inline getters and setters, and fill, set-length and
 * checksum functions, all prefixed 'name'.  Returns a malloc()'d string,
 * or NULL if 'name' is not a C identifier. */
char *ps_stack_generate_c(const struct ps_stack *, const char *name);

/* Returns a C identifier made from 'spec', e.g. "eth_ip4_udp" (malloc()'d). */
char *ps_stack_default_name(const struct ps_stack *);

#ifdef __cplusplus
}
#endif

#endif /* protostack/protostack.h */
