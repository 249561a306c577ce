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
"""

from __future__ import annotations

from carecoord.display import bound_reprs as _bound_reprs
from carecoord.errors import checked_exports
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
from carecoord.terminology._valueset import CodePattern, ValueSet

__all__ = [
    "ATC",
    "CHRONIC_CONDITION_GROUPS",
    "DEFAULT_VALUE_SETS",
    "HIERARCHICAL_SYSTEMS",
    "SENSITIVITY_VALUE_SETS",
    "SYSTEM_ALIASES",
    "VSAC_BASE",
    "CodePattern",
    "ValueSet",
    "ValueSetName",
    "ValueSets",
    "canonical_system",
    "normal_code",
]

_bound_reprs(globals()[name] for name in __all__)
checked_exports(globals())
del checked_exports
