"""The customer revokes their mandate from their signing page (``signing``): it ends as
every revocation does (``mandates.revoke``), the signature records when and from where,
and the team reads it on the timelines of the customer's open documents — and, when a
run not yet sent to the bank still holds a collection on it, in a mail to every admin."""

from __future__ import annotations

from flask_babel import gettext as _

from collector.accounts import alerts
from collector.core.columns import utcnow
from collector.core.errors import Conflict
from collector.direct_debit import mandates, signing
from collector.direct_debit.models import Mandate, MandateStatus, SigningLink
from collector.documents import timeline
from collector.extensions import db
from collector.runtime.wordings import Sentence


def revoke(link: SigningLink, mandate_id: int, who: signing.Request) -> Mandate:
    """The customer revokes their active mandate ``mandate_id`` from their page: it ends
    as every revocation does (``mandates.revoke``), and the team reads it on the
    timelines. ``Conflict`` when it is not theirs or not active. Commits."""
    mandate = db.session.get(Mandate, mandate_id)
    if mandate is None or mandate.customer_id != link.customer_id:
        raise Conflict(_("There is no such mandate for this account."))
    signature = signing.signature_of(mandate.id)
    if signature is not None and mandate.status == MandateStatus.ACTIVE:
        signature.revoked_at = utcnow()
        signature.revoked_ip_address = who.ip_address[:45]
        signature.revoked_user_agent = who.user_agent[:500]
    if mandate.status == MandateStatus.ACTIVE:
        sentence = Sentence(signing.REVOKED, {"reference": mandate.reference})
        signing.tell_open_documents(
            link.customer_id, timeline.MANDATE_REVOKED, sentence, mandate_id=mandate.id
        )
    # Locks, checks it is active (rolling the above back if not) and commits it all.
    revoked = mandates.revoke(mandate.id, signing.REVOKED_REASON, signing.ACTOR)
    pending = mandates.pending_collections(revoked.id)
    if pending:
        # A run not yet sent to the bank still holds a collection on it: only a person
        # can take it out (cancel the run), so every admin hears of it now, not in the
        # hourly digest: by then the run may have gone to the bank.
        reference, customer = revoked.reference, link.customer.name

        def letter() -> tuple[str, str]:
            subject = _("A customer revoked mandate %(reference)s", reference=reference)
            text = _(
                "%(customer)s revoked mandate %(reference)s on their signing page, while "
                "%(num)s collection(s) on it are in a run not yet sent to the bank. Cancel "
                "that run to keep them out of the file.",
                customer=customer,
                reference=reference,
                num=pending,
            )
            return subject, text

        alerts.alert_admins(kind="mandate_revoked", letter=letter)
    return revoked
