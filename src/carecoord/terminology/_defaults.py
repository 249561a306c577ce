"""The value sets carecoord ships: public approximations, written for carecoord.

Each default is written by hand from public knowledge: ICD-10-CM categories (public
domain, CDC/NCHS), SNOMED CT concept ids (used as identifiers only, with carecoord's own
short labels rather than SNOMED descriptions; see ``docs/valuesets.md`` for the licence
basis), LOINC codes, RxNorm ingredient codes (NLM, public), HCPCS Level II codes (CMS,
public) and CPT codes as bare codes (no descriptors). None is copied from VSAC; the tests
measure each against the published value set it approximates (``approximates``) when the
VSAC exports are at hand, and ``docs/valuesets.md`` reports the coverage.
"""

from __future__ import annotations

from typing import ClassVar

from carecoord.domain import Code, Sensitivity, System
from carecoord.terminology._library import ValueSets
from carecoord.terminology._systems import ATC
from carecoord.terminology._valueset import CodePattern, ValueSet

__all__ = [
    "CHRONIC_CONDITION_GROUPS",
    "DEFAULT_VALUE_SETS",
    "SENSITIVITY_VALUE_SETS",
    "VSAC_BASE",
    "ValueSetName",
]

VSAC_BASE = "http://cts.nlm.nih.gov/fhir/ValueSet/"
"""The canonical URL prefix of VSAC value sets: append the OID."""


class ValueSetName:
    """carecoord's stable value-set names, as the rules and views look them up."""

    MENTAL_ILLNESS: ClassVar[str] = "mental-illness"
    SELF_HARM: ClassVar[str] = "self-harm"
    BEHAVIORAL_HEALTH: ClassVar[str] = "behavioral-health"
    SUBSTANCE_USE_DISORDER: ClassVar[str] = "substance-use-disorder"
    OPIOID_USE_DISORDER: ClassVar[str] = "opioid-use-disorder"
    OPIOID_USE_DISORDER_MEDICATIONS: ClassVar[str] = "opioid-use-disorder-medications"
    DRUG_OVERDOSE: ClassVar[str] = "drug-overdose"
    PSYCHOTROPIC_MEDICATIONS: ClassVar[str] = "psychotropic-medications"
    HIV: ClassVar[str] = "hiv"
    HIV_LAB_TESTS: ClassVar[str] = "hiv-lab-tests"
    HIV_MEDICATIONS: ClassVar[str] = "hiv-medications"
    DIABETES: ClassVar[str] = "diabetes"
    HYPERTENSION: ClassVar[str] = "hypertension"
    HEART_FAILURE: ClassVar[str] = "heart-failure"
    CHRONIC_KIDNEY_DISEASE: ClassVar[str] = "chronic-kidney-disease"
    COPD_ASTHMA: ClassVar[str] = "copd-asthma"
    DEMENTIA: ClassVar[str] = "dementia"
    DEPRESSION: ClassVar[str] = "depression"
    MAJOR_DEPRESSION: ClassVar[str] = "major-depression"
    ACUTE_MYOCARDIAL_INFARCTION: ClassVar[str] = "acute-myocardial-infarction"
    ATRIAL_FIBRILLATION: ClassVar[str] = "atrial-fibrillation"
    STROKE_TIA: ClassVar[str] = "stroke-tia"
    HOSPICE: ClassVar[str] = "hospice"
    ANNUAL_WELLNESS_VISIT: ClassVar[str] = "annual-wellness-visit"
    INITIAL_PREVENTIVE_VISIT: ClassVar[str] = "initial-preventive-visit"
    PREVENTIVE_VISIT: ClassVar[str] = "preventive-visit"
    MEDICATION_RECONCILIATION: ClassVar[str] = "medication-reconciliation"
    HBA1C_TESTS: ClassVar[str] = "hba1c-tests"
    PHQ9_TESTS: ClassVar[str] = "phq9-tests"
    DISCHARGE_SUMMARY: ClassVar[str] = "discharge-summary"
    TRANSFER_SUMMARY: ClassVar[str] = "transfer-summary"
    CONSULT_NOTE: ClassVar[str] = "consult-note"
    REFERRAL_NOTE: ClassVar[str] = "referral-note"
    SENSITIVITY_MENTAL_HEALTH: ClassVar[str] = "sensitivity-mental-health"
    SENSITIVITY_SUBSTANCE_USE: ClassVar[str] = "sensitivity-substance-use"
    SENSITIVITY_HIV: ClassVar[str] = "sensitivity-hiv"
    SENSITIVITY_SEXUAL_DOMESTIC_VIOLENCE: ClassVar[str] = "sensitivity-sexual-domestic-violence"


_N = ValueSetName


def _vsac(*oids: str) -> tuple[str, ...]:
    return tuple(VSAC_BASE + oid for oid in oids)


def _icd(*patterns: str, description: str = "") -> tuple[CodePattern, ...]:
    return tuple(CodePattern(System.ICD10CM, p, description) for p in patterns)


def _codes(system: str, *pairs: tuple[str, str]) -> tuple[Code, ...]:
    return tuple(Code(system, code, label) for code, label in pairs)


def _bare(system: str, *codes: str) -> tuple[Code, ...]:
    return tuple(Code(system, code) for code in codes)


def _sct(*pairs: tuple[str, str]) -> tuple[Code, ...]:
    return _codes(System.SNOMED, *pairs)


# --------------------------------------------------------------------------- behavioural health

_MENTAL_ILLNESS_ICD = (
    "F20", "F21", "F22", "F23", "F24", "F25", "F28", "F29",
    "F30", "F31", "F32", "F33", "F34", "F39",
    "F40", "F41", "F42", "F43", "F44", "F45", "F48",
    "F50", "F51", "F52", "F53", "F59", "F60", "F63", "F64", "F65", "F66", "F68", "F69",
    "F80", "F81", "F82", "F84", "F88", "F89",
    "F90", "F91", "F93", "F94", "F95", "F98", "F99",
)  # fmt: skip

_MENTAL_ILLNESS_SCT = _sct(
    ("74732009", "mental disorder"),
    ("35489007", "depressive disorder"),
    ("36923009", "major depression, single episode"),
    ("370143000", "major depressive disorder"),
    ("66344007", "recurrent major depression"),
    ("310495003", "mild depression"),
    ("310496002", "moderate depression"),
    ("310497006", "severe depression"),
    ("78667006", "dysthymia"),
    ("13746004", "bipolar disorder"),
    ("58214004", "schizophrenia"),
    ("68890003", "schizoaffective disorder"),
    ("69322001", "psychotic disorder"),
    ("197480006", "anxiety disorder"),
    ("21897009", "generalized anxiety disorder"),
    ("371631005", "panic disorder"),
    ("231504006", "mixed anxiety and depressive disorder"),
    ("47505003", "post-traumatic stress disorder"),
    ("191736004", "obsessive-compulsive disorder"),
    ("17226007", "adjustment disorder"),
    ("406506008", "attention deficit hyperactivity disorder"),
    ("192127007", "child attention deficit disorder"),
    ("35919005", "pervasive developmental disorder"),
    ("72366004", "eating disorder"),
    ("56882008", "anorexia nervosa"),
    ("78004001", "bulimia nervosa"),
    ("33449004", "personality disorder"),
    ("20010003", "borderline personality disorder"),
)

MENTAL_ILLNESS = ValueSet(
    name=_N.MENTAL_ILLNESS,
    title="Mental illness (FUH/FUM-style)",
    codes=_MENTAL_ILLNESS_SCT,
    patterns=_icd(*_MENTAL_ILLNESS_ICD),
    description=(
        "Mental illness as the HEDIS FUH and FUM measures count it, at the ICD-10-CM "
        "category level (F20-F99 categories; not substance use F10-F19, dementia F01-F03 "
        "or intellectual disability F70-F79), and common SNOMED CT disorders."
    ),
    approximates=_vsac("2.16.840.1.113883.3.464.1003.105.12.1004"),
)

_SELF_HARM_ICD = (
    "X71", "X72", "X73", "X74", "X75", "X76", "X77", "X78", "X79",
    "X80", "X81", "X82", "X83", "T14.91",
)  # fmt: skip

SELF_HARM = ValueSet(
    name=_N.SELF_HARM,
    title="Intentional self-harm and suicide attempt",
    codes=_sct(
        ("82313006", "suicide attempt"),
        ("287181005", "intentional self-poisoning"),
    ),
    patterns=(
        *_icd(*_SELF_HARM_ICD),
        CodePattern(
            System.ICD10CM,
            "T36-T65:6=2",
            "poisoning and toxic effects with intent character 2 (intentional self-harm)",
        ),
    ),
    description=(
        "Intentional self-harm (ICD-10-CM X71-X83), suicide attempt (T14.91) and "
        "intentional self-poisoning (T36-T65 whose intent character is 2, such as "
        "T43.222A), and SNOMED CT suicide attempt and intentional self-poisoning."
    ),
    approximates=_vsac("2.16.840.1.113762.1.4.1248.130"),
)

_SUBSTANCE_USE_SCT = _sct(
    ("66214007", "substance abuse"),
    ("26416006", "drug abuse"),
    ("191816009", "drug dependence"),
    ("7200002", "alcoholism"),
    ("66590003", "alcohol dependence"),
    ("15167005", "alcohol abuse"),
    ("5602001", "opioid abuse"),
    ("75544000", "opioid dependence"),
    ("78267003", "cocaine abuse"),
    ("37344009", "cannabis abuse"),
    ("231462006", "barbiturate abuse"),
)

SUBSTANCE_USE_DISORDER = ValueSet(
    name=_N.SUBSTANCE_USE_DISORDER,
    title="Alcohol and other drug use disorder",
    codes=_SUBSTANCE_USE_SCT,
    patterns=_icd("F10-F16", "F18", "F19"),
    description=(
        "Alcohol and drug abuse and dependence: ICD-10-CM F10-F16, F18, F19 (not nicotine "
        "dependence, F17) and common SNOMED CT disorders."
    ),
    approximates=_vsac("2.16.840.1.113883.3.464.1003.106.12.1001"),
)

OPIOID_USE_DISORDER = ValueSet(
    name=_N.OPIOID_USE_DISORDER,
    title="Opioid use disorder",
    codes=_sct(("5602001", "opioid abuse"), ("75544000", "opioid dependence")),
    patterns=_icd("F11"),
    description="Opioid abuse and dependence: ICD-10-CM F11 and SNOMED CT opioid abuse and "
    "dependence.",
    approximates=_vsac("2.16.840.1.113762.1.4.1111.171"),
)

OPIOID_USE_DISORDER_MEDICATIONS = ValueSet(
    name=_N.OPIOID_USE_DISORDER_MEDICATIONS,
    title="Medications for opioid use disorder",
    codes=_codes(
        System.RXNORM,
        ("1819", "buprenorphine"),
        ("6813", "methadone"),
        ("7243", "naltrexone"),
    ),
    description=(
        "RxNorm ingredients of the medications for opioid use disorder (buprenorphine, "
        "alone or with naloxone; methadone; naltrexone). Matches a medication coded by "
        "ingredient or listing its ingredients; products coded only by their clinical "
        "drug code need a loaded value set (VSAC MOUD lists products). Naloxone alone "
        "(overdose reversal) is not listed."
    ),
    approximates=_vsac("2.16.840.1.113762.1.4.1046.269"),
)

DRUG_OVERDOSE = ValueSet(
    name=_N.DRUG_OVERDOSE,
    title="Drug overdose",
    codes=_sct(("55680006", "drug overdose")),
    patterns=(
        CodePattern(
            System.ICD10CM,
            "T36-T50:6=1234",
            "poisoning by drugs: accidental, intentional self-harm, assault or undetermined",
        ),
    ),
    description=(
        "Poisoning by drugs, medicaments and biological substances (ICD-10-CM T36-T50 with "
        "intent character 1 to 4, as CDC overdose surveillance counts them; not adverse "
        "effects, 5, or underdosing, 6) and SNOMED CT drug overdose. Not read by a shipped "
        "rule yet: for custom rules."
    ),
)

_ANTIDEPRESSANTS = _codes(
    System.RXNORM,
    ("704", "amitriptyline"),
    ("42347", "bupropion"),
    ("2556", "citalopram"),
    ("2597", "clomipramine"),
    ("3247", "desipramine"),
    ("3638", "doxepin"),
    ("72625", "duloxetine"),
    ("321988", "escitalopram"),
    ("4493", "fluoxetine"),
    ("42355", "fluvoxamine"),
    ("5691", "imipramine"),
    ("15996", "mirtazapine"),
    ("7531", "nortriptyline"),
    ("32937", "paroxetine"),
    ("36437", "sertraline"),
    ("10737", "trazodone"),
    ("39786", "venlafaxine"),
    ("1455099", "vortioxetine"),
)

_ANTIPSYCHOTICS = _codes(
    System.RXNORM,
    ("89013", "aripiprazole"),
    ("1658314", "brexpiprazole"),
    ("2626", "clozapine"),
    ("5093", "haloperidol"),
    ("73178", "iloperidone"),
    ("61381", "olanzapine"),
    ("8076", "perphenazine"),
    ("51272", "quetiapine"),
    ("35636", "risperidone"),
    ("115698", "ziprasidone"),
)

_ANXIOLYTICS = _codes(
    System.RXNORM,
    ("596", "alprazolam"),
    ("1827", "buspirone"),
    ("2598", "clonazepam"),
    ("3322", "diazepam"),
    ("6470", "lorazepam"),
    ("7781", "oxazepam"),
)

_ADHD_MEDICINES = _codes(
    System.RXNORM,
    ("725", "amphetamine"),
    ("38400", "atomoxetine"),
    ("3288", "dextroamphetamine"),
    ("700810", "lisdexamfetamine"),
    ("6901", "methylphenidate"),
)

_LITHIUM = _codes(System.RXNORM, ("6448", "lithium"), ("42351", "lithium carbonate"))

PSYCHOTROPIC_MEDICATIONS = ValueSet(
    name=_N.PSYCHOTROPIC_MEDICATIONS,
    title="Psychotropic medications",
    codes=(
        *_ANTIDEPRESSANTS,
        *_ANTIPSYCHOTICS,
        *_ANXIOLYTICS,
        *_ADHD_MEDICINES,
        *_codes(System.RXNORM, ("30125", "modafinil")),
        *_LITHIUM,
    ),
    patterns=(
        CodePattern(ATC, "N05", "psycholeptics: antipsychotics, anxiolytics, hypnotics"),
        CodePattern(ATC, "N06", "psychoanaleptics: antidepressants, stimulants"),
    ),
    description=(
        "Psychotropics: ATC N05 (psycholeptics) and N06 (psychoanaleptics), and the RxNorm "
        "ingredients of common antidepressants, antipsychotics, anxiolytics, stimulants and "
        "lithium (checked against public RxNorm listings; an approximation, not a "
        "published value set)."
    ),
)

_DEMENTIA_SCT = _sct(
    ("52448006", "dementia"),
    ("429998004", "vascular dementia"),
    ("26929004", "Alzheimer's disease"),
    ("230265002", "familial Alzheimer's disease of early onset"),
)

_SELF_HARM_SCT = SELF_HARM.codes

BEHAVIORAL_HEALTH = ValueSet(
    name=_N.BEHAVIORAL_HEALTH,
    title="Behavioural-health conditions",
    codes=(
        *_MENTAL_ILLNESS_SCT,
        *_SUBSTANCE_USE_SCT,
        *_DEMENTIA_SCT[:2],
    ),
    patterns=(CodePattern(System.ICD10CM, "F", "chapter F: mental and behavioural disorders"),),
    description=(
        "Mental, behavioural and neurodevelopmental disorders: ICD-10-CM chapter F "
        "(F01-F99: substance use, dementia and intellectual disability included) and the "
        "SNOMED CT mental-illness, substance-use and dementia concepts of the other "
        "defaults whose ICD-10-CM counterpart is in chapter F."
    ),
    approximates=_vsac("2.16.840.1.113883.3.464.1003.105.12.1004"),
)

# --------------------------------------------------------------------------- HIV

_HIV_SCT = _sct(
    ("86406008", "HIV infection"),
    ("165816005", "HIV detected"),
    ("62479008", "AIDS"),
    ("40780007", "HIV-1 infection"),
    ("79019005", "HIV-2 infection"),
    ("91947003", "asymptomatic HIV infection"),
)

HIV = ValueSet(
    name=_N.HIV,
    title="HIV",
    codes=_HIV_SCT,
    patterns=_icd("B20", "B97.35", "Z21", "O98.7"),
    description=(
        "HIV disease and infection status: ICD-10-CM B20, B97.35, Z21, O98.7 (in "
        "pregnancy, childbirth and the puerperium) and SNOMED CT HIV infection concepts."
    ),
    approximates=_vsac("2.16.840.1.113883.3.464.1003.120.12.1003"),
)

HIV_LAB_TESTS = ValueSet(
    name=_N.HIV_LAB_TESTS,
    title="HIV laboratory tests",
    codes=_codes(
        System.LOINC,
        ("75622-1", "HIV 1 and 2 tests"),
        ("7917-8", "HIV 1 antibody"),
        ("7918-6", "HIV 1+2 antibody"),
        ("5221-7", "HIV 1 antibody, immunoblot"),
        ("68961-2", "HIV 1 antibody, rapid immunoassay"),
        ("56888-1", "HIV 1+2 antibody and HIV 1 p24 antigen"),
        ("48345-3", "HIV 1+O+2 antibody"),
        ("24012-7", "HIV 1 antigen"),
        ("25836-8", "HIV 1 RNA (viral load)"),
        ("20447-9", "HIV 1 RNA (viral load)"),
    ),
    description="HIV antibody, antigen and viral-load tests (LOINC).",
    approximates=_vsac("2.16.840.1.113762.1.4.1056.50"),
)

HIV_MEDICATIONS = ValueSet(
    name=_N.HIV_MEDICATIONS,
    title="Antiretroviral medications",
    codes=_codes(
        System.RXNORM,
        ("11413", "zidovudine"),
        ("68244", "lamivudine"),
        ("190521", "abacavir"),
        ("276237", "emtricitabine"),
        ("322248", "tenofovir disoproxil"),
        ("195085", "efavirenz"),
        ("53654", "nevirapine"),
        ("1102270", "rilpivirine"),
        ("85762", "ritonavir"),
        ("195088", "lopinavir"),
        ("343047", "atazanavir"),
        ("460132", "darunavir"),
        ("719872", "raltegravir"),
        ("1433868", "dolutegravir"),
    ),
    description=(
        "RxNorm ingredients of common antiretrovirals. Emtricitabine and tenofovir are also "
        "HIV pre-exposure prophylaxis, which is as sensitive. Check the codes with RxNav "
        "before relying on them; products coded only by their clinical drug code need a "
        "loaded value set."
    ),
)

# --------------------------------------------------------------------------- chronic conditions

DIABETES = ValueSet(
    name=_N.DIABETES,
    title="Diabetes",
    codes=_sct(
        ("73211009", "diabetes mellitus"),
        ("46635009", "type 1 diabetes mellitus"),
        ("44054006", "type 2 diabetes mellitus"),
        ("313436004", "type 2 diabetes mellitus without complication"),
        ("81531005", "type 2 diabetes mellitus in obese"),
        ("359642000", "type 2 diabetes mellitus in nonobese"),
    ),
    patterns=_icd("E10", "E11", "E13"),
    description="Type 1, type 2 and other specified diabetes (ICD-10-CM E10, E11, E13) and "
    "SNOMED CT diabetes mellitus concepts.",
    approximates=_vsac("2.16.840.1.113883.3.464.1003.103.12.1001"),
)

HYPERTENSION = ValueSet(
    name=_N.HYPERTENSION,
    title="Hypertension",
    codes=_sct(
        ("38341003", "hypertensive disorder"),
        ("59621000", "essential hypertension"),
        ("1201005", "benign essential hypertension"),
        ("78975002", "malignant essential hypertension"),
    ),
    patterns=_icd("I10-I16"),
    description="Hypertensive diseases (ICD-10-CM I10-I16) and SNOMED CT hypertension. Not "
    "read by a shipped rule: pass it among care-plan.missing's condition groups to follow "
    "CMS chronic care management eligibility.",
    approximates=_vsac("2.16.840.1.113883.3.464.1003.104.12.1011"),
)

HEART_FAILURE = ValueSet(
    name=_N.HEART_FAILURE,
    title="Heart failure",
    codes=_sct(
        ("84114007", "heart failure"),
        ("42343007", "congestive heart failure"),
        ("88805009", "chronic congestive heart failure"),
        ("10633002", "acute congestive heart failure"),
        ("85232009", "left heart failure"),
        ("417996009", "systolic heart failure"),
        ("418304008", "diastolic heart failure"),
        ("703272007", "heart failure with reduced ejection fraction"),
        ("5148006", "hypertensive heart disease with congestive heart failure"),
    ),
    patterns=_icd("I50", "I11.0", "I13.0", "I13.2"),
    description="Heart failure (ICD-10-CM I50, and hypertensive heart disease with heart "
    "failure I11.0, I13.0, I13.2; a HEDIS FMC group) and SNOMED CT heart failure.",
    approximates=_vsac("2.16.840.1.113883.3.526.3.376"),
)

CHRONIC_KIDNEY_DISEASE = ValueSet(
    name=_N.CHRONIC_KIDNEY_DISEASE,
    title="Chronic kidney disease",
    codes=_sct(
        ("709044004", "chronic kidney disease"),
        ("431855005", "chronic kidney disease stage 1"),
        ("431856006", "chronic kidney disease stage 2"),
        ("433144002", "chronic kidney disease stage 3"),
        ("431857002", "chronic kidney disease stage 4"),
        ("433146000", "chronic kidney disease stage 5"),
        ("46177005", "end-stage renal disease"),
    ),
    patterns=_icd("N18"),
    description="Chronic kidney disease, every stage (ICD-10-CM N18; a HEDIS FMC group) and "
    "SNOMED CT chronic kidney disease by stage.",
    approximates=_vsac("2.16.840.1.113883.3.526.3.1002"),
)

COPD_ASTHMA = ValueSet(
    name=_N.COPD_ASTHMA,
    title="COPD and asthma",
    codes=_sct(
        ("13645005", "chronic obstructive lung disease"),
        ("87433001", "pulmonary emphysema"),
        ("185086009", "chronic obstructive bronchitis"),
        ("63480004", "chronic bronchitis"),
        ("195967001", "asthma"),
        ("233678006", "childhood asthma"),
    ),
    patterns=_icd("J41", "J42", "J43", "J44", "J45"),
    description="Chronic bronchitis, emphysema, COPD and asthma (ICD-10-CM J41-J45; a HEDIS "
    "FMC group) and SNOMED CT counterparts.",
)

DEMENTIA = ValueSet(
    name=_N.DEMENTIA,
    title="Dementia",
    codes=_DEMENTIA_SCT,
    patterns=_icd("F01", "F02", "F03", "G30", "G31.0", "G31.1", "G31.83"),
    description="Dementia and Alzheimer's disease (ICD-10-CM F01-F03, G30, G31.0, G31.1, "
    "G31.83; a HEDIS FMC group) and SNOMED CT counterparts.",
)

_DEPRESSION_SCT = _sct(
    ("35489007", "depressive disorder"),
    ("36923009", "major depression, single episode"),
    ("370143000", "major depressive disorder"),
    ("66344007", "recurrent major depression"),
    ("310495003", "mild depression"),
    ("310496002", "moderate depression"),
    ("310497006", "severe depression"),
)

DEPRESSION = ValueSet(
    name=_N.DEPRESSION,
    title="Depression (chronic-condition group)",
    codes=(*_DEPRESSION_SCT, *_sct(("78667006", "dysthymia"))),
    patterns=_icd("F32", "F33", "F34.1"),
    description="Depressive episodes, recurrent depression and dysthymia (ICD-10-CM F32, "
    "F33, F34.1; a HEDIS FMC group) and SNOMED CT depressive disorders.",
)

MAJOR_DEPRESSION = ValueSet(
    name=_N.MAJOR_DEPRESSION,
    title="Major depression",
    codes=_DEPRESSION_SCT,
    patterns=_icd("F32", "F33"),
    description="Depressive episodes and recurrent depression (ICD-10-CM F32, F33), as the "
    "PHQ-9 monitoring schedule (CMS159) follows them, and SNOMED CT depressive disorders.",
    approximates=_vsac("2.16.840.1.113883.3.464.1003.105.12.1007"),
)

ACUTE_MYOCARDIAL_INFARCTION = ValueSet(
    name=_N.ACUTE_MYOCARDIAL_INFARCTION,
    title="Acute myocardial infarction",
    codes=_sct(
        ("22298006", "myocardial infarction"),
        ("57054005", "acute myocardial infarction"),
        ("401303003", "acute ST segment elevation myocardial infarction"),
        ("401314000", "acute non-ST segment elevation myocardial infarction"),
    ),
    patterns=_icd("I21", "I22"),
    description="Acute and subsequent myocardial infarction (ICD-10-CM I21, I22; a HEDIS FMC "
    "group) and SNOMED CT counterparts.",
    approximates=_vsac("2.16.840.1.113883.3.666.5.623"),
)

ATRIAL_FIBRILLATION = ValueSet(
    name=_N.ATRIAL_FIBRILLATION,
    title="Atrial fibrillation and flutter",
    codes=_sct(
        ("49436004", "atrial fibrillation"),
        ("282825002", "paroxysmal atrial fibrillation"),
        ("5370000", "atrial flutter"),
    ),
    patterns=_icd("I48"),
    description="Atrial fibrillation and flutter (ICD-10-CM I48; a HEDIS FMC group) and "
    "SNOMED CT counterparts.",
)

STROKE_TIA = ValueSet(
    name=_N.STROKE_TIA,
    title="Stroke and transient ischaemic attack",
    codes=_sct(
        ("230690007", "cerebrovascular accident"),
        ("422504002", "ischemic stroke"),
        ("266257000", "transient ischemic attack"),
    ),
    patterns=_icd("I63", "G45"),
    description="Cerebral infarction and transient ischaemic attack (ICD-10-CM I63, G45; a "
    "HEDIS FMC group) and SNOMED CT counterparts.",
    approximates=_vsac("2.16.840.1.113883.3.117.1.7.1.247"),
)

# --------------------------------------------------------------------------- care events

HOSPICE = ValueSet(
    name=_N.HOSPICE,
    title="Hospice care",
    codes=_sct(
        ("385763009", "hospice care"),
        ("385765002", "hospice care management"),
        ("305336008", "admission to hospice"),
        ("183919006", "urgent admission to hospice"),
        ("183920000", "routine admission to hospice"),
        ("183921001", "admission to hospice for respite"),
        ("306205009", "referral to hospice"),
    ),
    description=(
        "Hospice care, admission and referral (SNOMED CT procedures and regimes). A "
        "procedure or visit coded with one of them, on or before a day, puts the patient "
        "in hospice from that day, as do a discharge to hospice and a hospice enrolment."
    ),
    approximates=_vsac(
        "2.16.840.1.113762.1.4.1095.101",
        "2.16.840.1.113762.1.4.1108.15",
        "2.16.840.1.113762.1.4.1116.365",
    ),
)

ANNUAL_WELLNESS_VISIT = ValueSet(
    name=_N.ANNUAL_WELLNESS_VISIT,
    title="Medicare annual wellness visit",
    codes=(
        *_codes(
            System.HCPCS,
            ("G0438", "annual wellness visit, initial"),
            ("G0439", "annual wellness visit, subsequent"),
        ),
        *_sct(
            ("444971000124105", "annual wellness visit"),
            ("456201000124103", "Medicare annual wellness visit"),
        ),
    ),
    description="The Medicare annual wellness visit (HCPCS G0438, G0439) and its SNOMED CT "
    "procedures.",
    approximates=_vsac("2.16.840.1.113883.3.526.3.1240"),
)

INITIAL_PREVENTIVE_VISIT = ValueSet(
    name=_N.INITIAL_PREVENTIVE_VISIT,
    title="Initial preventive physical examination",
    codes=_codes(System.HCPCS, ("G0402", "initial preventive physical examination")),
    description="The Medicare initial preventive physical examination (HCPCS G0402), which "
    "starts the annual-wellness clock without meeting it.",
)

PREVENTIVE_VISIT = ValueSet(
    name=_N.PREVENTIVE_VISIT,
    title="Preventive and check-up visits",
    codes=(
        *_bare(System.CPT, *(str(c) for c in range(99381, 99388))),
        *_bare(System.CPT, *(str(c) for c in range(99391, 99398))),
        *_sct(
            ("185349003", "encounter for check up"),
            ("410620009", "well child visit"),
            ("162673000", "general examination of patient"),
        ),
    ),
    patterns=_icd("Z00.0", "Z00.12"),
    description=(
        "Preventive medicine visits: CPT 99381-99387 and 99391-99397 (bare codes, no "
        "descriptors), SNOMED CT check-up and well-child encounters (Synthea codes its "
        "yearly visits 185349003), and the ICD-10-CM general adult and routine child "
        "examinations (Z00.0-, Z00.12-). The annual-wellness schedule counts them as its "
        "yearly visit."
    ),
)

MEDICATION_RECONCILIATION = ValueSet(
    name=_N.MEDICATION_RECONCILIATION,
    title="Medication reconciliation",
    codes=(
        *_sct(("430193006", "medication reconciliation")),
        *_bare(System.CPT, "1111F", "99495", "99496"),
    ),
    description="Codes documenting a post-discharge medication reconciliation (HEDIS "
    "TRC/MRP evidence): SNOMED CT 430193006, CPT II 1111F and the transitional care "
    "management visits 99495/99496 (bare codes).",
)

HBA1C_TESTS = ValueSet(
    name=_N.HBA1C_TESTS,
    title="HbA1c laboratory tests",
    codes=_codes(
        System.LOINC,
        ("4548-4", "HbA1c/Hb.total in blood"),
        ("4549-2", "HbA1c/Hb.total in blood, electrophoresis"),
        ("17855-8", "HbA1c/Hb.total in blood, calculated"),
        ("17856-6", "HbA1c/Hb.total in blood, HPLC"),
        ("96595-4", "HbA1c/Hb.total in dried blood spot"),
    ),
    description="Haemoglobin A1c tests (LOINC).",
    approximates=_vsac("2.16.840.1.113883.3.464.1003.198.12.1013"),
)

PHQ9_TESTS = ValueSet(
    name=_N.PHQ9_TESTS,
    title="PHQ-9 total score",
    codes=_codes(System.LOINC, ("44261-6", "PHQ-9 total score")),
    description="The Patient Health Questionnaire 9-item total score (LOINC).",
)

# --------------------------------------------------------------------------- documents

DISCHARGE_SUMMARY = ValueSet(
    name=_N.DISCHARGE_SUMMARY,
    title="Discharge summaries",
    codes=(
        *_codes(
            System.LOINC,
            ("18842-5", "discharge summary"),
            ("11490-0", "discharge summary by a physician"),
            ("28655-9", "discharge summary by the attending physician"),
            ("34105-7", "hospital discharge summary"),
            ("34106-5", "hospital discharge summary by a physician"),
            ("34745-0", "discharge summary by a nurse"),
        ),
        *_sct(("373942005", "discharge summary")),
    ),
    description=(
        "Document types of a discharge summary (LOINC document codes, as the C-CDA "
        "discharge summary document types list them, and the SNOMED CT record artifact): "
        "a document of one of them about a stay is the discharge information HEDIS TRC "
        "asks for."
    ),
)

TRANSFER_SUMMARY = ValueSet(
    name=_N.TRANSFER_SUMMARY,
    title="Transfer summaries",
    codes=_codes(
        System.LOINC,
        ("18761-7", "transfer summary"),
        ("28616-1", "transfer note by a physician"),
        ("28651-8", "transfer note by a nurse"),
        ("34755-9", "critical care transfer summary"),
        ("34770-8", "general medicine transfer summary"),
        ("68482-9", "hospital transfer summary by a nurse"),
    ),
    description=(
        "Document types of a transfer summary (LOINC document codes from the C-CDA "
        "transfer document types): sent with a patient moved to another facility, it "
        "carries the discharge information too."
    ),
)

CONSULT_NOTE = ValueSet(
    name=_N.CONSULT_NOTE,
    title="Consult notes (consultant reports)",
    codes=(
        *_codes(
            System.LOINC,
            ("11488-4", "consult note"),
            ("34099-2", "cardiology consult note"),
            ("34100-8", "intensive care consult note"),
            ("34101-6", "general medicine outpatient consult note"),
            ("34103-2", "pulmonology consult note"),
            ("34104-0", "hospital consult note"),
            ("34758-3", "dermatology consult note"),
            ("34760-9", "diabetology consult note"),
            ("34761-7", "gastroenterology consult note"),
            ("34764-1", "general medicine consult note"),
            ("34777-3", "obstetrics and gynaecology consult note"),
            ("34779-9", "haematology and oncology consult note"),
            ("34781-5", "infectious disease consult note"),
            ("34785-6", "mental health consult note"),
            ("34788-0", "psychiatry consult note"),
            ("34791-4", "psychology consult note"),
            ("34795-5", "nephrology consult note"),
            ("34797-1", "neurology consult note"),
            ("34800-3", "nutrition consult note"),
            ("34805-2", "oncology consult note"),
            ("34807-8", "ophthalmology consult note"),
            ("34814-4", "orthopaedic surgery consult note"),
            ("34816-9", "ear, nose and throat consult note"),
            ("34824-3", "physical therapy consult note"),
            ("34839-1", "rheumatology consult note"),
            ("34841-7", "social work consult note"),
            ("34847-4", "surgery consult note"),
            ("34851-6", "urology consult note"),
            ("34879-7", "endocrinology consult note"),
            ("51845-6", "outpatient consult note"),
            ("51846-4", "emergency department consult note"),
            ("78253-2", "family medicine consult note"),
            ("83873-0", "primary care consult note"),
            ("85208-7", "telehealth consult note"),
            ("85238-4", "internal medicine consult note"),
        ),
        *_sct(
            ("371530004", "consultation report"),
            ("371545006", "confirmatory consultation report"),
            ("721916007", "initial consultation note"),
        ),
    ),
    description=(
        "Document types of a consultant's report back to the referrer: the generic LOINC "
        "consult note (11488-4), the common specialty consult notes and the SNOMED CT "
        "consultation reports. The published CMS50 set lists every specialty and setting "
        "(239 codes) and also the SNOMED CT referral note and report of a clinical "
        "encounter, which carecoord's default leaves out (a referral note is what the "
        "referrer sends: see referral-note)."
    ),
    approximates=_vsac("2.16.840.1.113883.3.464.1003.121.12.1006"),
)

REFERRAL_NOTE = ValueSet(
    name=_N.REFERRAL_NOTE,
    title="Referral notes",
    codes=(
        *_codes(System.LOINC, ("57133-1", "referral note")),
        *_sct(("721927009", "referral note")),
    ),
    description="Document types of a referral note: what the referrer sends with a referral "
    "(it does not close the loop; the consultant's report does).",
)

# --------------------------------------------------------------------------- sensitivity


def _nucc(*pairs: tuple[str, str]) -> tuple[Code, ...]:
    return _codes(System.NUCC, *pairs)


SENSITIVITY_MENTAL_HEALTH = ValueSet(
    name=_N.SENSITIVITY_MENTAL_HEALTH,
    title="Codes that reveal mental-health information",
    codes=(
        *_MENTAL_ILLNESS_SCT,
        *_DEMENTIA_SCT[:2],
        *_SELF_HARM_SCT,
        # specialties (a referral, an appointment's service, a practitioner's specialty)
        *_sct(
            ("394587001", "psychiatry (specialty)"),
            ("394913002", "psychotherapy (specialty)"),
            ("722165004", "clinical psychology (specialty)"),
            ("408459003", "paediatric psychiatry (specialty)"),
            ("408467006", "adult mental illness (specialty)"),
            ("408468001", "learning disability psychiatry (specialty)"),
        ),
        *_nucc(
            ("2084P0800X", "psychiatry"),
            ("2084P0804X", "child and adolescent psychiatry"),
            ("2084P0805X", "geriatric psychiatry"),
            ("2084F0202X", "forensic psychiatry"),
            ("103T00000X", "psychologist"),
            ("103TC0700X", "clinical psychologist"),
            ("101YM0800X", "mental health counselor"),
            ("106H00000X", "marriage and family therapist"),
            ("261QM0801X", "mental health clinic"),
            ("283Q00000X", "psychiatric hospital"),
            ("273R00000X", "psychiatric unit"),
            ("323P00000X", "psychiatric residential treatment facility"),
        ),
        # psychiatric visits, screenings and plans
        *_sct(
            ("79094001", "initial psychiatric interview with mental status evaluation"),
            ("88848003", "psychiatric follow-up"),
            ("171207006", "depression screening"),
            ("718347000", "mental health care plan"),
            ("736254008", "psychiatry care plan"),
            ("737434004", "major depressive disorder clinical management plan"),
            ("386522008", "overactivity/inattention behaviour management"),
        ),
        *_codes(
            System.LOINC,
            ("44249-1", "PHQ-9 panel"),
            ("44261-6", "PHQ-9 total score"),
            ("55757-9", "PHQ-2 panel"),
            ("55758-7", "PHQ-2 total score"),
            ("73831-0", "adolescent depression screening assessment"),
            ("73832-8", "adult depression screening assessment"),
            ("69737-5", "GAD-7 panel"),
            ("70274-6", "GAD-7 total score"),
        ),
        # medicines that imply a mental illness
        *_ANTIDEPRESSANTS,
        *_ANTIPSYCHOTICS,
        *_ADHD_MEDICINES,
        *_LITHIUM,
        *_codes(System.RXNORM, ("1827", "buspirone")),
    ),
    patterns=(
        *_icd("F01-F09", "F20-F99"),
        *SELF_HARM.patterns,
        CodePattern(ATC, "N06A", "antidepressants"),
        CodePattern(ATC, "N05A", "antipsychotics (lithium included)"),
        CodePattern(ATC, "N06BA", "centrally acting sympathomimetics (ADHD medicines)"),
    ),
    description=(
        "Mental-health information for consent (HL7 PSY): ICD-10-CM F01-F09 and F20-F99 "
        "(chapter F but substance use), intentional self-harm, SNOMED CT mental disorders "
        "and dementia; psychiatry, psychotherapy and psychology as specialties (SNOMED CT, "
        "NUCC) and settings; psychiatric interviews, depression screening and mental-health "
        "care plans (SNOMED CT); PHQ-9, PHQ-2, depression-screening and GAD-7 results "
        "(LOINC); antidepressants, antipsychotics, lithium, buspirone and ADHD medicines "
        "(RxNorm ingredients, ATC N06A, N05A, N06BA). Benzodiazepines are not listed: "
        "they are as often for seizures, procedures and alcohol withdrawal."
    ),
)

SENSITIVITY_SUBSTANCE_USE = ValueSet(
    name=_N.SENSITIVITY_SUBSTANCE_USE,
    title="Codes that reveal substance-use information (42 CFR Part 2)",
    codes=(
        *_SUBSTANCE_USE_SCT,
        *OPIOID_USE_DISORDER_MEDICATIONS.codes,
        *_sct(
            ("55680006", "drug overdose"),
            ("56876005", "drug rehabilitation and detoxification"),
        ),
        *_nucc(
            ("2084A0401X", "addiction medicine (psychiatry and neurology)"),
            ("2084P0802X", "addiction psychiatry"),
            ("207LA0401X", "addiction medicine (anesthesiology)"),
            ("207QA0401X", "addiction medicine (family medicine)"),
            ("207RA0401X", "addiction medicine (internal medicine)"),
            ("2083A0300X", "addiction medicine (preventive medicine)"),
            ("101YA0400X", "addiction (substance use disorder) counselor"),
            ("261QR0405X", "substance use disorder rehabilitation clinic"),
            ("276400000X", "substance use disorder rehabilitation unit"),
            ("324500000X", "substance abuse rehabilitation facility"),
            ("3245S0500X", "substance abuse treatment facility, children"),
        ),
        *_codes(System.LOINC, ("82667-7", "DAST-10 total score")),
    ),
    patterns=(
        *_icd("F10-F19", "Z71.41", "Z71.51"),
        CodePattern(
            System.ICD10CM,
            "T40:6=1234",
            "poisoning by narcotics and psychodysleptics (opioids, cocaine, cannabis, "
            "hallucinogens): accidental, intentional, assault or undetermined",
        ),
    ),
    description=(
        "Substance-use information for consent (HL7 ETH, 42 CFR Part 2): ICD-10-CM F10-F19, "
        "alcohol and drug counselling (Z71.41, Z71.51), poisoning by narcotics and "
        "psychodysleptics (T40 with intent 1-4), SNOMED CT substance-use disorders, drug "
        "overdose and drug rehabilitation; addiction medicine, addiction counsellors and "
        "rehabilitation settings (NUCC); the DAST-10 score (LOINC); the medications for "
        "opioid use disorder (RxNorm ingredients)."
    ),
)

SENSITIVITY_HIV = ValueSet(
    name=_N.SENSITIVITY_HIV,
    title="Codes that reveal HIV information",
    codes=(
        *_HIV_SCT,
        *HIV_LAB_TESTS.codes,
        *HIV_MEDICATIONS.codes,
        *_codes(System.LOINC, ("55277-8", "HIV status")),
        *_sct(
            ("31676001", "human immunodeficiency virus antigen test"),
            ("394807007", "infectious diseases (specialty)"),
        ),
        *_nucc(("207RI0200X", "infectious disease (internal medicine)")),
    ),
    patterns=(*HIV.patterns, *_icd("Z71.7")),
    description=(
        "HIV information for consent (HL7 HIV): the HIV diagnoses, HIV counselling "
        "(ICD-10-CM Z71.7), HIV tests and HIV status (LOINC; the SNOMED CT antigen test), "
        "antiretrovirals (RxNorm) and the infectious-disease specialty (SNOMED CT, NUCC), "
        "where HIV care is given. A referral to infectious disease for something else is "
        "hidden too: the set errs on the side of hiding."
    ),
)

SENSITIVITY_SEXUAL_DOMESTIC_VIOLENCE = ValueSet(
    name=_N.SENSITIVITY_SEXUAL_DOMESTIC_VIOLENCE,
    title="Codes that reveal abuse or neglect",
    codes=(
        *_sct(
            ("706893006", "victim of intimate partner abuse"),
            ("397940009", "victim of child abuse"),
            ("412732008", "history of domestic violence"),
        ),
        *_codes(
            System.LOINC,
            ("28245-9", "abuse status (Omaha)"),
            ("76501-6", "afraid of partner or ex-partner in the last year"),
            ("76504-0", "HARK total score"),
        ),
    ),
    patterns=_icd(
        "T74",
        "T76",
        "Y07",
        "Z69",
        "Z04.4",
        "Z04.7",
        "Z62.81",
        "Z91.41",
        "O9A.3",
        "O9A.4",
        "O9A.5",
    ),
    description=(
        "Sexual and domestic violence information for consent (HL7 SDV): confirmed and "
        "suspected abuse and neglect (ICD-10-CM T74, T76), the perpetrator of maltreatment "
        "(Y07), mental-health services for a victim or perpetrator of abuse (Z69), "
        "examinations after alleged rape or abuse (Z04.4, Z04.7), histories of abuse "
        "(Z62.81, Z91.41), abuse complicating pregnancy (O9A.3-O9A.5); SNOMED CT victim of "
        "intimate partner or child abuse and history of domestic violence; abuse and "
        "partner-violence screening results (LOINC)."
    ),
)

CHRONIC_CONDITION_GROUPS: tuple[str, ...] = (
    _N.COPD_ASTHMA,
    _N.DEMENTIA,
    _N.CHRONIC_KIDNEY_DISEASE,
    _N.DEPRESSION,
    _N.HEART_FAILURE,
    _N.ACUTE_MYOCARDIAL_INFARCTION,
    _N.ATRIAL_FIBRILLATION,
    _N.STROKE_TIA,
)
"""The HEDIS FMC chronic-condition groups, as value-set names: what
``transition.ed-chronic-follow-up`` and ``care-plan.missing`` count."""

SENSITIVITY_VALUE_SETS: tuple[tuple[Sensitivity, str], ...] = (
    (Sensitivity.MENTAL_HEALTH, _N.SENSITIVITY_MENTAL_HEALTH),
    (Sensitivity.SUBSTANCE_USE, _N.SENSITIVITY_SUBSTANCE_USE),
    (Sensitivity.HIV, _N.SENSITIVITY_HIV),
    (Sensitivity.SEXUAL_DOMESTIC_VIOLENCE, _N.SENSITIVITY_SEXUAL_DOMESTIC_VIOLENCE),
)
"""Which value set reveals each sensitivity class, as the consent views infer it."""

DEFAULT_VALUE_SETS = ValueSets(
    (
        MENTAL_ILLNESS,
        SELF_HARM,
        BEHAVIORAL_HEALTH,
        SUBSTANCE_USE_DISORDER,
        OPIOID_USE_DISORDER,
        OPIOID_USE_DISORDER_MEDICATIONS,
        DRUG_OVERDOSE,
        PSYCHOTROPIC_MEDICATIONS,
        HIV,
        HIV_LAB_TESTS,
        HIV_MEDICATIONS,
        DIABETES,
        HYPERTENSION,
        HEART_FAILURE,
        CHRONIC_KIDNEY_DISEASE,
        COPD_ASTHMA,
        DEMENTIA,
        DEPRESSION,
        MAJOR_DEPRESSION,
        ACUTE_MYOCARDIAL_INFARCTION,
        ATRIAL_FIBRILLATION,
        STROKE_TIA,
        HOSPICE,
        ANNUAL_WELLNESS_VISIT,
        INITIAL_PREVENTIVE_VISIT,
        PREVENTIVE_VISIT,
        MEDICATION_RECONCILIATION,
        HBA1C_TESTS,
        PHQ9_TESTS,
        DISCHARGE_SUMMARY,
        TRANSFER_SUMMARY,
        CONSULT_NOTE,
        REFERRAL_NOTE,
        SENSITIVITY_MENTAL_HEALTH,
        SENSITIVITY_SUBSTANCE_USE,
        SENSITIVITY_HIV,
        SENSITIVITY_SEXUAL_DOMESTIC_VIOLENCE,
    )
)
"""The shipped defaults, every one under its carecoord name (see ``docs/valuesets.md``)."""
