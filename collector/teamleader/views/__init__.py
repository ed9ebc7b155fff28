"""The Teamleader pages: the integration (connect, settings) and imports."""

from collector.teamleader.views import imports, integration

BLUEPRINTS = (integration.bp, imports.bp)
