"""Writing documents: a :class:`~carecoord.domain.Document` as a ``DocumentReference``.

The model keeps no content, so the one ``content`` entry FHIR requires holds an
attachment stated absent (data-absent-reason ``unsupported``). Encounters, stays and
episodes the document belongs to go in ``context.encounter``, anything else (a referral,
an order) in ``context.related``.
"""

from __future__ import annotations

from carecoord.domain import Code, Document
from carecoord.fhir._codes import DATA_ABSENT_REASON, CareCodes
from carecoord.fhir._write_base import (
    Json,
    WriteContext,
    coding,
    concept,
    extension,
    instant,
    period,
    text_or_none,
)

__all__ = ["ENCOUNTER_CONTEXT_TYPES", "write_document"]

ENCOUNTER_CONTEXT_TYPES = frozenset({"Encounter", "CareTransition", "Enrollment"})
"""Reference types written in R4 ``DocumentReference.context.encounter`` (an Encounter or
an EpisodeOfCare); references of other types go in ``context.related``."""


def _type(types: tuple[Code, ...]) -> Json:
    """Every type code as one CodeableConcept (a lone text-only code as its ``text``)."""
    if len(types) == 1:
        return concept(types[0])
    return {"coding": [coding(c) for c in types if c.system != CareCodes.TEXT_ONLY]}


def _context(ctx: WriteContext, document: Document) -> Json | None:
    encounters = [r for r in document.context if r.type in ENCOUNTER_CONTEXT_TYPES]
    related = [r for r in document.context if r.type not in ENCOUNTER_CONTEXT_TYPES]
    found: Json = {}
    if encounters:
        found["encounter"] = [ctx.reference(r) for r in encounters]
    written = period(document.period)
    if written is not None:
        found["period"] = written
    if related:
        found["related"] = [ctx.reference(r) for r in related]
    return found or None


def write_document(ctx: WriteContext, document: Document) -> Json:
    """A document as a ``DocumentReference`` (its author in ``author``)."""
    resource: Json = {
        "resourceType": "DocumentReference",
        "id": document.id,
        "meta": ctx.meta(document.recorded_at, document.sensitivity),
        "status": document.status.value,
    }
    if document.doc_status is not None:
        resource["docStatus"] = document.doc_status.value
    if document.types:
        resource["type"] = _type(document.types)
    if document.categories:
        resource["category"] = [concept(c) for c in document.categories]
    resource["subject"] = ctx.patient()
    if document.date is not None:
        resource["date"] = instant(document.date)
    if document.author is not None:
        resource["author"] = [ctx.reference(document.author)]
    if document.custodian is not None:
        resource["custodian"] = ctx.reference(document.custodian)
    description = text_or_none(document.description)
    if description is not None:
        resource["description"] = description
    resource["content"] = [
        {"attachment": {"extension": [extension(DATA_ABSENT_REASON, valueCode="unsupported")]}}
    ]
    context = _context(ctx, document)
    if context is not None:
        resource["context"] = context
    return resource
