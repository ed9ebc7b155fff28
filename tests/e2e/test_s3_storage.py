"""The app with STORAGE=s3 against a local S3 server (moto's, over HTTP on loopback): a
Teamleader PDF fetched from the sandbox lands in the bucket and is served from there on the
payment page; a mandates file and a bank file go through the bucket as well. Nothing but
the settings points the app there, as on a worker on another machine."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from collector.direct_debit import signing
from collector.direct_debit.models import (
    BankFile,
    CollectionStatus,
    Mandate,
    MandateSignature,
    MandateUploadStatus,
)
from collector.documents.models import Invoice
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import jobs as teamleader_jobs
from sandbox import bank
from tests.conftest import csrf_token
from tests.support.bank import make_creditor, pain008_for
from tests.support.factories import make_collection, make_customer, make_profile
from tests.support.s3 import bucket_names, s3_config
from tests.test_mandate_signing import PUBLIC, customer, payee, sign  # noqa: F401 (fixtures)
from tests.test_mandate_upload import commit, csv_bytes, upload_and_check

DAY = date(2026, 12, 3)


def object_name(settings, key: str) -> str:
    return f"{settings.folder}{key[:2]}/{key[2:4]}/{key}"


def test_a_teamleader_pdf_is_kept_in_the_bucket_and_served_on_the_payment_page(
    tl_app, open_invoice, s3_settings, client
):
    tl_app.config.update(STORAGE="s3", **s3_config(s3_settings))  # tl_app puts it back
    assert open_invoice.pdf_key is None

    teamleader_jobs.fetch_pdfs([open_invoice.id], "test")

    invoice = db.session.get(Invoice, open_invoice.id)
    db.session.refresh(invoice)
    assert invoice.pdf_key
    assert bucket_names(s3_settings) == [object_name(s3_settings, invoice.pdf_key)]
    page = client.get(f"/pay/{invoice.payment_token}")
    assert page.status_code == 200
    pdf = client.get(f"/pay/{invoice.payment_token}/document.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert pdf.data == runtime_setup.document_store(tl_app).get(invoice.pdf_key)

    # Served from the bucket, not from a copy on this machine: gone there, gone here.
    store = runtime_setup.document_store(tl_app)
    store.client.delete_object(
        Bucket=s3_settings.bucket, Key=object_name(s3_settings, invoice.pdf_key)
    )
    assert client.get(f"/pay/{invoice.payment_token}/document.pdf").status_code == 404


def test_a_mandates_file_is_checked_and_committed_from_the_bucket(
    s3_app, s3_settings, admin_client, redis_conn
):
    sepa = make_profile(name="SEPA", allow_direct_debit=True)
    people = [make_customer(profile=sepa) for _ in range(3)]
    rows = [
        (c.customer_number, f"S3-{i}", "BE71096123456769", "", "2024-01-01", "", "", "")
        for i, c in enumerate(people)
    ]
    content = csv_bytes(rows)

    upload, html = upload_and_check(admin_client, s3_app, redis_conn, content)

    assert upload.status == MandateUploadStatus.READY, html
    assert bucket_names(s3_settings) == [object_name(s3_settings, upload.file_key)]
    upload, _html = commit(admin_client, s3_app, redis_conn, upload)
    assert upload.created_count == 3
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 3


def test_a_bank_file_is_kept_in_the_bucket_and_downloaded_from_it(
    s3_app, s3_settings, admin_client
):
    make_creditor()
    collection = make_collection()
    content = bank.settle(pain008_for(collection.run), DAY)

    response = admin_client.post(
        "/bank-files/",
        data={
            "csrf_token": csrf_token(admin_client, "/bank-files/"),
            "file": (io.BytesIO(content), "settled.xml"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    bank_file = db.session.scalars(sa.select(BankFile)).one()
    assert object_name(s3_settings, bank_file.file_key) in bucket_names(s3_settings)
    db.session.expire_all()
    assert collection.status == CollectionStatus.SETTLED
    assert collection.amount == Decimal("121.00")
    download = admin_client.get(f"/bank-files/{bank_file.id}/download")
    assert download.status_code == 200 and download.data == content
    assert download.headers["Content-Disposition"].startswith("attachment")

    store = runtime_setup.document_store(s3_app)
    store.client.delete_object(
        Bucket=s3_settings.bucket, Key=object_name(s3_settings, bank_file.file_key)
    )
    assert admin_client.get(f"/bank-files/{bank_file.id}/download").status_code == 404


def test_a_mandate_signed_online_keeps_its_pdf_in_the_bucket(
    s3_app,
    s3_settings,
    client,
    customer,  # noqa: F811 (the fixture)
):
    response = sign(client, customer)

    assert response.status_code == 303
    signature = db.session.scalars(sa.select(MandateSignature)).one()
    assert bucket_names(s3_settings) == [object_name(s3_settings, signature.pdf_key)]
    url = signing.link_for(customer).removeprefix(PUBLIC)
    pdf = client.get(f"{url}/mandate-{signature.mandate_id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert pdf.data == runtime_setup.document_store(s3_app).get(signature.pdf_key)
