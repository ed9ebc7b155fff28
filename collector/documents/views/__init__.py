"""The documents pages: payment profiles, customers, status callbacks."""

from collector.documents.views import callbacks, customers, profiles

BLUEPRINTS = (profiles.bp, customers.bp, callbacks.bp)
