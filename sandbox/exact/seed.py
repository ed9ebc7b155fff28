"""The seeded administrations of the demo user (same SEED → same IDs and data).

Two Belgian divisions, 1234567 "Demo BV" and 7654321 "Demo Services BV", each with the
journals, VAT codes, G/L accounts, payment conditions, document types and accounts the
collections service maps against. GUIDs are ``uuid5`` of (seed, division, kind, code), so
tests and demos can predict them with ``guid()``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from . import entities
from .clock import midnight
from .state import Division

NAMESPACE = uuid.UUID("0c8f2a52-3d7b-4c1e-9a57-6b1e0e5d2f10")
USER = {
    "FullName": "Dana Demo",
    "FirstName": "Dana",
    "LastName": "Demo",
    "UserName": "dana@demo-bv.example",
    "Email": "dana@demo-bv.example",
    "LanguageCode": "nl-BE",
    "Language": "NL",
    "Legislation": "32",
}
DIVISIONS = (
    (1234567, "Demo BV", "BE0123456749", True),
    (7654321, "Demo Services BV", "BE0987654312", False),
)
# (code, description, type, blocked)
JOURNALS = (
    ("10", "Kas", 10, False),
    ("20", "Bank", 12, False),
    ("70", "Verkoopboek", 20, False),
    ("71", "Creditnota's", 21, False),
    ("72", "Verkoopboek 2019 (geblokkeerd)", 20, True),
    ("90", "Memoriaal", 90, False),
)
# (code, description, percentage, type, transaction type, blocked)
VAT_CODES = (
    ("21 ", "BTW 21% excl.", "0.21", "E", "B", False),
    ("12 ", "BTW 12% excl.", "0.12", "E", "B", False),
    ("6  ", "BTW 6% excl.", "0.06", "E", "B", False),
    ("0  ", "BTW 0% excl.", "0", "E", "S", False),
    ("EU ", "Intracommunautaire levering", "0", "B", "S", False),
    ("N  ", "Geen BTW", "0", "N", "B", False),
    ("21I", "BTW 21% incl.", "0.21", "I", "S", False),
    ("P21", "BTW 21% aankopen", "0.21", "E", "P", False),
    ("X21", "BTW 21% (oud, geblokkeerd)", "0.21", "E", "B", True),
)
GL_TYPES = {20: "Accounts receivable", 24: "VAT", 110: "Revenue", 120: "Other costs"}
# (code, description, type, balance type, default VAT code)
GL_ACCOUNTS = (
    ("400000", "Handelsdebiteuren", 20, "B", None),
    ("451000", "Te betalen btw", 24, "B", None),
    ("600000", "Aankopen", 120, "W", "P21"),
    ("700000", "Omzet diensten", 110, "W", "21 "),
    ("700100", "Omzet goederen", 110, "W", "21 "),
    ("701000", "Omzet intracommunautair", 110, "W", "EU "),
    ("702000", "Omzet diversen", 110, "W", None),
)
# (code, description, days, end of months, method)
PAYMENT_CONDITIONS = (
    ("00", "Contant", 0, 0, "K"),
    ("14", "14 dagen", 14, 0, "B"),
    ("30", "30 dagen", 30, 0, "B"),
    ("3E", "30 dagen einde maand", 30, 1, "B"),
    ("60", "60 dagen", 60, 0, "B"),
    ("DD", "Domiciliëring 30 dagen", 30, 0, "I"),
)
DOCUMENT_TYPES = ((10, "Sales invoice"), (20, "Purchase invoice"), (183, "General attachment"))
COMPANIES = (
    ("Brouwerij De Klok", "Gent", "9000"),
    ("Atelier Noord", "Antwerpen", "2000"),
    ("Bakkerij Vermeulen", "Brugge", "8000"),
    ("Studio Lumen", "Leuven", "3000"),
    ("Garage Peeters", "Hasselt", "3500"),
    ("Fietsen Maes", "Mechelen", "2800"),
    ("Drukkerij Claes", "Namur", "5000"),
    ("Tuinen Willems", "Kortrijk", "8500"),
)


def guid(seed: int, division: int, kind: str, code: object) -> uuid.UUID:
    """The seeded GUID of one record (``kind`` is e.g. ``"glaccount"``, ``"account"``)."""
    return uuid.uuid5(NAMESPACE, f"{seed}/{division}/{kind}/{code}")


def pad_left(code: object, width: int = 18) -> str:
    """Exact's fixed-width codes: account Code is right-aligned in 18 characters."""
    return str(code).strip().rjust(width)


def build(seed: int, now: datetime, account_count: int) -> tuple[dict, dict[int, Division]]:
    """The demo user (``current/Me`` fields) and its divisions with their tables."""
    created = midnight(now) - timedelta(days=400)
    user_id = guid(seed, 0, "user", "demo")
    divisions = {}
    for code, name, vat, main in DIVISIONS:
        division = Division(code, _division(seed, code, name, vat, main, created, user_id))
        audit = {"Created": created, "Modified": created, "Creator": user_id, "Division": code}
        audit["CreatorFullName"] = audit["ModifierFullName"] = USER["FullName"]
        audit["Modifier"] = user_id
        _fill(division, seed, audit, account_count)
        divisions[code] = division
    first = divisions[DIVISIONS[0][0]].header
    user = {
        **USER,
        "UserID": user_id,
        "CurrentDivision": first["Code"],
        "AccountingDivision": first["Code"],
        "DivisionCustomer": first["Customer"],
        "DivisionCustomerCode": first["CustomerCode"],
        "DivisionCustomerName": first["CustomerName"],
        "DivisionCustomerVatNumber": first["VATNumber"],
        "CustomerCode": first["CustomerCode"],
        "EmployeeID": uuid.UUID(int=0),
        "PackageCode": "EOLAPPCENTER",
        "IsClientUser": True,
        "IsOEIMigrationMandatory": False,
        "Gender": "O",
        "Title": None,
    }
    return user, divisions


def _division(seed, code, name, vat, main, created, user_id) -> dict:
    header = entities.lookup("system/Divisions").blank()
    customer_code = pad_left(1000000 + code % 1000)
    header.update(
        Code=code,
        BlockingStatus=0,
        Country="BE",
        Created=created,
        Creator=user_id,
        Current=main,
        Currency="EUR",
        Customer=guid(seed, code, "division-customer", code),
        CustomerCode=customer_code,
        CustomerName=name,
        Description=name,
        Hid=code,
        IsMainDivision=main,
        Modified=created,
        Modifier=user_id,
        StartDate=created,
        Status=1,
        VATNumber=vat,
    )
    return header


def _record(path: str, audit: dict, **values) -> dict:
    record = entities.lookup(path).blank()
    unknown = set(values) - set(record)
    if unknown:  # a seed with a property Exact does not have would hide a misspelt $select
        raise ValueError(f"{path} has no properties {sorted(unknown)}")
    record.update({k: v for k, v in audit.items() if k in record})
    record.update(values)
    return record


def _fill(division: Division, seed: int, audit: dict, account_count: int) -> None:
    code = division.code
    gl = {c: guid(seed, code, "glaccount", c) for c, *_ in GL_ACCOUNTS}
    for c, description, kind, balance, vat in GL_ACCOUNTS:
        vat_description = next((v[1] for v in VAT_CODES if v[0] == vat), None)
        division.table("financial/GLAccounts")[gl[c]] = _record(
            "financial/GLAccounts",
            audit,
            ID=gl[c],
            Code=c,
            Description=description,
            Type=kind,
            TypeDescription=GL_TYPES[kind],
            BalanceType=balance,
            BalanceSide="D" if kind in (20, 120) else "C",
            IsBlocked=False,
            SearchCode=description[:9].upper(),
            VATCode=vat,
            VATDescription=vat_description,
        )
    for c, description, kind, blocked in JOURNALS:
        ident = guid(seed, code, "journal", c)
        sales = kind in (20, 21)
        division.table("financial/Journals")[ident] = _record(
            "financial/Journals",
            audit,
            ID=ident,
            Code=c,
            Description=description,
            Type=kind,
            IsBlocked=blocked,
            Currency="EUR",
            CurrencyDescription="Euro",
            AllowVAT=sales,
            AllowVariableCurrency=False,
            AllowVariableExchangeRate=False,
            AutoSave=False,
            PaymentServiceProvider=0,
            GLAccount=gl["400000"] if sales else None,
            GLAccountCode="400000" if sales else None,
            GLAccountDescription="Handelsdebiteuren" if sales else None,
            GLAccountType=20 if sales else None,
        )
    for c, description, percentage, kind, transaction, blocked in VAT_CODES:
        ident = guid(seed, code, "vatcode", c)
        division.table("vat/VATCodes")[ident] = _record(
            "vat/VATCodes",
            audit,
            ID=ident,
            Code=c,
            Description=description,
            Percentage=Decimal(percentage),
            Type=kind,
            VATTransactionType=transaction,
            IsBlocked=blocked,
            Charged=False,
            IntraStat=kind == "B",
            EUSalesListing="L" if c == "EU " else "N",
            GLToPay=gl["451000"],
            GLToPayCode="451000",
            GLToPayDescription="Te betalen btw",
            CalculationBasis=0,
            VATPartialRatio=0,
        )
    for c, description, days, months, method in PAYMENT_CONDITIONS:
        ident = guid(seed, code, "paymentcondition", c)
        division.table("cashflow/PaymentConditions")[ident] = _record(
            "cashflow/PaymentConditions",
            audit,
            ID=ident,
            Code=c,
            Description=description,
            PaymentDays=days,
            PaymentEndOfMonths=months,
            PaymentMethod=method,
            DiscountPaymentDays=0,
            Percentage=Decimal(0),
        )
    for ident, description in DOCUMENT_TYPES:
        division.table("documents/DocumentTypes")[ident] = _record(
            "documents/DocumentTypes",
            audit,
            ID=ident,
            Description=description,
            DocumentIsCreatable=True,
            DocumentIsDeletable=True,
            DocumentIsUpdatable=True,
            DocumentIsViewable=True,
            TypeCategory=1,
        )
    for number in range(1, account_count + 1):
        record = _account(seed, code, number, gl["400000"], audit)
        division.table("crm/Accounts")[record["ID"]] = record


def _account(seed: int, division: int, number: int, glar: uuid.UUID, audit: dict) -> dict:
    name, city, postcode = COMPANIES[(number - 1) % len(COMPANIES)]
    if number > len(COMPANIES):
        name = f"{name} {number}"
    slug = name.lower().replace(" ", "-")
    # Account 6 is a prospect: not a customer, so sales entries for it fail.
    status = "P" if number == 6 else "C"
    return _record(
        "crm/Accounts",
        audit,
        ID=guid(seed, division, "account", number),
        Code=pad_left(number),
        Name=name,
        Email=f"billing@{slug}.example",
        VATNumber=_vat_number(seed, division, number),
        AddressLine1=f"Kerkstraat {number}",
        City=city,
        Postcode=postcode,
        Country="BE ",
        CountryName="Belgium",
        Language="NL",
        Status=status,
        IsSales=True,
        IsPurchase=False,
        IsSupplier=False,
        Blocked=False,
        Type="A",
        GLAR=glar,
        PaymentConditionSales="30",
        PaymentConditionSalesDescription="30 dagen",
        SalesVATCode="21 ",
        SalesCurrency="EUR",
        CostPaid=Decimal(0),
    )


def _vat_number(seed: int, division: int, number: int) -> str:
    """A valid Belgian VAT number (eight digits, then 97 minus their remainder mod 97).

    Exact keeps ``VATNumber`` as it was given and its filter compares that text (ignoring
    case): accounts made by integrations hold the compact form, but one a person typed in
    Exact's own screens may not. Accounts 4 and 5 are such: printed the Belgian way, and
    without the country prefix.
    """
    base = 10**6 + (seed * 7919 + division + number * 104729) % (9 * 10**6)
    digits = f"{base:08d}{97 - base % 97:02d}"
    if number == 4:
        return f"BE {digits[:4]}.{digits[4:7]}.{digits[7:]}"
    if number == 5:
        return digits
    return f"BE{digits}"
