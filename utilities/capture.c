/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "capture.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
xasprintf(const char *format, ...)
{
    va_list args;
    char *s;

    va_start(args, format);
    if (vasprintf(&s, format, args) < 0) {
        s = NULL;
    }
    va_end(args);
    if (!s) {
        fputs("protostack: out of memory\n", stderr);
        exit(1);
    }
    return s;
}

pcap_t *
capture_open(const char *file, const char *iface, const char *filter,
             char **errorp)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    const char *name = iface ? iface : file;
    pcap_t *p;

    if (iface) {
        p = pcap_create(iface, errbuf);
        if (p && (pcap_set_snaplen(p, 262144)
                  || pcap_set_immediate_mode(p, 1)
                  || pcap_set_timeout(p, 100))) {
            pcap_close(p);
            p = NULL;
        }
        if (p) {
            int rc = pcap_activate(p);
            if (rc < 0) {
                *errorp = xasprintf("%s: %s", iface, pcap_geterr(p));
                pcap_close(p);
                return NULL;
            }
        }
    } else {
        p = pcap_open_offline(file, errbuf);
    }
    if (!p) {
        /* libpcap's message may name the file already. */
        *errorp = (!strncmp(errbuf, name, strlen(name))
                   ? xasprintf("%s", errbuf)
                   : xasprintf("%s: %s", name,
                               errbuf[0] ? errbuf : "cannot open"));
        return NULL;
    }

    if (filter && filter[0]) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN)
            || pcap_setfilter(p, &prog)) {
            *errorp = xasprintf("filter \"%s\": %s", filter,
                                pcap_geterr(p));
            pcap_close(p);
            return NULL;
        }
        pcap_freecode(&prog);
    }
    return p;
}

int
capture_writer_open(struct capture_writer *w, const char *file,
                    char **errorp)
{
    w->dead = pcap_open_dead(DLT_EN10MB, 262144);
    if (!w->dead) {
        *errorp = xasprintf("%s: out of memory", file);
        return -1;
    }
    w->dumper = (strcmp(file, "-")
                 ? pcap_dump_open(w->dead, file)
                 : pcap_dump_fopen(w->dead, stdout));
    if (!w->dumper) {
        *errorp = xasprintf("%s", pcap_geterr(w->dead));
        pcap_close(w->dead);
        return -1;
    }
    return 0;
}

void
capture_write(struct capture_writer *w, const uint8_t *pkt, size_t len,
              uint64_t usec)
{
    struct pcap_pkthdr hdr;

    memset(&hdr, 0, sizeof hdr);
    hdr.ts.tv_sec = usec / 1000000;
    hdr.ts.tv_usec = usec % 1000000;
    hdr.caplen = hdr.len = len;
    pcap_dump((u_char *) w->dumper, &hdr, pkt);
}

int
capture_writer_close(struct capture_writer *w, char **errorp)
{
    FILE *f = pcap_dump_file(w->dumper);
    int error = fflush(f) || ferror(f) ? errno : 0;

    pcap_dump_close(w->dumper);
    pcap_close(w->dead);
    if (error) {
        *errorp = xasprintf("%s", strerror(error));
        return -1;
    }
    return 0;
}
