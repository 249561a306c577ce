"""Gap detection: rules that find what is falling through the cracks in a patient's care.

>>> from carecoord.rules import default_rules
>>> "transition.tcm-contact" in default_rules().ids
True

The engine (:func:`detect_gaps`) runs a :class:`RuleSet` over a
:class:`~carecoord.profile.PatientProfile` as knowable at ``as_of`` (facts recorded later
are invisible) and returns a :class:`GapReport`. Rules follow the :class:`Rule` protocol;
the catalogue (:func:`default_rules`) is built from the family modules in
``_catalogue.FAMILIES``. Imports only the domain and profile layers (no cattrs, no json).
"""

from __future__ import annotations

from carecoord.rules._actions import RULE_CODE_SYSTEM, suggest_tasks, task_id_for
from carecoord.rules._asof import (
    known_at,
    natural_date,
    profile_as_of,
    referral_status_at,
    task_status_at,
)
from carecoord.rules._base import Rule, RuleBase, configure_rule, define_rule, param
from carecoord.rules._calendar import BusinessCalendar, us_federal_holidays
from carecoord.rules._catalogue import default_rules, family_rules
from carecoord.rules._codes import (
    CHRONIC_CONDITIONS,
    MEDICATION_RECONCILIATION_CODES,
    MENTAL_ILLNESS_PREFIXES,
    SELF_HARM_PREFIXES,
    matches_prefix,
)
from carecoord.rules._context import RuleContext, resolve_timezone
from carecoord.rules._engine import detect_gaps, detect_gaps_population, resolve_rules
from carecoord.rules._model import (
    Citation,
    Evidence,
    EvidenceRole,
    Gap,
    GapReport,
    GapStatus,
    Parameter,
    RuleError,
    RuleMetadata,
    Severity,
)
from carecoord.rules._referrals import (
    referral_declined_no_alternative,
    referral_loop_open,
    referral_missed_appointment,
    referral_prior_auth_overdue,
    referral_report_missing,
    referral_unacknowledged,
    referral_unscheduled,
)
from carecoord.rules._ruleset import Overrides, RuleSet, Snooze
from carecoord.rules._summary import PopulationSummary, summarize
from carecoord.rules._transitions import (
    transition_admission_notice_missing,
    transition_discharge_info_missing,
    transition_ed_chronic_follow_up,
    transition_ed_mental_health_follow_up,
    transition_follow_up_visit,
    transition_med_rec,
    transition_mental_health_follow_up,
    transition_tcm_contact,
)

__all__ = [
    "CHRONIC_CONDITIONS",
    "MEDICATION_RECONCILIATION_CODES",
    "MENTAL_ILLNESS_PREFIXES",
    "RULE_CODE_SYSTEM",
    "SELF_HARM_PREFIXES",
    "BusinessCalendar",
    "Citation",
    "Evidence",
    "EvidenceRole",
    "Gap",
    "GapReport",
    "GapStatus",
    "Overrides",
    "Parameter",
    "PopulationSummary",
    "Rule",
    "RuleBase",
    "RuleContext",
    "RuleError",
    "RuleMetadata",
    "RuleSet",
    "Severity",
    "Snooze",
    "configure_rule",
    "default_rules",
    "define_rule",
    "detect_gaps",
    "detect_gaps_population",
    "family_rules",
    "known_at",
    "matches_prefix",
    "natural_date",
    "param",
    "profile_as_of",
    "referral_declined_no_alternative",
    "referral_loop_open",
    "referral_missed_appointment",
    "referral_prior_auth_overdue",
    "referral_report_missing",
    "referral_status_at",
    "referral_unacknowledged",
    "referral_unscheduled",
    "resolve_rules",
    "resolve_timezone",
    "suggest_tasks",
    "summarize",
    "task_id_for",
    "task_status_at",
    "transition_admission_notice_missing",
    "transition_discharge_info_missing",
    "transition_ed_chronic_follow_up",
    "transition_ed_mental_health_follow_up",
    "transition_follow_up_visit",
    "transition_med_rec",
    "transition_mental_health_follow_up",
    "transition_tcm_contact",
    "us_federal_holidays",
]
