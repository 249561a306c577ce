"""hl7v2.read: its inputs, its result, its issues, and what each message type becomes."""

from __future__ import annotations

import datetime as dt
import io
import pickle
from pathlib import Path

import pytest

import carecoord as cc
from carecoord import fhir, hl7v2
from carecoord.domain import (
    AppointmentStatus,
    CareSetting,
    CompositionStatus,
    DocumentStatus,
    EncounterStatus,
    Interpretation,
    LinkKind,
    PartialDate,
    Precision,
    Quantity,
    ReferralStatus,
    ResultStatus,
    System,
    TransitionKind,
)
from carecoord.errors import InteropError, IssueCode, UsageError
from carecoord.interop import ImportResult
from tests.hl7v2._messages import FIXTURES, PID, adt, message, pv1, seg

EST = dt.timezone(dt.timedelta(hours=-5))
DISCHARGE = adt("A03", "C2", pv1(discharge="202603041500-0500", disposition="01^Home^NUBC"))


def _one(result: ImportResult) -> cc.PatientRecord:
    assert len(result.records) == 1
    return result.records[0]


class TestShape:
    """The result is the FHIR reader's ImportResult, with counts by message type."""

    def test_same_result_type_as_fhir(self) -> None:
        """hl7v2.read and fhir.read return the same class."""
        assert isinstance(hl7v2.read(adt("A01", "C1", pv1())), type(fhir.read({})))

    def test_counts_by_message_type(self) -> None:
        """Counts are keyed MESSAGE^EVENT: read, mapped, skipped."""
        result = hl7v2.read(adt("A01", "C1", pv1()) + adt("A01", "C2", pv1()) + DISCHARGE)

        assert {k: (v.read, v.mapped, v.skipped) for k, v in result.counts.items()} == {
            "ADT^A01": (2, 2, 0),
            "ADT^A03": (1, 1, 0),
        }

    def test_unsupported_type_is_counted_and_skipped(self) -> None:
        """An ACK is an unsupported-message warning and a skipped count."""
        result = hl7v2.read(message("ACK^A01", "C9", "MSA|AA|C1"))

        assert [i.code for i in result.issues] == [IssueCode.UNSUPPORTED_MESSAGE]
        assert result.counts["ACK^A01"].skipped == 1

    def test_source_is_the_sending_facility(self) -> None:
        """Without source_id, MSH-4 names the record's source; with it, source_id does."""
        assert _one(hl7v2.read(adt("A01", "C1", pv1()))).source.id == "RIVERSIDE"
        assert _one(hl7v2.read(adt("A01", "C1", pv1()), source_id="feed")).source.id == "feed"


class TestSources:
    """Files, folders, text, bytes, streams, MLLP frames, messages and iterables."""

    def test_folder_reads_every_fixture(self) -> None:
        """A folder of .hl7 files is read recursively; files are named by position."""
        result = hl7v2.read(FIXTURES)

        assert sum(c.read for c in result.counts.values()) == 19
        assert all(i.source.startswith("<file ") for i in result.issues)

    def test_file_path_as_str_and_path(self) -> None:
        """A file given as str or Path is read."""
        path = FIXTURES / "ADT-stay.hl7"

        assert hl7v2.read(str(path)).records == hl7v2.read(Path(path)).records

    def test_bytes_text_and_iterable(self) -> None:
        """Text, bytes and a list of messages give the same records."""
        text = adt("A01", "C1", pv1()) + DISCHARGE
        from_text = hl7v2.read(text).records

        assert hl7v2.read(text.encode()).records == from_text
        assert hl7v2.read([adt("A01", "C1", pv1()), DISCHARGE.encode()]).records == from_text

    def test_mllp_frames_and_stream(self) -> None:
        """MLLP-framed bytes, in memory or as a stream, are deframed."""
        frames = b"".join(
            b"\x0b" + m.encode() + b"\x1c\r" for m in (adt("A01", "C1", pv1()), DISCHARGE)
        )
        expected = hl7v2.read(adt("A01", "C1", pv1()) + DISCHARGE).records

        assert hl7v2.read(frames).records == expected
        assert hl7v2.read(io.BytesIO(frames)).records == expected

    def test_parsed_message(self) -> None:
        """A Message already parsed is read as it is."""
        parsed = hl7v2.parse_message(adt("A01", "C1", pv1()))

        assert _one(hl7v2.read([parsed])).transitions

    def test_lf_and_crlf_files(self, tmp_path: Path) -> None:
        """Files whose segments end in LF or CRLF, with a byte-order mark, read the same."""
        text = adt("A01", "C1", pv1()) + DISCHARGE
        (tmp_path / "lf.hl7").write_bytes(b"\xef\xbb\xbf" + text.replace("\r", "\n").encode())
        (tmp_path / "crlf.txt").write_bytes(text.replace("\r", "\r\n").encode())

        records = hl7v2.read(tmp_path).records

        assert len(records) == 1
        assert records[0].transitions[0].discharged_at is not None

    def test_missing_path_is_interop_error(self) -> None:
        """A path that does not exist raises InteropError naming no input."""
        with pytest.raises(InteropError):
            hl7v2.read("no/such/file.hl7")

    @pytest.mark.parametrize("bad", [42, 1.5, None, {"a": 1}])
    def test_wrong_type_is_usage_error(self, bad: object) -> None:
        """An input of an unsupported type is a UsageError."""
        with pytest.raises(UsageError):
            hl7v2.read(bad)  # type: ignore[arg-type]

    def test_limits(self) -> None:
        """Text over max_file_bytes is a limit-exceeded issue, not a read."""
        limits = hl7v2.Limits(max_file_bytes=100)

        result = hl7v2.read(adt("A01", "C1", pv1()), limits=limits)

        assert [i.code for i in result.issues] == [IssueCode.LIMIT_EXCEEDED]
        assert result.records == ()


class TestIssues:
    """Issues are located by message, segment, field and repetition, and hold no PHI."""

    def test_malformed_message_in_a_batch(self) -> None:
        """A broken message is one issue; the others are read."""
        broken = "MSH|^|SECRET^NAME\rPID|1||X"
        result = hl7v2.read([adt("A01", "C1", pv1()), broken, DISCHARGE])

        issue = next(i for i in result.issues if i.code == IssueCode.MALFORMED_MESSAGE)
        assert issue.path == "message[2].MSH-2"
        assert "SECRET" not in str(issue)
        assert _one(result).transitions[0].discharged_at is not None

    def test_naive_timestamp_is_an_error_without_default_tz(self) -> None:
        """PV1-44 with a time and no offset: naive-datetime at message[1].PV1-44."""
        result = hl7v2.read(adt("A01", "C1", pv1(admit="202603010700")))

        naive = [i for i in result.issues if i.code == IssueCode.NAIVE_DATETIME]
        assert [i.path for i in naive] == ["message[1].PV1-44"]

    def test_default_tz_places_naive_timestamps(self) -> None:
        """With default_tz, the same timestamp is read in that zone and no issue is made."""
        result = hl7v2.read(adt("A01", "C1", pv1(admit="202603010700")), default_tz=EST)

        assert not [i for i in result.issues if i.code == IssueCode.NAIVE_DATETIME]
        assert _one(result).transitions[0].admitted_at == dt.datetime(2026, 3, 1, 7, tzinfo=EST)

    def test_strict_raises_with_every_issue(self) -> None:
        """strict=True raises Hl7ImportError, which pickles and names no input."""
        with pytest.raises(hl7v2.Hl7ImportError) as caught:
            hl7v2.read(adt("A01", "C1", pv1(admit="202603010700")), strict=True)

        again = pickle.loads(pickle.dumps(caught.value))
        assert [i.code for i in again.issues if i.is_error] == [IssueCode.NAIVE_DATETIME]
        assert "Testperson" not in str(caught.value)

    def test_invalid_date_located(self) -> None:
        """An impossible date (30 February) is invalid-date at its field."""
        result = hl7v2.read(adt("A01", "C1", pv1(discharge="20260230")))

        assert [i.path for i in result.issues if i.code == IssueCode.INVALID_DATE] == [
            "message[1].PV1-45"
        ]


class TestAdt:
    """ADT events change one stay: admit, transfer, discharge, cancel, undo."""

    def test_admit_then_discharge(self) -> None:
        """A01 then A03 make one discharged stay home, with its NUBC disposition."""
        stay = _one(hl7v2.read(adt("A01", "C1", pv1()) + DISCHARGE)).transitions

        assert len(stay) == 1
        assert stay[0].kind is TransitionKind.INPATIENT
        assert stay[0].admitted_at == dt.datetime(2026, 3, 1, 7, tzinfo=EST)
        assert stay[0].discharged_at == dt.datetime(2026, 3, 4, 15, tzinfo=EST)
        assert stay[0].to_setting is CareSetting.HOME
        assert stay[0].discharge_disposition == cc.Code(System.DISCHARGE_DISPOSITION, "01")

    def test_a11_cancels_the_admission(self) -> None:
        """A01 then A11 for the same visit: no stay remains."""
        result = hl7v2.read(adt("A01", "C1", pv1()) + adt("A11", "C2", pv1()))

        assert _one(result).transitions == ()

    def test_a13_cancels_the_discharge(self) -> None:
        """A01, A03, A13: the stay is ongoing again, with no destination."""
        undo = adt("A13", "C3", pv1(discharge="202603041500-0500"))
        stay = _one(hl7v2.read(adt("A01", "C1", pv1()) + DISCHARGE + undo)).transitions[0]

        assert stay.discharged_at is None
        assert stay.to_setting is CareSetting.UNKNOWN

    def test_a11_of_an_outpatient_visit_is_a_cancelled_encounter(self) -> None:
        """A04 then A11 of an outpatient visit keep it, cancelled."""
        visit = pv1(klass="O", visit="V-9")
        record = _one(hl7v2.read(adt("A04", "C1", visit) + adt("A11", "C2", visit)))

        assert [e.status for e in record.encounters] == [EncounterStatus.CANCELLED]

    def test_emergency_and_planned(self) -> None:
        """PV1-2 E is an emergency stay; an A05 pre-admission is a planned encounter."""
        er = _one(hl7v2.read(adt("A04", "C1", pv1(klass="E")))).transitions[0]
        planned = _one(hl7v2.read(adt("A05", "C1", pv1(admit="")))).encounters[0]

        assert er.kind is TransitionKind.EMERGENCY
        assert planned.status is EncounterStatus.PLANNED

    def test_a08_update_changes_the_class(self) -> None:
        """An A06 (outpatient to inpatient) turns a visit into a stay."""
        result = hl7v2.read(adt("A04", "C1", pv1(klass="O")) + adt("A06", "C2", pv1(klass="I")))

        assert [t.kind for t in _one(result).transitions] == [TransitionKind.INPATIENT]

    def test_diagnoses_with_principal(self) -> None:
        """DG1-15 priority 1 is the principal diagnosis, in ICD-10-CM (I10C)."""
        dg1 = seg("DG1", {1: "1", 3: "I50.9^Heart failure^I10C", 6: "A", 15: "1"})
        stay = _one(hl7v2.read(adt("A01", "C1", pv1(), dg1))).transitions[0]

        assert stay.principal_diagnosis is not None
        assert stay.principal_diagnosis.code == cc.Code(System.ICD10CM, "I50.9")
        assert stay.principal_diagnosis.principal

    def test_a40_merge_links_the_prior_patient(self) -> None:
        """ADT^A40 with MRG-1 links the surviving patient to the prior id (same person)."""
        merge = adt("A40", "C1", "MRG|MRN-0999^^^RIVERSIDE^MR")
        links = _one(hl7v2.read(merge)).patient.links

        assert [(link.kind, link.other_id) for link in links] == [
            (LinkKind.SAME_PERSON, "MRN-0999")
        ]

    def test_merged_records_make_one_profile(self) -> None:
        """A stay under the prior id and an A40 into a survivor: one profile, the stay in it."""
        prior = "PID|1||MRN-0999^^^RIVERSIDE^MR||Otherperson^Bea||19600101|F"
        stay = message("ADT^A01^ADT_A01", "C1", "EVN|A01|20260301", prior, pv1())
        merge = adt("A40", "C2", "MRG|MRN-0999^^^RIVERSIDE^MR")

        profiles = cc.build_profiles(hl7v2.read(stay + merge).records)

        assert len(profiles) == 1
        assert len(profiles[0].transitions) == 1

    def test_a31_updates_demographics_and_keeps_partial_birth_date(self) -> None:
        """A28 then A31: the newer demographics win; a YYYYMM birth date stays month-precise."""
        first = adt("A28", "C1")
        update = message(
            "ADT^A31^ADT_A05",
            "C2",
            "EVN|A31|20260301",
            "PID|1||MRN-7001^^^RIVERSIDE^MR||Testperson^Alma^Q||195604|F",
        )
        patient = _one(hl7v2.read(first + update)).patient

        assert patient.birth_date == PartialDate(1956, 4)
        assert patient.birth_date.precision is Precision.MONTH

    def test_stay_fixture_with_transfer_and_cancelled_transfer(self) -> None:
        """A01, A02, A12 and A03 from the fixture: one stay, home, facility RIVERSIDE."""
        stay = _one(hl7v2.read(FIXTURES / "ADT-stay.hl7")).transitions

        assert len(stay) == 1
        assert stay[0].to_setting is CareSetting.HOME
        assert stay[0].from_setting is CareSetting.EMERGENCY
        assert stay[0].facility == cc.Ref("Organization", "RIVERSIDE")


class TestResults:
    """ORU R01: a report per OBR with its OBX as members; corrections replace."""

    def test_reports_and_members(self) -> None:
        """Two OBRs: two reports whose members are their OBX results."""
        record = _one(hl7v2.read(FIXTURES / "ORU-R01-lab.hl7"))
        by_id = {r.id: r for r in record.results}

        assert by_id["FIL-1"].members == ("FIL-1.1", "FIL-1.2", "FIL-1.3")
        assert by_id["FIL-1.1"].value == Quantity(182.0, "mg/dL")
        assert by_id["FIL-1.1"].interpretation is Interpretation.ABNORMAL
        assert by_id["FIL-1.3"].interpretation is Interpretation.CRITICAL
        assert by_id["FIL-2"].status is ResultStatus.PRELIMINARY
        assert by_id["FIL-2.2"].value == "Specimen slightly hemolyzed"

    def test_corrected_result_replaces(self) -> None:
        """A later corrected OBX (status C) replaces the preliminary one, by id."""
        record = _one(hl7v2.read(FIXTURES.glob("ORU-*.hl7")))
        a1c = next(r for r in record.results if r.id == "FIL-2.1")

        assert a1c.status is ResultStatus.AMENDED
        assert a1c.value == Quantity(8.3, "%")


class TestDocuments:
    """MDM T02/T04: documents typed by LOINC, as a FHIR DocumentReference would be."""

    def test_discharge_summary(self) -> None:
        """TXA-2 DS is LOINC 18842-5, authenticated (final), tied to its stay."""
        record = _one(hl7v2.read(FIXTURES / "MDM-T02-discharge-summary.hl7"))
        document = record.documents[0]

        assert document.types[0] == cc.Code(System.LOINC, "18842-5")
        assert document.doc_status is CompositionStatus.FINAL
        assert document.status is DocumentStatus.CURRENT
        assert document.context == (cc.Ref("Encounter", "V-7001-2"),)

    def test_consult_note(self) -> None:
        """TXA-2 CN is LOINC 11488-4."""
        document = _one(hl7v2.read(FIXTURES / "MDM-T04-consult-note.hl7")).documents[0]

        assert document.types[0] == cc.Code(System.LOINC, "11488-4")

    def test_t11_cancels(self) -> None:
        """An MDM T11 for the same document marks it entered in error."""
        text = (FIXTURES / "MDM-T04-consult-note.hl7").read_text()
        cancel = text.replace("MDM^T04", "MDM^T11").replace("DOC-0002", "DOC-0003")

        documents = _one(hl7v2.read([text, cancel])).documents

        assert [d.status for d in documents] == [DocumentStatus.ENTERED_IN_ERROR]


class TestReferralsAndAppointments:
    """REF I12-I14 and SIU S12-S26: referrals and appointments, tied together."""

    def test_referral_accepted_by_i13(self) -> None:
        """I12 then I13 with status A: one referral, accepted, ASAP."""
        records = hl7v2.read(FIXTURES / "REF-I12-I13-referral.hl7").records
        referral = records[0].referrals[0]

        assert referral.status is ReferralStatus.ACCEPTED
        assert referral.priority.value == "asap"
        assert referral.authored_on == dt.datetime(2026, 3, 6, tzinfo=dt.UTC)

    def test_i14_cancels(self) -> None:
        """I14 cancels the referral."""
        text = (FIXTURES / "REF-I12-I13-referral.hl7").read_text().replace("REF^I13", "REF^I14")

        referral = hl7v2.read(text).records[0].referrals[0]

        assert referral.status is ReferralStatus.CANCELLED

    def test_appointment_lifecycle_and_referral_tie(self) -> None:
        """S12 books, S18-S22 change resources, S26 records a no-show; SCH-26 ties it."""
        result = hl7v2.read(sorted(FIXTURES.glob("[RS]*.hl7")))
        appointment = next(a for r in result.records for a in r.appointments)

        assert appointment.status is AppointmentStatus.NO_SHOW
        assert appointment.start == dt.datetime(2026, 3, 12, 15, tzinfo=EST)
        assert appointment.end == dt.datetime(2026, 3, 12, 15, 45, tzinfo=EST)
        assert appointment.based_on == (cc.Ref("Referral", "RFL-100"),)
        assert appointment.participants == (cc.Ref("Practitioner", "9012"),)

    def test_cancellation_and_deletion(self) -> None:
        """S15 cancels and S17 deletes an appointment."""
        sch = seg("SCH", {1: "P1", 2: "A1", 11: "^^^20260312140000-0500^20260312143000-0500"})
        book = message("SIU^S12^SIU_S12", "S1", sch, PID)
        cancel = message("SIU^S15^SIU_S12", "S2", sch, PID)
        delete = message("SIU^S17^SIU_S12", "S3", sch, PID)

        statuses = [
            _one(hl7v2.read([book, *later])).appointments[0].status
            for later in ([cancel], [delete])
        ]

        assert statuses == [AppointmentStatus.CANCELLED, AppointmentStatus.ENTERED_IN_ERROR]


class TestSameModelSameRules:
    """ADT and FHIR records of one person land in one profile, and the rules see both."""

    def test_adt_discharge_and_fhir_follow_up_in_one_profile(self) -> None:
        """The FHIR follow-up visit closes the follow-up gap of the ADT discharge."""
        stay = hl7v2.read(adt("A01", "C1", pv1()) + DISCHARGE).records
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Patient",
                        "id": "p1",
                        "name": [{"family": "Testperson", "given": ["Alma"]}],
                        "birthDate": "1956-04-12",
                        "gender": "female",
                    }
                },
                {
                    "resource": {
                        "resourceType": "Encounter",
                        "id": "e1",
                        "status": "finished",
                        "class": {"code": "AMB"},
                        "subject": {"reference": "Patient/p1"},
                        "period": {
                            "start": "2026-03-09T10:00:00-05:00",
                            "end": "2026-03-09T10:30:00-05:00",
                        },
                    }
                },
            ],
        }
        visit = fhir.read(bundle, source_id="clinic").records
        as_of = dt.datetime(2026, 3, 20, tzinfo=dt.UTC)

        alone = {g.rule for p in cc.build_profiles(stay) for g in cc.detect_gaps(p, as_of=as_of)}
        profiles = cc.build_profiles([*stay, *visit])
        together = {g.rule for g in cc.detect_gaps(profiles[0], as_of=as_of)}

        assert len(profiles) == 1
        assert "transition.follow-up-visit" in alone
        assert "transition.follow-up-visit" not in together
