/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef UTILITIES_CAPTURE_H
#define UTILITIES_CAPTURE_H 1

/* Captures in and out, through libpcap: files in pcap or pcapng (the
 * format is read from the file), live interfaces, BPF filters as
 * tcpdump takes them, and pcap files written for tcpdump and tshark. */

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

/* Opens 'file' ("-": standard input) for reading, or, if 'iface' is
 * non-null, starts a live capture on it; then applies the BPF 'filter'
 * (NULL or "" for none).  Returns the handle, or NULL with a malloc()'d
 * message in '*errorp'. */
pcap_t *capture_open(const char *file, const char *iface,
                     const char *filter, char **errorp);

/* A writer of Ethernet frames to a classic pcap file ("-": standard
 * output). */
struct capture_writer {
    pcap_t *dead;
    pcap_dumper_t *dumper;
};

/* Returns 0, or -1 with a malloc()'d message in '*errorp'. */
int capture_writer_open(struct capture_writer *, const char *file,
                        char **errorp);

/* Writes one frame of 'len' bytes with timestamp 'usec' microseconds. */
void capture_write(struct capture_writer *, const uint8_t *pkt, size_t len,
                   uint64_t usec);

/* Flushes and closes; returns 0, or -1 with a malloc()'d message in
 * '*errorp'. */
int capture_writer_close(struct capture_writer *, char **errorp);

#endif /* utilities/capture.h */
