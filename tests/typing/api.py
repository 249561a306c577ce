"""Type-checked only (mypy strict): the public API as a user writes it in a notebook."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import assert_type

import carecoord as cc
from carecoord import fhir
from carecoord.domain import CareTeamId, PatientId, Precision
from carecoord.rules import GapGroup, Worklist, worklist
from carecoord.terminology import DEFAULT_VALUE_SETS, ValueSet, ValueSets
from carecoord.testing import AS_OF, make_referral, make_task

task = make_task()
assert_type(task, cc.Task)
assert_type(task.accept(at=AS_OF), cc.Task)
assert_type(task.status, cc.TaskStatus)

referral = make_referral()
assert_type(referral.accept(at=AS_OF).status_at(AS_OF), cc.ReferralStatus)
assert_type(referral.sent_at, dt.datetime | None)

date = cc.PartialDate.parse("1985-06")
assert_type(date.earliest(), dt.date)
assert_type(date.precision, Precision)

team = cc.CareTeam(id=CareTeamId("t"), patient=PatientId("p"))
assert_type(team.lead(AS_OF), cc.CareTeamMember | None)

try:
    task.complete(at=AS_OF)
except cc.InvalidTransition as error:
    assert_type(error.allowed, tuple[str, ...])
except cc.ValidationError as error:
    assert_type(error.problems, tuple[cc.Problem, ...])

library = DEFAULT_VALUE_SETS.replace("mental-illness", ValueSet("mine"))
assert_type(library, ValueSets)
assert_type(library["self-harm"].contains(cc.Code(cc.System.ICD10CM, "T43.222A")), bool)
assert_type(fhir.read_value_sets(b"{}"), tuple[ValueSet, ...])
profiles = cc.build_profiles([])
assert_type(
    cc.detect_gaps_population(profiles, as_of=AS_OF, value_sets=library), Iterator[cc.GapReport]
)

reports = list(cc.detect_gaps_population(profiles, as_of=AS_OF))
shown = worklist(reports, as_of=AS_OF, since=dt.date(2026, 1, 1))
assert_type(shown, Worklist)
assert_type(shown.hidden, int)
assert_type(shown[0], GapGroup)
assert_type(cc.GapReport(patient="p", as_of=AS_OF).worklist(months=None).since, dt.date | None)
assert_type(shown.gaps[0].deqm_code, str)
