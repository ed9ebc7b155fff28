"""How long do a check and a commit of a 100,000-row mandates CSV take, and in how much memory?

Builds a scratch PostgreSQL database (``collector_bench_mandates``, dropped afterwards)
with --rows customers on a direct-debit profile, writes a --rows mandates CSV for them
(comma-separated, UTF-8, every fourth BIC left empty, about 10 MB), then runs the real
job functions one phase at a time, each in a fresh child process so its peak memory is
its own:

  upload    ``mandate_upload.receive``: the file streamed into the document store
  check     the ``check_mandate_upload`` job: every row checked, the preview recorded
  commit    the ``commit_mandate_upload`` job: checked again, --rows mandates inserted
            in one transaction
  again     the same file uploaded, checked and committed once more: all unchanged,
            nothing inserted

Seconds, rows per second and the child's peak resident set (ru_maxrss, interpreter and
app included) come from that pass. tracemalloc slows Python down five to ten times, so
the peak of Python allocations is measured in a second pass: a second file (other
references, the same customers) checked and committed under tracemalloc. A peak that
does not grow with --rows is what streaming means.

CPU seconds per 1,000 rows are the figure the machine's load does not change: the
child's own (user + system, from getrusage) and its PostgreSQL backends' (from /proc,
read when the server runs on this machine). --profile DIR writes each phase's cProfile
statistics there (DIR/check.prof…; ``python -m pstats``), which slows Python down.

    python bench/mandates_csv.py [--rows 100000] [--no-tracemalloc] [--keep]
                                 [--profile DIR]
                                 [--server postgresql://postgres@127.0.0.1:5432]
"""

import argparse
import cProfile
import csv
import logging
import resource
import tempfile
import time
import tracemalloc
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import flask_migrate
import psycopg
import sqlalchemy as sa
from common import SERVER, analyze, scratch_database
from cpu import cpu_seconds

from collector import create_app
from collector.direct_debit import jobs as direct_debit_jobs
from collector.direct_debit import mandate_upload
from collector.direct_debit.models import Mandate, MandateUpload
from collector.documents.models import Customer, CustomerKind, Profile
from collector.extensions import db
from collector.runtime import setup as runtime_setup

DATABASE = "collector_bench_mandates"
CHUNK = 5_000
# Belgian bank codes and their BICs; 539 is one schwifty does not know (left empty).
BICS = {"096": "GKCCBEBB", "001": "GEBABEBB", "539": "", "363": "BBRUBEBB"}
BANKS = tuple(BICS)
ACTOR = "user:bench@example.com"


@dataclass(frozen=True)
class Phase:
    """What a child process needs to run one phase."""

    name: str
    database_url: str
    folder: str
    csv_path: str
    trace: bool
    profile: str | None = None


# -- the parent: database, file, report ----------------------------------------------------


def app_config(database_url: str, folder: str) -> dict:
    return {
        "ENV": "test",
        "SECRET_KEY": "bench-secret",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",  # the job functions are called here, in this process
        "INSTANCE_PATH": folder,
        "DOCUMENT_STORAGE": f"{folder}/documents",
        "LOG_LEVEL": "WARNING",
    }


def seed(rows: int) -> list[str]:
    """A direct-debit profile and ``rows`` customers on it; their numbers."""
    profile = Profile(name="Direct debit", allow_direct_debit=True)
    db.session.add(profile)
    db.session.commit()
    numbers = [str(uuid.UUID(int=i + 1)) for i in range(rows)]
    for first in range(0, rows, CHUNK):
        batch = [
            {
                "teamleader_id": number,
                "customer_number": number,
                "kind": CustomerKind.COMPANY,
                "name": f"Customer {first + i:06d}",
                "profile_id": profile.id,
            }
            for i, number in enumerate(numbers[first : first + CHUNK])
        ]
        db.session.execute(sa.insert(Customer), batch)
    db.session.commit()
    analyze()
    return numbers


def belgian_iban(n: int) -> str:
    """A valid Belgian IBAN: bank code, account number, national and IBAN check digits."""
    bank, account = BANKS[n % len(BANKS)], f"{n:07d}"
    national = int(bank + account) % 97 or 97
    bban = f"{bank}{account}{national:02d}"
    check = 98 - int(f"{bban}111400") % 97  # B=11, E=14, then "00"
    return f"BE{check:02d}{bban}"


def write_csv(path: Path, numbers: list[str], prefix: str = "MD") -> int:
    """The mandates CSV for ``numbers``; returns its size in bytes."""
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["customerNumber", "mandateNumber", "iban", "bic", "signDate", "name"])
        for n, number in enumerate(numbers):
            iban = belgian_iban(n)
            bic = "" if n % 4 == 0 else BICS[iban[4:7]]
            signed = f"{1 + n % 28:02d}/{1 + n % 12:02d}/20{15 + n % 10}"
            writer.writerow([number, f"{prefix}-{n:08d}", iban, bic, signed, f"Debtor {n}"])
    return path.stat().st_size


# What the server did meanwhile (cluster-wide: other databases' work counts too): WAL
# written and its full-page images (more after each checkpoint), WAL flushes waited on,
# checkpoints, and pages a backend had to write out itself for want of a clean buffer.
SERVER_STATS = """
    SELECT w.wal_bytes, w.wal_fpi, w.wal_sync,
           b.checkpoints_timed + b.checkpoints_req AS checkpoints,
           b.buffers_backend, b.buffers_backend_fsync
    FROM pg_stat_wal w, pg_stat_bgwriter b
"""


def server_stats(url: str) -> dict:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        cursor = conn.execute(SERVER_STATS)
        names = [column.name for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def run_phases(
    names, url: str, folder: str, csv_path: Path, trace: bool, profile: str | None = None
) -> dict[str, dict]:
    results = {}
    for name in names:
        phase = Phase(name, url, folder, str(csv_path), trace, profile)
        before = server_stats(url)
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            results[name] = pool.submit(run_phase, phase).result()
        after = server_stats(url)
        results[name]["server"] = {key: float(after[key] - before[key]) for key in after}
    return results


def report(rows: int, size: int, timed: dict, traced: dict) -> None:
    print(f"{rows:,} rows, {size / 1e6:.1f} MB")
    print(
        f"  {'phase':<8} {'seconds':>8} {'rows/s':>9} {'max RSS':>9} {'tracemalloc':>12}"
        f" {'stmts/1k':>9} {'trips/1k':>9}  outcome"
    )
    for name, r in timed.items():
        peak = traced.get(name, {}).get("peak_mb")
        peak = f"{peak:.1f} MB" if peak is not None else "—"
        print(
            f"  {name:<8} {r['seconds']:8.2f} {rows / r['seconds']:9,.0f} "
            f"{r['rss_mb']:6.1f} MB {peak:>12} {r['statements'] * 1000 / rows:9.1f}"
            f" {r['round_trips'] * 1000 / rows:9.1f}  {r['outcome']}"
        )
    for name, r in traced.items():
        print(f"  traced {name}: {r['seconds']:.1f} s, {r['outcome']}")
    print("  CPU seconds per 1,000 rows (the child's own, its PostgreSQL backends'):")
    for name, r in timed.items():
        backend = r["backend_cpu"]
        backend = f"{backend * 1000 / rows:6.3f}" if backend is not None else "     —"
        print(f"    {name:<8} bench {r['cpu'] * 1000 / rows:6.3f}  backends {backend}")
    print("  server meanwhile (cluster-wide):")
    for name, r in timed.items():
        w = r["server"]
        print(
            f"    {name:<8} WAL {w['wal_bytes'] / 1e6:7.1f} MB, {w['wal_fpi']:,.0f} full-page"
            f" images, {w['wal_sync']:,.0f} WAL flushes, {w['checkpoints']:.0f} checkpoint(s),"
            f" {w['buffers_backend']:,.0f} pages written by backends"
            f" ({w['buffers_backend_fsync']:.0f} fsyncs)"
        )


# -- the child: one phase ----------------------------------------------------------------------


def run_phase(phase: Phase) -> dict:
    logging.disable(logging.INFO)
    app = create_app(app_config(phase.database_url, phase.folder))
    with app.app_context():
        if phase.trace:
            tracemalloc.start()
        counted = {"round_trips": 0, "statements": 0}
        sa.event.listen(db.engine, "before_cursor_execute", _counter(counted))
        backends: list[int] = []
        sa.event.listen(db.engine, "connect", _backend_pid(backends))
        profiler = cProfile.Profile() if phase.profile else None
        cpu_before = _own_cpu()
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        outcome = PHASES[phase.name](app, phase)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(Path(phase.profile) / f"{phase.name}.prof")
        seconds = time.perf_counter() - started
        cpu = _own_cpu() - cpu_before
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if phase.trace else None
        tracemalloc.stop()
        backend_cpu = _backends_cpu(backends)
        db.engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "name": phase.name,
        "seconds": seconds,
        "peak_mb": peak,
        "rss_mb": rss,
        "cpu": cpu,
        "backend_cpu": backend_cpu,
        **counted,
        **outcome,
    }


def _counter(counted: dict):
    """Counts what the phase sends PostgreSQL: a call to the driver is a round trip (psycopg
    pipelines an executemany's rows, so they share one), each row of an executemany is a
    statement the server plans and runs. Load does not change these numbers."""

    def count(conn, cursor, statement, parameters, context, executemany):
        counted["round_trips"] += 1
        many = executemany and isinstance(parameters, list | tuple)
        counted["statements"] += len(parameters) if many else 1

    return count


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _backend_pid(pids: list[int]):
    """Notes the server process of each new connection, for its CPU time."""

    def connected(dbapi_connection, record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids.append(cursor.fetchone()[0])

    return connected


def _backends_cpu(pids: list[int]) -> float | None:
    """CPU seconds of the phase's backends (all their life: they start with the phase);
    None when the server is not on this machine."""
    total = [cpu_seconds(pid) if _is_postgres(pid) else None for pid in pids]
    return None if None in total or not total else sum(total)


def _is_postgres(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().startswith("postgres")
    except OSError:
        return False


def _upload(app, phase: Phase) -> dict:
    with open(phase.csv_path, "rb") as file:
        upload = mandate_upload.receive(
            file, "mandates.csv", runtime_setup.document_store(app), actor=ACTOR
        )
    return {"outcome": f"upload #{upload.id}, {upload.size:,} bytes stored"}


def _latest() -> MandateUpload:
    return db.session.scalars(sa.select(MandateUpload).order_by(MandateUpload.id.desc())).first()


def _check(app, phase: Phase) -> dict:
    message = direct_debit_jobs.check_mandate_upload(_latest().id)
    return {"outcome": message}


def _commit(app, phase: Phase) -> dict:
    message = direct_debit_jobs.commit_mandate_upload(_latest().id, ACTOR)
    stored = db.session.scalar(sa.select(sa.func.count(Mandate.id)))
    return {"outcome": f"{message}; {stored:,} mandates in the database"}


def _again(app, phase: Phase) -> dict:
    _upload(app, phase)
    checked = _check(app, phase)["outcome"]
    committed = _commit(app, phase)["outcome"]
    return {"outcome": f"{checked} → {committed}"}


PHASES = {"upload": _upload, "check": _check, "commit": _commit, "again": _again}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=SERVER)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-tracemalloc", action="store_true", help="time without tracing")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DATABASE} database")
    parser.add_argument("--profile", metavar="DIR", help="write each phase's cProfile here")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # alembic's migration chatter
    with (
        scratch_database(args.server, DATABASE, keep=args.keep) as (url, _new),
        tempfile.TemporaryDirectory(prefix="collector-bench-mandates-") as folder,
    ):
        app = create_app(app_config(url, folder))
        with app.app_context():
            flask_migrate.upgrade()
            numbers = seed(args.rows)
            db.engine.dispose()
        csv_path = Path(folder) / "mandates.csv"
        size = write_csv(csv_path, numbers)
        timed = run_phases(PHASES, url, folder, csv_path, trace=False, profile=args.profile)
        traced = {}
        if not args.no_tracemalloc:
            second = Path(folder) / "second.csv"
            write_csv(second, numbers, prefix="MD2")
            run_phases(["upload"], url, folder, second, trace=False)
            traced = run_phases(["check", "commit"], url, folder, second, trace=True)
        report(args.rows, size, timed, traced)


if __name__ == "__main__":
    main()
