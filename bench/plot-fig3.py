#! /usr/bin/python3
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

"""plot-fig3.py DATA PNG: draws the libmoon paper's Fig. 3 from the data
that bench/run-encap.sh writes (bench-fig3.dat: "size way cycles ns instr"
per line): cycles and instructions per packet against the size of the
copied inner frame, one line per way.

Draws with matplotlib (Debian: python3-matplotlib)."""

import sys

WAYS = [
    ("loop", "copy only", (150, 150, 150)),
    ("hand", "(h) hand-written", (31, 119, 180)),
    ("jit", "(j) JIT", (44, 160, 44)),
    ("interp", "(i) interpreter", (214, 39, 40)),
]


def read_data(path):
    """Returns {way: [(size, cycles, instr), ...]} sorted by size."""
    data = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            size, way, cycles, _ns, instr = fields[:5]
            try:
                point = (int(size), float(cycles),
                         float(instr) if instr != "-" else None)
            except ValueError:
                continue
            data.setdefault(way, []).append(point)
    for points in data.values():
        points.sort()
    return data


def plot_matplotlib(data, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 8), sharex=True)
    for way, label, rgb in WAYS:
        points = data.get(way)
        if not points:
            continue
        color = tuple(c / 255 for c in rgb)
        style = "--" if way == "loop" else "-"
        xs = [p[0] for p in points]
        ax1.plot(xs, [p[1] for p in points], style, marker="o",
                 markersize=3, color=color, label=label)
        if all(p[2] is not None for p in points):
            ax2.plot(xs, [p[2] for p in points], style, marker="o",
                     markersize=3, color=color, label=label)
    ax1.set_ylabel("TSC cycles / packet")
    ax2.set_ylabel("instructions / packet (callgrind)")
    ax2.set_xlabel("inner frame copied, bytes")
    ax1.set_title("VXLAN encapsulation (eth/ip4/udp/vxlan push) "
                  "after copying the inner frame")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left")
    ax2.set_xticks(range(0, 1600, 128))
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    return "matplotlib"


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: %s DATA PNG\n" % sys.argv[0])
        return 2
    data = read_data(sys.argv[1])
    if not data:
        sys.stderr.write("%s: no data in %s\n" % (sys.argv[0], sys.argv[1]))
        return 1
    try:
        how = plot_matplotlib(data, sys.argv[2])
    except ImportError:
        sys.stderr.write("%s: needs matplotlib (Debian: python3-matplotlib)\n"
                         % sys.argv[0])
        return 1
    print("drawn with %s" % how)
    return 0


if __name__ == "__main__":
    sys.exit(main())
