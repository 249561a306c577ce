"""Mapping documents: ``DocumentReference`` and ``Composition`` as :class:`Document` facts.

A US Core DocumentReference (a discharge summary, LOINC 18842-5; a consult note,
11488-4...) and the Composition that opens a FHIR document (a Bundle of type
``document``) say the same things about a document: its type, status, date, author,
custodian and what it belongs to. Both R4 and R5 shapes are read (R5 moved
``context.encounter`` to ``context`` and ``context.period`` to ``period``, and added
``basedOn``). The attachment's content is never read.
"""

from __future__ import annotations

import datetime as dt

from carecoord.domain import (
    Code,
    CompositionStatus,
    Document,
    DocumentId,
    DocumentStatus,
    PatientId,
    Period,
    Ref,
)
from carecoord.fhir._map_base import MapContext
from carecoord.fhir._map_state import Facts

__all__ = ["COMPOSITION_STATUS", "DOCUMENT_STATUS", "map_document"]

DOCUMENT_STATUS: dict[str, DocumentStatus] = {s.value: s for s in DocumentStatus}
"""``DocumentReference.status`` codes (the same as the model's)."""

COMPOSITION_STATUS: dict[str, CompositionStatus] = {s.value: s for s in CompositionStatus}
"""``Composition.status`` and ``DocumentReference.docStatus`` codes (the same as the
model's; R5 adds registered, partial, corrected, appended, cancelled, deprecated and
unknown, read below)."""

_R5_COMPOSITION_STATUS: dict[str, CompositionStatus] = {
    "partial": CompositionStatus.PRELIMINARY,
    "registered": CompositionStatus.PRELIMINARY,
    "corrected": CompositionStatus.AMENDED,
    "appended": CompositionStatus.AMENDED,
    "cancelled": CompositionStatus.ENTERED_IN_ERROR,
}
"""R5 ``CompositionStatus`` codes R4 does not have, as the nearest R4 code."""


def map_document(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``DocumentReference`` or a ``Composition`` as a :class:`Document`.

    ``types`` are every coding of ``type`` (a text-only type is a text code);
    ``categories`` the first coding of each ``category``; ``date`` the document's
    ``date`` (for a DocumentReference without one, its first attachment's ``creation``);
    ``period`` the care documented (R4 ``context.period``, R5 ``period``, a
    Composition's first ``event.period``); the author is the first ``author``;
    ``context`` the encounters and related resources it belongs to (R4
    ``context.encounter`` then ``context.related``, R5 ``context`` then ``basedOn``, a
    Composition's ``encounter``). A Composition's ``status`` is the document's
    ``doc_status`` (it is current unless entered in error).
    """
    res, path = ctx.resource, ctx.path
    is_composition = res.get("resourceType") == "Composition"
    if is_composition:
        doc_status = _composition_status(ctx, "status")
        status = (
            DocumentStatus.ENTERED_IN_ERROR
            if doc_status is CompositionStatus.ENTERED_IN_ERROR
            else DocumentStatus.CURRENT
        )
        description = ctx.text(res, "title", path)
    else:
        status = ctx.status(res, "status", DOCUMENT_STATUS, DocumentStatus.CURRENT)
        doc_status = _composition_status(ctx, "docStatus")
        description = ctx.text(res, "description", path)
    if description is None and ctx.origin.infers:
        description = _attachment_text(ctx, "title")
    return [
        (
            "documents",
            Document(
                id=DocumentId(fact_id),
                patient=patient,
                types=_types(ctx),
                status=status,
                doc_status=doc_status,
                categories=_categories(ctx),
                date=_date(ctx),
                period=_period(ctx, is_composition) or Period(),
                custodian=ctx.ref(res.get("custodian"), ctx.at("custodian")),
                context=_context(ctx, is_composition),
                description=description,
                sensitivity=ctx.sensitivity((ctx.at("securityLabel"), res.get("securityLabel"))),
                recorded_at=ctx.recorded_at(),
                author=ctx.first_ref(res, "author", path),
            ),
        )
    ]


def _composition_status(ctx: MapContext, key: str) -> CompositionStatus | None:
    """A ``CompositionStatus`` code (R5's extra codes as their nearest R4 one)."""
    value = ctx.resource.get(key)
    if isinstance(value, str) and value.strip() in _R5_COMPOSITION_STATUS:
        return _R5_COMPOSITION_STATUS[value.strip()]
    found: CompositionStatus | None = ctx.status(ctx.resource, key, COMPOSITION_STATUS, None)
    return found


def _types(ctx: MapContext) -> tuple[Code, ...]:
    concept = ctx.resource.get("type")
    if concept is None:
        return ()
    found = ctx.codes(concept, ctx.at("type"))
    if not found:
        text_only = ctx.code(concept, ctx.at("type"))
        return () if text_only is None else (text_only,)
    return tuple(dict.fromkeys(found))


def _categories(ctx: MapContext) -> tuple[Code, ...]:
    found: list[Code] = []
    for item_path, concept in ctx.items(ctx.resource, "category", ctx.path):
        code = ctx.code(concept, item_path)
        if code is not None and code not in found:
            found.append(code)
    return tuple(found)


def _date(ctx: MapContext) -> dt.datetime | None:
    res = ctx.resource
    found = ctx.instant_at(res, "date", ctx.path)
    if found is None and ctx.origin.infers and res.get("content") is not None:
        for item_path, item in ctx.objs(res, "content", ctx.path):
            attachment = ctx.obj(item, "attachment", item_path)
            if attachment is not None and attachment.get("creation") is not None:
                return ctx.instant_at(attachment, "creation", f"{item_path}.attachment")
    return found


def _attachment_text(ctx: MapContext, key: str) -> str | None:
    """The first attachment's ``key`` (its title), quietly; never its content."""
    content = ctx.resource.get("content")
    for item in content if isinstance(content, list) else []:
        attachment = item.get("attachment") if isinstance(item, dict) else None
        value = attachment.get(key) if isinstance(attachment, dict) else None
        if isinstance(value, str) and value.strip():
            return value
    return None


def _period(ctx: MapContext, is_composition: bool) -> Period | None:
    res, path = ctx.resource, ctx.path
    if is_composition:
        for item_path, event in ctx.objs(res, "event", path):
            found = ctx.period(event, "period", item_path)
            if found is not None:
                return found
        return None
    context = res.get("context")
    if isinstance(context, dict):  # R4: context is an object
        return ctx.period(context, "period", ctx.at("context"))
    return ctx.period(res, "period", path)  # R5


def _context(ctx: MapContext, is_composition: bool) -> tuple[Ref, ...]:
    res, path = ctx.resource, ctx.path
    found: list[Ref] = []
    if is_composition:
        ref = ctx.first_ref(res, "encounter", path)
        return () if ref is None else (ref,)
    context = res.get("context")
    if isinstance(context, dict):  # R4
        here = ctx.at("context")
        found.extend(ctx.refs(context, "encounter", here))
        found.extend(ctx.refs(context, "related", here))
    elif context is not None:  # R5: a list of References
        found.extend(ctx.refs(res, "context", path))
    found.extend(ctx.refs(res, "basedOn", path))
    return tuple(dict.fromkeys(found))
