"""From what :func:`carecoord.hl7v2.read` made of a message to the ACK it deserves."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from carecoord.errors import IssueCode, UsageError
from carecoord.hl7v2._mllp_ack import AckCode, ErrorCondition, Outcome

__all__ = ["read_outcome"]


class _Issue(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def is_error(self) -> bool: ...


class _Result(Protocol):
    @property
    def records(self) -> Sequence[object]: ...
    @property
    def issues(self) -> Sequence[_Issue]: ...


_CONDITIONS: dict[str, ErrorCondition] = {
    IssueCode.MISSING_ELEMENT: ErrorCondition.REQUIRED_FIELD_MISSING,
    IssueCode.MISSING_SUBJECT: ErrorCondition.REQUIRED_FIELD_MISSING,
    IssueCode.INVALID_DATE: ErrorCondition.DATA_TYPE,
    IssueCode.NAIVE_DATETIME: ErrorCondition.DATA_TYPE,
    IssueCode.INVALID_VALUE: ErrorCondition.DATA_TYPE,
    IssueCode.WRONG_TYPE: ErrorCondition.DATA_TYPE,
    IssueCode.UNKNOWN_CODE: ErrorCondition.TABLE_VALUE_NOT_FOUND,
    IssueCode.LIMIT_EXCEEDED: ErrorCondition.VALUE_TOO_LONG,
}
_NOT_KEPT = frozenset(
    {IssueCode.UNSUPPORTED_RESOURCE.value, IssueCode.NOT_MAPPED.value, "unsupported-message"}
)
_LOCATION = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Z0-9]{2})(?:-(\d{1,3}))?(?![A-Za-z0-9])")
_NOTHING_KEPT = Outcome(AckCode.AA, "accepted; the message holds nothing this receiver keeps")


def read_outcome(result: _Result) -> Outcome:
    """The acknowledgement for one message, from what ``hl7v2.read`` made of it.

    AA when the message gave records (errors on some fields do not refuse a message whose
    patient was read), and AA too for a message type carecoord does not keep
    (``unsupported-message``, ``unsupported-resource`` or ``not-mapped`` issues only: an
    interface engine should not queue it for resending). AE when the message gave no
    records because of errors: the first error's code as an HL7 table 0357 condition (a
    missing field 101, a bad value or date 102, an unknown code 103, over a limit 104),
    its segment and field (``PID-3``) in ERR-2, and the reason ``"not read: <issue code>
    at <location>"``. The issue's message is not copied: it is written for logs, not for
    the sender.
    """
    given: object = result
    if not hasattr(given, "records") or not hasattr(given, "issues"):
        kind = type(given).__name__
        raise UsageError(
            f"read_outcome() result: expected an ImportResult (what hl7v2.read returns), "
            f"got {'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"
        )
    if result.records:
        return Outcome.accept()
    errors = [i for i in result.issues if i.is_error]
    if not errors:
        return Outcome.accept()
    usable = [i for i in errors if str(i.code) not in _NOT_KEPT]
    if not usable:
        return _NOTHING_KEPT
    first = usable[0]
    code = str(first.code)
    found = _LOCATION.search(first.path)
    location = where = ""
    if found:
        where = found.group(1)
        if found.group(2):
            location = where = f"{where}-{int(found.group(2))}"
    reason = f"{code} at {where}" if where else code
    condition = _CONDITIONS.get(code, ErrorCondition.DATA_TYPE)
    return Outcome.error(f"not read: {reason}", condition, location)
