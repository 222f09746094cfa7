#!/usr/bin/env python3
"""The man pages against the programs: every option each command's --help
prints is in that command's part of socktap(8) (and socktop's in socktop(8)),
every option a page lists is one the command accepts, --help itself names
every option the getopt tables take, socktap(3)'s SYNOPSIS compiles against
include/socktap.h and declares all of it, its EXAMPLE builds against the
library, and every page renders with man -l without a warning.

Usage: check_man.py BUILD_DIR (build: its socktap, socktop, man/ and libsocktap.so)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_options as co  # noqa: E402
from tap import check, finish  # noqa: E402

build = sys.argv[1] if len(sys.argv) > 1 else "build"
SOCKTAP = os.path.join(build, "socktap")
SOCKTOP = os.path.join(build, "socktop")
PAGES = {name: os.path.join(build, "man", name)
         for name in ("socktap.8", "socktop.8", "socktap.3")}


def deroff(line):
    """A roff line as the words it shows: escapes resolved, macro names and quotes gone."""
    line = re.sub(r"\\f(?:\[[^]]*\]|\(..|.)", "", line)
    line = line.replace("\\-", "-").replace("\\&", "").replace("\\(dq", '"')
    line = line.replace("\\(aq", "'").replace("\\e", "\\")
    if line.startswith("."):
        line = re.sub(r"^\.\w+\s?", "", line).replace('"', "")
    return line


def sections(path):
    """{title: [roff lines]} for every .SH and .SS (an .SS also belongs to its .SH)."""
    out, sh, ss = {}, None, None
    for line in open(path).read().splitlines():
        m = re.match(r'^\.(SH|SS)\s+"?(.*?)"?\s*$', line)
        if m:
            if m.group(1) == "SH":
                sh, ss = m.group(2), None
                out[sh] = []
            else:
                ss = m.group(2)
                out[ss] = []
            continue
        for key in (sh, ss):
            if key is not None:
                out[key].append(line)
    return out


def text_of(lines):
    return "\n".join(deroff(l) for l in lines if not l.startswith('.\\"'))


def listed_options(lines):
    """The options a section lists: those in the tag line after each .TP."""
    tags = [lines[i + 1] for i, l in enumerate(lines[:-1]) if l.strip() == ".TP"]
    return co.options_in(text_of(tags))


missing_page = [p for p in PAGES.values() if not os.path.isfile(p)]
check(not missing_page, "the man pages are built", f"missing: {missing_page} (make all)")
if missing_page:
    sys.exit(1)
page8 = sections(PAGES["socktap.8"])
filters = text_of(page8.get("FILTERS", []))
check(co.options_in(filters) >= {"-p", "-n", "-u", "-f", "-P", "-t", "--addr", "--port",
                                 "--cgroup"}, "socktap(8) has its FILTERS section")

# socktap's own options
top_help = co.help_text([SOCKTAP, "--help"])
accepted = co.global_source_options()
told = co.global_help_options(top_help)
check(accepted <= told, "socktap --help names every global option main.c takes",
      f"not in --help: {sorted(accepted - told)}")
glob = page8.get("GLOBAL OPTIONS", [])
check(told <= co.options_in(text_of(glob)), "socktap(8) GLOBAL OPTIONS has socktap --help's",
      f"missing: {sorted(told - co.options_in(text_of(glob)))}")
check(listed_options(glob) <= accepted, "socktap(8) lists no global option main.c lacks",
      f"stale: {sorted(listed_options(glob) - accepted)}")

synopsis = text_of(page8.get("SYNOPSIS", []))
for cmd in co.subcommands():
    section = page8.get(f"socktap {cmd}")
    check(section is not None and re.search(rf"\b{cmd}\b", synopsis) is not None,
          f"socktap(8) has the {cmd} command, in SYNOPSIS and COMMANDS")
    if section is None or cmd not in co.COMMAND_SOURCES:
        continue
    accepted = co.source_options(cmd)
    told = co.options_in(co.help_text([SOCKTAP, cmd, "--help"]))
    check(accepted - co.HELP <= told, f"socktap {cmd} --help names every option it takes",
          f"accepted but not in --help: {sorted(accepted - co.HELP - told)}")
    text = text_of(section)
    # the shared filters are described once; a command that takes them says so
    documented = co.options_in(text) | (co.options_in(filters) if "FILTERS" in text else set())
    check(told <= documented, f"socktap(8) documents every option of socktap {cmd} --help",
          f"missing: {sorted(told - documented)}")
    check(listed_options(section) <= accepted,
          f"socktap(8) lists no option socktap {cmd} does not take",
          f"stale: {sorted(listed_options(section) - accepted)}")

# socktop(8)
top8 = sections(PAGES["socktop.8"])
accepted = co.socktop_source_options()
told = co.options_in(co.help_text([SOCKTOP, "-h"]))
check(accepted <= told, "socktop -h names every option it takes",
      f"not in -h: {sorted(accepted - told)}")
documented = co.options_in(text_of(top8.get("OPTIONS", [])))
check(told <= documented, "socktop(8) documents every option of socktop -h",
      f"missing: {sorted(told - documented)}")
check(listed_options(top8.get("OPTIONS", [])) <= accepted,
      "socktop(8) lists no option socktop does not take",
      f"stale: {sorted(listed_options(top8.get('OPTIONS', [])) - accepted)}")

# socktap(3): the SYNOPSIS is the header's API, as the compiler sees both
tmp = tempfile.mkdtemp(prefix="socktap-man.")
page3 = sections(PAGES["socktap.3"])
syn = [deroff(l) for l in page3.get("SYNOPSIS", [])
       if not re.match(r"^\.(nf|fi|PP)\b", l)]
syn_c = os.path.join(tmp, "synopsis.c")
# the header first, so that a prototype that differs from it is a conflicting declaration
open(syn_c, "w").write('#include "socktap.h"\n' + "\n".join(syn) + "\n")
r = subprocess.run(["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Iinclude",
                    "-fsyntax-only", syn_c], capture_output=True, text=True)
check(r.returncode == 0, "socktap(3) SYNOPSIS compiles against include/socktap.h", r.stderr)
aux = os.path.join(tmp, "aux")
subprocess.run(["gcc", "-fsyntax-only", "-aux-info", aux, "-x", "c", "include/socktap.h"],
               check=True)
api = {m.group(2) for m in (re.match(r"/\* (\S+):\d+:\w+ \*/ .*?(\w+) \(", l)
                            for l in open(aux)) if m and m.group(1).endswith("include/socktap.h")}
in_syn = set(re.findall(r"(\w+)\(", "\n".join(syn)))
check(len(api) > 30 and api == in_syn, f"socktap(3) SYNOPSIS declares the header's {len(api)} "
      "functions, no other", f"not in SYNOPSIS: {sorted(api - in_syn)}; not in the header: "
      f"{sorted(in_syn - api)}")
structs = set(re.findall(r"^struct (socktap_\w+) \{", open("include/socktap.h").read(), re.M))
text3 = text_of(sum(page3.values(), []))
check(structs and all(f"struct {s}" in text3 for s in structs),
      f"socktap(3) describes the header's {len(structs)} structs",
      f"not named: {sorted(s for s in structs if f'struct {s}' not in text3)}")
example = page3.get("EXAMPLE", [])
try:
    code = example[example.index(".EX") + 1:example.index(".EE")]
except ValueError:
    code = []
ex_c = os.path.join(tmp, "example.c")
open(ex_c, "w").write("\n".join(deroff(l) for l in code) + "\n")
r = subprocess.run(["gcc", "-Wall", "-Wextra", "-Werror", "-Iinclude", "-o",
                    os.path.join(tmp, "example"), ex_c, "-L" + build, "-lsocktap"],
                   capture_output=True, text=True)
check(code and r.returncode == 0, "socktap(3) EXAMPLE builds against libsocktap", r.stderr)
shutil.rmtree(tmp)

# Rendering: man-db's man, as a user runs it; missing is a failure (scripts/deps.sh has it)
man = shutil.which("man")
check(man is not None, "man is installed (man-db; scripts/deps.sh installs it)")
# MAN_DISABLE_SECCOMP: man-db's own sandbox for groff, which some containers refuse; the
# warnings looked for are groff's
env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80", MAN_DISABLE_SECCOMP="1")
for name, path in PAGES.items():
    if man is None:
        break
    r = subprocess.run([man, "--warnings", "-E", "UTF-8", "-l", path], capture_output=True,
                       text=True, env=env)
    check(r.returncode == 0 and r.stderr == "" and len(r.stdout) > 500,
          f"man -l {name} renders without warnings", r.stderr or f"exit {r.returncode}")
finish("check_man")
