#!/usr/bin/env python3
"""socktap top tests: run the traffic generator (tests/top/traffic.c) under
`socktap top` and compare what top counted with the generator's own ground
truth, exactly.

Usage:
  run.py --socktap build/socktap [--socktop build/socktop] [-k PATTERN]

Needs root (BPF, and the generator's private network namespace). Without root
it fails, unless SOCKTAP_ALLOW_SKIP=1 is set: then it prints "SKIP: needs root"
and exits 0. Output is TAP-like: `ok - NAME` or `not ok - NAME` followed by
`  # ` detail lines, then `# N passed, M failed`; the exit status is non-zero if
any subtest failed. -k picks subtests whose name contains PATTERN or matches it
as a glob. Python 3 standard library only; tmux for the terminal tests.

The rules (from README.md and include/socktap.h):
- Every successful send/receive that reached the protocol counts once, in the
  row of (pid = tgid, sk_protocol, sk_family); a failed one counts as an error.
  sendmmsg/recvmmsg count per message. The generator records each call's result
  per (protocol, family, type), so the expected rows are its sums.
- Histograms are log2: bucket 0 holds 0, bucket i >= 1 holds [2^(i-1), 2^i);
  JSON buckets carry lo, hi (exclusive) and count, only non-empty ones.
- Devices: per (ifindex, netns inode); xmit bytes are the skb length handed to
  the driver (loopback: + the 14-byte Ethernet header), receive bytes skb->len
  after the link header was pulled. lo's own counters count neither header.
- With -c, one last snapshot when the command ends, and top exits with the
  command's status; snapshots cover contiguous intervals.

Subtests: exact counts (one snapshot over the whole command: every row, comm,
uid, names), the exit status, histograms (size per process and per protocol,
latency counts), filters (-P -n -f -t -u, repeated and combined; --cgroup, --addr),
--by connection (rows per pid, protocol and both ends: TCP 127.0.0.2 -> 127.0.0.3,
unconnected UDP per destination/source, unix paths; in one snapshot and over -i 0.5
with connections closing mid-interval) and --by cgroup (rows, cgroup_id, container;
traffic.c's addrs mode moves its children into cgroups run.py makes), devices (lo
in a private network namespace against lo's own statistics), intervals
(-i 0.5 over a slow run, -i 0.1 under constant load, -C, -x), -N/-s, overflow
of the kernel's table (rows + dropped account for every operation), bad input,
write errors, the text table, socktop (layout byte for byte, counts, errors,
usage) and the live view in tmux (keys, pause, and the terminal restored after
q, the command's end, SIGTERM and Ctrl-C).
"""
import argparse
import collections
import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TRAFFIC_SRC = os.path.join(HERE, "traffic.c")
TRAFFIC = os.path.join("build", "tests", "traffic")

PROTO_NAMES = {0: "IP", 6: "TCP", 17: "UDP"}
FAMILY_NAMES = {1: "LOCAL", 2: "INET", 10: "INET6"}
SOCK_DGRAM, SOCK_STREAM, SOCK_SEQPACKET = 2, 1, 5
COUNT_FIELDS = ("sends", "recvs", "send_bytes", "recv_bytes", "send_errors", "recv_errors")
ETH_HLEN = 14
TIMEOUT = 60

# ---- reporting ----


class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def report(self, name, problems, notes=()):
        for n in notes:
            print(f"# {name}: {n}")
        if problems:
            self.failed += 1
            print(f"not ok - {name}")
            for p in problems[:40]:
                for line in str(p).splitlines():
                    print(f"  # {line}")
            if len(problems) > 40:
                print(f"  # ... and {len(problems) - 40} more")
        else:
            self.passed += 1
            print(f"ok - {name}")
        sys.stdout.flush()


class Skip(Exception):
    pass


# ---- running things ----


def run(argv, timeout=TIMEOUT, **kw):
    """Run argv (from ROOT); returns (rc, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout, text=True, **kw)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr
        return None, out or "", (err or "") + f"\n[timed out after {timeout} s]", timeout
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


class TopRun:
    """`socktap top ARGS -F json -o FILE -c "traffic MODE out=GT"`: snapshots and ground truth."""

    def __init__(self, ctx, args, mode="", fmt="json", timeout=TIMEOUT):
        self.tmp = tempfile.mkdtemp(prefix="socktap-top-")
        gt_path = os.path.join(self.tmp, "gt.json")
        out_path = os.path.join(self.tmp, "top.out")
        command = " ".join([TRAFFIC] + mode.split() + [f"out={gt_path}"])
        self.argv = [ctx.socktap, "top"] + args + ["-F", fmt, "-o", out_path, "-c", command]
        self.wall_start = time.time_ns()
        self.rc, self.stdout, self.stderr, self.secs = run(self.argv, timeout=timeout)
        self.wall_end = time.time_ns()
        self.output = open(out_path).read() if os.path.exists(out_path) else ""
        self.gt = None
        if os.path.exists(gt_path):
            with open(gt_path) as f:
                self.gt = json.load(f)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.snapshots, self.bad_lines = [], []
        if fmt == "json":
            for line in self.output.splitlines():
                try:
                    self.snapshots.append(json.loads(line))
                except ValueError:
                    self.bad_lines.append(line)

    def cmdline(self):
        return shlex.join(self.argv)

    def basic_problems(self):
        """The run itself: exit status, ground truth, parseable output."""
        p = []
        if self.rc is None:
            p.append(f"{self.cmdline()}: timed out; stderr: {self.stderr.strip()[-500:]}")
        elif self.rc != 0:
            p.append(f"{self.cmdline()}: exit status {self.rc}, want 0 (the command's); "
                     f"stderr: {self.stderr.strip()[-500:]}")
        if self.gt is None:
            p.append("the traffic generator wrote no ground truth")
        elif not self.gt["ok"]:
            bad = [pr for pr in self.gt["processes"] if pr["status"] or not pr["report"]]
            p.append(f"the traffic generator failed: {json.dumps(bad)[:500]}; stderr: "
                     f"{self.stderr.strip()[-500:]}")
        for line in self.bad_lines[:3]:
            p.append(f"output line is not JSON: {line[:200]!r}")
        return p


# ---- the ground truth ----


def gt_reports(gt):
    return [pr["report"] for pr in gt["processes"] if pr["report"]]


def gt_comm(gt):
    """pid -> comm, for every process of the generator (the parent included)."""
    m = {gt["pid"]: gt["comm"]}
    for r in gt_reports(gt):
        m[r["pid"]] = r["comm"]
    return m


def gt_any_comm(gt):
    """pid -> the comms of its threads: where a check is about something else than which
    thread's comm a row shows, any of them passes (the "exact counts" subtest is strict)."""
    m = {gt["pid"]: {gt["comm"]}}
    for r in gt_reports(gt):
        m[r["pid"]] = {r["comm"], *r.get("thread_comms", [])}
    return m


def expected_rows(gt, keep=lambda comm, row: True):
    """(pid, protocol, family) -> counts, for the generator's rows that keep() selects."""
    exp = {}
    for r in gt_reports(gt):
        for row in r["rows"]:
            if not keep(r["comm"], row):
                continue
            k = (r["pid"], row["protocol"], row["family"])
            e = exp.setdefault(k, dict.fromkeys(COUNT_FIELDS, 0))
            for f in COUNT_FIELDS:
                e[f] += row[f]
    return exp


def bucket(v):
    return v.bit_length()  # 0 -> 0; [2^(i-1), 2^i) -> i


def bucket_lo_hi(i):
    return (0, 1) if i == 0 else (1 << (i - 1), 1 << i)


def expected_hists(gt, by):
    """(key, dir) -> {bucket: count} from the sizes the generator moved."""
    exp = collections.defaultdict(collections.Counter)
    for r in gt_reports(gt):
        for row in r["rows"]:
            key = r["pid"] if by == "process" else row["protocol"]
            for d, sizes in (("send", row["send_sizes"]), ("recv", row["recv_sizes"])):
                for s in sizes:
                    exp[(key, d)][bucket(s)] += 1
    return exp


# ---- comparisons ----


def row_name(k, comm=None):
    pid, proto, fam = k
    c = f" {comm}" if comm else ""
    return (f"pid {pid}{c} {PROTO_NAMES.get(proto, proto)}/"
            f"{FAMILY_NAMES.get(fam, fam)}")


def actual_rows(snapshots, problems):
    """(pid, protocol, family) -> summed counts over snapshots; a key twice in one snapshot is a
    problem."""
    act = {}
    for n, s in enumerate(snapshots):
        seen = set()
        for p in s.get("processes", []):
            k = (p["pid"], p["protocol"], p["family"])
            if k in seen:
                problems.append(f"snapshot {n}: {row_name(k)} appears twice")
            seen.add(k)
            a = act.setdefault(k, dict.fromkeys(COUNT_FIELDS, 0))
            for f in COUNT_FIELDS:
                a[f] += p.get(f, 0)
    return act


def compare_rows(exp, act, comms):
    """Exact comparison of expected and actual rows; returns problem lines."""
    p = []
    for k in sorted(set(exp) | set(act)):
        name = row_name(k, comms.get(k[0]))
        if k not in act:
            p.append(f"{name}: missing; want {fmt_counts(exp[k])}")
        elif k not in exp:
            if any(act[k].values()):
                who = "a process of the generator" if k[0] in comms else "not the generator's"
                p.append(f"{name}: unexpected row ({who}): {fmt_counts(act[k])}")
        else:
            diffs = [f"{f} got {act[k][f]} want {exp[k][f]}" for f in COUNT_FIELDS
                     if act[k][f] != exp[k][f]]
            if diffs:
                p.append(f"{name}: " + ", ".join(diffs))
    return p


def fmt_counts(c):
    return " ".join(f"{f}={c[f]}" for f in COUNT_FIELDS)


def check_row_identity(snapshots, comms, any_comm=None):
    """comm, uid/user and names of every row of the generator's processes. comms: pid -> the
    comm of the process's first counted operation; with any_comm (pid -> comms), any comm one
    of its threads had passes."""
    p = []
    uid = os.getuid()
    for n, s in enumerate(snapshots):
        for r in s.get("processes", []):
            k = (r["pid"], r["protocol"], r["family"])
            want = comms.get(r["pid"])
            if any_comm and r.get("comm") in any_comm.get(r["pid"], ()):
                pass
            elif want is not None and r.get("comm") != want:
                p.append(f"snapshot {n}: {row_name(k)}: comm {r.get('comm')!r}, want {want!r} "
                         "(the comm of the process's first counted operation; its other "
                         "threads run on other CPUs)")
            if r.get("uid") != uid:
                p.append(f"snapshot {n}: {row_name(k)}: uid {r.get('uid')}, want {uid}")
            if uid == 0 and r.get("user") != "root":
                p.append(f"snapshot {n}: {row_name(k)}: user {r.get('user')!r}, want 'root'")
            for f, names in (("protocol", PROTO_NAMES), ("family", FAMILY_NAMES)):
                want_name = names.get(r[f])
                if want_name and r.get(f + "_name") != want_name:
                    p.append(f"snapshot {n}: {row_name(k)}: {f}_name {r.get(f + '_name')!r}, "
                             f"want {want_name!r}")
    return p


CONN_KEYS = {"pid", "comm", "protocol_name", "family_name", "laddr", "lport", "raddr",
             "rport"} | set(COUNT_FIELDS)
CGROUP_KEYS = {"cgroup", "cgroup_id", "container"} | set(COUNT_FIELDS)


def check_snapshot_keys(s, n, by=None):
    """The snapshot's keys: the base set, plus "connections" (--by connection) or "cgroups"
    (--by cgroup), which other views may carry too."""
    p = []
    want = {"ts_start", "ts_end", "dropped", "processes", "devices", "histograms"}
    extra = {"connections": "connection", "cgroups": "cgroup"}
    if not want <= set(s) or set(s) - want - set(extra):
        p.append(f"snapshot {n}: keys {sorted(s)}, want {sorted(want)} (and connections, "
                 f"cgroups)")
    for k, view in extra.items():
        if by == view and not isinstance(s.get(k), list):
            p.append(f"snapshot {n}: --by {view} without a {k!r} list: {sorted(s)}")
    proc_keys = {"pid", "uid", "user", "comm", "protocol", "protocol_name", "family",
                 "family_name"} | set(COUNT_FIELDS)
    for r in s.get("processes", [])[:1]:
        if set(r) != proc_keys:
            p.append(f"snapshot {n}: process keys {sorted(r)}, want {sorted(proc_keys)}")
    if s.get("dropped") != 0:
        p.append(f"snapshot {n}: dropped {s.get('dropped')}, want 0")
    return p


def check_window(run, s):
    """The snapshot's interval covers the generator's whole run."""
    gt = run.gt
    p = []
    if not (s["ts_start"] <= gt["t_start"] and s["ts_end"] >= gt["t_end"]):
        p.append(f"snapshot [ts_start {s['ts_start']}, ts_end {s['ts_end']}] does not cover the "
                 f"command's run [{gt['t_start']}, {gt['t_end']}] (CLOCK_REALTIME ns): "
                 f"starts {(s['ts_start'] - gt['t_start']) / 1e6:+.3f} ms, ends "
                 f"{(s['ts_end'] - gt['t_end']) / 1e6:+.3f} ms from it")
    if not (run.wall_start <= s["ts_start"] <= s["ts_end"] <= run.wall_end):
        p.append(f"snapshot [{s['ts_start']}, {s['ts_end']}] not within socktap's run "
                 f"[{run.wall_start}, {run.wall_end}]")
    return p


# ---- subtests ----

TESTS = []


def subtest(name):
    def deco(fn):
        TESTS.append((name, fn))
        return fn
    return deco


@subtest("exact counts")
def t_exact(ctx):
    r = TopRun(ctx, ["-i", "60"])
    p = r.basic_problems()
    if r.gt is None:
        return p
    if len(r.snapshots) != 1:
        p.append(f"{len(r.snapshots)} snapshots, want exactly 1 (-i 60 with -c: the last one)")
    comms = gt_comm(r.gt)
    for n, s in enumerate(r.snapshots):
        p += check_snapshot_keys(s, n)
    if r.snapshots:
        p += check_window(r, r.snapshots[-1])
    p += compare_rows(expected_rows(r.gt), actual_rows(r.snapshots, p), comms)
    p += check_row_identity(r.snapshots, comms)
    short = [x["pid"] for x in gt_reports(r.gt) if x["comm"] == "tt-short"]
    if not any(row["pid"] in short for s in r.snapshots for row in s["processes"]):
        p.append(f"the short-lived process (pid {short}) is missing")
    if any(s["devices"] for s in r.snapshots):
        p.append(f"devices without -d: {r.snapshots[0]['devices'][:3]}")
    if any(s["histograms"] for s in r.snapshots):
        p.append("histograms without --hist")
    return p


# ---- --by connection and --by cgroup (traffic addrs) ----


def conn_name(k):
    pid, proto, fam, la, lp, ra, rp = k
    end = lambda a, pt: "-" if a is None else (a if pt is None else
                                               (f"[{a}]:{pt}" if ":" in a else f"{a}:{pt}"))
    return f"pid {pid} {proto}/{fam} {end(la, lp)} -> {end(ra, rp)}"


def expected_conns(gt, keep=lambda comm, conn: True):
    """(pid, protocol_name, family_name, laddr, lport, raddr, rport) -> counts."""
    exp = {}
    for r in gt_reports(gt):
        for c in r.get("conns", []):
            if not keep(r["comm"], c):
                continue
            k = (r["pid"], PROTO_NAMES.get(c["protocol"], c["protocol"]),
                 FAMILY_NAMES.get(c["family"], c["family"]), c["laddr"], c["lport"], c["raddr"],
                 c["rport"])
            e = exp.setdefault(k, dict.fromkeys(COUNT_FIELDS, 0))
            for f in COUNT_FIELDS:
                e[f] += c[f]
    return exp


def actual_keyed(snapshots, table, key, name, problems):
    """key(row) -> counts summed over snapshots; a key twice in one snapshot is a problem."""
    act = {}
    for n, s in enumerate(snapshots):
        seen = set()
        for r in s.get(table, []) or []:
            k = key(r)
            if k in seen:
                problems.append(f"snapshot {n}: {table} row {name(k)} appears twice")
            seen.add(k)
            a = act.setdefault(k, dict.fromkeys(COUNT_FIELDS, 0))
            for f in COUNT_FIELDS:
                a[f] += r.get(f, 0) or 0
    return act


def compare_keyed(exp, act, name, mine=lambda k: True):
    """Exact: every expected row with its counts; no other row of the generator's with counts."""
    p = []
    for k in sorted(set(exp) | set(act), key=str):
        if k not in act:
            p.append(f"{name(k)}: missing; want {fmt_counts(exp[k])}")
        elif k not in exp:
            if any(act[k].values()):
                p.append(f"{name(k)}: unexpected row{'' if mine(k) else ' (not the generator)'}"
                         f": {fmt_counts(act[k])}")
        else:
            diffs = [f"{f} got {act[k][f]} want {exp[k][f]}" for f in COUNT_FIELDS
                     if act[k][f] != exp[k][f]]
            if diffs:
                p.append(f"{name(k)}: " + ", ".join(diffs))
    return p


def conn_key(r):
    return (r.get("pid"), r.get("protocol_name"), r.get("family_name"), r.get("laddr"),
            r.get("lport"), r.get("raddr"), r.get("rport"))


def conn_identity(snapshots, gt):
    """Every connection row of the generator: its keys and its comm."""
    p, notes = [], []
    comms = gt_comm(gt)
    extra = set()
    for n, s in enumerate(snapshots):
        for r in s.get("connections", []) or []:
            missing = CONN_KEYS - set(r)
            if missing:
                p.append(f"snapshot {n}: connection row without {sorted(missing)}: {r}")
            extra |= set(r) - CONN_KEYS
            want = comms.get(r.get("pid"))
            if want and r.get("comm") != want:
                p.append(f"snapshot {n}: {conn_name(conn_key(r))}: comm {r.get('comm')!r}, "
                         f"want {want!r}")
    if extra:
        notes.append(f"connection rows also carry {sorted(extra)}")
    return notes, p


@subtest("--by connection: exact rows (TCP 127.0.0.2 -> 127.0.0.3, unconnected UDP to two "
         "destinations, unix), every socket closed before the snapshot")
def t_by_connection(ctx):
    r = TopRun(ctx, ["-i", "60", "--by", "connection"], mode="addrs")
    p = r.basic_problems()
    if r.gt is None:
        return p
    if len(r.snapshots) != 1:
        p.append(f"{len(r.snapshots)} snapshots, want exactly 1 (-i 60 with -c: the last one)")
    for n, s in enumerate(r.snapshots):
        p += check_snapshot_keys(s, n, by="connection")
    if r.snapshots:
        p += check_window(r, r.snapshots[-1])
    pids = set(gt_comm(r.gt))
    p += compare_keyed(expected_conns(r.gt),
                       actual_keyed(r.snapshots, "connections", conn_key, conn_name, p),
                       conn_name, lambda k: k[0] in pids)
    notes, ip = conn_identity(r.snapshots, r.gt)
    if "processes" in (r.snapshots[0] if r.snapshots else {}) and r.snapshots[0]["processes"]:
        # the process rows are the same traffic: still exact
        p += compare_rows(expected_rows(r.gt), actual_rows(r.snapshots, p), gt_comm(r.gt))
    return notes, p + ip


@subtest("--by connection: -i 0.5 over a 2 s run: connections closed in an interval are in "
         "its snapshot, and the snapshots sum to the ground truth")
def t_by_connection_intervals(ctx):
    r = TopRun(ctx, ["-i", "0.5", "--by", "connection"], mode="addrs slow dur=2")
    p = r.basic_problems()
    if r.gt is None:
        return p
    if len(r.snapshots) < 3:
        p.append(f"{len(r.snapshots)} snapshots, want at least 3")
    exp = expected_conns(r.gt)
    pids = set(gt_comm(r.gt))
    p += compare_keyed(exp, actual_keyed(r.snapshots, "connections", conn_key, conn_name, p),
                       conn_name, lambda k: k[0] in pids)
    # each round's TCP connection lives a few milliseconds: its rows must sit in one snapshot
    split = collections.Counter()
    for s in r.snapshots:
        for row in s.get("connections", []) or []:
            if conn_key(row) in exp and row.get("protocol_name") == "TCP":
                split[conn_key(row)] += 1
    spread = [k for k, c in split.items() if c > 1]
    notes = [f"{len(r.snapshots)} snapshots, {len(exp)} connection rows expected; "
             f"{len(spread)} TCP rows spread over more than one snapshot"]
    tcp = [k for k in exp if k[1] == "TCP"]
    if len(tcp) < 4:
        p.append(f"only {len(tcp)} TCP connection rows in the ground truth (slow: 10 rounds)")
    return notes, p


def make_cgroups(n_hex):
    """<mount>/socktap-top-PID/{tcp.slice, system.slice/docker-HEX.scope, unix}: (mount,
    {role: relative path}); raises Skip without cgroup2."""
    mnt = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            if "-" in parts and parts[parts.index("-") + 1:][:1] == ["cgroup2"]:
                mnt = parts[4]
                break
    if not mnt:
        raise Skip("no cgroup2 mount in /proc/self/mountinfo")
    base = f"/socktap-top-{os.getpid()}"
    rel = {"tcp": f"{base}/tcp.slice", "udp": f"{base}/system.slice/docker-{n_hex}.scope",
           "unix": f"{base}/unix"}
    for r in rel.values():
        os.makedirs(mnt + r, exist_ok=True)
    return mnt, base, rel


def remove_cgroups(mnt, base, rel):
    """Move any process left back to the root cgroup of the mount, rmdir deepest first."""
    dirs = sorted({mnt + r for r in rel.values()} | {mnt + base + "/system.slice", mnt + base},
                  key=len, reverse=True)
    left = []
    for d in dirs:
        for _ in range(50):
            try:
                pids = open(os.path.join(d, "cgroup.procs")).read().split()
            except FileNotFoundError:
                break
            for pid in pids:
                try:
                    with open(os.path.join(mnt, "cgroup.procs"), "w") as f:
                        f.write(pid)
                except OSError:
                    pass
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
        else:
            left.append(d)
    return left


def cgroup_mode(mnt, rel):
    return "addrs " + " ".join(f"cg:{role}={mnt}{path}" for role, path in rel.items())


def expected_cgroups(gt, mnt, rel):
    """cgroup path -> (its identity, counts): each child's rows summed, in its cgroup."""
    by_role = {r["role"]: r for r in gt_reports(gt)}
    exp, ident = {}, {}
    for role, path in rel.items():
        rep = by_role.get(role)
        if rep is None:
            continue
        c = exp.setdefault(path, dict.fromkeys(COUNT_FIELDS, 0))
        for row in rep["rows"]:
            for f in COUNT_FIELDS:
                c[f] += row[f]
        m = re.match(r"^docker-([0-9a-f]{64})\.scope$", path.rsplit("/", 1)[-1])
        ident[path] = {"cgroup_id": os.stat(mnt + path).st_ino,
                       "container": m.group(1) if m else None}
    return exp, ident


@subtest("--by cgroup: exact rows, cgroup_id and container (one child in a docker-style scope)")
def t_by_cgroup(ctx):
    hexid = os.urandom(32).hex()
    mnt, base, rel = make_cgroups(hexid)
    p, notes = [], []
    try:
        r = TopRun(ctx, ["-i", "60", "--by", "cgroup"], mode=cgroup_mode(mnt, rel))
        p += r.basic_problems()
        if r.gt is None:
            return p
        for n, s in enumerate(r.snapshots):
            p += check_snapshot_keys(s, n, by="cgroup")
        moved = {x["role"]: x.get("cgroup") for x in gt_reports(r.gt)}
        if any(moved.get(role) != mnt + path for role, path in rel.items()):
            p.append(f"the children did not all move into their cgroups: {moved}")
        exp, ident = expected_cgroups(r.gt, mnt, rel)
        act = actual_keyed(r.snapshots, "cgroups", lambda x: x.get("cgroup"), str, p)
        p += compare_keyed(exp, act, lambda k: f"cgroup {k}", lambda k: str(k).startswith(base))
        extra = set()
        for n, s in enumerate(r.snapshots):
            for row in s.get("cgroups", []) or []:
                missing = CGROUP_KEYS - set(row)
                if missing:
                    p.append(f"snapshot {n}: cgroup row without {sorted(missing)}: {row}")
                extra |= set(row) - CGROUP_KEYS
                want = ident.get(row.get("cgroup"))
                if want:
                    got = {k: row.get(k) for k in want}
                    if got != want:
                        p.append(f"snapshot {n}: cgroup {row.get('cgroup')}: {got}, want {want}")
        if extra:
            notes.append(f"cgroup rows also carry {sorted(extra)}")
    finally:
        left = remove_cgroups(mnt, base, rel)
        if left:
            p.append(f"could not remove the cgroups {left}")
    return notes, p


@subtest("filters: --cgroup (the docker-style scope) and --addr 127.0.0.3 --by connection")
def t_addr_cgroup_filters(ctx):
    hexid = os.urandom(32).hex()
    mnt, base, rel = make_cgroups(hexid)
    p = []
    try:
        r = TopRun(ctx, ["-i", "60", "--cgroup", rel["udp"]], mode=cgroup_mode(mnt, rel))
        p += [f"--cgroup: {x}" for x in r.basic_problems()]
        if r.gt is not None:
            p += [f"--cgroup: {x}" for x in compare_rows(
                expected_rows(r.gt, lambda comm, row: comm == "ta-udp"),
                actual_rows(r.snapshots, p), gt_comm(r.gt))]
        # --cgroup of a parent: the children below it, all three
        r = TopRun(ctx, ["-i", "60", "--cgroup", mnt + base], mode=cgroup_mode(mnt, rel))
        p += [f"--cgroup {mnt + base}: {x}" for x in r.basic_problems()]
        if r.gt is not None:
            p += [f"--cgroup {mnt + base}: {x}" for x in compare_rows(
                expected_rows(r.gt), actual_rows(r.snapshots, p), gt_comm(r.gt))]
    finally:
        left = remove_cgroups(mnt, base, rel)
        if left:
            p.append(f"could not remove the cgroups {left}")
    for args, keep in ((["--addr", "127.0.0.3"],
                        lambda comm, c: "127.0.0.3" in (c["laddr"], c["raddr"])),
                       (["--addr", "127.0.0.2/31", "-P", "UDP"],
                        lambda comm, c: c["protocol"] == 17 and
                        bool({"127.0.0.2", "127.0.0.3"} & {c["laddr"], c["raddr"]}))):
        r = TopRun(ctx, ["-i", "60", "--by", "connection"] + args, mode="addrs")
        tag = " ".join(args)
        p += [f"{tag}: {x}" for x in r.basic_problems()]
        if r.gt is None:
            continue
        pids = set(gt_comm(r.gt))
        p += [f"{tag}: {x}" for x in compare_keyed(
            expected_conns(r.gt, keep),
            actual_keyed(r.snapshots, "connections", conn_key, conn_name, p), conn_name,
            lambda k: k[0] in pids)]
    return p


@subtest("exit status of the command")
def t_status(ctx):
    p = []
    rc, out, err, _ = run([ctx.socktap, "top", "-F", "json", "-i", "60", "-c",
                           f"{TRAFFIC} no-such-mode"])
    if rc != 2:
        p.append(f"traffic exits 2 on a bad argument; socktap top -c exited {rc}: {err.strip()}")
    lines = [x for x in out.splitlines() if x.startswith("{")]
    if len(lines) != 1:
        p.append(f"{len(lines)} snapshots after the command ended, want 1")
    rc, out, err, _ = run([ctx.socktap, "top", "-F", "json", "-i", "60", "-c", "sh -c 'kill $$'"])
    if rc != 128 + signal.SIGTERM:
        p.append(f"a command killed by SIGTERM: socktap top -c exited {rc}, want "
                 f"{128 + signal.SIGTERM}: {err.strip()}")
    return p


def hist_problems(r, by, kinds):
    """Size histograms equal to the ground truth's; latency ones count every success."""
    p = []
    hists = [h for s in r.snapshots for h in s["histograms"]]
    comms = gt_comm(r.gt)
    any_comm = gt_any_comm(r.gt)
    exp_rows = expected_rows(r.gt)
    want_kinds = set(kinds)
    seen = collections.Counter()
    for h in hists:
        key, d, kind = h.get("key"), h.get("dir"), h.get("kind")
        label = f"{kind} {d} {by} {key}"
        seen[(kind, key, d)] += 1
        if kind not in want_kinds:
            p.append(f"{label}: histogram kind {kind!r} not asked for")
        if h.get("by") != by:
            p.append(f"{label}: by {h.get('by')!r}, want {by!r}")
        if by == "process" and h.get("comm") not in any_comm.get(key, ()):
            p.append(f"{label}: comm {h.get('comm')!r}, want {comms.get(key)!r}")
        total = 0
        for b in h.get("buckets", []):
            lo, hi, c = b["lo"], b["hi"], b["count"]
            i = bucket(lo)
            if bucket_lo_hi(i) != (lo, hi):
                p.append(f"{label}: bucket [{lo}, {hi}) is not a log2 bucket "
                         f"(want [{bucket_lo_hi(i)[0]}, {bucket_lo_hi(i)[1]}))")
            if c <= 0:
                p.append(f"{label}: empty bucket [{lo}, {hi}) listed")
            total += c
        if total != h.get("count"):
            p.append(f"{label}: count {h.get('count')} but buckets sum to {total}")
    for k, n in seen.items():
        if n > 1:
            p.append(f"histogram {k} appears {n} times")
    if "size" in want_kinds:
        exp = expected_hists(r.gt, by)
        act = collections.defaultdict(collections.Counter)
        for h in hists:
            if h.get("kind") == "size":
                for b in h["buckets"]:
                    act[(h["key"], h["dir"])][bucket(b["lo"])] += b["count"]
        for k in sorted(set(exp) | set(act)):
            if exp.get(k) != act.get(k):
                want = {f"[{bucket_lo_hi(i)[0]},{bucket_lo_hi(i)[1]})": c
                        for i, c in sorted(exp.get(k, {}).items())}
                got = {f"[{bucket_lo_hi(i)[0]},{bucket_lo_hi(i)[1]})": c
                       for i, c in sorted(act.get(k, {}).items())}
                name = comms.get(k[0], "") if by == "process" else PROTO_NAMES.get(k[0], "")
                p.append(f"size {k[1]} {by} {k[0]} {name}: buckets\n  got  {got}\n  want {want}")
    if "latency" in want_kinds:
        want = collections.Counter()
        for (pid, proto, _), c in exp_rows.items():
            key = pid if by == "process" else proto
            want[(key, "send")] += c["sends"]
            want[(key, "recv")] += c["recvs"]
        got = collections.Counter()
        for h in hists:
            if h.get("kind") == "latency":
                got[(h["key"], h["dir"])] += h["count"]
                for b in h["buckets"]:
                    if b["lo"] >= 10**10:
                        p.append(f"latency {h['dir']} {h['key']}: bucket [{b['lo']}, {b['hi']}) "
                                 "ns: over 10 s")
        for k in sorted(set(want) | set(got)):
            if want[k] != got[k] and (want[k] or got[k]):
                name = comms.get(k[0], "") if by == "process" else PROTO_NAMES.get(k[0], "")
                p.append(f"latency {k[1]} {by} {k[0]} {name}: {got[k]} operations, want "
                         f"{want[k]} (every successful {k[1]} came from a syscall)")
    return p


@subtest("histograms: --hist size")
def t_hist_size(ctx):
    r = TopRun(ctx, ["-i", "60", "--hist", "size"])
    p = r.basic_problems()
    if r.gt is None:
        return p
    p += compare_rows(expected_rows(r.gt), actual_rows(r.snapshots, p), gt_comm(r.gt))
    return p + hist_problems(r, "process", ["size"])


@subtest("histograms: --hist size --hist-by protocol")
def t_hist_proto(ctx):
    r = TopRun(ctx, ["-i", "60", "--hist", "size", "--hist-by", "protocol"])
    p = r.basic_problems()
    if r.gt is None:
        return p
    return p + hist_problems(r, "protocol", ["size"])


@subtest("histograms: --hist latency --hist size (both, per process)")
def t_hist_latency(ctx):
    r = TopRun(ctx, ["-i", "60", "--hist", "latency", "--hist", "size"])
    p = r.basic_problems()
    if r.gt is None:
        return p
    return p + hist_problems(r, "process", ["latency", "size"])


@subtest("histograms: --hist latency --hist-by protocol")
def t_hist_latency_proto(ctx):
    r = TopRun(ctx, ["-i", "60", "--hist", "latency", "--hist-by", "protocol"])
    p = r.basic_problems()
    if r.gt is None:
        return p
    return p + hist_problems(r, "protocol", ["latency"])


FILTERS = [
    (["-P", "UDP"], lambda c, r: r["protocol"] == 17),
    (["-P", "TCP", "-P", "UDP"], lambda c, r: r["protocol"] in (6, 17)),
    (["-P", "UDP", "-f", "INET6"], lambda c, r: r["protocol"] == 17 and r["family"] == 10),
    (["-n", "tt-tcp"], lambda c, r: c == "tt-tcp"),
    (["-n", "tt-unix", "-n", "tt-short"], lambda c, r: c in ("tt-unix", "tt-short")),
    (["-f", "UNIX"], lambda c, r: r["family"] == 1),
    (["-f", "LOCAL"], lambda c, r: r["family"] == 1),
    (["-t", "DGRAM"], lambda c, r: r["type"] == SOCK_DGRAM),
    (["-t", "SEQPACKET"], lambda c, r: r["type"] == SOCK_SEQPACKET),
    (["-u", "root"], lambda c, r: os.getuid() == 0),
    (["-u", "nobody"], lambda c, r: False),
]


def make_filter_test(args, keep):
    def t(ctx):
        r = TopRun(ctx, ["-i", "60"] + args)
        p = r.basic_problems()
        if r.gt is None:
            return p
        return p + compare_rows(expected_rows(r.gt, keep), actual_rows(r.snapshots, p),
                                gt_comm(r.gt))
    return t


for _args, _keep in FILTERS:
    subtest("filter " + " ".join(_args))(make_filter_test(_args, _keep))


@subtest("devices: -d in a private network namespace")
def t_devices(ctx):
    r = TopRun(ctx, ["-i", "60", "-d"], mode="netns")
    p = r.basic_problems()
    if r.gt is None:
        return p
    ns = r.gt["netns"]
    notes = []
    if any(ns["before"].values()):
        notes.append(f"lo had counts before the traffic: {ns['before']}")
    p += compare_rows(expected_rows(r.gt), actual_rows(r.snapshots, p), gt_comm(r.gt))
    devs = [d for s in r.snapshots for d in s["devices"] if d.get("netns") == ns["inode"]]
    if not devs:
        all_devs = [d for s in r.snapshots for d in s["devices"]]
        return p + [f"no device row with netns {ns['inode']}; devices: {all_devs[:8]}"]
    keys = {"name", "ifindex", "netns", "xmits", "recvs", "xmit_bytes", "recv_bytes"}
    if set(devs[0]) != keys:
        p.append(f"device keys {sorted(devs[0])}, want {sorted(keys)}")
    lo = [d for d in devs if d["name"] == "lo"]
    others = [d for d in devs if d["name"] != "lo"]
    if others:
        p.append(f"other devices in the generator's namespace: {others}")
    if len(lo) != 1:
        return p + [f"{len(lo)} rows for lo in netns {ns['inode']}, want 1: {lo}"]
    d, delta = lo[0], ns["delta"]
    if d["ifindex"] != ns["ifindex"]:
        p.append(f"lo ifindex {d['ifindex']}, want {ns['ifindex']}")
    want = {"recvs": delta["rx_packets"], "recv_bytes": delta["rx_bytes"],
            "xmits": delta["tx_packets"],
            "xmit_bytes": delta["tx_bytes"] + ETH_HLEN * delta["tx_packets"]}
    for f, w in want.items():
        if d[f] != w:
            p.append(f"lo {f}: got {d[f]}, want {w} (lo's statistics: {delta}; "
                     f"difference {d[f] - w:+d})")
    return notes, p


@subtest("intervals: -i 0.5 over a 2 s run sum to the ground truth")
def t_intervals(ctx):
    r = TopRun(ctx, ["-i", "0.5"], mode="slow dur=2")
    p = r.basic_problems()
    if r.gt is None:
        return p
    n = len(r.snapshots)
    if n < 2:
        p.append(f"{n} snapshots, want more than one")
    elif not 3 <= n <= 8:
        p.append(f"{n} snapshots for a ~{r.secs:.1f} s run at -i 0.5")
    p += compare_rows(expected_rows(r.gt), actual_rows(r.snapshots, p), gt_comm(r.gt))
    p += check_row_identity(r.snapshots, gt_comm(r.gt), gt_any_comm(r.gt))
    for i in range(1, n):
        a, b = r.snapshots[i - 1], r.snapshots[i]
        if b["ts_start"] != a["ts_end"]:
            p.append(f"snapshot {i} starts at {b['ts_start']}, the previous ended at "
                     f"{a['ts_end']} ({(b['ts_start'] - a['ts_end']) / 1e6:+.3f} ms): "
                     "intervals not contiguous")
    for i, s in enumerate(r.snapshots[:-1]):
        dt = (s["ts_end"] - s["ts_start"]) / 1e9
        if not 0.4 <= dt <= 0.75:
            p.append(f"snapshot {i} covers {dt:.3f} s, want about 0.5")
    if r.snapshots:
        first, last = r.snapshots[0], r.snapshots[-1]
        if first["ts_start"] > r.gt["t_start"] or last["ts_end"] < r.gt["t_end"]:
            p.append("the snapshots do not cover the command's run")
    busy = sum(1 for s in r.snapshots if s["processes"])
    notes = [f"{n} snapshots, {busy} with rows"]
    return notes, p


@subtest("intervals: -i 0.1 under constant load lose and double-count nothing")
def t_busy(ctx):
    r = TopRun(ctx, ["-i", "0.1", "--hist", "size"], mode="busy dur=2", timeout=120)
    p = r.basic_problems()
    if r.gt is None:
        return p
    n = len(r.snapshots)
    if n < 10:
        p.append(f"{n} snapshots for a ~2 s run at -i 0.1")
    p += compare_rows(expected_rows(r.gt), actual_rows(r.snapshots, p), gt_comm(r.gt))
    for i in range(1, n):
        a, b = r.snapshots[i - 1], r.snapshots[i]
        if b["ts_start"] != a["ts_end"]:
            p.append(f"snapshot {i}: starts {(b['ts_start'] - a['ts_end']) / 1e6:+.3f} ms from "
                     "the previous one's end")
    exp = expected_hists(r.gt, "process")
    act = collections.defaultdict(collections.Counter)
    for s in r.snapshots:
        for h in s["histograms"]:
            for b in h["buckets"]:
                act[(h["key"], h["dir"])][bucket(b["lo"])] += b["count"]
    for k in sorted(set(exp) | set(act)):
        if exp.get(k) != act.get(k):
            diff = {bucket_lo_hi(i)[0]: act[k][i] - exp[k][i]
                    for i in set(exp.get(k, {})) | set(act.get(k, {}))
                    if act[k][i] != exp[k][i]}
            p.append(f"size {k[1]} pid {k[0]}: summed buckets differ by {diff} (bucket lo: "
                     "got - want)")
    dropped = sum(s["dropped"] for s in r.snapshots)
    if dropped:
        p.append(f"dropped {dropped}")
    ops = sum(c["sends"] + c["recvs"] for c in expected_rows(r.gt).values())
    return [f"{n} snapshots, {ops} operations"], p


@subtest("intervals: -C 2 on the whole system")
def t_count_system(ctx):
    rc, out, err, secs = run([ctx.socktap, "top", "-F", "json", "-C", "2", "-i", "0.3"], timeout=20)
    p = []
    lines = out.splitlines()
    if rc != 0:
        p.append(f"exit status {rc}: {err.strip()}")
    if len(lines) != 2:
        p.append(f"{len(lines)} lines, want 2: {[x[:80] for x in lines]}")
    if not 0.5 <= secs <= 5:
        p.append(f"took {secs:.2f} s for 2 intervals of 0.3 s")
    for i, line in enumerate(lines):
        try:
            p += check_snapshot_keys(json.loads(line), i)
        except ValueError:
            p.append(f"line {i} is not JSON: {line[:200]!r}")
    return p


@subtest("intervals: -C 2 -x PID, and -x ends with its target")
def t_count_target(ctx):
    p = []
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        rc, out, err, secs = run([ctx.socktap, "top", "-F", "json", "-C", "2", "-i", "0.3", "-x",
                                  str(sleeper.pid)], timeout=20)
        lines = out.splitlines()
        if rc != 0:
            p.append(f"-C 2 -x: exit status {rc}: {err.strip()}")
        if len(lines) != 2:
            p.append(f"-C 2 -x: {len(lines)} lines, want 2")
        if sleeper.poll() is not None:
            p.append("-x killed its target")
    finally:
        sleeper.kill()
        sleeper.wait()
    notes = []
    # the target is reaped as soon as it exits (a thread waits for it)
    sleeper = subprocess.Popen(["sleep", "1"])
    reaper = threading.Thread(target=sleeper.wait)
    reaper.start()
    try:
        rc, out, err, secs = run([ctx.socktap, "top", "-F", "json", "-i", "60", "-x",
                                  str(sleeper.pid)], timeout=20)
        if rc is None or secs > 5:
            p.append(f"-x PID did not end when PID exited (ran {secs:.1f} s, status {rc})")
        notes.append(f"-x PID, PID exited and reaped: status {rc}, {len(out.splitlines())} "
                     f"snapshot(s) after {secs:.1f} s")
    finally:
        sleeper.kill()
        reaper.join()
    # a target that exited but is not reaped yet (a zombie): informational only
    sleeper = subprocess.Popen(["sleep", "0.5"])
    try:
        rc, out, err, secs = run([ctx.socktap, "top", "-F", "json", "-i", "60", "-x",
                                  str(sleeper.pid)], timeout=4)
        notes.append(f"-x PID, PID exited but not reaped (zombie): "
                     f"{'still running after 4 s' if rc is None else f'ended after {secs:.1f} s'}")
    finally:
        sleeper.kill()
        sleeper.wait()
    return notes, p


@subtest("-N and -s: the busiest rows")
def t_rows(ctx):
    p = []
    for args, field in ((["-N", "2"], "bytes"), (["-N", "3", "-s", "sends"], "sends"),
                        (["-N", "2", "-s", "errors"], "errors")):
        r = TopRun(ctx, ["-i", "60"] + args)
        p += r.basic_problems()
        if r.gt is None or len(r.snapshots) != 1:
            continue
        exp = expected_rows(r.gt)

        def weight(c):
            if field == "bytes":
                return c["send_bytes"] + c["recv_bytes"]
            if field == "errors":
                return c["send_errors"] + c["recv_errors"]
            return c[field]
        n = int(args[1])
        ranked = sorted(exp, key=lambda k: -weight(exp[k]))
        want = ranked[:n]
        if n < len(ranked) and weight(exp[ranked[n - 1]]) == weight(exp[ranked[n]]):
            p.append(f"{args}: ground truth has a tie at row {n}; test cannot decide")
            continue
        got = [(x["pid"], x["protocol"], x["family"]) for x in r.snapshots[0]["processes"]]
        if sorted(got) != sorted(want):
            p.append(f"{' '.join(args)}: rows {[row_name(k) for k in got]}, want "
                     f"{[row_name(k) for k in want]}")
        elif got != want:
            p.append(f"{' '.join(args)}: rows in order {[row_name(k) for k in got]}, want "
                     f"{[row_name(k) for k in want]} (sorted by {field})")
    return p


@subtest("overflow: more processes than the kernel's table holds is bounded and counted")
def t_overflow(ctx):
    n = 12000
    r = TopRun(ctx, ["-i", "60"], mode=f"many={n}", timeout=120)
    p = r.basic_problems()
    if r.gt is None:
        return p
    if len(r.snapshots) != 1:
        return p + [f"{len(r.snapshots)} snapshots, want 1"]
    s = r.snapshots[0]
    rows = s["processes"]
    done = r.gt["many"]["failed_sends"]
    counted = sum(x["send_errors"] for x in rows)
    other = [x for x in rows if x["comm"] != "tt-many" or x["send_errors"] != 1 or
             x["sends"] or x["recvs"] or x["recv_errors"]]
    if other:
        p.append(f"{len(other)} rows that are not one failing send of tt-many: {other[:3]}")
    pids = collections.Counter(x["pid"] for x in rows)
    dup = [k for k, c in pids.items() if c > 1]
    if dup:
        p.append(f"pids with more than one row: {dup[:5]}")
    if s["dropped"] == 0:
        p.append(f"dropped 0 with {len(rows)} rows for {done} processes: did nothing overflow?")
    if counted + s["dropped"] != done:
        p.append(f"rows count {counted} failing sends and dropped says {s['dropped']}: "
                 f"{counted + s['dropped']}, want {done} (every update counted or dropped)")
    notes = [f"{len(rows)} rows, dropped {s['dropped']}, {done} operations, {r.secs:.1f} s"]
    return notes, p


@subtest("bad input: one message naming the bad word, non-zero exit")
def t_bad_input(ctx):
    p, notes = [], []
    cases = [(["-s", "nosuchkey"], "nosuchkey"), (["--hist", "nosuchkind"], "nosuchkind"),
             (["--hist-by", "nosuchby"], "nosuchby"), (["-F", "csv"], "csv"),
             (["-P", "NOSUCHPROTO"], "NOSUCHPROTO"), (["-f", "NOSUCHFAM"], "NOSUCHFAM"),
             (["-t", "NOSUCHTYPE"], "NOSUCHTYPE"), (["-u", "nosuchuser_x"], "nosuchuser_x"),
             (["-i", "0"], "-i"), (["-i", "-1"], "-i"), (["-i", "abc"], "abc"),
             (["-N", "x"], "x"), (["-C", "0"], "-C"),
             (["-c", "/nonexistent/cmd"], "/nonexistent/cmd"),
             (["-c", "true", "-x", "1"], "-x")]
    for args, word in cases:
        rc, out, err, _ = run([ctx.socktap, "top", "-F", "json"] + args, timeout=10)
        if rc is None:
            p.append(f"top {' '.join(args)}: still running after 10 s")
        elif rc == 0:
            p.append(f"top {' '.join(args)}: exit status 0; stdout {out[:200]!r}")
        elif word not in err:
            p.append(f"top {' '.join(args)}: exit {rc}, message does not name {word!r}: "
                     f"{err.strip()!r}")
        if rc and out:
            p.append(f"top {' '.join(args)}: output despite the error: {out[:200]!r}")
        notes.append(f"top {' '.join(args)}: {rc} {err.strip()[:120]!r}")
    return notes, p


@subtest("-o: a write error is an error")
def t_write_error(ctx):
    if not os.path.exists("/dev/full"):
        raise Skip("no /dev/full")
    p = []
    for fmt in ("json", "text"):
        rc, _, err, _ = run([ctx.socktap, "top", "-F", fmt, "-C", "1", "-i", "0.1", "-o",
                               "/dev/full"], timeout=20)
        if rc != 1:
            p.append(f"-F {fmt} -o /dev/full: exit status {rc}, want 1: {err.strip()!r}")
    return p


TEXT_COLUMNS = ["PID", "#SEND", "#RECV", "SEND_KB", "RECV_KB", "#SERR", "#RERR", "PROT", "FAMILY",
                "COMMAND"]


@subtest("text: one table per interval to a pipe")
def t_text(ctx):
    tmp = tempfile.mkdtemp(prefix="socktap-top-")
    gt_path = os.path.join(tmp, "gt.json")
    try:
        argv = [ctx.socktap, "top", "-N", "0", "-i", "60", "-c", f"{TRAFFIC} out={gt_path}"]
        rc, out, err, _ = run(argv)
        gt = json.load(open(gt_path)) if os.path.exists(gt_path) else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    p = []
    if rc != 0:
        p.append(f"exit status {rc}: {err.strip()}")
    if gt is None:
        return p + ["no ground truth"]
    lines = out.splitlines()
    headers = [i for i, x in enumerate(lines) if x.split()[:1] == ["PID"]]
    if len(headers) != 1:
        return p + [f"{len(headers)} table headers, want 1 (one interval):\n" + out[:2000]]
    head = lines[headers[0]].split()
    missing = [c for c in TEXT_COLUMNS if c not in head]
    if missing:
        return p + [f"header {lines[headers[0]]!r} lacks {missing}"]
    col = {c: head.index(c) for c in head}
    rows = {}
    for x in lines[headers[0] + 1:]:
        f = x.split()
        if not f or not f[0].isdigit():
            break
        if len(f) < len(head):
            p.append(f"short row {x!r}")
            continue
        k = (int(f[col["PID"]]), f[col["PROT"]], f[col["FAMILY"]])
        rows[k] = f
    comms = gt_comm(gt)
    exp = expected_rows(gt)
    for (pid, proto, fam), c in sorted(exp.items()):
        k = (pid, PROTO_NAMES[proto], FAMILY_NAMES[fam])
        name = row_name((pid, proto, fam), comms.get(pid))
        f = rows.pop(k, None)
        if f is None:
            p.append(f"{name}: no row in\n" + "\n".join(lines[headers[0]:headers[0] + 12]))
            continue
        want = {"#SEND": c["sends"], "#RECV": c["recvs"], "#SERR": c["send_errors"],
                "#RERR": c["recv_errors"], "SEND_KB": c["send_bytes"] // 1024,
                "RECV_KB": c["recv_bytes"] // 1024}
        for column, w in want.items():
            if f[col[column]] != str(w):
                p.append(f"{name}: {column} {f[col[column]]}, want {w}")
        command = " ".join(f[col["COMMAND"]:])
        if command not in gt_any_comm(gt).get(pid, ()):
            p.append(f"{name}: COMMAND {command!r}, want {comms.get(pid)!r}")
    for k, f in rows.items():
        p.append(f"unexpected row {' '.join(f)}")
    order = [(int(x.split()[col["PID"]]), x.split()[col["PROT"]], x.split()[col["FAMILY"]])
             for x in lines[headers[0] + 1:headers[0] + 1 + len(exp)]]
    weight = {(pid, PROTO_NAMES[pr], FAMILY_NAMES[fa]): c["send_bytes"] + c["recv_bytes"]
              for (pid, pr, fa), c in exp.items()}
    ws = [weight.get(k, -1) for k in order]
    if ws != sorted(ws, reverse=True):
        p.append(f"rows not sorted by bytes sent + received (the default): {ws}")

    # the default -N is 10
    tmp = tempfile.mkdtemp(prefix="socktap-top-")
    try:
        rc, out, err, _ = run([ctx.socktap, "top", "-i", "60", "-c",
                               f"{TRAFFIC} many=30 out={os.path.join(tmp, 'gt.json')}"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = out.splitlines()
    headers = [i for i, x in enumerate(lines) if x.split()[:1] == ["PID"]]
    if rc != 0 or len(headers) != 1:
        p.append(f"30 processes: exit status {rc}, {len(headers)} headers: {err.strip()}")
    else:
        n = 0
        for x in lines[headers[0] + 1:]:
            if not x.split() or not x.split()[0].isdigit():
                break
            n += 1
        if n != 10:
            p.append(f"30 processes without -N: {n} rows, want 10 (the default -N)")
    return p


# ---- socktop ----

SOCKTOP_BANNER = "------------------------------- PROCESSES -------------------------------"
SOCKTOP_HEADER = "%-5s %-5s %7s %7s %7s %7s %-4s %-8s %-15s" % (
    "PID", "UID", "#SEND", "#RECV", "SEND_KB", "RECV_KB", "PROT", "FAMILY", "COMMAND")
SOCKTOP_DEVICES = "-------------------------------- DEVICES --------------------------------"
SOCKTOP_DEV_HEADER = "%-7s %13s %13s %15s %15s" % ("DEV", "#XMIT", "#RECV", "XMIT_KB", "RECV_KB")
SOCKTOP_END = "=" * 73
SOCKTOP_DATE = re.compile(r"^======================= (Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
                          r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123]\d "
                          r"\d\d:\d\d:\d\d \d{4} ========================$")
SOCKTOP_ROW = re.compile(r"^(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) (\S+) +(\S+) +(.*)$")
SOCKTOP_DEV_ROW = re.compile(r"^(\S+) +(\d+) +(\d+) +(\d+) +(\d+)$")


def exact_line(what, got, want):
    if got == want:
        return []
    hint = " (differs only in trailing spaces)" if got.rstrip() == want.rstrip() else ""
    return [f"{what}{hint}:\n  got  {got!r}\n  want {want!r}"]


def socktop_layout(out, devices):
    """Problems with socktop's layout, and the parsed process rows."""
    p, rows = [], []
    lines = out.split("\n")
    if not lines or not SOCKTOP_DATE.match(lines[0]):
        p.append(f"date line: {lines[0]!r}, want '======================= <ctime> "
                 "========================'")
    if len(lines) < 3:
        return p + [f"output too short: {out!r}"], rows
    p += exact_line("PROCESSES banner", lines[1], SOCKTOP_BANNER)
    p += exact_line("header", lines[2], SOCKTOP_HEADER)
    i = 3
    while i < len(lines) and SOCKTOP_ROW.match(lines[i]):
        m = SOCKTOP_ROW.match(lines[i])
        g = m.groups()
        want = "%-5d %-5d %7d %7d %7d %7d %-4s %-8s %-15s" % (
            int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]), int(g[5]), g[6], g[7],
            g[8].rstrip())
        p += exact_line(f"process row {i}", lines[i], want)
        rows.append(g)
        i += 1
    if devices:
        if i >= len(lines) or lines[i] != SOCKTOP_DEVICES:
            p += exact_line("DEVICES banner", lines[i] if i < len(lines) else "", SOCKTOP_DEVICES)
        else:
            i += 1
            p += exact_line("devices header", lines[i] if i < len(lines) else "",
                            SOCKTOP_DEV_HEADER)
            i += 1
            while i < len(lines) and SOCKTOP_DEV_ROW.match(lines[i]):
                g = SOCKTOP_DEV_ROW.match(lines[i]).groups()
                want = "%-7s %13d %13d %15d %15d" % (g[0], *map(int, g[1:]))
                p += exact_line(f"device row {i}", lines[i], want)
                i += 1
    p += exact_line("closing line", lines[i] if i < len(lines) else "", SOCKTOP_END)
    rest = lines[i + 1:]
    if rest != ["", ""]:
        p.append(f"after the closing line: {rest!r}, want one blank line then the end")
    return p, rows


def need_socktop(ctx):
    if not ctx.socktop or not os.path.exists(os.path.join(ROOT, ctx.socktop)):
        raise Skip(f"no socktop binary ({ctx.socktop})")


@subtest("socktop: layout of one whole-system interval (-i 1 -c 1)")
def t_socktop_layout(ctx):
    need_socktop(ctx)
    rc, out, err, secs = run([ctx.socktop, "-i", "1", "-c", "1"], timeout=20)
    p = [] if rc == 0 else [f"exit status {rc}: {err.strip()}"]
    if not 0.8 <= secs <= 5:
        p.append(f"took {secs:.2f} s for one 1 s interval")
    lp, _ = socktop_layout(out, devices=False)
    return p + lp


@subtest("socktop: -d layout, two intervals (-c 2)")
def t_socktop_devices(ctx):
    need_socktop(ctx)
    rc, out, err, _ = run([ctx.socktop, "-d", "-i", "0.5", "-c", "2"], timeout=20)
    p = [] if rc == 0 else [f"exit status {rc}: {err.strip()}"]
    blocks = out.split(SOCKTOP_END + "\n\n")
    if len(blocks) != 3 or blocks[-1]:
        return p + [f"{len(blocks) - 1} intervals, want 2:\n{out[:1500]}"]
    for b in blocks[:-1]:
        lp, _ = socktop_layout(b + SOCKTOP_END + "\n\n", devices=True)
        p += lp
    return p


@subtest("socktop: exact counts of the generator (-n filters, -N 50)")
def t_socktop_counts(ctx):
    need_socktop(ctx)
    tmp = tempfile.mkdtemp(prefix="socktap-top-")
    gt_path = os.path.join(tmp, "gt.json")
    argv = [ctx.socktop, "-i", "3", "-c", "1", "-N", "50"]
    for c in ("tt-udp", "tt-udp-thr", "tt-tcp", "tt-unix", "tt-short", "tt-err"):
        argv += ["-n", c]
    try:
        top = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        time.sleep(1.0)
        rc_t, _, err_t, _ = run([TRAFFIC, f"out={gt_path}"])
        try:
            out, err = top.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            top.kill()
            out, err = top.communicate()
        gt = json.load(open(gt_path)) if os.path.exists(gt_path) else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    p = []
    if top.returncode != 0:
        p.append(f"socktop exit status {top.returncode}: {err.strip()}")
    if rc_t != 0 or gt is None:
        return p + [f"traffic failed ({rc_t}): {err_t.strip()}"]
    lp, rows = socktop_layout(out, devices=False)
    p += lp
    comms = gt_comm(gt)
    got = {}
    for g in rows:
        k = (int(g[0]), g[6], g[7])
        got[k] = g
    for (pid, proto, fam), c in sorted(expected_rows(gt).items()):
        if not c["sends"] and not c["recvs"]:
            continue  # socktop counts successes only: a failures-only row has no line
        k = (pid, PROTO_NAMES[proto], FAMILY_NAMES[fam])
        name = row_name((pid, proto, fam), comms.get(pid))
        g = got.pop(k, None)
        if g is None:
            p.append(f"{name}: no line")
            continue
        want = (pid, os.getuid(), c["sends"], c["recvs"], c["send_bytes"] // 1024,
                c["recv_bytes"] // 1024)
        have = tuple(int(x) for x in g[:6])
        if have != want:
            p.append(f"{name}: PID UID #SEND #RECV SEND_KB RECV_KB {have}, want {want}")
        if g[8].rstrip() not in gt_any_comm(gt).get(pid, ()):
            p.append(f"{name}: COMMAND {g[8].rstrip()!r}, want {comms.get(pid)!r}")
    for k, g in got.items():
        p.append(f"unexpected line: {g}")
    return p


@subtest("socktop: -P NOSUCH is an error, exit 1")
def t_socktop_bad(ctx):
    need_socktop(ctx)
    rc, out, err, _ = run([ctx.socktop, "-P", "NOSUCH", "-i", "1", "-c", "1"], timeout=20)
    p = []
    if rc != 1:
        p.append(f"exit status {rc}, want 1")
    if "NOSUCH" not in out + err:
        p.append(f"no message naming NOSUCH: stdout {out!r} stderr {err!r}")
    if "=======" in out:
        p.append("printed an interval anyway")
    return [f"message: {(out + err).strip()!r}"], p


@subtest("socktop: -h prints the usage")
def t_socktop_help(ctx):
    need_socktop(ctx)
    rc, out, err, _ = run([ctx.socktop, "-h"], timeout=20)
    p = []
    text = out + err
    want = ["USAGE: socktop [-d] [-i interval] [-N num] [-P protocol]... [-f family]...",
            "    -d           # print network device traffic (default: off)",
            "    -c count     # number of iteration"]
    for w in want:
        if w not in text.splitlines():
            p.append(f"usage lacks the line {w!r}")
    if rc is None:
        p.append("-h did not exit")
    notes = [f"exit status {rc} (SystemTap's socktop script exits 1 after -h)"]
    return notes, p


# ---- the terminal (tmux) ----


class Tmux:
    """A session on a tmux server of its own (-L), so no other tmux session is touched."""
    SERVER = ["tmux", "-L", "socktap-top-tests"]

    def __init__(self, name, command):
        self.name = name
        subprocess.run(self.SERVER + ["kill-session", "-t", name], stderr=subprocess.DEVNULL)
        env = dict(os.environ, TERM="xterm-256color")
        r = subprocess.run(self.SERVER + ["new-session", "-d", "-x", "120", "-y", "40", "-s", name,
                            "-c", ROOT, command], env=env, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise Skip(f"tmux new-session failed: {r.stderr.strip()}")

    def capture(self, escapes=False):
        argv = self.SERVER + ["capture-pane", "-p", "-t", self.name] + (["-e"] if escapes else [])
        return subprocess.run(argv, stdout=subprocess.PIPE, text=True).stdout

    def display(self, fmt):
        return subprocess.run(self.SERVER + ["display", "-p", "-t", self.name, fmt],
                              stdout=subprocess.PIPE, text=True).stdout.strip()

    def keys(self, *keys):
        subprocess.run(self.SERVER + ["send-keys", "-t", self.name] + list(keys))

    def wait_for(self, pred, timeout=10):
        end = time.monotonic() + timeout
        while True:
            screen = self.capture()
            if pred(screen):
                return screen
            if time.monotonic() > end:
                return None
            time.sleep(0.2)

    def socktap_pid(self):
        shell = int(self.display("#{pane_pid}"))
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                stat = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid == shell and comm == "socktap":
                return int(d)
        return None

    def kill(self):
        subprocess.run(self.SERVER + ["kill-session", "-t", self.name], stderr=subprocess.DEVNULL)


def has_table(screen):
    return any("PID" in x and "COMMAND" in x for x in screen.splitlines())


def sort_state(t):
    """What shows the sort key: the lines naming it, and the header with its attributes."""
    plain = [x for x in t.capture().splitlines() if "sort" in x.lower()]
    header = [x for x in t.capture(escapes=True).splitlines() if "PID" in x and "COMMAND" in x]
    return plain, header


def need_tmux():
    if not shutil.which("tmux"):
        raise Skip("no tmux")


def after_exit(t, p, what, final_table=False):
    """The terminal after socktap exited: the alternate screen off; the last, partial
    interval's table left on the normal screen after a signal (as after -c's command
    ends), none after q."""
    screen = t.wait_for(lambda s: "EXITED" in s, timeout=10)
    if screen is None:
        p.append(f"{what}: socktap did not exit; screen:\n{t.capture()}")
        return None
    alt = t.display("#{alternate_on}")
    if alt != "0":
        p.append(f"{what}: the alternate screen is still on (alternate_on={alt})")
    if has_table(screen) != final_table:
        p.append(f"{what}: {'no final table' if final_table else 'the table is still'} on "
                 f"the screen after exit:\n{screen.strip()}")
    m = re.search(r"EXITED (\d+)", screen)
    return int(m.group(1)) if m else None


@subtest("terminal: live view, keys s p d h q, terminal restored")
def t_tui(ctx):
    need_tmux()
    gt = tempfile.mktemp(prefix="socktap-top-gt-")
    cmd = (f"{shlex.quote(ctx.socktap)} top -i 1 -c "
           f"{shlex.quote(f'{TRAFFIC} slow dur=40 out={gt}')}; echo EXITED $?; sleep 60")
    t = Tmux("stt", cmd)
    p, notes = [], []
    try:
        screen = t.wait_for(lambda s: has_table(s) and "tt-udp" in s, timeout=10)
        if screen is None:
            return p + [f"no table with tt-udp after 10 s:\n{t.capture()}"]
        if t.display("#{alternate_on}") != "1":
            notes.append("the live view does not use the alternate screen")
        before = sort_state(t)
        t.keys("s")
        time.sleep(0.5)
        after = sort_state(t)
        if before == after:
            p.append(f"'s' changed no sort indicator: {before[0]} / {after[0]}")
        else:
            notes.append(f"after 's': {[x.strip() for x in after[0]]}")
        for key in (">", "<"):
            before = after
            t.keys(key)
            time.sleep(0.5)
            after = sort_state(t)
            if before == after:
                p.append(f"'{key}' changed no sort indicator: {before[0]}")
            else:
                notes.append(f"after '{key}': {[x.strip() for x in after[0] if 'sort:' in x]}")

        t.keys("p")
        screen = t.wait_for(lambda s: "PAUSED" in s, timeout=3)
        if screen is None:
            p.append(f"'p' shows no PAUSED:\n{t.capture()}")
        else:
            time.sleep(2.5)
            later = t.capture()
            if later != screen:
                p.append("the screen changed while paused:\n" + "\n".join(
                    f"  {a!r} -> {b!r}" for a, b in zip(screen.splitlines(), later.splitlines())
                    if a != b))
            t.keys("p")
            if t.wait_for(lambda s: "PAUSED" not in s, timeout=3) is None:
                p.append("'p' again does not resume")

        t.keys("d")
        if t.wait_for(lambda s: "XMIT" in s or "DEV" in s, timeout=3) is None:
            p.append(f"'d' shows no devices table:\n{t.capture()}")
        t.keys("h")
        screen = t.wait_for(lambda s: "quit" in s.lower() and "pause" in s.lower(), timeout=3)
        if screen is None:
            p.append(f"'h' shows no help:\n{t.capture()}")
        t.keys("h")
        if t.wait_for(has_table, timeout=3) is None:
            t.keys("Escape")
            if t.wait_for(has_table, timeout=3) is None:
                p.append(f"'h' then 'h' (or Escape) does not bring the table back:\n"
                         f"{t.capture()}")

        t.keys("q")
        status = after_exit(t, p, "after q")
        if status is not None:
            notes.append(f"exit status after q: {status}")
            if status != 128 + signal.SIGTERM:
                p.append(f"after q: exit status {status}, want {128 + signal.SIGTERM} (the "
                         "command got SIGTERM; top exits with its status)")
        time.sleep(0.5)
        left = [pid for pid in os.listdir("/proc") if pid.isdigit() and
                _comm(pid).startswith("tt-") and _state(pid) != "Z"]
        if left:
            p.append(f"generator processes still running after q: {left}")
    finally:
        t.kill()
        if os.path.exists(gt):
            os.unlink(gt)
    return notes, p


def _state(pid):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2:].split()[0]


def _comm(pid):
    try:
        return open(f"/proc/{pid}/comm").read().strip()
    except OSError:
        return ""


@subtest("terminal: the command ends, top exits with its status, terminal restored")
def t_tui_end(ctx):
    need_tmux()
    cmd = (f"{shlex.quote(ctx.socktap)} top -i 1 -c "
           f"{shlex.quote(f'{TRAFFIC} slow dur=2 out=/dev/null')}; echo EXITED $?; sleep 60")
    t = Tmux("stt4", cmd)
    p, notes = [], []
    try:
        if t.wait_for(has_table, timeout=10) is None:
            return p + [f"no table after 10 s:\n{t.capture()}"]
        screen = t.wait_for(lambda s: "EXITED" in s, timeout=15)
        if screen is None:
            return p + [f"socktap did not exit when the command ended:\n{t.capture()}"]
        alt = t.display("#{alternate_on}")
        if alt != "0":
            p.append(f"the alternate screen is still on (alternate_on={alt})")
        m = re.search(r"EXITED (\d+)", screen)
        if not m or m.group(1) != "0":
            p.append(f"exit status {m and m.group(1)}, want 0 (the command's)")
        if has_table(screen):
            notes.append("a table is left on the normal screen after exit")
    finally:
        t.kill()
    return notes, p


@subtest("terminal: SIGTERM to socktap restores the terminal")
def t_tui_sigterm(ctx):
    need_tmux()
    cmd = (f"{shlex.quote(ctx.socktap)} top -i 1 -c "
           f"{shlex.quote(f'{TRAFFIC} slow dur=40 out=/dev/null')}; echo EXITED $?; sleep 60")
    t = Tmux("stt2", cmd)
    p, notes = [], []
    try:
        if t.wait_for(has_table, timeout=10) is None:
            return p + [f"no table after 10 s:\n{t.capture()}"]
        pid = t.socktap_pid()
        if pid is None:
            return p + ["socktap's pid not found"]
        os.kill(pid, signal.SIGTERM)
        status = after_exit(t, p, "after SIGTERM", final_table=True)
        notes.append(f"exit status after SIGTERM: {status}")
    finally:
        t.kill()
    return notes, p


@subtest("terminal: Ctrl-C on the whole-system view restores the terminal")
def t_tui_sigint(ctx):
    need_tmux()
    cmd = f"{shlex.quote(ctx.socktap)} top -i 1; echo EXITED $?; sleep 60"
    t = Tmux("stt3", cmd)
    p, notes = [], []
    try:
        if t.wait_for(has_table, timeout=10) is None:
            return p + [f"no table after 10 s:\n{t.capture()}"]
        t.keys("C-c")
        status = after_exit(t, p, "after Ctrl-C", final_table=True)
        notes.append(f"exit status after Ctrl-C: {status}")
    finally:
        t.kill()
    return notes, p


# ---- main ----


def build_traffic():
    os.makedirs(os.path.join(ROOT, "build", "tests"), exist_ok=True)
    r = subprocess.run(["cc", "-O2", "-Wall", "-o", TRAFFIC, TRAFFIC_SRC], cwd=ROOT,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"cannot build {TRAFFIC}:\n{r.stderr}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socktap", required=True)
    ap.add_argument("--socktop")
    ap.add_argument("-k", dest="pattern")
    ctx = ap.parse_args()
    if os.geteuid() != 0:
        if os.environ.get("SOCKTAP_ALLOW_SKIP") == "1":
            print("SKIP: needs root")
            return 0
        print("not ok - needs root (set SOCKTAP_ALLOW_SKIP=1 to skip)")
        print("# 0 passed, 1 failed")
        return 1
    ctx.socktap = os.path.relpath(os.path.abspath(ctx.socktap), ROOT)
    if ctx.socktop:
        ctx.socktop = os.path.relpath(os.path.abspath(ctx.socktop), ROOT)
    build_traffic()
    res = Results()
    for name, fn in TESTS:
        if ctx.pattern and ctx.pattern not in name and not fnmatch.fnmatch(name, ctx.pattern):
            continue
        try:
            out = fn(ctx)
        except Skip as e:
            print(f"ok - {name} # SKIP {e}")
            continue
        notes, problems = out if isinstance(out, tuple) else ((), out)
        res.report(name, problems, notes)
    print(f"# {res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
