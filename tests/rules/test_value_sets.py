"""The rules read their code lists as value sets: SNOMED CT twins, self-poisoning, replacing.

Each rule that used an ICD-10-CM prefix list now reads a named value set from the library
given to ``detect_gaps``: a SNOMED CT-coded fact triggers it exactly as its ICD-10-CM twin,
intentional self-poisoning (T36-T65 with intent 2) counts as self-harm, and replacing a set
in the library changes what the rule sees.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from carecoord.domain import Code, PartialDate, Period, System
from carecoord.errors import NotFound, UsageError
from carecoord.profile import profile_from_record
from carecoord.rules import (
    Gap,
    RuleSet,
    Severity,
    configure_rule,
    default_rules,
    detect_gaps,
    detect_gaps_population,
    monitoring_overdue,
    rule_value_sets,
    suggest_tasks,
    transition_mental_health_follow_up,
)
from carecoord.terminology import (
    CHRONIC_CONDITION_GROUPS,
    DEFAULT_VALUE_SETS,
    CodePattern,
    ValueSet,
    ValueSetName,
)
from carecoord.testing import make_condition, make_encounter, make_procedure, make_record
from carecoord.testing._timetravel import Scenario

from .test_transitions import (
    DEPRESSION,
    ED_DAY,
    FMC,
    FUH,
    FUM,
    HEART_FAILURE,
    SEVEN,
    THIRTY,
    at,
    chronic_scenario,
    ed_visit,
    mental_health_stay,
    scenario,
)

SNOMED_DEPRESSION = Code(System.SNOMED, "370143000", "Major depressive disorder")
SNOMED_HEART_FAILURE = Code(System.SNOMED, "88805009", "Chronic congestive heart failure")
SNOMED_CKD = Code(System.SNOMED, "433144002", "Chronic kidney disease stage 3")
SSRI_SELF_POISONING = Code(
    System.ICD10CM, "T43.222A", "Poisoning by SSRI antidepressants, intentional self-harm"
)
SSRI_ACCIDENT = Code(System.ICD10CM, "T43.221A", "Poisoning by SSRI antidepressants, accidental")
HYPERTENSION = Code(System.SNOMED, "38341003", "Hypertensive disorder")
LATER = at(dt.date(2026, 2, 20))


def shape(gaps: tuple[Gap, ...]) -> list[tuple[Any, ...]]:
    """What two gaps for twin facts share: everything but the code itself."""
    return [(g.rule, g.focus, g.status, g.severity, g.due, g.opened, g.sensitivity) for g in gaps]


class TestSnomedTwins:
    """A SNOMED CT-coded fact opens the same gaps as its ICD-10-CM twin."""

    def test_fuh_inpatient_stay(self) -> None:
        """A SNOMED-coded depression admission opens FUH's two gaps like F32.9 does."""
        icd = scenario(mental_health_stay(DEPRESSION), now=LATER).find_gaps(FUH)
        snomed = scenario(mental_health_stay(SNOMED_DEPRESSION), now=LATER).find_gaps(FUH)
        assert len(icd) == 2
        assert shape(snomed) == shape(icd)

    def test_fum_emergency_visit(self) -> None:
        """A SNOMED-coded depression ED visit opens FUM's two gaps like F32.9 does."""
        now = at(ED_DAY + dt.timedelta(days=10))
        icd = scenario(ed_visit(DEPRESSION), now=now).find_gaps(FUM)
        snomed = scenario(ed_visit(SNOMED_DEPRESSION), now=now).find_gaps(FUM)
        assert len(icd) == 2
        assert shape(snomed) == shape(icd)

    def test_fmc_chronic_conditions(self) -> None:
        """SNOMED-coded heart failure and CKD make an ED visit count like I50 and N18.

        Both are on the problem list: the ED visit's own diagnosis no longer counts (FMC
        needs the conditions diagnosed before the visit).
        """
        icd_ckd = Code(System.ICD10CM, "N18.3")
        icd = chronic_scenario(HEART_FAILURE, icd_ckd).find_gaps(FMC)
        snomed = chronic_scenario(SNOMED_HEART_FAILURE, SNOMED_CKD).find_gaps(FMC)
        assert len(icd) == 1
        assert shape(snomed) == shape(icd)

    def test_a_non_member_opens_nothing(self) -> None:
        """A SNOMED hypertension admission is not a mental-health stay."""
        assert scenario(mental_health_stay(HYPERTENSION), now=LATER).find_gaps(FUH) == ()


class TestSelfPoisoning:
    """Intentional self-poisoning (T36-T65, intent character 2) is self-harm."""

    def test_admission_opens_critical_fuh_gaps(self) -> None:
        """A T43.222A admission opens FUH's gaps, critical as self-harm is."""
        gaps = scenario(mental_health_stay(SSRI_SELF_POISONING), now=LATER).find_gaps(FUH)
        assert [(g.focus, g.severity) for g in gaps] == [
            (SEVEN, Severity.CRITICAL),
            (THIRTY, Severity.CRITICAL),
        ]

    def test_ed_visit_opens_critical_fum_gaps(self) -> None:
        """A T43.222A emergency visit opens FUM's gaps, critical."""
        now = at(ED_DAY + dt.timedelta(days=10))
        gaps = scenario(ed_visit(SSRI_SELF_POISONING), now=now).find_gaps(FUM)
        assert {g.severity for g in gaps} == {Severity.CRITICAL}
        assert len(gaps) == 2

    def test_an_accidental_poisoning_opens_nothing(self) -> None:
        """T43.221A (accidental) is not self-harm, and not a mental illness."""
        assert scenario(mental_health_stay(SSRI_ACCIDENT), now=LATER).find_gaps(FUH) == ()

    def test_the_old_prefix_list_missed_it(self) -> None:
        """With the legacy ICD-10-CM prefixes, T43.222A opened nothing (what was fixed)."""
        legacy = transition_mental_health_follow_up(
            diagnosis_prefixes=("F32", "X71", "T14.91"), self_harm_prefixes=("X71",)
        )
        s = scenario(mental_health_stay(SSRI_SELF_POISONING), now=LATER, rules=[legacy])
        assert s.find_gaps(FUH) == ()


class TestReplacingAValueSet:
    """The library given to detect_gaps is what the rules read."""

    def test_a_replaced_set_changes_what_opens(self) -> None:
        """With mental illness as one SNOMED code, F32.9 no longer opens FUH; that code does."""
        only = ValueSet("MyMentalIllness", codes=(Code(System.SNOMED, "1234"),))
        library = DEFAULT_VALUE_SETS.replace(ValueSetName.MENTAL_ILLNESS, only)
        icd = scenario(mental_health_stay(DEPRESSION), now=LATER, value_sets=library)
        mine = scenario(
            mental_health_stay(Code(System.SNOMED, "1234")), now=LATER, value_sets=library
        )
        assert icd.find_gaps(FUH) == ()
        assert len(mine.find_gaps(FUH)) == 2

    def test_a_replaced_chronic_group(self) -> None:
        """Hypertension put in place of the CKD group counts as that group.

        Heart failure is on the problem list (the ED visit's own diagnosis no longer counts).
        """
        library = DEFAULT_VALUE_SETS.replace(
            ValueSetName.CHRONIC_KIDNEY_DISEASE, DEFAULT_VALUE_SETS[ValueSetName.HYPERTENSION]
        )
        s = chronic_scenario(HEART_FAILURE, HYPERTENSION)
        assert s.find_gaps(FMC) == ()
        s.value_sets = library
        assert len(s.find_gaps(FMC)) == 1

    def test_the_legacy_parameter_still_wins(self) -> None:
        """A rule given ICD-10-CM prefixes uses them instead of the value sets."""
        rule = transition_mental_health_follow_up(diagnosis_prefixes=("F32",))
        icd = scenario(mental_health_stay(DEPRESSION), now=LATER, rules=[rule])
        snomed = scenario(mental_health_stay(SNOMED_DEPRESSION), now=LATER, rules=[rule])
        assert len(icd.find_gaps(FUH)) == 2
        assert snomed.find_gaps(FUH) == ()

    def test_a_rule_pointed_at_another_set(self) -> None:
        """Configuring a value-set parameter makes the rule read another set of the library.

        FUH also reads ``hospice`` (issue 9: hospice anytime in the measurement year).
        """
        rule = configure_rule(transition_mental_health_follow_up(), diagnoses=("anxiety",))
        anxiety = ValueSet("anxiety", patterns=(CodePattern(System.ICD10CM, "F41"),))
        library = DEFAULT_VALUE_SETS.with_(anxiety)
        s = scenario(mental_health_stay(Code(System.ICD10CM, "F41.1")), now=LATER, rules=[rule])
        s.value_sets = library
        assert len(s.find_gaps(FUH)) == 2
        assert rule_value_sets(rule) == ("hospice", "mental-illness", "self-harm", "anxiety")


class TestLibraryChecks:
    """A library missing a set a rule reads is refused before anything runs."""

    def test_missing_value_set_raises_not_found(self) -> None:
        """detect_gaps names the rule and the missing value sets."""
        rule = configure_rule(transition_mental_health_follow_up(), diagnoses=("nowhere",))
        with pytest.raises(NotFound, match=r"rule transition\.mental-health-follow-up .*'nowhere'"):
            detect_gaps(profile_from_record(make_record()), as_of=LATER, rules=[rule])

    def test_not_a_library(self) -> None:
        """value_sets must be a ValueSets library (a wrong kind of argument: UsageError)."""
        with pytest.raises(UsageError, match="value_sets"):
            detect_gaps(
                profile_from_record(make_record()),
                as_of=LATER,
                value_sets={"mental-illness": None},  # type: ignore[arg-type]
            )

    def test_population_and_tasks_take_the_library(self) -> None:
        """detect_gaps_population and suggest_tasks accept (and check) the library too."""
        profile = scenario(mental_health_stay(SSRI_SELF_POISONING), now=LATER).profile
        (report,) = detect_gaps_population([profile], as_of=LATER, value_sets=DEFAULT_VALUE_SETS)
        assert report.by_rule(FUH)
        tasks = suggest_tasks(report, profile, as_of=LATER, value_sets=DEFAULT_VALUE_SETS)
        assert tasks
        empty = DEFAULT_VALUE_SETS.replace(ValueSetName.SELF_HARM, ValueSet("empty"))
        assert not detect_gaps(profile, as_of=LATER, value_sets=empty).by_rule(FUH)


class TestMetadata:
    """Every rule names the value sets it reads, and the defaults hold them."""

    def test_every_default_rule_reads_default_sets(self) -> None:
        """The catalogue reads only sets of the shipped library."""
        for rule in default_rules():
            DEFAULT_VALUE_SETS.require(rule_value_sets(rule), reader=rule.id)
            assert set(rule.metadata.value_sets) <= set(rule_value_sets(rule))

    @pytest.mark.parametrize(
        ("rule_id", "names"),
        [
            ("transition.mental-health-follow-up", {"mental-illness", "self-harm", "hospice"}),
            ("transition.ed-mental-health-follow-up", {"mental-illness", "self-harm", "hospice"}),
            ("transition.ed-chronic-follow-up", {*CHRONIC_CONDITION_GROUPS, "hospice"}),
            ("transition.med-rec", {"medication-reconciliation", "hospice"}),
            ("care-plan.missing", set(CHRONIC_CONDITION_GROUPS)),
            ("care-team.behavioral-health-missing", {"behavioral-health"}),
            ("medication.change-not-shared", {"psychotropic-medications"}),
            ("referral.loop-open", {"hospice", "consult-note"}),
            ("referral.report-missing", {"consult-note"}),
            (
                "transition.discharge-info-missing",
                {"discharge-summary", "transfer-summary", "hospice"},
            ),
            (
                "monitoring.overdue",
                {
                    "hospice",
                    "diabetes",
                    "hba1c-tests",
                    "major-depression",
                    "phq9-tests",
                    "annual-wellness-visit",
                    "preventive-visit",
                    "initial-preventive-visit",
                },
            ),
        ],
    )
    def test_value_sets_named(self, rule_id: str, names: set[str]) -> None:
        """The metadata of each rule that reads codes names its value sets."""
        assert set(default_rules().get(rule_id).metadata.value_sets) == names


SENIOR_BORN = PartialDate(1955, 6, 1)
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=at(ED_DAY).tzinfo)


def senior(*facts: tuple[str, Any]) -> Scenario:
    """A patient aged 70, with the facts."""
    s = Scenario(start=NOW)
    for kind, fact in facts:
        s.add(kind, fact)
    s.update_patient(birth_date=SENIOR_BORN)
    return s


def checkup(day: dt.date, code: Code) -> tuple[str, Any]:
    """A visit coded ``code`` on ``day``."""
    start = at(day)
    return "encounters", make_encounter(
        id="visit-1", period=Period(start, start + dt.timedelta(minutes=40)), types=(code,)
    )


class TestMonitoringAndCareTeam:
    """Monitoring schedules, hospice and the care-team rule read value sets too."""

    def test_a_synthea_check_up_is_the_yearly_visit(self) -> None:
        """SNOMED 185349003 (encounter for check up) counts as the annual wellness visit."""
        check_up = Code(System.SNOMED, "185349003", "Encounter for check up")
        s = senior(checkup(dt.date(2025, 6, 10), check_up))
        s.rules = RuleSet((monitoring_overdue(),))
        gap = s.gap("monitoring.overdue", "clinic-ehr/visit-1#annual-wellness-visit")
        assert gap.due == dt.date(2026, 6, 30)

    def test_an_office_visit_is_not(self) -> None:
        """An ordinary office visit does not start a new wellness cycle."""
        s = senior(checkup(dt.date(2025, 6, 10), Code(System.CPT, "99214")))
        s.rules = RuleSet((monitoring_overdue(),))
        assert [g.focus for g in s.find_gaps("monitoring.overdue")] == [
            "patient#annual-wellness-visit"
        ]

    def test_snomed_diabetes_is_followed(self) -> None:
        """A SNOMED-coded diabetes (73211009) gets the HbA1c schedule."""
        condition = make_condition(
            code=Code(System.SNOMED, "73211009"), onset=PartialDate(2025, 1, 10)
        )
        s = Scenario(start=NOW, rules=[monitoring_overdue()])
        s.add("conditions", condition)
        assert s.find_gaps("monitoring.overdue")[0].focus == "clinic-ehr/condition-1#diabetes-hba1c"

    def test_a_hospice_procedure_excludes(self) -> None:
        """Hospice care recorded as a procedure (SNOMED 385763009) makes the gap not applicable."""
        condition = make_condition(
            code=Code(System.ICD10CM, "E11.9"), onset=PartialDate(2025, 1, 10)
        )
        hospice = make_procedure(
            id="hospice-1",
            code=Code(System.SNOMED, "385763009"),
            performed=at(dt.date(2026, 2, 1)),
        )
        s = Scenario(start=NOW, rules=[monitoring_overdue()])
        s.add("conditions", condition)
        assert s.gaps(include_closed=True)[0].reason is None
        s.add("procedures", hospice)
        assert s.gaps(include_closed=True)[0].reason == "hospice"

    def test_snomed_behavioural_condition_needs_a_clinician(self) -> None:
        """A SNOMED-coded depression with no behavioural-health clinician opens the gap."""
        s = Scenario(start=NOW)
        s.add("conditions", make_condition(code=SNOMED_DEPRESSION))
        assert s.find_gaps("care-team.behavioral-health-missing")
