"""A hospital's ADT feed and a clinic's FHIR export, read into one profile.

A (made-up) patient is admitted and discharged home: the hospital says so with HL7 v2
ADT^A01 and ADT^A03 messages, as hospitals notify care teams. This script reads the feed
with ``carecoord.hl7v2.read``, shows the stay and the transitional-care gaps it opens, then
adds the hospital's discharge summary (an MDM^T02 message) and the clinic's follow-up visit
(a FHIR Encounter) and shows the gaps they close: one person, two formats, the same rules.

Run it with ``python examples/hl7v2_adt.py``.
"""

from __future__ import annotations

import datetime as dt

import carecoord as cc
from carecoord import fhir, hl7v2

AS_OF = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)
PATIENT = "PID|1||MRN-7001^^^RIVERSIDE^MR||Testperson^Alma^Q||19560412|F"


def segment(name: str, fields: dict[int, str]) -> str:
    """A segment with the given fields, numbered as HL7 numbers them."""
    return name + "|" + "|".join(fields.get(i, "") for i in range(1, max(fields) + 1))


def message(kind: str, control: str, sent: str, *segments: str) -> str:
    """One message from the hospital, segments ended by CR."""
    header = f"MSH|^~\\&|ADT|RIVERSIDE|CC|COORD|{sent}||{kind}|{control}|P|2.5.1"
    return "\r".join((header, *segments)) + "\r"


def stay(discharged: bool) -> str:
    """The PV1 of the stay: inpatient, visit V-1, admitted from the emergency room."""
    fields = {1: "1", 2: "I", 3: "W4^412^A^RIVERSIDE", 14: "7", 19: "V-1"}
    fields[44] = "202603010700-0500"
    if discharged:
        fields[36] = "01^Discharged to home^NUBC"
        fields[45] = "202603041500-0500"
    return segment("PV1", fields)


ADT_FEED = message(
    "ADT^A01^ADT_A01",
    "ADT-1",
    "202603010705-0500",
    "EVN|A01|202603010705-0500",
    PATIENT,
    stay(discharged=False),
    segment("DG1", {1: "1", 3: "I50.9^Heart failure, unspecified^I10C", 6: "A", 15: "1"}),
) + message(
    "ADT^A03^ADT_A03",
    "ADT-2",
    "202603041505-0500",
    "EVN|A03|202603041505-0500",
    PATIENT,
    stay(discharged=True),
)

DISCHARGE_SUMMARY = message(
    "MDM^T02^MDM_T02",
    "DOC-1",
    "202603050900-0500",
    "EVN|T02|202603050900-0500",
    PATIENT,
    stay(discharged=True),
    segment(
        "TXA",
        {1: "1", 2: "DS^Discharge summary^HL70270", 3: "TX", 4: "202603041600-0500"}
        | {12: "DOC-DS-1", 17: "AU", 19: "AV"},
    ),
    "OBX|1|TX|18842-5^Discharge summary^LN||Synthetic summary text.||||||F",
)

CLINIC = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "resource": {
                "resourceType": "Patient",
                "id": "clinic-7",
                "name": [{"family": "Testperson", "given": ["Alma"]}],
                "birthDate": "1956-04-12",
                "gender": "female",
            }
        },
        {
            "resource": {
                "resourceType": "Encounter",
                "id": "follow-up",
                "status": "finished",
                "class": {"code": "AMB"},
                "subject": {"reference": "Patient/clinic-7"},
                "period": {"start": "2026-03-10T10:00:00-05:00"},
            }
        },
    ],
}


def show_gaps(title: str, records: list[cc.PatientRecord]) -> set[str]:
    """Print the transitional-care gaps of the one profile; return their rule ids."""
    profiles = cc.build_profiles(records)
    report = cc.detect_gaps(profiles[0], as_of=AS_OF)
    rules = {gap.rule for gap in report if gap.rule.startswith("transition.")}
    print(f"\n{title}: {len(profiles)} profile, {len(records)} records")
    for gap in report:
        if gap.rule in rules:
            print(f"  {gap.status.value:<11} {gap.rule:<38} due {gap.due}")
    return rules


def main() -> None:
    """Read the ADT feed, then add the document and the FHIR visit."""
    feed = hl7v2.read(ADT_FEED)
    transition = feed.records[0].transitions[0]
    principal = transition.principal_diagnosis
    print("ADT feed:", {kind: counts.read for kind, counts in feed.counts.items()})
    print(
        f"stay {transition.id}: {transition.kind.value} "
        f"{transition.admitted_at:%Y-%m-%d} to {transition.discharged_at:%Y-%m-%d}, "
        f"from {transition.from_setting.value} to {transition.to_setting.value}, "
        f"principal diagnosis {principal.code.code if principal else 'none'}"
    )
    before = show_gaps("The ADT feed alone", list(feed.records))
    both = hl7v2.read([ADT_FEED, DISCHARGE_SUMMARY]).records
    clinic = fhir.read(CLINIC, source_id="clinic").records
    after = show_gaps("With the discharge summary and the FHIR follow-up", [*both, *clinic])
    print("\nclosed:", ", ".join(sorted(before - after)) or "none")


if __name__ == "__main__":
    main()
