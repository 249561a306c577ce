"""Tests for the social-needs rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.domain import (
    AppointmentId,
    OrganizationKind,
    Ref,
    Referral,
    SocialNeedStatus,
    StatusChange,
)
from carecoord.rules import social_need_unaddressed
from carecoord.testing import (
    PCP,
    Scenario,
    make_communication,
    make_organization,
    make_record,
    make_referral,
    make_social_need,
    make_task,
)

NY = ZoneInfo("America/New_York")
FOOD_BANK = Ref("Organization", "food-bank-1")


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


def end_of(day: dt.date) -> dt.datetime:
    """The last instant of local ``day`` in New York."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=NY)


def start_after(day: dt.date) -> dt.datetime:
    """The first instant of the day after ``day`` in New York."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=NY)


def community_referral(sent: dt.datetime, **changes: Any) -> Referral:
    """A referral to the food bank (a community organisation) sent at ``sent``."""
    fields = {
        "id": "referral-cbo",
        "authored_on": sent,
        "sent_at": sent,
        "recipient": FOOD_BANK,
        "specialty": None,
        "history": (StatusChange("draft", "sent", sent, PCP),),
        "last_modified": sent,
    }
    return make_referral(**{**fields, **changes})


def base_scenario(now: dt.datetime) -> Scenario:
    """A record that knows the food bank, at ``now``."""
    food_bank = make_organization(
        id=FOOD_BANK.id, name="Synthetic Food Bank", kind=OrganizationKind.COMMUNITY
    )
    return Scenario(make_record(organizations=(make_organization(), food_bank)), start=now)


NEED = "social.need-unaddressed"
IDENTIFIED_DAY = dt.date(2026, 2, 4)
NEED_DUE = dt.date(2026, 4, 5)


def need_scenario(now: dt.datetime | None = None, **changes: Any) -> Scenario:
    """Food insecurity identified on 4 February 2026."""
    s = base_scenario(now or at(IDENTIFIED_DAY, 12))
    s.add("social_needs", make_social_need(**{"identified_at": at(IDENTIFIED_DAY), **changes}))
    return s


class TestNeedUnaddressed:
    """Tests for social.need-unaddressed."""

    def test_due_60_days_after_identification(self) -> None:
        """Identified 4 February: due 5 April."""
        assert need_scenario().gap(NEED).due == NEED_DUE

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 5 April, open from 6 April."""
        s = need_scenario()
        s.set_now(end_of(NEED_DUE)).assert_prospective(NEED)
        s.set_now(start_after(NEED_DUE)).assert_open(NEED)

    def test_closed_by_a_referral_to_a_community_organisation(self) -> None:
        """A referral sent to an organisation of kind community closes it."""
        s = need_scenario(now=at(dt.date(2026, 4, 10)))
        s.add("referrals", community_referral(at(dt.date(2026, 2, 20))))
        gap = s.assert_closed(NEED)
        assert gap.closed_at == at(dt.date(2026, 2, 20))
        assert gap.closed_by[0].ref == Ref("Referral", "clinic-ehr/referral-cbo")

    def test_closed_by_a_referral_flagged_community(self) -> None:
        """A referral flagged community counts whoever receives it."""
        s = need_scenario(now=at(dt.date(2026, 4, 10)))
        s.add(
            "referrals",
            community_referral(at(dt.date(2026, 2, 20)), recipient=None, community=True),
        )
        s.assert_closed(NEED)

    def test_a_clinical_referral_does_not_count(self) -> None:
        """A cardiology referral is no community referral."""
        s = need_scenario(now=at(dt.date(2026, 4, 10)))
        s.add(
            "referrals",
            make_referral(authored_on=at(dt.date(2026, 2, 20)), sent_at=None, history=()),
        )
        s.assert_open(NEED)

    def test_a_referral_before_the_screen_does_not_count(self) -> None:
        """A community referral from before the need was found is about something else."""
        s = need_scenario(now=at(dt.date(2026, 4, 10)))
        s.add("referrals", community_referral(at(dt.date(2026, 2, 3))))
        s.assert_open(NEED)

    def test_a_referral_after_as_of_does_not_close_earlier(self) -> None:
        """Time travel: before the referral was sent, the need is unaddressed."""
        s = need_scenario(now=at(dt.date(2026, 4, 7)))
        s.add("referrals", community_referral(at(dt.date(2026, 4, 8))))
        s.assert_open(NEED)

    def test_closed_by_a_task_about_it(self) -> None:
        """A task focused on the need is an intervention."""
        s = need_scenario(now=at(dt.date(2026, 4, 10)))
        s.add(
            "tasks",
            make_task(authored_on=at(dt.date(2026, 2, 5)), focus=Ref("SocialNeed", "need-1")),
        )
        s.assert_closed(NEED)

    def test_closed_by_a_communication_about_it(self) -> None:
        """A communication about the need is an intervention."""
        s = need_scenario(now=at(dt.date(2026, 4, 10)))
        message = make_communication(
            sent=at(dt.date(2026, 2, 5)), about=(Ref("SocialNeed", "need-1"),)
        )
        s.add("communications", message)
        s.assert_closed(NEED)

    def test_closed_when_marked_addressed(self) -> None:
        """A need marked addressed is closed (without a date: needs keep no history)."""
        gap = need_scenario(status=SocialNeedStatus.ADDRESSED).assert_closed(NEED)
        assert gap.closed_at is None

    def test_declined_is_not_applicable(self) -> None:
        """A patient who declined help: not applicable."""
        gap = need_scenario(status=SocialNeedStatus.DECLINED).assert_not_applicable(NEED)
        assert gap.reason == "patient declined help"

    def test_patient_died_is_not_applicable(self) -> None:
        """A death by the due date excludes the gap."""
        s = need_scenario(now=at(dt.date(2026, 4, 10)))
        s.update_patient(deceased_at=at(dt.date(2026, 3, 1)))
        s.assert_not_applicable(NEED)

    def test_window_is_configurable(self) -> None:
        """within_days=30 follows HEDIS SNS-E's one month."""
        s = Scenario(start=at(IDENTIFIED_DAY, 12), rules=[social_need_unaddressed(within_days=30)])
        s.add("social_needs", make_social_need(identified_at=at(IDENTIFIED_DAY)))
        assert s.gap(NEED).due == dt.date(2026, 3, 6)


OUTCOME = "social.referral-outcome-missing"
SENT_DAY = dt.date(2026, 2, 4)
OUTCOME_DUE = dt.date(2026, 3, 6)


def outcome_scenario(referral: Referral | None = None, now: dt.datetime | None = None) -> Scenario:
    """A community referral sent 4 February."""
    s = base_scenario(now or at(SENT_DAY, 12))
    s.add("referrals", referral or community_referral(at(SENT_DAY)))
    return s


class TestReferralOutcomeMissing:
    """Tests for social.referral-outcome-missing."""

    def test_due_30_days_after_sending(self) -> None:
        """Sent 4 February: an outcome is due by 6 March."""
        assert outcome_scenario().gap(OUTCOME).due == OUTCOME_DUE

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 6 March, open from 7 March."""
        s = outcome_scenario()
        s.set_now(end_of(OUTCOME_DUE)).assert_prospective(OUTCOME)
        s.set_now(start_after(OUTCOME_DUE)).assert_open(OUTCOME)

    def test_acceptance_is_not_an_outcome(self) -> None:
        """Accepted but nothing since: still open after the due date."""
        accepted = community_referral(at(SENT_DAY)).accept(at=at(dt.date(2026, 2, 6)))
        outcome_scenario(accepted, now=at(dt.date(2026, 3, 10))).assert_open(OUTCOME)

    def test_closed_when_scheduled(self) -> None:
        """Scheduled with the organisation: an outcome, dated by the history."""
        scheduled = (
            community_referral(at(SENT_DAY))
            .accept(at=at(dt.date(2026, 2, 6)))
            .schedule(AppointmentId("cbo-visit"), at=at(dt.date(2026, 2, 9)))
        )
        gap = outcome_scenario(scheduled, now=at(dt.date(2026, 3, 10))).assert_closed(OUTCOME)
        assert gap.closed_at == at(dt.date(2026, 2, 9))

    def test_closed_when_declined(self) -> None:
        """The organisation declining is an outcome too."""
        declined = community_referral(at(SENT_DAY)).decline(at=at(dt.date(2026, 2, 6)))
        outcome_scenario(declined, now=at(dt.date(2026, 3, 10))).assert_closed(OUTCOME)

    def test_an_outcome_after_as_of_does_not_close_earlier(self) -> None:
        """Time travel: before the decline, the referral has no outcome."""
        declined = community_referral(at(SENT_DAY)).decline(at=at(dt.date(2026, 3, 9)))
        outcome_scenario(declined, now=at(dt.date(2026, 3, 8))).assert_open(OUTCOME)

    def test_closed_by_a_completed_task(self) -> None:
        """A completed task focused on the referral records the outcome."""
        s = outcome_scenario(now=at(dt.date(2026, 3, 10)))
        done = (
            make_task(authored_on=at(dt.date(2026, 2, 5)), focus=Ref("Referral", "referral-cbo"))
            .start(at=at(dt.date(2026, 2, 10)))
            .complete(at=at(dt.date(2026, 2, 12)))
        )
        s.add("tasks", done)
        assert s.assert_closed(OUTCOME).closed_at == at(dt.date(2026, 2, 12))

    def test_an_open_task_is_no_outcome(self) -> None:
        """A task still in progress does not close it."""
        s = outcome_scenario(now=at(dt.date(2026, 3, 10)))
        s.add(
            "tasks",
            make_task(authored_on=at(dt.date(2026, 2, 5)), focus=Ref("Referral", "referral-cbo")),
        )
        s.assert_open(OUTCOME)

    def test_clinical_referrals_are_not_followed(self) -> None:
        """A cardiology referral has no community outcome to wait for."""
        s = base_scenario(at(SENT_DAY, 12))
        s.add(
            "referrals", make_referral(authored_on=at(SENT_DAY), sent_at=at(SENT_DAY), history=())
        )
        s.assert_no_gap(OUTCOME)

    def test_cancelled_is_not_applicable(self) -> None:
        """A cancelled referral has no outcome to wait for."""
        cancelled = community_referral(at(SENT_DAY)).cancel(at=at(dt.date(2026, 2, 6)))
        outcome_scenario(cancelled, now=at(dt.date(2026, 3, 10))).assert_not_applicable(OUTCOME)

    def test_patient_died_is_not_applicable(self) -> None:
        """A death by the due date excludes the gap."""
        s = outcome_scenario(now=at(dt.date(2026, 3, 10)))
        s.update_patient(deceased_at=at(dt.date(2026, 3, 1)))
        s.assert_not_applicable(OUTCOME)
