"""Type-checked only (mypy strict): the read -> profiles -> gaps -> tasks path as users write it.

Every name here comes from a public module (``carecoord``, ``carecoord.fhir``,
``carecoord.rules``, ``carecoord.profile``, ``carecoord.serialization``,
``carecoord.testing``); mypy checks that the whole path keeps precise types.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any, assert_type

import carecoord as cc
from carecoord import fhir, plot, serialization
from carecoord.demo_data import DEMO_AS_OF, demo_files
from carecoord.display import HtmlDisplay, JsonValue
from carecoord.domain import FACT_KINDS, FactKind, PatientRecord
from carecoord.profile import PossibleMatch, Timeline, TimelineEvent
from carecoord.rules import PopulationSummary, RuleError, us_federal_holidays


def read_path() -> None:
    """Reading FHIR: records, issues and counts with their types."""
    result = fhir.read([f.read_bytes() for f in demo_files()])
    assert_type(result, fhir.ImportResult)
    assert_type(result.records, tuple[PatientRecord, ...])
    assert_type(result.issues, tuple[fhir.ImportIssue, ...])
    assert_type(result.counts, Mapping[str, fhir.ResourceCounts])
    for issue in result.issues:
        assert_type(issue.path, str)
        assert_type(issue.code, str)


def profile_path(records: tuple[PatientRecord, ...]) -> None:
    """Building profiles: the set, one profile, its facts, views and timeline."""
    profiles = cc.build_profiles(records, match=cc.MatchConfig())
    assert_type(profiles, cc.ProfileSet)
    assert_type(iter(profiles), Iterator[cc.PatientProfile])
    assert_type(profiles.review, tuple[PossibleMatch, ...])
    profile = profiles[0]
    assert_type(profile, cc.PatientProfile)
    assert_type(profile.referrals, tuple[cc.Fact[cc.Referral], ...])
    assert_type(profile.referrals[0].value, cc.Referral)
    assert_type(profile.referrals[0].provenance, tuple[cc.Provenance, ...])
    assert_type(profile.conflicts, tuple[cc.FactConflict, ...])
    viewer = cc.Viewer(cc.Ref("Practitioner", "p1"), cc.ViewerRole.CLINICIAN)
    assert_type(cc.view_for(profile, viewer, at=DEMO_AS_OF), cc.PatientProfile)
    assert_type(profile.timeline(), Timeline)
    assert_type(profile.timeline()[0], TimelineEvent)
    kind = FACT_KINDS[0]
    assert_type(kind, FactKind[Any])
    assert_type(kind.date_of(profile.care_teams[0].value), dt.datetime | cc.PartialDate | None)


def gaps_path(profiles: cc.ProfileSet) -> None:
    """Detecting gaps and suggesting tasks, with a calendar and overrides."""
    calendar = cc.BusinessCalendar(holidays=us_federal_holidays(range(2025, 2028)))
    rules = cc.default_rules().without("ccm.time")
    report = cc.detect_gaps(profiles[0], as_of=DEMO_AS_OF, calendar=calendar, rules=rules)
    assert_type(report, cc.GapReport)
    assert_type(report.errors, tuple[RuleError, ...])
    for gap in report:
        assert_type(gap, cc.Gap)
        assert_type(gap.status, cc.GapStatus)
        assert_type(gap.severity, cc.Severity)
        assert_type(gap.key, str)
    tasks = cc.suggest_tasks(report, profiles[0], as_of=DEMO_AS_OF)
    assert_type(tasks, tuple[cc.Task, ...])
    reports = cc.detect_gaps_population(profiles, as_of=DEMO_AS_OF)
    assert_type(cc.summarize(reports), PopulationSummary)


def output_path(profiles: cc.ProfileSet, report: cc.GapReport) -> None:
    """Writing back: FHIR bundles and canonical JSON."""
    assert_type(fhir.write_bundle(profiles, gaps=report), dict[str, Any])
    text = serialization.dumps(profiles[0].records[0])
    assert_type(text, str)
    assert_type(serialization.loads(text, PatientRecord), PatientRecord)


def notebook_path(profiles: cc.ProfileSet, report: cc.GapReport) -> None:
    """Displays, rows and charts keep their types."""
    assert_type(profiles[0].display(gaps=report), HtmlDisplay)
    assert_type(profiles.display(show_personal_data=True).html, str)
    assert_type(profiles.to_records(), list[dict[str, JsonValue]])
    assert_type(profiles[0].timeline().to_records(), list[dict[str, JsonValue]])
    assert_type(report.to_records(), list[dict[str, JsonValue]])
    assert_type(cc.summarize([report]).to_records(), list[dict[str, JsonValue]])
    assert_type(report[0].display(), HtmlDisplay)
    assert_type(plot.gaps_by_rule([report]), Any)
