"""The main menu: grouped the way a finance team works, with the current page marked.

The menu is data, so one helper (``main_menu``) decides what a user sees and which item
is the current page, instead of a flag in every template. The current item is the one
whose endpoint is the request's; failing that, the first item of the request's
blueprint (an invoice's page marks "Invoices"). Pages that exist only to change
something (``admin_required``) are left out for viewers, who would get a 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l


# Compared by identity: comparing fields would translate the lazy labels on every ``in``.
@dataclass(frozen=True, eq=False)
class Item:
    label: str | LazyString  # translated when shown
    endpoint: str
    admin_only: bool = False
    # A flag the page's context must set for the item to show (the demo's mail sink).
    when: str | None = None

    @property
    def blueprint(self) -> str:
        return self.endpoint.partition(".")[0]


@dataclass(frozen=True)
class Group:
    label: str | LazyString
    items: tuple[Item, ...]


MENU = (
    Group(
        _l("Receivables"),
        (
            Item(_l("Dashboard"), "home.index"),
            Item(_l("Invoices"), "invoices.index"),
            Item(_l("Customers"), "customers.index"),
            Item(_l("Payments"), "payments.index"),
            Item(_l("Holds"), "holds.index"),
        ),
    ),
    Group(
        _l("Collect"),
        (
            Item(_l("Payment profiles"), "profiles.index"),
            Item(_l("Mandates"), "mandates.index"),
            Item(_l("Upload mandates"), "mandates.new_upload", admin_only=True),
            Item(_l("Collection runs"), "collections.index"),
            Item(_l("New collection run"), "collections.new", admin_only=True),
            Item(_l("Bank files"), "bank_files.index"),
        ),
    ),
    Group(
        _l("Integrations"),
        (
            Item(_l("Teamleader"), "integrations.teamleader"),
            Item(_l("Imports"), "imports.index"),
            Item(_l("Exact Online"), "exact.index"),
            Item(_l("Online payments"), "payment_settings.index"),
        ),
    ),
    Group(
        _l("Admin"),
        (
            Item(_l("Sync problems"), "problems.index"),
            Item(_l("Jobs"), "job_runs.index"),
            Item(_l("Callbacks"), "callbacks.index"),
            Item(_l("Upcoming mail"), "mail.upcoming"),
            Item(_l("Outbox"), "outbox.index", when="mail_sink"),
            Item(_l("Users"), "users.index", admin_only=True),
            Item(_l("Settings"), "settings.creditor_settings"),
        ),
    ),
)


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class Section:
    label: str
    links: tuple[Link, ...]

    @property
    def current(self) -> Link | None:
        return next((link for link in self.links if link.current), None)


# Blueprints whose pages sit under another blueprint's menu item: the company entities
# (Teamleader's domain), the API keys and the audit log are pages of Settings.
UNDER = {"entities": "settings", "api_keys": "settings", "audit": "settings"}


def current_item(endpoint: str | None, items: list[Item]) -> Item | None:
    """The item a request to ``endpoint`` belongs to: its own, else its blueprint's first."""
    if not endpoint:
        return None
    exact = next((i for i in items if i.endpoint == endpoint), None)
    blueprint = endpoint.partition(".")[0]
    blueprint = UNDER.get(blueprint, blueprint)
    return exact or next((i for i in items if i.blueprint == blueprint), None)


def visible_items(user, **flags: bool) -> list[Item]:
    """The items ``user`` may open, in menu order; ``flags`` switch on conditional ones."""
    admin = bool(getattr(user, "is_admin", False))
    return [
        item
        for group in MENU
        for item in group.items
        if (admin or not item.admin_only) and (item.when is None or flags.get(item.when))
    ]


def main_menu(user, endpoint: str | None, **flags: bool) -> list[Section]:
    """The menu for ``user`` on the page of ``endpoint``: groups of links, one current."""
    items = visible_items(user, **flags)
    current = current_item(endpoint, items)
    sections = []
    for group in MENU:
        links = tuple(
            Link(item.label, url_for(item.endpoint), item is current)
            for item in group.items
            if item in items
        )
        if links:
            sections.append(Section(group.label, links))
    return sections
