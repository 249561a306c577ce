"""A practice's own gap rule, written against the same protocol as carecoord's rules.

The practice wants every missed appointment followed by a call to the patient within one
business day. The rule below is a small frozen attrs class with an ``id``, a
``metadata`` and an ``evaluate(ctx)`` method; nothing else is needed. It runs next to the
built-in catalogue, can be reconfigured and snoozed like them, and sees the patient's
profile as it was knowable at ``as_of``, so evaluating it at a past date reproduces what
the practice could have known then.

Run it with ``python examples/custom_rule.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import ClassVar
from zoneinfo import ZoneInfo

import attrs

from carecoord.domain import AppointmentStatus, CommunicationKind, Discipline
from carecoord.rules import (
    Citation,
    Gap,
    Overrides,
    Parameter,
    RuleContext,
    RuleMetadata,
    Severity,
    Snooze,
    default_rules,
    detect_gaps,
    suggest_tasks,
)
from carecoord.testing import Scenario, make_appointment, make_care_team, make_communication

NY = ZoneInfo("America/New_York")


@attrs.frozen
class NoShowOutreach:
    """Call the patient within ``within_business_days`` of any missed appointment."""

    within_business_days: int = 1

    id: ClassVar[str] = "practice.no-show-outreach"
    metadata: ClassVar[RuleMetadata] = RuleMetadata(
        id="practice.no-show-outreach",
        title="No call after a missed appointment",
        description="Nobody called the patient after they missed an appointment.",
        family="practice",
        severity=Severity.MEDIUM,
        opens="An appointment is marked no-show.",
        due="1 business day later.",
        closes="A patient contact (any attempt) after the no-show.",
        sources=(Citation("Practice policy 12: no-show follow-up"),),
        parameters=(
            Parameter("within_business_days", 1, "Business days to call.", "business days"),
        ),
        reads=frozenset({"appointments", "communications"}),
        discipline=Discipline.CARE_COORDINATION,
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        """One gap per no-show, closed by the first patient contact after it."""
        for appointment in ctx.profile.appointments:
            appt = appointment.value
            if appt.status is not AppointmentStatus.NO_SHOW:
                continue
            missed_at = appt.status_changed_at or appt.start
            day = ctx.local_date(missed_at)
            calls = sorted(
                (
                    c
                    for c in ctx.profile.communications
                    if c.value.kind is CommunicationKind.PATIENT_CONTACT
                    and c.value.sent >= missed_at
                ),
                key=lambda c: c.value.sent,
            )
            yield ctx.gap(
                focus=appointment.key,
                due=ctx.add_business_days(day, self.within_business_days),
                opened=missed_at,
                summary=f"Appointment missed on {day.isoformat()}; patient not called yet.",
                action="Call the patient, find out why, and rebook.",
                evidence=(ctx.trigger(appointment, "appointment missed"),),
                closed_by=(ctx.closing(calls[0], "patient called"),) if calls else (),
                closed_at=calls[0].value.sent if calls else None,
            )


def main() -> None:
    """Tell the story of one missed appointment, day by day."""
    rules = default_rules().add(NoShowOutreach())
    friday = dt.datetime(2026, 3, 6, 9, 0, tzinfo=NY)
    s = Scenario(start=friday, rules=rules)
    s.add("care_teams", make_care_team())
    s.add(
        "appointments",
        make_appointment(
            start=friday,
            status=AppointmentStatus.NO_SHOW,
            status_changed_at=friday + dt.timedelta(minutes=30),
            booked_at=friday - dt.timedelta(days=10),
            based_on=(),
        ),
    )
    rule_id = NoShowOutreach.id

    s.set_now(friday + dt.timedelta(hours=2))
    gap = s.gap(rule_id)
    print(f"Friday:   {gap.status.value}, due {gap.due} -> {gap.summary}")

    (task,) = suggest_tasks([gap], s.profile, as_of=s.now, rules=rules)
    print(f"          suggested task for {task.owner}, due {task.due:%Y-%m-%d %H:%M %Z}")

    s.advance(business_days=1).advance(days=1)
    print(f"Tuesday:  {s.gap(rule_id).status.value}")

    call = make_communication(
        kind=CommunicationKind.PATIENT_CONTACT, sent=s.now, recipients=(), about=()
    )
    s.record("communications", call)
    gap = s.gap(rule_id)
    print(f"Called:   {gap.status.value} (late: {gap.late}) by {gap.closed_by[0].ref}")

    an_hour_before = s.now - dt.timedelta(hours=1)
    past = detect_gaps(s.profile, as_of=an_hour_before, rules=rules).by_rule(rule_id)
    print(f"An hour before the call, evaluated afterwards: {past[0].status.value}")

    slower = rules.configure(rule_id, within_business_days=3)
    gap = detect_gaps(s.profile, as_of=an_hour_before, rules=slower).by_rule(rule_id)[0]
    print(f"With a 3-business-day window: due {gap.due}, {gap.status.value}")

    snooze = Snooze(rule_id, s.profile.id, dt.date(2026, 3, 20), "Patient travelling")
    overrides = Overrides(snoozes=(snooze,))
    report = detect_gaps(s.profile, as_of=an_hour_before, rules=rules, overrides=overrides)
    snoozed = report.by_rule(rule_id)[0]
    on_work_list = snoozed in report.actionable()
    print(f"Snoozed:  still {snoozed.status.value}, until {snoozed.snoozed_until}, ", end="")
    print(f"on the work list: {on_work_list}")


if __name__ == "__main__":
    main()
