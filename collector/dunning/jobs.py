"""The dunning domain's jobs: none of its own. The daily run that owes each document its
steps, and "send reminder now", are mail jobs (``mail.jobs.send_reminders`` and
``send_reminders_now``): they send what this domain's schedule decides."""
