#!/usr/bin/env python3
"""The docs are tested against the probe table: docs/probes.md must be exactly
`socktap list --doc`, the README must name every probe, and .ci/run must run
the README's test command. Every SPDX identifier in the tree has its text in
LICENSES/ (and LICENSE names it), and LICENSES/ holds no other."""
import os
import re
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, finish  # noqa: E402

socktap = sys.argv[1] if len(sys.argv) > 1 else "build/socktap"


doc = subprocess.run([socktap, "list", "--doc"], capture_output=True, text=True, check=True).stdout
with open("docs/probes.md") as f:
    check(f.read() == doc, "docs/probes.md is `socktap list --doc`",
          "run `make docs` and commit docs/probes.md")

names = [l.split()[0] for l in subprocess.run([socktap, "list"], capture_output=True, text=True,
                                              check=True).stdout.splitlines()]
check(len(names) == 22, "socktap list shows 22 probes", f"got {len(names)}")
readme = open("README.md").read()
missing = [n for n in names if f"`{n}`" not in readme]
check(not missing, "README documents every probe", f"missing: {missing}")

m = re.search(r"^#+ Run the test suite.*?\n```sh\n(.*?)\n```", readme, re.S | re.M)
ci = open(".ci/run").read()
check(m is not None and m.group(1).strip() in ci, ".ci/run runs the README's test command",
      f"README command: {m.group(1).strip() if m else None!r}")
# Licenses: an SPDX expression is identifiers joined by OR/AND/WITH, maybe in parentheses
ids = {}
files = subprocess.run(["git", "ls-files", "-z"], capture_output=True, text=True,
                       check=True).stdout.split("\0")
for path in filter(None, files):
    if path.startswith("LICENSES/") or not os.path.isfile(path):
        continue
    with open(path, "rb") as f:
        head = f.read(4096).decode("utf-8", "replace")
    # the tag in a comment of its own line (C, shell, roff), not any mention of it
    m = re.search(r"^(?://|/\*|#|\.\\\"|<!--)\s*SPDX-License-Identifier:\s*(.*?)\s*"
                  r"(?:\*/|-->)?$", head, re.M)
    if m:
        for word in re.findall(r"[A-Za-z0-9.+-]+", m.group(1)):
            if word not in ("OR", "AND", "WITH"):
                ids.setdefault(word, path)
check({"LGPL-2.1", "BSD-2-Clause", "GPL-2.0"} <= set(ids),
      "SPDX identifiers found in the tree", f"found {sorted(ids)}")
texts = {f[:-4] for f in os.listdir("LICENSES") if f.endswith(".txt")}
missing = {i: p for i, p in ids.items() if i not in texts}
check(not missing, "every SPDX identifier has its text in LICENSES/",
      f"no LICENSES/ID.txt for: {missing}")
check(texts <= set(ids), "LICENSES/ holds only identifiers the tree uses",
      f"unused: {sorted(texts - set(ids))}")
top = open("LICENSE").read()
check(all(re.search(rf"(?<![\w.-]){re.escape(i)}(?![\w.-])", top) for i in ids),
      "LICENSE says which files are under each identifier",
      f"not in LICENSE: {[i for i in ids if i not in top]}")
finish("check_docs")
