"""The dunning tables: each profile's schedule of steps, the mail texts the team edited
(per profile, per step or the invitation, per language), holds that pause chasing and
debiting, and notes people keep."""

from collector.dunning.models.holds import Hold, HoldReason
from collector.dunning.models.notes import Note
from collector.dunning.models.steps import DunningStep, StepKind
from collector.dunning.models.texts import INVITATION_SLOT, LANGUAGES, MailText, step_slot

__all__ = [
    "INVITATION_SLOT",
    "LANGUAGES",
    "DunningStep",
    "Hold",
    "HoldReason",
    "MailText",
    "Note",
    "StepKind",
    "step_slot",
]
