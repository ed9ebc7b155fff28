"""A forwarding run in a process of its own that dies right after Exact answered the Nth
sales entry, before recording it (``python tests/support/exact_crash.py N``).

The end-to-end test uses it for the crash window the journal search exists for: Exact
booked the entry, our database never heard of it. The process exits with status 9, like a
worker killed by the OOM killer or a deploy.
"""

import json
import os
import sys

from collector import create_app
from collector.exact import forwarding as exact_forwarding
from collector.exact import setup as exact_setup
from collector.exact.connection import current_exact
from collector.exact.models import SyncTrigger
from collector.runtime import setup as runtime_setup
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.connection import current_connection


def main(after: int) -> None:
    app = create_app(json.loads(os.environ["COLLECTOR_TEST_CONFIG"]))
    with app.app_context():
        connection = current_exact()
        exact = exact_setup.client(app, connection)
        post = exact.create_sales_entry
        answered = []

        def post_then_die(body):
            entry = post(body)
            answered.append(entry)
            if len(answered) == after:
                os._exit(9)  # no commit, no cleanup: the process is gone
            return entry

        exact.create_sales_entry = post_then_die
        exact_forwarding.forward(
            connection,
            exact,
            teamleader_setup.client(app, current_connection()),
            runtime_setup.document_store(app),
            trigger=SyncTrigger.MANUAL,
        )
    sys.exit(0)


if __name__ == "__main__":
    main(int(sys.argv[1]))
