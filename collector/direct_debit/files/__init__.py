"""The ISO 20022 files we exchange with banks, read and written without Flask:
pain.008 out, camt.053/camt.054 and pain.002 in."""
