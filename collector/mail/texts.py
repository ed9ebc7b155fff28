"""Mail texts the team edits: a subject and a body per profile, slot (the invitation or a
dunning step) and language, written as templates with the documented variables only.

Templates run in Jinja's ``SandboxedEnvironment`` over plain strings (no object to reach
into), undefined names fail, and the HTML version is rendered with autoescape, so a
customer called "<b>x</b>" stays text. A text is refused — nothing saved — when it does
not parse, does not render, names an unknown variable, or leaves out the payment link or
the structured reference. Without an edited text, today's letter (``letters``) goes out.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from collector.accounts import audit
from collector.core.errors import Invalid
from collector.dunning.models import INVITATION_SLOT, MailText
from collector.dunning.models.texts import MANDATE_UNUSABLE_SLOT, MAX_BODY, MAX_SUBJECT
from collector.extensions import db
from collector.mail import letters
from collector.runtime.wordings import N_

# The variables a text may use, with what they hold (shown on the editor, translated).
VARIABLES = {
    "customer_name": N_("The customer's name"),
    "number": N_("The document number"),
    "invoice_date": N_("The invoice date"),
    "due_date": N_("The due date (empty when there is none)"),
    "amount_due": N_("The amount still due, with its currency"),
    "payment_link": N_("The link to the document's payment page"),
    "structured_reference": N_("The structured reference for a bank transfer"),
    "creditor_name": N_("The invoicing company's name"),
    "de_creditor_name": N_("The company's name after French « de » (d’ before a vowel)"),
    "days_overdue": N_("Days past the due date, with the word (“7 days”)"),
    "has_pdf": N_("Whether the PDF is attached"),
    "direct_debit": N_("Whether the mail announces a direct debit"),
    "debit_amount": N_("The amount the direct debit collects"),
    "debit_date": N_("The day of the direct debit"),
    "debit_account": N_("The debited account, masked"),
    "mandate_reference": N_("The mandate's reference"),
    "creditor_identifier": N_("Our SEPA creditor identifier"),
    "new_mandate_link": N_(
        "The link to sign a new mandate online (empty where online signing is not offered)"
    ),
}
REQUIRED = ("payment_link", "structured_reference")
# The letters' placeholders under the names the editor documents.
RENAMED = {
    "amount": "amount_due",
    "payment_reference": "structured_reference",
    "creditor": "creditor_name",
    "de_creditor": "de_creditor_name",
}
DEBIT = ("debit_amount", "debit_date", "debit_account", "mandate_reference", "creditor_identifier")


@functools.cache
def _environment(html: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        autoescape=html,
        undefined=StrictUndefined,
        # A tag alone on its line leaves an empty line, never joins two lines; runs of
        # empty lines become one (``_tidy``), so a paragraph left out leaves no gap.
        trim_blocks=False,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    # A text must not let a value (a customer's name) through unescaped.
    env.filters.pop("safe")
    return env


# -- the defaults: today's letters, as templates ------------------------------------------


def default_text(slot: str, language: str) -> tuple[str, str]:
    """(subject, body) of today's letter for ``slot`` as an editable template."""
    t = {key: _placeholders(text) for key, text in letters.TEXTS[language].items()}
    if slot == MANDATE_UNUSABLE_SLOT:
        return _mandate_unusable_text(t)
    if slot == INVITATION_SLOT:
        subject = t["subject_invitation"]
        lead = [
            t["invitation_intro"],
            f"{{% if due_date %}}{t['amount_due_by']}{{% else %}}{t['amount_due']}{{% endif %}}",
            "{% if direct_debit %}",
            "",
            t["direct_debit"],
            "{% endif %}",
        ]
    else:
        subject = t["subject_reminder"]
        lead = [
            t["reminder_intro"],
            f"{{% if due_date %}}{t['reminder_due_on']}{{% else %}}"
            f"{t['reminder_outstanding']}{{% endif %}}",
            f"{{% if direct_debit %}}{t['direct_debit']}{{% else %}}"
            f"{t['reminder_request']}{{% endif %}}",
        ]
    body = [
        t["greeting"],
        "",
        *lead,
        "",
        f"{{% if direct_debit %}}{t['view_online']}{{% else %}}{t['pay_online']}{{% endif %}}",
        "{{ payment_link }}",
        "{% if structured_reference and not direct_debit %}",
        "",
        t["bank_transfer"],
        "{% endif %}",
        "{% if has_pdf %}",
        "",
        t["pdf_attached"],
        "{% endif %}",
    ]
    if slot != INVITATION_SLOT:
        body += ["{% if not direct_debit %}", "", t["already_paid"], "{% endif %}"]
    body += ["", t["sign_off"], "{{ creditor_name }}"]
    return subject, "\n".join(body)


def _mandate_unusable_text(t: dict[str, str]) -> tuple[str, str]:
    """The mail to a customer whose mandate can no longer be used: pay by the link or
    by transfer, or sign a new mandate where that is offered."""
    body = [
        t["greeting"],
        "",
        t["mandate_unusable_intro"],
        f"{{% if due_date %}}{t['amount_due_by']}{{% else %}}{t['amount_due']}{{% endif %}}",
        "",
        t["pay_online"],
        "{{ payment_link }}",
        "{% if structured_reference %}",
        "",
        t["bank_transfer"],
        "{% endif %}",
        "{% if new_mandate_link %}",
        "",
        t["new_mandate"],
        "{{ new_mandate_link }}",
        "{% endif %}",
        "",
        t["sign_off"],
        "{{ creditor_name }}",
    ]
    return t["subject_mandate_unusable"], "\n".join(body)


def _placeholders(text: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "{{ " + RENAMED.get(m[1], m[1]) + " }}", text)


# -- values, checking, rendering ----------------------------------------------------------


def values_of(facts: letters.DocumentFacts, language: str, days_overdue: int | None) -> dict:
    """The variables for one document, written in ``language`` as the letters write them."""
    found = letters._values(facts, language, days_overdue)  # noqa: SLF001  (one formatter)
    values = {RENAMED.get(name, name): value for name, value in found.items()}
    values |= {
        "payment_link": facts.payment_url,
        "has_pdf": facts.has_pdf,
        "direct_debit": facts.direct_debit is not None,
        "due_date": values.get("due_date") or "",
        "structured_reference": values.get("structured_reference") or "",
        "days_overdue": values.get("days_overdue") or "",
    }
    return {name: values.get(name, "") for name in VARIABLES}


def check(subject: str, body: str, language: str) -> None:
    """Refuse a text that would not make a mail: ``Invalid`` with the reason per field."""
    errors: dict[str, list[str]] = {}
    for field, source, limit in (("subject", subject, MAX_SUBJECT), ("body", body, MAX_BODY)):
        problem = _problem(source, limit)
        if problem:
            errors[field] = [problem]
    if not errors:
        used = _names(subject) | _names(body)
        missing = [name for name in REQUIRED if name not in used]
        if missing:
            errors["body"] = ["The text must use " + " and ".join(missing) + "."]
    if not errors:
        for sample in _samples(language):
            try:
                render(subject, body, sample, language)
            except TemplateError as exc:
                errors["body"] = [f"The text cannot be rendered: {str(exc).rstrip('.')}."]
                break
    if errors:
        raise Invalid(errors, " ".join(m for ms in errors.values() for m in ms))


def _problem(source: str, limit: int) -> str | None:
    if not source.strip():
        return "Required."
    if len(source) > limit:
        return f"At most {limit} characters."
    try:
        names = _names(source)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        return f"The template does not parse (line {line}): {(exc.message or '').rstrip('.')}."
    unknown = sorted(names - set(VARIABLES))
    if unknown:
        return "Unknown variable: " + ", ".join(unknown) + "."
    return None


def _names(source: str) -> set[str]:
    return meta.find_undeclared_variables(_environment(False).parse(source))


def _samples(language: str) -> list[dict]:
    today = date(2026, 1, 15)
    facts = letters.DocumentFacts(
        number="2026/0001",
        creditor="Acme NV",
        customer_name="Example BV",
        amount_due=Decimal("1210.00"),
        currency="EUR",
        invoice_date=today,
        due_date=today + timedelta(days=30),
        payment_url="https://collector.example/pay/sample",
        payment_reference="+++090/9337/55493+++",
        has_pdf=True,
    )
    debit = letters.DirectDebitFacts(Decimal("1210.00"), today, "M-1", "BE** 0001", "BE00ZZZ0")
    with_debit = replace(facts, direct_debit=debit, due_date=None)
    return [values_of(facts, language, 7), values_of(with_debit, language, None)]


def sample_values(language: str) -> dict:
    """Made-up values, for a preview when the profile has no document yet."""
    return _samples(language)[0]


def render(subject: str, body: str, values: dict, language: str) -> letters.Letter:
    """The mail ``subject`` and ``body`` make for ``values``: the text as written, and
    the HTML with every value escaped and the payment link clickable."""
    text_env, html_env = _environment(False), _environment(True)
    subject_text = letters._flatten(text_env.from_string(subject).render(values))  # noqa: SLF001
    text = _tidy(text_env.from_string(body).render(values)) + "\n"
    link = values["payment_link"]
    html_values = {**values, "payment_link": Markup('<a href="{0}">{0}</a>').format(link)}
    if values.get("new_mandate_link"):
        html_values["new_mandate_link"] = Markup('<a href="{0}">{0}</a>').format(
            values["new_mandate_link"]
        )
    html_body = html_env.from_string(body).render(html_values)
    # The body came out of autoescape, with ``safe`` taken away: every value in it is
    # escaped already, so its lines are markup as they are.
    paragraphs = [
        Markup("<br>\n").join(Markup(line) for line in block.split("\n"))  # noqa: S704
        for block in _tidy(str(html_body)).split("\n\n")
    ]
    html = letters.edited_html(subject_text, paragraphs, language)
    return letters.Letter(subject=subject_text, text=text, html=html)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


# -- the stored texts ---------------------------------------------------------------------


def stored_text(profile_id: int, slot: str, language: str) -> MailText | None:
    """The team's text for this profile, slot and language, if they edited one."""
    query = sa.select(MailText).filter_by(profile_id=profile_id, slot=slot, language=language)
    return db.session.scalars(query).first()


def save_text(
    profile_id: int, slot: str, step_id: int | None, language: str, data: dict, actor: str
) -> MailText:
    """Check and store the team's text (``subject``, ``body``); raises ``Invalid`` and
    stores nothing when it would not make a mail. Commits."""
    subject, body = data["subject"].strip(), data["body"].replace("\r\n", "\n").strip()
    check(subject, body, language)
    row = stored_text(profile_id, slot, language) or MailText(
        profile_id=profile_id, slot=slot, step_id=step_id, language=language
    )
    fields = [
        name for name, new in (("subject", subject), ("body", body)) if getattr(row, name) != new
    ]
    row.subject, row.body, row.updated_by = subject, body, actor[:128]
    db.session.add(row)
    if fields:
        audit.record(
            "mail_text.changed",
            target=f"profile:{profile_id}",
            details={"slot": slot, "language": language, "fields": fields, "subject": subject},
        )
    db.session.commit()
    return row


def reset_text(profile_id: int, slot: str, language: str) -> bool:
    """Back to the default text: the edited one is deleted. Commits."""
    row = stored_text(profile_id, slot, language)
    if row is not None:
        db.session.delete(row)
        audit.record(
            "mail_text.reset",
            target=f"profile:{profile_id}",
            details={"slot": slot, "language": language},
        )
        db.session.commit()
    return row is not None
