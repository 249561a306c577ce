"""Gap detection: rules that find what is falling through the cracks in a patient's care.

>>> from carecoord.rules import default_rules
>>> "transition.tcm-contact" in default_rules().ids
True

The engine (:func:`detect_gaps`) runs a :class:`RuleSet` over a
:class:`~carecoord.profile.PatientProfile` as knowable at ``as_of`` (facts recorded later
are invisible) and returns a :class:`GapReport`, whose :meth:`GapReport.to_records` gives
the gaps as JSON-safe dicts with the :data:`GAP_COLUMNS` keys. Rules follow the
:class:`Rule` protocol; the catalogue (:func:`default_rules`) is built from the family
modules in ``_catalogue.FAMILIES``. The code lists the rules read are value sets, looked up
by name in the library given to :func:`detect_gaps` (``value_sets=``;
``carecoord.terminology``). Imports only the domain, terminology and profile layers (no
cattrs, no json).
"""

from __future__ import annotations

from carecoord.display import bound_reprs as _bound_reprs
from carecoord.errors import checked_classes, checked_exports
from carecoord.rules._actions import suggest_tasks, task_id_for
from carecoord.rules._activity import activity_ccm_time
from carecoord.rules._asof import (
    known_at,
    natural_date,
    profile_as_of,
    referral_status_at,
    task_status_at,
)
from carecoord.rules._base import (
    Rule,
    RuleBase,
    configure_rule,
    define_rule,
    param,
    rule_value_sets,
    value_set_param,
)
from carecoord.rules._calendar import HOLIDAY_SETS, BusinessCalendar, us_federal_holidays
from carecoord.rules._care_plans import (
    care_plan_goal_without_activity,
    care_plan_missing,
    care_plan_review_overdue,
)
from carecoord.rules._care_team import (
    BEHAVIORAL_HEALTH_PREFIXES,
    care_team_behavioral_health_missing,
    care_team_inactive_owner,
    care_team_no_lead,
    care_team_no_primary_care,
)
from carecoord.rules._catalogue import default_rules, family_rules
from carecoord.rules._codes import (
    CHRONIC_CONDITIONS,
    MEDICATION_RECONCILIATION_CODES,
    MENTAL_ILLNESS_PREFIXES,
    RULE_CODE_SYSTEM,
    SELF_HARM_PREFIXES,
    matches_prefix,
)
from carecoord.rules._context import RuleContext, known_timezone, resolve_timezone
from carecoord.rules._engine import (
    check_value_sets,
    detect_gaps,
    detect_gaps_population,
    resolve_rules,
)
from carecoord.rules._medications import (
    ATC_SYSTEM,
    PSYCHOTROPIC_ATC_PREFIXES,
    PSYCHOTROPIC_RXNORM,
    medication_change_not_shared,
    medication_discrepancy,
)
from carecoord.rules._model import (
    WORKLIST_COLUMNS,
    WORKLIST_MONTHS,
    Citation,
    Evidence,
    EvidenceRole,
    Exclusion,
    Gap,
    GapGroup,
    GapReport,
    GapStatus,
    Parameter,
    RuleError,
    RuleMetadata,
    Severity,
    Worklist,
    group_gaps,
    visible_gaps,
    worklist,
    worklist_since,
)
from carecoord.rules._monitoring import (
    ANNUAL_WELLNESS_VISIT,
    DEFAULT_MONITORING_SCHEDULES,
    DEPRESSION_PHQ9,
    DIABETES_HBA1C,
    MonitoringSchedule,
    monitoring_overdue,
)
from carecoord.rules._orders import order_duplicate
from carecoord.rules._records import GAP_COLUMNS
from carecoord.rules._referrals import (
    referral_declined_no_alternative,
    referral_loop_open,
    referral_missed_appointment,
    referral_prior_auth_overdue,
    referral_report_missing,
    referral_unacknowledged,
    referral_unscheduled,
)
from carecoord.rules._results import (
    result_abnormal_no_follow_up,
    result_missing,
    result_unacknowledged,
)
from carecoord.rules._ruleset import Overrides, RuleSet, Snooze
from carecoord.rules._social import social_need_unaddressed, social_referral_outcome_missing
from carecoord.rules._summary import SUMMARY_COLUMNS, PopulationSummary, summarize
from carecoord.rules._tasks import task_overdue, task_stalled, task_unassigned
from carecoord.rules._text import (
    GAP_STATUS_ORDER,
    describe_gaps,
    render_gap_groups,
    render_gaps,
    render_work_list,
)
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
    "ANNUAL_WELLNESS_VISIT",
    "ATC_SYSTEM",
    "BEHAVIORAL_HEALTH_PREFIXES",
    "CHRONIC_CONDITIONS",
    "DEFAULT_MONITORING_SCHEDULES",
    "DEPRESSION_PHQ9",
    "DIABETES_HBA1C",
    "GAP_COLUMNS",
    "GAP_STATUS_ORDER",
    "HOLIDAY_SETS",
    "MEDICATION_RECONCILIATION_CODES",
    "MENTAL_ILLNESS_PREFIXES",
    "PSYCHOTROPIC_ATC_PREFIXES",
    "PSYCHOTROPIC_RXNORM",
    "RULE_CODE_SYSTEM",
    "SELF_HARM_PREFIXES",
    "SUMMARY_COLUMNS",
    "WORKLIST_COLUMNS",
    "WORKLIST_MONTHS",
    "BusinessCalendar",
    "Citation",
    "Evidence",
    "EvidenceRole",
    "Exclusion",
    "Gap",
    "GapGroup",
    "GapReport",
    "GapStatus",
    "MonitoringSchedule",
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
    "Worklist",
    "activity_ccm_time",
    "care_plan_goal_without_activity",
    "care_plan_missing",
    "care_plan_review_overdue",
    "care_team_behavioral_health_missing",
    "care_team_inactive_owner",
    "care_team_no_lead",
    "care_team_no_primary_care",
    "check_value_sets",
    "configure_rule",
    "default_rules",
    "define_rule",
    "describe_gaps",
    "detect_gaps",
    "detect_gaps_population",
    "family_rules",
    "group_gaps",
    "known_at",
    "known_timezone",
    "matches_prefix",
    "medication_change_not_shared",
    "medication_discrepancy",
    "monitoring_overdue",
    "natural_date",
    "order_duplicate",
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
    "render_gap_groups",
    "render_gaps",
    "render_work_list",
    "resolve_rules",
    "resolve_timezone",
    "result_abnormal_no_follow_up",
    "result_missing",
    "result_unacknowledged",
    "rule_value_sets",
    "social_need_unaddressed",
    "social_referral_outcome_missing",
    "suggest_tasks",
    "summarize",
    "task_id_for",
    "task_overdue",
    "task_stalled",
    "task_status_at",
    "task_unassigned",
    "transition_admission_notice_missing",
    "transition_discharge_info_missing",
    "transition_ed_chronic_follow_up",
    "transition_ed_mental_health_follow_up",
    "transition_follow_up_visit",
    "transition_med_rec",
    "transition_mental_health_follow_up",
    "transition_tcm_contact",
    "us_federal_holidays",
    "value_set_param",
    "visible_gaps",
    "worklist",
    "worklist_since",
]

_bound_reprs(globals()[name] for name in __all__)
checked_exports(
    globals(),
    skip=("param", "value_set_param"),
    instead={
        name: {"profile": {"ProfileSet": f"for a ProfileSet use {name}_population(profiles, ...)"}}
        for name in ("detect_gaps",)
    },
)
checked_classes(
    globals(),
    (
        "BusinessCalendar",
        "Citation",
        "Evidence",
        "Exclusion",
        "GapGroup",
        "GapReport",
        "MonitoringSchedule",
        "Overrides",
        "Parameter",
        "PopulationSummary",
        "RuleContext",
        "RuleError",
        "RuleMetadata",
        "RuleSet",
        "Snooze",
        "Worklist",
    ),
)
del checked_classes, checked_exports
