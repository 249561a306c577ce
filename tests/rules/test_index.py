"""Tests for the per-evaluation indexes (time lines, ranked look-ups) and context caches."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord.domain import CareSetting, Discipline, Encounter, Period, to_local_date
from carecoord.profile._model import Fact, PatientProfile, profile_from_record
from carecoord.rules import BusinessCalendar, RuleContext, Severity
from carecoord.rules._index import Ranked, Timeline
from carecoord.testing import (
    AS_OF,
    BEHAVIORAL_HEALTH,
    days_before,
    make_encounter,
    make_enrollment,
    make_record,
    make_transition,
)

NY = ZoneInfo("America/New_York")
BASE = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
"""Noon UTC on a Sunday, the start of the synthetic time lines."""


class _BackAcrossMidnight(dt.tzinfo):
    """A made-up zone whose clocks went back two hours at 00:30 local on 2 March 2026.

    Local days then do not grow with the instant: 00:15 on the 2nd is followed by 23:xx on
    the 1st (real zones have done this, rarely).
    """

    SWITCH = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # 00:30 local before the change

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        if when is None:
            return dt.timedelta(hours=1)
        utc = when.replace(tzinfo=None) - dt.timedelta(hours=1)
        return dt.timedelta(hours=1 if utc < self.SWITCH.replace(tzinfo=None) else -1)

    def dst(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)

    def tzname(self, when: dt.datetime | None) -> str:
        return "BACK"

    def fromutc(self, when: dt.datetime) -> dt.datetime:
        utc = when.replace(tzinfo=None)
        hours = 1 if utc < self.SWITCH.replace(tzinfo=None) else -1
        return (utc + dt.timedelta(hours=hours)).replace(tzinfo=self)


BACK = _BackAcrossMidnight()


def visit(n: int, start: dt.datetime) -> Fact[Encounter]:
    """An encounter fact ``visit-n`` starting at ``start``."""
    value = make_encounter(id=f"visit-{n}", period=Period(start))
    return profile_from_record(make_record(encounters=(value,))).encounters[0]


def timeline(starts: list[dt.datetime], tz: dt.tzinfo = NY) -> Timeline[Encounter]:
    """A time line of one visit per start, in the given order."""
    facts = [visit(n, start) for n, start in enumerate(starts)]
    return Timeline(((f.value.start, f) for f in facts), lambda t: to_local_date(t, tz))


def day_of(when: dt.datetime, tz: dt.tzinfo = NY) -> dt.date:
    """The local day of ``when`` in ``tz``."""
    return to_local_date(when, tz)


HOURS = st.lists(st.integers(min_value=0, max_value=24 * 6), min_size=0, max_size=12)
"""Offsets in hours from BASE for random time lines (ties included)."""


class TestTimeline:
    """Tests for Timeline."""

    def test_facts_are_ordered_by_instant_then_key(self) -> None:
        """Facts come out by instant, equal instants by key."""
        line = timeline([BASE + dt.timedelta(hours=2), BASE, BASE])
        assert [f.key for f in line] == [
            "clinic-ehr/visit-1",
            "clinic-ehr/visit-2",
            "clinic-ehr/visit-0",
        ]

    def test_from_day_starts_at_the_first_fact_of_the_day(self) -> None:
        """from_day yields the facts on or after a local day, in time order."""
        line = timeline([BASE, BASE + dt.timedelta(days=1), BASE + dt.timedelta(days=2)])
        assert [f.value.id for f in line.from_day(day_of(BASE) + dt.timedelta(days=1))] == [
            "visit-1",
            "visit-2",
        ]

    def test_first_from_is_none_after_the_last_day(self) -> None:
        """first_from a day after every fact finds nothing."""
        line = timeline([BASE])
        assert line.first_from(day_of(BASE) + dt.timedelta(days=1)) is None

    def test_from_instant_includes_an_equal_instant(self) -> None:
        """from_instant yields the facts at or after the instant."""
        line = timeline([BASE - dt.timedelta(hours=1), BASE])
        assert [f.value.id for f in line.from_instant(BASE)] == ["visit-1"]

    def test_between_is_after_the_instant_through_the_day(self) -> None:
        """between: strictly after the instant, on or before the local day."""
        line = timeline([BASE, BASE + dt.timedelta(hours=1), BASE + dt.timedelta(days=3)])
        found = line.between(BASE, day_of(BASE) + dt.timedelta(days=2))
        assert [f.value.id for f in found] == ["visit-1"]

    def test_where_keeps_the_order(self) -> None:
        """Timeline.where keeps the facts that pass, in time order."""
        line = timeline([BASE + dt.timedelta(hours=n) for n in (3, 1, 2)])
        kept = line.where(lambda e: e.id != "visit-2")
        assert [f.value.id for f in kept] == ["visit-1", "visit-0"]

    def test_days_going_back_across_midnight_are_still_found(self) -> None:
        """A fact whose local day is earlier than a previous fact's is still found by day."""
        before = dt.datetime(2026, 3, 1, 23, 15, tzinfo=dt.UTC)  # 00:15 on the 2nd, locally
        after = dt.datetime(2026, 3, 1, 23, 45, tzinfo=dt.UTC)  # 22:45 on the 1st, locally
        line = timeline([before, after], tz=BACK)
        assert [f.value.id for f in line.from_day(dt.date(2026, 3, 1))] == ["visit-0", "visit-1"]
        assert [f.value.id for f in line.from_day(dt.date(2026, 3, 2))] == ["visit-0"]
        assert [
            f.value.id for f in line.between(before - dt.timedelta(hours=1), dt.date(2026, 3, 1))
        ] == ["visit-1"]

    @settings(max_examples=60, deadline=None)
    @given(hours=HOURS, probe=st.integers(min_value=-24, max_value=24 * 7), back=st.booleans())
    def test_lookups_agree_with_a_scan(self, hours: list[int], probe: int, back: bool) -> None:
        """Every lookup gives what scanning all facts in time order gives."""
        tz = BACK if back else NY
        starts = [BASE + dt.timedelta(hours=h) for h in hours]
        line = timeline(starts, tz=tz)
        ordered = sorted(line, key=lambda f: (f.value.start, f.key))
        at = BASE + dt.timedelta(hours=probe)
        day = day_of(at, tz)
        assert list(line.from_day(day)) == [f for f in ordered if day_of(f.value.start, tz) >= day]
        assert list(line.from_instant(at, day)) == [
            f for f in ordered if f.value.start >= at and day_of(f.value.start, tz) >= day
        ]
        assert list(line.between(at, day)) == [
            f for f in ordered if f.value.start > at and day_of(f.value.start, tz) <= day
        ]


class TestRanked:
    """Tests for Ranked."""

    def test_the_earliest_day_then_the_smallest_key_wins(self) -> None:
        """By default the best entry is the earliest point, then the smallest key."""
        a, b, c = (visit(n, BASE) for n in (2, 1, 3))
        index = Ranked(
            [(dt.date(2026, 3, 3), c), (dt.date(2026, 3, 2), a), (dt.date(2026, 3, 2), b)]
        )
        assert index.first_from(dt.date(2026, 3, 1)) == (dt.date(2026, 3, 2), b)

    def test_first_from_includes_the_point(self) -> None:
        """first_from counts an entry on the point itself."""
        a = visit(1, BASE)
        assert Ranked([(dt.date(2026, 3, 2), a)]).first_from(dt.date(2026, 3, 2)) is not None

    def test_first_after_excludes_the_point(self) -> None:
        """first_after counts only entries strictly after the point."""
        a = visit(1, BASE)
        assert Ranked([(BASE, a)]).first_after(BASE) is None

    def test_skip_gives_the_runner_up(self) -> None:
        """With skip, the best entry other than the skipped fact."""
        a, b = visit(1, BASE), visit(2, BASE)
        index = Ranked([(BASE, a), (BASE + dt.timedelta(hours=1), b)])
        assert index.first_from(BASE, skip=a) == (BASE + dt.timedelta(hours=1), b)

    def test_rank_orders_and_ties_go_to_the_first_given(self) -> None:
        """A custom rank decides; equal ranks go to the entry given first."""
        a, b, c = visit(1, BASE), visit(2, BASE), visit(3, BASE)
        index = Ranked(
            [(BASE, a), (BASE, b), (BASE, c)], rank=lambda _at, f: f.value.id == "visit-1"
        )
        assert index.first_from(BASE) == (BASE, b)

    @settings(max_examples=60, deadline=None)
    @given(hours=HOURS, probe=st.integers(min_value=-24, max_value=24 * 7), skip=st.integers(0, 12))
    def test_lookups_agree_with_a_scan(self, hours: list[int], probe: int, skip: int) -> None:
        """first_from and first_after give the minimum a scan finds."""
        facts = [visit(n, BASE + dt.timedelta(hours=h)) for n, h in enumerate(hours)]
        entries = [(f.value.start, f) for f in facts]
        index = Ranked(entries)
        at = BASE + dt.timedelta(hours=probe)
        skipped = facts[skip] if skip < len(facts) else None

        def best(keep: list[tuple[dt.datetime, Fact[Encounter]]]) -> object:
            rest = [e for e in keep if e[1] is not skipped]
            return min(rest, key=lambda e: (e[0], e[1].key), default=None)

        assert index.first_from(at, skip=skipped) == best([e for e in entries if e[0] >= at])
        assert index.first_after(at, skip=skipped) == best([e for e in entries if e[0] > at])


def context(profile: PatientProfile) -> RuleContext:
    """An evaluation's base context over ``profile`` at AS_OF."""
    return RuleContext(profile, AS_OF, BusinessCalendar(), NY)


class TestSharedCaches:
    """Tests for the caches one evaluation's contexts share."""

    def test_cached_builds_once(self) -> None:
        """RuleContext.cached calls its builder once per key."""
        ctx = context(profile_from_record(make_record()))
        calls: list[int] = []

        def build(_ctx: RuleContext) -> int:
            calls.append(1)
            return len(calls)

        assert [ctx.cached("test.value", build) for _ in range(3)] == [1, 1, 1]
        assert calls == [1]

    def test_contexts_for_each_rule_share_the_cache(self) -> None:
        """for_rule copies see what another rule's context built."""
        base = context(profile_from_record(make_record()))
        base.for_rule("a", Severity.LOW).cached("test.value", lambda _c: "built")
        assert base.for_rule("b", Severity.HIGH).cached("test.value", lambda _c: "again") == "built"

    def test_an_evolved_context_starts_afresh(self) -> None:
        """A copy made with attrs.evolve (another profile, another instant) has its own cache."""
        base = context(profile_from_record(make_record()))
        base.cached("test.value", lambda _c: "old")
        later = attrs.evolve(base, as_of=AS_OF + dt.timedelta(days=1))
        assert later.cached("test.value", lambda _c: "new") == "new"

    def test_caches_do_not_change_equality(self) -> None:
        """Two contexts over the same inputs are equal whatever their caches hold."""
        profile = profile_from_record(make_record())
        used = context(profile)
        used.cached("test.value", lambda _c: 1)
        assert used == context(profile)

    def test_local_date_is_the_same_when_remembered(self) -> None:
        """A remembered local date equals the one worked out afresh."""
        ctx = context(profile_from_record(make_record()))
        late = dt.datetime(2026, 3, 2, 3, tzinfo=dt.UTC)  # 22:00 the day before in New York
        assert ctx.local_date(late) == ctx.local_date(late) == dt.date(2026, 3, 1)

    def test_discipline_is_remembered_per_party(self) -> None:
        """discipline_of answers the same twice (from the practitioner directory)."""
        ctx = context(profile_from_record(make_record()))
        first = ctx.discipline_of(BEHAVIORAL_HEALTH)
        assert first is Discipline.BEHAVIORAL_HEALTH
        assert ctx.discipline_of(BEHAVIORAL_HEALTH) is first

    def test_in_hospice_on_the_day_of_a_discharge_to_hospice(self) -> None:
        """in_hospice is true on the day of a discharge to hospice, not before or after.

        Changed (issue 9): it was true from the first discharge to hospice on, for life, so
        a patient who left hospice alive was never followed again. A discharge to hospice
        is hospice care on its day; rules ask about their measurement period
        (hospice_during).
        """
        stay = make_transition(
            admitted_at=days_before(10),
            discharged_at=days_before(5),
            to_setting=CareSetting.HOSPICE,
        )
        ctx = context(profile_from_record(make_record(transitions=(stay,))))
        discharged = ctx.local_date(days_before(5))
        assert not ctx.in_hospice(discharged - dt.timedelta(days=1))
        assert ctx.in_hospice(discharged)
        assert not ctx.in_hospice(discharged + dt.timedelta(days=1))
        assert ctx.hospice_during(discharged - dt.timedelta(days=9), discharged)
        assert not ctx.hospice_during(discharged + dt.timedelta(days=1), ctx.today)

    def test_in_hospice_during_a_hospice_enrolment(self) -> None:
        """in_hospice is true on a day inside a hospice enrolment, false after it ended."""
        enrolment = make_enrollment(
            program="hospice", period=Period(days_before(30), days_before(20))
        )
        ctx = context(profile_from_record(make_record(enrollments=(enrolment,))))
        assert ctx.in_hospice(ctx.local_date(days_before(25)))
        assert not ctx.in_hospice(ctx.local_date(days_before(10)))
