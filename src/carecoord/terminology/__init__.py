"""Value sets: the code lists the gap rules and the consent views read, as a pluggable port.

A :class:`ValueSet` holds exact codes per code system and, for hierarchical systems
(ICD-10-CM, ATC), category patterns (:class:`CodePattern`: ``F32``, ``X71-X83``,
``T36-T65:6=2``); ``code in value_set`` tests membership, comparing code systems by their
canonical URI and ICD-10-CM codes without their dot. A :class:`ValueSets` library keys
them by carecoord's stable names (:class:`ValueSetName`); :data:`DEFAULT_VALUE_SETS` holds
the shipped defaults (ICD-10-CM and SNOMED CT approximations, see ``docs/valuesets.md``).
Pass a library to ``detect_gaps(..., value_sets=...)`` and to the consent views, after
replacing what you have licensed:

>>> from carecoord.domain import Code, System
>>> from carecoord.terminology import DEFAULT_VALUE_SETS
>>> Code(System.SNOMED, "370143000") in DEFAULT_VALUE_SETS["mental-illness"]
True
>>> Code(System.ICD10CM, "T43.222A") in DEFAULT_VALUE_SETS["self-harm"]
True

Published sets load from FHIR: :meth:`ValueSet.from_fhir` takes a parsed resource, and
``carecoord.fhir.read_value_sets`` reads files and folders of VSAC exports. Imports only
the domain layer and the errors; no I/O, no ``json``.

The code tables both exchange-format readers share (encounter classes, NUBC and HL7
discharge dispositions, admit sources, result interpretations, LOINC document types and
the ``V2_*`` HL7 v2 tables) are here too, so that no adapter imports another.
"""

from __future__ import annotations

from carecoord.display import bound_reprs as _bound_reprs
from carecoord.errors import checked_classes, checked_exports
from carecoord.terminology._defaults import (
    CHRONIC_CONDITION_GROUPS,
    DEFAULT_VALUE_SETS,
    SENSITIVITY_VALUE_SETS,
    VSAC_BASE,
    ValueSetName,
)
from carecoord.terminology._library import ValueSets
from carecoord.terminology._systems import (
    ATC,
    HIERARCHICAL_SYSTEMS,
    SYSTEM_ALIASES,
    canonical_system,
    normal_code,
)
from carecoord.terminology._tables import (
    ADMIT_SOURCE,
    COMMUNICATION_LOINC,
    DISCHARGE_HL7,
    DISCHARGE_NUBC,
    ENCOUNTER_CLASS,
    INTERPRETATION,
    TRANSITION_CLASSES,
    V2_ADMIT_SOURCE,
    V2_DOCUMENT_TYPE,
    V2_FILLER_STATUS,
    V2_ORDER_RESULT_STATUS,
    V2_PATIENT_CLASS,
    V2_REFERRAL_PRIORITY,
    V2_REFERRAL_STATUS,
    V2_RESULT_STATUS,
    V2_SEX,
    nubc_setting,
)
from carecoord.terminology._valueset import CodePattern, ValueSet

__all__ = [
    "ADMIT_SOURCE",
    "ATC",
    "CHRONIC_CONDITION_GROUPS",
    "COMMUNICATION_LOINC",
    "DEFAULT_VALUE_SETS",
    "DISCHARGE_HL7",
    "DISCHARGE_NUBC",
    "ENCOUNTER_CLASS",
    "HIERARCHICAL_SYSTEMS",
    "INTERPRETATION",
    "SENSITIVITY_VALUE_SETS",
    "SYSTEM_ALIASES",
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
    "VSAC_BASE",
    "CodePattern",
    "ValueSet",
    "ValueSetName",
    "ValueSets",
    "canonical_system",
    "normal_code",
    "nubc_setting",
]

_bound_reprs(globals()[name] for name in __all__)
checked_exports(globals())
checked_classes(
    globals(),
    (
        "CodePattern",
        "ValueSet",
        "ValueSets",
    ),
)
del checked_classes, checked_exports
