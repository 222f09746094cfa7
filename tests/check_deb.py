#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""make deb's packages (debian/, built by dpkg-buildpackage): socktap,
libsocktap0 and libsocktap-dev. Their control fields and maintainer scripts,
their files, lintian, and then, unpacked with dpkg-deb -x into a temporary
root (the host's dpkg database untouched), the packaged programs run and a
program built with the packaged pkg-config file links and runs against the
packaged library.

Usage: check_deb.py build/deb
"""
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, finish  # noqa: E402

debdir = sys.argv[1]
version = re.search(r'#define SOCKTAP_VERSION "(.*?)"', open("include/socktap.h").read()).group(1)


def run(argv, **kw):
    kw.setdefault("timeout", 120)
    try:
        return subprocess.run(argv, capture_output=True, text=True, **kw)
    except OSError as e:  # a program that was not built or not packaged: a failed check
        return subprocess.CompletedProcess(argv, 127, "", str(e))


def out(argv):
    return run(argv).stdout.strip()


arch = out(["dpkg", "--print-architecture"])
multiarch = out(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"])
libdir = f"/usr/lib/{multiarch}"
PKGS = ("socktap", "libsocktap0", "libsocktap-dev")
debs = {p: os.path.join(debdir, f"{p}_{version}_{arch}.deb") for p in PKGS}
changes = os.path.join(debdir, f"socktap_{version}_{arch}.changes")
for p, deb in debs.items():
    check(os.path.isfile(deb), f"{os.path.basename(deb)} was built", deb)
check(os.path.isfile(changes), f"{os.path.basename(changes)} was written", changes)
if not all(os.path.isfile(d) for d in debs.values()):
    finish("check_deb")

# ---- control fields ----
SECTION = {"socktap": "admin", "libsocktap0": "libs", "libsocktap-dev": "libdevel"}
fields = {}
for p, deb in debs.items():
    f = {}
    for key in ("Package", "Version", "Architecture", "Maintainer", "Installed-Size",
                "Depends", "Section", "Priority", "Description", "Multi-Arch", "Source"):
        f[key] = out(["dpkg-deb", "-f", deb, key])
    fields[p] = f
    check(f["Package"] == p and f["Version"] == version and f["Architecture"] == arch
          and f["Section"] == SECTION[p],
          f"{p}: package, version {version} (include/socktap.h), architecture, section",
          {k: f[k] for k in ("Package", "Version", "Architecture", "Section")})
    check(all(f[k] for k in ("Maintainer", "Installed-Size", "Depends", "Priority",
                             "Description")), f"{p}: Maintainer, Depends, Description... set", f)


def depends(p):
    """Package name -> its version constraint (or "")."""
    deps = {}
    for d in fields[p]["Depends"].split(","):
        m = re.match(r"\s*([a-z0-9.+-]+)\s*(?:\((.*)\))?", d)
        if m:
            deps[m.group(1)] = (m.group(2) or "").strip()
    return deps


want = {"libc6", "libbpf1", "zlib1g", "libncursesw6", "libmicrohttpd12", "libgnutls30",
        "libyaml-0-2", "libcrypt1"}
got = depends("socktap")
check(want <= set(got), "socktap Depends: every shared library the programs link",
      f"Depends: {fields['socktap']['Depends']}; missing {sorted(want - set(got))}")
got = depends("libsocktap0")
check({"libc6", "libbpf1"} <= set(got), "libsocktap0 Depends: libc6, libbpf1",
      fields["libsocktap0"]["Depends"])
got = depends("libsocktap-dev")
check(got.get("libsocktap0") == f"= {version}",
      f"libsocktap-dev Depends: libsocktap0 (= {version})", fields["libsocktap-dev"]["Depends"])
# socktap.pc's Requires.private and Libs.private: a static link needs their -dev packages
check({"libbpf-dev", "libelf-dev", "zlib1g-dev"} <= set(got),
      "libsocktap-dev Depends: libbpf-dev, libelf-dev, zlib1g-dev", fields["libsocktap-dev"]["Depends"])
check(fields["libsocktap0"]["Multi-Arch"] == "same"
      and fields["libsocktap-dev"]["Multi-Arch"] == "same", "the library packages are Multi-Arch: same")


def control_member(deb, member):
    r = run(["sh", "-c", f"dpkg-deb --ctrl-tarfile '{deb}' | tar -xO './{member}'"])
    return r.stdout if r.returncode == 0 else None


# the library's symbols file: exactly what src/lib/libsocktap.map exports
exported = set(re.findall(r"^\s+([a-z_0-9]+);", open("src/lib/libsocktap.map").read(), re.M))
symbols = control_member(debs["libsocktap0"], "symbols") or ""
listed = set(re.findall(r"^ ([a-z_0-9]+)@Base ", symbols, re.M))
check(symbols.startswith("libsocktap.so.0 libsocktap0 #MINVER#") and listed == exported
      and len(exported) > 30,
      f"libsocktap0's symbols: libsocktap.so.0, the {len(exported)} functions of libsocktap.map",
      f"not listed: {sorted(exported - listed)}; not exported: {sorted(listed - exported)}")
check((control_member(debs["libsocktap0"], "shlibs") or "").strip()
      == f"libsocktap 0 libsocktap0 (>= {version})",
      "libsocktap0's shlibs", control_member(debs["libsocktap0"], "shlibs"))
check("activate-noawait ldconfig" in (control_member(debs["libsocktap0"], "triggers") or ""),
      "libsocktap0 triggers ldconfig")
# the exporter is installed, not enabled or started (debian/rules: dh_installsystemd
# --no-enable --no-start): postinst re-enables it on upgrade only where the admin had
# (deb-systemd-helper's debian-installed guard), and starts nothing
scripts = {s: control_member(debs["socktap"], s) or "" for s in ("postinst", "prerm", "postrm")}
post = scripts["postinst"]
guard = post.find("if deb-systemd-helper debian-installed 'socktap.service'")
enable = post.find("deb-systemd-helper enable")
check("socktap.service" in post and "deb-systemd-invoke" not in post
      and (enable < 0 or 0 <= guard < enable),
      "socktap's postinst neither enables nor starts socktap.service on install", post)
check("socktap.service" in scripts["postrm"] and "purge" in scripts["postrm"],
      "socktap's postrm forgets socktap.service's state on purge", scripts["postrm"])

# ---- files ----
contents = {}
for p, deb in debs.items():
    r = run(["dpkg-deb", "-c", deb])
    entries = {}
    for line in r.stdout.splitlines():
        parts = line.split(None, 5)
        name, _, target = parts[5].partition(" -> ")
        entries[name.lstrip(".").rstrip("/") or "/"] = (parts[0], parts[1], target)
    contents[p] = entries
    check(r.returncode == 0 and entries and all(e[1] == "root/root" for e in entries.values()),
          f"{p}: every file is root's", [n for n, e in entries.items() if e[1] != "root/root"])


def files(p):
    return {n for n, e in contents[p].items() if not e[0].startswith("d")}


def doc(p):
    return {f"/usr/share/doc/{p}/copyright", f"/usr/share/doc/{p}/changelog.gz"}


expected = {
    "socktap": {"/usr/bin/socktap", "/usr/bin/socktop",
                "/lib/systemd/system/socktap.service",
                "/usr/share/man/man8/socktap.8.gz", "/usr/share/man/man8/socktop.8.gz",
                "/usr/share/bash-completion/completions/socktap",
                "/usr/share/bash-completion/completions/socktop",
                "/usr/share/socktap/prometheus/socktap.rules.yml",
                "/usr/share/socktap/prometheus/socktap.rules.test.yml",
                "/usr/share/doc/socktap/README.md.gz"}
    | doc("socktap"),
    # the runtime package: the library and its SONAME link, nothing a build needs
    "libsocktap0": {f"{libdir}/libsocktap.so.{version}", f"{libdir}/libsocktap.so.0"}
    | doc("libsocktap0"),
    "libsocktap-dev": {"/usr/include/socktap.h", f"{libdir}/libsocktap.a",
                       f"{libdir}/libsocktap.so", f"{libdir}/pkgconfig/socktap.pc",
                       "/usr/share/man/man3/socktap.3.gz"} | doc("libsocktap-dev"),
}
for p in PKGS:
    check(files(p) == expected[p], f"{p}: exactly its {len(expected[p])} files",
          f"missing: {sorted(expected[p] - files(p))}; extra: {sorted(files(p) - expected[p])}")


def entry(p, path):
    return contents[p].get(path, ("", "", ""))


check(entry("socktap", "/usr/bin/socktap")[0] == "-rwxr-xr-x"
      and entry("libsocktap0", f"{libdir}/libsocktap.so.{version}")[0] == "-rw-r--r--"
      and entry("socktap", "/usr/share/man/man8/socktap.8.gz")[0] == "-rw-r--r--",
      "programs 0755, the shared library and data 0644")
check(entry("libsocktap0", f"{libdir}/libsocktap.so.0")[2] == f"libsocktap.so.{version}"
      and entry("libsocktap-dev", f"{libdir}/libsocktap.so")[2] == "libsocktap.so.0"
      and entry("socktap", "/usr/share/bash-completion/completions/socktop")[2] == "socktap",
      "links: libsocktap.so -> libsocktap.so.0 -> the file; socktop's completion -> socktap's")

# the source package is the sources alone: in a git tree, exactly the files git tracks
# (scripts/mkdeb.sh), never a build/ directory
tarball = os.path.join(debdir, f"socktap_{version}.tar.xz")
r = run(["tar", "-tJf", tarball])
prefix = f"socktap-{version}/"
names = {n[len(prefix):] for n in r.stdout.splitlines() if n.startswith(prefix)}
names = {n for n in names if n and not n.endswith("/")}
check(r.returncode == 0 and "debian/rules" in names
      and not [n for n in names if n.startswith("build/")],
      "the source package has debian/ and no build/", r.stderr)
tracked = run(["git", "ls-files"])
if tracked.returncode == 0:
    # dpkg-source leaves git's own files out (its default --tar-ignore)
    want_src = {n for n in tracked.stdout.splitlines() if os.path.lexists(n)
                and os.path.basename(n) not in (".gitignore", ".gitattributes", ".gitmodules")}
    check(names == want_src, "the source package: exactly the files git tracks",
          f"missing: {sorted(want_src - names)[:20]}; extra: {sorted(names - want_src)[:20]}")

# ---- lintian ----
r = run(["lintian", "--pedantic", "--info", changes], timeout=600)
tags = [line for line in r.stdout.splitlines() if re.match(r"^[EWIPX]: ", line)]
errors = [t for t in tags if t.startswith("E: ")]
warnings = [t for t in tags if t.startswith("W: ")]
# exit status 1: it found errors (reported below); 2: it could not check
check(r.returncode in (0, 1), "lintian ran", r.stdout + r.stderr)
check(not errors, "lintian: no errors", "\n".join(errors))
check(not warnings, "lintian: no warnings", "\n".join(warnings))
# an override that matches nothing any more is an info tag: none of those either
check(not tags, "lintian --pedantic --info: no tags at all (an override says why, in debian/source/)",
      "\n".join(tags))

# ---- unpacked: the programs run, the library links ----
tmp = tempfile.mkdtemp(prefix="socktap-deb.")
atexit.register(shutil.rmtree, tmp, ignore_errors=True)
for p, deb in debs.items():
    r = run(["dpkg-deb", "-x", deb, tmp])
    check(r.returncode == 0, f"dpkg-deb -x {p} into a temporary root", r.stderr)
    md5 = control_member(deb, "md5sums") or ""
    r = run(["md5sum", "--check", "--quiet"], cwd=tmp, input=md5)
    check(md5 and r.returncode == 0, f"{p}: md5sums match the files", r.stdout + r.stderr)
root_lib = tmp + libdir
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
# socktap and socktop link libsocktap statically: they call its internal functions (the
# st_* helpers), which libsocktap.so does not export. So no libsocktap0 in their Depends.
r = run(["ldd", exe, os.path.join(tmp, "usr/bin/socktop")])
check(r.returncode == 0 and "not found" not in r.stdout and "libsocktap" not in r.stdout
      and "libsocktap0" not in depends("socktap"),
      "socktap and socktop: every library found, libsocktap linked in", r.stdout)
r = run(["readelf", "-S", exe, os.path.join(root_lib, f"libsocktap.so.{version}")])
check(r.returncode == 0 and ".debug_info" not in r.stdout and ".symtab" not in r.stdout,
      "programs and library are stripped")
r = run(["readelf", "-d", os.path.join(root_lib, f"libsocktap.so.{version}")])
check("Library soname: [libsocktap.so.0]" in r.stdout, "the packaged library's SONAME")
unit = open(os.path.join(tmp, "lib/systemd/system/socktap.service")).read()
check("ExecStart=/usr/bin/socktap serve\n" in unit and "WantedBy=multi-user.target" in unit,
      "socktap.service starts the packaged /usr/bin/socktap", unit)

# a program of the library's users, built with the packaged pkg-config file (its prefix
# rewritten to the temporary root: --define-variable would move libbpf's too), against the
# packaged header and library
pcfile = f"{root_lib}/pkgconfig/socktap.pc"
text = open(pcfile).read()
moved, n = re.subn(r"^prefix=/usr$", f"prefix={tmp}/usr", text, flags=re.M)
open(pcfile, "w").write(moved)
check(n == 1 and f"libdir=${{exec_prefix}}/lib/{multiarch}\n" in text,
      "socktap.pc: prefix /usr, libdir the multiarch directory under it", text)
prog = os.path.join(tmp, "t.c")
with open(prog, "w") as f:
    f.write("""#include <socktap.h>
#include <stdio.h>
#include <sys/socket.h>

int main(void)
{
	int id = socktap_probe_find("socket.send");
	const struct socktap_probe *p = id >= 0 ? socktap_probe_get(id) : NULL;

	printf("%s %s\\n", sock_fam_num2str(AF_INET), p ? p->name : "-");
	return 0;
}
""")
env = dict(os.environ, PKG_CONFIG_PATH=f"{root_lib}/pkgconfig")
pc = ["pkg-config"]
cflags = run(pc + ["--cflags", "socktap"], env=env)
libs = run(pc + ["--libs", "socktap"], env=env)
check(cflags.returncode == 0 and f"-I{tmp}/usr/include" in cflags.stdout.split()
      and libs.returncode == 0 and f"-L{root_lib}" in libs.stdout.split(),
      "pkg-config: the packaged socktap.pc, its paths under its prefix",
      cflags.stdout + cflags.stderr + libs.stdout + libs.stderr)
binary = os.path.join(tmp, "t")
r = run(["cc", "-Wall", "-Werror", "-o", binary, prog] + cflags.stdout.split()
        + libs.stdout.split())
check(r.returncode == 0, "a program builds with pkg-config --cflags --libs socktap", r.stderr)
lenv = dict(os.environ, LD_LIBRARY_PATH=root_lib)
r = run(["ldd", binary], env=lenv)
check(re.search(rf"libsocktap\.so\.0 => {re.escape(root_lib)}/libsocktap\.so\.0 ", r.stdout),
      "it loads the packaged libsocktap.so.0", r.stdout)
r = run([binary], env=lenv)
check(r.returncode == 0 and r.stdout == "INET socket.send\n",
      "it runs: sock_fam_num2str(AF_INET), socktap_probe_find()", r.stdout + r.stderr)
# the packaged static library (by its path, so that no other one can stand in), with
# pkg-config --static's Libs.private: no libsocktap.so needed
slibs = run(pc + ["--static", "--libs", "socktap"], env=env)
static = os.path.join(tmp, "t-static")
r = run(["cc", "-o", static, prog] + cflags.stdout.split()
        + [(f"{root_lib}/libsocktap.a" if a == "-lsocktap" else a) for a in slibs.stdout.split()])
check(slibs.returncode == 0 and "-lsocktap" in slibs.stdout.split() and r.returncode == 0,
      "the same program links libsocktap.a with pkg-config --static --libs", slibs.stdout + r.stderr)
r = run(["readelf", "-d", static])
check(r.returncode == 0 and "libsocktap" not in r.stdout, "... and needs no libsocktap.so")
r = run([static])
check(r.returncode == 0 and r.stdout == "INET socket.send\n", "... and runs",
      r.stdout + r.stderr)

# the man pages read, and name the package's paths
# MAN_DISABLE_SECCOMP: man-db's own sandbox for groff, which some containers refuse; the
# warnings looked for are groff's
menv = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="200", MAN_DISABLE_SECCOMP="1")
for page in ("man8/socktap.8.gz", "man8/socktop.8.gz", "man3/socktap.3.gz"):
    r = run(["man", "--warnings", "-E", "UTF-8", "-l", os.path.join(tmp, "usr/share/man", page)],
            env=menv)
    check(r.returncode == 0 and r.stderr == "" and "/usr/local" not in r.stdout,
          f"{page} reads with man -l, with the package's paths", r.stderr)
    if page == "man8/socktap.8.gz":
        check("/lib/systemd/system/socktap.service" in r.stdout
              and "/usr/lib/systemd/system/socktap.service" not in r.stdout,
              "socktap(8) names the unit where the package has it")
finish("check_deb")
