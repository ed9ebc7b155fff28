"""How fast is the documents overview at 100,000 documents, or at a million?

Seeds a scratch PostgreSQL database (created here, dropped afterwards; ``bench/common``,
with COPY) with --documents documents spread over three years and 3 customers per 100
of them, then times
``search_invoices`` for the overview's usual questions (p50/p95 of RUNS, each on a
fresh session, so nothing comes from the identity map), the finance team's list —
sorted and searched, as the browser first gets it (``list_invoices``: the page of 50 and
whether a Next page follows, read as one key more; p50/p95 of LIST_RUNS), deep pages as
their Next and Previous links read them — then the totals of each filter, the request the
list's script makes right after (``list_totals``), and the rendered /invoices pages and
/invoices/totals pages through the test client; then exports every document as CSV and
as XLSX through the views, with the time taken and the memory used (the process's peak
RSS above where it started, and the peak of Python's heap under tracemalloc). With
--explain it prints PostgreSQL's plan of every statement of every case.

Until 2026-12-05 the list's page also summed the totals of the whole filter in the same
request ("the whole list as the page shows it" was a page of 50 plus those totals, and
"the page of 50 alone" was timed apart). The totals are now a request of their own
(GET /invoices/totals): the first section is the page alone, as the list answers it, and
the totals section is that second request.

    python bench/overview.py [--server postgresql://postgres@127.0.0.1:5432]
                             [--database collector_bench_overview]
                             [--documents 100000] [--customers 3000] [--runs 7]
                             [--list-runs 40] [--explain] [--no-export]
                             [--keep | --reuse]
"""

import random
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from common import (
    TODAY,
    arguments,
    bench_app,
    logged_in,
    seed_documents,
    time_pages,
    time_questions,
)

from collector.core import clock
from collector.documents.models import Customer, DocumentKind, Invoice, InvoiceState
from collector.extensions import db
from collector.web import invoice_pages
from collector.web.invoice_pages import Position
from collector.web.invoice_query import conditions
from collector.web.overview import (
    InvoiceFilter,
    list_invoices,
    list_totals,
    search_invoices,
)

DATABASE = "collector_bench_overview"


def _within(offset: int) -> int:
    """``offset``, or the middle of a smaller seed (--documents 2000 for a quick look)."""
    return min(offset, db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) // 3)


def cases() -> list[tuple[str, InvoiceFilter, int]]:
    """(name, filter, page): the overview's usual questions."""
    some = db.session.execute(
        sa.select(Invoice.number, Invoice.teamleader_id, Invoice.customer_id, Invoice.profile_id)
        .where(Invoice.profile_id.is_not(None))
        .order_by(Invoice.id)
        .offset(_within(12_345))
        .limit(1)
    ).one()
    return [
        ("no filter, first page", InvoiceFilter(), 1),
        ("no filter, page 1000", InvoiceFilter(), 1000),
        (
            "state BOOKED + profile",
            InvoiceFilter(state=InvoiceState.BOOKED, profile_id=some.profile_id),
            1,
        ),
        ("number search", InvoiceFilter(q=some.number[-6:]), 1),
        ("number search, no match", InvoiceFilter(q="no-such-number"), 1),
        ("Teamleader id", InvoiceFilter(q=some.teamleader_id), 1),
        ("customer", InvoiceFilter(customer_id=some.customer_id), 1),
        (
            "date range (a month)",
            InvoiceFilter(date_from=date(2025, 3, 1), date_to=date(2025, 3, 31)),
            1,
        ),
        ("pdf = no", InvoiceFilter(pdf=False), 1),
        ("credit notes, page 20", InvoiceFilter(kind=DocumentKind.CREDIT_NOTE), 20),
    ]


# A Next link's page: after row ``offset`` (0-based) of the order; a Previous link's:
# before it. ``None``: the page counted by OFFSET, as a typed-in page number is.
Link = tuple[str, int] | None
DEEP = 999 * 50 - 1  # the last row of page 999: Next from there is page 1000
WORD: Link = ("after", 9 * 50 - 1)  # a search's page 10 by its Next link
BACK: Link = ("before", 9 * 50)  # and page 9 by its Previous link (from page 10)


def list_cases() -> list[tuple[str, InvoiceFilter, str, int, Link]]:
    """(name, filter, sort, page, link): the finance team's list, sorted, searched and
    totalled; deep pages as their Next and Previous links read them."""
    some = db.session.execute(
        sa.select(Invoice.number, Customer.customer_number)
        .join(Customer, Invoice.customer_id == Customer.id)
        .order_by(Invoice.id)
        .offset(_within(23_456))
        .limit(1)
    ).one()
    deep = _within(DEEP)
    deeper = _within(9_999 * 50 - 1)
    return [
        ("everything, by date", InvoiceFilter(), "-invoice_date", 1, None),
        ("everything, biggest amount", InvoiceFilter(), "-amount", 1, None),
        ("everything, by customer", InvoiceFilter(), "customer", 1, None),
        ("everything, most overdue", InvoiceFilter(), "-overdue", 1, None),
        ("everything, latest due first", InvoiceFilter(), "-due_date", 1, None),
        ("everything, page 500 by due", InvoiceFilter(), "due_date", 500, None),
        ("Next to page 1000 by date", InvoiceFilter(), "-invoice_date", 1000, ("after", deep)),
        ("Next to page 1000 by due", InvoiceFilter(), "due_date", 1000, ("after", deep)),
        ("Next to page 1000 by amount", InvoiceFilter(), "-amount", 1000, ("after", deep)),
        ("Next to page 1000 by customer", InvoiceFilter(), "customer", 1000, ("after", deep)),
        ("Next to page 1000 most overdue", InvoiceFilter(), "-overdue", 1000, ("after", deep)),
        ("Next to page 1000 by profile", InvoiceFilter(), "profile", 1000, ("after", deep)),
        ("Next to page 1000 by state", InvoiceFilter(), "-state", 1000, ("after", deep)),
        ("Previous to page 999 by due", InvoiceFilter(), "due_date", 999, ("before", deep + 1)),
        ("Next to page 10000 by due", InvoiceFilter(), "due_date", 10_000, ("after", deeper)),
        ("name word, by amount due", InvoiceFilter(q="brouwerij"), "-amount_due", 1, None),
        ("name word, page 10 by name", InvoiceFilter(q="kapsalon"), "customer", 10, None),
        ("number part, by due date", InvoiceFilter(q=some.number[-5:]), "due_date", 1, None),
        ("customer number", InvoiceFilter(q=some.customer_number), "-amount", 1, None),
        ("search, no match", InvoiceFilter(q="no-such-thing"), "-invoice_date", 1, None),
        (
            "31-60 days overdue, by amount",
            InvoiceFilter(overdue_from=31, overdue_to=60),
            "-amount_due",
            1,
            None,
        ),
        ("owed, most overdue", InvoiceFilter(overdue_to=36_500), "-overdue", 1, None),
        (
            "EXPIRED + word, by customer",
            InvoiceFilter(state=InvoiceState.EXPIRED, q="garage"),
            "customer",
            1,
            None,
        ),
        ("name word, Next to page 10 by name", InvoiceFilter(q="kapsalon"), "customer", 10, WORD),
        ("name word, Previous to page 9, Z-A", InvoiceFilter(q="kapsalon"), "-customer", 9, BACK),
        ("name word, page 10 by amount due", InvoiceFilter(q="brouwerij"), "-amount_due", 10, None),
    ]


def search_question(criteria: InvoiceFilter, page: int):
    def question():
        result = search_invoices(criteria, page)
        [(i.customer.name, i.profile and i.profile.name) for i in result.items]
        return result

    return question


def _position(criteria: InvoiceFilter, sort: str, link: Link) -> Position | None:
    """The position a Previous or Next link would carry (read once, by OFFSET)."""
    if link is None:
        return None
    side, offset = link
    where = conditions(criteria, TODAY)
    [(row_id, value)] = invoice_pages.keys_at(where, sort, offset + 1, 1)
    return Position(value, row_id, before=side == "before")


def list_question(criteria: InvoiceFilter, sort: str, page: int, link: Link):
    """The list as the browser first gets it: its page of 50 (ids by the sort's index, then
    the documents) and whether a Next page follows; no totals."""
    position = _position(criteria, sort, link)

    def question():
        result = list_invoices(criteria, page, 50, sort, position=position)
        [(i.customer.name, i.profile and i.profile.name) for i in result.items]
        return result

    return question


def totals_question(criteria: InvoiceFilter):
    def question():
        return list_totals(criteria, TODAY)

    return question


def _shown_page(result) -> str:
    return f"{len(result.items)} of {result.total}"


def _shown_list(result) -> str:
    first = result.items[0].id if result.items else "-"
    more = "a Next page" if result.more else "no Next page"
    return f"{len(result.items)} rows, first id {first}, {more}"


def _shown_totals(totals) -> str:
    return f"{totals.count} documents"


PAGES = [
    "/invoices/?sort=-amount",
    "/invoices/?q=brouwerij&sort=-amount_due",
    "/invoices/?overdue_from=31&overdue_to=60&sort=customer",
]
# The request the list's script makes right after each of PAGES: its totals.
TOTALS_PAGES = [path.replace("/invoices/?", "/invoices/totals?") for path in PAGES]


def _deep_link() -> str:
    """The address of page 1000 by due date as its Next link has it."""
    where = conditions(InvoiceFilter(), TODAY)
    [(row_id, value)] = invoice_pages.keys_at(where, "due_date", _within(DEEP) + 1, 1)
    after = invoice_pages.encode("due_date", value, row_id)
    return f"/invoices/?sort=due_date&page=1000&after={after}"


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


def _download(client, path: str) -> int:
    """GET ``path`` and read its body chunk by chunk, as a browser saving it would."""
    response = client.get(path, buffered=False)
    assert response.status_code == 200, response.status_code
    size = sum(len(chunk) for chunk in response.response)
    response.close()
    return size


def measure_exports(app) -> None:
    client = logged_in(app)
    for path in ("/invoices/export.csv", "/invoices/export.xlsx"):
        resettable = _reset_peak_rss()
        before = _rss_kb("VmRSS")
        started = time.perf_counter()
        size = _download(client, path)
        seconds = time.perf_counter() - started
        peak = _rss_kb("VmHWM") - before if resettable else None
        tracemalloc.start()
        _download(client, path)
        _current, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = f"{peak / 1024:6.1f} MB" if peak is not None else "   n/a"
        print(
            f"  {path:<24} {seconds:6.1f} s   {size / 1e6:6.1f} MB file   "
            f"peak RSS +{rss}   Python heap peak {heap_peak / 1e6:6.1f} MB"
        )


def main():
    parser = arguments(__doc__.splitlines()[0], DATABASE)
    parser.add_argument("--documents", "--invoices", dest="documents", type=int, default=100_000)
    parser.add_argument("--customers", type=int, help="default: 3 per 100 documents")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--list-runs", type=int, default=40, help="timed runs per list case")
    parser.add_argument("--no-export", action="store_true", help="skip the CSV/XLSX exports")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    args = parser.parse_args()

    def seed():
        customers = args.customers or max(1, args.documents * 3 // 100)
        seed_documents(args.documents, customers, random.Random(7))

    with bench_app(args, DATABASE, seed) as app:
        with app.app_context():
            print(f"search_invoices, 50 per page, p50 p95 of {args.runs}:")
            questions = [(name, search_question(c, page)) for name, c, page in cases()]
            time_questions(questions, args.runs, args.explain, _shown_page)
        print(f"rendered first page, p50 p95 of {args.runs}:")
        time_pages(app, ["/invoices/"], args.runs)
        # Days overdue are counted from the seed's today, not the machine's.
        noon = datetime(TODAY.year, TODAY.month, TODAY.day, 11, tzinfo=UTC)
        previous = clock.use_source(lambda: noon)
        try:
            with app.app_context():
                listed = list_cases()
                print(
                    "list_invoices (the page of 50 as the browser first gets it, no totals), "
                    f"p50 p95 of {args.list_runs}:"
                )
                questions = [(n, list_question(c, s, p, k)) for n, c, s, p, k in listed]
                worst = max(time_questions(questions, args.list_runs, args.explain, _shown_list))
                print(f"  worst p95: {worst:.1f} ms (target < 50 ms at a million)")
                print(
                    "the totals of the whole filter, their own request (list_totals), "
                    f"p50 p95 of {args.list_runs}:"
                )
                filters: dict[str, tuple[str, InvoiceFilter]] = {}
                for n, c, _s, _p, _k in listed:  # each filter once, named by its first case
                    filters.setdefault(repr(c), (n.split(",")[0], c))
                questions = [(n, totals_question(c)) for n, c in filters.values()]
                worst = max(time_questions(questions, args.list_runs, args.explain, _shown_totals))
                print(f"  worst p95: {worst:.1f} ms")
                deep = _deep_link()
            print(f"rendered list pages (no totals), p50 p95 of {args.list_runs}:")
            time_pages(app, [*PAGES, deep], args.list_runs)
            print(f"rendered totals pages (the script's request), p50 p95 of {args.list_runs}:")
            time_pages(app, TOTALS_PAGES, args.list_runs)
            if not args.no_export:
                print(f"export of all {args.documents} documents through the views:")
                measure_exports(app)
        finally:
            clock.use_source(previous)


if __name__ == "__main__":
    main()
