/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* protostack-demo [-w FILE.pcap]: builds the VXLAN packet of the libmoon
 * paper's Listing 8 (an inner eth/ip4/udp frame of 64 bytes inside
 * eth/ip4/udp/vxlan), prints every field and a hex dump, and optionally
 * writes it to a pcap file. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "protostack/protostack.h"
#include "capture.h"

#define INNER_LEN 64

static void
print_stack(const struct ps_stack *stack, const uint8_t *pkt)
{
    for (size_t h = 0; h < ps_stack_n_headers(stack); h++) {
        const struct ps_header_info *hi = ps_stack_header(stack, h);
        printf("%s (%s, %zu bytes at offset %zu):", hi->name, hi->protocol,
               hi->size, hi->offset);
        for (size_t f = 0; f < ps_stack_n_fields(stack); f++) {
            const struct ps_field_info *fi = ps_stack_field(stack, f);
            char text[128];
            if (fi->header == h && fi->bits) {
                ps_stack_get_text(stack, pkt, f, text, sizeof text);
                printf(" %s=%s", fi->name, text);
            }
        }
        putchar('\n');
    }
}

static void
hex_dump(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        printf("%04zx ", i);
        for (size_t j = i; j < i + 16 && j < n; j++) {
            printf(" %02x", p[j]);
        }
        putchar('\n');
    }
}

static int
write_pcap(const char *file, const uint8_t *pkt, size_t len)
{
    struct capture_writer w;
    char *error = NULL;

    if (capture_writer_open(&w, file, &error)) {
        fprintf(stderr, "protostack-demo: %s\n", error);
        free(error);
        return 1;
    }
    capture_write(&w, pkt, len, 0);
    if (capture_writer_close(&w, &error)) {
        fprintf(stderr, "protostack-demo: %s: %s\n", file, error);
        free(error);
        return 1;
    }
    return 0;
}

static void
die(const char *what, char *error)
{
    fprintf(stderr, "protostack-demo: %s: %s\n", what, error);
    free(error);
    exit(1);
}

int
main(int argc, char *argv[])
{
    const char *pcap = NULL;
    if (argc == 3 && !strcmp(argv[1], "-w")) {
        pcap = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [-w FILE.pcap]\n", argv[0]);
        return 2;
    }

    struct ps_registry *reg = ps_registry_create();
    struct ps_stack *outer = NULL, *inner = NULL;
    char *error = NULL;
    if (ps_registry_load_default(reg, &error)) {
        die("loading protocols", error);
    }
    if (ps_stack_create(reg, "eth,ip4,udp,vxlan", &outer, &error)
        || ps_stack_create(reg, "eth,ip4,udp", &inner, &error)) {
        die("compiling stacks", error);
    }

    /* The inner frame, as a VM would send it. */
    size_t outer_len = ps_stack_size(outer);
    size_t len = outer_len + INNER_LEN;
    uint8_t *pkt = calloc(1, len);
    uint8_t *frame = ps_stack_payload(outer, pkt);
    if (ps_stack_fill(inner, frame, INNER_LEN,
                      "eth.src=02:00:00:00:00:01,eth.dst=02:00:00:00:00:02,"
                      "ip4.src=10.0.0.1,ip4.dst=10.0.0.2,"
                      "udp.src=40000,udp.dst=40001", &error)) {
        die("filling the inner frame", error);
    }

    /* The encapsulation: the labels of the paper's Listing 8. */
    if (ps_stack_fill(outer, pkt, len,
                      "eth.src=aa:bb:cc:dd:ee:ff,eth.dst=00:11:22:33:44:55,"
                      "ip4.src=192.0.2.1,ip4.dst=192.0.2.254,"
                      "vxlan.vni=1234", &error)) {
        die("filling the VXLAN headers", error);
    }
    ps_stack_set_entropy(outer, pkt, 0x12345678);
    ps_stack_fix_checksums(outer, pkt, len);

    printf("stack %s: %zu bytes of headers, %zu-byte packet\n",
           ps_stack_spec(outer), outer_len, len);
    print_stack(outer, pkt);
    printf("inner frame, stack %s:\n", ps_stack_spec(inner));
    print_stack(inner, frame);
    hex_dump(pkt, len);

    int status = pcap ? write_pcap(pcap, pkt, len) : 0;
    if (pcap && !status) {
        printf("wrote %s\n", pcap);
    }
    free(pkt);
    ps_stack_destroy(outer);
    ps_stack_destroy(inner);
    ps_registry_destroy(reg);
    return status;
}
