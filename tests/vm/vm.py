#!/usr/bin/env python3
"""Run commands on other kernels: Debian's own linux-image-cloud-amd64 of three
releases booted under qemu with TCG (KVM does not work on the build host), from a
gzip'd cpio initramfs holding busybox, socktap, its tests and what they need.

  vm.py image [--kernel K]    download/unpack kernel K and check busybox (cached in build/vm)
  vm.py run [--kernel K] [--timeout S] -- SHELL-COMMAND
                              build the initramfs from the current build/, boot kernel K,
                              run the command in /socktap (the repository's layout), print
                              its output, exit with its status
  vm.py kernels               the kernel names and the Debian suites they come from

K is one of KERNELS' names (5.10: bullseye, 6.1: bookworm, the default, 6.12:
trixie). The package is fetched with apt's own tools from a private sources list,
state and cache under build/vm/apt/SUITE (the host's sources lists are not used,
only the mirror named in them, and nothing under /etc/apt changes), and unpacked with `dpkg -x`, never installed on the host. The cloud kernel has no 9p,
so files travel in the initramfs and results come back on the serial console,
framed by markers.
"""
import argparse
import collections
import gzip
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, "build", "vm")
BEGIN, END = "@@SOCKTAP-VM-BEGIN@@", "@@SOCKTAP-VM-EXIT"

# what the tests run inside the guest, besides the repository's build/ and tests/
HOST_PROGRAMS = ["/usr/bin/python3", "/usr/bin/strace", "/usr/bin/curl", "/usr/bin/taskset",
                 "/usr/bin/setpriv", "/usr/bin/unshare", "/usr/bin/env", "/usr/sbin/bpftool"]
PY_SKIP = {"test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip", "pydoc_data",
           "distutils", "dist-packages", "site-packages", "venv"}


def sh(*argv, **kw):
    return subprocess.run(argv, check=True, **kw)


# name -> the Debian suites (main, newest version wins) its linux-image-cloud-amd64 comes from
KERNELS = {
    "5.10": ("bullseye", "bullseye-security"),
    "6.1": ("bookworm", "bookworm-security"),
    "6.12": ("trixie", "trixie-security"),
}
DEFAULT_KERNEL = "6.1"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def host_mirror():
    """The Debian mirror the host's own apt sources use: (archive URL, security URL)."""
    texts = []
    for path in ["/etc/apt/sources.list"] + sorted(
            os.path.join("/etc/apt/sources.list.d", f)
            for f in (os.listdir("/etc/apt/sources.list.d")
                      if os.path.isdir("/etc/apt/sources.list.d") else [])
            if f.endswith((".list", ".sources"))):
        try:
            with open(path) as f:
                texts.append(f.read())
        except OSError:
            pass
    uris = []
    for text in texts:
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            m = re.match(r"URIs:\s*(.*)", line) or re.match(r"deb\s+(?:\[[^]]*\]\s+)?(\S+)", line)
            if m:
                uris += m.group(1).split()
    archive = next((u.rstrip("/") for u in uris if re.search(r"/debian/?$", u)), None)
    if not archive:
        archive = "http://deb.debian.org/debian"
        print(f"# vm: no Debian mirror in the host's apt sources, using {archive}", file=sys.stderr)
    security = next((u.rstrip("/") for u in uris if re.search(r"/debian-security/?$", u)),
                    archive + "-security")
    return archive, security


def apt_options(suites):
    """apt-get/apt-cache options for a private sources list, state and cache."""
    d = os.path.join(CACHE, "apt", suites[0])
    for sub in ("lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    archive, security = host_mirror()
    if not os.path.exists(KEYRING):
        sys.exit(f"vm: {KEYRING} is missing (apt-get install debian-archive-keyring)")
    lines = [f"deb [signed-by={KEYRING}] {security if s.endswith('-security') else archive} "
             f"{s} main" for s in suites]
    sources = os.path.join(d, "sources.list")
    text = "\n".join(lines) + "\n"
    changed = not os.path.exists(sources) or open(sources).read() != text
    if changed:
        with open(sources, "w") as f:
            f.write(text)
    opts = ["-o", f"Dir::Etc::sourcelist={sources}", "-o", "Dir::Etc::sourceparts=-",
            "-o", f"Dir::State::Lists={d}/lists", "-o", f"Dir::Cache={d}/cache",
            "-o", "Dir::Etc::preferences=/dev/null", "-o", "Dir::Etc::preferencesparts=-",
            "-o", "APT::Get::List-Cleanup=0"]
    return opts, d, changed


def kernel_package(kernel, refresh=False):
    """linux-image-cloud-amd64 of kernel's suites -> the versioned package name."""
    opts, d, changed = apt_options(KERNELS[kernel])
    stamp = os.path.join(d, "updated")
    if refresh or changed or not os.path.exists(stamp):
        p = subprocess.run(["apt-get", *opts, "-q", "update"], capture_output=True, text=True)
        if p.returncode != 0 or re.search(r"^(W|E): ", p.stdout + p.stderr, re.M):
            sys.exit(f"vm: apt-get update for {kernel} ({' '.join(KERNELS[kernel])}) failed:\n"
                     f"{p.stdout}{p.stderr}")
        open(stamp, "w").close()
    out = subprocess.run(["apt-cache", *opts, "depends", "linux-image-cloud-amd64"],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"Depends: (linux-image-\S+-cloud-amd64)", out)
    if not m:
        sys.exit(f"vm: cannot resolve linux-image-cloud-amd64 for {kernel}: {out!r}")
    return m.group(1), opts


def image(kernel=DEFAULT_KERNEL, refresh=False):
    """Kernel + busybox, cached: downloaded once per kernel version."""
    os.makedirs(CACHE, exist_ok=True)
    pkg, opts = kernel_package(kernel, refresh)
    kdir = os.path.join(CACHE, pkg)
    if not os.path.exists(os.path.join(kdir, "ok")):
        err = download(pkg, opts, kdir)
        if err and not refresh:
            # lists from an earlier run may name a version the mirror no longer has
            pkg, opts = kernel_package(kernel, refresh=True)
            kdir = os.path.join(CACHE, pkg)
            err = download(pkg, opts, kdir)
        if err:
            sys.exit(f"vm: apt-get download {pkg} failed:\n{err}")
    boot = os.path.join(kdir, "root", "boot")
    vmlinuz = next(os.path.join(boot, f) for f in os.listdir(boot) if f.startswith("vmlinuz"))
    # busybox-static: the guest has no libc of its own for the shell
    busybox = "/bin/busybox"
    if subprocess.run(["dpkg", "-s", "busybox-static"], capture_output=True).returncode != 0:
        sys.exit("vm: busybox-static is needed (scripts/deps.sh installs it)")
    return pkg, vmlinuz, busybox


def download(pkg, opts, kdir):
    """apt-get download pkg, dpkg -x it into kdir/root; an error text, or None."""
    shutil.rmtree(kdir, ignore_errors=True)
    # apt downloads as its sandbox user (_apt): give it a directory of its own
    dl = os.path.join(kdir, "download")
    os.makedirs(dl)
    if os.geteuid() == 0 and _has_user("_apt"):
        shutil.chown(dl, user="_apt")
    p = subprocess.run(["apt-get", *opts, "-q", "download", pkg], cwd=dl, capture_output=True,
                       text=True)
    debs = [f for f in os.listdir(dl) if f.endswith(".deb")]
    if p.returncode != 0 or len(debs) != 1:
        return p.stdout + p.stderr
    sh("dpkg", "-x", os.path.join(dl, debs[0]), "root", cwd=kdir)
    shutil.rmtree(dl)
    open(os.path.join(kdir, "ok"), "w").close()
    return None


def _has_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def libs_of(path):
    """The shared libraries a program loads, with the dynamic loader."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    found = set()
    for line in out.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m and os.path.exists(m.group(1)):
            found.add(m.group(1))
    return found


class Cpio:
    """newc cpio writer: the kernel's initramfs format."""

    def __init__(self):
        self.out = bytearray()
        self.ino = 1
        self.seen = set()

    def _hdr(self, name, mode, size, nlink=1):
        self.ino += 1
        fields = [self.ino, mode, 0, 0, nlink, int(time.time()), size, 0, 0, 0, 0,
                  len(name) + 1, 0]
        self.out += b"070701" + b"".join(b"%08X" % f for f in fields)
        self.out += name.encode() + b"\0"
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name):
        parts = name.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.seen:
                self.seen.add(d)
                self._hdr(d, stat.S_IFDIR | 0o755, 0, 2)

    def file(self, name, data, mode=0o755):
        name = name.strip("/")
        if name in self.seen:
            return
        self.dir(os.path.dirname(name))
        self.seen.add(name)
        self._hdr(name, stat.S_IFREG | mode, len(data))
        self.out += data + b"\0" * (-len(data) % 4)

    def symlink(self, name, target):
        name = name.strip("/")
        if name in self.seen:
            return
        self.dir(os.path.dirname(name))
        self.seen.add(name)
        t = target.encode()
        self._hdr(name, stat.S_IFLNK | 0o777, len(t))
        self.out += t + b"\0" * (-len(t) % 4)

    def copy(self, host, guest=None):
        guest = guest or host
        if os.path.islink(host) and not os.path.isabs(os.readlink(host)):
            self.symlink(guest, os.readlink(host))
            self.copy(os.path.join(os.path.dirname(host), os.readlink(host)))
            return
        with open(host, "rb") as f:
            self.file(guest, f.read(), os.stat(host).st_mode & 0o777)

    def tree(self, host, guest, skip=()):
        for dirpath, dirnames, filenames in os.walk(host):
            dirnames[:] = [d for d in dirnames if d not in skip]
            rel = os.path.relpath(dirpath, host)
            for fn in filenames:
                src = os.path.join(dirpath, fn)
                if os.path.isfile(src):
                    self.copy(src, os.path.normpath(os.path.join(guest, rel, fn)))

    def finish(self):
        self._hdr("TRAILER!!!", 0, 0)
        return bytes(self.out)


INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/usr/local/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
mount -t bpf none /sys/fs/bpf 2>/dev/null
ip link set lo up
hostname socktap-vm
cd /socktap
echo "@@SOCKTAP-VM-BEGIN@@ $(uname -r)"
sh /run.sh
echo "@@SOCKTAP-VM-EXIT $?@@"
poweroff -f
"""


def initramfs(busybox, command):
    c = Cpio()
    for d in ["proc", "sys", "dev", "tmp", "run", "root", "etc", "bin", "usr/bin", "socktap"]:
        c.dir(d)
    c.copy(busybox, "/bin/busybox")
    c.file("/init", INIT.encode())
    c.file("/run.sh", (command + "\n").encode())
    c.file("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    c.file("/etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    c.file("/etc/hosts", b"127.0.0.1 localhost\n::1 localhost\n")
    c.file("/etc/nsswitch.conf", b"passwd: files\ngroup: files\nhosts: files\n")
    libs = set()
    for prog in HOST_PROGRAMS:
        real = os.path.realpath(prog)
        if os.path.exists(real):
            c.copy(real, prog)
            libs |= libs_of(real)
    # NSS for getpwnam (files) is loaded at run time, not linked
    for extra in ["/lib/x86_64-linux-gnu/libnss_files.so.2"]:
        if os.path.exists(extra):
            libs.add(extra)
    # the repository's binaries and tests, at the same paths under /socktap
    build = os.path.join(ROOT, "build")
    for dirpath, _, filenames in os.walk(build):
        # debsrc: make deb's copy of the sources, left by a failed package build
        if os.path.relpath(dirpath, build).startswith(("vm", "src", "debsrc")):
            continue
        for fn in filenames:
            p = os.path.join(dirpath, fn)
            if os.access(p, os.X_OK) and not fn.endswith((".o", ".d", ".so", ".so.0")):
                c.copy(p, "/socktap/" + os.path.relpath(p, ROOT))
                libs |= libs_of(p)
    c.tree(os.path.join(ROOT, "tests"), "/socktap/tests")
    c.tree(os.path.join(ROOT, "bench"), "/socktap/bench")
    for lib in libs:
        c.copy(lib)
        if os.path.realpath(lib) != lib:
            c.copy(os.path.realpath(lib))
    py = "/usr/lib/python3.11"
    if os.path.isdir(py):
        c.tree(py, py, skip=PY_SKIP | {d for d in os.listdir(py) if d.startswith("config-")})
    return gzip.compress(c.finish(), compresslevel=1)


def run(command, timeout, smp, mem, kernel=DEFAULT_KERNEL, console=False):
    """Boot a guest that runs command; its exit status (124: timed out, 125: no status)."""
    status, reached_init = boot(command, timeout, smp, mem, kernel, console)
    if status == 125 and not reached_init:
        # The emulated guest kernel died before our init ran (seen once: a fault in
        # sched_clock_cpu during 6.12's initcalls under TCG): nothing under test had
        # run yet, so one more boot, once. A guest that dies after our init started
        # is never retried.
        print("# vm: the guest died before its init ran; booting it once more", flush=True)
        status, _ = boot(command, timeout, smp, mem, kernel, console)
    return status


def boot(command, timeout, smp, mem, kernel, console):
    pkg, vmlinuz, busybox = image(kernel)
    initrd = os.path.join(CACHE, f"initramfs-{kernel}.cpio.gz")
    with open(initrd, "wb") as f:
        f.write(initramfs(busybox, command))
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-smp", str(smp), "-m", mem,
            "-kernel", vmlinuz, "-initrd", initrd, "-nographic", "-no-reboot",
            "-append", "console=ttyS0 panic=-1 " + ("" if console else "quiet loglevel=3")]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         errors="replace", stdin=subprocess.DEVNULL)
    # a guest that hangs prints nothing: a timer ends it, not the next line
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    status, inside, began, before = None, False, False, collections.deque(maxlen=40)
    try:
        for line in p.stdout:
            line = line.rstrip("\r\n")
            if BEGIN in line:
                inside = began = True
                print(f"# vm: {pkg}, kernel {line.split(BEGIN, 1)[1].strip()}, booted in "
                      f"{time.monotonic() - t0:.1f} s", flush=True)
                continue
            m = re.search(re.escape(END) + r" (\d+)@@", line)
            if m:
                status = int(m.group(1))
                inside = False
                continue
            if inside or console:
                print(line, flush=True)
            else:
                before.append(line)
        p.wait(timeout=30)
    finally:
        timer.cancel()
        if p.poll() is None:
            p.kill()
            p.wait()
    if status is None:
        if time.monotonic() - t0 >= timeout:
            print(f"# vm: timed out after {timeout:.0f} s", flush=True)
            return 124, began
        print("# vm: the guest ended without reporting a status (kernel panic?); its console "
              "before that:", flush=True)
        for line in before:
            print("#   " + line, flush=True)
        return 125, began
    print(f"# vm: exit {status} after {time.monotonic() - t0:.1f} s", flush=True)
    return status, began


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    kernel = dict(choices=sorted(KERNELS), default=DEFAULT_KERNEL,
                  help=f"which Debian kernel (default {DEFAULT_KERNEL})")
    i = sub.add_parser("image")
    i.add_argument("--kernel", **kernel)
    i.add_argument("--refresh", action="store_true", help="apt-get update the private lists")
    sub.add_parser("kernels")
    r = sub.add_parser("run")
    r.add_argument("--kernel", **kernel)
    r.add_argument("--timeout", type=float, default=1800)
    r.add_argument("--smp", type=int, default=2)
    r.add_argument("--mem", default="2G")
    r.add_argument("--console", action="store_true", help="show the whole serial console")
    r.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.cmd == "kernels":
        for k, suites in KERNELS.items():
            print(k, " ".join(suites))
        return 0
    if a.cmd == "image":
        print(" ".join(image(a.kernel, a.refresh)[:2]))
        return 0
    cmd = " ".join(a.command[1:] if a.command[:1] == ["--"] else a.command)
    return run(cmd or "uname -a", a.timeout, a.smp, a.mem, a.kernel, a.console)


if __name__ == "__main__":
    sys.exit(main())
