"""Integrations › Status callbacks: the URLs told about every state change, their
secrets and their delivery log. Everyone logged in may read; only admins change."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from collector.core.errors import Conflict
from collector.documents import callback_endpoints, callbacks
from collector.documents.models import CallbackDelivery, CallbackEndpoint
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.outbound import OUTBOUND
from collector.runtime.views import admin_required, protect, saved
from collector.runtime.wordings import Wordings
from collector.runtime.wordings import known as _l

bp = protect(Blueprint("callbacks", __name__, url_prefix="/integrations/callbacks"))
LOG_LIMIT = 100

# What the callback operations refuse, in English.
REFUSALS = Wordings(
    _l("Enter the address to send the callbacks to."),
    _l("At most %(count)s characters."),
    _l("An address cannot contain spaces or control characters."),
    _l("Use an http:// or https:// address."),
    _l("The port is not a number between 0 and 65535."),
    _l("The address needs a host name."),
    _l("Leave the user name and password out of the address."),
    _l("This callback URL is disabled; enable it to send a test event."),
    _l("This callback was delivered already."),
    _l("Its callback URL is disabled; enable it first."),
    _l("Callbacks go to public addresses only: %(reason)s"),
    values={"reason": OUTBOUND},
)
# Why an attempt got no answer, as ``callbacks`` stores it.
DELIVERY_ERRORS = Wordings(
    _l("Not sent: %(reason)s"),
    _l("No answer within %(seconds)s s."),
    values={"reason": OUTBOUND, "seconds": str},
)
# How a receiver checks a callback (``callbacks.sign``), shown with its secret: code.
VERIFY_SAMPLE = """\
import hashlib, hmac, time

def verify(secret: str, headers, body: bytes) -> bool:
    ts = headers["X-Collector-Timestamp"]
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(ts)) <= 300
    return fresh and hmac.compare_digest("sha256=" + mac, headers["X-Collector-Signature"])"""


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class EndpointForm(FlaskForm):
    # No URL validator here: the service owns the rule, so the API and CLI share it.
    url = StringField(lazy_gettext("URL"), filters=[_strip])
    description = StringField(
        lazy_gettext("Description"), validators=[Length(max=200)], filters=[_strip]
    )

    def to_data(self) -> dict:
        return {"url": self.url.data or "", "description": self.description.data or ""}


class DescriptionForm(FlaskForm):
    description = StringField(
        lazy_gettext("Description"), validators=[Length(max=200)], filters=[_strip]
    )

    def to_data(self) -> dict:
        return {"description": self.description.data or ""}


@bp.app_template_global()
def callback_answer(status_code: int | None, error: str | None) -> str:
    """What one attempt got, for the page: the answer's status (never its body, which the
    log no longer keeps and older rows may), or why there was none, in the reader's
    language."""
    if status_code is None:
        return DELIVERY_ERRORS(error) if error else _("no answer")
    if 300 <= status_code < 400:
        return _(
            "HTTP %(code)s: redirects are not followed; register the final address.",
            code=status_code,
        )
    return _("HTTP %(code)s", code=status_code)


@bp.get("/")
def index():
    return render_template(
        "documents/callbacks/index.html",
        rows=callback_endpoints.list_endpoints(),
        failed=callback_endpoints.failed_deliveries(20),
    )


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    form = EndpointForm()
    created = []

    def add(data):
        cipher = runtime_setup.cipher(current_app)
        guard = runtime_setup.outbound_guard(current_app)
        created.append(
            callback_endpoints.add_endpoint(**data, user=current_user, cipher=cipher, guard=guard)
        )

    if form.validate_on_submit() and saved(form, REFUSALS.refusals(add)):
        endpoint, secret = created[0]
        return _secret_page(endpoint, secret, new=True)
    return render_template("documents/callbacks/new.html", form=form), (400 if form.errors else 200)


@bp.get("/<int:endpoint_id>")
def detail(endpoint_id: int):
    endpoint = db.get_or_404(CallbackEndpoint, endpoint_id)
    form = DescriptionForm(description=endpoint.description)
    return _detail_page(endpoint, form)


def _detail_page(endpoint, form, status=200):
    return render_template(
        "documents/callbacks/detail.html",
        endpoint=endpoint,
        deliveries=callback_endpoints.endpoint_deliveries(endpoint.id, LOG_LIMIT),
        log_limit=LOG_LIMIT,
        form=form,
    ), status


@bp.post("/<int:endpoint_id>/description")
def describe(endpoint_id: int):
    endpoint = db.get_or_404(CallbackEndpoint, endpoint_id)
    form = DescriptionForm()
    update = REFUSALS.refusals(lambda d: callback_endpoints.update_endpoint(endpoint, **d))
    if form.validate_on_submit() and saved(form, update):
        flash(_("Description saved."), "success")
        return redirect(url_for("callbacks.detail", endpoint_id=endpoint.id))
    return _detail_page(endpoint, form, 400)


@bp.post("/<int:endpoint_id>/disable")
def disable(endpoint_id: int):
    return _switch(
        endpoint_id, False, _("Disabled: nothing is sent to this URL until you enable it again.")
    )


@bp.post("/<int:endpoint_id>/enable")
def enable(endpoint_id: int):
    return _switch(endpoint_id, True, _("Enabled: callbacks still owed to this URL go out now."))


def _switch(endpoint_id: int, active: bool, message: str):
    endpoint = db.get_or_404(CallbackEndpoint, endpoint_id)
    callback_endpoints.update_endpoint(endpoint, active=active)
    flash(message, "success")
    return redirect(url_for("callbacks.detail", endpoint_id=endpoint.id))


@bp.post("/<int:endpoint_id>/rotate")
def rotate(endpoint_id: int):
    endpoint = db.get_or_404(CallbackEndpoint, endpoint_id)
    secret = callback_endpoints.rotate_secret(endpoint, runtime_setup.cipher(current_app))
    return _secret_page(endpoint, secret, new=False)


@bp.post("/<int:endpoint_id>/delete")
def delete(endpoint_id: int):
    endpoint = db.get_or_404(CallbackEndpoint, endpoint_id)
    url = endpoint.url
    callback_endpoints.delete_endpoint(endpoint)
    flash(_("Callback URL %(url)s deleted, with its delivery log.", url=url), "success")
    return redirect(url_for("callbacks.index"))


@bp.post("/<int:endpoint_id>/test")
def send_test(endpoint_id: int):
    endpoint = db.get_or_404(CallbackEndpoint, endpoint_id)
    try:
        callbacks.queue_test_event(endpoint)
    except Conflict as exc:
        flash(REFUSALS(str(exc)), "error")
    else:
        flash(_("Test event queued; its delivery appears below within moments."), "success")
    return redirect(url_for("callbacks.detail", endpoint_id=endpoint.id))


@bp.post("/deliveries/<int:delivery_id>/retry")
def retry(delivery_id: int):
    delivery = db.get_or_404(CallbackDelivery, delivery_id)
    endpoint_id = delivery.endpoint_id
    try:
        callbacks.retry_now(delivery_id)
    except Conflict as exc:
        flash(REFUSALS(str(exc)), "error")
    else:
        flash(_("Delivery #%(id)s is sent again now.", id=delivery_id), "success")
    return redirect(url_for("callbacks.detail", endpoint_id=endpoint_id))


def _secret_page(endpoint: CallbackEndpoint, secret: str, *, new: bool):
    response = current_app.make_response(
        render_template(
            "documents/callbacks/secret.html",
            endpoint=endpoint,
            secret=secret,
            new=new,
            sample=VERIFY_SAMPLE,
        )
    )
    # Shown once: no browser or proxy keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
