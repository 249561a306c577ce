"""The linker's early rejection of pairs is exact: it never drops a pair worth keeping.

``_evaluate`` (with ``full`` false, as the linker calls it) rejects a pair without a link
or a shared identifier as soon as a bound on its best score shows it cannot reach
``possible``. These tests compare it with the unscreened evaluation on many pairs,
with and without term frequencies and under several configurations.
"""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecoord.domain import ContactPoint, ContactSystem, HumanName, PatientRecord
from carecoord.profile import IncrementalLinker, MatchConfig, MatchGrade, compare
from carecoord.profile import _matching as matching
from carecoord.profile._matching import _compiled, _evaluate, _Features
from carecoord.testing import generate_population, make_patient

CONFIGS = (
    MatchConfig(),
    MatchConfig(term_frequency_min_records=10),
    MatchConfig(possible=4.0, probable=12.0, certain=20.0, term_frequency_bounds=(-1.0, 6.0)),
    MatchConfig(term_frequencies=False),
    MatchConfig(vetoes=()),
    # Vetoes on the cheap fields (sex, birth date, address, phone, e-mail): the screen
    # rejects on two of them, or one with an identity score below ``possible``.
    MatchConfig(vetoes=(("sex", "disagree"), ("birth_date", "disagree"))),
    MatchConfig(vetoes=(("address", "disagree"), ("phone", "disagree"), ("email", "disagree"))),
    MatchConfig(
        vetoes=(("given_name", "disagree"), ("family_name", "disagree"), ("sex", "disagree")),
        possible=6.0,
    ),
)


def _records() -> list[PatientRecord]:
    return list(generate_population(150, seed=11, nickname_twins=0.2, namesakes=0.2).records)


RECORDS = _records()


def _pairs(count: int, seed: int) -> list[tuple[PatientRecord, PatientRecord]]:
    """Pairs of records likely to look alike (same person or household) and random ones."""
    rng = random.Random(seed)
    near = list(itertools.pairwise(RECORDS))
    far = [(rng.choice(RECORDS), rng.choice(RECORDS)) for _ in range(count)]
    return near + far


@pytest.mark.parametrize("config", CONFIGS, ids=range(len(CONFIGS)))
def test_screen_never_rejects_a_kept_pair(config: MatchConfig) -> None:
    """Screened and unscreened agree on every pair the linker would keep."""
    linker = IncrementalLinker(config, RECORDS)
    freq = linker._freq()
    w = _compiled(config)
    rejected = 0
    for a, b in _pairs(600, seed=1) + _pairs(600, seed=3):
        fa, fb = _Features(a.patient), _Features(b.patient)
        plain = _evaluate(fa, fb, None, w, full=False, freq=freq, screened=False)
        fast = _evaluate(fa, fb, None, w, full=False, freq=freq)
        if plain[0] is MatchGrade.CERTAINLY_NOT:
            assert fast[0] is MatchGrade.CERTAINLY_NOT
            rejected += fast[2] == ()
        else:
            assert fast == plain
    assert rejected > 0  # the screen did bite


def test_screen_keeps_compare_grades() -> None:
    """No pair ``compare`` grades possible or better is rejected by the screen."""
    config = MatchConfig()
    w = _compiled(config)
    for a, b in _pairs(400, seed=2):
        result = compare(a, b, config)
        if result.grade is MatchGrade.CERTAINLY_NOT:
            continue
        fa, fb = _Features(a.patient), _Features(b.patient)
        if b.key < a.key:
            fa, fb = fb, fa
        fast = _evaluate(fa, fb, None, w, full=False)
        assert fast[0] is result.grade
        assert fast[1] == result.score


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    possible=st.floats(min_value=-5.0, max_value=30.0),
    high=st.floats(min_value=0.0, max_value=8.0),
    low=st.floats(min_value=-8.0, max_value=0.0),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_screen_is_exact_for_any_thresholds(
    possible: float, high: float, low: float, seed: int
) -> None:
    """Whatever the thresholds and frequency bounds, the screen keeps every kept pair."""
    config = MatchConfig(
        possible=possible,
        probable=max(possible, 21.0),
        certain=max(possible, 30.0),
        term_frequency_min_records=10,
        term_frequency_bounds=(low, high),
    )
    linker = IncrementalLinker(config, RECORDS[:120])
    freq = linker._freq()
    w = _compiled(config)
    for a, b in _pairs(40, seed=seed)[-80:]:
        fa, fb = _Features(a.patient), _Features(b.patient)
        plain = _evaluate(fa, fb, None, w, full=False, freq=freq, screened=False)
        fast = _evaluate(fa, fb, None, w, full=False, freq=freq)
        if plain[0] is MatchGrade.CERTAINLY_NOT:
            assert fast[0] is MatchGrade.CERTAINLY_NOT
        else:
            assert fast == plain


def _person(given: str, family: str, *, phone: str = "555-0100") -> _Features:
    """The matcher's features of the builder's patient under another name and phone."""
    patient = make_patient(
        identifiers=(),
        names=(HumanName(family=family, given=(given,)),),
        telecom=(ContactPoint(ContactSystem.PHONE, phone),),
    )
    return _Features(patient)


def test_family_names_equal_without_spaces_are_not_screened_out() -> None:
    """Family names equal once spaces are dropped count as exact in the name bound.

    ``de la Cruz`` and ``Delacruz`` agree exactly though the strings differ, so the pair
    is graded as unscreened.

    The threshold sits between the pair's score and what it would be bounded by if the
    family names counted as inexact, so a bound that missed the agreement would reject it.
    """
    config = MatchConfig(possible=40.0, probable=45.0, certain=50.0)
    w = _compiled(config)
    a = _person("Ana", "de la Cruz")
    b = _person("Ana", "Delacruz", phone="555-0199")
    plain = _evaluate(a, b, None, w, full=False, screened=False)
    fast = _evaluate(a, b, None, w, full=False)
    assert dict(plain[2])["family_name"] == "exact"
    assert plain[0] is MatchGrade.POSSIBLE
    assert fast == plain


def test_name_bound_rejects_before_the_names_are_compared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pair needing exact names to reach ``possible`` is rejected before comparing them.

    Neither name agrees exactly, so the names' bound is their best inexact outcomes.
    """
    config = MatchConfig(possible=40.3, probable=45.0, certain=50.0)
    w = _compiled(config)
    a = _person("Margaret", "Okafor")
    b = _person("Marguerite", "Okafur", phone="555-0199")
    plain = _evaluate(a, b, None, w, full=False, screened=False)
    assert plain[0] is MatchGrade.CERTAINLY_NOT
    assert plain[1] < config.possible
    calls: list[tuple[_Features, _Features]] = []
    original = matching._given_outcome

    def counted(x: _Features, y: _Features) -> str:
        calls.append((x, y))
        return original(x, y)

    monkeypatch.setattr(matching, "_given_outcome", counted)
    fast = _evaluate(a, b, None, w, full=False)
    assert fast[2] == ()
    assert calls == []
    # Exact names lift the bound: they are compared, and the pair is kept.
    c = _person("Margaret", "Okafor", phone="555-0199")
    assert _evaluate(a, c, None, w, full=False)[0] is MatchGrade.POSSIBLE
    assert len(calls) == 1
