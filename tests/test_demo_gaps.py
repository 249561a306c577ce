"""The demo data end to end: FHIR in, profiles merged, gaps out, exactly as its README says.

``src/carecoord/demo_data/README.md`` is the human-readable specification: section 5
lists every gap the rules should report at ``DEMO_AS_OF`` (patient, rule, focus, status,
due), and section 6 what changes a day later and with the weekends-only calendar. These
tests read those tables and run the whole pipeline, ``fhir.read`` -> ``build_profiles`` ->
``detect_gaps(include_closed=True, look_back_months=None)``, for every rule family (every
gap the record holds, however old; the default look-back's answer is tested apart).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pytest

from carecoord.demo_data import DEMO_AS_OF, demo_files
from carecoord.fhir import read
from carecoord.profile import PatientProfile, build_profiles
from carecoord.rules import (
    BusinessCalendar,
    Gap,
    GapStatus,
    default_rules,
    detect_gaps,
    us_federal_holidays,
    worklist_since,
)

FEDERAL = BusinessCalendar(us_federal_holidays(range(2025, 2027)))
"""The calendar the README's section 5 assumes (Juneteenth and 3 July 2026 are holidays)."""

WEEKENDS_ONLY = BusinessCalendar()
"""carecoord's default calendar, which the README's notes compare against."""

NEXT_DAY = dt.datetime(2026, 7, 16, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
"""Noon on Thursday 16 July: after the one fact recorded later than DEMO_AS_OF."""

NEXT_DAY_CLOSES = frozenset(
    {
        ("P1", "transition.follow-up-visit", "hospital:enc-hf-stay"),
        ("P1", "transition.ed-chronic-follow-up", "hospital:enc-ed-hypo"),
    }
)
"""The README's section 6: the 16 July visit closes these two gaps, and nothing else moves."""

ROW = re.compile(
    r"^\| (?P<patient>P\d) \| (?P<rule>[a-z-]+\.[a-z-]+) \| "
    r"(?P<file>[a-z_]+):(?P<type>[A-Za-z]+)/(?P<id>[\w.-]+)(?P<part>#[\w-]+)? \| "
    r"(?P<status>[a-z-]+) \| (?P<due>[0-9T:+-]+) \|(?P<notes>.*)\|$"
)
PERSON = re.compile(r"^\| \*\*(?P<label>P\d)\*\* \|[^|]*\| clinic `(?P<id>[\w-]+)`")
WEEKENDS_DUE = re.compile(r"[Ww]eekends-only calendar(?: it is due|:) (\d{4}-\d{2}-\d{2})")
TOTALS = re.compile(r"^(\d+) gaps: ", re.MULTILINE)

Key = tuple[str, str, str, str, str]
"""(patient label, rule id, focus, status, due) of one gap."""


class SpecRow(NamedTuple):
    """One expected gap of the README's section 5."""

    patient: str
    rule: str
    focus: str
    status: str
    due: str
    notes: str

    @property
    def key(self) -> Key:
        """The comparable part of the row."""
        return (self.patient, self.rule, self.focus, self.status, self.due)


# --------------------------------------------------------------------------- the README


def _root() -> Path:
    return Path(str(demo_files()[0])).parent


@cache
def _readme() -> str:
    return (_root() / "README.md").read_text(encoding="utf-8")


@cache
def _sources() -> dict[str, str]:
    """Each bundle's file stem and ``meta.source`` (the gap focus prefix)."""
    return {
        item.name.removesuffix(".json"): json.loads(item.read_text(encoding="utf-8"))["meta"][
            "source"
        ]
        for item in demo_files()
    }


@cache
def _people() -> dict[str, str]:
    """Profile id (the clinic record's) -> the README's patient label (P1...)."""
    clinic = _sources()["clinic"]
    return {
        f"{clinic}/{match['id']}": match["label"]
        for line in _readme().splitlines()
        if (match := PERSON.match(line))
    }


def _focus(file: str, ident: str, part: str | None = None) -> str:
    """The gap focus of a README focus: ``<source>/<id><#part>``."""
    return f"{_sources()[file]}/{ident}{part or ''}"


@cache
def _spec() -> tuple[SpecRow, ...]:
    rows = []
    for line in _readme().splitlines():
        match = ROW.match(line)
        if match:
            focus = _focus(match["file"], match["id"], match["part"])
            rows.append(
                SpecRow(
                    match["patient"],
                    match["rule"],
                    focus,
                    match["status"],
                    match["due"],
                    match["notes"].strip(),
                )
            )
    return tuple(rows)


def _expected(rows: Iterable[SpecRow] | None = None) -> set[Key]:
    return {row.key for row in (_spec() if rows is None else rows)}


def _due_day(due: str) -> dt.date:
    """A README due value (a local date, or an instant with its offset) as a local date."""
    if "T" not in due:
        return dt.date.fromisoformat(due)
    return dt.datetime.fromisoformat(due).astimezone(DEMO_AS_OF.tzinfo).date()


def _short(key: Key) -> tuple[str, str, str]:
    """(patient, rule, ``<file>:<id>``) of a key, the README's way of naming a gap."""
    patient, rule, focus, _, _ = key
    for stem, source in _sources().items():
        if focus.startswith(f"{source}/"):
            return (patient, rule, f"{stem}:{focus.removeprefix(f'{source}/')}")
    return (patient, rule, focus)


# --------------------------------------------------------------------------- the pipeline


@cache
def _profiles() -> tuple[PatientProfile, ...]:
    result = read(_root())
    return tuple(build_profiles(result.records).profiles)


@cache
def _gaps(
    as_of: dt.datetime, calendar: BusinessCalendar, *, closed: bool = True
) -> tuple[Gap, ...]:
    found: list[Gap] = []
    for profile in _profiles():
        report = detect_gaps(
            profile, as_of=as_of, calendar=calendar, include_closed=closed, look_back_months=None
        )
        assert report.errors == (), report.errors
        found.extend(report.gaps)
    return tuple(found)


def _key(gap: Gap) -> Key:
    return (_people()[gap.patient], gap.rule, gap.focus, gap.status.value, gap.due.isoformat())


def _found(
    as_of: dt.datetime = DEMO_AS_OF, calendar: BusinessCalendar = FEDERAL, *, closed: bool = True
) -> set[Key]:
    return {_key(g) for g in _gaps(as_of, calendar, closed=closed)}


def _by_gap(gaps: Iterable[Gap]) -> dict[tuple[str, str, str], Gap]:
    return {(_people()[g.patient], g.rule, g.focus): g for g in gaps}


def _prefix(rule: str) -> str:
    return rule.split(".", 1)[0]


PREFIXES = sorted({_prefix(rule.id) for rule in default_rules()})
"""The rule-id prefixes of the catalogue's families (referral, transition, result...)."""


# --------------------------------------------------------------------------- tests


class TestSpecification:
    """The README tables this file reads are the ones its prose describes."""

    def test_every_row_is_read(self) -> None:
        """The rows parsed add up to the README's total, for the four people it names."""
        totals = TOTALS.search(_readme())

        assert totals is not None
        assert len(_spec()) == int(totals.group(1))
        assert (
            set(_people().values())
            == {row.patient for row in _spec()}
            == {
                "P1",
                "P2",
                "P3",
                "P4",
            }
        )

    def test_each_row_is_one_gap(self) -> None:
        """No gap is listed twice, so comparing sets loses nothing."""
        assert len(_expected()) == len(_spec())


class TestAtDemoAsOf:
    """At DEMO_AS_OF, with the US federal calendar, the pipeline gives the README's gaps."""

    def test_exactly_the_specified_gaps(self) -> None:
        """Every gap, in every status, is a row of section 5, and every row is found."""
        found, expected = _found(), _expected()

        assert sorted(expected - found) == [], "specified but not found"
        assert sorted(found - expected) == [], "found but not specified"

    @pytest.mark.parametrize("prefix", PREFIXES)
    def test_each_family_matches(self, prefix: str) -> None:
        """Family by family (by rule-id prefix), the gaps are those the README lists."""
        found = {k for k in _found() if _prefix(k[1]) == prefix}
        expected = {k for k in _expected() if _prefix(k[1]) == prefix}

        assert expected
        assert found == expected

    def test_every_family_reports_a_gap(self) -> None:
        """The demo exercises every rule of the catalogue."""
        assert {gap.rule for gap in _gaps(DEMO_AS_OF, FEDERAL)} == set(default_rules().ids)

    def test_the_work_list_is_the_actionable_rows(self) -> None:
        """Without include_closed, the report is the open and prospective rows."""
        actionable = [r for r in _spec() if r.status in {"open", "prospective"}]

        assert _found(closed=False) == _expected(actionable)

    def test_the_default_look_back_leaves_out_the_old_rows(self) -> None:
        """By default only recent rows are reported, the others counted in ``older``.

        Recent: due in the 12 months before DEMO_AS_OF, standing or prospective.
        """
        since = worklist_since(DEMO_AS_OF)
        standing = {r.id for r in default_rules() if r.metadata.standing}
        recent = [
            r
            for r in _spec()
            if r.status == "prospective" or r.rule in standing or _due_day(r.due) >= since
        ]
        found: set[Key] = set()
        older = 0
        for profile in _profiles():
            report = detect_gaps(profile, as_of=DEMO_AS_OF, calendar=FEDERAL, include_closed=True)
            found.update(_key(g) for g in report)
            older += report.older

        assert found == _expected(recent)
        assert older == len(_spec()) - len(recent) >= 1

    def test_late_closures_are_those_marked_late(self) -> None:
        """The gaps closed late are the rows whose notes start with **Late**."""
        late = {_short(_key(g)) for g in _gaps(DEMO_AS_OF, FEDERAL) if g.late}
        marked = {_short(r.key) for r in _spec() if r.notes.startswith("**Late**")}

        assert late == marked
        assert len(late) == 3


class TestNextDay:
    """At noon on 16 July, the follow-up visit recorded that morning closes two gaps."""

    def test_the_two_follow_ups_close(self) -> None:
        """The follow-up and ED chronic follow-up gaps of P1 are closed on time."""
        later = {_short(_key(g)): g for g in _gaps(NEXT_DAY, FEDERAL)}

        for name in NEXT_DAY_CLOSES:
            assert later[name].status is GapStatus.CLOSED
            assert not later[name].late

    def test_nothing_else_changes_status(self) -> None:
        """Every other gap keeps its status and due date, and no gap appears or goes."""
        before = _by_gap(_gaps(DEMO_AS_OF, FEDERAL))
        after = _by_gap(_gaps(NEXT_DAY, FEDERAL))
        changed = {
            _short(_key(gap))
            for name, gap in before.items()
            if (after[name].status, after[name].due) != (gap.status, gap.due)
        }

        assert after.keys() == before.keys()
        assert changed == NEXT_DAY_CLOSES

    def test_the_readme_states_those_changes(self) -> None:
        """Section 6 names both closing gaps and says nothing else changes."""
        section = _readme().split("## 6.", 1)[1]

        for _, rule, focus in NEXT_DAY_CLOSES:
            assert f"`{rule}` for `{focus.split(':', 1)[1]}`" in section
        assert "Nothing else changes status between the two instants." in section


class TestWeekendsOnlyCalendar:
    """With carecoord's default calendar only the dues the notes name move."""

    def _moved(self) -> dict[tuple[str, str, str], str]:
        """The notes' weekends-only due dates, by gap."""
        moved = {}
        for row in _spec():
            match = WEEKENDS_DUE.search(row.notes)
            if match:
                moved[_short(row.key)] = match.group(1)
        return moved

    def test_the_notes_name_three_moved_dues(self) -> None:
        """P1's TCM contact, P2's TSH acknowledgement and P4's unassigned task."""
        assert {(patient, rule) for patient, rule, _ in self._moved()} == {
            ("P1", "transition.tcm-contact"),
            ("P2", "result.unacknowledged"),
            ("P4", "task.unassigned"),
        }

    def test_only_those_due_dates_move(self) -> None:
        """Each gap is due as section 5 says, except the three the notes give another date."""
        moved = self._moved()
        expected = {(*key[:4], moved.get(_short(key), key[4])) for key in _expected()}

        assert _found(calendar=WEEKENDS_ONLY) == expected

    def test_the_status_counts_are_the_same(self) -> None:
        """Open, prospective, closed and not-applicable counts do not change."""

        def counts(gaps: Iterable[Gap]) -> Counter[GapStatus]:
            return Counter(g.status for g in gaps)

        assert counts(_gaps(DEMO_AS_OF, WEEKENDS_ONLY)) == counts(_gaps(DEMO_AS_OF, FEDERAL))

    def test_the_tcm_contact_closes_late(self) -> None:
        """Due Monday 6 July without the holiday, P1's call-back on the 7th is late."""
        found = {_short(_key(g)): g for g in _gaps(DEMO_AS_OF, WEEKENDS_ONLY)}
        gap = found[("P1", "transition.tcm-contact", "hospital:enc-hf-stay")]

        assert gap.status is GapStatus.CLOSED
        assert gap.late
        assert gap.due == dt.date(2026, 7, 6)
