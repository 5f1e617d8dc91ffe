#! /usr/bin/python3
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

"""report.py RESULTS: writes RESULTS/report.md and the PNG plots from the
raw files that bench/run-all.sh leaves in RESULTS (machine.txt,
commands.txt, vtep-*.raw and .md, ovs.dat, ovs-*.txt).  Medians over the
repetitions, the spread as the lowest and highest; every raw figure is
copied into the report.  Plots are drawn with matplotlib."""

import glob
import os
import re
import statistics
import sys
import textwrap

VTEP_MODES = ["floor", "best", "ovs", "static", "static-fill", "jit",
              "interp"]
VTEP_LABELS = {
    "floor": "I/O floor (no encapsulation)",
    "best": "hand-written (template + incremental checksum)",
    "ovs": "hand-written as OvS tnl_push",
    "static": "static tier (protostack gen, labels)",
    "static-fill": "static accessors (fill + setters)",
    "jit": "JIT tier (function fetched once per burst)",
    "interp": "interpreter (ps_encap_apply)",
}
OVS_WAYS = ["plain", "native", "push"]
OVS_LABELS = {
    "plain": "(a) plain output",
    "native": "(b) native VXLAN port",
    "push": "(c) push_stack,fix_length",
}


def read_kv(path):
    kv = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                key, _, value = line.rstrip("\n").partition(": ")
                kv[key] = value
    return kv


def read_vtep(path):
    """Returns {mode: [cycles per packet, ...]} from a .raw file."""
    data = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 4:
                mode, _rep, cycles, packets = fields[:4]
                data.setdefault(mode, []).append(int(cycles) / int(packets))
    return data


def read_ovs(path, ghz):
    """Returns {(phase, n, way): [(kpps, cycles, mpps, hits, wall_mpps,
    wall_cycles, rep), ...]}: cycles per packet and Mpps while the PMD thread
    ran (its CPU time over the packets it received; TSC rate 'ghz'), when
    the file has them, else as measured by the clock; the clock's
    (transmitting port, pmd-perf-show) in any case; the percentages of
    hits."""
    data = {}
    if not os.path.exists(path):
        return data
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 11:
                continue
            phase, n, way, rep, kpps, cycles, tx = fields[:7]
            hits = fields[7:11]
            wall = (float(tx), float(cycles))
            if len(fields) >= 13 and int(fields[11]) and int(fields[12]):
                rx, cpu_ns = int(fields[11]), int(fields[12])
                run = (float(kpps), cpu_ns * ghz / rx, rx * 1e3 / cpu_ns)
            else:
                run = (float(kpps),) + wall[::-1]
            data.setdefault((phase, int(n), way), []).append(
                run + (hits,) + wall + (int(rep),))
    return data


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def paired(data, phase, n, fn):
    """The median over the repetitions of 'phase' with 'n' tunnels of
    fn({way: run}), each repetition's runs of the three ways, which ran
    one after the other: other jobs on the machine slow the runs of one
    repetition about alike, so such figures drift less than those of
    the ways' medians, taken over repetitions minutes apart."""
    reps = {}
    for way in OVS_WAYS:
        for r in data.get((phase, n, way), []):
            reps.setdefault(r[6], {})[way] = r
    return med([fn(runs) for runs in reps.values()
                if all(way in runs for way in OVS_WAYS)])


def tsc_ghz(md_path):
    with open(md_path) as f:
        m = re.search(r"TSC ([0-9.]+) GHz", f.read())
    return float(m.group(1)) if m else None


def cpu_ghz():
    """The TSC rate when setup 1 did not tell it: the kernel's."""
    with open("/proc/cpuinfo") as f:
        m = re.search(r"cpu MHz\s*:\s*([0-9.]+)", f.read())
    return float(m.group(1)) / 1e3 if m else 1.0


def hugepages(md_path):
    with open(md_path) as f:
        m = re.search(r"hugepages: (\w+)", f.read())
    return m.group(1) if m else "?"


def wrap(lines):
    """Fills the paragraphs and list items of 'lines' to 79 columns,
    leaving tables, images and code blocks alone."""
    out = []
    code = False
    for line in lines:
        if line.startswith("```"):
            code = not code
        if code or len(line) <= 79 or line.startswith(("|", "![", "#")):
            out.append(line)
        elif line.startswith("- "):
            out.extend(textwrap.wrap(line, 79, subsequent_indent="  ",
                                     break_on_hyphens=False))
        else:
            out.extend(textwrap.wrap(line, 79, break_on_hyphens=False))
    return out


def met(ok):
    return "**met**" if ok else "**missed**"


class Report:
    def __init__(self, results):
        self.dir = results
        self.lines = []
        self.goals = []
        self.machine = read_kv(os.path.join(results, "machine.txt"))
        md = os.path.join(results, "vtep-64.md")
        self.ghz = tsc_ghz(md) if os.path.exists(md) else None
        if not self.ghz:
            self.ghz = cpu_ghz()
        self.subtitle = "%s, %s CPUs, %s" % (
            self.machine.get("cpu", "?"), self.machine.get("cpus", "?"),
            self.machine.get("date", "?"))

    def out(self, *lines):
        self.lines.extend(lines)

    def table(self, header, rows, align=None):
        self.out("| " + " | ".join(header) + " |")
        self.out("|" + "|".join(align or ["---"] * len(header)) + "|")
        for row in rows:
            self.out("| " + " | ".join(str(c) for c in row) + " |")
        self.out("")

    def lines_plot(self, plt, xs, series, title, xlabel, ylabel, name,
                   logx=False):
        """Draws 'series' ([(label, ys, dashed)]) against 'xs'."""
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for label, ys, dashed in series:
            ax.plot(xs, ys, marker="o", label=label,
                    linestyle="--" if dashed else "-")
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        self.save(fig, name)
        plt.close(fig)

    def save(self, fig, name):
        fig.text(0.99, 0.005, self.subtitle, ha="right", va="bottom",
                 fontsize=7, color="gray")
        fig.tight_layout(rect=(0, 0.02, 1, 1))
        fig.savefig(os.path.join(self.dir, name), dpi=100)
        self.out("![%s](%s)" % (name, name), "")

    # Setup 1.
    def vtep(self, plt):
        path = os.path.join(self.dir, "vtep-64.raw")
        if not os.path.exists(path):
            return
        data = read_vtep(path)
        ghz = tsc_ghz(os.path.join(self.dir, "vtep-64.md"))
        modes = [m for m in VTEP_MODES if m in data]
        floor = med(data["floor"])
        best = med(data["best"]) - floor
        floor_low = min(data["floor"])
        best_low = min(data["best"]) - floor_low
        self.out("## Setup 1: standalone DPDK VTEP (the paper's Listing 8 "
                 "in C)", "",
                 "`bench/dpdk-vtep`: one lcore, bursts of 32 from "
                 "`net_null` (64-byte frames), eth/ip4/udp/vxlan pushed in "
                 "front of each (no UDP checksum, as OvS sends VXLAN), "
                 "sent to `net_null`.  TSC cycles per packet over %d "
                 "repetitions of 10 million packets per mode, the modes "
                 "taking turns every 100,000 packets, bursts "
                 "during which the thread was preempted left out; "
                 "hugepages: %s.  The other CPU runs other jobs, which "
                 "also slow this one down through the caches (and the "
                 "core, if the two are hyperthreads of one): the lowest "
                 "of the repetitions is the least disturbed, and its "
                 "ratios are given next to the medians'." % (
                     len(data["floor"]),
                     hugepages(os.path.join(self.dir, "vtep-64.md"))), "")
        rows = []
        for m in modes:
            c = med(data[m])
            above = c - floor
            above_low = min(data[m]) - floor_low
            rows.append([
                VTEP_LABELS[m], "%.1f" % c, "%.1f" % min(data[m]),
                "%.1f" % max(data[m]),
                "%.2f" % (ghz * 1e3 / c) if ghz else "-",
                "-" if m == "floor" else "%.1f" % above,
                "-" if m == "floor" else "%.2fx" % (above / best),
                "-" if m == "floor" else "%.1f" % above_low,
                "-" if m == "floor" else "%.2fx" % (above_low / best_low)])
        self.table(["mode", "cycles/packet (median)", "lowest", "highest",
                    "Mpps (median)", "above floor (medians)",
                    "vs hand-written", "above floor (lowest)",
                    "vs hand-written (lowest)"], rows,
                   ["---"] + ["--:"] * 8)
        for m, limit, what in (("jit", 1.05, "JIT within 5%"),
                               ("static", 1.05, "static within 5%"),
                               ("interp", 2.0, "interpreter within 2x")):
            if m in data:
                ratio = (med(data[m]) - floor) / best
                ratio_low = (min(data[m]) - floor_low) / best_low
                self.goals.append(
                    "setup 1, %s of hand-written above the floor: %s on "
                    "the medians (%.2fx), %s on the lowest (%.2fx)" % (
                        what, met(ratio <= limit), ratio,
                        met(ratio_low <= limit), ratio_low))

        fig, ax = plt.subplots(figsize=(8, 4.5))
        ys = range(len(modes))
        meds = [med(data[m]) for m in modes]
        lows = [med(data[m]) - min(data[m]) for m in modes]
        highs = [max(data[m]) - med(data[m]) for m in modes]
        ax.barh(ys, meds, xerr=[lows, highs], color="tab:blue",
                ecolor="black", capsize=3)
        ax.set_yticks(list(ys), [VTEP_LABELS[m] for m in modes])
        ax.invert_yaxis()
        ax.set_xlabel("TSC cycles per packet (median, lowest to highest)")
        ax.set_title("Setup 1: DPDK VTEP, 64-byte frames, one lcore")
        ax.grid(True, axis="x", alpha=0.3)
        self.save(fig, "setup1-vtep.png")
        plt.close(fig)

    # Setup 3.
    def sizes(self, plt):
        paths = glob.glob(os.path.join(self.dir, "vtep-copy-*.raw"))
        if not paths:
            return
        by_size = {}
        for path in paths:
            size = int(re.search(r"vtep-copy-(\d+)\.raw", path).group(1))
            by_size[size] = read_vtep(path)
        sizes = sorted(by_size)
        modes = [m for m in VTEP_MODES
                 if all(m in by_size[s] for s in sizes)]
        self.out("## Setup 3: the paper's Fig. 3 on DPDK", "",
                 "Setup 1 with `net_null` frames of each size, `copy=1` "
                 "(the driver writes every received frame and reads every "
                 "sent one, so that its bytes pass through the cache as "
                 "from a NIC).  TSC cycles per packet, medians; the cost "
                 "above the floor in parentheses.", "")
        rows = []
        for s in sizes:
            floor = med(by_size[s]["floor"])
            row = [s]
            for m in modes:
                c = med(by_size[s][m])
                row.append("%.1f" % c if m == "floor"
                           else "%.1f (%.1f)" % (c, c - floor))
            rows.append(row)
        self.table(["inner frame, bytes"] + [VTEP_LABELS[m] for m in modes],
                   rows, ["--:"] * (len(modes) + 1))

        self.lines_plot(
            plt, sizes,
            [(VTEP_LABELS[m], [med(by_size[s][m]) for s in sizes],
              m == "floor") for m in modes],
            "Setup 3: DPDK VTEP against frame size (net_null copy=1)",
            "inner frame, bytes", "TSC cycles per packet (median)",
            "setup3-sizes.png")

    # Setup 2.
    def ovs_rows(self, data, phase, n):
        rows = []
        base = med([r[1] for r in data[(phase, n, "plain")]])
        for way in OVS_WAYS:
            runs = data.get((phase, n, way))
            if not runs:
                continue
            mpps = [r[2] for r in runs]
            cyc = [r[1] for r in runs]
            rows.append([OVS_LABELS[way], "%.2f" % med(mpps),
                         "%.2f-%.2f" % (min(mpps), max(mpps)),
                         "%.0f" % med(cyc), "%.0f-%.0f" % (min(cyc), max(cyc)),
                         "-" if way == "plain" else "%.0f" % (med(cyc) - base),
                         "%.2f" % med([r[4] for r in runs]),
                         "%.0f" % med([r[5] for r in runs]),
                         "/".join(runs[0][3])])
        return rows

    def ovs(self, plt):
        data = read_ovs(os.path.join(self.dir, "ovs.dat"), self.ghz)
        if not data:
            return
        eal = ""
        path = os.path.join(self.dir, "ovs-eal.txt")
        if os.path.exists(path):
            with open(path) as f:
                eal = f.read().strip()
        header = ["way", "Mpps (median)", "Mpps range",
                  "cycles/packet (median)", "cycles/packet range",
                  "cycles above (a)", "by the clock: tx Mpps",
                  "by the clock: PMD cycles/packet",
                  "% simple-match/EMC/SMC/megaflow hits"]
        align = ["---"] + ["--:"] * 8
        self.out("## Setup 2: OvS-DPDK, one PMD core", "",
                 "The patched OvS of this tree, one PMD core, DPDK vdev "
                 "ports, userspace datapath; `dpdk-extra=\"%s\"`.  Each "
                 "repetition runs the three ways in turn (one flow "
                 "modification and `revalidator/purge` between them).  "
                 "Mpps and cycles per packet are those of the PMD thread "
                 "while it ran: the packets it received "
                 "(`dpif-netdev/pmd-perf-show` after `pmd-stats-clear`) "
                 "over the CPU time it had in those seconds "
                 "(`/proc/PID/task/TID/schedstat`), at the TSC rate; on "
                 "this shared machine the thread is preempted now and "
                 "then.  By the clock, preemption included: the "
                 "transmitting port's counter (`dpctl/show -s`) over the "
                 "seconds measured, and `pmd-perf-show`'s busy cycles "
                 "over received packets." % eal, "")
        if ("null", 1, "plain") in data:
            self.out("### One tunnel, `net_null` source (64-byte frames, "
                     "all alike; flows match `in_port`)", "")
            self.table(header, self.ovs_rows(data, "null", 1), align)
        ns = sorted({k[1] for k in data if k[0] == "tunnels"})
        for n in [n for n in (1, 1000) if n in ns]:
            self.out("### %d tunnel%s, `net_pcap` source (64-byte frames "
                     "spread over %d IPv4 destinations; flows match "
                     "`nw_dst`)" % (n, "" if n == 1 else "s", n), "")
            self.table(header, self.ovs_rows(data, "tunnels", n), align)

        def cyc(phase, n, way):
            return med([r[1] for r in data[(phase, n, way)]])

        def mpps(phase, n, way):
            return med([r[2] for r in data[(phase, n, way)]])

        for phase, n in [("null", 1)] + [("tunnels", n) for n in (1, 1000)]:
            if (phase, n, "push") not in data:
                continue
            where = ("net_null, 1 tunnel" if phase == "null"
                     else "net_pcap, %d tunnel%s" % (n, "" if n == 1
                                                     else "s"))
            def low(way):
                return min(r[1] for r in data[(phase, n, way)])

            push_above = cyc(phase, n, "push") - cyc(phase, n, "plain")
            native_above = cyc(phase, n, "native") - cyc(phase, n, "plain")
            push_low = low("push") - low("plain")
            native_low = low("native") - low("plain")
            ratio = mpps(phase, n, "push") / mpps(phase, n, "native")
            ratio_low = low("native") / low("push")
            push_rep = paired(data, phase, n,
                              lambda r: r["push"][1] - r["plain"][1])
            native_rep = paired(data, phase, n,
                                lambda r: r["native"][1] - r["plain"][1])
            ratio_rep = paired(data, phase, n,
                               lambda r: r["push"][2] / r["native"][2])
            self.goals.append(
                "setup 2 (%s), push_stack's cost above plain forwarding at "
                "most half of native VXLAN's: %s on the medians (%.0f "
                "against %.0f cycles/packet), %s on the lowest (%.0f "
                "against %.0f), %s by repetition (%.0f against %.0f)" % (
                    where, met(push_above <= native_above / 2), push_above,
                    native_above, met(push_low <= native_low / 2), push_low,
                    native_low, met(push_rep <= native_rep / 2), push_rep,
                    native_rep))
            self.goals.append(
                "setup 2 (%s), push_stack at least 1.15x native VXLAN's "
                "throughput: %s on the medians (%.2fx: %.2f against %.2f "
                "Mpps), %s on the lowest cycles/packet (%.2fx), %s by "
                "repetition (%.2fx)" % (
                    where, met(ratio >= 1.15), ratio,
                    mpps(phase, n, "push"), mpps(phase, n, "native"),
                    met(ratio_low >= 1.15), ratio_low,
                    met(ratio_rep >= 1.15), ratio_rep))

        fig, ax = plt.subplots(figsize=(8, 4.5))
        groups = [g for g in [("null", 1)] + [("tunnels", n)
                                              for n in (1, 1000)]
                  if (g[0], g[1], "plain") in data]
        width = 0.27
        for i, way in enumerate(OVS_WAYS):
            xs = [g + (i - 1) * width for g in range(len(groups))]
            ys = [mpps(p, n, way) for p, n in groups]
            lo = [mpps(p, n, way) - min(r[2] for r in data[(p, n, way)])
                  for p, n in groups]
            hi = [max(r[2] for r in data[(p, n, way)]) - mpps(p, n, way)
                  for p, n in groups]
            ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3,
                   label=OVS_LABELS[way])
        ax.set_xticks(range(len(groups)),
                      ["net_null, 1 flow" if p == "null"
                       else "net_pcap, %d tunnel%s" % (n, "" if n == 1
                                                       else "s")
                       for p, n in groups])
        ax.set_ylabel("Mpps while the PMD thread runs\n(median, lowest to highest)")
        ax.set_title("Setup 2: OvS-DPDK, one PMD core, 64-byte frames")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=8)
        self.save(fig, "setup2-ovs.png")
        plt.close(fig)

        # Setup 4.
        if len(ns) < 2:
            return
        self.out("## Setup 4: throughput against the number of tunnels "
                 "(the paper's Fig. 2 as it plots it)", "",
                 "Setup 2 with `net_pcap` (`infinite_rx`) replaying a "
                 "capture of 64-byte frames from `protostack craft "
                 "--vary ip4.dst=+1:N`: N destinations, each matched by "
                 "its own flow to its own tunnel (VNI and remote "
                 "address).  The capture has the same number of frames "
                 "for every N, so that the source costs the same.  Mpps "
                 "(medians) and cycles per packet; push_stack's "
                 "throughput against native's as the ratio of the "
                 "medians, and as the median of each repetition's ratio "
                 "(the three ways of a repetition run one after the "
                 "other, so that the other jobs slow them about "
                 "alike):", "")
        def push_native(runs):
            return runs["push"][2] / runs["native"][2]

        rows = []
        for n in ns:
            row = [n]
            for way in OVS_WAYS:
                row.append("%.2f" % mpps("tunnels", n, way))
            for way in OVS_WAYS:
                row.append("%.0f" % cyc("tunnels", n, way))
            row.append("%.2fx" % (mpps("tunnels", n, "push")
                                  / mpps("tunnels", n, "native")))
            row.append("%.2fx" % paired(data, "tunnels", n, push_native))
            rows.append(row)
        self.table(["tunnels"] + ["%s Mpps" % OVS_LABELS[w] for w in OVS_WAYS]
                   + ["%s cycles" % OVS_LABELS[w] for w in OVS_WAYS]
                   + ["push / native", "push / native by repetition"],
                   rows, ["--:"] * 9)
        lo, hi = ns[0], ns[-1]
        drop_push = 1 - mpps("tunnels", hi, "push") / mpps("tunnels", lo,
                                                           "push")
        drop_native = 1 - (mpps("tunnels", hi, "native")
                           / mpps("tunnels", lo, "native"))
        # push_stack loses no more than native if and only if its
        # throughput against native's is no lower at 'hi' than at 'lo'.
        ratio_lo = paired(data, "tunnels", lo, push_native)
        ratio_hi = paired(data, "tunnels", hi, push_native)
        self.goals.append(
            "setup 4, push_stack loses no more throughput from %d to %d "
            "tunnels than native: %s on the medians (push_stack %.0f%%, "
            "native %.0f%%), %s by repetition (push_stack against native "
            "%.2fx at %d, %.2fx at %d)" % (
                lo, hi, met(drop_push <= drop_native + 1e-9),
                100 * drop_push, 100 * drop_native,
                met(ratio_hi >= ratio_lo - 1e-9), ratio_lo, lo, ratio_hi,
                hi))

        self.lines_plot(
            plt, ns,
            [(OVS_LABELS[w], [mpps("tunnels", n, w) for n in ns],
              w == "plain") for w in OVS_WAYS],
            "Setup 4: OvS-DPDK throughput against tunnels, 64 B",
            "distinct tunnels (flows), traffic spread over all",
            "Mpps while the PMD thread runs (median)", "setup4-tunnels.png",
            logx=True)

    def profiles(self):
        """The top of the perf profiles of the PMD thread (run-ovs.sh's
        OVS_BENCH_PERF=1), native and push_stack, for the cases the goals
        name."""
        path = os.path.join(self.dir, "ovs-details.txt")
        if not os.path.exists(path):
            return
        sections = {}
        name = None
        with open(path) as f:
            for line in f:
                m = re.match(r"== (\w+) (\d+) (\w+): perf record", line)
                if m:
                    name = (m.group(1), int(m.group(2)), m.group(3))
                    sections[name] = []
                elif line.startswith("=="):
                    name = None
                elif name and len(sections[name]) < 12:
                    fields = line.split()
                    if len(fields) >= 3 and fields[0].endswith("%"):
                        sections[name].append("%7s  %s" % (fields[0],
                                                           fields[2]))
        if not sections:
            return
        ns = sorted({k[1] for k in sections if k[0] == "tunnels"})
        cases = [("null", 1)] + [("tunnels", n) for n in ns[-2:]]
        self.out("## Where the PMD thread's cycles go", "",
                 "`perf record -t` of the PMD thread for a few seconds in "
                 "each way, after the measurements (symbols of the "
                 "DPDK drivers, loaded as plugins, show as addresses); "
                 "the top 12 symbols:", "")
        for phase, n in cases:
            for way in ("native", "push"):
                lines = sections.get((phase, n, way))
                if lines:
                    self.out("%s, %s:" % (
                        "net_null, 1 flow" if phase == "null"
                        else "net_pcap, %d tunnels" % n, OVS_LABELS[way]),
                        "", "```")
                    self.out(*lines)
                    self.out("```", "")

    def raw(self):
        self.out("## Raw figures", "")
        for name in (["commands.txt", "vtep-64.raw"]
                     + sorted(glob.glob(os.path.join(self.dir,
                                                     "vtep-copy-*.raw")),
                              key=lambda p: int(re.search(r"(\d+)\.raw",
                                                          p).group(1)))
                     + ["ovs.dat", "ovs-protostack-show.txt"]):
            path = os.path.join(self.dir, name)
            if not os.path.exists(path):
                continue
            what = {
                "commands.txt": "commands (from the top of the source tree)",
                "ovs.dat": "OvS: phase, tunnels, way, repetition, PMD Kpps "
                           "and cycles/packet (pmd-perf-show), tx Mpps, "
                           "% simple-match, EMC, SMC, megaflow hits, "
                           "packets received, PMD thread's CPU ns",
                "ovs-protostack-show.txt": "protostack/show at the end",
            }.get(name, "%s: mode, repetition, TSC cycles, packets, bursts "
                  "left out (preempted)" % os.path.basename(name))
            self.out("%s:" % what, "", "```")
            with open(path) as f:
                self.out(*f.read().rstrip("\n").split("\n"))
            self.out("```", "")
        self.out("The full `pmd-perf-show` of the first repetition of each "
                 "case, its datapath flows and, when profiled, `perf` "
                 "reports of the PMD thread are in `ovs-details.txt`.", "")

    def write(self):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        body_start = len(self.lines)
        self.vtep(plt)
        self.sizes(plt)
        self.ovs(plt)
        body = self.lines[body_start:]
        self.lines = self.lines[:body_start]
        m = self.machine
        self.out("# protostack benchmarks: the paper's evaluation on DPDK "
                 "and in OvS", "",
                 "%s; source %s." % (m.get("date", "?"), m.get("source", "?")),
                 "",
                 "- machine: %s, %s CPUs (`nproc`), TSC %s GHz; %s" % (
                     m.get("cpu", "?"), m.get("cpus", "?"),
                     "%.3f" % self.ghz, m.get("kernel", "?")),
                 "- load average (1, 5, 15 min) at the start %s, at the end "
                 "%s: the machine is shared with other jobs, so compare "
                 "ratios within this run, not absolute figures" % (
                     m.get("load-start", "?"), m.get("load-end", "?")),
                 "- %s; DPDK %s; %s" % (m.get("compiler", "?"),
                                        m.get("dpdk", "?"), m.get("ovs", "?")),
                 "", "## Goals", "")
        self.out(*["- " + g for g in self.goals])
        self.out("")
        self.lines.extend(body)
        self.profiles()
        self.raw()
        with open(os.path.join(self.dir, "report.md"), "w") as f:
            f.write("\n".join(wrap(self.lines)) + "\n")


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: %s RESULTS\n" % sys.argv[0])
        return 2
    try:
        Report(sys.argv[1]).write()
    except ImportError:
        sys.stderr.write("%s: needs matplotlib (Debian: python3-matplotlib)\n"
                         % sys.argv[0])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
