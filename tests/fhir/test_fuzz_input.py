"""Fuzzing the input path: only carecoord errors, no secret in messages, clean text.

Hypothesis drives the generator of ``tests/fhir/_fuzz.py``: mutated shared FHIR documents
(as objects, bytes, text with leading marks, NDJSON, files with patient-like names, gzip)
and hand-made hostile text (deep nesting, lone surrogates, NULs, huge numbers, byte-order
marks, long strings, special files). Every input is read with the standard-library JSON
parser and with orjson, and taken through strict reading, value-set reading, profiles,
the text renderers, the writers and the serialization round trip. The run is bounded
(about a minute with ``CARECOORD_HYPOTHESIS_PROFILE=ci``); ``benchmarks/fuzz_input.py``
runs the same check for as long as wanted.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import _fuzz
from ._shared import shared_data_dir

EXAMPLES = {10: 20, 300: 1500}.get(settings.default.max_examples, 200)
"""200 examples by default (about 10 s), 1,500 in the ``ci`` profile (about a minute), 20
in ``fast``."""


@pytest.fixture(autouse=True)
def _shared_data() -> None:
    """Skip (or fail, when required) before Hypothesis starts if the data is absent."""
    shared_data_dir()


class TestFuzz:
    """Nothing but carecoord errors, whatever the input."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(rng=st.randoms(use_true_random=False))
    def test_no_escape(self, rng: random.Random) -> None:
        """A hostile input gives issues or carecoord errors, never anything else."""
        kind, escapes = _fuzz.run_one(rng)

        assert escapes == [], kind

    @pytest.mark.parametrize("seed", range(40))
    def test_hand_made(self, seed: int) -> None:
        """Each hand-made hostile text, with both parsers, escapes nothing."""
        assert _fuzz.check(_fuzz.hand_made(random.Random(seed)), "hand-made") == []

    def test_an_escape_is_caught(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The check itself sees a non-carecoord exception and a leaked secret."""

        def broken(*_args: object, **_kwargs: object) -> None:
            raise KeyError(_fuzz.SECRET)

        monkeypatch.setattr(_fuzz.fhir, "write_bundle", broken)
        escapes = _fuzz.check({"resourceType": "Patient", "id": "p1"})

        assert {(e.step, e.what) for e in escapes} == {("write-bundle", "KeyError")}
        assert {e.backend for e in escapes} == set(_fuzz.BACKENDS)
