"""Misuse of the public classes: a wrong kind of constructor argument is a clear ``UsageError``.

Every public class of every public module (``__all__``) is constructed with an object of
the wrong kind for each of its required parameters (or its first one); each must raise
:class:`carecoord.errors.UsageError` (a ``TypeError`` too) naming the class, the
parameter, what it expected and the type given, never the value, never a raw
``AttributeError`` from inside. The value models that readers and the merge build once per
element are listed in ``VALIDATED_MODELS``: a constructor check would slow every read, and
their attrs validators already refuse wrong values with a ``ValidationError``.
"""

from __future__ import annotations

import enum
import importlib
import inspect
from typing import Any

import pytest

from carecoord.errors import CarecoordError, UsageError

PUBLIC_MODULES = (
    "carecoord",
    "carecoord.errors",
    "carecoord.domain",
    "carecoord.terminology",
    "carecoord.profile",
    "carecoord.rules",
    "carecoord.fhir",
    "carecoord.hl7v2",
    "carecoord.interop",
    "carecoord.ports",
    "carecoord.services",
    "carecoord.stores",
    "carecoord.testing",
    "carecoord.display",
)

_DOMAIN_MODELS = (  # noqa: SIM905 - a list of names, read as words
    "Acknowledgement Address Allergy Appointment CarePlan CarePlanActivity CareTeam "
    "CareTeamMember CareTransition Code Communication Condition Consent ContactPoint "
    "CoordinationActivity Diagnosis Document Encounter Enrollment Goal HumanName Identifier "
    "Medication Note Order Organization PartialDate Patient PatientLink Period "
    "Practitioner PriorAuthorization Procedure Quantity Reconciliation ReconciliationDecision "
    "Ref Referral RelatedPerson Result ResultComponent SocialNeed Source StatusChange Task"
).split()

_STORE_ROWS = (  # noqa: SIM905 - a list of names, read as words
    "AccessEntry Event GapNote GapState LedgerEntry Person RecordHead StoredRecord TaskEntry"
).split()

VALIDATED_MODELS = {
    **dict.fromkeys(_DOMAIN_MODELS, "a domain model: built by the readers for every element"),
    "Fact": "built by the merge for every fact of every profile",
    "Provenance": "built by the merge for every fact of every profile",
    "FactConflict": "built by the merge for every disagreement",
    "TimelineEvent": "built for every event of every timeline",
    "FieldEvidence": "built by the linker for every field of every compared pair",
    "MatchResult": "built by the linker for every compared pair",
    "ScoredPair": "built by the cluster pipeline for every scored candidate pair",
    "Gap": "built by every rule for every gap",
    "Field": "built by the HL7 v2 parser for every field",
    "Segment": "built by the HL7 v2 parser for every segment",
    **dict.fromkeys(_STORE_ROWS, "a store row: built for every row a worklist or ingest reads"),
}
"""Classes whose constructors are not checked, and why (each is built per element)."""

UNVALIDATED_FIELDS = {
    "CarePlanActivity", "CareTeamMember", "Diagnosis", "Fact", "FactConflict", "Field",
    "FieldEvidence", "HumanName", "MatchResult", "ScoredPair", "Note", "PriorAuthorization",
    "Provenance",
    "ReconciliationDecision", "ResultComponent", "AccessEntry", "Event", "GapNote",
    "GapState", "LedgerEntry", "Person", "RecordHead", "StoredRecord", "TaskEntry",
}  # fmt: skip
"""Models among those whose first (or required) field has no validator: a wrong object is
kept as given (type checkers catch it; a run-time check would cost every read)."""


class _Wrong:
    """An object of a kind no carecoord class expects."""


def _public_classes() -> list[tuple[str, type]]:
    found: dict[int, tuple[str, type]] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if (
                not isinstance(value, type)
                or issubclass(value, BaseException | enum.Enum)
                or getattr(value, "_is_protocol", False)
                or id(value) in found
            ):
                continue
            found[id(value)] = (name, value)
    return sorted(found.values(), key=lambda item: item[0])


def _wrong_call(cls: type) -> tuple[list[object], dict[str, object]]:
    """Arguments with a wrong object for every required parameter (or the first one)."""
    parameters = [
        p
        for p in inspect.signature(cls).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    required = [p for p in parameters if p.default is p.empty] or parameters[:1]
    args = [_Wrong() for p in required if p.kind is not p.KEYWORD_ONLY]
    kwargs = {p.name: _Wrong() for p in required if p.kind is p.KEYWORD_ONLY}
    return args, kwargs


CLASSES = [item for item in _public_classes() if item[0] not in VALIDATED_MODELS]


@pytest.mark.parametrize(("name", "cls"), CLASSES, ids=[name for name, _ in CLASSES])
def test_a_wrong_constructor_argument_is_a_usage_error(name: str, cls: type) -> None:
    """Each public class refuses a wrong kind of object with a message naming it."""
    args, kwargs = _wrong_call(cls)
    if not args and not kwargs:
        pytest.skip(f"{name} takes no argument")

    with pytest.raises(UsageError) as raised:
        cls(*args, **kwargs)

    message = str(raised.value)
    assert isinstance(raised.value, TypeError)
    assert message.startswith(f"{name}() ")
    assert "expected" in message
    assert "_Wrong" in message
    assert "object at 0x" not in message


@pytest.mark.parametrize("name", sorted(set(VALIDATED_MODELS) - UNVALIDATED_FIELDS))
def test_a_validated_model_refuses_a_wrong_object_with_a_carecoord_error(name: str) -> None:
    """The models left unchecked still refuse a wrong object with a carecoord error."""
    classes = dict(_public_classes())
    args, kwargs = _wrong_call(classes[name])

    with pytest.raises((CarecoordError, TypeError)) as raised:
        classes[name](*args, **kwargs)

    assert isinstance(raised.value, CarecoordError)
    assert "object at 0x" not in str(raised.value)


def test_every_validated_model_is_public() -> None:
    """The list of unchecked models names only existing public classes."""
    assert set(VALIDATED_MODELS) <= {name for name, _ in _public_classes()}
    assert set(VALIDATED_MODELS) >= UNVALIDATED_FIELDS


def test_a_checked_constructor_names_the_class_and_keeps_its_signature() -> None:
    """``MatchConfig(weights)`` names MatchConfig and the parameter, and help() still works."""
    from carecoord.profile import MatchConfig

    with pytest.raises(UsageError, match=r"^MatchConfig\(\) \w+: expected .*, got a _Wrong"):
        MatchConfig(_Wrong())  # type: ignore[arg-type]
    assert "self" not in str(inspect.signature(MatchConfig))


def test_a_checked_constructor_still_builds(tmp_path: Any) -> None:
    """A right call is unchanged: the checked constructors build what they built before."""
    from carecoord.rules import BusinessCalendar, Overrides, RuleSet, default_rules
    from carecoord.stores import SQLiteStore

    rules = RuleSet(default_rules())
    store = SQLiteStore(tmp_path / "s.db")
    try:
        assert len(rules) == len(default_rules())
        assert Overrides() == Overrides()
        assert BusinessCalendar().is_business_day is not None
    finally:
        store.close()
