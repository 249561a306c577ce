"""Misuse of the public API: a wrong kind of argument is a clear ``UsageError``, never internals.

Every public function of every public module is called with an object of the wrong kind;
each must raise :class:`carecoord.errors.UsageError` (a ``TypeError`` too) that names the
function and what it expected. The cases users actually hit get advice on what to call.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from carecoord import build_profiles, detect_gaps
from carecoord.errors import UsageError, checked
from carecoord.fhir import read
from carecoord.profile import jaro_winkler
from carecoord.testing import AS_OF, make_record

PUBLIC_MODULES = (
    "carecoord",
    "carecoord.domain",
    "carecoord.errors",
    "carecoord.terminology",
    "carecoord.profile",
    "carecoord.rules",
    "carecoord.fhir",
    "carecoord.serialization",
    "carecoord.testing",
    "carecoord.ports",
    "carecoord.services",
    "carecoord.hl7v2",
    "carecoord.interop",
    "carecoord.stores",
    "carecoord.display",
    "carecoord.plot",
)

TAKE_ANY_OBJECT = {
    "carecoord.domain.aware": "an attrs validator: it validates any value it is given",
    "carecoord.domain.optional_aware": "an attrs validator",
    "carecoord.domain.clinical_time": "an attrs validator",
    "carecoord.domain.masked": "a repr helper that masks whatever it is given",
    "carecoord.profile.fact_author": "reads the author of any fact (None when it has none)",
    "carecoord.errors.json_kind": "names the JSON type of any value",
    "carecoord.rules.param": "declares a rule parameter with a default of any type",
    "carecoord.rules.value_set_param": "declares a value-set parameter (checked by the rule)",
    "carecoord.serialization.dumps": "serialises any model; its own check is tested below",
    "carecoord.serialization.to_dict": "converts any model; its own check is tested below",
    "carecoord.fhir.gc_paused": "takes no argument",
    "carecoord.errors.checked_exports": "its namespace is checked; tested below",
    "carecoord.display.bounded_repr": "a repr of any object",
    "carecoord.display.esc": "HTML-escapes any value as text",
    "carecoord.hl7v2.send_mllp": "a coroutine function: left unwrapped so it stays one",
    "carecoord.hl7v2.serve_mllp": "a coroutine function: left unwrapped so it stays one",
}
"""Public functions not called with a wrong argument here, and why."""


class _Wrong:
    """An object of a kind no carecoord function expects."""


def _public_functions() -> list[tuple[str, Callable[..., Any]]]:
    found: dict[int, tuple[str, Callable[..., Any]]] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value) and id(value) not in found:
                found[id(value)] = (f"{module_name}.{name}", value)
    return sorted(found.values(), key=lambda item: item[0])


FUNCTIONS = [item for item in _public_functions() if item[0] not in TAKE_ANY_OBJECT]


def _wrong_call(fn: Callable[..., Any]) -> tuple[list[object], dict[str, object]]:
    """Arguments with a wrong object for every required parameter (or the first one)."""
    parameters = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    required = [p for p in parameters if p.default is p.empty] or parameters[:1]
    args = [_Wrong() for p in required if p.kind is not p.KEYWORD_ONLY]
    kwargs = {p.name: _Wrong() for p in required if p.kind is p.KEYWORD_ONLY}
    return args, kwargs


@pytest.mark.parametrize(("name", "fn"), FUNCTIONS, ids=[name for name, _ in FUNCTIONS])
def test_a_wrong_argument_is_a_usage_error(name: str, fn: Callable[..., Any]) -> None:
    """Each public function refuses a wrong kind of object with a message naming it."""
    args, kwargs = _wrong_call(fn)
    if not args and not kwargs:
        pytest.skip(f"{name} takes no argument")

    with pytest.raises(UsageError) as raised:
        fn(*args, **kwargs)

    message = str(raised.value)
    assert isinstance(raised.value, TypeError)
    assert "_Wrong" in message
    assert "expected" in message or "must be" in message


def _coordinator_methods() -> list[str]:
    from carecoord.services import Coordinator

    return sorted(
        name
        for name, value in vars(Coordinator).items()
        if not name.startswith("_") and inspect.isfunction(value)
    )


@pytest.mark.parametrize("method", _coordinator_methods())
def test_a_wrong_argument_to_a_coordinator_method_is_a_usage_error(method: str) -> None:
    """Each public method of the Coordinator refuses a wrong kind of object too."""
    from carecoord.services import Coordinator
    from carecoord.stores import MemoryStore

    bound = getattr(Coordinator(MemoryStore()), method)
    args, kwargs = _wrong_call(bound)
    if not args and not kwargs:
        pytest.skip(f"Coordinator.{method} takes no argument")

    with pytest.raises(UsageError) as raised:
        bound(*args, **kwargs)

    assert isinstance(raised.value, TypeError)
    assert "_Wrong" in str(raised.value)
    assert "self" not in str(raised.value).split(":")[0]


def test_a_wrong_store_is_a_usage_error() -> None:
    """``Coordinator(42)`` says what a store must provide."""
    from carecoord.services import Coordinator

    with pytest.raises(UsageError, match="store"):
        Coordinator(42)  # type: ignore[arg-type]


def test_every_skipped_function_is_public() -> None:
    """The list of functions that take any object names only existing public functions."""
    names = {name for name, _ in _public_functions()}

    assert set(TAKE_ANY_OBJECT) <= names


def test_detect_gaps_on_a_profile_set_points_at_the_population_function() -> None:
    """``detect_gaps(profiles)`` says it wants one profile and names detect_gaps_population."""
    profiles = build_profiles([make_record()])

    with pytest.raises(UsageError) as raised:
        detect_gaps(profiles, as_of=AS_OF)  # type: ignore[arg-type]

    message = str(raised.value)
    assert "expected a PatientProfile, got a ProfileSet" in message
    assert "detect_gaps_population(profiles" in message


def test_build_profiles_on_an_import_result_says_pass_its_records() -> None:
    """``build_profiles(result)`` says to pass ``result.records``."""
    result = read({"resourceType": "Bundle", "type": "collection", "entry": []})

    with pytest.raises(UsageError, match=r"got an ImportResult; pass result\.records"):
        build_profiles(result)  # type: ignore[arg-type]


def test_build_profiles_on_a_path_says_read_it_first() -> None:
    """``build_profiles("bundles/")`` says to read the files first with carecoord.fhir.read."""
    with pytest.raises(UsageError) as raised:
        build_profiles("bundles/")  # type: ignore[arg-type]

    assert "got a str; read files first with carecoord.fhir.read" in str(raised.value)
    assert "bundles/" not in str(raised.value)


def test_items_of_a_list_are_checked() -> None:
    """A list holding something else than records is refused before any work is done."""
    with pytest.raises(UsageError, match="records"):
        build_profiles([make_record(), {"resourceType": "Patient"}])  # type: ignore[list-item]


def test_an_iterator_is_not_consumed_by_the_check() -> None:
    """A generator of records passes the check whole: every record reaches the function."""
    records: Iterator[Any] = (make_record() for _ in range(2))

    profiles = build_profiles(records)

    assert len(profiles) == 1
    assert len(profiles.records) == 1  # the same record twice is one record


def test_messages_never_carry_the_value() -> None:
    """A wrong string argument is named by its type only (it may be patient data)."""
    with pytest.raises(UsageError) as raised:
        jaro_winkler("Alex Testperson", 1234)  # type: ignore[arg-type]

    assert "Testperson" not in str(raised.value)
    assert "got an int" in str(raised.value)


def test_checked_keeps_the_signature() -> None:
    """A checked function keeps its name, docstring and signature (for help() and IDEs)."""

    def sample(count: int, *, label: str = "x") -> str:
        """Say something."""
        return label * count

    wrapped = checked(sample)

    assert wrapped.__name__ == "sample"
    assert wrapped.__doc__ == "Say something."
    assert inspect.signature(wrapped) == inspect.signature(sample)
    assert wrapped(2, label="y") == "yy"
    with pytest.raises(UsageError, match=r"sample\(\) label: expected a str, got an int"):
        wrapped(2, label=3)  # type: ignore[arg-type]
