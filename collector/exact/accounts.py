"""The customer's account in Exact Online: the stored link, else found, else created.

Order (issue 8, reference §4): the link stored when the customer was first booked; else an
account with the customer's e-mail (unless that match is switched off); else one with its VAT
number; else a new account with customer status (without it Exact refuses sales documents).

Only the customer's checked, compact VAT number (``vat_compact``) is matched or sent: a number
that is not valid finds nothing and is left off a new account (the customer shows a warning).
"""

from __future__ import annotations

from collector.core.vat import read_vat, without_prefix
from collector.documents.models import Customer
from collector.exact import ExactClient
from collector.exact.models import ExactAccount, ExactConnection
from collector.extensions import db

CUSTOMER = "C"


class RunAccounts:
    """One forwarding run's account look-ups in one administration: the customers of a
    batch of documents without a stored link are searched together when the first of them
    needs its account (one call per 40 e-mails and VAT spellings instead of up to two per
    customer), and what was found is kept for this run only — the next run asks Exact
    again, so an account added or changed there meanwhile is seen. A search that fails
    keeps nothing: the next document that needs an account searches again."""

    def __init__(self, connection: ExactConnection, exact: ExactClient):
        self.connection, self.exact = connection, exact
        self.division = connection.division
        self._pending: dict[int, Customer] = {}
        self._found: dict[int, tuple[dict | None, str | None]] = {}

    def expect(self, customers: list[Customer]) -> None:
        """The customers of the next documents: searched together when one is needed."""
        self._pending.update((c.id, c) for c in customers if c.id not in self._found)

    def found(self, customer: Customer) -> tuple[dict | None, str | None] | None:
        """What the batch's search found for ``customer`` (account or None, how), or None
        when it was not searched for in this run."""
        if customer.id in self._pending:
            self._search(list(self._pending.values()))
            self._pending.clear()  # only once the search answered
        return self._found.get(customer.id)

    def _search(self, customers: list[Customer]) -> None:
        linked = set(
            db.session.scalars(
                db.select(ExactAccount.customer_id).where(
                    ExactAccount.customer_id.in_([c.id for c in customers]),
                    ExactAccount.division == self.division,
                )
            )
        )
        missing = [c for c in customers if c.id not in linked]
        emails = [c.email for c in missing if c.email and not self.connection.skip_email_match]
        vats = [v for c in missing if c.vat_compact for v in vat_spellings(c)]
        found = (
            self.exact.find_accounts_of_any(emails=emails, vat_numbers=vats)
            if (emails or vats)
            else []
        )
        for customer in missing:
            self._found[customer.id] = _pick(customer, self.connection, found)


def account_for(
    customer: Customer,
    connection: ExactConnection,
    exact: ExactClient,
    run: RunAccounts | None = None,
) -> str:
    """The Exact account id of ``customer`` in the connection's administration."""
    link = db.session.scalars(
        db.select(ExactAccount).filter_by(customer_id=customer.id, division=connection.division)
    ).first()
    if link is not None:
        return link.account_id
    searched = run.found(customer) if run is not None else None
    account, matched_by = searched or _find(customer, connection, exact)
    if account is None:
        account, matched_by = exact.create_account(account_fields(customer)), "created"
    code = (account.get("Code") or "").strip() or None
    db.session.add(
        ExactAccount(
            customer_id=customer.id,
            division=connection.division,
            account_id=str(account["ID"]),
            code=code,
            matched_by=matched_by,
        )
    )
    db.session.commit()
    return str(account["ID"])


def forget(customer: Customer, connection: ExactConnection) -> None:
    """Drop the stored link (the account was deleted in Exact): the next booking finds again."""
    db.session.execute(
        db.delete(ExactAccount).filter_by(customer_id=customer.id, division=connection.division)
    )
    db.session.commit()


def account_fields(customer: Customer) -> dict:
    """A new account: the customer's name and details, customer status, allowed for sales."""
    fields = {
        "Name": customer.name[:50],
        "Status": CUSTOMER,
        "IsSales": True,
        "Email": customer.email,
        "VATNumber": customer.vat_compact,
        "AddressLine1": customer.address_line,
        "Postcode": customer.postal_code,
        "City": customer.city,
        "Country": customer.country,
    }
    return {key: value for key, value in fields.items() if value not in (None, "")}


def _find(customer: Customer, connection: ExactConnection, exact: ExactClient):
    if customer.email and not connection.skip_email_match:
        # E-mail is not unique in Exact: prefer a customer, then the oldest (lowest code).
        account = _best(exact.find_accounts(email=customer.email))
        if account is not None:
            return account, "email"
    if customer.vat_compact:
        found = exact.find_accounts(vat_numbers=vat_spellings(customer))
        account = _best([a for a in found if _same_vat(a, customer)])
        if account is not None:
            return account, "vat"
    return None, None


def _pick(customer: Customer, connection: ExactConnection, accounts: list[dict]):
    """Among the accounts found for many customers, ``customer``'s, in ``_find``'s order:
    e-mail first (Exact compares it ignoring case), then the VAT number."""
    if customer.email and not connection.skip_email_match:
        email = customer.email.lower()
        account = _best([a for a in accounts if (a.get("Email") or "").lower() == email])
        if account is not None:
            return account, "email"
    if customer.vat_compact:
        account = _best([a for a in accounts if _same_vat(a, customer)])
        if account is not None:
            return account, "vat"
    return None, None


def vat_spellings(customer: Customer) -> list[str]:
    """The ways an account in Exact may hold the customer's VAT number.

    Exact's filter compares the stored text as it is (ignoring case only), and how Exact
    stores a VAT number typed in its own screens is not verified (reference §4 gives only
    ``VATNumber eq 'NL…'``). So besides the compact form we and other integrations write,
    ask for the number without its prefix and as the customer typed it; every hit is then
    checked by reading its number back (``_same_vat``). Still one call.
    """
    compact = customer.vat_compact or ""
    bare = without_prefix(compact)
    spellings = [compact, bare, (customer.vat_number or "").strip()]
    if compact.startswith("BE"):  # how Belgian numbers are printed: BE 0477.472.701
        dotted = f"{bare[:4]}.{bare[4:7]}.{bare[7:]}"
        spellings += [f"BE {dotted}", dotted]
    return list(dict.fromkeys(s for s in spellings if s))


def _same_vat(account: dict, customer: Customer) -> bool:
    """Whether the account's VAT number, however written, is the customer's."""
    country = (account.get("Country") or "").strip() or customer.country
    return read_vat(account.get("VATNumber"), country).compact == customer.vat_compact


def _best(accounts: list[dict]) -> dict | None:
    usable = [a for a in accounts if not a.get("Blocked")]
    usable.sort(
        key=lambda a: (a.get("Status") != CUSTOMER, (a.get("Code") or "").strip().zfill(18))
    )
    return usable[0] if usable else None
