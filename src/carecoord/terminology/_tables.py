"""Code tables every exchange-format reader needs: encounter classes, dispositions, sources.

The FHIR reader and the HL7 v2 reader map the same concepts (where a patient was
admitted from, where they were discharged to, what kind of stay it was, what a document
is) onto the same model, so the tables live here in the core, where both adapters can
import them without importing each other. Each is a plain ``dict`` a caller may copy and
extend. The ``V2_*`` tables are the HL7 v2 code tables the v2 reader reads (their HL7
table numbers in each docstring); the others are the FHIR and NUBC codes.
"""

from __future__ import annotations

from carecoord.domain import (
    AppointmentStatus,
    CareSetting,
    CommunicationKind,
    EncounterClass,
    Interpretation,
    Priority,
    ReferralStatus,
    ResultStatus,
    Sex,
    TransitionKind,
)

__all__ = [
    "ADMIT_SOURCE",
    "COMMUNICATION_LOINC",
    "DISCHARGE_HL7",
    "DISCHARGE_NUBC",
    "ENCOUNTER_CLASS",
    "INTERPRETATION",
    "TRANSITION_CLASSES",
    "V2_ADMIT_SOURCE",
    "V2_DOCUMENT_TYPE",
    "V2_FILLER_STATUS",
    "V2_ORDER_RESULT_STATUS",
    "V2_PATIENT_CLASS",
    "V2_REFERRAL_PRIORITY",
    "V2_REFERRAL_STATUS",
    "V2_RESULT_STATUS",
    "V2_SEX",
    "nubc_setting",
]

ENCOUNTER_CLASS: dict[str, EncounterClass] = {
    "AMB": EncounterClass.AMBULATORY,
    "FLD": EncounterClass.AMBULATORY,
    "SS": EncounterClass.AMBULATORY,
    "VR": EncounterClass.VIRTUAL,
    "HH": EncounterClass.HOME,
    "EMER": EncounterClass.EMERGENCY,
    "IMP": EncounterClass.INPATIENT,
    "ACUTE": EncounterClass.INPATIENT,
    "NONAC": EncounterClass.INPATIENT,
    "PRENC": EncounterClass.AMBULATORY,
    "OBSENC": EncounterClass.OBSERVATION,
    "TELE": EncounterClass.TELEPHONE,
    # HL7 v2 patient class (PV1-2) codes, as some converters emit them
    "E": EncounterClass.EMERGENCY,
    "I": EncounterClass.INPATIENT,
    "O": EncounterClass.AMBULATORY,
    "P": EncounterClass.AMBULATORY,
}
"""``Encounter.class`` (v3 ActCode, or v2 patient class) -> :class:`EncounterClass`."""

TRANSITION_CLASSES: dict[EncounterClass, TransitionKind] = {
    EncounterClass.INPATIENT: TransitionKind.INPATIENT,
    EncounterClass.OBSERVATION: TransitionKind.OBSERVATION,
    EncounterClass.EMERGENCY: TransitionKind.EMERGENCY,
}
"""Encounter classes that become a :class:`~carecoord.domain.CareTransition`."""

DISCHARGE_NUBC: dict[str, CareSetting] = {
    "01": CareSetting.HOME,
    "02": CareSetting.OTHER_HOSPITAL,
    "03": CareSetting.SKILLED_NURSING,
    "04": CareSetting.SKILLED_NURSING,  # intermediate care / custodial facility
    "05": CareSetting.OTHER_HOSPITAL,  # designated cancer centre or children's hospital
    "06": CareSetting.HOME_HEALTH,
    "07": CareSetting.LEFT_AGAINST_ADVICE,
    "09": CareSetting.INPATIENT,  # admitted as an inpatient to this hospital
    "20": CareSetting.DECEASED,
    "21": CareSetting.UNKNOWN,  # court or law enforcement
    "30": CareSetting.INPATIENT,  # still a patient
    "40": CareSetting.DECEASED,
    "41": CareSetting.DECEASED,
    "42": CareSetting.DECEASED,
    "43": CareSetting.OTHER_HOSPITAL,  # federal (VA) hospital
    "50": CareSetting.HOSPICE,
    "51": CareSetting.HOSPICE,
    "61": CareSetting.SKILLED_NURSING,  # swing bed
    "62": CareSetting.REHAB,
    "63": CareSetting.OTHER_HOSPITAL,  # long-term care hospital
    "64": CareSetting.SKILLED_NURSING,  # Medicaid nursing facility
    "65": CareSetting.PSYCHIATRIC,
    "66": CareSetting.OTHER_HOSPITAL,  # critical access hospital
    "69": CareSetting.UNKNOWN,  # designated disaster alternative care site
    "70": CareSetting.OTHER_HOSPITAL,  # another type of health care institution
}
"""NUBC patient discharge status (``http://www.nubc.org/patient-discharge``) -> setting.

Codes 81-95 (discharged with a planned readmission) read as their base code minus 80 (or
minus 30 for 93-95), e.g. 81 as 01 home, 82 as 02 another hospital."""

ADMIT_SOURCE: dict[str, CareSetting] = {
    "hosp-trans": CareSetting.OTHER_HOSPITAL,
    "emd": CareSetting.EMERGENCY,
    "outp": CareSetting.OUTPATIENT,
    "born": CareSetting.INPATIENT,
    "gp": CareSetting.OUTPATIENT,
    "mp": CareSetting.OUTPATIENT,
    "nursing": CareSetting.SKILLED_NURSING,
    "psych": CareSetting.PSYCHIATRIC,
    "rehab": CareSetting.REHAB,
    "other": CareSetting.UNKNOWN,
}
"""HL7 ``admit-source`` codes (``admitSource``) -> where the patient came from."""

DISCHARGE_HL7: dict[str, CareSetting] = {
    "home": CareSetting.HOME,
    "alt-home": CareSetting.HOME,
    "other-hcf": CareSetting.OTHER_HOSPITAL,
    "hosp": CareSetting.HOSPICE,
    "long": CareSetting.SKILLED_NURSING,
    "aadvice": CareSetting.LEFT_AGAINST_ADVICE,
    "exp": CareSetting.DECEASED,
    "psy": CareSetting.PSYCHIATRIC,
    "rehab": CareSetting.REHAB,
    "snf": CareSetting.SKILLED_NURSING,
    "oth": CareSetting.UNKNOWN,
}
"""HL7 ``discharge-disposition`` codes -> :class:`CareSetting` (``hosp`` is hospice)."""

INTERPRETATION: dict[str, Interpretation] = {
    "N": Interpretation.NORMAL,
    "NEG": Interpretation.NORMAL,
    "ND": Interpretation.NORMAL,
    "NR": Interpretation.NORMAL,
    "S": Interpretation.NORMAL,
    "H": Interpretation.ABNORMAL,
    "L": Interpretation.ABNORMAL,
    "A": Interpretation.ABNORMAL,
    "HU": Interpretation.ABNORMAL,
    "LU": Interpretation.ABNORMAL,
    "POS": Interpretation.ABNORMAL,
    "DET": Interpretation.ABNORMAL,
    "R": Interpretation.ABNORMAL,
    "I": Interpretation.ABNORMAL,
    "W": Interpretation.ABNORMAL,
    "U": Interpretation.ABNORMAL,
    "D": Interpretation.ABNORMAL,
    "B": Interpretation.ABNORMAL,
    "HH": Interpretation.CRITICAL,
    "LL": Interpretation.CRITICAL,
    "AA": Interpretation.CRITICAL,
    ">": Interpretation.ABNORMAL,
    "<": Interpretation.ABNORMAL,
    "CRITICAL": Interpretation.CRITICAL,
    "CRIT": Interpretation.CRITICAL,
}
"""v3 ObservationInterpretation codes (and the v2 ``critical`` spelling) -> interpretation.

The reverse: normal ``N``, abnormal ``A``, critical ``AA``."""

COMMUNICATION_LOINC: dict[str, CommunicationKind] = {
    "18842-5": CommunicationKind.DISCHARGE_SUMMARY,
    "34105-7": CommunicationKind.DISCHARGE_SUMMARY,  # hospital discharge summary
    "28655-9": CommunicationKind.DISCHARGE_SUMMARY,  # attending discharge summary
    "11488-4": CommunicationKind.CONSULT_REPORT,
    "34117-2": CommunicationKind.CONSULT_REPORT,  # history and physical note
    "57133-1": CommunicationKind.REFERRAL,  # referral note
    "57134-9": CommunicationKind.REFERRAL,  # referral note, by provider
    "18776-5": CommunicationKind.CARE_PLAN_UPDATE,  # plan of care note
    "52521-2": CommunicationKind.CARE_PLAN_UPDATE,  # overall plan of care
    "10160-0": CommunicationKind.MEDICATION_CHANGE,  # history of medication use
    "56445-0": CommunicationKind.MEDICATION_CHANGE,  # medication summary
    "11502-2": CommunicationKind.RESULT_NOTIFICATION,  # laboratory report
    "18748-4": CommunicationKind.RESULT_NOTIFICATION,  # diagnostic imaging study
    "34109-9": CommunicationKind.OTHER,  # note
}
"""LOINC document codes (category, topic or reasonCode) -> :class:`CommunicationKind`."""


def nubc_setting(code: str) -> CareSetting | None:
    """The setting a NUBC patient discharge status code names, or None when unknown.

    Codes 81-95 (discharged with a planned readmission) read as their base code: 81 as 01
    home, 82 as 02 another hospital, 93-95 as 63-65. A one-digit code reads as its
    two-digit form (``1`` as ``01``), as some HL7 v2 senders write PV1-36.

    >>> nubc_setting("01"), nubc_setting("82"), nubc_setting("6"), nubc_setting("zz")
    (<CareSetting.HOME: 'home'>, <CareSetting.OTHER_HOSPITAL: 'other-hospital'>, \
<CareSetting.HOME_HEALTH: 'home-health'>, None)
    """
    value = code.strip()
    if len(value) == 1 and value.isdigit():
        value = f"0{value}"
    if value in DISCHARGE_NUBC:
        return DISCHARGE_NUBC[value]
    if value.isdigit() and len(value) == 2:
        number = int(value)
        base = number - 80 if 81 <= number <= 90 else number - 30 if 93 <= number <= 95 else None
        if base is not None:
            return DISCHARGE_NUBC.get(f"{base:02d}")
    return None


# --------------------------------------------------------------------------- HL7 v2 tables

V2_PATIENT_CLASS: dict[str, EncounterClass] = {
    "E": EncounterClass.EMERGENCY,
    "I": EncounterClass.INPATIENT,
    "B": EncounterClass.INPATIENT,  # obstetrics
    "O": EncounterClass.AMBULATORY,
    "P": EncounterClass.AMBULATORY,  # preadmit (FHIR-Converter: PRENC)
    "R": EncounterClass.AMBULATORY,  # recurring patient
    "C": EncounterClass.OTHER,  # commercial account
    "N": EncounterClass.OTHER,  # not applicable
    "U": EncounterClass.OTHER,  # unknown
}
"""PV1-2 patient class (HL7 table 0004) -> :class:`EncounterClass`."""

V2_ADMIT_SOURCE: dict[str, CareSetting] = {
    "1": CareSetting.OUTPATIENT,  # physician referral
    "2": CareSetting.OUTPATIENT,  # clinic referral
    "3": CareSetting.OUTPATIENT,  # HMO referral
    "4": CareSetting.OTHER_HOSPITAL,  # transfer from a hospital
    "5": CareSetting.SKILLED_NURSING,  # transfer from a skilled nursing facility
    "6": CareSetting.UNKNOWN,  # transfer from another health care facility
    "7": CareSetting.EMERGENCY,  # emergency room
    "8": CareSetting.UNKNOWN,  # court or law enforcement
    "9": CareSetting.UNKNOWN,  # information not available
}
"""PV1-14 admit source (HL7 table 0023, user-defined; the UB-04 point-of-origin codes
that US senders use) -> where the patient came from. FHIR ``admitSource`` codes
(:data:`ADMIT_SOURCE`) are read too."""

V2_SEX: dict[str, Sex] = {
    "F": Sex.FEMALE,
    "M": Sex.MALE,
    "O": Sex.OTHER,
    "A": Sex.OTHER,  # ambiguous
    "X": Sex.OTHER,  # non-binary (v2.9)
    "U": Sex.UNKNOWN,
    "N": Sex.UNKNOWN,  # not applicable
}
"""PID-8 administrative sex (HL7 table 0001) -> :class:`Sex`."""

V2_RESULT_STATUS: dict[str, ResultStatus] = {
    "F": ResultStatus.FINAL,
    "U": ResultStatus.FINAL,  # changed to final without retransmitting
    "C": ResultStatus.AMENDED,  # corrected
    "P": ResultStatus.PRELIMINARY,
    "R": ResultStatus.PRELIMINARY,  # entered, not verified
    "S": ResultStatus.PRELIMINARY,  # partial
    "I": ResultStatus.REGISTERED,  # specimen in lab, pending
    "O": ResultStatus.REGISTERED,  # order detail only
    "X": ResultStatus.CANCELLED,  # cannot be obtained
    "N": ResultStatus.CANCELLED,  # not asked
    "D": ResultStatus.ENTERED_IN_ERROR,  # deleted
    "W": ResultStatus.ENTERED_IN_ERROR,  # wrong patient or post
}
"""OBX-11 observation result status (HL7 table 0085) -> :class:`ResultStatus`."""

V2_ORDER_RESULT_STATUS: dict[str, ResultStatus] = {
    "O": ResultStatus.REGISTERED,
    "I": ResultStatus.REGISTERED,
    "S": ResultStatus.REGISTERED,
    "A": ResultStatus.PRELIMINARY,  # some, not all, results available
    "P": ResultStatus.PRELIMINARY,
    "R": ResultStatus.PRELIMINARY,
    "C": ResultStatus.AMENDED,
    "F": ResultStatus.FINAL,
    "X": ResultStatus.CANCELLED,
}
"""OBR-25 result status (HL7 table 0123) -> :class:`ResultStatus` of the report."""

V2_FILLER_STATUS: dict[str, AppointmentStatus] = {
    "PENDING": AppointmentStatus.PROPOSED,
    "WAITLIST": AppointmentStatus.PROPOSED,
    "BOOKED": AppointmentStatus.BOOKED,
    "OVERBOOK": AppointmentStatus.BOOKED,
    "STARTED": AppointmentStatus.ARRIVED,
    "COMPLETE": AppointmentStatus.FULFILLED,
    "CANCELLED": AppointmentStatus.CANCELLED,
    "DC": AppointmentStatus.CANCELLED,  # discontinued
    "DELETED": AppointmentStatus.ENTERED_IN_ERROR,
    "NOSHOW": AppointmentStatus.NO_SHOW,
}
"""SCH-25 filler status code (HL7 table 0278, upper-cased) -> :class:`AppointmentStatus`."""

V2_DOCUMENT_TYPE: dict[str, tuple[str, str]] = {
    "DS": ("18842-5", "Discharge summary"),
    "TS": ("18761-7", "Transfer summary note"),
    "CN": ("11488-4", "Consult note"),
    "PC": ("11488-4", "Consult note"),  # psychiatric consultation
    "HP": ("34117-2", "History and physical note"),
    "PN": ("28570-0", "Procedure note"),
    "PR": ("11506-3", "Progress note"),
    "OP": ("11504-8", "Surgical operation note"),
    "DI": ("18748-4", "Diagnostic imaging study"),
    "SP": ("11526-1", "Pathology study"),
    "ED": ("34111-5", "Emergency department note"),
    "AR": ("18743-5", "Autopsy report"),
    "CD": ("18745-0", "Cardiac catheterization study"),
    "PH": ("11492-6", "History and physical note.hospital"),
}
"""TXA-2 document type (HL7 table 0270, user-defined) -> LOINC document code and display,
so that an MDM discharge summary and a FHIR DocumentReference of type 18842-5 are the same
to the rules."""

V2_REFERRAL_STATUS: dict[str, ReferralStatus] = {
    "A": ReferralStatus.ACCEPTED,
    "P": ReferralStatus.SENT,  # pending
    "R": ReferralStatus.DECLINED,  # rejected
    "E": ReferralStatus.CLOSED,  # expired
}
"""RF1-1 referral status (HL7 table 0283) -> :class:`~carecoord.domain.ReferralStatus`."""

V2_REFERRAL_PRIORITY: dict[str, Priority] = {
    "S": Priority.STAT,
    "A": Priority.ASAP,
    "R": Priority.ROUTINE,
}
"""RF1-2 referral priority (HL7 table 0280) -> :class:`~carecoord.domain.Priority`."""
