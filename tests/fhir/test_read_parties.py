"""Mapping parties: Patient, Practitioner, PractitionerRole, Organization, RelatedPerson."""

from __future__ import annotations

import datetime as dt

import pytest

from carecoord.domain import (
    Discipline,
    Identifier,
    LinkKind,
    OrganizationKind,
    PartialDate,
    PatientLink,
    Ref,
    Sex,
)
from carecoord.fhir._codes import discipline_for_taxonomy, organization_kind_from_name
from carecoord.fhir._read import read

from ._shared import shared_data_dir
from .test_read_fixtures import (
    SUBJECT,
    bundle,
    only_record,
    organization,
    patient,
    practitioner,
    ref,
)

NUCC = "http://nucc.org/provider-taxonomy"


def role(code: str, **extra: object) -> dict[str, object]:
    """A PractitionerRole of pcp-1 at clinic-1 with a NUCC taxonomy code."""
    resource: dict[str, object] = {
        "resourceType": "PractitionerRole",
        "id": "role-1",
        "practitioner": ref("Practitioner", "pcp-1"),
        "organization": ref("Organization", "clinic-1"),
        "code": [{"coding": [{"system": NUCC, "code": code}]}],
    }
    resource.update(extra)
    return resource


class TestPatient:
    """Patient elements become the Patient model."""

    def test_demographics(self) -> None:
        """Identifiers, names, partial birth date and sex are read."""
        record = only_record()
        person = record.patient

        assert person.identifiers == (Identifier("urn:example:clinic-mrn", "MRN-0001"),)
        assert person.names[0].family == "Testperson"
        assert person.birth_date == PartialDate(1960, 4)
        assert person.sex is Sex.FEMALE

    def test_contacts(self) -> None:
        """Telecom and address are read."""
        result = read(
            patient(
                telecom=[
                    {"system": "phone", "value": "555-0100"},
                    {"system": "pager", "value": "1"},
                ],
                address=[{"line": ["1 Test Way"], "city": "Testville", "postalCode": "00000"}],
            )
        )
        person = result.records[0].patient

        assert [c.system.value for c in person.telecom] == ["phone", "other"]
        assert person.addresses[0].city == "Testville"

    def test_deceased_date_time(self) -> None:
        """DeceasedDateTime marks the patient deceased with the time."""
        person = read(patient(deceasedDateTime="2025-12-01T08:00:00Z")).records[0].patient

        assert person.is_deceased
        assert person.deceased_at == dt.datetime(2025, 12, 1, 8, tzinfo=dt.UTC)

    def test_deceased_boolean(self) -> None:
        """DeceasedBoolean true marks the patient deceased without a time."""
        person = read(patient(deceasedBoolean=True)).records[0].patient

        assert person.deceased
        assert person.deceased_at is None

    @pytest.mark.parametrize("kind", ["seealso", "replaces", "replaced-by", "refer"])
    def test_links_are_same_person(self, kind: str) -> None:
        """Every Patient.link type asserts the same person."""
        link = [{"other": ref("Patient", "other-1"), "type": kind}]
        person = read(patient(link=link)).records[0].patient

        assert person.links == (PatientLink(LinkKind.SAME_PERSON, "other-1"),)  # type: ignore[arg-type]

    def test_link_to_itself_is_ignored(self) -> None:
        """A link from a record to itself asserts nothing."""
        link = [{"other": ref("Patient", "patient-1"), "type": "seealso"}]

        assert read(patient(link=link)).records[0].patient.links == ()

    def test_link_to_related_person_is_ignored(self) -> None:
        """A link to a RelatedPerson says nothing about identity."""
        related = {"resourceType": "RelatedPerson", "id": "rp1", "patient": SUBJECT}
        link = [{"other": ref("RelatedPerson", "rp1"), "type": "seealso"}]
        result = read(bundle(patient(link=link), related))

        assert result.records[0].patient.links == ()

    def test_language_prefers_preferred(self) -> None:
        """The preferred communication language wins."""
        communication = [
            {"language": {"coding": [{"code": "en"}]}},
            {"language": {"coding": [{"code": "es"}]}, "preferred": True},
        ]
        assert read(patient(communication=communication)).records[0].patient.language == "es"

    def test_timezone_extension(self) -> None:
        """The timezone extension gives Patient.timezone."""
        extension = [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/timezone",
                "valueCode": "America/Chicago",
            }
        ]
        assert read(patient(extension=extension)).records[0].patient.timezone == "America/Chicago"

    def test_general_practitioner_attaches_the_practitioner(self) -> None:
        """GeneralPractitioner is a reference, and the practitioner travels with the record."""
        result = read(
            bundle(patient(generalPractitioner=[ref("Practitioner", "pcp-1")]), practitioner())
        )
        record = result.records[0]

        assert record.patient.general_practitioner == (Ref("Practitioner", "pcp-1"),)
        assert [p.id for p in record.practitioners] == ["pcp-1"]

    def test_patient_without_id_uses_full_url(self) -> None:
        """A Patient without an id is keyed by its fullUrl."""
        document = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"fullUrl": "urn:uuid:0000-test", "resource": patient(id=None)}],
        }
        assert read(document).records[0].patient.id == "urn:uuid:0000-test"


class TestPractitioners:
    """Practitioners get their discipline, specialty and organisation from their roles."""

    def test_role_gives_discipline_and_organization(self) -> None:
        """A family-medicine role makes the practitioner primary care at that clinic."""
        result = read(
            bundle(
                patient(generalPractitioner=[ref("Practitioner", "pcp-1")]),
                practitioner(),
                organization(),
                role("207Q00000X"),
            )
        )
        record = result.records[0]
        [doctor] = record.practitioners

        assert doctor.discipline is Discipline.PRIMARY_CARE
        assert doctor.organization == "clinic-1"
        assert [o.id for o in record.organizations] == ["clinic-1"]

    def test_reference_to_role_points_at_practitioner(self) -> None:
        """A reference to a PractitionerRole becomes a reference to its practitioner."""
        result = read(
            bundle(
                patient(generalPractitioner=[ref("PractitionerRole", "role-1")]),
                practitioner(),
                role("207Q00000X"),
            )
        )

        assert result.records[0].patient.general_practitioner == (Ref("Practitioner", "pcp-1"),)

    @pytest.mark.parametrize(
        ("code", "discipline"),
        [
            ("207Q00000X", Discipline.PRIMARY_CARE),
            ("207R00000X", Discipline.PRIMARY_CARE),
            ("208D00000X", Discipline.PRIMARY_CARE),
            ("363LF0000X", Discipline.PRIMARY_CARE),
            ("207RC0000X", Discipline.SPECIALIST),
            ("101YM0800X", Discipline.BEHAVIORAL_HEALTH),
            ("103T00000X", Discipline.BEHAVIORAL_HEALTH),
            ("2084P0800X", Discipline.BEHAVIORAL_HEALTH),
            ("106H00000X", Discipline.BEHAVIORAL_HEALTH),
            ("1041C0700X", Discipline.SOCIAL_WORK),
            ("183500000X", Discipline.PHARMACY),
            ("163W00000X", Discipline.NURSING),
            ("171M00000X", Discipline.CARE_COORDINATION),
        ],
    )
    def test_nucc_prefixes(self, code: str, discipline: Discipline) -> None:
        """NUCC taxonomy prefixes give the documented discipline."""
        assert discipline_for_taxonomy(code) is discipline

    def test_unknown_taxonomy(self) -> None:
        """A code outside every prefix gives no discipline."""
        assert discipline_for_taxonomy("999X") is None


class TestOrganizations:
    """Organisation kind comes from its type code, refined by its name."""

    def test_type_code(self) -> None:
        """Type ins is a payer."""
        kind = {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "ins"}
            ]
        }
        result = read(
            bundle(
                patient(generalPractitioner=[ref("Organization", "clinic-1")]),
                organization(type=[kind]),
            )
        )

        assert result.records[0].organizations[0].kind is OrganizationKind.PAYER

    @pytest.mark.parametrize(
        ("name", "kind"),
        [
            ("General Hospital", OrganizationKind.HOSPITAL),
            ("NORTH SHORE MEDICAL CENTER", OrganizationKind.HOSPITAL),
            ("Corner Pharmacy", OrganizationKind.PHARMACY),
            ("County Food Bank", OrganizationKind.COMMUNITY),
            ("Sunny Skilled Nursing", OrganizationKind.SKILLED_NURSING),
        ],
    )
    def test_names(self, name: str, kind: OrganizationKind) -> None:
        """Words in the name refine a broad type."""
        assert organization_kind_from_name(name) is kind

    def test_provider_named_hospital_is_a_hospital(self) -> None:
        """Type prov with a hospital name is a hospital with the hospital discipline."""
        prov = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                    "code": "prov",
                }
            ]
        }
        result = read(
            bundle(
                patient(generalPractitioner=[ref("Organization", "h1")]),
                organization("h1", name="Test General Hospital", type=[prov]),
            )
        )
        [hospital] = result.records[0].organizations

        assert hospital.kind is OrganizationKind.HOSPITAL
        assert hospital.discipline is Discipline.HOSPITAL

    def test_part_of(self) -> None:
        """PartOf names the parent organisation, which travels with the record too."""
        result = read(
            bundle(
                patient(generalPractitioner=[ref("Organization", "dept")]),
                organization("dept", partOf=ref("Organization", "parent")),
                organization("parent"),
            )
        )
        organizations = {str(o.id): o for o in result.records[0].organizations}

        assert organizations["dept"].part_of == "parent"
        assert "parent" in organizations


V3_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"


def related(ident: str = "rp1", **extra: object) -> dict[str, object]:
    """A RelatedPerson of the fixture patient (a guardian unless ``extra`` says otherwise)."""
    resource: dict[str, object] = {
        "resourceType": "RelatedPerson",
        "id": ident,
        "patient": SUBJECT,
        "relationship": [{"coding": [{"system": V3_ROLE, "code": "GUARD"}]}],
        "name": [{"family": "Guardianson", "given": ["Robin"]}],
    }
    resource.update(extra)
    return resource


class TestRelatedPerson:
    """RelatedPerson resources become the record's related persons (not facts)."""

    def test_a_guardian_is_read_as_a_representative(self) -> None:
        """A v3 RoleCode GUARD relationship makes the person a representative."""
        record = only_record(related())
        [person] = record.related_persons

        assert (person.id, person.patient) == ("rp1", record.patient.id)
        assert person.is_representative
        assert person.ref == Ref("RelatedPerson", "rp1")
        assert person.names[0].family == "Guardianson"

    def test_a_spouse_is_not_a_representative(self) -> None:
        """A relationship without a representative role does not make one."""
        spouse = related(relationship=[{"coding": [{"system": V3_ROLE, "code": "SPS"}]}])

        [person] = only_record(spouse).related_persons

        assert not person.is_representative

    def test_the_representative_extension_states_one(self) -> None:
        """The personal-representative extension (carecoord's) makes a mother one."""
        mother = related(
            relationship=[{"coding": [{"system": V3_ROLE, "code": "MTH"}]}],
            extension=[
                {
                    "url": "https://carecoord.example/fhir/StructureDefinition/"
                    "personal-representative",
                    "valueBoolean": True,
                }
            ],
        )

        [person] = only_record(mother).related_persons

        assert person.representative
        assert person.is_representative

    def test_a_representative_role_in_a_second_coding_counts(self) -> None:
        """The role code is found among every coding of a relationship."""
        coded = related(
            relationship=[
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N"},
                        {"system": V3_ROLE, "code": "HPOWATT"},
                    ]
                }
            ]
        )

        [person] = only_record(coded).related_persons

        assert person.is_representative

    def test_active_and_period_are_read(self) -> None:
        """``active: false`` and the period end a representation."""
        ended = related(active=False, period={"start": "2020-01-01", "end": "2024-12-31"})

        [person] = only_record(ended).related_persons
        inside = dt.datetime(2022, 6, 1, tzinfo=dt.UTC)

        assert not person.active
        assert not person.represents_at(inside)
        assert person.period.end is not None

    def test_the_spec_examples_are_read_without_errors(self) -> None:
        """The five FHIR R4 RelatedPerson examples each join their patient's record."""
        folder = shared_data_dir("fhir-r4-examples")
        files = sorted(folder.glob("RelatedPerson-*.json"))

        result = read(files)

        assert len(files) == 5
        assert result.errors == ()
        assert sum(len(r.related_persons) for r in result.records) == 5
        assert not any(p.is_representative for r in result.records for p in r.related_persons)
