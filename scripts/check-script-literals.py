#!/usr/bin/env python3
"""Issue 10's rule: no Swift file under Sources/ holds a multi-line string
literal of more than 30 lines. Scripts shipped to hosts live as files beside
their driver (Sources/Drivers/*/Scripts), where shellcheck and ruff read them."""
import pathlib
import re
import sys

LIMIT = 30
root = pathlib.Path(__file__).resolve().parent.parent / "Sources"
literal = re.compile(r'(#*)"""(.*?)"""\1', re.S)
found = []
for path in sorted(root.rglob("*.swift")):
    text = path.read_text(encoding="utf-8")
    for m in literal.finditer(text):
        lines = m.group(2).count("\n")
        if lines > LIMIT:
            found.append("%s:%d: a %d-line string literal" % (path.relative_to(root.parent), text[:m.start()].count("\n") + 1, lines))
if found:
    print("check-script-literals: move these into files under Sources/Drivers/*/Scripts:")
    print("\n".join(found))
    sys.exit(1)
print("check-script-literals: no string literal over %d lines under Sources/" % LIMIT)
