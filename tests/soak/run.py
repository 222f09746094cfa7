#!/usr/bin/env python3
"""socktap soak test (make soak; not part of make check): `socktap top` and `socktap serve`
for --duration seconds (default 600) under process and socket churn (tests/soak/churn.c:
hundreds of short-lived processes a second, each with UDP, TCP and unix sockets).

Usage:
  run.py --socktap build/socktap --churn build/tests/churn [--duration 600] [--rate 200]
         [--report docs/soak.md]

Both socktap processes count only a fresh cgroup that the churn runs in (--cgroup), so their
totals can be compared exactly with the churn's own counts whatever else the machine does.
Every --sample seconds: VmRSS and open fds of both socktap processes, and the entries of
their BPF maps (owned as /proc/PID/fdinfo says, named by `bpftool -j map show`; counted by
walking the keys with BPF_MAP_GET_NEXT_KEY through ctypes, bounded by max_entries). serve is
scraped at each sample too, as Prometheus would.

At the end: every total exact (top's snapshots summed, serve's counters), every churn
process seen by top, nothing dropped; and flat (the criteria at FLAT below). Exit 1 naming
what failed. Needs root. Python 3 standard library only.
"""
import argparse
import ctypes
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

PROTO_NAMES = {0: "IP", 6: "TCP", 17: "UDP"}
FAMILY_NAMES = {1: "LOCAL", 2: "INET", 10: "INET6"}
TYPE_NAMES = {1: "STREAM", 2: "DGRAM", 5: "SEQPACKET"}
FIELDS = ("sends", "recvs", "send_bytes", "recv_bytes", "send_errors", "recv_errors")
SERVE_NAMES = {"sends": "socktap_send_operations_total",
               "recvs": "socktap_receive_operations_total",
               "send_bytes": "socktap_send_bytes_total",
               "recv_bytes": "socktap_receive_bytes_total",
               "send_errors": "socktap_send_errors_total",
               "recv_errors": "socktap_receive_errors_total"}
MiB = 1 << 20

# FLAT: what "stays flat" means. The first WARMUP of the samples are left out (allocators,
# caches and the kernel's tables fill up first). The rest is cut in thirds.
# - RSS: median of the last third minus median of the first third <= max(2 MiB, 5%). A leak
#   of only 20 bytes per churn process (200/s for the 480 s after warm-up: ~96,000
#   processes) is ~2 MiB, so this catches per-process leaks; the slack absorbs malloc's
#   arenas and page granularity.
# - open fds: equal medians of the first and last thirds, and no sample more than 2 away from
#   the first third's median (one scrape's HTTP connection may still be closing).
# - map entries, per map (the two generations of a per-interval table, NAME0 and NAME1,
#   summed: which one is filling depends on when the sample falls): the largest sample of
#   the last third <= 2 x the largest of the first third + 64. A sample falls anywhere in a
#   table's interval and the churn rate varies with the machine's load, so only a gross
#   trend can be judged while it runs; a leak of one entry per process would fill a
#   10,240-entry table within a minute. No sample may be at max_entries (full: updates are
#   dropped). And once the churn has stopped and two of top's intervals have passed, every
#   hash map that is not an LRU holds no more than it did idle before the churn (+ 16): the
#   per-interval tables are drained, nothing is left behind per process. That is the
#   exact leak check. LRU maps are exempt from it: bounded by design, they evict only on
#   pressure.
WARMUP = 0.2
RSS_SLACK_ABS = 2 * MiB
RSS_SLACK_REL = 0.05
FD_SLACK = 2
MAP_SLACK_REL = 2
MAP_SLACK_ABS = 64
MAP_IDLE_SLACK = 16

ITERABLE = {"hash", "percpu_hash", "lru_hash", "lru_percpu_hash", "lpm_trie"}


# ---- BPF maps: owners from bpftool, entries counted with the bpf(2) syscall ----

SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
BPF_MAP_GET_NEXT_KEY = 4
BPF_MAP_GET_FD_BY_ID = 14
_libc = ctypes.CDLL(None, use_errno=True)


def _bpf(cmd, attr):
    r = _libc.syscall(SYS_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    return r, ctypes.get_errno()


def count_entries(map_id, key_size, max_entries):
    """Distinct keys of map map_id (None if it cannot be walked). The maps change while they
    are walked: a deleted key makes GET_NEXT_KEY start over, so stop at the first key seen
    twice; never more than max_entries + 1 steps."""
    attr = (ctypes.c_uint8 * 128)()
    ctypes.c_uint32.from_buffer(attr, 0).value = map_id
    fd, err = _bpf(BPF_MAP_GET_FD_BY_ID, attr)
    if fd < 0:
        return None
    try:
        key = (ctypes.c_uint8 * key_size)()
        nxt = (ctypes.c_uint8 * key_size)()
        seen = set()
        first = True
        for _ in range(max_entries + 1):
            a = (ctypes.c_uint8 * 128)()
            ctypes.c_uint32.from_buffer(a, 0).value = fd
            ctypes.c_uint64.from_buffer(a, 8).value = 0 if first else ctypes.addressof(key)
            ctypes.c_uint64.from_buffer(a, 16).value = ctypes.addressof(nxt)
            r, err = _bpf(BPF_MAP_GET_NEXT_KEY, a)
            if r < 0:
                if err == 2:  # ENOENT: the end
                    break
                return None
            k = bytes(nxt)
            if k in seen:
                break
            seen.add(k)
            ctypes.memmove(key, nxt, key_size)
            first = False
        return len(seen)
    finally:
        os.close(fd)


def maps_of(pids):
    """{pid: [map dicts from bpftool]} for the maps each pid holds. Owners from
    /proc/PID/fdinfo (a map fd's has map_id): bpftool's "pids" field needs a bpftool built
    with its BPF skeletons, which Debian's is not."""
    out = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                         timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"bpftool map show: {out.stderr.strip()}")
    by_id = {m["id"]: m for m in json.loads(out.stdout or "[]")}
    res = {}
    for pid in pids:
        ids = set()
        for fd in os.listdir(f"/proc/{pid}/fdinfo"):
            try:
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    m = re.search(r"^map_id:\s*(\d+)", f.read(), re.M)
            except OSError:  # closed meanwhile
                continue
            if m:
                ids.add(int(m.group(1)))
        res[pid] = [by_id[i] for i in sorted(ids) if i in by_id]
    return res


# ---- processes ----

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def nfds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    raise RuntimeError("no cgroup2 mount")


def parse_exposition(text):
    """{(name, frozenset(labels)): value}"""
    out = {}
    lab_re = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$", line)
        if not m:
            raise ValueError(f"bad exposition line: {line!r}")
        out[(m.group(1), frozenset(lab_re.findall(m.group(2) or "")))] = float(m.group(3))
    return out


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return parse_exposition(r.read().decode())


def stop_group(p, sig=signal.SIGTERM, timeout=10):
    """Signal p's process group; SIGKILL it if p has not exited within timeout."""
    if p is None:
        return None
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait(timeout=10)
    return p.returncode


class TopReader(threading.Thread):
    """Sums top's JSON snapshots as they come (a file of every row would be ~100 MB)."""

    def __init__(self, stream, comm):
        super().__init__(daemon=True)
        self.stream, self.comm = stream, comm
        self.sums = {}
        self.pids = set()
        self.snapshots = self.dropped = self.max_rows = 0
        self.bad = []
        self.gaps = 0
        self.last_end = None
        self.first = threading.Event()

    def run(self):
        for line in self.stream:
            try:
                s = json.loads(line)
            except ValueError:
                self.bad.append(f"not JSON: {line[:200]!r}")
                continue
            self.snapshots += 1
            self.dropped += s.get("dropped", 0)
            if self.last_end is not None and s["ts_start"] != self.last_end:
                self.gaps += 1
            self.last_end = s["ts_end"]
            rows = s.get("processes", [])
            self.max_rows = max(self.max_rows, len(rows))
            for r in rows:
                if r.get("comm") != self.comm and len(self.bad) < 20:
                    self.bad.append(f"a row of pid {r.get('pid')} comm {r.get('comm')!r}, "
                                    f"want {self.comm!r}")
                self.pids.add(r["pid"])
                k = (r["protocol"], r["family"])
                a = self.sums.setdefault(k, dict.fromkeys(FIELDS, 0))
                for f in FIELDS:
                    a[f] += r.get(f, 0)
            self.first.set()


def generations(maps):
    """NAME0 and NAME1 (a table's two generations, see src/bpf/aggregate.bpf.h) summed as
    "NAME0+1"; other maps as they are."""
    out = {}
    for name, slot in maps.items():
        if name[-1:] == "1" and name[:-1] + "0" in maps:
            continue
        other = maps.get(name[:-1] + "1") if name[-1:] == "0" else None
        if other is None:
            out[name] = slot
            continue

        def add(x, y):
            return None if x is None or y is None else x + y
        out[name + "+1"] = {"idle": add(slot["idle"], other["idle"]),
                            "end": add(slot["end"], other["end"]),
                            "run": [add(x, y) for x, y in zip(slot["run"], other["run"])]}
    return out


def thirds(values):
    """The samples after warm-up, in thirds: (first, last)."""
    rest = values[int(len(values) * WARMUP):]
    n = max(1, len(rest) // 3)
    return rest[:n], rest[-n:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socktap", required=True)
    ap.add_argument("--churn", required=True)
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--rate", type=float, default=200, help="churn processes per second")
    ap.add_argument("--interval", type=float, default=1.0, help="top's -i")
    ap.add_argument("--sample", type=float, default=None,
                    help="seconds between samples (default: 10, or duration/12 if smaller)")
    ap.add_argument("--report", help="write the Markdown report there")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("soak: needs root (BPF)", file=sys.stderr)
        return 1
    if SYS_BPF is None:
        print(f"soak: no bpf(2) number for {platform.machine()}", file=sys.stderr)
        return 1
    # SIGTERM and SIGHUP as Ctrl-C: the finally below stops everything this started
    def interrupted(sig, frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    sample_every = args.sample or min(10.0, args.duration / 12)
    comm = f"soak-{os.getpid() % 100000:05d}"  # distinct: top's rows are checked against it
    mnt = cgroup2_mount()
    rel = f"/socktap-soak-{os.getpid()}-{time.monotonic_ns()}"
    os.mkdir(mnt + rel)
    tmp = tempfile.mkdtemp(prefix="socktap-soak-")
    procs = {}
    churn = None
    problems, notes = [], []
    try:
        port = free_port()
        top_err = open(os.path.join(tmp, "top.err"), "w+")
        serve_err = open(os.path.join(tmp, "serve.err"), "w+")
        top = subprocess.Popen([args.socktap, "top", "-F", "json", "-i", str(args.interval),
                                "--cgroup", rel], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=top_err, text=True,
                               start_new_session=True)
        procs["top"] = top
        serve = subprocess.Popen([args.socktap, "serve", "--cgroup", rel,
                                  "--web.listen-address", f"127.0.0.1:{port}"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=serve_err, start_new_session=True)
        procs["serve"] = serve
        reader = TopReader(top.stdout, comm)
        reader.start()
        # armed: serve listens only once its probes are; top has printed a snapshot
        t_end = time.monotonic() + 60
        while time.monotonic() < t_end:
            if top.poll() is not None or serve.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
                if reader.first.wait(timeout=0.1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("top or serve did not start within 60 s")
        for name, p in procs.items():
            if p.poll() is not None:
                err = (top_err if name == "top" else serve_err)
                err.seek(0)
                raise RuntimeError(f"{name} exited {p.returncode}: {err.read()[-500:]}")

        pids = {name: p.pid for name, p in procs.items()}
        series = {name: {"rss": [], "fds": [], "maps": {}} for name in procs}
        map_info = {}
        scrapes = []

        def sample(phase):
            owned = maps_of(list(pids.values()))
            for name, pid in pids.items():
                s = series[name]
                s["rss"].append(rss_kib(pid))
                s["fds"].append(nfds(pid))
                for m in owned[pid]:
                    key = m["name"]
                    map_info[(name, key)] = m
                    if m["type"] not in ITERABLE:
                        continue
                    n = count_entries(m["id"], m["bytes_key"], m["max_entries"])
                    s["maps"].setdefault(key, {"idle": None, "run": [], "end": None})
                    slot = s["maps"][key]
                    if phase == "run":
                        slot["run"].append(n)
                    else:
                        slot[phase] = n
            # one scrape per sample, as Prometheus would; after the fds were counted
            m = scrape(port)
            scrapes.append({k[0]: v for k, v in m.items() if not k[1]})

        sample("idle")
        load_start = open("/proc/loadavg").read().split()[:3]
        gt_path = os.path.join(tmp, "churn.json")

        def enter_cgroup():
            with open(mnt + rel + "/cgroup.procs", "w") as f:
                f.write("0")

        # a file, not a pipe: children that complain a lot must never block on it
        churn_errf = open(os.path.join(tmp, "churn.err"), "w+")
        t0 = time.monotonic()
        churn = subprocess.Popen([args.churn, f"dur={args.duration}", f"rate={args.rate}",
                                  f"comm={comm}", f"out={gt_path}"], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=churn_errf,
                                 preexec_fn=enter_cgroup, start_new_session=True)
        # rss/fds samples while the churn runs: bounded by the duration (+ 60 s for a churn
        # that is slow to finish its last children)
        next_t = t0 + sample_every
        while churn.poll() is None and time.monotonic() < t0 + args.duration + 60:
            for name, p in procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited {p.returncode} during the churn")
            time.sleep(max(0.0, min(1.0, next_t - time.monotonic())))
            if time.monotonic() >= next_t:
                sample("run")
                next_t += sample_every
        churn_rc = stop_group(churn)
        churn_errf.seek(0)
        churn_err = churn_errf.read()
        churn_secs = time.monotonic() - t0
        load_end = open("/proc/loadavg").read().split()[:3]
        if churn_rc != 0 or not os.path.exists(gt_path):
            raise RuntimeError(f"churn exited {churn_rc}: {churn_err[-800:]}")
        with open(gt_path) as f:
            gt = json.load(f)
        if not gt["ok"]:
            problems.append(f"the churn itself failed: {json.dumps(gt)[:500]}; "
                            f"{churn_err[-500:]}")

        # the last counts: serve folds the kernel's tables every second, top every -i
        time.sleep(2 * args.interval + 1.5)
        sample("end")
        final = scrape(port)
        top_rc = stop_group(top, signal.SIGINT)
        reader.join(timeout=30)
        serve_rc = stop_group(serve, signal.SIGTERM)
        for name, rc in (("top", top_rc), ("serve", serve_rc)):
            if rc != 0:
                problems.append(f"{name}: exit status {rc} after its signal, want 0")

        # ---- exactness ----
        exp_top = {}
        exp_serve = {}
        for r in gt["rows"]:
            a = exp_top.setdefault((r["protocol"], r["family"]), dict.fromkeys(FIELDS, 0))
            ls = frozenset({("comm", comm), ("protocol", PROTO_NAMES[r["protocol"]]),
                            ("family", FAMILY_NAMES[r["family"]]),
                            ("type", TYPE_NAMES[r["type"]])})
            b = exp_serve.setdefault(ls, dict.fromkeys(FIELDS, 0))
            for f in FIELDS:
                a[f] += r[f]
                b[f] += r[f]
        exact = []
        for k in sorted(set(exp_top) | set(reader.sums)):
            want = exp_top.get(k, dict.fromkeys(FIELDS, 0))
            got = reader.sums.get(k, dict.fromkeys(FIELDS, 0))
            name = f"top {PROTO_NAMES.get(k[0], k[0])}/{FAMILY_NAMES.get(k[1], k[1])}"
            diffs = [f"{f} {got[f]} want {want[f]}" for f in FIELDS if got[f] != want[f]]
            if diffs:
                problems.append(f"{name}: " + ", ".join(diffs))
            exact.append((name, want, got))
        if reader.dropped:
            problems.append(f"top: {reader.dropped} updates dropped (kernel table full)")
        if reader.gaps:
            problems.append(f"top: {reader.gaps} snapshots not contiguous with the previous")
        problems += [f"top: {b}" for b in reader.bad]
        # pids wrap (pid_max), so compare the sets of distinct pids, not counts of processes
        forked_pids = set(gt["pids"])
        if reader.pids != forked_pids:
            problems.append(f"top: rows of {len(reader.pids)} distinct pids, the churn forked "
                            f"{len(forked_pids)}; not seen: "
                            f"{sorted(forked_pids - reader.pids)[:10]}, not forked: "
                            f"{sorted(reader.pids - forked_pids)[:10]}")
        for ls in sorted(set(exp_serve), key=sorted):
            want = exp_serve[ls]
            got = {}
            for f, metric in SERVE_NAMES.items():
                if f.endswith("errors"):  # per errno: sum them
                    got[f] = int(sum(v for (n, l), v in final.items() if n == metric and
                                     frozenset(x for x in l if x[0] != "errno") == ls))
                else:
                    got[f] = int(final.get((metric, ls), 0))
            name = "serve " + ",".join(f"{a}={b}" for a, b in sorted(ls) if a != "comm")
            diffs = [f"{f} {got[f]} want {want[f]}" for f in FIELDS if got[f] != want[f]]
            if diffs:
                problems.append(f"{name}: " + ", ".join(diffs))
            exact.append((name, want, got))
        extra = {l for (n, l) in final if n == "socktap_send_operations_total"} - set(exp_serve)
        if extra:
            problems.append(f"serve: label sets the churn did not make: "
                            f"{sorted(map(sorted, extra))[:3]}")
        kdrop = final.get(("socktap_kernel_updates_dropped_total", frozenset()), 0)
        if kdrop:
            problems.append(f"serve: socktap_kernel_updates_dropped_total {kdrop}")

        # ---- flatness ----
        flat = []
        empty = []
        for name, s in series.items():
            rss = s["rss"]
            a, b = thirds(rss)
            ma, mb = statistics.median(a), statistics.median(b)
            bound = max(RSS_SLACK_ABS / 1024, RSS_SLACK_REL * ma)
            ok = mb - ma <= bound
            flat.append((name, "VmRSS (KiB)", rss, ma, mb, ok))
            if not ok:
                problems.append(f"{name}: RSS grew: median {ma:.0f} KiB after warm-up, "
                                f"{mb:.0f} KiB in the last third (+{mb - ma:.0f} KiB, bound "
                                f"{bound:.0f})")
            fds = s["fds"]
            a, b = thirds(fds)
            ma, mb = statistics.median(a), statistics.median(b)
            rest = fds[int(len(fds) * WARMUP):]
            ok = ma == mb and all(abs(v - ma) <= FD_SLACK for v in rest)
            flat.append((name, "open fds", fds, ma, mb, ok))
            if not ok:
                problems.append(f"{name}: open fds not flat: medians {ma} -> {mb}, range "
                                f"{min(rest)}..{max(rest)}")
            for mname, slot in sorted(generations(s["maps"]).items()):
                run = [v for v in slot["run"] if v is not None]
                if not run:
                    continue
                a, b = thirds(run)
                ma, mb = max(a), max(b)
                ok = mb <= MAP_SLACK_REL * ma + MAP_SLACK_ABS
                info = map_info[(name, mname.split("+")[0])]
                if info["max_entries"] <= 1:  # a table this mode does not use (resized away)
                    continue
                if not any(slot["run"]) and not slot["idle"] and not slot["end"]:
                    empty.append(f"{name}:{mname}")
                    continue
                lru = info["type"].startswith("lru")
                idle, end = slot["idle"], slot["end"]
                drained = lru or idle is None or end is None or end <= idle + MAP_IDLE_SLACK
                flat.append((name, f"map {mname} ({info['type']}, max {info['max_entries']})",
                             [idle] + run + [end], ma, mb, ok and drained))
                if not ok:
                    problems.append(f"{name}: map {mname} entries grew: at most {ma} in the "
                                    f"first third after warm-up, {mb} in the last")
                if not drained:
                    problems.append(f"{name}: map {mname} holds {end} entries after the churn "
                                    f"stopped, {idle} before it started")
            for mname, slot in sorted(s["maps"].items()):
                info = map_info[(name, mname)]
                peak = max([v for v in slot["run"] if v is not None] or [0])
                if info["max_entries"] > 1 and peak >= info["max_entries"]:
                    problems.append(f"{name}: map {mname} was full ({peak} entries)")
        uncounted = sorted({f"{n}:{m} ({info['type']})" for (n, m), info in map_info.items()
                            if info["type"] not in ITERABLE and "array" not in info["type"]
                            and info["type"] != "ringbuf"})

        # ---- the report ----
        forked = gt["forked"]
        lines = [
            "# socktap soak test",
            "",
            "Generated by `make soak` (`tests/soak/run.py`); not part of `make check`.",
            "`socktap top -F json -i {0:g}` and `socktap serve` ran side by side, both with "
            "`--cgroup` on the churn's own cgroup, while `tests/soak/churn.c` forked "
            "short-lived processes; each made a connected UDP pair over 127.0.0.1 and one "
            "over ::1 (a few datagrams each way, one failing receive: EAGAIN), a TCP "
            "connection over 127.0.0.1 and unix stream and datagram socketpairs, and "
            "recorded every call's result.".format(args.interval),
            "",
            f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; kernel "
            f"{platform.release()}; {os.cpu_count()} CPUs shared with other jobs (load "
            f"average {' '.join(load_start)} at the start, {' '.join(load_end)} at the end).",
            f"- Churn: {churn_secs:.0f} s, {forked} processes ({forked / churn_secs:.0f}/s; "
            f"asked for {args.rate:g}/s), {gt['sockets']} sockets, "
            f"{sum(r['sends'] + r['recvs'] for r in gt['rows'])} successful operations, "
            f"{sum(r['send_errors'] + r['recv_errors'] for r in gt['rows'])} failed, "
            f"{sum(r['send_bytes'] + r['recv_bytes'] for r in gt['rows'])} bytes moved "
            f"(sent + received).",
            f"- top: {reader.snapshots} snapshots, at most {reader.max_rows} rows in one, "
            f"rows of {len(reader.pids)} distinct pids (the churn forked {len(gt['pids'])} "
            f"distinct pids: pid_max wraps), {reader.dropped} dropped. serve: "
            f"{len(scrapes) + 1} scrapes.",
            f"- Result: **{'PASS' if not problems else 'FAIL'}**.",
            "",
        ]
        if problems:
            lines += ["## Problems", ""] + [f"- {p}" for p in problems] + [""]
        lines += ["## Exactness (the churn's own counts = want)", "",
                  "| counted by | " + " | ".join(FIELDS) + " |",
                  "|---|" + "---|" * len(FIELDS)]
        for name, want, got in exact:
            cells = [str(got[f]) if got[f] == want[f] else f"**{got[f]}** (want {want[f]})"
                     for f in FIELDS]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += ["", "## Flatness", "",
                  f"Samples every {sample_every:g} s; the first {WARMUP:.0%} are warm-up. "
                  "Map series: the idle count before the churn, the samples during it, the "
                  "count after it stopped. RSS and fds: medians of the first and last third "
                  "after warm-up; maps: their largest samples (NAME0+1: both generations "
                  "of a per-interval table, summed). The "
                  "criteria are in tests/soak/run.py (FLAT).", "",
                  "| process | metric | start | min | max | end | first third | "
                  "last third | flat |", "|---|---|---|---|---|---|---|---|---|"]
        for name, metric, vals, ma, mb, ok in flat:
            v = [x for x in vals if x is not None]
            lines.append(f"| {name} | {metric} | {v[0]} | {min(v)} | {max(v)} | {v[-1]} | "
                         f"{ma:g} | {mb:g} | {'yes' if ok else '**no**'} |")
        if empty:
            lines += ["", "Maps that held no entry in any sample: " + ", ".join(empty) + "."]
        if uncounted:
            lines += ["", "Not counted (their entries cannot be walked from user space; task "
                      "storage lives and dies with each task): " + ", ".join(uncounted) + "."]
        rss_series = scrapes and [s.get("process_resident_memory_bytes") for s in scrapes]
        if rss_series:
            lines += ["", f"serve's own `process_resident_memory_bytes`: "
                      f"{rss_series[0] / MiB:.1f} MiB at the first scrape, "
                      f"{rss_series[-1] / MiB:.1f} MiB at the last; `socktap_series` "
                      f"{scrapes[-1].get('socktap_series')}."]
        text = "\n".join(lines) + "\n"
        if args.report:
            with open(args.report, "w") as f:
                f.write(text)
        print(text)
        for p in problems:
            print(f"soak: FAIL: {p}", file=sys.stderr)
        return 1 if problems else 0
    finally:
        stop_group(churn, signal.SIGKILL)
        for p in procs.values():
            stop_group(p)
        for _ in range(50):  # the cgroup empties once every churn process is reaped
            try:
                os.rmdir(mnt + rel)
                break
            except OSError:
                time.sleep(0.1)
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as e:
        print(f"soak: interrupted ({e or 'Ctrl-C'}); everything it started is stopped",
              file=sys.stderr)
        sys.exit(130)
