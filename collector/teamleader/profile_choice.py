"""Which payment profile a document goes on (DESIGN §1.5).

The chain: the invoice's custom field → the generating subscription's custom field →
the customer's profile → the integration default. A custom field may hold a profile id
or the label of a single-select option naming a profile; whether Teamleader returns the
option's label or its id (API ≥ 2023-09-26) is undocumented (reference §9 [?]), so an
option id is translated to its label through the definition stored at connect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from collector.documents.models import Customer, Profile
from collector.extensions import db
from collector.teamleader import NotFound, TeamleaderClient
from collector.teamleader.models import TeamleaderConnection


@dataclass
class Choice:
    """The chosen profile (None: no profile at all), where it came from, and notes:
    custom-field values that named no profile we know."""

    profile: Profile | None
    source: str
    unknown: list[str] = field(default_factory=list)


class ProfileChooser:
    """Chooses profiles for one import; caches subscriptions it had to read."""

    def __init__(self, client: TeamleaderClient, connection: TeamleaderConnection):
        self.client = client
        self.connection = connection
        profiles = db.session.scalars(db.select(Profile)).all()
        self.by_id = {p.id: p for p in profiles}
        self.by_name = {p.name.casefold(): p for p in profiles}
        self.options = {
            option["id"]: option["value"]
            for definition in connection.custom_fields or []
            for option in definition.get("options") or []
            if isinstance(option, dict) and option.get("id")
        }
        self.subscriptions: dict[str, dict | None] = {}

    @property
    def reads_invoices(self) -> bool:
        """True when choosing costs one invoices.info per new invoice."""
        return bool(self.connection.invoice_profile_field_id)

    def for_invoice(self, record: dict, customer: Customer) -> Choice:
        """The profile of a new invoice (``record`` in list shape)."""
        unknown: list[str] = []
        field_id = self.connection.invoice_profile_field_id
        if field_id:
            # Custom fields come only with invoices.info (reference §6.2, §9).
            info = self.client.invoices_info(record["id"])
            profile = self._resolve(custom_field(info, field_id), unknown)
            if profile:
                return Choice(profile, "invoice custom field", unknown)
        subscription = self.subscription(record.get("subscription_id"))
        field_id = self.connection.subscription_profile_field_id
        if subscription and field_id:
            profile = self._resolve(custom_field(subscription, field_id), unknown)
            if profile:
                return Choice(profile, "subscription custom field", unknown)
        return self._fallback(customer, unknown)

    def for_credit_note(self, credited_profile: Profile | None, customer: Customer) -> Choice:
        """A credit note follows the invoice it credits, else the customer."""
        if credited_profile is not None:
            return Choice(credited_profile, "credited invoice")
        return self._fallback(customer, [])

    def subscription(self, subscription_id: str | None) -> dict | None:
        """subscriptions.info once per subscription per import — only when its custom field
        is configured; otherwise nothing needs it and the call is saved."""
        if not subscription_id or not self.connection.subscription_profile_field_id:
            return None
        if subscription_id not in self.subscriptions:
            try:
                self.subscriptions[subscription_id] = self.client.subscriptions_info(
                    subscription_id
                )
            except NotFound:
                self.subscriptions[subscription_id] = None
        return self.subscriptions[subscription_id]

    def _fallback(self, customer: Customer, unknown: list[str]) -> Choice:
        if customer.profile_id is not None and customer.profile_id in self.by_id:
            return Choice(self.by_id[customer.profile_id], "customer", unknown)
        default = self.by_id.get(self.connection.default_profile_id)
        return Choice(default, "integration default" if default else "none", unknown)

    def _resolve(self, value: object, unknown: list[str]) -> Profile | None:
        """A profile named by a custom-field value; unknown values are noted, not fatal."""
        for candidate in _values(value):
            text = self.options.get(candidate, candidate)
            profile = self.by_name.get(text.casefold())
            if profile is None and text.isdigit():
                profile = self.by_id.get(int(text))
            if profile is not None:
                return profile
            unknown.append(text)
        return None


def custom_field(record: dict, definition_id: str) -> object:
    """The value ``record`` holds for custom field ``definition_id`` (None if absent)."""
    for value in record.get("custom_fields") or []:
        if value.get("definition_id") == definition_id:
            return value.get("value")
    return None


def _values(value: object) -> list[str]:
    """Candidate strings in a custom-field value: text, number, multi-select list or option."""
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    if isinstance(value, dict):
        # An option object {id, value}, should a version return one.
        return _values(value.get("value") or value.get("id"))
    text = str(value).strip()
    return [text] if text else []
