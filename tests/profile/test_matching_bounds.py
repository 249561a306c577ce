"""Matching costs what ordinary records cost, whatever the records hold.

The similarity measures are quadratic in string length; matching bounds the strings (and
the number of values of a field) it compares, so 64,000-character names are no slower
than ordinary ones. These tests count the work instead of timing it.
"""

from __future__ import annotations

import random
import string
from typing import Any

import pytest

from carecoord.domain import (
    Address,
    ContactPoint,
    ContactSystem,
    HumanName,
    PatientId,
)
from carecoord.profile import (
    COMPARED_LENGTH,
    MAX_COMPARED_VALUES,
    _strings,
    build_profiles,
    damerau_levenshtein,
    jaro_winkler,
)
from carecoord.profile._matching import _Features
from carecoord.profile._strings import jaro
from carecoord.testing import make_patient, make_record, make_source

LONG = 64_000


def letters(count: int, seed: int) -> str:
    """``count`` random lower-case letters (a fresh name, so no cache holds its answers)."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(count))


class TestMeasures:
    """The measures compare the first COMPARED_LENGTH characters only."""

    @pytest.mark.parametrize("measure", [jaro, jaro_winkler, damerau_levenshtein])
    def test_long_strings_compare_as_their_prefixes(self, measure: Any) -> None:
        """Each measure of two long strings equals the measure of their prefixes."""
        a, b = letters(LONG, 1), letters(LONG, 2)

        assert measure(a, b) == measure(a[:COMPARED_LENGTH], b[:COMPARED_LENGTH])

    def test_damerau_levenshtein_is_at_most_the_bound(self) -> None:
        """The distance of two long, different strings is at most COMPARED_LENGTH."""
        assert damerau_levenshtein("a" * LONG, "b" * LONG) == COMPARED_LENGTH

    def test_short_strings_are_unchanged(self) -> None:
        """Ordinary names are compared in full."""
        assert jaro_winkler("martha", "marhta") == pytest.approx(0.9611, abs=1e-4)
        assert damerau_levenshtein("ca", "abc") == 3


class TestProfiles:
    """Two records with 64,000-character names match with bounded work."""

    def records(self, *names: tuple[str, str]) -> list[Any]:
        """One record per ``(given, family)``, each from its own source."""
        return [
            make_record(
                source=make_source(id=f"s{n}"),
                patient=make_patient(
                    id=PatientId(f"p{n}"), names=(HumanName(family=family, given=(given,)),)
                ),
            )
            for n, (given, family) in enumerate(names)
        ]

    def test_jaro_never_sees_more_than_the_bound(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Building the profiles calls Jaro on strings of at most COMPARED_LENGTH characters."""
        seen: list[int] = []
        real = _strings._jaro

        def counting(a: str, b: str) -> float:
            seen.append(max(len(a), len(b)))
            return real(a, b)

        monkeypatch.setattr(_strings, "_jaro", counting)
        records = self.records(
            ("J" + letters(LONG, 3), "S" + letters(LONG, 4)),
            ("J" + letters(LONG, 5), "S" + letters(LONG, 6)),
        )

        build_profiles(records)

        assert seen
        assert max(seen) <= COMPARED_LENGTH

    def test_long_names_still_match(self) -> None:
        """Two records with the same long names are still one person."""
        given, family = letters(LONG, 7), letters(LONG, 8)

        profiles = build_profiles(self.records((given, family), (given, family)))

        assert len(profiles) == 1


class TestFeatures:
    """What matching reads of one record is bounded."""

    def test_many_tokens_and_names(self) -> None:
        """A record with thousands of name parts keeps at most MAX_COMPARED_VALUES of each."""
        words = " ".join(letters(8, n) for n in range(8_000))  # 71,999 characters
        names = tuple(
            HumanName(family=letters(20, n), given=(words, letters(6, n))) for n in range(500)
        )
        patient = make_patient(
            names=names,
            telecom=tuple(ContactPoint(ContactSystem.PHONE, f"555-{n:04d}") for n in range(500)),
            addresses=tuple(
                Address(lines=(f"{n} Main St",), postal_code="01101") for n in range(500)
            ),
        )

        features = _Features(patient)

        for values in (features.firsts, features.middles, features.families, features.phones):
            assert 0 < len(values) <= MAX_COMPARED_VALUES
        assert len(features.addresses) <= MAX_COMPARED_VALUES
        assert all(len(token) <= COMPARED_LENGTH for token in features.middles)
