# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""The docs/ABI/man/completion/package checks' one TAP-like reporter."""
import sys

failed = 0


def check(ok, name, detail=""):
    global failed
    print(("ok - " if ok else "not ok - ") + name)
    if not ok:
        failed += 1
        if detail:
            print("  " + str(detail).replace("\n", "\n  "))


def finish(name):
    print(f"# {name}: {failed} failed")
    sys.exit(1 if failed else 0)
