#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run a test program against a throwaway PostgreSQL server.

  with-postgres.py PROGRAM [ARGS...] [--- PROGRAM [ARGS...]]...

Starts a server of its own (tests/pgserver.py: initdb in a temporary directory, a Unix socket
there only, no TCP port), creates the database hostdev_test, and runs each PROGRAM in turn with
HOSTDEV_TEST_PG set to that database's libpq connection string (the user hostdev is a
superuser: a program may CREATE DATABASE a fresh one of its own). Each program's stdout (TAP)
and stderr pass through; with several programs, their TAP streams are joined into one (points
renumbered, one plan at the end). The exit code is the first failing program's, else 0. The
server is stopped and its directory removed however the run ends (SIGTERM, SIGINT included).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgserver import Server, pg_bindir  # noqa: E402


def split_programs(argv):
    progs = [[]]
    for a in argv:
        if a == "---":
            progs.append([])
        else:
            progs[-1].append(a)
    return [p for p in progs if p]


def run_joined(progs, env):
    """Several TAP programs as one stream."""
    n = 0
    rc = 0
    for argv in progs:
        p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE)
        for raw in p.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            m = re.match(r"(ok|not ok) (\d+)(.*)", line)
            if m:
                n += 1
                print("%s %d%s [%s]" % (m.group(1), n, m.group(3),
                                        os.path.basename(argv[0])))
            elif re.match(r"1\.\.\d+", line):
                continue
            else:
                print(line)
            sys.stdout.flush()
        code = p.wait()
        if code != 0:
            print("# %s exited %d" % (os.path.basename(argv[0]), code))
            if rc == 0:
                rc = code if code > 0 else 1
    print("1..%d" % n)
    return rc


def main():
    progs = split_programs(sys.argv[1:])
    if not progs:
        print("usage: with-postgres.py PROGRAM [ARGS...] [--- PROGRAM [ARGS...]]...",
              file=sys.stderr)
        return 2
    bindir = pg_bindir()
    if not bindir:
        print("Bail out! no PostgreSQL server (scripts/install-deps test installs postgresql)")
        return 1

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    base = tempfile.mkdtemp(prefix="hostdev-with-postgres-")
    server = Server(bindir, base)
    try:
        server.start()
        os.chmod(base, 0o755)
        server.createdb("hostdev_test")
        env = dict(os.environ, HOSTDEV_TEST_PG=server.conninfo("hostdev_test"))
        sys.stdout.flush()
        if len(progs) == 1:
            return subprocess.run(progs[0], env=env).returncode
        return run_joined(progs, env)
    except RuntimeError as e:
        print("Bail out! the PostgreSQL server: %s" % str(e).splitlines()[0])
        sys.stderr.write(str(e) + "\n")
        return 1
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
