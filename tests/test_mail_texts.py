"""Mail texts the team edits: the defaults are today's letters, an edited text is the one
the customer gets in their language, markup in a value stays text, a bad template is
refused with nothing saved; and the editor's pages (steps, text, preview, reset)."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collector.core.errors import Invalid
from collector.core.storage import FolderStore
from collector.dunning.models import INVITATION_SLOT, DunningStep, MailText, StepKind, step_slot
from collector.extensions import db
from collector.mail import invitations, letters, reminders, texts
from collector.mail.smtp import SmtpMailer
from tests.conftest import csrf_token
from tests.support.factories import make_customer, make_invoice, make_profile

FACTS = letters.DocumentFacts(
    number="2026/0042",
    creditor="Acme NV",
    customer_name="Dupont & Fils",
    amount_due=Decimal("1234.50"),
    currency="EUR",
    invoice_date=letters.date(2026, 11, 2),
    due_date=letters.date(2026, 12, 2),
    payment_url="https://collector.example/pay/tok",
    payment_reference="+++090/9337/55493+++",
    has_pdf=True,
)
FR_SUBJECT = "Relance {{ number }} — {{ creditor_name }}"
FR_BODY = (
    "Bonjour {{ customer_name }},\n\nPayez {{ amount_due }} ici : {{ payment_link }}\n\n"
    "Communication : {{ structured_reference }}"
)


@pytest.mark.parametrize("language", letters.LANGUAGES)
@pytest.mark.parametrize("slot", [INVITATION_SLOT, "step:1"])
def test_the_default_texts_say_what_todays_letters_say(app, language, slot):
    subject, body = texts.default_text(slot, language)
    days = None if slot == INVITATION_SLOT else 7
    letter = texts.render(subject, body, texts.values_of(FACTS, language, days), language)
    today = (
        letters.invitation(FACTS, language)
        if days is None
        else letters.reminder(FACTS, language, days)
    )
    assert letter.subject == today.subject
    assert letter.text.split() == today.text.split()


def test_a_value_with_markup_stays_text_in_the_html(app):
    facts = letters.DocumentFacts(**{**FACTS.__dict__, "customer_name": "<b>Evil</b>"})
    subject, body = texts.default_text(INVITATION_SLOT, "en")
    letter = texts.render(subject, body, texts.values_of(facts, "en", None), "en")
    assert "<b>Evil</b>" not in letter.html and "&lt;b&gt;Evil&lt;/b&gt;" in letter.html
    assert '<a href="https://collector.example/pay/tok">' in letter.html
    assert "Dear <b>Evil</b>," in letter.text  # the plain text is text


@pytest.mark.parametrize(
    ("subject", "body", "field", "says"),
    [
        ("Hi", "{{ payment_link }}", "body", "structured_reference"),
        ("Hi", "{{ structured_reference }}", "body", "payment_link"),
        ("Hi {{ number", FR_BODY, "subject", "does not parse"),
        ("Hi", FR_BODY + "{% if %}", "body", "does not parse"),
        ("Hi {{ iban }}", FR_BODY, "subject", "Unknown variable: iban"),
        ("Hi", FR_BODY + "{{ payment_link.__class__ }}", "body", "cannot be rendered"),
        ("Hi", FR_BODY + "{{ customer_name | safe }}", "body", "No filter named 'safe'"),
        ("", FR_BODY, "subject", "Required"),
    ],
)
def test_a_bad_template_is_refused_and_nothing_is_saved(app, subject, body, field, says):
    profile = make_profile()
    with pytest.raises(Invalid) as refused:
        texts.save_text(
            profile.id, INVITATION_SLOT, None, "fr", {"subject": subject, "body": body}, "t"
        )
    assert says in " ".join(refused.value.errors[field])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MailText)) == 0


def test_the_edited_text_goes_out_in_the_customers_language(app, clock, smtp_server, tmp_path):
    profile = make_profile(steps=[(StepKind.REMINDER, 3)])
    [step] = profile.dunning_steps
    texts.save_text(
        profile.id, step_slot(step.id), step.id, "fr", {"subject": FR_SUBJECT, "body": FR_BODY}, "t"
    )
    due = clock.today() - timedelta(days=3)
    french = make_invoice(profile=profile, due_date=due, customer=make_customer(language="fr"))
    dutch = make_invoice(profile=profile, due_date=due, customer=make_customer(language="nl"))
    postman = invitations.Postman(
        mailer=SmtpMailer(smtp_server.host, smtp_server.port, "none"),
        sender="billing@acme.example",
        store=FolderStore(tmp_path),
        payment_base_url="https://collector.example/pay/",
        creditors={},
    )
    clock.set_local(clock.today(), time(6))
    reminders.queue_reminders(clock.today())
    for mail_id in invitations.deliverable(clock.now()):
        invitations.deliver(mail_id, postman, clock.now())

    by_number = {m["Subject"]: m for m in smtp_server.messages}
    [fr] = [m for s, m in by_number.items() if s.startswith(f"Relance {french.number}")]
    text = fr.get_body(("plain",)).get_content()
    assert f"https://collector.example/pay/{french.payment_token}" in text
    assert "Communication :" in text
    [nl] = [m for s, m in by_number.items() if dutch.number in s]
    assert nl["Subject"].startswith("Herinnering: factuur")


def test_reset_goes_back_to_the_default(app):
    profile = make_profile()
    data = {"subject": FR_SUBJECT, "body": FR_BODY}
    texts.save_text(profile.id, INVITATION_SLOT, None, "fr", data, "t")
    assert texts.reset_text(profile.id, INVITATION_SLOT, "fr")
    assert texts.stored_text(profile.id, INVITATION_SLOT, "fr") is None


# -- the pages ----------------------------------------------------------------------------


def post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def test_the_steps_editor_saves_and_refuses(admin_client, app):
    profile = make_profile(reminder_days=[7])
    path = f"/profiles/{profile.id}/dunning/"
    page = admin_client.get(path).get_data(as_text=True)
    assert 'data-slot="invitation"' in page

    rows = {
        "steps-0-kind": "reminder",
        "steps-0-days": "3",
        "steps-1-kind": "final_notice",
        "steps-1-days": "30",
        "steps-2-kind": "hand_off",
        "steps-2-days": "45",
    }
    assert post(admin_client, path, rows).status_code == 302
    steps = db.session.scalars(sa.select(DunningStep).filter_by(profile_id=profile.id)).all()
    assert sorted(((s.kind, s.days) for s in steps), key=lambda s: s[1]) == [
        (StepKind.REMINDER, 3),
        (StepKind.FINAL_NOTICE, 30),
        (StepKind.HAND_OFF, 45),
    ]

    bad = {
        "steps-0-kind": "hand_off",
        "steps-0-days": "3",
        "steps-1-kind": "reminder",
        "steps-1-days": "9",
    }
    response = post(admin_client, path, bad)
    assert response.status_code == 400
    assert "One hand-off at most, as the last step." in response.get_data(as_text=True)
    db.session.expire_all()
    assert (
        len(db.session.scalars(sa.select(DunningStep).filter_by(profile_id=profile.id)).all()) == 3
    )


def test_the_text_editor_previews_saves_refuses_and_resets(admin_client, app):
    profile = make_profile(reminder_days=[7])
    invoice = make_invoice(profile=profile, customer=make_customer(name="<i>Client</i>"))
    [step] = profile.dunning_steps
    path = f"/profiles/{profile.id}/dunning/texts/step-{step.id}/fr"
    page = admin_client.get(path).get_data(as_text=True)
    assert "{{ payment_link }}" in page  # the default, as a template

    shown = post(admin_client, path, {"subject": FR_SUBJECT, "body": FR_BODY, "action": "preview"})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "data-preview" in html
    assert f"/pay/{invoice.payment_token}" in html and "&lt;i&gt;Client&lt;/i&gt;" in html
    assert (
        texts.stored_text(profile.id, step_slot(step.id), "fr") is None
    )  # a preview saves nothing

    refused = post(
        admin_client, path, {"subject": "x", "body": "{{ payment_link }}", "action": "save"}
    )
    assert refused.status_code == 400
    assert "structured_reference" in refused.get_data(as_text=True)
    assert texts.stored_text(profile.id, step_slot(step.id), "fr") is None

    assert (
        post(
            admin_client, path, {"subject": FR_SUBJECT, "body": FR_BODY, "action": "save"}
        ).status_code
        == 302
    )
    assert texts.stored_text(profile.id, step_slot(step.id), "fr").subject == FR_SUBJECT

    reset = admin_client.post(f"{path}/reset", data={"csrf_token": csrf_token(admin_client, path)})
    assert reset.status_code == 302
    db.session.expire_all()
    assert texts.stored_text(profile.id, step_slot(step.id), "fr") is None


def test_a_viewer_cannot_change_texts(viewer_client, app):
    profile = make_profile()
    path = f"/profiles/{profile.id}/dunning/texts/invitation/nl"
    assert viewer_client.get(path).status_code == 200
    response = viewer_client.post(path, data={"subject": "x", "body": "y", "action": "save"})
    assert response.status_code in (400, 403)
    assert texts.stored_text(profile.id, INVITATION_SLOT, "nl") is None
