#! /usr/bin/python3
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

"""plot-fig3.py DATA PNG: draws the libmoon paper's Fig. 3 from the data
that bench/run-encap.sh writes (bench-fig3.dat: "size way cycles ns instr"
per line): cycles and instructions per packet against the size of the
copied inner frame, one line per way.

Uses matplotlib when this Python has it; otherwise writes the PNG with a
small pure-Python rasterizer (zlib and struct only), with a built-in 3x5
pixel font.  Prints which one it used."""

import struct
import sys
import zlib

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


# The fallback.  3x5 glyphs, one string of 15 bits (rows top to bottom)
# per character.
FONT = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001001001001", "8": "111101111101111",
    "9": "111101111001111", ".": "000000000000010", "/": "001001010100100",
    "(": "010100100100010", ")": "010001001001010", "-": "000000111000000",
    ",": "000000000010100", ":": "000010000010000", " ": "000000000000000",
    "A": "010101111101101", "B": "110101110101110", "C": "111100100100111",
    "D": "110101101101110", "E": "111100110100111", "F": "111100110100100",
    "G": "111100101101111", "H": "101101111101101", "I": "111010010010111",
    "J": "001001001101111", "K": "101101110101101", "L": "100100100100111",
    "M": "101111111101101", "N": "110101101101101", "O": "111101101101111",
    "P": "111101111100100", "Q": "111101101111001", "R": "110101110101101",
    "S": "111100111001111", "T": "111010010010010", "U": "101101101101111",
    "V": "101101101101010", "W": "101101111111101", "X": "101101010101101",
    "Y": "101101010010010", "Z": "111001010100111",
}


class Canvas:
    def __init__(self, width, height):
        self.width = width
        self.height = height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def set(self, x, y, rgb):
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.pixels[i:i + 3] = bytes(rgb)

    def line(self, x0, y0, x1, y1, rgb, width=1, dash=0):
        """Bresenham, 'width' pixels thick, dashed every 'dash' steps."""
        x0, y0, x1, y1 = int(round(x0)), int(round(y0)), int(round(x1)), \
            int(round(y1))
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        step = 0
        while True:
            if not dash or (step // dash) % 2 == 0:
                for ox in range(width):
                    for oy in range(width):
                        self.set(x0 + ox - width // 2, y0 + oy - width // 2,
                                 rgb)
            step += 1
            if x0 == x1 and y0 == y1:
                break
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def rect(self, x0, y0, x1, y1, rgb):
        for y in range(int(y0), int(y1)):
            for x in range(int(x0), int(x1)):
                self.set(x, y, rgb)

    def text(self, x, y, s, rgb=(0, 0, 0), scale=2):
        for ch in s.upper():
            glyph = FONT.get(ch, FONT[" "])
            for row in range(5):
                for col in range(3):
                    if glyph[row * 3 + col] == "1":
                        self.rect(x + col * scale, y + row * scale,
                                  x + (col + 1) * scale,
                                  y + (row + 1) * scale, rgb)
            x += 4 * scale

    def png(self, path):
        raw = b"".join(b"\x00" + bytes(self.pixels[y * self.width * 3:
                                                    (y + 1) * self.width * 3])
                       for y in range(self.height))

        def chunk(kind, body):
            return (struct.pack(">I", len(body)) + kind + body
                    + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))

        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n")
            f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", self.width,
                                               self.height, 8, 2, 0, 0, 0)))
            f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
            f.write(chunk(b"IEND", b""))


def nice_step(span):
    """A round tick step that gives about five ticks over 'span'."""
    step = 1
    while span / step > 8:
        for m in (2, 5, 10):
            if span / (step * m) <= 8:
                step *= m
                break
        else:
            step *= 10
    return step


def plot_panel(canvas, data, index, top, height, title):
    left, right = 90, canvas.width - 20
    bottom = top + height
    values = [p[index] for way, _, _ in WAYS for p in data.get(way, [])
              if p[index] is not None]
    if not values:
        return
    ymax = max(values) * 1.1
    ystep = nice_step(ymax)
    ymax = (int(ymax / ystep) + 1) * ystep
    xmax = 1600

    def px(x):
        return left + (right - left) * x / xmax

    def py(y):
        return bottom - (bottom - top) * y / ymax

    y = 0
    while y <= ymax:
        canvas.line(left, py(y), right, py(y), (225, 225, 225))
        canvas.text(left - 8 - 8 * len(str(y)), py(y) - 5, str(y))
        y += ystep
    for x in range(0, xmax + 1, 256):
        canvas.line(px(x), top, px(x), bottom, (225, 225, 225))
        canvas.text(px(x) - 4 * len(str(x)), bottom + 8, str(x))
    canvas.line(left, top, left, bottom, (0, 0, 0))
    canvas.line(left, bottom, right, bottom, (0, 0, 0))
    canvas.text(left, top - 18, title)

    legend_y = top + 8
    for way, label, rgb in WAYS:
        points = [p for p in data.get(way, []) if p[index] is not None]
        if not points:
            continue
        dash = 6 if way == "loop" else 0
        for a, b in zip(points, points[1:]):
            canvas.line(px(a[0]), py(a[index]), px(b[0]), py(b[index]), rgb,
                        width=2, dash=dash)
        for p in points:
            canvas.rect(px(p[0]) - 2, py(p[index]) - 2, px(p[0]) + 3,
                        py(p[index]) + 3, rgb)
        canvas.rect(left + 12, legend_y, left + 32, legend_y + 10, rgb)
        canvas.text(left + 40, legend_y, label)
        legend_y += 16


def plot_fallback(data, png):
    canvas = Canvas(800, 800)
    plot_panel(canvas, data, 1, 40, 300, "TSC cycles / packet")
    plot_panel(canvas, data, 2, 420, 300,
               "instructions / packet (callgrind)")
    canvas.text(300, 770, "inner frame copied, bytes")
    canvas.png(png)
    return "pure-Python PNG writer"


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: %s DATA PNG\n" % sys.argv[0])
        return 2
    data = read_data(sys.argv[1])
    if not data:
        sys.stderr.write("%s: no data in %s\n" % (sys.argv[0], sys.argv[1]))
        return 1
    try:
        import matplotlib  # noqa: F401
        how = plot_matplotlib(data, sys.argv[2])
    except ImportError:
        how = plot_fallback(data, sys.argv[2])
    print("drawn with %s" % how)
    return 0


if __name__ == "__main__":
    sys.exit(main())
