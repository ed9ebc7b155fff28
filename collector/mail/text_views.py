"""The mail texts of a profile, per dunning step (and the invitation) and language: the
editor, the preview against a real document, the reset to the default."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from collector.core.errors import Invalid
from collector.documents.models import Invoice, Profile
from collector.dunning.models import INVITATION_SLOT, DunningStep, step_slot
from collector.dunning.models.texts import MANDATE_UNUSABLE_SLOT
from collector.dunning.views import LANGUAGE_NAMES
from collector.extensions import db
from collector.mail import setup as mail_setup
from collector.mail import text_preview, texts
from collector.mail.forms import MailTextForm
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import confirmed, content_security_policy, protect, saved
from collector.runtime.wordings import Wordings
from collector.runtime.wordings import known as _l
from collector.teamleader.connection import department_names

bp = protect(
    Blueprint("mail_texts", __name__, url_prefix="/profiles/<int:profile_id>/dunning/texts")
)

REFUSALS = Wordings(
    _l("Required."),
    _l("At most %(count)s characters."),
    _l("The text must use %(names)s."),
    _l("Unknown variable: %(names)s."),
    _l("The template does not parse (line %(line)s): %(error)s."),
    _l("The text cannot be rendered: %(error)s."),
)
# Kept out of the template: its braces are the text, not Jinja's.
BODY_HINT = lazy_gettext(
    "Write {{ name }} for a variable, and {% if name %}…{% endif %} for a part that depends "
    "on one. Blank lines separate paragraphs."
)
# The URL slot of the mail to a customer whose mandate a failed debit made unusable.
MANDATE_UNUSABLE_URL = "mandate-unusable"
VARIABLE_HELP = {name: lazy_gettext(text) for name, text in texts.VARIABLES.items()}


@bp.route("/<slot>/<any(nl, fr, en):language>", methods=["GET", "POST"])
def text(profile_id: int, slot: str, language: str):
    profile = db.get_or_404(Profile, profile_id)
    step = _step_of(profile, slot)
    stored_slot = _stored_slot(slot, step)
    stored = texts.stored_text(profile.id, stored_slot, language)
    form = MailTextForm()
    if not form.is_submitted():
        subject, body = (
            (stored.subject, stored.body) if stored else texts.default_text(stored_slot, language)
        )
        form.subject.data, form.body.data = subject, body
    documents = text_preview.documents_for(profile.id)
    invoice = _chosen(documents)
    shown = None
    if form.validate_on_submit():
        if request.form.get("action") == "save":
            save = _translated(
                lambda data: texts.save_text(
                    profile.id,
                    stored_slot,
                    step.id if step else None,
                    language,
                    data,
                    f"user:{current_user.email}",
                )
            )
            if saved(form, save):
                flash(_("Text saved."), "success")
                return redirect(request.full_path)
        else:
            shown = _preview(form, language, step, invoice)
    page = render_template(
        "mail/text.html",
        profile=profile,
        step=step,
        slot=slot,
        mandate_unusable=slot == MANDATE_UNUSABLE_URL,
        language=language,
        language_names=LANGUAGE_NAMES,
        form=form,
        stored=stored,
        documents=documents,
        invoice=invoice,
        preview=shown,
        variables=VARIABLE_HELP,
        body_hint=BODY_HINT,
        reset=ConfirmForm(),
    )
    status = 400 if form.errors else 200
    # The preview's HTML sits in a sandboxed srcdoc frame, styled inline (as the outbox).
    return page, status, {"Content-Security-Policy": content_security_policy(inline_styles=True)}


@bp.post("/<slot>/<any(nl, fr, en):language>/reset")
def reset(profile_id: int, slot: str, language: str):
    profile = db.get_or_404(Profile, profile_id)
    step = _step_of(profile, slot)
    back = url_for("mail_texts.text", profile_id=profile.id, slot=slot, language=language)
    if confirmed():
        texts.reset_text(profile.id, _stored_slot(slot, step), language)
        flash(_("Back to the default text."), "success")
    return redirect(back)


def _preview(form: MailTextForm, language: str, step, invoice):
    base = mail_setup.payment_base_url(current_app)
    try:
        return text_preview.preview(
            form.to_data(), language, step, invoice, base, department_names()
        )
    except Invalid as exc:
        for name, messages in exc.errors.items():
            form[name].errors = list(form[name].errors) + [REFUSALS(m) for m in messages]
        return None


def _translated(save):
    """``save``, its refusals put in the reader's language."""

    def wrapped(data):
        try:
            return save(data)
        except Invalid as exc:
            errors = {name: [REFUSALS(m) for m in ms] for name, ms in exc.errors.items()}
            raise Invalid(errors, str(exc)) from exc

    return wrapped


def _stored_slot(slot: str, step: DunningStep | None) -> str:
    """The slot a text is stored under for the URL's ``slot``."""
    if step is not None:
        return step_slot(step.id)
    return MANDATE_UNUSABLE_SLOT if slot == MANDATE_UNUSABLE_URL else INVITATION_SLOT


def _step_of(profile: Profile, slot: str) -> DunningStep | None:
    if slot in ("invitation", MANDATE_UNUSABLE_URL):
        return None
    found = [s for s in profile.dunning_steps if f"step-{s.id}" == slot and s.sends_mail]
    if not found:
        abort(404)
    return found[0]


def _chosen(documents: list[Invoice]) -> Invoice | None:
    wanted = request.values.get("invoice_id", "")
    for invoice in documents:
        if str(invoice.id) == wanted:
            return invoice
    return documents[0] if documents else None


BLUEPRINTS = (bp,)
