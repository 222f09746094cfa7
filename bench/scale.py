#!/usr/bin/env python3
"""socktap top and serve at scale: N live processes (bench/scale.c, default 10,000,
10 sockets each: 100,000 sockets), every one moving a datagram per second.

  scale.py [--procs N] [--socks S] [--rounds R] [--scrapes K] [--json FILE]

One harness run per tool (the other's work would be in its figures): top, then
serve with --max-series 0 (a label set per process), as shipped (--max-series
2000: the rest in comm="~other"), and --max-series 0 --no-sizes. Measures, while
the processes run: top's time to take one snapshot and to sort and write it
(SOCKTAP_TOP_TIMING, one line per snapshot of `top -F json -i 1`), serve's
scrape time of /metrics plain and gzipped (the client's wall time, and serve's
own socktap_scrape_collect_seconds) and the exposition's size, the program's
RSS (/proc), and the memory of the BPF maps it holds (its fds' fdinfo: memlock,
and max_entries x sizes). Then checks that top's totals and serve's counters
for the harness's processes equal the harness's own counts, with no update
dropped (not where serve folded label sets into ~other).
Not part of make check: timings are the host's, and it shares this one.
"""
import argparse
import gzip
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SOCKTAP = os.path.join(ROOT, "build", "socktap")
SCALE = os.path.join(ROOT, "build", "bench", "scale")
PREFIX = "stscale-"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_line(f, deadline, what):
    """a line of the harness's stdout, or an error at the deadline"""
    import select
    while time.monotonic() < deadline:
        r, _, _ = select.select([f], [], [], 1.0)
        if r:
            line = f.readline()
            if not line:
                raise RuntimeError(f"harness ended before {what}")
            return line.strip()
    raise RuntimeError(f"no {what} from the harness in time")


def proc_status(pid):
    """VmRSS and VmHWM of pid, KiB"""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def maps_of(pid):
    """the BPF maps pid holds (its fds' /proc fdinfo; names from bpftool), each with
    max_entries x (key + value) beside the kernel's memlock figure"""
    r = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                       timeout=60)
    names = {m["id"]: m.get("name", "") for m in json.loads(r.stdout or "[]")}
    ncpus = os.cpu_count()
    maps, seen = [], set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            continue
        if "map_id" not in info or int(info["map_id"]) in seen:
            continue
        mid = int(info["map_id"])
        seen.add(mid)
        k, v, n = (int(info.get(x, 0)) for x in ("key_size", "value_size", "max_entries"))
        mtype = int(info.get("map_type", 0))
        # BPF_MAP_TYPE_PERCPU_HASH 5, PERCPU_ARRAY 6, LRU_PERCPU_HASH 10
        per = ncpus if mtype in (5, 6, 10) else 1
        maps.append({"name": names.get(mid, str(mid)), "type": mtype, "max_entries": n,
                     "key": k, "value": v, "memlock": int(info.get("memlock", 0)),
                     "entries_bytes": n * (k + ((v + 7) & ~7) * per)})
    return maps


def map_summary(maps):
    return {"maps": len(maps), "memlock": sum(m["memlock"] for m in maps),
            "entries_bytes": sum(m["entries_bytes"] for m in maps),
            "largest": sorted(maps, key=lambda m: -m["memlock"])[:8]}


def spread(xs):
    xs = sorted(xs)
    if not xs:
        return {}
    q = statistics.quantiles(xs, n=4) if len(xs) >= 4 else [xs[0], xs[len(xs) // 2], xs[-1]]
    return {"median": statistics.median(xs), "q1": q[0], "q3": q[2], "min": xs[0],
            "max": xs[-1], "n": len(xs)}


def fmt(s, unit="ms"):
    return (f"{s['median']:.1f} {unit} (q1..q3 {s['q1']:.1f}..{s['q3']:.1f}; "
            f"min..max {s['min']:.1f}..{s['max']:.1f}; n={s['n']})") if s else "-"


def scrape(url, gz):
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gz else {})
    t0 = time.monotonic()
    body = urllib.request.urlopen(req, timeout=60).read()
    return time.monotonic() - t0, body


def serve_totals(text):
    """the harness's processes' counters in an exposition"""
    tot = {"sends": 0, "recvs": 0, "send_bytes": 0, "recv_bytes": 0, "errors": 0}
    names = {"socktap_send_operations_total": "sends",
             "socktap_receive_operations_total": "recvs",
             "socktap_send_bytes_total": "send_bytes",
             "socktap_receive_bytes_total": "recv_bytes",
             "socktap_send_errors_total": "errors", "socktap_receive_errors_total": "errors"}
    sets = set()
    for m in re.finditer(r'^(socktap_\w+)\{comm="(' + PREFIX + r'[^"]*)"([^}]*)\} (\d+)$', text,
                         re.M):
        key = names.get(m.group(1))
        if key:
            tot[key] += int(m.group(4))
            sets.add((m.group(2), m.group(3)))
    tot["label_sets"] = len(sets)
    return tot


def top_totals(path):
    tot = {"sends": 0, "recvs": 0, "send_bytes": 0, "recv_bytes": 0, "errors": 0,
           "dropped": 0, "intervals": 0, "max_rows": 0}
    pids = set()
    with open(path) as f:
        for line in f:
            snap = json.loads(line)
            tot["intervals"] += 1
            tot["dropped"] += snap["dropped"]
            tot["max_rows"] = max(tot["max_rows"], len(snap["processes"]))
            for r in snap["processes"]:
                if not r["comm"].startswith(PREFIX):
                    continue
                pids.add(r["pid"])
                for k in ("sends", "recvs", "send_bytes", "recv_bytes"):
                    tot[k] += r[k]
                tot["errors"] += r["send_errors"] + r["recv_errors"]
    tot["pids"] = len(pids)
    return tot


def start_harness(args):
    return subprocess.Popen([SCALE, f"procs={args.procs}", f"socks={args.socks}",
                             f"rounds={args.rounds}", f"deadline={args.deadline}",
                             f"kinds={args.kinds}"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)


def stop_all(procs, harness):
    """every process this run started, whatever happened"""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    try:
        harness.stdin.write("stop\n")
        harness.stdin.close()
    except OSError:
        pass
    try:
        harness.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(harness.pid, signal.SIGKILL)  # no child left behind
    except ProcessLookupError:
        pass
    harness.wait()


def run(args, tool, serve_args=()):
    """one harness run with one tool: top, or serve with serve_args"""
    res = {"tool": tool, "serve_args": list(serve_args), "procs": args.procs,
           "socks": args.socks, "rounds": args.rounds, "ncpus": os.cpu_count()}
    tmp = tempfile.mkdtemp(prefix="socktap-scale-")
    top_out = os.path.join(tmp, "top.json")
    top_err = os.path.join(tmp, "top.err")
    # pre-filled: top empties -o's file once its probes are armed (output_commit)
    with open(top_out, "w") as f:
        f.write("x")
    deadline = time.monotonic() + args.deadline
    procs = []
    harness = start_harness(args)
    try:
        t0 = time.monotonic()
        line = read_line(harness.stdout, deadline, "ready")
        if not line.startswith("ready"):
            raise RuntimeError(f"harness: {line}")
        res["fork_s"] = time.monotonic() - t0
        print(f"scale: {tool} {' '.join(serve_args)}: {line} after {res['fork_s']:.1f} s",
              file=sys.stderr)
        if tool == "top":
            # enough intervals to cover the rounds and the stragglers' last one
            env = dict(os.environ, SOCKTAP_TOP_TIMING="1")
            with open(top_err, "w") as ef:
                p = subprocess.Popen([SOCKTAP, "top", "-F", "json", "-i", "1", "-C",
                                      str(args.rounds + 6), "-o", top_out],
                                     stdout=subprocess.DEVNULL, stderr=ef, env=env)
            procs.append(p)
            while os.path.getsize(top_out) != 0:
                if p.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("top did not start: " + open(top_err).read())
                time.sleep(0.05)
        else:
            port = free_port()
            p = subprocess.Popen([SOCKTAP, "serve", *serve_args, "--web.listen-address",
                                  f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            procs.append(p)
            url = f"http://127.0.0.1:{port}/metrics"
            for _ in range(600):
                try:
                    urllib.request.urlopen(url, timeout=5).read()
                    break
                except OSError:
                    if p.poll() is not None:
                        raise RuntimeError("serve did not start")
                    time.sleep(0.1)
        res["rss_idle_kib"] = proc_status(p.pid).get("VmRSS")
        res["maps"] = map_summary(maps_of(p.pid))
        harness.stdin.write("go\n")
        harness.stdin.flush()
        t_go = time.monotonic()
        rss, hwm = [], 0
        plain, zipped, collect, sizes = [], [], [], {}
        if tool == "serve":
            # a few rounds in: every process has its rows, serve holds every label set
            time.sleep(min(4, args.rounds / 3))
        while time.monotonic() - t_go < args.rounds - 2:
            if tool == "serve" and len(plain) < args.scrapes:
                for gz in (False, True):
                    dt, body = scrape(url, gz)
                    (zipped if gz else plain).append(dt * 1e3)
                    if gz:
                        sizes["gzip"] = len(body)
                        continue
                    sizes["plain"] = len(body)
                    text = body.decode()
                    m = re.search(r"^socktap_scrape_collect_seconds (\S+)$", text, re.M)
                    if m:
                        collect.append(float(m.group(1)) * 1e3)
                    m = re.search(r"^socktap_series (\d+)$", text, re.M)
                    sizes["series"] = int(m.group(1)) if m else None
            st = proc_status(p.pid)
            rss.append(st.get("VmRSS", 0))
            hwm = max(hwm, st.get("VmHWM", 0))
            time.sleep(0.3)
        res["harness"] = json.loads(read_line(harness.stdout, deadline, "the counts"))
        if tool == "top":
            if p.wait(timeout=max(1, deadline - time.monotonic())) != 0:
                raise RuntimeError("top failed: " + open(top_err).read())
            timing = [tuple(map(float, m.groups())) for m in re.finditer(
                r"top: (\d+) rows: snapshot ([\d.]+) ms, render ([\d.]+) ms",
                open(top_err).read())]
            # the snapshots taken with (nearly) every process in the table
            full = [t for t in timing if t[0] >= 0.9 * args.procs]
            res["rows_max"] = max((t[0] for t in timing), default=0)
            res["snapshot_ms"] = spread([t[1] for t in full])
            res["render_ms"] = spread([t[2] for t in full])
            res["total_ms"] = spread([t[1] + t[2] for t in full])
            res["totals"] = top_totals(top_out)
            res["dropped"] = res["totals"]["dropped"]
        else:
            res["scrape_plain_ms"] = spread(plain)
            res["scrape_gzip_ms"] = spread(zipped)
            res["scrape_collect_ms"] = spread(collect[1:])  # the first: a pre-traffic one's
            res["exposition"] = sizes
            time.sleep(2.5)  # serve folds every second: the last datagrams are in
            _, body = scrape(url, False)
            text = body.decode()
            res["totals"] = serve_totals(text)
            res["dropped"] = int(re.search(r"^socktap_kernel_updates_dropped_total (\d+)$",
                                           text, re.M).group(1))
            res["overflowed"] = int(re.search(r"^socktap_series_overflowed (\d+)$", text,
                                              re.M).group(1))
            st = proc_status(p.pid)
            hwm = max(hwm, st.get("VmHWM", 0))
        res["rss_kib"] = {"idle": res["rss_idle_kib"],
                          "loaded_median": statistics.median(rss) if rss else None,
                          "peak": hwm}
    finally:
        stop_all(procs, harness)
        shutil.rmtree(tmp, ignore_errors=True)
    h, t = res["harness"], res["totals"]
    same = all(t[k] == h[k] for k in ("sends", "recvs", "send_bytes", "recv_bytes"))
    if tool == "serve" and res["overflowed"]:
        # past --max-series the rest is in comm="~other", with every other process's
        res["exact"] = None
    else:
        res["exact"] = same and t["errors"] == 0 and res["dropped"] == 0
    if res["dropped"] and res["exact"] is False:
        # at the bound: what was not counted was counted as dropped (one per operation;
        # other processes' drops count there too)
        ops, hops = t["sends"] + t["recvs"], h["sends"] + h["recvs"]
        res["drops_account"] = ops <= hops <= ops + res["dropped"]
    return res


def report(res):
    h = res["harness"]
    name = res["tool"] + (" " + " ".join(res["serve_args"]) if res["serve_args"] else "")
    print(f"== {name}: {h['procs']} processes, {h['sockets']} sockets, {h['sends']} sends "
          f"{h['send_bytes']} B, {h['recvs']} receives {h['recv_bytes']} B "
          f"({h['udp_procs']} on UDP, {h['unix_procs']} on unix) in {h['traffic_ms']} ms")
    if res["tool"] == "top":
        print(f"top: {res['rows_max']:.0f} rows max; snapshot {fmt(res['snapshot_ms'])}; "
              f"sort+write {fmt(res['render_ms'])}; both {fmt(res['total_ms'])}")
    else:
        e = res["exposition"]
        print(f"serve: {e.get('series')} label sets ({res['overflowed']} more folded into "
              f"~other), exposition {e.get('plain', 0) / 1024:.0f} KiB "
              f"({e.get('gzip', 0) / 1024:.0f} KiB gzipped)")
        print(f"serve: scrape {fmt(res['scrape_plain_ms'])}")
        print(f"serve: scrape, gzip {fmt(res['scrape_gzip_ms'])}")
        print(f"serve: of which collect (its own gauge) {fmt(res['scrape_collect_ms'])}")
    r, m = res["rss_kib"], res["maps"]
    print(f"RSS idle {r['idle']} KiB, loaded {r['loaded_median']} KiB, peak {r['peak']} KiB; "
          f"{m['maps']} maps, memlock {m['memlock'] / 2**20:.1f} MiB, "
          f"max_entries x sizes {m['entries_bytes'] / 2**20:.1f} MiB")
    for x in m["largest"][:5]:
        print(f"    {x['name']:16} type {x['type']:2} {x['max_entries']:7} x "
              f"({x['key']} + {x['value']}) memlock {x['memlock'] / 2**20:.2f} MiB")
    verdict = {True: "exact", False: "MISMATCH", None: "not comparable (overflow series)"}
    print(f"totals: {json.dumps(res['totals'])}, kernel drops {res['dropped']} -> "
          f"{verdict[res['exact']]}")
    if "drops_account" in res:
        print(f"at the bound: counted + dropped {'covers' if res['drops_account'] else 'DOES NOT cover'}"
              f" the harness's operations")


def main():
    global SOCKTAP
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=10000)
    ap.add_argument("--socks", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--scrapes", type=int, default=20)
    ap.add_argument("--deadline", type=int, default=300)
    ap.add_argument("--only", choices=("top", "serve"))
    ap.add_argument("--kinds", choices=("one", "both"), default="one",
                    help="both: each process moves data on UDP and unix, two rows each "
                    "(20,000 at 10,000 processes: past the kernel tables' 10,240)")
    ap.add_argument("--socktap", default=SOCKTAP, help="the socktap to measure (another build)")
    ap.add_argument("--json")
    args = ap.parse_args()
    SOCKTAP = args.socktap
    if os.geteuid() != 0:
        sys.exit("scale.py: run as root (socktap loads BPF programs)")
    # one tool per harness run: the other's work would be in its figures (2 CPUs here)
    runs = []
    if args.only != "serve":
        runs.append(("top", ()))
    if args.only != "top":
        runs += [("serve", ("--max-series", "0")), ("serve", ()),
                 ("serve", ("--max-series", "0", "--no-sizes"))]
    results = []
    for tool, sargs in runs:
        res = run(args, tool, sargs)
        report(res)
        sys.stdout.flush()
        results.append(res)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    ok = all(r["exact"] is not False or r.get("drops_account") for r in results)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
