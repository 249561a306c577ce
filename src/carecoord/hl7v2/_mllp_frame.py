"""MLLP framing: ``0x0B`` message ``0x1C 0x0D``, decoded incrementally.

The Minimal Lower Layer Protocol (HL7 v2.5.1 Implementation Guide, appendix C) wraps each
message in a start block (VT, ``0x0B``) and an end block (FS CR, ``0x1C 0x0D``). The two
block characters never occur inside an HL7 message, which is what makes the framing
recoverable after a fault: :class:`FrameDecoder` takes whatever a socket read returns (a
piece of a frame, several frames, bytes between frames) and yields one event per frame.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

__all__ = [
    "END_BLOCK",
    "START_BLOCK",
    "FrameDecoder",
    "FrameEvent",
    "FrameFault",
    "frame",
]

START_BLOCK = b"\x0b"
"""The MLLP start block, VT (``0x0B``)."""
END_BLOCK = b"\x1c\x0d"
"""The MLLP end block, FS CR (``0x1C 0x0D``)."""

_VT = 0x0B
_FS = 0x1C
_CR = 0x0D
_HEAD_BYTES = 4096
"""How much of an oversize frame is kept: enough for its MSH segment, to acknowledge it."""


def frame(message: bytes) -> bytes:
    """``message`` wrapped in the MLLP start and end blocks, ready to write to a socket."""
    return START_BLOCK + message + END_BLOCK


class FrameFault(StrEnum):
    """What was wrong with a frame that is not delivered whole."""

    OVERSIZE = "oversize"
    """The frame was longer than the decoder's limit; only its first bytes were kept."""
    TRUNCATED = "truncated"
    """A new start block came before the frame's end block (the sender started over)."""
    UNTERMINATED = "unterminated"
    """The stream ended (end of file, connection closed) inside the frame."""


@attrs.frozen(repr=False)
class FrameEvent:
    """One frame found in the stream.

    ``payload`` is the message between the blocks when ``fault`` is ``None``; for a faulty
    frame it is what was kept of it (at most its first 4 KiB when oversize), enough to
    read the MSH segment and acknowledge it. ``size`` is the frame's length in bytes as
    received (for an oversize frame, as far as it was read).
    """

    payload: bytes
    fault: FrameFault | None = None
    size: int = 0

    def __repr__(self) -> str:  # never the payload: it is patient data
        fault = "" if self.fault is None else f", fault={self.fault.value}"
        return f"FrameEvent(size={self.size}{fault})"


class FrameDecoder:
    r"""Incremental MLLP decoder: :meth:`feed` it bytes, get the frames they complete.

    Bytes outside a frame (between an end block and the next start block) are skipped and
    counted in :attr:`skipped`; a frame longer than ``max_frame_bytes`` is reported once
    as :attr:`FrameFault.OVERSIZE` when its end block arrives, its first 4 KiB kept; a
    start block inside a frame ends that frame as :attr:`FrameFault.TRUNCATED` and starts
    a new one; :meth:`close` reports a frame the stream ended inside as
    :attr:`FrameFault.UNTERMINATED`. A lone FS not followed by CR also ends a frame (some
    senders omit the CR); the next byte is then read as the start of what follows.

    >>> decoder = FrameDecoder()
    >>> [e.payload for e in decoder.feed(b"junk\x0bMSH|1\x1c\x0d\x0bMSH|")]
    [b'MSH|1']
    >>> [e.payload for e in decoder.feed(b"2\x1c\x0d")]
    [b'MSH|2']
    >>> decoder.skipped
    4
    """

    __slots__ = (
        "_buffer",
        "_in_frame",
        "_oversize",
        "_pending_fs",
        "_size",
        "max_frame_bytes",
        "skipped",
    )

    def __init__(self, max_frame_bytes: int = 1 << 20) -> None:
        if max_frame_bytes < 1:
            raise ValueError("max_frame_bytes must be positive")
        self.max_frame_bytes = max_frame_bytes
        self.skipped = 0
        """Bytes skipped outside frames so far."""
        self._buffer = bytearray()
        self._in_frame = False
        self._oversize = False
        self._pending_fs = False
        self._size = 0

    @property
    def in_frame(self) -> bool:
        """Whether the decoder is inside a frame (a start block seen, no end block yet)."""
        return self._in_frame

    @property
    def buffered(self) -> int:
        """Bytes of the current frame held in memory."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[FrameEvent]:
        """The frames that ``data`` completes, in order (an empty list if none)."""
        events: list[FrameEvent] = []
        view = memoryview(data)
        pos, end = 0, len(data)
        while pos < end:
            if self._pending_fs:
                self._pending_fs = False
                if view[pos] == _CR:
                    pos += 1
                continue
            if not self._in_frame:
                start = data.find(START_BLOCK, pos)
                if start < 0:
                    self.skipped += end - pos
                    break
                self.skipped += start - pos
                self._begin()
                pos = start + 1
                continue
            stop = _next_block(data, pos)
            if stop < 0:
                self._take(view[pos:end])
                break
            self._take(view[pos:stop])
            if data[stop] == _VT:
                events.append(self._finish(FrameFault.TRUNCATED))
                self._begin()
            else:
                events.append(self._finish(FrameFault.OVERSIZE if self._oversize else None))
                self._pending_fs = True
            pos = stop + 1
        return events

    def close(self) -> list[FrameEvent]:
        """End of stream: the frame it ended inside, as :attr:`FrameFault.UNTERMINATED`."""
        self._pending_fs = False
        if not self._in_frame:
            return []
        return [self._finish(FrameFault.UNTERMINATED)]

    def _begin(self) -> None:
        self._in_frame, self._oversize, self._size = True, False, 0
        self._buffer.clear()

    def _take(self, chunk: memoryview) -> None:
        self._size += len(chunk)
        if self._oversize or self._size > self.max_frame_bytes:
            self._oversize = True
            room = _HEAD_BYTES - len(self._buffer)
            if room > 0:
                self._buffer += chunk[:room]
            elif room < 0:
                del self._buffer[_HEAD_BYTES:]
            return
        self._buffer += chunk

    def _finish(self, fault: FrameFault | None) -> FrameEvent:
        if fault is None and self._oversize:
            fault = FrameFault.OVERSIZE
        event = FrameEvent(bytes(self._buffer), fault, self._size)
        self._in_frame, self._oversize, self._size = False, False, 0
        self._buffer.clear()
        return event


def _next_block(data: bytes, pos: int) -> int:
    """Index of the next FS or VT at or after ``pos``, else -1."""
    fs = data.find(b"\x1c", pos)
    vt = data.find(START_BLOCK, pos, fs if fs >= 0 else len(data))
    return vt if vt >= 0 else fs
