"""Error mapping, retries, 429 waits and token refresh — against the real client."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from responses import matchers
from urllib3.exceptions import MaxRetryError, NewConnectionError

from collector.exact import (
    AuthError,
    ExactClient,
    ExactError,
    Forbidden,
    MalformedResponse,
    RateLimited,
    StaticTokenSource,
    Unavailable,
    ValidationFailed,
    build_session,
)
from collector.exact.errors import body_text, error_message, parse_epoch_ms

from .support import DIVISION, HOST, TOKEN, RefreshingTokens, payload, raw, url

JOURNALS = url("financial/Journals")
SALES_ENTRIES = url("salesentry/SalesEntries")
GENERIC_500 = raw("rest-error-500-generic.json")
ENTRY = {"Journal": "70", "Customer": "a58c29d9-ef92-40f1-b817-31b36990898c"}


def exact_error(text: str) -> dict:
    return {"error": {"code": "", "message": {"lang": "", "value": text}}}


def client(fake_time, tokens=None, **kwargs) -> ExactClient:
    return ExactClient(
        build_session(),
        HOST,
        tokens or StaticTokenSource(TOKEN),
        DIVISION,
        sleep=fake_time.sleep,
        clock=fake_time.now,
        **kwargs,
    )


def test_a_validation_500_is_never_retried(rsps, fake_time):
    text = "Verplicht: Relatie\r\nOngeldige referentie: Journals"
    rsps.post(SALES_ENTRIES, json=exact_error(text), status=500)

    with pytest.raises(ValidationFailed) as caught:
        client(fake_time).create_sales_entry(ENTRY)

    assert caught.value.messages == ("Verplicht: Relatie", "Ongeldige referentie: Journals")
    assert not caught.value.transient
    assert caught.value.status == 500
    assert TOKEN not in str(caught.value)
    assert len(rsps.calls) == 1


def test_a_validation_500_on_a_get_is_not_retried_either(rsps, fake_time):
    rsps.get(JOURNALS, json=exact_error("Please add a $select"), status=500)

    with pytest.raises(ValidationFailed):
        client(fake_time).journals()

    assert len(rsps.calls) == 1


def test_the_generic_500_is_an_outage_and_a_get_is_retried(rsps, fake_time):
    rsps.get(JOURNALS, body=GENERIC_500, status=500)
    rsps.get(JOURNALS, body=requests.ConnectionError("reset"))
    rsps.get(JOURNALS, json=payload("journals-get-list-response.json"))

    journals = client(fake_time).journals()

    assert [journal["Code"] for journal in journals][:2] == ["90", "70"]
    assert len(fake_time.sleeps) == 2  # backoff before each retry
    assert 0.25 <= fake_time.sleeps[0] <= 0.5 and 0.5 <= fake_time.sleeps[1] <= 1.0


def test_a_get_gives_up_after_max_retries(rsps, fake_time):
    for _ in range(4):
        rsps.get(JOURNALS, status=503, body="")

    with pytest.raises(Unavailable) as caught:
        client(fake_time).journals()

    assert caught.value.transient and caught.value.status == 503
    assert not caught.value.maybe_applied
    assert len(rsps.calls) == 4


def test_a_post_is_not_retried_after_a_generic_500(rsps, fake_time):
    rsps.post(SALES_ENTRIES, body=GENERIC_500, status=500)

    with pytest.raises(Unavailable) as caught:
        client(fake_time).create_sales_entry(ENTRY)

    assert caught.value.maybe_applied  # look it up by YourRef before posting again
    assert len(rsps.calls) == 1


def test_a_post_read_timeout_may_have_been_applied(rsps, fake_time):
    rsps.post(SALES_ENTRIES, body=requests.ReadTimeout("read timed out"))

    with pytest.raises(Unavailable) as caught:
        client(fake_time).create_sales_entry(ENTRY)

    assert caught.value.maybe_applied and caught.value.transient
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    "never_left",
    [
        requests.ConnectTimeout("connect timed out"),
        requests.ConnectionError(
            MaxRetryError(None, "/", NewConnectionError(None, "Connection refused"))
        ),
    ],
)
def test_a_post_that_never_left_is_retried(rsps, fake_time, never_left):
    created = {"d": {"EntryID": "0b4c5d6e-0000-4000-8000-000000000001", "EntryNumber": 70001}}
    rsps.post(SALES_ENTRIES, body=never_left)
    rsps.post(SALES_ENTRIES, json=created, status=201)

    entry = client(fake_time).create_sales_entry(ENTRY)

    assert entry["EntryNumber"] == 70001
    assert len(rsps.calls) == 2


def test_401_refreshes_once_and_retries(rsps, fake_time):
    tokens = RefreshingTokens("old-token", "new-token")
    old = matchers.header_matcher({"Authorization": "Bearer old-token"})
    new = matchers.header_matcher({"Authorization": "Bearer new-token"})
    rsps.get(JOURNALS, status=401, body="", match=[old])
    rsps.get(JOURNALS, json=payload("journals-get-list-response.json"), match=[new])

    assert client(fake_time, tokens).journals()

    assert tokens.refreshed == ["old-token"]


def test_a_second_401_is_an_auth_error(rsps, fake_time):
    tokens = RefreshingTokens("old-token", "new-token")
    rsps.get(JOURNALS, status=401, body="")
    rsps.get(JOURNALS, status=401, body="")

    with pytest.raises(AuthError) as caught:
        client(fake_time, tokens).journals()

    assert tokens.refreshed == ["old-token"]
    assert "new-token" not in str(caught.value) and "old-token" not in str(caught.value)


def test_429_waits_for_the_minutely_reset_then_retries(rsps, fake_time):
    reset_ms = int(fake_time.now().timestamp() * 1000) + 12_000
    headers = {
        "X-RateLimit-Minutely-Limit": "60",
        "X-RateLimit-Minutely-Remaining": "0",
        "X-RateLimit-Minutely-Reset": str(reset_ms),
    }
    rsps.get(JOURNALS, status=429, body="", headers=headers)
    rsps.get(JOURNALS, json=payload("journals-get-list-response.json"))

    assert client(fake_time).journals()

    assert fake_time.sleeps == [pytest.approx(12.25)]  # the reset plus a little skew


def test_429_without_headers_waits_a_minute_and_gives_up_eventually(rsps, fake_time):
    for _ in range(4):
        rsps.get(JOURNALS, status=429, body="")

    with pytest.raises(RateLimited) as caught:
        client(fake_time).journals()

    assert fake_time.sleeps == [60.0, 60.0, 60.0]
    assert caught.value.transient and caught.value.reset_at is None


def test_a_daily_429_is_raised_at_once_for_the_job_to_reschedule(rsps, fake_time):
    midnight = datetime(2021, 12, 3, tzinfo=UTC)
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1638489600000"}
    rsps.get(JOURNALS, status=429, body="", headers=headers)

    with pytest.raises(RateLimited) as caught:
        client(fake_time).journals()

    assert caught.value.reset_at == midnight
    assert fake_time.sleeps == []


@pytest.mark.parametrize(
    ("status", "error_type", "transient"),
    [(403, Forbidden, False), (409, ExactError, False), (502, Unavailable, True)],
)
def test_other_statuses(rsps, fake_time, status, error_type, transient):
    rsps.post(SALES_ENTRIES, json=exact_error("Nope"), status=status, headers={"Reason": "X"})

    with pytest.raises(error_type) as caught:
        client(fake_time).create_sales_entry(ENTRY)

    assert type(caught.value) is error_type
    assert caught.value.transient is transient is caught.value.retryable
    assert caught.value.reason == "X" == caught.value.code


def test_403_carries_the_reason_header(rsps, fake_time):
    rsps.get(JOURNALS, status=403, body="", headers={"Reason": "NoDivisionAccess"})

    with pytest.raises(Forbidden) as caught:
        client(fake_time).journals()

    assert caught.value.reason == "NoDivisionAccess"
    assert len(rsps.calls) == 1


def test_a_400_is_a_validation_error_even_when_truncated(rsps, fake_time):
    body = raw("rest-error-400-binding-new-entities-truncated.txt")
    rsps.post(SALES_ENTRIES, body=body, status=400)

    with pytest.raises(ValidationFailed) as caught:
        client(fake_time).create_sales_entry(ENTRY)

    assert caught.value.messages[0].startswith("Error processing request stream. Binding")


def test_an_appended_error_object_is_stripped_from_a_200_body(rsps, fake_time):
    body = raw("journals-get-list-response.json").rstrip() + GENERIC_500
    rsps.get(JOURNALS, body=body)

    journals = client(fake_time).journals()

    assert journals[1]["Code"] == "70" and journals[1]["Type"] == 20


def test_other_trailing_junk_is_malformed(rsps, fake_time):
    rsps.get(JOURNALS, body=b'{"d": {"results": []}} <html>')

    with pytest.raises(MalformedResponse):
        client(fake_time).journals()


def test_error_message_parsing_is_defensive():
    assert error_message(b"") == ""
    assert error_message(b"<html>Bad gateway</html>") == ""  # not Exact's: see body_text
    assert error_message(b'{"error": "nope"}') == ""
    assert error_message(b"[1]") == ""
    assert error_message(GENERIC_500).startswith("A problem has occurred.")


def test_reset_values_are_epoch_milliseconds():
    assert parse_epoch_ms("1638447360000") == datetime(2021, 12, 2, 12, 16, tzinfo=UTC)
    assert parse_epoch_ms("1638447360") == datetime(2021, 12, 2, 12, 16, tzinfo=UTC)
    assert parse_epoch_ms("soon") is None
    assert parse_epoch_ms(None) is None


# -- issue 25, point 5: whatever body Exact sends is surfaced, trimmed, never a token ----------


def test_a_plain_text_400_is_surfaced(rsps, fake_time):
    rsps.get(JOURNALS, body="Bad Request - Error in query syntax.", status=400)

    with pytest.raises(ValidationFailed) as caught:
        client(fake_time).journals()

    assert str(caught.value).endswith("HTTP 400: Bad Request - Error in query syntax.")
    assert caught.value.messages == ("Bad Request - Error in query syntax.",)


def test_an_html_error_page_is_surfaced_as_its_text_and_still_an_outage(rsps, fake_time):
    page = "<html><head><title>x</title><style>p{}</style></head><body><h1>Bad  gateway</h1>"
    rsps.post(SALES_ENTRIES, body=page + "</body></html>", status=500)

    with pytest.raises(Unavailable) as caught:  # a proxy's 500 is no business message
        client(fake_time).create_sales_entry(ENTRY)

    assert str(caught.value).endswith("HTTP 500: Bad gateway")


def test_exacts_json_message_is_preferred_over_the_raw_body(rsps, fake_time):
    rsps.get(JOURNALS, json=exact_error("Ongeldige referentie: Journals"), status=400)

    with pytest.raises(ValidationFailed) as caught:
        client(fake_time).journals()

    assert str(caught.value).endswith("HTTP 400: Ongeldige referentie: Journals")


def test_a_long_body_is_trimmed_and_tokens_in_it_are_hidden(rsps, fake_time):
    body = f"Authorization: Bearer {TOKEN} refused; access_token={TOKEN} " + "x" * 1000
    rsps.get(JOURNALS, body=body, status=403)

    with pytest.raises(Forbidden) as caught:
        client(fake_time).journals()

    message = str(caught.value)
    assert TOKEN not in message
    assert "Bearer [hidden] refused; access_token=[hidden]" in message
    assert len(message) < 400 and message.endswith("…")


def test_body_text_reads_any_body():
    assert body_text(b"") == ""
    assert body_text(b"  Bad Request -\r\n Error  ") == "Bad Request - Error"
    assert body_text(b"<html><title>Down</title></html>") == "Down"
    assert body_text(b'{"error": "nope"}') == '{"error": "nope"}'
