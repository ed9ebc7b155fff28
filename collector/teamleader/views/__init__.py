"""The Teamleader pages: the integration (connect, settings), imports, and the
receiver of Teamleader's webhooks."""

from collector.teamleader.views import entities, imports, integration, webhooks

BLUEPRINTS = (integration.bp, imports.bp, webhooks.bp, entities.bp)
