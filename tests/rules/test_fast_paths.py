"""The cheaper paths of gap detection give exactly what the checked, general paths give.

Each fast path (``RuleContext.for_rule`` and ``evidence`` without re-checking, the as-of
copies of records and profiles, the inlined projection, the shared sensitivity inference,
the reference walk, the result rules' shared indexes, enum properties by identity) is
compared with the code it replaces, on the demo data set, and its fallbacks are checked.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import attrs
import pytest

from carecoord import build_profiles, fhir
from carecoord.demo_data import DEMO_AS_OF, demo_files
from carecoord.domain import (
    CareSetting,
    ClinicalStatus,
    EncounterClass,
    Interpretation,
    MedicationStatus,
    PatientRecord,
    Ref,
    ResultId,
    VerificationStatus,
)
from carecoord.errors import UsageError, ValidationError
from carecoord.profile import PatientProfile
from carecoord.profile._model import profile_from_record
from carecoord.profile._sensitivity import (
    Sensitivities,
    _collect_refs,
    _inference,
    refs_in,
    with_sensitivity_sets,
)
from carecoord.rules import (
    BusinessCalendar,
    Evidence,
    EvidenceRole,
    GapStatus,
    RuleContext,
    Severity,
    default_rules,
    detect_gaps,
)
from carecoord.rules._asof import _Projection, _replaced, _visible, profile_as_of
from carecoord.rules._results import _available, _member_index, _Report, _reports
from carecoord.terminology import DEFAULT_VALUE_SETS
from carecoord.testing import AS_OF, days_before, make_record, make_result


@pytest.fixture(scope="module")
def demo() -> list[PatientProfile]:
    """The demo data set's profiles."""
    return list(build_profiles(fhir.read([f.read_bytes() for f in demo_files()]).records))


def _context(profile: PatientProfile, as_of: dt.datetime = DEMO_AS_OF) -> RuleContext:
    return RuleContext(
        profile=profile_as_of(profile, as_of),
        as_of=as_of,
        calendar=BusinessCalendar(),
        tz=dt.UTC,
    )


def _fields(value: Any) -> list[tuple[str, Any]]:
    return [(f.name, getattr(value, f.name)) for f in attrs.fields(type(value))]


class TestForRule:
    """``for_rule`` copies without running the checked constructor again."""

    def test_equals_evolve_and_shares_the_caches(self, demo: list[PatientProfile]) -> None:
        """Every field as ``attrs.evolve`` sets it, the evaluation's caches shared."""
        base = _context(demo[0])
        fast = base.for_rule("x.rule", Severity.HIGH, "family", True)
        slow = attrs.evolve(
            base, rule="x.rule", severity=Severity.HIGH, family="family", standing=True
        )

        assert type(fast) is RuleContext
        assert _fields(fast)[:-1] == _fields(slow)[:-1]
        assert fast._shared is base._shared
        assert fast == slow

    def test_other_types_take_the_checked_path(self, demo: list[PatientProfile]) -> None:
        """A value of another type still meets the constructor's checks."""
        base = _context(demo[0])

        class Name(str):
            __slots__ = ()

        copy = base.for_rule(Name("x.rule"), Severity.LOW)
        with pytest.raises(UsageError):
            base.for_rule("x.rule", "high")  # type: ignore[arg-type]

        assert copy.rule == "x.rule"
        assert type(copy.rule) is Name
        assert copy._shared is base._shared


class TestEvidence:
    """``RuleContext.evidence`` builds what the checked constructors build."""

    def test_equals_the_checked_constructors(self, demo: list[PatientProfile]) -> None:
        """Same role, reference and description, of the same types."""
        ctx = _context(demo[0])
        fact = next(f for _kind, f in ctx.profile.facts())
        fast = ctx.evidence(EvidenceRole.TRIGGER, fact, "why")
        slow = Evidence(EvidenceRole.TRIGGER, Ref(type(fact.value).__name__, fact.key), "why")

        assert fast == slow
        assert hash(fast) == hash(slow)
        assert [type(v) for _n, v in _fields(fast)] == [type(v) for _n, v in _fields(slow)]

    def test_a_role_name_is_still_converted(self, demo: list[PatientProfile]) -> None:
        """A role given by name goes through the converter."""
        ctx = _context(demo[0])
        fact = next(f for _kind, f in ctx.profile.facts())

        assert ctx.evidence("closing", fact).role is EvidenceRole.CLOSING
        with pytest.raises(ValueError, match="not a valid EvidenceRole"):
            ctx.evidence("nonsense", fact)

    def test_a_blank_focus_still_fails(self, demo: list[PatientProfile]) -> None:
        """A gap whose focus names no fact key raises as the reference would."""
        ctx = _context(demo[0])

        with pytest.raises(ValidationError):
            ctx.gap(focus="#part", due=DEMO_AS_OF, opened=DEMO_AS_OF, summary="s", action="a")


class TestAsOfCopies:
    """The as-of view copies records and profiles as ``attrs.evolve`` would."""

    @pytest.mark.parametrize("days", [-400, -30, 0, 30])
    def test_views_equal_evolved_ones(self, demo: list[PatientProfile], days: int) -> None:
        """Each record and profile of the view equals its evolved counterpart."""
        as_of = DEMO_AS_OF + dt.timedelta(days=days)
        for profile in demo:
            view = profile_as_of(profile, as_of)
            if view is profile:
                continue
            changes = {f.name: getattr(view, f.name) for f in attrs.fields(PatientProfile)}

            assert view == attrs.evolve(profile, **changes)
            for record in view.records:
                fields = {f.name: getattr(record, f.name) for f in attrs.fields(PatientRecord)}
                assert record == PatientRecord(**fields)

    def test_subclasses_are_evolved(self, demo: list[PatientProfile]) -> None:
        """A class it does not know is copied by ``attrs.evolve``."""

        @attrs.frozen
        class Other:
            a: int
            b: int = 2

        assert _replaced(Other(1), {"b": 3}) == Other(1, 3)  # type: ignore[type-var]

    def test_projection_matches_visibility(self, demo: list[PatientProfile]) -> None:
        """The inlined projection hides exactly the facts ``visible`` hides."""
        as_of = DEMO_AS_OF - dt.timedelta(days=20)
        projection = _Projection(as_of, as_of.date())
        for profile in demo:
            for kind, fact in profile.facts():
                for variant in fact.variants:
                    shown = projection.one(kind, variant) is not None
                    assert shown == projection.visible(kind, variant)
        assert _visible(None, object(), as_of, as_of.date())


class TestSensitivities:
    """The sensitivity table's cheaper pieces."""

    def test_reference_walk_equals_refs_in(self, demo: list[PatientProfile]) -> None:
        """Every fact's references, in the same order."""
        for profile in demo:
            for _kind, fact in profile.facts():
                for variant in fact.variants:
                    found: list[Ref] = []
                    _collect_refs(variant, found)
                    assert found == list(refs_in(variant))

    def test_inference_is_shared_per_library(self) -> None:
        """One inference per library, another for another library."""
        other = DEFAULT_VALUE_SETS.with_(DEFAULT_VALUE_SETS["hospice"])

        assert _inference(DEFAULT_VALUE_SETS) is _inference(DEFAULT_VALUE_SETS)
        assert _inference(other) is not _inference(DEFAULT_VALUE_SETS)

    def test_of_named_equals_of_ref(self, demo: list[PatientProfile]) -> None:
        """Named lookups give what reference lookups give; positions are by object."""
        for profile in demo:
            table = Sensitivities(profile, with_sensitivity_sets(DEFAULT_VALUE_SETS))
            fresh = Sensitivities(profile, with_sensitivity_sets(DEFAULT_VALUE_SETS))
            for position, (_kind, fact) in enumerate(table.facts):
                ref = Ref(type(fact.value).__name__, fact.key)
                assert table.of_named(ref.type, ref.id) == fresh.of_ref(ref)
                assert table.of_named("*", fact.key) == fresh.of_ref(Ref("*", fact.key))
                assert table.position[id(fact)] == position
            assert table.all() == fresh.all()


def _old_member_index(results: list[Any]) -> dict[str, list[Any]]:
    """The member index as it was written before keys were worked out once."""
    by_id: dict[tuple[str, str], Any] = {}
    for fact in results:
        for provenance, variant in zip(fact.provenance, fact.variants, strict=True):
            by_id.setdefault((provenance.source, variant.id), fact)
    index: dict[str, list[Any]] = {}
    for fact in results:
        found: dict[str, Any] = {}
        for provenance, variant in zip(fact.provenance, fact.variants, strict=True):
            for member_id in variant.members:
                member = by_id.get((provenance.source, member_id))
                if member is not None and member.key != fact.key:
                    found.setdefault(member.key, member)
        if found:
            index[fact.key] = list(found.values())
    return index


def _old_reports(ctx: RuleContext) -> list[Any]:
    """The reports as they were worked out before keys were worked out once."""
    results = _available(ctx)
    index = _old_member_index(results)
    grouped = {m.key for members in index.values() for m in members}
    claimed: set[str] = set()
    found: list[Any] = []
    tops = [f for f in results if f.key not in grouped]
    loops = [f for f in results if f.key in grouped]
    for fact in (*tops, *loops):
        if fact.key in claimed:
            continue
        claimed.add(fact.key)
        members: list[Any] = []
        stack = list(reversed(index.get(fact.key, ())))
        while stack:
            member = stack.pop()
            if member.key in claimed:
                continue
            claimed.add(member.key)
            members.append(member)
            stack.extend(reversed(index.get(member.key, ())))
        members.sort(key=lambda f: (f.value.issued, f.key))
        found.append(_Report(fact, tuple(members)))
    found.sort(key=lambda r: (r.fact.value.issued, r.fact.key))
    return found


class TestResultIndexes:
    """The result rules' reports, with keys worked out once."""

    def test_member_index(self, demo: list[PatientProfile]) -> None:
        """The same members, in the same order, as before."""
        for profile in demo:
            results = _available(_context(profile))
            keys = {id(f): f.key for f in results}

            assert _member_index(results, keys) == _old_member_index(results)

    def test_panels_and_loops(self) -> None:
        """Reports, nested panels and results that group each other, as before."""
        results = [
            make_result(id="r1", members=(ResultId("p1"), ResultId("m3"))),
            make_result(id="p1", members=(ResultId("m1"), ResultId("m2"), ResultId("r1"))),
            make_result(id="m1"),
            make_result(id="m2", members=(ResultId("m1"),)),
            make_result(id="m3", issued=days_before(3)),
            make_result(id="a", members=(ResultId("b"),)),
            make_result(id="b", members=(ResultId("a"),)),
        ]
        profile = profile_from_record(make_record(results=tuple(results)))
        ctx = _context(profile, AS_OF)
        available = _available(ctx)
        keys = {id(f): f.key for f in available}
        reports = _reports(ctx)

        assert _member_index(available, keys) == _old_member_index(available)
        assert [(r.fact.key, [m.key for m in r.members]) for r in reports] == [
            (r.fact.key, [m.key for m in r.members]) for r in _old_reports(ctx)
        ]
        assert any(r.members for r in reports)

    def test_reports_cover_every_result_once(self, demo: list[PatientProfile]) -> None:
        """Each available result is one report's fact or member, reports in time order."""
        for profile in demo:
            ctx = _context(profile)
            reports = _reports(ctx)
            parts = [p.key for r in reports for p in r.parts]

            assert sorted(parts) == sorted(f.key for f in _available(ctx))
            assert len(parts) == len(set(parts))
            issued = [(r.fact.value.issued, r.fact.key) for r in reports]
            assert issued == sorted(issued)


def _members(kind: type[Enum], name: str) -> list[tuple[Enum, bool]]:
    return [(member, getattr(member, name)) for member in kind]


class TestEnumProperties:
    """Enum properties compared by identity keep their meaning."""

    @pytest.mark.parametrize(
        ("kind", "name", "true"),
        [
            (
                EncounterClass,
                "is_face_to_face_or_synchronous",
                {EncounterClass.AMBULATORY, EncounterClass.VIRTUAL, EncounterClass.HOME},
            ),
            (
                ClinicalStatus,
                "is_active",
                {ClinicalStatus.ACTIVE, ClinicalStatus.RECURRENCE, ClinicalStatus.RELAPSE},
            ),
            (
                MedicationStatus,
                "is_current",
                {MedicationStatus.ACTIVE, MedicationStatus.ON_HOLD, MedicationStatus.INTENDED},
            ),
            (
                Interpretation,
                "needs_follow_up",
                {Interpretation.ABNORMAL, Interpretation.CRITICAL},
            ),
            (
                CareSetting,
                "is_community",
                {
                    CareSetting.HOME,
                    CareSetting.HOME_HEALTH,
                    CareSetting.OUTPATIENT,
                    CareSetting.LEFT_AGAINST_ADVICE,
                },
            ),
            (GapStatus, "is_actionable", {GapStatus.PROSPECTIVE, GapStatus.OPEN}),
        ],
    )
    def test_members(self, kind: type[Enum], name: str, true: set[Enum]) -> None:
        """True for exactly the listed members."""
        assert _members(kind, name) == [(m, m in true) for m in kind]

    def test_condition_is_active(self, demo: list[PatientProfile]) -> None:
        """Active, and neither refuted nor entered in error."""
        conditions = [f.value for p in demo for f in p.conditions]
        assert conditions
        for condition in conditions:
            for verification in VerificationStatus:
                changed = attrs.evolve(condition, verification_status=verification)
                expected = changed.clinical_status.is_active and verification not in {
                    VerificationStatus.REFUTED,
                    VerificationStatus.ENTERED_IN_ERROR,
                }
                assert changed.is_active is expected


def test_reports_unchanged_on_the_demo(demo: list[PatientProfile]) -> None:
    """The whole catalogue runs on the demo, every gap built, no rule raising."""
    for profile in demo:
        report = detect_gaps(profile, as_of=DEMO_AS_OF, rules=default_rules(), include_closed=True)
        assert report.ok
