"""Issue 24's "done when" for part 1, end to end without a browser: the customer follows
the invitation's link, signs a mandate online, and the next collection run takes their
open invoice as FRST; the sandbox bank answers the pain.008 with a camt.054 that marks
it paid. Nobody on the team touches it. (tests/browser/test_mandate_signing_browser.py
walks the same way in Chromium.)"""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from collector.accounts import creditor
from collector.core import clock as core_clock
from collector.direct_debit import bank_files, collection_runs, mandates, signing
from collector.direct_debit.models import Collection, CollectionStatus, Mandate
from collector.documents.models import CustomerKind, InvoiceState
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.mail import invitations
from collector.mail import jobs as mail_jobs
from collector.runtime import setup as runtime_setup
from sandbox import bank
from tests.support import sepa
from tests.support.factories import make_customer, make_invoice
from tests.support.sepa import sequence_types
from tests.test_mandate_signing import filled

PUBLIC = "https://pay.collector.example"
CREDITOR_IBAN = "BE62 5100 0754 7061"
SCHEMA = sepa.schema()


def test_from_the_invitation_to_a_signed_mandate_to_paid_by_the_next_run(
    app, client, smtp_server, monkeypatch
):
    for name, value in dict(
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
        MAIL_FROM="billing@collector.example",
        PUBLIC_BASE_URL=PUBLIC,
    ).items():
        monkeypatch.setitem(app.config, name, value)  # put back after the test
    creditor.update(
        "Acme NV", CREDITOR_IBAN, "VAPEBE22", "BE69ZZZ050D000000008", address="Kerkstraat 1"
    )
    profile = create_profile({"name": "Direct debit", "allow_direct_debit": True})
    customer = make_customer(language="nl", profile=profile, kind=CustomerKind.COMPANY)
    today = core_clock.local_today()
    invoice = make_invoice(customer=customer, profile=profile, invoice_date=today, due_date=today)

    # 1. The invitation: no mandate yet, so it offers to sign one.
    invitations.request_invitations([invoice.id], actor="test")
    mail_jobs.deliver_mail()
    (invitation,) = smtp_server.messages
    text = invitation.get_body(("plain",)).get_content()
    assert "Onderteken dan online een mandaat" in text
    link = re.search(re.escape(PUBLIC) + r"/mandate/[A-Za-z0-9_-]{43}", text).group()
    assert link == signing.link_for(customer)

    # 2. The customer opens it and signs.
    path = link.removeprefix(PUBLIC)
    body = client.get(path).get_data(as_text=True)
    assert "Domiciliëringsmandaat" in body
    response = client.post(
        f"{path}/sign",
        data=filled(body, iban="BE71 0961 2345 6769"),
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert response.status_code == 303
    mandate = mandates.active_mandate(customer.id, profile.id)
    assert mandate is not None and mandate.sequence_type == "FRST"

    # Their copy goes out by mail with the PDF.
    signature = signing.signature_of(mandate.id)
    mail_jobs.send_mandate_copy(signature.id)
    copy = smtp_server.messages[-1]
    assert copy["To"] == "jan@customer.example"
    assert [a.get_content_type() for a in copy.iter_attachments()] == ["application/pdf"]

    # 3. The team's schedule: the debit is announced (the pre-notification) by the next
    # invitation round, then the run collects it from that day.
    invitations.request_invitations([invoice.id], actor="test", again=True)
    mail_jobs.deliver_mail()
    announcement = smtp_server.messages[-1].get_body(("plain",)).get_content()
    assert mandate.reference in announcement and "SEPA" in announcement

    store = runtime_setup.document_store(app)
    run = collection_runs.create_run(store, today, today + timedelta(days=60), "CORE", "test")
    content = collection_runs.file(run, store)
    SCHEMA.validate(content.decode())
    collection = db.session.scalars(sa.select(Collection)).one()
    assert collection.invoice_id == invoice.id and collection.mandate_id == mandate.id
    assert sequence_types(content) == {collection.end_to_end_id: "FRST"}
    assert mandate.reference in content.decode()
    collection_runs.mark_sent(run, "test")

    # 4. The bank collects and tells us in a camt.054: the invoice is paid.
    settled_on = collection.collection_date
    notice = bank.settle(content, settled_on)
    bank_files.upload(store, "camt054.xml", notice, "test", settled_on)
    db.session.expire_all()
    assert db.session.get(Collection, collection.id).status == CollectionStatus.SETTLED
    assert invoice.state == InvoiceState.PAID
    assert db.session.get(Mandate, mandate.id).used  # the next one is RCUR
