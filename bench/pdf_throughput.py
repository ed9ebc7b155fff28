"""How many PDFs per minute does retrieval fetch, next to what its rate budget allows?

Each PDF costs one Teamleader call (``invoices.download`` / ``creditNotes.download``)
plus a fetch of the short-lived location, which is a file host, not the API. Retrieval
spends only its share of the account's budget (TEAMLEADER_PDF_SHARE of our 190 per
minute), so imports and webhooks always find room: its ceiling is share × 190 PDFs per
minute. Scenarios, each on a fresh sandbox, database and rate budget:

  share 0.5      the default: at most 95 PDFs a minute
  share 1.0      the whole budget, for comparison

The documents are imported first (90 days of the sandbox's invoices and credit notes),
then --pdfs of them are fetched in one run, in a child process as in an rq worker,
through the real client, the Redis-shared limiter, the FileFetcher's checks and the
folder store. Windows are scaled down by --time-scale N (200 per 60/N s) so a run takes
seconds; while the limit sets the pace, Teamleader minutes are wall time × N. A ratio
well below 1 means our own processing, scaled along, set the pace: a smaller
--time-scale then shows the real picture (at ×20 it does; at ×5 it does not).

    python bench/pdf_throughput.py [--pdfs 400] [--time-scale 5]
                                   [--server postgresql://postgres@127.0.0.1:5432]
"""

import argparse
import logging
import resource
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import flask_migrate
import requests
from import_throughput import (
    OUR_LIMIT,
    SERVER_LIMIT,
    Job,
    app_config,
    configure,
    connect,
    run_in_worker,
)

from collector import create_app
from collector.core.columns import utcnow
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import imports
from collector.teamleader import pdfs as documents
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import ImportSource

SHARES = (0.5, 1.0)
DOWNLOADS = ("invoices.download", "creditNotes.download")


@dataclass
class Result:
    share: float
    fetched: int
    refused: int
    calls: Counter
    wall: float
    scale: float
    rss_mb: float
    stored_mb: float

    @property
    def api_calls(self) -> int:
        return sum(self.calls[k] for k in DOWNLOADS)

    @property
    def teamleader_minutes(self) -> float:
        return self.wall * self.scale / 60

    @property
    def per_minute(self) -> float:
        return self.fetched / self.teamleader_minutes

    @property
    def ceiling(self) -> float:
        return int(OUR_LIMIT * self.share) / (self.api_calls / self.fetched)


def fetch_in_worker(job: Job, share: float, pdfs: int) -> dict:
    """Import 90 days, then time one retrieval run of ``pdfs`` documents."""
    logging.disable(logging.INFO)
    app = create_app(app_config(job))
    app.config.update(TEAMLEADER_RATE_WINDOW=job.window, TEAMLEADER_PDF_SHARE=share)
    with app.app_context():
        flask_migrate.upgrade()
        connection = connect(app)
        configure(connection, custom_fields=False)
        today = utcnow().date()
        imp = imports.create_import(
            ImportSource.CLI, date_from=today - timedelta(days=90), date_to=today
        )
        imports.run_import(teamleader_setup.client(app, connection), connection, imp)
        # The import's calls leave the window before retrieval starts: a clean budget.
        time.sleep(job.window * 1.1)
        requests.delete(f"{job.sandbox_url}/_control/calls", timeout=10)
        client = teamleader_setup.client(app, connection, share="pdf")
        store = runtime_setup.document_store(app)
        ids = documents.due_for_pdf(pdfs, utcnow())
        started = time.perf_counter()
        result = documents.fetch_pdfs(
            client, teamleader_setup.file_fetcher(app), store, ids, actor="bench"
        )
        wall = time.perf_counter() - started
        stored = sum(p.stat().st_size for p in store.root.rglob("*") if p.is_file())
        db.engine.dispose()
    if result.stopped:
        raise RuntimeError(f"retrieval stopped: {result.stopped}")
    return {
        "fetched": len(result.fetched),
        "refused": len(result.refused),
        "wall": wall,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "stored_mb": stored / 1024 / 1024,
    }


def run(share: float, args) -> Result:
    sandbox = {"INVOICE_COUNT": args.invoices, "DOWNLOAD_TTL": 3600}
    outcome, calls, _ = run_in_worker(
        60 / args.time_scale, sandbox, args, False, fetch_in_worker, share, args.pdfs
    )
    return Result(
        share=share,
        fetched=outcome["fetched"],
        refused=outcome["refused"],
        calls=calls,
        wall=outcome["wall"],
        scale=args.time_scale,
        rss_mb=outcome["rss_mb"],
        stored_mb=outcome["stored_mb"],
    )


def report(results: list[Result], args) -> None:
    print(
        f"PDF retrieval: Teamleader {SERVER_LIMIT} calls/min (ours {OUR_LIMIT}), windows"
        f" scaled ×{args.time_scale:g} to {60 / args.time_scale:g} s;"
        f" database {'PostgreSQL' if args.server else 'SQLite'}"
    )
    print(
        f"{'share':>6}{'PDFs':>6}{'calls':>7}{'/PDF':>6}{'wall s':>8}{'TL min':>8}"
        f"{'PDFs/min':>10}{'ceiling':>9}{'ratio':>7}{'429s':>6}{'RSS MB':>8}"
        f"{'stored MB':>11}"
    )
    for r in results:
        print(
            f"{r.share:>6.1f}{r.fetched:>6}{r.api_calls:>7}{r.api_calls / r.fetched:>6.2f}"
            f"{r.wall:>8.1f}{r.teamleader_minutes:>8.2f}{r.per_minute:>10.0f}{r.ceiling:>9.0f}"
            f"{r.per_minute / r.ceiling:>7.2f}{r.calls.get('rate_limited', 0):>6}"
            f"{r.rss_mb:>8.0f}{r.stored_mb:>11.1f}"
        )
        if r.refused:
            print(f"  ! {r.refused} refused")
    print(
        "ceiling: the share's calls per minute ÷ calls per PDF; ratio: PDFs/min ÷ ceiling"
        " (the first window's calls go at once, so a short run may exceed 1)."
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdfs", type=int, default=400, help="PDFs to fetch per scenario")
    parser.add_argument("--invoices", type=int, default=600, help="invoices in the sandbox")
    parser.add_argument("--time-scale", type=float, default=5)
    parser.add_argument("--server", help="PostgreSQL server URL; default SQLite")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandbox's request log
    report([run(share, args) for share in SHARES], args)


if __name__ == "__main__":
    main()
