"""The consent matrix: every sensitive class, every way of expressing it, every viewer.

For each class (mental health, substance use under 42 CFR Part 2, HIV, sexual or domestic
violence, restricted) and each way a record can express it (the primary coding, a
secondary coding, a label, a medicine or a test that implies it, a referral to a
specialty, a task or message about such a fact), each viewer sees exactly what the rules
say: the author always; the PCP on the care team without consent never; with a
team-wide permit for every class but Part 2 and restricted data; with a permit naming
them always; a specialist off the team never; the coordinator on the team like the PCP
with the team-wide permit; another patient is refused; the patient and their guardian
always. Then a property: nothing a view hides leaves its id or its text in any output.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecoord import fhir
from carecoord.domain import (
    FACT_FIELDS,
    Code,
    CommunicationKind,
    Consent,
    PatientRecord,
    Ref,
    Sensitivity,
    System,
)
from carecoord.errors import ConsentError
from carecoord.profile import (
    PatientProfile,
    Viewer,
    ViewerRole,
    merge_records,
    patient_summary,
    timeline,
    view_for,
)
from carecoord.rules import detect_gaps, summarize
from carecoord.serialization import dumps
from carecoord.testing import (
    AS_OF,
    CARDIOLOGIST,
    COORDINATOR,
    GUARDIAN,
    PCP,
    days_before,
    make_appointment,
    make_care_team,
    make_communication,
    make_condition,
    make_consent,
    make_medication,
    make_patient,
    make_record,
    make_referral,
    make_related_person,
    make_result,
    make_source,
    make_task,
)
from carecoord.testing.strategies import patient_records

AUTHOR = Ref("Practitioner", "author-1")
"""Who wrote every sensitive fact of the matrix: on no care team."""

LOCAL = "urn:example:local-codes"
Facts = dict[str, tuple[Any, ...]]


# --------------------------------------------------------------------------- the facts


def condition(code: Code, **extra: Any) -> Facts:
    """A condition the author wrote, coded ``code``."""
    return {"conditions": (make_condition(id="sensitive", code=code, author=AUTHOR, **extra),)}


def secondary(code: Code) -> Facts:
    """A condition coded locally, ``code`` its second coding (order used to decide)."""
    return condition(Code(LOCAL, "L-1", "local problem", also=(code,)))


def labelled(label: Sensitivity) -> Facts:
    """An ordinary-looking condition carrying the label ``label`` (``meta.security``)."""
    return condition(Code(LOCAL, "L-2", "noted"), sensitivity=frozenset({label}))


def medication(display: str) -> Facts:
    """A product coded only by its clinical drug code, named ``display``."""
    med = make_medication(
        id="sensitive",
        code=Code(System.RXNORM, "999999", display),
        ingredients=(),
        prescriber=AUTHOR,
    )
    return {"medications": (med,)}


def result_of(code: Code, value: Any) -> Facts:
    """A result of the test ``code`` the author reported."""
    result = make_result(id="sensitive", code=code, value=value, based_on=(), performer=AUTHOR)
    return {"results": (result,)}


def referral(specialty: Code | None, *reasons: Code) -> Facts:
    """A referral the author sent to ``specialty`` for ``reasons``."""
    sent = make_referral(
        id="sensitive", specialty=specialty, reasons=reasons, requester=AUTHOR, recipient=None
    )
    return {"referrals": (sent,)}


def with_task(facts: Facts) -> Facts:
    """``facts`` and the author's task whose focus is the sensitive one."""
    kind = next(iter(facts))
    target = {"conditions": "Condition", "referrals": "Referral"}[kind]
    task = make_task(id="about", focus=Ref(target, "sensitive"), requester=AUTHOR, owner=AUTHOR)
    return {**facts, "tasks": (task,)}


def with_message(facts: Facts) -> Facts:
    """``facts`` and the author's message about the sensitive one, with a note."""
    message = make_communication(
        id="about",
        kind=CommunicationKind.OTHER,
        sender=AUTHOR,
        recipients=(AUTHOR,),
        about=(Ref("Condition", "sensitive"),),
        note="see the attached findings",
    )
    return {**facts, "communications": (message,)}


def with_appointment(facts: Facts) -> Facts:
    """``facts`` (a referral) and the appointment booked for it."""
    booked = make_appointment(
        id="about", participants=(), based_on=(Ref("Referral", "sensitive"),), author=AUTHOR
    )
    return {**facts, "appointments": (booked,)}


PSYCHIATRY = Code(System.SNOMED, "394587001", "Psychiatry")
ADDICTION = Code(System.NUCC, "2084A0401X", "Addiction Medicine")
INFECTIOUS = Code(System.NUCC, "207RI0200X", "Infectious Disease")

CASES: dict[tuple[Sensitivity, str], Facts] = {
    # mental health
    (Sensitivity.MENTAL_HEALTH, "primary coding"): condition(Code(System.ICD10CM, "F32.9")),
    (Sensitivity.MENTAL_HEALTH, "secondary coding"): secondary(Code(System.ICD10CM, "F32.0")),
    (Sensitivity.MENTAL_HEALTH, "label"): labelled(Sensitivity.MENTAL_HEALTH),
    (Sensitivity.MENTAL_HEALTH, "implying medication"): medication("sertraline 50 MG Oral Tablet"),
    (Sensitivity.MENTAL_HEALTH, "implying test"): result_of(
        Code(System.LOINC, "44261-6", "PHQ-9 total score"), 17.0
    ),
    (Sensitivity.MENTAL_HEALTH, "referral to a specialty"): referral(PSYCHIATRY),
    (Sensitivity.MENTAL_HEALTH, "related task or message"): with_task(
        condition(Code(System.ICD10CM, "F31.9"))
    ),
    # substance use (42 CFR Part 2)
    (Sensitivity.SUBSTANCE_USE, "primary coding"): condition(Code(System.ICD10CM, "F11.20")),
    (Sensitivity.SUBSTANCE_USE, "secondary coding"): secondary(Code(System.ICD10CM, "F10.20")),
    (Sensitivity.SUBSTANCE_USE, "label"): labelled(Sensitivity.SUBSTANCE_USE),
    (Sensitivity.SUBSTANCE_USE, "implying medication"): medication(
        "buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet"
    ),
    (Sensitivity.SUBSTANCE_USE, "implying test"): result_of(
        Code(System.LOINC, "82667-7", "DAST-10 total score"), 6.0
    ),
    (Sensitivity.SUBSTANCE_USE, "referral to a specialty"): referral(ADDICTION),
    (Sensitivity.SUBSTANCE_USE, "related task or message"): with_message(
        condition(Code(System.SNOMED, "55680006", "Drug overdose"))
    ),
    # HIV
    (Sensitivity.HIV, "primary coding"): condition(Code(System.ICD10CM, "B20")),
    (Sensitivity.HIV, "secondary coding"): condition(
        Code(System.SNOMED, "38341003", "Hypertension", also=(Code(System.ICD10CM, "B20"),))
    ),
    (Sensitivity.HIV, "label"): labelled(Sensitivity.HIV),
    (Sensitivity.HIV, "implying medication"): medication(
        "emtricitabine 200 MG / tenofovir disoproxil fumarate 300 MG Oral Tablet"
    ),
    (Sensitivity.HIV, "implying test"): result_of(
        Code(System.LOINC, "55277-8", "HIV status"), "HIV positive"
    ),
    (Sensitivity.HIV, "referral to a specialty"): referral(INFECTIOUS),
    (Sensitivity.HIV, "related task or message"): with_appointment(referral(INFECTIOUS)),
    # sexual or domestic violence
    (Sensitivity.SEXUAL_DOMESTIC_VIOLENCE, "primary coding"): condition(
        Code(System.ICD10CM, "T74.11XA")
    ),
    (Sensitivity.SEXUAL_DOMESTIC_VIOLENCE, "secondary coding"): secondary(
        Code(System.ICD10CM, "Y07.01")
    ),
    (Sensitivity.SEXUAL_DOMESTIC_VIOLENCE, "label"): labelled(Sensitivity.SEXUAL_DOMESTIC_VIOLENCE),
    (Sensitivity.SEXUAL_DOMESTIC_VIOLENCE, "implying test"): result_of(
        Code(System.LOINC, "28245-9", "Abuse status"), "abused"
    ),
    (Sensitivity.SEXUAL_DOMESTIC_VIOLENCE, "referral to a specialty"): referral(
        None, Code(System.ICD10CM, "Z69.11", "Mental health services for victim")
    ),
    (Sensitivity.SEXUAL_DOMESTIC_VIOLENCE, "related task or message"): with_message(
        condition(Code(System.SNOMED, "706893006", "Victim of intimate partner abuse"))
    ),
    # restricted (v3 Confidentiality R or V)
    (Sensitivity.RESTRICTED, "label"): labelled(Sensitivity.RESTRICTED),
    (Sensitivity.RESTRICTED, "related task or message"): with_task(
        labelled(Sensitivity.RESTRICTED)
    ),
}
"""The sensitive facts of each (class, expression). Violence has no implying medicine,
and restricted is a label only: those cells do not exist."""


# --------------------------------------------------------------------------- the viewers

NAMED_ONLY = {Sensitivity.SUBSTANCE_USE, Sensitivity.RESTRICTED}
TEAM_WIDE = make_consent(id="team-wide")
NAMING_PCP = make_consent(id="naming-pcp", actors=(PCP,))


@attrs.frozen
class Role:
    """A viewer, the consents in force, and which classes they should see."""

    viewer: Viewer
    consents: tuple[Consent, ...]
    sees: Callable[[Sensitivity], bool] | None
    """``None``: the viewer is refused (``ConsentError``)."""


def _always(_: Sensitivity) -> bool:
    return True


def _never(_: Sensitivity) -> bool:
    return False


def _team_wide(sensitivity: Sensitivity) -> bool:
    return sensitivity not in NAMED_ONLY


ROLES: dict[str, Role] = {
    "author": Role(Viewer(AUTHOR), (), _always),
    "PCP without consent": Role(Viewer(PCP), (), _never),
    "PCP with a team-wide permit": Role(Viewer(PCP), (TEAM_WIDE,), _team_wide),
    "PCP named in a permit": Role(Viewer(PCP), (NAMING_PCP,), _always),
    "specialist off the team": Role(Viewer(CARDIOLOGIST), (TEAM_WIDE,), _never),
    "coordinator": Role(Viewer(COORDINATOR, ViewerRole.CARE_COORDINATOR), (TEAM_WIDE,), _team_wide),
    "another patient": Role(Viewer(Ref("Patient", "patient-2"), ViewerRole.PATIENT), (), None),
    "the patient": Role(Viewer(Ref("Patient", "patient-1"), ViewerRole.PATIENT), (), _always),
    "personal representative": Role(Viewer(GUARDIAN, ViewerRole.PATIENT), (), _always),
}


def person(facts: Facts, consents: tuple[Consent, ...]) -> PatientProfile:
    """One clinic record: the care team, the guardian, an ordinary problem, ``facts``."""
    ordinary = make_condition(id="ordinary", author=PCP)
    merged: Facts = {"conditions": (ordinary,)}
    for kind, items in facts.items():
        merged[kind] = (*merged.get(kind, ()), *items)
    record = make_record(
        source=make_source(id="clinic"),
        patient=make_patient(),
        related_persons=(make_related_person(),),
        care_teams=(make_care_team(),),
        consents=consents,
        **merged,
    )
    return merge_records([record])


def sensitive_ids(facts: Facts) -> set[tuple[str, str]]:
    """``(kind, id)`` of every fact of the case (the sensitive one and what names it)."""
    return {(kind, fact.id) for kind, items in facts.items() for fact in items}


@pytest.mark.parametrize("role", list(ROLES), ids=list(ROLES))
@pytest.mark.parametrize(
    ("sensitivity", "expression"),
    list(CASES),
    ids=[f"{s.name.lower()}-{e.replace(' ', '-')}" for s, e in CASES],
)
def test_matrix(sensitivity: Sensitivity, expression: str, role: str) -> None:
    """The viewer sees the case's facts exactly when its role may see the class."""
    facts = CASES[(sensitivity, expression)]
    case = ROLES[role]
    profile = person(facts, case.consents)

    if case.sees is None:
        with pytest.raises(ConsentError):
            view_for(profile, case.viewer, at=AS_OF)
        return
    view = view_for(profile, case.viewer, at=AS_OF)
    shown = {(kind, f.value.id) for kind, f in view.facts()}

    expected = sensitive_ids(facts) if case.sees(sensitivity) else set()
    assert shown & sensitive_ids(facts) == expected
    assert ("conditions", "ordinary") in shown


@pytest.mark.parametrize("role", [r for r in ROLES if ROLES[r].sees is not None])
@pytest.mark.parametrize(
    ("sensitivity", "expression"),
    list(CASES),
    ids=[f"{s.name.lower()}-{e.replace(' ', '-')}" for s, e in CASES],
)
def test_gaps_shown_to_a_viewer_rest_on_what_they_see(
    sensitivity: Sensitivity, expression: str, role: str
) -> None:
    """Gaps found on the whole profile, shown to a viewer, name no fact the view hides.

    Every gap kept names only facts in the view, carries only classes the viewer may see,
    and the gaps about the case's facts survive for a viewer who sees them.
    """
    facts = CASES[(sensitivity, expression)]
    case = ROLES[role]
    profile = person(facts, case.consents)
    report = detect_gaps(profile, as_of=AS_OF, include_closed=True)

    shown = report.for_viewer(profile, case.viewer)

    view = view_for(profile, case.viewer, at=AS_OF)
    visible_keys = {f.key for _, f in view.facts()}
    hidden_keys = {f.key for _, f in profile.facts()} - visible_keys
    for gap in shown:
        named = {gap.focus.split("#", 1)[0], *(e.ref.id for e in gap.evidence)}
        assert not named & hidden_keys, gap.rule
        assert case.sees is not None
        assert all(case.sees(s) for s in gap.sensitivity), gap.rule
    if case.sees is not None and case.sees(sensitivity):
        assert shown.gaps == tuple(
            g for g in report if all(case.sees(s) for s in g.sensitivity) or not g.sensitivity
        )


def test_the_matrix_is_complete() -> None:
    """Every class has every expression but the two that cannot exist (see CASES)."""
    classes = {s for s, _ in CASES}
    expressions = {e for _, e in CASES}

    assert classes == {s for s in Sensitivity if s is not Sensitivity.PSYCHOTHERAPY_NOTE}
    assert len(expressions) == 7
    assert len(CASES) * len(ROLES) == 29 * 9


# --------------------------------------------------------------------------- the property

_VIEWERS = st.sampled_from(
    [
        Viewer(PCP),
        Viewer(CARDIOLOGIST),
        Viewer(COORDINATOR, ViewerRole.CARE_COORDINATOR),
        Viewer(Ref("Practitioner", "practitioner-1")),
        Viewer(Ref("Patient", "patient-1"), ViewerRole.PATIENT),
    ]
)


def _marked(value: Any, marks: itertools.count[int]) -> Any:
    """``value`` with every masked free text replaced by a unique marker (``zqt0001q``)."""
    if isinstance(value, tuple):
        return tuple(_marked(v, marks) for v in value)
    if not attrs.has(type(value)):
        return value
    changes: dict[str, Any] = {}
    for field in attrs.fields(type(value)):
        current = getattr(value, field.name)
        if isinstance(current, str) and field.repr is not True and current.strip():
            changes[field.name] = f"zqt{next(marks):04d}q"
        elif isinstance(current, tuple) or attrs.has(type(current)):
            changes[field.name] = _marked(current, marks)
    return attrs.evolve(value, **changes)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[PatientProfile, Viewer, dt.datetime]:
    """A generated record with distinctive ids and texts, some facts naming others."""
    record: PatientRecord = draw(patient_records("patient-1", max_facts=2))
    marks = itertools.count(1)
    renamed: dict[str, tuple[Any, ...]] = {}
    for k, name in enumerate(FACT_FIELDS):
        renamed[name] = tuple(
            _marked(attrs.evolve(fact, id=f"zqi{k:02d}{n}q"), marks)
            for n, fact in enumerate(getattr(record, name))
        )
    targets = [Ref(type(fact).__name__, fact.id) for name in FACT_FIELDS for fact in renamed[name]]
    tasks = tuple(
        attrs.evolve(task, focus=draw(st.sampled_from(targets))) for task in renamed["tasks"]
    )
    messages = tuple(
        attrs.evolve(message, about=(draw(st.sampled_from(targets)),))
        for message in renamed["communications"]
    )
    renamed.update(tasks=tasks, communications=messages)
    record = attrs.evolve(record, **renamed)
    at = draw(st.sampled_from([AS_OF, days_before(400), days_before(-400)]))
    return merge_records([record]), draw(_VIEWERS), at


def _hidden_traces(profile: PatientProfile, view: PatientProfile) -> set[str]:
    """The ids and text markers of the facts ``view`` hides."""
    shown = {id(f) for _, f in view.facts()}
    traces: set[str] = set()
    for _, fact in profile.facts():
        if id(fact) in shown:
            continue
        for variant in fact.variants:
            traces.add(str(variant.id))
            traces.update(_texts(variant))
    return traces


def _texts(value: Any) -> set[str]:
    found: set[str] = set()
    text = repr(attrs.asdict(value, recurse=True)) if attrs.has(type(value)) else ""
    start = text.find("zqt")
    while start != -1:
        found.add(text[start : start + 8])
        start = text.find("zqt", start + 1)
    return found


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_cases())
def test_nothing_hidden_leaves_a_trace(case: tuple[PatientProfile, Viewer, dt.datetime]) -> None:
    """No hidden fact's id or text is in any output of a view, its gaps included.

    Checked: the view's repr, timeline, records and FHIR output, and the gaps found on the
    whole profile as shown to the viewer (their rows and their summary).

    Ids are unique across kinds (``zqi...q``) and every free text is a unique marker
    (``zqt...q``), so any occurrence in an output is a leak. The patient's summary is
    checked too when the viewer is the patient.
    """
    profile, viewer, at = case
    view = view_for(profile, viewer, at=at)
    traces = _hidden_traces(profile, view)
    gaps = detect_gaps(profile, as_of=at, include_closed=True).for_viewer(profile, viewer, at=at)
    outputs = [
        repr(view),
        json.dumps(gaps.to_records()),
        repr(summarize([gaps])),
        repr(timeline(profile, viewer=viewer, at=at)),
        *(dumps(record) for record in view.records),
        json.dumps(fhir.write_bundle([view])),
    ]
    if viewer.role is ViewerRole.PATIENT:
        summary = patient_summary(profile, start=days_before(30, at=at), end=at, at=at)
        outputs.append(summary.render())

    leaks = {trace for trace in traces for output in outputs if trace in output}
    assert leaks == set()
