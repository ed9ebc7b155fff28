"""Settings › Online payments: the payment provider as configured, whether it accepts the
API key, and whether it can reach our webhook. The key itself comes from the configuration
(PAYMENT_PROVIDER_API_KEY) and is never shown; admins can check it now."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from collector.payments import ProviderError, provider_status, reachability
from collector.payments import setup as payments_setup
from collector.runtime.views import protect

bp = protect(Blueprint("payment_settings", __name__, url_prefix="/settings/online-payments"))


@bp.get("/")
def index():
    config = current_app.config
    return render_template(
        "payments/settings.html",
        configured=bool(config["PAYMENT_PROVIDER_API_KEY"]),
        provider_url=config["PAYMENT_PROVIDER_URL"],
        webhook_warning=reachability.webhook_warning(
            config["PUBLIC_BASE_URL"],
            config["PAYMENT_PROVIDER_URL"],
            config["PAYMENT_PROVIDER_API_KEY"],
        ),
        status=provider_status.current(),
    )


@bp.post("/check")
def check():
    provider = payments_setup.provider(current_app)
    if provider is None:
        flash(
            _(
                "No payment provider API key is configured (%(setting)s).",
                setting="PAYMENT_PROVIDER_API_KEY",
            ),
            "error",
        )
        return redirect(url_for("payment_settings.index"))
    try:
        row = provider_status.check(provider)
    except ProviderError as exc:
        flash(
            _("The payment provider did not answer; try again in a minute. (%(error)s)", error=exc),
            "error",
        )
    else:
        if row.problem is None:
            flash(_("The payment provider accepts the API key."), "success")
        else:
            flash(
                _("%(problem)s: %(detail)s", problem=row.problem.headline, detail=row.detail),
                "error",
            )
    return redirect(url_for("payment_settings.index"))
