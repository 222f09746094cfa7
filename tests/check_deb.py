#!/usr/bin/env python3
"""make deb's package: its control fields (Depends from dpkg-shlibdeps), the
files make install puts there in Debian's form (man pages gzipped, copyright,
changelog, the library's links, root-owned), and the packaged programs,
unpacked, run.

Usage: check_deb.py build/socktap_VERSION_ARCH.deb
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, finish  # noqa: E402

deb = sys.argv[1]
version = re.search(r'#define SOCKTAP_VERSION "(.*?)"', open("include/socktap.h").read()).group(1)
arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                      check=True).stdout.strip()


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


check(os.path.basename(deb) == f"socktap_{version}_{arch}.deb" and os.path.isfile(deb),
      f"the package is socktap_{version}_{arch}.deb", deb)

# control: the fields, and the shared libraries the programs link as dependencies
fields = {}
for key in ("Package", "Version", "Architecture", "Maintainer", "Installed-Size", "Depends",
            "Section", "Description"):
    r = run(["dpkg-deb", "-f", deb, key])
    fields[key] = r.stdout.strip()
check(fields["Package"] == "socktap" and fields["Version"] == version
      and fields["Architecture"] == arch, "dpkg-deb -I: package, version, architecture",
      fields)
check(all(fields[k] for k in fields), "dpkg-deb -I: every field is set",
      [k for k in fields if not fields[k]])
depends = {d.split()[0] for d in fields["Depends"].split(", ")}
want = {"libc6", "libbpf1", "zlib1g", "libncursesw6", "libmicrohttpd12", "libgnutls30",
        "libyaml-0-2", "libcrypt1"}
check(want <= depends, "Depends has every shared library the programs link",
      f"Depends: {fields['Depends']}; missing {sorted(want - depends)}")
r = run(["dpkg-deb", "-I", deb])
check("shlibs" in r.stdout and "triggers" in r.stdout and "md5sums" in r.stdout,
      "the control archive has shlibs, the ldconfig trigger and md5sums", r.stdout)
for member, want_text in (("shlibs", f"libsocktap 0 socktap (>= {version})"),
                          ("triggers", "activate-noawait ldconfig")):
    r = run(["dpkg-deb", "-I", deb, member])
    check(r.stdout.strip() == want_text, f"{member}: {want_text}", r.stdout)

# the files, root-owned
r = run(["dpkg-deb", "-c", deb])
entries = {}
for line in r.stdout.splitlines():
    parts = line.split(None, 5)
    path = parts[5].split(" -> ")[0].lstrip(".")
    entries[path] = (parts[0], parts[1], parts[5])
check(r.returncode == 0 and all(e[1] == "root/root" for e in entries.values()),
      "dpkg-deb -c: every file is root's", [p for p, e in entries.items() if e[1] != "root/root"])
expected = ["/usr/bin/socktap", "/usr/bin/socktop", "/usr/include/socktap.h",
            f"/usr/lib/libsocktap.so.{version}", "/usr/lib/libsocktap.so.0",
            "/usr/lib/libsocktap.so", "/usr/lib/libsocktap.a", "/usr/lib/pkgconfig/socktap.pc",
            "/usr/lib/systemd/system/socktap.service",
            "/usr/share/man/man8/socktap.8.gz", "/usr/share/man/man8/socktop.8.gz",
            "/usr/share/man/man3/socktap.3.gz",
            "/usr/share/bash-completion/completions/socktap",
            "/usr/share/bash-completion/completions/socktop",
            "/usr/share/doc/socktap/copyright", "/usr/share/doc/socktap/changelog.Debian.gz",
            "/usr/share/doc/socktap/LICENSE", "/usr/share/doc/socktap/LICENSES/GPL-2.0.txt",
            "/usr/share/doc/socktap/LICENSES/LGPL-2.1.txt",
            "/usr/share/doc/socktap/LICENSES/BSD-2-Clause.txt",
            "/usr/share/socktap/prometheus/socktap.rules.yml"]
missing = [p for p in expected if p not in entries]
check(not missing, f"dpkg-deb -c: the {len(expected)} files make install puts there",
      f"missing: {missing}")
modes = {p: entries[p][0] for p in expected if p in entries}
check(modes.get("/usr/bin/socktap") == "-rwxr-xr-x"
      and modes.get(f"/usr/lib/libsocktap.so.{version}") == "-rw-r--r--"
      and modes.get("/usr/share/man/man8/socktap.8.gz") == "-rw-r--r--",
      "programs 0755, the shared library and data 0644", modes)
check("-> libsocktap.so.0" in entries.get("/usr/lib/libsocktap.so", ("", "", ""))[2]
      and f"-> libsocktap.so.{version}" in entries.get("/usr/lib/libsocktap.so.0",
                                                       ("", "", ""))[2],
      "libsocktap.so -> libsocktap.so.0 -> the file")
check(not [p for p in entries if re.search(r"/man\d/[^/]+\.\d$", p)], "no man page uncompressed")

# unpacked, the programs run, the man pages read, and nothing carries debug sections
tmp = tempfile.mkdtemp(prefix="socktap-deb.")
r = run(["dpkg-deb", "-x", deb, tmp])
check(r.returncode == 0, "dpkg-deb -x unpacks it", r.stderr)
exe = os.path.join(tmp, "usr/bin/socktap")
r = run([exe, "version"])
check(r.returncode == 0 and r.stdout == f"socktap {version}\n", "the packaged socktap runs",
      r.stdout + r.stderr)
r = run([exe, "list"])
check(r.returncode == 0 and len(r.stdout.splitlines()) == 22, "packaged socktap list: 22 probes",
      r.stderr)
r = run([os.path.join(tmp, "usr/bin/socktop"), "-h"])
check(r.returncode == 1 and r.stdout.startswith("USAGE: socktop"), "the packaged socktop runs",
      r.stdout + r.stderr)
r = run(["readelf", "-S", exe, os.path.join(tmp, f"usr/lib/libsocktap.so.{version}")])
check(r.returncode == 0 and ".debug_info" not in r.stdout, "programs and library are stripped")
r = run(["readelf", "-d", os.path.join(tmp, f"usr/lib/libsocktap.so.{version}")])
check("Library soname: [libsocktap.so.0]" in r.stdout, "the packaged library's SONAME")
# MAN_DISABLE_SECCOMP: man-db's own sandbox for groff, which some containers refuse; the
# warnings looked for are groff's
env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80", MAN_DISABLE_SECCOMP="1")
for page in ("man8/socktap.8.gz", "man8/socktop.8.gz", "man3/socktap.3.gz"):
    r = run(["man", "--warnings", "-E", "UTF-8", "-l", os.path.join(tmp, "usr/share/man", page)],
            env=env)
    check(r.returncode == 0 and r.stderr == "" and "/usr/local" not in r.stdout,
          f"{page} reads with man -l, with the package's paths", r.stderr)
r = run(["md5sum", "--check", "--quiet"], cwd=tmp,
        input=run(["dpkg-deb", "-I", deb, "md5sums"]).stdout)
check(r.returncode == 0, "md5sums match the files", r.stdout + r.stderr)
shutil.rmtree(tmp)
finish("check_deb")
