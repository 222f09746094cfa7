#!/usr/bin/env python3
"""socktap integration tests: trace the workload's scenarios and compare every
event with what the workload's own ground truth says must happen.

Usage:
  run.py --socktap build/socktap --workload build/tests/workload [-k PATTERN]

Needs root (BPF, and the workload's private network namespace). Without root
it fails, unless SOCKTAP_ALLOW_SKIP=1 is set: then it prints "SKIP: needs root"
and exits 0. Python 3.11 standard library only; mounts nothing.

For each scenario: `socktap trace -F json -o TMP -c "WORKLOAD SCENARIO"`. The
workload prints its ground truth (one JSON record per socket syscall) on
stdout; derive() turns it into the events the tapset contract says socktap
must report, per thread and in order; compare() checks them exactly. See
README.md for the rules and where the expectations come from.
"""
import argparse
import collections
import csv
import difflib
import errno
import fnmatch
import ipaddress
import itertools
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SCENARIOS = ["udp", "tcp", "unix", "mmsg", "dup", "fork", "exit", "exec", "close_range", "dup2",
             "emfile", "socketpair_inet", "badfamily", "netlink", "threads", "iouring", "addrs"]
FORMATS_SCENARIO = "udp"
ADDRS_SCENARIO = "addrs"  # its records carry every send's, receive's and close's addresses

# ---- the contract ----

# Keys every event has; "fd" only when known.
ADDR_KEYS = ("laddr", "lport", "raddr", "rport")
TASK_KEYS = ("cgroup", "cgroup_id", "container", "nspid")
COMMON_KEYS = ("probe", "ts", "pid", "tid", "uid", "comm", "cpu", "sock") + ADDR_KEYS + TASK_KEYS
NULL_ADDRS = dict.fromkeys(ADDR_KEYS)
# receives that pass the kernel no address buffer (recvmsg always does, even without msg_name)
NO_ADDR_BUFFER = {"recv", "read", "readv"}
# what socket.close.return says of the addresses: the contract names socket.close only;
# close.return is the same operation's end and carries the same (see README)
CLOSE_RETURN_ADDRS = "same"
AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
SEND_PATHS = {"sendmsg", "aio_write", "writev"}
# The tapset's values, in output order.
VALUE_ORDER = ("name", "size", "success", "protocol", "family", "state", "flags", "type",
               "requester", "err")
_XFER_ENTRY = ("name", "size", "protocol", "family", "state", "flags", "type")
_XFER_RETURN = ("name", "size", "success", "protocol", "family", "state", "flags", "type")
PROBE_VALUES = {
    "socket.create": ("name", "protocol", "family", "type", "requester"),
    "socket.create.return": ("name", "success", "protocol", "family", "type", "requester", "err"),
    "socket.close": ("name", "protocol", "family", "state", "flags", "type"),
    "socket.close.return": ("name",),
    "socket.send": _XFER_RETURN,
    "socket.receive": _XFER_RETURN,
}
for _p in ("sendmsg", "recvmsg", "aio_write", "aio_read", "writev", "readv", "write_iter",
           "read_iter"):
    PROBE_VALUES[f"socket.{_p}"] = _XFER_ENTRY
    PROBE_VALUES[f"socket.{_p}.return"] = _XFER_RETURN

# Fan-out of one send or receive: (probe, "req" = entry size, "ret" = result).
FANOUT = {
    "sendmsg": (("socket.sendmsg", "req"), ("socket.sendmsg.return", "ret"),
                ("socket.send", "ret")),
    "aio_write": (("socket.aio_write", "req"), ("socket.write_iter", "req"),
                  ("socket.write_iter.return", "ret"), ("socket.aio_write.return", "ret"),
                  ("socket.send", "ret")),
    "writev": (("socket.writev", "req"), ("socket.write_iter", "req"),
               ("socket.write_iter.return", "ret"), ("socket.writev.return", "ret"),
               ("socket.send", "ret")),
    "recvmsg": (("socket.recvmsg", "req"), ("socket.recvmsg.return", "ret"),
                ("socket.receive", "ret")),
    "aio_read": (("socket.aio_read", "req"), ("socket.read_iter", "req"),
                 ("socket.read_iter.return", "ret"), ("socket.aio_read.return", "ret"),
                 ("socket.receive", "ret")),
    "readv": (("socket.readv", "req"), ("socket.read_iter", "req"),
              ("socket.read_iter.return", "ret"), ("socket.readv.return", "ret"),
              ("socket.receive", "ret")),
}
XFER_PATH = {"send": "sendmsg", "sendto": "sendmsg", "sendmsg": "sendmsg", "write": "aio_write",
             "writev": "writev", "recv": "recvmsg", "recvfrom": "recvmsg", "recvmsg": "recvmsg",
             "read": "aio_read", "readv": "readv"}
MMSG_PATH = {"sendmmsg": "sendmsg", "recvmmsg": "recvmsg"}
URING_PATH = {"uring_send": "sendmsg", "uring_recv": "recvmsg",
              "uring_write": "aio_write", "uring_read": "aio_read"}
# Socket syscalls that fire no probe.
BACKEND = []  # --backend: extra socktap arguments

# --refuse PIECE: socktap runs without one optional piece (SOCKTAP_REFUSE names it; "selftest"
# is a step every verifier refuses for real, SOCKTAP_TEST_REFUSAL). What the piece gave is
# declared missing here, and everything else must hold exactly as without the refusal.
REFUSE = None
_LIFECYCLE = {"socket.create", "socket.create.return", "socket.close", "socket.close.return"}
_ENTRY = {f"socket.{p}" for p in ("sendmsg", "recvmsg", "aio_write", "aio_read", "writev",
                                  "readv", "write_iter", "read_iter")}
DEGRADE = {
    # ids of sockets that moved no data are made in user space while the fd is open: racy
    # without the fd step, auto takes the per-syscall syscall hooks (tracepoint programs)
    "fd_cookie": {"null_sock": _LIFECYCLE},
    # ... and with those denied, the raw sys_enter/sys_exit without it
    "fd_cookie,syscall_tracepoints": {"null_sock": _LIFECYCLE},
    "xfer_cookie": {"null_sock": None},  # None: any probe
    "stack": {"iter_as_msg": True},  # io_uring READ/WRITE count as SEND/RECV
    "st_sock_create": {"null_sock": _LIFECYCLE},
    "st_exit": {"drop_exit_closes": True},
    "st_sys_enter": {"drop": _ENTRY | _LIFECYCLE,
                     "null_mmsg_addr": True},
    "st_iter_unix": {"null_sock": _LIFECYCLE},  # ids of unix sockets that moved no data
    "st_iter_netlink": {"null_sock": _LIFECYCLE},
    "selftest": {},
    # who and where
    "cgroup": {"null_task": True},  # cgroup, cgroup_id, container null
    "msg_addr": {"null_msg_addr": True},  # an unconnected datagram send's raddr/rport null
    "dgram_src": {"null_dgram_src": True},  # an unconnected datagram receive's raddr/rport null
    # kernel facts denied: older kernels' paths on this one (5.10 lacks all four)
    "bpf_loop": {},  # the legacy object: bounded loops (the suite's fds are < 256)
    "task_btf": {"null_sock": _LIFECYCLE},  # no fd step without a BTF task
    "task_storage": {},
    "task_regs": {},
    "syscall_tracepoints": {},  # the raw hooks, as where the fd step is taken
    "bpf_loop,task_btf,task_storage,task_regs": {"null_sock": _LIFECYCLE},
}
# what a mechanism cannot show, declared (and counted) rather than tolerated silently
DECLARED = collections.Counter()

SILENT_OPS = {"bind", "listen", "connect", "accept", "getsockname", "ioctl", "fork", "sockinfo",
              "self", "note"}
NOTES = []  # the workload's "note" records: what a scenario left out, printed at the end
STATE_UNCONNECTED = 1
FLAGS = object()  # expected "flags": checked separately (a non-negative integer per operation)


class DerivationError(Exception):
    """The ground truth is inconsistent or has an op no rule covers."""


class Sock:
    """One kernel socket, as the workload knows it."""
    _ids = itertools.count(1)

    def __init__(self, how):
        self.id = next(self._ids)
        self.how = how  # for messages
        self.family = self.type = self.protocol = self.state = None

    def __repr__(self):
        return f"socket #{self.id} ({self.how})"

    def vals(self, rec):
        if None in (self.family, self.type, self.protocol, self.state):
            raise DerivationError(f"{rec_str(rec)}: no sockinfo record for {self!r}")
        return {"protocol": self.protocol, "family": self.family, "state": self.state,
                "flags": FLAGS, "type": self.type}


class Exp:
    """One expected event."""
    __slots__ = ("probe", "fd", "values", "sock", "group", "rec", "addrs")

    def __init__(self, probe, fd, values, sock, group, rec, addrs=None):
        self.probe, self.fd, self.sock, self.group, self.rec = probe, fd, sock, group, rec
        self.addrs = addrs  # {laddr, lport, raddr, rport}, or None: not checked
        self.values = {"name": probe, **values}
        if set(self.values) != set(PROBE_VALUES[probe]):
            raise AssertionError(f"run.py bug: {probe} values {sorted(self.values)}")


def rec_str(rec):
    return json.dumps(rec, separators=(",", ":"))


def derive(records):
    """Ground-truth records -> {tid: [Exp]}, the events socktap must report."""
    tables = {}  # pid -> {fd: Sock}
    cloexec = collections.defaultdict(set)  # pid -> close-on-exec socket fds
    expected = collections.defaultdict(list)
    groups = itertools.count()
    # a scenario whose records carry addresses has every event's addresses checked
    with_addrs = any("laddr" in r or any("laddr" in m for m in r.get("msgs", ()))
                     for r in records)

    def add(rec, probe, fd, sock, values, group, addrs=None):
        if with_addrs and addrs is None:
            raise AssertionError(f"run.py bug: no addresses for {probe} from {rec_str(rec)}")
        expected[rec["tid"]].append(Exp(probe, fd, values, sock, group, rec, addrs))

    def addrs_of(rec, src=None):
        """The four address values a record (or one of its msgs) says, None if unchecked."""
        if not with_addrs:
            return None
        src = rec if src is None else src
        if any(k not in src for k in ADDR_KEYS):
            raise DerivationError(f"{rec_str(rec)}: no addresses, though the scenario's "
                                  f"records carry them")
        return {k: src[k] for k in ADDR_KEYS}

    def null_addrs():
        return dict(NULL_ADDRS) if with_addrs else None

    def table(rec):
        return tables.setdefault(rec["pid"], {})

    def sock_at(rec, fd):
        try:
            return table(rec)[fd]
        except KeyError:
            raise DerivationError(f"{rec_str(rec)}: fd {fd} is not a socket here") from None

    def holders(sock):
        return sum(1 for t in tables.values() for s in t.values() if s is sock)

    def xfer(rec, path, fd, sock, req, ret, uring=False, src=None):
        if uring and DEGRADE.get(REFUSE, {}).get("iter_as_msg") and path in ("aio_write",
                                                                               "aio_read"):
            DECLARED[f"--refuse {REFUSE}: io_uring READ/WRITE reported as SEND/RECV"] += 1
            path = "sendmsg" if path == "aio_write" else "recvmsg"
        g = next(groups)
        addrs = addrs_of(rec, src)
        deg = DEGRADE.get(REFUSE, {})
        if (addrs is not None and not (src or rec).get("connected")
                and sock.family in (AF_INET, AF_INET6)
                and deg.get("null_msg_addr" if path in SEND_PATHS else "null_dgram_src")):
            DECLARED[f"--refuse {REFUSE}: an unconnected socket's message address null"] += \
                len(FANOUT[path])
            addrs = {**addrs, "raddr": None, "rport": None}
        if (addrs is not None and rec["op"] == "sendmmsg" and deg.get("null_mmsg_addr")
                and not (src or rec).get("connected") and sock.family in (AF_INET, AF_INET6)):
            # which message a sendmmsg is sending is the entry hook's to say
            DECLARED[f"--refuse {REFUSE}: sendmmsg messages' destinations null"] += \
                len(FANOUT[path])
            addrs = {**addrs, "raddr": None, "rport": None}
        if (addrs is not None and rec["op"] in NO_ADDR_BUFFER and not (src or rec).get("connected")
                and sock.family in (AF_INET, AF_INET6) and addrs["raddr"] is not None):
            # measured: UDP copies a linear skb out without skb_copy_datagram_iovec (Linux
            # 4.13's copy_linear_skb), and no hook sees such a datagram's source when the
            # caller passed no address buffer (cgroup/recvmsg runs only with one)
            DECLARED["a datagram received without an address buffer (recv, read): raddr "
                     "null"] += len(FANOUT[path])
            addrs = {**addrs, "raddr": None, "rport": None}
        for probe, kind in FANOUT[path]:
            # every event of one message carries the message's ends, its entry's too
            a = addrs
            v = sock.vals(rec)
            if kind == "req":
                v["size"] = None if uring else req  # io_uring: no visible entry
            else:
                v["size"] = ret
                v["success"] = 1 if ret >= 0 else 0
            add(rec, probe, None if uring else fd, sock, v, g, a)

    def create(rec, fd, sock, ok, err):
        g = next(groups)
        v = {"protocol": rec["protocol"], "family": rec["family"], "type": rec["type"],
             "requester": 0}
        # nothing is bound yet
        add(rec, "socket.create", fd, sock, v, g, null_addrs())
        add(rec, "socket.create.return", fd, sock, {**v, "success": ok, "err": err}, g,
            null_addrs())

    def close(rec, fd, vals, sock, addrs=None):
        g = next(groups)
        if with_addrs and addrs is None:
            raise DerivationError(f"{rec_str(rec)}: releases a socket whose addresses no "
                                  f"record gives (addrs scenarios close every socket with "
                                  f"close())")
        add(rec, "socket.close", fd, sock, vals, g, addrs)
        ret_addrs = None
        if addrs is not None:
            ret_addrs = dict(NULL_ADDRS) if CLOSE_RETURN_ADDRS == "null" else dict(addrs)
        add(rec, "socket.close.return", fd, sock, {}, g, ret_addrs)

    def dropped(rec, how):
        """A socket the kernel created, then released before it had an fd."""
        s = Sock(how)
        # Its protocol is known only when it was asked for: the rule the brief gives
        # for socketpair(AF_INET) ("those closes have protocol null"), applied alike.
        vals = {"protocol": rec["protocol"] or None, "family": rec["family"],
                "state": STATE_UNCONNECTED, "flags": FLAGS, "type": rec["type"]}
        return s, vals

    def release_all(rec, fds, claimed, what):
        """Sockets released by one exit/exec/close_range/dup2: model vs. claim."""
        t = table(rec)
        gone = {fd: t.pop(fd) for fd in sorted(fds) if fd in t}
        model, seen = [], set()
        for fd, s in gone.items():
            # a socket with several fds in the range is released once, at the lowest
            if s not in seen and holders(s) == 0:
                model.append(fd)
            seen.add(s)
        if sorted(claimed) != model:
            raise DerivationError(f"{rec_str(rec)}: {what} releases fds {model}, the record "
                                  f"says {sorted(claimed)}")
        # the kernel walks the fd table upwards
        for fd in model:
            close(rec, fd, gone[fd].vals(rec), gone[fd])

    skip = None
    for rec in records:
        op, fd = rec["op"], rec["fd"]
        t = table(rec)
        if op == "socket":
            ret = rec["ret"]
            if ret >= 0:
                s = Sock(f"socket() = {ret} in pid {rec['pid']}")
                t[ret] = s
                if rec.get("cloexec"):
                    cloexec[rec["pid"]].add(ret)
                else:
                    cloexec[rec["pid"]].discard(ret)
                create(rec, ret, s, 1, 0)
            elif ret == -errno.EMFILE:
                # created by __sys_socket(), released for want of an fd
                s, vals = dropped(rec, "socket() dropped at EMFILE")
                create(rec, None, s, 1, 0)
                close(rec, None, vals, s, null_addrs())
            else:
                create(rec, None, None, 0, ret)  # nothing was created
        elif op == "socketpair":
            ret = rec["ret"]
            if ret == 0:
                for nfd in rec["fds"]:
                    s = Sock(f"socketpair() fd {nfd} in pid {rec['pid']}")
                    t[nfd] = s
                    cloexec[rec["pid"]].discard(nfd)
                    create(rec, nfd, s, 1, 0)
            elif ret == -errno.EOPNOTSUPP:
                # both created; the family has no socketpair op; sock2 released, then sock1
                s1, vals = dropped(rec, "socketpair() sock1, EOPNOTSUPP")
                s2, _ = dropped(rec, "socketpair() sock2, EOPNOTSUPP")
                create(rec, None, s1, 1, 0)
                create(rec, None, s2, 1, 0)
                close(rec, None, vals, s2, null_addrs())
                close(rec, None, vals, s1, null_addrs())
            else:
                raise DerivationError(f"{rec_str(rec)}: no rule for this socketpair failure")
        elif op == "sockinfo":
            s = sock_at(rec, fd)
            s.family, s.type, s.protocol, s.state = (rec["family"], rec["type"], rec["protocol"],
                                                     rec["state"])
        elif op == "accept":
            if rec["ret"] >= 0:  # no socket.create for accepted sockets
                t[rec["ret"]] = Sock(f"accept() = {rec['ret']} in pid {rec['pid']}")
                cloexec[rec["pid"]].discard(rec["ret"])
        elif op in XFER_PATH:
            xfer(rec, XFER_PATH[op], fd, sock_at(rec, fd), rec["req"], rec["ret"])
        elif op in MMSG_PATH:
            s = sock_at(rec, fd)
            for m in rec["msgs"]:
                xfer(rec, MMSG_PATH[op], fd, s, m["req"], m["ret"], src=m if with_addrs else None)
        elif op in URING_PATH:
            xfer(rec, URING_PATH[op], fd, sock_at(rec, fd), None, rec["ret"], uring=True)
        elif op == "close":
            if rec["ret"] != 0:
                continue
            s = sock_at(rec, fd)
            del t[fd]
            cloexec[rec["pid"]].discard(fd)
            if rec["releases"] != (holders(s) == 0):
                raise DerivationError(f"{rec_str(rec)}: {s!r} has {holders(s)} other fds")
            if rec["releases"]:
                close(rec, fd, s.vals(rec), s, addrs_of(rec))
        elif op == "dup":
            if rec["ret"] >= 0:
                t[rec["ret"]] = sock_at(rec, fd)
                cloexec[rec["pid"]].discard(rec["ret"])
        elif op == "dup2":
            if rec["ret"] >= 0:
                release_all(rec, [fd], rec["released"], "dup2")
                if rec["oldfd"] in t:
                    t[fd] = t[rec["oldfd"]]
                cloexec[rec["pid"]].discard(fd)
        elif op == "close_range":
            if rec["ret"] == 0:
                fds = [f for f in sorted(t) if fd <= f <= rec["hi"]]
                release_all(rec, fds, rec["released"], "close_range")
        elif op == "exec":
            release_all(rec, sorted(cloexec.pop(rec["pid"], set())), rec["released"], "exec")
        elif op == "exit":
            release_all(rec, sorted(t), rec["released"], "exit")
            del tables[rec["pid"]]
        elif op == "forked":
            tables[rec["pid"]] = dict(tables.get(rec["ppid"], {}))
            cloexec[rec["pid"]] = set(cloexec[rec["ppid"]])
        elif op == "skip":
            skip = rec["reason"]
        elif op == "note":
            NOTES.append(f"{rec['text']} (pid {rec['pid']})")
        elif op in SILENT_OPS:
            pass
        else:
            raise DerivationError(f"{rec_str(rec)}: no rule for op '{op}'")
    return expected, skip


# ---- comparison ----

def render_exp(e, addrs=True):
    parts = [e.probe, "fd=" + ("-" if e.fd is None else str(e.fd))]
    for k in VALUE_ORDER[1:]:
        if k in e.values:
            parts.append("flags=*" if k == "flags" else f"{k}={json.dumps(e.values[k])}")
    if addrs and e.addrs is not None:
        parts += [f"{k}={json.dumps(e.addrs[k])}" for k in ADDR_KEYS]
    return " ".join(parts)


def render_act(ev, addrs=False):
    parts = [str(ev.get("probe")), "fd=" + (json.dumps(ev["fd"]) if "fd" in ev else "-")]
    if ev.get("name") != ev.get("probe"):
        parts.append(f"name={json.dumps(ev.get('name', '<absent>'))}")
    for k in VALUE_ORDER[1:]:
        if k in ev:
            parts.append("flags=*" if k == "flags" else f"{k}={json.dumps(ev[k])}")
    if addrs:
        parts += [f"{k}={json.dumps(ev[k]) if k in ev else '<absent>'}" for k in ADDR_KEYS]
    return " ".join(parts)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
_LIFECYCLE_CREATE = {"socket.create", "socket.create.return"}


def inet_text(family, v):
    """Is v an address of family in its normal text form (inet_ntop's)?"""
    f = socket.AF_INET if family == AF_INET else socket.AF_INET6
    try:
        return socket.inet_ntop(f, socket.inet_pton(f, v)) == v
    except (OSError, ValueError):
        return False


def new_key_faults(ev):
    """Faults of an event's address and task keys: types, and what the family allows. Returned
    as kinds (no values), so that one report covers every event with the same fault."""
    out = []
    for k in ("laddr", "raddr"):
        if k in ev and not (ev[k] is None or (isinstance(ev[k], str) and ev[k])):
            out.append(f"{k} is neither a non-empty string nor null")
    for k in ("lport", "rport"):
        if k in ev and not (ev[k] is None or (is_int(ev[k]) and 0 <= ev[k] <= 65535)):
            out.append(f"{k} is neither a port number nor null")
    if "cgroup" in ev and not (ev["cgroup"] is None or (isinstance(ev["cgroup"], str)
                                                        and ev["cgroup"].startswith("/"))):
        out.append("cgroup is neither a path starting with / nor null")
    if "cgroup_id" in ev and not ((is_int(ev["cgroup_id"]) and ev["cgroup_id"] > 0) or
                                  (ev["cgroup_id"] is None and
                                   DEGRADE.get(REFUSE, {}).get("null_task"))):
        out.append("cgroup_id is not a positive integer")
    if "container" in ev and not (ev["container"] is None or
                                  (isinstance(ev["container"], str)
                                   and HEX64_RE.match(ev["container"]))):
        out.append("container is neither 64 hex digits nor null")
    if "nspid" in ev and not (ev["nspid"] is None or (is_int(ev["nspid"]) and ev["nspid"] > 0)):
        out.append("nspid is neither a positive integer nor null")
    if out or any(k not in ev for k in ADDR_KEYS):
        return out
    fam, probe = ev.get("family"), ev.get("probe")
    vals = [ev[k] for k in ADDR_KEYS]
    if probe in _LIFECYCLE_CREATE and vals != [None] * 4:
        out.append(f"{probe} with addresses (nothing is bound yet)")
    elif fam == AF_UNIX and (ev["lport"], ev["rport"]) != (None, None):
        out.append("a unix socket's event with a port")
    elif fam in (AF_INET, AF_INET6):
        for a, pt in (("laddr", "lport"), ("raddr", "rport")):
            if (ev[a] is None) != (ev[pt] is None):
                out.append(f"INET {a} and {pt}: one null, the other not")
            elif ev[a] is not None and not inet_text(fam, ev[a]):
                out.append(f"{a} is not an {'IPv4' if fam == AF_INET else 'IPv6'} address in "
                           f"normal text form")
    elif is_int(fam) and fam not in (AF_UNIX, AF_INET, AF_INET6) and vals != [None] * 4:
        out.append(f"family {fam} with addresses (only INET, INET6 and unix have them)")
    return out


def compare(expected, events, comm, t0, t1, limit=12, ident=None):
    """Per-thread exact comparison; returns a list of problem lines. ident(pid): the cgroup,
    cgroup_id, container and nspid that pid's events must carry (default: TASK_IDENT)."""
    problems = []
    ident = ident or default_ident
    with_addrs = any(e.addrs is not None for exps in expected.values() for e in exps)
    by_tid = collections.defaultdict(list)
    for ev in events:
        by_tid[ev.get("tid")].append(ev)

    def problem(msg):
        if len(problems) < limit:
            problems.append(msg)
        elif len(problems) == limit:
            problems.append("... (more problems not shown)")

    # keys and types, on every event; one report per kind of fault
    known = set(COMMON_KEYS) | {"fd"} | set(VALUE_ORDER)
    faults = collections.OrderedDict()
    for i, ev in enumerate(events):
        missing = [k for k in COMMON_KEYS if k not in ev]
        extra = [k for k in ev if k not in known]
        if missing or extra:
            faults.setdefault(f"missing keys {missing}, unknown keys {extra}", []).append((i, ev))
        for k in ("ts", "pid", "tid", "uid", "cpu", "sock", "fd"):
            if k == "sock" and ev.get(k) is None:
                continue  # null: no cookie (judged per socket below)
            if k in ev and not (is_int(ev[k]) and ev[k] > (0 if k == "sock" else -1)):
                faults.setdefault(f"{k} is {json.dumps(ev[k])}, not a non-negative integer",
                                  []).append((i, ev))
        for fault in new_key_faults(ev):
            faults.setdefault(fault, []).append((i, ev))
    for fault, evs in faults.items():
        problem(f"{fault} on {len(evs)} events; first (event {evs[0][0] + 1}): "
                f"{json.dumps(evs[0][1])}")

    matched = []
    for tid in sorted(set(expected) | set(by_tid), key=lambda x: (x is None, x or 0)):
        exp, act = expected.get(tid, []), by_tid.get(tid, [])
        el, al = [render_exp(e) for e in exp], [render_act(a, with_addrs) for a in act]
        if el != al and with_addrs and [render_exp(e, False) for e in exp] == \
                [render_act(a) for a in act]:
            # the same events: only addresses differ; list them
            bad = [(e, a) for e, a in zip(exp, act)
                   if [a.get(k, "<absent>") for k in ADDR_KEYS] != [e.addrs[k] for k in ADDR_KEYS]]
            msg = [f"tid {tid}: the events match, but the addresses of {len(bad)} of {len(exp)} "
                   f"differ; the first:"]
            for e, a in bad[:8]:
                msg.append(f"    {render_exp(e, False)}")
                msg.append("      expected " + " ".join(f"{k}={json.dumps(e.addrs[k])}"
                                                      for k in ADDR_KEYS))
                msg.append("      socktap  " + " ".join(
                    f"{k}={json.dumps(a[k]) if k in a else '<absent>'}" for k in ADDR_KEYS))
                msg.append(f"      from {rec_str(e.rec)}")
            problem("\n".join(msg))
        elif el != al:
            diff = list(difflib.unified_diff(el, al, f"expected (tid {tid})",
                                             f"socktap (tid {tid})", n=3, lineterm=""))
            first = next(i for i in range(max(len(el), len(al)) + 1)
                         if i >= len(el) or i >= len(al) or el[i] != al[i])
            msg = [f"tid {tid}: {len(exp)} events expected, {len(act)} reported; first "
                   f"difference at event {first + 1} of this thread:"]
            msg += ["    " + d for d in diff[:40]]
            if len(diff) > 40:
                msg.append(f"    ... ({len(diff) - 40} more diff lines)")
            if first < len(exp):
                msg.append(f"  expected event {first + 1} comes from {rec_str(exp[first].rec)}")
            if first < len(act):
                msg.append(f"  socktap event {first + 1}: {json.dumps(act[first])}")
            problem("\n".join(msg))
            continue
        matched += list(zip(exp, act))
        # ts: realtime ns, non-decreasing within the thread
        last = None
        for i, a in enumerate(act):
            ts = a.get("ts")
            if not is_int(ts):
                continue
            if not (t0 - 10**10 <= ts <= t1 + 10**10):
                problem(f"tid {tid} event {i + 1}: ts {ts} is not within the run "
                        f"({t0}..{t1} ns since the epoch): {render_act(a)}")
            if last is not None and ts < last:
                problem(f"tid {tid} event {i + 1}: ts goes back {last - ts} ns: {render_act(a)} "
                        f"(from {rec_str(exp[i].rec)})")
            last = ts

    # identity: pid/uid/comm and the task keys; flags per operation; sock per socket
    task_faults = collections.OrderedDict()
    group_flags = {}
    cookie_of, sock_of_cookie = {}, {}
    for e, a in matched:
        where = f"{render_act(a)} (from {rec_str(e.rec)})"
        if a.get("pid") != e.rec["pid"] or a.get("uid") != e.rec["uid"]:
            problem(f"pid/uid {a.get('pid')}/{a.get('uid')}, expected "
                    f"{e.rec['pid']}/{e.rec['uid']}: {where}")
        if a.get("comm") != comm:
            problem(f"comm {a.get('comm')!r}, expected {comm!r}: {where}")
        want = ident(e.rec["pid"])
        got = {k: a.get(k, "<absent>") for k in TASK_KEYS}
        if got != want:
            diffs = ", ".join(f"{k} {json.dumps(got[k])} (expected {json.dumps(want[k])})"
                              for k in TASK_KEYS if got[k] != want[k])
            task_faults.setdefault(diffs, []).append(where)
        if "flags" in e.values:
            f = a.get("flags")
            if not (is_int(f) and f >= 0):
                problem(f"flags {f!r} is not a non-negative integer: {where}")
            elif group_flags.setdefault(e.group, f) != f:
                problem(f"flags {f} differs from {group_flags[e.group]} on an earlier event of "
                        f"the same operation: {where}")
        sk = a.get("sock")
        if e.sock is None:
            if sk is not None:
                problem(f"sock {sk}, expected null (no socket was created): {where}")
            continue
        if sk is None:
            reason = next((r for r, probes in RUN_NULLS.items()
                           if probes is None or e.probe in probes), None)
            if reason:
                DECLARED[f"socktap said: {reason}"] += 1
                continue
            deg = DEGRADE.get(REFUSE, {})
            if "null_sock" in deg and (deg["null_sock"] is None or e.probe in deg["null_sock"]):
                DECLARED[f"--refuse {REFUSE}: sock null where that piece made the id"] += 1
                continue
            if BACKEND[-1:] == ["kprobe"]:
                # declared: a kprobe has no BTF-typed socket to make the cookie with
                DECLARED["kprobe backend: sock null where the kernel had made no cookie yet "
                         "(kprobes give no typed socket to make one)"] += 1
                continue
            problem(f"sock null on an event of {e.sock!r}: its cookie must be known: {where}")
            continue
        if not is_int(sk):
            continue  # reported above
        if cookie_of.setdefault(e.sock, sk) != sk:
            problem(f"sock {sk} on an event of {e.sock!r}, which earlier events gave sock "
                    f"{cookie_of[e.sock]}: {where}")
        elif sock_of_cookie.setdefault(sk, e.sock) is not e.sock:
            problem(f"sock {sk} on an event of {e.sock!r}, but it is also "
                    f"{sock_of_cookie[sk]!r}'s: {where}")
    for diffs, wheres in task_faults.items():
        problem(f"{diffs} on {len(wheres)} events; the first: {wheres[0]}")
    return problems


# ---- cgroups and pid namespaces ----

def cgroup2_mount():
    """(mount point, root within the hierarchy) of the first cgroup2 mount, or None."""
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if "-" not in parts:
            continue
        sep = parts.index("-")
        if sep + 1 < len(parts) and parts[sep + 1] == "cgroup2":
            unesc = lambda x: re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), x)
            return unesc(parts[4]), unesc(parts[3])
    return None


def cgroup_of(pid="self"):
    """A process's cgroup v2 path (the "0::" line of /proc/PID/cgroup), or None."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    return line[3:].rstrip("\n")
    except OSError:
        pass
    return None


CONTAINER_RES = (re.compile(r"^(?:docker|cri-containerd|crio|libpod)-([0-9a-f]{64})\.scope$"),
                 re.compile(r"^([0-9a-f]{64})$"))


def container_of(path):
    """The container id a cgroup path names by docker/containerd/CRI-O/podman conventions."""
    for comp in reversed((path or "").split("/")):
        for r in CONTAINER_RES:
            m = r.match(comp)
            if m:
                return m.group(1)
    return None


def task_ident(path, nspid=None):
    """The four task keys an event of a process in cgroup path (relative to the cgroup2 mount)
    must carry."""
    mnt = cgroup2_mount()
    cg_id = None
    if mnt and path is not None:
        try:
            cg_id = os.stat(mnt[0] + (path if path != "/" else "")).st_ino
        except OSError:
            pass
    return {"cgroup": path, "cgroup_id": cg_id, "container": container_of(path), "nspid": nspid}


def self_cgroup():
    """This process's cgroup relative to the cgroup2 mount (the workload inherits it)."""
    mnt, path = cgroup2_mount(), cgroup_of()
    if not mnt or path is None:
        return None
    root = mnt[1].rstrip("/")
    if root and path.startswith(root):
        path = path[len(root):] or "/"
    return path


TASK_IDENT = None  # set in main: what this process's children carry


def default_ident(pid):
    if DEGRADE.get(REFUSE, {}).get("null_task"):
        DECLARED[f"--refuse {REFUSE}: cgroup, cgroup_id and container null"] += 1
        return {**TASK_IDENT, "cgroup": None, "cgroup_id": None, "container": None}
    return TASK_IDENT


# ---- running socktap ----

SUMMARY_RE = re.compile(r"(\d+) events delivered, (\d+) events lost")


# What socktap says it runs without (its "unavailable on this kernel" lines) declares where
# sock may be null: the warning's subject -> the probes it concerns (None: any).
LOSS_NULLS = {
    "socket ids made at sends and receives": None,
    "socket ids made from an fd in the kernel": _LIFECYCLE,
}
RUN_NULLS = {}  # this run's: reason -> probes (set by scenario_test from socktap's stderr)
# What this kernel itself refuses (socktap's "unavailable" lines of a run with nothing
# refused on purpose; e.g. the fd step where task->files is an untrusted pointer): a --refuse
# run shows them too, besides the one line of the piece it refuses.
HOST_NOTES = set()


def unavailable_lines(stderr):
    return [l for l in stderr.splitlines() if "unavailable on this kernel (" in l]


def host_notes():
    p = subprocess.run([SOCKTAP, "trace", *BACKEND, "-o", "/dev/null", "-c", "true"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120, text=True)
    return set(unavailable_lines(p.stderr))


def nulls_declared(stderr):
    out = {}
    for line in stderr.splitlines():
        if "unavailable on this kernel (" not in line:
            continue
        for subject, probes in LOSS_NULLS.items():
            if subject in line:
                out[line.split(": ", 1)[-1][:160]] = probes
    return out


def socktap_env():
    env = dict(os.environ)
    if REFUSE == "selftest":
        env["SOCKTAP_TEST_REFUSAL"] = "1"
    elif REFUSE:
        env["SOCKTAP_REFUSE"] = REFUSE
    return env


def run_trace(fmt, command, out, timeout=120, extra=()):
    t0 = time.time_ns()
    p = subprocess.run([SOCKTAP, "trace", *BACKEND, *extra, "-F", fmt, "-o", out, "-c", command],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                       env=socktap_env())
    t1 = time.time_ns()
    p.stdout = p.stdout.decode("utf-8", "replace")
    p.stderr = p.stderr.decode("utf-8", "replace")
    return p, t0, t1


def check_run(p, nlines, problems):
    """Exit status, the "0 events lost" summary, and that it counts what was written."""
    tail = p.stderr.strip()[-2000:]
    if p.returncode != 0:
        problems.append(f"socktap exited {p.returncode} (the command's status); stderr:\n{tail}")
    if REFUSE:
        # one warning per piece the session runs without, naming why
        notes = [l for l in unavailable_lines(p.stderr) if l not in HOST_NOTES]
        why = "verifier refused st_send" if REFUSE == "selftest" else "refused by SOCKTAP_REFUSE"
        # denied kernel facts: the warning names what the kernel lacks, one per loss
        facts = {"bpf_loop": 1, "task_btf": 1, "task_storage": 0, "task_regs": 0,
                 "syscall_tracepoints": 0}
        if all(p in facts for p in REFUSE.split(",")):
            why = "the kernel has no"
            want = min(2, sum(facts[p] for p in REFUSE.split(",")))
        else:
            want = 1
        if want == 0 and notes:
            problems.append(f"--refuse {REFUSE}: nothing is lost, yet: {notes}")
        elif want and (len(notes) != want or any(why not in n for n in notes)):
            problems.append(f"--refuse {REFUSE}: expected one 'unavailable on this kernel "
                            f"({why}...)' warning; stderr:\n{tail}")
    m = SUMMARY_RE.search(p.stderr)
    if not m or "0 events lost" not in p.stderr:
        problems.append(f"socktap's summary does not say '0 events lost'; stderr:\n{tail}")
    elif int(m.group(1)) != nlines:
        problems.append(f"summary says {m.group(1)} events delivered, output has {nlines}")


def parse_jsonl(text, what, problems):
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            problems.append(f"{what} line {n} is not JSON ({e}): {line[:200]!r}")
    return out


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def trace_scenario(name, fmt, tmpdir):
    """Run one scenario under socktap. Returns (proc, records, output text, t0, t1, problems)."""
    problems = []
    out = os.path.join(tmpdir, f"{name}.{fmt}")
    p, t0, t1 = run_trace(fmt, f"{shlex.quote(WORKLOAD)} {name}", out)
    records = parse_jsonl(p.stdout, "workload ground truth", problems)
    return p, records, read_text(out), t0, t1, problems


def scenario_test(name, tmpdir):
    global RUN_NULLS, REFUSE
    p, records, text, t0, t1, problems = trace_scenario(name, "json", tmpdir)
    # a --refuse run: the kernel's own refusals declare nulls as in a plain run
    RUN_NULLS = nulls_declared(p.stderr if not REFUSE else "\n".join(
        l for l in unavailable_lines(p.stderr) if l in HOST_NOTES))
    events = parse_jsonl(text, "socktap JSON", problems)
    check_run(p, len(text.splitlines()), problems)
    try:
        expected, skip = derive(records)
    except DerivationError as e:
        return [f"ground truth: {e}"] + problems, None
    if skip:
        return problems, skip
    if not records:
        problems.append("the workload printed no ground truth")
    deg = DEGRADE.get(REFUSE, {})
    for tid in expected:
        keep = [e for e in expected[tid] if e.probe not in deg.get("drop", ())
                and not (deg.get("drop_exit_closes") and e.probe in _LIFECYCLE
                         and e.rec["op"] == "exit")]
        if len(keep) != len(expected[tid]):
            DECLARED[f"--refuse {REFUSE}: events of the probes it backs not expected"] += \
                len(expected[tid]) - len(keep)
        expected[tid] = keep
    # the kernel's own sockets (requester = 1, e.g. the private netns's control sockets): a
    # separate subtest judges them; here only what the workload did itself
    mine = [e for e in events if e.get("requester") != 1]
    found = compare(expected, mine, COMM, t0, t1)
    if found and BACKEND[-1:] == ["kprobe"] and any(
            r["op"] in ("uring_write", "uring_read") for r in records):
        # declared: on some kernels (Debian's 5.10) a kprobe's kernel stack does not show
        # sock_write_iter/sock_read_iter under io_uring, so READ/WRITE count as SEND/RECV
        saved, REFUSE = REFUSE, "stack"
        try:
            alt, _ = derive(records)
        finally:
            REFUSE = saved
        if not compare(alt, mine, COMM, t0, t1):
            DECLARED["kprobe backend: io_uring READ/WRITE counted as SEND/RECV (the kernel "
                     "stack at the kprobe does not show sock_*_iter)"] += 1
            found = []
    problems += found
    return problems, None


# ---- cgroups: the task keys and --cgroup ----

def move_out_and_remove(dirs, dest):
    """Move every process of dirs (deepest first) to dest, then rmdir them; bounded."""
    left = []
    for d in dirs:
        for _ in range(50):
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    pids = f.read().split()
            except FileNotFoundError:
                break
            except OSError:
                pids = []
            for pid in pids:
                try:
                    with open(os.path.join(dest, "cgroup.procs"), "w") as f:
                        f.write(pid)
                except OSError:
                    pass  # gone meanwhile
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


def workload_records(text, what, problems):
    recs = parse_jsonl(text, what, problems)
    pids = {r["pid"] for r in recs}
    return recs, pids


def cgroup_test(tmpdir):
    """Events of a process in <mount>/socktap-it-PID/system.slice/docker-<hex>.scope carry that
    cgroup (relative to the cgroup2 mount), its id (the directory's inode) and the container
    id; --cgroup keeps the events of that cgroup and those below it only."""
    mnt = cgroup2_mount()
    if not mnt:
        return [], "no cgroup2 mount in /proc/self/mountinfo"
    mount = mnt[0]
    own = self_cgroup()
    home = mount + (own if own and own != "/" else "")
    hexid = os.urandom(32).hex()
    base_rel = f"/socktap-it-{os.getpid()}"
    leaf_rel = f"{base_rel}/system.slice/docker-{hexid}.scope"
    other_rel = f"{base_rel}/other"
    base, leaf, other = mount + base_rel, mount + leaf_rel, mount + other_rel
    dirs = [leaf, os.path.dirname(leaf), other, base]
    problems = []
    try:
        try:
            os.makedirs(leaf)
            os.makedirs(other)
        except OSError as e:
            return [], f"cannot make cgroups under {mount}: {e}"
        want_in = task_ident(leaf_rel)
        if want_in["cgroup_id"] != os.stat(leaf).st_ino or want_in["container"] != hexid:
            return [f"run.py bug: {want_in}"], None
        procs = shlex.quote(os.path.join(leaf, "cgroup.procs"))
        wl = shlex.quote(WORKLOAD)
        inside = f"echo $$ > {procs}; exec {wl}"

        # 1: one copy in the cgroup, under -c: exact events, each with the cgroup's keys
        out = os.path.join(tmpdir, "cg-c.json")
        p, t0, t1 = run_trace("json", f"sh -c {shlex.quote(inside + ' udp')}", out)
        text = read_text(out)
        events = parse_jsonl(text, "socktap JSON", problems)
        check_run(p, len(text.splitlines()), problems)
        records, pids = workload_records(p.stdout, "workload ground truth", problems)
        try:
            expected, _ = derive(records)
        except DerivationError as e:
            return problems + [f"ground truth: {e}"], None
        mine = [e for e in events if e.get("requester") != 1]
        problems += [f"in the cgroup: {x}" for x in
                     compare(expected, mine, COMM, t0, t1, ident=lambda pid: want_in)]
        kern = [e for e in events if e.get("requester") == 1 and
                {k: e.get(k) for k in TASK_KEYS} != want_in]
        if kern:
            problems.append(f"in the cgroup: {len(kern)} kernel-made socket events (the "
                            f"workload's task) without the cgroup's keys: {json.dumps(kern[0])}")

        # 2: --cgroup (relative, then absolute) under -c with a second copy outside it
        script = os.path.join(tmpdir, "two.sh")
        gt_in, gt_out = os.path.join(tmpdir, "in.jsonl"), os.path.join(tmpdir, "out.jsonl")
        with open(script, "w") as f:
            f.write(f"{wl} udp > {shlex.quote(gt_out)} &\n"
                    f"sh -c {shlex.quote(inside + ' udp')} > {shlex.quote(gt_in)}\n"
                    f"wait $!\n")
        for spec in (base_rel, base):
            tag = f"--cgroup {spec}"
            out = os.path.join(tmpdir, "cg-filter.json")
            t0 = time.time_ns()
            p = subprocess.run([SOCKTAP, "trace", *BACKEND, "--cgroup", spec, "-F", "json",
                                "-o", out, "-c", f"sh {shlex.quote(script)}"],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
                               text=True, errors="replace", env=socktap_env())
            t1 = time.time_ns()
            problems += [f"{tag}: {x}" for x in one_cgroup_run(p, out, gt_in, gt_out, t0, t1,
                                                                 want_in)]
        # a sibling cgroup: nothing of either copy
        out = os.path.join(tmpdir, "cg-other.json")
        p = subprocess.run([SOCKTAP, "trace", *BACKEND, "--cgroup", other_rel, "-F", "json",
                            "-o", out, "-c", f"sh {shlex.quote(script)}"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
                           text=True, errors="replace", env=socktap_env())
        text = read_text(out)
        run_problems = []
        check_run(p, len(text.splitlines()), run_problems)
        problems += [f"--cgroup {other_rel}: {x}" for x in run_problems]
        if text.strip():
            problems.append(f"--cgroup {other_rel} (a sibling of the workload's): "
                            f"{len(text.splitlines())} events, expected none; first: "
                            f"{text.splitlines()[0][:300]}")

        # 3: the whole system (no -c), stopped by SIGINT: both copies run, one is reported
        problems += [f"--cgroup {base_rel}, whole system: {x}"
                     for x in system_cgroup_run(tmpdir, base_rel, inside, want_in)]
    finally:
        left = move_out_and_remove(dirs, home)
        if left:
            problems.append(f"could not remove the cgroups {left}")
    return problems, None


def one_cgroup_run(p, out, gt_in, gt_out, t0, t1, want_in):
    problems = []
    text = read_text(out)
    events = parse_jsonl(text, "socktap JSON", problems)
    check_run(p, len(text.splitlines()), problems)
    rin, pin = workload_records(read_text(gt_in), "ground truth (inside)", problems)
    rout, pout = workload_records(read_text(gt_out), "ground truth (outside)", problems)
    if not rin or not rout:
        return problems + [f"a copy printed no ground truth (inside {len(rin)}, outside "
                           f"{len(rout)} records); stderr: {p.stderr.strip()[-500:]}"]
    leaked = [e for e in events if e.get("pid") in pout]
    if leaked:
        problems.append(f"{len(leaked)} events of the copy outside the cgroup (pid "
                        f"{sorted(pout)}); first: {json.dumps(leaked[0])}")
    strangers = [e for e in events if e.get("pid") not in pin | pout]
    if strangers:
        problems.append(f"{len(strangers)} events of other processes; first: "
                        f"{json.dumps(strangers[0])}")
    try:
        expected, _ = derive(rin)
    except DerivationError as e:
        return problems + [f"ground truth: {e}"]
    mine = [e for e in events if e.get("pid") in pin and e.get("requester") != 1]
    problems += compare(expected, mine, COMM, t0, t1, ident=lambda pid: want_in)
    return problems


READY_S = 120


def system_cgroup_run(tmpdir, base_rel, inside, want_in):
    """socktap trace --cgroup without -c: a probe run in the cgroup shows it is attached (the
    output is flushed every poll), then both copies run; SIGINT ends it."""
    problems = []
    out = os.path.join(tmpdir, "cg-sys.json")
    wl = shlex.quote(WORKLOAD)
    st = subprocess.Popen([SOCKTAP, "trace", *BACKEND, "--cgroup", base_rel, "-F", "json", "-o",
                           out], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="replace",
                          env=socktap_env())
    t0 = time.time_ns()
    probe_pids = set()
    try:
        ready = False
        # start-up is not bounded by -c here: a 5.10 guest under TCG takes ~20 s to load
        # (and reload past its refusals), so wait up to READY_S, bounded in count too
        deadline = time.monotonic() + READY_S
        for _ in range(4 * READY_S):
            if st.poll() is not None or time.monotonic() > deadline:
                break
            r = subprocess.run(["sh", "-c", inside + " badfamily"], capture_output=True,
                               text=True, timeout=30)
            probe_pids |= {x["pid"] for x in parse_jsonl(r.stdout, "probe", problems)}
            time.sleep(0.5)
            if any(e.get("pid") in probe_pids for e in parse_jsonl(read_text(out), "", [])):
                ready = True
                break
        if not ready:
            st.send_signal(signal.SIGINT)
            _, err = st.communicate(timeout=30)
            return problems + [f"socktap ended, or showed none of the probe runs in the "
                               f"cgroup within {READY_S} s; stderr: {err.strip()[-500:]}"]
        a = subprocess.Popen([WORKLOAD, "udp"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        b = subprocess.run(["sh", "-c", inside + " udp"], capture_output=True, text=True,
                           timeout=60)
        a_out, _ = a.communicate(timeout=60)
        rin, pin = workload_records(b.stdout, "ground truth (inside)", problems)
        rout, pout = workload_records(a_out, "ground truth (outside)", problems)
        try:
            expected, _ = derive(rin)
        except DerivationError as e:
            expected = {}
            problems.append(f"ground truth: {e}")
        want_n = sum(len(v) for v in expected.values())
        for _ in range(100):  # the inside copy's events reach the file within ~10 s
            n = sum(1 for e in parse_jsonl(read_text(out), "", [])
                    if e.get("pid") in pin and e.get("requester") != 1)
            if n >= want_n:
                break
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        if st.poll() is None:
            st.send_signal(signal.SIGINT)
        try:
            _, err = st.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            st.kill()
            _, err = st.communicate()
    t1 = time.time_ns()
    text = read_text(out)
    events = parse_jsonl(text, "socktap JSON", problems)
    if st.returncode != 0:
        problems.append(f"socktap exited {st.returncode} after SIGINT: {err.strip()[-500:]}")
    m = SUMMARY_RE.search(err)
    if not m or "0 events lost" not in err:
        problems.append(f"no '0 events lost' summary: {err.strip()[-500:]}")
    if not rin or not rout:
        return problems + ["a copy printed no ground truth"]
    leaked = [e for e in events if e.get("pid") in pout]
    if leaked:
        problems.append(f"{len(leaked)} events of the copy outside the cgroup; first: "
                        f"{json.dumps(leaked[0])}")
    strangers = [e for e in events if e.get("pid") not in pin | probe_pids]
    if strangers:
        problems.append(f"{len(strangers)} events of processes not in the cgroup; first: "
                        f"{json.dumps(strangers[0])}")
    wrong = [e for e in events if {k: e.get(k) for k in TASK_KEYS} != want_in]
    if wrong:
        problems.append(f"{len(wrong)} events without the cgroup's keys {want_in}; first: "
                        f"{json.dumps(wrong[0])}")
    mine = [e for e in events if e.get("pid") in pin and e.get("requester") != 1]
    problems += compare(expected, mine, COMM, t0, t1, ident=lambda pid: want_in)
    return problems


# ---- pid namespaces: nspid ----

def nspid_test(tmpdir):
    """`unshare --pid --fork WORKLOAD udp`: its events carry nspid = the pid it printed (1),
    pid its pid in socktap's namespace; a copy in socktap's namespace, run first by the same
    command, has nspid null."""
    if not shutil.which("unshare"):
        return [], "no unshare(1)"
    problems = []
    out = os.path.join(tmpdir, "nspid.json")
    gt_host = os.path.join(tmpdir, "host.jsonl")
    wl = shlex.quote(WORKLOAD)
    cmd = f"sh -c {shlex.quote(f'{wl} udp > {shlex.quote(gt_host)} && exec unshare --pid --fork {wl} udp')}"
    p, t0, t1 = run_trace("json", cmd, out)
    text = read_text(out)
    events = parse_jsonl(text, "socktap JSON", problems)
    check_run(p, len(text.splitlines()), problems)
    rns = parse_jsonl(p.stdout, "ground truth (pid namespace)", problems)
    rhost = parse_jsonl(read_text(gt_host), "ground truth (socktap's namespace)", problems)
    me = next((r for r in rns if r["op"] == "self"), None)
    if not me or len(me["nspid"]) < 2:
        return problems + [f"the workload is not in a pid namespace of its own: {me}"], None
    host_pid, ns_pid = me["nspid"][0], me["nspid"][-1]
    if me["pid"] != ns_pid or host_pid == ns_pid:
        return problems + [f"NSpid {me['nspid']} but the workload printed pid {me['pid']}"], None
    # the records speak of ns pids; socktap reports pid/tid in its own namespace
    if any(r["pid"] != ns_pid or r["tid"] != ns_pid for r in rns):
        return problems + ["the udp scenario grew a thread or a child: the mapping of its "
                           "pids fails"], None
    rns = [{**r, "pid": host_pid, "tid": host_pid} for r in rns]
    try:
        exp_ns, _ = derive(rns)
        exp_host, _ = derive(rhost)
    except DerivationError as e:
        return problems + [f"ground truth: {e}"], None
    host_pids = {r["pid"] for r in rhost}
    ns_ident = {**TASK_IDENT, "nspid": ns_pid}
    ev_ns = [e for e in events if e.get("pid") == host_pid]
    ev_host = [e for e in events if e.get("pid") in host_pids]
    problems += [f"in the pid namespace: {x}" for x in compare(
        exp_ns, [e for e in ev_ns if e.get("requester") != 1], COMM, t0, t1,
        ident=lambda pid: ns_ident)]
    problems += [f"in socktap's namespace: {x}" for x in compare(
        exp_host, [e for e in ev_host if e.get("requester") != 1], COMM, t0, t1)]
    bad = [e for e in ev_ns if e.get("nspid") != ns_pid or e.get("pid") == e.get("nspid")]
    if bad:
        problems.append(f"{len(bad)} events of pid {host_pid} (the workload, pid {ns_pid} in its "
                        f"namespace) with another nspid; first: {json.dumps(bad[0])}")
    bad = [e for e in ev_host if e.get("nspid") is not None]
    if bad:
        problems.append(f"{len(bad)} events of a process in socktap's own pid namespace with an "
                        f"nspid; first: {json.dumps(bad[0])}")
    others = [e for e in events if e.get("pid") not in host_pids | {host_pid}]
    if others:
        problems.append(f"{len(others)} events of other processes; first: "
                        f"{json.dumps(others[0])}")
    return problems, None


# ---- --addr, --port, --no-addrs on the addrs scenario ----

ADDRS_TCP_PORT, ADDRS_UDP_PORT = 5555, 5556  # workload.c's fixed ports of scenario addrs


def _in(net):
    n = ipaddress.ip_network(net, strict=False)

    def match(a, mapped):
        """True, False, or None where a v4-mapped address meets an IPv4 filter (the contract
        does not say whether ::ffff:127.0.0.3 is 127.0.0.3: both readings are tried)."""
        if a is None or a.startswith("/") or a.startswith("@"):
            return False
        ip = ipaddress.ip_address(a)
        if ip.version == n.version:
            return ip in n
        if ip.version == 6 and ip.ipv4_mapped is not None and n.version == 4:
            return (ip.ipv4_mapped in n) if mapped else False
        return False
    return match


def addr_filter(nets, ports, mapped):
    """keep(addrs): --addr NETS (either end, OR'ed), --port PORTS (either end, OR'ed), both
    kinds AND'ed."""
    tests = [_in(n) for n in nets]

    def keep(a):
        ok = True
        if tests:
            ok = any(t(a[k], mapped) for t in tests for k in ("laddr", "raddr"))
        if ports:
            ok = ok and (a["lport"] in ports or a["rport"] in ports)
        return ok
    return keep


ADDR_FILTERS = [
    (["--addr", "127.0.0.3"], ["127.0.0.3"], []),
    (["--addr", "127.0.0.2/31"], ["127.0.0.2/31"], []),
    (["--addr", "::1"], ["::1"], []),
    (["--addr", "::1", "--addr", "127.0.0.1"], ["::1", "127.0.0.1"], []),
    (["--port", str(ADDRS_TCP_PORT)], [], [ADDRS_TCP_PORT]),
    (["--port", str(ADDRS_UDP_PORT), "--port", str(ADDRS_TCP_PORT)], [],
     [ADDRS_UDP_PORT, ADDRS_TCP_PORT]),
    (["--addr", "127.0.0.2", "--port", str(ADDRS_UDP_PORT)], ["127.0.0.2"], [ADDRS_UDP_PORT]),
]


def addr_filter_test(tmpdir, args, nets, ports):
    """The events of the addrs scenario whose ends match, exactly: the others are left out,
    event by event (a receive's entry on an unconnected socket has no remote end)."""
    problems = []
    out = os.path.join(tmpdir, "filtered.json")
    p, t0, t1 = run_trace("json", f"{shlex.quote(WORKLOAD)} {ADDRS_SCENARIO}", out, extra=args)
    text = read_text(out)
    events = parse_jsonl(text, "socktap JSON", problems)
    check_run(p, len(text.splitlines()), problems)
    records = parse_jsonl(p.stdout, "workload ground truth", problems)
    try:
        expected, _ = derive(records)
    except DerivationError as e:
        return problems + [f"ground truth: {e}"], None
    mine = [e for e in events if e.get("requester") != 1]
    tries = {}
    for mapped in (False, True):
        keep = addr_filter(nets, ports, mapped)
        want = {tid: [e for e in exps if keep(e.addrs)] for tid, exps in expected.items()}
        want = {tid: v for tid, v in want.items() if v}
        tries[mapped] = (sum(map(len, want.values())), compare(want, mine, COMM, t0, t1))
    if tries[False][0] == tries[True][0]:  # no v4-mapped address in question
        del tries[True]
    if not any(found == [] for _, found in tries.values()):
        for mapped, (n, found) in tries.items():
            how = (" (v4-mapped addresses match IPv4 filters)" if mapped else
                   " (v4-mapped addresses do not match IPv4 filters)") if len(tries) > 1 else ""
            problems.append(f"{n} events expected{how}:")
            problems += found
    elif len(tries) > 1:
        NOTES.append(f"{' '.join(args)}: v4-mapped addresses "
                     f"{'match' if tries.get(True, (0, 1))[1] == [] else 'do not match'} "
                     f"IPv4 filters")
    if records and not tries.get(False, tries.get(True))[0]:
        problems.append("run.py bug: the filter keeps no event")
    return problems, None


def no_addrs_test(tmpdir):
    """--no-addrs: the same events, every one with all four address values null."""
    problems = []
    out = os.path.join(tmpdir, "noaddrs.json")
    p, t0, t1 = run_trace("json", f"{shlex.quote(WORKLOAD)} {ADDRS_SCENARIO}", out,
                          extra=["--no-addrs"])
    text = read_text(out)
    events = parse_jsonl(text, "socktap JSON", problems)
    check_run(p, len(text.splitlines()), problems)
    records = parse_jsonl(p.stdout, "workload ground truth", problems)
    try:
        expected, _ = derive(records)
    except DerivationError as e:
        return problems + [f"ground truth: {e}"], None
    for exps in expected.values():
        for e in exps:
            e.addrs = dict(NULL_ADDRS)
    problems += compare(expected, [e for e in events if e.get("requester") != 1], COMM, t0, t1)
    return problems, None


def command_fds_test(tmpdir):
    """-c: the command starts with socktap's fds closed and its fd table the small embedded one
    (fork copies the table sized to the parent's open fds; past 64 the kernel's fd step cannot
    name the command's sockets)."""
    problems = []
    out = os.path.join(tmpdir, "fds.json")
    p, _, _ = run_trace("json", "sh -c 'grep FDSize /proc/self/status; ls /proc/self/fd'", out)
    if p.returncode != 0:
        return [f"socktap exit {p.returncode}: {p.stderr.strip()[-300:]}"]
    m = re.search(r"^FDSize:\s*(\d+)$", p.stdout, re.M)
    if not m:
        return [f"no FDSize line in the command's output: {p.stdout[:200]!r}"]
    if int(m.group(1)) != 64:
        problems.append(f"command's fd table holds {m.group(1)} fds, want 64 (the embedded one)")
    # ls lists its own directory fd too: at most one beyond stdin, stdout and stderr
    fds = sorted(int(w) for w in p.stdout[m.end():].split() if w.isdigit())
    if [f for f in fds if f > 2][1:]:
        problems.append(f"command inherited fds from socktap: {fds}")
    return problems


BULK_PROBES = ("socket.send", "socket.sendmsg", "socket.sendmsg.return", "socket.receive")


def sendfile_test(tmpdir):
    """sendfile(2) and splice(2) to TCP, 3,000,000 bytes each: the kernel decides how many
    sends that makes (per page before 6.5, per batch since), so the check is on totals, against
    the workload's own counts: every send on the socket's fd, the bytes exact, each send's
    sendmsg/sendmsg.return/send triple consistent, and the receiver's bytes likewise."""
    problems = []
    out = os.path.join(tmpdir, "sendfile.json")
    t0 = time.time_ns()
    p = subprocess.run([SOCKTAP, "trace", *BULK_PROBES, *BACKEND, "-F", "json", "-o", out, "-c",
                        f"{shlex.quote(WORKLOAD)} sendfile"], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=120, env=socktap_env())
    p.stdout, p.stderr = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    text = read_text(out)
    check_run(p, len(text.splitlines()), problems)
    recs = parse_jsonl(p.stdout, "workload ground truth", problems)
    events = parse_jsonl(text, "socktap JSON", problems)
    gt = {r["op"]: r for r in recs if r["op"] in ("sendfile", "splice", "bulk_recv")}
    if set(gt) != {"sendfile", "splice", "bulk_recv"}:
        return problems + [f"workload ground truth lacks totals: {sorted(gt)}"]
    pid, fd_c, fd_s = gt["sendfile"]["pid"], gt["sendfile"]["fd"], gt["bulk_recv"]["fd"]
    mine = [e for e in events if e.get("pid") == pid]
    sends = [e for e in mine if e["probe"] == "socket.send"]
    want = gt["sendfile"]["ret"] + gt["splice"]["ret"]
    got = sum(e.get("size", 0) for e in sends)
    if got != want or want != 6000000:
        problems.append(f"socket.send bytes {got}, the workload sent {want} (sendfile "
                        f"{gt['sendfile']['ret']} + splice {gt['splice']['ret']})")
    for probe in ("socket.sendmsg", "socket.sendmsg.return"):
        n = sum(1 for e in mine if e["probe"] == probe)
        if n != len(sends):
            problems.append(f"{n} {probe} events for {len(sends)} socket.send")
    bad_fd = [e for e in mine if e["probe"] != "socket.receive" and e.get("fd") != fd_c]
    if bad_fd:
        problems.append(f"{len(bad_fd)} send events not on the socket's fd {fd_c} (sendfile's "
                        f"out_fd, splice's fd_out); first: {json.dumps(bad_fd[0])}")
    if any(e.get("success") != 1 for e in sends):
        problems.append("a send failed: " + json.dumps(next(e for e in sends if e["success"] != 1)))
    entry = [e for e in mine if e["probe"] == "socket.sendmsg" and e.get("size") is not None]
    if entry:
        problems.append(f"sendmsg entry size must be null (the kernel splits the call): "
                        f"{json.dumps(entry[0])}")
    cookies = {e.get("sock") for e in sends}
    said = nulls_declared(p.stderr)
    if cookies == {None} and any(v is None for v in said.values()):
        DECLARED[f"socktap said: {next(r for r, v in said.items() if v is None)}"] += len(sends)
    elif cookies == {None} and BACKEND[-1:] == ["kprobe"]:
        # declared: a kprobe has no BTF-typed socket to make the cookie with
        DECLARED["kprobe backend: sock null where the kernel had made no cookie yet "
                 "(kprobes give no typed socket to make one)"] += len(sends)
    elif len(cookies) != 1 or None in cookies:
        problems.append(f"the sends' sock values are {sorted(map(str, cookies))}: one socket, "
                        f"one non-null id expected")
    recv = [e for e in mine if e["probe"] == "socket.receive" and e.get("fd") == fd_s]
    rgot = sum(e.get("size", 0) for e in recv)
    if rgot != gt["bulk_recv"]["ret"]:
        problems.append(f"socket.receive bytes on fd {fd_s}: {rgot}, the reader received "
                        f"{gt['bulk_recv']['ret']}")
    if not problems:
        print(f"# sendfile: {len(sends)} kernel sends for {gt['sendfile']['calls']} sendfile and "
              f"{gt['splice']['calls']} splice calls, {got} bytes; {len(recv)} receives")
    return problems


def kernel_sockets_test(tmpdir):
    """requester = 1: the workload's unshare(CLONE_NEWNET) makes the kernel create per-netns
    control sockets. Backends that see __sock_create() must report them (no fd, success);
    the others cannot, which is declared, and must then report none."""
    problems = []
    backing = subprocess.run([SOCKTAP, "list", "-v", "socket.create"], capture_output=True,
                             text=True).stdout
    # list -v names the default backend's mechanism; a forced tracepoint or kprobe backend
    # leaves fexit:__sock_create out
    sees = "fexit:__sock_create" in backing and BACKEND[-1:] not in (["kprobe"], ["tracepoint"])
    p, records, text, t0, t1, probs = trace_scenario("udp", "json", tmpdir)
    problems += probs
    events = parse_jsonl(text, "socktap JSON", problems)
    kern = [e for e in events if e.get("requester") == 1]
    creates = [e for e in kern if e["probe"] == "socket.create"]
    returns = [e for e in kern if e["probe"] == "socket.create.return"]
    if not sees:
        if kern:
            problems.append(f"{len(kern)} requester=1 events from a backend that cannot see "
                            f"__sock_create(): {json.dumps(kern[0])}")
        return problems, ("this backend cannot see kernel-made sockets (requester = 1): only "
                          "fentry on __sock_create() can")
    if not creates or len(creates) != len(returns):
        problems.append(f"expected kernel-made sockets from the private netns: {len(creates)} "
                        f"socket.create, {len(returns)} socket.create.return")
    for e in kern:
        if "fd" in e or e.get("pid") not in {r["pid"] for r in records}:
            problems.append(f"a kernel socket event with an fd or from another process: "
                            f"{json.dumps(e)}")
    for e in returns:
        if e.get("success") != 1 or e.get("err") != 0:
            problems.append(f"kernel socket creation failed?: {json.dumps(e)}")
    return problems, None


CSV_NEW = list(ADDR_KEYS + TASK_KEYS)  # appended after the tapset's columns; empty = null
CSV_HEADER = ["probe", "ts", "pid", "tid", "uid", "comm", "cpu", "sock", "fd", "name", "size",
              "success", "protocol", "family", "state", "flags", "type", "requester",
              "err"] + CSV_NEW
TEXT_RE = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} .*\[(\d+)/(\d+)\] (socket\.\S+)")


def formats_test(name, tmpdir):
    """CSV and text carry the same events as JSON: count, and probe names per thread."""
    problems, counts = [], {}
    for fmt in ("json", "csv", "text"):
        p, records, text, _, _, probs = trace_scenario(name, fmt, tmpdir)
        problems += [f"{fmt}: {x}" for x in probs]
        try:
            expected, _ = derive(records)
        except DerivationError as e:
            problems.append(f"{fmt}: ground truth: {e}")
            continue
        want = {tid: [e.probe for e in evs] for tid, evs in expected.items()}
        seq = collections.defaultdict(list)
        lines = text.splitlines()
        if fmt == "json":
            rows = parse_jsonl(text, "socktap JSON", problems)
            for ev in rows:
                if ev.get("requester") != 1:  # the kernel's own sockets: judged elsewhere
                    seq[ev.get("tid")].append(ev.get("probe"))
            n = len(rows)
        elif fmt == "csv":
            rows = list(csv.reader(lines))
            if not rows or rows[0] != CSV_HEADER:
                problems.append(f"csv: header is {rows[0] if rows else None}, expected "
                                f"{','.join(CSV_HEADER)}")
            rows = rows[1:]
            for i, row in enumerate(rows):
                if len(row) != len(CSV_HEADER):
                    problems.append(f"csv: row {i + 2} has {len(row)} fields: {row}")
                    break
                if row[17] != "1":
                    seq[int(row[3])].append(row[0])
            n = len(rows)
        else:
            for i, line in enumerate(lines):
                m = TEXT_RE.match(line)
                if not m:
                    problems.append(f"text: line {i + 1} not understood: {line!r}")
                    break
                if " requester=1" not in line:
                    seq[int(m.group(2))].append(m.group(3))
            n = len(lines)
        run_problems = []
        check_run(p, n, run_problems)
        problems += [f"{fmt}: {x}" for x in run_problems]
        counts[fmt] = n
        if dict(seq) != want:
            problems.append(f"{fmt}: probe names per thread differ from the expected ones "
                            f"({sum(map(len, seq.values()))} events, "
                            f"{sum(map(len, want.values()))} expected)")
    if len(set(counts.values())) > 1:
        problems.append(f"event counts differ between formats: {counts}")
    return problems


def text_end(addr, port):
    """One end as text shows it: 127.0.0.1:80, [::1]:443, a unix path without a port."""
    if addr is None:
        return None
    if port is None:
        return addr
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def csv_value(key, v):
    if v == "":
        return None
    if key in ("lport", "rport", "cgroup_id", "nspid"):
        try:
            return int(v)
        except ValueError:
            return v
    return v


def formats_addrs_test(tmpdir):
    """CSV's new columns and text's addresses and cgroup, for the addrs scenario: each run
    against its own ground truth (ports are the kernel's choice, different every run)."""
    problems = []
    for fmt in ("csv", "text"):
        p, records, text, _, _, probs = trace_scenario(ADDRS_SCENARIO, fmt, tmpdir)
        problems += [f"{fmt}: {x}" for x in probs]
        try:
            expected, skip = derive(records)
        except DerivationError as e:
            problems.append(f"{fmt}: ground truth: {e}")
            continue
        lines = text.splitlines()
        run_problems = []
        check_run(p, len(lines) - (1 if fmt == "csv" else 0), run_problems)
        problems += [f"{fmt}: {x}" for x in run_problems]
        got = collections.defaultdict(list)  # tid -> [(probe, {key: value}, line)]
        if fmt == "csv":
            rows = list(csv.reader(lines))
            if not rows or rows[0] != CSV_HEADER:
                problems.append(f"csv: header is {rows[0] if rows else None}, expected "
                                f"{','.join(CSV_HEADER)}")
                continue
            col = {k: CSV_HEADER.index(k) for k in CSV_HEADER}
            for i, row in enumerate(rows[1:], 2):
                if len(row) != len(CSV_HEADER):
                    problems.append(f"csv: row {i} has {len(row)} fields: {row}")
                    break
                if row[col["requester"]] == "1":
                    continue
                vals = {k: csv_value(k, row[col[k]]) for k in CSV_NEW}
                got[int(row[col["tid"]])].append((row[0], vals, ",".join(row)))
        else:
            for i, line in enumerate(lines):
                m = TEXT_RE.match(line)
                if not m:
                    problems.append(f"text: line {i + 1} not understood: {line!r}")
                    break
                if " requester=1" not in line:
                    got[int(m.group(2))].append((m.group(3), None, line))
        bad, checked = [], 0
        for tid in sorted(set(expected) | set(got)):
            exp, act = expected.get(tid, []), got.get(tid, [])
            if [e.probe for e in exp] != [a[0] for a in act]:
                problems.append(f"{fmt}: tid {tid}: probe names differ from the expected ones "
                                f"({len(act)} events, {len(exp)} expected)")
                continue
            for e, (probe, vals, line) in zip(exp, act):
                want_task = TASK_IDENT
                if fmt == "csv":
                    want = {**e.addrs, **want_task}
                    if vals != want:
                        bad.append(f"{render_exp(e, False)}\n      expected "
                                   + " ".join(f"{k}={json.dumps(want[k])}" for k in CSV_NEW)
                                   + f"\n      csv row  {line}")
                    checked += 1
                    continue
                le = text_end(e.addrs["laddr"], e.addrs["lport"])
                re_ = text_end(e.addrs["raddr"], e.addrs["rport"])
                # how text shows a null end is socktap's choice: only known ends are checked
                frag = (f" {le} -> {re_}" if le and re_ else f" {le} -> " if le
                        else f"-> {re_}" if re_ else None)
                needs = [x for x in (frag, f" cgroup={want_task['cgroup']}"
                                     if want_task["cgroup"] is not None else None) if x]
                missing = [x for x in needs if x not in line]
                if missing:
                    bad.append(f"{render_exp(e, False)}\n      expected {missing!r} in\n"
                               f"      {line}")
                checked += 1
        if bad:
            problems.append(f"{fmt}: {len(bad)} of {checked} events lack the expected values; "
                            f"the first:\n    " + "\n    ".join(bad[:6]))
        elif not checked:
            problems.append(f"{fmt}: no events checked")
    return problems


# ---- cross-check against strace ----

STRACE_SOCK_RE = re.compile(r"^(\d+)<(TCP|UDP|UNIX|NETLINK|RAW|PING|PACKET|SCTP|MPTCP|socket)")
# strace syscall -> (kind, the probe that opens socktap's fan-out for it)
STRACE_IO = {"sendto": ("send", "socket.sendmsg"), "sendmsg": ("send", "socket.sendmsg"),
             "write": ("send", "socket.aio_write"), "writev": ("send", "socket.writev"),
             "recvfrom": ("receive", "socket.recvmsg"), "recvmsg": ("receive", "socket.recvmsg"),
             "read": ("receive", "socket.aio_read"), "readv": ("receive", "socket.readv")}
OPENING_PROBES = {"socket.sendmsg", "socket.aio_write", "socket.writev", "socket.recvmsg",
                  "socket.aio_read", "socket.readv"}


def strace_calls(text):
    """strace -f -o output -> [(tid, syscall, args, result)], unfinished calls joined."""
    calls, pending = [], {}
    for raw in text.splitlines():
        m = re.match(r"^(\d+)\s+(.*)$", raw)
        if not m:
            continue
        tid, rest = int(m.group(1)), m.group(2)
        if rest.startswith(("---", "+++")):
            continue
        if rest.endswith("<unfinished ...>"):
            pending[tid] = rest[:-len("<unfinished ...>")]
            continue
        r = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", rest)
        if r:
            rest = pending.pop(tid, r.group(1) + "(") + r.group(2)
        c = re.match(r"^(\w+)\((.*)\)\s+=\s+(-?\d+)(.*)$", rest)
        if not c:
            continue
        ret = int(c.group(3))
        if ret == -1:
            e = re.match(r"^\s+(E[A-Z0-9]+)\b", c.group(4))
            if e and hasattr(errno, e.group(1)):
                ret = -getattr(errno, e.group(1))
        calls.append((tid, c.group(1), c.group(2), ret))
    return calls


def strace_expect(calls):
    """What socktap must show for them: {tid: [(kind, path, fd, result)]}."""
    seq = collections.defaultdict(list)
    unsupported = []
    for tid, name, args, ret in calls:
        if name in ("socket", "socketpair"):
            if ret < 0:
                seq[tid].append(("create", None, None, ret))
            elif name == "socket":
                seq[tid].append(("create", None, ret, 0))
            else:
                for fd in re.findall(r"\[(\d+)<[^,]*, (\d+)<", args)[0]:
                    seq[tid].append(("create", None, int(fd), 0))
            continue
        m = STRACE_SOCK_RE.match(args)
        if not m:
            continue  # not a socket
        fd = int(m.group(1))
        if name in STRACE_IO:
            kind, path = STRACE_IO[name]
            seq[tid].append((kind, path, fd, ret))
        elif name == "close" and ret == 0:
            seq[tid].append(("close", None, fd, 0))  # curl never duplicates socket fds
        elif name in ("sendmmsg", "recvmmsg", "preadv", "pwritev", "preadv2", "pwritev2"):
            unsupported.append(name)
    return seq, unsupported


def socktap_sequence(events, pid):
    seq = collections.defaultdict(list)
    path = None
    for ev in events:
        if ev.get("pid") != pid:
            continue
        probe, tid = ev.get("probe"), ev.get("tid")
        if probe in OPENING_PROBES and path is None:
            path = probe
        elif probe in ("socket.send", "socket.receive"):
            seq[tid].append((probe[len("socket."):], path, ev.get("fd"), ev.get("size")))
            path = None
        elif probe == "socket.create.return":
            seq[tid].append(("create", None, ev.get("fd"), ev.get("err")))
        elif probe == "socket.close":
            seq[tid].append(("close", None, ev.get("fd"), 0))
    return seq


def wait_for_port(proc, timeout=15):
    deadline = time.monotonic() + timeout
    buf = ""
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if r:
            chunk = os.read(proc.stdout.fileno(), 4096).decode("utf-8", "replace")
            if not chunk:
                break
            buf += chunk
            m = re.search(r"Serving HTTP on \S+ port (\d+)", buf)
            if m:
                return int(m.group(1)), buf
    return None, buf


def curl_test(tmpdir):
    missing = [t for t in ("curl", "strace") if not shutil.which(t)]
    if missing:
        return [f"{' and '.join(missing)} not installed (apt-get install -y curl strace)"]
    problems = []
    www = os.path.join(tmpdir, "www")
    os.makedirs(www, exist_ok=True)
    size = 100 * 1024
    with open(os.path.join(www, "file"), "wb") as f:
        f.write(os.urandom(size))
    srv = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1",
                            "--directory", www, "0"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        port, banner = wait_for_port(srv)
        if port is None:
            return [f"http.server did not start: {banner!r}"]
        st_out, ev_out = os.path.join(tmpdir, "strace.out"), os.path.join(tmpdir, "curl.json")
        cmd = (f"strace -f -yy -qq -o {shlex.quote(st_out)} "
               f"-e trace=%network,read,write,readv,writev,close "
               f"curl -s -o /dev/null http://127.0.0.1:{port}/file")
        p, _, _ = run_trace("json", cmd, ev_out)
    finally:
        srv.terminate()
        srv.wait()
    text = read_text(ev_out)
    events = parse_jsonl(text, "socktap JSON", problems)
    check_run(p, len(text.splitlines()), problems)
    calls = strace_calls(read_text(st_out))
    if not calls:
        return problems + ["strace recorded nothing"]
    curl_pid = calls[0][0]  # strace -f: its first tracee is the command, curl
    want, unsupported = strace_expect(calls)
    if unsupported:
        problems.append(f"curl used syscalls this check cannot map: {sorted(set(unsupported))}")
    got = socktap_sequence(events, curl_pid)
    if not any(k in ("send", "receive") for s in want.values() for k, *_ in s):
        problems.append("strace shows no socket I/O by curl")
    for tid in sorted(set(want) | set(got)):
        w = [f"{k} {p or ''} fd={fd} result={r}" for k, p, fd, r in want.get(tid, [])]
        g = [f"{k} {p or ''} fd={fd} result={r}" for k, p, fd, r in got.get(tid, [])]
        if w != g:
            diff = list(difflib.unified_diff(w, g, f"strace (tid {tid})", f"socktap (tid {tid})",
                                             n=3, lineterm=""))
            problems.append("curl's socket syscalls differ:\n" +
                            "\n".join("    " + d for d in diff[:40]))
    comms = {ev.get("comm") for ev in events if ev.get("pid") == curl_pid}
    if comms - {"curl"}:
        problems.append(f"curl's events have comm {sorted(comms, key=str)}")
    tcp_in = sum(ev["size"] for ev in events
                 if ev.get("pid") == curl_pid and ev.get("probe") == "socket.receive"
                 and ev.get("family") == 2 and ev.get("type") == 1 and is_int(ev.get("size"))
                 and ev["size"] > 0)
    if not size < tcp_in <= size + 4096:
        problems.append(f"curl received {tcp_in} bytes over TCP per socket.receive; expected the "
                        f"{size}-byte file plus HTTP headers (at most 4 KiB)")
    return problems


# ---- the per-subtest watchdog ----

class SubtestTimeout(Exception):
    pass


def on_subtest_alarm(signum, frame):
    # here, before the exception unwinds: subprocess.run() kills its own child on the way out,
    # which would hide what it was waiting for and orphan the child's children
    raise SubtestTimeout(kill_descendants())


def kill_descendants():
    """SIGKILL every process below this one; return a line for each: its command line, where
    it sleeps in the kernel and its kernel stack (what a hung subtest was waiting for)."""
    children = collections.defaultdict(list)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children[ppid].append(int(pid))
    found, todo = [], [os.getpid()]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    lines = []
    for pid in found:
        def proc(name):
            try:
                with open(f"/proc/{pid}/{name}", "rb") as f:
                    return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            except OSError:
                return "?"
        stack = " < ".join(x.split()[-1] for x in proc("stack").splitlines()[:8])
        lines.append(f"  pid {pid}: {proc('cmdline')[:200]} (wchan {proc('wchan')}; "
                     f"stack {stack})")
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return lines or ["  (no process)"]


# ---- main ----

def main():
    global SOCKTAP, WORKLOAD, COMM, BACKEND, REFUSE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--socktap", default="build/socktap")
    ap.add_argument("--workload", default="build/tests/workload")
    ap.add_argument("--backend", help="pass --backend BACKEND to socktap (tracepoint, fentry, "
                    "kprobe): the same tests, against another mechanism")
    ap.add_argument("--filters", choices=("all", "one"), default="all",
                    help="the address and port filter runs: all of them, or one combining "
                    "both (the VM matrix: each run costs a socktap start under TCG)")
    ap.add_argument("-k", metavar="PATTERN", help="run the subtests whose name contains PATTERN "
                    "(or matches it as a glob)")
    ap.add_argument("--refuse", choices=list(DEGRADE) + ["each"], help="run socktap without "
                    "this optional piece and check the degraded output: the scenarios only; "
                    "'each': every piece in turn")
    ap.add_argument("--subtest-timeout", type=int, default=600, metavar="SEC",
                    help="fail a subtest still running after SEC seconds, say what it was "
                    "waiting for, end its processes and go on (default 600: a TCG VM's pace)")
    args = ap.parse_args()
    if args.refuse == "each":
        rc = 0
        # every piece socktap can go without has its degraded run here: ask socktap for them
        q = subprocess.run([args.socktap, "trace", "-c", "true"], capture_output=True, text=True,
                           env={**os.environ, "SOCKTAP_REFUSE": "?"})
        m = re.search(r"unknown piece '\?' \((.*), or a BPF program", q.stderr)
        pieces = set(m.group(1).split(", ")) if m else set()
        missing = pieces - set(DEGRADE)
        if not pieces or missing:
            print(f"not ok - DEGRADE covers socktap's optional pieces: missing {sorted(missing)}"
                  f" (socktap said: {q.stderr.strip()[:300]})")
            rc = 1
        for piece in DEGRADE:
            argv = [sys.executable, os.path.abspath(__file__), "--socktap", args.socktap,
                    "--workload", args.workload, "--refuse", piece]
            argv += ["--backend", args.backend] if args.backend else []
            argv += ["-k", args.k] if args.k else []
            argv += ["--subtest-timeout", str(args.subtest_timeout)]
            print(f"# --refuse {piece}", flush=True)
            rc |= subprocess.run(argv).returncode
        return rc
    REFUSE = args.refuse
    if os.geteuid() != 0:
        if os.environ.get("SOCKTAP_ALLOW_SKIP") == "1":
            print("SKIP: needs root")
            return 0
        print("integration tests need root (set SOCKTAP_ALLOW_SKIP=1 to skip instead)",
              file=sys.stderr)
        return 1
    SOCKTAP, WORKLOAD = os.path.abspath(args.socktap), os.path.abspath(args.workload)
    BACKEND = ["--backend", args.backend] if args.backend else []
    for path in (SOCKTAP, WORKLOAD):
        if not os.access(path, os.X_OK):
            print(f"not executable: {path}", file=sys.stderr)
            return 1
    # the kernel names a task after the file it executed, 15 bytes at most
    COMM = os.path.basename(os.path.realpath(WORKLOAD))[:15]
    global TASK_IDENT
    TASK_IDENT = task_ident(self_cgroup())
    global HOST_NOTES
    HOST_NOTES = host_notes() if REFUSE else set()
    for note in sorted(HOST_NOTES):
        print(f"# this kernel: {note}", flush=True)

    tests = [(s, lambda d, s=s: scenario_test(s, d)) for s in SCENARIOS]
    if REFUSE:
        tests = [(f"{n} (--refuse {REFUSE})", f) for n, f in tests]
    if not REFUSE:
        tests.append((f"formats: csv and text match json ({FORMATS_SCENARIO})",
                      lambda d: (formats_test(FORMATS_SCENARIO, d), None)))
        tests.append((f"formats: csv columns and text addresses ({ADDRS_SCENARIO})",
                      lambda d: (formats_addrs_test(d), None)))
        tests.append(("cross-check: curl under strace", lambda d: (curl_test(d), None)))
        tests.append(("sendfile and splice: bytes against the workload's counts",
                      lambda d: (sendfile_test(d), None)))
        tests.append(("kernel-made sockets (requester = 1)", kernel_sockets_test))
        tests.append(("-c: the command's fd table is small and holds no socktap fd",
                      lambda d: (command_fds_test(d), None)))
        tests.append(("cgroup: the task keys in a docker-style cgroup, and --cgroup",
                      cgroup_test))
        tests.append(("nspid: a workload in a pid namespace of its own", nspid_test))
        # --filters one (the VM cells): only the last, combined case (an address and a port):
        # what differs between kernels is whether the filter code loads, not its logic
        for fargs, nets, ports in ADDR_FILTERS[-1:] if args.filters == "one" else ADDR_FILTERS:
            tests.append((f"filter {' '.join(fargs)} ({ADDRS_SCENARIO})",
                          lambda d, a=fargs, n=nets, pt=ports: addr_filter_test(d, a, n, pt)))
        if args.filters == "all":
            tests.append((f"--no-addrs ({ADDRS_SCENARIO})", no_addrs_test))
    if args.k:
        tests = [(n, f) for n, f in tests if args.k in n or fnmatch.fnmatch(n, args.k)]
    print(f"1..{len(tests)}")
    passed = failed = skipped = 0
    signal.signal(signal.SIGALRM, on_subtest_alarm)
    for name, fn in tests:
        with tempfile.TemporaryDirectory(prefix="socktap-it-") as d:
            signal.alarm(args.subtest_timeout)
            t0 = time.monotonic()
            try:
                problems, skip = fn(d)
            except subprocess.TimeoutExpired as e:
                problems, skip = [f"timed out: {e}"], None
            except SubtestTimeout as e:
                problems, skip = [f"the subtest took more than {args.subtest_timeout} s; "
                                  "still running then:"] + e.args[0], None
            finally:
                signal.alarm(0)
        took = f"({time.monotonic() - t0:.1f} s)"
        if problems:
            failed += 1
            print(f"not ok - {name} {took}")
            for p in problems:
                for line in p.splitlines():
                    print(f"  # {line}")
        elif skip:
            skipped += 1
            print(f"ok - {name} {took} # SKIP {skip}")
        else:
            passed += 1
            print(f"ok - {name} {took}")
        sys.stdout.flush()
    for reason, n in DECLARED.items():
        print(f"# declared: {reason}: {n} events")
    for note in dict.fromkeys(NOTES):
        print(f"# workload note: {note}")
    print(f"# {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
