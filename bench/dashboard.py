"""How fast is the receivables dashboard at 100,000 documents?

Seeds a scratch PostgreSQL database (its own, created here and dropped afterwards) with
``bench/common``'s customers and documents, then adds what the dashboard reads
besides them: payments for the paid invoices (and part of some open ones), mandates on
two direct-debit profiles, settled, pending and rejected collections, one invitation
per document (announcing the debit where there is one; one in a thousand held by its
import), holds on documents and customers, Teamleader syncs, unmatched bank money,
overpayments and refused PDFs. Then it times each of the dashboard's
questions and the rendered home page (median and p95 of RUNS, each on a fresh session).

    python bench/dashboard.py [--server postgresql://postgres@127.0.0.1:5432]
                              [--invoices 100000] [--customers 3000] [--runs 50] [--explain]
                              [--keep | --reuse]
"""

import random
from datetime import UTC, datetime
from datetime import time as clock_time

import sqlalchemy as sa
from common import (
    DEPARTMENTS,
    TODAY,
    arguments,
    bench_app,
    seed_documents,
    time_pages,
    time_questions,
)

from collector.core import clock
from collector.direct_debit.models import Collection
from collector.documents import cash_in, receivables
from collector.extensions import db
from collector.web import dashboard, needs_attention

DATABASE = "collector_bench_dashboard"
SETTLED = sa.select(Collection.payment_id).where(Collection.payment_id.is_not(None))

# What the dashboard reads besides the documents, in plain SQL: INSERT … SELECT makes
# 100,000 rows in a second where ORM objects would take minutes.
EXTRAS = [
    # Two of the five profiles collect by direct debit; every tenth customer on them has
    # no mandate (a needs-attention item).
    "UPDATE profile SET allow_direct_debit = true"
    " WHERE id IN (SELECT id FROM profile ORDER BY id LIMIT 2)",
    """INSERT INTO mandate (reference, reference_key, customer_id, profile_id, iban,
         debtor_name, signed_on, scheme, status, used, actor, created_at, updated_at)
       SELECT 'BENCH-' || c.id, 'BENCH-' || c.id, c.id, c.profile_id, 'BE68539007547034',
         left(c.name, 70), DATE '2024-01-01', 'CORE', 'active', true, 'bench', now(), now()
       FROM customer c JOIN profile p ON p.id = c.profile_id
       WHERE p.allow_direct_debit AND c.id % 10 <> 0""",
    "UPDATE invoice SET payable = total_incl_vat WHERE kind = 'invoice'",
    # A payment for every paid invoice: mandated customers by direct debit, the others
    # online, by transfer, in Teamleader or by hand; within 45 days of the invoice.
    """INSERT INTO payment (invoice_id, key, source, kind, amount, currency, occurred_at,
         actor, created_at)
       SELECT i.id, 'bench:' || i.id,
         CASE WHEN m.id IS NOT NULL THEN 'bank' WHEN i.id % 10 < 4 THEN 'provider'
              WHEN i.id % 10 < 8 THEN 'bank' WHEN i.id % 10 < 9 THEN 'teamleader'
              ELSE 'manual' END,
         'payment', i.total_incl_vat, 'EUR',
         (LEAST(i.invoice_date + (i.id % 45), :today)::timestamp
           AT TIME ZONE 'Europe/Brussels') + interval '10 hours',
         'bench', now()
       FROM invoice i
       LEFT JOIN mandate m ON m.customer_id = i.customer_id AND m.profile_id = i.profile_id
       WHERE i.state = 'PAID' AND i.kind = 'invoice'""",
    # A third paid online on every fifth open invoice: partly paid.
    """INSERT INTO payment (invoice_id, key, source, kind, amount, currency, occurred_at,
         actor, created_at)
       SELECT id, 'bench:part:' || id, 'provider', 'payment', round(total_incl_vat / 3, 2),
         'EUR', (LEAST(invoice_date + 10, :today)::timestamp
           AT TIME ZONE 'Europe/Brussels') + interval '14 hours', 'bench', now()
       FROM invoice WHERE state IN ('BOOKED', 'EXPIRED') AND kind = 'invoice' AND id % 5 = 0""",
    """UPDATE invoice SET amount_due = total_incl_vat - round(total_incl_vat / 3, 2)
       WHERE state IN ('BOOKED', 'EXPIRED') AND kind = 'invoice' AND id % 5 = 0""",
    """INSERT INTO collection_run (scheme, status, message_id, pain_version, count, total,
         currency, collect_until, actor, created_at)
       VALUES ('CORE', 'sent', 'BENCH-SETTLED', 'pain.008.001.02', 0, 0, 'EUR', :today,
               'bench', now()),
              ('CORE', 'sent', 'BENCH-PENDING', 'pain.008.001.02', 0, 0, 'EUR', :today,
               'bench', now())""",
    """INSERT INTO collection (run_id, invoice_id, mandate_id, amount, currency,
         sequence_type, collection_date, end_to_end_id, payment_info_id, status,
         payment_id, settled_at, created_at, updated_at)
       SELECT (SELECT id FROM collection_run WHERE message_id = 'BENCH-SETTLED'),
         p.invoice_id, m.id, p.amount, 'EUR', 'RCUR', p.occurred_at::date,
         'E2E-' || p.id, 'PMT-SETTLED', 'settled', p.id, p.occurred_at, now(), now()
       FROM payment p JOIN invoice i ON i.id = p.invoice_id
       JOIN mandate m ON m.customer_id = i.customer_id AND m.profile_id = i.profile_id
       WHERE p.source = 'bank'""",
    # Collections under way for the PENDING invoices, over the next five days; one in
    # twenty expired invoices had its collection rejected.
    """INSERT INTO collection (run_id, invoice_id, mandate_id, amount, currency,
         sequence_type, collection_date, end_to_end_id, payment_info_id, status,
         created_at, updated_at)
       SELECT (SELECT id FROM collection_run WHERE message_id = 'BENCH-PENDING'),
         i.id, m.id, i.amount_due, 'EUR', 'RCUR',
         CASE WHEN i.state = 'PENDING' THEN :today + 1 + i.id % 5 ELSE :today - 20 END,
         'E2E-N-' || i.id, 'PMT-PENDING',
         CASE WHEN i.state = 'PENDING' THEN 'pending' ELSE 'rejected' END, now(), now()
       FROM invoice i
       JOIN mandate m ON m.customer_id = i.customer_id AND m.profile_id = i.profile_id
       WHERE i.kind = 'invoice'
         AND (i.state = 'PENDING' OR (i.state = 'EXPIRED' AND i.id % 20 = 0))""",
    # One invitation per document; those of open mandated invoices announce the debit.
    """INSERT INTO document_mail (invoice_id, kind, key, status, needs_pdf, attempts,
         actor, recipient, direct_debit_on, direct_debit_mandate_id, direct_debit_amount,
         sent_at, created_at, updated_at)
       SELECT i.id, 'invitation', 'invitation',
         CASE WHEN i.id % 2000 = 0 THEN 'failed' WHEN i.id % 1000 = 1 THEN 'held'
           ELSE 'sent' END, false, 1, 'system',
         'billing@example.com',
         CASE WHEN m.id IS NOT NULL THEN :today + 2 + i.id % 10 END, m.id,
         CASE WHEN m.id IS NOT NULL THEN i.amount_due END,
         (i.invoice_date::timestamp AT TIME ZONE 'Europe/Brussels') + interval '11 hours',
         now(), now()
       FROM invoice i
       LEFT JOIN mandate m ON m.customer_id = i.customer_id AND m.profile_id = i.profile_id
         AND i.state IN ('BOOKED', 'EXPIRED') AND i.kind = 'invoice'""",
    """INSERT INTO teamleader_sync (invoice_id, wanted, done, status, attempts, held,
         restoring, unsettled, created_at, updated_at)
       SELECT invoice_id, 1, 1, CASE WHEN invoice_id % 3000 = 0 THEN 'failed'
         ELSE 'synced' END, 1, 0, false, 0, now(), now()
       FROM payment WHERE source <> 'teamleader' AND key NOT LIKE 'bench:part:%'""",
    "UPDATE invoice SET pdf_failures = 3 WHERE pdf_key IS NULL AND id % 7 = 0",
    """INSERT INTO bank_file (kind, filename, sha256, file_key, summary, actor, created_at)
       VALUES ('camt.053', 'bench.xml', repeat('0', 64), 'bench', '{}', 'bench', now())""",
    """INSERT INTO bank_transaction (bank_file_id, key, kind, status, amount, currency,
         booked_on, created_at)
       SELECT (SELECT id FROM bank_file LIMIT 1), 'transfer:bench:' || n, 'transfer',
         CASE WHEN n % 25 = 0 THEN 'unmatched' ELSE 'matched' END, 100 + n, 'EUR',
         :today - n % 60, now()
       FROM generate_series(1, 1000) AS n""",
    # Holds: a dispute, a promise (some passed) or a payment plan on one open invoice in
    # 40, one customer in 60 on hold as a whole, a third of all holds lifted since.
    """INSERT INTO hold (invoice_id, reason, until, note, placed_by, placed_at, lifted_by,
         lifted_at)
       SELECT i.id, (ARRAY['disputed', 'promise', 'payment_plan'])[1 + i.id % 3],
         CASE WHEN i.id % 3 = 1 THEN :today - 10 + i.id % 30 END, 'bench', 'user:bench',
         now() - (i.id % 90) * interval '1 day',
         CASE WHEN i.id % 120 = 0 THEN 'user:bench' END,
         CASE WHEN i.id % 120 = 0 THEN now() END
       FROM invoice i
       WHERE i.kind = 'invoice' AND i.state IN ('BOOKED', 'EXPIRED') AND i.id % 40 = 0""",
    """INSERT INTO hold (customer_id, reason, note, placed_by, placed_at)
       SELECT c.id, 'disputed', 'bench', 'user:bench', now() - (c.id % 60) * interval '1 day'
       FROM customer c WHERE c.id % 60 = 0""",
    """INSERT INTO overpayment (invoice_id, amount, currency, status, created_at, updated_at)
       SELECT invoice_id, 5, 'EUR', 'open', now(), now() FROM payment
       WHERE source = 'provider' ORDER BY id LIMIT 12""",
]


def seed_extras() -> None:
    for statement in EXTRAS:
        db.session.execute(sa.text(statement), {"today": TODAY})
    db.session.commit()


def cases() -> list[tuple[str, object]]:
    """(name, question): each of the dashboard's questions, then all of them."""
    some_department = DEPARTMENTS[0][0]
    return [
        ("receivables", lambda: receivables.receivables(TODAY)),
        ("cash in", lambda: cash_in.collected(TODAY, debited=SETTLED)),
        ("next direct debits", lambda: dashboard.next_debits(TODAY)),
        ("needs attention", needs_attention.needs_attention),
        ("whole dashboard", lambda: dashboard.build(TODAY)),
        ("whole, one entity", lambda: dashboard.build(TODAY, some_department)),
    ]


def counts() -> str:
    tables = ("invoice", "payment", "collection", "document_mail", "mandate", "hold")
    found = {t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in tables}  # noqa: S608
    return ", ".join(f"{n} {table}s" for table, n in found.items())


def main():
    parser = arguments(__doc__.splitlines()[0], DATABASE)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    args = parser.parse_args()

    def seed():
        seed_documents(args.invoices, args.customers, random.Random(7))
        seed_extras()

    # The dashboard reads "today" from the one clock: the seed's today, late morning.
    noon = datetime.combine(TODAY, clock_time(11), tzinfo=UTC)
    previous = clock.use_source(lambda: noon)
    try:
        with bench_app(args, DATABASE, seed) as app:
            with app.app_context():
                print(counts())
                print(f"dashboard questions, p50 p95 of {args.runs}:")
                time_questions(cases(), args.runs, args.explain)
            print(f"the rendered home page, p50 p95 of {args.runs}:")
            worst = max(time_pages(app, ["/"], args.runs))
            print(f"  p95: {worst:.1f} ms (target < 150 ms)")
    finally:
        clock.use_source(previous)


if __name__ == "__main__":
    main()
