"""The shell's own pages: home, the documents overview and a document's page, customers, job
history, what needs a person."""

from collector.web import customers, home, invoices, job_runs, problems

BLUEPRINTS = (home.bp, invoices.bp, customers.bp, job_runs.bp, problems.bp)
