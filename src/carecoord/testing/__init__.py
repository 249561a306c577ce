"""Test kit for carecoord users: builders, scenarios, assertions, FHIR input, strategies.

The builders need nothing beyond carecoord itself; ``carecoord.testing.strategies`` needs
Hypothesis (``pip install 'carecoord[testing]'``). The pytest fixtures come from the
``pytest_carecoord`` plugin, installed with carecoord (``docs/testing.md``).

>>> from carecoord.testing import make_referral, AS_OF
>>> make_referral().status.value
'sent'
"""

from __future__ import annotations

from carecoord.display import bound_reprs as _bound_reprs
from carecoord.errors import checked_classes, checked_exports
from carecoord.testing._assertions import assert_gap, assert_no_gap, known_rule
from carecoord.testing._builders import (
    AS_OF,
    BEHAVIORAL_HEALTH,
    CARDIOLOGIST,
    COORDINATOR,
    GUARDIAN,
    HOSPITAL,
    PATIENT_ID,
    PCP,
    days_before,
    make_activity,
    make_allergy,
    make_appointment,
    make_care_plan,
    make_care_team,
    make_communication,
    make_condition,
    make_consent,
    make_document,
    make_encounter,
    make_enrollment,
    make_goal,
    make_medication,
    make_order,
    make_organization,
    make_patient,
    make_practitioner,
    make_procedure,
    make_reconciliation,
    make_record,
    make_referral,
    make_related_person,
    make_result,
    make_social_need,
    make_source,
    make_task,
    make_transition,
)
from carecoord.testing._bulk import write_bulk_export
from carecoord.testing._bundles import FhirBundles, default_bundle_record
from carecoord.testing._population import (
    HARD_CASES,
    NATIONAL_ID_SYSTEM,
    PAYER_MEMBER_SYSTEM,
    ErrorMix,
    LinkageScore,
    Population,
    generate_population,
    mrn_system,
)
from carecoord.testing._timetravel import Scenario

__all__ = [
    "AS_OF",
    "BEHAVIORAL_HEALTH",
    "CARDIOLOGIST",
    "COORDINATOR",
    "GUARDIAN",
    "HARD_CASES",
    "HOSPITAL",
    "NATIONAL_ID_SYSTEM",
    "PATIENT_ID",
    "PAYER_MEMBER_SYSTEM",
    "PCP",
    "ErrorMix",
    "FhirBundles",
    "LinkageScore",
    "Population",
    "Scenario",
    "assert_gap",
    "assert_no_gap",
    "days_before",
    "default_bundle_record",
    "generate_population",
    "known_rule",
    "make_activity",
    "make_allergy",
    "make_appointment",
    "make_care_plan",
    "make_care_team",
    "make_communication",
    "make_condition",
    "make_consent",
    "make_document",
    "make_encounter",
    "make_enrollment",
    "make_goal",
    "make_medication",
    "make_order",
    "make_organization",
    "make_patient",
    "make_practitioner",
    "make_procedure",
    "make_reconciliation",
    "make_record",
    "make_referral",
    "make_related_person",
    "make_result",
    "make_social_need",
    "make_source",
    "make_task",
    "make_transition",
    "mrn_system",
    "write_bulk_export",
]

_bound_reprs(globals()[name] for name in __all__)
checked_exports(globals())
checked_classes(
    globals(),
    (
        "ErrorMix",
        "FhirBundles",
        "LinkageScore",
        "Population",
    ),
)
del checked_classes, checked_exports
