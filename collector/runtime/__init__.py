"""What every domain runs on, with Flask and the database: background jobs (rq or
in-process) and their history, the outbox doorbell, lists and paging, what every
blueprint and form shares."""
