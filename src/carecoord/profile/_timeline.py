"""One ordered stream of every dated event in a profile.

Events are ordered by time: instants by their UTC value, partial dates (``2019``,
``2019-06``) at the first moment of their earliest day in UTC, before any instant of that
moment. Ties are broken by event kind (in :class:`EventKind` order), then fact list, fact
key and description, so the order never depends on the input. Descriptions carry display
names and statuses only: no names, addresses, identifiers or free text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, Self

import attrs

from carecoord.display import HtmlDisplay, JsonValue, frame, section, table, to_pandas, to_polars
from carecoord.domain import (
    FACT_FIELDS,
    Code,
    KindTable,
    PartialDate,
    StatusChange,
    clinical_time,
)
from carecoord.errors import Problem, UsageError, ValidationError
from carecoord.profile._facts import Fact
from carecoord.profile._views import Viewer, view_for
from carecoord.terminology import ValueSets

if TYPE_CHECKING:
    from carecoord.profile._model import PatientProfile

__all__ = [
    "TIMELINE_COLUMNS",
    "EventKind",
    "Timeline",
    "TimelineEvent",
    "timeline",
    "timeline_events_html",
    "timeline_html",
]


class EventKind(Enum):
    """What happened, in the order used to break ties at the same moment."""

    ADMISSION = "admission"
    DISCHARGE = "discharge"
    VISIT = "visit"
    DIAGNOSIS = "diagnosis"
    CONDITION_RESOLVED = "condition-resolved"
    ALLERGY = "allergy"
    MEDICATION_START = "medication-start"
    MEDICATION_STOP = "medication-stop"
    ORDER = "order"
    RESULT = "result"
    PROCEDURE = "procedure"
    APPOINTMENT = "appointment"
    REFERRAL = "referral"
    REFERRAL_STATUS = "referral-status"
    TASK = "task"
    TASK_STATUS = "task-status"
    COMMUNICATION = "communication"
    DOCUMENT = "document"
    CARE_PLAN_CREATED = "care-plan-created"
    CARE_PLAN_REVIEWED = "care-plan-reviewed"
    GOAL = "goal"
    CARE_TEAM = "care-team"
    SOCIAL_NEED = "social-need"
    CONSENT = "consent"
    RECONCILIATION = "reconciliation"
    ENROLLMENT = "enrollment"
    ACTIVITY = "activity"


_ORDER = {kind: index for index, kind in enumerate(EventKind)}


@attrs.frozen
class TimelineEvent:
    """One dated event: what, when, a short description, and which fact and sources."""

    kind: EventKind
    when: dt.datetime | PartialDate = attrs.field(validator=clinical_time)
    description: str
    field: str
    fact: str
    sources: tuple[str, ...]

    def sort_key(self) -> tuple[Any, ...]:
        """The total order of the timeline (see the module documentation)."""
        if isinstance(self.when, PartialDate):
            day = self.when.earliest()
            moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            precision = (0, len(self.when.isoformat()))
        else:
            moment = self.when.astimezone(dt.UTC)
            precision = (1, 0)
        return (moment, precision, _ORDER[self.kind], self.field, self.fact, self.description)


TIMELINE_COLUMNS: tuple[str, ...] = ("when", "kind", "description", "field", "fact", "sources")
"""The keys of a timeline record (:meth:`Timeline.to_records`), in order.

``when``: an ISO date-time, or a partial date (``"2019"``, ``"2019-06"``, ``"2019-06-12"``);
``kind``: the :class:`EventKind` value (``"admission"``); ``description``: display names
and statuses only; ``field``: the profile's fact list (``"encounters"``); ``fact``: the
fact key; ``sources``: the ids of the sources that hold the fact (a list).
"""


class Timeline(tuple[TimelineEvent, ...]):
    """A profile's events in time order: a tuple of :class:`TimelineEvent` with exports.

    It compares equal to a plain tuple of the same events. :meth:`to_records` gives
    JSON-safe rows, :meth:`to_pandas` a data frame; its repr summarises it.
    """

    __slots__ = ()

    def __new__(cls, events: Iterable[TimelineEvent] = ()) -> Self:
        """A timeline of ``events`` (in the order given: :func:`timeline` sorts them)."""
        given_events: object = events
        if isinstance(given_events, str | bytes) or not isinstance(given_events, Iterable):
            given = type(given_events).__name__
            raise UsageError(
                f"Timeline() events: expected an iterable of TimelineEvent, got {given}"
            )
        return super().__new__(cls, events)

    def __repr__(self) -> str:
        if not self:
            return "Timeline(0 events)"
        first, last = self[0].when.isoformat(), self[-1].when.isoformat()
        return f"Timeline({len(self)} events, {first} .. {last})"

    def to_records(self) -> list[dict[str, JsonValue]]:
        """Every event as a JSON-safe dict with the :data:`TIMELINE_COLUMNS` keys."""
        return [
            {
                "when": e.when.isoformat(),
                "kind": e.kind.value,
                "description": e.description,
                "field": e.field,
                "fact": e.fact,
                "sources": list(e.sources),
            }
            for e in self
        ]

    def display(self, *, limit: int = 200) -> HtmlDisplay:
        """An HTML table of the latest ``limit`` events for notebooks (no personal data)."""
        return timeline_html(self, limit=limit)

    def _repr_html_(self) -> str:
        return timeline_html(self).html

    def to_pandas(self) -> Any:
        """The events as a pandas ``DataFrame`` with the :data:`TIMELINE_COLUMNS`.

        ``when`` stays text (partial dates have no single instant); needs the
        ``carecoord[pandas]`` extra (:class:`~carecoord.MissingExtraError` otherwise).
        """
        return to_pandas(self.to_records(), TIMELINE_COLUMNS)

    def to_polars(self) -> Any:
        """The events as a polars ``DataFrame`` (needs the ``carecoord[polars]`` extra)."""
        return to_polars(self.to_records(), TIMELINE_COLUMNS)


def timeline_events_html(events: Sequence[TimelineEvent], limit: int) -> str:
    """A table of the latest ``limit`` events, latest first, with a note counting the rest."""
    latest = list(reversed(events))[:limit]
    rows = [
        (e.when.isoformat()[:16].replace("T", " "), e.kind.value, e.description, e.field)
        for e in latest
    ]
    return table(("when", "kind", "what", "list"), rows, total=len(events), nowrap=(0, 1))


def timeline_html(events: Sequence[TimelineEvent], *, limit: int = 200) -> HtmlDisplay:
    """A timeline, latest events first (at most ``limit`` rows; a note counts the others)."""
    title = f"Timeline: {len(events)} events"
    if events:
        title += f", {events[0].when.isoformat()[:10]} to {events[-1].when.isoformat()[:10]}"
    body = section("Events (latest first)", timeline_events_html(events, limit), key="timeline")
    return HtmlDisplay(frame(title, body, kind="timeline"), "timeline")


def _display(code: Code | None, fallback: str) -> str:
    return code.display if code is not None and code.display else fallback


def _words(value: str) -> str:
    return value.replace("-", " ")


def _changes(history: tuple[StatusChange, ...]) -> Iterator[tuple[dt.datetime, str]]:
    for change in history:
        before = f"{_words(change.from_status)} -> " if change.from_status else ""
        yield change.at, f"{before}{_words(change.to_status)}"


_Raw = tuple[EventKind, dt.datetime | PartialDate | None, str]


def _care_teams(v: Any) -> list[_Raw]:
    events: list[_Raw] = [(EventKind.CARE_TEAM, v.period.start, "Care team formed")]
    events += [(EventKind.CARE_TEAM, at, f"Care team {text}") for at, text in _changes(v.history)]
    for m in v.members:
        events.append((EventKind.CARE_TEAM, m.period.start, "Care team member joined"))
        events.append((EventKind.CARE_TEAM, m.period.end, "Care team member left"))
    return events


def _referrals(v: Any) -> list[_Raw]:
    what = _display(v.specialty, "")
    label = f"Referral ({what})" if what else "Referral"
    events: list[_Raw] = [(EventKind.REFERRAL, v.authored_on, f"{label} written")]
    events += [
        (EventKind.REFERRAL_STATUS, at, f"{label}: {text}") for at, text in _changes(v.history)
    ]
    return events


def _transitions(v: Any) -> list[_Raw]:
    kind = _words(v.kind.value).capitalize()
    events: list[_Raw] = [(EventKind.ADMISSION, v.admitted_at, f"{kind} admission")]
    to = _words(v.to_setting.value)
    events.append((EventKind.DISCHARGE, v.discharged_at, f"{kind} discharge to {to}"))
    return events


def _tasks(v: Any) -> list[_Raw]:
    label = f"Task ({v.code.display})" if v.code is not None and v.code.display else "Task"
    events: list[_Raw] = [(EventKind.TASK, v.authored_on, f"{label} created")]
    events += [(EventKind.TASK_STATUS, at, f"{label}: {text}") for at, text in _changes(v.history)]
    return events


def _encounters(v: Any) -> list[_Raw]:
    kind = _words(v.klass.value)
    status = "" if v.status.value == "finished" else f" ({_words(v.status.value)})"
    return [(EventKind.VISIT, v.start, f"Visit: {kind}{status}")]


def _conditions(v: Any) -> list[_Raw]:
    name = _display(v.code, "condition")
    onset = v.onset if v.onset is not None else v.recorded_at
    return [
        (EventKind.DIAGNOSIS, onset, f"Diagnosis: {name}"),
        (EventKind.CONDITION_RESOLVED, v.abatement, f"Resolved: {name}"),
    ]


def _medications(v: Any) -> list[_Raw]:
    name = _display(v.code, "medication")
    start = v.period.start if v.period.start is not None else v.authored_on
    return [
        (EventKind.MEDICATION_START, start, f"Medication started: {name}"),
        (EventKind.MEDICATION_STOP, v.period.end, f"Medication stopped: {name}"),
    ]


def _allergies(v: Any) -> list[_Raw]:
    text = "No known allergies" if v.no_known else f"Allergy: {_display(v.code, 'allergy')}"
    return [(EventKind.ALLERGY, v.onset if v.onset is not None else v.recorded_at, text)]


def _orders(v: Any) -> list[_Raw]:
    return [(EventKind.ORDER, v.authored_on, f"Ordered: {_display(v.code, 'test')}")]


def _results(v: Any) -> list[_Raw]:
    return [(EventKind.RESULT, v.issued, f"Result issued: {_display(v.code, 'test')}")]


def _appointments(v: Any) -> list[_Raw]:
    what = _display(v.service_type, "")
    label = f"Appointment ({what})" if what else "Appointment"
    return [(EventKind.APPOINTMENT, v.start, f"{label}: {_words(v.status.value)}")]


def _care_plans(v: Any) -> list[_Raw]:
    events: list[_Raw] = [(EventKind.CARE_PLAN_CREATED, v.created, "Care plan created")]
    if v.last_reviewed is not None and v.last_reviewed != v.created:
        events.append((EventKind.CARE_PLAN_REVIEWED, v.last_reviewed, "Care plan reviewed"))
    return events


def _goals(v: Any) -> list[_Raw]:
    return [
        (EventKind.GOAL, v.start if v.start is not None else v.recorded_at, "Goal set"),
        (EventKind.GOAL, v.target_date, "Goal target date"),
    ]


def _social_needs(v: Any) -> list[_Raw]:
    text = f"Social need identified: {_words(v.domain.value)}"
    return [(EventKind.SOCIAL_NEED, v.identified_at, text)]


def _communications(v: Any) -> list[_Raw]:
    done = "" if v.status == "completed" else f" ({_words(v.status)})"
    return [(EventKind.COMMUNICATION, v.sent, f"Communication: {_words(v.kind.value)}{done}")]


def _documents(v: Any) -> list[_Raw]:
    if v.entered_in_error:  # its content may be, though the reference is current
        return []
    name = next((c.display for c in v.types if c.display), "document")
    status = v.doc_status if v.doc_status is not None else v.status
    shown = "" if status.value in ("current", "final") else f" ({_words(status.value)})"
    when = v.when if v.when is not None else v.recorded_at
    return [(EventKind.DOCUMENT, when, f"Document: {name}{shown}")]


def _consents(v: Any) -> list[_Raw]:
    classes = ", ".join(sorted(c.value for c in v.classes)) or "all classes"
    when = v.period.start if v.period.start is not None else v.recorded_at
    return [(EventKind.CONSENT, when, f"Consent: {v.decision.value} ({classes})")]


def _reconciliations(v: Any) -> list[_Raw]:
    return [(EventKind.RECONCILIATION, v.at, f"{v.list.value.capitalize()} list reconciled")]


def _procedures(v: Any) -> list[_Raw]:
    return [(EventKind.PROCEDURE, v.performed, f"Procedure: {_display(v.code, 'procedure')}")]


def _enrollments(v: Any) -> list[_Raw]:
    return [
        (EventKind.ENROLLMENT, v.period.start, f"Enrolled: {v.program}"),
        (EventKind.ENROLLMENT, v.period.end, f"Enrolment ended: {v.program}"),
    ]


def _activities(v: Any) -> list[_Raw]:
    return [(EventKind.ACTIVITY, v.at, f"Coordination: {v.kind.plain} ({v.minutes} min)")]


_EXTRACTORS: KindTable[Callable[[Any], list[_Raw]]] = KindTable(
    "timeline",
    {
        "care_teams": _care_teams,
        "referrals": _referrals,
        "transitions": _transitions,
        "tasks": _tasks,
        "encounters": _encounters,
        "conditions": _conditions,
        "medications": _medications,
        "allergies": _allergies,
        "orders": _orders,
        "results": _results,
        "appointments": _appointments,
        "care_plans": _care_plans,
        "goals": _goals,
        "social_needs": _social_needs,
        "communications": _communications,
        "documents": _documents,
        "consents": _consents,
        "reconciliations": _reconciliations,
        "procedures": _procedures,
        "enrollments": _enrollments,
        "activities": _activities,
    },
)
"""For each fact kind, the events one fact puts on the timeline."""

_SKIPPED_STATUSES = frozenset({"entered-in-error"})


def _status(value: Any) -> str:
    status = getattr(value, "status", None)
    return status.value if isinstance(status, Enum) else str(status)


def timeline(
    profile: PatientProfile,
    *,
    viewer: Viewer | None = None,
    at: dt.datetime | None = None,
    value_sets: ValueSets | None = None,
) -> Timeline:
    """Every dated event of ``profile``, ordered by time (see the module documentation).

    With a ``viewer``, only the facts they may see at ``at`` (required then) contribute
    (:func:`~carecoord.profile.view_for`, with the value sets of ``value_sets``, the
    shipped defaults when ``None``). Facts entered in error are left out; each folded fact
    contributes its events once, from its representative version.
    """
    if viewer is not None:
        if at is None:
            raise ValidationError(Problem("at", "a viewer's timeline needs the instant 'at'"))
        profile = view_for(profile, viewer, at=at, value_sets=value_sets)
    events: list[TimelineEvent] = []
    for name in FACT_FIELDS:
        fact: Fact[Any]
        for fact in getattr(profile, name):
            if _status(fact.value) in _SKIPPED_STATUSES:
                continue
            for kind, when, description in _EXTRACTORS[name](fact.value):
                if when is None:
                    continue
                events.append(TimelineEvent(kind, when, description, name, fact.key, fact.sources))
    events.sort(key=TimelineEvent.sort_key)
    return Timeline(events)
