"""The customers screen: search, the admin's edit (profile, number), the CSV export."""

import csv
import io
import re

import pytest

from collector.core.errors import Invalid
from collector.documents import customers
from collector.documents.models import Customer
from collector.extensions import db
from tests.conftest import csrf_token
from tests.support.factories import make_customer, make_invoice, make_profile

ROW = re.compile(r'<tr data-customer="(\d+)"')
HEADER = (
    "customerNumber,name,email,language,address,postalCode,city,country,vatNumber,"
    "profile,mandateNumber,iban,bic,signDate"
)


def shown(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


def post_form(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def reload(customer: Customer) -> Customer:
    db.session.expire_all()
    return db.session.get(Customer, customer.id)


@pytest.fixture
def people(app):
    sepa = make_profile(name="SEPA")
    return {
        "acme": make_customer(name="Acme NV", email="ap@acme.example", profile=sepa),
        "brol": make_customer(name="Brol BV", email="finance@brol.example"),
        "cafe": make_customer(name="Café Zuid", customer_number="K-100", email=None),
        "sepa": sepa,
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, {"acme", "brol", "cafe"}),
        ({"q": "ACME"}, {"acme"}),  # name, any case
        ({"q": "FINANCE@"}, {"brol"}),  # email
        ({"q": "k-1"}, {"cafe"}),  # customer number
        ({"q": "zuid"}, {"cafe"}),
        ({"q": "%"}, set()),
        ({"profile_id": "sepa"}, {"acme"}),
        ({"q": "brol", "profile_id": "sepa"}, set()),
    ],
)
def test_search_narrows_the_list(admin_client, people, args, expected):
    args = {k: str(people[v].id) if k == "profile_id" else v for k, v in args.items()}
    response = admin_client.get("/customers/", query_string=args)
    assert response.status_code == 200
    assert set(shown(response)) == {people[name].id for name in expected}


def test_list_pages_by_name(admin_client, people):
    first = admin_client.get("/customers/?per_page=2")
    assert shown(first) == [people["acme"].id, people["brol"].id]
    assert "Page 1 of 2" in first.get_data(as_text=True)
    second = admin_client.get("/customers/?per_page=2&page=2")
    assert shown(second) == [people["cafe"].id]


def test_bad_query_is_400(admin_client, people):
    response = admin_client.get("/customers/?profile_id=abc")
    assert response.status_code == 400
    assert 'data-field="profile_id"' in response.get_data(as_text=True)


def test_detail_links_the_number_to_teamleader_and_lists_documents(admin_client, people):
    acme = people["acme"]
    acme.teamleader_url = "https://focus.teamleader.eu/company_detail.php?id=1"
    db.session.commit()
    invoice = make_invoice(customer=acme, number="2026/0042")
    other = make_invoice(number="2026/0043")
    page = admin_client.get(f"/customers/{acme.id}").get_data(as_text=True)
    link = f'href="{acme.teamleader_url}" rel="noopener" target="_blank" data-link="teamleader"'
    # The Teamleader id is where the link goes, not what it says.
    assert f"{link}>Open in Teamleader</a>" in page
    assert f'data-invoice="{invoice.id}"' in page
    assert f'data-invoice="{other.id}"' not in page
    assert f"/invoices/?customer_id={acme.id}" in page
    assert 'data-warning="number-edited"' not in page


def test_admin_changes_profile_and_number(admin_client, people):
    brol, sepa = people["brol"], people["sepa"]
    path = f"/customers/{brol.id}"
    response = post_form(admin_client, path, {"profile_id": sepa.id, "customer_number": " B-7 "})
    assert response.status_code == 302
    brol = reload(brol)
    assert brol.profile_id == sepa.id and brol.customer_number == "B-7"
    assert not brol.number_is_linked
    page = admin_client.get(path).get_data(as_text=True)
    assert 'data-warning="number-edited"' in page
    assert f"resets it to the Teamleader id <code>{brol.teamleader_id}</code>" in page


def test_profile_can_be_cleared(admin_client, people):
    acme = people["acme"]
    data = {"profile_id": "", "customer_number": acme.customer_number}
    assert post_form(admin_client, f"/customers/{acme.id}", data).status_code == 302
    assert reload(acme).profile_id is None


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("K-100", "Another customer has this number."),
        ("", "This field is required."),
        ("x" * 65, "Field cannot be longer than 64 characters."),
    ],
)
def test_customer_number_must_stay_unique(admin_client, people, number, message):
    brol = people["brol"]
    before = brol.customer_number
    data = {"profile_id": "", "customer_number": number}
    response = post_form(admin_client, f"/customers/{brol.id}", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert reload(brol).customer_number == before


def test_number_cannot_be_another_customers_teamleader_id(admin_client, people):
    acme, brol = people["acme"], people["brol"]
    acme.customer_number = "A-1"  # edited here; the next import gives it back
    db.session.commit()
    data = {"profile_id": "", "customer_number": acme.teamleader_id}
    response = post_form(admin_client, f"/customers/{brol.id}", data)
    assert response.status_code == 400
    assert "This is another customer&#39;s Teamleader id." in response.get_data(as_text=True)
    assert reload(brol).number_is_linked


def test_unknown_profile_is_refused(app, people):
    with pytest.raises(Invalid) as refused:
        customers.update_customer(people["brol"], {"profile_id": 999_999})
    assert refused.value.errors == {"profile_id": ["No such profile."]}
    with pytest.raises(Invalid) as refused:
        customers.update_customer(people["brol"], {"name": "Renamed"})
    assert set(refused.value.errors) == {"name"}
    assert reload(people["brol"]).profile_id is None


def test_post_without_csrf_is_refused(admin_client, people):
    brol = people["brol"]
    response = admin_client.post(f"/customers/{brol.id}", data={"customer_number": "B-9"})
    assert response.status_code == 400
    assert reload(brol).number_is_linked


def test_viewer_sees_no_form_and_cannot_post(viewer_client, people):
    brol = people["brol"]
    page = viewer_client.get(f"/customers/{brol.id}").get_data(as_text=True)
    assert 'name="customer_number"' not in page
    token = csrf_token(viewer_client, f"/customers/{brol.id}")  # the logout form's
    response = viewer_client.post(
        f"/customers/{brol.id}", data={"customer_number": "B-9", "csrf_token": token}
    )
    assert response.status_code == 403
    assert reload(brol).number_is_linked
    assert viewer_client.get("/customers/").status_code == 200


def test_unknown_customer_is_404(admin_client, app):
    assert admin_client.get("/customers/4242").status_code == 404


def test_anonymous_is_sent_to_login(client, people):
    for path in ("/customers/", f"/customers/{people['acme'].id}", "/customers.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_csv_has_every_customer_and_empty_mandate_columns(viewer_client, people):
    acme = people["acme"]
    acme.address_line, acme.postal_code, acme.city = "Kerkstraat 1", "9000", "Gent"
    acme.vat_number = "BE0123456789"
    db.session.commit()
    response = viewer_client.get("/customers.csv")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.is_streamed
    rows = read_csv(response)
    assert ",".join(rows[0]) == HEADER
    assert len(rows) == 4
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["Acme NV"] == [
        acme.customer_number,
        "Acme NV",
        "ap@acme.example",
        "nl",
        "Kerkstraat 1",
        "9000",
        "Gent",
        "BE",
        "BE0123456789",
        "SEPA",
        "",
        "",
        "",
        "",
    ]
    assert by_name["Café Zuid"][:3] == ["K-100", "Café Zuid", ""]


def test_csv_follows_the_list_filter(viewer_client, people):
    rows = read_csv(viewer_client.get(f"/customers.csv?profile_id={people['sepa'].id}"))
    assert [row[1] for row in rows[1:]] == ["Acme NV"]


def test_csv_defuses_formulas(viewer_client, app):
    make_customer(name='=HYPERLINK("http://evil")', email="@SUM(A1)")
    make_customer(name="+32 9 123", address_line="-2+3", city="\tTab")
    make_customer(name="Safe = fine")
    rows = read_csv(viewer_client.get("/customers.csv"))[1:]
    cells = {cell for row in rows for cell in row}
    assert {'\'=HYPERLINK("http://evil")', "'@SUM(A1)", "'+32 9 123", "'-2+3", "'\tTab"} <= cells
    assert "Safe = fine" in cells


def test_csv_comes_in_chunks(app):
    rows = [
        Customer(customer_number=f"n{i}", teamleader_id=f"n{i}", name=f"C{i}")
        for i in range(2 * customers.CSV_CHUNK_ROWS + 1)
    ]
    chunks = list(customers.customers_csv(rows))
    assert len(chunks) == 3
    assert "".join(chunks).count("\r\n") == len(rows) + 1
