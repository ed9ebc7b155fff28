"""Online mandate signing (issue 24, part 1): a customer signs a SEPA mandate on their
own unguessable page, in their language; we keep the text they saw, when, from where and
who signed, assign the reference by the documented rule, keep the PDF with the customer
and mail them a copy; they can revoke it from the same page."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from collector.accounts import creditor
from collector.accounts.models import AuditEvent
from collector.core import clock as core_clock
from collector.direct_debit import mandate_text, mandates, signing
from collector.direct_debit.models import (
    Mandate,
    MandateScheme,
    MandateSignature,
    MandateStatus,
    SigningLink,
)
from collector.documents import timeline
from collector.documents.models import CustomerKind, InvoiceEvent
from collector.extensions import db
from collector.mail import jobs as mail_jobs
from collector.mail.models import MailMessage
from collector.runtime import setup as runtime_setup
from collector.runtime.models import JobRun
from tests.conftest import csrf_token, login
from tests.support.factories import make_customer, make_invoice, make_mandate, make_profile

PUBLIC = "https://pay.example.com"
IBAN = "BE71 0961 2345 6769"  # a valid Belgian IBAN (Belfius): schwifty derives its BIC
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"
CUSTOMER_IP = "203.0.113.7"


@pytest.fixture
def payee(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)  # put back after the test
    return creditor.update(
        "Acme NV",
        "BE71 0961 2345 6769",
        "GKCCBEBB",
        "BE69ZZZ050D000000008",
        address="Kerkstraat 1\n9000 Gent",
    )


@pytest.fixture
def customer(payee):
    profile = make_profile(allow_direct_debit=True)
    return make_customer(language="en", profile=profile, kind=CustomerKind.COMPANY)


def page_of(client, customer, query: str = "", **headers):
    url = signing.link_for(customer).removeprefix(PUBLIC)
    return client.get(url + query, headers=headers)


def form_of(body: str) -> dict:
    """The hidden fields of the signing form as the page wrote them."""
    found = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', body)
    return {name: html.unescape(value) for name, value in found}


def shown_text(body: str) -> str:
    """The mandate text as the page shows it, paragraphs separated by an empty line."""
    section = re.search(r'<section class="mandate-text".*?</section>', body, re.S).group()
    parts = re.findall(r"<h2>(.*?)</h2>|<p>(.*?)</p>", section, re.S)
    paragraphs = [title or paragraph for title, paragraph in parts]
    return "\n\n".join(html.unescape(p.replace("<br>", "\n")) for p in paragraphs)


def filled(body: str, client=None, **overrides) -> dict:
    data = {
        "csrf_token": csrf_token(client) if client is not None else "",
        **form_of(body),
        "account_holder": "Customer Holder",
        "iban": IBAN,
        "street": "Stationsstraat 12",
        "postal_code": "2000",
        "city": "Antwerpen",
        "country": "BE",
        "signatory": "Jan Peeters",
        "email": "jan@customer.example",
        "consent": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def sign(client, customer, query: str = "", **overrides):
    body = page_of(client, customer, query).get_data(as_text=True)
    url = signing.link_for(customer).removeprefix(PUBLIC)
    return client.post(
        f"{url}/sign{query}",
        data=filled(body, client, **overrides),
        headers={"User-Agent": BROWSER},
        environ_base={"REMOTE_ADDR": CUSTOMER_IP},
    )


def nothing_written():
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(MandateSignature.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(InvoiceEvent.id))) == 0


# -- the link ------------------------------------------------------------------------------


def test_the_link_is_one_unguessable_token_per_customer(app, customer):
    first = signing.link_for(customer)
    assert first == signing.link_for(customer)  # made once, then the same
    token = first.rsplit("/", 1)[1]
    assert first == f"{PUBLIC}/mandate/{token}"
    assert len(token) == 43 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    other = signing.link_for(make_customer())
    assert other != first
    assert db.session.scalar(sa.select(sa.func.count(SigningLink.id))) == 2


def test_a_wrong_or_malformed_token_is_the_same_plain_404(app, client, customer):
    token = signing.link_for(customer).rsplit("/", 1)[1]
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in (wrong, "x", token + "A", "../../etc", wrong + "/revoke"):
        response = client.get(f"/mandate/{path}")
        assert response.status_code == 404, path
        assert customer.name not in response.get_data(as_text=True)
    assert client.post(f"/mandate/{wrong}/sign", data={}).status_code in (400, 404)
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 0


def test_the_page_has_the_payment_pages_headers_and_no_login(app, client, customer):
    response = page_of(client, customer)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


# -- the text, in three languages --------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("Direct debit mandate", "refund", "8 weeks", "Sign")),
        ("nl", ("Domiciliëringsmandaat", "terugbetaald", "8 weken", "Ondertekenen")),
        ("fr", ("Mandat de domiciliation", "remboursement", "8 semaines", "Signer")),
    ],
)
def test_the_page_speaks_nl_fr_and_en_with_the_creditors_details(
    app, client, customer, lang, words
):
    body = page_of(client, customer, f"?lang={lang}").get_data(as_text=True)
    for word in words:
        assert word in body, word
    assert "Acme NV" in body and "BE69ZZZ050D000000008" in body
    assert "Kerkstraat 1, 9000 Gent" in body
    reference = f"M-{customer.id}-{core_clock.local_today():%Y%m%d}-1"
    assert reference in body
    # The language links keep the page and its scheme.
    assert "?lang=nl" in body.replace("&amp;", "&") or "lang=nl" in body


def test_the_core_text_has_what_the_rulebook_asks_and_b2b_says_no_refund():
    facts = mandate_text.MandateFacts("Acme NV", "Gent", "BE69ZZZ050D000000008", "M-1", "CORE", 14)
    core = mandate_text.text(facts, "en")
    assert "authorise Acme NV to send instructions to your bank" in core
    assert "your bank to debit your account" in core
    assert "within 8 weeks from the date on which your account was debited" in core
    assert "statement that you can obtain from your bank" in core
    assert "Creditor identifier: BE69ZZZ050D000000008" in core and "M-1" in core
    b2b = mandate_text.text(facts.__class__(**{**facts.__dict__, "scheme": "B2B"}), "en")
    assert "not entitled to a refund" in b2b and "8 weeks" not in b2b
    for language in ("nl", "fr"):
        assert "8 " in mandate_text.text(facts, language)
        assert mandate_text.text(facts, language) != core


# -- signing -----------------------------------------------------------------------------


def test_signing_records_the_mandate_and_its_evidence(app, client, customer):
    invoice = make_invoice(customer=customer, profile=customer.profile)
    body = page_of(client, customer, "?lang=fr").get_data(as_text=True)
    seen = shown_text(body)
    url = signing.link_for(customer).removeprefix(PUBLIC)
    response = client.post(
        f"{url}/sign?lang=fr",
        data=filled(body),
        headers={"User-Agent": BROWSER},
        environ_base={"REMOTE_ADDR": CUSTOMER_IP},
    )
    assert response.status_code == 303
    assert "signed=1" in response.headers["Location"]

    mandate = db.session.scalars(sa.select(Mandate)).one()
    assert mandate.reference == f"M-{customer.id}-{core_clock.local_today():%Y%m%d}-1"
    assert mandate.status == MandateStatus.ACTIVE and mandate.sequence_type == "FRST"
    assert mandate.scheme == MandateScheme.CORE
    assert (mandate.customer_id, mandate.profile_id) == (customer.id, customer.profile_id)
    assert mandate.iban == "BE71096123456769" and mandate.bic == "GKCCBEBB"
    assert mandate.debtor_name == "Customer Holder"
    assert mandates.active_mandate(customer.id, customer.profile_id) == mandate

    signature = db.session.scalars(sa.select(MandateSignature)).one()
    assert signature.mandate_text == seen  # verbatim what the page showed
    assert signature.language == "fr"
    assert "Mandat de domiciliation européenne (SEPA Core)" in signature.mandate_text
    assert signature.ip_address == CUSTOMER_IP and signature.user_agent == BROWSER
    assert signature.signed_at == core_clock.now()
    assert signature.signatory_name == "Jan Peeters"
    assert signature.signatory_email == "jan@customer.example"
    assert signature.debtor_address == "Stationsstraat 12\n2000 Antwerpen\nBE"
    assert signature.creditor_id == creditor.default().id
    pdf = runtime_setup.document_store(app).get(signature.pdf_key)
    assert pdf.startswith(b"%PDF-")

    # The team reads it on the open document's timeline.
    event = db.session.scalars(
        sa.select(InvoiceEvent).where(InvoiceEvent.invoice_id == invoice.id)
    ).one()
    assert event.kind == timeline.MANDATE_SIGNED and event.actor == signing.ACTOR

    # The confirmation page shows the mandate and its PDF, in the customer's language.
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert mandate.reference in done and "BE71 0961 2345 6769" in done
    link = re.search(r'id="mandate-pdf" href="([^"]+)"', done).group(1)
    download = client.get(html.unescape(link))
    assert download.status_code == 200 and download.data == pdf
    assert download.mimetype == "application/pdf"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"iban": "BE68 5390 0754 7035"}, "iban"),  # check digits wrong
        ({"iban": "TR33 0006 1005 1978 6457 8413 26"}, "iban"),  # valid, outside SEPA
        ({"iban": ""}, "iban"),
        ({"consent": None}, "consent"),
        ({"email": "not-an-address"}, "email"),
        ({"signatory": " "}, "signatory"),
        ({"country": "US"}, "country"),
        ({"scheme": "B2B"}, "scheme"),  # the profile does not allow B2B
    ],
)
def test_a_refused_form_says_why_and_writes_nothing(app, client, customer, overrides, field):
    make_invoice(customer=customer, profile=customer.profile)
    response = sign(client, customer, **overrides)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert f'data-field="{field}"' in body
    nothing_written()
    # What was typed is kept, so the customer corrects rather than retypes.
    assert "Stationsstraat 12" in body


def test_outside_sepa_is_said_in_plain_words(app, client, customer):
    body = sign(client, customer, iban="TR330006100519786457841326").get_data(as_text=True)
    assert "outside SEPA" in body


def test_b2b_is_offered_only_where_the_profile_allows_it_and_to_companies(app, client, payee):
    allowed = make_profile(allow_direct_debit=True, allow_b2b_mandates=True)
    company = make_customer(language="en", profile=allowed, kind=CustomerKind.COMPANY)
    person = make_customer(language="en", profile=allowed, kind=CustomerKind.CONTACT)
    assert signing.schemes_for(company) == ("CORE", "B2B")
    assert signing.schemes_for(person) == ("CORE",)
    assert 'id="scheme-b2b"' not in page_of(client, person).get_data(as_text=True)

    response = sign(client, company, "?scheme=B2B", scheme="B2B")
    assert response.status_code == 303
    mandate = db.session.scalars(sa.select(Mandate)).one()
    assert mandate.scheme == MandateScheme.B2B
    signature = db.session.scalars(sa.select(MandateSignature)).one()
    assert "not entitled to a refund" in signature.mandate_text

    assert sign(client, person, scheme="B2B").status_code == 400


def test_a_profile_without_direct_debit_offers_nothing_to_sign(app, client, payee):
    customer = make_customer(language="en", profile=make_profile(allow_direct_debit=False))
    body = page_of(client, customer).get_data(as_text=True)
    assert 'id="not-offered"' in body and 'id="sign-form"' not in body
    assert sign(client, customer).status_code == 409
    nothing_written()


def test_a_text_that_changed_since_it_was_shown_is_shown_again(app, client, customer):
    body = page_of(client, customer).get_data(as_text=True)
    creditor.update("Acme Group NV", "BE71 0961 2345 6769", "GKCCBEBB", "BE69ZZZ050D000000008")
    url = signing.link_for(customer).removeprefix(PUBLIC)
    response = client.post(f"{url}/sign", data=filled(body))
    assert response.status_code == 409
    assert "Acme Group NV" in response.get_data(as_text=True)
    nothing_written()


# -- the reference ------------------------------------------------------------------------


def test_the_reference_follows_the_rule_and_skips_taken_ones(app, client, customer, clock):
    today = core_clock.local_today()
    prefix = f"M-{customer.id}-{today:%Y%m%d}-"
    # An uploaded mandate (on another profile) took the first number in another case.
    make_mandate(customer=customer, reference=(prefix + "1").lower())
    assert signing.next_reference(customer) == prefix + "2"
    assert sign(client, customer).status_code == 303
    mandate = mandates.active_mandate(customer.id, customer.profile_id)
    assert mandate.reference == prefix + "2"
    assert len(mandate.reference) <= 35 and mandates.reference_problem(mandate.reference) is None
    # A mandate signed another day starts that day's numbers.
    clock.advance(days=1)
    later = signing.next_reference(customer)
    assert later == f"M-{customer.id}-{today + timedelta(days=1):%Y%m%d}-1"


def test_a_second_signature_is_refused_while_a_mandate_is_active(app, client, customer):
    assert sign(client, customer).status_code == 303
    body = page_of(client, customer).get_data(as_text=True)
    assert 'id="sign-form"' not in body and 'id="revoke-link"' in body
    url = signing.link_for(customer).removeprefix(PUBLIC)
    response = client.post(f"{url}/sign", data=filled(body, client, reference="x", digest="y"))
    assert response.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 1


# -- the copy by mail ----------------------------------------------------------------------


@pytest.fixture
def mailing(app, smtp_server, monkeypatch):
    """Mail to the SMTP test server; the app's settings are put back afterwards (the app
    outlives the test)."""
    for name, value in (
        ("MAIL_HOST", smtp_server.host),
        ("MAIL_PORT", smtp_server.port),
        ("MAIL_SECURITY", "none"),
        ("MAIL_FROM", "billing@collector.example"),
    ):
        monkeypatch.setitem(app.config, name, value)
    return smtp_server


def test_the_signatory_gets_a_copy_with_the_pdf(app, client, customer, mailing, smtp_server):
    assert sign(client, customer, "?lang=nl").status_code == 303
    signature = db.session.scalars(sa.select(MandateSignature)).one()
    mail_jobs.send_mandate_copy(signature.id)

    (message,) = smtp_server.messages
    assert message["To"] == "jan@customer.example"
    assert signature.mandate.reference in message["Subject"]
    assert "domiciliëringsmandaat" in message["Subject"].lower()
    text = message.get_body(("plain",)).get_content()
    assert signing.link_for(customer) in text
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    stored = runtime_setup.document_store(app).get(signature.pdf_key)
    assert attachment.get_content() == stored
    row = db.session.scalars(sa.select(MailMessage)).one()
    assert row.kind == "mandate_copy"
    # The job run again (its worker stopped after sending) sends no second copy.
    mail_jobs.send_mandate_copy(signature.id)
    assert len(smtp_server.messages) == 1


# -- revoking ------------------------------------------------------------------------------


def test_the_customer_revokes_from_the_same_page_after_confirming(app, client, customer):
    invoice = make_invoice(customer=customer, profile=customer.profile)
    assert sign(client, customer).status_code == 303
    mandate = mandates.active_mandate(customer.id, customer.profile_id)
    url = signing.link_for(customer).removeprefix(PUBLIC)

    confirm = client.get(f"{url}/revoke")
    assert confirm.status_code == 200
    body = confirm.get_data(as_text=True)
    assert mandate.reference in body and 'id="revoke-button"' in body
    assert mandates.active_mandate(customer.id, customer.profile_id) == mandate  # not yet

    response = client.post(
        f"{url}/revoke",
        data={**form_of(body)},
        headers={"User-Agent": BROWSER},
        environ_base={"REMOTE_ADDR": CUSTOMER_IP},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert mandate.status == MandateStatus.REVOKED
    assert signing.REVOKED_REASON in mandate.status_reason
    assert mandates.active_mandate(customer.id, customer.profile_id) is None
    signature = signing.signature_of(mandate.id)
    assert signature.revoked_at == core_clock.now()
    assert signature.revoked_ip_address == CUSTOMER_IP
    kinds = db.session.scalars(
        sa.select(InvoiceEvent.kind).where(InvoiceEvent.invoice_id == invoice.id)
    ).all()
    assert timeline.MANDATE_REVOKED in kinds
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="revoked-notice"' in shown and 'id="sign-form"' in shown  # may sign anew


def test_a_mandate_of_another_customer_cannot_be_revoked_here(app, client, customer):
    other = make_mandate()
    url = signing.link_for(customer).removeprefix(PUBLIC)
    client.get(url)
    body = client.get(url).get_data(as_text=True)
    response = client.post(
        f"{url}/revoke", data={"csrf_token": form_of(body)["csrf_token"], "mandate_id": other.id}
    )
    assert response.status_code == 409
    db.session.expire_all()
    assert other.status == MandateStatus.ACTIVE


def test_the_pdf_of_another_customers_mandate_is_not_served(app, client, customer):
    assert sign(client, customer).status_code == 303
    signature = db.session.scalars(sa.select(MandateSignature)).one()
    stranger = make_customer(profile=customer.profile)
    url = signing.link_for(stranger).removeprefix(PUBLIC)
    assert client.get(f"{url}/mandate-{signature.mandate_id}.pdf").status_code == 404


# -- where the link is offered -------------------------------------------------------------


def test_the_payment_page_offers_the_mandate_until_one_is_signed(app, client, customer):
    invoice = make_invoice(customer=customer, profile=customer.profile)
    body = client.get(f"/pay/{invoice.payment_token}").get_data(as_text=True)
    link = signing.link_for(customer).removeprefix(PUBLIC)
    assert f'id="sign-mandate-link" href="{link}"' in body
    assert sign(client, customer).status_code == 303
    body = client.get(f"/pay/{invoice.payment_token}").get_data(as_text=True)
    assert 'id="sign-mandate-link"' not in body


def test_no_offer_where_the_profile_does_not_debit(app, client, payee):
    profile = make_profile(allow_direct_debit=False)
    invoice = make_invoice(customer=make_customer(language="en", profile=profile), profile=profile)
    body = client.get(f"/pay/{invoice.payment_token}").get_data(as_text=True)
    assert 'id="sign-mandate-link"' not in body
    assert db.session.scalar(sa.select(sa.func.count(SigningLink.id))) == 0


def test_an_admin_makes_and_mails_the_link_from_the_customers_page(
    app, admin_client, customer, mailing, smtp_server
):
    page = admin_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert 'id="make-signing-link"' in page and 'id="signing-url"' not in page
    token = csrf_token(admin_client, f"/customers/{customer.id}")
    response = admin_client.post(
        f"/mandates/signing-link/{customer.id}", data={"csrf_token": token}
    )
    assert response.status_code == 302
    page = admin_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert f'id="signing-url">{signing.link_for(customer)}</code>' in page
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "mandate.signing_link" in actions

    response = admin_client.post(
        f"/mandates/signing-link/{customer.id}/send", data={"csrf_token": token}
    )
    assert response.status_code == 302
    run = db.session.scalars(sa.select(JobRun).where(JobRun.name == "send_signing_link")).one()
    assert run.args == [customer.id]
    assert "mandate.signing_link_sent" in db.session.scalars(sa.select(AuditEvent.action)).all()
    mail_jobs.send_signing_link(customer.id)
    (message,) = smtp_server.messages
    assert message["To"] == customer.email
    assert signing.link_for(customer) in message.get_body(("plain",)).get_content()


def test_a_viewer_cannot_make_the_link(app, viewer_client, customer):
    token = csrf_token(viewer_client, f"/customers/{customer.id}")
    response = viewer_client.post(
        f"/mandates/signing-link/{customer.id}", data={"csrf_token": token}
    )
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(SigningLink.id))) == 0


def test_the_team_sees_the_signature_and_downloads_its_pdf(app, client, viewer, customer):
    assert sign(client, customer).status_code == 303
    signature = db.session.scalars(sa.select(MandateSignature)).one()
    login(client, viewer.email)
    page = client.get(f"/mandates/{signature.mandate_id}").get_data(as_text=True)
    assert 'id="signature"' in page and CUSTOMER_IP in page and BROWSER in page
    assert "Jan Peeters" in page
    response = client.get(f"/mandates/{signature.mandate_id}/signed.pdf")
    assert response.status_code == 200
    assert response.data == runtime_setup.document_store(app).get(signature.pdf_key)
