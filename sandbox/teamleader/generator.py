"""Deterministic demo data: one account, two departments, customers, subscriptions,
invoices in every state, credit notes.

``generate(seed, now, sizes)`` is a pure function of its arguments: dates are laid out
over the 90 days before ``now``'s date and every choice comes from ``random.Random(seed)``,
so the same seed on the same day gives the same data. Structural ids (account, user,
departments, custom field definitions, payment methods) do not depend on the seed at all,
so demo configuration can name them.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from . import customers, people
from . import documents as docs
from .factory import Dataset, Factory
from .structure import DEBTOR_NUMBER_FIELD_ID, DEPARTMENT_IDS, USER_ID, add_structure

DEFAULT_PROFILE_OPTIONS = ("Direct debit", "Payment link", "Bank transfer")
KINDS = ("outstanding", "overdue", "partial", "paid", "draft", "zero", "credit_full", "credit_part")
WEIGHTS = (30, 15, 8, 30, 6, 2, 4, 5)
AGE = {  # days before today an invoice of this kind is dated (min, max)
    "outstanding": (0, 20),
    "overdue": (50, 89),
    "partial": (10, 80),
    "paid": (3, 89),
    "zero": (0, 60),
    "credit_full": (10, 80),
    "credit_part": (10, 80),
}
SUBSCRIPTION_TITLES = ["Onderhoudscontract", "Software-abonnement", "Hosting", "Supportpakket"]


@dataclass(frozen=True)
class Sizes:
    """How much to generate."""

    contacts: int = 12
    companies: int = 18
    invoices: int = 60
    subscriptions: int = 4


@dataclass
class Plan:
    """An invoice to create: when, for whom, and what happens to it afterwards."""

    kind: str
    on: date | None
    department_id: str
    customer: tuple[str, dict]
    subscription: dict | None = None
    profile: str | None = None


def generate(
    seed: int,
    now: datetime,
    sizes: Sizes = Sizes(),  # noqa: B008 - frozen dataclass, safe as a default
    profile_options: tuple[str, ...] | list[str] = DEFAULT_PROFILE_OPTIONS,
) -> Dataset:
    """Build the whole dataset for one account."""
    data = Dataset(seed=seed, rng=random.Random(seed), profile_options=list(profile_options))
    add_structure(data, now)
    _customers(data, sizes, now)
    factory = Factory(data)
    _number_ranges(data, now.date())
    plans = _subscriptions(data, factory, sizes, now)
    plans += _one_offs(data, max(sizes.invoices - len(plans), 0), now.date())
    _realise(data, factory, plans, now)
    return data


def _number_ranges(data: Dataset, today: date) -> None:
    """Continue a ledger that started before the 90-day window: "2026 / 17", not "/ 1"."""
    start = today - timedelta(days=90)
    day_of_year = start.timetuple().tm_yday
    for department_id in data.departments:
        invoices = day_of_year * data.rng.randint(1, 3)
        data.numbers[("invoice", department_id, start.year)] = invoices
        data.numbers[("creditNote", department_id, start.year)] = invoices // 25


def _customers(data: Dataset, sizes: Sizes, now: datetime) -> None:
    rng = data.rng
    for _ in range(sizes.companies):
        firm = customers.company(rng, _culture(rng), _days_ago(rng, now, 100, 900), USER_ID)
        if rng.random() < 0.5:
            value = f"D{rng.randrange(10000, 99999)}"
            firm["custom_fields"] = [
                {
                    "definition": docs.link("customFieldDefinition", DEBTOR_NUMBER_FIELD_ID),
                    "value": value,
                }
            ]
        data.companies[firm["id"]] = firm
    for _ in range(sizes.contacts):
        person = customers.contact(rng, _culture(rng), _days_ago(rng, now, 100, 900))
        data.contacts[person["id"]] = person
    firms = list(data.companies.values())
    for person in list(data.contacts.values())[: len(firms) // 2]:
        same = [f for f in firms if _country(f) == _country(person) and not f["_contact_ids"]]
        if same:
            customers.employ(person, rng.choice(same))


def _subscriptions(data: Dataset, factory: Factory, sizes: Sizes, now: datetime) -> list[Plan]:
    rng, today, plans = data.rng, now.date(), []
    budget = sizes.invoices // 3
    for index in range(sizes.subscriptions):
        kind, record = _pick_customer(data, prefer_company=True)
        department_id = DEPARTMENT_IDS[_country(record)]
        starts = today - timedelta(days=rng.randint(100, 400))
        starts = starts.replace(day=min(starts.day, 28))
        # The first subscription is collected by direct debit and due on the invoice date
        # (payment term 0 days): the edge case collector's profile choice must handle.
        profile = data.profile_options[0] if index == 0 else None
        if index == 1 and len(data.profile_options) > 1:
            profile = data.profile_options[1]
        term = {"type": "after_invoice_date", "days": 0 if index == 0 else 30}
        sub = _subscription(data, factory, (kind, record), department_id, starts, term, profile)
        sub["next_renewal_date"] = _monthly(starts, today, window=None)[-1]
        sub["invoice_generation"]["payment_method"] = "direct_debit" if index == 0 else None
        for on in _monthly(starts, today):
            if budget > 0:
                plans.append(Plan("subscription", on, department_id, (kind, record), sub))
                budget -= 1
    return plans


def _subscription(
    data: Dataset,
    factory: Factory,
    customer: tuple[str, dict],
    department_id: str,
    starts: date,
    term: dict,
    profile: str | None,
) -> dict:
    """A monthly subscription record (``.info`` shape)."""
    rng, (kind, record) = data.rng, customer
    lines = factory.random_lines(department_id)[:1]
    total = docs.document_total(lines, "EUR")
    ident = people.new_id(rng)
    template = data.departments[department_id]["_template_id"]
    sub = {
        "id": ident,
        "title": rng.choice(SUBSCRIPTION_TITLES),
        "note": None,
        "status": "active",
        "department": docs.link("department", department_id),
        "invoicee": {"customer": docs.link(kind, record["id"]), "for_attention_of": None},
        "project": None,
        "starts_on": starts,
        "ends_on": None,
        "next_renewal_date": None,
        "billing_cycle": {"periodicity": {"unit": "month", "period": 1}, "days_in_advance": 0},
        "total": {k: total[k] for k in ("tax_exclusive", "tax_inclusive", "taxes")},
        "web_url": f"https://focus.teamleader.eu/subscription_detail.php?id={ident}",
        "created_at": datetime(starts.year, starts.month, starts.day, 9, tzinfo=UTC),
        "payment_term": term,
        "grouped_lines": lines,
        "invoice_generation": {
            "action": "book",
            "sending_methods": [{"method": "email"}],
            "payment_method": None,
        },
        "custom_fields": factory.custom_fields("subscription", profile),
        "document_template": docs.link("documentTemplate", template),
        "currency": "EUR",
    }
    data.subscriptions[ident] = sub
    return sub


def _one_offs(data: Dataset, count: int, today: date) -> list[Plan]:
    rng = data.rng
    kinds = list(KINDS[:count]) + rng.choices(KINDS, WEIGHTS, k=max(count - len(KINDS), 0))
    plans = []
    for kind in kinds:
        customer = _pick_customer(data, prefer_company=rng.random() < 0.6)
        department_id = DEPARTMENT_IDS[_country(customer[1])]
        on = None if kind == "draft" else today - timedelta(days=rng.randint(*AGE[kind]))
        profile = rng.choice(data.profile_options) if rng.random() < 0.3 else None
        plans.append(Plan(kind, on, department_id, customer, profile=profile))
    return plans


def _realise(data: Dataset, factory: Factory, plans: list[Plan], now: datetime) -> None:
    """Create and book in date order, so numbers rise with dates as in a real ledger."""
    rng, today, credits = data.rng, now.date(), []
    drafted = [(plan, _draft(data, factory, plan, now)) for plan in plans]
    booked = [(plan, invoice) for plan, invoice in drafted if plan.on is not None]
    for plan, invoice in sorted(booked, key=lambda pair: pair[1]["created_at"]):
        factory.book(invoice, plan.on, invoice["created_at"])
        age = (today - plan.on).days
        paid_at = _paid_at(
            rng, invoice, plan.on + timedelta(days=rng.randint(0, min(age, 30))), now
        )
        payable = invoice["total"]["payable"]["amount"]
        if plan.kind == "paid" or (plan.kind == "subscription" and age > 20):
            factory.pay(invoice, payable, paid_at)
        elif plan.kind == "partial":
            share = Decimal(rng.randint(30, 70)) / 100
            factory.pay(invoice, docs.cents(payable * share), paid_at)
        elif plan.kind.startswith("credit"):
            credits.append((plan.on + timedelta(days=rng.randint(1, min(age, 10))), invoice, plan))
    for on, invoice, plan in sorted(credits, key=lambda c: c[0]):
        if plan.kind == "credit_full":
            lines = copy.deepcopy(invoice["grouped_lines"])
        else:
            amount = docs.cents(invoice["total"]["payable"]["amount"] * Decimal("0.2"))
            lines = factory.lines_for_amount(plan.department_id, amount, "Commerciële korting")
        factory.credit_note(invoice, lines, on, _moment(rng, on, now))


def _paid_at(rng: random.Random, invoice: dict, day: date, now: datetime) -> datetime:
    """A payment moment on ``day``, after the invoice was booked and before ``now``."""
    at = max(_moment(rng, day, now), invoice["created_at"] + timedelta(minutes=5))
    return min(at, now.replace(microsecond=0) - timedelta(seconds=30))


def _draft(data: Dataset, factory: Factory, plan: Plan, now: datetime) -> dict:
    rng = data.rng
    if plan.subscription is not None:
        sub = plan.subscription
        lines, term = copy.deepcopy(sub["grouped_lines"]), sub["payment_term"]
        # Whether subscription custom fields are copied onto invoices is undocumented
        # (reference §10 [?]); we do not copy them, so the subscription fallback matters.
        return factory.invoice(
            plan.department_id, plan.customer, lines, _moment(rng, plan.on, now), term, sub["id"]
        )
    created = _moment(rng, plan.on or now.date() - timedelta(days=rng.randint(0, 3)), now)
    lines = factory.random_lines(plan.department_id, zero=plan.kind == "zero")
    term = {"type": "after_invoice_date", "days": 30} if plan.kind == "overdue" else None
    return factory.invoice(
        plan.department_id, plan.customer, lines, created, term, profile=plan.profile
    )


def _pick_customer(data: Dataset, prefer_company: bool) -> tuple[str, dict]:
    pool = data.companies if prefer_company and data.companies else data.contacts
    kind = "company" if pool is data.companies else "contact"
    if not pool:
        pool, kind = data.companies, "company"
    return kind, data.rng.choice(list(pool.values()))


def _culture(rng: random.Random) -> str:
    return rng.choices(["nl", "fr", "NL"], [5, 2, 3])[0]


def _country(record: dict) -> str:
    return "NL" if record["_culture"] == "NL" else "BE"


def _days_ago(rng: random.Random, now: datetime, low: int, high: int) -> datetime:
    day = now.date() - timedelta(days=rng.randint(low, high))
    return _moment(rng, day, now)


def _moment(rng: random.Random, day: date, now: datetime) -> datetime:
    """Office hours on ``day``, never later than a minute before ``now``."""
    at = datetime(day.year, day.month, day.day, rng.randint(7, 17), rng.randrange(60), tzinfo=UTC)
    return min(at, now.replace(microsecond=0) - timedelta(minutes=1))


def _monthly(starts: date, today: date, window: int | None = 90) -> list[date]:
    """Monthly billing dates since ``starts`` within ``window`` days before ``today``.

    Without a window, the list ends with the first date after ``today`` (the next renewal).
    """
    dates, on = [], starts
    while on <= today:
        if window is None or (today - on).days < window:
            dates.append(on)
        on = _add_month(on)
    return dates if window is not None else [*dates, on]


def _add_month(on: date) -> date:
    return date(on.year + on.month // 12, on.month % 12 + 1, on.day)
