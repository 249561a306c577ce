"""The sensitivity-* value sets: what each class's shipped default recognises (issue 10)."""

from __future__ import annotations

import pytest

from carecoord.domain import Code, System
from carecoord.terminology import ATC, DEFAULT_VALUE_SETS, ValueSetName

MENTAL = DEFAULT_VALUE_SETS[ValueSetName.SENSITIVITY_MENTAL_HEALTH]
SUBSTANCE = DEFAULT_VALUE_SETS[ValueSetName.SENSITIVITY_SUBSTANCE_USE]
HIV = DEFAULT_VALUE_SETS[ValueSetName.SENSITIVITY_HIV]
VIOLENCE = DEFAULT_VALUE_SETS[ValueSetName.SENSITIVITY_SEXUAL_DOMESTIC_VIOLENCE]


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (System.SNOMED, "394587001"),  # psychiatry
        (System.SNOMED, "394913002"),  # psychotherapy
        (System.NUCC, "2084P0800X"),  # psychiatry
        (System.NUCC, "103TC0700X"),  # clinical psychologist
        (System.SNOMED, "79094001"),  # psychiatric interview (Synthea's encounter type)
        (System.SNOMED, "171207006"),  # depression screening (Synthea's procedure)
        (System.SNOMED, "736254008"),  # psychiatry care plan (Synthea's)
        (System.LOINC, "44261-6"),  # PHQ-9 total score
        (System.LOINC, "73832-8"),  # adult depression screening
        (System.RXNORM, "4493"),  # fluoxetine
        (System.RXNORM, "36437"),  # sertraline
        (System.RXNORM, "6901"),  # methylphenidate
        (ATC, "N06AB03"),  # fluoxetine (ATC)
    ],
)
def test_mental_health_implied(system: str, code: str) -> None:
    """Specialties, psychiatric visits, screenings, plans and psychotropics imply it."""
    assert Code(system, code) in MENTAL


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (System.RXNORM, "3322"),  # diazepam: as often for seizures and procedures
        (System.RXNORM, "2598"),  # clonazepam
        (System.SNOMED, "26929004"),  # Alzheimer's disease (G30): a neurological disease
        (System.LOINC, "75626-2"),  # AUDIT-C: a routine primary-care screen
    ],
)
def test_not_mental_health(system: str, code: str) -> None:
    """Benzodiazepines, Alzheimer's disease and routine alcohol screening are not listed."""
    assert Code(system, code) not in MENTAL


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (System.SNOMED, "55680006"),  # drug overdose (Synthea's)
        (System.SNOMED, "56876005"),  # drug rehabilitation and detoxification
        (System.ICD10CM, "T40.1X1A"),  # heroin poisoning, accidental
        (System.ICD10CM, "T40.601A"),  # narcotic poisoning
        (System.NUCC, "2084A0401X"),  # addiction medicine
        (System.NUCC, "261QR0405X"),  # substance use disorder rehabilitation clinic
        (System.LOINC, "82667-7"),  # DAST-10
        (System.RXNORM, "1819"),  # buprenorphine
    ],
)
def test_substance_use_implied(system: str, code: str) -> None:
    """Overdoses, rehabilitation, addiction medicine and drug screens imply it."""
    assert Code(system, code) in SUBSTANCE


def test_an_adverse_effect_of_an_opioid_is_not_substance_use() -> None:
    """T40 with intent 5 (adverse effect of a prescribed drug) is not a poisoning."""
    assert Code(System.ICD10CM, "T40.2X5A") not in SUBSTANCE


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (System.LOINC, "55277-8"),  # HIV status (Synthea's)
        (System.SNOMED, "31676001"),  # HIV antigen test (Synthea's procedure)
        (System.SNOMED, "394807007"),  # infectious diseases (specialty)
        (System.NUCC, "207RI0200X"),  # infectious disease
        (System.RXNORM, "276237"),  # emtricitabine
    ],
)
def test_hiv_implied(system: str, code: str) -> None:
    """HIV status and tests, antiretrovirals and infectious-disease care imply it."""
    assert Code(system, code) in HIV


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (System.ICD10CM, "T74.11XA"),
        (System.ICD10CM, "T76.21XA"),
        (System.ICD10CM, "Y07.01"),
        (System.ICD10CM, "Z69.11"),
        (System.ICD10CM, "Z04.41"),
        (System.ICD10CM, "Z62.810"),
        (System.ICD10CM, "Z91.410"),
        (System.ICD10CM, "O9A.311"),
        (System.SNOMED, "706893006"),  # victim of intimate partner abuse
        (System.LOINC, "28245-9"),  # abuse status (Synthea's)
        (System.LOINC, "76501-6"),  # afraid of partner
    ],
)
def test_violence_implied(system: str, code: str) -> None:
    """Abuse diagnoses, histories, examinations, findings and screens imply it."""
    assert Code(system, code) in VIOLENCE


def test_a_secondary_coding_is_in_the_set() -> None:
    """``contains_concept`` finds F32.0 behind an unclassified SNOMED CT code."""
    depression = Code(System.SNOMED, "36923009", also=(Code(System.ICD10CM, "F32.0"),))
    hypertension = Code(System.SNOMED, "38341003", also=(Code(System.ICD10CM, "B20"),))

    assert MENTAL.contains_concept(depression)
    assert HIV.contains_concept(hypertension)
    assert not HIV.contains(hypertension)


def test_psychotropic_medications_keep_their_codes() -> None:
    """The psychotropic set, now built from named groups, still lists 42 ingredients."""
    psychotropics = DEFAULT_VALUE_SETS[ValueSetName.PSYCHOTROPIC_MEDICATIONS]

    assert len(psychotropics.codes) == 42
    assert Code(System.RXNORM, "30125") in psychotropics  # modafinil
