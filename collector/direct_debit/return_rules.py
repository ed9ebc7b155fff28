"""What a failed direct debit leads to, by its reason code: the defaults, and each
profile's own choices where a person changed them (``ReturnRule`` rows).

The defaults follow the reason's meaning (reference §2.6 and Twikey's buckets, §1.8):
only "can't pay" is worth presenting again; a code saying the mandate or the account
cannot be used ends the mandate; a refund the debtor claimed is theirs by right (MD06)
and goes back to collect with a note for the team; anything else goes back to collect,
as every failure did before.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from collector.accounts import audit
from collector.core.errors import Invalid
from collector.direct_debit import reason_codes
from collector.direct_debit.models import ReturnAction, ReturnRule
from collector.direct_debit.wording import N_
from collector.documents.models import Profile
from collector.extensions import db

DEFAULTS = {
    "AM04": ReturnAction.RETRY,
    # Twikey counts MS03 ("no reason given by the bank") as "can't pay" because some banks
    # report insufficient funds that way; others use it for anything. Off by default, so
    # a profile whose bank does the former turns it on.
    "MS03": ReturnAction.BACK_TO_COLLECT,
    # The mandate or the account cannot be used again: no mandate, account closed,
    # blocked, forbidden for direct debits, consumer account on B2B, debtor deceased.
    "MD01": ReturnAction.MANDATE_UNUSABLE,
    "MD07": ReturnAction.MANDATE_UNUSABLE,
    "AC04": ReturnAction.MANDATE_UNUSABLE,
    "AC06": ReturnAction.MANDATE_UNUSABLE,
    "AC13": ReturnAction.MANDATE_UNUSABLE,
    "AG01": ReturnAction.MANDATE_UNUSABLE,
    "MD06": ReturnAction.REFUND_CLAIMED,
}
FALLBACK = ReturnAction.BACK_TO_COLLECT
# The codes the settings page lists: every code we know a meaning for.
CODES = tuple(sorted(reason_codes.MEANINGS))
ACTION_WORDS = {
    ReturnAction.RETRY: N_("retry"),
    ReturnAction.MANDATE_UNUSABLE: N_("mandate unusable"),
    ReturnAction.REFUND_CLAIMED: N_("refund claimed"),
    ReturnAction.BACK_TO_COLLECT: N_("back to collect"),
}
MAX_RETRIES = 3  # SEPA allows re-presentation, but more than a few is harassment
MAX_DELAY_DAYS = 60


@dataclass(frozen=True)
class Row:
    """One line of a profile's table: the code, its meaning, its action and the default."""

    code: str
    action: ReturnAction
    default: ReturnAction

    @property
    def changed(self) -> bool:
        return self.action != self.default


def default_for(code: str | None) -> ReturnAction:
    """What a failure with ``code`` leads to when the profile says nothing else."""
    return DEFAULTS.get((code or "").upper(), FALLBACK)


def action_for(profile_id: int | None, code: str | None) -> ReturnAction:
    """What a failure with ``code`` leads to on the profile."""
    code = (code or "").upper()
    if profile_id is not None and code:
        chosen = db.session.scalar(
            sa.select(ReturnRule.action).where(
                ReturnRule.profile_id == profile_id, ReturnRule.code == code
            )
        )
        if chosen is not None:
            return chosen
    return default_for(code)


def table(profile: Profile) -> list[Row]:
    """Every known code with what it leads to on ``profile``."""
    chosen = dict(
        db.session.execute(
            sa.select(ReturnRule.code, ReturnRule.action).where(ReturnRule.profile_id == profile.id)
        ).all()
    )
    return [Row(code, chosen.get(code, default_for(code)), default_for(code)) for code in CODES]


def save(profile: Profile, actions: dict[str, str], retries, delay, actor: str) -> list[str]:
    """Store the profile's table (a row only where it differs from the default) and its
    retry limit and delay; the codes whose action changed. Checks everything before it
    writes; does not commit."""
    parsed = _parsed(actions)
    retries = _number(retries, 0, MAX_RETRIES, "retries")
    delay = _number(delay, 1, MAX_DELAY_DAYS, "delay")
    before = {row.code: row.action for row in table(profile)}
    db.session.execute(sa.delete(ReturnRule).where(ReturnRule.profile_id == profile.id))
    for code, action in parsed.items():
        if action != default_for(code):
            db.session.add(
                ReturnRule(profile_id=profile.id, code=code, action=action, updated_by=actor[:128])
            )
    changed = [code for code, action in parsed.items() if before.get(code) != action]
    audit.record(
        "profile.failed_debits_saved",
        target=f"profile:{profile.id}",
        details={
            "changed": {code: parsed[code].value for code in changed},
            "retries": [profile.debit_retries, retries],
            "retry_days": [profile.debit_retry_days, delay],
        },
    )
    profile.debit_retries, profile.debit_retry_days = retries, delay
    return changed


def _parsed(actions: dict[str, str]) -> dict[str, ReturnAction]:
    parsed = {}
    for code in CODES:
        value = actions.get(code)
        try:
            parsed[code] = ReturnAction(value) if value else default_for(code)
        except ValueError:
            raise Invalid({code: [_("Choose one of the actions listed.")]}) from None
    return parsed


def _number(value, least: int, most: int, field: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not least <= number <= most:
        message = _("A whole number from %(least)s to %(most)s.", least=least, most=most)
        raise Invalid({field: [message]})
    return number
