/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "pcap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC 0xa1b2c3d4
#define PCAP_SNAPLEN 262144
#define PCAP_LINKTYPE_ETHERNET 1

int
pcap_write_header(FILE *f)
{
    /* Magic, version 2.4, zone, sigfigs, snaplen, link type; in host
     * order, which the magic tells readers. */
    uint32_t hdr[6] = { PCAP_MAGIC, 2 | (4u << 16), 0, 0, PCAP_SNAPLEN,
                        PCAP_LINKTYPE_ETHERNET };
    return fwrite(hdr, sizeof hdr, 1, f) == 1 ? 0 : errno ? errno : EIO;
}

int
pcap_write_packet(FILE *f, const uint8_t *pkt, size_t len, uint64_t usec)
{
    uint32_t caplen = len > PCAP_SNAPLEN ? PCAP_SNAPLEN : len;
    uint32_t hdr[4] = { usec / 1000000, usec % 1000000, caplen, len };
    if (fwrite(hdr, sizeof hdr, 1, f) != 1
        || (caplen && fwrite(pkt, caplen, 1, f) != 1)) {
        return errno ? errno : EIO;
    }
    return 0;
}

static uint32_t
get32(const struct pcap_reader *r, uint32_t v)
{
    return r->swapped ? __builtin_bswap32(v) : v;
}

char *
pcap_read_header(FILE *f, struct pcap_reader *r)
{
    uint32_t hdr[6];

    memset(r, 0, sizeof *r);
    r->file = f;
    if (fread(hdr, sizeof hdr, 1, f) != 1) {
        return strdup("not a pcap file (too short)");
    }
    switch (hdr[0]) {
    case 0xa1b2c3d4:
    case 0xa1b23c4d:
        break;
    case 0xd4c3b2a1:
    case 0x4d3cb2a1:
        r->swapped = true;
        break;
    case 0x0a0d0d0a:
        return strdup("pcapng files are not supported: convert with "
                      "\"editcap -F pcap IN OUT\"");
    default:
        return strdup("not a pcap file (bad magic number)");
    }
    r->snaplen = get32(r, hdr[4]);
    r->linktype = get32(r, hdr[5]);
    return NULL;
}

int
pcap_read_packet(struct pcap_reader *r, uint8_t **pktp, size_t *lenp,
                 char **errorp)
{
    uint32_t hdr[4];

    *pktp = NULL;
    *lenp = 0;
    size_t n = fread(hdr, 1, sizeof hdr, r->file);
    if (!n) {
        return EOF;
    } else if (n != sizeof hdr) {
        *errorp = strdup("truncated packet header");
        return EIO;
    }
    uint32_t caplen = get32(r, hdr[2]);
    if (caplen > (1u << 20)) {
        *errorp = strdup("packet larger than 1 MiB: corrupt file?");
        return EIO;
    }
    uint8_t *pkt = malloc(caplen ? caplen : 1);
    if (!pkt) {
        *errorp = strdup("out of memory");
        return ENOMEM;
    }
    if (caplen && fread(pkt, caplen, 1, r->file) != 1) {
        free(pkt);
        *errorp = strdup("truncated packet data");
        return EIO;
    }
    *pktp = pkt;
    *lenp = caplen;
    return 0;
}
