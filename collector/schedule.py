"""The periodic work, as data: each domain's ``jobs.PERIODIC``, read by ``cron.py``
(rq's cron scheduler) and by the in-process scheduler that ``make run`` uses when Redis
is not there."""

from collector.accounts import jobs as accounts_jobs
from collector.direct_debit import jobs as direct_debit_jobs
from collector.documents import jobs as documents_jobs
from collector.dunning import jobs as dunning_jobs
from collector.exact import jobs as exact_jobs
from collector.mail import jobs as mail_jobs
from collector.payments import jobs as payments_jobs
from collector.runtime import jobs as runtime_jobs
from collector.runtime.queue import Periodic
from collector.teamleader import jobs as teamleader_jobs

SCHEDULE: tuple[Periodic, ...] = (
    *runtime_jobs.PERIODIC,
    *accounts_jobs.PERIODIC,
    *documents_jobs.PERIODIC,
    *teamleader_jobs.PERIODIC,
    *direct_debit_jobs.PERIODIC,
    *dunning_jobs.PERIODIC,
    *mail_jobs.PERIODIC,
    *payments_jobs.PERIODIC,
    *exact_jobs.PERIODIC,
)
