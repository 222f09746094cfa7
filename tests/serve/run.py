#!/usr/bin/env python3
"""socktap serve tests: the exposition against the traffic generator's own counts
(tests/top/traffic.c), promtool, a real Prometheus scraping it, HTTP behaviour,
the series limit, the textfile mode and bad input.

Every traffic run goes into a cgroup of its own and serve counts only that
cgroup (--cgroup), so the totals are exact whatever else the machine does.
Prometheus is Debian's 2.42 binary (scripts/fetch-prometheus.sh), started here
on a free 127.0.0.1 port with its own configuration and storage.
"""
import argparse
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROM_DIR = os.path.join(ROOT, "build", "prometheus")
TRAFFIC = os.path.join(ROOT, "build", "tests", "traffic")
PROTO_NAMES = {0: "IP", 6: "TCP", 17: "UDP"}
FAMILY_NAMES = {1: "LOCAL", 2: "INET", 10: "INET6"}
TYPE_NAMES = {1: "STREAM", 2: "DGRAM", 5: "SEQPACKET"}
# the failures traffic.c makes (its header comment)
TRAFFIC_ERRNOS = {"EDESTADDRREQ", "EAGAIN", "EPIPE"}
SOCKTAP = None


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
    return None


class Cgroup:
    """A fresh cgroup under the cgroup2 mount, removed at the end."""

    def __init__(self):
        self.mount = cgroup2_mount()
        self.rel = f"/socktap-serve-test-{os.getpid()}-{time.monotonic_ns()}"
        self.path = self.mount + self.rel
        os.mkdir(self.path)

    def enter(self):
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write("0")

    def close(self):
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)


def http_get(port, path="/metrics", headers=None, timeout=10):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Serve:
    """socktap serve ARGS on a free port (or --textfile), stopped by SIGTERM."""

    def __init__(self, args, listen=True):
        self.port = free_port()
        self.argv = [SOCKTAP, "serve", *args]
        if listen:
            self.argv += ["--web.listen-address", f"127.0.0.1:{self.port}"]
        self.errf = tempfile.TemporaryFile()
        self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=self.errf)
        self.listen = listen

    def wait_ready(self, timeout=60):
        """The port answers once the probes are armed."""
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            if self.p.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.1)
        return False

    def stderr(self):
        self.errf.seek(0)
        return self.errf.read().decode(errors="replace")

    def metrics(self):
        st, _, body = http_get(self.port)
        if st != 200:
            raise RuntimeError(f"/metrics: HTTP {st}")
        return body.decode()

    def stop(self):
        """SIGTERM: (exit status, seconds it took)."""
        if self.p.poll() is not None:
            return self.p.returncode, 0.0
        t0 = time.monotonic()
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        return rc, time.monotonic() - t0


def parse_exposition(text):
    """{(name, frozenset(labels.items())): value}"""
    out = {}
    lab_re = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$", line)
        if not m:
            raise ValueError(f"bad exposition line: {line!r}")
        labels = frozenset(lab_re.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def run_traffic(cg, mode, timeout=120):
    """traffic MODE in cgroup cg: its ground truth document."""
    with tempfile.TemporaryDirectory() as d:
        gt = os.path.join(d, "gt.json")
        p = subprocess.run([TRAFFIC, *mode.split(), f"out={gt}"], preexec_fn=cg.enter,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        if p.returncode != 0 or not os.path.exists(gt):
            raise RuntimeError(f"traffic {mode}: exit {p.returncode}: {p.stderr[-500:]}")
        with open(gt) as f:
            doc = json.load(f)
    if not doc.get("ok"):
        raise RuntimeError(f"traffic {mode}: not ok: {json.dumps(doc)[:500]}")
    return doc


def truth(doc):
    """Per label set (comm of the process, protocol, family, type): the counts and sizes."""
    sets = {}
    for pr in doc["processes"]:
        rep = pr["report"]
        for r in rep["rows"]:
            key = (("comm", rep["comm"]), ("protocol", PROTO_NAMES[r["protocol"]]),
                   ("family", FAMILY_NAMES[r["family"]]), ("type", TYPE_NAMES[r["type"]]))
            t = sets.setdefault(key, {"sends": 0, "recvs": 0, "send_bytes": 0,
                                      "recv_bytes": 0, "send_errors": 0, "recv_errors": 0,
                                      "send_sizes": [], "recv_sizes": []})
            for k in ("sends", "recvs", "send_bytes", "recv_bytes", "send_errors",
                      "recv_errors"):
                t[k] += r[k]
            t["send_sizes"] += r["send_sizes"]
            t["recv_sizes"] += r["recv_sizes"]
    return sets


SIZE_BOUNDS = [0] + [2 ** i for i in range(21)]


def check_exposition(m, sets, problems, what=""):
    """Every label set's counters, errors (by errno) and size histograms, exactly."""
    names = {"sends": "socktap_send_operations_total",
             "recvs": "socktap_receive_operations_total",
             "send_bytes": "socktap_send_bytes_total",
             "recv_bytes": "socktap_receive_bytes_total"}
    for key, t in sets.items():
        lk = frozenset(key)
        ident = ",".join(f"{a}={b}" for a, b in key)
        for field, name in names.items():
            got = m.get((name, lk))
            if got != t[field]:
                problems.append(f"{what}{name}{{{ident}}} = {got}, want {t[field]}")
        for d, name in (("send", "socktap_send_errors_total"),
                        ("recv", "socktap_receive_errors_total")):
            by = {dict(ls)["errno"]: v for (n, ls), v in m.items()
                  if n == name and frozenset(x for x in ls if x[0] != "errno") == lk}
            if sum(by.values()) != t[f"{d}_errors"]:
                problems.append(f"{what}{name}{{{ident}}} sums to {sum(by.values())} over "
                                f"{by}, want {t[d + '_errors']}")
            if set(by) - TRAFFIC_ERRNOS:
                problems.append(f"{what}{name}{{{ident}}}: errno labels {sorted(by)}, want "
                                f"some of {sorted(TRAFFIC_ERRNOS)}")
        for d, name in (("send", "socktap_send_size_bytes"),
                        ("recv", "socktap_receive_size_bytes")):
            sizes = t[f"{d}_sizes"]
            if not sizes:
                # like a client library's labelled histogram: absent until observed
                if (name + "_count", lk) in m:
                    problems.append(f"{what}{name}{{{ident}}}: a histogram without "
                                    "observations")
                continue
            for b in SIZE_BOUNDS:
                want = sum(1 for v in sizes if v <= b)
                got = m.get((name + "_bucket", lk | {("le", str(b))}))
                if got != want:
                    problems.append(f"{what}{name}_bucket{{{ident},le={b}}} = {got}, "
                                    f"want {want}")
                    break
            for suffix, want in (("_count", len(sizes)), ("_sum", sum(sizes))):
                got = m.get((name + suffix, lk))
                if got != want:
                    problems.append(f"{what}{name}{suffix}{{{ident}}} = {got}, want {want}")
    # nothing but the traffic's label sets (the cgroup filter leaves nothing else)
    extra = {ls for (n, ls), v in m.items()
             if n == "socktap_send_operations_total" and ls not in {frozenset(k) for k in sets}}
    if extra:
        problems.append(f"{what}label sets that the traffic did not make: "
                        f"{sorted(map(sorted, extra))[:5]}")


def wait_folded(srv, want_comm, timeout=10):
    """Scrape until a series of want_comm shows (the kernel's counts fold every second)."""
    t_end = time.monotonic() + timeout
    text = srv.metrics()
    while f'comm="{want_comm}"' not in text and time.monotonic() < t_end:
        time.sleep(0.2)
        text = srv.metrics()
    return text


# ---- the tests ----


def test_exact_totals():
    """One traffic run (every child exited): every counter and histogram exact."""
    problems = []
    cg = Cgroup()
    srv = Serve(["--cgroup", cg.rel])
    try:
        if not srv.wait_ready():
            return [f"serve did not start: {srv.stderr()[-500:]}"]
        doc = run_traffic(cg, "")
        time.sleep(1.2)
        text = wait_folded(srv, "tt-short")
        check_exposition(parse_exposition(text), truth(doc), problems)
        # the thread "tt-udp-thr" counts under its process's name
        if 'comm="tt-udp-thr"' in text:
            problems.append("a thread's name made a series: comm must be the process's")
        # counters never go backwards: later scrapes, after the processes exited, hold
        time.sleep(1.5)
        again = parse_exposition(srv.metrics())
        first = parse_exposition(text)
        for k, v in first.items():
            if k[0].endswith("_total") and k[0].startswith("socktap_send") and \
                    again.get(k, -1) < v:
                problems.append(f"{k[0]}{dict(k[1])} went from {v} to {again.get(k)}")
    finally:
        rc, secs = srv.stop()
        cg.close()
    if rc != 0 or secs > 1.0:
        problems.append(f"SIGTERM: exit {rc} after {secs:.2f} s, want 0 within 1 s; "
                        f"stderr: {srv.stderr()[-300:]}")
    return problems


LIFECYCLE_PROG = """
import socket, sys
n = int(sys.argv[1])
for i in range(n):
    a, b = socket.socketpair()
    a.close()
    b.close()
for i in range(n + 1):
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
kept = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for i in range(n + 2)]
"""


def test_lifecycle():
    """--lifecycle: sockets made and released, per label set, against the program's own counts
    (sockets still open at exit are released by the exit)."""
    problems = []
    cg = Cgroup()
    srv = Serve(["--cgroup", cg.rel, "--lifecycle"])
    n = 25
    try:
        if not srv.wait_ready():
            return [f"serve did not start: {srv.stderr()[-500:]}"]
        p = subprocess.run([sys.executable, "-c", LIFECYCLE_PROG, str(n)], preexec_fn=cg.enter,
                           capture_output=True, text=True, timeout=60)
        if p.returncode:
            return [f"the program failed: {p.stderr[-300:]}"]
        comm = os.path.basename(sys.executable)[:15]  # the name exec was given
        time.sleep(1.2)
        m = parse_exposition(wait_folded(srv, comm))
        for proto, fam, typ, want in (("IP", "LOCAL", "STREAM", 2 * n),
                                      ("UDP", "INET", "DGRAM", n + 1),
                                      ("TCP", "INET", "STREAM", n + 2)):
            ls = frozenset({("comm", comm), ("protocol", proto), ("family", fam),
                            ("type", typ)})
            for name in ("socktap_sockets_created_total", "socktap_sockets_closed_total"):
                got = m.get((name, ls))
                if got != want:
                    problems.append(f"{name}{{{proto},{fam},{typ}}} = {got}, want {want}")
    finally:
        srv.stop()
        cg.close()
    return problems


def test_promtool():
    """promtool check metrics: no error, no warning, on an exposition with every family."""
    cg = Cgroup()
    srv = Serve(["--cgroup", cg.rel, "--durations", "--lifecycle", "--labels",
                 "+user,+cgroup,+container"])
    try:
        if not srv.wait_ready():
            return [f"serve did not start: {srv.stderr()[-500:]}"]
        run_traffic(cg, "")
        time.sleep(1.2)
        text = wait_folded(srv, "tt-short")
    finally:
        srv.stop()
        cg.close()
    p = subprocess.run([os.path.join(PROM_DIR, "promtool"), "check", "metrics"], input=text,
                       capture_output=True, text=True)
    problems = []
    if p.returncode != 0 or p.stdout.strip() or p.stderr.strip():
        problems.append(f"promtool check metrics: exit {p.returncode}: "
                        f"{(p.stdout + p.stderr).strip()[:800]}")
    for fam in ("socktap_send_duration_seconds_bucket", "socktap_build_info",
                "socktap_sockets_created_total",
                "socktap_probe_info", "process_resident_memory_bytes",
                "socktap_device_transmit_bytes_total"):
        if fam not in text:
            problems.append(f"no {fam} in the exposition")
    if f'cgroup="{cg.rel}"' not in text:
        problems.append(f"no series with cgroup=\"{cg.rel}\"")
    return problems


def prom_query(port, q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.load(r)
    return {tuple(sorted(x["metric"].items())): float(x["value"][1])
            for x in doc["data"]["result"]}


def test_prometheus():
    """A real Prometheus scrapes serve every second while two traffic runs of short-lived
    processes come and go: its totals are exact after each, and never reset."""
    problems = []
    cg = Cgroup()
    srv = Serve(["--cgroup", cg.rel])
    tmp = tempfile.mkdtemp(prefix="socktap-prom-")
    pport = free_port()
    prom = None
    try:
        if not srv.wait_ready():
            return [f"serve did not start: {srv.stderr()[-500:]}"]
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: socktap\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{srv.port}']\n")
        prom = subprocess.Popen(
            [os.path.join(PROM_DIR, "prometheus"),
             f"--config.file={tmp}/prometheus.yml", f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{pport}", "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        q = 'sum by (comm) (socktap_send_operations_total{comm=~"tt-.*"})'
        want = {}
        for run in (1, 2):
            doc = run_traffic(cg, "")
            for key, t in truth(doc).items():
                comm = dict(key)["comm"]
                want[comm] = want.get(comm, 0) + t["sends"]
            t_end = time.monotonic() + 30
            got = {}
            while time.monotonic() < t_end:
                try:
                    got = {dict(k)["comm"]: v for k, v in prom_query(pport, q).items()}
                except (OSError, ValueError, KeyError):
                    got = {}
                if got == want:
                    break
                time.sleep(0.5)
            if got != want:
                problems.append(f"after run {run}: Prometheus has sends {got}, want {want}")
                break
        if not problems:
            resets = prom_query(pport, 'sum(resets(socktap_send_operations_total'
                                       '{comm=~"tt-.*"}[5m]))')
            if any(v != 0 for v in resets.values()):
                problems.append(f"Prometheus saw counter resets: {resets}")
    finally:
        if prom:
            prom.terminate()
            try:
                prom.wait(timeout=10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        srv.stop()
        cg.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


def test_http():
    """/ links to /metrics, /nope is 404, gzip when asked, 50 idle connections do not delay a
    scrape, a malformed request does not bring it down."""
    problems = []
    srv = Serve([])
    idle = []
    try:
        if not srv.wait_ready():
            return [f"serve did not start: {srv.stderr()[-500:]}"]
        st, _, body = http_get(srv.port, "/")
        if st != 200 or b'href="/metrics"' not in body:
            problems.append(f"/: HTTP {st}, body {body[:100]!r}")
        st, _, _ = http_get(srv.port, "/nope")
        if st != 404:
            problems.append(f"/nope: HTTP {st}, want 404")
        st, h, body = http_get(srv.port, headers={"Accept-Encoding": "gzip"})
        if st != 200 or h.get("Content-Encoding") != "gzip" or \
                b"socktap_build_info" not in gzip.decompress(body):
            problems.append(f"gzip: HTTP {st}, headers {h}")
        st, h, _ = http_get(srv.port)
        if not h.get("Content-Type", "").startswith("text/plain; version=0.0.4"):
            problems.append(f"Content-Type {h.get('Content-Type')!r}")
        for _ in range(50):
            idle.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
        idle[0].sendall(b"GET /metr")  # and one that stops mid-request
        t0 = time.monotonic()
        st, _, _ = http_get(srv.port, timeout=5)
        took = time.monotonic() - t0
        if st != 200 or took > 2:
            problems.append(f"scrape with 50 idle connections: HTTP {st} in {took:.2f} s")
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            s.sendall(b"\x00\xff GARBAGE \r\n\r\n" * 20)
            try:
                s.recv(100)
            except OSError:
                pass
        st, _, _ = http_get(srv.port)
        if st != 200 or srv.p.poll() is not None:
            problems.append(f"after a malformed request: HTTP {st}, serve "
                            f"{'exited' if srv.p.poll() is not None else 'running'}")
    finally:
        for s in idle:
            s.close()
        rc, secs = srv.stop()
    if rc != 0:
        problems.append(f"exit {rc} after SIGTERM; stderr {srv.stderr()[-300:]}")
    return problems


def make_certs(d):
    """A CA, a server certificate for 127.0.0.1 it signed, a client one it signed, and a
    self-signed client certificate it did not."""
    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
         "ca.crt", "-days", "2", "-subj", "/CN=socktap-test-ca")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for name, ext in (("srv", ["-extfile", "ext"]), ("cli", [])):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
             f"{name}.csr", "-subj", f"/CN={name}")
        ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", *ext)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out",
         "other.crt", "-days", "2", "-subj", "/CN=other")


def bcrypt(password):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))


def curl_code(port, d, *args):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                        "10", "--cacert", os.path.join(d, "ca.crt"), *args,
                        f"https://127.0.0.1:{port}/metrics"],
                       capture_output=True, text=True, cwd=d)
    return p.stdout.strip()


def test_tls_auth():
    """--web.config.file: TLS with basic auth (right 200, wrong or none 401, plain HTTP to the
    TLS port refused), then client certificates (the CA's 200, none or another's 403)."""
    problems = []
    d = tempfile.mkdtemp(prefix="socktap-tls-")
    try:
        make_certs(d)
        with open(os.path.join(d, "auth.yml"), "w") as f:
            f.write("tls_server_config:\n  cert_file: srv.crt\n  key_file: srv.key\n"
                    f"basic_auth_users:\n  alice: '{bcrypt('s3cret')}'\n")
        with open(os.path.join(d, "mtls.yml"), "w") as f:
            f.write(f"tls_server_config:\n  cert_file: {d}/srv.crt\n  key_file: srv.key\n"
                    "  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n")
        srv = Serve(["--web.config.file", os.path.join(d, "auth.yml")])
        try:
            if not srv.wait_ready():
                return [f"serve did not start: {srv.stderr()[-500:]}"]
            for args, want in ((["-u", "alice:s3cret"], "200"), (["-u", "alice:wrong"], "401"),
                               (["-u", "bob:s3cret"], "401"), ([], "401"),
                               (["-u", "alice:s3cret"], "200")):
                got = curl_code(srv.port, d, *args)
                if got != want:
                    problems.append(f"TLS + basic auth {args}: HTTP {got}, want {want}")
            try:
                st, _, _ = http_get(srv.port, timeout=5)
                problems.append(f"plain HTTP to the TLS port answered HTTP {st}")
            except (OSError, urllib.error.URLError, ValueError):
                pass
            if srv.p.poll() is not None:
                problems.append("serve exited after a plain HTTP request")
        finally:
            srv.stop()
        srv = Serve(["--web.config.file", os.path.join(d, "mtls.yml")])
        try:
            if not srv.wait_ready():
                return [f"serve did not start: {srv.stderr()[-500:]}"]
            for args, want in ((["--cert", "cli.crt", "--key", "cli.key"], "200"), ([], "403"),
                               (["--cert", "other.crt", "--key", "other.key"], "403")):
                got = curl_code(srv.port, d, *args)
                if got != want:
                    problems.append(f"client certificates {args}: HTTP {got}, want {want}")
        finally:
            srv.stop()
        for body, word in (("tls_server_config:\n  cert_file: srv.crt\n  key_file: srv.key\n"
                            "  min_version: TLS13\n", "min_version"),
                           ("basic_auth_users:\n  alice: plaintext\n", "alice"),
                           ("http_server_config: {}\n", "http_server_config"),
                           ("tls_server_config:\n  cert_file: nope.crt\n  key_file: srv.key\n",
                            "nope.crt"),
                           # not a regular file: refused, not read until memory runs out
                           ("tls_server_config:\n  cert_file: /dev/zero\n  key_file: srv.key\n",
                            "/dev/zero")):
            path = os.path.join(d, "bad.yml")
            with open(path, "w") as f:
                f.write(body)
            p = subprocess.run([SOCKTAP, "serve", "--web.config.file", path],
                               capture_output=True, text=True, timeout=30)
            lines = p.stderr.strip().splitlines()
            if p.returncode != 2 or len(lines) != 1 or word not in lines[0]:
                problems.append(f"bad web config {body!r}: exit {p.returncode}, stderr "
                                f"{p.stderr.strip()[:200]!r}; want exit 2 naming {word!r}")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return problems


def test_cardinality():
    """5,000 processes of distinct names against --max-series 100: 100 series, the rest in
    the overflow series, counted; memory stays bounded."""
    problems = []
    cg = Cgroup()
    srv = Serve(["--cgroup", cg.rel, "--max-series", "100"])
    try:
        if not srv.wait_ready():
            return [f"serve did not start: {srv.stderr()[-500:]}"]
        doc = run_traffic(cg, "many=5000 names", timeout=300)
        n = doc["many"]["failed_sends"]
        time.sleep(1.2)
        m = parse_exposition(srv.metrics())
        errs = {dict(ls).get("comm"): v for (name, ls), v in m.items()
                if name == "socktap_send_errors_total"}
        named = [c for c in errs if c and c.startswith("tt-m")]
        if n != 5000:
            problems.append(f"traffic made {n} failing sends, want 5000")
        if len(named) != 100:
            problems.append(f"{len(named)} named series, want 100 (the limit)")
        if errs.get("~other") != n - 100:
            problems.append(f"overflow series has {errs.get('~other')} errors, want {n - 100}")
        if sum(errs.values()) != n:
            problems.append(f"errors sum to {sum(errs.values())}, want {n}")
        ovf = m.get(("socktap_series_overflowed", frozenset()))
        if ovf != n - 100:
            problems.append(f"socktap_series_overflowed = {ovf}, want {n - 100}")
        rss = m.get(("process_resident_memory_bytes", frozenset()), 0)
        if rss > 64 << 20:
            problems.append(f"resident memory {rss / 2**20:.1f} MiB, want under 64 MiB")
    finally:
        srv.stop()
        cg.close()
    return problems


def test_pid_ttl():
    """--labels +pid: a series per process, gone after --pid-ttl once the process is idle."""
    problems = []
    cg = Cgroup()
    srv = Serve(["--cgroup", cg.rel, "--labels", "+pid", "--pid-ttl", "2"])
    try:
        if not srv.wait_ready():
            return [f"serve did not start: {srv.stderr()[-500:]}"]
        doc = run_traffic(cg, "")
        time.sleep(1.2)
        text = wait_folded(srv, "tt-short")
        pids = {str(pr["report"]["pid"]) for pr in doc["processes"]}
        seen = set(re.findall(r'pid="(\d+)"', text))
        if not pids <= seen:
            problems.append(f"pids {sorted(pids - seen)} have no series")
        time.sleep(4)
        m = parse_exposition(srv.metrics())
        left = set(re.findall(r'pid="(\d+)"', srv.metrics())) & pids
        if left:
            problems.append(f"series of idle pids {sorted(left)} still there after the TTL")
        if not m.get(("socktap_series_expired_total", frozenset()), 0) >= len(pids):
            problems.append(f"socktap_series_expired_total = "
                            f"{m.get(('socktap_series_expired_total', frozenset()))}")
    finally:
        srv.stop()
        cg.close()
    return problems


def test_textfile():
    """--textfile: the exposition appears by rename, parses, holds the counts; nothing left
    behind but the file."""
    problems = []
    cg = Cgroup()
    d = tempfile.mkdtemp(prefix="socktap-textfile-")
    path = os.path.join(d, "socktap.prom")
    srv = Serve(["--cgroup", cg.rel, "--textfile", path, "--interval", "0.5"], listen=False)
    try:
        t_end = time.monotonic() + 60
        while not os.path.exists(path) and time.monotonic() < t_end and srv.p.poll() is None:
            time.sleep(0.1)
        if not os.path.exists(path):
            return [f"no {path}: {srv.stderr()[-300:]}"]
        doc = run_traffic(cg, "")
        time.sleep(2.5)
        with open(path) as f:
            text = f.read()
        check_exposition(parse_exposition(text), truth(doc), problems, "textfile: ")
    finally:
        rc, _ = srv.stop()
        cg.close()
    if rc != 0:
        problems.append(f"exit {rc}: {srv.stderr()[-300:]}")
    left = sorted(set(os.listdir(d)) - {"socktap.prom"})
    if left:
        problems.append(f"left behind: {left}")
    shutil.rmtree(d, ignore_errors=True)
    return problems


DIST = os.path.join(ROOT, "dist")


def test_rules():
    """The shipped recording rules and alerts: promtool check rules and their own unit test."""
    problems = []
    d = os.path.join(DIST, "prometheus")
    for args in (["check", "rules", "socktap.rules.yml"],
                 ["test", "rules", "socktap.rules.test.yml"]):
        p = subprocess.run([os.path.join(PROM_DIR, "promtool"), *args], cwd=d,
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0 or "SUCCESS" not in p.stdout:
            problems.append(f"promtool {' '.join(args)}: exit {p.returncode}: "
                            f"{(p.stdout + p.stderr).strip()[-600:]}")
    return problems


def test_unit_capabilities():
    """The shipped systemd unit verifies, and serve works as an unprivileged user with only
    the capabilities the unit grants."""
    problems = []
    with open(os.path.join(DIST, "systemd", "socktap.service.in")) as f:
        unit = f.read()
    caps = re.search(r"^AmbientCapabilities=(.*)$", unit, re.M).group(1).split()
    bounding = re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M).group(1).split()
    if sorted(caps) != sorted(bounding):
        problems.append(f"AmbientCapabilities {caps} != CapabilityBoundingSet {bounding}")
    if shutil.which("systemd-analyze"):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "bin"))
            shutil.copy(SOCKTAP, os.path.join(d, "bin", "socktap"))
            path = os.path.join(d, "socktap.service")
            with open(path, "w") as f:
                f.write(unit.replace("@PREFIX@", d).replace("@LISTEN@", "127.0.0.1:10477"))
            # --man=no: the man page is installed by make install, not here
            p = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                               capture_output=True, text=True, timeout=60)
            if p.returncode != 0 or p.stderr.strip():
                problems.append(f"systemd-analyze verify: exit {p.returncode}: "
                                f"{p.stderr.strip()[-400:]}")
    want = ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
    srv = Serve(["--lifecycle"])
    srv.p.kill()
    srv.p.wait()
    srv.argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                f"--inh-caps=-all,{want}", f"--ambient-caps=-all,{want}",
                f"--bounding-set=-all,{want}", *srv.argv]
    srv.p = subprocess.Popen(srv.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=srv.errf)
    try:
        if not srv.wait_ready():
            return problems + [f"serve with only {caps} did not start: "
                               f"{srv.stderr()[-400:]}"]
        text = srv.metrics()
        if "socktap_sockets_created_total" not in text:
            problems.append(f"serve with only {caps}: no lifecycle counters")
    finally:
        rc, _ = srv.stop()
    if rc != 0:
        problems.append(f"serve with only {caps}: exit {rc}: {srv.stderr()[-300:]}")
    return problems


def test_bad_input():
    """One message naming the bad value, exit 2 (1 for a port in use)."""
    problems = []
    cases = [(["--labels", "+comm,nope"], "nope", 2),
             (["--web.listen-address", "localhost"], "localhost", 2),
             (["--web.listen-address", "::1:80"], "::1:80", 2),
             (["--max-series", "-5"], "-5", 2),
             (["--pid-ttl", "0"], "0", 2),
             (["--interval", "x"], "x", 2),
             (["extra"], "extra", 2)]
    for args, word, want in cases:
        p = subprocess.run([SOCKTAP, "serve", *args], capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        lines = p.stderr.strip().splitlines()
        if p.returncode != want or len(lines) != 1 or word not in lines[0]:
            problems.append(f"serve {' '.join(args)}: exit {p.returncode}, stderr "
                            f"{p.stderr.strip()[:200]!r}; want exit {want} and one line "
                            f"naming {word!r}")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        p = subprocess.run([SOCKTAP, "serve", "--web.listen-address", f"127.0.0.1:{port}"],
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        if p.returncode != 1 or str(port) not in p.stderr:
            problems.append(f"port in use: exit {p.returncode}, stderr {p.stderr[-200:]!r}")
    return problems


TESTS = [
    ("exact totals per label set, across process exits", test_exact_totals),
    ("--lifecycle: sockets created and closed", test_lifecycle),
    ("promtool check metrics", test_promtool),
    ("a real Prometheus: exact totals over two runs, no resets", test_prometheus),
    ("HTTP: index, 404, gzip, idle connections, malformed requests", test_http),
    ("--web.config.file: TLS, basic auth, client certificates", test_tls_auth),
    ("cardinality: --max-series folds into comm=\"~other\"", test_cardinality),
    ("--labels +pid and --pid-ttl", test_pid_ttl),
    ("--textfile", test_textfile),
    ("shipped rules: promtool check and test rules", test_rules),
    ("shipped systemd unit: verifies; serve runs with its capabilities only",
     test_unit_capabilities),
    ("bad input", test_bad_input),
]


def main():
    global SOCKTAP
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socktap", default=os.path.join(ROOT, "build", "socktap"))
    ap.add_argument("-k", dest="pattern")
    args = ap.parse_args()
    SOCKTAP = os.path.abspath(args.socktap)
    if os.geteuid() != 0:
        print("serve tests need root", file=sys.stderr)
        return 1
    for tool in ("prometheus", "promtool"):
        if not os.access(os.path.join(PROM_DIR, tool), os.X_OK):
            print(f"no {PROM_DIR}/{tool}: run scripts/fetch-prometheus.sh", file=sys.stderr)
            return 1
    if not os.access(TRAFFIC, os.X_OK):
        print(f"no {TRAFFIC}: make {os.path.relpath(TRAFFIC, ROOT)}", file=sys.stderr)
        return 1
    tests = [t for t in TESTS if not args.pattern or args.pattern in t[0]]
    print(f"1..{len(tests)}")
    failed = 0
    for name, fn in tests:
        try:
            problems = fn()
        except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
            problems = [f"{type(e).__name__}: {e}"]
        if problems:
            failed += 1
            print(f"not ok - {name}")
            for p in problems:
                print(f"  # {p}")
        else:
            print(f"ok - {name}")
        sys.stdout.flush()
    print(f"# {len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
