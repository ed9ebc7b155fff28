"""Back up and restore an installation: its PostgreSQL database and its PDF folder store.

    python deploy/backup.py backup DIR     # DIR/database.dump, DIR/documents.tar, DIR/counts.json
    python deploy/backup.py restore DIR    # into DATABASE_URL and DOCUMENT_STORAGE
    python deploy/backup.py check DIR      # the restored rows and files against counts.json

The settings are read as the app reads them (``collector.config``: the environment, then a
``.env`` file): ``DATABASE_URL`` and ``DOCUMENT_STORAGE`` (default ``instance/documents``).
The dump is ``pg_dump``'s custom format (compressed, restorable table by table, by
``pg_restore`` of the same major version or newer). A restore creates the database when it
is missing and refuses one that already holds tables (restore into an empty database; drop
or rename the old one first, so nothing is mixed). The folder store is content-addressed:
files are only ever added, so a copy taken after the dump holds every file the dump names.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg
from psycopg import sql

from collector import config as config_module

ROOT = Path(__file__).resolve().parent.parent

DUMP, DOCUMENTS, COUNTS = "database.dump", "documents.tar", "counts.json"


def libpq_url(url: str) -> str:
    """The URL as pg_dump and psycopg take it (SQLAlchemy's driver name removed)."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    if not url.startswith("postgresql://"):
        raise SystemExit("DATABASE_URL must be a PostgreSQL URL to back up with pg_dump")
    return url


def locations() -> tuple[str, Path]:
    settings = config_module.load()
    instance = Path(settings["INSTANCE_PATH"] or ROOT / "instance")
    storage = Path(settings["DOCUMENT_STORAGE"] or instance / "documents")
    return libpq_url(str(settings["DATABASE_URL"])), storage


def counts(url: str, storage: Path) -> dict:
    """Rows per table and files in the store: what a restore must give back."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        return {"rows": _rows(conn), "files": _files(storage)}


def _rows(conn: psycopg.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]
    return {
        table: conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        ).fetchone()[0]
        for table in tables
    }


def _files(storage: Path) -> int:
    return sum(1 for p in storage.rglob("*") if p.is_file()) if storage.exists() else 0


def backup(target: Path) -> dict:
    url, storage = locations()
    target.mkdir(parents=True, exist_ok=True)
    # The rows are counted in the snapshot pg_dump dumps (an exported snapshot, held by
    # this transaction), so the counts are the dump's even while the service writes.
    with psycopg.connect(url, connect_timeout=5) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        dump = ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}"]
        subprocess.run([*dump, "--file", str(target / DUMP), url], check=True)  # noqa: S603
        rows = _rows(conn)
        conn.rollback()
    # The store after the dump: it only grows, so it holds every file the dump names.
    with tarfile.open(target / DOCUMENTS, "w") as tar:
        if storage.exists():
            tar.add(storage, arcname=".")
    found = {"rows": rows, "files": _files(storage)}
    (target / COUNTS).write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    return found


def restore(source: Path) -> None:
    url, storage = locations()
    _create_empty_database(url)
    restore_ = ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", url]
    subprocess.run([*restore_, str(source / DUMP)], check=True)  # noqa: S603 (fixed argv)
    storage.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / DOCUMENTS) as tar:
        tar.extractall(storage, filter="data")


def check(source: Path) -> list[str]:
    """What differs between the backup's counts and the restored database and store."""
    url, storage = locations()
    expected = json.loads((source / COUNTS).read_text())
    found = counts(url, storage)
    problems = [
        f"{table}: {n} rows in the backup, {found['rows'].get(table)} restored"
        for table, n in expected["rows"].items()
        if found["rows"].get(table) != n
    ]
    if found["files"] != expected["files"]:
        problems.append(f"{expected['files']} files in the backup, {found['files']} restored")
    return problems


def _create_empty_database(url: str) -> None:
    base, _, name = url.partition("?")[0].rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(url, connect_timeout=5) as conn:
        used = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        if used.fetchone()[0]:
            raise SystemExit(
                f"database {name} already holds tables: restore into an empty database"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Back up or restore collector.")
    parser.add_argument("action", choices=("backup", "restore", "check"))
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.action == "backup":
        found = backup(args.directory)
        print(f"backed up {sum(found['rows'].values())} rows, {found['files']} files")
        return 0
    if args.action == "restore":
        restore(args.directory)
        print(f"restored from {args.directory}")
    problems = check(args.directory)
    for problem in problems:
        print(f"differs: {problem}", file=sys.stderr)
    if not problems:
        print("rows and files match the backup")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
