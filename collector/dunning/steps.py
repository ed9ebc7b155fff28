"""Changing a profile's dunning schedule under the rules: days between 1 and 365, each
day once, at most one hand-off and nothing after it."""

from __future__ import annotations

from collector.accounts import audit
from collector.core.errors import Invalid
from collector.documents.models import Profile
from collector.dunning.models import DunningStep, StepKind
from collector.dunning.schedule import MAX_DAYS
from collector.extensions import db

MAX_STEPS = 10


def replace_steps(profile: Profile, wanted: list[tuple[StepKind, int]]) -> list[DunningStep]:
    """Make ``wanted`` (kind, days) the profile's schedule. A step whose day stays keeps
    its row, so its edited texts and the mails already owed for it stand; a step removed
    takes its texts with it. Raises ``Invalid`` and changes nothing on bad input. Commits."""
    _check(wanted)
    before = _schedule(profile.dunning_steps)
    by_days = {step.days: step for step in profile.dunning_steps}
    days = {d for _, d in wanted}
    for step in list(profile.dunning_steps):
        if step.days not in days:
            profile.dunning_steps.remove(step)
    for kind, day in wanted:
        step = by_days.get(day)
        if step is None:
            profile.dunning_steps.append(DunningStep(kind=kind, days=day))
        else:
            step.kind = kind
    after = _schedule(profile.dunning_steps)
    if after != before:
        audit.record(
            "dunning.steps_changed",
            target=f"profile:{profile.id}",
            details={"before": before, "after": after},
        )
    db.session.commit()
    db.session.refresh(profile)
    return list(profile.dunning_steps)


def _schedule(steps) -> list[str]:
    """A schedule as the log shows it: "reminder@7" per step, by day."""
    return [
        f"{StepKind(step.kind).value}@{step.days}" for step in sorted(steps, key=lambda s: s.days)
    ]


def _check(wanted: list[tuple[StepKind, int]]) -> None:
    errors: list[str] = []
    days = [d for _, d in wanted]
    if len(wanted) > MAX_STEPS:
        errors.append(f"At most {MAX_STEPS} steps.")
    if any(d < 1 or d > MAX_DAYS for d in days):
        errors.append(f"Days between 1 and {MAX_DAYS} after the due date.")
    if len(set(days)) != len(days):
        errors.append("Each day once: two steps fall on the same day.")
    hand_offs = [d for kind, d in wanted if kind == StepKind.HAND_OFF]
    if len(hand_offs) > 1 or (hand_offs and hand_offs[0] != max(days)):
        errors.append("One hand-off at most, as the last step.")
    if errors:
        raise Invalid({"steps": errors}, " ".join(errors))
