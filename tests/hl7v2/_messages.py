"""Small synthetic HL7 v2 messages for the reader's tests (synthetic people only).

:func:`seg` writes a segment from a ``{field number: value}`` mapping so that field
positions are explicit; :func:`adt` writes an ADT message for the one test patient.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FIXTURES", "PID", "adt", "message", "pv1", "seg"]

FIXTURES = Path(__file__).parent / "fixtures"
"""The fixture messages written from the HL7 v2.5.1 specification."""

PID = "PID|1||MRN-7001^^^RIVERSIDE^MR||Testperson^Alma^Q||19560412|F"
"""The test patient."""


def seg(name: str, fields: dict[int, str]) -> str:
    """A segment with the given fields (numbered as HL7 numbers them) and empty others."""
    last = max(fields)
    return name + "|" + "|".join(fields.get(i, "") for i in range(1, last + 1))


def message(kind: str, control: str, *segments: str, sent: str = "20260301070500-0500") -> str:
    """A message from RIVERSIDE: its MSH and ``segments``, ended by CR."""
    msh = f"MSH|^~\\&|ADT|RIVERSIDE|CC|COORD|{sent}||{kind}|{control}|P|2.5.1"
    return "\r".join((msh, *segments)) + "\r"


def pv1(
    klass: str = "I",
    visit: str = "V-1",
    admit: str = "202603010700-0500",
    discharge: str = "",
    disposition: str = "",
) -> str:
    """A PV1 with class, visit number, admit and discharge times and a disposition."""
    fields = {1: "1", 2: klass, 3: "W4^412^A^RIVERSIDE", 7: "5678^Hospitalist^Harper", 19: visit}
    if admit:
        fields[44] = admit
    if discharge:
        fields[45] = discharge
    if disposition:
        fields[36] = disposition
    return seg("PV1", fields)


def adt(event: str, control: str, *segments: str) -> str:
    """An ADT message of ``event`` for the test patient, with ``segments`` after PID."""
    return message(
        f"ADT^{event}^ADT_{event}", control, f"EVN|{event}|20260301070500-0500", PID, *segments
    )
