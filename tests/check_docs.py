#!/usr/bin/env python3
"""The docs are tested against the probe table: docs/probes.md must be exactly
`socktap list --doc`, the README must name every probe, and .ci/run must run
the README's test command."""
import re
import subprocess
import sys

socktap = sys.argv[1] if len(sys.argv) > 1 else "build/socktap"
failed = 0


def check(ok, name, detail=""):
    global failed
    print(("ok - " if ok else "not ok - ") + name)
    if not ok:
        failed += 1
        if detail:
            print("  " + detail)


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
print(f"# check_docs: {failed} failed")
sys.exit(1 if failed else 0)
