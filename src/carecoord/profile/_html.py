"""HTML displays of the profile layer, for notebooks: profile sets, profiles, matches.

Each function returns a :class:`~carecoord.display.HtmlDisplay`; the classes'
``_repr_html_`` and ``display(...)`` methods call them. Personal data (names, birth dates)
is shown as :data:`~carecoord.display.MASK` unless ``show_personal_data`` is true; record
and profile ids, codes and dates of care are not personal data here. Of a consent view
(:func:`~carecoord.profile.view_for`) they show only what the view holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from carecoord.display import MASK, HtmlDisplay, badge, esc, frame, section, table
from carecoord.domain import FACT_FIELDS, Ref
from carecoord.profile._labels import profile_label, source_labels
from carecoord.profile._timeline import timeline_events_html

if TYPE_CHECKING:
    from carecoord.profile._build import ProfileSet
    from carecoord.profile._matching import PossibleMatch
    from carecoord.profile._model import PatientProfile

__all__ = [
    "TIMELINE_ROWS",
    "EvidenceLike",
    "GapLike",
    "match_html",
    "profile_html",
    "profile_set_html",
]

TIMELINE_ROWS = 40
"""How many events a profile's display shows (the latest); the timeline's own shows more."""


class EvidenceLike(Protocol):
    """What a profile display reads of a gap's evidence: the fact it points to."""

    @property
    def ref(self) -> Ref:
        """``Ref(<fact type>, <fact key>)``."""


class GapLike(Protocol):
    """What a profile display reads of a gap (a :class:`carecoord.rules.Gap` has it all)."""

    @property
    def patient(self) -> str:
        """The profile id."""

    @property
    def evidence(self) -> Sequence[EvidenceLike]:
        """The facts the gap rests on."""

    @property
    def rule(self) -> str:
        """The rule id."""

    @property
    def status(self) -> Enum:
        """The gap status."""

    @property
    def severity(self) -> Enum:
        """The gap severity."""

    @property
    def due(self) -> dt.date | dt.datetime:
        """When it is due."""

    @property
    def summary(self) -> str:
        """One line about it."""

    @property
    def is_actionable(self) -> bool:
        """Whether it calls for action."""


def _day(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _person(profile: PatientProfile, show: bool) -> str:
    """Name, birth date (masked unless ``show``), sex, and whether the person died."""
    patient = profile.patient
    name, born = MASK, MASK
    if show:
        names = dict.fromkeys(n.full() for n in patient.names if n.full())
        name = " / ".join(names) or "(no name)"
        born = "unknown" if patient.birth_date is None else patient.birth_date.isoformat()
    parts = [name, f"born {born}", patient.sex.value]
    if patient.deceased:
        parts.append("deceased")
    return ", ".join(parts)


def profile_html(
    profile: PatientProfile,
    *,
    gaps: Iterable[GapLike] = (),
    show_personal_data: bool = False,
    timeline_rows: int = TIMELINE_ROWS,
) -> HtmlDisplay:
    """A profile: the person (masked), sources, fact counts, open gaps, latest events."""
    labels = source_labels(profile.sources)
    person = f"<p>{esc(_person(profile, show_personal_data))}</p>"
    sources = table(
        ("source", "record", "kind"),
        [
            (labels.get(r.source.id, r.source.id), r.patient.id, r.source.kind.value)
            for r in profile.records
        ],
    )
    counts = [(name.replace("_", " "), len(getattr(profile, name))) for name in FACT_FIELDS]
    facts = "<p>" + ", ".join(f"{esc(name)} <b>{n}</b>" for name, n in counts if n) + "</p>"
    parts = [
        section("Person", person, key="person"),
        section("Sources", sources, key="sources"),
        section(
            "Facts", facts, key="facts", note=f"{len(profile.conflicts)} conflicts between sources"
        ),
    ]
    keys = {fact.key for _, fact in profile.facts()}
    # Only this profile's gaps, and of those only the ones resting on facts it holds:
    # shown on a consent view, a gap found on the whole profile must not reveal (even by
    # a count) a fact the view hides.
    shown = [
        g
        for g in gaps
        if g.patient == profile.id and g.is_actionable and all(e.ref.id in keys for e in g.evidence)
    ]
    if shown:
        rows = [
            (
                g.rule,
                badge(str(g.status.value)),
                badge(str(g.severity.value)),
                _day(g.due),
                g.summary,
            )
            for g in shown
        ]
        parts.append(
            section(
                f"Open gaps ({len(shown)})",
                table(
                    ("rule", "status", "severity", "due", "summary"),
                    rows,
                    raw=(1, 2),
                    nowrap=(1, 2, 3),
                    limit=50,
                ),
                key="gaps",
            )
        )
    events = profile.timeline()
    parts.append(
        section(
            f"Timeline ({len(events)} events, latest first)",
            timeline_events_html(events, timeline_rows),
            key="timeline",
        )
    )
    title = f"Patient profile {profile_label(profile, labels)}"
    return HtmlDisplay(frame(title, *parts, kind="profile"), "profile", show_personal_data)


def _match_rows(match: PossibleMatch) -> list[tuple[str, str, str, str]]:
    peak = max((abs(e.weight) for e in match.evidence), default=1.0) or 1.0
    rows = []
    for e in match.evidence:
        width = round(60 * abs(e.weight) / peak)
        tone = "closed" if e.weight >= 0 else "open"
        style = f"display:inline-block;width:{width}px;height:8px;padding:0"
        bar = f'<span class="cc-b cc-{tone}" style="{style}"></span>'
        rows.append((e.field.replace("_", " "), e.outcome, f"{e.weight:+.2f}", bar))
    return rows


def match_html(match: PossibleMatch) -> HtmlDisplay:
    """A possible match: the two records, grade and score, and each field's evidence.

    A match carries outcomes and weights only, never the values compared, so there is
    nothing personal to mask.
    """
    labels = source_labels((match.left[0], match.right[0]))
    pair = table(
        ("", "source", "record"),
        [
            ("left", labels[match.left[0]], match.left[1]),
            ("right", labels[match.right[0]], match.right[1]),
        ],
    )
    grade = badge(match.grade.value, tone="prospective")
    verdict = f"<p>{grade} score {match.score:+.2f} (log2 Bayes factor)</p>"
    evidence = table(("field", "outcome", "weight", ""), _match_rows(match), numeric=(2,), raw=(3,))
    parts = [
        section("Records", pair + verdict, key="pair"),
        section(
            "Field evidence",
            evidence,
            key="evidence",
            note="weight = log2(m/u): positive is evidence for the same person",
        ),
    ]
    return HtmlDisplay(frame("Possible match", *parts, kind="possible-match"), "possible-match")


def profile_set_html(
    profiles: ProfileSet, *, show_personal_data: bool = False, limit: int = 25
) -> HtmlDisplay:
    """A profile set: counts, the first ``limit`` persons, and the possible matches."""
    labels = source_labels(r.source.id for p in profiles for r in p.records)
    records = sum(len(p.records) for p in profiles)
    summary = (
        f"<p>{len(profiles)} persons from {records} records in {len(labels)} sources; "
        f"{len(profiles.review)} possible matches to review.</p>"
    )
    rows = [
        (
            profile_label(p, labels),
            _person(p, show_personal_data),
            len(p.records),
            p.fact_count(),
            len(p.conflicts),
        )
        for p in profiles
    ]
    persons = table(
        ("profile", "person", "records", "facts", "conflicts"), rows, numeric=(2, 3, 4), limit=limit
    )
    review = table(
        ("grade", "score", "left", "right"),
        [
            (
                m.grade.value,
                f"{m.score:+.1f}",
                f"{labels[m.left[0]]}/{m.left[1]}",
                f"{labels[m.right[0]]}/{m.right[1]}",
            )
            for m in profiles.review
        ],
        numeric=(1,),
        limit=limit,
    )
    parts = [
        section("Summary", summary, key="summary"),
        section("Persons", persons, key="persons"),
        section(f"Possible matches ({len(profiles.review)})", review, key="review"),
    ]
    return HtmlDisplay(
        frame("Profile set", *parts, kind="profile-set"), "profile-set", show_personal_data
    )
