"""The Teamleader Focus API client: one class, records in, typed errors out.

Every method is ``POST <base_url>/<resource>.<action>`` with a JSON body (``{}`` without
params; GET is deprecated, reference §2). This module says what to ask and checks what we send
(``bodies``); ``transport`` sends it — retries, rate limit, token refresh — and unwraps
envelopes and pages, so callers get records loaded through ``schemas`` and just iterate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

import requests
from marshmallow import Schema

from collector.core.tokens import TokenSource
from collector.teamleader import bodies, schemas
from collector.teamleader.errors import MalformedResponse, NotFound
from collector.teamleader.ratelimit import RateLimiter
from collector.teamleader.transport import API_VERSION, TeamleaderTransport

USERS_ME = "users.me"
DEPARTMENTS_LIST = "departments.list"
DEPARTMENTS_INFO = "departments.info"
CUSTOM_FIELD_DEFINITIONS_LIST = "customFieldDefinitions.list"
CUSTOM_FIELD_DEFINITIONS_INFO = "customFieldDefinitions.info"
INVOICES_LIST = "invoices.list"
INVOICES_INFO = "invoices.info"
INVOICES_DOWNLOAD = "invoices.download"
INVOICES_REGISTER_PAYMENT = "invoices.registerPayment"
INVOICES_REMOVE_PAYMENTS = "invoices.removePayments"
CREDIT_NOTES_LIST = "creditNotes.list"
CREDIT_NOTES_INFO = "creditNotes.info"
CREDIT_NOTES_DOWNLOAD = "creditNotes.download"
CONTACTS_LIST = "contacts.list"
CONTACTS_INFO = "contacts.info"
COMPANIES_LIST = "companies.list"
COMPANIES_INFO = "companies.info"
SUBSCRIPTIONS_LIST = "subscriptions.list"
SUBSCRIPTIONS_INFO = "subscriptions.info"
PAYMENT_METHODS_LIST = "paymentMethods.list"
TAX_RATES_LIST = "taxRates.list"
WEBHOOKS_REGISTER = "webhooks.register"
WEBHOOKS_LIST = "webhooks.list"
WEBHOOKS_UNREGISTER = "webhooks.unregister"

# Retrying these after an ambiguous failure (timeout, 5xx) could apply them twice.
NOT_IDEMPOTENT = frozenset({INVOICES_REGISTER_PAYMENT})


class TeamleaderClient:
    """Client for one Teamleader account, authenticated through ``token_source``.

    ``calls`` counts HTTP requests sent per endpoint name (retries included) — what
    Teamleader's rate limit counts; the import service and benchmarks read it.
    """

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        token_source: TokenSource,
        *,
        limiter: RateLimiter | None = None,
        max_retries: int = 4,
        api_version: str = API_VERSION,
        **options: Any,
    ) -> None:
        """``options`` go to the transport (``collector.core.http.Transport``): ``timeout``,
        ``sleep``, ``clock``, ``rng``."""
        self._api = TeamleaderTransport(
            session,
            base_url,
            token_source,
            limiter=limiter,
            max_retries=max_retries,
            api_version=api_version,
            not_idempotent=NOT_IDEMPOTENT,
            **options,
        )
        self.calls = self._api.calls

    def __repr__(self) -> str:
        return f"TeamleaderClient({self._api.base_url!r})"

    def call(self, endpoint: str, body: dict | None = None) -> Any:
        """POST ``endpoint`` with ``body`` and return the decoded JSON (None for 204)."""
        return self._api.call(endpoint, body)

    # -- users, departments, custom fields ------------------------------------------------

    def users_me(self) -> dict:
        """Return the authorising user with ``account_id`` (the tenant of this connection)."""
        return self._api.one(USERS_ME, {}, schemas.UserSchema)

    def departments_list(self, *, status: Iterable[str] | None = None) -> list[dict]:
        """Return all departments (company entities) in one call.

        departments.list has no pagination: asking for page 2 returns page 1 again, so a
        paging loop would never end (reference §3). Never page it.
        """
        status = bodies.choices(status, bodies.DEPARTMENT_STATUSES, "status")
        body = {"filter": {"status": status}} if status else {}
        return self._api.many(DEPARTMENTS_LIST, body, schemas.DepartmentSchema)

    def departments_info(self, department_id: str) -> dict:
        """Return one department, with address, iban and bic."""
        return self._info(DEPARTMENTS_INFO, department_id, schemas.DepartmentSchema)

    def custom_field_definitions_list(self, context: str | None = None) -> Iterator[dict]:
        """Iterate custom field definitions, optionally of one context (e.g. ``invoice``).

        Paginated like any list (default 20 per page); one SDK forgot and lost fields (§15.4).
        """
        context = bodies.choice(context, bodies.CUSTOM_FIELD_CONTEXTS, "context")
        body = {"filter": {"context": context}} if context else {}
        return self._api.pages(
            CUSTOM_FIELD_DEFINITIONS_LIST, body, schemas.CustomFieldDefinitionSchema
        )

    def custom_field_definitions_info(self, definition_id: str) -> dict:
        """Return one custom field definition with its options."""
        return self._info(
            CUSTOM_FIELD_DEFINITIONS_INFO, definition_id, schemas.CustomFieldDefinitionSchema
        )

    # -- invoices -------------------------------------------------------------------------

    def invoices_list(self, **filters: Any) -> Iterator[dict]:
        """Iterate invoices (list shape, see ``InvoiceSchema``) by invoice date, oldest first.

        Filters: ``ids``, ``status`` (⊆ draft|outstanding|matched: "booked" is outstanding +
        matched, there is no paid/booked status, §6.1), ``department_id``, ``updated_since``
        (aware datetime), ``invoice_date_after``/``invoice_date_before`` (dates, both
        inclusive, §6.3), ``customer`` (``(contact|company, id)``), ``subscription_id``.
        """
        body = {
            "filter": bodies.list_filter(filters, bodies.INVOICE_FILTERS),
            # The default order is asc in the old docs and desc in the new: always send it.
            "sort": [{"field": "invoice_date", "order": "asc"}],
        }
        return self._api.pages(INVOICES_LIST, body, schemas.InvoiceSchema)

    def invoices_by_ids(self, ids: Iterable[str]) -> dict[str, dict]:
        """Return ``{id: invoice}`` (list shape), one call per 100 ids; unknown ids are absent."""
        return self._api.by_ids(INVOICES_LIST, ids, schemas.InvoiceSchema)

    def invoices_info(self, invoice_id: str) -> dict:
        """Return one invoice in full: payments, custom fields, payment term, lines."""
        return self._info(INVOICES_INFO, invoice_id, schemas.InvoiceSchema)

    def invoices_download(self, invoice_id: str, format: str = "pdf") -> dict:
        """Return ``{location, expires}``: a short-lived URL of the rendered file (§6.4)."""
        return self._download(INVOICES_DOWNLOAD, invoice_id, format, bodies.INVOICE_FORMATS)

    def invoices_register_payment(
        self,
        invoice_id: str,
        amount: Decimal,
        currency: str,
        paid_at: datetime,
        payment_method_id: str | None = None,
    ) -> None:
        """Register a (possibly partial) payment on an invoice.

        Not idempotent: after ``Unavailable`` the payment may or may not exist — re-read
        ``invoices_info(...)["payments"]`` before trying again.
        """
        body = {
            "id": bodies.identifier(invoice_id),
            "payment": bodies.money(amount, currency),
            "paid_at": bodies.iso_datetime(paid_at, "paid_at"),
            "payment_method_id": bodies.optional_id(payment_method_id, "payment_method_id"),
        }
        self.call(INVOICES_REGISTER_PAYMENT, bodies.compact(body))

    def invoices_remove_payments(self, invoice_id: str) -> None:
        """Remove *all* payments of an invoice (there is no per-payment delete, §6.5)."""
        self.call(INVOICES_REMOVE_PAYMENTS, {"id": bodies.identifier(invoice_id)})

    # -- credit notes ---------------------------------------------------------------------

    def credit_notes_list(self, **filters: Any) -> Iterator[dict]:
        """Iterate credit notes (list shape, see ``CreditNoteSchema``).

        Filters: ``ids``, ``department_id``, ``updated_since``, ``invoice_id``, ``customer``,
        ``credit_note_date_after`` (inclusive) and ``credit_note_date_before`` — EXCLUSIVE,
        unlike invoices.list (§7). Passed through as is: for "up to and including day D" pass
        D + 1 day. creditNotes.list has no sort parameter.
        """
        body = {"filter": bodies.list_filter(filters, bodies.CREDIT_NOTE_FILTERS)}
        return self._api.pages(CREDIT_NOTES_LIST, body, schemas.CreditNoteSchema)

    def credit_notes_info(self, credit_note_id: str) -> dict:
        """Return one credit note in full.

        creditNotes.info is documented as returning ``data: [ {...} ]`` — an array — in every
        version of the docs (§7), probably a doc bug; both an object and a one-element array
        are accepted.
        """
        data = self._api.data(CREDIT_NOTES_INFO, {"id": bodies.identifier(credit_note_id)})
        if isinstance(data, list):
            if not data:
                raise NotFound(f"{CREDIT_NOTES_INFO}: no credit note {credit_note_id}", status=200)
            if len(data) > 1:
                raise MalformedResponse(f"{CREDIT_NOTES_INFO}: {len(data)} records for one id")
            data = data[0]
        return self._api.load(schemas.CreditNoteSchema, data, CREDIT_NOTES_INFO)

    def credit_notes_download(self, credit_note_id: str, format: str = "pdf") -> dict:
        """Return ``{location, expires}`` for the credit note's file (pdf or ubl/e-fff)."""
        formats = bodies.CREDIT_NOTE_FORMATS
        return self._download(CREDIT_NOTES_DOWNLOAD, credit_note_id, format, formats)

    # -- contacts and companies: a customer is one or the other, asked for the same way ----

    def parties_list(
        self, kind: str, *, with_custom_fields: bool = False, **filters: Any
    ) -> Iterator[dict]:
        """Iterate the contacts or the companies (``kind``; see ``ContactSchema`` and
        ``CompanySchema``), oldest first.

        Filters: ``ids``, ``updated_since``, ``email`` (matches the primary address); for
        companies also ``vat_number``.
        """
        party = _party(kind)
        body = _party_body(bodies.list_filter(filters, party.filters), with_custom_fields)
        return self._api.pages(party.list_endpoint, body, party.schema)

    def parties_by_ids(
        self, kind: str, ids: Iterable[str], *, with_custom_fields: bool = False
    ) -> dict[str, dict]:
        """Return ``{id: record}`` for the contacts or companies ``ids``, one call per 100;
        unknown ids are absent."""
        party = _party(kind)
        extra = _party_body({}, with_custom_fields)
        return self._api.by_ids(party.list_endpoint, ids, party.schema, extra)

    def parties_info(self, kind: str, party_id: str) -> dict:
        """Return one contact or company with all addresses and custom fields."""
        party = _party(kind)
        return self._info(party.info_endpoint, party_id, party.schema)

    # -- subscriptions, payment methods, webhooks -----------------------------------------

    def subscriptions_list(self, **filters: Any) -> Iterator[dict]:
        """Iterate subscriptions (see ``SubscriptionSchema``).

        Filters: ``ids``, ``invoice_id`` (the subscription that generated that invoice),
        ``department_id``, ``customer``, ``status`` (⊆ active|deactivated).
        """
        body = {
            "filter": bodies.list_filter(filters, bodies.SUBSCRIPTION_FILTERS),
            "sort": [{"field": "created_at", "order": "asc"}],
        }
        return self._api.pages(SUBSCRIPTIONS_LIST, body, schemas.SubscriptionSchema)

    def subscriptions_info(self, subscription_id: str) -> dict:
        """Return one subscription with payment term, custom fields and invoice generation."""
        return self._info(SUBSCRIPTIONS_INFO, subscription_id, schemas.SubscriptionSchema)

    def payment_methods_list(self) -> Iterator[dict]:
        """Iterate payment methods (their ids go into ``invoices_register_payment``)."""
        return self._api.pages(PAYMENT_METHODS_LIST, {}, schemas.PaymentMethodSchema)

    def tax_rates_list(self) -> Iterator[dict]:
        """Iterate the tax rates of every department (a line's ``tax`` links to one)."""
        return self._api.pages(TAX_RATES_LIST, {}, schemas.TaxRateSchema)

    def webhooks_register(self, url: str, types: Iterable[str]) -> None:
        """Ask Teamleader to POST events of ``types`` to ``url``."""
        self.call(WEBHOOKS_REGISTER, bodies.webhook(url, types))

    def webhooks_list(self) -> list[dict]:
        """Return the webhooks registered by this integration on this account (no paging)."""
        return self._api.many(WEBHOOKS_LIST, {}, schemas.WebhookSchema)

    def webhooks_unregister(self, url: str, types: Iterable[str]) -> None:
        """Stop events of ``types`` going to ``url``."""
        self.call(WEBHOOKS_UNREGISTER, bodies.webhook(url, types))

    def _info(self, endpoint: str, record_id: str, schema: type[Schema]) -> dict:
        return self._api.one(endpoint, {"id": bodies.identifier(record_id)}, schema)

    def _download(
        self, endpoint: str, record_id: str, format: str, formats: frozenset[str]
    ) -> dict:
        body = {
            "id": bodies.identifier(record_id),
            "format": bodies.choice(format, formats, "format"),
        }
        return self._api.one(endpoint, body, schemas.DownloadSchema)


class Party(NamedTuple):
    """The endpoints, filters and record schema of one kind of customer."""

    list_endpoint: str
    info_endpoint: str
    filters: dict[str, Callable]
    schema: type[Schema]


PARTIES = {
    "contact": Party(CONTACTS_LIST, CONTACTS_INFO, bodies.CONTACT_FILTERS, schemas.ContactSchema),
    "company": Party(COMPANIES_LIST, COMPANIES_INFO, bodies.COMPANY_FILTERS, schemas.CompanySchema),
}


def _party(kind: str) -> Party:
    if kind not in PARTIES:
        raise ValueError(f"kind: {kind!r} not in {sorted(PARTIES)}")
    return PARTIES[kind]


def _party_body(party_filter: dict, with_custom_fields: bool) -> dict:
    """Body for contacts/companies lists: oldest first, so new records land on later pages."""
    body: dict = {"filter": party_filter, "sort": [{"field": "added_at", "order": "asc"}]}
    if with_custom_fields:
        # custom fields come with .list only when asked for (added 2024, §8).
        body["includes"] = "custom_fields"
    return body
