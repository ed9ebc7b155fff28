"""The dashboard in Dutch and French (issue 18, part 5): the aging chart's labels, what a
needs-attention item says to do, and money as the reader's locale writes it (Babel's
output: a no-break space after "€" in nl_BE; a narrow no-break space between thousands
and a no-break space before "€" in fr_BE)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from collector.core import clock
from collector.documents.models import InvoiceState
from tests.support.factories import make_invoice

READERS = {
    "nl": {
        "header": "nl-BE",
        "money": "€\xa01.234,56",
        "aging": ["Nog niet vervallen", "1–30 dagen", "31–60 dagen", "61–90 dagen"],
        "attention": "Teamleader is niet gekoppeld",
        "to_do": "Koppel Teamleader: tot dan wordt er niets geïmporteerd",
        "words": ["Vorderingen", "Vraagt uw aandacht", "Vervallen", "Deze maand geïnd"],
    },
    "fr": {
        "header": "fr-BE",
        "money": "1\u202f234,56\xa0€",
        "aging": ["Pas encore échu", "1–30 jours", "31–60 jours", "61–90 jours"],
        "attention": "Teamleader n’est pas connecté",
        "to_do": "Connectez Teamleader : d’ici là, rien n’est importé",
        "words": ["Créances", "À traiter", "En retard", "Encaissé ce mois-ci"],
    },
}
# What the English page says, that a Dutch or French reader must not see.
ENGLISH = [
    "Needs attention",
    "Outstanding",
    "Not yet due",
    "Teamleader is not connected",
    "Collected this month",
    "Next direct debits",
    "Cash in, last 12 weeks",
    "open invoices",
]


@pytest.fixture
def overdue(app):
    """€ 1,234.56 ten days past its due date: the 1–30 bar, and the overdue figure."""
    return make_invoice(
        due_date=clock.local_today() - timedelta(days=10),
        state=InvoiceState.EXPIRED,
        total_incl_vat=Decimal("1234.56"),
        amount_due=Decimal("1234.56"),
    )


@pytest.mark.parametrize("language", sorted(READERS))
def test_the_dashboard_speaks_the_readers_language(viewer_client, overdue, language):
    reader = READERS[language]
    response = viewer_client.get("/", headers={"Accept-Language": reader["header"]})
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    figure = re.search(r'id="figure-overdue".*?</a>', html, re.S).group(0)
    assert f">{reader['money']}</strong>" in figure
    bars = re.findall(r'<tr data-bucket="[^"]+">.*?<a href="[^"]+">([^<]+)</a>', html, re.S)
    assert bars[:4] == reader["aging"]
    item = re.search(r'<li data-item="teamleader_not_connected">(.*?)</li>', html, re.S).group(1)
    assert reader["attention"] in item and reader["to_do"] in item
    for words in reader["words"]:
        assert words in html, words
    for english in ENGLISH:
        assert english not in html, english


def test_the_dashboard_stays_english_without_a_language(viewer_client, overdue):
    html = viewer_client.get("/").get_data(as_text=True)
    assert ">€1,234.56</strong>" in html
    assert "Teamleader is not connected" in html and "1–30 days" in html
