"""Bank-file test helpers: our creditor, and the pain.008 of a run written by sepaxml the
way the bank receives it, so the sandbox bank can answer it."""

from __future__ import annotations

from sepaxml import SepaDD

from collector.accounts.models import Creditor
from collector.direct_debit.models import CollectionRun
from collector.extensions import db
from sandbox import bank

CREDITOR_IBAN = "BE62510007547061"
CREDITOR_ID = "BE69ZZZ050D000000008"
OTHER_IBAN = "BE71096123456769"


def make_creditor(iban: str = CREDITOR_IBAN) -> Creditor:
    creditor = Creditor(
        name="Collector Test BV", iban=iban, bic="VAPEBE22", creditor_identifier=CREDITOR_ID
    )
    db.session.add(creditor)
    db.session.commit()
    return creditor


def pain008_for(run: CollectionRun, *, batch: bool = True) -> bytes:
    """The pain.008.001.02 of ``run``'s collections; the run's MsgId and each
    collection's PmtInfId are set from the file, as a collection run does."""
    sepa = SepaDD(
        {
            "name": "Collector Test BV",
            "IBAN": CREDITOR_IBAN,
            "BIC": "VAPEBE22",
            "batch": batch,
            "creditor_id": CREDITOR_ID,
            "currency": "EUR",
        },
        schema="pain.008.001.02",
        clean=True,
    )
    for c in run.collections:
        sepa.add_payment(
            {
                "name": c.mandate.debtor_name,
                "IBAN": c.mandate.iban,
                "amount": int(c.amount * 100),
                "type": c.sequence_type,
                "collection_date": c.collection_date,
                "mandate_id": c.mandate.reference,
                "mandate_date": c.mandate.signed_on,
                "description": c.invoice.number,
                "endtoend_id": c.end_to_end_id,
            }
        )
    content = sepa.export(validate=True)
    sent = bank.read_pain008(content)
    run.message_id = sent.message_id
    batches = {d.end_to_end_id: d.payment_info_id for d in sent.debits}
    for c in run.collections:
        c.payment_info_id = batches[c.end_to_end_id]
    db.session.commit()
    return content
