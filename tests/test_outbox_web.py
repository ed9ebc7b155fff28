"""The outbox: the demo's mail sink read back, newest first, each message in full."""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from playwright.sync_api import expect

from collector.extensions import db
from collector.mail.models import MailMessage, MailStatus
from tests.support.browser import log_in

ROW = re.compile(r'<tr data-message="(\d+)"')
START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
# A body that tries to leave the srcdoc attribute and run a script in the page.
HOSTILE_HTML = (
    '<p id="styled" style="color:rgb(0, 128, 0)">Pay &amp; smile</p>'
    '"><script>document.title = "pwned"</script><p title=\'x\'>'
    "<script>document.body.append('SCRIPT RAN')</script>"
)


def make_message(**overrides) -> MailMessage:
    values = {
        "kind": "invitation",
        "recipient": "ap@acme.example",
        "subject": "Invoice 2026/0001",
        "body_text": "Please pay.",
        "body_html": "<p>Please pay.</p>",
        "status": MailStatus.STORED,
        "attempts": 1,
        "created_at": START,
        "sent_at": START,
    }
    message = MailMessage(**{**values, **overrides})
    db.session.add(message)
    db.session.commit()
    return message


def shown(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


class _Iframes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.found.append(dict(attrs))


def iframes(response) -> list[dict]:
    """The attributes of each iframe as a browser parses them (entities decoded)."""
    parser = _Iframes()
    parser.feed(response.get_data(as_text=True))
    return parser.found


@pytest.fixture
def smtp_configured(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_HOST", "smtp.example")


@pytest.fixture
def mailbox(app):
    """Four messages an hour apart, made oldest last so the order is not the insert order."""
    at = [START + timedelta(hours=h) for h in range(4)]
    return {
        "summary": make_message(
            kind="import_summary", recipient="finance@collector.example", created_at=at[3]
        ),
        "reminder": make_message(kind="reminder", recipient="ap@brol.example", created_at=at[2]),
        "invite_b": make_message(recipient="ap@brol.example", created_at=at[1]),
        "invite_a": make_message(recipient="ap@acme.example", created_at=at[0]),
    }


def test_login_required(client, mailbox):
    for path in ("/outbox/", f"/outbox/{mailbox['reminder'].id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_no_outbox_when_mail_is_really_sent(admin_client, mailbox, smtp_configured):
    assert admin_client.get("/outbox/").status_code == 404
    assert admin_client.get(f"/outbox/{mailbox['reminder'].id}").status_code == 404
    assert 'href="/outbox/"' not in admin_client.get("/customers/").get_data(as_text=True)


def test_nav_links_the_outbox_in_the_demo(admin_client):
    assert '<a href="/outbox/">Outbox</a>' in admin_client.get("/customers/").get_data(as_text=True)


def test_list_is_newest_first(admin_client, mailbox):
    response = admin_client.get("/outbox/")
    assert response.status_code == 200
    order = ["summary", "reminder", "invite_b", "invite_a"]
    assert shown(response) == [mailbox[name].id for name in order]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"kind": "invitation"}, ["invite_b", "invite_a"]),
        ({"kind": "reminder"}, ["reminder"]),
        ({"kind": "nothing_like_it"}, []),
        ({"q": "BROL"}, ["reminder", "invite_b"]),
        ({"q": "brol", "kind": "invitation"}, ["invite_b"]),
        ({"q": "%"}, []),
        ({"q": "", "kind": ""}, ["summary", "reminder", "invite_b", "invite_a"]),
    ],
)
def test_filter_by_kind_and_recipient(admin_client, mailbox, args, expected):
    response = admin_client.get("/outbox/", query_string=args)
    assert response.status_code == 200
    assert shown(response) == [mailbox[name].id for name in expected]


def test_kind_choices_are_the_kinds_present(admin_client, mailbox):
    page = admin_client.get("/outbox/?kind=reminder").get_data(as_text=True)
    select = re.search(r'<select name="kind">.*?</select>', page, re.S).group()
    options = re.findall(r'<option value="([^"]*)"', select)
    assert options == ["", "import_summary", "invitation", "reminder"]
    assert '<option value="reminder" selected>' in page


def test_list_pages(admin_client, mailbox):
    first = admin_client.get("/outbox/?per_page=3")
    assert shown(first) == [mailbox[n].id for n in ("summary", "reminder", "invite_b")]
    assert "Page 1 of 2" in first.get_data(as_text=True)
    second = admin_client.get("/outbox/?per_page=3&page=2&kind=")
    assert shown(second) == [mailbox["invite_a"].id]


def test_bad_query_is_400(admin_client, mailbox):
    response = admin_client.get("/outbox/?per_page=0&colour=red")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-field="per_page"' in page and 'data-field="colour"' in page


def test_list_counts_attachments(admin_client):
    pdf = {"filename": "2026-0001.pdf", "mimetype": "application/pdf", "size": 48213}
    with_pdf = make_message(attachments=[pdf])
    without = make_message(created_at=START - timedelta(days=1))
    page = admin_client.get("/outbox/").get_data(as_text=True)
    assert re.search(rf'data-message="{with_pdf.id}".*?data-attachments="1"', page, re.S)
    assert re.search(rf'data-message="{without.id}".*?data-attachments="0"', page, re.S)


def test_detail_shows_headers_text_and_html_in_a_sandbox(admin_client):
    message = make_message(
        recipient="Brol <ap@brol.example>",
        subject="Reminder: invoice 2026/0007",
        body_text="Dear customer,\n\n<b>not bold</b> & pay here: https://pay.example/x",
        body_html=HOSTILE_HTML,
    )
    response = admin_client.get(f"/outbox/{message.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<dd data-header="to">Brol &lt;ap@brol.example&gt;</dd>' in page
    assert "Reminder: invoice 2026/0007" in page
    assert (
        '<pre class="mail-text">Dear customer,\n\n&lt;b&gt;not bold&lt;/b&gt; &amp; '
        "pay here: https://pay.example/x</pre>"
    ) in page
    (frame,) = iframes(response)
    # The whole body is the srcdoc, nothing spilled into other attributes or the page.
    assert frame["srcdoc"] == HOSTILE_HTML
    assert frame["sandbox"] in ("", None)
    assert set(frame) == {"class", "sandbox", "srcdoc", "title"}
    assert "<script>" not in page


def test_detail_allows_inline_styles_but_no_script(admin_client):
    message = make_message()
    policy = admin_client.get(f"/outbox/{message.id}").headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    # The list, like every other page, keeps the app's own policy.
    listing = admin_client.get("/outbox/").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in listing


def test_detail_without_html_or_attachments(admin_client):
    message = make_message(body_html=None)
    response = admin_client.get(f"/outbox/{message.id}")
    page = response.get_data(as_text=True)
    assert iframes(response) == []
    assert "This message has no HTML version." in page
    assert "None." in page


def test_detail_lists_attachments_but_not_their_bytes(admin_client):
    attachments = [
        {"filename": "2026-0007.pdf", "mimetype": "application/pdf", "size": 1234567},
        {"filename": "terms <v2>.pdf", "mimetype": "application/pdf", "size": 80},
    ]
    message = make_message(attachments=attachments)
    page = admin_client.get(f"/outbox/{message.id}").get_data(as_text=True)
    assert "<code>2026-0007.pdf</code>" in page and "1,234,567 bytes" in page
    assert "<code>terms &lt;v2&gt;.pdf</code>" in page and "80 bytes" in page
    assert "the files themselves are not stored" in page


def test_unknown_message_is_404(admin_client):
    assert admin_client.get("/outbox/999999").status_code == 404
    assert admin_client.get("/outbox/abc").status_code == 404


def test_viewer_may_read(viewer_client, mailbox):
    assert viewer_client.get("/outbox/").status_code == 200
    message_id = mailbox["reminder"].id
    assert viewer_client.get(f"/outbox/{message_id}").status_code == 200
    assert viewer_client.post(f"/outbox/{message_id}").status_code == 405


@pytest.mark.browser
def test_browser_shows_the_styled_email_and_runs_none_of_its_scripts(page, live_server, admin):
    message = make_message(body_html=HOSTILE_HTML)
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/outbox/{message.id}")
    frame = page.frame_locator("iframe.mail-html")
    expect(frame.locator("#styled")).to_have_text("Pay & smile")
    expect(frame.locator("#styled")).to_have_css("color", "rgb(0, 128, 0)")
    expect(frame.locator("body")).not_to_contain_text("SCRIPT RAN")
    expect(page).to_have_title("Invoice 2026/0001 · collector")
