#!/usr/bin/env python3
"""The bash completion (dist/bash-completion/socktap), sourced in a bare bash
and asked as bash would ask it: it offers the commands, each command's
options exactly as its --help names them (so the two stay in sync, as
bpftool's do), option values exactly as the program's error messages list
them, probe names from `socktap list`, and takes a word after an option as
that option's value exactly when the getopt tables say it has one.

Usage: check_completion.py BUILD_DIR (build: its socktap and socktop)
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_options as co  # noqa: E402
from tap import check, finish  # noqa: E402

build = sys.argv[1] if len(sys.argv) > 1 else "build"
SOCKTAP = os.path.abspath(os.path.join(build, "socktap"))
SOCKTOP = os.path.abspath(os.path.join(build, "socktop"))
COMPLETION = os.path.abspath("dist/bash-completion/socktap")


def bash_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def complete(words, func="_socktap"):
    """COMPREPLY for the words of a command line, the last being the one completed.
    Words are as bash splits them: '--format=j' is '--format', '=', 'j'."""
    script = (f"source {bash_quote(COMPLETION)} || exit 99\n"
              f"COMP_WORDS=({' '.join(bash_quote(w) for w in words)})\n"
              f"COMP_CWORD={len(words) - 1}\n"
              f"COMP_LINE={bash_quote(' '.join(words))}\nCOMP_POINT=${{#COMP_LINE}}\n"
              f"{func} {bash_quote(words[0])} {bash_quote(words[-1])} "
              f"{bash_quote(words[-2] if len(words) > 1 else '')} || exit 98\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                       text=True, timeout=30, cwd="/")
    if r.returncode != 0 or r.stderr:
        raise RuntimeError(f"{words}: exit {r.returncode}: {r.stderr}")
    return [l for l in r.stdout.split("\n") if l]


def error_values(argv):
    """The valid values a message lists: "... unknown format 'x' (text, json or csv)"."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    m = re.search(r"\(([^()]*)\)\s*$", r.stderr.strip())
    if r.returncode != 2 or not m:
        raise RuntimeError(f"{argv}: exit {r.returncode}, {r.stderr!r}")
    return set(re.split(r", | or ", m.group(1)))


def same(name, got, want):
    check(set(got) == set(want) and len(got) == len(set(got)), name,
          f"offered {sorted(got)}; want {sorted(want)}")


check(shutil.which("bash") is not None, "bash is installed")
r = subprocess.run(["bash", "--norc", "-n", COMPLETION], capture_output=True, text=True)
check(r.returncode == 0, "the completion is valid bash", r.stderr)

# commands and options, against what the programs say
same("socktap <TAB>: the commands", complete([SOCKTAP, ""]), co.subcommands())
same("socktap -<TAB>: the global options", complete([SOCKTAP, "-"]),
     co.global_help_options(co.help_text([SOCKTAP, "--help"])))
for cmd in co.COMMAND_SOURCES:
    told = co.options_in(co.help_text([SOCKTAP, cmd, "--help"])) | co.HELP
    same(f"socktap {cmd} -<TAB>: the options of its --help", complete([SOCKTAP, cmd, "-"]),
         told)
    same(f"socktap -j {cmd} -<TAB>: the same after a global option",
         complete([SOCKTAP, "-j", cmd, "-"]), told)
same("socktop -<TAB>: the options of socktop -h", complete([SOCKTOP, "-"], "_socktop"),
     co.options_in(co.help_text([SOCKTOP, "-h"])))
same("socktap trace --ba<TAB>", complete([SOCKTAP, "trace", "--ba"]), ["--backend"])
same("socktap top --hi<TAB>", complete([SOCKTAP, "top", "--hi"]), ["--hist", "--hist-by"])

# a word after an option is its value exactly when the option takes one
for cmd in co.COMMAND_SOURCES:
    all_opts = co.options_in(co.help_text([SOCKTAP, cmd, "--help"])) | co.HELP
    with_arg = co.source_options(cmd, with_arg=True)
    wrong = [o for o in sorted(co.source_options(cmd))
             if (set(complete([SOCKTAP, cmd, o, "-"])) == all_opts) == (o in with_arg)]
    check(not wrong, f"socktap {cmd}: a value follows exactly the options that take one",
          f"wrong for {wrong} (taking a value: {sorted(with_arg)})")
top_opts = set(complete([SOCKTOP, "-"], "_socktop"))
with_arg = co.socktop_source_options(with_arg=True)
wrong = [o for o in sorted(co.socktop_source_options())
         if (set(complete([SOCKTOP, o, "-"], "_socktop")) == top_opts) == (o in with_arg)]
check(not wrong, "socktop: a value follows exactly the options that take one", f"wrong: {wrong}")

# values, against the lists the programs' own messages give
for words, argv in (
        (["trace", "-F"], ["trace", "-F", "x"]),
        (["trace", "--format"], ["trace", "-F", "x"]),
        (["top", "-F"], ["top", "-F", "x"]),
        (["trace", "--backend"], ["trace", "--backend", "x"]),
        (["top", "--backend"], ["top", "--backend", "x"]),
        (["serve", "--backend"], ["serve", "--backend", "x"]),
        (["trace", "--syscall-hooks"], ["trace", "--syscall-hooks", "x"]),
        (["top", "--syscall-hooks"], ["top", "--syscall-hooks", "x"]),
        (["serve", "--syscall-hooks"], ["serve", "--syscall-hooks", "x"]),
        (["top", "--by"], ["top", "--by", "x"]),
        (["top", "-b"], ["top", "--by", "x"]),
        (["top", "-s"], ["top", "-s", "x"]),
        (["top", "--hist"], ["top", "--hist", "x"]),
        (["top", "--hist-by"], ["top", "--hist-by", "x"]),
        (["serve", "--labels"], ["serve", "--labels", "x"])):
    same(f"socktap {' '.join(words)} <TAB>: what its message lists",
         complete([SOCKTAP, *words, ""]), error_values([SOCKTAP, *argv]))
same("socktap trace -F j<TAB>", complete([SOCKTAP, "trace", "-F", "j"]), ["json"])
same("socktap trace --format=c<TAB>", complete([SOCKTAP, "trace", "--format", "=", "c"]),
     ["csv"])
same("socktap serve --labels comm,pr<TAB>", complete([SOCKTAP, "serve", "--labels", "comm,pr"]),
     ["comm,protocol"])
same("socktap serve --labels +cg<TAB>", complete([SOCKTAP, "serve", "--labels", "+cg"]),
     ["+cgroup"])
# the names offered for -f, -P and -t are ones the filters take
for opt in ("-f", "-P", "-t"):
    offered = complete([SOCKTAP, "trace", opt, ""])
    refused = [v for v in offered
               if subprocess.run([SOCKTAP, "trace", opt, v, "--help"], capture_output=True,
                                 timeout=30).returncode != 0]
    check(len(offered) >= 5 and not refused, f"socktap trace {opt} <TAB>: names it accepts",
          f"offered {offered}, refused {refused}")
check("root" in complete([SOCKTAP, "trace", "-u", "roo"]), "socktap trace -u roo<TAB>: root")
check("/tmp" in complete([SOCKTAP, "top", "-o", "/tm"]), "socktap top -o /tm<TAB>: a path")
check("bash" in complete([SOCKTAP, "trace", "-c", "bas"]), "socktap trace -c bas<TAB>: commands")
check(str(os.getpid()) in complete([SOCKTAP, "trace", "-x", str(os.getpid())]),
      "socktap trace -x PID<TAB>: process ids")
same("socktop -P TC<TAB>", complete([SOCKTOP, "-P", "TC"], "_socktop"), ["TCP"])
same("socktop -c <TAB>: a count, not a command", complete([SOCKTOP, "-c", "bas"], "_socktop"),
     [])

# probe names, from socktap list
names = [l.split()[0] for l in subprocess.run([SOCKTAP, "list"], capture_output=True,
                                              text=True, check=True).stdout.splitlines()]
same("socktap trace <TAB>: every probe", complete([SOCKTAP, "trace", ""]), names)
same("socktap trace socket.se<TAB>", complete([SOCKTAP, "trace", "socket.se"]),
     ["socket.send", "socket.sendmsg", "socket.sendmsg.return"])
same("socktap list socket.cl<TAB>", complete([SOCKTAP, "list", "socket.cl"]),
     ["socket.close", "socket.close.return"])
same("socktap trace -F json socket.rec<TAB>: after options too",
     complete([SOCKTAP, "trace", "-F", "json", "socket.rec"]),
     ["socket.receive", "socket.recvmsg", "socket.recvmsg.return"])
same("socktap top <TAB>: no probes (top takes none)", complete([SOCKTAP, "top", ""]), [])
finish("check_completion")
