/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef TESTS_STACK_CASES_H
#define TESTS_STACK_CASES_H 1

/* Stacks shared by the tests of the tiers and of the dissector. */

#include <stddef.h>

struct stack_case {
    const char *spec;
    const char *labels;
};

/* Stacks and constant labels that, together, cover every shipped
 * protocol, subtype, variable length and conditional field. */
static const struct stack_case stack_cases[] = {
    { "eth,ip4,udp,vxlan,{eth,name=inner_eth}",
      "eth.src=aa:bb:cc:dd:ee:ff,eth.dst=00:11:22:33:44:55,"
      "ip4.src=192.0.2.1,ip4.dst=192.0.2.254,vxlan.vni=1234" },
    { "eth,ip4,udp,vxlan", "ip4.dst=192.0.2.254,udp.cksum=0" },
    { "eth,ip4,udp,vxlan", "ip4.dst=192.0.2.254,udp.src=4000" },
    { "{eth,subtype=vlan},ip4,udp", "eth.vid=100,eth.pcp=5" },
    { "{eth,subtype=qinq},ip6,tcp", "eth.vid=10,eth.cvid=20,"
      "ip6.src=2001:db8::1,ip6.dst=2001:db8::2,tcp.dst=80" },
    { "eth,ip6,{tcp,length=12}", "tcp.src=1234,tcp.ackf=1" },
    { "eth,{ip4,length=8},udp", "ip4.ttl=3" },
    /* Source routes (a NOP first in the second): the pseudo-header sums
     * the last address of the route. */
    { "eth,{ip4,length=12},udp",
      "ip4.options=0x830b04cb007103cb00710400,udp.dst=9" },
    { "eth,{ip4,length=12},tcp",
      "ip4.options=0x01890b04c0000201c0000202,tcp.dst=80" },
    { "eth,ip4,udp,{geneve,length=8},{eth,name=inner_eth}",
      "geneve.vni=77" },
    { "eth,ip4,{gre,c=1,k=1,s=1},{eth,name=inner_eth}", "gre.key=0x1234" },
    { "eth,ip6,gre,ip4", NULL },
    { "eth,arp", "arp.op=2" },
    { "eth,ip4,icmp", "icmp.id=7,icmp.seq=9" },
    { "eth,ip6,icmp6", "ip6.src=fe80::1,ip6.dst=ff02::1" },
    { "eth,mpls,{mpls,name=mpls2},ip4,udp", "mpls.label=100,mpls2.label=200" },
    { "eth,ip4,udp,vxlan_gpe,nsh,{eth,name=inner_eth}", "nsh.spi=42" },
    { "eth,ip4,udp,gtpu,{ip4,name=inner_ip4},{udp,name=inner_udp}",
      "gtpu.teid=0xabcdef" },
    { "eth,ip4,esp", "esp.spi=0x100" },
    { "eth,ip4,{ah,length=12},udp", "ah.spi=0x200" },
    { "eth,ip4,udp,ptp", "ptp.seq=5" },
    { "eth,ptp", NULL },
    { "eth,lacp", "lacp.actor_key=3" },
    { "eth,ip4,udp,ipfix", "ipfix.domain=9" },
    { "eth,ip4,udp,sflow", "sflow.agent=192.0.2.9" },
    { "eth,ip6,udp,dns", "dns.id=0x1234" },
    { "eth,ip4,udp", NULL },
    { "eth,ip6,tcp", NULL },
    { "eth,ip4,gre,{eth,name=inner_eth}", NULL },
};

#endif /* tests/stack-cases.h */
