"""Documents: invoices and credit notes, their customers and payment profiles, the
ledger and state machine, the timeline, overpayments and the status callbacks told
about every state change. Other domains follow documents through ``signals``."""
