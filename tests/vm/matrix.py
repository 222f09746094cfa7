#!/usr/bin/env python3
"""The kernel matrix behind `make vmcheck`: the integration suite on the host's
own kernel (backend chosen by socktap) and, in one qemu/TCG boot per kernel
(tests/vm/vm.py), once per backend that kernel is expected to offer. Prints a
kernel x backend table of the suite's closing lines (`# N passed, N failed[, N
skipped]`) and exits non-zero if any cell failed or did not run.

  matrix.py [--kernels 5.10:fentry,kprobe 6.12:tracepoint ...] [--no-host]
            [--xfail KERNEL:BACKEND ...] [--reports DIR]

Each run's full output goes to the terminal and to REPORTS/vmcheck-<kernel>.log;
the table also to REPORTS/matrix.txt. A boot that prints nothing for 900 s (a
hung guest) is killed and booted once more for the cells it left unfinished;
the table says so. --xfail (or VM_XFAIL, space-separated;
globs allowed, e.g. '5.10:*') marks cells known to fail: they are shown as
such and do not make the exit status non-zero. By default nothing is.
"""
import argparse
import fnmatch
import os
import platform
import re
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SUITE = ("python3 tests/integration/run.py --socktap build/socktap "
         "--workload build/tests/workload --filters one")
# kernel -> the backends it is expected to offer (tracepoints need >= 6.3)
DEFAULT = ["5.10:fentry,kprobe", "6.1:fentry,kprobe", "6.12:tracepoint,fentry,kprobe"]
BACKENDS = ["auto", "tracepoint", "fentry", "kprobe"]
START, RC = "@@MATRIX-RUN", "@@MATRIX-RC"
# silence that means a hung guest: longer than the suite's per-subtest watchdog (600 s), which
# reports a hung subtest itself
STALL = 900
# a guest whose kernel keeps a CPU stuck this long is hung too, though its watchdog keeps
# printing (seen once each on 5.10 and 6.1 under TCG, in tests that pass on a second boot)
LOCKUP_RE = re.compile(r"soft lockup - CPU#\d+ stuck for (\d+)s")
LOCKUP = 240
PLAN_RE = re.compile(r"^1\.\.(\d+)$")
CLOSE_RE = re.compile(r"^# (\d+) passed, (\d+) failed(?:, (\d+) skipped)?$")


class Cell:
    def __init__(self, kernel, backend):
        self.kernel, self.backend = kernel, backend
        self.plan = self.counts = self.rc = None
        self.seconds = None
        self.stalls = []  # the last line of each boot that went silent in this cell

    def feed(self, line):
        m = PLAN_RE.match(line)
        if m and self.plan is None:
            self.plan = int(m.group(1))
        m = CLOSE_RE.match(line)
        if m:
            self.counts = tuple(int(g or 0) for g in m.groups())

    def verdict(self):
        if self.counts is None:
            return "did not run"
        if self.counts[1] or self.rc not in (0, None):
            return "failed"
        if self.plan is not None and sum(self.counts) != self.plan:
            return "incomplete"
        return "ok"


def lines_of(p, stall):
    """p's output lines; stops (and says so) when p has printed nothing for `stall` seconds."""
    buf = b""
    fd = p.stdout.fileno()
    while True:
        r, _, _ = select.select([fd], [], [], stall)
        if not r:
            yield None
            return
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        *done, buf = buf.split(b"\n")
        for d in done:
            yield d.decode("utf-8", "replace") + "\n"
    if buf:
        yield buf.decode("utf-8", "replace")


def stream(argv, log, cells, timeout, stall=STALL):
    """Run argv, echo and log its output, feed each line to the current cell. Returns (exit
    status or None, seconds, the last line if the run stalled: no output for `stall` s, a
    hung guest kernel, which the suite's own per-subtest watchdog cannot report)."""
    current = cells[0] if len(cells) == 1 else None
    by_backend = {c.backend: c for c in cells}
    t0 = last = time.monotonic()
    stalled, prev = None, ""
    # a session of its own: a stalled boot's qemu goes with vm.py
    p = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        for raw in lines_of(p, stall):
            if raw is None:
                stalled = prev or "(nothing)"
                raw = f"== matrix: no output for {stall} s after: {stalled}\n"
                log.write(raw)
                sys.stdout.write(raw)
                break
            line = raw.rstrip("\r\n")
            lock = LOCKUP_RE.search(line)
            if lock and int(lock.group(1)) >= LOCKUP:
                log.write(raw)
                sys.stdout.write(raw)
                stalled = prev or "(nothing)"
                raw = f"== matrix: a guest CPU stuck for {lock.group(1)} s after: {stalled}\n"
                log.write(raw)
                sys.stdout.write(raw)
                break
            if line.strip() and not lock:
                prev = line.strip()
            m = re.match(re.escape(START) + r" (\S+)@@$", line)
            if m:
                current = by_backend.get(m.group(1))
                last = time.monotonic()
                raw = f"== matrix: kernel {cells[0].kernel}, backend {m.group(1)}\n"
            m = re.match(re.escape(RC) + r" (\S+) (\d+)@@$", line)
            if m and m.group(1) in by_backend:
                c = by_backend[m.group(1)]
                c.rc, c.seconds = int(m.group(2)), time.monotonic() - last
                current = None
                raw = f"== matrix: backend {c.backend}: exit {c.rc} after {c.seconds:.0f} s\n"
            elif current:
                current.feed(line)
            log.write(raw)
            log.flush()
            sys.stdout.write(raw)
            sys.stdout.flush()
        rc = None if stalled else p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        rc = None
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if len(cells) == 1 and cells[0].seconds is None:
        cells[0].rc, cells[0].seconds = rc, time.monotonic() - t0
    return rc, time.monotonic() - t0, stalled


def guest_command(backends):
    parts = ["rc=0"]
    for b in backends:
        parts.append(f'echo "{START} {b}@@"; {SUITE} --backend {b}; r=$?; echo "{RC} {b} $r@@"; '
                     f'[ $r = 0 ] || rc=1')
    return "; ".join(parts + ["exit $rc"])


def table(cells, kernels, xfail, durations):
    def text(c):
        if c is None:
            return "-"
        if c.counts is None:
            s = "did not run"
        else:
            p, f, s_ = c.counts
            s = f"{p} passed, {f} failed" + (f", {s_} skipped" if s_ else "")
            if c.verdict() == "incomplete":
                s += f" (of {c.plan})"
        if c.verdict() != "ok":
            s = ("XFAIL " if is_xfail(c, xfail) else "FAIL ") + s
        if c.stalls:
            s += f" (after {len(c.stalls)} stalled boot{'s' if len(c.stalls) > 1 else ''})"
        return s

    cols = [b for b in BACKENDS if any(c.backend == b for c in cells)]
    rows = [["kernel"] + cols + ["time"]]
    for k in kernels:
        cs = {c.backend: c for c in cells if c.kernel == k}
        rows.append([k] + [text(cs.get(b)) for b in cols] + [f"{durations.get(k, 0):.0f} s"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, r in enumerate(rows):
        out.append("| " + " | ".join(v.ljust(w) for v, w in zip(r, widths)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def is_xfail(c, patterns):
    return any(fnmatch.fnmatch(f"{c.kernel}:{c.backend}", p) for p in patterns)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernels", nargs="*", default=DEFAULT, metavar="KERNEL:BACKEND,...")
    ap.add_argument("--no-host", action="store_true", help="skip the host's own kernel")
    ap.add_argument("--xfail", nargs="*", default=os.environ.get("VM_XFAIL", "").split(),
                    metavar="KERNEL:BACKEND")
    ap.add_argument("--reports", default=os.path.join(ROOT, "build", "vm", "reports"))
    ap.add_argument("--timeout", type=float, default=2400, help="per boot, seconds")
    a = ap.parse_args()
    os.makedirs(a.reports, exist_ok=True)
    plan = []
    for spec in a.kernels:
        k, _, bs = spec.partition(":")
        plan.append((k, [b for b in bs.split(",") if b] or ["auto"]))

    cells, kernels, durations = [], [], {}
    t0 = time.monotonic()
    if not a.no_host:
        host = f"host {platform.release()}"
        kernels.append(host)
        c = Cell(host, "auto")
        cells.append(c)
        print(f"== matrix: {host}, backend auto", flush=True)
        with open(os.path.join(a.reports, "vmcheck-host.log"), "w") as log:
            _, durations[host], _ = stream(SUITE.split(), log, [c], a.timeout)
    for k, backends in plan:
        kernels.append(k)
        cs = [Cell(k, b) for b in backends]
        cells += cs
        print(f"== matrix: kernel {k}, backends {' '.join(backends)}", flush=True)
        with open(os.path.join(a.reports, f"vmcheck-{k}.log"), "w") as log:
            todo, durations[k] = cs, 0
            for boot in (1, 2):
                argv = [sys.executable, os.path.join(HERE, "vm.py"), "run", "--kernel", k,
                        "--timeout", str(a.timeout), "--",
                        guest_command([c.backend for c in todo])]
                _, secs, stalled = stream(argv, log, todo, a.timeout + 120)
                durations[k] += secs
                if not stalled:
                    break
                # a guest that goes silent (TCG under a loaded host) is booted once more for
                # the cells it left unfinished; the table says so, and a second stall fails
                todo = [c for c in todo if c.rc is None]
                for c in todo:
                    c.plan = c.counts = None
                    c.stalls.append(stalled)
                if not todo or boot == 2:
                    break
                print(f"== matrix: kernel {k}: booting again for {' '.join(c.backend for c in todo)}",
                      flush=True)

    report = table(cells, kernels, a.xfail, durations)
    report += f"\n\nwhole matrix: {time.monotonic() - t0:.0f} s"
    print("\n" + report, flush=True)
    with open(os.path.join(a.reports, "matrix.txt"), "w") as f:
        f.write(report + "\n")
    bad = [c for c in cells if c.verdict() != "ok" and not is_xfail(c, a.xfail)]
    for c in bad:
        print(f"matrix: {c.kernel} {c.backend}: {c.verdict()}", file=sys.stderr)
    for c in cells:
        for line in c.stalls:
            print(f"matrix: {c.kernel} {c.backend}: a boot went silent after: {line}",
                  file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
