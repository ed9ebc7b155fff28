"""Direct debit and the bank: SEPA mandates and their CSV upload, collection runs
written as pain.008 files, and the bank's files coming back (camt.053/054 statements,
pain.002 status reports) with the transactions they carry."""
