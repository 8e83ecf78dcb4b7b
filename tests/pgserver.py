# SPDX-License-Identifier: LGPL-2.1-or-later
"""A throwaway PostgreSQL server for the tests (engine-sql-dialect.py, with-postgres.py):
initdb in a temporary directory (trust authentication, the superuser hostdev, UTF-8, locale
C.UTF-8 so TEXT sorts bytewise as on SQLite), a Unix socket in that directory only, no TCP
port, fsync off. As root it runs as the user postgres (or nobody): PostgreSQL refuses root.
And to_dollar(): SQLite's parameters as PostgreSQL's $N, the rewrite src/engine/db-pg.c makes.
"""
import glob
import os
import pwd
import re
import subprocess

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def pg_bindir():
    dirs = sorted(glob.glob(PG_BIN_GLOB), key=lambda d: int(d.split("/")[-2]))
    for d in reversed(dirs):
        if os.access(os.path.join(d, "postgres"), os.X_OK):
            return d
    return None


def to_dollar(sql):
    """SQLite's parameters (?, ?N, :name, @name, $name) to PostgreSQL's $N, outside quotes and
    comments (src/engine/db-pg.c's to_dollar() is the same)."""
    out = []
    names = {}
    anon = 0
    highest = 0
    i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
            continue
        # comments are copied as they are: a quote or a ? there is no SQL
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
            continue
        if sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j])
            i = j
            continue
        if c == "?":
            m = re.match(r"\?(\d*)", sql[i:])
            if m.group(1):
                k = int(m.group(1))
            else:
                anon = highest + 1
                k = anon
            highest = max(highest, k)
            out.append("$%d" % k)
            i += len(m.group(0))
            continue
        if c in ":@$" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_") and \
                not (c == ":" and i > 0 and sql[i - 1] == ":"):
            m = re.match(r"[:@$]([A-Za-z_][A-Za-z0-9_]*)", sql[i:])
            name = m.group(0)  # with its prefix, as SQLite: :a and @a are two
            if name not in names:
                highest += 1
                names[name] = highest
            out.append("$%d" % names[name])
            i += len(m.group(0))
            continue
        out.append(c)
        i += 1
    return "".join(out)


class Server:
    def __init__(self, bindir, base):
        self.bindir = bindir
        self.base = base
        self.data = os.path.join(base, "data")
        self.sock = base
        self.user = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self.user = pwd.getpwnam(name)
                    break
                except KeyError:
                    pass
            os.chown(base, self.user.pw_uid, self.user.pw_gid)

    def run(self, argv, **kw):
        if self.user:
            kw["user"] = self.user.pw_uid
            kw["group"] = self.user.pw_gid
            kw["extra_groups"] = []
        return subprocess.run(argv, cwd=self.base, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=120, **kw)

    def start(self):
        r = self.run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-A", "trust",
                      "-U", "hostdev", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"])
        if r.returncode != 0:
            raise RuntimeError("initdb: " + r.stdout.decode(errors="replace"))
        opts = "-c listen_addresses='' -k %s -c fsync=off -c full_page_writes=off" % self.sock
        r = self.run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-w", "-t", "60",
                      "-l", os.path.join(self.base, "log"), "-o", opts, "start"])
        if r.returncode != 0:
            log = open(os.path.join(self.base, "log"), errors="replace").read()[-2000:]
            raise RuntimeError("pg_ctl start: " + r.stdout.decode(errors="replace") + log)

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate",
                      "-w", "stop"])

    def psql(self, sql):
        """Run @sql in one session, stopping at the first error; (ok, message)."""
        r = self.run([os.path.join(self.bindir, "psql"), "-X", "-q", "-h", self.sock,
                      "-U", "hostdev", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                      "-f", "-"], input=sql.encode())
        return r.returncode == 0, r.stdout.decode(errors="replace").strip()

    def conninfo(self, dbname="postgres"):
        """The libpq connection string of @dbname on this server."""
        return "host=%s user=hostdev dbname=%s" % (self.sock, dbname)

    def createdb(self, name):
        ok, msg = self.psql('CREATE DATABASE "%s";\n' % name)
        if not ok:
            raise RuntimeError("CREATE DATABASE %s: %s" % (name, msg))
