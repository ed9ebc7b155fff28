"""A list page that refuses its query says which filter in the reader's language."""

import pytest
from marshmallow import ValidationError, fields, validate

from collector.documents.models import DocumentKind
from collector.runtime.listing import QueryArgsSchema
from collector.web.query_labels import LABELS, query_message


def every_list_schema(cls=QueryArgsSchema):
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("tests."):
            continue
        yield sub
        yield from every_list_schema(sub)


def test_every_query_argument_of_every_list_has_a_label(app):
    schemas = list(every_list_schema())
    assert len(schemas) >= 10  # the app imported its lists
    names = {f.data_key or n for s in schemas for n, f in s().fields.items()}
    assert sorted(names - LABELS.keys()) == []


@pytest.mark.parametrize(
    ("language", "label", "message"),
    [
        ("nl", "Pagina", "Deze paginalink is beschadigd"),
        ("fr", "Page", "Ce lien de page est endommagé"),
        ("en", "Page", "This page link is damaged"),
    ],
)
def test_a_refused_argument_is_named_in_the_readers_language(
    admin_client, language, label, message
):
    response = admin_client.get("/invoices/?after=AAAA", headers={"Accept-Language": language})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'data-field="page">{label}: {message}' in page


def test_an_argument_the_page_does_not_know_is_shown_as_typed(admin_client):
    response = admin_client.get("/settings/audit?colour=red", headers={"Accept-Language": "nl"})
    assert response.status_code == 400
    assert 'data-field="colour">colour: ' in response.get_data(as_text=True)


class EveryRefusal(QueryArgsSchema):
    day = fields.Date()
    count = fields.Integer()
    amount = fields.Decimal()
    flag = fields.Boolean()
    word = fields.String(validate=validate.Length(max=3))
    kind = fields.Enum(DocumentKind, by_value=True)
    between = fields.Integer(validate=validate.Range(min=1, max=9))
    low = fields.Integer(validate=validate.Range(min=1))
    high = fields.Integer(validate=validate.Range(max=9))
    pick = fields.String(validate=validate.OneOf(["a", "b"]))


def test_every_refusal_marshmallow_words_is_said_in_dutch(app):
    bad = {
        "day": "nope", "count": "x", "amount": "x", "flag": "maybe", "word": "long",
        "kind": "x", "between": "0", "low": "0", "high": "10", "pick": "c", "stray": "1",
    }  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        EveryRefusal().load(bad)
    messages = {name: texts[0] for name, texts in refused.value.messages.items()}
    assert messages.keys() == bad.keys()
    with app.test_request_context(headers={"Accept-Language": "nl"}):
        said = {name: query_message(text) for name, text in messages.items()}
    untranslated = {name: text for name, text in said.items() if text == messages[name]}
    assert untranslated == {}
    assert said["between"] == "Moet tussen 1 en 9 liggen."
    assert said["day"] == "Geen geldige datum."


def test_a_bad_date_in_the_invoice_filter_is_said_with_the_forms_words(admin_client):
    response = admin_client.get("/invoices/?date_from=nope", headers={"Accept-Language": "nl"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-field="date_from">Factuurdatum vanaf: Geen geldige datum.</p>' in page


def test_an_unknown_sort_of_the_invoice_list_is_said_in_dutch(admin_client):
    response = admin_client.get("/invoices/?sort=colour", headers={"Accept-Language": "nl"})
    assert response.status_code == 400
    assert 'data-field="sort">Sortering: Sorteer op ' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("nl", "Dagen te laat tot: Moet tussen 0 en 36.500 liggen."),
        ("fr", "36\u202f500"),
        ("en", "from 0 to 36,500"),
    ],
)
def test_a_bound_in_a_refusal_is_written_the_readers_way(admin_client, language, said):
    response = admin_client.get(
        "/invoices/?overdue_to=40000", headers={"Accept-Language": language}
    )
    assert response.status_code == 400
    assert said in response.get_data(as_text=True)
