"""Emulators of the third-party services, for the demo, end-to-end tests and benchmarks.

``create_app()`` mounts every emulator under its own prefix in one WSGI app:
``/teamleader`` (Teamleader Focus: OAuth host and API host alike), ``/provider`` (the
Mollie-style payment provider: API under ``/provider/v2``, checkout, control) and ``/exact``
(Exact Online: ``/exact/{country}/api/…`` per country host, control under
``/exact/_control``). Run it with ``python -m sandbox --port 5001``; ``make run`` starts it
beside the service.
"""

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Response

from sandbox import exact, provider, teamleader

PREFIXES = {"teamleader": "/teamleader", "provider": "/provider", "exact": "/exact"}


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
        "/exact": exact.create_app(config.get("exact")),
    }
    combined = DispatcherMiddleware(_index, apps)
    combined.emulators = {name: apps[prefix] for name, prefix in PREFIXES.items()}
    return combined
