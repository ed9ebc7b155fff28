"""Run every emulator in one process: ``python -m sandbox --port 5001``.

``--teamleader-rate-limit N`` raises (or lowers) Teamleader's calls per sliding minute, for
runs about something else than its budget (the fault suite, ``make faults``).
``--allow-local-webhooks`` lets the payment provider accept a ``webhookUrl`` on this
machine or a private network, which real Mollie refuses (the demo's service runs on
127.0.0.1).
"""

import argparse

from werkzeug.serving import run_simple

from sandbox import create_app
from sandbox.teamleader.emulator import DEFAULTS as TEAMLEADER_DEFAULTS


def main(argv: list[str] | None = None) -> None:
    args, config = parse(argv)
    run_simple(args.host, args.port, create_app(config), threaded=True)


def parse(argv: list[str] | None = None) -> tuple[argparse.Namespace, dict]:
    """The command line's arguments, and the emulators' config they make."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument(
        "--teamleader-rate-limit",
        type=int,
        default=TEAMLEADER_DEFAULTS["RATE_LIMIT"],
        help="Teamleader's requests per sliding minute (default: the real 200)",
    )
    parser.add_argument(
        "--allow-local-webhooks",
        action="store_true",
        help="the payment provider accepts webhook URLs on localhost and private addresses",
    )
    args = parser.parse_args(argv)
    if args.teamleader_rate_limit < 1:
        parser.error("--teamleader-rate-limit must be at least 1")
    config = {
        "teamleader": {"RATE_LIMIT": args.teamleader_rate_limit},
        "provider": {"ALLOW_LOCAL_WEBHOOKS": args.allow_local_webhooks},
    }
    return args, config


if __name__ == "__main__":
    main()
