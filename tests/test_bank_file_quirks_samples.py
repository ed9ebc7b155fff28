"""Bank files shaped like the ones Belgian and Dutch banks send, written for the quirk
tests (no bank's data): a camt.053.001.02 statement with its balances and entries, and a
pain.002.001.03 status report. Each piece is a template filled with the test's ids."""

from __future__ import annotations

from collections.abc import Iterable

CAMT053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
DAY = "2026-12-03"


def iban_account(iban: str, currency: str = "EUR") -> str:
    return f"""<Acct>
        <Id><IBAN>{iban}</IBAN></Id>
        <Ccy>{currency}</Ccy>
        <Ownr><Nm>COLLECTOR TEST BV</Nm></Ownr>
        <Svcr><FinInstnId><BIC>VAPEBE22</BIC></FinInstnId></Svcr>
      </Acct>"""


def numbered_account(number: str, currency: str = "EUR") -> str:
    """An account named by its domestic number (``Othr/Id``), as some banks still do."""
    return f"""<Acct>
        <Id><Othr><Id>{number}</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id>
        <Ccy>{currency}</Ccy>
        <Ownr><Nm>COLLECTOR TEST BV</Nm></Ownr>
      </Acct>"""


def statement(*accounts: tuple[str, Iterable[str]], message_id: str = "STMT-QUIRK-1") -> bytes:
    """A camt.053.001.02 with one ``Stmt`` per (account XML, entries XML)."""
    stmts = "".join(
        f"""
    <Stmt>
      <Id>{message_id}-{n}</Id>
      <ElctrncSeqNb>{200 + n}</ElctrncSeqNb>
      <CreDtTm>{DAY}T21:04:11</CreDtTm>
      <FrToDt><FrDtTm>{DAY}T00:00:00</FrDtTm><ToDtTm>{DAY}T23:59:59</ToDtTm></FrToDt>
      {account}
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">10250.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>{DAY}</Dt></Dt>
      </Bal>
      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">10371.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>{DAY}</Dt></Dt>
      </Bal>
      {"".join(entries)}
    </Stmt>"""
        for n, (account, entries) in enumerate(accounts, 1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{CAMT053}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>{message_id}</MsgId>
      <CreDtTm>{DAY}T21:04:11</CreDtTm>
      <MsgPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></MsgPgntn>
    </GrpHdr>{stmts}
  </BkToCstmrStmt>
</Document>
""".encode()


def entry(
    amount: str,
    details: Iterable[str] = (),
    *,
    currency: str = "EUR",
    credit: bool = True,
    code: str = "PMNT/IDDT/ESDD",
    batch: str = "",
    ref: str = "B3C03BG0001",
    charges: str = "",
) -> str:
    """An ``Ntry``: booked, with its bank transaction code and optional batch and details."""
    domain, family, sub = code.split("/")
    details = list(details)
    inner = batch + "".join(details)
    fee = (
        f'<Chrgs><Amt Ccy="{currency}">{charges}</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
        "<Tp><Cd>COMM</Cd></Tp></Chrgs>"
        if charges
        else ""
    )
    return f"""
      <Ntry>
        <NtryRef>{ref}</NtryRef>
        <Amt Ccy="{currency}">{amount}</Amt>
        <CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{DAY}</Dt></BookgDt>
        <ValDt><Dt>{DAY}</Dt></ValDt>
        <AcctSvcrRef>{ref}</AcctSvcrRef>
        <BkTxCd>
          <Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn>
          <Prtry><Cd>01-50-000</Cd><Issr>FEBELFIN</Issr></Prtry>
        </BkTxCd>
        {fee}
        {f"<NtryDtls>{inner}</NtryDtls>" if inner else ""}
      </Ntry>"""


def batch(payment_info_id: str, count: int, total: str = "") -> str:
    amount = f'<TtlAmt Ccy="EUR">{total}</TtlAmt>' if total else ""
    return f"<Btch><PmtInfId>{payment_info_id}</PmtInfId><NbOfTxs>{count}</NbOfTxs>{amount}</Btch>"


def collected(
    end_to_end_id: str, amount: str = "", currency: str = "EUR", mandate: str = ""
) -> str:
    """The ``TxDtls`` of a settled direct debit; no ``AmtDtls`` when ``amount`` is empty
    (some banks give the amount only on the entry)."""
    amt = (
        f'<AmtDtls><TxAmt><Amt Ccy="{currency}">{amount}</Amt></TxAmt></AmtDtls>' if amount else ""
    )
    return f"""
          <TxDtls>
            <Refs>
              <PmtInfId>NOTPROVIDED</PmtInfId>
              <EndToEndId>{end_to_end_id}</EndToEndId>
              <MndtId>{mandate or "MANDATE-" + end_to_end_id}</MndtId>
            </Refs>
            {amt}
            <RltdPties>
              <Dbtr><Nm>Bakkerij Peeters</Nm></Dbtr>
              <DbtrAcct><Id><IBAN>BE68539007547034</IBAN></Id></DbtrAcct>
            </RltdPties>
            <RmtInf><Ustrd>Invoice {end_to_end_id}</Ustrd></RmtInf>
          </TxDtls>"""


def transfer(
    amount: str,
    *,
    reference: str = "",
    remittance: str = "",
    return_reason: str = "",
    name: str = "Janssens NV",
) -> str:
    """The ``TxDtls`` of a received transfer, or of one of ours coming back with a
    return reason (``RtrInf``)."""
    if reference:
        rmt = (
            "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry>"
            f"<Issr>BBA</Issr></Tp><Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>"
        )
    else:
        rmt = f"<RmtInf><Ustrd>{remittance}</Ustrd></RmtInf>" if remittance else ""
    returned = (
        f"<RtrInf><Rsn><Cd>{return_reason}</Cd></Rsn><AddtlInf>ACCOUNT CLOSED</AddtlInf></RtrInf>"
        if return_reason
        else ""
    )
    return f"""
          <TxDtls>
            <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>
            <RltdPties>
              <Dbtr><Nm>{name}</Nm></Dbtr>
              <DbtrAcct><Id><IBAN>BE71096123456769</IBAN></Id></DbtrAcct>
            </RltdPties>
            {rmt}
            {returned}
          </TxDtls>"""


def status_report(
    original_message_id: str,
    original_name: str,
    payment_info_id: str,
    rejected: dict[str, str],
) -> bytes:
    """A pain.002.001.03 rejecting the transactions ``rejected`` (end-to-end id →
    reason code) of a pain.008 named ``original_name``."""
    transactions = "".join(
        f"""
      <TxInfAndSts>
        <StsId>ST{n:04d}</StsId>
        <OrgnlEndToEndId>{e2e}</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf><Orgtr><Nm>BANK</Nm></Orgtr><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf>
      </TxInfAndSts>"""
        for n, (e2e, code) in enumerate(rejected.items(), 1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{PAIN002}">
  <CstmrPmtStsRpt>
    <GrpHdr>
      <MsgId>STS-{original_message_id}</MsgId>
      <CreDtTm>{DAY}T06:30:00</CreDtTm>
      <InitgPty><Id><OrgId><BICOrBEI>BOFIIE2D</BICOrBEI></OrgId></Id></InitgPty>
    </GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>{original_message_id}</OrgnlMsgId>
      <OrgnlMsgNmId>{original_name}</OrgnlMsgNmId>
      <GrpSts>PART</GrpSts>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>{payment_info_id}</OrgnlPmtInfId>
      <PmtInfSts>PART</PmtInfSts>{transactions}
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
""".encode()
