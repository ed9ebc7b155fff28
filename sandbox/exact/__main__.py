"""Run the emulator standalone: ``python -m sandbox.exact --port 5002``."""

from __future__ import annotations

import argparse
import json

from werkzeug.serving import run_simple

from . import create_app
from .emulator import EXTENSION


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve (threaded) until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.exact", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5002)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--minute-limit", type=int, default=60, help="MINUTE_LIMIT")
    parser.add_argument(
        "--describe", action="store_true", help="print the seeded user and divisions and exit"
    )
    args = parser.parse_args(argv)
    app = create_app({"SEED": args.seed, "MINUTE_LIMIT": args.minute_limit})
    if args.describe:
        print(json.dumps(app.extensions[EXTENSION].describe(), indent=2))
        return
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
