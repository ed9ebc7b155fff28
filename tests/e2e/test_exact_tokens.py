"""Exact Online tokens under concurrency (issue 8, acceptance 3): eight workers with an
expiring token cause one refresh and lose nothing; no refresh is attempted too early.

Exact refuses a refresh while the access token is younger than ~570 s and kills a refresh
token at its first use (reference §1.4–1.5). The sandbox's clock is moved forward through
its control API, and every worker's token source (and its OAuth client) reads a clock that
agrees with it: real time plus the same offset. The sandbox's token log is the ground
truth: every token-endpoint call with its outcome and the access token's age.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from collector.exact import ExactOAuth, OAuthError, build_session
from collector.exact import setup as exact_setup
from collector.exact.connection import ExactTokenSource
from collector.exact.models import ExactConnection
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader.models import ConnectionStatus
from tests.e2e import test_exact as exact_e2e
from tests.support import exact as support

# The Exact sandbox and the app pointed at it, as in the forwarding tests.
exact_sandbox = exact_e2e.exact_sandbox
exact_app = exact_e2e.exact_app

WORKERS = 8
CALLS = 5  # API calls per worker
SANDBOX_REFRESH_MIN_AGE = 570  # the sandbox's (and Exact's) too-early line, seconds


class World:
    """One connection made through the sandbox's OAuth pages, and the sandbox's clock."""

    def __init__(self, app, sandbox, connection: ExactConnection):
        self.app = app
        self.sandbox = sandbox
        self.connection_id = connection.id
        self.host = connection.host
        self.division = connection.choices["divisions"][support.DEMO_DIVISION_INDEX]["code"]
        self.offset = timedelta(0)
        self.journals: int | None = None

    def clock(self) -> datetime:
        """The workers' clock, agreeing with the sandbox's: both tick in real time from
        the same offset (the test clock is frozen, and would fall behind the sandbox's
        while the OAuth pages are walked through)."""
        return datetime.now(UTC) + self.offset

    def age_token(self, seconds: float) -> None:
        """Move both clocks so the stored access token is ``seconds`` old (give or take the
        few milliseconds between Exact issuing it and us storing it)."""
        issued = self.stored()["issued_at"]
        advance = (issued + timedelta(seconds=seconds) - self.clock()).total_seconds()
        self.sandbox.control("POST", "clock", json={"advance": advance})
        self.offset += timedelta(seconds=advance)

    def stored(self) -> dict:
        """The tokens as stored on the connection row (read fresh, as another worker would)."""
        db.session.expire_all()
        row = db.session.get(ExactConnection, self.connection_id)
        cipher = runtime_setup.cipher(self.app)
        return {
            "access": cipher.decrypt(row.access_token_enc),
            "refresh": cipher.decrypt(row.refresh_token_enc),
            "issued_at": row.access_issued_at,
            "expires_at": row.access_expires_at,
            "status": row.status,
        }

    def token_source(self) -> ExactTokenSource:
        """What a worker builds: its own OAuth client and token source, on our clock."""
        oauth = ExactOAuth(
            build_session(),
            self.host,
            self.app.config["EXACT_CLIENT_ID"],
            self.app.config["EXACT_CLIENT_SECRET"],
            exact_setup.redirect_uri(self.app),
            clock=self.clock,
        )
        return ExactTokenSource(
            self.connection_id, oauth, runtime_setup.cipher(self.app), clock=self.clock
        )

    def worker(self, start: threading.Barrier | None, calls: int = CALLS) -> dict:
        """One worker, as an rq job runs: its own app context, token source and client
        (built by the app's factory, so paced through Redis), ``calls`` API calls."""
        with self.app.app_context():
            source = self.token_source()
            client = exact_setup.client_factory(self.app)(source, self.host, self.division)
            if start is not None:
                start.wait(timeout=30)
            outcomes = []
            for _ in range(calls):
                try:
                    outcomes.append(len(client.journals()))
                except Exception as exc:  # every failure is reported, none hidden
                    outcomes.append(f"{type(exc).__name__}: {exc}")
            return {"outcomes": outcomes, "refreshes": source.refreshes}

    def run_workers(self, workers: int = WORKERS) -> list[dict]:
        """``workers`` threads, released together, each making its calls."""
        start = threading.Barrier(workers)
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda _: self.worker(start), range(workers)))

    def refresh_calls(self) -> list[dict]:
        """Every refresh that reached the sandbox's token endpoint, whatever its outcome."""
        return [t for t in self.sandbox.control("GET", "tokens") if t["grant"] == "refresh_token"]

    def api_statuses(self) -> list[int]:
        return [c["status"] for c in self.sandbox.control("GET", "calls")]


@pytest.fixture
def world(exact_app, exact_sandbox, admin) -> World:
    connection = support.connect(exact_app, admin)  # committed: the workers read it
    world = World(exact_app, exact_sandbox, connection)
    [journals] = world.worker(None, calls=1)["outcomes"]
    assert isinstance(journals, int) and journals > 0, journals
    world.journals = journals  # what every successful call returns
    exact_sandbox.control("DELETE", "calls")
    assert world.refresh_calls() == []  # the connect exchanged a code, nothing else
    return world


def assert_every_call_succeeded(world: World, results: list[dict]) -> None:
    assert [r["outcomes"] for r in results] == [[world.journals] * CALLS] * len(results)
    # The sandbox saw each of those calls once and refused none (no 401, no 429).
    assert world.api_statuses() == [200] * (len(results) * CALLS)


@pytest.mark.postgres
@pytest.mark.parametrize("age", [580, 605], ids=["due", "expired"])
def test_eight_workers_with_an_expiring_token_refresh_once(world, exact_sandbox, age):
    old = world.stored()
    world.age_token(age)

    results = world.run_workers()

    assert_every_call_succeeded(world, results)
    refreshes = world.refresh_calls()
    assert len(refreshes) == 1, refreshes  # one refresh, none refused as too early
    assert refreshes[0]["outcome"] == "ok"
    assert refreshes[0]["access_token_age"] >= SANDBOX_REFRESH_MIN_AGE
    assert sum(r["refreshes"] for r in results) == 1  # and it was one of the workers'

    # The new pair is what is stored, and the sandbox agrees it is the live one.
    new = world.stored()
    assert new["status"] == ConnectionStatus.CONNECTED
    assert new["access"] != old["access"] and new["refresh"] != old["refresh"]
    assert new["issued_at"] > old["issued_at"]
    assert new["expires_at"] - new["issued_at"] == timedelta(seconds=600)
    emulator = exact_sandbox.app.extensions["exact_emulator"]
    with emulator.store.lock:
        assert emulator.store.refresh_tokens[old["refresh"]]["used"] is True
        assert emulator.store.refresh_tokens[new["refresh"]]["used"] is False
        assert new["access"] in emulator.store.access_tokens

    # A later worker uses the stored pair as it is: its call works, nothing is refreshed.
    exact_sandbox.control("DELETE", "calls")
    assert world.worker(None, calls=1) == {"outcomes": [world.journals], "refreshes": 0}
    assert world.api_statuses() == [200]
    assert len(world.refresh_calls()) == 1

    # Had a second worker refreshed with the old refresh token, Exact would have refused
    # it ("Old refresh token used") — what the row lock and the re-read prevent.
    with pytest.raises(OAuthError) as refused:
        world.token_source().oauth.refresh(old["refresh"])
    assert refused.value.old_refresh_token


@pytest.mark.postgres
@pytest.mark.parametrize("age", [100, 565], ids=["young", "near-the-line"])
def test_no_refresh_is_attempted_too_early(world, exact_sandbox, age):
    old = world.stored()
    world.age_token(age)

    results = world.run_workers()

    assert_every_call_succeeded(world, results)
    assert world.refresh_calls() == []  # not one attempt, refused or not
    assert [r["refreshes"] for r in results] == [0] * WORKERS
    assert world.stored()["access"] == old["access"]


def test_the_sandbox_clock_is_what_ages_the_token(world, exact_sandbox):
    """The premise of the tests above: the sandbox refuses a refresh of a young token
    as too early, and the token source's clock agrees with the sandbox's."""
    refresh_token = world.stored()["refresh"]
    world.age_token(300)
    sandbox_now = exact_sandbox.control("GET", "clock")["timestamp"]
    assert abs(world.clock().timestamp() - sandbox_now) < 1.0
    with pytest.raises(OAuthError) as refused:
        world.token_source().oauth.refresh(refresh_token)
    assert refused.value.too_early
    [attempt] = world.refresh_calls()
    assert attempt["outcome"] == "access_denied"
    # Within the clocks' agreement above (a second) of the 300 s aimed at, and too young.
    assert 299 - 1.0 <= attempt["access_token_age"] < SANDBOX_REFRESH_MIN_AGE
