"""Security labels: v3 ActCode sensitivity classes and v3 Confidentiality restricted."""

from __future__ import annotations

import attrs
import pytest

from carecoord.domain import ConsentDecision, Ref, Sensitivity
from carecoord.fhir._read import read
from carecoord.fhir._write import write_bundle
from carecoord.testing import (
    make_appointment,
    make_care_plan,
    make_condition,
    make_consent,
    make_goal,
    make_order,
    make_procedure,
    make_record,
    make_referral,
    make_result,
    make_task,
    make_transition,
)

from .test_read_fixtures import SUBJECT, only_record, ref

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SNOMED = "http://snomed.info/sct"


def labelled(*security: dict[str, str]) -> dict[str, object]:
    """A hypertension Condition with the given ``meta.security`` codings."""
    return {
        "resourceType": "Condition",
        "id": "c1",
        "subject": SUBJECT,
        "meta": {"security": list(security)},
        "code": {"coding": [{"system": SNOMED, "code": "38341003"}]},
    }


class TestConfidentiality:
    """v3 Confidentiality R and V read as restricted; other codes say nothing."""

    @pytest.mark.parametrize("code", ["R", "V"])
    def test_restricted_and_very_restricted_are_restricted(self, code: str) -> None:
        """``R`` and ``V`` in ``meta.security`` label the fact restricted."""
        [item] = only_record(labelled({"system": CONFIDENTIALITY, "code": code})).conditions

        assert item.sensitivity == {Sensitivity.RESTRICTED}

    @pytest.mark.parametrize("code", ["N", "L", "M", "U"])
    def test_other_confidentiality_codes_say_nothing(self, code: str) -> None:
        """Normal, low, moderate and unrestricted label nothing."""
        [item] = only_record(labelled({"system": CONFIDENTIALITY, "code": code})).conditions

        assert item.sensitivity == frozenset()

    def test_a_bare_r_is_not_read_as_confidentiality(self) -> None:
        """Without its system, ``R`` is read as an ActCode, which it is not: no label."""
        [item] = only_record(labelled({"code": "R"})).conditions

        assert item.sensitivity == frozenset()

    def test_restricted_and_a_class_together(self) -> None:
        """A fact may be restricted and mental-health at once."""
        [item] = only_record(
            labelled({"system": CONFIDENTIALITY, "code": "R"}, {"system": ACT, "code": "PSY"})
        ).conditions

        assert item.sensitivity == {Sensitivity.RESTRICTED, Sensitivity.MENTAL_HEALTH}

    def test_a_consent_may_permit_restricted_data(self) -> None:
        """A Consent ``securityLabel`` of Confidentiality R is the restricted class."""
        consent = {
            "resourceType": "Consent",
            "id": "k1",
            "status": "active",
            "scope": {"coding": [{"code": "patient-privacy"}]},
            "patient": SUBJECT,
            "provision": {
                "type": "permit",
                "actor": [{"reference": ref("Practitioner", "pcp-1")}],
                "securityLabel": [{"system": CONFIDENTIALITY, "code": "R"}],
            },
        }

        [item] = only_record(consent).consents

        assert item.decision is ConsentDecision.PERMIT
        assert item.actors == (Ref("Practitioner", "pcp-1"),)
        assert item.classes == {Sensitivity.RESTRICTED}


class TestWrittenBack:
    """The writer labels restricted facts with Confidentiality R, which reads back."""

    def test_restricted_is_written_as_confidentiality_r(self) -> None:
        """``meta.security`` holds the ActCode classes, then Confidentiality R."""
        condition = make_condition(sensitivity=frozenset({Sensitivity.RESTRICTED, Sensitivity.HIV}))
        written = write_bundle([make_record(conditions=(condition,))])

        [resource] = [
            e["resource"] for e in written["entry"] if e["resource"]["resourceType"] == "Condition"
        ]

        assert resource["meta"]["security"] == [
            {"system": ACT, "code": "HIV"},
            {"system": CONFIDENTIALITY, "code": "R"},
        ]

    def test_restricted_facts_and_consents_read_back(self) -> None:
        """A restricted result and a consent permitting restricted data come back."""
        result = make_result(sensitivity=frozenset({Sensitivity.RESTRICTED}))
        consent = make_consent(classes=frozenset({Sensitivity.RESTRICTED}))

        record = read(write_bundle([make_record(results=(result,), consents=(consent,))])).records[
            0
        ]

        assert record.results[0].sensitivity == {Sensitivity.RESTRICTED}
        assert record.consents[0].classes == {Sensitivity.RESTRICTED}


class TestEveryLabelledResource:
    """Requests, tasks, appointments, procedures, plans, goals and stays keep their labels."""

    @pytest.mark.parametrize(
        ("kind", "fact"),
        [
            ("referrals", make_referral()),
            ("orders", make_order()),
            ("tasks", make_task()),
            ("appointments", make_appointment()),
            ("procedures", make_procedure()),
            ("care_plans", make_care_plan()),
            ("goals", make_goal()),
            ("transitions", make_transition()),
        ],
    )
    def test_a_restricted_fact_reads_back_restricted(self, kind: str, fact: object) -> None:
        """Confidentiality R on the resource is the fact's ``RESTRICTED`` label (it was lost)."""
        labelled = attrs.evolve(fact, sensitivity=frozenset({Sensitivity.RESTRICTED}))
        written = write_bundle([make_record(**{kind: (labelled,)})])

        [back] = getattr(read(written).records[0], kind)

        assert back.sensitivity == {Sensitivity.RESTRICTED}

    def test_a_third_party_service_request_label_is_read(self) -> None:
        """A referral ServiceRequest from elsewhere labelled ETH is substance-use data."""
        request = {
            "resourceType": "ServiceRequest",
            "id": "sr1",
            "meta": {"security": [{"system": ACT, "code": "ETH"}]},
            "status": "active",
            "intent": "order",
            "category": [{"coding": [{"system": SNOMED, "code": "3457005"}]}],
            "subject": SUBJECT,
            "authoredOn": "2026-02-01T10:00:00Z",
            "requester": ref("Practitioner", "pcp-1"),
        }

        [referral] = only_record(request).referrals

        assert referral.sensitivity == {Sensitivity.SUBSTANCE_USE}
