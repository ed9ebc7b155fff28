"""The sandbox bank from a terminal, for the demo: answer a run's pain.008 with the file a
bank would send back, written to standard output.

    python -m sandbox.bank_cli settle  pain.008.xml > camt054-settled.xml
    python -m sandbox.bank_cli return  pain.008.xml DD-1-7=MD06 > camt054-refund.xml
    python -m sandbox.bank_cli reject  pain.008.xml DD-1-7=AM04 > pain002.xml

Upload the result under *Bank files*.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from sandbox import bank


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.bank_cli", description=__doc__)
    parser.add_argument("answer", choices=("settle", "return", "reject"))
    parser.add_argument("pain008", type=Path, help="the run's file, as downloaded")
    parser.add_argument("codes", nargs="*", help="END-TO-END-ID=REASON, e.g. DD-1-7=MD06")
    args = parser.parse_args(argv)
    content = args.pain008.read_bytes()
    try:
        codes = dict(code.split("=", 1) for code in args.codes)
    except ValueError:
        parser.error("codes are END-TO-END-ID=REASON, e.g. DD-1-7=MD06")
    today = datetime.now(UTC).date()
    if args.answer == "settle":
        answer = bank.settle(content, today)
    elif not codes:
        parser.error(f"{args.answer} needs at least one END-TO-END-ID=REASON")
    elif args.answer == "return":
        answer = bank.returns(content, codes, today)
    else:
        answer = bank.status_report(content, codes)
    sys.stdout.buffer.write(answer)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
