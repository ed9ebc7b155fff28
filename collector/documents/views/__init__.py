"""The documents pages: payment profiles and status callbacks."""

from collector.documents.views import callbacks, profiles

BLUEPRINTS = (profiles.bp, callbacks.bp)
