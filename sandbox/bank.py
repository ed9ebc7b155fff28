"""A sandbox bank: the files a bank sends back about the creditor's account.

Plain functions from bytes to bytes, no server: give it the pain.008 the service wrote
and it answers the way a Belgian bank does (reference §2.7):

- ``settle``: a camt.054 notification crediting the pain.008's collections, one entry
  per collection or one per batch (``PmtInfId``), with or without transaction details;
  collections named in ``return_codes`` are credited and then debited back, unpaid;
- ``returns``: a later camt.054 taking collections back (``RtrInf/Rsn/Cd``: AM04, MD06…);
- ``status_report``: a pain.002.001.03 rejecting collections before settlement;
- ``notification`` / ``statement``: a camt.054 / camt.053 with received transfers and
  outgoing debits; a statement can repeat earlier notifications (``repeat``), as the
  end-of-day camt.053 repeats the day's camt.054s.

Entries are written in the element order of the ISO schemas of each version (.001.02,
the EPC-era one most banks send, and .001.08), with xml.etree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from xml.etree import ElementTree as ET  # noqa: S405 (writing only; reading is defusedxml)

from defusedxml import ElementTree as SafeTree

ISO = "urn:iso:std:iso:20022:tech:xsd:"
CAMT054_VERSIONS = ("camt.054.001.02", "camt.054.001.08")
CAMT053_VERSIONS = ("camt.053.001.02", "camt.053.001.08")
PAIN002_VERSION = "pain.002.001.03"
# Bank transaction codes (Domain/Family/Sub-family): a SEPA Core or B2B collection, the
# unpaid (returned) one, a received and an issued SEPA credit transfer.
COLLECTED = {"CORE": ("PMNT", "IDDT", "ESDD"), "B2B": ("PMNT", "IDDT", "BBDD")}
UNPAID = ("PMNT", "IDDT", "UPDD")
RECEIVED_TRANSFER = ("PMNT", "RCDT", "ESCT")
ISSUED_TRANSFER = ("PMNT", "ICDT", "ESCT")


# -- what the bank was sent --------------------------------------------------------------


@dataclass(frozen=True)
class DirectDebit:
    """One ``DrctDbtTxInf`` of a pain.008, with its batch's facts."""

    payment_info_id: str
    scheme: str
    sequence_type: str
    collection_date: date
    end_to_end_id: str
    amount: Decimal
    currency: str
    mandate_id: str
    debtor_name: str
    debtor_iban: str
    remittance: str | None


@dataclass(frozen=True)
class Pain008:
    message_id: str
    version: str
    creditor_name: str
    creditor_iban: str
    debits: tuple[DirectDebit, ...]

    def batches(self) -> dict[str, list[DirectDebit]]:
        grouped: dict[str, list[DirectDebit]] = {}
        for debit in self.debits:
            grouped.setdefault(debit.payment_info_id, []).append(debit)
        return grouped


def read_pain008(content: bytes) -> Pain008:
    """The collections of a pain.008 (.001.02 or .08; the fields read are in both)."""
    root = SafeTree.fromstring(content, forbid_dtd=True)
    namespace = root.tag[1:].split("}", 1)[0]
    _strip(root)
    initiation = root.find("CstmrDrctDbtInitn")
    if not namespace.startswith(ISO + "pain.008") or initiation is None:
        raise ValueError("not a pain.008 file")
    debits, creditor_name, creditor_iban = [], "", ""
    for info in initiation.findall("PmtInf"):
        creditor_name = info.findtext("Cdtr/Nm", "")
        creditor_iban = info.findtext("CdtrAcct/Id/IBAN", "")
        for tx in info.findall("DrctDbtTxInf"):
            amount = tx.find("InstdAmt")
            debits.append(
                DirectDebit(
                    payment_info_id=info.findtext("PmtInfId", ""),
                    scheme=info.findtext("PmtTpInf/LclInstrm/Cd", "CORE"),
                    sequence_type=info.findtext("PmtTpInf/SeqTp", ""),
                    collection_date=date.fromisoformat(info.findtext("ReqdColltnDt", "")),
                    end_to_end_id=tx.findtext("PmtId/EndToEndId", ""),
                    amount=Decimal(amount.text),
                    currency=amount.get("Ccy", "EUR"),
                    mandate_id=tx.findtext("DrctDbtTx/MndtRltdInf/MndtId", ""),
                    debtor_name=tx.findtext("Dbtr/Nm", ""),
                    debtor_iban=tx.findtext("DbtrAcct/Id/IBAN", ""),
                    remittance=tx.findtext("RmtInf/Ustrd"),
                )
            )
    return Pain008(
        initiation.findtext("GrpHdr/MsgId", ""),
        namespace.removeprefix(ISO),
        creditor_name,
        creditor_iban,
        tuple(debits),
    )


# -- what the bank reports -----------------------------------------------------------------


@dataclass(frozen=True)
class Transfer:
    """Money received by credit transfer; ``reference`` is the structured one."""

    amount: Decimal
    reference: str | None = None
    remittance: str | None = None
    debtor_name: str = "Payer NV"
    debtor_iban: str = "BE71096123456769"
    end_to_end_id: str | None = None
    value_date: date | None = None
    pending: bool = False


@dataclass(frozen=True)
class Debit:
    """Money that left the account: a payment we made, a bank fee."""

    amount: Decimal
    creditor_name: str = "Supplier BV"
    creditor_iban: str | None = "NL91ABNA0417164300"
    remittance: str | None = None
    code: tuple[str, str, str] = ISSUED_TRANSFER


@dataclass
class _Tx:
    amount: Decimal
    currency: str = "EUR"
    end_to_end_id: str | None = None
    payment_info_id: str | None = None
    mandate_id: str | None = None
    debtor: tuple[str | None, str | None] = (None, None)  # name, IBAN
    creditor: tuple[str | None, str | None] = (None, None)
    reference: str | None = None
    remittance: str | None = None
    return_code: str | None = None


@dataclass
class _Entry:
    amount: Decimal
    credit: bool
    code: tuple[str, str, str]
    booked_on: date
    value_date: date
    currency: str = "EUR"
    pending: bool = False
    batch: tuple[str, int] | None = None  # PmtInfId, number of transactions
    transactions: list[_Tx] = field(default_factory=list)


def settle(
    pain008: bytes,
    booked_on: date,
    return_codes: dict[str, str] | None = None,
    *,
    version: str = CAMT054_VERSIONS[0],
    batch: bool = False,
    details: bool = True,
) -> bytes:
    """A camt.054 crediting every collection of ``pain008`` on ``booked_on``: one entry
    each, or with ``batch`` one per PmtInf (with its transactions unless not
    ``details``). Collections in ``return_codes`` are then debited back, unpaid."""
    sent = read_pain008(pain008)
    entries = []
    groups = sent.batches().values() if batch else [[d] for d in sent.debits]
    for debits in groups:
        first = debits[0]
        entry = _Entry(
            amount=sum((d.amount for d in debits), Decimal("0.00")),
            credit=True,
            code=COLLECTED.get(first.scheme, COLLECTED["CORE"]),
            booked_on=booked_on,
            value_date=first.collection_date,
            currency=first.currency,
            batch=(first.payment_info_id, len(debits)) if batch else None,
        )
        if details or not batch:
            entry.transactions = [_collected(sent, d) for d in debits]
        entries.append(entry)
    entries += _unpaid(sent, return_codes or {}, booked_on)
    return _camt("camt.054", version, sent.creditor_iban, booked_on, entries, _seed(pain008))


def returns(
    pain008: bytes,
    return_codes: dict[str, str],
    booked_on: date,
    *,
    version: str = CAMT054_VERSIONS[0],
) -> bytes:
    """A camt.054 debiting back the collections in ``return_codes`` (e2e → reason code),
    as a return or a refund the debtor asked for (MD06) arrives days or weeks later."""
    sent = read_pain008(pain008)
    entries = _unpaid(sent, return_codes, booked_on)
    seed = _seed(pain008, str(sorted(return_codes.items())), booked_on.isoformat())
    return _camt("camt.054", version, sent.creditor_iban, booked_on, entries, seed)


def status_report(
    pain008: bytes,
    reject_codes: dict[str, str],
    *,
    reject_all: str | None = None,
    created_on: date | None = None,
) -> bytes:
    """A pain.002.001.03 rejecting the collections in ``reject_codes`` (e2e → code), or
    the whole file with ``reject_all`` (its reason code)."""
    sent = read_pain008(pain008)
    created = created_on or datetime.now(UTC).date()
    seed = _seed(pain008, str(sorted(reject_codes.items())), str(reject_all))
    root, report = _document(PAIN002_VERSION, "CstmrPmtStsRpt")
    _header(report, f"PSR{seed}", created)
    group = ET.SubElement(report, "OrgnlGrpInfAndSts")
    _add(group, "OrgnlMsgId", sent.message_id)
    _add(group, "OrgnlMsgNmId", sent.version)
    _add(group, "OrgnlNbOfTxs", str(len(sent.debits)))
    if reject_all:
        _add(group, "GrpSts", "RJCT")
        _reason(group, reject_all)
        return _bytes(root)
    _add(group, "GrpSts", "PART" if reject_codes else "ACCP")
    for payment_info_id, debits in sent.batches().items():
        rejected = [d for d in debits if d.end_to_end_id in reject_codes]
        if not rejected:
            continue
        info = ET.SubElement(report, "OrgnlPmtInfAndSts")
        _add(info, "OrgnlPmtInfId", payment_info_id)
        _add(info, "PmtInfSts", "RJCT" if len(rejected) == len(debits) else "PART")
        for debit in rejected:
            _rejected_tx(info, debit, reject_codes[debit.end_to_end_id])
    return _bytes(root)


def notification(
    account_iban: str,
    booked_on: date,
    transfers: tuple[Transfer, ...] | list[Transfer] = (),
    *,
    debits: tuple[Debit, ...] | list[Debit] = (),
    version: str = CAMT054_VERSIONS[0],
) -> bytes:
    """A camt.054 telling of transfers received and debits made on ``booked_on``."""
    entries = _movements(account_iban, booked_on, transfers, debits)
    seed = _seed(account_iban.encode(), booked_on.isoformat(), repr(transfers), repr(debits))
    return _camt("camt.054", version, account_iban, booked_on, entries, seed)


def statement(
    account_iban: str,
    booked_on: date,
    transfers: tuple[Transfer, ...] | list[Transfer] = (),
    *,
    debits: tuple[Debit, ...] | list[Debit] = (),
    repeat: tuple[bytes, ...] | list[bytes] = (),
    version: str = CAMT053_VERSIONS[0],
    opening: Decimal = Decimal("0.00"),
) -> bytes:
    """The camt.053 end-of-day statement of ``account_iban``: the entries of the
    notifications in ``repeat`` (same schema version), then ``transfers`` and
    ``debits``; balances from ``opening``."""
    entries = _movements(account_iban, booked_on, transfers, debits)
    seed = _seed(
        account_iban.encode(), booked_on.isoformat(), repr(transfers), repr(debits), *repeat
    )
    repeated = [e for content in repeat for e in _entries_of(content, account_iban, version)]
    return _camt("camt.053", version, account_iban, booked_on, entries, seed, repeated, opening)


# -- building entries --------------------------------------------------------------------------


def _collected(sent: Pain008, debit: DirectDebit, return_code: str | None = None) -> _Tx:
    return _Tx(
        amount=debit.amount,
        currency=debit.currency,
        end_to_end_id=debit.end_to_end_id,
        payment_info_id=debit.payment_info_id,
        mandate_id=debit.mandate_id,
        debtor=(debit.debtor_name, debit.debtor_iban),
        creditor=(sent.creditor_name, sent.creditor_iban),
        remittance=debit.remittance,
        return_code=return_code,
    )


def _unpaid(sent: Pain008, codes: dict[str, str], booked_on: date) -> list[_Entry]:
    unknown = set(codes) - {d.end_to_end_id for d in sent.debits}
    if unknown:
        raise ValueError(f"not collections of this pain.008: {sorted(unknown)}")
    return [
        _Entry(
            amount=d.amount,
            credit=False,
            code=UNPAID,
            booked_on=booked_on,
            value_date=booked_on,
            currency=d.currency,
            transactions=[_collected(sent, d, codes[d.end_to_end_id])],
        )
        for d in sent.debits
        if d.end_to_end_id in codes
    ]


def _movements(account_iban, booked_on, transfers, debits) -> list[_Entry]:
    entries = [
        _Entry(
            amount=t.amount,
            credit=True,
            code=RECEIVED_TRANSFER,
            booked_on=booked_on,
            value_date=t.value_date or booked_on,
            pending=t.pending,
            transactions=[
                _Tx(
                    amount=t.amount,
                    end_to_end_id=t.end_to_end_id,
                    debtor=(t.debtor_name, t.debtor_iban),
                    creditor=(None, account_iban),
                    reference=t.reference,
                    remittance=t.remittance,
                )
            ],
        )
        for t in transfers
    ]
    entries += [
        _Entry(
            amount=d.amount,
            credit=False,
            code=d.code,
            booked_on=booked_on,
            value_date=booked_on,
            transactions=[
                _Tx(
                    amount=d.amount,
                    debtor=(None, account_iban),
                    creditor=(d.creditor_name, d.creditor_iban),
                    remittance=d.remittance,
                )
            ],
        )
        for d in debits
    ]
    return entries


def _entries_of(content: bytes, account_iban: str, version: str) -> list[ET.Element]:
    """The ``Ntry`` elements of a camt.054 for ``account_iban``, to repeat in a statement."""
    root = SafeTree.fromstring(content, forbid_dtd=True)
    namespace = root.tag[1:].split("}", 1)[0].removeprefix(ISO)
    if namespace.rsplit(".", 1)[-1] != version.rsplit(".", 1)[-1]:
        raise ValueError(f"a {version} statement cannot repeat a {namespace} notification")
    _strip(root)
    entries = []
    for report in root.iter("Ntfctn"):
        if report.findtext("Acct/Id/IBAN") != account_iban:
            raise ValueError("the notification is for another account")
        entries += report.findall("Ntry")
    return entries


# -- writing XML ---------------------------------------------------------------------------------


def _camt(kind, version, account_iban, booked_on, entries, seed, repeated=(), opening=None):
    if not version.startswith(kind + ".001."):
        raise ValueError(f"{version} is not a {kind}")
    message, report_tag = (
        ("BkToCstmrStmt", "Stmt") if kind == "camt.053" else ("BkToCstmrDbtCdtNtfctn", "Ntfctn")
    )
    v08 = not version.endswith(".02")
    root, body = _document(version, message)
    _header(body, f"{kind[5:]}{seed}", booked_on)
    report = ET.SubElement(body, report_tag)
    _add(report, "Id", f"{report_tag.upper()}-{seed}")
    _add(report, "CreDtTm", f"{booked_on.isoformat()}T18:00:00")
    account = ET.SubElement(report, "Acct")
    _add(ET.SubElement(account, "Id"), "IBAN", account_iban)
    _add(account, "Ccy", "EUR")
    refs = (f"{seed[:8].upper()}{n:05d}" for n in range(1, 100000))
    if kind == "camt.053":
        _balances(report, booked_on, opening or Decimal("0.00"), entries, repeated)
    for element in repeated:
        # The statement books them under its own references, as banks do.
        element.find("AcctSvcrRef").text = next(refs)
        report.append(element)
    for entry in entries:
        _entry(report, entry, next(refs), v08)
    return _bytes(root)


def _balances(report, booked_on, opening, entries, repeated) -> None:
    moved = sum((e.amount if e.credit else -e.amount for e in entries if not e.pending), Decimal(0))
    for element in repeated:
        if (element.findtext("Sts/Cd") or element.findtext("Sts")) == "BOOK":
            sign = 1 if element.findtext("CdtDbtInd") == "CRDT" else -1
            moved += sign * Decimal(element.findtext("Amt"))
    for code, amount in (("OPBD", opening), ("CLBD", opening + moved)):
        balance = ET.SubElement(report, "Bal")
        _add(ET.SubElement(ET.SubElement(balance, "Tp"), "CdOrPrtry"), "Cd", code)
        _amount(balance, "Amt", abs(amount), "EUR")
        _add(balance, "CdtDbtInd", "CRDT" if amount >= 0 else "DBIT")
        _add(ET.SubElement(balance, "Dt"), "Dt", booked_on.isoformat())


def _entry(report, entry: _Entry, bank_reference: str, v08: bool) -> None:
    ntry = ET.SubElement(report, "Ntry")
    _amount(ntry, "Amt", entry.amount, entry.currency)
    _add(ntry, "CdtDbtInd", "CRDT" if entry.credit else "DBIT")
    status = "PDNG" if entry.pending else "BOOK"
    if v08:
        _add(ET.SubElement(ntry, "Sts"), "Cd", status)
    else:
        _add(ntry, "Sts", status)
    _add(ET.SubElement(ntry, "BookgDt"), "Dt", entry.booked_on.isoformat())
    _add(ET.SubElement(ntry, "ValDt"), "Dt", entry.value_date.isoformat())
    _add(ntry, "AcctSvcrRef", bank_reference)
    domain = ET.SubElement(ET.SubElement(ntry, "BkTxCd"), "Domn")
    _add(domain, "Cd", entry.code[0])
    family = ET.SubElement(domain, "Fmly")
    _add(family, "Cd", entry.code[1])
    _add(family, "SubFmlyCd", entry.code[2])
    if entry.batch is None and not entry.transactions:
        return
    details = ET.SubElement(ntry, "NtryDtls")
    if entry.batch is not None:
        batch = ET.SubElement(details, "Btch")
        _add(batch, "PmtInfId", entry.batch[0])
        _add(batch, "NbOfTxs", str(entry.batch[1]))
    for tx in entry.transactions:
        _transaction(details, tx, entry.credit, v08)


def _transaction(details, tx: _Tx, credit: bool, v08: bool) -> None:
    element = ET.SubElement(details, "TxDtls")
    refs = ET.SubElement(element, "Refs")
    _add(refs, "PmtInfId", tx.payment_info_id)
    _add(refs, "EndToEndId", tx.end_to_end_id or "NOTPROVIDED")
    _add(refs, "MndtId", tx.mandate_id)
    if v08:
        _amount(element, "Amt", tx.amount, tx.currency)
        _add(element, "CdtDbtInd", "CRDT" if credit else "DBIT")
    else:
        amounts = ET.SubElement(element, "AmtDtls")
        _amount(ET.SubElement(amounts, "TxAmt"), "Amt", tx.amount, tx.currency)
    parties = ET.SubElement(element, "RltdPties")
    for role, (name, iban) in (("Dbtr", tx.debtor), ("Cdtr", tx.creditor)):
        if name:
            party = ET.SubElement(parties, role)
            _add(ET.SubElement(party, "Pty") if v08 else party, "Nm", name)
        if iban:
            _add(ET.SubElement(ET.SubElement(parties, f"{role}Acct"), "Id"), "IBAN", iban)
    if tx.reference or tx.remittance:
        remittance = ET.SubElement(element, "RmtInf")
        _add(remittance, "Ustrd", tx.remittance)
        if tx.reference:
            creditor_ref = ET.SubElement(ET.SubElement(remittance, "Strd"), "CdtrRefInf")
            kind = ET.SubElement(creditor_ref, "Tp")
            _add(ET.SubElement(kind, "CdOrPrtry"), "Cd", "SCOR")
            _add(kind, "Issr", "BBA")  # the Belgian bankers' structured communication
            _add(creditor_ref, "Ref", tx.reference)
    if tx.return_code:
        _add(ET.SubElement(ET.SubElement(element, "RtrInf"), "Rsn"), "Cd", tx.return_code)


def _rejected_tx(info, debit: DirectDebit, code: str) -> None:
    tx = ET.SubElement(info, "TxInfAndSts")
    _add(tx, "OrgnlEndToEndId", debit.end_to_end_id)
    _add(tx, "TxSts", "RJCT")
    _reason(tx, code)
    original = ET.SubElement(tx, "OrgnlTxRef")
    _amount(ET.SubElement(original, "Amt"), "InstdAmt", debit.amount, debit.currency)
    _add(original, "ReqdColltnDt", debit.collection_date.isoformat())
    _add(ET.SubElement(original, "MndtRltdInf"), "MndtId", debit.mandate_id)
    _add(ET.SubElement(original, "Dbtr"), "Nm", debit.debtor_name)
    _add(ET.SubElement(ET.SubElement(original, "DbtrAcct"), "Id"), "IBAN", debit.debtor_iban)


def _reason(parent, code: str) -> None:
    _add(ET.SubElement(ET.SubElement(parent, "StsRsnInf"), "Rsn"), "Cd", code)


def _document(version: str, message: str) -> tuple[ET.Element, ET.Element]:
    root = ET.Element("Document", {"xmlns": ISO + version})
    return root, ET.SubElement(root, message)


def _header(body, message_id: str, created: date) -> None:
    header = ET.SubElement(body, "GrpHdr")
    _add(header, "MsgId", message_id[:35])
    _add(header, "CreDtTm", f"{created.isoformat()}T18:00:00")


def _add(parent, tag: str, text: str | None) -> ET.Element | None:
    if text is None or text == "":
        return None
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _amount(parent, tag: str, amount: Decimal, currency: str) -> None:
    element = ET.SubElement(parent, tag, {"Ccy": currency})
    element.text = f"{amount:.2f}"


def _bytes(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def _strip(root: ET.Element) -> None:
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1]


def _seed(content: bytes, *parts: str | bytes) -> str:
    """A short id that is the same for the same input: reports can be made again."""
    digest = hashlib.sha256(content)
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
    return digest.hexdigest()[:16]
