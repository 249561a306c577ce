"""PID, PD1 and MRG: the patient, their identifiers and merges (person links).

The patient's id is the value of its medical record number (the first PID-3 repetition of
type ``MR``; else the first PID-3, else PID-2, else PID-4): the same patient keeps the
same id across every message from a source, so visits, results and appointments about
them land in one record. Every PID-3 repetition is kept as an identifier, its system
taken from the assigning authority (its OID when it has one).
"""

from __future__ import annotations

from typing import Any

import attrs

from carecoord.domain import (
    HumanName,
    Identifier,
    LinkKind,
    PartialDate,
    Patient,
    PatientId,
    PatientLink,
    Practitioner,
    PractitionerId,
    Ref,
    Sex,
)
from carecoord.errors import IssueCode, ValidationError
from carecoord.hl7v2._context import MessageContext, location
from carecoord.hl7v2._datatypes import address, identifier, name, practitioner_key, telecom
from carecoord.hl7v2._er7 import Field, Segment
from carecoord.terminology import V2_SEX

__all__ = ["merge_patient", "patient_id", "practitioner", "read_patient", "read_prior_ids"]

_ID_PREFERENCE = ("MR", "PI", "PT", "MRN", "")


def patient_id(pid: Segment) -> tuple[str, str] | None:
    """The patient's id and the location it was read from, or None."""
    ids = [(n, rep) for n, rep in enumerate(pid.repetitions(3), start=1) if rep.get().strip()]
    for wanted in _ID_PREFERENCE:
        for n, rep in ids:
            if not wanted or rep.get(1, 5).strip().upper() == wanted:
                return rep.get().strip(), f"PID-3[{n}]"
    for number in (2, 4):
        value = pid.get(number).strip()
        if value:
            return value, f"PID-{number}"
    return None


def _identifiers(ctx: MessageContext, pid: Segment) -> tuple[Identifier, ...]:
    found: list[Identifier] = []
    for number in (3, 2, 4):
        for n, rep in enumerate(pid.repetitions(number), start=1):
            try:
                read = identifier(rep)
            except ValidationError:
                ctx.issue(
                    location(pid, number, n),
                    IssueCode.INVALID_VALUE,
                    "identifier not kept",
                    warning=True,
                )
                continue
            if read is not None and read[0] not in found:
                found.append(read[0])
    ssn = pid.get(19).strip()
    if ssn:
        found.append(Identifier("http://hl7.org/fhir/sid/us-ssn", ssn))
    return tuple(dict.fromkeys(found))


def read_patient(ctx: MessageContext, pid: Segment, pd1: Segment | None) -> Patient | None:
    """The patient a PID describes, or None (reported) when it names no patient id."""
    chosen = patient_id(pid)
    if chosen is None:
        ctx.issue(
            location(pid, 3), IssueCode.MISSING_ELEMENT, "no patient identifier; message skipped"
        )
        return None
    names = tuple(n for rep in pid.repetitions(5) if (n := _safe_name(rep)) is not None)
    birth = ctx.ts(pid, 7)
    birth_date = (
        PartialDate(birth.year, birth.month, birth.day)
        if birth is not None and not isinstance(birth, PartialDate)
        else birth
    )
    sex_code = pid.get(8).strip().upper()
    sex = V2_SEX.get(sex_code, Sex.UNKNOWN)
    if sex_code and sex_code not in V2_SEX:
        ctx.issue(
            location(pid, 8), IssueCode.UNKNOWN_CODE, "sex not recognised; unknown", warning=True
        )
    telecoms = [t for rep in pid.repetitions(13) if (t := telecom(rep, use="home")) is not None]
    telecoms += [t for rep in pid.repetitions(14) if (t := telecom(rep, use="work")) is not None]
    death = ctx.ts(pid, 29)
    deceased = pid.get(30).strip().upper() == "Y" or death is not None
    gp: tuple[Ref, ...] = ()
    if pd1 is not None:
        gp = tuple(
            Ref("Practitioner", key)
            for rep in pd1.repetitions(4)
            if (key := practitioner_key(rep)) is not None
        )
    language = pid.get(15).strip() or None
    try:
        return Patient(
            id=PatientId(chosen[0]),
            identifiers=_identifiers(ctx, pid),
            names=names,
            birth_date=birth_date,
            sex=sex,
            telecom=tuple(dict.fromkeys(telecoms)),
            addresses=tuple(a for rep in pid.repetitions(11) if (a := address(rep)) is not None),
            deceased=deceased,
            deceased_at=death,
            language=language,
            general_practitioner=gp,
        )
    except ValidationError as err:
        ctx.issue(
            location(pid),
            IssueCode.INVALID_VALUE,
            f"patient not kept: {err.problems[0].path or 'value'} invalid",
        )
        return None


def _safe_name(rep: Field) -> HumanName | None:
    try:
        return name(rep)
    except ValidationError:
        return None


def merge_patient(old: Patient, new: Patient) -> Patient:
    """``new`` over ``old``: what the newer message states wins, what it leaves out stays."""
    changes: dict[str, Any] = {}
    for field in attrs.fields(Patient):
        if field.name in ("id", "links"):
            continue
        value = getattr(new, field.name)
        if value in (None, (), Sex.UNKNOWN, False):
            continue
        changes[field.name] = value
    links = tuple(dict.fromkeys((*old.links, *new.links)))
    return attrs.evolve(old, links=links, **changes)


def read_prior_ids(ctx: MessageContext, mrg: Segment, survivor: str) -> list[PatientLink]:
    """The person links an MRG segment asks for.

    Each prior patient id (MRG-1, MRG-4) that is not the surviving patient's is the same
    person.
    """
    links: list[PatientLink] = []
    for number in (1, 4):
        for rep in mrg.repetitions(number):
            value = rep.get().strip()
            if value and value != survivor:
                link = PatientLink(LinkKind.SAME_PERSON, PatientId(value))
                if link not in links:
                    links.append(link)
    if not links and not mrg.get(1).strip() and not mrg.get(4).strip():
        ctx.issue(
            location(mrg, 1),
            IssueCode.MISSING_ELEMENT,
            "merge without a prior patient identifier; no link made",
            warning=True,
        )
    return links


def practitioner(field: Field, repetition: int = 1) -> Practitioner | None:
    """The practitioner an XCN names (its id, and its name), or None without an id."""
    key = practitioner_key(field, repetition)
    if key is None:
        return None
    try:
        person = name(field, repetition, start=2)
    except ValidationError:
        person = None
    return Practitioner(id=PractitionerId(key), names=(person,) if person is not None else ())
