"""The ``carecoord`` command line.

``carecoord demo`` walks one synthetic patient through a referral's closed loop and a
coordination task's lifecycle and prints each step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from typing import TextIO

from carecoord.domain import (
    AppointmentId,
    Referral,
    StatusChange,
    Task,
)
from carecoord.errors import CarecoordError

__all__ = ["main"]

# The demo's story happens at fixed instants: the library never reads the clock.
_START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


def _step(hours: float) -> dt.datetime:
    return _START + dt.timedelta(hours=hours)


def _line(out: TextIO, change: StatusChange, what: str) -> None:
    who = str(change.by) if change.by else "system"
    why = f"  ({change.reason})" if change.reason else ""
    stamp = change.at.strftime("%a %d %b %Y %H:%M %z")
    out.write(f"  {stamp}  {what:<9} {change.from_status or '-':>21} -> {change.to_status:<17}")
    out.write(f" by {who}{why}\n")


def run_demo(out: TextIO) -> None:
    """Print the demo story to ``out``."""
    from carecoord.testing import (  # noqa: PLC0415 - the test kit is only needed here
        CARDIOLOGIST,
        COORDINATOR,
        PCP,
        make_patient,
        make_referral,
        make_task,
    )

    patient = make_patient()
    out.write("carecoord demo: one synthetic patient, one referral, one coordination task\n\n")
    out.write(f"Patient {patient.id} (synthetic; personal details masked: {patient!r:.60}...)\n\n")

    referral: Referral = make_referral(authored_on=_step(0), sent_at=_step(0), history=())
    task: Task = make_task(
        authored_on=_step(0.5),
        due=_step(72),
        focus=None,
        description="Book the cardiology appointment",
    )

    referral = referral.receive(at=_step(20), by=CARDIOLOGIST)
    referral = referral.accept(at=_step(26), by=CARDIOLOGIST)
    task = task.accept(at=_step(27), by=COORDINATOR).start(at=_step(27.5), by=COORDINATOR)
    task = task.hold(at=_step(28), by=COORDINATOR, reason="waiting for the patient to call back")
    task = task.resume(at=_step(49), by=COORDINATOR)
    referral = referral.schedule(AppointmentId("appointment-1"), at=_step(50), by=COORDINATOR)
    task = task.complete(at=_step(50.2), by=COORDINATOR)
    referral = referral.record_no_show(at=_step(170), by=CARDIOLOGIST)
    referral = referral.schedule(AppointmentId("appointment-2"), at=_step(172), by=COORDINATOR)
    referral = referral.record_seen(at=_step(340), by=CARDIOLOGIST)
    referral = referral.receive_report(at=_step(390), by=PCP)
    referral = referral.close(at=_step(391), by=PCP)

    events = [(c, "referral") for c in referral.history] + [(c, "task") for c in task.history]
    events.sort(key=lambda pair: pair[0].at)
    out.write("Timeline (statuses follow the closed-loop referral and FHIR Task lifecycles):\n")
    for change, what in events:
        _line(out, change, what)

    out.write(f"\nReferral {referral.id}: {referral.status.value}; ")
    out.write(f"appointments {', '.join(referral.appointments)}; loop closed ")
    elapsed = (referral.history[-1].at - referral.authored_on).days
    out.write(f"{elapsed} days after it was written.\n")
    out.write(f"Task {task.id}: {task.status.value}; {len(task.history)} changes recorded.\n")

    out.write("\nA change the lifecycle forbids is refused with the allowed moves:\n")
    try:
        task.start(at=_step(400))
    except CarecoordError as error:
        out.write(f"  {type(error).__name__}: {error}\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carecoord",
        description="Care coordination: referrals, transitions, tasks and gaps in care.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="walk a synthetic patient through a referral and a task")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        run_demo(sys.stdout)
        return 0
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
