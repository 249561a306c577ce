"""Resolving FHIR references (carecoord.fhir._refs), on made-up and on real data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecoord.errors import IssueSeverity as Severity
from carecoord.fhir._input import FlatResource, iter_documents, iter_resources
from carecoord.fhir._issues import IssueCode, IssueLog
from carecoord.fhir._refs import ReferenceIndex, reference_kind

from ._shared import shared_data_dir


def build(*documents: dict[str, Any]) -> tuple[ReferenceIndex, list[FlatResource]]:
    """Flatten in-memory documents (labelled doc0, doc1...) and index them."""
    issues = IssueLog()
    items = list(iter_resources([(f"doc{i}", d) for i, d in enumerate(documents)], issues=issues))
    assert len(issues) == 0
    return ReferenceIndex(items), items


def res(resource_type: str, resource_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A resource dict."""
    result: dict[str, Any] = {"resourceType": resource_type, **fields}
    if resource_id is not None:
        result["id"] = resource_id
    return result


def collection(*entries: tuple[str | None, dict[str, Any]]) -> dict[str, Any]:
    """A collection Bundle of (fullUrl, resource) pairs."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": r} if url is None else {"fullUrl": url, "resource": r}
            for url, r in entries
        ],
    }


class TestReferenceKind:
    """Classifying reference strings."""

    @pytest.mark.parametrize(
        ("reference", "kind"),
        [
            ("#med1", "contained"),
            ("#", "contained"),
            ("urn:uuid:1f2e", "urn:uuid"),
            ("URN:UUID:1F2E", "urn:uuid"),
            ("urn:oid:1.2.3", "urn:oid"),
            ("http://x/fhir/Patient/1", "absolute"),
            ("urn:ietf:rfc:3986", "absolute"),
            ("Patient/1", "relative"),
            ("Patient/1/_history/2", "relative"),
            ("Patient?identifier=s|v", "conditional"),
            ("patient/1", "unrecognised"),
            ("Patient", "unrecognised"),
        ],
    )
    def test_kinds(self, reference: str, kind: str) -> None:
        """Each form of reference gets its kind."""
        assert reference_kind(reference) == kind


class TestResolve:
    """ReferenceIndex.resolve over the forms of reference FHIR allows."""

    def test_urn_uuid(self) -> None:
        """urn:uuid references match fullUrl, whatever the case of the UUID."""
        patient = res("Patient", "a")
        index, _ = build(collection(("urn:uuid:AB-12", patient)))
        assert index.resolve("urn:uuid:ab-12") is patient
        assert index.resolve("urn:uuid:AB-12") is patient
        assert index.resolve("urn:uuid:ab-13") is None

    def test_urn_oid(self) -> None:
        """urn:oid references match fullUrl."""
        org = res("Organization")
        index, _ = build(collection(("urn:oid:1.2.36.1", org)))
        assert index.resolve("urn:oid:1.2.36.1") is org

    def test_relative_in_bundle_with_restful_full_urls(self) -> None:
        """Type/id resolves against the referring entry's server base first."""
        mine = res("Patient", "23")
        theirs = res("Patient", "23")
        obs = res("Observation", "o")
        index, _ = build(
            collection(
                ("http://a/fhir/Patient/23", mine),
                ("http://b/fhir/Patient/23", theirs),
                ("http://b/fhir/Observation/o", obs),
            ),
        )
        assert index.resolve("Patient/23", context=obs) is theirs

    def test_relative_from_another_server_does_not_match(self) -> None:
        """A relative reference from an entry on server B never finds server A's resource."""
        patient = res("Patient", "23")
        obs = res("Observation", "14")
        index, _ = build(
            collection(
                ("http://a/fhir/Patient/23", patient), ("http://b/fhir/Observation/14", obs)
            ),
        )
        assert index.resolve("Patient/23", context=obs) is None
        assert index.resolve("Patient/23") is patient  # no context: any server

    def test_relative_by_full_url_when_id_differs(self) -> None:
        """A fullUrl whose id differs from Resource.id is still found through the fullUrl."""
        patient = res("Patient", "pat2")
        header = res("MessageHeader", "h")
        index, _ = build(
            {
                "resourceType": "Bundle",
                "type": "message",
                "entry": [
                    {"fullUrl": "urn:uuid:h", "resource": header},
                    {"fullUrl": "http://acme/fhir/Patient/pat12", "resource": patient},
                ],
            },
        )
        assert index.resolve("http://acme/fhir/Patient/pat12") is patient
        assert index.resolve("Patient/pat2") is patient

    def test_relative_between_standalone_resources(self) -> None:
        """Single resources (no fullUrl) are found by type and id."""
        patient = res("Patient", "example")
        obs = res("Observation", "o", subject={"reference": "Patient/example"})
        index, _ = build(patient, obs)
        assert index.resolve("Patient/example", context=obs) is patient
        assert index.resolve("Group/example", context=obs) is None

    def test_relative_prefers_same_bundle_then_same_source(self) -> None:
        """With several candidates the one in the same Bundle (then document) wins."""
        first = res("Patient", "1")
        second = res("Patient", "1")
        obs = res("Observation", "o")
        index, _ = build(
            collection(("urn:uuid:p1", first)),
            collection(("urn:uuid:p2", second), ("urn:uuid:o", obs)),
        )
        assert index.resolve("Patient/1", context=obs) is second
        assert index.resolve("Patient/1") is first

    def test_history_picks_version(self) -> None:
        """Type/id/_history/v picks the entry whose meta.versionId is v, else any version."""
        v1 = res("Patient", "45", meta={"versionId": "1"})
        v2 = res("Patient", "45", meta={"versionId": "2"})
        index, _ = build(
            collection(("http://x/fhir/Patient/45", v1), ("http://x/fhir/Patient/45", v2)),
        )
        assert index.resolve("Patient/45/_history/2") is v2
        assert index.resolve("Patient/45/_history/1") is v1
        assert index.resolve("http://x/fhir/Patient/45/_history/2") is v2
        assert index.resolve("Patient/45/_history/9") is v1
        assert index.resolve("Patient/45") is v1

    def test_absolute_by_full_url_then_trailing_type_id(self) -> None:
        """An absolute URL matches a fullUrl, else a server-less resource of that type and id.

        A resource whose fullUrl is on a different server never matches.
        """
        standalone = res("Practitioner", "p1")
        elsewhere = res("Organization", "o1")
        index, _ = build(standalone, collection(("http://other/fhir/Organization/o1", elsewhere)))
        assert index.resolve("https://x.org/fhir/Practitioner/p1") is standalone
        assert index.resolve("http://other/fhir/Organization/o1") is elsewhere
        assert index.resolve("http://third/fhir/Organization/o1") is None

    def test_absolute_non_restful_url(self) -> None:
        """A non-RESTful absolute fullUrl is matched exactly."""
        doc = res("DocumentReference")
        index, _ = build(collection(("http://x.org/documents/abc", doc)))
        assert index.resolve("http://x.org/documents/abc") is doc
        assert index.resolve("http://x.org/documents/abd") is None

    def test_contained(self) -> None:
        """#id resolves inside the referring resource; # is the container itself."""
        med = res("Medication", "med1")
        org = res("Organization", "org1")
        request = res(
            "MedicationRequest",
            "r",
            contained=[med, org, "junk"],
            medicationReference={"reference": "#med1"},
        )
        index, _ = build(request)
        assert index.resolve("#med1", context=request) is med
        assert index.resolve("#org1", context=med) is org  # sibling, from inside
        assert index.resolve("#", context=med) is request
        assert index.resolve("#", context=request) is request
        assert index.resolve("#nope", context=request) is None
        assert index.resolve("#med1") is None  # no context, no container

    def test_contained_in_unindexed_context(self) -> None:
        """#id works on a context the index has never seen."""
        med = res("Medication", "m")
        loose = res("MedicationStatement", contained=[med])
        index = ReferenceIndex()
        assert index.resolve("#m", context=loose) is med

    def test_relative_from_contained_uses_container_base(self) -> None:
        """A reference inside a contained resource resolves like one in its container."""
        patient = res("Patient", "1")
        coverage = res("Coverage", "cov", beneficiary={"reference": "Patient/1"})
        claim = res("Claim", "c", contained=[coverage])
        index, _ = build(
            collection(("http://a/fhir/Patient/1", patient), ("http://a/fhir/Claim/c", claim)),
        )
        assert index.resolve("Patient/1", context=coverage) is patient

    def test_conditional_identifier(self) -> None:
        """Type?identifier=system|value finds the one resource with that identifier."""
        practitioner = res(
            "Practitioner",
            "p",
            identifier=[{"system": "http://hl7.org/fhir/sid/us-npi", "value": "999"}],
        )
        twin_a = res("Organization", "a", identifier=[{"system": "s", "value": "dup"}])
        twin_b = res("Organization", "b", identifier=[{"system": "s", "value": "dup"}])
        index, _ = build(practitioner, twin_a, twin_b)
        npi = "http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Fus-npi%7C999"
        assert index.resolve(f"Practitioner?identifier={npi}") is practitioner
        assert index.resolve("Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|999") is (
            practitioner
        )
        assert index.resolve("Practitioner?identifier=999") is practitioner
        assert index.resolve("Practitioner?identifier=other|999") is None
        assert index.resolve("Organization?identifier=s|dup") is None  # ambiguous
        assert index.resolve("Practitioner?name=x") is None  # not answerable locally

    def test_conditional_sees_resources_added_later(self) -> None:
        """The identifier lookup is rebuilt when resources are added after a query."""
        index = ReferenceIndex()
        assert index.resolve("Patient?identifier=s|1") is None
        patient = res("Patient", "p", identifier=[{"system": "s", "value": "1"}])
        index.add(FlatResource("Patient", patient, None, "late"))
        assert index.resolve("Patient?identifier=s|1") is patient

    @pytest.mark.parametrize(
        "reference",
        [
            "",
            "/",
            "Patient/",
            "Patient",
            "patient/1",
            "http://",
            "http://x/",
            "urn:uuid:",
            "?",
            "Patient?",
            "Patient?identifier=",
            "Patient?identifier",
            "Patient/1/_history/",
        ],
    )
    def test_odd_references_are_none(self, reference: str) -> None:
        """Malformed references resolve to None without raising."""
        index, _ = build(res("Patient", "1"))
        assert index.resolve(reference, context=res("Observation")) is None

    @given(reference=st.text(max_size=60))
    def test_never_raises(self, reference: str) -> None:
        """The resolve and key_of methods never raise, whatever the string."""
        index = ReferenceIndex(
            [FlatResource("Patient", {"resourceType": "Patient", "id": "1"}, "urn:uuid:1", "s")],
        )
        index.resolve(reference)
        index.key_of(reference, context={"resourceType": "Observation", "contained": [1]})
        reference_kind(reference)

    def test_non_string_reference(self) -> None:
        """A non-string reference resolves to None."""
        index = ReferenceIndex()
        bad: Any = 42
        assert index.resolve(bad) is None
        assert index.key_of(bad) is None


class TestKeys:
    """Stable keys for resources and for what references point to."""

    def test_key_of_resolved(self) -> None:
        """A resolved reference gives (type, id), or (type, fullUrl) when there is no id."""
        with_id = res("Patient", "p1")
        without_id = res("Patient")
        index, _ = build(collection(("urn:uuid:a", with_id), ("urn:uuid:b", without_id)))
        assert index.key_of("urn:uuid:a") == ("Patient", "p1")
        assert index.key_of("urn:uuid:b") == ("Patient", "urn:uuid:b")

    def test_key_from_restful_full_url(self) -> None:
        """Without an id, a RESTful fullUrl supplies it."""
        patient = res("Patient")
        index, _ = build(collection(("http://x/fhir/Patient/7", patient)))
        assert index.key_for(patient) == ("Patient", "7")

    def test_key_of_unresolved(self) -> None:
        """An unresolved Type/id or URL still gives (type, id); a urn gives None."""
        index = ReferenceIndex()
        assert index.key_of("Practitioner/9") == ("Practitioner", "9")
        assert index.key_of("Practitioner/9/_history/3") == ("Practitioner", "9")
        assert index.key_of("http://x/fhir/Practitioner/9") == ("Practitioner", "9")
        assert index.key_of("urn:uuid:zz") is None
        assert index.key_of("#x") is None

    def test_key_of_contained(self) -> None:
        """A contained resource's key names its container."""
        med = res("Medication", "m1")
        request = res("MedicationRequest", "r1", contained=[med])
        index, _ = build(request)
        assert index.key_of("#m1", context=request) == ("Medication", "MedicationRequest/r1#m1")
        assert index.key_for(med) == ("Medication", "MedicationRequest/r1#m1")

    def test_key_for_unindexed(self) -> None:
        """An unindexed resource's key is (type, id) when it has both, else None."""
        index = ReferenceIndex()
        assert index.key_for(res("Patient", "1")) == ("Patient", "1")
        assert index.key_for(res("Patient")) is None

    def test_len_contains_full_url(self) -> None:
        """The index counts resources, knows its members and their fullUrl."""
        med = res("Medication", "m1")
        request = res("MedicationRequest", "r1", contained=[med])
        index, _ = build(collection(("urn:uuid:r", request)))
        assert len(index) == 1
        assert request in index
        assert med in index
        assert dict(request) not in index  # an equal copy is not the same resource
        assert index.full_url_of(request) == "urn:uuid:r"
        assert index.full_url_of(med) == "urn:uuid:r"
        assert index.full_url_of(res("Patient")) is None


class TestResolveOrReport:
    """Resolving Reference elements and recording why one cannot be."""

    @pytest.fixture
    def setup(self) -> tuple[ReferenceIndex, dict[str, Any], dict[str, Any]]:
        """An index with a Patient and an Observation pointing at it."""
        patient = res("Patient", "p1")
        obs = res("Observation", "o1")
        index, _ = build(collection(("urn:uuid:p1", patient), ("urn:uuid:o1", obs)))
        return index, patient, obs

    def test_resolves(self, setup: tuple[ReferenceIndex, dict[str, Any], dict[str, Any]]) -> None:
        """A good reference returns its target and records nothing."""
        index, patient, obs = setup
        issues = IssueLog()
        found = index.resolve_or_report(
            {"reference": "urn:uuid:p1", "type": "Patient"},
            "Observation.subject",
            "f.json",
            issues,
            obs,
            expected=("Patient", "Group"),
        )
        assert found is patient
        assert len(issues) == 0

    def test_absent(self, setup: tuple[ReferenceIndex, dict[str, Any], dict[str, Any]]) -> None:
        """An absent element (None) returns None and records nothing."""
        index, _, obs = setup
        issues = IssueLog()
        assert index.resolve_or_report(None, "Observation.subject", "f", issues, obs) is None
        assert len(issues) == 0

    @pytest.mark.parametrize(
        ("ref_obj", "code", "severity", "path"),
        [
            ("urn:uuid:p1", IssueCode.WRONG_TYPE, Severity.ERROR, "X.subject"),
            ([{"reference": "urn:uuid:p1"}], IssueCode.WRONG_TYPE, Severity.ERROR, "X.subject"),
            ({"reference": 5}, IssueCode.WRONG_TYPE, Severity.ERROR, "X.subject.reference"),
            ({"reference": ""}, IssueCode.WRONG_TYPE, Severity.ERROR, "X.subject.reference"),
            (
                {"identifier": {"system": "s", "value": "Zebediah"}},
                IssueCode.LOGICAL_REFERENCE,
                Severity.WARNING,
                "X.subject",
            ),
            ({"display": "Zebediah"}, IssueCode.EMPTY_REFERENCE, Severity.WARNING, "X.subject"),
            (
                {"reference": "Patient/Zebediah"},
                IssueCode.DANGLING_REFERENCE,
                Severity.WARNING,
                "X.subject",
            ),
            (
                {"reference": "#Zebediah"},
                IssueCode.DANGLING_REFERENCE,
                Severity.WARNING,
                "X.subject",
            ),
            (
                {"reference": "urn:uuid:p1", "type": "Group"},
                IssueCode.WRONG_TYPE,
                Severity.ERROR,
                "X.subject",
            ),
        ],
    )
    def test_problems(
        self,
        setup: tuple[ReferenceIndex, dict[str, Any], dict[str, Any]],
        ref_obj: object,
        code: str,
        severity: str,
        path: str,
    ) -> None:
        """Each kind of unusable reference gives None and one issue, free of its values."""
        index, _, obs = setup
        issues = IssueLog()
        assert index.resolve_or_report(ref_obj, "X.subject", "f.json", issues, obs) is None
        [issue] = issues
        assert (issue.code, issue.severity, issue.path, issue.source) == (
            code,
            severity,
            path,
            "f.json",
        )
        assert "Zebediah" not in issue.message
        assert "urn:uuid:p1" not in issue.message

    def test_dangling_message_and_severity(
        self,
        setup: tuple[ReferenceIndex, dict[str, Any], dict[str, Any]],
    ) -> None:
        """A dangling reference names its kind and target type, at the severity asked for."""
        index, _, obs = setup
        issues = IssueLog()
        index.resolve_or_report(
            {"reference": "Practitioner/x"},
            "X.performer[0]",
            "f",
            issues,
            obs,
            severity=Severity.ERROR,
        )
        [issue] = issues
        assert issue.severity == Severity.ERROR
        assert (
            issue.message
            == "relative reference to Practitioner does not resolve to a resource in the input"
        )

    def test_unexpected_target_type(
        self,
        setup: tuple[ReferenceIndex, dict[str, Any], dict[str, Any]],
    ) -> None:
        """A target of a type not expected is a wrong-type error naming both types."""
        index, _, obs = setup
        issues = IssueLog()
        assert (
            index.resolve_or_report(
                {"reference": "urn:uuid:p1"},
                "X.performer",
                "f",
                issues,
                obs,
                expected="Practitioner",
            )
            is None
        )
        [issue] = issues
        assert issue.code == IssueCode.WRONG_TYPE
        assert issue.message == "expected a reference to Practitioner, got a Patient"


# ----------------------------------------------------------------------------- real data


def references(resource: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (path, reference string, context) in a resource, contained ones included.

    The context of a reference inside a contained resource is that contained resource.
    """
    stack: list[tuple[str, object, dict[str, Any]]] = [
        (resource.get("resourceType", "?"), resource, resource),
    ]
    while stack:
        path, value, context = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "reference" and isinstance(item, str):
                    yield path, item, context
                elif key == "contained" and isinstance(item, list):
                    for i, inner in enumerate(item):
                        if isinstance(inner, dict):
                            stack.append((f"{path}.contained[{i}]", inner, inner))
                else:
                    stack.append((f"{path}.{key}", item, context))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item, context) for i, item in enumerate(value))


_REST = re.compile(
    r"^(?:(?P<base>https?://.+)/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[^/]+?)(?:/_history/[^/]+)?$"
)

# Dangling in the FHIR examples on purpose: Bundle-bundle-references shows that a relative
# reference from an entry on server fhir-2 means fhir-2's Patient/23, which the Bundle lacks.
_INTENDED_DANGLING = {("Bundle-bundle-references.json", "Patient/23")}


class _Folder:
    """A shared data folder read, flattened, indexed and with every reference resolved."""

    def __init__(self, folder: Path) -> None:
        self.issues = IssueLog()
        self.items = list(
            iter_resources(
                iter_documents(folder, issues=self.issues, name_files=True), issues=self.issues
            ),
        )
        index = ReferenceIndex(self.items)
        self.urls = {item.full_url for item in self.items if item.full_url}
        # (type, id) of the resources that have no server of their own (no http fullUrl)
        self.local: set[tuple[str, str]] = set()
        self.anywhere: set[tuple[str, str]] = set()
        self.dangling: list[tuple[str, str, str]] = []
        for item in self.items:
            key = (item.resource["resourceType"], str(item.resource.get("id")))
            self.anywhere.add(key)
            if not (item.full_url or "").startswith(("http://", "https://")):
                self.local.add(key)
            for path, reference, context in references(item.resource):
                if index.resolve(reference, context=context) is None:
                    self.dangling.append((item.source, f"{item.path}:{path}", reference))
                index.key_of(reference, context=context)
                index.resolve_or_report(
                    {"reference": reference}, path, item.source, self.issues, context
                )

    def genuinely_dangling(self, source: str, reference: str) -> bool:
        """Whether nothing in the folder is what ``reference`` names, by a simple reading."""
        if (source, reference) in _INTENDED_DANGLING:
            return True
        match = _REST.match(reference)
        if match is None:  # a contained id, a urn or a URL that is not FHIR REST
            return reference not in self.urls
        key = (match["type"], match["id"])
        if match["base"] is None:
            return key not in self.anywhere
        url = f"{match['base']}/{match['type']}/{match['id']}"
        return url not in self.urls and key not in self.local


class TestSharedDataConformance:
    """Every reference in the shared real-world data goes through the index without errors."""

    def test_synthea_has_no_dangling_references(self) -> None:
        """In the Synthea bundles every reference resolves (urn:uuid and contained #id)."""
        folder = _Folder(shared_data_dir("synthea-smart-r4"))
        assert len(folder.items) == 14_709
        assert folder.dangling == []
        assert len(folder.issues) == 0

    @pytest.mark.parametrize(
        ("folder_name", "resources", "dangling"),
        [("fhir-r4-examples", 383, 77), ("davinci-deqm", 305, 1)],
    )
    def test_examples_dangle_only_where_the_target_is_absent(
        self,
        folder_name: str,
        resources: int,
        dangling: int,
    ) -> None:
        """In the spec and IG examples, only references to absent resources dangle.

        A dangling reference points at nothing in the folder (the example it names was not
        kept, or lives on another server), except where the example means it to; no other
        error is found.
        """
        folder = _Folder(shared_data_dir(folder_name))
        assert len(folder.items) == resources
        assert not [
            str(i) for i in folder.issues if i.is_error and i.code != IssueCode.DANGLING_REFERENCE
        ]
        suspicious = [d for d in folder.dangling if not folder.genuinely_dangling(d[0], d[2])]
        assert suspicious == []
        assert len(folder.dangling) == dangling
        assert len(folder.issues.with_code(IssueCode.DANGLING_REFERENCE)) == dangling

    def test_bundle_references_example_resolves_as_the_spec_says(self) -> None:
        """The spec's Bundle-bundle-references example resolves as its narrative explains."""
        file = shared_data_dir("fhir-r4-examples") / "Bundle-bundle-references.json"
        issues = IssueLog()
        items = list(
            iter_resources(iter_documents(file, issues=issues, name_files=True), issues=issues)
        )
        index = ReferenceIndex(items)
        by_url: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            by_url.setdefault(str(item.full_url), []).append(item.resource)

        def subject_of(url: str) -> dict[str, Any] | None:
            [observation] = by_url[url]
            return index.resolve(observation["subject"]["reference"], context=observation)

        [patient23] = by_url["http://example.org/fhir/Patient/23"]
        [anonymous] = by_url["urn:uuid:04121321-4af5-424c-a0e1-ed3aab1c349d"]
        assert subject_of("http://example.org/fhir/Observation/123") is patient23
        assert subject_of("http://example.org/fhir/Observation/124") is patient23
        assert subject_of("http://example.org/fhir/Observation/12") is anonymous
        assert subject_of("http://example.org/fhir/Observation/14") is None
        assert subject_of("http://example.org/fhir-2/Observation/14") is None
        assert (
            subject_of("http://example.org/fhir/Observation/47")
            is by_url["http://example.org/fhir/Patient/45"][1]
        )
        [logical] = by_url["http://example.org/fhir/Observation/48"]
        assert (
            index.resolve_or_report(logical["subject"], "Observation.subject", "f", issues) is None
        )
        assert [i.code for i in issues] == [IssueCode.LOGICAL_REFERENCE]

    def test_synthea_manifest_counts(self) -> None:
        """The flattened Synthea patients hold as many resources as MANIFEST.tsv says."""
        folder = shared_data_dir("synthea-smart-r4")
        rows = (folder / "MANIFEST.tsv").read_text().splitlines()
        header = rows[0].split("\t")
        expected = {
            row.split("\t")[0]: int(row.split("\t")[header.index("entries")]) for row in rows[1:]
        }
        issues = IssueLog()
        counts: dict[str, int] = {}
        for item in iter_resources(
            iter_documents(folder, issues=issues, name_files=True), issues=issues
        ):
            counts[item.source] = counts.get(item.source, 0) + 1
        assert {name: counts.get(name, 0) for name in expected} == expected
        patients = sum(n for name, n in expected.items() if "Information" not in name)
        assert patients == 14_505  # as SOURCES.md says
        assert len(issues) == 0


class TestOddContained:
    """Contained entries that are not proper resources."""

    def test_contained_without_type_or_id(self) -> None:
        """Contained items lacking a type or id never break keys or resolution."""
        odd: dict[str, Any] = {"resourceType": 7, "id": 3}
        request = res("MedicationRequest", "r", contained=[odd, {"id": "x"}])
        index, _ = build(request)
        assert index.key_for(odd) is None
        assert index.resolve("#3", context=request) is None
        assert index.key_of("#x", context=request) is None
