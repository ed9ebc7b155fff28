"""Integrations › Status callbacks: the URLs told about every state change, their
secrets and their delivery log. Everyone logged in may read; only admins change."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from collector.core.errors import Conflict
from collector.documents import callback_endpoints, callbacks
from collector.documents.models import CallbackDelivery, CallbackEndpoint
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.views import admin_required, protect, saved

bp = protect(Blueprint("callbacks", __name__, url_prefix="/integrations/callbacks"))
LOG_LIMIT = 100


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class EndpointForm(FlaskForm):
    # No URL validator here: the service owns the rule, so the API and CLI share it.
    url = StringField("URL", filters=[_strip])
    description = StringField("Description", validators=[Length(max=200)], filters=[_strip])

    def to_data(self) -> dict:
        return {"url": self.url.data or "", "description": self.description.data or ""}


class DescriptionForm(FlaskForm):
    description = StringField("Description", validators=[Length(max=200)], filters=[_strip])

    def to_data(self) -> dict:
        return {"description": self.description.data or ""}


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
        created.append(callback_endpoints.add_endpoint(**data, user=current_user, cipher=cipher))

    if form.validate_on_submit() and saved(form, add):
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
    if form.validate_on_submit() and saved(
        form, lambda d: callback_endpoints.update_endpoint(endpoint, **d)
    ):
        flash("Description saved.", "success")
        return redirect(url_for("callbacks.detail", endpoint_id=endpoint.id))
    return _detail_page(endpoint, form, 400)


@bp.post("/<int:endpoint_id>/disable")
def disable(endpoint_id: int):
    return _switch(
        endpoint_id, False, "Disabled: nothing is sent to this URL until you enable it again."
    )


@bp.post("/<int:endpoint_id>/enable")
def enable(endpoint_id: int):
    return _switch(endpoint_id, True, "Enabled: callbacks still owed to this URL go out now.")


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
    flash(f"Callback URL {url} deleted, with its delivery log.", "success")
    return redirect(url_for("callbacks.index"))


@bp.post("/<int:endpoint_id>/test")
def send_test(endpoint_id: int):
    endpoint = db.get_or_404(CallbackEndpoint, endpoint_id)
    try:
        callbacks.queue_test_event(endpoint)
    except Conflict as exc:
        flash(str(exc), "error")
    else:
        flash("Test event queued; its delivery appears below within moments.", "success")
    return redirect(url_for("callbacks.detail", endpoint_id=endpoint.id))


@bp.post("/deliveries/<int:delivery_id>/retry")
def retry(delivery_id: int):
    delivery = db.get_or_404(CallbackDelivery, delivery_id)
    endpoint_id = delivery.endpoint_id
    try:
        callbacks.retry_now(delivery_id)
    except Conflict as exc:
        flash(str(exc), "error")
    else:
        flash(f"Delivery #{delivery_id} is sent again now.", "success")
    return redirect(url_for("callbacks.detail", endpoint_id=endpoint_id))


def _secret_page(endpoint: CallbackEndpoint, secret: str, *, new: bool):
    response = current_app.make_response(
        render_template(
            "documents/callbacks/secret.html", endpoint=endpoint, secret=secret, new=new
        )
    )
    # Shown once: no browser or proxy keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
