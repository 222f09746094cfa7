#!/usr/bin/env python3
"""libsocktap's ABI: the shared library exports exactly the functions that
include/socktap.h declares (and src/lib/libsocktap.map lists), under a
versioned SONAME; the header compiles as C (C99, C11, GNU11) and as C++, and
programs in either language link against the shared library and run.

Usage: check_abi.py BUILD_DIR (build)
"""
import os
import re
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, finish  # noqa: E402

build = sys.argv[1] if len(sys.argv) > 1 else "build"
HEADER = "include/socktap.h"
MAP = "src/lib/libsocktap.map"


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


tmp = tempfile.mkdtemp(prefix="socktap-abi.")

# What the header declares, as the compiler sees it (no parsing of C here):
# -aux-info writes one line per function declared, with the file it is in.
aux = os.path.join(tmp, "aux")
r = run(["gcc", "-fsyntax-only", "-aux-info", aux, "-x", "c", HEADER])
check(r.returncode == 0, "gcc reads the header's declarations", r.stderr)
declared = set()
if r.returncode == 0:
    for line in open(aux):
        m = re.match(r"/\* (\S+):\d+:\w+ \*/ .*?(\w+) \(", line)
        if m and os.path.samefile(m.group(1), HEADER):
            declared.add(m.group(2))
check(len(declared) > 30, f"the header declares the API ({len(declared)} functions)",
      f"got {sorted(declared)}")

text = re.sub(r"/\*.*?\*/", "", open(MAP).read(), flags=re.S)
m = re.search(r"global:(.*?)local:\s*\*;", text, re.S)
listed = set(re.findall(r"(\w+);", m.group(1))) if m else set()
check(listed == declared, f"{MAP} lists exactly the header's functions",
      f"only in the header: {sorted(declared - listed)}; only in the map: "
      f"{sorted(listed - declared)}")

so = os.path.join(build, "libsocktap.so")
r = run(["nm", "-D", "--defined-only", so])
exported = {l.split()[-1] for l in r.stdout.splitlines() if l.strip()}
check(r.returncode == 0 and exported == declared,
      f"nm -D {so}: exactly the header's functions ({len(exported)} symbols)",
      f"{r.stderr}exported but not declared: {sorted(exported - declared)}; declared but "
      f"not exported: {sorted(declared - exported)}")
check("st_command_spawn" not in exported and "st_probes" not in exported,
      "internals (st_command_spawn, st_probes) are not exported")

# SONAME libsocktap.so.MAJOR; the file itself libsocktap.so.VERSION, with the
# SONAME and the development name as symlinks to it.
version = re.search(r'#define SOCKTAP_VERSION "(.*?)"', open(HEADER).read()).group(1)
r = run(["readelf", "-d", so])
m = re.search(r"\(SONAME\)\s+Library soname: \[(.*?)\]", r.stdout)
soname = m.group(1) if m else None
check(soname is not None and re.fullmatch(r"libsocktap\.so\.\d+", soname) is not None
      and f"libsocktap.so.{version}".startswith(soname + "."),
      f"SONAME {soname} is libsocktap.so.MAJOR of version {version}", r.stdout[-500:])
real = os.path.join(build, f"libsocktap.so.{version}")
check(os.path.isfile(real) and not os.path.islink(real)
      and soname is not None and os.readlink(os.path.join(build, soname)) == os.path.basename(real)
      and os.readlink(so) == soname,
      f"{so} -> {soname} -> libsocktap.so.{version} (the file)")

# The header alone, as C and C++, with every warning the standard modes give
C_USE = r"""#include <socktap.h>
#include <stdio.h>
int main(void)
{
	SOCKTAP_OPTS(o, .no_addrs = true);
	const struct socktap_probe *p = socktap_probe_get(SOCKTAP_PROBE_SEND);
	printf("%s %d %s %zu\n", p->name, socktap_probe_find("socket.close.return"),
	       sock_prot_num2str(6), o.sz);
	return 0;
}
"""
CXX_USE = r"""#include <socktap.h>
#include <cstdio>
int main()
{
	struct socktap_opts o = {};
	o.sz = sizeof(o);
	const struct socktap_probe *p = socktap_probe_get(SOCKTAP_PROBE_SEND);
	std::printf("%s %d %s %zu\n", p->name, socktap_probe_find("socket.close.return"),
		    sock_prot_num2str(6), o.sz);
	return 0;
}
"""
c_src = os.path.join(tmp, "use.c")
cxx_src = os.path.join(tmp, "use.cc")
open(c_src, "w").write(C_USE)
open(cxx_src, "w").write(CXX_USE)
strict = ["-Wall", "-Wextra", "-pedantic", "-Werror", "-Iinclude"]
for std in ("c99", "c11", "gnu11"):
    r = run(["gcc", f"-std={std}", *strict, "-fsyntax-only", c_src])
    check(r.returncode == 0, f"the header compiles as C (gcc -std={std} -pedantic -Werror)",
          r.stderr)
for std in ("c++11", "c++17"):
    r = run(["g++", f"-std={std}", *strict, "-fsyntax-only", "-x", "c++", cxx_src])
    check(r.returncode == 0, f"the header compiles as C++ (g++ -std={std} -pedantic -Werror)",
          r.stderr)

# Programs link against the shared library (by its SONAME) and run
want = "socket.send 21 TCP"
env = dict(os.environ, LD_LIBRARY_PATH=os.path.abspath(build))
for lang, cc, src in (("C", "gcc", c_src), ("C++", "g++", cxx_src)):
    exe = os.path.join(tmp, "use-" + cc)
    r = run([cc, "-Iinclude", "-o", exe, src, "-L" + build, "-lsocktap"])
    out = run([exe], env=env) if r.returncode == 0 else None
    needed = run(["readelf", "-d", exe]).stdout if r.returncode == 0 else ""
    check(r.returncode == 0 and out.returncode == 0 and out.stdout.startswith(want)
          and f"[{soname}]" in needed,
          f"a {lang} program links against {soname} and runs",
          r.stderr + (out.stdout + out.stderr if out else ""))

# An internal function is not there to link against
bad = os.path.join(tmp, "internal.c")
open(bad, "w").write("int st_command_spawn(void);\nint main(void) { return st_command_spawn(); }\n")
r = run(["gcc", "-o", os.path.join(tmp, "internal"), bad, "-L" + build, "-lsocktap"])
check(r.returncode != 0 and "st_command_spawn" in r.stderr,
      "linking against an internal function (st_command_spawn) fails", r.stderr)

subprocess.run(["rm", "-rf", tmp])
finish("check_abi")
