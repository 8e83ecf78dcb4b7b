#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Does the engine store's SQL run on PostgreSQL? (store.h, rule 5: the SQL is the common
subset of SQLite and PostgreSQL, so that a PostgreSQL store can follow without a rewrite.)

  engine-sql-dialect.py TEST_PROGRAM...

Runs the given engine test programs (two at a time) with HOSTDEV_ENGINE_SQL_LOG set, so that
every engine and store they start appends each distinct statement it prepares and each
migration it applies (store-sql.c, sql_log()). Then starts a throwaway PostgreSQL server
(initdb in a temporary directory, a Unix socket only, no TCP port; as the user postgres, or
nobody, when run as root, since PostgreSQL refuses root), applies every migration in order,
each in one transaction, and PREPAREs every statement: PREPARE parses and analyzes it against
the schema (names, types, a WHERE that is not boolean, a function PostgreSQL lacks) without
running it. Parameters (?, ?N, :name) become $N as a PostgreSQL store would send them.

TAP: one point per migration and per statement; the plan last. The server is stopped and the
directory removed however the run ends.
"""
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgserver import PG_BIN_GLOB, Server, pg_bindir, to_dollar  # noqa: E402

def read_log(path):
    migrations = {}
    queries = []
    try:
        data = open(path, "rb").read().decode()
    except FileNotFoundError:
        return migrations, queries
    for rec in data.split("\0"):
        if not rec:
            continue
        kind, _, sql = rec.partition("\t")
        if kind.startswith("M"):
            migrations[int(kind[1:])] = sql
        elif kind == "Q" and sql not in queries:
            queries.append(sql)
    return migrations, queries


# statements written in store-sql*.c that no PREPARE reaches, each with why
NOT_PREPARED = {
    "INSERT INTO schema_version (version) VALUES (":
        "run by sq_exec() in each migration's transaction, a constant row",
}


def source_statements(srcdir):
    """The SQL statements written as C string literals in src/engine/store-sql*.c: adjacent
    literals joined (comments between them skipped), those that begin a statement kept, each
    cut at its first printf conversion (the rest is filled in at run time)."""
    found = []
    for path in sorted(glob.glob(os.path.join(srcdir, "src/engine/store-sql*.c"))):
        text = open(path).read()
        run = re.compile(r'(?:"(?:[^"\\\n]|\\.)*"(?:\s|/\*.*?\*/)*)+', re.S)
        for m in run.finditer(text):
            lit = "".join(re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0)))
            lit = " ".join(lit.split())
            if re.match(r"(SELECT|INSERT|UPDATE|DELETE|WITH)\b", lit):
                found.append((os.path.basename(path), lit.split("%")[0]))
    return found


def run_tests(programs, log):
    env = dict(os.environ, HOSTDEV_ENGINE_SQL_LOG=log)

    def one(prog):
        r = subprocess.run([prog], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=600)
        return prog, r.returncode, r.stderr.decode(errors="replace")[-2000:]

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, programs))


def main():
    programs = sys.argv[1:]
    if not programs:
        print("usage: engine-sql-dialect.py TEST_PROGRAM...", file=sys.stderr)
        return 2
    bindir = pg_bindir()
    if not bindir:
        print("Bail out! no PostgreSQL server in %s (scripts/install-deps test installs "
              "postgresql)" % PG_BIN_GLOB)
        return 1
    base = tempfile.mkdtemp(prefix="hostdev-sql-dialect-")
    n = 0
    failed = 0

    def point(ok, what, detail=""):
        nonlocal n, failed
        n += 1
        if not ok:
            failed += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
        if detail:
            for line in detail.splitlines():
                print("# " + line)
        sys.stdout.flush()

    server = Server(bindir, base)
    try:
        log = os.path.join(base, "sql.log")
        for prog, rc, err in run_tests(programs, log):
            point(rc == 0, "%s ran with the SQL log" % os.path.basename(prog),
                  "" if rc == 0 else "exit %d\n%s" % (rc, err))
        os.chmod(base, 0o755)
        migrations, queries = read_log(log)
        want = set(range(0, max(migrations, default=0) + 1))
        point(want == set(migrations) and len(migrations) > 1,
              "the log holds migrations 0..%d and %d statements" % (max(want), len(queries)),
              "missing: %s" % sorted(want - set(migrations)) if want != set(migrations) else "")
        # every statement of the sources is among them: a statement no engine test prepares
        # would not be checked here (nor anywhere)
        srcdir = os.environ.get("HOSTDEV_SOURCE_DIR",
                                os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        seen = [" ".join(q.split()) for q in queries]
        written = source_statements(srcdir)
        unseen = [(f, lit) for f, lit in written
                  if not any(q.startswith(lit) for q in seen) and
                  not any(lit.startswith(k) for k in NOT_PREPARED)]
        point(len(written) > 50 and not unseen,
              "the engine tests prepare every statement of src/engine/store-sql*.c "
              "(%d written, %d exempt)" % (len(written), len(NOT_PREPARED)),
              "\n".join("not prepared by any engine test: %s: %s" % u for u in unseen))
        server.start()
        # a failed migration is reported and the next ones still run: what fails after it
        # may be its consequence, or a fault of its own
        for k in sorted(migrations):
            ok, msg = server.psql("BEGIN;\n%s;\nCOMMIT;\n" % migrations[k])
            point(ok, "migration %d runs on PostgreSQL" % k, "" if ok else msg)
        for q in queries:
            stmt = to_dollar(q)
            one_line = " ".join(q.split())
            ok, msg = server.psql("PREPARE q AS %s;\n" % stmt)
            point(ok, "PREPARE %s" % one_line[:150], "" if ok else msg + "\n" + stmt)
    except Exception as e:  # the plan still ends the stream
        point(False, "the PostgreSQL check ran", str(e))
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
