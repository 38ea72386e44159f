"""From the queries' rows to ``portalops_dossiers_*`` families, with bounded labels only.

A unit code is a label only in the national format (``000.00.14.H56``); status, channel
and level only as the national codes. Anything else a database holds is summed under
``other``, so a stray value cannot grow the label set or carry text someone typed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily, Metric

PREFIX = "portalops_dossiers"
UNIT_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
OTHER = "other"
STATUSES = range(1, 11)  # national status codes 1 submitted online ... 10 result returned
CHANNELS = range(1, 4)  # 1 in person, 2 online, 3 postal
LEVELS = range(2, 5)  # legacy mucDo 2, 3 (partial online), 4 (full-process online)
ONLINE = 2


def unit_label(value) -> str:
    """The unit code, or ``other`` for anything not in the national format."""
    return value if isinstance(value, str) and UNIT_CODE.match(value) else OTHER


def code_label(value, allowed: range) -> str:
    """A national code as a label, or ``other``."""
    try:
        return str(int(value)) if int(value) in allowed else OTHER
    except (TypeError, ValueError):
        return OTHER


@dataclass(frozen=True)
class Targets:
    """The province's targets (Decision 766/QĐ-TTg: 80 % of dossiers filed online, 80 % of fees
    paid online), and any unit's own assigned ones."""

    online_filing: float = 0.8
    online_payment: float = 0.8
    per_unit: dict[str, dict[str, float]] = field(default_factory=dict)

    def of(self, unit: str, kind: str) -> float:
        """The target of ``kind`` (online_filing, online_payment) for ``unit``."""
        return float(self.per_unit.get(unit, {}).get(kind, getattr(self, kind)))


def _gauge(name: str, documentation: str, samples: Counter | dict, labels: list[str]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for key, value in sorted(samples.items()):
        family.add_metric(list(key) if isinstance(key, tuple) else [key], float(value))
    return family


def families(dossier_rows: list[dict], sync_rows: list[dict], destination: str, targets: Targets) -> list[Metric]:
    """The exporter's families from the ``dossiers`` and ``sync`` queries' rows (see queries.py)."""
    by_state, overdue = Counter(), Counter()
    filed, filed_online, fee_bearing, paid_online = Counter(), Counter(), Counter(), Counter()
    for row in dossier_rows:
        unit = unit_label(row["unit_code"])
        channel = code_label(row["channel"], CHANNELS)
        state = (unit, code_label(row["status"], STATUSES), channel, code_label(row["level"], LEVELS))
        by_state[state] += row["dossiers"]
        overdue[unit] += row["overdue"]
        filed[unit] += row["month_filed"]
        filed_online[unit] += row["month_filed"] if channel == str(ONLINE) else 0
        fee_bearing[unit] += row["month_fee_bearing"]
        paid_online[unit] += row["month_paid_online"]

    pending, retrying, oldest = Counter(), Counter(), Counter()
    for row in sync_rows:
        unit = unit_label(row["unit_code"])
        pending[unit] += row["pending"]
        retrying[unit] += row["retrying"]
        oldest[unit] = max(oldest[unit], float(row["oldest_seconds"] or 0))
    for unit in set(overdue) | set(pending):  # a unit with nothing pending says 0, so its series do not vanish
        pending[unit] += 0
        retrying[unit] += 0
        oldest[unit] += 0

    def ratio(part: Counter, whole: Counter) -> dict:
        return {unit: part[unit] / whole[unit] for unit in whole if whole[unit]}

    unit, sync = ["unit_code"], ["unit_code", "destination"]
    return [
        _gauge(PREFIX, "Dossiers by unit, national status code, submission channel and service level.", by_state,
               ["unit_code", "status", "channel", "level"]),
        _gauge(f"{PREFIX}_overdue", "Dossiers past their appointment and not finished.", overdue, unit),
        _gauge(f"{PREFIX}_month_filed", "Dossiers submitted this month (Vietnam time).", filed, unit),
        _gauge(f"{PREFIX}_online_filing_ratio", "Share of this month's dossiers submitted online (0 to 1).",
               ratio(filed_online, filed), unit),
        _gauge(f"{PREFIX}_online_filing_target_ratio", "The unit's target share of dossiers submitted online.",
               {u: targets.of(u, "online_filing") for u in overdue}, unit),
        _gauge(f"{PREFIX}_month_fee_bearing", "Dossiers submitted this month with a fee due.", fee_bearing, unit),
        _gauge(f"{PREFIX}_online_payment_ratio",
               "Share of this month's fee-bearing dossiers paid through the payment platform (0 to 1; "
               "dossiers not yet asked for their fee count as unpaid).", ratio(paid_online, fee_bearing), unit),
        _gauge(f"{PREFIX}_online_payment_target_ratio", "The unit's target share of fees paid online.",
               {u: targets.of(u, "online_payment") for u in overdue}, unit),
        _gauge(f"{PREFIX}_sync_pending", "Status messages not yet delivered upstream (the sync chain's backlog).",
               {(u, destination): n for u, n in pending.items()}, sync),
        _gauge(f"{PREFIX}_sync_retrying", "Undelivered status messages whose delivery already failed at least once.",
               {(u, destination): n for u, n in retrying.items()}, sync),
        _gauge(f"{PREFIX}_sync_oldest_pending_age_seconds", "Age of the oldest undelivered status message (0: none).",
               {(u, destination): s for u, s in oldest.items()}, sync),
    ]
