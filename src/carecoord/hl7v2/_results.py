"""OBR and OBX: results, grouped by their order as the FHIR reader groups a report.

An OBR with its OBX segments becomes one report :class:`~carecoord.domain.Result` (the
OBR's service as its code, OBR-25 as its status) whose ``members`` are the OBX results,
exactly as a FHIR DiagnosticReport and its Observations are read. An OBX outside any OBR
(an ADT's height and weight, say) is a result on its own.

Result ids are stable across corrections: the order's filler number (OBR-3, else the
placer number OBR-2) and the OBX's set id, so a corrected result (OBX-11 ``C``) sent later
replaces the first one.
"""

from __future__ import annotations

import datetime as dt
import math

from carecoord.domain import (
    Code,
    Interpretation,
    OrderId,
    PartialDate,
    Quantity,
    Ref,
    Result,
    ResultCategory,
    ResultId,
    ResultStatus,
)
from carecoord.errors import IssueCode, ValidationError
from carecoord.hl7v2._context import MessageContext, location
from carecoord.hl7v2._datatypes import code
from carecoord.hl7v2._er7 import Segment
from carecoord.hl7v2._patients import practitioner
from carecoord.hl7v2._state import RecordState
from carecoord.terminology import INTERPRETATION, V2_ORDER_RESULT_STATUS, V2_RESULT_STATUS

__all__ = ["SERVICE_SECTIONS", "map_observations"]

SERVICE_SECTIONS: dict[str, ResultCategory] = {
    **dict.fromkeys(
        ("LAB", "CH", "HM", "MB", "SR", "BLB", "CP", "SP", "PAT", "TX", "CG", "HLA", "IMM"),
        ResultCategory.LABORATORY,
    ),
    **dict.fromkeys(
        ("RAD", "CT", "NMR", "US", "RX", "NMS", "VUS", "XRC", "CUS", "MR", "IMG"),
        ResultCategory.IMAGING,
    ),
    **dict.fromkeys(("EC", "EN", "ICU", "CTH", "OUS"), ResultCategory.PROCEDURE),
    **dict.fromkeys(("PT", "OT", "RT", "PHY"), ResultCategory.THERAPY),
}
"""OBR-24 diagnostic service section (HL7 table 0074) -> result category."""

_NUMERIC = frozenset({"NM", "SN"})
_CODED = frozenset({"CE", "CWE", "CNE", "CF"})
_TEXT = frozenset({"ST", "TX", "FT", "DT", "TM", "TS", "DTM", "ID", "IS"})
_ATTACHMENTS = frozenset({"ED", "RP"})
"""Encapsulated data and reference pointers: attachments (a document, an image), not
results; an OBX of these types is skipped (a ``not-mapped`` warning)."""


def _value(obx: Segment) -> Quantity | Code | str | None:
    kind = obx.get(2).strip().upper()
    field = obx.field(5)
    if not field:
        return None
    if kind in _NUMERIC:
        raw = field.get().strip() if kind == "NM" else field.get(1, 2).strip()
        comparator = field.get(1, 1).strip() if kind == "SN" else ""
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if math.isfinite(number) and not comparator and (kind == "NM" or not field.get(1, 3)):
            unit = obx.get(6).strip() or None
            return Quantity(number, unit)
        text = "".join(field.components()) if kind == "SN" else field.get()
        return text.strip() or None
    if kind in _CODED:
        try:
            return code(field)
        except ValidationError:
            return None
    if kind in _TEXT or not kind:
        return "\n".join(r[0][0] for r in field.repetitions if r and r[0] and r[0][0]) or None
    return None


def _interpretation(obx: Segment) -> Interpretation:
    found = Interpretation.UNKNOWN
    rank = {
        Interpretation.UNKNOWN: 0,
        Interpretation.NORMAL: 1,
        Interpretation.ABNORMAL: 2,
        Interpretation.CRITICAL: 3,
    }
    for rep in obx.repetitions(8):
        flag = rep.get().strip().upper()
        value = INTERPRETATION.get(flag)
        if value is not None and rank[value] > rank[found]:
            found = value
    return found


def _status(raw: str, table: dict[str, ResultStatus]) -> ResultStatus:
    return (
        table.get(raw.strip().upper(), ResultStatus.UNKNOWN) if raw.strip() else ResultStatus.FINAL
    )


def _issued(
    ctx: MessageContext, seg: Segment, fields: tuple[int, ...]
) -> tuple[dt.datetime | None, dt.datetime | PartialDate | None]:
    effective = None
    for number in fields:
        effective = ctx.ts(seg, number)
        if effective is not None:
            break
    return ctx.as_instant(effective), effective


def _order_key(obr: Segment | None) -> str:
    if obr is None:
        return ""
    return obr.get(3).strip() or obr.get(2).strip()


def map_observations(ctx: MessageContext, rec: RecordState, segments: list[Segment]) -> int:
    """Map the OBR/OBX segments of one patient's part of a message; the results made."""
    made = 0
    obr: Segment | None = None
    members: list[ResultId] = []
    base = ctx.message.control_id or f"message-{ctx.number}"
    for seg in segments:
        if seg.name == "OBR":
            made += _finish_report(ctx, rec, obr, members)
            obr, members = seg, []
        elif seg.name == "OBX" and seg.get(2).strip().upper() in _ATTACHMENTS:
            ctx.issue(
                location(seg, 2),
                IssueCode.NOT_MAPPED,
                "an attachment (encapsulated data or a reference pointer), not a result; skipped",
                warning=True,
            )
        elif seg.name == "OBX":
            key = _order_key(obr) or (f"{base}.OBR{obr.occurrence}" if obr is not None else base)
            set_id = seg.get(1).strip() or str(seg.occurrence)
            result = _observation(ctx, rec, seg, obr, ResultId(f"{key}.{set_id}"))
            if result is not None:
                rec.put("results", result)
                members.append(result.id)
                made += 1
    made += _finish_report(ctx, rec, obr, members)
    return made


def _observation(
    ctx: MessageContext, rec: RecordState, obx: Segment, obr: Segment | None, result_id: ResultId
) -> Result | None:
    try:
        observed = code(obx.field(3))
    except ValidationError:
        observed = None
    if observed is None:
        ctx.issue(
            location(obx, 3), IssueCode.MISSING_ELEMENT, "observation without a code; skipped"
        )
        return None
    issued, effective = _issued(ctx, obx, (14, 19))
    if issued is None and obr is not None:
        issued, effective = _issued(ctx, obr, (7, 22))
    issued = issued or ctx.sent_at
    if issued is None:
        ctx.issue(
            location(obx, 14), IssueCode.MISSING_ELEMENT, "observation without a time; skipped"
        )
        return None
    performer = _performer(rec, obx, 16)
    category = (
        SERVICE_SECTIONS.get(obr.get(24).strip().upper(), ResultCategory.UNKNOWN)
        if obr
        else ResultCategory.UNKNOWN
    )
    try:
        return Result(
            id=result_id,
            patient=rec.patient.id,
            code=observed,
            issued=issued,
            value=_value(obx),
            interpretation=_interpretation(obx),
            status=_status(obx.get(11), V2_RESULT_STATUS),
            category=category,
            effective=effective,
            based_on=_based_on(obr),
            performer=performer,
            recorded_at=ctx.sent_at,
            author=performer,
        )
    except ValidationError as err:
        ctx.issue(location(obx), IssueCode.INVALID_VALUE, f"result not kept: {err.problems[0]}")
        return None


def _performer(rec: RecordState, seg: Segment, number: int) -> Ref | None:
    try:
        person = practitioner(seg.field(number))
    except ValidationError:
        return None
    if person is None:
        return None
    rec.practitioners.setdefault(person.id, person)
    return Ref("Practitioner", person.id)


def _based_on(obr: Segment | None) -> tuple[OrderId, ...]:
    if obr is None:
        return ()
    placer = obr.get(2).strip()
    return (OrderId(placer),) if placer else ()


def _finish_report(
    ctx: MessageContext, rec: RecordState, obr: Segment | None, members: list[ResultId]
) -> int:
    if obr is None:
        return 0
    try:
        service = code(obr.field(4))
    except ValidationError:
        service = None
    if service is None:
        ctx.issue(
            location(obr, 4),
            IssueCode.MISSING_ELEMENT,
            "order without a service code; no report kept",
            warning=True,
        )
        return 0
    issued, effective = _issued(ctx, obr, (22, 7, 8))
    if issued is None:
        issued = ctx.sent_at
    if issued is None:
        return 0
    key = _order_key(obr) or f"{ctx.message.control_id or ctx.number}.OBR{obr.occurrence}"
    performer = _performer(rec, obr, 32) or _performer(rec, obr, 16)
    try:
        report = Result(
            id=ResultId(key),
            patient=rec.patient.id,
            code=service,
            issued=issued,
            status=_status(obr.get(25), V2_ORDER_RESULT_STATUS),
            category=SERVICE_SECTIONS.get(obr.get(24).strip().upper(), ResultCategory.UNKNOWN),
            effective=ctx.ts(obr, 7),
            based_on=_based_on(obr),
            members=tuple(m for m in members if m != key),
            performer=performer,
            recorded_at=ctx.sent_at,
            author=performer,
        )
    except ValidationError as err:
        ctx.issue(location(obr), IssueCode.INVALID_VALUE, f"report not kept: {err.problems[0]}")
        return 0
    del effective
    rec.put("results", report)
    return 1
