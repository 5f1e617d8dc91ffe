/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ps-vxlan-nl: creates or deletes a Linux kernel VXLAN device through
 * libnl-route (rtnetlink), in the network namespace it runs in.  Used by
 * utilities/ovs-peers-check.sh to check push_stack's VXLAN frames against
 * the kernel's decapsulation (docs/ovs.md, "Peers").
 *
 *   ps-vxlan-nl add NAME VNI LOCAL-IPV4 DEV [PORT]
 *       creates VXLAN device NAME for VNI, bound to the address LOCAL-IPV4
 *       of the lower device DEV, on UDP port PORT (default 4789), with
 *       learning, and sets it up;
 *   ps-vxlan-nl del NAME
 *       deletes the device NAME.
 *
 * Exits 0 on success, 1 with a message naming what failed otherwise. */

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>

static int
usage(void)
{
    fprintf(stderr, "usage: ps-vxlan-nl add NAME VNI LOCAL-IPV4 DEV [PORT]\n"
                    "       ps-vxlan-nl del NAME\n");
    return 1;
}

/* Parses the decimal number 's', at most 'max', into '*value'. */
static int
parse_uint(const char *s, unsigned long max, unsigned long *value)
{
    char *end;

    errno = 0;
    *value = strtoul(s, &end, 10);
    return !errno && end != s && !*end && *value <= max ? 0 : -1;
}

static int
vxlan_add(struct nl_sock *sock, int argc, char *argv[])
{
    unsigned long vni, port = 4789;
    struct nl_addr *local = NULL;
    struct rtnl_link *link = NULL;
    int ifindex, err;

    if (argc < 6 || argc > 7) {
        return usage();
    }
    if (parse_uint(argv[3], 0xffffff, &vni)) {
        fprintf(stderr, "ps-vxlan-nl: VNI %s: not a number of 0 to "
                "16777215\n", argv[3]);
        return 1;
    }
    if (argc == 7 && (parse_uint(argv[6], 65535, &port) || !port)) {
        fprintf(stderr, "ps-vxlan-nl: port %s: not a number of 1 to "
                "65535\n", argv[6]);
        return 1;
    }
    err = nl_addr_parse(argv[4], AF_INET, &local);
    if (err < 0) {
        fprintf(stderr, "ps-vxlan-nl: local address %s: %s\n", argv[4],
                nl_geterror(err));
        return 1;
    }
    ifindex = if_nametoindex(argv[5]);
    if (!ifindex) {
        fprintf(stderr, "ps-vxlan-nl: lower device %s: %s\n", argv[5],
                strerror(errno));
        nl_addr_put(local);
        return 1;
    }

    link = rtnl_link_vxlan_alloc();
    if (!link) {
        fprintf(stderr, "ps-vxlan-nl: out of memory\n");
        nl_addr_put(local);
        return 1;
    }
    rtnl_link_set_name(link, argv[2]);
    rtnl_link_set_flags(link, IFF_UP);
    if ((err = rtnl_link_vxlan_set_id(link, vni)) < 0
        || (err = rtnl_link_vxlan_set_local(link, local)) < 0
        || (err = rtnl_link_vxlan_set_link(link, ifindex)) < 0
        || (err = rtnl_link_vxlan_set_port(link, port)) < 0
        || (err = rtnl_link_vxlan_set_learning(link, 1)) < 0) {
        fprintf(stderr, "ps-vxlan-nl: %s: %s\n", argv[2], nl_geterror(err));
    } else if ((err = rtnl_link_add(sock, link, NLM_F_CREATE | NLM_F_EXCL))
               < 0) {
        fprintf(stderr, "ps-vxlan-nl: creating %s: %s\n", argv[2],
                nl_geterror(err));
    }
    rtnl_link_put(link);
    nl_addr_put(local);
    return err < 0;
}

static int
vxlan_del(struct nl_sock *sock, int argc, char *argv[])
{
    struct rtnl_link *link;
    int err;

    if (argc != 3) {
        return usage();
    }
    link = rtnl_link_alloc();
    if (!link) {
        fprintf(stderr, "ps-vxlan-nl: out of memory\n");
        return 1;
    }
    rtnl_link_set_name(link, argv[2]);
    err = rtnl_link_delete(sock, link);
    rtnl_link_put(link);
    if (err < 0) {
        fprintf(stderr, "ps-vxlan-nl: deleting %s: %s\n", argv[2],
                nl_geterror(err));
        return 1;
    }
    return 0;
}

int
main(int argc, char *argv[])
{
    struct nl_sock *sock;
    int err, status;

    if (argc < 3 || strlen(argv[2]) >= IFNAMSIZ) {
        return usage();
    }
    sock = nl_socket_alloc();
    if (!sock) {
        fprintf(stderr, "ps-vxlan-nl: out of memory\n");
        return 1;
    }
    err = nl_connect(sock, NETLINK_ROUTE);
    if (err < 0) {
        fprintf(stderr, "ps-vxlan-nl: rtnetlink: %s\n", nl_geterror(err));
        nl_socket_free(sock);
        return 1;
    }
    if (!strcmp(argv[1], "add")) {
        status = vxlan_add(sock, argc, argv);
    } else if (!strcmp(argv[1], "del")) {
        status = vxlan_del(sock, argc, argv);
    } else {
        status = usage();
    }
    nl_socket_free(sock);
    return status;
}
