#!/usr/bin/env python3
"""Count test cases in TAP output and meson test logs.

Usage: count-tap.py [--meson build/meson-logs/testlog.json]... [--tap FILE]...
Prints "N passed, N failed, N skipped" and exits 1 when anything failed.

A test program that crashed before printing its TAP lines counts as one failure, so a
sanitizer abort never disappears from the totals.
"""
import json
import re
import sys

OK = re.compile(r"^ok \d+")
NOT_OK = re.compile(r"^not ok \d+")
SKIP = re.compile(r"#\s*skip", re.I)


def count_tap(text):
    passed = failed = skipped = 0
    for line in text.splitlines():
        line = line.strip()
        if NOT_OK.match(line):
            if re.search(r"#\s*todo", line, re.I):
                continue
            failed += 1
        elif OK.match(line):
            if SKIP.search(line):
                skipped += 1
            else:
                passed += 1
    return passed, failed, skipped


def main(argv):
    total = [0, 0, 0]
    i = 1
    while i < len(argv):
        kind, path = argv[i], argv[i + 1]
        i += 2
        if kind == "--tap":
            with open(path, errors="replace") as f:
                p, fl, s = count_tap(f.read())
            total = [total[0] + p, total[1] + fl, total[2] + s]
        elif kind == "--meson":
            with open(path, errors="replace") as f:
                for line in f:
                    entry = json.loads(line)
                    p, fl, s = count_tap(entry.get("stdout", ""))
                    result = entry.get("result", "")
                    if result in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS") and fl == 0:
                        fl = 1
                    if result == "SKIP" and p + fl + s == 0:
                        s = 1
                    if result == "OK" and p + fl + s == 0:
                        p = 1
                    total = [total[0] + p, total[1] + fl, total[2] + s]
        else:
            print(f"count-tap: unknown option {kind}", file=sys.stderr)
            return 2
    print(f"{total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
