#!/usr/bin/env python3
"""socktap's benchmark: what tracing costs the traced workload, socktap side by
side with the tools users would pick instead, in one run.

  run.py [--smoke] [--rounds N] [--out docs/benchmarks.md] [--json FILE]

Every tool runs the workload as its own command (`-c`), so each one traces it
from its first instruction. The workload times its fixed amount of work from
inside (bench/workload.c), so a tracer's start-up and shutdown stay out of the
figure. The workload is pinned to CPU 0 and the tracer to CPU 1: the baseline
has no cross-CPU wakeups to hide behind, and the tracer's consumer does not
steal the workload's CPU.

Runs are short and interleaved (all configurations once per round, in a
rotating order, rounds repeated), and each traced run's slowdown is a ratio to
the untraced runs made just before and just after it (their geometric mean);
the tables give the median over rounds with the middle half (q1..q3) and
min..max. The figure of a run is the workload's CPU time (all its threads),
median of 16 equal chunks of its loop: steadier than wall-clock rates on a
shared host (bench/workload.c).
--smoke: tiny counts, one round, checks that every configuration runs (no
judgement of speed, no output file unless --out is given).
"""
import argparse
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SOCKTAP = os.path.join(ROOT, "build", "socktap")
WORKLOAD = os.path.join(ROOT, "build", "bench", "workload")
PEAKRSS = os.path.join(ROOT, "build", "bench", "peakrss")

# workload -> iterations for a ~0.1-0.2 s untraced run on the reference machine (short runs,
# many rounds: a slow minute of the host hits one round, not a whole column)
WORKLOADS = {
    "udp": 20000,
    "unix": 20000,
    "tcp_rr": 20000,
    "tcp_stream": 2000,
    "failsend": 500000,
    "getpid": 1000000,
    "devnull": 1000000,
}
SOCKET_WORKLOADS = ("udp", "unix", "tcp_rr", "tcp_stream", "failsend")

TASKSET = shutil.which("taskset") or "/usr/bin/taskset"  # bpftrace -c wants a path
BT_PROBES = "tracepoint:sock:sock_send_length,tracepoint:sock:sock_recv_length"


def configs(tmp):
    """name -> (argv prefix builder, slow factor, description). The builder gets the
    workload argv and returns the full argv; slow tools run 1/slow of the work (the
    figures are per operation)."""
    out = os.path.join(tmp, "out")
    pin = [TASKSET, "-c", "1"]

    def socktap(*probes, extra=()):
        return lambda wl: pin + [SOCKTAP, "trace", *probes, *extra, "-F", "json", "-o", out,
                                 "-c", " ".join(wl)]

    c = {
        "base": (lambda wl: wl, 1, "no tracing"),
        "base again (A/A)": (lambda wl: wl, 1, "no tracing, measured like a tracer: the "
                             "benchmark's own noise; ratios within its spread mean nothing"),
        "socktap trace (all 22 probes) > json": (socktap(), 1,
                                                 "`socktap trace -F json -o FILE -c CMD`"),
        "socktap trace send+receive > json": (socktap("socket.send", "socket.receive"), 1,
                                              "`socktap trace socket.send socket.receive -F json -o FILE`"),
        "socktap trace (all 22 probes) --syscall-hooks per-syscall > json": (
            socktap(extra=("--syscall-hooks", "per-syscall")), 1,
            "all 22 probes with the syscall hooks on the syscalls:sys_enter_NAME tracepoints of "
            "the syscalls socktap needs (no in-kernel fd step): other syscalls run no program"),
        "socktap trace send+receive --no-addrs > json": (
            socktap("socket.send", "socket.receive", extra=("--no-addrs",)), 1,
            "the same without addresses (laddr, lport, raddr, rport): what they cost is the "
            "difference from the row above"),
    }
    floor = os.path.join(ROOT, "build", "bench", "floor")
    c["floor: bare BPF counter"] = (lambda wl: pin + [floor, "count"] + wl, 1,
                                    "`bench/floor.bpf.c`: a per-CPU counter on the two tracepoints, "
                                    "no helper call: the least any tracer costs")
    c["floor: per-process hash count"] = (lambda wl: pin + [floor, "hash"] + wl, 1,
                                          "the same plus a per-CPU hash keyed by process: the "
                                          "least any per-process aggregation costs")
    c["floor: idle syscall hook"] = (
        lambda wl: pin + [floor, "syscall-idle"] + wl, 1,
        "a syscall tracepoint that never fires in these workloads: the tax every syscall pays "
        "(the kernel's slow entry path) once anything hooks syscalls")
    c["floor: idle syscall entry+exit hooks"] = (
        lambda wl: pin + [floor, "syscall-idle-exit"] + wl, 1,
        "the same plus a syscall exit tracepoint that never fires: the exit side of the "
        "kernel's syscall tracing runs too, the floor of a tracer that needs syscall results "
        "(socktap's creation and close probes)")
    c["floor: empty sys_enter+sys_exit"] = (
        lambda wl: pin + [floor, "syscall-hook"] + wl, 1,
        "two BPF programs on the raw syscall tracepoints that return at once: the least a "
        "tracer built on them costs (socktap's own are measured against this)")
    c["socktap top (in-kernel counts)"] = (
        lambda wl: pin + [SOCKTAP, "top", "-F", "json", "-o", out, "-i", "1", "-c", " ".join(wl)],
        1, "`socktap top -F json -o FILE -i 1 -c CMD`")
    c["socktap top --by connection"] = (
        lambda wl: pin + [SOCKTAP, "top", "--by", "connection", "-F", "json", "-o", out, "-i",
                          "1", "-c", " ".join(wl)],
        1, "per connection: both ends of every transfer (and the entry hook, for sendmmsg)")
    # serve has no -c: bench/with_serve.sh runs the workload under it, system-wide
    c["socktap serve (scraped at the end)"] = (
        lambda wl: pin + [os.path.join(HERE, "with_serve.sh"), SOCKTAP, str(free_port())] + wl,
        1, "`socktap serve` (default labels and size histograms), the workload run under it "
        "by `bench/with_serve.sh`: the same in-kernel counting as top, per label set")
    if shutil.which("bpftrace"):
        c["bpftrace count in kernel"] = (
            lambda wl: pin + ["bpftrace", "-q", "-e", BT_PROBES + " { @[comm] = count(); }",
                              "-c", " ".join(wl)], 1,
            "`bpftrace -e '...sock_send_length,...sock_recv_length { @[comm] = count(); }'`")
        c["bpftrace printf each event > file"] = (
            lambda wl: pin + ["bpftrace", "-q", "-o", out, "-e",
                              BT_PROBES + ' { printf("%d %s %d\\n", tid, comm, args->ret); }',
                              "-c", " ".join(wl)], 10,
            "`bpftrace -o FILE -e '... { printf(tid, comm, ret) }'`")
    if shutil.which("strace"):
        c["strace -f -e trace=%network"] = (
            lambda wl: pin + ["strace", "-f", "-qq", "-o", out, "-e", "trace=%network"] + wl, 100,
            "`strace -f -qq -o FILE -e trace=%network CMD`")
    if shutil.which("perf") and perf_trace_works(tmp):
        c["perf trace sock tracepoints"] = (
            lambda wl: pin + ["perf", "trace", "-o", out, "-e",
                              "sock:sock_send_length,sock:sock_recv_length", "--"] + wl, 10,
            "`perf trace -o FILE -e sock:sock_send_length,sock:sock_recv_length -- CMD`")
    return c


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONSUME = os.path.join(ROOT, "build", "bench", "consume")
# probe sets of the writer table: the two that fire once per kernel send or receive, and all 22
# (the failing send is then three events: socket.sendmsg, its .return, socket.send)
WRITER_PROBES = {"send+receive": ("socket.send", "socket.receive"), "all 22": ()}
# what reads the events: trace's three formats, -w's capture, and a no-op callback (the
# library's decode alone: bench/consume.c)
WRITER_MODES = ("json", "csv", "text", "capture", "no-op")


def writer_rates(smoke):
    """How fast `trace PROBES -F FMT -o FILE` (and `-w FILE`, and a consumer that does nothing)
    takes the failing-send flood, into a ring large enough to hold most of it, so that the
    reader's pace shows. Sustained floods slower than its rate lose nothing; faster ones lose
    the excess (counted). The ring's own default (4 MiB) absorbs ~12,000 events of burst."""
    n = 20000 if smoke else 1000000
    rb = str(1 << 28)
    tmp = tempfile.mkdtemp(prefix="socktap-writer-")
    out = {}
    # the tracer's own CPU time (not its command's: --no-inherit), where perf works
    perf = shutil.which("perf")
    if perf and subprocess.run([perf, "stat", "-e", "task-clock", "true"],
                               capture_output=True).returncode != 0:
        perf = None

    def timed(argv):
        pre = [perf, "stat", "--no-inherit", "-x,", "-e", "task-clock", "--"] if perf else []
        t0 = time.monotonic()
        r = subprocess.run(pre + argv, capture_output=True, text=True, check=True)
        m = re.search(r"^([\d.]+),msec,task-clock", r.stderr, re.M)
        return r, time.monotonic() - t0, float(m.group(1)) / 1e3 if m else None

    try:
        for pname, probes in WRITER_PROBES.items():
            # what start-up and teardown take, with nothing to write: trace's, consume's
            start = {"trace": [], "consume": []}
            start_cpu = {"trace": [], "consume": []}
            for _ in range(3):
                for tool, argv in (
                        ("trace", [SOCKTAP, "trace", *probes, "--ringbuf-size", rb, "-F", "json",
                                   "-o", os.path.join(tmp, "x"), "-c", f"{WORKLOAD} getpid 1"]),
                        ("consume", [CONSUME, rb, *probes, "--", WORKLOAD, "getpid", "1"])):
                    _, wall, cpu = timed([TASKSET, "-c", "1", *argv])
                    start[tool].append(wall)
                    start_cpu[tool].append(cpu or 0)
            # all 22: a third of the sends, the same number of events
            sends = n if probes else n // 3
            flood = [TASKSET, "-c", "0", WORKLOAD, "failsend", str(sends)]
            for mode in WRITER_MODES:
                path = os.path.join(tmp, f"out.{mode}")
                tool = "consume" if mode == "no-op" else "trace"

                def argv_of(ring):
                    if mode == "no-op":
                        return [TASKSET, "-c", "1", CONSUME, ring or "0", *probes, "--", *flood]
                    sink = ["-w", path] if mode == "capture" else ["-F", mode, "-o", path]
                    return [TASKSET, "-c", "1", SOCKTAP, "trace", *probes,
                            *(["--ringbuf-size", ring] if ring else []), *sink, "-c",
                            " ".join(flood)]
                # the same flood into the default ring (4 MiB): what a sustained flood loses
                r = subprocess.run(argv_of(None), capture_output=True, text=True, check=True)
                m = re.search(r"(\d+) events delivered, (\d+) events lost", r.stderr)
                lost_default = int(m.group(2))
                r, wall, cpu = timed(argv_of(rb))
                line = next(l for l in r.stdout.splitlines() if l.startswith("failsend "))
                flood_s = int(line.split()[2]) / 1e9
                m = re.search(r"(\d+) events delivered, (\d+) events lost", r.stderr)
                delivered, lost = int(m.group(1)), int(m.group(2))
                busy = wall - statistics.median(start[tool])
                busy_cpu = cpu - statistics.median(start_cpu[tool]) if cpu is not None else None
                out[f"{pname} {mode}"] = {
                    "probes": pname, "mode": mode, "events": delivered + lost, "lost": lost,
                    "lost_default_ring": lost_default,
                    "flood_rate": (delivered + lost) / flood_s,
                    # a run within start-up's own spread tells nothing (--smoke)
                    "writer_rate": delivered / busy if busy > 0.1 else None,
                    # the tracer's CPU per event: its pace were events never to wait
                    "cpu_ns": busy_cpu / delivered * 1e9 if busy_cpu and busy_cpu > 0.05
                    else None,
                    "bytes": os.path.getsize(path) if os.path.exists(path) else None}
                if os.path.exists(path):
                    os.unlink(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def writer_markdown(rates):
    if not rates:
        return []
    lines = ["## The writer: highest lossless event rate per format", "",
             "`socktap trace PROBES -F FMT -o FILE` (and `-w FILE`, a capture for `socktap "
             "convert`) of the failing-send flood (1,000,000 events: as many sends for "
             "`socket.send socket.receive`, a third as many with all 22 probes, where each is "
             "three events), as fast as one core issues them while traced, into a 256 MiB ring: "
             "the writer's pace is the events it wrote over the run's wall time less start-up. "
             "A sustained event rate below it loses nothing; above it, the excess is dropped in "
             "the kernel once the ring is full, and counted. `no-op`: a libsocktap consumer "
             "whose callback does nothing (bench/consume.c), the library's decode alone. CPU per "
             "event: the tracer's own CPU time (perf stat --no-inherit) less its start-up's, per "
             "event written; a writer as fast as the flood waits for events, and this is what "
             "it would take were they all there. Lost, 4 MiB ring: the same flood into the "
             "default ring, where a reader slower than the flood, or descheduled, loses the "
             "excess.", "",
             "| probes | output | flood (traced) | writer | CPU per event | bytes per event "
             "| lost | lost, 4 MiB ring |", "|---|---|---|---|---|---|---|---|"]
    for r in rates.values():
        rate = (f"{r['writer_rate'] / 1e6:.2f} M events/s" if r["writer_rate"] else
                "too short a run to tell")
        out = {"capture": "-w", "no-op": "no-op callback"}.get(r["mode"], f"-F {r['mode']}")
        size = (f"{r['bytes'] / max(r['events'] - r['lost'], 1):.0f}" if r["bytes"] is not None
                else "-")
        cpu = f"{r['cpu_ns']:.0f} ns" if r.get("cpu_ns") else "-"
        lines.append(f"| {r['probes']} | {out} | {r['flood_rate'] / 1e6:.2f} M events/s | "
                     f"{rate} | {cpu} | {size} | {r['lost']} | {r.get('lost_default_ring', '-')} |")
    return lines + [""]


def serve_scale(smoke):
    """socktap serve with N distinct label sets (traffic.c: N processes of distinct names):
    the time a scrape takes and the exposition's size, plain and gzipped."""
    import gzip
    import urllib.request
    traffic = os.path.join(ROOT, "build", "tests", "traffic")
    out = {}
    for n in (10, 100) if smoke else (100, 1000, 10000):
        port = free_port()
        p = subprocess.Popen([TASKSET, "-c", "1", SOCKTAP, "serve", "--max-series", "0",
                              "--web.listen-address", f"127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/metrics"
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(url, timeout=5).read()
                    break
                except OSError:
                    time.sleep(0.1)
            subprocess.run([TASKSET, "-c", "0", traffic, f"many={n}", "names",
                            "out=/dev/null"], check=True, stdout=subprocess.DEVNULL)
            time.sleep(1.2)
            times, body, zbody = [], b"", b""
            for _ in range(7):
                t0 = time.monotonic()
                body = urllib.request.urlopen(url, timeout=30).read()
                times.append(time.monotonic() - t0)
            # as Prometheus scrapes: it always asks for gzip
            req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
            ztimes = []
            for _ in range(7):
                t0 = time.monotonic()
                zbody = urllib.request.urlopen(req, timeout=30).read()
                ztimes.append(time.monotonic() - t0)
            series = int(re.search(rb"^socktap_series (\d+)$", body, re.M).group(1))
            rss = int(float(re.search(rb"^process_resident_memory_bytes (\S+)$", body,
                                      re.M).group(1)))
            assert len(gzip.decompress(zbody)) > 0
            out[str(n)] = {"series": series, "scrape_ms": statistics.median(times) * 1e3,
                           "scrape_ms_max": max(times) * 1e3, "bytes": len(body),
                           "gzip_scrape_ms": statistics.median(ztimes) * 1e3,
                           "gzip_scrape_ms_max": max(ztimes) * 1e3,
                           "gzip_bytes": len(zbody), "rss_kib": rss // 1024}
        finally:
            p.terminate()
            p.wait(timeout=30)
    return out


def serve_markdown(scale):
    if not scale:
        return []
    lines = ["## socktap serve: scrape time and exposition size", "",
             "`socktap serve --max-series 0` after N processes of distinct names each made one "
             "failing send (`traffic many=N names`): N label sets, plus the machine's own. A "
             "scrape reads and folds the kernel's counts, then renders every series (counters, "
             "errors by errno, size histograms). Median of 7 scrapes (max), plain and with gzip "
             "(as Prometheus asks).", "",
             "| processes | label sets | scrape | scrape, gzip | exposition | gzipped | "
             "serve's RSS |",
             "|---|---|---|---|---|---|---|"]
    for n, r in scale.items():
        gz = (f"{r['gzip_scrape_ms']:.1f} ms ({r['gzip_scrape_ms_max']:.1f})"
              if "gzip_scrape_ms" in r else "-")
        lines.append(f"| {n} | {r['series']} | {r['scrape_ms']:.1f} ms ({r['scrape_ms_max']:.1f})"
                     f" | {gz}"
                     f" | {r['bytes'] / 1024:.0f} KiB | {r['gzip_bytes'] / 1024:.0f} KiB"
                     f" | {r['rss_kib'] / 1024:.1f} MiB |")
    return lines + [""]


def perf_trace_works(tmp):
    try:
        r = subprocess.run(["perf", "trace", "-o", os.path.join(tmp, "p"), "-e",
                            "sock:sock_send_length", "--", "true"], capture_output=True,
                           timeout=30)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


LOST_PATTERNS = [
    (re.compile(r"(\d+) events delivered, (\d+) events lost"), 2),  # socktap
    (re.compile(r"Lost (\d+) events"), 1),  # bpftrace
    (re.compile(r"LOST (\d+) events"), 1),  # perf
]


def lost_events(text):
    total, seen = 0, False
    for pat, group in LOST_PATTERNS:
        for m in pat.finditer(text):
            total += int(m.group(group))
            seen = True
    return total if seen else None


def run_one(argv, timeout=600):
    """Run argv; returns (workload line fields, stderr+stdout text, max RSS KiB of the tree)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        raise
    wall = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {err.strip()[-500:]}")
    line = next((l for l in out.splitlines() if re.match(r"^\w+ \d+ \d+ \d+ \d+ \d+$", l)),
                None)
    if line is None:
        raise RuntimeError(f"no workload result from {' '.join(argv)}: {out[-300:]}{err[-300:]}")
    mode, iters, wall_ns, ops, cpu_ns, chunked_ns = line.split()
    # the figure: the workload's CPU time, median of its 16 chunks (bench/workload.c says why)
    return {"iters": int(iters), "ns": int(chunked_ns), "cpu_ns": int(cpu_ns),
            "wall_ns": int(wall_ns), "ops": int(ops), "wall": wall,
            "lost": lost_events(err + out), "maxrss_children": ru.ru_maxrss}


def vm_configs(tmp):
    """Inside the VM (Debian 12's 6.1, TCG): socktap per backend, against the VM's own base."""
    out = os.path.join(tmp, "out")
    c = {"base": (lambda wl: wl, 1, "no tracing (in the VM)"),
         "base again (A/A)": (lambda wl: wl, 1, "no tracing, measured like a tracer")}
    for b in ("fentry", "kprobe"):
        def trace(*probes, b=b):
            return lambda wl: [TASKSET, "-c", "1", SOCKTAP, "trace", "--backend", b, *probes,
                               "-F", "json", "-o", out, "-c", " ".join(wl)]
        c[f"socktap trace (all 22 probes) > json [{b}]"] = (trace(), 1, f"--backend {b}")
        c[f"socktap trace send+receive > json [{b}]"] = (
            trace("socket.send", "socket.receive"), 1, f"--backend {b}")
        c[f"socktap top [{b}]"] = (
            lambda wl, b=b: [TASKSET, "-c", "1", SOCKTAP, "top", "--backend", b, "-F", "json",
                             "-o", out, "-i", "1", "-c", " ".join(wl)], 1, f"--backend {b}")
    return c


VM_WORKLOADS = {"udp": 1000, "failsend": 20000, "getpid": 50000}


def untraced(w, iters):
    """One untraced run of workload w: a traced run's baseline."""
    res = run_one([TASKSET, "-c", "0", WORKLOAD, w, str(iters)])
    res["ns_per_op"] = res["ns"] / res["iters"]
    return res


def measure(rounds, scale, only, cfg_fn=None):
    tmp = tempfile.mkdtemp(prefix="socktap-bench-")
    cfgs = (cfg_fn or configs)(tmp)
    names = [n for n in cfgs if not only or n == "base" or re.search(only, n)]
    results = {w: {n: [] for n in names} for w in WORKLOADS}
    # each configuration's run sits between two untraced runs, the one just before it and the
    # one just after (the next configuration's, or one more at the end of the round), and its
    # ratio is to their geometric mean: this host's speed drifts by tens of percent over
    # minutes (its other tenants), and a drift that is steady over the few seconds of one
    # sandwich cancels out of it, which pairing with the run before alone leaves in
    paired = {w: {n: [] for n in names} for w in WORKLOADS}
    after = {w: {n: [] for n in names} for w in WORKLOADS}
    for r in range(rounds):
        for w, iters in WORKLOADS.items():
            order = names[r % len(names):] + names[:r % len(names)]
            waiting = None  # (configuration, iterations) whose run wants its untraced run after
            for n in order:
                build, slow, _ = cfgs[n]
                it = max(1, int(iters * scale / slow))
                wl = [TASKSET, "-c", "0", WORKLOAD, w, str(it)]
                if waiting and waiting[1] != it:
                    # a run of another length is no baseline: a slow tool's few iterations
                    # of a stream never fill the socket buffer, so they are far cheaper
                    after[w][waiting[0]].append(untraced(w, waiting[1]))
                    waiting = None
                if n != "base":
                    pb = untraced(w, it)
                    paired[w][n].append(pb)
                    if waiting:
                        after[w][waiting[0]].append(pb)
                res = run_one(build(wl))
                res["ns_per_op"] = res["ns"] / res["iters"]
                results[w][n].append(res)
                if n == "base" and waiting:
                    after[w][waiting[0]].append(res)
                waiting = (n, it) if n != "base" else None
                print(f"round {r + 1}/{rounds} {w:10} {n:40} {res['ns_per_op']:10.0f} ns/op"
                      f"  lost={res['lost']}", file=sys.stderr, flush=True)
            if waiting:
                after[w][waiting[0]].append(untraced(w, waiting[1]))
    for w in results:
        results[w]["__paired_base__"] = paired[w]
        results[w]["__after_base__"] = after[w]
    shutil.rmtree(tmp, ignore_errors=True)
    return cfgs, names, results


def startup(n_runs):
    """Wall time of `TRACER -c true` and the tracer's peak RSS."""
    tools = {"socktap trace (all probes) -c CMD": [SOCKTAP, "trace", "-F", "json", "-o",
                                                   "/dev/null", "-c", "CMD"],
             "socktap top -c CMD": [SOCKTAP, "top", "-F", "json", "-o", "/dev/null", "-c", "CMD"]}
    if shutil.which("bpftrace"):
        tools["bpftrace -e '<2 sock tracepoints>' -c CMD"] = [
            "bpftrace", "-q", "-e", BT_PROBES + " { @[comm] = count(); }", "-c", "CMD"]
    out = {}
    for name, argv in tools.items():
        walls, rss, armed = [], [], []
        for _ in range(n_runs):
            # the command is `workload stamp`: it starts once the probes are armed
            argv = argv[:-1] + [f"{WORKLOAD} stamp 0"]
            t0 = time.monotonic()
            p = subprocess.run([PEAKRSS] + argv, capture_output=True, text=True)
            out_text = p.stdout
            walls.append(time.monotonic() - t0)
            rss.append(peak_of(p.stderr))
            if p.returncode != 0:
                raise RuntimeError(f"{name}: exit status {p.returncode}")
            m = re.search(r"^stamp 0 (\d+) 0$", out_text, re.M)
            if m:
                armed.append(int(m.group(1)) / 1e9 - t0)
        out[name] = {"wall_s": statistics.median(walls), "wall_min": min(walls),
                     "wall_max": max(walls), "maxrss_kib": max(rss),
                     "armed_s": statistics.median(armed) if armed else None}
    # the peak RSS of socktap while it traces a busy workload (the ring and output buffers)
    p = subprocess.run([PEAKRSS, SOCKTAP, "trace", "-F", "json", "-o", "/dev/null", "-c",
                        f"{WORKLOAD} udp 20000"], capture_output=True, text=True)
    out["socktap trace (all) of udp ping-pong"] = {"maxrss_kib": peak_of(p.stderr)}
    return out


def peak_of(stderr):
    """bench/peakrss's figure: measured from a small parent, so it is the tracer's own."""
    m = re.search(r"^peakrss (\d+)$", stderr, re.M)
    if not m:
        raise RuntimeError(f"no peak RSS reported: {stderr[-300:]}")
    return int(m.group(1))


def summarize(names, results):
    """Per workload and config: median/min/max of the per-round ratio, added ns/op, lost."""
    table = {}
    for w, per in results.items():
        table[w] = {}
        for n in names:
            runs = per[n]
            # the untraced run paired with each (older results: the round's own base run)
            base = per.get("__paired_base__", {}).get(n) or per["base"]
            aft = per.get("__after_base__", {}).get(n)
            if aft and len(aft) == len(base):
                # the sandwich: the geometric mean of the untraced runs before and after
                base = [{**b, "ns_per_op": math.sqrt(b["ns_per_op"] * a["ns_per_op"])}
                        for b, a in zip(base, aft)]
            ratios = [r["ns_per_op"] / b["ns_per_op"] for r, b in zip(runs, base)]
            added = [(r["ns_per_op"] - b["ns_per_op"]) * r["iters"] / max(r["ops"], 1)
                     if r["ops"] else r["ns_per_op"] - b["ns_per_op"] for r, b in zip(runs, base)]
            lost = [r["lost"] for r in runs if r["lost"] is not None]
            q = sorted(ratios)
            table[w][n] = {
                "ns_per_op": statistics.median(r["ns_per_op"] for r in runs),
                "ratio": statistics.median(ratios), "ratio_min": min(ratios),
                "ratio_max": max(ratios), "ratio_q1": q[len(q) // 4],
                "ratio_q3": q[(3 * len(q)) // 4], "added_ns": statistics.median(added),
                "lost": max(lost) if lost else None,
            }
    return table


def format_bench(smoke):
    """ns per event of socktap's formatter, and json-c's for the same JSON object."""
    fb = os.path.join(ROOT, "build", "bench", "format_bench")
    if not os.path.exists(fb):
        return []
    r = subprocess.run([fb, "20000" if smoke else "2000000"], capture_output=True, text=True,
                       check=True)
    return r.stdout.splitlines()


def vm_markdown(vm_table):
    if not vm_table:
        return []
    lines = ["## Older kernels: the fentry and kprobe backends (VM)", "",
             "Debian 12's own kernel (linux-image-cloud-amd64, 6.1) under qemu with TCG (no KVM "
             "here), 2 vCPUs; `make bench` with `--vm`. Emulated timings are slow and compare "
             "only with each other: ratios are to the VM's own untraced baseline of the same "
             "round.", ""]
    for w, per in vm_table.items():
        lines += [f"### {w} (VM)", "", f"Untraced: {per['base']['ns_per_op']:.0f} ns per iteration.",
                  "", "| configuration | slowdown | added ns/op | lost |", "|---|---|---|---|"]
        for n, t in per.items():
            if n == "base":
                continue
            lost = "-" if t["lost"] is None else str(t["lost"])
            lines.append(f"| {n} | {t['ratio']:.2f}x ({t['ratio_min']:.2f}..{t['ratio_max']:.2f})"
                         f" | {t['added_ns']:.0f} | {lost} |")
        lines.append("")
    return lines


def spread(t):
    """median (middle half: q1..q3; all rounds: min..max)"""
    if "ratio_q1" not in t:
        return f"{t['ratio']:.2f}x ({t['ratio_min']:.2f}..{t['ratio_max']:.2f})"
    return (f"{t['ratio']:.2f}x ({t['ratio_q1']:.2f}..{t['ratio_q3']:.2f}; "
            f"{t['ratio_min']:.2f}..{t['ratio_max']:.2f})")


def markdown(cfgs, names, table, start, rounds, note, fmt_lines, vm_table=None, serve=None,
             writer=None):
    lines = [
        "# Benchmarks", "",
        "Generated by `make bench` (`bench/run.py`); raw figures in `build/bench/results.json`.",
        f"{rounds} interleaved rounds. Each run's figure is the workload's own CPU time (all its "
        "threads, kernel time included, so a tracer's in-kernel work counts), the median of 16 "
        "equal chunks of its loop, per iteration. Each traced run sits between two untraced runs, "
        "one just before it and one just after. Slowdown: median over rounds of its ratio to "
        "their geometric mean, so a drift of the host's speed that is steady over those seconds "
        "cancels out (q1..q3, the middle half of the rounds; min..max, all of them; the A/A row "
        "is the benchmark's own noise). "
        "Added: median extra ns per kernel socket operation "
        "(a send or receive reaching the protocol; per syscall for getpid/devnull). Lost: events "
        "the tool reported lost (max over rounds; '-' where the tool cannot lose or does not say).",
        "",
        "Workload pinned to CPU 0, tracer to CPU 1, on the project's build machine (x86_64 VM, "
        "2 cores, Linux 6.18). Tools slower than ~10x run 1/10 (strace 1/100) of the iterations; "
        "figures are per operation.", "",
        "Configurations:", ""]
    for n in names:
        lines.append(f"- **{n}**: {cfgs[n][2]}")
    lines += [""]
    for w in WORKLOADS:
        lines += [f"## {w}", "",
                  f"Untraced: {table[w]['base']['ns_per_op']:.0f} ns per iteration.", "",
                  "| configuration | slowdown | added ns/op | lost |", "|---|---|---|---|"]
        for n in names:
            if n == "base":
                continue
            t = table[w][n]
            lost = "-" if t["lost"] is None else str(t["lost"])
            lines.append(f"| {n} | {spread(t)} | {t['added_ns']:.0f} | {lost} |")
        lines.append("")
    lines += ["## Start-up and memory", "",
              "Armed: from starting the tracer to its `-c` command's first instruction "
              "(`workload stamp`), which runs only once the probes are attached. Wall: the "
              "whole run, start-up and teardown.", "",
              "| command | armed (median) | wall (median, min..max) | peak RSS |",
              "|---|---|---|---|"]
    for name, s in start.items():
        wall = (f"{s['wall_s']:.3f} s ({s['wall_min']:.3f}..{s['wall_max']:.3f})"
                if "wall_s" in s else "-")
        armed = f"{s['armed_s']:.3f} s" if s.get("armed_s") is not None else "-"
        lines.append(f"| {name} | {armed} | {wall} | {s['maxrss_kib'] / 1024:.1f} MiB |")
    lines += [""]
    lines += writer_markdown(writer)
    lines += serve_markdown(serve)
    lines += vm_markdown(vm_table)
    if fmt_lines:
        lines += ["## Output formatting (user space, per event)", "", "```"] + fmt_lines + ["```", ""]
    if note:
        lines += [open(note).read()]
    return "\n".join(lines) + "\n"


def print_writer(writer):
    for name, r in writer.items():
        print(f"writer {name:22}: flood {r['flood_rate'] / 1e6:.2f} M/s, writer "
              f"{(r['writer_rate'] or 0) / 1e6:.2f} M/s, {r.get('cpu_ns') or 0:.0f} ns CPU/event, "
              f"{r['events'] - r['lost']} written, lost {r['lost']} "
              f"(4 MiB ring: {r.get('lost_default_ring')})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--only", help="regex of configurations to run (plus base)")
    ap.add_argument("--workloads", help="comma-separated subset of the workloads")
    ap.add_argument("--out")
    ap.add_argument("--json", help="raw figures (default build/bench/results.json; none for "
                    "--smoke, whose tiny counts must not replace a real run's)")
    ap.add_argument("--note", help="markdown appended to --out (the analysis)")
    ap.add_argument("--from-json", help="rewrite --out from saved results, measuring nothing")
    ap.add_argument("--inside-vm", action="store_true",
                    help="(run by --vm in the guest) the VM matrix, JSON on stdout")
    ap.add_argument("--vm", action="store_true",
                    help="also measure the fentry and kprobe backends in the 6.1 VM "
                    "(tests/vm/vm.py); TCG timings compare only with each other")
    ap.add_argument("--writer", action="store_true",
                    help="only the writer table (per format, -w and a no-op consumer)")
    ap.add_argument("--startup-only", metavar="JSON",
                    help="re-measure start-up and memory into saved results")
    a = ap.parse_args()
    if a.writer:
        writer = writer_rates(a.smoke)
        print_writer(writer)
        print("\n".join(writer_markdown(writer)))
        return
    if a.startup_only:
        with open(a.startup_only) as f:
            saved = json.load(f)
        saved["startup"] = startup(7)
        with open(a.startup_only, "w") as f:
            json.dump(saved, f, indent=1)
        for name, st in saved["startup"].items():
            print(f"{name:45} armed {st.get('armed_s') or 0:.3f} s  {st['maxrss_kib'] / 1024:.1f} MiB")
        return
    if a.from_json:
        with open(a.from_json) as f:
            saved = json.load(f)
        tmp = tempfile.mkdtemp(prefix="socktap-bench-")
        cfgs = configs(tmp)
        names = [n for n in saved["summary"][next(iter(saved["summary"]))]]
        for w in list(WORKLOADS):
            if w not in saved["summary"]:
                del WORKLOADS[w]
        with open(a.out, "w") as f:
            f.write(markdown(cfgs, names, saved["summary"], saved["startup"],
                             saved.get("rounds", 5), a.note, saved.get("format", []),
                             saved.get("vm"), saved.get("serve"), saved.get("writer")))
        return
    if os.geteuid() != 0:
        sys.exit("bench: needs root (the tracers load BPF programs)")
    rounds, scale = (1, 0.01) if a.smoke else (a.rounds, 1.0)
    if a.inside_vm:
        WORKLOADS.clear()
        WORKLOADS.update(VM_WORKLOADS)
        cfgs, names, results = measure(rounds, 0.1 if a.smoke else 1.0, None, vm_configs)
        print("@@BENCHJSON " + json.dumps({"summary": summarize(names, results)}), flush=True)
        return
    vm_table = None
    if a.vm:
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "vm", "vm.py"), "run",
                            "--timeout", "3600", "--",
                            f"python3 bench/run.py --inside-vm --rounds {rounds}" +
                            (" --smoke" if a.smoke else "")],
                           capture_output=True, text=True)
        m = re.search(r"^@@BENCHJSON (.*)$", r.stdout, re.M)
        if not m:
            sys.exit(f"bench: the VM run gave no results:\n{r.stdout[-2000:]}{r.stderr[-500:]}")
        vm_table = json.loads(m.group(1))["summary"]
    if a.workloads:
        for w in list(WORKLOADS):
            if w not in a.workloads.split(","):
                del WORKLOADS[w]
    cfgs, names, results = measure(rounds, scale, a.only)
    start = startup(2 if a.smoke else 7)
    fmt_lines = format_bench(a.smoke)
    serve = serve_scale(a.smoke)
    writer = writer_rates(a.smoke)
    table = summarize(names, results)
    if a.json or not a.smoke:
        path = a.json or os.path.join(ROOT, "build", "bench", "results.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump({"results": results, "summary": table, "startup": start,
                       "rounds": rounds, "format": fmt_lines, "vm": vm_table, "serve": serve,
                       "writer": writer}, f, indent=1)
    for w in WORKLOADS:
        for n in names:
            if n != "base":
                t = table[w][n]
                print(f"{w:10} {n:40} {t['ratio']:6.2f}x  +{t['added_ns']:7.0f} ns/op  "
                      f"lost={t['lost']}")
    for name, s in start.items():
        print(f"{name:45} armed {s.get('armed_s') or 0:.3f} s  wall {s.get('wall_s', 0):.3f} s  "
              f"{s['maxrss_kib'] / 1024:.1f} MiB")
    print("\n".join(fmt_lines))
    print_writer(writer)
    for n, r in serve.items():
        print(f"serve, {n} processes: {r['series']} series, scrape {r['scrape_ms']:.1f} ms, "
              f"{r['bytes']} bytes ({r['gzip_bytes']} gzipped), RSS {r['rss_kib'] / 1024:.1f} MiB")
    if a.out:
        with open(a.out, "w") as f:
            f.write(markdown(cfgs, names, table, start, rounds, a.note, fmt_lines, vm_table,
                             serve, writer))
    if a.smoke:
        # the smoke test judges only that everything ran and reported
        bad = [(w, n) for w in WORKLOADS for n in names if not results[w][n]]
        if bad:
            sys.exit(f"bench-smoke: no result for {bad}")
        print("bench-smoke: every configuration ran")


if __name__ == "__main__":
    main()
