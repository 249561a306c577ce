"""Profiles as plain records: JSON-safe dicts of str, int, float, bool, None and lists.

:func:`profile_to_record` turns a :class:`PatientProfile` into the object the
``carecoord profile --format json`` command prints; :func:`possible_match_to_record` does
the same for a pair of records to review. :func:`record_links` says how each record of a
profile joined it. Every value is JSON-safe (enums become their values, dates and instants
ISO strings), so ``json.dumps`` takes the result as it is.
"""

from __future__ import annotations

import datetime as dt

import attrs

from carecoord.display import JsonValue
from carecoord.domain import ListKind, PartialDate, PatientRecord, Ref
from carecoord.profile._matching import MatchConfig, MatchResult, PossibleMatch, compare
from carecoord.profile._model import PatientProfile
from carecoord.profile._reconcile import reconciliation_view
from carecoord.profile._timeline import timeline

__all__ = [
    "JsonValue",
    "RecordLink",
    "possible_match_to_record",
    "profile_to_record",
    "record_links",
]


LISTS = (ListKind.PROBLEMS, ListKind.MEDICATIONS, ListKind.ALLERGIES)
"""The lists shown side by side in a profile record (and its text), in order."""

RECENT_RESULTS = 5
"""How many of the latest results a profile record (and its text) shows."""


@attrs.frozen
class RecordLink:
    """One record of a profile and how it joined the person.

    ``linked_to`` is the key ``(source id, patient id)`` of the record it matches best
    among the records before it (in key order), and ``result`` that comparison; both are
    ``None`` for the first record.
    """

    record: PatientRecord
    linked_to: tuple[str, str] | None = None
    result: MatchResult | None = None


def record_links(
    profile: PatientProfile, match: MatchConfig | None = None
) -> tuple[RecordLink, ...]:
    """Each record of ``profile``, in key order, with its best match among those before it.

    ``match`` is the identity-matching configuration the profiles were built with
    (:attr:`ProfileSet.match <carecoord.profile.ProfileSet.match>`; default ``MatchConfig()``).
    """
    records = sorted(profile.records, key=lambda r: r.key)
    links: list[RecordLink] = []
    for index, record in enumerate(records):
        best: RecordLink = RecordLink(record)
        for other in records[:index]:
            result = compare(other, record, match)
            if best.result is None or result.score > best.result.score:
                best = RecordLink(record, other.key, result)
        links.append(best)
    return tuple(links)


def iso(value: dt.date | dt.datetime | PartialDate | None) -> str | None:
    """``value`` in ISO 8601 (``None`` stays ``None``)."""
    return None if value is None else value.isoformat()


def party_name(profile: PatientProfile, ref: Ref) -> str:
    """A practitioner's first name or an organisation's name, else the reference."""
    practitioner = profile.practitioner(ref) if ref.type == "Practitioner" else None
    if practitioner is not None and practitioner.names:
        return practitioner.names[0].full()
    organization = profile.organization(ref) if ref.type == "Organization" else None
    if organization is not None and organization.name:
        return organization.name
    return str(ref)


def profile_to_record(
    profile: PatientProfile, *, match: MatchConfig | None = None, with_timeline: bool = False
) -> dict[str, JsonValue]:
    """``profile`` as a JSON-safe dict: who, which records, the lists side by side, conflicts.

    Keys: ``id``; ``patient`` (``names``, ``sex``, ``birth_date``, ``deceased``,
    ``deceased_at``, ``identifiers`` as ``{system, value}``, ``timezone``); ``records``
    (``source``, ``patient``, and ``linked_to``, ``grade``, ``score`` from
    :func:`record_links`); ``problems``, ``medications`` and ``allergies`` (the rows of
    :func:`~carecoord.profile.reconciliation_view`: ``item``, ``fact``, ``current``,
    ``sources`` by source id with ``text``, ``status``, ``fact``, and ``discrepancies``);
    ``care_team``; ``open_referrals``; ``recent_results`` (the five latest, a panel's
    parts in ``components``);
    ``conflicts``; and with ``with_timeline`` the ``timeline`` events. ``match`` is as in
    :func:`record_links`. The record holds the profile's personal data: it is for the
    profile's own users, never for logs.
    """
    patient = profile.patient
    record: dict[str, JsonValue] = {
        "id": profile.id,
        "patient": {
            "names": [n.full() for n in patient.names],
            "sex": patient.sex.value,
            "birth_date": iso(patient.birth_date),
            "deceased": patient.deceased,
            "deceased_at": iso(patient.deceased_at),
            "identifiers": [{"system": i.system, "value": i.value} for i in patient.identifiers],
            "timezone": patient.timezone,
        },
        "records": [
            {
                "source": link.record.source.id,
                "patient": link.record.patient.id,
                "linked_to": None
                if link.linked_to is None
                else {"source": link.linked_to[0], "patient": link.linked_to[1]},
                "grade": None if link.result is None else link.result.grade.value,
                "score": None if link.result is None else round(link.result.score, 2),
            }
            for link in record_links(profile, match)
        ],
    }
    for kind in LISTS:
        record[kind.value] = [
            {
                "item": row.display,
                "fact": row.fact,
                "current": row.current,
                "sources": {
                    e.source: {"text": e.text, "status": e.status, "fact": e.fact_id}
                    for e in row.entries
                    if e is not None
                },
                "discrepancies": [c.kind.value for c in row.discrepancies],
            }
            for row in reconciliation_view(profile, kind).rows
        ]
    record["care_team"] = [
        {
            "team": f.value.id,
            "members": [
                {
                    "party": str(m.party),
                    "name": party_name(profile, m.party),
                    "discipline": m.discipline.value,
                    "lead": m.lead,
                    "start": iso(m.period.start),
                    "end": iso(m.period.end),
                }
                for m in f.value.members
            ],
        }
        for f in profile.care_teams
    ]
    record["open_referrals"] = [
        {
            "fact": f.key,
            "status": f.value.status.value,
            "specialty": str(f.value.specialty) if f.value.specialty else None,
            "authored_on": iso(f.value.authored_on),
        }
        for f in profile.referrals
        if f.value.is_open
    ]
    record["recent_results"] = [
        {
            "fact": f.key,
            "code": str(f.value.code),
            "value": None if f.value.value is None else str(f.value.value),
            "components": [
                {
                    "code": str(c.code),
                    "value": None if c.value is None else str(c.value),
                    "interpretation": c.interpretation.value,
                }
                for c in f.value.components
            ],
            "interpretation": f.value.interpretation.value,
            "issued": iso(f.value.issued),
        }
        for f in sorted(profile.results, key=lambda f: f.value.issued, reverse=True)[
            :RECENT_RESULTS
        ]
    ]
    record["conflicts"] = [
        {
            "kind": c.kind.value,
            "field": c.field,
            "subject": c.subject,
            "values": dict(c.values),
            "chosen": c.chosen,
        }
        for c in profile.conflicts
    ]
    if with_timeline:
        record["timeline"] = [
            {
                "when": iso(e.when),
                "kind": e.kind.value,
                "description": e.description,
                "fact": e.fact,
                "sources": list(e.sources),
            }
            for e in timeline(profile)
        ]
    return record


def possible_match_to_record(match: PossibleMatch) -> dict[str, JsonValue]:
    """A pair of records to review as a JSON-safe dict.

    Keys: ``left`` and ``right`` (``{source, patient}``), ``grade``, ``score`` (rounded to
    two decimals) and ``evidence`` (``[field, outcome, weight]`` triples).
    """
    return {
        "left": {"source": match.left[0], "patient": match.left[1]},
        "right": {"source": match.right[0], "patient": match.right[1]},
        "grade": match.grade.value,
        "score": round(match.score, 2),
        "evidence": [[e.field, e.outcome, round(e.weight, 2)] for e in match.evidence],
    }
