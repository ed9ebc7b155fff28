"""The accounts pages: logging in and out, passwords, users, the company settings."""

from collector.accounts.views import login, password, settings, users

BLUEPRINTS = (login.bp, password.bp, settings.bp, users.bp)
