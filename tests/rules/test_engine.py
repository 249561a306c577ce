"""Tests for the engine: detect_gaps, rule sets, overrides, snoozes, errors, time zones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import ClassVar
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord.domain import CareSetting
from carecoord.errors import NotFound, UsageError, ValidationError
from carecoord.profile._model import PatientProfile, profile_from_record
from carecoord.rules import (
    Gap,
    GapStatus,
    Overrides,
    RuleContext,
    RuleMetadata,
    RuleSet,
    Snooze,
    default_rules,
    detect_gaps,
    detect_gaps_population,
    known_timezone,
    referral_unacknowledged,
    resolve_timezone,
)
from carecoord.testing import (
    AS_OF,
    days_before,
    make_organization,
    make_patient,
    make_record,
    make_referral,
    make_transition,
)

NY = ZoneInfo("America/New_York")


def profile(**facts: object) -> PatientProfile:
    """A profile from the default record holding ``facts``."""
    return profile_from_record(make_record(**facts))


@attrs.frozen
class Boom:
    """A user rule that always raises."""

    id: ClassVar[str] = "test.boom"
    metadata: ClassVar[RuleMetadata] = RuleMetadata(id="test.boom", title="Boom", description="")

    def evaluate(self, ctx: RuleContext) -> Iterable[Gap]:
        """Return the rule's gaps."""
        raise KeyError("boom")


@attrs.frozen
class Twice:
    """A user rule that finds the same gap twice, with different due dates."""

    id: ClassVar[str] = "test.twice"
    metadata: ClassVar[RuleMetadata] = RuleMetadata(id="test.twice", title="T", description="")

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        """Return the rule's gaps."""
        for days in (3, 1):
            yield ctx.gap(
                focus="same",
                due=ctx.add_days(ctx.today, days),
                opened=ctx.as_of,
                summary="s",
                action="a",
            )


@attrs.frozen
class Wrong:
    """A user rule that yields something that is not a gap."""

    id: ClassVar[str] = "test.wrong"
    metadata: ClassVar[RuleMetadata] = RuleMetadata(id="test.wrong", title="W", description="")

    def evaluate(self, ctx: RuleContext) -> Iterable[Gap]:
        """Return the rule's gaps."""
        return ["not a gap"]  # type: ignore[list-item]


class TestDetectGaps:
    """Tests for detect gaps."""

    def test_default_rules_find_the_unacknowledged_referral(self) -> None:
        """With the default catalogue, a sent referral without reply gives a gap."""
        report = detect_gaps(profile(referrals=(make_referral(),)), as_of=AS_OF)
        assert "referral.unacknowledged" in {g.rule for g in report}

    def test_closed_and_not_applicable_are_hidden_by_default(self) -> None:
        """Only prospective and open gaps are reported unless include_closed is set."""
        accepted = make_referral().accept(at=days_before(4))
        rules = [referral_unacknowledged()]
        hidden = detect_gaps(profile(referrals=(accepted,)), as_of=AS_OF, rules=rules)
        shown = detect_gaps(
            profile(referrals=(accepted,)), as_of=AS_OF, rules=rules, include_closed=True
        )
        assert len(hidden) == 0
        assert [g.status for g in shown] == [GapStatus.CLOSED]

    def test_a_raising_rule_becomes_an_error_and_the_others_run(self) -> None:
        """One failing rule is reported in errors; the other rules still report gaps."""
        report = detect_gaps(
            profile(referrals=(make_referral(),)),
            as_of=AS_OF,
            rules=[Boom(), referral_unacknowledged()],
        )
        assert [(e.rule, e.error_type) for e in report.errors] == [("test.boom", "KeyError")]
        assert len(report) == 1

    def test_a_rule_yielding_a_non_gap_is_an_error(self) -> None:
        """Yielding something that is not a Gap is reported as that rule's error."""
        report = detect_gaps(profile(), as_of=AS_OF, rules=[Wrong()])
        assert report.errors[0].error_type == "TypeError"

    def test_the_same_gap_twice_is_reported_once(self) -> None:
        """Two gaps with the same key are one gap: the earliest due is kept."""
        report = detect_gaps(profile(), as_of=AS_OF, rules=[Twice()])
        assert len(report) == 1
        assert report[0].due == dt.date(2026, 3, 3)

    def test_order_is_by_due_then_rule_then_focus(self) -> None:
        """Gaps are sorted deterministically by due, rule id and focus."""
        report = detect_gaps(
            profile(referrals=(make_referral(),), transitions=(make_transition(),)), as_of=AS_OF
        )
        order = [(g.due.isoformat()[:10], g.rule, g.focus) for g in report]
        assert order == sorted(order)

    def test_naive_as_of_is_refused(self) -> None:
        """as_of must be timezone-aware."""
        with pytest.raises(ValidationError, match="naive"):
            detect_gaps(profile(), as_of=dt.datetime(2026, 3, 2))  # noqa: DTZ001

    def test_report_names_patient_and_as_of(self) -> None:
        """The report says whose gaps and at which instant."""
        report = detect_gaps(profile(), as_of=AS_OF)
        assert (report.patient, report.as_of) == ("clinic-ehr/patient-1", AS_OF)

    def test_evaluation_is_deterministic(self) -> None:
        """Two evaluations of the same profile at the same instant are equal."""
        p = profile(referrals=(make_referral(),), transitions=(make_transition(),))
        assert detect_gaps(p, as_of=AS_OF) == detect_gaps(p, as_of=AS_OF)


class TestPopulation:
    """Tests for population."""

    def test_one_report_per_profile(self) -> None:
        """detect_gaps_population yields a report for each profile, in order."""
        profiles = [profile(), profile(referrals=(make_referral(),))]
        reports = list(detect_gaps_population(profiles, as_of=AS_OF))
        assert [len(r) > 0 for r in reports] == [False, True]

    def test_profiles_are_read_lazily(self) -> None:
        """Profiles are consumed one at a time as reports are asked for."""
        read: list[int] = []

        def stream() -> Iterator[PatientProfile]:
            for i in range(3):
                read.append(i)
                yield profile()

        reports = detect_gaps_population(stream(), as_of=AS_OF)
        next(reports)
        assert read == [0]

    def test_bad_as_of_fails_before_reading(self) -> None:
        """An invalid as_of is refused at the call, not at the first report."""
        with pytest.raises(ValidationError):
            detect_gaps_population([], as_of=dt.datetime(2026, 3, 2))  # noqa: DTZ001


class TestRuleSet:
    """Tests for rule set."""

    def test_ids_are_unique(self) -> None:
        """Two rules with the same id cannot be in one set."""
        with pytest.raises(ValidationError, match="duplicate"):
            RuleSet((referral_unacknowledged(), referral_unacknowledged()))

    def test_non_rules_are_refused(self) -> None:
        """Objects without the rule protocol are refused."""
        with pytest.raises(
            UsageError, match="expected an iterable of Rule, got a tuple holding a str"
        ):
            RuleSet(("nope",))  # type: ignore[arg-type]

    def test_without_drops_rules(self) -> None:
        """RuleSet.without returns a set lacking the named rules."""
        smaller = default_rules().without("referral.unacknowledged")
        assert "referral.unacknowledged" not in smaller.ids
        assert len(smaller) == len(default_rules()) - 1

    def test_without_an_unknown_id_raises(self) -> None:
        """Naming a rule that is not there is a NotFound (catches typos)."""
        with pytest.raises(NotFound):
            default_rules().without("referral.unacknowleged")

    def test_configure_changes_a_window(self) -> None:
        """RuleSet.configure returns a set whose rule has the new parameter."""
        changed = default_rules().configure("referral.unacknowledged", within_business_days=5)
        assert "within_business_days=5" in repr(changed.get("referral.unacknowledged"))

    def test_configure_refuses_unknown_parameters(self) -> None:
        """An unknown parameter name raises, listing the known ones."""
        with pytest.raises(ValidationError, match="within_business_days"):
            default_rules().configure("referral.unacknowledged", within_days=5)

    def test_configure_validates_values(self) -> None:
        """A negative window is refused."""
        with pytest.raises(ValidationError, match="0 or more"):
            default_rules().configure("referral.unacknowledged", within_business_days=-1)

    def test_replace_swaps_by_id_keeping_order(self) -> None:
        """RuleSet.replace puts the new rule where the old one was."""
        rules = default_rules()
        replaced = rules.replace(referral_unacknowledged(within_business_days=1))
        assert replaced.ids == rules.ids

    def test_only_and_family(self) -> None:
        """RuleSet.only keeps named rules; RuleSet.family keeps one family."""
        rules = default_rules()
        assert rules.only("transition.med-rec").ids == ("transition.med-rec",)
        assert all(i.startswith("referral.") for i in rules.family("referrals").ids)

    def test_add_appends(self) -> None:
        """RuleSet.add appends new rules at the end."""
        assert default_rules().add(Boom()).ids[-1] == "test.boom"

    def test_repr_lists_ids(self) -> None:
        """The repr names the rules."""
        assert "referral.unacknowledged" in repr(default_rules())


class TestOverrides:
    """Tests for overrides."""

    def test_disabled_rules_do_not_run(self) -> None:
        """A disabled rule reports nothing."""
        overrides = Overrides(disabled=frozenset({"referral.unacknowledged"}))
        report = detect_gaps(
            profile(referrals=(make_referral(),)), as_of=AS_OF, overrides=overrides
        )
        assert "referral.unacknowledged" not in {g.rule for g in report}

    def test_parameters_change_windows(self) -> None:
        """Parameter overrides change a rule's window."""
        overrides = Overrides(parameters={"referral.unacknowledged": {"within_business_days": 1}})
        report = detect_gaps(
            profile(referrals=(make_referral(),)),
            as_of=AS_OF,
            rules=[referral_unacknowledged()],
            overrides=overrides,
        )
        assert report[0].status is GapStatus.OPEN

    def test_overrides_for_absent_rules_are_ignored(self) -> None:
        """Overrides naming rules not in the set do nothing, so they can be shared."""
        overrides = Overrides(
            disabled=frozenset({"results.missing"}), parameters={"results.missing": {"x": 1}}
        )
        report = detect_gaps(profile(), as_of=AS_OF, overrides=overrides)
        assert report.ok

    def test_parameters_are_read_only(self) -> None:
        """The parameter mapping cannot be changed after construction."""
        overrides = Overrides(parameters={"referral.unacknowledged": {"within_business_days": 1}})
        with pytest.raises(TypeError):
            overrides.parameters["x"] = {}  # type: ignore[index]


class TestSnooze:
    """Tests for snooze."""

    def snoozed(self, until: dt.date, focus: str | None = None) -> Overrides:
        """Overrides snoozing referral.unacknowledged until ``until``."""
        snooze = Snooze(
            rule="referral.unacknowledged",
            patient="clinic-ehr/patient-1",
            until=until,
            reason="Recipient on leave",
            focus=focus,
        )
        return Overrides(snoozes=(snooze,))

    def run(self, overrides: Overrides, as_of: dt.datetime = AS_OF) -> Gap:
        """The referral.unacknowledged gap under ``overrides`` at ``as_of``."""
        report = detect_gaps(
            profile(referrals=(make_referral(),)),
            as_of=as_of,
            rules=[referral_unacknowledged()],
            overrides=overrides,
        )
        return report[0]

    def test_a_snoozed_gap_keeps_its_status_and_is_flagged(self) -> None:
        """A snoozed gap is still reported, status unchanged, with snoozed_until set."""
        gap = self.run(self.snoozed(dt.date(2026, 3, 9)))
        assert gap.status is GapStatus.PROSPECTIVE
        assert gap.snoozed_until == dt.date(2026, 3, 9)

    def test_a_snoozed_gap_is_not_actionable(self) -> None:
        """Snoozed gaps are left out of the work list."""
        report = detect_gaps(
            profile(referrals=(make_referral(),)),
            as_of=AS_OF,
            rules=[referral_unacknowledged()],
            overrides=self.snoozed(dt.date(2026, 3, 9)),
        )
        assert report.actionable() == ()

    def test_the_gap_comes_back_on_the_until_date(self) -> None:
        """On the until date (patient's local date) the snooze no longer applies."""
        on_until = dt.datetime(2026, 3, 9, 0, 1, tzinfo=NY)
        assert self.run(self.snoozed(dt.date(2026, 3, 9)), on_until).snoozed_until is None

    def test_the_day_before_until_is_still_snoozed(self) -> None:
        """The last local minute before the until date is still snoozed."""
        before = dt.datetime(2026, 3, 8, 23, 59, tzinfo=NY)
        assert self.run(self.snoozed(dt.date(2026, 3, 9)), before).snoozed_until is not None

    def test_a_focused_snooze_covers_only_that_gap(self) -> None:
        """A snooze with a focus leaves the patient's other gaps of the rule alone."""
        gap = self.run(self.snoozed(dt.date(2026, 3, 9), focus="clinic-ehr/other"))
        assert gap.snoozed_until is None

    def test_a_focus_matches_every_part_of_a_fact(self) -> None:
        """A snooze on a fact key covers that fact's #7d and #30d gaps."""
        snooze = Snooze("r", "p", dt.date(2026, 3, 9), "why", focus="src/stay-1")
        gap = Gap(
            rule="r",
            patient="p",
            status=GapStatus.OPEN,
            severity=default_rules()[0].metadata.severity,
            due=dt.date(2026, 3, 1),
            opened=AS_OF,
            focus="src/stay-1#7d",
            summary="s",
            action="a",
        )
        assert snooze.covers(gap, dt.date(2026, 3, 2))

    def test_reason_is_masked_in_repr(self) -> None:
        """The free-text reason is masked."""
        snooze = Snooze("r", "p", dt.date(2026, 3, 9), "Alex is travelling")
        assert "Alex" not in repr(snooze)

    def test_until_must_be_a_date(self) -> None:
        """A datetime until is refused (snoozes are by local date)."""
        with pytest.raises(ValidationError, match="until"):
            Snooze("r", "p", AS_OF, "why")


class TestTimeZone:
    """Tests for time zone."""

    def test_patient_zone_first(self) -> None:
        """The patient's IANA zone is used when set."""
        assert resolve_timezone(profile()) == ZoneInfo("America/New_York")

    def test_facility_zone_when_the_patient_has_none(self) -> None:
        """Without a patient zone, the facility of the latest stay decides."""
        record = make_record(
            patient=make_patient(timezone=None),
            organizations=(make_organization(timezone="America/Chicago"),),
            transitions=(make_transition(),),
        )
        assert resolve_timezone(profile_from_record(record)) == ZoneInfo("America/Chicago")

    def test_utc_when_nothing_is_known(self) -> None:
        """Without any zone, UTC."""
        record = make_record(patient=make_patient(timezone=None), organizations=())
        assert resolve_timezone(profile_from_record(record)) == dt.UTC

    def test_unknown_zone_names_are_skipped(self) -> None:
        """An invalid zone name falls through to the next source."""
        record = make_record(patient=make_patient(timezone="Mars/Olympus"))
        assert resolve_timezone(profile_from_record(record)) == ZoneInfo("America/New_York")

    def test_known_timezone_is_none_when_nothing_is_known(self) -> None:
        """known_timezone says when no zone is known; resolve_timezone still gives UTC."""
        record = make_record(patient=make_patient(timezone=None), organizations=())
        assert known_timezone(profile_from_record(record)) is None
        assert known_timezone(profile()) == ZoneInfo("America/New_York")


def _zoneless(discharged: dt.datetime) -> PatientProfile:
    """A patient with no zone anywhere, discharged home at ``discharged``."""
    stay = make_transition(
        admitted_at=discharged - dt.timedelta(days=2), discharged_at=discharged, facility=None
    )
    record = make_record(patient=make_patient(timezone=None), organizations=(), transitions=(stay,))
    return profile_from_record(record)


class TestNoZoneKnown:
    """With no patient or facility zone, an instant's own UTC offset gives its local day.

    The rules fell back to UTC, so an evening discharge in the Americas (written with its
    -05:00 offset) counted as a discharge on the next day, and every window ended a day
    late.
    """

    CHICAGO_EVENING = dt.datetime(2026, 2, 5, 20, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6)))

    def test_an_evening_discharge_is_on_its_own_date(self) -> None:
        """20:30 at -06:00 (02:30 UTC on the 6th) is a discharge on Thursday 5 February."""
        discharged = self.CHICAGO_EVENING
        assert discharged.astimezone(dt.UTC).date() == dt.date(2026, 2, 6)
        report = detect_gaps(
            _zoneless(discharged), as_of=discharged + dt.timedelta(hours=1), include_closed=True
        )
        assert report.by_rule("transition.tcm-contact")[0].due == dt.date(2026, 2, 9)
        assert report.by_rule("transition.med-rec")[0].due == dt.date(2026, 3, 7)

    def test_a_morning_discharge_in_utc_is_unchanged(self) -> None:
        """An instant written in UTC is on its UTC date, as before."""
        discharged = dt.datetime(2026, 2, 6, 9, 0, tzinfo=dt.UTC)
        report = detect_gaps(_zoneless(discharged), as_of=discharged + dt.timedelta(hours=1))
        assert report.by_rule("transition.med-rec")[0].due == dt.date(2026, 3, 8)

    def test_today_is_as_ofs_own_date_and_the_due_edge_follows_it(self) -> None:
        """Both sides of the due day, read in as_of's own offset (-06:00)."""
        discharged = self.CHICAGO_EVENING
        profile = _zoneless(discharged)
        rules = default_rules().only("transition.med-rec")
        zone = discharged.tzinfo
        last = dt.datetime.combine(dt.date(2026, 3, 7), dt.time.max, tzinfo=zone)
        assert detect_gaps(profile, as_of=last, rules=rules)[0].status is GapStatus.PROSPECTIVE
        after = last + dt.timedelta(microseconds=1)
        assert detect_gaps(profile, as_of=after, rules=rules)[0].status is GapStatus.OPEN

    def test_a_known_zone_still_wins_over_the_offset(self) -> None:
        """With the patient in Tokyo, the same instant is 11:30 on 6 February there."""
        discharged = self.CHICAGO_EVENING
        stay = make_transition(
            admitted_at=discharged - dt.timedelta(days=2), discharged_at=discharged
        )
        record = make_record(patient=make_patient(timezone="Asia/Tokyo"), transitions=(stay,))
        report = detect_gaps(profile_from_record(record), as_of=discharged + dt.timedelta(hours=1))
        # 11:30 on 6 February in Tokyo
        assert report.by_rule("transition.med-rec")[0].due == dt.date(2026, 3, 8)

    def test_suggest_tasks_reads_the_same_days(self) -> None:
        """A suggested task is due at the end of the gap's due day in as_of's offset."""
        from carecoord.rules import suggest_tasks

        discharged = self.CHICAGO_EVENING
        profile = _zoneless(discharged)
        as_of = discharged + dt.timedelta(hours=1)
        rules = default_rules().only("transition.med-rec")
        tasks = suggest_tasks(detect_gaps(profile, as_of=as_of, rules=rules), profile, as_of=as_of)
        assert tasks[0].due == dt.datetime.combine(
            dt.date(2026, 3, 7), dt.time.max, tzinfo=discharged.tzinfo
        )


class TestDeterministicRuleContext:
    """Tests for deterministic rule context."""

    def test_ctx_gap_statuses(self) -> None:
        """ctx.gap: closed wins over not-applicable; else prospective or open by due."""
        p = profile()
        from carecoord.domain import Ref
        from carecoord.rules import BusinessCalendar, Evidence

        ctx = RuleContext(p, AS_OF, BusinessCalendar(), NY)
        ev = Evidence("trigger", Ref("X", "y"))
        kwargs = {"focus": "f", "opened": AS_OF, "summary": "s", "action": "a"}
        today = ctx.today
        assert ctx.gap(due=today, **kwargs).status is GapStatus.PROSPECTIVE  # type: ignore[arg-type]
        assert (
            ctx.gap(due=today - dt.timedelta(days=1), **kwargs).status  # type: ignore[arg-type]
            is GapStatus.OPEN
        )
        both = ctx.gap(due=today, closed_by=(ev,), not_applicable="x", **kwargs)  # type: ignore[arg-type]
        assert both.status is GapStatus.CLOSED
        assert both.closed_by[0].role.value == "closing"

    def test_hospice_discharge_counts_as_hospice(self) -> None:
        """A discharge to hospice (yesterday) is hospice care on its day, in any period with it.

        Changed (issue 9): in_hospice(today) was true from the discharge on; now hospice is
        a period a rule's measurement period must overlap.
        """
        from carecoord.rules import BusinessCalendar

        stay = make_transition(to_setting=CareSetting.HOSPICE)
        ctx = RuleContext(profile(transitions=(stay,)), AS_OF, BusinessCalendar(), NY)
        yesterday = ctx.today - dt.timedelta(days=1)
        assert ctx.in_hospice(yesterday)
        assert not ctx.in_hospice(ctx.today)
        assert ctx.hospice_during(*ctx.measurement_year(ctx.today))
        assert not ctx.in_hospice(ctx.today - dt.timedelta(days=5))


class TestSince:
    """`since` bounds the report to gaps whose clock started in the period."""

    def test_old_gaps_are_left_out(self) -> None:
        """A gap opened before `since` is not reported; one opened on that day is."""
        import carecoord as cc
        from carecoord.profile import profile_from_record
        from carecoord.testing import AS_OF, days_before, make_record, make_task

        record = make_record(
            tasks=(
                make_task(id="old", due=days_before(40), authored_on=days_before(50)),
                make_task(id="new", due=days_before(5), authored_on=days_before(10)),
            )
        )
        profile = profile_from_record(record)
        rules = cc.default_rules().only("task.overdue")
        since = (AS_OF - dt.timedelta(days=10)).date()

        everything = cc.detect_gaps(profile, as_of=AS_OF, rules=rules)
        recent = cc.detect_gaps(profile, as_of=AS_OF, rules=rules, since=since)

        assert {g.focus.split("/")[-1] for g in everything} == {"old", "new"}
        assert [g.focus.split("/")[-1] for g in recent] == ["new"]
