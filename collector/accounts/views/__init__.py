"""The accounts pages: logging in and out, the company settings."""

from collector.accounts.views import login, settings

BLUEPRINTS = (login.bp, settings.bp)
