"""The garbage-collector pause: explicit, shared by threads, and left as it was found."""

from __future__ import annotations

import gc
import threading
from typing import Any
from unittest import mock

from carecoord import fhir
from carecoord.fhir import _read
from tests._helpers import collector

CONDITION = {
    "resourceType": "Condition",
    "id": "c1",
    "subject": {"reference": "Patient/p1"},
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]},
}
PATIENT = {"resourceType": "Patient", "id": "p1"}


class TestGcPaused:
    """``gc_paused`` counts the pauses in force and restores the collector after the last."""

    def test_nested_pauses_end_with_the_outer_one(self) -> None:
        """An inner pause ending does not re-enable the collector under an outer one."""
        with collector(True):
            with fhir.gc_paused():
                with fhir.gc_paused():
                    assert not gc.isenabled()
                assert not gc.isenabled()
            assert gc.isenabled()

    def test_a_disabled_collector_stays_disabled(self) -> None:
        """A collector the caller turned off is not turned on by the pause ending."""
        with collector(False):
            with fhir.gc_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()

    def test_restored_when_the_body_raises(self) -> None:
        """The collector is on again when the paused block raises."""
        with collector(True):
            try:
                with fhir.gc_paused():
                    raise KeyError("boom")
            except KeyError:
                pass
            assert gc.isenabled()

    def test_survivors_go_to_the_oldest_generation_unexamined(self) -> None:
        """What the pause let accumulate is not walked by a young collection after it.

        Objects allocated while paused end in the oldest generation, and the youngest
        generation's allocation count starts again from zero, so the first allocations
        after the pause do not trigger a collection over all of them.
        """
        with collector(True):
            with fhir.gc_paused():
                made = [[n] for n in range(50_000)]
            young, middle, _ = gc.get_count()
            assert young < 1_000
            assert middle == 0
            oldest = {id(obj) for obj in gc.get_objects(generation=2)}
            assert all(id(item) in oldest for item in made[::5_000])
            assert gc.get_freeze_count() == 0

    def test_objects_the_caller_froze_stay_frozen(self) -> None:
        """Objects the caller froze stay frozen: the pause does not promote then.

        A process may freeze objects before forking workers; unfreezing would thaw them.
        """
        with collector(True):
            gc.freeze()
            try:
                frozen = gc.get_freeze_count()
                assert frozen > 0
                with fhir.gc_paused():
                    made = [[n] for n in range(1_000)]
                assert gc.get_freeze_count() == frozen
                assert gc.isenabled()
                assert len(made) == 1_000
            finally:
                gc.unfreeze()

    def test_two_threads_overlapping(self) -> None:
        """The first thread to finish leaves the collector off while the second still runs."""
        entered = [threading.Event(), threading.Event()]
        first_done = threading.Event()
        release_second = threading.Event()
        seen: dict[str, bool] = {}

        def first() -> None:
            with fhir.gc_paused():
                entered[0].set()
                entered[1].wait(5)
            first_done.set()

        def second() -> None:
            entered[0].wait(5)
            with fhir.gc_paused():
                entered[1].set()
                first_done.wait(5)
                seen["after first ended"] = gc.isenabled()
                release_second.wait(5)

        with collector(True):
            threads = [threading.Thread(target=first), threading.Thread(target=second)]
            for thread in threads:
                thread.start()
            first_done.wait(5)
            release_second.set()
            for thread in threads:
                thread.join(5)
            assert seen == {"after first ended": False}
            assert gc.isenabled()

    def test_many_threads_reading_at_once(self) -> None:
        """Concurrent reads each run with the collector off; it is on once all have ended."""
        seen: list[bool] = []
        lock = threading.Lock()
        barrier = threading.Barrier(6)
        original = _read._MAPPERS["Condition"]

        def spy(*args: Any) -> Any:
            with lock:
                seen.append(gc.isenabled())
            return original(*args)

        def reader() -> None:
            barrier.wait(5)
            for _ in range(20):
                result = fhir.read([PATIENT, CONDITION])
                assert len(result.records) == 1

        with collector(True), mock.patch.dict(_read._MAPPERS, {"Condition": spy}):
            threads = [threading.Thread(target=reader) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert gc.isenabled()
        assert seen == [False] * 120


class TestReadOption:
    """``read(pause_gc=False)`` leaves the collector alone."""

    def test_not_paused_when_asked(self) -> None:
        """With ``pause_gc=False`` mappers run with the collector as the caller left it."""
        seen: list[bool] = []
        original = _read._MAPPERS["Condition"]

        def spy(*args: Any) -> Any:
            seen.append(gc.isenabled())
            return original(*args)

        with collector(True), mock.patch.dict(_read._MAPPERS, {"Condition": spy}):
            fhir.read([PATIENT, CONDITION], pause_gc=False)
            fhir.read([PATIENT, CONDITION])
        assert seen == [True, False]
