"""The dunning tables: each profile's schedule of steps, and the mail texts the team
edited (per profile, per step or the invitation, per language)."""

from collector.dunning.models.steps import DunningStep, StepKind
from collector.dunning.models.texts import INVITATION_SLOT, LANGUAGES, MailText, step_slot

__all__ = ["INVITATION_SLOT", "LANGUAGES", "DunningStep", "MailText", "StepKind", "step_slot"]
