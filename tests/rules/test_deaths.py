"""Tests that nothing actionable is reported for a patient who has died by ``as_of``.

The class of fault: rules excluded a death only when it came on or before the gap's due
date, so a gap already due (and open) when the patient died stayed open, and tasks were
suggested for the dead. Every rule goes through one guarantee (``RuleContext.gap`` and the
engine); these tests check it from several families, on both sides of the death instant,
for partial death dates, and for rules that do not use ``ctx.gap``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import ClassVar
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord.domain import PartialDate, Referral, StatusChange
from carecoord.rules import (
    Gap,
    GapStatus,
    RuleContext,
    RuleMetadata,
    Severity,
    suggest_tasks,
)
from carecoord.testing import PCP, make_referral, make_transition
from carecoord.testing._timetravel import Scenario

NY = ZoneInfo("America/New_York")
DISCHARGED = dt.datetime(2026, 2, 5, 11, 0, tzinfo=NY)  # Thursday
TCM = "transition.tcm-contact"  # due Monday 9 February
MED_REC = "transition.med-rec"  # due 7 March
REFERRAL = "referral.unacknowledged"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NY)


def referral(sent: dt.datetime) -> Referral:
    """A referral written and sent at ``sent`` (unacknowledged 3 business days later)."""
    return make_referral(
        authored_on=sent,
        sent_at=sent,
        last_modified=sent,
        history=(StatusChange("draft", "sent", sent, PCP),),
    )


def scenario(now: dt.datetime) -> Scenario:
    """A discharge home on 5 February and a referral sent on 2 February, seen at ``now``."""
    s = Scenario(start=now)
    s.add(
        "transitions",
        make_transition(admitted_at=at(dt.date(2026, 2, 2)), discharged_at=DISCHARGED),
    )
    s.add("referrals", referral(at(dt.date(2026, 2, 2), 9)))
    return s


class TestDeadAtAsOf:
    """A patient who has died by as_of has no actionable gap, whatever the rule."""

    def test_a_gap_open_before_the_death_is_not_applicable_after_it(self) -> None:
        """The TCM contact was due 9 February and missed; she died 20 February: excluded.

        The reason says the death came after the due date (HEDIS excludes members who die
        during the measurement period; for the care team there is nothing left to do).
        """
        s = scenario(at(dt.date(2026, 2, 25)))
        s.assert_open(TCM)  # alive: still open on 25 February
        s.update_patient(deceased_at=at(dt.date(2026, 2, 20)))
        gap = s.assert_not_applicable(TCM)
        assert gap.reason == "patient died after the due date"

    def test_a_gap_due_after_the_death_says_patient_died(self) -> None:
        """Med rec due 7 March, death 20 February: excluded as the rules always did."""
        s = scenario(at(dt.date(2026, 2, 25)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 20)))
        assert s.assert_not_applicable(MED_REC).reason == "patient died"

    def test_every_family_is_covered(self) -> None:
        """Referral and transition gaps alike: no actionable gap is left at all."""
        s = scenario(at(dt.date(2026, 2, 25)))
        assert s.gaps().actionable()
        s.update_patient(deceased_at=at(dt.date(2026, 2, 20)))
        assert not s.gaps().actionable()
        assert s.assert_not_applicable(REFERRAL).reason == "patient died after the due date"

    def test_closed_gaps_stay_closed(self) -> None:
        """A gap met before the death is still closed: met is met."""
        s = scenario(at(dt.date(2026, 2, 25)))
        s.add("referrals", referral(at(dt.date(2026, 2, 2), 9)).accept(at=at(dt.date(2026, 2, 3))))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 20)))
        s.assert_closed(REFERRAL)

    def test_death_at_the_as_of_instant_counts(self) -> None:
        """Both sides of the death instant: alive a microsecond before, dead at it."""
        death = at(dt.date(2026, 2, 20), 15)
        s = scenario(death - dt.timedelta(microseconds=1))
        s.update_patient(deceased_at=death)
        s.assert_open(TCM)
        s.set_now(death).assert_not_applicable(TCM)

    def test_a_later_death_is_not_known_at_as_of(self) -> None:
        """Time travel: evaluated before the death, the patient is alive and gets tasks."""
        s = scenario(at(dt.date(2026, 2, 12)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 20)))
        s.assert_open(TCM)
        assert any(t.code is not None and t.code.code == TCM for t in s.tasks())

    def test_a_death_without_a_date_counts(self) -> None:
        """A death recorded without a date excludes everything not met."""
        s = scenario(at(dt.date(2026, 2, 25)))
        s.update_patient(deceased=True)
        assert not s.gaps().actionable()


class TestPartialDeathDates:
    """A death known to the month or year counts from that period's first local day."""

    @pytest.mark.parametrize(
        ("died", "alive_until"),
        [
            (PartialDate(2026, 3), dt.date(2026, 2, 28)),
            (PartialDate(2026), dt.date(2025, 12, 31)),
            (PartialDate(2026, 3, 3), dt.date(2026, 3, 2)),
        ],
    )
    def test_both_sides_of_the_first_possible_day(
        self, died: PartialDate, alive_until: dt.date
    ) -> None:
        """Alive at the end of the day before the period; dead from its first midnight."""
        s = Scenario(start=at(alive_until))
        s.add("referrals", referral(at(alive_until - dt.timedelta(days=30))))
        s.update_patient(deceased_at=died)
        last = dt.datetime.combine(alive_until, dt.time.max, tzinfo=NY)
        s.set_now(last).assert_open(REFERRAL)
        s.set_now(last + dt.timedelta(microseconds=1)).assert_not_applicable(REFERRAL)

    def test_the_patients_local_date_decides_not_the_utc_date(self) -> None:
        """22:00 in New York on 28 February is 1 March in UTC: a March death is not known.

        The as-of view compared partial dates with ``as_of``'s own date, so an ``as_of``
        given in UTC made the patient dead a few hours early.
        """
        evening = dt.datetime(2026, 2, 28, 22, 0, tzinfo=NY).astimezone(dt.UTC)
        assert evening.date() == dt.date(2026, 3, 1)
        s = Scenario(start=evening)
        s.add("referrals", referral(at(dt.date(2026, 1, 20))))
        s.update_patient(deceased_at=PartialDate(2026, 3))
        s.assert_open(REFERRAL)


@attrs.frozen
class _RawGapRule:
    """A user's rule that builds its gap without ``ctx.gap``: always one open gap."""

    id: ClassVar[str] = "practice.raw"
    metadata: ClassVar[RuleMetadata] = RuleMetadata(id="practice.raw", title="Raw", description="")

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        """One open gap due 1 February, built by hand."""
        yield Gap(
            rule=self.id,
            patient=ctx.patient_id,
            status=GapStatus.OPEN,
            severity=Severity.LOW,
            due=dt.date(2026, 2, 1),
            opened=dt.date(2026, 1, 1),
            focus="x",
            summary="Something to do.",
            action="Do it.",
        )


class TestTheEngineGuarantee:
    """Rules that do not use ctx.gap are held to the same guarantee by the engine."""

    def test_a_raw_open_gap_becomes_not_applicable(self) -> None:
        """The hand-built open gap of a dead patient is reported not applicable."""
        s = scenario(at(dt.date(2026, 2, 25)))
        rules = [_RawGapRule()]
        assert s.gaps(rules)[0].status is GapStatus.OPEN
        s.update_patient(deceased_at=at(dt.date(2026, 2, 20)))
        gap = s.gaps(rules, include_closed=True)[0]
        assert gap.status is GapStatus.NOT_APPLICABLE
        assert gap.reason == "patient died after the due date"
        assert not s.gaps(rules)


class TestSuggestTasks:
    """suggest_tasks suggests nothing for a patient who has died by as_of."""

    def test_gaps_found_before_the_death_get_no_task_after_it(self) -> None:
        """Open gaps detected on 12 February, tasks asked for on 25 February: none."""
        s = scenario(at(dt.date(2026, 2, 12)))
        before = s.gaps()
        assert before.actionable()
        s.update_patient(deceased_at=at(dt.date(2026, 2, 20)))
        later = at(dt.date(2026, 2, 25))
        assert suggest_tasks(before, s.profile, as_of=later) == ()
        assert suggest_tasks(before, s.profile, as_of=at(dt.date(2026, 2, 19)))

    def test_the_scenario_suggests_nothing_for_the_dead(self) -> None:
        """The end-to-end path (detect, then suggest) yields no task."""
        s = scenario(at(dt.date(2026, 2, 25)))
        assert s.tasks()
        s.update_patient(deceased_at=PartialDate(2026, 2))
        assert s.tasks() == ()
