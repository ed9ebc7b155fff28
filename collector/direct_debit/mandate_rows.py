"""Checking one row of a mandates CSV against the rules and what is stored (looked up for
its chunk by ``mandate_scan``): its problems, and the new mandate's columns. Problems are
stored in English (``mandate_problems``).

A new mandate's warning that it replaces (or is replaced by) an active one is a step of
its own, ``warn_replacing``: the active mandates are looked up once the rows are checked,
after the chunks before are stored (``mandate_scan``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from collector.direct_debit import mandate_problems as texts
from collector.direct_debit.mandate_csv import Row, parse_date
from collector.direct_debit.mandates import check_account, reference_key, reference_problem
from collector.direct_debit.models import MandateScheme, MandateStatus
from collector.direct_debit.wording import english

ERROR, WARNING = "error", "warning"
NAME_LENGTH = 70  # pain.008 Dbtr/Nm
EMAIL_LENGTH = 254
QUOTED_LENGTH = 40  # of a cell repeated in a message
# What a stored mandate is compared on, as (attribute, column of the file, label in
# ``mandate_problems.COMPARED_LABELS``).
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

    def __init__(self, checker, row: Row, customers, stored):
        self.checker, self.row, self.cells = checker, row, row.cells
        self.customers, self.stored = customers, stored
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
            problem = english(
                texts.OTHER_CUSTOMER,
                reference=existing.reference,
                customer=existing.customer_number,
            )
            self.error("mandateNumber", problem)
        account = check_account(
            self.cells["iban"],
            self.cells["bic"],
            self.checker.banks,
            validated=self.checker.checked,
        )
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
            self.warn("profile", english(texts.PROFILE_WITHOUT_DEBIT, profile=profile.name))
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
            self.error("customerNumber", english(texts.CUSTOMER_REQUIRED))
            return None
        customer = self.customers.get(number)
        if customer is None:
            self.error("customerNumber", english(texts.NO_CUSTOMER))
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
                "mandateNumber", english(texts.REFERENCE_TWICE, reference=reference, first=first)
            )
            return reference, None
        return reference, key

    def sign_date(self) -> date | None:
        text = self.cells["signDate"]
        if not text:
            self.error("signDate", english(texts.SIGN_DATE_REQUIRED))
            return None
        signed_on = parse_date(text)
        if signed_on is None:
            self.error("signDate", english(texts.NOT_A_DATE, text=quoted(text)))
        elif signed_on > self.checker.today:
            self.error("signDate", english(texts.IN_THE_FUTURE, day=signed_on.isoformat()))
            return None
        return signed_on

    def profile(self, customer):
        text = self.cells["profile"]
        if text:
            profile = self.checker.profiles.find(text)
            if profile is None:
                self.error("profile", english(texts.NO_PROFILE, text=quoted(text)))
            return profile
        if customer is None:
            return None  # its own error says enough
        if customer.profile_id is None:
            self.error("profile", english(texts.CUSTOMER_WITHOUT_PROFILE))
            return None
        return self.checker.profiles.by_id[customer.profile_id]

    def scheme(self) -> MandateScheme | None:
        text = self.cells["scheme"].upper() or MandateScheme.CORE.value
        try:
            return MandateScheme(text)
        except ValueError:
            given = quoted(self.cells["scheme"])
            self.error("scheme", english(texts.BAD_SCHEME, text=given))
            return None

    def email(self) -> str | None:
        text = self.cells["email"]
        if not text:
            return None
        local, at, domain = text.rpartition("@")
        if not (at and local and "." in domain) or len(text) > EMAIL_LENGTH or " " in text:
            self.error("email", english(texts.NOT_AN_EMAIL, text=quoted(text)))
        return text

    def name(self, customer) -> str | None:
        text = self.cells["name"]
        if not text:
            return customer.name[:NAME_LENGTH] if customer is not None else None
        if len(text) > NAME_LENGTH:
            self.warn("name", english(texts.SHORTENED, most=NAME_LENGTH))
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
            problem = english(texts.STORED_OTHERWISE, reference=existing.reference, labels=labels)
            self.warn(different[0][0], problem)
        if existing.status != MandateStatus.ACTIVE:
            problem = english(
                texts.STORED_INACTIVE, reference=existing.reference, status=existing.status.value
            )
            self.warn("mandateNumber", problem)


def warn_replacing(row: Row, verdict: Verdict, active: dict) -> None:
    """Warns on a new mandate's row when its customer has an active mandate on the same
    profile: ``active`` is (customer id, profile id) → the latest signed one."""
    if verdict.values is None:
        return
    other = active.get((verdict.values["customer_id"], verdict.values["profile_id"]))
    if other is not None:
        message = _replacing(other, verdict.values["signed_on"])
        verdict.problems.append(Problem(row.number, "mandateNumber", message, WARNING))


def _replacing(other, signed_on: date) -> str:
    """What a second active mandate on the same profile means for collections."""
    if other.signed_on > signed_on:
        return english(texts.SIGNED_LATER, reference=other.reference)
    return english(texts.REPLACES, reference=other.reference)
