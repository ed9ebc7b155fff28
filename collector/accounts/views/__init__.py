"""The accounts pages: logging in and out, the company settings, API keys, the audit log."""

from collector.accounts.views import api_keys, audit_log, login, settings

BLUEPRINTS = (login.bp, settings.bp, api_keys.bp, audit_log.bp)
