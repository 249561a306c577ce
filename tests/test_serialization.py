"""Canonical JSON: round trips for every model, the envelope, and strict, complete errors."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
import zoneinfo
from collections.abc import Iterator
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecoord import domain
from carecoord.domain import (
    Code,
    Condition,
    PartialDate,
    PatientRecord,
    Quantity,
    Result,
    Sensitivity,
    Task,
)
from carecoord.errors import Problem, UnsupportedSchemaVersion, UsageError, ValidationError
from carecoord.serialization import (
    SCHEMA_VERSION,
    configure_converter,
    dumps,
    from_dict,
    loads,
    make_converter,
    to_dict,
)
from carecoord.testing import (
    AS_OF,
    days_before,
    make_activity,
    make_allergy,
    make_appointment,
    make_care_plan,
    make_care_team,
    make_communication,
    make_condition,
    make_consent,
    make_encounter,
    make_enrollment,
    make_goal,
    make_medication,
    make_order,
    make_procedure,
    make_reconciliation,
    make_record,
    make_referral,
    make_result,
    make_social_need,
    make_task,
    make_transition,
)
from carecoord.testing import strategies as cs
from tests._helpers import outputs_under_hash_seeds

# --------------------------------------------------------------------------- fixtures

CASES: list[tuple[type[Any], st.SearchStrategy[Any]]] = [
    (domain.Acknowledgement, cs.acknowledgements()),
    (domain.Address, cs.addresses()),
    (domain.Allergy, cs.allergies()),
    (domain.Appointment, cs.appointments()),
    (domain.CarePlan, cs.care_plans()),
    (domain.CarePlanActivity, cs.care_plan_activities()),
    (domain.CareTeam, cs.care_teams()),
    (domain.CareTeamMember, cs.care_team_members()),
    (domain.CareTransition, cs.transitions()),
    (domain.Code, cs.codes()),
    (domain.Communication, cs.communications()),
    (domain.Condition, cs.conditions()),
    (domain.Consent, cs.consents()),
    (domain.ContactPoint, cs.contact_points()),
    (domain.CoordinationActivity, cs.coordination_activities()),
    (domain.Diagnosis, cs.diagnoses()),
    (domain.Document, cs.documents()),
    (domain.Encounter, cs.encounters()),
    (domain.Enrollment, cs.enrollments()),
    (domain.Goal, cs.goals()),
    (domain.HumanName, cs.human_names()),
    (domain.Identifier, cs.identifiers()),
    (domain.Medication, cs.medications()),
    (domain.Note, cs.notes()),
    (domain.Order, cs.orders()),
    (domain.Organization, cs.organizations()),
    (domain.PartialDate, cs.partial_dates()),
    (domain.Patient, cs.patients()),
    (domain.PatientLink, cs.patient_links()),
    (domain.PatientRecord, cs.patient_records()),
    (domain.Period, cs.periods()),
    (domain.Practitioner, cs.practitioners()),
    (domain.PriorAuthorization, cs.prior_authorizations()),
    (domain.Procedure, cs.procedures()),
    (domain.Quantity, cs.quantities()),
    (domain.Reconciliation, cs.reconciliations()),
    (domain.ReconciliationDecision, cs.reconciliation_decisions()),
    (domain.Ref, cs.refs()),
    (domain.Referral, cs.referrals()),
    (domain.RelatedPerson, cs.related_persons()),
    (domain.Result, cs.results()),
    (domain.ResultComponent, cs.result_components()),
    (domain.SocialNeed, cs.social_needs()),
    (domain.Source, cs.sources()),
    (domain.StatusChange, cs.status_changes()),
    (domain.Task, cs.tasks()),
]

ROUND_TRIP = settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PHI = "Zyxwvutperson"
"""A synthetic family name that must never be echoed in an error message."""


def _rich_record() -> PatientRecord:
    """A valid record with one fact of every kind; the task has three history entries."""
    task = (
        make_task()
        .accept(at=days_before(0.9))
        .start(at=days_before(0.8))
        .complete(at=days_before(0.7))
    )
    referral = make_referral().accept(at=days_before(4)).schedule("appointment-1", at=AS_OF)
    return make_record(
        care_teams=(make_care_team(),),
        referrals=(referral,),
        transitions=(make_transition(),),
        tasks=(task,),
        encounters=(
            make_encounter(sensitivity=frozenset({Sensitivity.MENTAL_HEALTH, Sensitivity.HIV})),
        ),
        conditions=(make_condition(),),
        medications=(make_medication(),),
        allergies=(make_allergy(),),
        orders=(make_order(),),
        results=(make_result(),),
        appointments=(make_appointment(),),
        care_plans=(make_care_plan(),),
        goals=(make_goal(),),
        social_needs=(make_social_need(),),
        communications=(make_communication(),),
        consents=(make_consent(),),
        reconciliations=(make_reconciliation(),),
        procedures=(make_procedure(),),
        enrollments=(make_enrollment(),),
        activities=(make_activity(),),
    )


RECORD = _rich_record()
DOCUMENT = to_dict(RECORD)


def _document() -> dict[str, Any]:
    """A fresh, mutable copy of the valid record document."""
    return copy.deepcopy(DOCUMENT)


def _problems(excinfo: pytest.ExceptionInfo[ValidationError]) -> set[tuple[str, str]]:
    return {(p.path, p.message) for p in excinfo.value.problems}


# --------------------------------------------------------------------------- round trips


class TestRoundTrip:
    """Whatever dumps writes, loads reads back equal, for every model."""

    def test_every_domain_model_has_a_case(self) -> None:
        """CASES covers exactly the attrs classes carecoord.domain exports."""
        exported = {
            obj
            for name in domain.__all__
            if isinstance(obj := getattr(domain, name), type) and attrs.has(obj)
        }

        assert {cls for cls, _ in CASES} == exported

    @pytest.mark.parametrize(("cls", "strategy"), CASES, ids=[c.__name__ for c, _ in CASES])
    @ROUND_TRIP
    @given(data=st.data())
    def test_loads_dumps_round_trip(
        self, cls: type[Any], strategy: st.SearchStrategy[Any], data: st.DataObject
    ) -> None:
        """loads(dumps(x), type(x)) == x, and the text is a fixed point."""
        value = data.draw(strategy)
        assert type(value) is cls

        text = dumps(value)
        back = loads(text, cls)

        assert back == value
        assert dumps(back) == text
        assert from_dict(to_dict(value), cls) == value

    def test_rich_record_round_trips(self) -> None:
        """A record with one fact of every kind and walked lifecycles round-trips."""
        assert loads(dumps(RECORD), PatientRecord) == RECORD
        assert loads(dumps(RECORD).encode(), PatientRecord) == RECORD

    def test_new_york_offsets_are_kept(self) -> None:
        """A zoneinfo datetime is written with its offset and reads back the same instant."""
        new_york = zoneinfo.ZoneInfo("America/New_York")
        winter = dt.datetime(2026, 1, 5, 9, 30, tzinfo=new_york)
        summer = dt.datetime(2026, 7, 5, 9, 30, tzinfo=new_york)
        task = make_task(authored_on=winter, due=summer)

        data = to_dict(task)["data"]

        assert data["authored_on"] == "2026-01-05T09:30:00-05:00"
        assert data["due"] == "2026-07-05T09:30:00-04:00"
        assert from_dict(to_dict(task), Task) == task

    def test_ambiguous_local_time_keeps_its_instant(self) -> None:
        """A time in the DST fold keeps its instant and offset (Python will not call it equal)."""
        new_york = zoneinfo.ZoneInfo("America/New_York")
        second_half_past_one = dt.datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=new_york)
        task = make_task(authored_on=second_half_past_one, due=None)

        back = loads(dumps(task), Task)

        assert to_dict(task)["data"]["authored_on"] == "2025-11-02T01:30:00-05:00"
        assert back.authored_on.astimezone(dt.UTC) == second_half_past_one.astimezone(dt.UTC)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("1985", PartialDate(1985)),
            ("1985-06", PartialDate(1985, 6)),
            ("1985-06-30", PartialDate(1985, 6, 30)),
            ("2026-03-02T14:00:00+00:00", AS_OF),
            ("2026-03-02T09:00:00-05:00", AS_OF),
            ("2026-03-02T14:00:00Z", AS_OF),
        ],
    )
    def test_clinical_time_is_read_by_its_form(self, text: str, expected: object) -> None:
        """A clinical time with a T is a datetime; without, a partial date of its precision."""
        document = to_dict(make_condition())
        document["data"]["onset"] = text

        onset = from_dict(document, Condition).onset

        assert onset == expected
        assert type(onset) is type(expected)

    @pytest.mark.parametrize(
        ("value", "written"),
        [
            (Quantity(8.1, "%"), {"value": 8.1, "unit": "%"}),
            (
                Code("urn:x", "pos", "Positive"),
                {"system": "urn:x", "code": "pos", "display": "Positive", "also": []},
            ),
            ("trace", "trace"),
            (None, None),
        ],
    )
    def test_result_value_is_read_by_its_shape(self, value: object, written: object) -> None:
        """A result value is a Quantity, a Code or text, told apart by its JSON shape.

        A code is written with every field, its other codings (``also``, empty here)
        included: every field is written.
        """
        result = make_result(value=value)

        data = to_dict(result)["data"]

        assert data["value"] == written
        back = from_dict(to_dict(result), Result)
        assert back.value == value
        assert type(back.value) is type(value)

    def test_every_field_is_written_and_none_is_null(self) -> None:
        """Nothing is omitted: every attrs field appears, None as null."""
        data = to_dict(make_condition())["data"]

        assert list(data) == [f.name for f in attrs.fields(Condition)]
        assert data["abatement"] is None
        assert data["sensitivity"] == []

    def test_fields_with_defaults_may_be_left_out_on_input(self) -> None:
        """A minimal document gets the model's defaults."""
        document = {
            "schema": "carecoord/1",
            "type": "Condition",
            "data": {"id": "c-1", "patient": "p-1", "code": {"system": "urn:x", "code": "1"}},
        }

        assert from_dict(document, Condition) == Condition("c-1", "p-1", Code("urn:x", "1"))


class TestDeterminism:
    """Equal objects give equal text, whatever the set iteration order."""

    @ROUND_TRIP
    @given(cs.patient_records(max_facts=1))
    def test_dumps_twice_gives_the_same_text(self, record: PatientRecord) -> None:
        """Writing the same record twice gives identical text."""
        assert dumps(record) == dumps(record)

    def test_frozensets_are_sorted(self) -> None:
        """Frozensets are written as arrays sorted by value, whatever the insertion order."""
        forward = make_encounter(
            sensitivity=frozenset([Sensitivity.HIV, Sensitivity.MENTAL_HEALTH])
        )
        backward = make_encounter(
            sensitivity=frozenset([Sensitivity.MENTAL_HEALTH, Sensitivity.HIV])
        )

        assert dumps(forward) == dumps(backward)
        assert to_dict(forward)["data"]["sensitivity"] == ["HIV", "PSY"]

    def test_text_is_the_same_under_different_hash_seeds(self) -> None:
        """Two interpreters with different PYTHONHASHSEED write byte-identical documents."""
        code = (
            "from carecoord.serialization import dumps\n"
            "from carecoord.domain import Sensitivity\n"
            "from carecoord.testing import make_consent\n"
            "print(dumps(make_consent(classes=frozenset(Sensitivity))))\n"
        )
        outputs = outputs_under_hash_seeds(code)

        assert len(outputs) == 1

    def test_indent_only_changes_layout(self) -> None:
        """Indented and compact text hold the same document."""
        assert json.loads(dumps(RECORD, indent=2)) == json.loads(dumps(RECORD))
        assert "\n" in dumps(RECORD, indent=2)
        assert "\n" not in dumps(RECORD)


# --------------------------------------------------------------------------- envelope


class TestEnvelope:
    """Every document says its schema version and type; loads checks both."""

    def test_envelope_shape(self) -> None:
        """to_dict wraps the data in schema, type and data, in that order."""
        document = to_dict(make_task())

        assert list(document) == ["schema", "type", "data"]
        assert document["schema"] == f"carecoord/{SCHEMA_VERSION}" == "carecoord/1"
        assert document["type"] == "Task"

    def test_newer_schema_version_is_refused_clearly(self) -> None:
        """A document from a newer carecoord raises UnsupportedSchemaVersion, a ValidationError."""
        document = _document()
        document["schema"] = "carecoord/2"

        with pytest.raises(UnsupportedSchemaVersion) as info:
            loads(json.dumps(document), PatientRecord)

        assert isinstance(info.value, ValidationError)
        assert info.value.problems == (
            Problem(
                "schema",
                "written by a newer carecoord (schema version 2); this version reads up to 1",
            ),
        )

    @pytest.mark.parametrize("schema", ["carecoord/0", "othertool/1", "carecoord", 1, None])
    def test_unknown_schema_is_a_validation_error(self, schema: object) -> None:
        """An unknown schema is a plain ValidationError on the path schema."""
        document = _document()
        document["schema"] = schema

        with pytest.raises(ValidationError) as info:
            from_dict(document, PatientRecord)

        assert not isinstance(info.value, UnsupportedSchemaVersion)
        assert [p.path for p in info.value.problems] == ["schema"]

    def test_missing_envelope_fields_are_all_reported(self) -> None:
        """A bare object lacks schema, type and data; all three are reported."""
        with pytest.raises(ValidationError) as info:
            loads("{}", PatientRecord)

        assert _problems(info) == {
            ("schema", "missing required field"),
            ("type", "missing required field"),
            ("data", "missing required field"),
        }

    def test_mismatched_type_is_reported(self) -> None:
        """A Task document read as a PatientRecord names both types."""
        with pytest.raises(ValidationError) as info:
            loads(dumps(make_task()), PatientRecord)

        assert _problems(info) == {("type", "expected a PatientRecord document, got Task")}

    def test_unknown_type_is_not_echoed(self) -> None:
        """A type that is not a carecoord model is reported without repeating it."""
        document = _document()
        document["type"] = PHI

        with pytest.raises(ValidationError) as info:
            from_dict(document, PatientRecord)

        assert _problems(info) == {("type", "expected a PatientRecord document")}

    def test_unknown_envelope_field(self) -> None:
        """Extra envelope fields are refused."""
        document = _document()
        document["comment"] = "hello"

        with pytest.raises(ValidationError) as info:
            from_dict(document, PatientRecord)

        assert _problems(info) == {("comment", "unknown field")}

    def test_document_must_be_an_object(self) -> None:
        """A JSON array is not a document."""
        with pytest.raises(ValidationError) as info:
            loads("[]", PatientRecord)

        assert _problems(info) == {
            ("", "expected a carecoord document (an object), got array"),
        }


# --------------------------------------------------------------------------- bad input


class TestBadInput:
    """Bad input raises one ValidationError listing every problem with its full path."""

    def test_naive_datetime_in_history(self) -> None:
        """A naive datetime deep in a history is reported at history[2].at."""
        document = to_dict(RECORD.tasks[0])
        document["data"]["history"][2]["at"] = "2026-03-01T10:00:00"

        with pytest.raises(ValidationError) as info:
            from_dict(document, Task)

        assert _problems(info) == {("history[2].at", "naive datetime")}

    def test_bad_birth_date(self) -> None:
        """A birth date in another format names the accepted forms."""
        document = _document()
        document["data"]["patient"]["birth_date"] = "12/04/1961"

        with pytest.raises(ValidationError) as info:
            from_dict(document, PatientRecord)

        assert _problems(info) == {
            ("patient.birth_date", "expected a date written YYYY, YYYY-MM or YYYY-MM-DD"),
        }

    def test_impossible_partial_date(self) -> None:
        """A well-formed but impossible date says which part is wrong."""
        document = _document()
        document["data"]["patient"]["birth_date"] = "1961-02-30"

        with pytest.raises(ValidationError) as info:
            from_dict(document, PatientRecord)

        assert _problems(info) == {
            ("patient.birth_date", "not a real date (day: no such day in that month)"),
        }

    def test_invalid_enum_value(self) -> None:
        """A status that is not a TaskStatus is named with the enum."""
        document = _document()
        document["data"]["tasks"][0]["status"] = "finished"

        with pytest.raises(ValidationError) as info:
            from_dict(document, PatientRecord)

        assert _problems(info) == {("tasks[0].status", "'finished' is not a valid TaskStatus")}

    def test_missing_required_field(self) -> None:
        """A missing required field is reported at its path."""
        document = _document()
        del document["data"]["source"]["id"]

        with pytest.raises(ValidationError) as info:
            from_dict(document, PatientRecord)

        assert _problems(info) == {("source.id", "missing required field")}

    @pytest.mark.parametrize(
        ("path", "value", "message"),
        [
            (("patient", "names", 0, "family"), 12, "expected string, got number"),
            (("patient", "deceased"), "yes", "expected boolean, got string"),
            (("activities", 0, "minutes"), 1.5, "expected integer, got number"),
            (("activities", 0, "minutes"), True, "expected integer, got boolean"),
            (("medications", 0, "dose", "value"), "10", "expected number, got string"),
            (("conditions", 0, "code"), [], "expected object, got array"),
            (("tasks", 0, "notes"), "call back", "expected array, got string"),
            (("tasks", 0, "authored_on"), 1700000000, "expected a date-time string, got number"),
            (
                ("tasks", 0, "authored_on"),
                "yesterday",
                "expected a date-time written YYYY-MM-DDThh:mm:ss±hh:mm",
            ),
            (("patient", "sex"), None, "expected string, got null"),
            (
                ("results", 0, "value"),
                {"unit": "%"},
                'expected a Quantity (an object with "value") or a Code (with "system")',
            ),
            (("results", 0, "value"), 8.1, "expected an object or a string, got number"),
        ],
    )
    def test_wrong_types_are_named(
        self, path: tuple[str | int, ...], value: object, message: str
    ) -> None:
        """A value of the wrong JSON type is reported with the expected and actual type."""
        document = _document()
        parent: Any = document["data"]
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value

        with pytest.raises(ValidationError) as info:
            from_dict(document, PatientRecord)

        expected_path = "".join(
            f"[{step}]" if isinstance(step, int) else f".{step}" for step in path
        ).lstrip(".")
        assert _problems(info) == {(expected_path, message)}

    def test_every_problem_is_reported_at_once(self) -> None:
        """Problems in many places of one document all come back in one error."""
        document = _document()
        data = document["data"]
        data["tasks"][0]["history"][2]["at"] = "2026-03-01T10:00:00"
        data["tasks"][0]["status"] = "finished"
        data["patient"]["birth_date"] = "12/04/1961"
        del data["source"]["id"]
        data["patient"]["names"][0]["family"] = 12
        data["patient"]["nickname"] = "x"
        data["activities"][0]["minutes"] = "15"
        data["encounters"][0]["sensitivity"] = ["HIV", "nope"]

        with pytest.raises(ValidationError) as info:
            loads(json.dumps(document), PatientRecord)

        assert _problems(info) == {
            ("source.id", "missing required field"),
            ("patient.names[0].family", "expected string, got number"),
            ("patient.birth_date", "expected a date written YYYY, YYYY-MM or YYYY-MM-DD"),
            ("patient.nickname", "unknown field"),
            ("tasks[0].status", "'finished' is not a valid TaskStatus"),
            ("tasks[0].history[2].at", "naive datetime"),
            ("encounters[0].sensitivity[1]", "value is not a valid Sensitivity"),
            ("activities[0].minutes", "expected integer, got string"),
        }
        assert "8 problems" in str(info.value)

    def test_every_failing_validator_is_reported(self) -> None:
        """Every failing field is listed, though attrs stops at the first failing validator."""
        document = to_dict(make_task())
        document["data"]["id"] = ""
        document["data"]["patient"] = " "

        with pytest.raises(ValidationError) as info:
            from_dict(document, Task)

        assert _problems(info) == {
            ("id", "must be a non-empty string"),
            ("patient", "must be a non-empty string"),
        }

    def test_model_rules_are_reported_at_their_path(self) -> None:
        """A record-level rule (facts name the record's patient) keeps its full path."""
        document = _document()
        document["data"]["goals"][0]["patient"] = "someone-else"

        with pytest.raises(ValidationError) as info:
            from_dict(document, PatientRecord)

        assert _problems(info) == {("goals[0].patient", "names another patient than the record")}

    def test_nested_model_rule_gets_its_prefix(self) -> None:
        """A class rule raised inside a nested object is placed under that object's path."""
        document = _document()
        document["data"]["encounters"][0]["period"]["end"] = "2000-01-01T00:00:00+00:00"

        with pytest.raises(ValidationError) as info:
            from_dict(document, PatientRecord)

        assert _problems(info) == {
            ("encounters[0].period.end", "a period cannot end before it starts"),
        }

    @pytest.mark.parametrize(
        "text", ["", "{", '{"schema": "carecoord/1",}', "NaN", '{"a": 1, "a": 2}', b"\xff\xfe\xff"]
    )
    def test_malformed_json_is_one_problem(self, text: str | bytes) -> None:
        """Text that is not (strict) JSON gives exactly one problem."""
        with pytest.raises(ValidationError) as info:
            loads(text, PatientRecord)

        assert len(info.value.problems) == 1
        assert info.value.problems[0].message.startswith("malformed JSON")

    def test_non_text_input(self) -> None:
        """Passing something that is not text is misuse: a UsageError (also a TypeError)."""
        with pytest.raises(UsageError, match="got None"):
            loads(None, PatientRecord)  # type: ignore[arg-type]

    @pytest.mark.parametrize("cls", [int, "PatientRecord", None])
    def test_a_class_that_is_not_a_model_is_misuse(self, cls: object) -> None:
        """loads, from_dict and to_dict refuse a non-model class with a UsageError."""
        with pytest.raises(UsageError) as info:
            from_dict({}, cls)  # type: ignore[arg-type]
        assert isinstance(info.value, TypeError)
        with pytest.raises(UsageError):
            loads("{}", cls)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "text",
        [
            "[" * 100_000 + "]" * 100_000,
            '{"schema": "carecoord/1", "type": "PatientRecord", "data": "\ud800"}',
            '{"schema": "carecoord/1", "type": "PatientRecord", "data": 1e999}',
            '{"schema": "carecoord/1", "type": "PatientRecord", "data": ' + "9" * 5000 + "}",
            "\ufeff{}",
            "\x00",
        ],
    )
    def test_hostile_text_is_a_validation_error(self, text: str) -> None:
        """Deep nesting, surrogates, huge numbers, a BOM, a NUL: one carecoord error."""
        with pytest.raises(ValidationError):
            loads(text, PatientRecord)

    def test_non_finite_numbers_are_refused(self) -> None:
        """NaN and infinity are neither read nor written."""
        document = to_dict(make_medication())
        document["data"]["dose"]["value"] = float("inf")
        with pytest.raises(ValidationError) as info:
            from_dict(document, domain.Medication)
        assert _problems(info) == {("dose.value", "expected a finite number")}

        with pytest.raises(ValidationError) as out:
            Quantity(float("nan"))
        assert _problems(out) == {("value", "expected a finite number")}

    def test_unwritable_values_are_located(self) -> None:
        """A model forced to hold a naive datetime cannot be written; the path says where."""
        task = make_task().accept(at=days_before(0.9)).start(at=days_before(0.8))
        object.__setattr__(task.history[1], "at", dt.datetime(2026, 3, 1, 10, 0))  # noqa: DTZ001

        with pytest.raises(ValidationError) as info:
            to_dict(task)

        assert _problems(info) == {("history[1].at", "naive datetime")}


# --------------------------------------------------------------------------- fuzzing

_FIELD_NAMES = sorted(
    {
        field.name
        for name in domain.__all__
        if isinstance(cls := getattr(domain, name), type) and attrs.has(cls)
        for field in attrs.fields(cls)
    }
    | {"schema", "type", "data"}
)
_TRICKY_STRINGS = [
    "",
    " ",
    "T",
    "2024",
    "2024-13",
    "2024-02-30",
    "0000",
    "2024-01-01T10:00:00",
    "2024-01-01T10:00:00+00:00",
    "2024-01-01T25:00:00Z",
    "2024-01-01T10:00:00+24:00",
    "finished",
    "draft",
    "HIV",
    "carecoord/1",
    "carecoord/2",
    "carecoord/99999999999",
    "PatientRecord",
    "patient-1",
]
_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
    | st.sampled_from(_TRICKY_STRINGS)
)
_JSON_KEYS = st.sampled_from(_FIELD_NAMES) | st.text(max_size=8)
json_values = st.recursive(
    _JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(_JSON_KEYS, children, max_size=5)
    ),
    max_leaves=20,
)


def _nodes(value: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """The path of every node in a JSON value, the root first."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _nodes(child, (*path, index))


def _at(value: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _mutate(document: Any, data: st.DataObject) -> Any:
    """Apply one random change to ``document``: replace, swap in, delete, add or duplicate."""
    paths = list(_nodes(document))
    path = data.draw(st.sampled_from(paths), label="path")
    operation = data.draw(
        st.sampled_from(["replace", "swap", "delete", "add", "duplicate"]), label="operation"
    )
    if operation == "replace":
        new: Any = data.draw(json_values, label="value")
    else:
        new = copy.deepcopy(_at(document, data.draw(st.sampled_from(paths), label="other")))
    if not path:
        return new if operation in {"replace", "swap"} else document
    parent = _at(document, path[:-1])
    key = path[-1]
    if operation in {"replace", "swap"}:
        parent[key] = new
    elif operation == "delete":
        del parent[key]
    elif isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]) if operation == "duplicate" else new)
    else:
        parent[data.draw(_JSON_KEYS, label="key")] = new
    return document


class TestOnlyValidationErrorEscapes:
    """Nothing but carecoord.ValidationError ever comes out of loads and from_dict."""

    @FUZZ
    @given(json_values)
    def test_random_json_values(self, value: object) -> None:
        """Random JSON, as a whole document or as its data, is refused with ValidationError."""
        for document in (value, {"schema": "carecoord/1", "type": "PatientRecord", "data": value}):
            try:
                loads(json.dumps(document), PatientRecord)
            except ValidationError as error:
                assert error.problems

    @FUZZ
    @given(st.data())
    def test_random_mutations_of_a_valid_document(self, data: st.DataObject) -> None:
        """One to four random edits of a valid record either load or raise ValidationError."""
        document: Any = _document()
        for _ in range(data.draw(st.integers(1, 4), label="edits")):
            document = _mutate(document, data)
        text = json.dumps(document)
        try:
            loads(text, PatientRecord)
        except ValidationError as error:
            assert error.problems
            assert all(isinstance(p.message, str) and p.message for p in error.problems)

    @FUZZ
    @given(st.data())
    def test_python_values_that_are_not_json(self, data: st.DataObject) -> None:
        """from_dict given Python objects JSON cannot hold still raises only ValidationError."""
        document = _document()
        path = data.draw(st.sampled_from(list(_nodes(document["data"]))[1:]))
        odd = data.draw(
            st.sampled_from(
                [b"bytes", {1, 2}, (1, 2), AS_OF, object(), float("nan"), 10**400, {1: "x"}]
            )
        )
        parent = _at(document["data"], path[:-1])
        parent[path[-1]] = odd
        try:
            from_dict(document, PatientRecord)
        except ValidationError as error:
            assert error.problems


# --------------------------------------------------------------------------- privacy


class TestNoPatientDataInMessages:
    """Messages name fields and types, never the offending value."""

    @pytest.mark.parametrize(
        "path",
        [
            ("patient", "birth_date"),
            ("patient", "sex"),
            ("patient", "deceased"),
            ("patient", "names"),
            ("patient", "names", 0),
            ("tasks", 0, "status"),
            ("tasks", 0, "authored_on"),
            ("conditions", 0, "onset"),
            ("conditions", 0, "code"),
            ("activities", 0, "minutes"),
            ("encounters", 0, "sensitivity", 0),
        ],
    )
    def test_family_name_in_a_wrong_place_is_not_echoed(self, path: tuple[str | int, ...]) -> None:
        """A synthetic family name put where it does not belong is not repeated."""
        document = _document()
        parent = _at(document["data"], path[:-1])
        parent[path[-1]] = PHI

        with pytest.raises(ValidationError) as info:
            loads(json.dumps(document), PatientRecord)

        assert PHI not in str(info.value)
        assert PHI not in repr(info.value.problems)

    def test_unknown_field_named_like_a_person_is_not_echoed(self) -> None:
        """An unknown key that is not a snake_case field name is counted, not shown."""
        document = _document()
        document["data"]["patient"][PHI] = "x"

        with pytest.raises(ValidationError) as info:
            from_dict(document, PatientRecord)

        assert PHI not in str(info.value)
        assert _problems(info) == {("patient", "1 unknown field(s) with names that are not shown")}


# --------------------------------------------------------------------------- converter


class TestConverter:
    """Converters are private to carecoord: new ones on demand, the global one untouched."""

    def test_make_converter_returns_a_new_converter(self) -> None:
        """Each call builds a new converter, never cattrs' global one."""
        first, second = make_converter(), make_converter()

        assert first is not second
        assert cattrs.global_converter not in (first, second)

    def test_configure_converter_on_your_own_converter(self) -> None:
        """configure_converter sets up a converter you own to the same shapes."""
        converter = cattrs.Converter()
        configure_converter(converter)

        assert converter.unstructure(RECORD) == DOCUMENT["data"]
        assert converter.structure(DOCUMENT["data"], PatientRecord) == RECORD

    def test_global_converter_is_unchanged(self) -> None:
        """After using the module, cattrs' global converter still behaves as shipped."""
        dumps(RECORD)
        loads(dumps(RECORD), PatientRecord)
        make_converter()

        assert cattrs.global_converter.unstructure(AS_OF) is AS_OF
        assert cattrs.global_converter.unstructure(PartialDate(2020)) == {
            "year": 2020,
            "month": None,
            "day": None,
        }
        with pytest.raises(ValueError, match="invalid literal") as info:
            cattrs.global_converter.structure("x", int)
        assert not isinstance(info.value, ValidationError)

    def test_import_carecoord_does_not_load_serialization(self) -> None:
        """Importing carecoord (and its domain) loads neither this module nor cattrs."""
        code = (
            "import sys, carecoord, carecoord.domain\n"
            "print(sorted(m for m in sys.modules if m.startswith(('cattrs', "
            "'carecoord.serialization'))))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout.strip()

        assert out == "[]"


# --------------------------------------------------------------------------- strategies


class TestStrategies:
    """The test kit's strategies compose and name the extra they need."""

    @ROUND_TRIP
    @given(cs.patient_records(patient_id="patient-7"))
    def test_records_name_one_patient_and_hold_every_kind(self, record: PatientRecord) -> None:
        """patient_records puts at least one fact of every kind, all for the given patient."""
        assert record.patient.id == "patient-7"
        assert all(getattr(record, name) for name in domain.FACT_FIELDS)
        assert {fact.patient for _, fact in record.facts()} == {"patient-7"}

    @ROUND_TRIP
    @given(cs.tasks(), cs.referrals())
    def test_lifecycles_are_walked(self, task: Task, referral: domain.Referral) -> None:
        """Tasks and referrals come with a history that ends in their current status."""
        assert task.history
        assert task.history[-1].to_status == task.status.value
        assert referral.history
        assert referral.history[-1].to_status == referral.status.value

    def test_missing_hypothesis_names_the_extra(self) -> None:
        """Without Hypothesis, importing the strategies raises MissingExtraError."""
        code = (
            "import sys\n"
            "sys.modules['hypothesis'] = None\n"
            "from carecoord.errors import MissingExtraError\n"
            "try:\n"
            "    import carecoord.testing.strategies\n"
            "except MissingExtraError as error:\n"
            "    print(error)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout

        assert "carecoord[testing]" in out
