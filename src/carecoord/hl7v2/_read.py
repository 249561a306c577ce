"""Reading HL7 v2 messages into :class:`~carecoord.domain.PatientRecord` objects.

:func:`read` takes every message of its input in order, parses it, and applies it to the
record of its (source, patient): ADT events to the patient and their visits, REF to
referrals, SIU to appointments, ORU to results and MDM to documents (see
``docs/hl7v2.md`` for the segment-by-segment table). Records are built at the end, so a
discharge (A03) completes the stay its admission (A01) began, and a cancellation (A11,
A13, I14, S15, T11) undoes what it cancels. Messages are applied in input order: a feed
is read as it was sent.

Lenient mode (the default) keeps everything that maps and reports the rest as
:class:`~carecoord.interop.ImportIssue` entries located by message and field
(``message[3].PV1-45``); strict mode raises :class:`Hl7ImportError` when any is an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from carecoord.domain import PatientRecord, Source, SourceKind
from carecoord.errors import (
    CarecoordError,
    InteropError,
    IssueCode,
    MalformedMessage,
    UsageError,
)
from carecoord.hl7v2._context import MessageContext
from carecoord.hl7v2._er7 import Message, Segment, parse_message
from carecoord.hl7v2._orders import (
    SIU_EVENTS,
    map_appointment,
    map_document,
    map_referral,
    tie_appointments,
)
from carecoord.hl7v2._patients import merge_patient, read_patient, read_prior_ids
from carecoord.hl7v2._results import map_observations
from carecoord.hl7v2._sources import InputSource, MessageSource
from carecoord.hl7v2._state import RecordState
from carecoord.hl7v2._visits import ADT_EVENTS, MERGE_EVENTS, PERSON_EVENTS, apply_visit, visit_id
from carecoord.interop import (
    DEFAULT_LIMITS,
    ImportIssue,
    ImportResult,
    IssueLog,
    Limits,
    ResourceCounts,
)

__all__ = ["SUPPORTED", "Hl7ImportError", "read"]

SUPPORTED: dict[str, frozenset[str]] = {
    "ADT": frozenset(ADT_EVENTS) | PERSON_EVENTS,
    "REF": frozenset({"I12", "I13", "I14"}),
    "SIU": frozenset(SIU_EVENTS),
    "ORU": frozenset({"R01"}),
    "MDM": frozenset(f"T{n:02d}" for n in range(1, 12)),
}
"""The message types and trigger events the reader maps."""

_FALLBACK_SOURCE = "hl7v2"


class Hl7ImportError(InteropError):
    """Strict :func:`read` found errors; ``issues`` lists every issue (errors and warnings).

    The message lists the errors by location and code, never values from the input.
    """

    def __init__(self, issues: Iterable[ImportIssue]) -> None:
        self.issues = tuple(issues)
        errors = [i for i in self.issues if i.is_error]
        lines = "\n".join(f"  - {i}" for i in errors)
        super().__init__(f"HL7 v2 input has {len(errors)} error(s):\n{lines}")

    def __reduce__(self) -> tuple[type[Hl7ImportError], tuple[tuple[ImportIssue, ...]]]:
        return (type(self), (self.issues,))


def read(
    source: InputSource,
    *,
    strict: bool = False,
    source_id: str | None = None,
    default_tz: dt.tzinfo | None = None,
    limits: Limits | None = None,
    name_files: bool = False,
) -> ImportResult:
    """Read HL7 v2 messages into patient records.

    ``source`` is a path (a file, or a folder of ``.hl7``/``.txt``/``.er7`` files), message
    text (a ``str`` starting with ``MSH``, ``FHS`` or ``BHS``: any other ``str`` is a path),
    ``bytes`` (one message, a batch, or MLLP frames), a binary stream, a parsed
    :class:`~carecoord.hl7v2.Message`, or an iterable of these.

    ``source_id`` names the :class:`~carecoord.domain.Source` of every record; without
    it each message's sending facility (MSH-4, else MSH-3) does. ``default_tz`` is the
    time zone of timestamps written without an offset (otherwise each is a
    ``naive-datetime`` error and is not used) and of dates read as instants (otherwise
    UTC). ``limits`` bounds what is read (file and total bytes, files; the defaults when
    None). Issues name files by position (``<file 3>``) unless ``name_files``.

    The result's ``counts`` are keyed by message type and trigger event (``ADT^A01``):
    ``read`` messages, ``mapped`` ones that changed a record, ``skipped`` the others.

    Raises:
        Hl7ImportError: in ``strict`` mode, when any issue is an error.
        InteropError: a path given that does not exist or cannot be read, or a blank
            ``source_id``.
        UsageError: an input or an argument of the wrong type.
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    if not isinstance(limits, Limits):
        raise UsageError(f"limits must be a carecoord.interop.Limits, not {type(limits).__name__}")
    if not isinstance(name_files, bool):
        raise UsageError(f"name_files must be a bool, not {type(name_files).__name__}")
    checked_id: object = source_id
    if checked_id is not None and not isinstance(checked_id, str):
        raise UsageError(f"source_id must be a str, not {type(checked_id).__name__}")
    if checked_id is not None and not checked_id.strip():
        raise InteropError("source_id must be a non-empty string")
    tz: object = default_tz
    if tz is not None and not isinstance(tz, dt.tzinfo):
        raise UsageError(f"default_tz must be a datetime.tzinfo, not {type(tz).__name__}")
    log = IssueLog()
    reader = _Reader(log, source_id, default_tz)
    for label, unit in MessageSource(log, limits, name_files=name_files).units(source):
        reader.message(label, unit)
    result = ImportResult(tuple(reader.records()), tuple(log), reader.counts())
    if strict and any(i.is_error for i in result.issues):
        raise Hl7ImportError(result.issues)
    return result


class _Reader:
    """The state of one read: records by (source, patient), counts by message type."""

    def __init__(self, log: IssueLog, source_id: str | None, tz: dt.tzinfo | None) -> None:
        self.log = log
        self.source_id = source_id
        self.tz = tz
        self.number = 0
        self.states: dict[tuple[str, str], RecordState] = {}
        self.tally: dict[str, list[int]] = {}

    def message(self, label: str, unit: str | bytes | Message) -> None:
        self.number += 1
        try:
            message = unit if isinstance(unit, Message) else parse_message(unit)
        except MalformedMessage as err:
            self.log.add(
                f"message[{self.number}].{err.location}",
                IssueCode.MALFORMED_MESSAGE,
                err.reason,
                source=label,
            )
            self._count("?", mapped=False)
            return
        ctx = MessageContext(message, self.number, label, self.log, self.tz)
        for problem in message.problems:
            ctx.issue(problem.path, IssueCode.CHARACTER_SET, problem.message, warning=True)
        kind = f"{message.message_type or '?'}^{message.trigger_event or '?'}"
        try:
            mapped = self._dispatch(ctx)
        except CarecoordError as err:  # a model rule the mapping did not foresee
            ctx.issue("", IssueCode.INVALID_VALUE, f"message not mapped: {type(err).__name__}")
            mapped = False
        self._count(kind, mapped=mapped)

    def _count(self, kind: str, *, mapped: bool) -> None:
        slot = self.tally.setdefault(kind, [0, 0, 0])
        slot[0] += 1
        slot[1 if mapped else 2] += 1

    def counts(self) -> dict[str, ResourceCounts]:
        return {k: ResourceCounts(*v) for k, v in sorted(self.tally.items())}

    def records(self) -> list[PatientRecord]:
        found = []
        tie_appointments(list(self.states.values()))
        for state in self.states.values():
            try:
                found.append(state.build(self.log))
            except CarecoordError as err:
                self.log.add("", IssueCode.INVALID_VALUE, f"record not built: {type(err).__name__}")
        return found

    # ----------------------------------------------------------------------- dispatch

    def _dispatch(self, ctx: MessageContext) -> bool:
        msg = ctx.message
        kind, event = msg.message_type, msg.trigger_event
        if not event:
            evn = msg.segment("EVN")
            event = evn.get(1).strip().upper() if evn is not None else ""
        if kind not in SUPPORTED or event not in SUPPORTED[kind]:
            ctx.issue(
                "MSH-9",
                IssueCode.UNSUPPORTED_MESSAGE,
                "message type or trigger event not mapped; skipped",
                warning=True,
            )
            return False
        if event == "A29":
            ctx.issue(
                "MSH-9",
                IssueCode.NOT_MAPPED,
                "delete person information is not applied; skipped",
                warning=True,
            )
            return False
        if kind == "ORU":
            return self._results(ctx)
        pid = msg.segment("PID")
        if pid is None and kind == "SIU" and event in ("S23", "S24"):
            ctx.issue(
                "PID",
                IssueCode.NOT_MAPPED,
                "a schedule slot blocked or opened, about no patient; skipped",
                warning=True,
            )
            return False
        if pid is None:
            ctx.issue("PID", IssueCode.MISSING_ELEMENT, "no PID segment; message skipped")
            return False
        rec = self._record(ctx, pid, msg.segment("PD1"))
        if rec is None:
            return False
        pv1 = msg.segment("PV1")
        if kind == "ADT":
            if event in MERGE_EVENTS:
                self._merges(ctx)
            if event in ADT_EVENTS and pv1 is not None:
                apply_visit(ctx, rec, pv1, ADT_EVENTS[event])
            elif event in ADT_EVENTS:
                ctx.issue(
                    "PV1", IssueCode.MISSING_ELEMENT, "no PV1 segment; no visit", warning=True
                )
            if event not in MERGE_EVENTS:
                map_observations(ctx, rec, list(msg.segments("OBX")))
            return True
        if pv1 is not None and _names_visit(pv1):
            apply_visit(ctx, rec, pv1, "update" if kind in ("REF", "SIU") else "existing")
        if kind == "REF":
            mapped = map_referral(ctx, rec)
            map_observations(ctx, rec, [s for s in msg.segments() if s.name in ("OBR", "OBX")])
            return mapped
        if kind == "SIU":
            map_observations(ctx, rec, list(msg.segments("OBX")))
            return map_appointment(ctx, rec)
        visit = visit_id(ctx, pv1, rec.patient.id) if pv1 is not None else None
        return map_document(ctx, rec, visit)

    def _source(self, msg: Message) -> Source:
        key = self.source_id or msg.sending_facility or msg.sending_application
        return Source(id=key or _FALLBACK_SOURCE, kind=SourceKind.EHR)

    def _record(self, ctx: MessageContext, pid: Segment, pd1: Segment | None) -> RecordState | None:
        patient = read_patient(ctx, pid, pd1)
        if patient is None:
            return None
        source = self._source(ctx.message)
        key = (source.id, patient.id)
        state = self.states.get(key)
        if state is None:
            state = RecordState(source, patient)
            self.states[key] = state
        else:
            state.patient = merge_patient(state.patient, patient)
        return state

    def _merges(self, ctx: MessageContext) -> None:
        """Each PID (with its PD1) and the MRG after it: the survivor links the prior ids."""
        current: RecordState | None = None
        pd1: Segment | None = None
        segments = ctx.message.segments()
        for index, seg in enumerate(segments):
            if seg.name == "PID":
                following = segments[index + 1] if index + 1 < len(segments) else None
                pd1 = following if following is not None and following.name == "PD1" else None
                current = self._record(ctx, seg, pd1) if seg.occurrence > 1 else self._first(ctx)
            elif seg.name == "MRG" and current is not None:
                for link in read_prior_ids(ctx, seg, current.patient.id):
                    current.add_link(link)

    def _first(self, ctx: MessageContext) -> RecordState | None:
        pid = ctx.message.segment("PID")
        if pid is None:
            return None
        quiet = MessageContext(ctx.message, ctx.number, ctx.label, IssueLog(), ctx.default_tz)
        patient = read_patient(quiet, pid, None)
        if patient is None:
            return None
        return self.states.get((self._source(ctx.message).id, patient.id))

    def _results(self, ctx: MessageContext) -> bool:
        """An ORU: each PID and the OBR/OBX segments after it, patient by patient."""
        made = 0
        rec: RecordState | None = None
        group: list[Segment] = []
        segments = ctx.message.segments()
        seen_patient = False
        for index, seg in enumerate(segments):
            if seg.name == "PID":
                if rec is not None:
                    made += map_observations(ctx, rec, group)
                following = segments[index + 1] if index + 1 < len(segments) else None
                pd1 = following if following is not None and following.name == "PD1" else None
                rec, group, seen_patient = self._record(ctx, seg, pd1), [], True
            elif seg.name == "PV1" and rec is not None:
                apply_visit(ctx, rec, seg, "existing")
            elif seg.name in ("OBR", "OBX"):
                group.append(seg)
        if rec is not None:
            made += map_observations(ctx, rec, group)
        if not seen_patient:
            ctx.issue("PID", IssueCode.MISSING_ELEMENT, "no PID segment; message skipped")
        return made > 0


def _names_visit(pv1: Segment) -> bool:
    """Whether a PV1 outside an ADT names a visit (a visit number or an admit time)."""
    return bool(pv1.get(19).strip() or pv1.get(44).strip())
