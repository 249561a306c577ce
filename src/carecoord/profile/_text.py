"""Profiles as plain text for people: short source names, side-by-side lists, timelines.

What ``carecoord profile`` prints. Sources are shown by a short label
(:func:`source_labels`: a URL's host, a tag's code); tables are left-aligned columns
separated by two spaces. The text holds the profile's personal data (names, birth dates,
clinical facts): it is for the profile's own users, never for logs. Text from the input is
shown through :func:`printable`: control characters (escape sequences, carriage returns,
line breaks) and bidirectional overrides are escaped, so input cannot move the cursor,
recolour a terminal or forge a line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from carecoord.domain import Code, Interpretation, PartialDate
from carecoord.profile._labels import printable, profile_label, source_labels
from carecoord.profile._matching import MatchConfig, MatchResult
from carecoord.profile._model import ConflictKind, FactConflict, PatientProfile
from carecoord.profile._reconcile import ReconciliationRow, ReconciliationView, reconciliation_view
from carecoord.profile._records import LISTS, RECENT_RESULTS, party_name, record_links
from carecoord.profile._timeline import TimelineEvent, timeline

__all__ = [
    "describe_match",
    "describe_patient",
    "find_profiles",
    "printable",
    "profile_label",
    "render_profile",
    "render_reconciliation",
    "render_timeline",
    "source_labels",
]


def find_profiles(profiles: Iterable[PatientProfile], name: str) -> tuple[PatientProfile, ...]:
    """The profiles ``name`` refers to, in the order given (empty when none).

    ``name`` (surrounding spaces ignored) is a profile id, ``<source id>/<patient id>`` or
    ``<short source>/<patient id>`` of one of a profile's records (short names by
    :func:`source_labels` of every profile's sources), or a record's bare patient id,
    which may name several people.
    """
    chosen = list(profiles)
    labels = source_labels(r.source.id for p in chosen for r in p.records)
    wanted = name.strip()
    found = []
    for profile in chosen:
        names = {profile.id}
        for record in profile.records:
            source, patient = record.key
            names.update((patient, f"{source}/{patient}", f"{labels[source]}/{patient}"))
        if wanted in names:
            found.append(profile)
    return tuple(found)


def describe_match(result: MatchResult) -> str:
    """A match verdict in words: grade, score and the three fields that weighed most.

    For example ``certain match (score 31.2): given name exact, family name exact,
    birth date exact``.
    """
    reasons = sorted((e for e in result.evidence if e.weight > 0), key=lambda e: -e.weight)
    why = ", ".join(f"{e.field.replace('_', ' ')} {e.outcome}" for e in reasons[:3])
    text = f"{result.grade.value} match (score {result.score:.1f})"
    return printable(f"{text}: {why}" if why else text)


def describe_patient(profile: PatientProfile) -> str:
    """Every name the sources use, sex, birth date and death, on one line."""
    patient = profile.patient
    names = list(dict.fromkeys(n.full() for n in patient.names if n.full()))
    parts = [" / ".join(names) or "(no name)", patient.sex.value]
    if patient.birth_date is not None:
        parts.append(f"born {patient.birth_date}")
    if patient.deceased:
        when = f" {day_text(patient.deceased_at)}" if patient.deceased_at is not None else ""
        parts.append(f"deceased{when}")
    return printable(", ".join(parts))


def render_reconciliation(
    view: ReconciliationView, *, labels: Mapping[str, str] | None = None, indent: str = ""
) -> str:
    """A list side by side: one column per source, then each item's discrepancies in words.

    For example ``! furosemide: dose differs (clinic.example 20 mg, hospital.example
    40 mg)``. Every line starts with ``indent`` and ends with a newline; an empty list is
    ``(none recorded)``. ``labels`` maps source ids to the names shown.
    """
    return _text(_reconciliation_lines(view, labels or {}, indent))


def render_timeline(
    events: Sequence[TimelineEvent], *, labels: Mapping[str, str] | None = None, indent: str = "  "
) -> str:
    """Timeline events as a table: when, what, and the sources (one line each)."""
    return _text(_timeline_lines(events, labels or {}, indent))


def render_profile(
    profile: PatientProfile,
    *,
    match: MatchConfig | None = None,
    labels: Mapping[str, str] | None = None,
    with_timeline: bool = False,
) -> str:
    """A profile as text, as ``carecoord profile`` prints it.

    A heading with :func:`profile_label` and the profile id, then :func:`describe_patient`,
    the sources (each record with :func:`describe_match` of its best link, see
    :func:`~carecoord.profile.record_links`), problems, medications and allergies side by
    side (:func:`render_reconciliation`), the care team, open referrals, the five latest
    results, the conflicts and, with ``with_timeline``, the timeline; a blank line ends
    it. ``labels`` defaults to :func:`source_labels` of the profile's sources and
    ``match`` is as in :func:`~carecoord.profile.record_links`.
    """
    names = source_labels(profile.sources) if labels is None else labels
    lines = [f"=== {profile_label(profile, names)}  (profile id {profile.id})"]
    lines.append(describe_patient(profile))
    rows = []
    for link in record_links(profile, match):
        source, patient = link.record.key
        row = [names.get(source, source), patient]
        if link.linked_to is not None and link.result is not None:
            other = f"{names.get(link.linked_to[0], link.linked_to[0])}/{link.linked_to[1]}"
            row.append(f"linked to {other}: {describe_match(link.result)}")
        rows.append(row)
    count = len(profile.records)
    _section(lines, f"Sources ({count:,} record{'' if count == 1 else 's'})", table_lines(rows))
    for kind in LISTS:
        lines.append(kind.value.capitalize())
        lines.extend(_reconciliation_lines(reconciliation_view(profile, kind), names, "  "))
    _section(lines, "Care team", _team_lines(profile))
    _section(lines, "Open referrals", _referral_lines(profile, names))
    _section(lines, "Recent results", _result_lines(profile))
    conflicts = [
        f"{_subject(profile, c.subject)}: {_conflict_text(c, names)}" for c in profile.conflicts
    ]
    _section(lines, f"Conflicts ({len(profile.conflicts)})", conflicts)
    if with_timeline:
        events = timeline(profile)
        lines.append(f"Timeline ({len(events)} events)")
        lines.extend(_timeline_lines(events, names, "  "))
    return _text([*lines, ""])


# --------------------------------------------------------------------------- helpers


def _text(lines: Iterable[str]) -> str:
    return "".join(f"{printable(line)}\n" for line in lines)


def day_text(value: dt.date | dt.datetime | PartialDate | None) -> str:
    """A date (or partial date), a date-time to the minute, or ``-`` for none."""
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def table_lines(rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    """Rows as left-aligned columns (the last column is not padded); cells :func:`printable`."""
    if not rows:
        return []
    rows = [[printable(cell) for cell in row] for row in rows]
    count = max(len(r) for r in rows)
    widths = [max((len(r[i]) for r in rows if i < len(r)), default=0) for i in range(count)]
    return [
        indent + "  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rows
    ]


def _section(lines: list[str], title: str, items: Sequence[str]) -> None:
    lines.append(title)
    lines.extend(f"  {item}" for item in items or ["(none)"])


def _reconciliation_lines(
    view: ReconciliationView, labels: Mapping[str, str], indent: str
) -> list[str]:
    if not view.rows:
        return [f"{indent}(none recorded)"]
    header = ["item", *(labels.get(c.source, c.source) for c in view.columns)]
    rows = [
        header,
        *([r.display, *(_cell(r, i) for i in range(len(r.entries)))] for r in view.rows),
    ]
    lines = table_lines(rows, indent)
    for row in view.rows:
        if row.discrepancies:
            said = "; ".join(_discrepancy_text(c, labels) for c in row.discrepancies)
            lines.append(f"{indent}! {row.display}: {said}")
    return lines


def _timeline_lines(
    events: Sequence[TimelineEvent], labels: Mapping[str, str], indent: str
) -> list[str]:
    rows = [
        [day_text(e.when), e.description, ", ".join(labels.get(s, s) for s in e.sources)]
        for e in events
    ]
    return table_lines(rows, indent)


def _cell(row: ReconciliationRow, index: int) -> str:
    entry = row.entries[index]
    if entry is None:
        return "-"
    text = entry.text
    if text.startswith(row.display):
        text = text[len(row.display) :].strip()
    return f"{text} [{entry.status}]" if text else f"[{entry.status}]"


def _source_part(source: str, labels: Mapping[str, str]) -> str:
    """A conflict's value key (a source id, or ``source/patient``) with a short source."""
    if source in labels:
        return labels[source]
    for full, short in labels.items():
        if source.startswith(full + "/"):
            return short + source[len(full) :]
    return source


def _discrepancy_text(conflict: FactConflict, labels: Mapping[str, str]) -> str:
    """One discrepancy of a reconciliation row, in words."""
    if conflict.kind is ConflictKind.MEDICATION_OMISSION:
        absent = [_source_part(s, labels) for s, v in conflict.values if v == "absent"]
        if absent:
            return "not listed by " + ", ".join(absent)
    values = ", ".join(f"{_source_part(s, labels)} {v}" for s, v in conflict.values)
    return f"{conflict.field} differs ({values})"


def _conflict_text(conflict: FactConflict, labels: Mapping[str, str]) -> str:
    values = "; ".join(f"{_source_part(s, labels)} {v}" for s, v in conflict.values)
    chosen = f" (shown: {_source_part(conflict.chosen, labels)})" if conflict.chosen else ""
    return f"{conflict.kind.value} {conflict.field}: {values}{chosen}"


def _code_text(code: Code) -> str:
    """A code's display, else its code (never the system URI)."""
    return code.display or code.code


def _subject(profile: PatientProfile, subject: str | None) -> str:
    """What a conflict is about: ``patient``, or the display of the fact it names."""
    if subject is None or subject == "patient":
        return "patient"
    for _name, fact in profile.facts():
        if fact.key == subject:
            code = getattr(fact.value, "code", None)
            return _code_text(code) if isinstance(code, Code) else subject
    return subject


def _referral_lines(profile: PatientProfile, labels: Mapping[str, str]) -> list[str]:
    lines = []
    for fact in sorted(profile.referrals, key=lambda f: f.value.authored_on):
        referral = fact.value
        if not referral.is_open:
            continue
        target = _code_text(referral.specialty) if referral.specialty else None
        if target is None and referral.recipient is not None:
            target = party_name(profile, referral.recipient)
        sources = ", ".join(labels.get(s, s) for s in fact.sources)
        lines.append(
            f"{day_text(referral.authored_on)[:10]}  {target or 'referral'}: "
            f"{referral.status.value} [{sources}]"
        )
    return lines


def _team_lines(profile: PatientProfile) -> list[str]:
    lines = []
    for fact in profile.care_teams:
        team = fact.value
        lines.append(f"{team.name or team.id} ({team.status.value})")
        for member in team.members:
            start, end = member.period.start, member.period.end
            when = f"{day_text(start)[:10] if start else '?'} to {day_text(end)[:10]}"
            if end is None:
                when = f"since {day_text(start)[:10]}" if start else "dates unknown"
            lead = ", lead" if member.lead else ""
            party = party_name(profile, member.party)
            lines.append(f"  - {party}: {member.discipline.value}{lead} ({when})")
    return lines


def _result_lines(profile: PatientProfile) -> list[str]:
    latest = sorted(profile.results, key=lambda f: f.value.issued, reverse=True)
    lines = []
    for fact in latest[:RECENT_RESULTS]:
        result = fact.value
        shown = [] if result.value is None else [str(result.value)]
        shown += [
            f"{_code_text(c.code)} {c.value}" for c in result.components if c.value is not None
        ]
        value = f" {', '.join(shown)}" if shown else ""
        unknown = result.interpretation is Interpretation.UNKNOWN
        flag = "" if unknown else f" ({result.interpretation.value})"
        lines.append(f"{day_text(result.issued)[:10]}  {_code_text(result.code)}:{value}{flag}")
    return lines
