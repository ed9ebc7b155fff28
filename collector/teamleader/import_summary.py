"""The email that tells who started a Teamleader import how it went.

Written in the current locale: the reader's when sent (``accounts.alerts.notify_user``),
English as the job's own outcome and on the command line.
"""

from __future__ import annotations

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from collector.core import formatting
from collector.documents import held_mail
from collector.teamleader.models import DocumentImport, ImportStatus

MAX_LISTED = 100  # problems listed in the mail; the import history has them all


def summary(imp: DocumentImport) -> tuple[str, str]:
    """Subject and plain-text body of the summary email."""
    counts = {name: imp.count(name) for name in ("imported", "skipped", "failed")}
    if imp.date_from and imp.date_to:
        where = str(get_locale() or "")
        start, end = (formatting.format_date(d, locale=where) for d in (imp.date_from, imp.date_to))
        span = _("%(start)s to %(end)s", start=start, end=end)
    else:
        span = ngettext("%(num)s document", "%(num)s documents", len(imp.teamleader_ids))
    failed = imp.status == ImportStatus.FAILED
    number, imported = imp.id, counts["imported"]
    if failed:
        subject = _(
            "Teamleader import #%(number)s failed: %(num)s imported", number=number, num=imported
        )
        opening = _("Import #%(number)s of %(span)s failed.", number=number, span=span)
    else:
        subject = _(
            "Teamleader import #%(number)s finished: %(num)s imported", number=number, num=imported
        )
        opening = _("Import #%(number)s of %(span)s finished.", number=number, span=span)
    rows = [
        (
            _("Imported:"),
            _(
                "%(num)s (%(invoices)s invoices, %(credit_notes)s credit notes; "
                "%(not_collected)s paid or with nothing to collect)",
                num=imported,
                invoices=imp.count("invoices"),
                credit_notes=imp.count("credit_notes"),
                not_collected=imp.count("not_collected"),
            ),
        ),
        (_("Skipped:"), str(counts["skipped"])),
        (_("Failed:"), str(counts["failed"])),
        (
            _("Customers:"),
            _(
                "%(new)s new, %(updated)s updated",
                new=imp.count("customers_created"),
                updated=imp.count("customers_updated"),
            ),
        ),
        (_("Teamleader API:"), ngettext("%(num)s call", "%(num)s calls", imp.api_call_total)),
    ]
    # The values line up under the longest label, whatever the language.
    width = max(len(label) for label, _value in rows) + 1
    lines = [opening, "", *(f"{label:<{width}}{value}" for label, value in rows)]
    held = len(held_mail.mail_of_import(imp.id).held)
    if held:
        lines += [
            "",
            ngettext(
                "%(num)s invitation was held back (overdue or older): nothing went to those "
                "customers. Choose which to send on the import's page.",
                "%(num)s invitations were held back (overdue or older): nothing went to those "
                "customers. Choose which to send on the import's page.",
                held,
            ),
        ]
    if imp.error:
        lines += ["", _("Reason: %(reason)s", reason=imp.error)]
    if imp.problems:
        lines += ["", _("Skipped and failed documents:")]
        lines += [
            f"- {p.get('number') or p.get('teamleader_id')}: {p['outcome']}, {p['reason']}"
            for p in imp.problems[:MAX_LISTED]
        ]
        if len(imp.problems) > MAX_LISTED:
            more = len(imp.problems) - MAX_LISTED
            lines.append(_("… and %(num)s more, listed in the import history.", num=more))
    return subject, "\n".join(lines) + "\n"
