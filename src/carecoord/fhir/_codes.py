"""Code systems and the maps between FHIR codes and carecoord's enumerations.

Shared by the FHIR reader and writer: where a map is two-way, the ``*_TO_*`` reverse map
gives the code the writer emits for each carecoord value (the canonical one when several
codes read to the same value). Every map is a plain ``dict`` or ``tuple`` so a caller can
read (or copy and extend) it; nothing here holds state. carecoord's own code systems,
its origin tag and the URLs of its extensions (:class:`ExtensionUrl`) are here too, as
the writer writes them and the reader reads them back.
"""

from __future__ import annotations

from typing import ClassVar

from carecoord.domain import (
    AppointmentStatus,
    CarePlanStatus,
    CareSetting,
    CareTeamStatus,
    ClinicalStatus,
    CommunicationKind,
    ConditionCategory,
    Discipline,
    EncounterClass,
    EncounterStatus,
    MedicationStatus,
    OrderStatus,
    OrganizationKind,
    Priority,
    ResultStatus,
    Sensitivity,
    Sex,
    SocialDomain,
    System,
    TaskStatus,
    TransitionKind,
    VerificationStatus,
)
from carecoord.terminology import (
    ADMIT_SOURCE,
    COMMUNICATION_LOINC,
    DISCHARGE_HL7,
    DISCHARGE_NUBC,
    ENCOUNTER_CLASS,
    INTERPRETATION,
    TRANSITION_CLASSES,
)

__all__ = [
    "ACTIVITY_KIND_SYSTEM",
    "ADMIT_SOURCE",
    "ALLERGY_CLINICAL_TO_STATUS",
    "APPOINTMENT_STATUS",
    "APPOINTMENT_STATUS_TO_CODE",
    "CARECOORD_CODE_SYSTEM_BASE",
    "CARE_MANAGEMENT_PROGRAMS",
    "CARE_PLAN_STATUS",
    "CARE_TEAM_ROLE_SYSTEM",
    "CARE_TEAM_STATUS",
    "CLINICAL_STATUS",
    "COMMUNICATION_CATEGORY",
    "COMMUNICATION_LOINC",
    "CONDITION_CATEGORY",
    "CONDITION_CATEGORY_TO_CODE",
    "CONFIDENTIALITY_LABELS",
    "DATA_ABSENT_REASON",
    "DISCHARGE_HL7",
    "DISCHARGE_NUBC",
    "DISCIPLINE_SYSTEM",
    "ENCOUNTER_CLASS",
    "ENCOUNTER_CLASS_TO_CODE",
    "ENCOUNTER_STATUS",
    "EXTENSION_BASE",
    "FREQUENCY_CODES",
    "GENDER",
    "IMAGING_CATEGORY_CODES",
    "INTERACTIVE_MEDIA",
    "INTERPRETATION",
    "LAB_CATEGORY_CODES",
    "LIST_CODE_SYSTEM",
    "MEDICATION_RECONCILIATION_CODES",
    "MEDICATION_STATUS",
    "NO_KNOWN_ALLERGY_CODES",
    "NUCC_DISCIPLINE_PREFIXES",
    "ORDER_STATUS",
    "ORGANIZATION_KIND_SYSTEM",
    "ORGANIZATION_TYPE",
    "ORIGIN_SYSTEM",
    "PRIORITY",
    "PROGRAM_SYSTEM",
    "REFERRAL_CATEGORY_CODES",
    "REFERRAL_STATUS_SYSTEM",
    "RESULT_STATUS",
    "SDOH_CATEGORY_DOMAINS",
    "SDOH_ICD10_PREFIXES",
    "SDOH_SNOMED",
    "SECURITY_LABELS",
    "SENSITIVITY_TO_CODE",
    "SETTING_TO_ADMIT_SOURCE",
    "SETTING_TO_HL7",
    "SETTING_TO_NUBC",
    "SNOMED_SPECIALTY",
    "TASK_STATUS",
    "TRANSITION_CLASSES",
    "TRANSITION_KIND_TO_CODE",
    "VERIFICATION_STATUS",
    "CareCodes",
    "ExtensionUrl",
    "discipline_for_taxonomy",
    "frequency_text",
    "organization_kind_from_name",
    "security_coding",
    "security_label",
    "social_domain_for_icd10",
]


class CareCodes:
    """Code-system URIs used by the FHIR adapter beyond :class:`carecoord.domain.System`."""

    V3_ACT_CODE: ClassVar[str] = System.V3_ACT_CODE
    ENCOUNTER_CLASS_V2: ClassVar[str] = "http://terminology.hl7.org/CodeSystem/v2-0004"
    ORGANIZATION_TYPE: ClassVar[str] = "http://terminology.hl7.org/CodeSystem/organization-type"
    V2_0074: ClassVar[str] = "http://terminology.hl7.org/CodeSystem/v2-0074"
    V2_0203: ClassVar[str] = "http://terminology.hl7.org/CodeSystem/v2-0203"
    OBSERVATION_INTERPRETATION: ClassVar[str] = (
        "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
    )
    US_CORE_CATEGORY: ClassVar[str] = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
    US_CORE_CONDITION_CATEGORY: ClassVar[str] = (
        "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
    )
    SDOHCC: ClassVar[str] = System.SDOH_CATEGORY
    COMMUNICATION_CATEGORY: ClassVar[str] = (
        "http://terminology.hl7.org/CodeSystem/communication-category"
    )
    PARTICIPATION_MODE: ClassVar[str] = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
    GTS_ABBREVIATION: ClassVar[str] = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
    CONSENT_ACT_CODE: ClassVar[str] = System.V3_ACT_CODE
    TIMEZONE_EXTENSION: ClassVar[str] = "http://hl7.org/fhir/StructureDefinition/timezone"
    SMART_TAGS: ClassVar[str] = "https://smarthealthit.org/tags"
    CARE_TEAM_ROLE_V3: ClassVar[str] = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
    TEXT_ONLY: ClassVar[str] = "urn:carecoord:text"
    """System of a :class:`~carecoord.domain.Code` read from a CodeableConcept that has only
    ``text`` (no coding): the text is the code. The writer turns it back into ``text``."""


# --------------------------------------------------------------------------- parties

GENDER: dict[str, Sex] = {
    "female": Sex.FEMALE,
    "male": Sex.MALE,
    "other": Sex.OTHER,
    "unknown": Sex.UNKNOWN,
}
"""``Patient.gender`` -> :class:`Sex` (the reverse is ``sex.value``)."""

NUCC_DISCIPLINE_PREFIXES: tuple[tuple[str, Discipline], ...] = (
    # behavioural health (checked before the broader groups they sit in)
    ("1041C", Discipline.SOCIAL_WORK),  # clinical / social workers
    ("1041", Discipline.BEHAVIORAL_HEALTH),  # social worker, school (1041S), other 1041
    ("101Y", Discipline.BEHAVIORAL_HEALTH),  # counsellors
    ("102L", Discipline.BEHAVIORAL_HEALTH),  # psychoanalyst
    ("103G", Discipline.BEHAVIORAL_HEALTH),  # clinical neuropsychologist
    ("103T", Discipline.BEHAVIORAL_HEALTH),  # psychologists
    ("106E", Discipline.BEHAVIORAL_HEALTH),  # assistant behaviour analyst
    ("106H", Discipline.BEHAVIORAL_HEALTH),  # marriage and family therapist
    ("106S", Discipline.BEHAVIORAL_HEALTH),  # behaviour technician
    ("2084P", Discipline.BEHAVIORAL_HEALTH),  # psychiatry
    ("2084B", Discipline.BEHAVIORAL_HEALTH),  # forensic psychiatry
    ("2084F", Discipline.BEHAVIORAL_HEALTH),  # forensic psychiatry
    ("2080P0006", Discipline.BEHAVIORAL_HEALTH),  # developmental-behavioural paediatrics
    ("2080P0008", Discipline.BEHAVIORAL_HEALTH),  # neurodevelopmental disabilities
    ("363LP0808", Discipline.BEHAVIORAL_HEALTH),  # psychiatric/mental health NP
    ("364SP0808", Discipline.BEHAVIORAL_HEALTH),  # psychiatric/mental health CNS
    ("2279", Discipline.BEHAVIORAL_HEALTH),  # psychiatric nursing support (not NUCC core)
    ("261QM0801", Discipline.BEHAVIORAL_HEALTH),  # mental health clinic
    ("261QM0850", Discipline.BEHAVIORAL_HEALTH),  # adult mental health clinic
    ("261QR0405", Discipline.BEHAVIORAL_HEALTH),  # substance use rehabilitation clinic
    ("283Q", Discipline.BEHAVIORAL_HEALTH),  # psychiatric hospital
    ("273R", Discipline.BEHAVIORAL_HEALTH),  # psychiatric unit
    ("324500000", Discipline.BEHAVIORAL_HEALTH),  # substance abuse rehabilitation facility
    # primary care
    ("207Q", Discipline.PRIMARY_CARE),  # family medicine
    ("207R00000", Discipline.PRIMARY_CARE),  # internal medicine (general)
    ("208D", Discipline.PRIMARY_CARE),  # general practice
    ("208000000", Discipline.PRIMARY_CARE),  # paediatrics (general)
    ("363LA2200", Discipline.PRIMARY_CARE),  # adult health NP
    ("363LF0000", Discipline.PRIMARY_CARE),  # family NP
    ("363LP0200", Discipline.PRIMARY_CARE),  # paediatrics NP
    ("363LP2300", Discipline.PRIMARY_CARE),  # primary care NP
    ("363LG0600", Discipline.PRIMARY_CARE),  # gerontology NP
    ("363A", Discipline.PRIMARY_CARE),  # physician assistant
    ("261QP2300", Discipline.PRIMARY_CARE),  # primary care clinic
    ("261QF0400", Discipline.PRIMARY_CARE),  # federally qualified health centre
    ("261QR1300", Discipline.PRIMARY_CARE),  # rural health clinic
    # specialist physicians (every other 20xx allopathic and osteopathic physician)
    ("207R", Discipline.SPECIALIST),  # internal medicine subspecialties
    ("20", Discipline.SPECIALIST),
    # other nurse practitioners are advanced practice nursing
    ("363L", Discipline.NURSING),
    # pharmacy
    ("1835", Discipline.PHARMACY),  # pharmacist
    ("183700000", Discipline.PHARMACY),  # pharmacy technician
    ("3336", Discipline.PHARMACY),  # pharmacy (supplier)
    # nursing
    ("163W", Discipline.NURSING),  # registered nurse
    ("164W", Discipline.NURSING),  # licensed practical nurse
    ("164X", Discipline.NURSING),  # licensed vocational nurse
    ("364S", Discipline.NURSING),  # clinical nurse specialist
    ("367", Discipline.NURSING),  # nurse anaesthetist, midwife
    ("376", Discipline.NURSING),  # nursing assistant, home health aide
    ("3747", Discipline.NURSING),  # home health aide
    ("251E", Discipline.NURSING),  # home health agency
    ("314000000", Discipline.NURSING),  # skilled nursing facility
    ("313M", Discipline.NURSING),  # nursing facility
    # care coordination and community services
    ("171M", Discipline.CARE_COORDINATION),  # case manager / care coordinator
    ("251B", Discipline.CARE_COORDINATION),  # case management agency
    ("172V", Discipline.COMMUNITY_SERVICE),  # community health worker
    ("251J", Discipline.COMMUNITY_SERVICE),  # nursing care agency (community)
    ("253J", Discipline.COMMUNITY_SERVICE),  # foster care agency
    ("251V", Discipline.COMMUNITY_SERVICE),  # voluntary or charitable agency
    ("261QC1500", Discipline.COMMUNITY_SERVICE),  # community health clinic
    ("3416", Discipline.COMMUNITY_SERVICE),  # ambulance / transportation
    ("347", Discipline.COMMUNITY_SERVICE),  # non-emergency transportation
    # hospitals
    ("282N", Discipline.HOSPITAL),  # general acute care hospital
    ("28", Discipline.HOSPITAL),
    ("27", Discipline.HOSPITAL),
)
"""NUCC provider-taxonomy code prefixes -> :class:`Discipline`, most specific first.

:func:`discipline_for_taxonomy` takes the first prefix that matches."""


def discipline_for_taxonomy(code: str) -> Discipline | None:
    """The discipline a NUCC taxonomy code belongs to, or ``None`` when none matches."""
    upper = code.strip().upper()
    for prefix, discipline in NUCC_DISCIPLINE_PREFIXES:
        if upper.startswith(prefix):
            return discipline
    return None


SNOMED_SPECIALTY: dict[str, Discipline] = {
    "408443003": Discipline.PRIMARY_CARE,  # general medical practice
    "419772000": Discipline.PRIMARY_CARE,  # family practice
    "394802001": Discipline.PRIMARY_CARE,  # general medicine
    "394814009": Discipline.PRIMARY_CARE,  # general practice
    "394537008": Discipline.PRIMARY_CARE,  # paediatric specialty
    "394587001": Discipline.BEHAVIORAL_HEALTH,  # psychiatry
    "394913002": Discipline.BEHAVIORAL_HEALTH,  # psychotherapy
    "722165004": Discipline.BEHAVIORAL_HEALTH,  # clinical psychology
    "408459003": Discipline.BEHAVIORAL_HEALTH,  # paediatric psychiatry (child and adolescent)
    "408468001": Discipline.BEHAVIORAL_HEALTH,  # learning disability psychiatry
    "394602003": Discipline.NURSING,  # rehabilitation (nursing-led)
    "309964003": Discipline.SOCIAL_WORK,  # social work (service)
    "310057003": Discipline.SOCIAL_WORK,  # social services
    "394602006": Discipline.PHARMACY,  # pharmacy (service)
    "224535009": Discipline.NURSING,  # registered nurse (occupation)
    "106292003": Discipline.NURSING,  # professional nurse (occupation)
    "768730001": Discipline.CARE_COORDINATION,  # care coordinator (occupation)
    "224608005": Discipline.SOCIAL_WORK,  # social worker (occupation)
    "46255001": Discipline.PHARMACY,  # pharmacist (occupation)
    "62247001": Discipline.PRIMARY_CARE,  # general practitioner (occupation)
    "59058001": Discipline.PRIMARY_CARE,  # general physician (occupation)
    "309343006": Discipline.PRIMARY_CARE,  # physician (occupation): generic
    "80584001": Discipline.BEHAVIORAL_HEALTH,  # psychiatrist (occupation)
    "59944000": Discipline.BEHAVIORAL_HEALTH,  # psychologist (occupation)
    "224587008": Discipline.BEHAVIORAL_HEALTH,  # mental health counsellor (occupation)
}
"""SNOMED CT specialty and occupation codes (``PractitionerRole.specialty``/``code``,
``CareTeam.participant.role``) -> :class:`Discipline`."""

ORGANIZATION_TYPE: dict[str, OrganizationKind] = {
    "prov": OrganizationKind.PRACTICE,  # refined by the name (hospital, pharmacy, ...)
    "dept": OrganizationKind.HOSPITAL,
    "team": OrganizationKind.OTHER,
    "govt": OrganizationKind.OTHER,
    "ins": OrganizationKind.PAYER,
    "pay": OrganizationKind.PAYER,
    "edu": OrganizationKind.OTHER,
    "reli": OrganizationKind.COMMUNITY,
    "crs": OrganizationKind.OTHER,
    "cg": OrganizationKind.COMMUNITY,
    "bus": OrganizationKind.OTHER,
    "other": OrganizationKind.OTHER,
}
"""``Organization.type`` (organization-type code system) -> :class:`OrganizationKind`."""

_ORG_NAME_WORDS: tuple[tuple[tuple[str, ...], OrganizationKind], ...] = (
    (("PHARMACY", "DRUG", "APOTHEC"), OrganizationKind.PHARMACY),
    (("LABORATOR", " LAB ", " LABS", "DIAGNOSTIC"), OrganizationKind.LABORATORY),
    (
        ("NURSING HOME", "NURSING FACILITY", "SKILLED NURSING", "SNF", "NURSING AND REHAB"),
        OrganizationKind.SKILLED_NURSING,
    ),
    (("HOSPITAL", "MEDICAL CENTER", "MEDICAL CENTRE", "INFIRMARY"), OrganizationKind.HOSPITAL),
    (("INSURANCE", "MEDICAID", "MEDICARE", "HEALTH PLAN", "BLUE CROSS"), OrganizationKind.PAYER),
    (("FOOD BANK", "PANTRY", "SHELTER", "COMMUNITY", "YMCA"), OrganizationKind.COMMUNITY),
)


def organization_kind_from_name(name: str) -> OrganizationKind | None:
    """Guess an organisation's kind from words in its name, or ``None``.

    Used when the coded type is absent or as broad as ``prov`` (healthcare provider).
    """
    upper = f" {name.upper()} "
    for words, kind in _ORG_NAME_WORDS:
        if any(word in upper for word in words):
            return kind
    return None


CARE_TEAM_STATUS: dict[str, CareTeamStatus] = {s.value: s for s in CareTeamStatus}
"""``CareTeam.status`` -> :class:`CareTeamStatus` (same codes both ways)."""


# --------------------------------------------------------------------------- encounters


ENCOUNTER_CLASS_TO_CODE: dict[EncounterClass, str] = {
    EncounterClass.AMBULATORY: "AMB",
    EncounterClass.VIRTUAL: "VR",
    EncounterClass.TELEPHONE: "AMB",  # v3 ActCode has no telephone class; see Encounter.type
    EncounterClass.HOME: "HH",
    EncounterClass.EMERGENCY: "EMER",
    EncounterClass.INPATIENT: "IMP",
    EncounterClass.OBSERVATION: "OBSENC",
    EncounterClass.OTHER: "AMB",
}
""":class:`EncounterClass` -> v3 ActCode for ``Encounter.class``."""


TRANSITION_KIND_TO_CODE: dict[TransitionKind, str] = {
    TransitionKind.INPATIENT: "IMP",
    TransitionKind.OBSERVATION: "OBSENC",
    TransitionKind.EMERGENCY: "EMER",
    TransitionKind.TRANSFER: "IMP",
}
""":class:`TransitionKind` -> v3 ActCode for the encounter the writer emits."""

ENCOUNTER_STATUS: dict[str, EncounterStatus] = {
    "planned": EncounterStatus.PLANNED,
    "arrived": EncounterStatus.IN_PROGRESS,
    "triaged": EncounterStatus.IN_PROGRESS,
    "in-progress": EncounterStatus.IN_PROGRESS,
    "onleave": EncounterStatus.IN_PROGRESS,
    "on-hold": EncounterStatus.IN_PROGRESS,  # R5
    "finished": EncounterStatus.FINISHED,
    "completed": EncounterStatus.FINISHED,  # R5
    "discharged": EncounterStatus.FINISHED,  # R5
    "cancelled": EncounterStatus.CANCELLED,
    "discontinued": EncounterStatus.CANCELLED,  # R5
    "entered-in-error": EncounterStatus.ENTERED_IN_ERROR,
    "unknown": EncounterStatus.UNKNOWN,
}
"""R4 and R5 ``Encounter.status`` -> :class:`EncounterStatus` (reverse: ``status.value``)."""


SETTING_TO_NUBC: dict[CareSetting, str] = {
    CareSetting.HOME: "01",
    CareSetting.OTHER_HOSPITAL: "02",
    CareSetting.SKILLED_NURSING: "03",
    CareSetting.HOME_HEALTH: "06",
    CareSetting.LEFT_AGAINST_ADVICE: "07",
    CareSetting.INPATIENT: "09",
    CareSetting.DECEASED: "20",
    CareSetting.HOSPICE: "50",
    CareSetting.REHAB: "62",
    CareSetting.PSYCHIATRIC: "65",
}
""":class:`CareSetting` -> the canonical NUBC discharge status code."""


SETTING_TO_ADMIT_SOURCE: dict[CareSetting, str] = {
    CareSetting.OTHER_HOSPITAL: "hosp-trans",
    CareSetting.EMERGENCY: "emd",
    CareSetting.OUTPATIENT: "outp",
    CareSetting.HOME: "outp",
    CareSetting.SKILLED_NURSING: "nursing",
    CareSetting.PSYCHIATRIC: "psych",
    CareSetting.REHAB: "rehab",
    CareSetting.UNKNOWN: "other",
}
""":class:`CareSetting` -> HL7 ``admit-source`` code."""

CARE_MANAGEMENT_PROGRAMS: dict[str, str] = {
    "ccm": "ccm",
    "pcm": "pcm",
    "tcm": "tcm",
    "bhi": "bhi",
    "cocm": "cocm",
    "apcm": "apcm",
    "rpm": "rpm",
    "ccm-complex": "ccm",
    "care-management": "care-management",
    "case-management": "care-management",
}
"""``EpisodeOfCare.type`` codes that make an episode an :class:`~carecoord.domain.Enrollment`,
with the programme name; a type whose text or display says "care management", "case
management", "care coordination" or "chronic care" is the ``care-management`` programme."""


SETTING_TO_HL7: dict[CareSetting, str] = {
    CareSetting.HOME: "home",
    CareSetting.OTHER_HOSPITAL: "other-hcf",
    CareSetting.HOSPICE: "hosp",
    CareSetting.SKILLED_NURSING: "snf",
    CareSetting.LEFT_AGAINST_ADVICE: "aadvice",
    CareSetting.DECEASED: "exp",
    CareSetting.PSYCHIATRIC: "psy",
    CareSetting.REHAB: "rehab",
    CareSetting.HOME_HEALTH: "home",
    CareSetting.UNKNOWN: "oth",
}
""":class:`CareSetting` -> HL7 ``discharge-disposition`` code."""


# --------------------------------------------------------------------------- conditions, allergies

CLINICAL_STATUS: dict[str, ClinicalStatus] = {s.value: s for s in ClinicalStatus}
"""Condition ``clinicalStatus`` code -> :class:`ClinicalStatus` (same codes both ways)."""

ALLERGY_CLINICAL_TO_STATUS: dict[str, ClinicalStatus] = {
    "active": ClinicalStatus.ACTIVE,
    "inactive": ClinicalStatus.INACTIVE,
    "resolved": ClinicalStatus.RESOLVED,
}
"""AllergyIntolerance ``clinicalStatus`` code -> :class:`ClinicalStatus`."""

VERIFICATION_STATUS: dict[str, VerificationStatus] = {s.value: s for s in VerificationStatus}
"""``verificationStatus`` code -> :class:`VerificationStatus` (same codes both ways)."""

CONDITION_CATEGORY: dict[str, ConditionCategory] = {
    "problem-list-item": ConditionCategory.PROBLEM_LIST,
    "encounter-diagnosis": ConditionCategory.ENCOUNTER_DIAGNOSIS,
    "health-concern": ConditionCategory.HEALTH_CONCERN,
    "sdoh": ConditionCategory.SDOH,
}
"""``Condition.category`` code (HL7 condition-category or US Core) -> category."""

CONDITION_CATEGORY_TO_CODE: dict[ConditionCategory, tuple[str, str]] = {
    ConditionCategory.PROBLEM_LIST: (System.CONDITION_CATEGORY, "problem-list-item"),
    ConditionCategory.ENCOUNTER_DIAGNOSIS: (System.CONDITION_CATEGORY, "encounter-diagnosis"),
    ConditionCategory.HEALTH_CONCERN: (CareCodes.US_CORE_CONDITION_CATEGORY, "health-concern"),
    ConditionCategory.SDOH: (CareCodes.US_CORE_CATEGORY, "sdoh"),
}
""":class:`ConditionCategory` -> ``(system, code)`` for ``Condition.category``."""

NO_KNOWN_ALLERGY_CODES: frozenset[str] = frozenset(
    {
        "716186003",  # no known allergy
        "409137002",  # no known drug allergy
        "429625007",  # no known food allergy
        "428607008",  # no known environmental allergy
        "428197003",  # no known insect allergy
        "1003774007",  # no known latex allergy
        "1003776009",  # no known animal allergy
    }
)
"""SNOMED CT codes for "no known allergy" statements (``Allergy.no_known``)."""

SECURITY_LABELS: dict[str, Sensitivity] = {
    "PSY": Sensitivity.MENTAL_HEALTH,
    "MH": Sensitivity.MENTAL_HEALTH,
    "BH": Sensitivity.MENTAL_HEALTH,
    "ETH": Sensitivity.SUBSTANCE_USE,
    "ETHUD": Sensitivity.SUBSTANCE_USE,
    "OPIOIDUD": Sensitivity.SUBSTANCE_USE,
    "ALCUD": Sensitivity.SUBSTANCE_USE,
    "DRGUD": Sensitivity.SUBSTANCE_USE,
    "SUD": Sensitivity.SUBSTANCE_USE,
    "HIV": Sensitivity.HIV,
    "SDV": Sensitivity.SEXUAL_DOMESTIC_VIOLENCE,
    "SEX": Sensitivity.SEXUAL_DOMESTIC_VIOLENCE,
    "PSYTHPN": Sensitivity.PSYCHOTHERAPY_NOTE,
}
"""``meta.security`` / ``securityLabel`` codes (v3-ActCode) -> :class:`Sensitivity`."""

CONFIDENTIALITY_LABELS: dict[str, Sensitivity] = {
    "R": Sensitivity.RESTRICTED,
    "V": Sensitivity.RESTRICTED,
}
"""v3-Confidentiality codes (``meta.security``, ``securityLabel``) -> :class:`Sensitivity`:
restricted and very restricted. Normal, low, moderate and unrestricted say nothing."""

SENSITIVITY_TO_CODE: dict[Sensitivity, str] = {s: s.value for s in Sensitivity}
""":class:`Sensitivity` -> its code (the enum values are the codes: v3-ActCode, but
``R``, v3-Confidentiality; :func:`security_coding` gives the system too)."""


def security_label(system: str | None, code: str) -> Sensitivity | None:
    """The sensitivity class a security label names, or ``None``.

    v3-ActCode codes (:data:`SECURITY_LABELS`; a code without a system is read as one)
    and v3-Confidentiality ``R`` and ``V`` (:data:`CONFIDENTIALITY_LABELS`).
    """
    if system in (None, System.V3_ACT_CODE):
        return SECURITY_LABELS.get(code.strip().upper())
    if system == System.V3_CONFIDENTIALITY:
        return CONFIDENTIALITY_LABELS.get(code.strip().upper())
    return None


def security_coding(label: Sensitivity) -> dict[str, str]:
    """The ``Coding`` that labels a resource (or a consent) with ``label``."""
    system = System.V3_CONFIDENTIALITY if label is Sensitivity.RESTRICTED else System.V3_ACT_CODE
    return {"system": system, "code": SENSITIVITY_TO_CODE[label]}


SDOH_CATEGORY_DOMAINS: dict[str, SocialDomain] = {
    **{d.value: d for d in SocialDomain if d is not SocialDomain.OTHER},
    "medical-cost-burden": SocialDomain.FINANCIAL_INSECURITY,
    "sdoh-category-unspecified": SocialDomain.OTHER,
    "digital-access": SocialDomain.OTHER,
    "digital-literacy": SocialDomain.OTHER,
    "health-literacy": SocialDomain.EDUCATION,
    "intimate-partner-violence": SocialDomain.INTERPERSONAL_SAFETY,
    "personal-health-literacy": SocialDomain.EDUCATION,
    "social-isolation": SocialDomain.SOCIAL_CONNECTION,
}
"""Gravity SDOHCC category codes -> :class:`SocialDomain` (the domain values are codes)."""

SDOH_ICD10_PREFIXES: tuple[tuple[str, SocialDomain], ...] = (
    ("Z5500", SocialDomain.EDUCATION),
    ("Z55", SocialDomain.EDUCATION),
    ("Z56", SocialDomain.EMPLOYMENT),
    ("Z57", SocialDomain.EMPLOYMENT),
    ("Z5900", SocialDomain.HOMELESSNESS),
    ("Z590", SocialDomain.HOMELESSNESS),
    ("Z5912", SocialDomain.UTILITY_INSECURITY),
    ("Z591", SocialDomain.INADEQUATE_HOUSING),
    ("Z592", SocialDomain.HOUSING_INSTABILITY),  # discord with neighbours / landlord
    ("Z593", SocialDomain.HOUSING_INSTABILITY),  # residential institution
    ("Z594", SocialDomain.FOOD_INSECURITY),
    ("Z595", SocialDomain.FINANCIAL_INSECURITY),
    ("Z596", SocialDomain.FINANCIAL_INSECURITY),
    ("Z597", SocialDomain.HEALTH_INSURANCE),
    ("Z5981", SocialDomain.HOUSING_INSTABILITY),
    ("Z5982", SocialDomain.TRANSPORTATION_INSECURITY),
    ("Z5984", SocialDomain.EDUCATION),
    ("Z5985", SocialDomain.FINANCIAL_INSECURITY),
    ("Z5986", SocialDomain.FINANCIAL_INSECURITY),
    ("Z5987", SocialDomain.MATERIAL_HARDSHIP),
    ("Z5989", SocialDomain.MATERIAL_HARDSHIP),
    ("Z598", SocialDomain.MATERIAL_HARDSHIP),
    ("Z599", SocialDomain.MATERIAL_HARDSHIP),
    ("Z59", SocialDomain.MATERIAL_HARDSHIP),
    ("Z60", SocialDomain.SOCIAL_CONNECTION),
    ("Z62", SocialDomain.INTERPERSONAL_SAFETY),
    ("Z63", SocialDomain.SOCIAL_CONNECTION),
    ("Z64", SocialDomain.OTHER),
    ("Z65", SocialDomain.OTHER),
)
"""ICD-10(-CM) Z55-Z65 prefixes (dots removed) -> :class:`SocialDomain`, most specific first."""


def social_domain_for_icd10(code: str) -> SocialDomain | None:
    """The social domain of an ICD-10 Z55-Z65 code, or ``None`` outside that range."""
    value = code.replace(".", "").strip().upper()
    for prefix, domain in SDOH_ICD10_PREFIXES:
        if value.startswith(prefix):
            return domain
    return None


SDOH_SNOMED: dict[str, SocialDomain] = {
    "733423003": SocialDomain.FOOD_INSECURITY,
    "1078229009": SocialDomain.FOOD_INSECURITY,
    "32911000": SocialDomain.HOMELESSNESS,
    "160700001": SocialDomain.HOMELESSNESS,
    "1156191002": SocialDomain.HOUSING_INSTABILITY,
    "105531004": SocialDomain.INADEQUATE_HOUSING,
    "713458007": SocialDomain.TRANSPORTATION_INSECURITY,
    "266948004": SocialDomain.OTHER,  # has a criminal record
    "423315002": SocialDomain.SOCIAL_CONNECTION,  # limited social contact
    "73595000": SocialDomain.STRESS,
    "706893006": SocialDomain.INTERPERSONAL_SAFETY,  # victim of intimate partner abuse
    "741062008": SocialDomain.EMPLOYMENT,  # not in labour force
    "73438004": SocialDomain.EMPLOYMENT,  # unemployed
    "224299000": SocialDomain.EDUCATION,  # received higher education
    "473461003": SocialDomain.EDUCATION,  # educated to high school level
    "1148560003": SocialDomain.FINANCIAL_INSECURITY,
    "454061000124102": SocialDomain.FINANCIAL_INSECURITY,  # medical cost burden
    "446654005": SocialDomain.OTHER,  # refugee
    "424393004": SocialDomain.OTHER,  # reports of violence in the environment
    "1255501008": SocialDomain.UTILITY_INSECURITY,
}
"""SNOMED CT social findings (Gravity value sets) -> :class:`SocialDomain`."""


# --------------------------------------------------------------------------- requests

REFERRAL_CATEGORY_CODES: frozenset[str] = frozenset(
    {
        "3457005",  # patient referral
        "306206005",  # referral to service
        "103696004",  # patient referral to specialist
        "183444007",  # referral for further care
        "306181000000106",  # referral to specialist (UK extension)
        "1269455009",  # referral to community service
        "410606002",  # social service procedure
        "464131000124100",  # referral to food program
    }
)
"""SNOMED CT codes that make a ``ServiceRequest`` (by category or code) a referral."""

LAB_CATEGORY_CODES: frozenset[str] = frozenset({"108252007", "LAB", "laboratory", "15220000"})
"""Category codes of a lab order (SNOMED 108252007 laboratory procedure, v2-0074 LAB)."""

IMAGING_CATEGORY_CODES: frozenset[str] = frozenset(
    {"363679005", "RAD", "imaging", "CT", "MR", "US", "NMR", "VUS", "CUS", "RX"}
)
"""Category codes of an imaging order (SNOMED 363679005 imaging, v2-0074 RAD and friends)."""

ORDER_STATUS: dict[str, OrderStatus] = {s.value: s for s in OrderStatus}
"""``ServiceRequest.status`` -> :class:`OrderStatus` (same codes both ways)."""

PRIORITY: dict[str, Priority] = {p.value: p for p in Priority}
"""Request priority codes -> :class:`Priority` (same codes both ways)."""

TASK_STATUS: dict[str, TaskStatus] = {s.value: s for s in TaskStatus}
"""``Task.status`` -> :class:`TaskStatus` (same codes both ways)."""

APPOINTMENT_STATUS: dict[str, AppointmentStatus] = {
    "proposed": AppointmentStatus.PROPOSED,
    "pending": AppointmentStatus.PROPOSED,
    "waitlist": AppointmentStatus.PROPOSED,
    "booked": AppointmentStatus.BOOKED,
    "arrived": AppointmentStatus.ARRIVED,
    "checked-in": AppointmentStatus.ARRIVED,
    "fulfilled": AppointmentStatus.FULFILLED,
    "noshow": AppointmentStatus.NO_SHOW,
    "cancelled": AppointmentStatus.CANCELLED,
    "entered-in-error": AppointmentStatus.ENTERED_IN_ERROR,
}
"""``Appointment.status`` (R4 and R5) -> :class:`AppointmentStatus`."""

APPOINTMENT_STATUS_TO_CODE: dict[AppointmentStatus, str] = {s: s.value for s in AppointmentStatus}
""":class:`AppointmentStatus` -> ``Appointment.status`` code."""

CARE_PLAN_STATUS: dict[str, CarePlanStatus] = {s.value: s for s in CarePlanStatus}
"""``CarePlan.status`` -> :class:`CarePlanStatus` (same codes both ways)."""


# --------------------------------------------------------------------------- medications

MEDICATION_STATUS: dict[str, MedicationStatus] = {
    "active": MedicationStatus.ACTIVE,
    "on-hold": MedicationStatus.ON_HOLD,
    "completed": MedicationStatus.COMPLETED,
    "stopped": MedicationStatus.STOPPED,
    "cancelled": MedicationStatus.CANCELLED,
    "intended": MedicationStatus.INTENDED,
    "not-taken": MedicationStatus.NOT_TAKEN,
    "draft": MedicationStatus.DRAFT,
    "entered-in-error": MedicationStatus.ENTERED_IN_ERROR,
    "unknown": MedicationStatus.UNKNOWN,
    "recorded": MedicationStatus.ACTIVE,  # R5 MedicationStatement
    "ended": MedicationStatus.COMPLETED,  # R5 MedicationRequest
}
"""MedicationRequest / MedicationStatement status (R4 and R5) -> :class:`MedicationStatus`."""

FREQUENCY_CODES: dict[str, str] = {
    "QD": "QD",
    "BID": "BID",
    "TID": "TID",
    "QID": "QID",
    "AM": "QAM",
    "PM": "QPM",
    "QAM": "QAM",
    "QPM": "QPM",
    "QHS": "QHS",
    "HS": "QHS",
    "QOD": "QOD",
    "Q1H": "Q1H",
    "Q2H": "Q2H",
    "Q3H": "Q3H",
    "Q4H": "Q4H",
    "Q6H": "Q6H",
    "Q8H": "Q8H",
    "Q12H": "BID",
    "WK": "QW",
    "QW": "QW",
    "MO": "QM",
    "PRN": "PRN",
}
"""``Timing.code`` (v3-GTSAbbreviation) -> the normalised frequency text."""

_PER_DAY = {1: "QD", 2: "BID", 3: "TID", 4: "QID"}
_UNIT_HOURS = {"h": 1.0, "min": 1 / 60, "d": 24.0, "wk": 168.0, "mo": 720.0, "a": 8760.0}


_MAX_REPEAT = 10_000
"""The largest frequency or period :func:`frequency_text` reads as one."""


def frequency_text(
    frequency: int | None,
    period: float | None,
    unit: str | None,
    *,
    as_needed: bool = False,
) -> str | None:
    """A normalised frequency for ``Timing.repeat`` (``frequency`` per ``period`` ``unit``).

    Once, twice, three and four times a day give ``QD``, ``BID``, ``TID``, ``QID``; once
    every N hours ``QnH`` (``Q24H`` is ``QD``); once a week ``QW``, every other day
    ``QOD``; anything else ``"{frequency}x/{period}{unit}"``. ``as_needed`` alone gives
    ``PRN`` and is appended (``"BID PRN"``) otherwise.
    """
    text: str | None = None
    count = frequency if frequency is not None and frequency > 0 else 1
    if count > _MAX_REPEAT or (period is not None and not 0 <= period <= _MAX_REPEAT):
        # No dose is taken more than 10,000 times per period, nor every 10,000 units:
        # such a value is not a frequency (and would overflow the arithmetic below).
        return "PRN" if as_needed else None
    if period is not None and period > 0 and unit in _UNIT_HOURS:
        hours = period * _UNIT_HOURS[unit] / count
        per_day = 24 / hours if hours else 0
        if hours >= 1 and abs(per_day - round(per_day)) < 1e-9 and round(per_day) in _PER_DAY:
            text = _PER_DAY[round(per_day)]
        elif abs(hours - 48) < 1e-9:
            text = "QOD"
        elif abs(hours - 168) < 1e-9:
            text = "QW"
        elif 1 <= hours < 24 and abs(hours - round(hours)) < 1e-9:
            text = f"Q{round(hours)}H"
        else:
            text = f"{count}x/{period:g}{unit}"
    elif frequency is not None and frequency > 0 and period is None:
        text = _PER_DAY.get(frequency)
    if as_needed:
        return f"{text} PRN" if text else "PRN"
    return text


MEDICATION_RECONCILIATION_CODES: frozenset[tuple[str, str]] = frozenset(
    {
        (System.SNOMED, "430193006"),
        (System.CPT, "1111F"),
        (System.CPT, "99495"),
        (System.CPT, "99496"),
    }
)
"""Procedure codes that document medication reconciliation or TCM; kept as they are."""


# --------------------------------------------------------------------------- results


RESULT_STATUS: dict[str, ResultStatus] = {
    "registered": ResultStatus.REGISTERED,
    "preliminary": ResultStatus.PRELIMINARY,
    "partial": ResultStatus.PRELIMINARY,
    "final": ResultStatus.FINAL,
    "amended": ResultStatus.AMENDED,
    "corrected": ResultStatus.AMENDED,
    "appended": ResultStatus.AMENDED,
    "cancelled": ResultStatus.CANCELLED,
    "entered-in-error": ResultStatus.ENTERED_IN_ERROR,
    "unknown": ResultStatus.UNKNOWN,
}
"""Observation / DiagnosticReport status -> :class:`ResultStatus`."""


# --------------------------------------------------------------------------- communications


COMMUNICATION_CATEGORY: dict[str, CommunicationKind] = {
    "alert": CommunicationKind.RESULT_NOTIFICATION,
    "notification": CommunicationKind.ADMISSION_NOTICE,
    "reminder": CommunicationKind.PATIENT_CONTACT,
    "instruction": CommunicationKind.PATIENT_CONTACT,
}
"""``communication-category`` codes -> kind: ``notification`` is an admission notice only
when it is about an inpatient, observation or emergency stay (else ``other``)."""

INTERACTIVE_MEDIA: frozenset[str] = frozenset(
    {"PHONE", "VIDEOCONF", "FACE", "VERBAL", "ELECTRONIC"}
)
"""Participation modes of a two-way conversation (``Communication.interactive``)."""


# --------------------------------------------------------------------------- carecoord's own codes

CARECOORD_CODE_SYSTEM_BASE = "https://carecoord.example/fhir/CodeSystem/"
"""Base of the code systems carecoord defines itself.

``.example`` is a reserved top-level domain: these URIs are honest placeholders until the
project publishes its code systems at a permanent address.
"""
ACTIVITY_KIND_SYSTEM = CARECOORD_CODE_SYSTEM_BASE + "activity-kind"
"""Coordination activity kinds (:class:`~carecoord.domain.ActivityKind` values), as Task.code."""
CARE_TEAM_ROLE_SYSTEM = CARECOORD_CODE_SYSTEM_BASE + "care-team-role"
"""Care-team roles carecoord needs that SNOMED CT does not name (lead, coordinator)."""
PROGRAM_SYSTEM = CARECOORD_CODE_SYSTEM_BASE + "program"
"""Care-management programmes (``ccm``, ``pcm``, ...), as EpisodeOfCare.type."""
DISCIPLINE_SYSTEM = CARECOORD_CODE_SYSTEM_BASE + "discipline"
""":class:`~carecoord.domain.Discipline` values, as ``PractitionerRole.code``,
``Organization.type`` and ``CareTeam.participant.role`` codings (read before any NUCC or
SNOMED CT code)."""
ORGANIZATION_KIND_SYSTEM = CARECOORD_CODE_SYSTEM_BASE + "organization-kind"
""":class:`~carecoord.domain.OrganizationKind` values, as ``Organization.type`` codings (the
kind itself: no guess from the name)."""
REFERRAL_STATUS_SYSTEM = CARECOORD_CODE_SYSTEM_BASE + "referral-status"
""":class:`~carecoord.domain.ReferralStatus` values, as the fulfilment ``Task.businessStatus``."""
ORIGIN_SYSTEM = CARECOORD_CODE_SYSTEM_BASE + "origin"
"""System of the ``meta.tag`` (code ``carecoord``) on every resource carecoord writes: its
elements are literal values of the model, so the reader infers nothing for it."""

LIST_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/list-example-use-codes"
"""``List.code`` of a reconciliation: ``medications``, ``allergies`` or ``problems`` (the
:class:`~carecoord.domain.ListKind` values are these codes)."""
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
"""The HL7 extension saying why a required element has no value."""

EXTENSION_BASE = "https://carecoord.example/fhir/StructureDefinition/"
"""Base of the extensions carecoord defines (``.example``: a placeholder until published)."""


class ExtensionUrl:
    """URLs of carecoord's extensions, for model fields FHIR R4 has no element for.

    The writer emits them and the reader reads them back. Complex extensions (several
    values) hold sub-extensions named as in the comments.
    """

    STATUS_HISTORY: ClassVar[str] = EXTENSION_BASE + "status-history"
    """Repeated, on ServiceRequest (referral), Task and CareTeam: one status change each:
    ``from`` (valueCode), ``to`` (valueCode), ``at`` (valueDateTime), ``by``
    (valueReference), ``reason`` (valueString)."""
    REFERRAL: ClassVar[str] = EXTENSION_BASE + "referral"
    """On a referral ServiceRequest: ``status`` (valueCode, the closed-loop status),
    ``sentAt``, ``seenAt``, ``reportReceivedAt`` (valueDateTime), ``report``
    (valueReference), ``appointment`` (valueReference, repeated), ``community``
    (valueBoolean)."""
    HELD_FROM: ClassVar[str] = EXTENSION_BASE + "held-from"
    """On an on-hold Task: the status it was held from (valueCode)."""
    TRANSITION: ClassVar[str] = EXTENSION_BASE + "transition"
    """On a stay Encounter: ``kind``, ``fromSetting``, ``toSetting``, ``complexity``
    (valueCode), ``disposition`` (valueCoding, the model's own disposition code)."""
    ENCOUNTER_CLASS: ClassVar[str] = EXTENSION_BASE + "encounter-class"
    """On a visit Encounter: the carecoord encounter class (valueCode), since v3 ActCode
    has no telephone class; it also keeps a visit of a stay's class a visit."""
    ACKNOWLEDGEMENT: ClassVar[str] = EXTENSION_BASE + "acknowledgement"
    """Repeated, on an Observation: ``by`` (valueReference), ``at`` (valueDateTime)."""
    LAST_REVIEWED: ClassVar[str] = EXTENSION_BASE + "last-reviewed"
    """On a CarePlan: when it was last reviewed (valueDateTime)."""
    STATUS_CHANGED: ClassVar[str] = EXTENSION_BASE + "status-changed"
    """On an Appointment: when its status last changed (valueDateTime)."""
    COMMUNICATION: ClassVar[str] = EXTENSION_BASE + "communication"
    """On a Communication: ``kind`` (valueCode), ``interactive`` (valueBoolean)."""
    SOCIAL_NEED: ClassVar[str] = EXTENSION_BASE + "social-need"
    """On a social-need Condition: ``domain``, ``status`` (valueCode), ``identified``
    (valueDateTime), ``code`` (valueCodeableConcept, when the need's code differs from the
    Condition's) and ``standalone`` (valueBoolean ``true`` when the resource is the need
    only, not also a Condition of the model)."""
    BILLABLE: ClassVar[str] = EXTENSION_BASE + "billable"
    """On a coordination-activity Task: whether the time counts for billing (valueBoolean)."""
    RECONCILED_SOURCE: ClassVar[str] = EXTENSION_BASE + "reconciled-source"
    """Repeated, on a reconciliation List: the id of a source compared (valueString)."""
    DECISION_NOTE: ClassVar[str] = EXTENSION_BASE + "decision-note"
    """On a reconciliation ``List.entry``: the note on that decision (valueString)."""
    LINK: ClassVar[str] = EXTENSION_BASE + "patient-link"
    """On ``Patient.link``: ``kind`` (valueCode, ``same-person`` or ``not-same-person``) and
    ``source`` (valueString, the other record's source)."""
    ORIGINAL_ID: ClassVar[str] = EXTENSION_BASE + "original-id"
    """On a resource whose model id is not a valid FHIR id (which is then replaced by
    ``id-<hash>``, in references too): the model's id (valueString)."""
    SOURCE: ClassVar[str] = EXTENSION_BASE + "source"
    """On the ``meta`` of a record's Patient: ``name`` (valueString), ``kind`` (valueCode)
    and ``retrievedAt`` (valueDateTime) of the record's source (its id is
    ``meta.source``)."""
    REPRESENTATIVE: ClassVar[str] = EXTENSION_BASE + "personal-representative"
    """On a RelatedPerson: ``true`` (valueBoolean) when the source states the person is
    the patient's personal representative (``RelatedPerson.representative``), whatever
    the relationship codes say."""
