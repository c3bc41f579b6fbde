#!/usr/bin/env python3
"""Checks migrations/postgres/ against the SQLite migrations.

Starts a throwaway cluster (tests/pg/cluster.sh), loads each PostgreSQL schema file into a
schema of its own (`SET search_path`, as the server does), and compares with the schema that
migrations/<db>/*.sql leave on SQLite: tables, columns (order, type, NOT NULL, default,
collation), primary keys, UNIQUE constraints, foreign keys with their ON DELETE actions, CHECK
constraints and indexes with their WHERE clauses. Then it runs the same writes (buckets,
versions, delete markers, uploads, updates, deletes) on both engines and compares
`bucket_stats` after each, which checks the PL/pgSQL triggers against SQLite's.

    tests/pg/check_schema.py [--url postgres://...]

Without --url it starts and stops its own cluster. Needs python3 and psql only.
"""

import argparse
import glob
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TYPES = {"INTEGER": "bigint", "TEXT": "text", "BLOB": "bytea", "REAL": "double precision"}
# SQLite assigns these INTEGER PRIMARY KEYs (the code reads them back with last_insert_rowid());
# PostgreSQL's are identities. scrub_progress.id is always written as 1: a plain key.
IDENTITIES = {("objects", "id"), ("backup_holds", "id")}
ON_DELETE = {"a": "NO ACTION", "c": "CASCADE", "r": "RESTRICT", "n": "SET NULL", "d": "SET DEFAULT"}

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")


class Pg:
    def __init__(self, url):
        self.url = url

    def run(self, sql, schema=None):
        if schema:
            sql = f"SET search_path TO {schema};\n{sql}"
        done = subprocess.run(
            ["psql", self.url, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"],
            input=sql, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}\n--- statement:\n{sql}")
        return done.stdout.strip()

    def json(self, sql, schema=None):
        out = self.run(sql, schema)
        return json.loads(out) if out else None


def sqlite_db(db):
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA foreign_keys=OFF")
    for path in sorted(glob.glob(os.path.join(ROOT, "migrations", db, "*.sql"))):
        with open(path) as f:
            conn.executescript(f.read())
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def columns_in(definition):
    return tuple(c.strip().strip('"') for c in re.search(r"\((.*?)\)", definition).group(1).split(","))


def sqlite_schema(conn):
    tables = {}
    for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"):
        info = list(conn.execute(f'PRAGMA table_info("{name}")'))
        nocase = set(re.findall(r"^\s*(\w+)\s+TEXT\b[^\n]*COLLATE NOCASE", sql, re.M))
        cols = []
        for _, col, ty, notnull, default, pk in info:
            cols.append({
                "name": col, "type": TYPES[ty], "notnull": bool(notnull) or bool(pk),
                "default": default,
                "collation": ("nocase" if col in nocase else "C") if ty == "TEXT" else "",
                "identity": (name, col) in IDENTITIES,
            })
        pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
        unique, indexes = [], []
        for _, index, is_unique, origin, _partial in conn.execute(f'PRAGMA index_list("{name}")'):
            cols_ = tuple(r[2] for r in conn.execute(f'PRAGMA index_info("{index}")'))
            if origin == "u":
                unique.append(cols_)
            elif origin == "c":
                isql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()[0]
                where = re.search(r"\bWHERE\s+(.*)$", isql, re.S)
                indexes.append((index, bool(is_unique), cols_,
                                " ".join(where.group(1).split()) if where else None))
        fks = sorted(((r[3],), r[2], (r[4],), r[6]) for r in conn.execute(f'PRAGMA foreign_key_list("{name}")'))
        checks = len(re.findall(r"\bCHECK\b", sql))
        tables[name] = {"cols": cols, "pk": tuple(pk), "unique": sorted(unique),
                        "indexes": sorted(indexes), "fks": fks, "checks": checks}
    triggers = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    return tables, triggers


def pg_schema(pg, schema):
    tables = {}
    names = pg.json(f"SELECT json_agg(relname) FROM pg_class WHERE relkind = 'r' "
                    f"AND relnamespace = '{schema}'::regnamespace") or []
    for name in names:
        rel = f"'{schema}.{name}'::regclass"
        cols = pg.json(f"""
            SELECT json_agg(json_build_object('name', a.attname,
                       'type', format_type(a.atttypid, a.atttypmod), 'notnull', a.attnotnull,
                       'default', pg_get_expr(d.adbin, d.adrelid),
                       'collation', coalesce(c.collname, ''), 'identity', a.attidentity <> '')
                   ORDER BY a.attnum)
              FROM pg_attribute a
              LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              LEFT JOIN pg_collation c ON c.oid = a.attcollation
             WHERE a.attrelid = {rel} AND a.attnum > 0 AND NOT a.attisdropped""")
        cons = pg.json(f"""
            SELECT json_agg(json_build_array(conname, contype, pg_get_constraintdef(oid), confdeltype))
              FROM pg_constraint WHERE conrelid = {rel}""") or []
        idx = pg.json(f"""
            SELECT json_agg(json_build_array(c.relname, i.indisunique, pg_get_indexdef(i.indexrelid),
                                             pg_get_expr(i.indpred, i.indrelid)))
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = {rel}
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                               AND k.conrelid = i.indrelid)""") or []
        tables[name] = {"cols": cols, "cons": cons, "indexes": idx}
    triggers = pg.json(f"""
        SELECT json_agg(tgname ORDER BY tgname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE NOT t.tgisinternal AND c.relnamespace = '{schema}'::regnamespace""") or []
    return tables, triggers


def predicate(p):
    if p is None:
        return None
    p = p.strip()
    while p.startswith("(") and p.endswith(")"):
        p = p[1:-1]
    return p


def default(d):
    if d is None:
        return None
    d = re.sub(r"::(text|bigint)$", "", d)
    return d


def compare(db, conn, pg, schema):
    s_tables, s_triggers = sqlite_schema(conn)
    p_tables, p_triggers = pg_schema(pg, schema)
    check(set(s_tables) == set(p_tables), f"{db}: tables {sorted(set(s_tables) ^ set(p_tables))}")
    check(s_triggers == p_triggers, f"{db}: triggers {s_triggers} vs {p_triggers}")
    for name in sorted(set(s_tables) & set(p_tables)):
        s, p = s_tables[name], p_tables[name]
        where = f"{db}.{name}"
        # Columns PostgreSQL adds for SQLite's hidden rowid come last and are identities.
        p_cols = {c["name"]: c for c in p["cols"]}
        s_names = [c["name"] for c in s["cols"]]
        check([c["name"] for c in p["cols"] if c["name"] in s_names] == s_names,
              f"{where}: column names or order")
        for extra in (c for c in p["cols"] if c["name"] not in s_names):
            check(extra["name"] == "rowid" and extra["identity"] and extra["type"] == "bigint",
                  f"{where}: extra column {extra}")
        for c in s["cols"]:
            q = p_cols.get(c["name"])
            if q is None:
                continue
            for field in ("type", "notnull", "collation", "identity"):
                check(c[field] == q[field], f"{where}.{c['name']}: {field} {c[field]!r} vs {q[field]!r}")
            if not q["identity"]:
                check(str(c["default"]) == str(default(q["default"])),
                      f"{where}.{c['name']}: default {c['default']!r} vs {q['default']!r}")
        pk = [columns_in(k[2]) for k in p["cons"] if k[1] == "p"]
        check(pk == [s["pk"]], f"{where}: primary key {s['pk']} vs {pk}")
        unique = sorted(columns_in(k[2]) for k in p["cons"] if k[1] == "u" and columns_in(k[2]) != ("rowid",))
        check(unique == s["unique"], f"{where}: unique {s['unique']} vs {unique}")
        fks = sorted((columns_in(k[2]), re.search(r"REFERENCES (?:\w+\.)?(\w+)", k[2]).group(1),
                      columns_in(k[2].split("REFERENCES", 1)[1]), ON_DELETE[k[3]])
                     for k in p["cons"] if k[1] == "f")
        check(fks == s["fks"], f"{where}: foreign keys {s['fks']} vs {fks}")
        checks = [k[2] for k in p["cons"] if k[1] == "c"]
        check(len(checks) == s["checks"], f"{where}: {s['checks']} CHECK constraints vs {checks}")
        indexes = sorted((n, u, columns_in(d.split(" USING btree ", 1)[1]), predicate(w))
                         for n, u, d, w in p["indexes"])
        check(indexes == s["indexes"], f"{where}: indexes {s['indexes']} vs {indexes}")


# The same statements on both engines; after each, bucket_stats must match.
WRITES = [
    "INSERT INTO buckets (name, created_at, region) VALUES ('b1', 1, 'us-east-1')",
    "INSERT INTO buckets (name, created_at, region) VALUES ('b2', 1, 'us-east-1')",
    # current versions, a noncurrent one, delete markers current and not
    "INSERT INTO objects (bucket, key, version, current, size, etag, last_modified, headers) "
    "VALUES ('b1', 'a', 'v2', 1, 10, 'e', 1, '{}')",
    "INSERT INTO objects (bucket, key, version, current, size, etag, last_modified, headers) "
    "VALUES ('b1', 'a', 'v1', 0, 7, 'e', 1, '{}')",
    "INSERT INTO objects (bucket, key, version, current, delete_marker, size, etag, last_modified, headers) "
    "VALUES ('b1', 'c', 'v2', 0, 1, 0, '', 1, '{}')",
    "INSERT INTO objects (bucket, key, version, current, size, etag, last_modified, headers) "
    "VALUES ('b1', 'c', 'v1', 0, 5, 'e', 1, '{}')",
    "INSERT INTO objects (bucket, key, version, current, null_version, size, etag, last_modified, headers) "
    "VALUES ('b1', 'd', 'v1', 1, 1, 100, 'e', 1, '{}')",
    "INSERT INTO objects (bucket, key, version, current, delete_marker, size, etag, last_modified, headers) "
    "VALUES ('b1', 'e', 'v3', 0, 1, 0, '', 1, '{}')",
    "INSERT INTO objects (bucket, key, version, current, delete_marker, size, etag, last_modified, headers) "
    "VALUES ('b1', 'e', 'v2', 0, 1, 0, '', 1, '{}')",
    "INSERT INTO objects (bucket, key, version, size, etag, last_modified, headers) "
    "VALUES ('b2', 'x', 'v1', 3, 'e', 1, '{}')",
    # a new version: the old one becomes noncurrent, the new one current
    "UPDATE objects SET current = 0 WHERE bucket = 'b1' AND key = 'd' AND current = 1",
    "INSERT INTO objects (bucket, key, version, size, etag, last_modified, headers) "
    "VALUES ('b1', 'd', 'v0', 40, 'e', 1, '{}')",
    # a size change, a delete marker turned into an object, a no-op update of the watched columns
    "UPDATE objects SET size = size + 1 WHERE bucket = 'b1' AND key = 'a'",
    "UPDATE objects SET delete_marker = 0, size = 9 WHERE bucket = 'b1' AND key = 'e' AND version = 'v2'",
    "UPDATE objects SET current = current, delete_marker = delete_marker, size = size",
    # columns the triggers do not watch
    "UPDATE objects SET tags = '[]', etag = 'f' WHERE bucket = 'b1'",
    # a version moved to another bucket
    "UPDATE objects SET bucket = 'b2' WHERE bucket = 'b1' AND key = 'c' AND version = 'v1'",
    # the current version deleted, then a noncurrent one made current
    "DELETE FROM objects WHERE bucket = 'b1' AND key = 'a' AND current = 1",
    "UPDATE objects SET current = 1 WHERE bucket = 'b1' AND key = 'a' AND version = 'v1'",
    # multipart uploads in and out
    "INSERT INTO uploads (id, bucket, key, initiated, headers) VALUES ('u1', 'b1', 'k', 1, '{}')",
    "INSERT INTO uploads (id, bucket, key, initiated, headers) VALUES ('u2', 'b1', 'k', 2, '{}')",
    "INSERT INTO uploads (id, bucket, key, initiated, headers) VALUES ('u3', 'b2', 'k', 2, '{}')",
    "DELETE FROM uploads WHERE id = 'u1'",
    # a statement deleting several rows
    "DELETE FROM objects WHERE bucket = 'b1' AND key = 'e'",
    # a bucket emptied and deleted: its stats row goes with it
    "DELETE FROM objects WHERE bucket = 'b2'",
    "DELETE FROM uploads WHERE bucket = 'b2'",
    "DELETE FROM buckets WHERE name = 'b2'",
    "INSERT INTO buckets (name, created_at, region) VALUES ('b3', 2, 'eu-west-3')",
]

STATS = ("SELECT bucket, objects, bytes, noncurrent, noncurrent_bytes, delete_markers, uploads "
         "FROM bucket_stats ORDER BY bucket")


def recount(conn):
    """What the counts must be, recounted from the rows (SQLite)."""
    return [list(r) for r in conn.execute("""
        SELECT b.name,
               (SELECT count(*) FROM objects o WHERE o.bucket = b.name AND o.current = 1),
               (SELECT coalesce(sum(size), 0) FROM objects o WHERE o.bucket = b.name AND o.current = 1),
               (SELECT count(*) FROM objects o WHERE o.bucket = b.name AND o.current = 0 AND o.delete_marker = 0),
               (SELECT coalesce(sum(size), 0) FROM objects o WHERE o.bucket = b.name AND o.current = 0 AND o.delete_marker = 0),
               (SELECT count(*) FROM objects o WHERE o.bucket = b.name AND o.delete_marker = 1),
               (SELECT count(*) FROM uploads u WHERE u.bucket = b.name)
          FROM buckets b ORDER BY b.name""")]


def triggers(conn, pg, schema):
    for n, statement in enumerate(WRITES, 1):
        conn.execute(statement)
        try:
            pg.run(statement, schema)
        except RuntimeError as e:
            check(False, f"write {n} on PostgreSQL: {e}")
            return
        lite = [list(r) for r in conn.execute(STATS)]
        out = pg.run(STATS.replace("SELECT bucket,", "SELECT json_agg(json_build_array(bucket,")
                     .replace(" FROM bucket_stats ORDER BY bucket",
                              ") ORDER BY bucket) FROM bucket_stats"), schema)
        post = json.loads(out) if out else []
        check(lite == post, f"bucket_stats after write {n} ({statement}):\n  sqlite   {lite}\n  postgres {post}")
        check(lite == recount(conn), f"sqlite's own counts after write {n}")
    # The rowid column follows the rows as SQLite's rowid does: one per bucket, never reused.
    rowids = pg.json("SELECT json_agg(rowid ORDER BY bucket) FROM bucket_stats", schema)
    lite_rowids = [r[0] for r in conn.execute("SELECT rowid FROM bucket_stats ORDER BY bucket")]
    check(rowids is not None and len(rowids) == len(set(rowids)) == len(lite_rowids),
          f"bucket_stats rowids {rowids} vs sqlite {lite_rowids}")


def nocase(pg, schema):
    """The NOCASE columns: one name regardless of case, as on SQLite."""
    out = pg.run("""
        INSERT INTO users (id, name, path, created_at) VALUES ('AIDA1', 'Alice', '/', 1);
        INSERT INTO user_tags (user_id, key, value) VALUES ('AIDA1', 'Team', 'a')
            ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value;
        INSERT INTO user_tags (user_id, key, value) VALUES ('AIDA1', 'TEAM', 'b')
            ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value;
        SELECT (SELECT id FROM users WHERE name = 'aLICE') || ' ' ||
               (SELECT count(*) FROM user_tags) || ' ' ||
               (SELECT key || '=' || value FROM user_tags);
        """, schema)
    check(out == "AIDA1 1 Team=b", f"nocase lookups and upserts: {out!r}")
    try:
        pg.run("INSERT INTO users (id, name, path, created_at) VALUES ('AIDA2', 'ALICE', '/', 1)", schema)
        check(False, "a user name differing only in case was accepted")
    except RuntimeError as e:
        check("users_name_key" in str(e), f"duplicate user name refused by users_name_key: {e}")
    pg.run("DELETE FROM user_tags; DELETE FROM users;", schema)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an existing server (else a throwaway cluster is started)")
    args = parser.parse_args()
    cluster = None
    url = args.url
    if url is None:
        cluster = tempfile.mkdtemp(prefix="labstore-pg-")
        url = subprocess.run([os.path.join(ROOT, "tests", "pg", "cluster.sh"), "start", cluster],
                             check=True, capture_output=True, text=True).stdout.strip()
    try:
        pg = Pg(url)
        suffix = str(os.getpid())
        for db in ("iam", "objects"):
            schema = f"check_{db}_{suffix}"
            pg.run(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};")
            try:
                with open(os.path.join(ROOT, "migrations", "postgres", db, "0001_schema.sql")) as f:
                    pg.run("BEGIN;\n" + f.read() + "\nCOMMIT;", schema)
                check(True, f"{db}: schema loads")
                conn = sqlite_db(db)
                compare(db, conn, pg, schema)
                if db == "objects":
                    triggers(conn, pg, schema)
                else:
                    nocase(pg, schema)
            finally:
                pg.run(f"DROP SCHEMA IF EXISTS {schema} CASCADE;")
    finally:
        if cluster is not None:
            subprocess.run([os.path.join(ROOT, "tests", "pg", "cluster.sh"), "stop", cluster],
                           check=False, capture_output=True)
            shutil.rmtree(cluster, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
