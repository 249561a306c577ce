r"""The unified patient profile: one person, built from many providers' records.

:func:`build_profiles` links records that describe the same person (identity matching:
shared identifiers, explicit links, then Fellegi-Sunter weighted evidence with blocking)
and merges each person's records into a :class:`PatientProfile` in which every fact keeps
its sources and disagreements are reported as :class:`FactConflict`\ s. Views filter a
profile for a viewer under the patient's consents; :func:`timeline` orders every dated event;
:func:`reconciliation_view` shows a list side by side across sources.
:func:`profile_to_record` gives a profile as JSON-safe data and :func:`render_profile` as
text for people.

Imports only the domain layer.
"""

from __future__ import annotations

from carecoord.display import bound_reprs as _bound_reprs
from carecoord.errors import checked_classes, checked_exports
from carecoord.profile._build import (
    PERSONAL_COLUMNS,
    PROFILE_COLUMNS,
    ProfileSet,
    build_profiles,
    profile_row,
)
from carecoord.profile._html import EvidenceLike, GapLike
from carecoord.profile._matching import (
    BLOCKING_KEYS,
    DEFAULT_PROBABILITIES,
    DEFAULT_VETOES,
    MAX_COMPARED_VALUES,
    PARALLEL_MIN_RECORDS,
    TERM_FREQUENCY_FIELDS,
    FieldEvidence,
    IncrementalLinker,
    Linkage,
    MatchConfig,
    MatchGrade,
    MatchResult,
    PossibleMatch,
    ScoredPair,
    TermFrequencies,
    block_pairs,
    blocking_keys,
    compare,
    link_keys,
    link_records,
    refined_blocking_keys,
)
from carecoord.profile._merge import (
    dedupe_records,
    fact_author,
    merge_records,
    profile_id_for,
)
from carecoord.profile._model import (
    ConflictKind,
    Fact,
    FactConflict,
    PatientProfile,
    Provenance,
    profile_from_record,
)
from carecoord.profile._reconcile import (
    RECONCILIATION_ACTIONS,
    ReconciliationEntry,
    ReconciliationRow,
    ReconciliationView,
    SourceColumn,
    reconciliation_item,
    reconciliation_view,
    record_reconciliation,
    with_reconciliation,
)
from carecoord.profile._records import (
    JsonValue,
    RecordLink,
    possible_match_to_record,
    profile_to_record,
    record_links,
)
from carecoord.profile._sensitivity import Sensitivities, with_sensitivity_sets
from carecoord.profile._strings import (
    COMPARED_LENGTH,
    NICKNAMES,
    are_nicknames,
    damerau_levenshtein,
    jaro_winkler,
)
from carecoord.profile._text import (
    day_text,
    describe_match,
    describe_patient,
    find_profiles,
    printable,
    profile_label,
    render_profile,
    render_reconciliation,
    render_timeline,
    source_labels,
    table_lines,
)
from carecoord.profile._timeline import (
    TIMELINE_COLUMNS,
    EventKind,
    Timeline,
    TimelineEvent,
    timeline,
)
from carecoord.profile._views import (
    ActivitySummary,
    PatientSummary,
    Viewer,
    ViewerRole,
    Visibility,
    can_see,
    infer_sensitivity,
    patient_summary,
    sensitivity_of,
    view_for,
    visibility,
)

__all__ = [
    "BLOCKING_KEYS",
    "COMPARED_LENGTH",
    "DEFAULT_PROBABILITIES",
    "DEFAULT_VETOES",
    "MAX_COMPARED_VALUES",
    "NICKNAMES",
    "PARALLEL_MIN_RECORDS",
    "PERSONAL_COLUMNS",
    "PROFILE_COLUMNS",
    "RECONCILIATION_ACTIONS",
    "TERM_FREQUENCY_FIELDS",
    "TIMELINE_COLUMNS",
    "ActivitySummary",
    "ConflictKind",
    "EventKind",
    "EvidenceLike",
    "Fact",
    "FactConflict",
    "FieldEvidence",
    "GapLike",
    "IncrementalLinker",
    "JsonValue",
    "Linkage",
    "MatchConfig",
    "MatchGrade",
    "MatchResult",
    "PatientProfile",
    "PatientSummary",
    "PossibleMatch",
    "ProfileSet",
    "Provenance",
    "ReconciliationEntry",
    "ReconciliationRow",
    "ReconciliationView",
    "RecordLink",
    "ScoredPair",
    "Sensitivities",
    "SourceColumn",
    "TermFrequencies",
    "Timeline",
    "TimelineEvent",
    "Viewer",
    "ViewerRole",
    "Visibility",
    "are_nicknames",
    "block_pairs",
    "blocking_keys",
    "build_profiles",
    "can_see",
    "compare",
    "damerau_levenshtein",
    "day_text",
    "dedupe_records",
    "describe_match",
    "describe_patient",
    "fact_author",
    "find_profiles",
    "infer_sensitivity",
    "jaro_winkler",
    "link_keys",
    "link_records",
    "merge_records",
    "patient_summary",
    "possible_match_to_record",
    "printable",
    "profile_from_record",
    "profile_id_for",
    "profile_label",
    "profile_row",
    "profile_to_record",
    "reconciliation_item",
    "reconciliation_view",
    "record_links",
    "record_reconciliation",
    "refined_blocking_keys",
    "render_profile",
    "render_reconciliation",
    "render_timeline",
    "sensitivity_of",
    "source_labels",
    "table_lines",
    "timeline",
    "view_for",
    "visibility",
    "with_reconciliation",
    "with_sensitivity_sets",
]

_bound_reprs(globals()[name] for name in __all__)
checked_exports(globals(), skip=("fact_author",))
checked_classes(
    globals(),
    (
        "ActivitySummary",
        "IncrementalLinker",
        "Linkage",
        "MatchConfig",
        "PatientProfile",
        "PatientSummary",
        "PossibleMatch",
        "ProfileSet",
        "ReconciliationEntry",
        "ReconciliationRow",
        "ReconciliationView",
        "RecordLink",
        "Sensitivities",
        "SourceColumn",
        "Timeline",
        "Viewer",
        "Visibility",
    ),
)
del checked_classes, checked_exports
