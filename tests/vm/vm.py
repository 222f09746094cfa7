#!/usr/bin/env python3
"""Run commands on an older kernel: Debian 12's own linux-image-*-cloud-amd64
(6.1) booted under qemu with TCG (KVM does not work on the build host), from a
gzip'd cpio initramfs holding busybox, socktap, its tests and what they need.

  vm.py image                 download/unpack the kernel and busybox (cached in build/vm)
  vm.py run [--timeout S] -- SHELL-COMMAND
                              build the initramfs from the current build/, boot, run the
                              command in /socktap (the repository's layout), print its
                              output, exit with its status

The kernel package is unpacked with `dpkg -x`, never installed on the host. The
cloud kernel has no 9p, so files travel in the initramfs and results come back
on the serial console, framed by markers.
"""
import argparse
import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
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


def kernel_package():
    out = subprocess.run(["apt-cache", "depends", "linux-image-cloud-amd64"], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"Depends: (linux-image-\S+-cloud-amd64)", out)
    if not m:
        sys.exit("vm: cannot resolve linux-image-cloud-amd64 (apt-get update?)")
    return m.group(1)


def image():
    """Kernel + busybox, cached: downloaded once per kernel version."""
    os.makedirs(CACHE, exist_ok=True)
    pkg = kernel_package()
    kdir = os.path.join(CACHE, pkg)
    if not os.path.exists(os.path.join(kdir, "ok")):
        shutil.rmtree(kdir, ignore_errors=True)
        os.makedirs(kdir)
        sh("apt-get", "download", "-q", pkg, cwd=kdir, stdout=subprocess.DEVNULL,
           stderr=subprocess.DEVNULL)
        deb = next(f for f in os.listdir(kdir) if f.endswith(".deb"))
        sh("dpkg", "-x", deb, "root", cwd=kdir)
        os.unlink(os.path.join(kdir, deb))
        open(os.path.join(kdir, "ok"), "w").close()
    boot = os.path.join(kdir, "root", "boot")
    vmlinuz = next(os.path.join(boot, f) for f in os.listdir(boot) if f.startswith("vmlinuz"))
    # busybox-static: the guest has no libc of its own for the shell
    busybox = "/bin/busybox"
    if subprocess.run(["dpkg", "-s", "busybox-static"], capture_output=True).returncode != 0:
        sys.exit("vm: busybox-static is needed (scripts/deps.sh installs it)")
    return pkg, vmlinuz, busybox


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
        if os.path.relpath(dirpath, build).startswith(("vm", "src")):
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


def run(command, timeout, smp, mem):
    pkg, vmlinuz, busybox = image()
    initrd = os.path.join(CACHE, "initramfs.cpio.gz")
    with open(initrd, "wb") as f:
        f.write(initramfs(busybox, command))
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-smp", str(smp), "-m", mem,
            "-kernel", vmlinuz, "-initrd", initrd, "-nographic", "-no-reboot",
            "-append", "console=ttyS0 panic=-1 quiet loglevel=3"]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         errors="replace")
    status, inside = None, False
    try:
        for line in p.stdout:
            line = line.rstrip("\r\n")
            if time.monotonic() - t0 > timeout:
                raise subprocess.TimeoutExpired(argv, timeout)
            if BEGIN in line:
                inside = True
                print(f"# vm: {pkg}, kernel {line.split(BEGIN, 1)[1].strip()}, booted in "
                      f"{time.monotonic() - t0:.1f} s", flush=True)
                continue
            m = re.search(re.escape(END) + r" (\d+)@@", line)
            if m:
                status = int(m.group(1))
                inside = False
                continue
            if inside:
                print(line, flush=True)
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        print(f"# vm: timed out after {timeout} s", flush=True)
        return 124
    if status is None:
        print("# vm: the guest ended without reporting a status (kernel panic?)", flush=True)
        return 125
    print(f"# vm: exit {status} after {time.monotonic() - t0:.1f} s", flush=True)
    return status


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("image")
    r = sub.add_parser("run")
    r.add_argument("--timeout", type=float, default=1800)
    r.add_argument("--smp", type=int, default=2)
    r.add_argument("--mem", default="2G")
    r.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.cmd == "image":
        print(" ".join(image()[:2]))
        return 0
    cmd = " ".join(a.command[1:] if a.command[:1] == ["--"] else a.command)
    return run(cmd or "uname -a", a.timeout, a.smp, a.mem)


if __name__ == "__main__":
    sys.exit(main())
