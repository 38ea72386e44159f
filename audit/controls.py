"""The deploy's own controls, checked by a dry run of the deploy: a control holds on a host
when none of the operations that apply it would change anything there."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CONTROL_ID = re.compile(r"\[([a-z]+-\d+)\]")


@dataclass
class ControlsResult:
    """Which controls have drifted on one host (would be changed by the deploy)."""

    drifted: dict[str, list[str]] = field(default_factory=dict)  # control id -> operations
    problem: str = ""  # the host failed or could not be reached in the dry run


def from_outcome(outcome) -> ControlsResult:
    """A host's controls from its dry-run outcome (deploy.rollout.HostOutcome)."""
    result = ControlsResult(problem=outcome.unreachable or "; ".join(outcome.failed))
    for operation in outcome.drifted:
        ids = CONTROL_ID.findall(operation) or ["(no control)"]
        for control in ids:
            result.drifted.setdefault(control, []).append(operation)
    return result


def check(inventory: str, limit: list[str]) -> dict[str, ControlsResult]:
    """Dry-run the deploy on the inventory; each host's controls."""
    from deploy.rollout import deploy

    return {outcome.name: from_outcome(outcome) for outcome in deploy(inventory, limit, dry=True, echo=False)}
