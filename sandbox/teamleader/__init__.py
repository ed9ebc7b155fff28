"""Teamleader Focus emulator: OAuth2, the RPC API, webhooks and a control API.

Faithful to ``reference/teamleader-api.md``: shapes of the fixtures, documented status
codes, 200 requests per sliding minute, single-use codes and rotating refresh tokens,
short-lived download links. Everything lives in memory behind one lock.

``create_app(config)`` keys (defaults in ``emulator.DEFAULTS``):

=====================  ==============================================================
SEED                   42 — seed of the generated data (same seed + day → same data)
CONTACT_COUNT          12 — contacts to generate
COMPANY_COUNT          18 — companies to generate
INVOICE_COUNT          60 — invoices over the last 90 days (subscription ones included)
SUBSCRIPTION_COUNT     4 — subscriptions (monthly; each generated some invoices)
RATE_LIMIT             200 — requests per window per client id per account
RATE_WINDOW_SECONDS    60 — sliding window length (real monotonic time)
ACCESS_TOKEN_TTL       3600 — access token lifetime, seconds (emulator clock)
CODE_TTL               600 — authorization code lifetime, seconds (emulator clock)
DOWNLOAD_TTL           60 — lifetime of download locations, seconds (emulator clock)
CLIENTS                {"collector-sandbox": "sandbox-secret"} — client id → secret
PROFILE_OPTIONS        ["Direct debit", "Payment link", "Bank transfer"] — options of the
                       "Payment profile" custom fields (invoice and subscription context)
WEBHOOK_TIMEOUT        5 — seconds per webhook POST
CLOCK_START            None — ISO datetime to start the emulator clock at (None: now)
=====================  ==============================================================

Routes: ``GET/POST /oauth2/authorize``, ``POST /oauth2/access_token``,
``POST /<resource>.<action>``, ``GET /_files/<token>`` and ``/_control/…`` (emulator only,
see ``control.py``; ``/_control/faults`` spoils API answers, ``/_control/files/faults`` the
next download links: ``expired``, ``not_pdf``, ``oversized``, ``foreign_host``). All URLs
it hands out are built with ``url_for(_external=True)``, so the app can be mounted under a
prefix.
"""

from .app import create_app

__all__ = ["create_app"]
