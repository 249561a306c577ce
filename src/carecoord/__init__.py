"""carecoord: care coordination for Python.

The top level holds what the read -> profiles -> gaps -> tasks path needs and the main
models: the clinical facts and the coordination objects with their lifecycles
(:mod:`carecoord.domain` has every model, id type, enum and transition table), the unified
profile (:mod:`carecoord.profile`: matching, merge, views, reconciliation), the gap rules
(:mod:`carecoord.rules`: the catalogue, engine and calendar) and the errors
(:mod:`carecoord.errors`). Adapters are subpackages loaded when imported
(``from carecoord import fhir``); the test kit is :mod:`carecoord.testing`.

Importing carecoord reads no environment variable, file or clock, and loads no adapter.
"""

from __future__ import annotations

from typing import Any

from carecoord.domain import (
    ActivityKind,
    Allergy,
    Appointment,
    CarePlan,
    CareTeam,
    CareTeamMember,
    CareTransition,
    Code,
    Communication,
    Condition,
    Consent,
    CoordinationActivity,
    Discipline,
    Encounter,
    Enrollment,
    Goal,
    Medication,
    Order,
    Organization,
    PartialDate,
    Patient,
    PatientRecord,
    Period,
    Practitioner,
    Procedure,
    Ref,
    Referral,
    ReferralStatus,
    Result,
    Sensitivity,
    SocialNeed,
    Source,
    SourceKind,
    System,
    Task,
    TaskStatus,
)
from carecoord.errors import (
    CarecoordError,
    InvalidTransition,
    MissingExtraError,
    NotFound,
    Problem,
    UsageError,
    ValidationError,
)
from carecoord.profile import (
    Fact,
    FactConflict,
    MatchConfig,
    PatientProfile,
    ProfileSet,
    Provenance,
    Viewer,
    ViewerRole,
    build_profiles,
    patient_summary,
    timeline,
    view_for,
)
from carecoord.rules import (
    BusinessCalendar,
    Gap,
    GapReport,
    GapStatus,
    Overrides,
    RuleSet,
    Severity,
    Snooze,
    default_rules,
    detect_gaps,
    detect_gaps_population,
    suggest_tasks,
    summarize,
)

__all__ = [
    "ActivityKind",
    "Allergy",
    "Appointment",
    "BusinessCalendar",
    "CarePlan",
    "CareTeam",
    "CareTeamMember",
    "CareTransition",
    "CarecoordError",
    "Code",
    "Communication",
    "Condition",
    "Consent",
    "CoordinationActivity",
    "Discipline",
    "Encounter",
    "Enrollment",
    "Fact",
    "FactConflict",
    "Gap",
    "GapReport",
    "GapStatus",
    "Goal",
    "InvalidTransition",
    "MatchConfig",
    "Medication",
    "MissingExtraError",
    "NotFound",
    "Order",
    "Organization",
    "Overrides",
    "PartialDate",
    "Patient",
    "PatientProfile",
    "PatientRecord",
    "Period",
    "Practitioner",
    "Problem",
    "Procedure",
    "ProfileSet",
    "Provenance",
    "Ref",
    "Referral",
    "ReferralStatus",
    "Result",
    "RuleSet",
    "Sensitivity",
    "Severity",
    "Snooze",
    "SocialNeed",
    "Source",
    "SourceKind",
    "System",
    "Task",
    "TaskStatus",
    "UsageError",
    "ValidationError",
    "Viewer",
    "ViewerRole",
    "build_profiles",
    "default_rules",
    "detect_gaps",
    "detect_gaps_population",
    "patient_summary",
    "suggest_tasks",
    "summarize",
    "timeline",
    "view_for",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 - lazy: no I/O at import

        return version("carecoord")
    raise AttributeError(f"module 'carecoord' has no attribute {name!r}")
