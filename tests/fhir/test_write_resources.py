"""What the writer writes: resources, references, Bundles, NDJSON, DetectedIssues."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
import pytest

from carecoord.domain import (
    AuthorizationOutcome,
    CareSetting,
    Code,
    Diagnosis,
    Discipline,
    EncounterClass,
    PartialDate,
    Ref,
    ReferralStatus,
    Sensitivity,
    Sex,
    System,
)
from carecoord.errors import UsageError, ValidationError
from carecoord.fhir._write import (
    BUNDLE_TYPES,
    FhirExportError,
    gap_to_detected_issue,
    to_resources,
    write_bundle,
    write_ndjson,
)
from carecoord.fhir._write_base import (
    DISCIPLINE_SYSTEM,
    ORIGIN_TAG,
    ExtensionUrl,
    clinical_time,
    instant,
    safe_id,
)
from carecoord.fhir._write_gaps import (
    DEQM_GAP_STATUS_EXTENSION,
    DEQM_GAP_STATUS_SYSTEM,
    GAP_RULE_SYSTEM,
)
from carecoord.profile import profile_from_record
from carecoord.rules import (
    RULE_CODE_SYSTEM,
    Evidence,
    EvidenceRole,
    Gap,
    GapStatus,
    Severity,
    detect_gaps,
    task_id_for,
)
from carecoord.testing import (
    AS_OF,
    PCP,
    days_before,
    make_activity,
    make_care_team,
    make_condition,
    make_encounter,
    make_patient,
    make_practitioner,
    make_record,
    make_referral,
    make_social_need,
    make_source,
    make_task,
    make_transition,
)


def resource(resources: list[dict[str, Any]], kind: str, ident: str | None = None) -> Any:
    """The one resource of ``kind`` (and ``ident``) among ``resources``."""
    found = [
        r for r in resources if r["resourceType"] == kind and (ident is None or r["id"] == ident)
    ]
    assert len(found) == 1, [r["id"] for r in found]
    return found[0]


def extension(value: dict[str, Any], url: str) -> dict[str, Any]:
    """The sub-extension values of the one extension ``url`` on ``value``, by name."""
    [found] = [e for e in value.get("extension", []) if e["url"] == url]
    return {
        part["url"]: next(v for k, v in part.items() if k != "url") for part in found["extension"]
    }


def gap(status: GapStatus = GapStatus.OPEN, **changes: Any) -> Gap:
    """An open referral gap for the builders' patient, with trigger evidence."""
    made = Gap(
        rule="referral.unscheduled",
        patient="clinic-ehr/patient-1",
        status=status,
        severity=Severity.HIGH,
        due=dt.date(2026, 3, 1),
        opened=days_before(5),
        focus="clinic-ehr/referral-1",
        summary="Referral sent 5 days ago: no appointment booked.",
        action="Call the cardiology office to book the visit.",
        evidence=(
            Evidence(EvidenceRole.TRIGGER, Ref("Referral", "clinic-ehr/referral-1"), "sent"),
        ),
    )
    return attrs.evolve(made, **changes)


class TestTimes:
    """Times are written as FHIR instants with their own offset, to the microsecond."""

    def test_utc_is_written_z(self) -> None:
        """A UTC instant ends with ``Z``."""
        assert instant(AS_OF) == "2026-03-02T14:00:00Z"

    def test_offset_and_microseconds_are_kept(self) -> None:
        """A fixed offset and microseconds are written as they are."""
        value = dt.datetime(
            2026, 3, 2, 9, 5, 7, 120, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30))
        )

        assert instant(value) == "2026-03-02T09:05:07.000120-09:30"

    def test_an_offset_fhir_cannot_write_is_converted_to_utc(self) -> None:
        """An offset with seconds is written as the same instant in UTC."""
        value = dt.datetime(2026, 3, 2, 12, 0, 30, tzinfo=dt.timezone(dt.timedelta(seconds=30)))

        assert instant(value) == "2026-03-02T12:00:00Z"

    def test_a_partial_date_keeps_its_precision(self) -> None:
        """A month-precision clinical time is written ``YYYY-MM``."""
        assert clinical_time(PartialDate(1985, 6)) == "1985-06"


class TestToResources:
    """One record's resources, references ``Type/id``."""

    def test_patient_comes_first(self) -> None:
        """The first resource is the Patient."""
        assert to_resources(make_record())[0]["resourceType"] == "Patient"

    def test_every_resource_names_its_source_and_carecoord(self) -> None:
        """``meta.source`` is the source id and the origin tag is on every resource."""
        found = to_resources(make_record(tasks=(make_task(),)))

        assert all(
            r["meta"]["source"] == "clinic-ehr" and ORIGIN_TAG in r["meta"]["tag"] for r in found
        )

    def test_references_are_relative(self) -> None:
        """A task's owner is written ``Practitioner/coordinator-1``."""
        task = resource(to_resources(make_record(tasks=(make_task(),))), "Task")

        assert task["owner"] == {"reference": "Practitioner/coordinator-1"}

    def test_a_discipline_is_a_practitioner_role_code(self) -> None:
        """A practitioner's discipline is a carecoord coding on a PractitionerRole."""
        role = next(
            r
            for r in to_resources(make_record())
            if r["resourceType"] == "PractitionerRole"
            and r["practitioner"] == {"reference": "Practitioner/pcp-1"}
        )

        assert role["code"] == [
            {"coding": [{"system": DISCIPLINE_SYSTEM, "code": Discipline.PRIMARY_CARE.value}]}
        ]

    def test_a_practitioner_with_nothing_to_say_has_no_role(self) -> None:
        """Discipline other, no specialty, no employer: no PractitionerRole."""
        record = make_record(practitioners=(make_practitioner(discipline=Discipline.OTHER),))

        assert not [r for r in to_resources(record) if r["resourceType"] == "PractitionerRole"]

    def test_an_invalid_fhir_id_gets_a_stand_in(self) -> None:
        """A task id with a space is written ``id-<hash>`` with the original in an extension."""
        written = resource(to_resources(make_record(tasks=(make_task(id="task 1"),))), "Task")

        assert (written["id"], written["extension"][-1]) == (
            safe_id("task 1"),
            {"url": ExtensionUrl.ORIGINAL_ID, "valueString": "task 1"},
        )

    def test_two_facts_of_one_resource_type_and_id_raise(self) -> None:
        """A visit and a stay sharing an id would be one Encounter: FhirExportError."""
        record = make_record(
            encounters=(make_encounter(id="e1"),), transitions=(make_transition(id="e1"),)
        )

        with pytest.raises(FhirExportError, match="Encounter"):
            to_resources(record)

    def test_a_social_need_sharing_a_condition_id_is_that_condition(self) -> None:
        """The reader's Condition + SocialNeed pair goes back into one Condition."""
        record = make_record(
            conditions=(make_condition(id="c1"),), social_needs=(make_social_need(id="c1"),)
        )

        written = resource(to_resources(record), "Condition")

        assert extension(written, ExtensionUrl.SOCIAL_NEED)["domain"] == "food-insecurity"

    def test_an_author_without_an_element_is_a_provenance(self) -> None:
        """A visit's author is a Provenance agent of type author on the Encounter."""
        visit = make_encounter(author=PCP, recorded_at=days_before(9))

        provenance = resource(to_resources(make_record(encounters=(visit,))), "Provenance")

        assert (provenance["target"], provenance["agent"][0]["who"], provenance["recorded"]) == (
            [{"reference": "Encounter/visit-1"}],
            {"reference": "Practitioner/pcp-1"},
            instant(days_before(9)),
        )


class TestReferralResources:
    """A referral is a ServiceRequest, a fulfilment Task once sent, a Claim for its PA."""

    def test_a_sent_referral_has_a_requested_fulfilment_task(self) -> None:
        """The fulfilment Task is ``requested``, coded ``fulfill``, based on the request."""
        task = resource(to_resources(make_record(referrals=(make_referral(),))), "Task")

        assert (task["status"], task["code"]["coding"][0]["code"], task["basedOn"]) == (
            "requested",
            "fulfill",
            [{"reference": "ServiceRequest/referral-1"}],
        )

    def test_a_draft_referral_has_no_fulfilment_task(self) -> None:
        """A draft has not been sent: no Task."""
        draft = make_referral(status=ReferralStatus.DRAFT, sent_at=None, history=())

        assert not [
            r for r in to_resources(make_record(referrals=(draft,))) if r["resourceType"] == "Task"
        ]

    def test_the_closed_loop_state_is_in_the_referral_extension(self) -> None:
        """The exact status and sent time travel in the ``referral`` extension."""
        request = resource(
            to_resources(make_record(referrals=(make_referral(),))), "ServiceRequest"
        )

        state = extension(request, ExtensionUrl.REFERRAL)

        assert (state["status"], state["sentAt"]) == ("sent", instant(days_before(5)))

    def test_a_decided_prior_authorisation_is_a_claim_and_its_response(self) -> None:
        """Submitted: an active preauthorization Claim; denied: a complete response saying so."""
        referral = make_referral().submit_prior_authorization(at=days_before(4))
        referral = referral.decide_prior_authorization(
            AuthorizationOutcome.DENIED, at=days_before(2)
        )

        found = to_resources(make_record(referrals=(referral,)))
        claim, response = resource(found, "Claim"), resource(found, "ClaimResponse")

        assert (claim["status"], claim["use"], response["outcome"], response["disposition"]) == (
            "active",
            "preauthorization",
            "complete",
            "Denied",
        )


class TestTransitionResources:
    """A care transition is a stay Encounter with hospitalization details."""

    def test_discharge_home_is_nubc_01(self) -> None:
        """Without a disposition code of its own, the setting is written as NUBC."""
        stay = resource(to_resources(make_record(transitions=(make_transition(),))), "Encounter")

        assert stay["hospitalization"]["dischargeDisposition"] == {
            "coding": [{"system": System.DISCHARGE_DISPOSITION, "code": "01"}]
        }

    def test_the_principal_diagnosis_has_rank_1(self) -> None:
        """Diagnoses are contained Conditions; the principal one has rank 1."""
        stay_model = make_transition(
            diagnoses=(
                Diagnosis(Code(System.ICD10CM, "I10")),
                Diagnosis(Code(System.ICD10CM, "I50.9"), principal=True),
            )
        )
        stay = resource(to_resources(make_record(transitions=(stay_model,))), "Encounter")

        assert stay["diagnosis"] == [
            {"condition": {"reference": "#dx0"}},
            {"condition": {"reference": "#dx1"}, "rank": 1},
        ]

    def test_an_ongoing_stay_is_in_progress(self) -> None:
        """A stay without a discharge is ``in-progress`` with an open period."""
        ongoing = make_transition(discharged_at=None, to_setting=CareSetting.UNKNOWN)

        stay = resource(to_resources(make_record(transitions=(ongoing,))), "Encounter")

        assert (stay["status"], "end" in stay["period"]) == ("in-progress", False)

    def test_a_telephone_visit_keeps_its_class_in_an_extension(self) -> None:
        """v3 ActCode has no telephone class: AMB plus the carecoord class."""
        call = make_encounter(klass=EncounterClass.TELEPHONE)

        visit = resource(to_resources(make_record(encounters=(call,))), "Encounter")

        assert (visit["class"]["code"], visit["extension"][0]["valueCode"]) == ("AMB", "telephone")


class TestCareTeamResources:
    """Care-team members carry their role, a lead/member role and a discipline."""

    def test_the_lead_has_the_carecoord_lead_role(self) -> None:
        """The coordinator (the builders' lead) is coded ``lead``, the others ``member``."""
        team = resource(to_resources(make_record(care_teams=(make_care_team(),))), "CareTeam")

        codes = [p["role"][0]["coding"][0]["code"] for p in team["participant"]]

        assert codes == ["member", "lead", "member"]


class TestActivityResources:
    """A coordination activity is a completed Task coded with its kind."""

    def test_the_execution_period_is_the_minutes_ending_at_the_activity(self) -> None:
        """Fifteen minutes ending at ``at``."""
        task = resource(to_resources(make_record(activities=(make_activity(),))), "Task")

        assert task["executionPeriod"] == {
            "start": instant(days_before(1) - dt.timedelta(minutes=15)),
            "end": instant(days_before(1)),
        }


class TestWriteBundle:
    """Bundles: fullUrls, references between entries, types, timestamps."""

    def test_full_urls_are_unique_urn_uuids(self) -> None:
        """Every entry has its own ``urn:uuid`` fullUrl."""
        urls = [e["fullUrl"] for e in write_bundle([make_record(tasks=(make_task(),))])["entry"]]

        assert len(set(urls)) == len(urls)
        assert all(u.startswith("urn:uuid:") for u in urls)

    def test_writing_is_deterministic(self) -> None:
        """The same records give the same Bundle, byte for byte."""
        record = make_record(referrals=(make_referral(),), tasks=(make_task(),))

        assert json.dumps(write_bundle([record])) == json.dumps(write_bundle([record]))

    def test_a_reference_to_an_entry_is_its_full_url(self) -> None:
        """The task's owner points at the coordinator's entry."""
        bundle = write_bundle([make_record(tasks=(make_task(),))])
        urls = {
            (e["resource"]["resourceType"], e["resource"]["id"]): e["fullUrl"]
            for e in bundle["entry"]
        }

        task = next(
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"
        )

        assert task["owner"] == {"reference": urls[("Practitioner", "coordinator-1")]}

    def test_a_reference_outside_the_bundle_stays_relative(self) -> None:
        """A focus on a referral not written stays ``ServiceRequest/<id>``."""
        bundle = write_bundle([make_record(tasks=(make_task(focus=Ref("Referral", "x-1")),))])

        task = next(
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"
        )

        assert task["focus"] == {"reference": "ServiceRequest/x-1"}

    def test_a_transaction_puts_every_resource(self) -> None:
        """Every transaction entry is a ``PUT Type/id``."""
        bundle = write_bundle([make_record()], bundle_type="transaction")

        assert all(
            e["request"]
            == {"method": "PUT", "url": f"{e['resource']['resourceType']}/{e['resource']['id']}"}
            for e in bundle["entry"]
        )

    def test_an_unknown_bundle_type_raises(self) -> None:
        """Only collection and transaction Bundles are written."""
        with pytest.raises(FhirExportError, match=", ".join(BUNDLE_TYPES)):
            write_bundle([make_record()], bundle_type="searchset")

    def test_the_timestamp_is_when_the_source_was_retrieved(self) -> None:
        """``Bundle.timestamp`` is the records' ``retrieved_at``, never the clock."""
        record = make_record(source=make_source(retrieved_at=AS_OF))

        assert write_bundle([record])["timestamp"] == "2026-03-02T14:00:00Z"

    def test_no_timestamp_without_a_retrieval_time(self) -> None:
        """Without ``retrieved_at`` the Bundle has no timestamp."""
        assert "timestamp" not in write_bundle([make_record()])

    def test_nothing_to_write_is_an_empty_bundle(self) -> None:
        """No records: a collection without entries."""
        assert write_bundle([]) == {"resourceType": "Bundle", "type": "collection"}

    def test_two_different_records_with_one_key_raise(self) -> None:
        """The same source and patient id with different content is ambiguous."""
        other = make_record(patient=make_patient(sex=Sex.MALE))

        with pytest.raises(FhirExportError, match="same source and patient"):
            write_bundle([make_record(), other])

    def test_a_shared_practitioner_is_written_once(self) -> None:
        """Two records naming pcp-1 give one Practitioner entry."""
        second = make_record(patient=make_patient(id="patient-2"))

        entries = write_bundle([make_record(), second])["entry"]

        assert sum(1 for e in entries if e["resource"].get("id") == "pcp-1") == 1


class TestWriteNdjson:
    """NDJSON: one resource per line."""

    def test_one_resource_per_line(self) -> None:
        """Every line is one JSON resource; the text ends with a newline."""
        text = write_ndjson([make_record(tasks=(make_task(),))])

        lines = text.splitlines()

        assert text.endswith("\n")
        assert all(json.loads(line)["resourceType"] for line in lines)

    def test_no_records_is_empty_text(self) -> None:
        """Nothing to write gives ``""``."""
        assert write_ndjson([]) == ""


class TestDetectedIssue:
    """A gap is a Da Vinci DEQM gaps-in-care DetectedIssue."""

    @pytest.mark.parametrize("status", list(GapStatus))
    def test_the_gap_status_is_the_deqm_modifier_extension(self, status: GapStatus) -> None:
        """The modifier extension carries ``deqm-gaps-status`` ``<status>-gap``."""
        issue = gap_to_detected_issue(gap(status), patient_ref="Patient/patient-1")

        assert issue["modifierExtension"] == [
            {
                "url": DEQM_GAP_STATUS_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": DEQM_GAP_STATUS_SYSTEM, "code": status.deqm_code}]
                },
            }
        ]

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            (GapStatus.PROSPECTIVE, "preliminary"),
            (GapStatus.OPEN, "final"),
            (GapStatus.CLOSED, "final"),
        ],
    )
    def test_a_prospective_gap_is_preliminary(self, status: GapStatus, expected: str) -> None:
        """Prospective gaps are ``preliminary``, the others ``final``."""
        assert gap_to_detected_issue(gap(status), patient_ref="Patient/p")["status"] == expected

    def test_the_code_is_caregap_and_the_rule(self) -> None:
        """``code`` has v3 CAREGAP and the rule id in the rule code system of suggested tasks."""
        codings = gap_to_detected_issue(gap(), patient_ref="Patient/p")["code"]["coding"]

        assert [(c["system"], c["code"]) for c in codings] == [
            (System.V3_ACT_CODE, "CAREGAP"),
            (RULE_CODE_SYSTEM, "referral.unscheduled"),
        ]

    def test_the_rule_system_is_the_suggested_tasks_one(self) -> None:
        """The writer's rule code system is :data:`carecoord.rules.RULE_CODE_SYSTEM`."""
        assert GAP_RULE_SYSTEM == RULE_CODE_SYSTEM

    def test_the_identifier_is_the_gap_key_and_the_id_the_task_id(self) -> None:
        """Identifier value = ``gap.key``; id = the suggested task's id."""
        made = gap()

        issue = gap_to_detected_issue(made, patient_ref="Patient/p")

        assert (issue["identifier"][0]["value"], issue["id"]) == (made.key, task_id_for(made))

    def test_identified_defaults_to_when_the_clock_started(self) -> None:
        """Without ``identified``, ``identifiedDateTime`` is ``gap.opened``."""
        issue = gap_to_detected_issue(gap(), patient_ref="Patient/p")

        assert issue["identifiedDateTime"] == instant(days_before(5))

    def test_unresolved_evidence_is_a_logical_reference(self) -> None:
        """Evidence with no reference given is an identifier of the fact key."""
        issue = gap_to_detected_issue(gap(), patient_ref="Patient/p")

        assert issue["evidence"][0]["detail"] == [
            {
                "identifier": {
                    "system": "urn:carecoord:fact-key",
                    "value": "clinic-ehr/referral-1",
                },
                "type": "ServiceRequest",
                "display": "sent",
            }
        ]

    def test_resolved_evidence_is_a_reference(self) -> None:
        """``references`` maps fact keys to references."""
        issue = gap_to_detected_issue(
            gap(),
            patient_ref="Patient/p",
            references={"clinic-ehr/referral-1": "ServiceRequest/referral-1"},
        )

        assert issue["evidence"][0]["detail"][0]["reference"] == "ServiceRequest/referral-1"

    def test_severity_critical_is_high(self) -> None:
        """DetectedIssue severity has three levels: critical is high."""
        issue = gap_to_detected_issue(gap(severity=Severity.CRITICAL), patient_ref="Patient/p")

        assert issue["severity"] == "high"

    def test_sensitivity_is_a_security_label(self) -> None:
        """A mental-health gap is labelled PSY in ``meta.security``."""
        sensitive = gap(sensitivity=frozenset({Sensitivity.MENTAL_HEALTH}))

        issue = gap_to_detected_issue(sensitive, patient_ref="Patient/p")

        assert issue["meta"]["security"] == [{"system": System.V3_ACT_CODE, "code": "PSY"}]

    def test_a_closed_gap_dates_its_mitigation(self) -> None:
        """The mitigation of a closed gap is dated ``closed_at``."""
        closed = gap(GapStatus.CLOSED, closed_at=days_before(1))

        issue = gap_to_detected_issue(closed, patient_ref="Patient/p")

        assert issue["mitigation"][0]["date"] == instant(days_before(1))


class TestGapsInABundle:
    """Gaps written with their patient point at the facts' entries."""

    def test_evidence_points_at_the_facts_entry(self) -> None:
        """The trigger of a referral gap is the referral's ServiceRequest entry."""
        record = make_record(referrals=(make_referral(),))
        report = detect_gaps(profile_from_record(record), as_of=AS_OF)
        bundle = write_bundle([record], gaps=report)
        urls = {
            (e["resource"]["resourceType"], e["resource"]["id"]): e["fullUrl"]
            for e in bundle["entry"]
        }

        issue = next(
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "DetectedIssue"
        )

        assert (
            issue["evidence"][0]["detail"][0]["reference"] == urls[("ServiceRequest", "referral-1")]
        )

    def test_a_report_dates_identification_at_its_as_of(self) -> None:
        """A GapReport's ``as_of`` is ``identifiedDateTime``."""
        record = make_record(referrals=(make_referral(),))
        report = detect_gaps(profile_from_record(record), as_of=AS_OF)

        bundle = write_bundle([record], gaps=report)

        issues = [
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "DetectedIssue"
        ]
        assert issues
        assert all(i["identifiedDateTime"] == instant(AS_OF) for i in issues)

    def test_a_gap_about_someone_not_written_raises(self) -> None:
        """A gap must be about one of the patients written."""
        with pytest.raises(FhirExportError, match="patient"):
            write_bundle([make_record()], gaps=[gap(patient="elsewhere/p9")])


class TestDetectedIssuePatient:
    """Who a DetectedIssue is about: from the profile, or a checked ``patient_ref``."""

    def test_the_profile_gives_the_patient_reference(self) -> None:
        """``gap_to_detected_issue(gap, profile)`` references the profile's Patient."""
        from carecoord.profile import profile_from_record

        profile = profile_from_record(make_record())

        issue = gap_to_detected_issue(gap(), profile)

        assert issue["patient"] == {"reference": "Patient/patient-1"}

    def test_a_record_gives_the_patient_reference(self) -> None:
        """A record works as the profile does."""
        issue = gap_to_detected_issue(gap(), make_record())

        assert issue["patient"] == {"reference": "Patient/patient-1"}

    def test_a_profile_of_another_patient_is_refused(self) -> None:
        """The gap must be about the profile given."""
        other = make_record(patient=make_patient(id="someone-else"))

        with pytest.raises(ValidationError, match="another patient"):
            gap_to_detected_issue(gap(), other)

    @pytest.mark.parametrize(
        "reference",
        [
            "Patient/https://synthea.example/|abc/018f",
            "clinic-ehr/patient-1",
            "patient-1",
            "Patient/",
            "Patient/" + "x" * 65,
            "Observation/o1",
            "urn:uuid:not-a-uuid",
        ],
    )
    def test_a_string_that_is_not_a_patient_reference_is_refused(self, reference: str) -> None:
        """A profile id, a bare id or a malformed reference is refused, never written."""
        with pytest.raises(ValidationError, match="patient_ref") as raised:
            gap_to_detected_issue(gap(), patient_ref=reference)

        assert reference == "Patient/" or reference not in str(raised.value)

    @pytest.mark.parametrize(
        "reference",
        [
            "Patient/p-1.a",
            "https://fhir.example.org/r4/Patient/p1",
            "https://fhir.example.org/r4/Patient/p1/_history/3",
            "urn:uuid:0b4e3d2c-1a2b-4c3d-8e9f-0123456789ab",
            "urn:oid:1.2.840.113619",
        ],
    )
    def test_valid_references_are_kept(self, reference: str) -> None:
        """References FHIR allows are written as given."""
        issue = gap_to_detected_issue(gap(), patient_ref=reference)

        assert issue["patient"] == {"reference": reference}

    def test_neither_or_both_is_a_usage_error(self) -> None:
        """Exactly one of ``profile`` and ``patient_ref`` is given."""
        with pytest.raises(UsageError, match="not neither"):
            gap_to_detected_issue(gap())
        with pytest.raises(UsageError, match="not both"):
            gap_to_detected_issue(gap(), make_record(), patient_ref="Patient/p")
