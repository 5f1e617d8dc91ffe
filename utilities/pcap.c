/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "pcap.h"

#include <errno.h>

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
