"""The accounts pages: logging in and out, passwords, users, the company settings, API keys,
the audit log."""

from collector.accounts.views import api_keys, audit_log, login, password, settings, users

BLUEPRINTS = (login.bp, password.bp, settings.bp, users.bp, api_keys.bp, audit_log.bp)
