"""Checking one row of a mandates CSV against the rules and what is stored (looked up for
its chunk by ``mandate_scan``): its problems, and the new mandate's columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from collector.direct_debit.mandate_csv import Row, parse_date
from collector.direct_debit.mandates import check_account, reference_key, reference_problem
from collector.direct_debit.models import MandateScheme, MandateStatus

ERROR, WARNING = "error", "warning"
NAME_LENGTH = 70  # pain.008 Dbtr/Nm
EMAIL_LENGTH = 254
QUOTED_LENGTH = 40  # of a cell repeated in a message
# What a stored mandate is compared on, as (attribute, column of the file, label).
COMPARED = (
    ("iban", "iban", "IBAN"),
    ("bic", "bic", "BIC"),
    ("signed_on", "signDate", "signature date"),
    ("profile_id", "profile", "profile"),
    ("scheme", "scheme", "scheme"),
)


def quoted(text: str, limit: int = QUOTED_LENGTH) -> str:
    """A cell as a message repeats it: short, since 500 problems are kept per upload."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str
    level: str

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "level": self.level,
        }


@dataclass
class Verdict:
    """What became of one row: its problems, and the new mandate's columns or
    ``unchanged`` when its mandate is stored already."""

    problems: list[Problem] = field(default_factory=list)
    values: dict | None = None
    unchanged: bool = False

    @property
    def failed(self) -> bool:
        return any(p.level == ERROR for p in self.problems)


class RowCheck:
    """One row's checks, each adding its problems to the verdict."""

    def __init__(self, checker, row: Row, customers, stored, active):
        self.checker, self.row, self.cells = checker, row, row.cells
        self.customers, self.stored, self.active = customers, stored, active
        self.problems: list[Problem] = []

    def error(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.row.number, column, message, ERROR))

    def warn(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.row.number, column, message, WARNING))

    def verdict(self) -> Verdict:
        customer = self.customer()
        reference, key = self.reference()
        existing = self.stored.get(key) if key else None
        if existing is not None and customer is not None and existing.customer_id != customer.id:
            self.error(
                "mandateNumber",
                f"The reference {existing.reference} belongs to a mandate of another customer "
                f"({existing.customer_number}); a reference is never used twice.",
            )
        account = check_account(self.cells["iban"], self.cells["bic"])
        for column, message in account.problems.items():
            self.error(column, message)
        details = {
            "signed_on": self.sign_date(),
            "profile": self.profile(customer),
            "scheme": self.scheme(),
            "email": self.email(),
            "debtor_name": self.name(customer),
        }
        if any(p.level == ERROR for p in self.problems):
            return Verdict(self.problems)
        for column, message in account.warnings.items():
            self.warn(column, message)
        if existing is not None:
            self.compare(existing, account, details)
            return Verdict(self.problems, unchanged=True)
        return Verdict(self.problems, values=self.new(reference, key, customer, account, details))

    def new(self, reference, key, customer, account, details) -> dict:
        profile = details.pop("profile")
        if not profile.allow_direct_debit:
            self.warn(
                "profile",
                f"The profile {profile.name} does not allow direct debit: nothing is collected "
                "on this mandate until it does.",
            )
        other = self.active.get((customer.id, profile.id))
        if other is not None:
            self.warn("mandateNumber", _replacing(other, details["signed_on"]))
        return {
            **details,
            "reference": reference,
            "reference_key": key,
            "customer_id": customer.id,
            "profile_id": profile.id,
            "iban": account.iban,
            "bic": account.bic,
        }

    def customer(self):
        number = self.cells["customerNumber"]
        if not number:
            self.error("customerNumber", "A customer number is required.")
            return None
        customer = self.customers.get(number)
        if customer is None:
            self.error(
                "customerNumber",
                "No customer has this number. Customer numbers are the Teamleader ids in the "
                "customers CSV.",
            )
        return customer

    def reference(self) -> tuple[str, str | None]:
        reference = self.cells["mandateNumber"]
        problem = reference_problem(reference)
        if problem:
            self.error("mandateNumber", problem)
            return reference, None
        key = reference_key(reference)
        first = self.checker.seen.setdefault(key, self.row.number)
        if first != self.row.number:
            self.error(
                "mandateNumber",
                f"The reference {reference} is on row {first} too: each mandate has its own.",
            )
            return reference, None
        return reference, key

    def sign_date(self) -> date | None:
        text = self.cells["signDate"]
        if not text:
            self.error("signDate", "The signature date is required (YYYY-MM-DD or DD/MM/YYYY).")
            return None
        signed_on = parse_date(text)
        if signed_on is None:
            self.error(
                "signDate", f"“{quoted(text)}” is not a date: write YYYY-MM-DD or DD/MM/YYYY."
            )
        elif signed_on > self.checker.today:
            self.error("signDate", f"The signature date {signed_on} is in the future.")
            return None
        return signed_on

    def profile(self, customer):
        text = self.cells["profile"]
        if text:
            profile = self.checker.profiles.find(text)
            if profile is None:
                self.error("profile", f"No profile is called “{quoted(text)}” (nor has that id).")
            return profile
        if customer is None:
            return None  # its own error says enough
        if customer.profile_id is None:
            self.error(
                "profile",
                "The customer has no payment profile: name one in the profile column or "
                "choose one on the customer's page.",
            )
            return None
        return self.checker.profiles.by_id[customer.profile_id]

    def scheme(self) -> MandateScheme | None:
        text = self.cells["scheme"].upper() or MandateScheme.CORE.value
        try:
            return MandateScheme(text)
        except ValueError:
            given = quoted(self.cells["scheme"])
            self.error("scheme", f"The scheme is CORE or B2B, not “{given}”.")
            return None

    def email(self) -> str | None:
        text = self.cells["email"]
        if not text:
            return None
        local, at, domain = text.rpartition("@")
        if not (at and local and "." in domain) or len(text) > EMAIL_LENGTH or " " in text:
            self.error("email", f"“{quoted(text)}” is not an email address.")
        return text

    def name(self, customer) -> str | None:
        text = self.cells["name"]
        if not text:
            return customer.name[:NAME_LENGTH] if customer is not None else None
        if len(text) > NAME_LENGTH:
            self.warn(
                "name", f"Shortened to {NAME_LENGTH} characters, the most a collection carries."
            )
        return text[:NAME_LENGTH]

    def compare(self, existing, account, details) -> None:
        """A stored mandate is never changed by a file; say so when the file differs."""
        mine = {**details, "iban": account.iban, "profile_id": details["profile"].id}
        # An empty BIC cell (derived or not needed) says nothing against the stored one.
        mine["bic"] = account.bic if self.cells["bic"] else existing.bic
        different = [
            (col, label) for attr, col, label in COMPARED if getattr(existing, attr) != mine[attr]
        ]
        if different:
            labels = ", ".join(label for _, label in different)
            self.warn(
                different[0][0],
                f"Mandate {existing.reference} is stored with another {labels}; it is left as "
                "it is. A new account is a new mandate: revoke this one and upload the new "
                "one under a new reference.",
            )
        if existing.status != MandateStatus.ACTIVE:
            self.warn(
                "mandateNumber",
                f"Mandate {existing.reference} is {existing.status.value} and stays so; a new "
                "mandate needs a new reference.",
            )


def _replacing(other, signed_on: date) -> str:
    """What a second active mandate on the same profile means for collections."""
    if other.signed_on > signed_on:
        return (
            f"The customer's mandate {other.reference} on this profile is signed later: "
            "collections keep using that one."
        )
    return (
        f"Collections use this mandate instead of {other.reference}, signed earlier on the same "
        "profile; revoke that one if it no longer holds."
    )
