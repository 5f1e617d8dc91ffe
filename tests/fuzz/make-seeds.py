#! /usr/bin/env python3
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

"""Writes the seed inputs of the fuzz targets (docs/fuzzing.md).

usage: make-seeds.py BUILDDIR OUTDIR

Seeds, into OUTDIR/NAME/ (named by their SHA-1, as libFuzzer names its
inputs), from the stacks of tests/stack-cases.h and the JIT cases of
tests/fuzz/fuzz-encap.c:
  dissect     packets crafted by BUILDDIR/utilities/protostack, from their
              first and from their second header;
  stack       spec and labels, with and without a payload;
  encap       spec, labels, a flow hash and a payload;
  definition  every shipped protocol file and tests/extra/demo.proto;
  ovs-actions the action lists of OVS_ACTIONS below as text, for OpenFlow
              1.0 and 1.5, and the OpenFlow encodings of OVS_OPENFLOW.
The committed corpus is these seeds minimised with libFuzzer's -merge=1,
plus what fuzzing found (make fuzz-merge)."""

import glob
import hashlib
import os
import re
import subprocess
import sys

SRCDIR = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(SRCDIR))

# A C string literal, and a C array entry of one or two of them (each
# possibly split into adjacent literals) or NULL.
STRING = r'"(?:[^"\\]|\\.)*"'
ENTRY = re.compile(r'\{\s*((?:%s\s*)+),\s*((?:%s\s*)+|NULL)' %
                   (STRING, STRING))


# Action lists of fuzz-ovs-actions (as in tests/ovs/protostack.at).
OVS_ACTIONS = [
    'push_stack(eth,ip4,udp,vxlan),output:2',
    'push_stack(eth,ip4,udp,vxlan,eth.src=aa:bb:cc:dd:ee:ff,'
    'eth.dst=00:11:22:33:44:55,ip4.src=192.0.2.1,ip4.dst=192.0.2.254,'
    'vxlan.vni=1234),fix_length,output:2',
    'push_stack(eth,ip4,udp,vxlan),set_field:5678->vxlan.vni,'
    'set_field:198.51.100.7->ip4.dst,fix_length,output:2',
    'push_stack(eth,ip4,udp,vxlan),stack_set_field:0x162e->vxlan.vni',
    'push_stack(eth,ip4,gre,gre.proto=0x6558),fix_length,output:2',
    'push_stack(eth,ip6,udp,{geneve,length=8},ip6.dst=2001:db8::1,'
    'geneve.options=0x010280010a0b0c0d),fix_length',
    'push_stack(eth,ip4,udp,{eth,name=inner_eth},'
    'inner_eth.src=00:00:00:00:00:01),output:2',
    'push_stack({eth,subtype=vlan},ip4,udp,gtpu,gtpu.teid=7),fix_length',
    'pop_stack(eth,ip4,udp,vxlan),output:1',
    'push_stack(eth,ip4,udp,vxlan),pop_stack(eth,ip4,udp,vxlan),output:1',
    'clone(push_stack(eth,ip4,udp,vxlan),set_field:1->vxlan.vni),'
    'set_field:1->tun_id',
    'set_field:5678->vxlan.vni,output:1',
    'fix_length,output:1',
    'push_stack(eth,ip4,udp,vxlan,vxlan.vni=16777216)',
]

# OpenFlow encodings of fuzz-ovs-actions (hex, from
# tests/ovs/protostack.at): push_stack with a label; push_stack,
# set_field and fix_length; pop_stack; an unknown protocol.
OVS_OPENFLOW = [
    'ffff0038 00002320 00330000 00000000 6574682c 6970342c 7564702c '
    '76786c61 6e007678 6c616e2e 766e693d 31323334 00000000 00000000',
    'ffff0028 00002320 00330000 00000000 6574682c 6970342c 7564702c '
    '76786c61 6e000000 00000000 ffff0020 00002320 00340000 00000000 '
    '76786c61 6e2e766e 69003536 37380000 ffff0010 00002320 00350000 '
    '00000000',
    'ffff0028 00002320 00360000 00000000 6574682c 6970342c 7564702c '
    '76786c61 6e000000 00000000',
    'ffff0020 00002320 00330000 00000000 6574682c 666f6f00 00000000 '
    '00000000',
]


def c_strings(text):
    if text.strip() == 'NULL':
        return ''
    return ''.join(s[1:-1].encode().decode('unicode_escape')
                   for s in re.findall(STRING, text))


def cases(path):
    with open(path) as f:
        text = f.read()
    return [(c_strings(a), c_strings(b)) for a, b in ENTRY.findall(text)]


def split_spec(spec):
    """The items of a stack spec, split at top-level commas."""
    items, depth, start = [], 0, 0
    for i, c in enumerate(spec):
        if c == '{':
            depth += 1
        elif c == '}':
            depth -= 1
        elif c == ',' and not depth:
            items.append(spec[start:i])
            start = i + 1
    items.append(spec[start:])
    return items


def protocol_of(item):
    return item.strip('{}').split(',')[0]


def craft(builddir, spec, labels, extra):
    """The first packet that the tool crafts, 'extra' payload bytes."""
    tool = os.path.join(builddir, 'utilities', 'protostack')
    env = dict(os.environ, PROTOSTACK_DATADIR=os.path.join(TOP, 'protocols'))
    size = subprocess.run([tool, 'explain', spec], env=env, check=True,
                          capture_output=True, text=True).stdout
    size = int(re.search(r': (\d+) bytes', size).group(1)) + extra
    args = [tool, 'craft', spec] + [l for l in labels.split(',') if l]
    pcap = subprocess.run(args + ['--size', str(size), '-w', '-'], env=env,
                          check=True, capture_output=True).stdout
    incl_len = int.from_bytes(pcap[24 + 8:24 + 12], 'little')
    return pcap[24 + 16:24 + 16 + incl_len]


def write(outdir, name, data):
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), 'wb') as f:
        f.write(data)


def main():
    builddir, outdir = sys.argv[1:3]
    stack_cases = cases(os.path.join(TOP, 'tests', 'stack-cases.h'))
    jit_cases = cases(os.path.join(SRCDIR, 'fuzz-encap.c'))
    payload = bytes(range(0x40, 0x40 + 18))

    for k, (spec, labels) in enumerate(stack_cases + jit_cases):
        items = split_spec(spec)
        pkt = craft(builddir, spec, labels, 20)
        write(outdir, 'dissect',
              protocol_of(items[0]).encode() + b'\n' + bytes([k % 4]) + pkt)
        if len(items) > 1:
            inner = ','.join(items[1:])
            pkt = craft(builddir, inner, '', 8)
            write(outdir, 'dissect',
                  protocol_of(items[1]).encode() + b'\n\x00' + pkt)

        text = (spec + '\n' + labels + '\n').encode()
        write(outdir, 'stack', text + payload[:k % 3 * 6])
        write(outdir, 'stack', (spec + '\n\n').encode())
        write(outdir, 'encap',
              text + (0x9e3779b9 * k & 0xffffffff).to_bytes(4, 'big')
              + payload[:k % 4 * 5])

    for path in sorted(glob.glob(os.path.join(TOP, 'protocols', '*.proto'))
                       + [os.path.join(TOP, 'tests', 'extra', 'demo.proto')]):
        with open(path, 'rb') as f:
            write(outdir, 'definition', f.read())

    # The first byte: bit 0 text (0) or OpenFlow (1), bits 1-2 the
    # version (OpenFlow 1.0, 1.3, 1.4, 1.5).
    for actions in OVS_ACTIONS:
        for version in (0, 3):
            write(outdir, 'ovs-actions',
                  bytes([version << 1]) + actions.encode())
    for k, openflow in enumerate(OVS_OPENFLOW):
        write(outdir, 'ovs-actions',
              bytes([(k % 4) << 1 | 1]) + bytes.fromhex(openflow))


if __name__ == '__main__':
    main()
