"""Clinical documents: discharge and transfer summaries, consult notes, referral notes.

A :class:`Document` is what a FHIR ``DocumentReference`` (or a document's
``Composition``) says about a document: what type it is (LOINC document codes), where it
stands, when it was made, who wrote it and who keeps it, and which encounter, stay or
referral it belongs to. The content itself (the attachment's bytes) is not kept: the
rules need to know that a summary or a report exists, not what it says.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

import attrs

from carecoord.domain._clinical import Sensitivity
from carecoord.domain._values import (
    Code,
    DocumentId,
    PatientId,
    Period,
    Ref,
    choice,
    is_frozenset,
    is_tuple,
    masked,
    non_empty,
    optional_aware,
)

__all__ = ["CompositionStatus", "Document", "DocumentStatus"]


class DocumentStatus(Enum):
    """Whether the document is the current one (FHIR ``DocumentReference.status``)."""

    CURRENT = "current"
    SUPERSEDED = "superseded"
    """A newer version replaces it; it was still sent and received."""
    ENTERED_IN_ERROR = "entered-in-error"


class CompositionStatus(Enum):
    """How final the content is (FHIR ``CompositionStatus``).

    ``Composition.status``, and ``DocumentReference.docStatus``.
    """

    PRELIMINARY = "preliminary"
    FINAL = "final"
    AMENDED = "amended"
    ENTERED_IN_ERROR = "entered-in-error"


@attrs.frozen
class Document:
    """A clinical document about the patient: a discharge summary, a consult note...

    ``types`` are the codings of the document's type (LOINC document codes such as
    18842-5 discharge summary or 11488-4 consult note; the rules test them against value
    sets); ``categories`` its broader classes. ``date`` is when the document was made,
    ``period`` the care it documents. ``context`` names what it belongs to: the
    encounter or stay, the referral it answers. ``description`` (a title or summary line)
    is masked in ``repr``; the content itself is not kept.
    """

    id: DocumentId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    types: tuple[Code, ...] = attrs.field(default=(), validator=is_tuple)
    status: DocumentStatus = attrs.field(
        default=DocumentStatus.CURRENT, validator=choice(DocumentStatus)
    )
    doc_status: CompositionStatus | None = attrs.field(
        default=None, validator=attrs.validators.optional(choice(CompositionStatus))
    )
    categories: tuple[Code, ...] = attrs.field(default=(), validator=is_tuple)
    date: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    period: Period = attrs.Factory(Period)
    custodian: Ref | None = None
    context: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    description: str | None = attrs.field(default=None, repr=masked)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None

    @property
    def entered_in_error(self) -> bool:
        """Entered in error (as a reference, or as content): it says nothing."""
        return (
            self.status is DocumentStatus.ENTERED_IN_ERROR
            or self.doc_status is CompositionStatus.ENTERED_IN_ERROR
        )

    @property
    def is_available(self) -> bool:
        """Not entered in error and not preliminary: a document the recipient can act on."""
        return not self.entered_in_error and self.doc_status is not CompositionStatus.PRELIMINARY

    @property
    def when(self) -> dt.datetime | None:
        """When the document was made: ``date``, else its period's end, else its start."""
        return self.date or self.period.end or self.period.start
