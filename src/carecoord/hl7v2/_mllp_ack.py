"""HL7 v2 acknowledgements: what a receiver answers (``ACK``), built and parsed.

An acknowledgement is built from the bytes of the message it answers, read as little as
possible (:func:`peek_header`: the MSH segment only), so that a receiver can still answer
a message whose body does not parse, in that message's own encoding characters; the
fields it copies back (sending and receiving application and facility, MSH-10) are copied
byte for byte. Only the receiver's own text (the reason) is escaped.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

import attrs

from carecoord.domain import masked
from carecoord.errors import InteropError

__all__ = [
    "Ack",
    "AckCode",
    "ErrorCondition",
    "Header",
    "MLLPError",
    "Outcome",
    "build_ack",
    "parse_ack",
    "peek_header",
]


class MLLPError(InteropError):
    """A transport problem: a peer that closed the connection, sent no or a broken ACK.

    The message says what happened, never the content of a message.
    """


class AckCode(StrEnum):
    """MSA-1, the acknowledgement code (HL7 table 0008)."""

    AA = "AA"
    """Application accept: the message was handled (or had been, for a duplicate)."""
    AE = "AE"
    """Application error: the message's content cannot be used; resending it unchanged
    will not help."""
    AR = "AR"
    """Application reject: the message was refused for a reason that is not (only) its
    content (no usable MSH, a truncated frame, the receiver failed); it may be resent."""
    CA = "CA"
    """Commit accept (enhanced mode)."""
    CE = "CE"
    """Commit error (enhanced mode)."""
    CR = "CR"
    """Commit reject (enhanced mode)."""

    @property
    def accepted(self) -> bool:
        """Whether the code says the message was accepted (AA or CA)."""
        return self in (AckCode.AA, AckCode.CA)


class ErrorCondition(StrEnum):
    """ERR-3, the HL7 error condition code (HL7 table 0357)."""

    ACCEPTED = "0"
    SEGMENT_SEQUENCE = "100"
    REQUIRED_FIELD_MISSING = "101"
    DATA_TYPE = "102"
    TABLE_VALUE_NOT_FOUND = "103"
    VALUE_TOO_LONG = "104"
    UNSUPPORTED_MESSAGE_TYPE = "200"
    UNSUPPORTED_EVENT = "201"
    UNSUPPORTED_PROCESSING_ID = "202"
    UNSUPPORTED_VERSION = "203"
    UNKNOWN_KEY = "204"
    DUPLICATE_KEY = "205"
    RECORD_LOCKED = "206"
    INTERNAL_ERROR = "207"

    @property
    def text(self) -> str:
        """The condition's name in table 0357 (for ERR-3.2)."""
        return _CONDITION_TEXT[self]


_CONDITION_TEXT = {
    ErrorCondition.ACCEPTED: "Message accepted",
    ErrorCondition.SEGMENT_SEQUENCE: "Segment sequence error",
    ErrorCondition.REQUIRED_FIELD_MISSING: "Required field missing",
    ErrorCondition.DATA_TYPE: "Data type error",
    ErrorCondition.TABLE_VALUE_NOT_FOUND: "Table value not found",
    ErrorCondition.VALUE_TOO_LONG: "Value too long",
    ErrorCondition.UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    ErrorCondition.UNSUPPORTED_EVENT: "Unsupported event code",
    ErrorCondition.UNSUPPORTED_PROCESSING_ID: "Unsupported processing id",
    ErrorCondition.UNSUPPORTED_VERSION: "Unsupported version id",
    ErrorCondition.UNKNOWN_KEY: "Unknown key identifier",
    ErrorCondition.DUPLICATE_KEY: "Duplicate key identifier",
    ErrorCondition.RECORD_LOCKED: "Application record locked",
    ErrorCondition.INTERNAL_ERROR: "Application internal error",
}

_LOCATION = re.compile(r"^([A-Z][A-Z0-9]{2})-(\d{1,3})$")


@attrs.frozen
class Outcome:
    """What a handler decided about one message, and so what the ACK says.

    ``reason`` goes into MSA-3 and ERR-8: write it yourself, and never copy text of the
    message into it (it may be patient data). ``location`` (``"PID-3"``) goes into ERR-2.
    Build one with :meth:`accept`, :meth:`error` or :meth:`reject`.
    """

    code: AckCode
    reason: str = attrs.field(default="", repr=masked)
    condition: ErrorCondition = ErrorCondition.ACCEPTED
    location: str = ""

    def __attrs_post_init__(self) -> None:
        if self.code not in (AckCode.AA, AckCode.AE, AckCode.AR):
            raise ValueError("an Outcome's code is AA, AE or AR")
        if self.location and not _LOCATION.match(self.location):
            raise ValueError("location is a segment id and a field number, like 'PID-3'")

    @classmethod
    def accept(cls) -> Outcome:
        """AA: the message was handled."""
        return _ACCEPTED

    @classmethod
    def error(
        cls,
        reason: str,
        condition: ErrorCondition = ErrorCondition.DATA_TYPE,
        location: str = "",
    ) -> Outcome:
        """AE: the message's content cannot be used (resending it will not help)."""
        return cls(AckCode.AE, reason, condition, location)

    @classmethod
    def reject(
        cls,
        reason: str,
        condition: ErrorCondition = ErrorCondition.INTERNAL_ERROR,
        location: str = "",
    ) -> Outcome:
        """AR: the message was refused for now (the receiver failed; it may be resent)."""
        return cls(AckCode.AR, reason, condition, location)


_ACCEPTED = Outcome(AckCode.AA)


@attrs.frozen(repr=False)
class Header:
    """The MSH fields a receiver needs to acknowledge a message, as received (bytes).

    ``fields[n]`` is MSH-n for n from 1 (the field separator) to the last field present;
    ``fields[0]`` is ``b"MSH"``. :meth:`get` returns an absent field as ``b""``.
    """

    fields: tuple[bytes, ...]

    def __repr__(self) -> str:  # the facility and ids are not for logs
        return f"Header({len(self.fields) - 1} fields)"

    def get(self, number: int) -> bytes:
        """MSH-``number`` as bytes (``b""`` when absent)."""
        return self.fields[number] if 0 < number < len(self.fields) else b""

    @property
    def separator(self) -> bytes:
        """The field separator (MSH-1)."""
        return self.fields[1]

    @property
    def encoding(self) -> bytes:
        r"""The encoding characters (MSH-2), ``^~\&`` when the message gives none."""
        return self.fields[2] or b"^~\\&"

    @property
    def control_id(self) -> bytes:
        """MSH-10, the message control id."""
        return self.get(10)

    @property
    def dedupe_key(self) -> tuple[bytes, bytes]:
        """What identifies a delivery: the sending facility (MSH-4) and MSH-10."""
        return (self.get(4), self.get(10))


_BOM = b"\xef\xbb\xbf"
_SEGMENT_END = re.compile(rb"[\r\n]")


def peek_header(data: bytes) -> Header | None:
    """The MSH segment of a message, split into fields; ``None`` when there is none.

    Reads only the first segment; a byte-order mark, MLLP block characters and blank lines
    before it are skipped. The field separator is the byte after ``MSH`` and must not be a
    letter, digit, space or line end.
    """
    start = 0
    size = len(data)
    while start < size and data[start] in b"\x0b\x1c\r\n \t":
        start += 1
    if data.startswith(_BOM, start):
        start += len(_BOM)
    if not data.startswith(b"MSH", start) or size < start + 4:
        return None
    sep = data[start + 3 : start + 4]
    if sep.isalnum() or sep in b" \t\r\n\x0b\x1c":
        return None
    found = _SEGMENT_END.search(data, start)
    line = data[start : found.start() if found else size]
    parts = line.split(sep)
    return Header((parts[0], sep, *parts[1:]))


def _escape(text: str, header: Header) -> bytes:
    """``text`` (the receiver's own words) escaped for the message's delimiters."""
    enc = header.encoding
    seps = header.separator + enc[:4]
    codes = b"FSRET"
    esc = enc[2:3] or b"\\"
    raw = "".join(ch if " " <= ch <= "~" else " " for ch in text).encode("ascii")
    out = bytearray()
    for byte in raw:
        index = seps.find(bytes([byte]))
        if index < 0:
            out.append(byte)
        else:
            out += esc + codes[index : index + 1] + esc
    return bytes(out)


def _timestamp(at: dt.datetime) -> bytes:
    text = at.strftime("%Y%m%d%H%M%S")
    offset = at.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        text += f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return text.encode("ascii")


def _version_at_least(version: bytes, minimum: tuple[int, ...]) -> bool:
    numbers = re.findall(rb"\d+", version.split(b"^", 1)[0])
    try:
        return tuple(int(n) for n in numbers[:3]) >= minimum
    except ValueError:  # pragma: no cover - findall returns digits only
        return True


_DEFAULT_HEADER = Header((b"MSH", b"|", b"^~\\&"))


def build_ack(
    header: Header | None,
    outcome: Outcome,
    *,
    at: dt.datetime,
    control_id: str,
) -> bytes:
    """The ACK message (ER7 bytes, segments ended by CR) answering a message.

    ``header`` is the answered message's :func:`peek_header` (``None`` when it had no
    usable MSH: the ACK then uses the default delimiters and an empty MSA-2). The ACK
    swaps sending and receiving application and facility, keeps MSH-11 and MSH-12, and
    says ``ACK^<trigger>^ACK`` in MSH-9; MSA-2 is the answered MSH-10. For AE and AR,
    MSA-3 holds the outcome's reason and an ERR segment its condition code (HL7 table
    0357), location and reason, laid out as the message's version expects (ERR-1 before
    v2.5, ERR-2, ERR-3, ERR-4 and ERR-8 from v2.5 on). ``at`` is MSH-7 and
    ``control_id`` the ACK's own MSH-10.
    """
    h = header or _DEFAULT_HEADER
    sep = h.separator
    enc = h.encoding
    comp = enc[0:1] or b"^"
    sub = enc[3:4] or b"&"
    version = h.get(12)
    trigger = [*h.get(9).split(comp), b""][1]
    if _version_at_least(version or b"2.5", (2, 3, 1)):
        msg_type = comp.join((b"ACK", trigger, b"ACK"))
    else:
        msg_type = comp.join((b"ACK", trigger)).rstrip(comp)
    msh = sep.join(
        (
            b"MSH",
            enc,
            h.get(5),
            h.get(6),
            h.get(3),
            h.get(4),
            _timestamp(at),
            b"",
            msg_type,
            control_id.encode("ascii", "replace"),
            h.get(11) or b"P",
            version or b"2.5",
        )
    )
    reason = _escape(outcome.reason, h)
    msa = sep.join((b"MSA", outcome.code.value.encode(), h.control_id, reason))
    segments = [msh, msa.rstrip(sep)]
    if outcome.code is not AckCode.AA:
        cond = outcome.condition.value.encode()
        name = _escape(outcome.condition.text, h)
        seg_id, _, field_no = outcome.location.partition("-")
        if _version_at_least(version or b"2.5", (2, 5)):
            where = comp.join((seg_id.encode(), b"1", field_no.encode())) if seg_id else b""
            err = sep.join(
                (b"ERR", b"", where, comp.join((cond, name, b"HL70357")), b"E", b"", b"", b"")
            )
            err += sep + reason
        else:
            coded = sub.join((cond, name, b"HL70357"))
            where = (
                comp.join((seg_id.encode(), b"1", field_no.encode(), coded))
                if seg_id
                else comp * 3 + coded
            )
            err = b"ERR" + sep + where
        segments.append(err)
    return b"\r".join(segments) + b"\r"


@attrs.frozen(repr=False)
class Ack:
    """An acknowledgement as received: MSA-1, MSA-2, MSA-3 and the ERR condition code."""

    code: AckCode
    """MSA-1."""
    control_id: str
    """MSA-2: the control id (MSH-10) of the message it answers."""
    text: str = ""
    """MSA-3, unescaped (else ERR-8): the receiver's reason for AE or AR."""
    condition: str = ""
    """The error condition code (ERR-3.1, else ERR-1.4.1), ``""`` when none."""
    raw: bytes = b""
    """The whole ACK message as received."""

    def __repr__(self) -> str:
        detail = f", condition={self.condition!r}" if self.condition else ""
        return f"Ack({self.code.value}{detail})"

    @property
    def accepted(self) -> bool:
        """Whether the receiver accepted the message (AA or CA)."""
        return self.code.accepted


def _unescape(value: bytes, header: Header) -> str:
    enc = header.encoding
    esc = enc[2:3] or b"\\"
    text = value.decode("utf-8", "replace")
    if esc.decode("latin-1") not in text:
        return text
    table = {
        "F": header.separator.decode("latin-1"),
        "S": enc[0:1].decode("latin-1"),
        "R": enc[1:2].decode("latin-1"),
        "E": esc.decode("latin-1"),
        "T": enc[3:4].decode("latin-1"),
    }
    e = re.escape(esc.decode("latin-1"))
    return re.sub(f"{e}([FSRET]){e}", lambda m: table[m.group(1)], text)


def parse_ack(data: bytes) -> Ack:
    """Read an ACK message (as :func:`build_ack` and other receivers write them).

    Raises :class:`MLLPError` when it has no MSH or no MSA segment, or an MSA-1 that is
    not an acknowledgement code.
    """
    header = peek_header(data)
    if header is None:
        raise MLLPError("the acknowledgement has no MSH segment")
    sep = header.separator
    comp = header.encoding[0:1] or b"^"
    sub = header.encoding[3:4] or b"&"
    msa: list[bytes] | None = None
    err: list[bytes] | None = None
    for raw_line in _SEGMENT_END.split(data):
        line = raw_line.strip(b"\x0b\x1c")
        if line.startswith(b"MSA" + sep) and msa is None:
            msa = line.split(sep)
        elif line.startswith(b"ERR" + sep) and err is None:
            err = line.split(sep)
    if msa is None:
        raise MLLPError("the acknowledgement has no MSA segment")
    try:
        code = AckCode(msa[1].decode("ascii", "replace").strip())
    except (ValueError, IndexError):
        raise MLLPError("the acknowledgement's MSA-1 is not an acknowledgement code") from None
    control = msa[2].decode("utf-8", "replace") if len(msa) > 2 else ""
    text = _unescape(msa[3], header) if len(msa) > 3 else ""
    condition = ""
    if err is not None:
        if len(err) > 3 and err[3]:
            condition = err[3].split(comp)[0].decode("ascii", "replace")
        elif len(err) > 1 and err[1]:
            parts = err[1].split(comp)
            if len(parts) > 3:
                condition = parts[3].split(sub)[0].decode("ascii", "replace")
        if not text and len(err) > 8:
            text = _unescape(err[8], header)
    return Ack(code, control, text, condition, bytes(data))
