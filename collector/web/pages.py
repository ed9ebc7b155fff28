"""The shell's own pages: home, the documents overview and a document's page, customers,
payments, job history, what needs a person."""

from collector.web import customers, home, invoices, job_runs, payments, problems

BLUEPRINTS = (home.bp, invoices.bp, customers.bp, payments.bp, job_runs.bp, problems.bp)
