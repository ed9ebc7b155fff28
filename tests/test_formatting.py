"""One way to show money, dates and times: collector.core.formatting, used by the pages'
filters, the customer mails and the messages on a document's timeline.

The expected strings are what Babel (CLDR) writes, spaces included: a no-break space
(\\xa0) after "€" in Dutch, a narrow no-break space (\\u202f) between thousands in French.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from collector.core import clock as core_clock
from collector.core import formatting
from collector.documents import ledger
from collector.documents.models import DocumentKind, PaymentSource
from collector.extensions import db
from collector.mail import letters
from collector.teamleader.reconciliation import note_payment_state
from collector.web import filters
from tests.support.factories import make_invoice


@pytest.fixture
def brussels():
    """The company's zone without a database: Europe/Brussels."""
    previous = core_clock.use_zone_lookup(lambda: ZoneInfo("Europe/Brussels"))
    yield
    core_clock.use_zone_lookup(previous)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("nl-BE", "€\xa01.250,25"),
        ("fr-BE", "1\u202f250,25\xa0€"),
        ("nl-NL", "€\xa01.250,25"),
        ("en", "€1,250.25"),
        (None, "€1,250.25"),  # the UI's default
        ("nl", "€\xa01.250,25"),  # a bare language reads as the Belgian one
        ("fr_BE", "1\u202f250,25\xa0€"),  # either separator
    ],
)
def test_money_in_each_locale(locale, expected):
    assert formatting.money(Decimal("1250.25"), "EUR", locale=locale) == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("nl-BE", "€\xa0-1.250,25"),
        ("fr-BE", "-1\u202f250,25\xa0€"),
        ("nl-NL", "€\xa0-1.250,25"),
        ("en", "-€1,250.25"),
    ],
)
def test_a_credit_note_reads_negative(locale, expected):
    amount = formatting.signed(Decimal("1250.25"), credit_note=True)
    assert formatting.money(amount, "EUR", locale=locale) == expected
    # An invoice's amount keeps its sign; a credit note stored negative stays negative.
    assert formatting.signed(Decimal("1250.25"), credit_note=False) == Decimal("1250.25")
    assert formatting.signed(Decimal("-5.00"), credit_note=True) == Decimal("-5.00")


def test_money_refuses_floats_and_shows_nothing_for_none():
    with pytest.raises(TypeError, match="Decimal"):
        formatting.money(0.1 + 0.2)
    assert formatting.money(None) == ""
    # Teamleader's "0.0", read as Decimal, is shown as money, not as "0.0 EUR".
    assert formatting.money(Decimal("0.0"), "EUR") == "€0.00"
    assert formatting.money(Decimal("12"), "USD") == "US$12.00"


def test_an_unknown_locale_is_refused_by_name():
    with pytest.raises(ValueError, match="Unknown locale: 'xx-YY'"):
        formatting.money(Decimal("1"), locale="xx-YY")


@pytest.mark.parametrize(
    ("locale", "medium", "long"),
    [
        ("nl-BE", "1 mrt 2026", "1 maart 2026"),
        ("fr-BE", "1 mars 2026", "1er mars 2026"),
        ("nl-NL", "1 mrt 2026", "1 maart 2026"),
        ("en", "1 Mar 2026", "1 March 2026"),  # day-month-year, not "Mar 1, 2026"
    ],
)
def test_dates_in_each_locale(locale, medium, long):
    assert formatting.format_date(date(2026, 3, 1), locale=locale) == medium
    assert formatting.long_date(date(2026, 3, 1), locale=locale) == long


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # Spring forward on 29 March 2026 at 01:00 UTC: 02:00 CET becomes 03:00 CEST.
        ("2026-03-29T00:30:00Z", "29 Mar 2026, 01:30"),
        ("2026-03-29T01:30:00Z", "29 Mar 2026, 03:30"),
        # Fall back on 25 October 2026 at 01:00 UTC: the wall clock shows 02:30 twice.
        ("2026-10-25T00:30:00Z", "25 Oct 2026, 02:30"),
        ("2026-10-25T01:30:00Z", "25 Oct 2026, 02:30"),
        # Just before midnight UTC is already the next day in Brussels.
        ("2026-12-31T23:30:00Z", "1 Jan 2027, 00:30"),
    ],
)
def test_times_are_the_companys_wall_clock_across_dst(brussels, instant, expected):
    at = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    assert formatting.format_datetime(at, locale="en") == expected


def test_times_in_dutch_and_french(brussels):
    at = datetime(2026, 7, 1, 12, 5, tzinfo=UTC)
    assert formatting.format_datetime(at, locale="nl-BE") == "1 jul 2026, 14:05"
    assert formatting.format_datetime(at, locale="fr-BE") == "1 juil. 2026, 14:05"


def test_a_naive_time_is_refused(brussels):
    with pytest.raises(ValueError, match="naive"):
        formatting.format_datetime(datetime(2026, 7, 1, 12, 5))  # noqa: DTZ001 (the point)
    with pytest.raises(TypeError, match="format_datetime"):
        formatting.format_date(datetime(2026, 7, 1, 12, 5, tzinfo=UTC))


@pytest.mark.parametrize(
    ("due", "en", "nl", "fr"),
    [
        (date(2026, 3, 1), "12 days overdue", "12 dagen te laat", "en retard de 12\xa0jours"),
        (date(2026, 3, 12), "1 day overdue", "1 dag te laat", "en retard de 1\xa0jour"),
        (date(2026, 3, 13), "due today", "vervalt vandaag", "échéance aujourd’hui"),
        (date(2026, 3, 16), "due in 3 days", "vervalt over 3 dagen", "échéance dans 3\xa0jours"),
        (None, "", "", ""),
    ],
)
def test_days_overdue_in_words(due, en, nl, fr):
    today = date(2026, 3, 13)
    assert formatting.overdue_phrase(due, today, locale="en") == en
    assert formatting.overdue_phrase(due, today, locale="nl-BE") == nl
    assert formatting.overdue_phrase(due, today, locale="fr-BE") == fr
    expected = None if due is None else (today - due).days
    assert formatting.days_overdue(due, today) == expected


def test_days_overdue_counts_business_dates(app, clock):
    # 23:30 UTC on 12 March is already 13 March in Brussels: one more day overdue.
    clock.set("2026-03-12T23:30:00Z")
    assert filters.days_overdue(date(2026, 3, 1)) == "12 days overdue"
    clock.set_local(date(2026, 3, 12), time(23, 0))
    assert filters.days_overdue(date(2026, 3, 1)) == "11 days overdue"


def test_the_filters_are_registered_and_sign_credit_notes(app):
    invoice = make_invoice(total_incl_vat=Decimal("1250.25"))
    note = make_invoice(kind=DocumentKind.CREDIT_NOTE, total_incl_vat=Decimal("1250.25"))
    page = app.jinja_env.from_string(
        "{{ i | document_amount }}|{{ n | document_amount }}|{{ n.total_incl_vat | money }}"
        "|{{ n.total_incl_vat | money(n.currency, credit_note=true) }}|{{ d | date }}"
    )
    rendered = page.render(i=invoice, n=note, d=date(2026, 3, 1))
    assert rendered == "€1,250.25|-€1,250.25|€1,250.25|-€1,250.25|1 Mar 2026"


def test_the_date_filter_shows_an_instant_in_the_company_zone(app):
    rendered = app.jinja_env.from_string("{{ at | date }} / {{ at | datetime }}").render(
        at=datetime(2026, 6, 30, 22, 30, tzinfo=UTC)
    )
    assert rendered == "1 Jul 2026, 00:30 / 1 Jul 2026, 00:30"


def test_mails_format_through_the_same_module():
    facts = letters.DocumentFacts(
        number="2026/7",
        creditor="Acme",
        customer_name="Jan",
        amount_due=Decimal("1250.25"),
        currency="EUR",
        invoice_date=date(2026, 3, 1),
        due_date=date(2026, 3, 31),
        payment_url="https://pay.example/x",
        payment_reference=None,
        has_pdf=False,
    )
    text = letters.invitation(facts, "nl").text
    assert formatting.money(Decimal("1250.25"), locale="nl") in text
    assert "€\xa01.250,25" in text and "31 maart 2026" in text


def test_timeline_messages_show_money_like_the_pages(app, clock):
    invoice = make_invoice(total_incl_vat=Decimal("1417.00"), amount_due=Decimal("1417.00"))
    ledger.record_payment(
        invoice,
        key="test:1",
        amount=Decimal("1417.00"),
        occurred_at=clock.now(),
        source=PaymentSource.MANUAL,
        actor="admin@example.com",
    )
    # Teamleader's JSON says 0.0 when nothing is due.
    note_payment_state(invoice, "matched", 0.0, None)
    db.session.commit()
    messages = [e.message for e in invoice.events]
    assert "Payment of €1,417.00 received (marked as paid)." in messages
    assert "Teamleader shows it matched, €0.00 due." in messages
    assert not any(" EUR" in m for m in messages)
