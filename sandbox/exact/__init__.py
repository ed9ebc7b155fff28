"""Exact Online emulator: OAuth2 per country host, the REST API (OData v2) and a control API.

Faithful to ``reference/exact-online-api.md``: expires_in as a string, single-use codes
that need URL-decoding, rotating single-use refresh tokens ("Old refresh token used."), the
too-early refresh refusal, 30-day refresh tokens; ``{"d": …}`` envelopes, ``__next`` paging
at 60 rows, Atom XML without ``Accept: application/json``; per-division minutely and daily
rate limits with the six ``X-RateLimit-*`` headers; business validation errors as HTTP 500.
Everything lives in memory behind one lock.

``create_app(config)`` keys (defaults in ``emulator.DEFAULTS``):

==================  ==================================================================
SEED                42 — seed of the GUIDs (same seed → same IDs, see ``seed.guid``)
COUNTRY             "be" — the only country host where the demo user exists
CLIENTS             {"collector-sandbox": "sandbox-secret"} — client id → secret
ACCESS_TOKEN_TTL    600 — seconds (emulator clock)
REFRESH_MIN_AGE     570 — a refresh with a younger access token → 400 TooEarlyToRefreshTokens
REFRESH_TOKEN_TTL   30 days — seconds after issue a refresh token stops working
CODE_TTL            180 — authorization code lifetime, seconds
MINUTE_LIMIT        60 — calls per window per client per division
MINUTE_WINDOW       60.0 — seconds (fixed windows on the emulator clock; tests scale it)
DAILY_LIMIT         5000 — calls per UTC day per client per division
PAGE_SIZE           60 — rows per page of a list
ACCOUNT_COUNT       8 — seeded accounts per division (account 6 is a prospect; accounts
                    4 and 5 hold their VAT number as typed: ``BE 0xxx.xxx.xxx``, no prefix)
CLOCK_START         None — ISO datetime to start the emulator clock at (None: now)
==================  ==================================================================

Routes (a standalone app serves them at its root; the combined sandbox under ``/exact``):
``/{country}/api/oauth2/auth`` (GET page, POST decision), ``/{country}/api/oauth2/token``,
``/{country}/api/v1/current/Me``, ``/{country}/api/v1/{division}/{service}/{Entity}`` and
``/_control/…`` (see ``control.py``).
"""

from .app import create_app

__all__ = ["create_app"]
