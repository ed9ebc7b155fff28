"""The Exact Online REST client: one class, records in, typed errors out.

Every call goes to ``{host}/api/v1/{division}/{service}/{Entity}`` (``current/Me`` has no
division, reference §1.6). This module says what to ask; ``transport`` sends it — pacing,
retries, token refresh — and unwraps the ``{"d": …}`` envelope and its ``__next`` pages, so
callers get records loaded through ``schemas`` and just iterate.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import requests
from marshmallow import Schema

from collector.core.tokens import TokenSource
from collector.exact import schemas
from collector.exact.errors import MalformedResponse, NotFound
from collector.exact.odata import (
    BATCH_SIZE,
    any_of,
    chunks,
    guid,
    literal,
    padded_code,
    page_of,
    query_string,
    select,
    unwrap,
    with_dates,
)
from collector.exact.ratelimit import Pacer
from collector.exact.transport import ExactTransport

ME = "current/Me"
DIVISIONS = "system/Divisions"
JOURNALS = "financial/Journals"
VAT_CODES = "vat/VATCodes"
GL_ACCOUNTS = "financial/GLAccounts"
PAYMENT_CONDITIONS = "cashflow/PaymentConditions"
DOCUMENT_TYPES = "documents/DocumentTypes"
ACCOUNTS = "crm/Accounts"
SALES_ENTRIES = "salesentry/SalesEntries"
DOCUMENTS = "documents/Documents"
DOCUMENT_ATTACHMENTS = "documents/DocumentAttachments"
RECEIVABLES = "cashflow/Receivables"

# $select lists are the properties the schemas load. Exact answers 400 to an unknown property,
# so every name must be one the entity has: the verified lists, with their sources, are the
# sandbox's (sandbox/exact/fields.py, fields_master.py), and tests/exact/test_client_selects.py
# runs every read below against them.
SALES_ENTRY_REF_FIELDS = (
    "EntryID,EntryNumber,YourRef,Customer,AmountFC,Journal,Type,Status,Description,EntryDate"
)


class ExactClient:
    """Client for one Exact Online user on one host, in one ``division`` (None until the
    user has chosen one: then only ``me()`` and ``divisions()`` work).

    ``calls`` counts HTTP requests sent per endpoint (retries and pages included) — what
    Exact's rate limits count; ``sum(client.calls.values())`` is the total.
    """

    def __init__(
        self,
        session: requests.Session,
        host: str,
        token_source: TokenSource,
        division: int | None = None,
        *,
        limiter: Pacer | None = None,
        max_retries: int = 3,
        **options: Any,
    ) -> None:
        """``options`` go to the transport (``collector.core.http.Transport``): ``timeout``,
        ``sleep``, ``clock``, ``rng``."""
        self.division = division
        self._api = ExactTransport(
            session, host, token_source, limiter=limiter, max_retries=max_retries, **options
        )
        self.calls = self._api.calls

    def __repr__(self) -> str:
        return f"ExactClient({self._api.host!r}, division={self.division!r})"

    # -- generic --------------------------------------------------------------------------

    def get(self, path: str, params: dict | None = None) -> Any:
        """GET ``path`` (e.g. ``"financial/Journals"``); return ``d`` with dates parsed."""
        return with_dates(self._api.get_data(path, self._url(path, params)))

    def iterate(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Iterate the rows of a list at ``path`` over every page, dates parsed."""
        for row in self._api.pages(path, self._url(path, params), None, None):
            yield with_dates(row)

    def post(self, path: str, body: dict) -> Any:
        """POST ``body`` to ``path``; return the created entity (``d``), dates parsed."""
        return with_dates(self._post(path, body))

    # -- user and divisions ---------------------------------------------------------------

    def me(self) -> dict:
        """Return the current user, with ``CurrentDivision`` (what they last opened in Exact)."""
        data = self._api.get_data(ME, f"{self._api.host}/api/v1/{ME}")
        # A single object, but wrapped in results like a list (fixture current-me-get-response).
        rows = page_of(data, ME)[0] if isinstance(data, dict) and "results" in data else [data]
        if not rows:
            raise MalformedResponse(f"{ME}: no user in the response", endpoint=ME)
        return self._api.load(schemas.MeSchema, rows[0], ME)

    def divisions(self) -> list[dict]:
        """Return the divisions the user can open (listed through the current division)."""
        division = self.division if self.division is not None else self.me()["CurrentDivision"]
        url = self._url(DIVISIONS, {"$select": select(schemas.DivisionSchema)}, division)
        return list(self._api.pages(DIVISIONS, url, None, schemas.DivisionSchema))

    # -- master data ----------------------------------------------------------------------

    def journals(self) -> list[dict]:
        """Return every journal (``Code`` goes into sales entries; ``Type`` 20/21 are sales)."""
        return self._all(JOURNALS, schemas.JournalSchema)

    def vat_codes(self) -> list[dict]:
        """Return every VAT code, ``Code`` padded as Exact spells it."""
        return self._all(VAT_CODES, schemas.VATCodeSchema)

    def gl_accounts(self) -> list[dict]:
        """Return every G/L account (``Type`` 110 are revenue accounts)."""
        return self._all(GL_ACCOUNTS, schemas.GLAccountSchema)

    def payment_conditions(self) -> list[dict]:
        """Return every payment condition."""
        return self._all(PAYMENT_CONDITIONS, schemas.PaymentConditionSchema)

    def document_types(self) -> list[dict]:
        """Return every document type (resolve "Sales invoice" here; ids differ per setup)."""
        return self._all(DOCUMENT_TYPES, schemas.DocumentTypeSchema)

    # -- accounts -------------------------------------------------------------------------

    def account(self, account_id: str) -> dict | None:
        """Return one account by its ID, or None if Exact does not know it."""
        path = f"{ACCOUNTS}({guid(account_id)})"
        try:
            data = self._api.get_data(
                ACCOUNTS, self._url(path, {"$select": select(schemas.AccountSchema)})
            )
        except NotFound:
            return None
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            data = data["results"][0] if data["results"] else None
        return None if data is None else self._api.load(schemas.AccountSchema, data, ACCOUNTS)

    def find_accounts(
        self,
        *,
        email: str | None = None,
        vat_numbers: Iterable[str] = (),
        code: str | None = None,
    ) -> list[dict]:
        """Return the accounts matching every criterion given (e-mail is not unique);
        ``vat_numbers`` are spellings of one number, any of which may match."""
        terms = []
        if email:
            terms.append(f"Email eq {literal(email)}")
        spellings = list(dict.fromkeys(v for v in vat_numbers if v))
        if spellings:
            terms.append(any_of("VATNumber", (literal(v) for v in spellings)))
        if code:
            terms.append(f"Code eq {literal(padded_code(code))}")
        if not terms:
            raise ValueError("find_accounts needs email, vat_numbers or code")
        params = {"$filter": " and ".join(terms), "$select": select(schemas.AccountSchema)}
        return list(
            self._api.pages(ACCOUNTS, self._url(ACCOUNTS, params), None, schemas.AccountSchema)
        )

    def find_accounts_of_any(
        self, *, emails: Iterable[str] = (), vat_numbers: Iterable[str] = ()
    ) -> list[dict]:
        """Return the accounts with any of ``emails`` or any of ``vat_numbers``: one call
        (plus pages) per 40 values, for the customers of many documents at once."""
        terms = [f"Email eq {literal(email)}" for email in dict.fromkeys(e for e in emails if e)]
        terms += [
            f"VATNumber eq {literal(vat)}" for vat in dict.fromkeys(v for v in vat_numbers if v)
        ]
        found: dict[str, dict] = {}
        for start in range(0, len(terms), BATCH_SIZE):
            params = {
                "$filter": "(" + " or ".join(terms[start : start + BATCH_SIZE]) + ")",
                "$select": select(schemas.AccountSchema),
            }
            url = self._url(ACCOUNTS, params)
            for account in self._api.pages(ACCOUNTS, url, None, schemas.AccountSchema):
                found.setdefault(str(account["ID"]).lower(), account)
        return list(found.values())

    def create_account(self, fields: dict) -> dict:
        """Create an account (send ``Status: "C"`` to invoice it) and return it."""
        return self._api.load(schemas.AccountSchema, self._post(ACCOUNTS, fields), ACCOUNTS)

    # -- sales entries, documents ---------------------------------------------------------

    def sales_entries_by_ref(self, journal_code: str, refs: Iterable[str]) -> list[dict]:
        """Return every sales entry of the journal whose ``YourRef`` is one of ``refs``.

        Exact has no uniqueness check (§5.6): look up before posting, and after a POST
        that may have been applied. One call (plus pages) per 40 refs.
        """
        found: list[dict] = []
        for chunk in chunks(refs):
            either = any_of("YourRef", (literal(ref) for ref in chunk))
            params = {
                "$filter": f"Journal eq {literal(journal_code)} and {either}",
                "$select": SALES_ENTRY_REF_FIELDS,
            }
            url = self._url(SALES_ENTRIES, params)
            found.extend(self._api.pages(SALES_ENTRIES, url, None, schemas.SalesEntrySchema))
        return found

    def create_sales_entry(self, body: dict) -> dict:
        """Book a sales entry (``Journal`` code, ``Customer``, ``SalesEntryLines``…).

        Not idempotent: after ``Unavailable`` with ``maybe_applied``, look the entry up by
        ``YourRef`` before posting again.
        """
        data = self._post(SALES_ENTRIES, body)
        return self._api.load(schemas.SalesEntrySchema, data, SALES_ENTRIES)

    def create_document(self, *, subject: str, type: int, account: str, date: date) -> dict:
        """Create a document (``type`` 10 is usually "Sales invoice") for an account."""
        body = {"Subject": subject, "Type": type, "Account": account, "DocumentDate": date}
        return self._api.load(schemas.DocumentSchema, self._post(DOCUMENTS, body), DOCUMENTS)

    def attach(self, document_id: str, file_name: str, content: bytes) -> dict:
        """Upload a file to a document (``Attachment`` must be base64, §6)."""
        body = {
            "Document": str(uuid.UUID(str(document_id))),
            "FileName": file_name,
            "Attachment": base64.b64encode(content).decode("ascii"),
        }
        data = self._post(DOCUMENT_ATTACHMENTS, body)
        return self._api.load(schemas.DocumentAttachmentSchema, data, DOCUMENT_ATTACHMENTS)

    # -- payment status -------------------------------------------------------------------

    def receivables(self, entry_ids: Iterable[str]) -> list[dict]:
        """Return every receivable (term) of the sales entries ``entry_ids``; a split entry
        has several. One call (plus pages) per 40 entries."""
        found: list[dict] = []
        for chunk in chunks(str(entry_id) for entry_id in entry_ids):
            params = {
                "$filter": any_of("TransactionEntryID", (guid(entry) for entry in chunk)),
                "$select": select(schemas.ReceivableSchema),
            }
            url = self._url(RECEIVABLES, params)
            found.extend(self._api.pages(RECEIVABLES, url, None, schemas.ReceivableSchema))
        return found

    # -- helpers --------------------------------------------------------------------------

    def _all(self, path: str, schema: type[Schema]) -> list[dict]:
        url = self._url(path, {"$select": select(schema)})
        return list(self._api.pages(path, url, None, schema))

    def _post(self, path: str, body: dict) -> Any:
        return unwrap(self._api.request("POST", path, self._url(path), body=body), path)

    def _url(self, path: str, params: dict | None = None, division: int | None = None) -> str:
        """The URL of ``path`` in the division, with ``params`` encoded as OData likes them
        (``%20`` for spaces, ``$`` and quotes left readable)."""
        division = division if division is not None else self.division
        if path.startswith(("current/", "/api/")):
            url = f"{self._api.host}{'' if path.startswith('/') else '/api/v1/'}{path}"
        elif division is None:
            raise ValueError(f"{path}: the client has no division")
        else:
            url = f"{self._api.host}/api/v1/{int(division)}/{path}"
        return url + query_string(params)
