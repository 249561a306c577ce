"""Fuzzing the HL7 v2 reader: only carecoord errors escape, and no PHI in messages.

Hypothesis drives :mod:`tests.hl7v2._fuzz` over mutated shared messages; each case is
read lenient, strict and with a default time zone, then taken through profiles and the
gap rules. Bounded to seconds here; ``benchmarks/fuzz_hl7v2.py`` runs it for longer.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fhir._shared import shared_data_dir
from tests.hl7v2 import _fuzz

EXAMPLES = {10: 10, 300: 400}.get(settings.default.max_examples, 60)
"""60 examples by default (a few seconds), 400 in the ``ci`` profile, 10 in ``fast``."""


@pytest.fixture(autouse=True)
def _shared_data() -> None:
    """Skip (or fail, when required) before Hypothesis starts if the data is absent."""
    shared_data_dir("hl7v2-fhir-converter")


class TestFuzz:
    """Nothing but carecoord errors, whatever the bytes."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(rng=st.randoms(use_true_random=False))
    def test_no_escape(self, rng: random.Random) -> None:
        """A mutated message gives issues or carecoord errors, never anything else."""
        kind, escapes = _fuzz.run_one(rng)

        assert escapes == [], kind

    @pytest.mark.parametrize("index", range(0, 78, 7))
    def test_every_sample_unmutated(self, index: int) -> None:
        """The samples themselves (secret planted) read cleanly."""
        pool = _fuzz.samples()
        data = _fuzz.plant(pool[index % len(pool)])

        assert _fuzz.check(data, "sample") == []

    def test_an_escape_is_caught(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The check itself sees a non-carecoord exception."""

        def broken(*_args: object, **_kwargs: object) -> None:
            raise KeyError(_fuzz.SECRET)

        monkeypatch.setattr("carecoord.hl7v2.read", broken)

        assert _fuzz.check(b"MSH|^~\\&|", "x") != []
