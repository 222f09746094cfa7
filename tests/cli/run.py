#!/usr/bin/env python3
"""CLI contract: bad input gets a non-zero exit and one clear message naming the
bad word; list works unprivileged; output errors are never silent.

Usage: run.py --socktap build/socktap
Root is needed for the privilege and no-BTF subtests (they drop privileges or
hide BTF in a private mount namespace); without root those are skipped.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--socktap", default="build/socktap")
args = ap.parse_args()
SOCKTAP = os.path.abspath(args.socktap)
passed = failed = 0


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def subtest(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name}\n  {detail}")


def expect_error(name, argv, rc, pattern, **kw):
    r = run([SOCKTAP] + argv, **kw)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = (r.returncode == rc and len(lines) == 1 and re.search(pattern, lines[0]) is not None
          and r.stdout == "")
    subtest(name, ok, f"rc={r.returncode} (want {rc}) stderr={r.stderr!r} stdout={r.stdout[:200]!r}")


# ---- bad words ----
expect_error("unknown probe names the word and suggests", ["trace", "socket.sendmgs"], 2,
             r"unknown probe 'socket\.sendmgs' \(did you mean socket\.sendmsg")
expect_error("pattern matching nothing", ["trace", "socket.*.*.*"], 2,
             r"probe pattern 'socket\.\*\.\*\.\*' matches no socket probe point")
expect_error("list: unknown probe", ["list", "socket.recieve"], 2,
             r"unknown probe 'socket\.recieve' \(did you mean socket\.receive")
expect_error("unknown protocol", ["trace", "-P", "TPC"], 2,
             r"-P: unknown protocol 'TPC' \(did you mean .*TCP")
expect_error("unknown family", ["trace", "-f", "INTE"], 2,
             r"-f: unknown family 'INTE' \(did you mean INET")
expect_error("unknown type", ["trace", "-t", "STREEM"], 2,
             r"-t: unknown socket type 'STREEM' \(did you mean STREAM")
expect_error("unknown user", ["trace", "-u", "no-such-user-xyz"], 2,
             r"-u: unknown user 'no-such-user-xyz'")
expect_error("unknown format", ["trace", "-F", "xml"], 2, r"-F: unknown format 'xml'")
expect_error("bad pid", ["trace", "-p", "12ab"], 2, r"-p: '12ab' is not a process id")
expect_error("-c and -x together", ["trace", "-c", "true", "-x", "1"], 2, r"-c and -x")
expect_error("missing command", ["trace", "-c", "no-such-command-xyz --flag"], 127,
             r"-c: command not found: 'no-such-command-xyz'")
expect_error("no such process", ["trace", "-x", "999999999"], 1, r"-x: no process 999999999")
expect_error("unknown subcommand", ["frobnicate"], 2, r"unknown command 'frobnicate'")
expect_error("unknown option", ["trace", "--frob"], 2, r"unknown option")
expect_error("bad duration", ["trace", "-d", "soon"], 2, r"--duration: 'soon'")
expect_error("bad ring size", ["trace", "--ringbuf-size", "1000"], 2, r"--ringbuf-size: '1000'")

# ---- names are accepted as the helpers spell them, and as numbers / aliases ----
r = run([SOCKTAP, "trace", "-f", "UNIX", "-f", "INET6", "-P", "UDPLite", "-P", "262", "-t",
         "SEQPACKET", "-d", "0.2", "socket.send"])
subtest("aliases and numbers are accepted", r.returncode in (0, 1) and "unknown" not in r.stderr,
        r.stderr)

# ---- list: unprivileged, exact format ----
nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
          "--bounding-set=-all"] if os.geteuid() == 0 else []
r = run(nobody + [SOCKTAP, "list"])
lines = r.stdout.splitlines()
subtest("list works unprivileged and shows 22 probes", r.returncode == 0 and len(lines) == 22,
        r.stderr)
subtest("list line like stap -L",
        "socket.create.return name:string success:long protocol:long family:long type:long "
        "requester:long err:long" in lines, "\n".join(lines[:3]))
r = run(nobody + [SOCKTAP, "list", "-v", "socket.create"])
subtest("list -v says what backs a probe and what it cannot see",
        r.returncode == 0 and "backed by: tp_btf:raw_syscalls/sys_enter" in r.stdout
        and "requester = 1" in r.stdout, r.stdout)
r = run([SOCKTAP, "list", "socket.*"])
subtest("socket.* is the 12 two-component probes", len(r.stdout.splitlines()) == 12, r.stdout)
r = run([SOCKTAP, "list", "socket.*.return"])
subtest("socket.*.return is the 10 return probes", len(r.stdout.splitlines()) == 10, r.stdout)
r = run([SOCKTAP, "-j", "list", "socket.send"])
subtest("-j list is JSON", r.stdout.startswith('{"probe":"socket.send","values":["name"'),
        r.stdout)

if os.geteuid() != 0:
    print("# skipping privilege, BTF and output subtests: not root")
else:
    # ---- privileges ----
    r = run(nobody + [SOCKTAP, "trace", "-d", "0.1"])
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    subtest("missing privileges: one message, exit 1",
            r.returncode == 1 and len(lines) == 1 and "CAP_BPF and CAP_PERFMON" in lines[0],
            f"rc={r.returncode} {r.stderr!r}")

    # ---- a kernel without BTF: hide it in a private mount namespace ----
    if shutil.which("unshare"):
        r = run(["unshare", "-m", "sh", "-c",
                 f"mount -t tmpfs none /sys/kernel/btf && exec {SOCKTAP} trace -d 0.1"])
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        subtest("no BTF: one message, exit 1",
                r.returncode == 1 and len(lines) == 1 and "no BTF" in lines[0],
                f"rc={r.returncode} {r.stderr!r}")

    # ---- -o: stdout/stderr belong to the command; a full disk is an error ----
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "ev.json")
        r = run([SOCKTAP, "trace", "-F", "json", "-o", out, "-c",
                 "sh -c 'echo to-stdout; echo to-stderr >&2; exit 3'"])
        subtest("-c exits with the command's status", r.returncode == 3, f"rc={r.returncode}")
        subtest("-o leaves stdout to the command", r.stdout == "to-stdout\n", repr(r.stdout))
        err = r.stderr.splitlines()
        subtest("-o: stderr has the command's output and socktap's summary",
                err[0] == "to-stderr" and re.match(r"socktap: \d+ events delivered, 0 events lost",
                                                     err[-1]) is not None, repr(r.stderr))
        r = run([SOCKTAP, "trace", "-F", "json", "-o", "/dev/full", "-c",
                 "python3 -c \"import socket; a,b=socket.socketpair(); [(a.send(b'x'*10), b.recv(10)) for _ in range(20000)]\""])
        subtest("write error on -o is reported, exit non-zero",
                r.returncode == 1 and "/dev/full" in r.stderr and "incomplete" in r.stderr,
                f"rc={r.returncode} {r.stderr!r}")
        r = run([SOCKTAP, "trace", "-o", os.path.join(d, "no/such/dir/x"), "-c", "true"])
        subtest("unwritable -o path", r.returncode == 1 and "cannot open" in r.stderr, r.stderr)
        r = run([SOCKTAP, "trace", "-c", "sh -c 'kill -TERM $$'"])
        subtest("-c: a command killed by a signal gives 128+signal", r.returncode == 143,
                f"rc={r.returncode}")

print(f"# cli: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
