"""The demo data set: well-formed bundles, resolvable references, valid dates, synthetic people.

The README next to the bundles is the specification of the gaps the rules must find at
``DEMO_AS_OF``; these tests also keep that specification consistent with the data.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pytest

from carecoord.demo_data import DEMO_AS_OF, DEMO_FILES, DEMO_TIMEZONE, demo_files

Json = dict[str, Any]

NEW_YORK = ZoneInfo(DEMO_TIMEZONE)
DIRECTORY = "directory.json"
SOURCES = tuple(name for name in DEMO_FILES if name != DIRECTORY)

PATIENT_NAMES = frozenset(
    {
        "Alexandra Testperson",
        "Alex Testperson",
        "Morgan Sample",
        "Morgan A Sample",
        "Robin Exampleby",
        "Sam Placeholder",
    }
)
"""The only patient names the data may use (all invented)."""

PRACTITIONER_NAMES = frozenset(
    {
        "Jamie Doctorson",
        "Jordan Helpwell",
        "Drew Nurseworth",
        "Casey Fakename",
        "Avery Testdoc",
        "Quinn Mockwell",
        "Riley Sampleton",
        "Taylor Counselman",
    }
)
"""The only practitioner names the data may use (all invented)."""

RULE_IDS = frozenset(
    {
        "referral.unacknowledged",
        "referral.unscheduled",
        "referral.missed-appointment",
        "referral.report-missing",
        "referral.loop-open",
        "referral.declined-no-alternative",
        "referral.prior-auth-overdue",
        "transition.admission-notice-missing",
        "transition.discharge-info-missing",
        "transition.tcm-contact",
        "transition.follow-up-visit",
        "transition.med-rec",
        "transition.mental-health-follow-up",
        "transition.ed-mental-health-follow-up",
        "transition.ed-chronic-follow-up",
        "result.missing",
        "result.unacknowledged",
        "result.abnormal-no-follow-up",
        "order.duplicate",
        "care-team.no-primary-care",
        "care-team.no-lead",
        "care-team.behavioral-health-missing",
        "care-team.inactive-owner",
        "medication.discrepancy",
        "medication.change-not-shared",
        "task.overdue",
        "task.unassigned",
        "task.stalled",
        "care-plan.missing",
        "care-plan.review-overdue",
        "care-plan.goal-without-activity",
        "social.need-unaddressed",
        "social.referral-outcome-missing",
        "monitoring.overdue",
        "activity.ccm-time",
    }
)
"""Every rule of the gap catalogue (the domain reference's "Gap rules" table)."""

FUTURE_FACT = ("clinic.json", "Encounter", "visit-followup")
"""The one resource deliberately recorded after DEMO_AS_OF (time-travel demonstration)."""

TEMPORAL_KEYS = frozenset(
    {
        "authoredOn",
        "birthDate",
        "created",
        "date",
        "dateAsserted",
        "dateTime",
        "deceasedDateTime",
        "dueDate",
        "effectiveDateTime",
        "end",
        "issued",
        "lastModified",
        "lastUpdated",
        "occurrenceDateTime",
        "onsetDateTime",
        "performedDateTime",
        "received",
        "recordedDate",
        "sent",
        "start",
        "startDate",
        "timestamp",
        "valueDate",
    }
)
"""Every key under which the data holds a FHIR date, dateTime or instant."""

# The FHIR R4 dateTime regular expression (which also covers date and instant).
FHIR_DATETIME = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
    r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?"
    r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?"
)
DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --------------------------------------------------------------------------- helpers


class Entry(NamedTuple):
    """One bundle entry with the file it came from."""

    file: str
    full_url: str
    resource: Json

    @property
    def key(self) -> tuple[str, str]:
        """(resourceType, id)."""
        return (self.resource["resourceType"], self.resource["id"])


@cache
def _bundles() -> dict[str, Json]:
    return {item.name: json.loads(item.read_text(encoding="utf-8")) for item in demo_files()}


def _entries(file: str | None = None) -> list[Entry]:
    names = DEMO_FILES if file is None else (file,)
    return [
        Entry(name, entry["fullUrl"], entry["resource"])
        for name in names
        for entry in _bundles()[name]["entry"]
    ]


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair below ``value``; each item of a list comes with the list's key."""
    if not isinstance(value, dict):
        return
    for key, child in value.items():
        for item in child if isinstance(child, list) else [child]:
            yield key, item
            yield from _walk(item)


def _references(resource: Json) -> list[str]:
    found: list[str] = []

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            reference = value.get("reference")
            if isinstance(reference, str):
                found.append(reference)
            for child in value.values():
                visit(child)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(resource)
    return found


def _temporal_values(file: str) -> list[str]:
    return [
        value
        for entry in _entries(file)
        for key, value in _walk(entry.resource)
        if key in TEMPORAL_KEYS and isinstance(value, str)
    ]


def _instant(text: str) -> dt.datetime | None:
    """The aware datetime of a FHIR dateTime with a time, else None."""
    if "T" not in text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _resource(file: str, type_: str, id_: str) -> Json | None:
    for entry in _entries(file):
        if entry.key == (type_, id_):
            return entry.resource
    return None


def _names(resource: Json) -> set[str]:
    return {" ".join([*n.get("given", []), n.get("family", "")]) for n in resource["name"]}


# --------------------------------------------------------------------------- README rows

ROW = re.compile(
    r"^\| (?P<patient>P\d) \| (?P<rule>[a-z-]+\.[a-z-]+) \| "
    r"(?P<file>[a-z_]+):(?P<type>[A-Za-z]+)/(?P<id>[\w.-]+)(?P<part>#[\w-]+)? \| "
    r"(?P<status>[a-z-]+) \| (?P<due>[0-9T:+-]+) \|(?P<notes>.*)\|$"
)


class SpecRow(NamedTuple):
    """One expected gap from the README."""

    patient: str
    rule: str
    file: str
    type: str
    id: str
    part: str | None
    status: str
    due: str


@cache
def _readme() -> str:
    return files("carecoord.demo_data").joinpath("README.md").read_text(encoding="utf-8")


@cache
def _spec() -> tuple[SpecRow, ...]:
    rows = []
    for line in _readme().splitlines():
        match = ROW.match(line)
        if match:
            rows.append(
                SpecRow(
                    match["patient"],
                    match["rule"],
                    match["file"],
                    match["type"],
                    match["id"],
                    match["part"],
                    match["status"],
                    match["due"],
                )
            )
    return tuple(rows)


# --------------------------------------------------------------------------- tests


class TestPackage:
    """What ``carecoord.demo_data`` exposes."""

    def test_demo_files_are_the_four_bundles_in_order(self) -> None:
        """demo_files() returns the four bundles, directory first."""
        assert [item.name for item in demo_files()] == list(DEMO_FILES)
        assert all(item.is_file() for item in demo_files())

    def test_demo_as_of_is_noon_in_new_york(self) -> None:
        """DEMO_AS_OF is an aware instant: 15 July 2026, 12:00 New York time."""
        assert DEMO_AS_OF.utcoffset() is not None
        assert dt.datetime(2026, 7, 15, 12, tzinfo=NEW_YORK) == DEMO_AS_OF

    def test_readme_is_shipped_with_the_bundles(self) -> None:
        """The README that specifies the expected gaps is a package resource."""
        assert "DEMO_AS_OF" in _readme()

    def test_the_data_set_is_small(self) -> None:
        """Fewer than 150 resources and under 200 kB in total."""
        size = sum(len(item.read_bytes()) for item in demo_files())

        assert len(_entries()) < 150
        assert size < 200_000


class TestBundles:
    """Each file is one FHIR collection Bundle of well-identified resources."""

    @pytest.mark.parametrize("file", DEMO_FILES)
    def test_file_is_a_collection_bundle_with_a_source(self, file: str) -> None:
        """The file is JSON holding a non-empty collection Bundle with meta.source."""
        bundle = _bundles()[file]

        assert bundle["resourceType"] == "Bundle"
        assert bundle["type"] == "collection"
        assert bundle["meta"]["source"].startswith("https://")
        assert bundle["entry"]

    @pytest.mark.parametrize("file", DEMO_FILES)
    def test_every_resource_has_a_type_and_an_id(self, file: str) -> None:
        """Each entry's resource has a resourceType and a non-empty id."""
        for entry in _entries(file):
            assert isinstance(entry.resource.get("resourceType"), str)
            assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", entry.resource.get("id", ""))

    @pytest.mark.parametrize("file", DEMO_FILES)
    def test_ids_are_unique_within_the_bundle(self, file: str) -> None:
        """No two resources of a bundle share a type and id, or a fullUrl."""
        entries = _entries(file)

        assert len({e.key for e in entries}) == len(entries)
        assert len({e.full_url for e in entries}) == len(entries)

    @pytest.mark.parametrize("file", SOURCES)
    def test_source_full_urls_are_restful_on_the_source_base(self, file: str) -> None:
        """A source entry's fullUrl is <meta.source>/<Type>/<id>."""
        base = _bundles()[file]["meta"]["source"]
        for entry in _entries(file):
            type_, id_ = entry.key
            assert entry.full_url == f"{base}/{type_}/{id_}"

    def test_directory_full_urls_are_uuids(self) -> None:
        """Directory entries use urn:uuid fullUrls, so any source reaches them by Type/id."""
        for entry in _entries(DIRECTORY):
            assert entry.full_url.startswith("urn:uuid:")
            uuid.UUID(entry.full_url.removeprefix("urn:uuid:"))

    def test_only_the_directory_holds_parties(self) -> None:
        """Practitioners, organisations and roles live in the directory alone."""
        parties = {"Practitioner", "Organization", "PractitionerRole"}

        assert not [e.key for e in _entries() if e.file != DIRECTORY and e.key[0] in parties]
        assert all(e.key[0] in parties for e in _entries(DIRECTORY))


class TestReferences:
    """Every reference points at a resource in its own bundle or in the directory."""

    @pytest.mark.parametrize("file", DEMO_FILES)
    def test_every_reference_resolves_locally_or_to_the_directory(self, file: str) -> None:
        """Each reference names a fullUrl or Type/id of its bundle or of the directory."""
        scope = _entries(file) + ([] if file == DIRECTORY else _entries(DIRECTORY))
        by_url = {e.full_url: e.resource for e in scope}
        by_key = {f"{e.key[0]}/{e.key[1]}": e.resource for e in scope}
        unresolved = []
        for entry in _entries(file):
            for reference in _references(entry.resource):
                target = by_url.get(reference) or by_key.get(reference)
                if target is None:
                    unresolved.append((entry.key, reference))
                elif "/" in reference and not reference.startswith("urn:"):
                    assert target["resourceType"] == reference.split("/")[0]

        assert unresolved == []

    def test_carecoords_reference_index_finds_every_target(self) -> None:
        """Carecoord's own FHIR reference resolver leaves no reference dangling."""
        from carecoord.fhir._input import iter_documents, iter_resources
        from carecoord.fhir._issues import IssueLog
        from carecoord.fhir._refs import ReferenceIndex

        log = IssueLog()
        flat = list(
            iter_resources(iter_documents(list(_bundles().values()), issues=log), issues=log)
        )
        index = ReferenceIndex(flat)
        dangling = [
            (item.path, reference)
            for item in flat
            for reference in _references(item.resource)
            if index.resolve(reference, context=item.resource) is None
        ]

        assert list(log) == []
        assert len(flat) == len(_entries())
        assert dangling == []


class TestDates:
    """Dates are valid FHIR values; times carry New York offsets; nothing is from the future."""

    @pytest.mark.parametrize("file", DEMO_FILES)
    def test_temporal_values_are_valid_fhir_dates(self, file: str) -> None:
        """Every date, dateTime and instant matches FHIR's grammar and names a real day."""
        for value in _temporal_values(file):
            assert FHIR_DATETIME.fullmatch(value), value
            if len(value) >= 10:
                dt.date.fromisoformat(value[:10])

    @pytest.mark.parametrize("file", DEMO_FILES)
    def test_times_carry_the_new_york_offset_of_their_instant(self, file: str) -> None:
        """A dateTime with a time has an offset, and it is New York's at that instant."""
        for value in _temporal_values(file):
            instant = _instant(value)
            if instant is None:
                continue
            assert instant.utcoffset() is not None, value
            assert instant.utcoffset() == instant.astimezone(NEW_YORK).utcoffset(), value

    @pytest.mark.parametrize("file", DEMO_FILES)
    def test_no_date_hides_under_another_key(self, file: str) -> None:
        """Strings that look like dates only appear under the known temporal keys."""
        for entry in _entries(file):
            for key, value in _walk(entry.resource):
                if isinstance(value, str) and DATE_LIKE.search(value):
                    assert key in TEMPORAL_KEYS, (entry.key, key)

    def test_every_resource_records_when_it_was_last_updated(self) -> None:
        """Each resource has a meta.lastUpdated instant (its recorded time)."""
        for entry in _entries():
            assert _instant(entry.resource["meta"]["lastUpdated"]) is not None, entry.key

    def test_only_the_time_travel_fact_is_recorded_after_as_of(self) -> None:
        """Exactly one resource is recorded after DEMO_AS_OF: P1's 16 July visit."""
        later = []
        for entry in _entries():
            recorded = _instant(entry.resource["meta"]["lastUpdated"])
            assert recorded is not None
            if recorded > DEMO_AS_OF:
                later.append((entry.file, *entry.key))

        assert later == [FUTURE_FACT]


class TestSyntheticPeople:
    """Nobody real: allow-listed names, fictional phones, Example Street, example identifiers."""

    def test_patient_names_are_allow_listed(self) -> None:
        """Every Patient name is one of the invented patient names."""
        names = {n for e in _entries() if e.key[0] == "Patient" for n in _names(e.resource)}

        assert names <= PATIENT_NAMES

    def test_practitioner_names_are_allow_listed(self) -> None:
        """Every Practitioner name is one of the invented practitioner names."""
        names = {n for e in _entries() if e.key[0] == "Practitioner" for n in _names(e.resource)}

        assert names == PRACTITIONER_NAMES

    def test_no_other_resource_carries_a_human_name(self) -> None:
        """Only Patient and Practitioner resources hold human names (other names are labels)."""
        holders = {
            e.key[0]
            for e in _entries()
            for key, value in _walk(e.resource)
            if key == "name" and isinstance(value, dict)
        }

        assert holders == {"Patient", "Practitioner"}

    def test_phone_numbers_are_in_the_fictional_range(self) -> None:
        """Every telecom is a phone number 555-0100 to 555-0199."""
        telecoms = [t for e in _entries() for key, t in _walk(e.resource) if key == "telecom"]

        assert telecoms
        for telecom in telecoms:
            assert telecom["system"] == "phone"
            assert re.fullmatch(r"555-01\d\d", telecom["value"])

    def test_addresses_are_on_example_street(self) -> None:
        """Every address line is on Example Street (or its abbreviation)."""
        lines = [
            line
            for e in _entries()
            for key, address in _walk(e.resource)
            if key == "address"
            for line in address["line"]
        ]

        assert lines
        assert all(re.fullmatch(r"\d+ Example (Street|St\.)", line) for line in lines)

    def test_identifiers_use_example_systems(self) -> None:
        """Identifiers (MRNs, member ids) all use urn:example: systems; no SSN or NPI."""
        systems = {
            identifier["system"]
            for e in _entries()
            for key, identifier in _walk(e.resource)
            if key == "identifier" and isinstance(identifier, dict)
        }

        assert systems
        assert all(s.startswith("urn:example:") for s in systems)


class TestStories:
    """The situations the README relies on are really in the data."""

    def test_one_person_appears_in_three_sources(self) -> None:
        """Alexandra has records at the clinic, the hospital and the counselling practice."""
        seen: dict[tuple[str, str], set[str]] = {}
        for entry in _entries():
            if entry.key[0] == "Patient":
                person = (entry.resource["birthDate"], entry.resource["telecom"][0]["value"])
                seen.setdefault(person, set()).add(entry.file)

        assert max(len(sources) for sources in seen.values()) == 3

    def test_exactly_one_patient_is_deceased(self) -> None:
        """Only the clinic's record of Robin says she died, late on 10 July (local time)."""
        dead = [e for e in _entries() if e.key[0] == "Patient" and "deceasedDateTime" in e.resource]

        assert [(e.file, e.key[1]) for e in dead] == [("clinic.json", "pat-1003")]
        died = _instant(dead[0].resource["deceasedDateTime"])
        assert died is not None
        assert died.astimezone(NEW_YORK).date() == dt.date(2026, 7, 10)
        assert died.astimezone(dt.UTC).date() == dt.date(2026, 7, 11)

    def test_a_stay_ends_on_thursday_2_july_2026(self) -> None:
        """An inpatient stay is discharged on Thursday 2 July 2026, the eve of the holiday."""
        ends = [
            _instant(e.resource["period"]["end"])
            for e in _entries()
            if e.key[0] == "Encounter" and e.resource["class"]["code"] == "IMP"
        ]
        days = {end.astimezone(NEW_YORK).date() for end in ends if end is not None}

        assert dt.date(2026, 7, 2) in days
        assert dt.date(2026, 7, 2).weekday() == 3

    def test_late_evening_events_fall_on_another_utc_day(self) -> None:
        """Some events happen late in the evening, so their local and UTC dates differ."""
        late = [
            instant
            for file in DEMO_FILES
            for value in _temporal_values(file)
            if (instant := _instant(value)) is not None
            and instant.astimezone(NEW_YORK).date() != instant.astimezone(dt.UTC).date()
        ]

        assert len(late) >= 5

    def test_behavioral_health_facts_are_labelled(self) -> None:
        """Counselling-practice clinical facts carry PSY; the therapy note also PSYTHPN."""
        for entry in _entries("behavioral_health.json"):
            if entry.key[0] == "Patient":
                continue
            labels = {s["code"] for s in entry.resource["meta"].get("security", [])}
            assert "PSY" in labels, entry.key
            if entry.key[0] == "DocumentReference":
                assert "PSYTHPN" in labels

    def test_the_consents_permit_the_pcp_and_deny_the_cardiologist(self) -> None:
        """One consent permits mental-health information to the PCP, one denies a specialist."""
        provisions = {
            (
                e.resource["provision"]["type"],
                e.resource["provision"]["actor"][0]["reference"]["reference"],
            )
            for e in _entries()
            if e.key[0] == "Consent"
        }

        assert provisions == {
            ("permit", "Practitioner/pr-pcp"),
            ("deny", "Practitioner/pr-cardio"),
        }


class TestReadmeSpecification:
    """The expected-gaps tables in the README are complete and consistent with the data."""

    def test_every_rule_of_the_catalogue_is_specified(self) -> None:
        """Each of the catalogue's rules has at least one expected gap, and no other rule does."""
        assert {row.rule for row in _spec()} == RULE_IDS

    def test_every_family_has_an_actionable_example(self) -> None:
        """Each rule family has open or prospective gaps, and most rules do themselves."""
        actionable = {row.rule for row in _spec() if row.status in {"open", "prospective"}}
        families = {rule.split(".")[0] for rule in RULE_IDS}

        assert {rule.split(".")[0] for rule in actionable} == families
        assert RULE_IDS - actionable == {"transition.tcm-contact"}  # met late, on time, or n/a

    def test_statuses_are_deqm_gap_statuses(self) -> None:
        """Every status is open, prospective, closed or not-applicable."""
        assert {row.status for row in _spec()} == {
            "open",
            "prospective",
            "closed",
            "not-applicable",
        }

    def test_due_values_are_dates_or_aware_instants(self) -> None:
        """Each due value parses as a date, or as a datetime with an offset."""
        for row in _spec():
            if "T" in row.due:
                instant = dt.datetime.fromisoformat(row.due)
                assert instant.utcoffset() is not None, row
            else:
                dt.date.fromisoformat(row.due)

    def test_every_focus_names_a_resource_of_its_bundle(self) -> None:
        """The focus of each expected gap exists in the bundle the row names."""
        missing = [
            row for row in _spec() if _resource(f"{row.file}.json", row.type, row.id) is None
        ]

        assert missing == []

    def test_each_gap_is_listed_once(self) -> None:
        """No rule and focus (with its part) appear twice."""
        keys = [(row.rule, row.file, row.type, row.id, row.part) for row in _spec()]

        assert len(keys) == len(set(keys))

    def test_counts_in_the_headings_match_the_tables(self) -> None:
        """Each patient heading's gap count and the totals line agree with the rows."""
        per_patient = Counter(row.patient for row in _spec())
        headings = dict(re.findall(r"^### (P\d):.*\((\d+) gaps\)$", _readme(), re.MULTILINE))
        totals = re.search(
            r"(\d+) gaps: (\d+) open, (\d+) prospective, (\d+) closed.*?(\d+) not-applicable",
            _readme(),
            re.DOTALL,
        )
        statuses = Counter(row.status for row in _spec())

        assert {p: int(n) for p, n in headings.items()} == dict(per_patient)
        assert totals is not None
        total, open_, prospective, closed, not_applicable = map(int, totals.groups())
        assert total == len(_spec())
        assert (open_, prospective, closed, not_applicable) == (
            statuses["open"],
            statuses["prospective"],
            statuses["closed"],
            statuses["not-applicable"],
        )
