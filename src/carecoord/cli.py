"""The ``carecoord`` command line: gaps in care, unified profiles, and a demo.

::

    carecoord gaps PATH... --as-of DATE [--format table|json|csv|fhir] ...
    carecoord profile PATH... [--patient ID] [--format text|json] [--timeline]
    carecoord rules
    carecoord demo [--as-of DATE]

Results go to standard output; progress, warnings and errors to standard error. Exit
status: ``0`` success, ``1`` gaps found at or above ``--fail-on``, ``2`` a usage error or
input that cannot be used (a missing path, a bad date, an unknown rule). Error messages
name the argument at fault and never quote patient data. See ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
import time
import urllib.parse
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from carecoord.domain import Code, Interpretation, ListKind, PartialDate, PatientRecord, Ref
from carecoord.errors import CarecoordError, MissingExtraError
from carecoord.profile import (
    ConflictKind,
    FactConflict,
    MatchResult,
    PatientProfile,
    PossibleMatch,
    ProfileSet,
    ReconciliationRow,
    ReconciliationView,
    TimelineEvent,
    build_profiles,
    compare,
    reconciliation_view,
    timeline,
)
from carecoord.rules import (
    BusinessCalendar,
    Gap,
    GapReport,
    GapStatus,
    PopulationSummary,
    RuleSet,
    default_rules,
    detect_gaps_population,
    profile_as_of,
    resolve_timezone,
    summarize,
    us_federal_holidays,
)

if TYPE_CHECKING:
    from carecoord.fhir import ImportResult
    from carecoord.fhir._issues import IssueLog

__all__ = [
    "EXIT_FAILED_ON",
    "EXIT_OK",
    "EXIT_USAGE",
    "GAP_COLUMNS",
    "main",
    "run_demo",
]

EXIT_OK = 0
"""Exit status: the command did what was asked."""
EXIT_FAILED_ON = 1
"""Exit status: ``gaps --fail-on`` found a gap at or above the threshold."""
EXIT_USAGE = 2
"""Exit status: a usage error, or input that cannot be used (path, date, rule id...)."""

GAP_COLUMNS: tuple[str, ...] = (
    "key",
    "patient",
    "rule",
    "family",
    "status",
    "severity",
    "due",
    "opened",
    "focus",
    "summary",
    "action",
    "evidence",
    "closed_at",
    "late",
    "reason",
    "snoozed_until",
    "sensitivity",
)
"""The fields of one gap in ``--format json`` (object keys) and ``csv`` (columns)."""

_PROG = "carecoord"
_END_OF_DAY = dt.time(23, 59, 59)
_STATUS_ORDER = (
    GapStatus.OPEN,
    GapStatus.PROSPECTIVE,
    GapStatus.CLOSED,
    GapStatus.NOT_APPLICABLE,
)
_FAIL_ON: dict[str, frozenset[GapStatus]] = {
    "open": frozenset({GapStatus.OPEN}),
    "prospective": frozenset({GapStatus.OPEN, GapStatus.PROSPECTIVE}),
    "any": frozenset(GapStatus),
}


class _UsageError(CarecoordError):
    """A bad argument or unusable input: printed as one line, exit status 2."""


# --------------------------------------------------------------------------- progress


class _Progress:
    """Progress lines on standard error, when enabled (a TTY, or ``--progress``)."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self._started = time.perf_counter()

    def lap(self) -> float:
        """Seconds since the last lap (or since creation), and start a new lap."""
        now = time.perf_counter()
        elapsed, self._started = now - self._started, now
        return elapsed

    def note(self, message: str) -> None:
        """Write ``message`` when progress is enabled."""
        if self.enabled:
            self.stream.write(f"{_PROG}: {message}\n")
            self.stream.flush()


def _warn(err: TextIO, message: str) -> None:
    err.write(f"{_PROG}: warning: {message}\n")


# --------------------------------------------------------------------------- time


def _zone(name: str) -> dt.tzinfo:
    if name.upper() in {"UTC", "Z"}:
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        msg = f"--tz: unknown time zone {name!r} (use an IANA name such as America/New_York)"
        raise _UsageError(msg) from None


def _parse_as_of(text: str, tz: dt.tzinfo, option: str = "--as-of") -> dt.datetime:
    """An ISO date (the end of that day, 23:59:59, in ``tz``) or an ISO date-time.

    A date-time without an offset is read in ``tz``.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), _END_OF_DAY, tzinfo=tz)
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        msg = (
            f"{option}: {text!r} is not an ISO date (2026-07-15) or date-time "
            "(2026-07-15T12:00:00-04:00)"
        )
        raise _UsageError(msg) from None
    return stamp if stamp.utcoffset() is not None else stamp.replace(tzinfo=tz)


def _iso(value: dt.date | dt.datetime | PartialDate | None) -> str | None:
    if value is None:
        return None
    return value.isoformat()


def _day(value: dt.date | dt.datetime | PartialDate | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


# --------------------------------------------------------------------------- reading


def _check_paths(paths: Sequence[str]) -> list[Path]:
    checked = []
    for text in paths:
        path = Path(text)
        if not path.exists():
            msg = f"cannot read {text}: no such file or directory"
            raise _UsageError(msg)
        if not os.access(path, os.R_OK):
            msg = f"cannot read {text}: permission denied"
            raise _UsageError(msg)
        checked.append(path)
    return checked


def _labelled_documents(paths: Sequence[Path], issues: IssueLog) -> Iterator[dict[str, Any]]:
    """Every document of every path, each stamped with the source id it would get alone.

    :func:`carecoord.fhir.read` reads one path; reading several paths in one call (so that
    references resolve across them) goes through the parsed documents, which loses the
    folder a document came from. Its source id is therefore derived here, with the path,
    and written into a copy of the document's ``meta.source``.
    """
    from carecoord.fhir._input import iter_documents, iter_resources  # noqa: PLC0415
    from carecoord.fhir._issues import IssueLog  # noqa: PLC0415
    from carecoord.fhir._read import derive_source_id  # noqa: PLC0415

    for path in paths:
        resolved = path.resolve()
        root = resolved.name if resolved.is_dir() else resolved.parent.name
        for label, document in iter_documents(path, issues=issues):
            meta = document.get("meta")
            known = meta.get("source") if isinstance(meta, dict) else None
            if isinstance(known, str) and known.strip():
                yield document
                continue
            resources = [i.resource for i in iter_resources([(label, document)], issues=IssueLog())]
            source = derive_source_id(document, resources, label, root or None)
            yield {
                **document,
                "meta": {**(meta if isinstance(meta, dict) else {}), "source": source},
            }


def _read(paths: Sequence[Path]) -> ImportResult:
    """Read every path (leniently) into records, in one call so references resolve."""
    from carecoord import fhir  # noqa: PLC0415 - the adapter is loaded only when used
    from carecoord.fhir._issues import IssueLog  # noqa: PLC0415

    if len(paths) == 1:
        return fhir.read(paths[0])
    log = IssueLog()
    documents = list(_labelled_documents(paths, log))
    result = fhir.read(documents)
    return fhir.ImportResult(result.records, (*log, *result.issues), result.counts)


def _report_issues(result: ImportResult, err: TextIO) -> None:
    """Import issues on standard error: counts by code, never paths or values."""
    if not result.issues:
        return
    counts = [
        _plural(len(result.errors), "error"),
        _plural(len(result.warnings), "warning"),
    ]
    said = " and ".join(c for c in counts if not c.startswith("0 "))
    codes = ", ".join(f"{code} {count:,}" for code, count in result.issue_codes().items())
    _warn(err, f"import: {said} ({codes})")


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _load(paths: Sequence[str], progress: _Progress, err: TextIO, *, quiet: bool) -> ProfileSet:
    """Read the paths and build the profiles, reporting progress and import issues."""
    checked = _check_paths(paths)
    progress.lap()
    result = _read(checked)
    records = result.records
    resources = sum(c.read for c in result.counts.values())
    noun = "path" if len(checked) == 1 else "paths"
    progress.note(
        f"read {len(checked)} {noun}, {resources:,} resources, {len(records):,} records "
        f"({progress.lap():.1f} s)"
    )
    if not quiet:
        _report_issues(result, err)
        if not records:
            _warn(err, "no patient records found in the input")
    profiles = build_profiles(records)
    progress.note(f"{_plural(len(profiles), 'profile')} ({progress.lap():.1f} s)")
    return profiles


# --------------------------------------------------------------------------- selection


def _source_labels(source_ids: Iterable[str]) -> dict[str, str]:
    """Short display names for source ids: a URL's host, a tag's code (ids kept if ambiguous)."""
    ids = sorted(set(source_ids))
    short = {source: _shorten(source) for source in ids}
    if len(set(short.values())) != len(ids):
        return {source: source for source in ids}
    return short


def _shorten(source: str) -> str:
    if "|" in source:
        return source.rsplit("|", 1)[1] or source
    parts = urllib.parse.urlsplit(source)
    if parts.scheme in {"http", "https"} and parts.netloc:
        return parts.netloc.removeprefix("www.")
    return source


def _profile_label(profile: PatientProfile, labels: dict[str, str]) -> str:
    """``"<short source>/<patient id>"`` of the record the profile id comes from."""
    for record in profile.records:
        source, patient = record.key
        if profile.id == f"{source}/{patient}":
            return f"{labels.get(source, source)}/{patient}"
    return profile.id


def _select_profiles(profiles: ProfileSet, wanted: Sequence[str] | None) -> list[PatientProfile]:
    """The profiles named by ``--patient`` (all when not given).

    A value matches a profile id, ``<source id>/<patient id>`` or ``<short source>/<patient
    id>`` of one of its records, or a record's bare patient id.
    """
    if not wanted:
        return list(profiles)
    labels = _source_labels(r.source.id for r in profiles.records)
    names: dict[str, set[str]] = {}
    for profile in profiles:
        names.setdefault(profile.id, set()).add(profile.id)
        for record in profile.records:
            source, patient = record.key
            for name in (patient, f"{source}/{patient}", f"{labels[source]}/{patient}"):
                names.setdefault(name, set()).add(profile.id)
    chosen: set[str] = set()
    for index, value in enumerate(wanted, start=1):
        found = names.get(value.strip())
        if not found:
            msg = f"--patient: value {index} matches no patient in the input"
            raise _UsageError(msg)
        chosen |= found
    return [p for p in profiles if p.id in chosen]


def _split(values: Sequence[str] | None) -> list[str]:
    return [item.strip() for value in values or () for item in value.split(",") if item.strip()]


def _expand(names: Sequence[str], catalogue: RuleSet, option: str) -> list[str]:
    """Rule ids for ``names``: each a rule id or a family name (``referrals``...)."""
    families: dict[str, list[str]] = {}
    for rule in catalogue:
        families.setdefault(rule.metadata.family, []).append(rule.id)
    ids: list[str] = []
    for name in names:
        if name in catalogue.ids:
            ids.append(name)
        elif name in families:
            ids.extend(families[name])
        else:
            msg = f"{option}: unknown rule or family {name!r} (run `carecoord rules` to list them)"
            raise _UsageError(msg)
    return list(dict.fromkeys(ids))


def _select_rules(only: Sequence[str] | None, skip: Sequence[str] | None) -> RuleSet:
    catalogue = default_rules()
    if only:
        return catalogue.only(*_expand(_split(only), catalogue, "--rules"))
    if skip:
        return catalogue.without(*_expand(_split(skip), catalogue, "--skip"))
    return catalogue


class _YearlyHolidays:
    """US federal holidays of any year, computed the first time a date of that year is asked."""

    def __init__(self) -> None:
        self._years: dict[int, frozenset[dt.date]] = {}

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, dt.date):
            return False
        year = self._years.get(day.year)
        if year is None:
            year = self._years[day.year] = us_federal_holidays(day.year)
        return day in year


def _us_calendar(as_of: dt.datetime) -> BusinessCalendar:
    """Weekdays minus US federal holidays; ``MissingExtraError`` without ``holidays``."""
    holidays = _YearlyHolidays()
    dt.date(as_of.year, 1, 1) in holidays  # noqa: B015 - fails now if the extra is absent
    return BusinessCalendar(holidays=holidays)


# --------------------------------------------------------------------------- gap output


def _families() -> dict[str, str]:
    return {rule.id: rule.metadata.family for rule in default_rules()}


def _gap_record(gap: Gap, families: dict[str, str]) -> dict[str, Any]:
    """One gap as a JSON object with the :data:`GAP_COLUMNS` keys."""
    return {
        "key": gap.key,
        "patient": gap.patient,
        "rule": gap.rule,
        "family": families.get(gap.rule, "custom"),
        "status": gap.status.value,
        "severity": gap.severity.value,
        "due": _iso(gap.due),
        "opened": _iso(gap.opened),
        "focus": gap.focus,
        "summary": gap.summary,
        "action": gap.action,
        "evidence": [
            {
                "role": e.role.value,
                "type": e.ref.type,
                "id": e.ref.id,
                "description": e.description,
            }
            for e in gap.evidence
        ],
        "closed_at": _iso(gap.closed_at),
        "late": gap.late,
        "reason": gap.reason,
        "snoozed_until": _iso(gap.snoozed_until),
        "sensitivity": sorted(s.value for s in gap.sensitivity),
    }


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "evidence":
        return "; ".join(f"{e['role']}:{e['type']}/{e['id']}" for e in value)
    if name == "sensitivity":
        return " ".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_json(gaps: Sequence[Gap], out: TextIO) -> None:
    families = _families()
    json.dump([_gap_record(g, families) for g in gaps], out, indent=2, ensure_ascii=False)
    out.write("\n")


def _write_csv(gaps: Sequence[Gap], out: TextIO) -> None:
    families = _families()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GAP_COLUMNS)
    for gap in gaps:
        record = _gap_record(gap, families)
        writer.writerow([_csv_cell(name, record[name]) for name in GAP_COLUMNS])


def _table(rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    """Rows as left-aligned columns (the last column is not padded)."""
    if not rows:
        return []
    count = max(len(r) for r in rows)
    widths = [max((len(r[i]) for r in rows if i < len(r)), default=0) for i in range(count)]
    return [
        indent + "  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rows
    ]


def _status_counts(gaps: Iterable[Gap]) -> str:
    counts: dict[GapStatus, int] = {}
    for gap in gaps:
        counts[gap.status] = counts.get(gap.status, 0) + 1
    return ", ".join(f"{counts[s]:,} {s.value}" for s in _STATUS_ORDER if s in counts) or "none"


def _write_table(
    reports: Sequence[tuple[PatientProfile, GapReport]], labels: dict[str, str], out: TextIO
) -> None:
    total: list[Gap] = []
    for profile, gaps in reports:
        if not gaps:
            continue
        total.extend(gaps)
        out.write(f"{_profile_label(profile, labels)}: {len(gaps):,} gaps ")
        out.write(f"({_status_counts(gaps)})\n")
        rows = [["due", "status", "severity", "rule", "summary"]]
        rows.extend(
            [_day(g.due), g.status.value, g.severity.value, g.rule, g.summary] for g in gaps
        )
        for line in _table(rows, indent="  "):
            out.write(line + "\n")
        out.write("\n")
    patients = sum(1 for _, gaps in reports if gaps)
    out.write(
        f"{len(total):,} gaps for {patients:,} of {len(reports):,} patients "
        f"({_status_counts(total)})\n"
    )


def _write_fhir(
    reports: Sequence[tuple[PatientProfile, GapReport]], as_of: dt.datetime, out: TextIO
) -> None:
    """A collection Bundle: per patient with gaps, its Patient and one DetectedIssue per gap.

    The Patient is the one of the record the profile id names; the DetectedIssues follow
    Da Vinci DEQM (``carecoord.fhir`` writer) and name their evidence by fact key.
    """
    from carecoord.fhir._write import write_bundle  # noqa: PLC0415 - loaded only when used

    entries: list[Any] = []
    for profile, report in reports:
        if not report.gaps:
            continue
        anchor = next(
            (r for r in profile.records if f"{r.source.id}/{r.patient.id}" == profile.id),
            profile.records[0],
        )
        patient_only = PatientRecord(source=anchor.source, patient=anchor.patient)
        entries.extend(write_bundle([patient_only], gaps=report).get("entry", ()))
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": as_of.isoformat(),
    }
    if entries:
        bundle["entry"] = entries
    json.dump(bundle, out, indent=2, ensure_ascii=False)
    out.write("\n")


# --------------------------------------------------------------------------- gaps command


def _run_gaps(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    tz = _zone(args.tz)
    as_of = _parse_as_of(args.as_of, tz)
    since = _parse_as_of(args.since, tz, "--since").date() if args.since else None
    rules = _select_rules(args.rules, args.skip)
    calendar = _us_calendar(as_of) if args.holidays == "us" else BusinessCalendar()
    progress = _Progress(err, enabled=not args.quiet and (args.progress or err.isatty()))
    profiles = _load(args.paths, progress, err, quiet=args.quiet)
    chosen = _select_profiles(profiles, args.patient)
    reports: list[tuple[PatientProfile, GapReport]] = []
    rule_errors: dict[tuple[str, str], int] = {}
    found = detect_gaps_population(
        chosen,
        as_of=as_of,
        rules=rules,
        calendar=calendar,
        include_closed=args.include_closed,
        since=since,
    )
    for profile, report in zip(chosen, found, strict=True):
        reports.append((profile, report))
        for error in report.errors:
            key = (error.rule, error.error_type)
            rule_errors[key] = rule_errors.get(key, 0) + 1
    gaps = [g for _, report in reports for g in report]
    progress.note(f"{len(gaps):,} gaps in {len(chosen):,} profiles ({progress.lap():.1f} s)")
    if rule_errors and not args.quiet:
        listed = ", ".join(f"{r} ({t}) x{n}" for (r, t), n in sorted(rule_errors.items()))
        _warn(err, f"some rules raised and were skipped for some patients: {listed}")
    if args.format == "json":
        _write_json(gaps, out)
    elif args.format == "csv":
        _write_csv(gaps, out)
    elif args.format == "fhir":
        _write_fhir(reports, as_of, out)
    else:
        labels = _source_labels(r.source.id for r in profiles.records)
        _write_table(reports, labels, out)
    if args.fail_on and any(g.status in _FAIL_ON[args.fail_on] for g in gaps):
        return EXIT_FAILED_ON
    return EXIT_OK


# --------------------------------------------------------------------------- profiles


def _grade_text(result: MatchResult) -> str:
    reasons = sorted((e for e in result.evidence if e.weight > 0), key=lambda e: -e.weight)
    why = ", ".join(f"{e.field.replace('_', ' ')} {e.outcome}" for e in reasons[:3])
    text = f"{result.grade.value} match (score {result.score:.1f})"
    return f"{text}: {why}" if why else text


def _links(
    profile: PatientProfile, profiles: ProfileSet
) -> list[tuple[PatientRecord, tuple[tuple[str, str], MatchResult] | None]]:
    """Each record of the profile with the best match among the records listed before it."""
    records = sorted(profile.records, key=lambda r: r.key)
    linked: list[tuple[PatientRecord, tuple[tuple[str, str], MatchResult] | None]] = []
    for index, record in enumerate(records):
        best: tuple[tuple[str, str], MatchResult] | None = None
        for other in records[:index]:
            result = compare(other, record, profiles.match)
            if best is None or result.score > best[1].score:
                best = (other.key, result)
        linked.append((record, best))
    return linked


def _demographics(profile: PatientProfile) -> str:
    patient = profile.patient
    names = list(dict.fromkeys(n.full() for n in patient.names if n.full()))
    parts = [" / ".join(names) or "(no name)", patient.sex.value]
    if patient.birth_date is not None:
        parts.append(f"born {patient.birth_date}")
    if patient.deceased:
        when = f" {_day(patient.deceased_at)}" if patient.deceased_at is not None else ""
        parts.append(f"deceased{when}")
    return ", ".join(parts)


def _cell(row: ReconciliationRow, index: int) -> str:
    entry = row.entries[index]
    if entry is None:
        return "-"
    text = entry.text
    if text.startswith(row.display):
        text = text[len(row.display) :].strip()
    return f"{text} [{entry.status}]" if text else f"[{entry.status}]"


def _side_by_side(view: ReconciliationView, labels: dict[str, str], indent: str) -> list[str]:
    """A reconciliation view as a table: one column per source, discrepancies below."""
    if not view.rows:
        return [f"{indent}(none recorded)"]
    header = ["item", *(labels.get(c.source, c.source) for c in view.columns)]
    rows = [
        header,
        *([r.display, *(_cell(r, i) for i in range(len(r.entries)))] for r in view.rows),
    ]
    lines = _table(rows, indent)
    for row in view.rows:
        if row.discrepancies:
            said = "; ".join(_discrepancy_text(c, labels) for c in row.discrepancies)
            lines.append(f"{indent}! {row.display}: {said}")
    return lines


def _discrepancy_text(conflict: FactConflict, labels: dict[str, str]) -> str:
    """One discrepancy of a reconciliation row, in words."""
    if conflict.kind is ConflictKind.MEDICATION_OMISSION:
        absent = [_source_part(s, labels) for s, v in conflict.values if v == "absent"]
        if absent:
            return "not listed by " + ", ".join(absent)
    values = ", ".join(f"{_source_part(s, labels)} {v}" for s, v in conflict.values)
    return f"{conflict.field} differs ({values})"


def _conflict_text(conflict: FactConflict, labels: dict[str, str]) -> str:
    values = "; ".join(f"{_source_part(s, labels)} {v}" for s, v in conflict.values)
    chosen = f" (shown: {_source_part(conflict.chosen, labels)})" if conflict.chosen else ""
    return f"{conflict.kind.value} {conflict.field}: {values}{chosen}"


def _subject(profile: PatientProfile, subject: str | None) -> str:
    """What a conflict is about: ``patient``, or the display of the fact it names."""
    if subject is None or subject == "patient":
        return "patient"
    for _name, fact in profile.facts():
        if fact.key == subject:
            code = getattr(fact.value, "code", None)
            return _code_text(code) if isinstance(code, Code) else subject
    return subject


def _code_text(code: Code) -> str:
    """A code's display, else its code (never the system URI)."""
    return code.display or code.code


def _source_part(source: str, labels: dict[str, str]) -> str:
    """A conflict's value key (a source id, or ``source/patient``) with a short source."""
    if source in labels:
        return labels[source]
    for full, short in labels.items():
        if source.startswith(full + "/"):
            return short + source[len(full) :]
    return source


def _referral_lines(profile: PatientProfile, labels: dict[str, str]) -> list[str]:
    lines = []
    for fact in sorted(profile.referrals, key=lambda f: f.value.authored_on):
        referral = fact.value
        if not referral.is_open:
            continue
        target = _code_text(referral.specialty) if referral.specialty else None
        if target is None and referral.recipient is not None:
            target = _party(profile, referral.recipient)
        sources = ", ".join(labels.get(s, s) for s in fact.sources)
        lines.append(
            f"{_day(referral.authored_on)[:10]}  {target or 'referral'}: "
            f"{referral.status.value} [{sources}]"
        )
    return lines


def _party(profile: PatientProfile, ref: Ref) -> str:
    practitioner = profile.practitioner(ref) if ref.type == "Practitioner" else None
    if practitioner is not None and practitioner.names:
        return practitioner.names[0].full()
    organization = profile.organization(ref) if ref.type == "Organization" else None
    if organization is not None and organization.name:
        return organization.name
    return str(ref)


def _team_lines(profile: PatientProfile) -> list[str]:
    lines = []
    for fact in profile.care_teams:
        team = fact.value
        lines.append(f"{team.name or team.id} ({team.status.value})")
        for member in team.members:
            start, end = member.period.start, member.period.end
            when = f"{_day(start)[:10] if start else '?'} to {_day(end)[:10]}"
            if end is None:
                when = f"since {_day(start)[:10]}" if start else "dates unknown"
            lead = ", lead" if member.lead else ""
            lines.append(
                f"  - {_party(profile, member.party)}: {member.discipline.value}{lead} ({when})"
            )
    return lines


def _result_lines(profile: PatientProfile, count: int = 5) -> list[str]:
    results = sorted(profile.results, key=lambda f: f.value.issued, reverse=True)[:count]
    lines = []
    for fact in results:
        result = fact.value
        value = "" if result.value is None else f" {result.value}"
        unknown = result.interpretation is Interpretation.UNKNOWN
        flag = "" if unknown else f" ({result.interpretation.value})"
        lines.append(f"{_day(result.issued)[:10]}  {_code_text(result.code)}:{value}{flag}")
    return lines


def _timeline_lines(events: Sequence[TimelineEvent], labels: dict[str, str]) -> list[str]:
    rows = [
        [_day(e.when), e.description, ", ".join(labels.get(s, s) for s in e.sources)]
        for e in events
    ]
    return _table(rows, "  ")


def _review_lines(review: Iterable[PossibleMatch], labels: dict[str, str]) -> list[str]:
    lines = []
    for match in review:
        left = f"{labels.get(match.left[0], match.left[0])}/{match.left[1]}"
        right = f"{labels.get(match.right[0], match.right[0])}/{match.right[1]}"
        lines.append(f"  {left} ~ {right}: {match.grade.value} (score {match.score:.1f})")
    return lines


def _section(out: TextIO, title: str, lines: Sequence[str]) -> None:
    out.write(f"{title}\n")
    for line in lines or ["(none)"]:
        out.write(f"  {line}\n")


def _profile_text(
    profile: PatientProfile,
    profiles: ProfileSet,
    labels: dict[str, str],
    out: TextIO,
    *,
    with_timeline: bool,
) -> None:
    out.write(f"=== {_profile_label(profile, labels)}  (profile id {profile.id})\n")
    out.write(f"{_demographics(profile)}\n")
    rows = []
    for record, best in _links(profile, profiles):
        source, patient = record.key
        row = [labels.get(source, source), patient]
        if best is not None:
            other = f"{labels.get(best[0][0], best[0][0])}/{best[0][1]}"
            row.append(f"linked to {other}: {_grade_text(best[1])}")
        rows.append(row)
    _section(out, f"Sources ({_plural(len(profile.records), 'record')})", _table(rows))
    for title, kind in (
        ("Problems", ListKind.PROBLEMS),
        ("Medications", ListKind.MEDICATIONS),
        ("Allergies", ListKind.ALLERGIES),
    ):
        out.write(f"{title}\n")
        for line in _side_by_side(reconciliation_view(profile, kind), labels, "  "):
            out.write(line + "\n")
    _section(out, "Care team", _team_lines(profile))
    _section(out, "Open referrals", _referral_lines(profile, labels))
    _section(out, "Recent results", _result_lines(profile))
    _section(
        out,
        f"Conflicts ({len(profile.conflicts)})",
        [f"{_subject(profile, c.subject)}: {_conflict_text(c, labels)}" for c in profile.conflicts],
    )
    if with_timeline:
        events = timeline(profile)
        out.write(f"Timeline ({len(events)} events)\n")
        for line in _timeline_lines(events, labels):
            out.write(line + "\n")
    out.write("\n")


def _profile_json(
    profile: PatientProfile, profiles: ProfileSet, *, with_timeline: bool
) -> dict[str, Any]:
    patient = profile.patient
    views = {
        kind.value: reconciliation_view(profile, kind)
        for kind in (ListKind.PROBLEMS, ListKind.MEDICATIONS, ListKind.ALLERGIES)
    }
    data: dict[str, Any] = {
        "id": profile.id,
        "patient": {
            "names": [n.full() for n in patient.names],
            "sex": patient.sex.value,
            "birth_date": _iso(patient.birth_date),
            "deceased": patient.deceased,
            "deceased_at": _iso(patient.deceased_at),
            "identifiers": [{"system": i.system, "value": i.value} for i in patient.identifiers],
            "timezone": patient.timezone,
        },
        "records": [
            {
                "source": record.source.id,
                "patient": record.patient.id,
                "linked_to": None
                if best is None
                else {"source": best[0][0], "patient": best[0][1]},
                "grade": None if best is None else best[1].grade.value,
                "score": None if best is None else round(best[1].score, 2),
            }
            for record, best in _links(profile, profiles)
        ],
        **{
            name: [
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
                for row in view.rows
            ]
            for name, view in views.items()
        },
        "care_team": [
            {
                "team": f.value.id,
                "members": [
                    {
                        "party": str(m.party),
                        "name": _party(profile, m.party),
                        "discipline": m.discipline.value,
                        "lead": m.lead,
                        "start": _iso(m.period.start),
                        "end": _iso(m.period.end),
                    }
                    for m in f.value.members
                ],
            }
            for f in profile.care_teams
        ],
        "open_referrals": [
            {
                "fact": f.key,
                "status": f.value.status.value,
                "specialty": str(f.value.specialty) if f.value.specialty else None,
                "authored_on": _iso(f.value.authored_on),
            }
            for f in profile.referrals
            if f.value.is_open
        ],
        "recent_results": [
            {
                "fact": f.key,
                "code": str(f.value.code),
                "value": None if f.value.value is None else str(f.value.value),
                "interpretation": f.value.interpretation.value,
                "issued": _iso(f.value.issued),
            }
            for f in sorted(profile.results, key=lambda f: f.value.issued, reverse=True)[:5]
        ],
        "conflicts": [
            {
                "kind": c.kind.value,
                "field": c.field,
                "subject": c.subject,
                "values": dict(c.values),
                "chosen": c.chosen,
            }
            for c in profile.conflicts
        ],
    }
    if with_timeline:
        data["timeline"] = [
            {
                "when": _iso(e.when),
                "kind": e.kind.value,
                "description": e.description,
                "fact": e.fact,
                "sources": list(e.sources),
            }
            for e in timeline(profile)
        ]
    return data


def _run_profile(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    tz = _zone(args.tz)
    as_of = _parse_as_of(args.as_of, tz) if args.as_of else None
    progress = _Progress(err, enabled=not args.quiet and (args.progress or err.isatty()))
    profiles = _load(args.paths, progress, err, quiet=args.quiet)
    chosen = _select_profiles(profiles, args.patient)
    if as_of is not None:
        chosen = [profile_as_of(p, as_of, tz=resolve_timezone(p)) for p in chosen]
    keys = {r.key for p in chosen for r in p.records}
    review = [m for m in profiles.review if m.left in keys or m.right in keys]
    if args.format == "json":
        data = {
            "as_of": _iso(as_of),
            "profiles": [_profile_json(p, profiles, with_timeline=args.timeline) for p in chosen],
            "review": [
                {
                    "left": {"source": m.left[0], "patient": m.left[1]},
                    "right": {"source": m.right[0], "patient": m.right[1]},
                    "grade": m.grade.value,
                    "score": round(m.score, 2),
                    "evidence": [[e.field, e.outcome, round(e.weight, 2)] for e in m.evidence],
                }
                for m in review
            ],
        }
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return EXIT_OK
    labels = _source_labels(r.source.id for r in profiles.records)
    for profile in chosen:
        _profile_text(profile, profiles, labels, out, with_timeline=args.timeline)
    records = sum(len(p.records) for p in chosen)
    out.write(f"{_plural(len(chosen), 'profile')} from {_plural(records, 'record')}\n")
    if review:
        out.write("Possible matches to review (not merged):\n")
        for line in _review_lines(review, labels):
            out.write(line + "\n")
    return EXIT_OK


def _run_rules(_args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    rows = [["id", "family", "severity", "title"]]
    rows.extend(
        [r.id, r.metadata.family, r.metadata.severity.value, r.metadata.title]
        for r in default_rules()
    )
    for line in _table(rows):
        out.write(line + "\n")
    return EXIT_OK


# --------------------------------------------------------------------------- demo


def _demo_records() -> tuple[ImportResult, int]:
    """Read the shipped demo bundles through importlib.resources (works from a wheel)."""
    from carecoord import fhir  # noqa: PLC0415
    from carecoord.demo_data import demo_files  # noqa: PLC0415

    documents = [json.loads(item.read_bytes()) for item in demo_files()]
    result = fhir.read(documents)
    return result, len(documents)


def _demo_calendar(as_of: dt.datetime) -> tuple[BusinessCalendar, str]:
    try:
        return _us_calendar(as_of), "Monday to Friday minus US federal holidays"
    except MissingExtraError:
        return BusinessCalendar(), (
            "Monday to Friday only: the optional 'holidays' package is not installed, "
            "so US federal holidays are not skipped"
        )


def _demo_profiles(
    profiles: ProfileSet, names: dict[str, str], labels: dict[str, str], out: TextIO
) -> None:
    records = sum(len(p.records) for p in profiles)
    out.write(f"\n2. Identity: {records} records linked into {len(profiles)} people\n")
    for profile in profiles:
        out.write(f"  {names[profile.id]}  {_demographics(profile)}\n")
        rows = []
        for record, best in _links(profile, profiles):
            source, patient = record.key
            how = "" if best is None else _grade_text(best[1])
            rows.append([labels[source], patient, how])
        for line in _table(rows, "      "):
            out.write(line + "\n")
        kinds: dict[str, int] = {}
        for conflict in profile.conflicts:
            name = f"{conflict.kind.value} ({conflict.field})"
            kinds[name] = kinds.get(name, 0) + 1
        if kinds:
            listed = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in kinds.items())
            out.write(f"      sources disagree: {listed}\n")


def _demo_timelines(
    profiles: Sequence[PatientProfile],
    names: dict[str, str],
    labels: dict[str, str],
    as_of: dt.datetime,
    out: TextIO,
    *,
    recent: int = 4,
) -> None:
    out.write(f"\n3. Timelines, as knowable at the demo instant (the {recent} latest events)\n")
    for profile in profiles:
        events = timeline(profile_as_of(profile, as_of, tz=resolve_timezone(profile)))
        if not events:
            continue
        span = f"{_day(events[0].when)[:10]} to {_day(events[-1].when)[:10]}"
        out.write(f"  {names[profile.id]}: {len(events)} events, {span}\n")
        for line in _timeline_lines(events[-recent:], labels):
            out.write(f"    {line.strip()}\n")


def _demo_medications(
    profiles: Sequence[PatientProfile], names: dict[str, str], labels: dict[str, str], out: TextIO
) -> None:
    out.write("\n4. Medication lists side by side (reconciliation view)\n")
    shown = False
    for profile in profiles:
        view = reconciliation_view(profile, ListKind.MEDICATIONS)
        if len(view.columns) < 2 or not view.rows:
            continue
        shown = True
        problems = len(view.discrepancies)
        out.write(f"  {names[profile.id]}: {len(view.rows)} medicines, {problems} discrepancies\n")
        for line in _side_by_side(view, labels, "    "):
            out.write(line + "\n")
    if not shown:
        out.write("  (no medication list comes from more than one source)\n")


def _demo_gap_lines(gaps: Sequence[Gap]) -> list[str]:
    """Actionable gaps under ``open`` and ``prospective``: due, rule, summary, then the action.

    Several gaps of one rule and status are shown once, with their count.
    """
    lines: list[str] = []
    for status in (GapStatus.OPEN, GapStatus.PROSPECTIVE):
        groups: dict[str, list[Gap]] = {}
        for gap in gaps:
            if gap.status is status:
                groups.setdefault(gap.rule, []).append(gap)
        if not groups:
            continue
        lines.append(f"    {status.value}:")
        rows: list[list[str]] = []
        actions: list[str] = []
        for rule, members in groups.items():
            first = members[0]
            due, summary = _day(first.due), first.summary
            if len(members) > 1:
                due = f"{_day(first.due)[:10]} +{len(members) - 1}"
                summary = f"({len(members)} gaps) {summary}"
            rows.append([due, rule, summary])
            actions.append(first.action)
        table = _table(rows)
        width = max(len(r[0]) for r in rows) + 2
        for line, action in zip(table, actions, strict=True):
            lines.append(f"      {line}")
            lines.append(f"      {' ' * width}-> {action}")
    return lines


def _demo_summary(summary: PopulationSummary, families: dict[str, str], out: TextIO) -> None:
    out.write("\n6. Population summary\n")
    table: dict[str, dict[GapStatus, int]] = {}
    for rule, counts in summary.by_rule.items():
        row = table.setdefault(families.get(rule, "custom"), {})
        for status, count in counts.items():
            row[status] = row.get(status, 0) + count
    order = list(dict.fromkeys(families.values()))
    rows = [["family", *(s.value for s in _STATUS_ORDER)]]
    families_seen = sorted(table, key=lambda f: order.index(f) if f in order else len(order))
    rows.extend(
        [family, *(str(table[family].get(s, 0)) for s in _STATUS_ORDER)] for family in families_seen
    )
    rows.append(["total", *(str(summary.by_status.get(s, 0)) for s in _STATUS_ORDER)])
    for line in _table(rows, "  "):
        out.write(line + "\n")
    rate = summary.referral_loop_closure_rate
    median = summary.median_days_to_follow_up
    closure = "no referral to measure" if rate is None else f"{rate:.0%}"
    follow_up = "no follow-up visit yet" if median is None else f"{median:.1f} days"
    out.write(f"  referral loops closed on time (CMS50 style): {closure}\n")
    out.write(f"  median time from discharge to the follow-up visit: {follow_up}\n")


def run_demo(out: TextIO, *, as_of: dt.datetime | None = None) -> None:
    """Print the demo report to ``out``: profiles, timelines, medications, gaps, summary.

    The shipped synthetic data set (:mod:`carecoord.demo_data`) is read from the package,
    so it works from an installed wheel and without a network. ``as_of`` defaults to
    :data:`~carecoord.demo_data.DEMO_AS_OF`.
    """
    from carecoord.demo_data import DEMO_AS_OF, DEMO_TIMEZONE  # noqa: PLC0415

    when = as_of or DEMO_AS_OF
    calendar, calendar_text = _demo_calendar(when)
    result, files = _demo_records()
    records = result.records
    profiles = build_profiles(records)
    labels = _source_labels(r.source.id for r in records)
    names = {p.id: f"P{n}" for n, p in enumerate(profiles, start=1)}
    out.write("carecoord demo: four invented people, three providers, one shared directory\n")
    out.write(f"Evaluated at {when.isoformat()} ({DEMO_TIMEZONE} local dates)\n")
    out.write(f"Business days: {calendar_text}\n")
    resources = sum(c.read for c in result.counts.values())
    out.write(f"\n1. Reading: {files} FHIR bundles, {resources} resources, ")
    out.write(f"{len(records)} patient records from {len(labels)} sources")
    codes = ", ".join(f"{k} x{v}" for k, v in result.issue_codes().items())
    out.write(f" (import notes: {codes})\n" if codes else "\n")
    _demo_profiles(profiles, names, labels, out)
    _demo_timelines(list(profiles), names, labels, when, out)
    _demo_medications(list(profiles), names, labels, out)
    reports = list(
        detect_gaps_population(profiles, as_of=when, calendar=calendar, include_closed=True)
    )
    out.write("\n5. Gaps to act on (open first, then prospective; due date, rule, what to do)\n")
    for profile, report in zip(profiles, reports, strict=True):
        actionable = report.actionable()
        closed = len(report) - len(actionable)
        out.write(
            f"  {names[profile.id]}: {_status_counts(actionable)}; "
            f"{closed} closed or not applicable\n"
        )
        for line in _demo_gap_lines(actionable):
            out.write(line + "\n")
    _demo_summary(summarize(reports), _families(), out)
    out.write("\nTry: carecoord gaps PATH --as-of 2026-07-15 --format json  (see docs/cli.md)\n")


def _run_demo(args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    as_of = _parse_as_of(args.as_of, _zone(args.tz)) if args.as_of else None
    run_demo(out, as_of=as_of)
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="FHIR JSON/NDJSON files or folders (gzip too)"
    )
    parser.add_argument(
        "--patient",
        action="append",
        metavar="ID",
        help="only this patient: a profile id, SOURCE/ID or a record's patient id (repeatable)",
    )
    parser.add_argument(
        "--tz",
        default="UTC",
        metavar="ZONE",
        help="time zone for --as-of dates and date-times without offset (default: UTC)",
    )
    parser.add_argument("--progress", action="store_true", help="report progress on stderr")
    parser.add_argument("--quiet", action="store_true", help="no progress and no warnings")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Care coordination: referrals, transitions, tasks and gaps in care.",
        epilog="Exit status: 0 ok, 1 gaps found with --fail-on, 2 usage error or bad input.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gaps = commands.add_parser("gaps", help="find gaps in care in FHIR data")
    _add_common(gaps)
    gaps.add_argument(
        "--as-of",
        required=True,
        metavar="DATE",
        help="evaluate as of this ISO date (its end, 23:59:59 in --tz) or date-time",
    )
    gaps.add_argument(
        "--format", choices=("table", "json", "csv", "fhir"), default="table", help="output"
    )
    chosen = gaps.add_mutually_exclusive_group()
    chosen.add_argument(
        "--rules", action="append", metavar="ID,...", help="only these rules or families"
    )
    chosen.add_argument(
        "--skip", action="append", metavar="ID,...", help="all rules but these rules or families"
    )
    gaps.add_argument(
        "--holidays", choices=("us",), help="skip US federal holidays in business days"
    )
    gaps.add_argument(
        "--include-closed", action="store_true", help="also report closed and not-applicable gaps"
    )
    gaps.add_argument(
        "--since",
        metavar="DATE",
        help="only gaps whose clock started on or after DATE (a work or measurement period)",
    )
    gaps.add_argument(
        "--fail-on",
        choices=tuple(_FAIL_ON),
        help="exit 1 if a gap is open (open), open or prospective (prospective), or any",
    )

    profile = commands.add_parser("profile", help="show the unified patient profiles")
    _add_common(profile)
    profile.add_argument(
        "--as-of", metavar="DATE", help="show the profiles as knowable at this date"
    )
    profile.add_argument("--format", choices=("text", "json"), default="text", help="output")
    profile.add_argument("--timeline", action="store_true", help="also print each timeline")

    commands.add_parser("rules", help="list the gap rules and their families")

    demo = commands.add_parser("demo", help="run the built-in synthetic multi-provider demo")
    demo.add_argument("--as-of", metavar="DATE", help="evaluate at this date instead")
    demo.add_argument(
        "--tz", default="America/New_York", metavar="ZONE", help="time zone for --as-of"
    )
    return parser


_COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, TextIO], int]] = {
    "gaps": _run_gaps,
    "profile": _run_profile,
    "rules": _run_rules,
    "demo": _run_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    out, err = sys.stdout, sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    try:
        return _COMMANDS[args.command](args, out, err)
    except CarecoordError as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        err.write(f"{_PROG}: error: {message}\n")
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - the reader of stdout went away
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
