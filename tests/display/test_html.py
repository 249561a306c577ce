"""HTML displays: escaped, masked by default, personal data only when asked, views respected.

Every object an analyst looks at has ``_repr_html_``; ``display(...)`` returns an
:class:`~carecoord.display.HtmlDisplay` with options. Hostile text in names, codes and
source ids is escaped; names and birth dates show only with ``show_personal_data=True``;
a consent view's display holds nothing the view hides.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import attrs

import carecoord as cc
from carecoord.display import MASK, HtmlDisplay, esc
from carecoord.domain import HumanName, Ref
from carecoord.profile import ProfileSet, Viewer, view_for
from carecoord.testing import make_condition, make_patient, make_record, make_source

from .conftest import Synthea

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def hostile_profile() -> cc.PatientProfile:
    """A profile whose name, source id and condition text are markup."""
    patient = make_patient(names=(HumanName(family=HOSTILE, given=("Eve&Co",)),))
    condition = make_condition(code=cc.Code(cc.System.ICD10CM, "I10", HOSTILE))
    record = make_record(
        source=make_source(id=f"urn:{HOSTILE}"), patient=patient, conditions=(condition,)
    )
    return cc.build_profiles([record])[0]


def test_every_analyst_object_has_an_html_display(synthea: Synthea, linked: ProfileSet) -> None:
    """Import results, profile sets, profiles, timelines, reports, gaps, matches, summaries."""
    profile = synthea.largest()
    report = synthea.report_of(profile)
    shown = {
        "import-result": synthea.result,
        "profile-set": synthea.profiles,
        "profile": profile,
        "timeline": profile.timeline(),
        "gap-report": report,
        "gap": report[0],
        "possible-match": linked.review[0],
        "summary": synthea.summary,
    }
    for kind, obj in shown.items():
        text = obj._repr_html_()

        assert f'data-cc-kind="{kind}"' in text
        assert len(text) < 200_000


def test_hostile_text_is_escaped() -> None:
    """Markup in a name, a code's display or a source id is shown as text, never run."""
    profile = hostile_profile()
    report = cc.detect_gaps(profile, as_of=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    pages = [
        profile.display(show_personal_data=True).html,
        profile.timeline().display().html,
        report.display().html,
        cc.build_profiles(profile.records).display(show_personal_data=True).html,
    ]
    for page in pages:
        assert "<script" not in page
        assert "<img" not in page
    assert html.escape(HOSTILE) in pages[0]
    assert "Eve&amp;Co" in pages[0]


def test_control_characters_are_made_visible() -> None:
    """A terminal escape or a bidirectional override in text is shown escaped."""
    assert esc("a\x1b[2Jb\u202e") == "a\\x1b[2Jb\\x202e"


def test_personal_data_is_masked_unless_asked(synthea: Synthea) -> None:
    """A profile's name and birth date appear only with ``show_personal_data=True``."""
    profile = synthea.largest()
    name = profile.patient.names[0].family or ""
    born = profile.patient.birth_date.isoformat() if profile.patient.birth_date else "?"
    masked = profile._repr_html_()
    shown = profile.display(show_personal_data=True)

    assert MASK in masked
    assert name not in masked
    assert born not in re.sub(r"<[^>]+>", "", masked).split("Timeline")[0]
    assert name in shown.html
    assert born in shown.html
    assert shown.personal
    assert repr(shown).endswith("with personal data)")


def test_profile_set_masks_every_person(synthea: Synthea) -> None:
    """The profile set's table masks every person's name unless asked."""
    masked = synthea.profiles._repr_html_()
    shown = synthea.profiles.display(show_personal_data=True, limit=76).html
    families = {p.patient.names[0].family for p in synthea.profiles if p.patient.names}

    assert not [f for f in families if f and f in masked]
    assert all(f in shown for f in families if f)


def test_a_profile_display_lists_its_open_gaps(synthea: Synthea) -> None:
    """Given the gaps, the profile display lists the actionable ones."""
    profile = synthea.largest()
    report = synthea.report_of(profile)
    page = profile.display(gaps=report).html
    actionable = report.actionable()

    assert f"Open gaps ({len(actionable)})" in page
    assert actionable[0].rule in page


def test_a_consent_view_shows_nothing_it_hides(synthea: Synthea) -> None:
    """The display of a view holds none of the descriptions of the facts the view hid."""
    profile = next(p for p in synthea.demo if any("counseling" in s for s in p.sources))
    outsider = Viewer(Ref("Practitioner", "outsider-1"))
    view = view_for(profile, outsider, at=dt.datetime(2026, 7, 15, 12, tzinfo=dt.UTC))
    kept = {fact.key for _, fact in view.facts()}
    hidden = {e.description for e in profile.timeline() if e.fact not in kept} - {
        e.description for e in view.timeline()
    }
    page = view.display(timeline_rows=1000).html

    assert hidden
    assert [d for d in hidden if esc(d) in page] == []


def test_a_gap_shows_its_evidence(synthea: Synthea) -> None:
    """A gap's display names each piece of evidence by role, fact and description."""
    report = max(synthea.demo_reports, key=len)
    gap = next(g for g in report if len(g.evidence) > 1)
    page = gap.display().html

    assert f"Evidence ({len(gap.evidence)})" in page
    assert all(esc(f"{e.ref.type}/{e.ref.id}") in page for e in gap.evidence)


def test_a_possible_match_shows_each_field_weight(linked: ProfileSet) -> None:
    """Each field compared appears with its outcome and signed weight."""
    match = linked.review[0]
    page = match.display().html

    assert all(f"{e.weight:+.2f}" in page for e in match.evidence)
    assert match.grade.value in page


def test_long_lists_are_cut_with_a_count(synthea: Synthea) -> None:
    """A display lists a bounded number of rows and says how many were left out."""
    profile = synthea.largest()
    events = len(profile.timeline())
    page = profile.display(timeline_rows=10).html

    assert f"10 of {events} shown" in page


def test_html_display_is_small_and_safe_to_repr() -> None:
    """The display object's repr says what it is, not the HTML."""
    shown = HtmlDisplay("<b>x</b>", "profile")

    assert repr(shown) == "HtmlDisplay(profile, 8 characters of HTML, masked)"
    assert attrs.asdict(shown)["html"] == "<b>x</b>"


def test_gaps_of_the_whole_profile_shown_on_a_view_leave_out_hidden_ones(
    synthea: Synthea,
) -> None:
    """A gap resting on a fact the view hides is not listed on the view's display."""
    at = dt.datetime(2026, 7, 15, 12, tzinfo=dt.UTC)
    profile = next(p for p in synthea.demo if any("counseling" in s for s in p.sources))
    report = next(r for r in synthea.demo_reports if r.patient == profile.id)
    view = view_for(profile, Viewer(Ref("Practitioner", "outsider-1")), at=at)
    kept = {fact.key for _, fact in view.facts()}
    hidden = [g for g in report.actionable() if any(e.ref.id not in kept for e in g.evidence)]
    page = view.display(gaps=report).html
    visible = {g.summary for g in report.actionable() if g not in hidden}

    unique = [g.summary for g in hidden if g.summary not in visible]

    assert unique
    assert [summary for summary in unique if esc(summary) in page] == []
    assert f"Open gaps ({len(report.actionable()) - len(hidden)})" in page


def test_another_patients_gaps_are_not_listed(synthea: Synthea) -> None:
    """Gaps of another profile passed by mistake are not shown on this one."""
    first, second = synthea.demo[0], synthea.demo[1]
    other = next(r for r in synthea.demo_reports if r.patient == second.id)

    assert "Open gaps" not in first.display(gaps=other).html
