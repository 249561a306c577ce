"""Mapping parties: Patient, Practitioner, PractitionerRole, Organization, RelatedPerson."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from carecoord.domain import (
    Discipline,
    LinkKind,
    Organization,
    OrganizationId,
    OrganizationKind,
    PartialDate,
    Patient,
    PatientId,
    PatientLink,
    Period,
    Practitioner,
    PractitionerId,
    RelatedPerson,
    RelatedPersonId,
    Sex,
    Source,
    SourceKind,
    System,
)
from carecoord.fhir._codes import (
    DISCIPLINE_SYSTEM,
    GENDER,
    ORGANIZATION_KIND_SYSTEM,
    ORGANIZATION_TYPE,
    SNOMED_SPECIALTY,
    CareCodes,
    ExtensionUrl,
    discipline_for_taxonomy,
    organization_kind_from_name,
)
from carecoord.fhir._issues import IssueCode
from carecoord.fhir._map_base import MapContext
from carecoord.fhir._map_carecoord import Parts, first_extension
from carecoord.fhir._map_state import Facts, Key

__all__ = [
    "LINK_TYPES",
    "discipline_of_concepts",
    "map_organization",
    "map_patient",
    "map_practitioner",
    "map_related_person",
    "practitioner_role_update",
    "record_source",
]

LINK_TYPES: dict[str, LinkKind] = {
    "seealso": LinkKind.SAME_PERSON,
    "replaces": LinkKind.SAME_PERSON,
    "replaced-by": LinkKind.SAME_PERSON,
    "refer": LinkKind.SAME_PERSON,
}
"""``Patient.link.type`` -> :class:`LinkKind` (every FHIR link type asserts the same person)."""

_DISCIPLINES = {d.value: d for d in Discipline}
_ORGANIZATION_KINDS = {k.value: k for k in OrganizationKind}
_LINK_KINDS = {k.value: k for k in LinkKind}

_ORG_KIND_DISCIPLINE = {
    OrganizationKind.HOSPITAL: Discipline.HOSPITAL,
    OrganizationKind.PHARMACY: Discipline.PHARMACY,
    OrganizationKind.COMMUNITY: Discipline.COMMUNITY_SERVICE,
    OrganizationKind.SKILLED_NURSING: Discipline.NURSING,
}


def discipline_of_concepts(
    ctx: MapContext, concepts: list[tuple[str, object]]
) -> Discipline | None:
    """The discipline named among ``concepts`` (the first coding that names one).

    A coding of carecoord's ``discipline`` system (:data:`DISCIPLINE_SYSTEM`) is the
    discipline itself; NUCC taxonomy and SNOMED specialty codes name one too, except on
    a carecoord-written resource, which states its discipline only in its own system
    (``None`` without such a coding).
    """
    for path, concept in concepts:
        for system, code, _display in ctx.codings(concept, path):
            if code is None:
                continue
            if system == DISCIPLINE_SYSTEM and code.strip() in _DISCIPLINES:
                return _DISCIPLINES[code.strip()]
            if ctx.origin.literal:
                continue
            if system == System.NUCC or (system is None and len(code) == 10 and code[-1] == "X"):
                found = discipline_for_taxonomy(code)
                if found is not None:
                    return found
            elif system == System.SNOMED and code in SNOMED_SPECIALTY:
                return SNOMED_SPECIALTY[code]
    return None


def record_source(ctx: MapContext, source_id: str, retrieved_at: dt.datetime | None) -> Source:
    """The :class:`Source` of the record of the Patient being read.

    ``retrieved_at`` is the time of the document it came in (a Bundle ``timestamp``). A
    carecoord ``source`` extension on the Patient's ``meta`` gives the name, the kind and
    the retrieval time (absent there: none); without it the kind is ``ehr``.
    """
    meta = ctx.resource.get("meta")
    found = (
        first_extension(meta, ExtensionUrl.SOURCE, ctx.at("meta"))
        if type(meta) is dict and meta.get("extension") is not None
        else None
    )
    if found is None:
        return Source(source_id, retrieved_at=retrieved_at, kind=SourceKind.EHR)
    parts = Parts(ctx, found[1], found[0])
    return Source(
        source_id,
        name=parts.text("name"),
        kind=parts.enum("kind", SourceKind) or SourceKind.EHR,
        retrieved_at=parts.instant("retrievedAt"),
    )


def map_patient(ctx: MapContext, patient_id: str, source_id: str) -> Patient:
    """A ``Patient`` resource as a :class:`Patient` (``patient_id`` is its key's id)."""
    res, path = ctx.resource, ctx.path
    birth = ctx.clinical_at(res, "birthDate", ctx.path)
    if birth is not None and not isinstance(birth, PartialDate):
        birth = PartialDate.from_date(birth.date())
    gender = ctx.status(res, "gender", GENDER, Sex.UNKNOWN)
    deceased = False
    deceased_at = None
    if res.get("deceasedBoolean") is not None:
        deceased = bool(ctx.flag(res, "deceasedBoolean", path))
    if res.get("deceasedDateTime") is not None:
        deceased_at = ctx.clinical_at(res, "deceasedDateTime", ctx.path)
        deceased = deceased or deceased_at is not None
    timezone = None
    found = ctx.extension_value(res, path, CareCodes.TIMEZONE_EXTENSION, "Code")
    if found is not None:
        timezone = found[1] if isinstance(found[1], str) and found[1].strip() else None
        if timezone is None:
            ctx.issue(found[0], IssueCode.WRONG_TYPE, "expected a time-zone code string")
    return Patient(
        id=PatientId(patient_id),
        identifiers=ctx.identifiers(res, path),
        names=ctx.names(res, path),
        birth_date=birth,
        sex=gender,
        telecom=ctx.telecom(res, path),
        addresses=ctx.addresses(res, path),
        deceased=deceased,
        deceased_at=deceased_at,
        links=_links(ctx, patient_id, source_id),
        language=_language(ctx),
        timezone=timezone,
        general_practitioner=ctx.refs(
            res,
            "generalPractitioner",
            path,
            expected=("Practitioner", "Organization", "PractitionerRole"),
        ),
    )


def _links(ctx: MapContext, patient_id: str, source_id: str) -> tuple[PatientLink, ...]:
    """``Patient.link`` items as links (see :data:`LINK_TYPES`).

    A carecoord ``patient-link`` extension gives the kind and the other record's source;
    on a carecoord-written Patient nothing else does (no source from the linked record).
    """
    found: list[PatientLink] = []
    literal = ctx.origin.literal
    for item_path, link in ctx.objs(ctx.resource, "link", ctx.path):
        kind = LINK_TYPES.get(ctx.text(link, "type", item_path) or "")
        stated: Parts | None = None
        if link.get("extension") is not None:
            extension = first_extension(link, ExtensionUrl.LINK, item_path)
            stated = Parts(ctx, extension[1], extension[0]) if extension is not None else None
        if kind is not None and stated is not None:
            kind = stated.enum("kind", LinkKind) or kind
        if kind is None:
            ctx.issue(
                f"{item_path}.type",
                IssueCode.UNKNOWN_CODE,
                "link type is absent or unknown; link dropped",
                warning=True,
            )
            continue
        other = link.get("other")
        target = ctx.resolve(other)
        if target is not None and target.get("resourceType") != "Patient":
            continue  # a link to a RelatedPerson says nothing about patient identity
        key = ctx.index.key_for(target) if target is not None else ctx.key_of_ref(other)
        if key is None or key[0] != "Patient":
            ctx.ref(other, f"{item_path}.other", expected="Patient")
            continue
        other_id = PatientId(ctx.model_id(key))
        if other_id == patient_id:
            continue  # a link to the record itself asserts nothing
        if not other_id.strip():  # the Patient linked to has no usable id: it was rejected
            ctx.issue(
                f"{item_path}.other",
                IssueCode.INVALID_VALUE,
                "link to a Patient without a usable id; link dropped",
                warning=True,
            )
            continue
        if stated is not None or literal:
            other_source = stated.text("source") if stated is not None else None
            found.append(PatientLink(kind, other_id, other_source))
            continue
        other_source = ctx.state.source_of.get(key) if target is not None else None
        found.append(
            PatientLink(
                kind,
                other_id,
                other_source if other_source not in (None, source_id) else None,
            )
        )
    return tuple(dict.fromkeys(found))


def _language(ctx: MapContext) -> str | None:
    languages: list[tuple[bool, str]] = []
    for item_path, item in ctx.objs(ctx.resource, "communication", ctx.path):
        concept = item.get("language")
        code = None
        for _system, value, _display in ctx.codings(concept, f"{item_path}.language"):
            if value:
                code = value
                break
        if code is None and isinstance(concept, dict):
            code = ctx.text(concept, "text", f"{item_path}.language")
        if code is not None:
            languages.append((ctx.flag(item, "preferred", item_path) is True, code))
    preferred = [code for is_preferred, code in languages if is_preferred]
    if preferred:
        return preferred[0]
    return languages[0][1] if languages else None


def map_practitioner(ctx: MapContext, key: Key) -> Practitioner:
    """A ``Practitioner`` as a :class:`Practitioner` (discipline from ``qualification``)."""
    res, path = ctx.resource, ctx.path
    concepts = [(f"{p}.code", q.get("code")) for p, q in ctx.objs(res, "qualification", path)]
    return Practitioner(
        id=PractitionerId(ctx.model_id(key)),
        names=ctx.names(res, path),
        discipline=discipline_of_concepts(ctx, concepts) or Discipline.OTHER,
        identifiers=ctx.identifiers(res, path),
        telecom=ctx.telecom(res, path),
    )


def practitioner_role_update(
    ctx: MapContext, practitioner: Practitioner | None, key: Key
) -> Practitioner:
    """Fold a ``PractitionerRole`` into its practitioner: discipline, specialty, organisation.

    ``practitioner`` is the mapped Practitioner (``None`` when it is not in the input: a
    bare one is made from the role's key). A role never overrides a discipline already
    known, and the first role with an organisation names it.
    """
    res, path = ctx.resource, ctx.path
    current = practitioner or Practitioner(id=PractitionerId(ctx.model_id(key)))
    concepts = ctx.each_concept(res, "specialty", path) + ctx.each_concept(res, "code", path)
    discipline = discipline_of_concepts(ctx, concepts)
    specialty = None
    for item_path, concept in ctx.each_concept(res, "specialty", path):
        specialty = ctx.code(concept, item_path)
        if specialty is not None:
            break
    organization = None
    org_key = ctx.key_of_ref(res.get("organization"))
    if res.get("organization") is not None:
        ctx.ref(res["organization"], ctx.at("organization"), expected="Organization")
    if org_key is not None and org_key[0] == "Organization":
        organization = OrganizationId(ctx.model_id(org_key))
    changes: dict[str, Any] = {}
    if discipline is not None and current.discipline is Discipline.OTHER:
        changes["discipline"] = discipline
    if specialty is not None and current.specialty is None:
        changes["specialty"] = specialty
    if organization is not None and current.organization is None:
        changes["organization"] = organization
    if not current.telecom:
        changes["telecom"] = ctx.telecom(res, path)
    return attrs.evolve(current, **changes) if changes else current


def map_organization(ctx: MapContext, key: Key) -> Organization:
    """An ``Organization``: kind from ``type`` (refined by the name), discipline, parent.

    A coding of carecoord's ``organization-kind`` system is the kind (no guess from the
    name); a carecoord-written organisation's discipline is its ``discipline`` coding
    only (else ``other``, not the kind's).
    """
    res, path = ctx.resource, ctx.path
    name = ctx.text(res, "name", path)
    concepts = ctx.each_concept(res, "type", path)
    kind: OrganizationKind | None = None
    stated: OrganizationKind | None = None
    for item_path, concept in concepts:
        for system, code, _display in ctx.codings(concept, item_path):
            if code is None:
                continue
            if system == ORGANIZATION_KIND_SYSTEM and code.strip() in _ORGANIZATION_KINDS:
                stated = stated or _ORGANIZATION_KINDS[code.strip()]
            elif system in (CareCodes.ORGANIZATION_TYPE, None):
                kind = kind or ORGANIZATION_TYPE.get(code)
    by_name = organization_kind_from_name(name) if name and stated is None else None
    if by_name is not None and kind in (None, OrganizationKind.PRACTICE, OrganizationKind.OTHER):
        kind = by_name
    kind = stated or kind or OrganizationKind.OTHER
    discipline = discipline_of_concepts(ctx, concepts) or (
        ctx.origin.inferred(_ORG_KIND_DISCIPLINE.get(kind)) or Discipline.OTHER
    )
    part_of = None
    parent = ctx.key_of_ref(res.get("partOf"))
    if res.get("partOf") is not None:
        ctx.ref(res["partOf"], ctx.at("partOf"), expected="Organization")
    if parent is not None and parent[0] == "Organization" and parent != key:
        part_of = OrganizationId(ctx.model_id(parent))
    timezone = None
    found = ctx.extension_value(res, path, CareCodes.TIMEZONE_EXTENSION, "Code")
    if found is not None and isinstance(found[1], str) and found[1].strip():
        timezone = found[1]
    return Organization(
        id=OrganizationId(ctx.model_id(key)),
        name=name,
        kind=kind,
        discipline=discipline,
        identifiers=ctx.identifiers(res, path),
        timezone=timezone,
        part_of=part_of,
    )


def map_related_person(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``RelatedPerson`` as the :class:`RelatedPerson` of its patient's record.

    ``relationship`` concepts are the relationships (every coding kept), ``active``
    (absent: ``true``), ``period``, names and telecom; carecoord's
    ``personal-representative`` extension states a representative (whatever the codes).
    """
    res, path = ctx.resource, ctx.path
    relationships = [
        code
        for item_path, concept in ctx.items(res, "relationship", path)
        if (code := ctx.code(concept, item_path)) is not None
    ]
    stated = ctx.extension_value(res, path, ExtensionUrl.REPRESENTATIVE, "Boolean")
    representative = False
    if stated is not None:
        if isinstance(stated[1], bool):
            representative = stated[1]
        else:
            ctx.issue(stated[0], IssueCode.WRONG_TYPE, "expected a boolean")
    active = ctx.flag(res, "active", path)
    person = RelatedPerson(
        id=RelatedPersonId(fact_id),
        patient=patient,
        relationships=tuple(relationships),
        names=ctx.names(res, path),
        telecom=ctx.telecom(res, path),
        period=ctx.period(res, "period", path) or Period(),
        active=active is not False,
        representative=representative,
    )
    return [("related_persons", person)]
