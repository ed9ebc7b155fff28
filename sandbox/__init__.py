"""Emulators of the third-party services, for the demo, end-to-end tests and benchmarks.

``create_app()`` mounts every emulator under its own prefix in one WSGI app:
``/teamleader`` (Teamleader Focus: OAuth host and API host alike) and ``/provider`` (the
Mollie-style payment provider: API under ``/provider/v2``, checkout, control). Run it with
``python -m sandbox --port 5001``; ``make run`` starts it beside the service.
"""

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Response

from sandbox import provider, teamleader

PREFIXES = {"teamleader": "/teamleader", "provider": "/provider"}


def _index(environ, start_response):
    links = "".join(
        f'<li><a href="{prefix}/_control/">{name}</a></li>' for name, prefix in PREFIXES.items()
    )
    body = f"<h1>collector sandbox</h1><ul>{links}</ul>"
    return Response(body, content_type="text/html")(environ, start_response)


def create_app(config: dict | None = None):
    """All emulators in one WSGI app; ``config`` maps an emulator name to its config."""
    config = config or {}
    apps = {
        "/teamleader": teamleader.create_app(config.get("teamleader")),
        "/provider": provider.create_app(config.get("provider")),
    }
    combined = DispatcherMiddleware(_index, apps)
    combined.emulators = {"teamleader": apps["/teamleader"], "provider": apps["/provider"]}
    return combined
