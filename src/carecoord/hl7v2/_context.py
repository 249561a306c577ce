"""What one message's mapping works with: the message, where it came from, the issue log.

A :class:`MessageContext` reads values by location and reports issues located as
``message[n].SEG-f[r].c`` in the file (or ``<input>``) the message came from; it reads
timestamps with the read's ``default_tz`` and reports the ones it cannot place.
"""

from __future__ import annotations

import datetime as dt

from carecoord.domain import PartialDate
from carecoord.errors import IssueCode, IssueSeverity
from carecoord.hl7v2._er7 import Message, Segment
from carecoord.hl7v2._time import Naive, parse_ts, start_of_day
from carecoord.interop import IssueLog

__all__ = ["MessageContext", "location"]


def location(segment: Segment | None, field: int | None = None, rep: int | None = None) -> str:
    """``PV1-45``, ``PID-3[2]``, ``OBX[3]-5``: a segment's field, numbered as HL7 numbers it.

    The segment's occurrence is shown when it is not the first of its name.
    """
    if segment is None:
        return ""
    occ = segment.occurrence
    head = segment.name if occ == 1 else f"{segment.name}[{occ}]"
    if field is None:
        return head
    text = f"{head}-{field}"
    return text if rep is None else f"{text}[{rep}]"


class MessageContext:
    """One message being mapped: values, times and issues, located."""

    __slots__ = ("default_tz", "label", "log", "message", "number")

    def __init__(
        self,
        message: Message,
        number: int,
        label: str,
        log: IssueLog,
        default_tz: dt.tzinfo | None,
    ) -> None:
        self.message = message
        self.number = number
        self.label = label
        self.log = log
        self.default_tz = default_tz

    def path(self, where: str) -> str:
        """The issue path of a location in this message."""
        return f"message[{self.number}].{where}" if where else f"message[{self.number}]"

    def issue(self, where: str, code: IssueCode, text: str, *, warning: bool = False) -> None:
        """Report an issue at ``where`` (a location such as ``PV1-45``) in this message."""
        self.log.add(
            self.path(where),
            code,
            text,
            severity=IssueSeverity.WARNING if warning else IssueSeverity.ERROR,
            source=self.label,
        )

    def ts(
        self, segment: Segment | None, field: int, component: int = 1
    ) -> dt.datetime | PartialDate | None:
        """The timestamp at a field (first repetition), reported when unreadable."""
        if segment is None:
            return None
        raw = segment.get(field, 1, component).strip()
        if not raw:
            return None
        value = parse_ts(raw, self.default_tz)
        if value is None:
            self.issue(
                location(segment, field),
                IssueCode.INVALID_DATE,
                "not a valid HL7 timestamp; ignored",
            )
            return None
        if isinstance(value, Naive):
            self.issue(
                location(segment, field),
                IssueCode.NAIVE_DATETIME,
                "timestamp with a time of day but no offset, and no default_tz; ignored",
            )
            return None
        return value

    def instant(
        self, segment: Segment | None, field: int, component: int = 1
    ) -> dt.datetime | None:
        """A timestamp as an instant: a bare date is its first moment (default_tz, else UTC)."""
        value = self.ts(segment, field, component)
        if isinstance(value, PartialDate):
            return start_of_day(value, self.default_tz)
        return value

    def as_instant(self, value: dt.datetime | PartialDate | None) -> dt.datetime | None:
        """A value read by :meth:`ts` as an instant."""
        if isinstance(value, PartialDate):
            return start_of_day(value, self.default_tz)
        return value

    @property
    def sent_at(self) -> dt.datetime | None:
        """MSH-7, when the message was made (read quietly: reported once by the reader)."""
        raw = self.message.msh.get(7).strip()
        value = parse_ts(raw, self.default_tz) if raw else None
        if isinstance(value, PartialDate):
            return start_of_day(value, self.default_tz)
        return value if isinstance(value, dt.datetime) else None
