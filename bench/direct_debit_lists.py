"""How fast are the mandates, collection runs and bank files lists at 50,000 mandates?

Seeds a scratch PostgreSQL database (its own, created here and dropped afterwards) with
``bench/common``'s --customers customers and documents (enough invoices to collect), then,
in plain SQL (INSERT … SELECT: seconds where ORM objects would take minutes), --mandates
mandates spread over the customers on two direct-debit profiles, --collection-runs runs
(one a week, going back ten years) of --per-run collections each, a status report and a
statement per sent run with a transaction per settled debit, and transfers of which one
in 25 is unmatched. Then it times, through the app's test client (the server's time: the
view, its queries and the rendered page; p50/p95 of --runs requests), each list as the
finance team works it — plain, sorted, searched by a name word, IBAN digits, a customer
or a document — and the CSV export of every mandate (its time over --export-runs
downloads and the process's peak RSS above where each started).

    python bench/direct_debit_lists.py [--server postgresql://postgres@127.0.0.1:5432]
                                       [--mandates 50000] [--customers 20000]
                                       [--collection-runs 520] [--per-run 100]
                                       [--runs 40] [--export-runs 5] [--keep | --reuse]
"""

import random
import statistics
import time
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from urllib.parse import quote_plus

import sqlalchemy as sa
from common import TODAY, arguments, bench_app, logged_in, percentiles, seed_documents

from collector.core import clock
from collector.extensions import db

DATABASE = "collector_bench_direct_debit_lists"
ACTORS = ["user:ann@example.com", "user:bob@example.com", "user:eva@example.com"]

# The direct-debit world, on top of the documents. :today is the seed's today.
EXTRAS = [
    "UPDATE profile SET allow_direct_debit = true"
    " WHERE id IN (SELECT id FROM profile ORDER BY id LIMIT 2)",
    # Mandate n belongs to customer n % customers: 2 or 3 each. One in ten revoked, one in
    # ten lapsed, one in seven B2B; two in three used. IBANs are Belgian-shaped (16
    # characters, digits spread), not checked: the lists do not check them.
    """WITH c AS (SELECT id, name, row_number() OVER (ORDER BY id) - 1 AS k FROM customer),
            p AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM profile
                  WHERE allow_direct_debit)
       INSERT INTO mandate (reference, reference_key, customer_id, profile_id, iban,
         debtor_name, signed_on, scheme, status, used, last_collected_on, actor,
         created_at, updated_at)
       SELECT 'MD-' || lpad(n::text, 7, '0'), 'MD-' || lpad(n::text, 7, '0'), c.id, p.id,
         'BE' || (10 + n % 89) || lpad(((n::bigint * 982451653) % 1000000000000)::text, 12, '0'),
         CASE WHEN n % 4 = 0 THEN 'Holder ' || n ELSE left(c.name, 70) END,
         :today - 700 - n % 800,
         CASE WHEN n % 7 = 0 THEN 'B2B' ELSE 'CORE' END,
         CASE n % 10 WHEN 0 THEN 'revoked' WHEN 1 THEN 'lapsed' ELSE 'active' END,
         n % 3 <> 0, CASE WHEN n % 3 <> 0 THEN :today - n % 700 END, 'bench', now(), now()
       FROM generate_series(0, :mandates - 1) AS n
       JOIN c ON c.k = n % (SELECT count(*) FROM customer)
       JOIN p ON p.k = n % 2""",
    # One run a week, oldest first (so the newest has the highest number); the newest is
    # still "created", one in fifty was cancelled.
    """INSERT INTO collection_run (scheme, status, message_id, pain_version, count, total,
         currency, collect_until, actor, created_at, sent_at, sent_by, cancelled_at,
         cancelled_by, cancel_reason)
       SELECT CASE WHEN r % 5 = 0 THEN 'B2B' ELSE 'CORE' END, s.status,
         'RUN-' || lpad(r::text, 6, '0'), 'pain.008.001.02', 0, 0, 'EUR',
         :today - 7 * r + 5, (CAST(:actors AS text[]))[1 + r % 3], s.made,
         CASE WHEN s.status = 'sent' THEN s.made + interval '1 hour' END,
         CASE WHEN s.status = 'sent' THEN (CAST(:actors AS text[]))[1 + r % 3] END,
         CASE WHEN s.status = 'cancelled' THEN s.made + interval '10 minutes' END,
         CASE WHEN s.status = 'cancelled' THEN (CAST(:actors AS text[]))[1 + r % 3] END,
         CASE WHEN s.status = 'cancelled' THEN 'Wrong date' END
       FROM generate_series(:runs - 1, 0, -1) AS r,
         LATERAL (SELECT CASE WHEN r = 0 THEN 'created' WHEN r % 50 = 7 THEN 'cancelled'
                    ELSE 'sent' END AS status,
                  ((:today - 7 * r)::timestamp AT TIME ZONE 'Europe/Brussels')
                    + interval '9 hours' AS made) AS s""",
    # PER_RUN invoices per run, in id order, each on its customer's first mandate: the
    # two newest sent runs still pending, otherwise settled but one in 50 rejected and
    # one in 97 returned.
    """WITH i AS (SELECT id, customer_id, total_incl_vat,
                    row_number() OVER (ORDER BY id) - 1 AS k
                  FROM invoice WHERE kind = 'invoice' ORDER BY id LIMIT :collections),
            r AS (SELECT id, status, collect_until, created_at,
                    row_number() OVER (ORDER BY id DESC) - 1 AS age FROM collection_run),
            m AS (SELECT DISTINCT ON (customer_id) customer_id, id FROM mandate
                  ORDER BY customer_id, id)
       INSERT INTO collection (run_id, invoice_id, mandate_id, amount, currency,
         sequence_type, collection_date, end_to_end_id, payment_info_id, status, settled_at,
         created_at, updated_at)
       SELECT r.id, i.id, m.id, i.total_incl_vat, 'EUR',
         CASE WHEN i.k % :per_run < 10 THEN 'FRST' ELSE 'RCUR' END, r.collect_until,
         'E2E-' || lpad(i.id::text, 9, '0'), 'PMT-' || r.id, s.status,
         CASE WHEN s.status IN ('settled', 'returned') THEN r.created_at + interval '6 days'
         END, r.created_at, r.created_at
       FROM i
       JOIN r ON r.age = :runs - 1 - i.k / :per_run
       JOIN m ON m.customer_id = i.customer_id,
         LATERAL (SELECT CASE WHEN r.status = 'cancelled' THEN 'cancelled'
                    WHEN r.status = 'created' OR r.age < 3 THEN 'pending'
                    WHEN i.k % 50 = 0 THEN 'rejected' WHEN i.k % 97 = 0 THEN 'returned'
                    ELSE 'settled' END AS status) AS s""",
    """UPDATE collection_run SET count = s.n, total = s.amount
       FROM (SELECT run_id, count(*) AS n, sum(amount) AS amount FROM collection
             GROUP BY run_id) AS s
       WHERE s.run_id = collection_run.id""",
    # Per sent run the bank's status report (its rejects) and the statement settling it.
    """INSERT INTO bank_file (kind, filename, sha256, file_key, message_id, account_iban,
         summary, actor, created_at)
       SELECT f.kind, f.kind || '-' || r.id || '.xml', md5(f.kind || r.id) || md5(r.id || f.kind),
         'bank/' || f.kind || '-' || r.id, 'BANK-' || f.kind || '-' || r.id,
         'BE68539007547034', f.summary, (CAST(:actors AS text[]))[1 + r.id % 3],
         r.created_at + f.after
       FROM collection_run r
       JOIN LATERAL (SELECT count(*) FILTER (WHERE status = 'settled') AS settled,
                       count(*) FILTER (WHERE status = 'rejected') AS rejected,
                       count(*) FILTER (WHERE status = 'returned') AS returned
                     FROM collection WHERE run_id = r.id) AS c ON true,
         LATERAL (VALUES
           ('pain.002', json_build_object('rejected', c.rejected), interval '2 days'),
           ('camt.053', json_build_object('settled', c.settled, 'returned', c.returned,
              'matched', 40, 'known', 3, 'skipped', 12), interval '6 days')
         ) AS f(kind, summary, after)
       WHERE r.status = 'sent' AND c.settled > 0
       ORDER BY r.id, f.after""",
    """INSERT INTO bank_transaction (bank_file_id, key, kind, status, amount, currency,
         booked_on, end_to_end_id, collection_id, invoice_id, created_at)
       SELECT f.id, 'collection:' || c.end_to_end_id, 'collection', 'matched', c.amount,
         'EUR', c.collection_date, c.end_to_end_id, c.id, c.invoice_id, f.created_at
       FROM collection c JOIN bank_file f
         ON f.kind = 'camt.053' AND f.filename = 'camt.053-' || c.run_id || '.xml'
       WHERE c.status = 'settled'""",
    # Transfers on the last hundred statements.
    """WITH f AS (SELECT id, created_at, row_number() OVER (ORDER BY id DESC) - 1 AS k
                  FROM bank_file WHERE kind = 'camt.053')
       INSERT INTO bank_transaction (bank_file_id, key, kind, status, amount, currency,
         booked_on, counterparty_name, created_at)
       SELECT f.id, 'transfer:bench:' || n, 'transfer',
         CASE WHEN n % 25 = 0 THEN 'unmatched' ELSE 'matched' END, 100 + n % 900, 'EUR',
         f.created_at::date, 'Payer ' || n, f.created_at
       FROM generate_series(1, 2000) AS n
       JOIN f ON f.k = n % LEAST(100, (SELECT count(*) FROM f))""",
]


def seed_direct_debit(mandates: int, runs: int, per_run: int) -> None:
    values = {
        "today": TODAY,
        "mandates": mandates,
        "runs": runs,
        "per_run": per_run,
        "collections": runs * per_run,
        "actors": ACTORS,
    }
    for statement in EXTRAS:
        db.session.execute(sa.text(statement), values)
    db.session.commit()


def counts() -> str:
    tables = ("customer", "mandate", "collection_run", "collection", "bank_file")
    found = {t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in tables}  # noqa: S608
    return ", ".join(f"{n:,} {table}s" for table, n in found.items())


def scenarios() -> list[tuple[str, str]]:
    """(name, path): each list as the finance team works it, searched for what is there
    (a quarter of the way into the mandates, half-way into the collections)."""
    iban = db.session.scalar(
        sa.text(
            "SELECT iban FROM mandate ORDER BY id OFFSET (SELECT count(*) / 4 FROM mandate) LIMIT 1"
        )
    )
    document, customer = db.session.execute(
        sa.text(
            "SELECT i.number, c.name FROM collection co JOIN invoice i ON i.id = co.invoice_id"
            " JOIN customer c ON c.id = i.customer_id ORDER BY co.id"
            " OFFSET (SELECT count(*) / 2 FROM collection) LIMIT 1"
        )
    ).one()
    return [
        ("mandates", "/mandates/"),
        ("mandates by customer", "/mandates/?sort=customer"),
        ("mandates, a name word", "/mandates/?q=brouwerij"),
        ("mandates, IBAN digits", f"/mandates/?q={iban[-4:]}"),
        ("runs", "/collections/"),
        ("runs, a name word", "/collections/?q=brouwerij"),
        ("runs, one customer", f"/collections/?q={quote_plus(customer)}"),
        ("runs, a document", f"/collections/?q={quote_plus(document)}"),
        ("bank files", "/bank-files/"),
    ]


def time_scenarios(app, cases: list[tuple[str, str]], runs: int) -> None:
    """GET each path ``runs`` times (after one to warm up), printing its p50 and p95."""
    client = logged_in(app)
    for name, path in cases:

        def get(path=path):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        median, p95 = percentiles(get, runs)
        print(f"  {name:<24} {median:7.1f} {p95:7.1f} ms   {path}")


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> bool:
    """Start the kernel's peak-RSS count (VmHWM) again from now; False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def time_export(app, path: str, runs: int) -> None:
    """Download ``path`` ``runs`` times chunk by chunk, as a browser saving it would: the
    median and slowest time, the size, and the largest rise of the peak RSS."""
    client = logged_in(app)
    seconds, peaks = [], []
    for _ in range(runs):
        resettable = _reset_peak_rss()
        before = _rss_kb("VmRSS")
        started = time.perf_counter()
        response = client.get(path, buffered=False)
        assert response.status_code == 200, response.status_code
        size = lines = 0
        for chunk in response.response:
            size += len(chunk)
            lines += chunk.count(b"\n")
        response.close()
        seconds.append(time.perf_counter() - started)
        if resettable:
            peaks.append(_rss_kb("VmHWM") - before)
    rss = f"+{max(peaks) / 1024:.1f} MB" if peaks else "n/a"
    print(
        f"  {path}: {lines - 1:,} rows, {size / 1e6:.1f} MB;"
        f" p50 {statistics.median(seconds):.2f} s, slowest {max(seconds):.2f} s of {runs};"
        f" peak RSS {rss}"
    )


def main():
    parser = arguments(__doc__.splitlines()[0], DATABASE)
    parser.add_argument("--mandates", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--collection-runs", type=int, default=520)
    parser.add_argument("--per-run", type=int, default=100, help="collections per run")
    parser.add_argument("--runs", type=int, default=40, help="timed requests per list")
    parser.add_argument("--export-runs", type=int, default=5, help="timed CSV downloads")
    args = parser.parse_args()
    collections = args.collection_runs * args.per_run

    def seed():
        # About one document in ten is a credit note: enough invoices to collect.
        seed_documents(collections * 12 // 10, args.customers, random.Random(7))
        seed_direct_debit(args.mandates, args.collection_runs, args.per_run)

    # Pages and exports read "today" from the one clock: the seed's today, late morning.
    noon = datetime.combine(TODAY, clock_time(11), tzinfo=UTC)
    previous = clock.use_source(lambda: noon)
    try:
        with bench_app(args, DATABASE, seed) as app:
            with app.app_context():
                print(counts())
                cases = scenarios()
            print(f"rendered list pages (50 a page), p50 p95 of {args.runs}:")
            time_scenarios(app, cases, args.runs)
            print(f"the CSV export of every mandate, {args.export_runs} downloads:")
            time_export(app, "/mandates/export.csv", args.export_runs)
    finally:
        clock.use_source(previous)


if __name__ == "__main__":
    main()
