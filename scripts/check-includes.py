#!/usr/bin/env python3
"""No import circles: modules of src/ (a .c and its .h, named by file name) must not include
one another in a cycle. Prints a TAP line; exit 1 naming each cycle found.

    scripts/check-includes.py [--tap N]
"""
import glob
import os
import re
import sys


def graph(root):
    mods = {}
    for f in glob.glob(os.path.join(root, "src", "**", "*.[ch]"), recursive=True):
        m = os.path.splitext(os.path.basename(f))[0]
        with open(f, encoding="utf-8", errors="replace") as fh:
            incs = {os.path.splitext(x)[0] for x in re.findall(r'#include "([^"]+)"', fh.read())}
        mods.setdefault(m, set()).update(incs - {m, "config"})
    return {m: {w for w in deps if w in mods} for m, deps in mods.items()}


def cycles(mods):
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, n = {}, {}, set(), [], [], [0]
    for start in sorted(mods):
        if start in index:
            continue
        work = [(start, iter(sorted(mods[start])))]
        index[start] = low[start] = n[0]; n[0] += 1
        stack.append(start); on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = n[0]; n[0] += 1
                    stack.append(w); on.add(w)
                    work.append((w, iter(sorted(mods[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop(); on.discard(w); comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def main():
    num = int(sys.argv[sys.argv.index("--tap") + 1]) if "--tap" in sys.argv else 1
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = cycles(graph(root))
    if not found:
        print(f"ok {num} - no include cycles between the modules of src/")
        return 0
    for c in found:
        print(f"# include cycle: {' <-> '.join(c)}")
    print(f"not ok {num} - include cycles between the modules of src/")
    return 1


if __name__ == "__main__":
    sys.exit(main())
