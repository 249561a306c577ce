"""Type-checked only (mypy strict): the builders' keyword arguments are typed.

Each builder takes ``**overrides: Unpack[<Model>Fields]``, so a type checker knows every
field it accepts. The misspelt or mistyped calls below carry a ``type: ignore`` for the
error mypy must report; mypy strict (``warn_unused_ignores``) fails the run if that error
is no longer reported, so this file fails the moment builders go back to
``**overrides: Any``.
"""

from __future__ import annotations

import datetime as dt
from typing import assert_type

from carecoord import Referral, ReferralStatus, Task, TaskStatus
from carecoord.domain import PatientRecord
from carecoord.testing import AS_OF, make_record, make_referral, make_task

WRITTEN = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)

assert_type(make_referral(authored_on=WRITTEN, status=ReferralStatus.SEEN), Referral)
assert_type(make_referral(id="referral-2", recipient=None), Referral)
assert_type(make_task(status=TaskStatus.COMPLETED, due=AS_OF), Task)
assert_type(make_record(referrals=(make_referral(),)), PatientRecord)

make_referral(authored_onn=WRITTEN)  # type: ignore[call-arg]
make_referral(status="sent")  # type: ignore[arg-type]
make_task(owner="coordinator-1")  # type: ignore[arg-type]
make_record(referral=(make_referral(),))  # type: ignore[call-arg]
