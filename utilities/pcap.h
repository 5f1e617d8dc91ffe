/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef UTILITIES_PCAP_H
#define UTILITIES_PCAP_H 1

/* Writing classic pcap files (microsecond timestamps, Ethernet link
 * type), as tcpdump and tshark read them. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes the file header.  Returns 0 or an errno value. */
int pcap_write_header(FILE *);

/* Writes one packet with timestamp 'usec' microseconds. */
int pcap_write_packet(FILE *, const uint8_t *pkt, size_t len, uint64_t usec);

#endif /* utilities/pcap.h */
