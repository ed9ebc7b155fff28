"""Typography of the direct-debit detail pages: a French "n°" heading keeps its number
on the same line (a no-break space, as French typography wants), and the dates of a run's
collections are date cells, which the stylesheet keeps on one line at 390 px."""

from __future__ import annotations

import re

import pytest

from collector.direct_debit.models import BankFile, BankFileKind, MandateUpload
from collector.extensions import db
from collector.web.filters import format_date
from tests.support.factories import make_collection

FRENCH = {"Accept-Language": "fr-BE"}


@pytest.fixture
def numbered(app) -> dict[str, tuple[str, int]]:
    """Path: (the French heading's words, the number it shows), one page of each kind."""
    collection = make_collection()
    upload = MandateUpload(filename="m.csv", file_key="0" * 64, size=10, problems=[])
    bank_file = BankFile(
        kind=BankFileKind.CAMT053, filename="s.xml", sha256="1" * 64, file_key="1" * 64
    )
    db.session.add_all([upload, bank_file])
    db.session.commit()
    return {
        f"/collections/{collection.run_id}": ("Série d’encaissement", collection.run_id),
        f"/mandates/uploads/{upload.id}": ("Chargement de mandats", upload.id),
        f"/bank-files/{bank_file.id}": ("Fichier bancaire", bank_file.id),
    }


def test_a_french_numbered_heading_does_not_break_before_its_number(admin_client, numbered):
    for path, (words, number) in numbered.items():
        page = admin_client.get(path, headers=FRENCH)
        assert page.status_code == 200, path
        heading = re.search(r"<h1>(.*?)</h1>", page.text, re.S).group(1)
        assert heading == f"{words} n°\xa0{number}", (path, heading)
        assert f"<title>{words} n°\xa0{number}" in page.text, path


def test_a_runs_collection_dates_are_date_cells(admin_client):
    collection = make_collection()
    page = admin_client.get(f"/collections/{collection.run_id}").text
    assert f'<td class="date">{format_date(collection.collection_date)}</td>' in page
