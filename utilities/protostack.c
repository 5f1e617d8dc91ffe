/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* protostack: the command-line face of libprotostack.
 *
 *   protostack list
 *   protostack explain SPEC
 *   protostack craft SPEC [LABEL=VALUE...] [--size BYTES] [--pad BYTES]
 *                    [--count N]
 *                    [--vary LABEL=+STEP[:COUNT]]... -w FILE.pcap
 *   protostack dissect [-x|-q] [--text2pcap] [--first PROTO] [-c COUNT]
 *                      [--no-verify] (FILE | -i IFACE) [FILTER...]
 *   protostack gen SPEC [LABEL=VALUE...] [--name NAME]
 *
 * Exit status: 0 on success, 1 on bad input, 2 on usage errors. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capture.h"
#include "protostack/protostack.h"

#define PS_ARRAY_N(A) (sizeof (A) / sizeof (A)[0])
#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2

static const char *program_name = "protostack";

static void __attribute__((__format__(printf, 2, 3), __noreturn__))
fail(int status, const char *format, ...)
{
    va_list args;
    fprintf(stderr, "%s: ", program_name);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    putc('\n', stderr);
    exit(status);
}

/* Protocol directories added with --protocols, then $PROTOSTACK_PATH. */
static const char **extra_dirs;
static size_t n_extra_dirs;

static void
add_protocols_dir(const char *dir)
{
    extra_dirs = realloc(extra_dirs, (n_extra_dirs + 1) * sizeof *extra_dirs);
    if (!extra_dirs) {
        fail(EXIT_BAD_INPUT, "out of memory");
    }
    extra_dirs[n_extra_dirs++] = dir;
}

static struct ps_registry *
load_registry(void)
{
    struct ps_registry *reg = ps_registry_create();
    char *error = NULL;

    /* The shipped protocols, then $PROTOSTACK_PATH's directories, then
     * --protocols: a file named like a shipped one replaces it. */
    const char **paths = NULL;
    size_t n_paths = 0;
    const char *path = getenv("PROTOSTACK_PATH");
    char *copy = path ? strdup(path) : NULL;
    for (char *save, *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir;
         dir = strtok_r(NULL, ":", &save)) {
        paths = realloc(paths, (n_paths + 1) * sizeof *paths);
        paths[n_paths++] = dir;
    }
    for (size_t i = 0; i < n_extra_dirs; i++) {
        paths = realloc(paths, (n_paths + 1) * sizeof *paths);
        paths[n_paths++] = extra_dirs[i];
    }
    if (ps_registry_load_default_with(reg, paths, n_paths, &error)) {
        fail(EXIT_BAD_INPUT, "%s", error);
    }
    free(paths);
    free(copy);
    return reg;
}

static struct ps_stack *
compile_stack(const struct ps_registry *reg, const char *spec)
{
    struct ps_stack *stack;
    char *error = NULL;
    if (ps_stack_create(reg, spec, &stack, &error)) {
        fail(EXIT_BAD_INPUT, "%s", error);
    }
    return stack;
}

/* Parses the options common to all subcommands and those in 'own', which
 * may come before or after the operands; returns the index of the first
 * operand (getopt moves the operands to the end of 'argv'). */
struct option_handler {
    int (*handle)(int c, const char *arg, void *aux);
    void *aux;
};

static const struct option common_options[] = {
    { "protocols", required_argument, NULL, 'P' },
    { "help", no_argument, NULL, 'h' },
};

static int
parse_options(int argc, char *argv[], const char *usage,
              const struct option *own, size_t n_own, const char *shortopts,
              const struct option_handler *handler)
{
    struct option longopts[16];
    size_t n = 0;
    for (size_t i = 0; i < n_own; i++) {
        longopts[n++] = own[i];
    }
    for (size_t i = 0; i < 2; i++) {
        longopts[n++] = common_options[i];
    }
    memset(&longopts[n], 0, sizeof longopts[n]);

    char opts[64];
    snprintf(opts, sizeof opts, ":%sh", shortopts);
    optind = 1;
    opterr = 0;                 /* Our own messages name the command. */
    for (;;) {
        int prev = optind;
        int c = getopt_long(argc, argv, opts, longopts, NULL);
        if (c == -1) {
            break;
        } else if (c == 'h') {
            printf("%s", usage);
            exit(0);
        } else if (c == 'P') {
            add_protocols_dir(optarg);
        } else if (c == '?' || c == ':') {
            const char *opt = argv[optind - 1];
            if (optopt && optind == prev) {
                opt = NULL;     /* Within a group of short options. */
            }
            if (opt) {
                fprintf(stderr, "%s %s: %s option '%s'\n", program_name,
                        argv[0], c == ':' ? "missing argument to"
                        : "unrecognized", opt);
            } else {
                fprintf(stderr, "%s %s: %s option '-%c'\n", program_name,
                        argv[0], c == ':' ? "missing argument to"
                        : "unrecognized", optopt);
            }
            fprintf(stderr, "%s", usage);
            exit(EXIT_USAGE);
        } else if (!handler || handler->handle(c, optarg, handler->aux)) {
            fprintf(stderr, "%s", usage);
            exit(EXIT_USAGE);
        }
    }
    return optind;
}

/* list */

static const char list_usage[] =
    "usage: protostack list [--protocols DIR]\n"
    "Lists the known protocols with their descriptions.\n";

static int
cmd_list(int argc, char *argv[])
{
    int first = parse_options(argc, argv, list_usage, NULL, 0, "", NULL);
    if (first != argc) {
        fprintf(stderr, "%s", list_usage);
        return EXIT_USAGE;
    }
    struct ps_registry *reg = load_registry();
    for (size_t i = 0; i < ps_registry_n_protocols(reg); i++) {
        const char *file = ps_registry_protocol_file(reg, i);
        printf("%-10s %s  [%s]\n", ps_registry_protocol_name(reg, i),
               ps_registry_protocol_doc(reg, i),
               strncmp(file, "built-in:", 9) ? file : "built-in");
    }
    ps_registry_destroy(reg);
    return 0;
}

/* explain */

static const char explain_usage[] =
    "usage: protostack explain SPEC [--protocols DIR]\n"
    "Prints the layout of a stack: one row per field with its label,\n"
    "byte.bit offset, width in bits, default or computed rule, and\n"
    "description.\n";

static int
cmd_explain(int argc, char *argv[])
{
    int first = parse_options(argc, argv, explain_usage, NULL, 0, "", NULL);
    if (argc - first != 1) {
        fprintf(stderr, "%s", explain_usage);
        return EXIT_USAGE;
    }
    struct ps_registry *reg = load_registry();
    struct ps_stack *stack = compile_stack(reg, argv[first]);

    printf("stack %s: %zu bytes\n", ps_stack_spec(stack),
           ps_stack_size(stack));
    for (size_t h = 0; h < ps_stack_n_headers(stack); h++) {
        const struct ps_header_info *hi = ps_stack_header(stack, h);
        printf("\n%s: %s%s%s, %zu bytes at %zu: %s\n", hi->name,
               hi->protocol, strcmp(hi->subtype, "plain") ? " " : "",
               strcmp(hi->subtype, "plain") ? hi->subtype : "", hi->size,
               hi->offset, hi->doc);
        printf("  %-22s %-8s %5s  %-28s %s\n", "LABEL", "OFFSET", "BITS",
               "DEFAULT", "DESCRIPTION");
        for (size_t f = 0; f < ps_stack_n_fields(stack); f++) {
            const struct ps_field_info *fi = ps_stack_field(stack, f);
            if (fi->header != h) {
                continue;
            }
            char offset[32];
            snprintf(offset, sizeof offset, "%zu.%zu", fi->bit_offset / 8,
                     fi->bit_offset % 8);
            char rule[160];
            if (fi->rule == PS_RULE_CONST && fi->type != PS_FIELD_BYTES) {
                char text[64];
                ps_stack_get_text(stack, ps_stack_template(stack), f, text,
                                  sizeof text);
                snprintf(rule, sizeof rule, "%s", text);
            } else {
                snprintf(rule, sizeof rule, "%s", fi->rule_text);
            }
            if (fi->rule == PS_RULE_NEXT) {
                char text[64];
                ps_stack_get_text(stack, ps_stack_template(stack), f, text,
                                  sizeof text);
                snprintf(rule, sizeof rule, "%s = %s", fi->rule_text, text);
            }
            printf("  %-22s %-8s %5zu  %-28s %s%s\n", fi->label, offset,
                   fi->bits, rule, fi->doc,
                   fi->entropy ? " [flow entropy]" : "");
        }
    }
    ps_stack_destroy(stack);
    ps_registry_destroy(reg);
    return 0;
}

/* craft */

static const char craft_usage[] =
    "usage: protostack craft SPEC [LABEL=VALUE...] [--size BYTES] "
    "[--pad BYTES]\n"
    "                        [--count N] [--vary LABEL=+STEP[:COUNT]]...\n"
    "                        -w FILE.pcap\n"
    "Writes packets of stack SPEC, lengths and checksums fixed, to a pcap\n"
    "file (Ethernet link type; '-w -' for standard output).\n"
    "  --size BYTES   size of the whole frame; the payload is zero-filled\n"
    "                 (default: the stack's own size)\n"
    "  --count N      number of packets (default 1)\n"
    "  --pad BYTES    pad the frame with zeros to BYTES (e.g. 60, Ethernet's\n"
    "                 minimum); padding is not counted in any length or\n"
    "                 checksum\n"
    "  --vary L=+S[:C]  add S to field L in each packet, wrapping after C\n"
    "                 values (default: at the field's width); repeatable\n"
    "  --protocols DIR  load more protocol files\n";

struct vary {
    const char *label;
    size_t field;
    uint64_t step;
    uint64_t count;             /* 0: wrap at the field's width. */
};

struct craft_options {
    size_t size;
    bool has_size;
    size_t pad;                 /* Minimum frame size, zero-padded. */
    uint64_t count;
    const char *output;
    struct vary *varies;
    size_t n_varies;
};

/* Parses a number as the library parses label values: decimal without
 * leading zeros, or "0x" and hexadecimal digits. */
static bool
parse_u64(const char *s, uint64_t *v)
{
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *digits = hex ? s + 2 : s;
    size_t n = strspn(digits, hex ? "0123456789abcdefABCDEF"
                      : "0123456789");
    if (!n || digits[n] || (!hex && n > 1 && digits[0] == '0')) {
        return false;
    }
    char *end;
    errno = 0;
    unsigned long long x = strtoull(digits, &end, hex ? 16 : 10);
    if (errno) {
        return false;
    }
    *v = x;
    return true;
}

static int
craft_option(int c, const char *arg, void *aux)
{
    struct craft_options *o = aux;
    uint64_t v;

    switch (c) {
    case 's':
        if (!parse_u64(arg, &v) || v > 65535 + 14 + 4) {
            fail(EXIT_BAD_INPUT, "--size %s: not a frame size", arg);
        }
        o->size = v;
        o->has_size = true;
        return 0;
    case 'c':
        if (!parse_u64(arg, &v) || !v || v > 100000000) {
            fail(EXIT_BAD_INPUT, "--count %s: not a packet count", arg);
        }
        o->count = v;
        return 0;
    case 'w':
        o->output = arg;
        return 0;
    case 'p':
        if (!parse_u64(arg, &v) || v > 65535 + 14 + 4) {
            fail(EXIT_BAD_INPUT, "--pad %s: not a frame size", arg);
        }
        o->pad = v;
        return 0;
    case 'v': {
        const char *eq = strchr(arg, '=');
        if (!eq || eq[1] != '+') {
            fail(EXIT_BAD_INPUT, "--vary %s: expected LABEL=+STEP[:COUNT]",
                 arg);
        }
        o->varies = realloc(o->varies, (o->n_varies + 1) * sizeof *o->varies);
        struct vary *vr = &o->varies[o->n_varies++];
        memset(vr, 0, sizeof *vr);
        vr->label = strndup(arg, eq - arg);
        char *step = strdup(eq + 2);
        char *colon = strchr(step, ':');
        if (colon) {
            *colon = '\0';
            if (!parse_u64(colon + 1, &vr->count) || !vr->count) {
                fail(EXIT_BAD_INPUT, "--vary %s: bad COUNT", arg);
            }
        }
        if (!parse_u64(step, &vr->step)) {
            fail(EXIT_BAD_INPUT, "--vary %s: bad STEP", arg);
        }
        free(step);
        return 0;
    }
    }
    return 1;
}

/* Returns the text of field 'vr' of 'base' advanced by 'n' steps. */
static void
varied_text(const struct ps_stack *stack, const uint8_t *base,
            const struct vary *vr, uint64_t n, char *buf, size_t size)
{
    const struct ps_field_info *fi = ps_stack_field(stack, vr->field);
    uint64_t k = vr->count ? n % vr->count : n;
    uint64_t delta = vr->step * k;    /* Modulo 2**64, as the field wraps. */

    switch (fi->type) {
    case PS_FIELD_UINT:
    case PS_FIELD_IP4: {
        uint64_t v = ps_stack_get_uint(stack, base, vr->field) + delta;
        if (fi->bits < 64) {
            v &= (UINT64_C(1) << fi->bits) - 1;
        }
        if (fi->type == PS_FIELD_IP4) {
            char text[PS_IP4_STRLEN];
            snprintf(buf, size, "%s", ps_ip4_format(v, text));
        } else {
            snprintf(buf, size, "%"PRIu64, v);
        }
        break;
    }
    case PS_FIELD_MAC: {
        struct ps_mac mac;
        char text[PS_MAC_STRLEN];
        ps_stack_get_mac(stack, base, vr->field, &mac);
        uint64_t v = 0;
        for (int i = 0; i < 6; i++) {
            v = v << 8 | mac.b[i];
        }
        v += delta;
        for (int i = 5; i >= 0; i--) {
            mac.b[i] = v;
            v >>= 8;
        }
        snprintf(buf, size, "%s", ps_mac_format(&mac, text));
        break;
    }
    case PS_FIELD_IP6: {
        struct ps_ip6 a, step = { { 0 } };
        char text[PS_IP6_STRLEN];
        ps_stack_get_ip6(stack, base, vr->field, &a);
        /* step * k as a 128-bit product. */
        unsigned __int128 prod = (unsigned __int128) vr->step * k;
        for (int i = 15; i >= 0; i--) {
            step.b[i] = prod;
            prod >>= 8;
        }
        ps_ip6_add_ip6(&a, &step);
        snprintf(buf, size, "%s", ps_ip6_format(&a, text));
        break;
    }
    case PS_FIELD_BYTES:
    default:
        fail(EXIT_BAD_INPUT, "--vary %s: byte fields cannot vary",
             vr->label);
    }
}

/* Returns the 'n' 'words' joined with 'sep'. */
static char *
words_join(const char *const *words, size_t n, const char *sep)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        total += strlen(words[i]) + strlen(sep);
    }
    char *s = calloc(1, total);
    for (size_t i = 0; i < n; i++) {
        if (i) {
            strcat(s, sep);
        }
        strcat(s, words[i]);
    }
    return s;
}

/* Returns the comma-separated 'labels' with 'label' set to 'value': any
 * label naming it is dropped and "label=value" appended. */
static char *
label_replace(const char *labels, const char *label, const char *value)
{
    size_t len = strlen(label);
    char *s = malloc(strlen(labels) + len + strlen(value) + 3);
    char *copy = strdup(labels), *save;

    s[0] = '\0';
    for (char *p = strtok_r(copy, ",", &save); p;
         p = strtok_r(NULL, ",", &save)) {
        if (strncmp(p, label, len) || p[len] != '=') {
            strcat(strcat(s, s[0] ? "," : ""), p);
        }
    }
    strcat(strcat(strcat(strcat(s, s[0] ? "," : ""), label), "="), value);
    free(copy);
    return s;
}

static int
cmd_craft(int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "size", required_argument, NULL, 's' },
        { "count", required_argument, NULL, 'c' },
        { "vary", required_argument, NULL, 'v' },
        { "write", required_argument, NULL, 'w' },
        { "pad", required_argument, NULL, 'p' },
    };
    struct craft_options o = { .count = 1 };
    struct option_handler handler = { craft_option, &o };

    int first = parse_options(argc, argv, craft_usage, longopts,
                              PS_ARRAY_N(longopts), "s:c:v:w:p:", &handler);
    char **operands = argv + first;
    size_t n_operands = argc - first;
    if (!n_operands || !o.output) {
        fprintf(stderr, "%s", craft_usage);
        return EXIT_USAGE;
    }

    struct ps_registry *reg = load_registry();
    struct ps_stack *stack = compile_stack(reg, operands[0]);
    const char *const *labels = (const char *const *) operands + 1;
    size_t n_labels = n_operands - 1;
    for (size_t j = 0; j < n_labels; j++) {
        if (!strchr(labels[j], '=')) {
            fail(EXIT_BAD_INPUT, "label \"%s\": expected HEADER.FIELD=VALUE",
                 labels[j]);
        }
    }
    for (size_t j = 0; j < o.n_varies; j++) {
        char *error = NULL;
        if (ps_stack_find_field(stack, o.varies[j].label, &o.varies[j].field,
                                &error)) {
            fail(EXIT_BAD_INPUT, "--vary: %s", error);
        }
        if (ps_stack_field(stack, o.varies[j].field)->type
            == PS_FIELD_BYTES) {
            fail(EXIT_BAD_INPUT, "--vary %s: byte fields cannot vary",
                 o.varies[j].label);
        }
    }

    size_t len = o.has_size ? o.size : ps_stack_size(stack);
    if (len < ps_stack_size(stack)) {
        fail(EXIT_BAD_INPUT, "--size %zu is less than the %zu bytes of "
             "stack %s", len, ps_stack_size(stack), ps_stack_spec(stack));
    }
    size_t frame_len = len > o.pad ? len : o.pad;
    uint8_t *base = calloc(1, frame_len + 1);
    uint8_t *pkt = calloc(1, frame_len + 1);
    char *all = words_join(labels, n_labels, ",");
    char *error = NULL;
    if (ps_stack_fill(stack, base, len, all, &error)) {
        fail(EXIT_BAD_INPUT, "%s", error);
    }

    struct capture_writer out;
    if (capture_writer_open(&out, o.output, &error)) {
        fail(EXIT_BAD_INPUT, "%s", error);
    }
    for (uint64_t n = 0; n < o.count; n++) {
        if (!o.n_varies) {
            memcpy(pkt, base, len);
        } else {
            /* Re-fill with the varied values as labels, so that lengths
             * and checksums that no label gave are computed as usual. */
            char *cur = strdup(all);
            for (size_t j = 0; j < o.n_varies; j++) {
                char value[128];
                varied_text(stack, base, &o.varies[j], n, value,
                            sizeof value);
                char *next = label_replace(cur, o.varies[j].label, value);
                free(cur);
                cur = next;
            }
            if (ps_stack_fill(stack, pkt, len, cur, &error)) {
                fail(EXIT_BAD_INPUT, "%s", error);
            }
            free(cur);
        }
        capture_write(&out, pkt, frame_len, n);
    }
    if (capture_writer_close(&out, &error)) {
        fail(EXIT_BAD_INPUT, "%s: %s", o.output, error);
    }
    free(all);
    free(base);
    free(pkt);
    ps_stack_destroy(stack);
    ps_registry_destroy(reg);
    return 0;
}

/* dissect */

static const char dissect_usage[] =
    "usage: protostack dissect [-x|-q] [--text2pcap] [--first PROTO] "
    "[-c COUNT]\n"
    "                          [--no-verify]\n"
    "                          (FILE | -i IFACE) [FILTER...]\n"
    "Dissects every packet of a capture file (pcap or pcapng; '-' for\n"
    "standard input) or of a live capture, and prints one line per header\n"
    "with its fields; bad lengths and checksums are flagged.\n"
    "  -i, --interface IFACE  capture live on IFACE\n"
    "  -c, --count COUNT      stop after COUNT packets\n"
    "  FILTER                 a BPF filter expression, as tcpdump takes\n"
    "                         it (e.g. udp port 4789)\n"
    "  -x, --hex        add a hex dump of each header\n"
    "  --text2pcap      print hex that text2pcap reads (the rest as '#'\n"
    "                   comments)\n"
    "  -q, --summary    one line per packet: number, length, headers,\n"
    "                   payload, fields found bad\n"
    "  --no-verify      find the headers only: do not verify lengths and\n"
    "                   checksums\n"
    "  --first PROTO    the first header (default: eth)\n"
    "  --protocols DIR  load more protocol files\n";

struct dissect_options {
    unsigned int flags;         /* PS_DUMP_*. */
    unsigned int dissect_flags; /* PS_DISSECT_*. */
    const char *first;
    const char *iface;
    uint64_t count;             /* 0: no limit. */
};

static int
dissect_option(int c, const char *arg, void *aux)
{
    struct dissect_options *o = aux;
    switch (c) {
    case 'x':
        o->flags |= PS_DUMP_HEX;
        return 0;
    case 't':
        o->flags |= PS_DUMP_TEXT2PCAP;
        return 0;
    case 'q':
        o->flags |= PS_DUMP_SUMMARY;
        return 0;
    case 'f':
        o->first = arg;
        return 0;
    case 'n':
        o->dissect_flags |= PS_DISSECT_NO_VERIFY;
        return 0;
    case 'i':
        o->iface = arg;
        return 0;
    case 'c':
        if (!parse_u64(arg, &o->count) || !o->count) {
            fail(EXIT_BAD_INPUT, "--count %s: expected a positive number",
                 arg);
        }
        return 0;
    }
    return 1;
}

static int
cmd_dissect(int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "hex", no_argument, NULL, 'x' },
        { "text2pcap", no_argument, NULL, 't' },
        { "summary", no_argument, NULL, 'q' },
        { "first", required_argument, NULL, 'f' },
        { "interface", required_argument, NULL, 'i' },
        { "count", required_argument, NULL, 'c' },
        { "no-verify", no_argument, NULL, 'n' },
    };
    struct dissect_options o = { 0, 0, "eth", NULL, 0 };
    struct option_handler handler = { dissect_option, &o };
    int first = parse_options(argc, argv, dissect_usage, longopts,
                              PS_ARRAY_N(longopts), "xqi:c:", &handler);
    if (!o.iface && argc - first < 1) {
        fprintf(stderr, "%s", dissect_usage);
        return EXIT_USAGE;
    }

    /* The operands after the file, or all with -i, are the filter. */
    const char *file = o.iface ? NULL : argv[first++];
    const char *const *words = (const char *const *) argv + first;
    char *filter = words_join(words, argc - first, " ");
    char *error = NULL;
    pcap_t *in = capture_open(file, o.iface, filter, &error);
    if (!in) {
        fail(EXIT_BAD_INPUT, "%s", error);
    }
    const char *name = o.iface ? o.iface : file;
    if (pcap_datalink(in) != DLT_EN10MB && !strcmp(o.first, "eth")) {
        const char *type = pcap_datalink_val_to_name(pcap_datalink(in));
        fail(EXIT_BAD_INPUT, "%s: link type %s is not Ethernet: give "
             "--first", name, type ? type : "unknown");
    }

    struct ps_registry *reg = load_registry();
    int status = 0;
    for (uint64_t n = 1; !o.count || n <= o.count; n++) {
        struct pcap_pkthdr *hdr;
        const u_char *pkt;
        int rc = pcap_next_ex(in, &hdr, &pkt);
        if (rc == PCAP_ERROR_BREAK) {
            break;
        } else if (rc == 0) {
            n--;                /* A live capture's timeout. */
            continue;
        } else if (rc < 0) {
            fail(EXIT_BAD_INPUT, "%s: packet %"PRIu64": %s", name, n,
                 pcap_geterr(in));
        }
        struct ps_dissection *d;
        if (ps_dissect_flags(reg, o.first, pkt, hdr->caplen, o.dissect_flags,
                             &d, &error)) {
            fail(EXIT_BAD_INPUT, "%s", error);
        }
        char *text = ps_dissection_format(d, pkt, o.flags);
        if (o.flags & PS_DUMP_SUMMARY) {
            printf("%"PRIu64" %u: %s", n, hdr->caplen, text);
        } else {
            printf("%spacket %"PRIu64", %u bytes\n%s",
                   o.flags & PS_DUMP_TEXT2PCAP ? "# " : "", n,
                   hdr->caplen, text);
        }
        free(text);
        ps_dissection_destroy(d);
        if (o.iface) {
            fflush(stdout);
        }
    }
    pcap_close(in);
    free(filter);
    ps_registry_destroy(reg);
    return status;
}

/* gen */

static const char gen_usage[] =
    "usage: protostack gen SPEC [LABEL=VALUE...] [--name NAME] "
    "[--protocols DIR]\n"
    "Prints the static C header of a stack: a packed struct, inline\n"
    "getters and setters, fill, set-length and checksum functions, and\n"
    "NAME_encap(), which pushes the stack in front of a payload with\n"
    "incremental checksums, all prefixed NAME (default: made from the\n"
    "spec).  Labels are constants of the template, as for craft: with\n"
    "them, NAME_encap() writes a whole tunnel header per packet.\n";

static int
gen_option(int c, const char *arg, void *aux)
{
    if (c == 'n') {
        *(const char **) aux = arg;
        return 0;
    }
    return 1;
}

static int
cmd_gen(int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "name", required_argument, NULL, 'n' },
    };
    const char *name = NULL;
    struct option_handler handler = { gen_option, &name };
    int first = parse_options(argc, argv, gen_usage, longopts, 1, "n:",
                              &handler);
    if (argc - first < 1) {
        fprintf(stderr, "%s", gen_usage);
        return EXIT_USAGE;
    }
    const char *const *labels = (const char *const *) argv + first + 1;
    size_t n_labels = argc - first - 1;
    for (size_t j = 0; j < n_labels; j++) {
        if (!strchr(labels[j], '=')) {
            fail(EXIT_BAD_INPUT, "label \"%s\": expected HEADER.FIELD=VALUE",
                 labels[j]);
        }
    }

    struct ps_registry *reg = load_registry();
    struct ps_stack *stack = compile_stack(reg, argv[first]);
    char *all = words_join(labels, n_labels, ",");
    struct ps_encap *encap;
    char *error = NULL;
    if (ps_encap_create(stack, all, PS_TIER_INTERP, &encap, &error)) {
        fail(EXIT_BAD_INPUT, "%s", error);
    }
    char *default_name = ps_stack_default_name(stack);
    char *code = ps_encap_generate_c(encap, name ? name : default_name);
    if (!code) {
        fail(EXIT_BAD_INPUT, "--name %s: not a C identifier", name);
    }
    fputs(code, stdout);
    free(code);
    free(default_name);
    free(all);
    ps_encap_destroy(encap);
    ps_stack_destroy(stack);
    ps_registry_destroy(reg);
    return 0;
}

static const char main_usage[] =
    "usage: protostack COMMAND [ARG...]\n"
    "Commands:\n"
    "  list                      list the known protocols\n"
    "  explain SPEC              print the layout of a stack\n"
    "  craft SPEC [LABEL=VALUE...] -w FILE.pcap\n"
    "                            write packets of a stack\n"
    "  dissect [-x] FILE|-i IFACE [FILTER...]\n"
    "                            dump every packet of a capture\n"
    "  gen SPEC [LABEL=VALUE...] [--name NAME]\n"
    "                            print a stack's static C header\n"
    "Every command takes --protocols DIR (more protocol files; also\n"
    "$PROTOSTACK_PATH, colon-separated) and --help.\n";

int
main(int argc, char *argv[])
{
    static const struct {
        const char *name;
        int (*run)(int argc, char *argv[]);
    } commands[] = {
        { "list", cmd_list },
        { "explain", cmd_explain },
        { "craft", cmd_craft },
        { "dissect", cmd_dissect },
        { "gen", cmd_gen },
    };

    if (argc < 2) {
        fprintf(stderr, "%s", main_usage);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")
        || !strcmp(argv[1], "help")) {
        printf("%s", main_usage);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "%s: unknown command \"%s\"\n%s", program_name, argv[1],
            main_usage);
    return EXIT_USAGE;
}
