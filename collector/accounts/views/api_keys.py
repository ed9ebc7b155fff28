"""Settings → API keys (admins only): the keys with their scopes, last use and state;
a new key, shown once on the page that created it; revoking one."""

from flask import Blueprint, abort, make_response, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from collector.accounts import api_keys
from collector.accounts.forms import SCOPE_LABELS, ApiKeyForm
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import confirmed_change, or_404, protect, saved

bp = protect(Blueprint("api_keys", __name__, url_prefix="/settings/api-keys"))


@bp.before_request
def _admins_only():
    # A key's name and scopes tell how the company's systems are wired: admins only.
    if not current_user.is_admin:
        abort(403, _("Only an admin can see and manage API keys."))


@bp.get("")
def index():
    return _page(ApiKeyForm())


@bp.post("")
def create():
    form = ApiKeyForm()
    created = {}

    def save(data):
        created["key"], created["plain"] = api_keys.create_api_key(**data)

    if form.validate_on_submit() and saved(form, save):
        # Shown on this answer only: never flashed (the session cookie is signed, not
        # encrypted) and never cached.
        response = make_response(_page(ApiKeyForm(formdata=None), status=201, created=created))
        response.headers["Cache-Control"] = "no-store"
        return response
    return _page(form, status=400)


@bp.post("/<int:key_id>/revoke")
def revoke(key_id: int):
    def change() -> str:
        key = or_404(api_keys.revoke_api_key, key_id)
        return _("The key %(name)s (%(prefix)s…) is revoked.", name=key.name, prefix=key.prefix)

    return confirmed_change(
        change, url_for("api_keys.index"), lambda status: _page(ApiKeyForm(), status=status)
    )


def _page(form: ApiKeyForm, status: int = 200, created: dict | None = None):
    return render_template(
        "accounts/settings/api_keys.html",
        form=form,
        keys=api_keys.list_api_keys(),
        scope_labels=SCOPE_LABELS,
        created=created,
        confirm=ConfirmForm(),
        auth_header="Authorization: Bearer ck_…",
    ), status
