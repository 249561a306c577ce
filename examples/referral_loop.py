"""Walk a referral around the closed loop and a task through its lifecycle.

Run it with ``python examples/referral_loop.py``. Everything here is synthetic.
"""

from __future__ import annotations

import datetime as dt

import carecoord as cc
from carecoord.domain import AppointmentId
from carecoord.testing import AS_OF, CARDIOLOGIST, COORDINATOR, PCP, make_referral, make_task


def hours(n: float) -> dt.datetime:
    """AS_OF plus ``n`` hours: time is always an explicit input."""
    return AS_OF + dt.timedelta(hours=n)


def main() -> None:
    """Run the example and print what happened."""
    referral = make_referral()  # sent by the PCP to cardiology
    referral = referral.accept(at=hours(4), by=CARDIOLOGIST)
    referral = referral.schedule(AppointmentId("appt-1"), at=hours(30), by=COORDINATOR)
    referral = referral.record_seen(at=hours(200), by=CARDIOLOGIST)
    referral = referral.receive_report(at=hours(220), by=PCP)
    referral = referral.close(at=hours(221), by=PCP)
    print(f"referral {referral.id}: {referral.status.value}")
    for change in referral.history:
        print(f"  {change.at:%Y-%m-%d %H:%M} {change.from_status} -> {change.to_status}")

    task = make_task(focus=cc.Ref("Referral", referral.id))
    task = task.accept(at=hours(1), by=COORDINATOR).start(at=hours(2), by=COORDINATOR)
    task = task.complete(at=hours(3), by=COORDINATOR)
    print(f"task {task.id}: {task.status.value} after {len(task.history)} changes")

    try:
        task.start(at=hours(4))
    except cc.InvalidTransition as error:
        print(f"refused: {error}")


if __name__ == "__main__":
    main()
