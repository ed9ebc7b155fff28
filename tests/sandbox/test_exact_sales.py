"""salesentry/SalesEntries, their lines and cashflow/Receivables (reference §5, §8)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from .exact_support import DIVISION, Caller, logged_in, seeded

CUSTOMER = seeded("account", 1)
PROSPECT = seeded("account", 6)
REVENUE = seeded("glaccount", "700000")
REVENUE_NO_VAT = seeded("glaccount", "702000")


@pytest.fixture
def exact() -> Caller:
    return logged_in()


def entry(**overrides) -> dict:
    body = {
        "Journal": "70",
        "Customer": CUSTOMER,
        "EntryDate": "2026-03-15",
        "YourRef": "2026/0012",
        "Description": "Teamleader invoice 2026/0012",
        "PaymentReference": "+++090/9337/55493+++",
        "SalesEntryLines": [
            {"GLAccount": REVENUE, "AmountFC": 1000.00, "VATCode": "21 ", "Description": "Work"},
            {"GLAccount": REVENUE, "AmountFC": "50.05", "VATCode": "6  "},
        ],
    }
    return {**body, **overrides}


def _messages(response) -> list[str]:
    return response.get_json()["error"]["message"]["value"].split("\r\n")


def test_invoice_is_booked_with_computed_vat(exact):
    made = exact.created("salesentry/SalesEntries", entry())
    assert made["Type"] == 20 and made["TypeDescription"] == "Sales entry"
    assert made["AmountFC"] == 1263.05  # 1000 + 210 + 50.05 + 3.00 (3.003 rounded)
    assert made["VATAmountFC"] == 213.0
    assert made["Journal"] == "70" and made["Status"] == 20
    assert made["EntryNumber"] == 26700001
    assert made["EntryDate"] == "/Date(1773532800000)/"
    assert made["DueDate"] == "/Date(1776124800000)/"  # customer's condition "30": +30 days
    assert made["SalesEntryLines"]["__deferred"]["uri"].endswith(
        f"SalesEntries(guid'{made['EntryID']}')/SalesEntryLines"
    )
    (stored,) = exact.client.get("/_control/sales-entries").get_json()
    amounts = [(line["AmountFC"], line["VATAmountFC"]) for line in stored["SalesEntryLines"]]
    assert amounts == [(1000, 210), (50.05, 3)]
    assert stored["SalesEntryLines"][1]["VATCode"] == "6  "


def test_money_stays_decimal_inside(exact):
    made = exact.created("salesentry/SalesEntries", entry())
    with exact.emulator.store.lock:
        division = exact.emulator.store.divisions[DIVISION]
        stored = next(iter(division.table("salesentry/SalesEntries").values()))
    assert stored["AmountFC"] == Decimal("1263.05")
    assert str(stored["EntryID"]) == made["EntryID"]


def test_without_prefer_only_the_entry_id_comes_back(exact):
    response = exact.post("salesentry/SalesEntries", entry(), prefer=False)
    record = response.get_json()["d"]
    assert response.status_code == 201
    assert record["EntryID"] and record["EntryNumber"] is None and record["AmountFC"] is None


def test_credit_note_with_negative_amounts_reads_back_as_type_21(exact):
    lines = [{"GLAccount": REVENUE, "AmountFC": -200, "VATCode": "21 "}]
    made = exact.created("salesentry/SalesEntries", entry(Journal="71", SalesEntryLines=lines))
    assert (made["Type"], made["AmountFC"], made["VATAmountFC"]) == (21, -242, -42)
    assert made["TypeDescription"] == "Sales credit note"
    assert made["EntryNumber"] == 26710001


def test_type_is_read_only(exact):
    made = exact.created("salesentry/SalesEntries", entry(Type=21))
    assert made["Type"] == 20


def test_vat_amount_given_wins_and_entry_number_can_be_set(exact):
    lines = [{"GLAccount": REVENUE, "AmountFC": 100, "VATCode": "21 ", "VATAmountFC": 20.99}]
    made = exact.created("salesentry/SalesEntries", entry(SalesEntryLines=lines, EntryNumber=42))
    assert made["VATAmountFC"] == 20.99 and made["EntryNumber"] == 42


def test_gl_default_vat_code_and_no_vat_account(exact):
    lines = [{"GLAccount": REVENUE, "AmountFC": 10}, {"GLAccount": REVENUE_NO_VAT, "AmountFC": 5}]
    made = exact.created("salesentry/SalesEntries", entry(SalesEntryLines=lines))
    assert made["VATAmountFC"] == 2.1  # 700000 defaults to "21 ", 702000 has no VAT code


def test_no_duplicate_check(exact):
    first = exact.created("salesentry/SalesEntries", entry())
    second = exact.created("salesentry/SalesEntries", entry())
    assert first["EntryID"] != second["EntryID"]
    assert second["EntryNumber"] == first["EntryNumber"] + 1
    found = exact.results(
        "salesentry/SalesEntries",
        {"$filter": "Journal eq '70' and (YourRef eq '2026/0012' or YourRef eq 'x')"},
    )
    assert len(found) == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Journal": seeded("journal", "70")}, "Invalid reference: Journal"),
        ({"Journal": "99"}, "Invalid reference: Journal"),
        ({"Journal": "20"}, "Invalid journal. The journal must be a sales journal."),
        ({"Journal": "72"}, "Not allowed: Journal (blocked)"),
        ({"Journal": None}, "Mandatory: Journal"),
        ({"Customer": PROSPECT}, "Invalid: Invoice to (Type)"),
        ({"Customer": seeded("account", 99)}, "Invalid reference: Customer"),
        ({"SalesEntryLines": []}, "Mandatory: SalesEntryLines"),
        ({"PaymentCondition": "XX"}, "Invalid reference: Payment condition"),
        ({"Document": seeded("document", 1)}, "Invalid reference: Document"),
    ],
)
def test_header_validation_failures_are_500(exact, overrides, message):
    body = {k: v for k, v in entry(**overrides).items() if v is not None}
    response = exact.post("salesentry/SalesEntries", body)
    assert response.status_code == 500
    assert message in _messages(response)
    assert exact.client.get("/_control/sales-entries").get_json() == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"GLAccount": seeded("glaccount", "400000"), "AmountFC": 1}, "Invalid: G/L account type"),
        ({"GLAccount": seeded("glaccount", "451000"), "AmountFC": 1}, "Invalid: G/L account type"),
        (
            {"GLAccount": seeded("glaccount", "123"), "AmountFC": 1},
            "Invalid reference: G/L account",
        ),
        ({"AmountFC": 1}, "Mandatory: G/L account"),
        ({"GLAccount": REVENUE}, "Mandatory: AmountFC"),
        ({"GLAccount": REVENUE, "AmountFC": 1, "VATCode": "P21"}, "Not allowed: VAT-code"),
        ({"GLAccount": REVENUE, "AmountFC": 1, "VATCode": "X21"}, "Not allowed: VAT-code"),
        ({"GLAccount": REVENUE, "AmountFC": 1, "VATCode": "77 "}, "Invalid reference: VAT code"),
    ],
)
def test_line_validation_failures_are_500(exact, line, message):
    response = exact.post("salesentry/SalesEntries", entry(SalesEntryLines=[line]))
    assert response.status_code == 500
    assert _messages(response) == [message]


def test_several_failures_come_back_joined_with_crlf(exact):
    body = entry(Journal="10", Customer=PROSPECT)
    value = exact.post("salesentry/SalesEntries", body).get_json()["error"]["message"]["value"]
    assert (
        value
        == "Invalid journal. The journal must be a sales journal.\r\nInvalid: Invoice to (Type)"
    )


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'{"Journal": "70",', "Error processing request stream"),
        (b'{"Journal": "70", "EntryNumber": "2026/0012"}', "to type 'Int32'"),
        (b'{"Journal": "70", "EntryNumber": 3000000000}', "to type 'Int32'"),
        (b'{"Journal": "70", "Customer": "not-a-guid"}', "to type 'Guid'"),
        (b'{"Journal": "70", "EntryDate": "15/03/2026"}', "to type 'DateTime'"),
        (b'{"Journal": "70", "Colour": 1}', "does not exist"),
    ],
)
def test_unreadable_bodies_are_400(exact, data, fragment):
    response = exact.post("salesentry/SalesEntries", data=data)
    assert response.status_code == 400
    assert fragment in response.get_json()["error"]["message"]["value"]


def test_lines_by_entry_id_and_through_the_deferred_link(exact):
    made = exact.created("salesentry/SalesEntries", entry())
    exact.created("salesentry/SalesEntries", entry(YourRef="other"))
    lines = exact.results(
        "salesentry/SalesEntryLines", {"$filter": f"EntryID eq guid'{made['EntryID']}'"}
    )
    assert [line["LineNumber"] for line in lines] == [1, 2]
    assert lines[0]["GLAccountCode"] == "700000" and lines[0]["VATPercentage"] == 0.21
    deferred = made["SalesEntryLines"]["__deferred"]["uri"]
    linked = exact.client.get(deferred, headers=exact.headers()).get_json()["d"]["results"]
    assert [line["ID"] for line in linked] == [line["ID"] for line in lines]


def test_entries_can_be_read_back_by_guid_and_filtered(exact):
    made = exact.created("salesentry/SalesEntries", entry())
    single = exact.get(f"salesentry/SalesEntries(guid'{made['EntryID']}')").get_json()["d"]
    assert single["YourRef"] == "2026/0012" and single["CustomerName"] == "Brouwerij De Klok"
    found = exact.results(
        "salesentry/SalesEntries",
        {"$filter": "substringof('2026/0012', Description) eq true", "$select": "EntryID"},
    )
    assert [r["EntryID"] for r in found] == [made["EntryID"]]


def test_receivable_per_entry_and_payment_through_control(exact):
    first = exact.created("salesentry/SalesEntries", entry())
    second = exact.created("salesentry/SalesEntries", entry(YourRef="2026/0013"))
    ids = " or ".join(f"TransactionEntryID eq guid'{e['EntryID']}'" for e in (first, second))
    rows = exact.results("cashflow/Receivables", {"$filter": ids})
    assert len(rows) == 2
    (row,) = [r for r in rows if r["TransactionEntryID"] == first["EntryID"]]
    assert (row["AmountDC"], row["AmountFC"], row["IsFullyPaid"], row["Status"]) == (
        1263.05,
        1263.05,
        False,
        20,
    )
    assert row["YourRef"] == "2026/0012" and row["EntryNumber"] == first["EntryNumber"]
    assert row["InvoiceNumber"] == first["EntryNumber"] and row["DueDate"] == first["DueDate"]

    pay = f"/_control/receivables/{first['EntryID']}/pay"
    partial = exact.client.post(pay, json={"amount": "263.05"}).get_json()[0]
    assert partial["IsFullyPaid"] is False and partial["Status"] == 20
    exact.client.post(pay, json={})
    (paid,) = exact.results(
        "cashflow/Receivables", {"$filter": f"TransactionEntryID eq guid'{first['EntryID']}'"}
    )
    assert paid["IsFullyPaid"] is True and paid["Status"] == 50
    assert paid["LastPaymentDate"] == "/Date(1773532800000)/"
    assert exact.client.post("/_control/receivables/" + seeded("x", 1) + "/pay").status_code == 404


def test_due_date_follows_the_payment_condition(exact):
    made = exact.created("salesentry/SalesEntries", entry(PaymentCondition="3E"))
    due = datetime.fromtimestamp(int(made["DueDate"][6:-2]) / 1000, UTC)
    assert due.date().isoformat() == "2026-04-30"  # 15 March + 30 days, end of month


def test_parallel_clients_get_distinct_entry_numbers():
    exact = logged_in(MINUTE_LIMIT=1000)
    numbers: list[int] = []
    lock = threading.Lock()

    def book(n: int) -> None:
        caller = Caller(exact.app)
        caller.tokens = exact.tokens
        for i in range(5):
            made = caller.created("salesentry/SalesEntries", entry(YourRef=f"{n}-{i}"))
            with lock:
                numbers.append(made["EntryNumber"])

    threads = [threading.Thread(target=book, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(26700001, 26700031))
