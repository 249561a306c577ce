"""Receive ADT messages over MLLP into a coordinator, one commit per batch, ACK after commit.

Run it with ``python examples/mllp_listener.py``. A listener on a free local port reads
each message with ``hl7v2.read`` and ingests each batch into a ``Coordinator`` (over an
in-memory store here; ``SQLiteStore`` for a real one) before acknowledging it. A hospital
then sends an admission, a discharge, the discharge again (a resend after a lost ACK: not
ingested twice) and a message with no patient identifier (answered AE). Everything here is
synthetic.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

from carecoord import hl7v2
from carecoord.services import Coordinator
from carecoord.stores import MemoryStore

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def clock() -> dt.datetime:
    """The time the ACKs are stamped with and the ingest is evaluated at (fixed here)."""
    return NOW


def message(control: str, event: str, pid3: str = "MRN1^^^GHH^MR") -> bytes:
    """A synthetic ADT message about a made-up patient, segments ended by CR."""
    pv1 = ["PV1", "1", "I", "WARD^1^A"] + [""] * 42
    pv1[19] = "V100^^^GHH^VN"  # visit number
    pv1[44] = "202603010800-0500"  # admitted
    if event == "A03":
        pv1[36] = "01"  # discharged home
        pv1[45] = "202603050900-0500"
    return (
        f"MSH|^~\\&|ADT|GHH|CARECOORD|CLINIC|202603050905-0500||ADT^{event}^ADT_A01|{control}|"
        "P|2.5.1\r"
        f"EVN|{event}|202603050905-0500\r"
        f"PID|1||{pid3}||Testperson^Alex||19600101|F\r" + "|".join(pv1).rstrip("|") + "\r"
    ).encode()


async def main() -> None:
    """Start the listener, send the messages, print the ACKs and what was stored."""
    coordinator = Coordinator(MemoryStore())
    batches: list[int] = []

    def ingest(batch: Sequence[hl7v2.Inbound]) -> list[hl7v2.Outcome]:
        results = [hl7v2.read(inbound.message) for inbound in batch]
        outcomes = [hl7v2.read_outcome(result) for result in results]
        records = [r for result in results for r in result.records]
        coordinator.ingest(records, as_of=clock())  # one unit of work, committed here
        batches.append(len(batch))
        return outcomes

    async with hl7v2.MLLPServer(ingest, clock=clock, port=0, batch=True) as server:
        sent = [
            message("M1", "A01"),
            message("M2", "A03"),
            message("M2", "A03"),  # resent: acknowledged, not ingested again
            message("M3", "A01", pid3=""),  # no patient identifier: AE
        ]
        acks = await hl7v2.send_mllp(sent, host="127.0.0.1", port=server.port)
        stats = server.stats
    for ack in acks:
        detail = f" ({ack.text})" if ack.text else ""
        print(f"{ack.control_id}: {ack.code}{detail}")
    print(f"handler calls: {len(batches)}, messages handled: {sum(batches)}")
    print(f"duplicates acknowledged without handling: {stats.duplicates}")
    for person in coordinator.persons():
        profile = coordinator.profile(person, as_of=clock())
        for fact in profile.transitions:
            stay = fact.value
            until = f"{stay.discharged_at:%Y-%m-%d}" if stay.discharged_at else "still in"
            print(f"person {person[:14]}: in hospital {stay.admitted_at:%Y-%m-%d} to {until}")


if __name__ == "__main__":
    asyncio.run(main())
