/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef UTILITIES_PCAP_H
#define UTILITIES_PCAP_H 1

/* Writing classic pcap files (microsecond timestamps, Ethernet link
 * type), as tcpdump and tshark read them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes the file header.  Returns 0 or an errno value. */
int pcap_write_header(FILE *);

/* Writes one packet with timestamp 'usec' microseconds. */
int pcap_write_packet(FILE *, const uint8_t *pkt, size_t len, uint64_t usec);

/* Reading classic pcap files, either byte order, micro- or nanosecond
 * timestamps. */
struct pcap_reader {
    FILE *file;
    bool swapped;               /* File written in the other byte order. */
    uint32_t linktype;
    uint32_t snaplen;
};

/* Opens 'f' for reading.  Returns NULL on success, else a malloc()'d
 * message. */
char *pcap_read_header(FILE *f, struct pcap_reader *);

/* Reads the next packet into '*pktp' (malloc()'d) and '*lenp' (bytes
 * captured).  Returns 0 on success, EOF at the end of the file, or a
 * positive errno value with '*errorp' set to a malloc()'d message. */
int pcap_read_packet(struct pcap_reader *, uint8_t **pktp, size_t *lenp,
                     char **errorp);

#endif /* utilities/pcap.h */
