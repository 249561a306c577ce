"""Where the messages of a read come from: files, folders, text, bytes, streams, MLLP.

:class:`MessageSource` turns what :func:`carecoord.hl7v2.read` was given into
``(label, message text or bytes)`` pairs, within the read's :class:`~carecoord.interop.Limits`:
a file (any name) or a folder (its ``.hl7``, ``.hl7v2``, ``.er7``, ``.txt`` and ``.msg``
files, recursively, sorted; linked folders are not followed), message text or bytes (one
message, a batch with FHS/BHS envelopes, or MLLP frames ``0x0B ... 0x1C 0x0D``), a binary
stream (read to its end), a parsed :class:`~carecoord.hl7v2.Message`, or an iterable of
any of these. Files are named by position (``<file 3>``) unless ``name_files``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO

from carecoord.errors import InteropError, IssueCode, UsageError
from carecoord.hl7v2._er7 import Message, split_messages
from carecoord.interop import ByteBudget, IssueLog, Limits

__all__ = ["SUFFIXES", "InputSource", "MessageSource", "deframe", "is_message_text"]

SUFFIXES = (".hl7", ".hl7v2", ".er7", ".txt", ".msg")
"""The file name endings read inside folders (a file named directly is read whatever
its name)."""

InputSource = (
    str
    | bytes
    | bytearray
    | memoryview
    | os.PathLike[str]
    | Message
    | IO[bytes]
    | Iterable["str | bytes | bytearray | os.PathLike[str] | Message"]
)
"""What :func:`carecoord.hl7v2.read` takes."""

_START_BLOCK = b"\x0b"
_END_BLOCK = b"\x1c"


def is_message_text(text: str) -> bool:
    """Whether a ``str`` is message text rather than a path.

    Text starts with MSH, FHS or BHS after a byte-order mark, MLLP start byte or white
    space.
    """
    head = text.lstrip("\ufeff\x0b \t\r\n")[:3]
    return head in ("MSH", "FHS", "BHS")


def deframe(data: bytes) -> list[bytes]:
    """The payloads of MLLP frames (``0x0B payload 0x1C 0x0D``).

    Bytes outside frames are dropped; an unterminated last frame is kept as it is.
    """
    if _START_BLOCK not in data:
        return [data]
    frames: list[bytes] = []
    for chunk in data.split(_START_BLOCK)[1:]:
        end = chunk.find(_END_BLOCK)
        frames.append(chunk if end < 0 else chunk[:end])
    return frames


Unit = tuple[str, "str | bytes | Message"]


class MessageSource:
    """Reads one input's messages within its limits, reporting what it skips."""

    def __init__(self, log: IssueLog, limits: Limits, *, name_files: bool = False) -> None:
        self.log = log
        self.limits = limits
        self.name_files = name_files
        self.files = 0
        self.budget = ByteBudget(limits, log)

    def units(self, source: object, label: str = "<input>") -> Iterator[Unit]:
        """Yield ``(label, one message)`` for every message in ``source``.

        Raises:
            InteropError: a path given that does not exist or cannot be read, or an empty
                string.
            UsageError: an input of an unsupported type.
        """
        if isinstance(source, Message):
            yield label, source
        elif isinstance(source, bytes | bytearray | memoryview):
            yield from self._data(bytes(source), label)
        elif isinstance(source, str):
            if not source.strip():
                raise InteropError("an empty string is neither a path nor HL7 v2 text")
            if is_message_text(source):
                yield from self._data(source, label)
            else:
                yield from self._path(source, label)
        elif isinstance(source, os.PathLike):
            yield from self._path(source, label)
        elif isinstance(source, Mapping):
            raise UsageError("cannot read HL7 v2 input from a mapping (FHIR JSON is fhir.read's)")
        elif hasattr(source, "read") and callable(source.read):
            yield from self._stream(source, label)
        elif isinstance(source, Iterable):
            for index, item in enumerate(source):
                if self.budget.stopped:
                    return
                if isinstance(item, bytes | bytearray | memoryview | str | os.PathLike | Message):
                    yield from self.units(item, f"<input>[{index}]")
                else:
                    self.log.add(
                        "",
                        IssueCode.WRONG_TYPE,
                        f"item is a {type(item).__name__}, expected message text, bytes or a path",
                        source=f"<input>[{index}]",
                    )
        else:
            raise UsageError(
                f"cannot read HL7 v2 input from a {type(source).__name__}: expected message "
                "text, bytes, a path, or an iterable of them"
            )

    def _stream(self, stream: object, label: str) -> Iterator[Unit]:
        room = self.budget.room()
        try:
            data = stream.read(room + 1)  # type: ignore[attr-defined]
        except (OSError, ValueError) as err:
            raise InteropError(f"cannot read the stream: {type(err).__name__}") from None
        if isinstance(data, str):
            data = data.encode("utf-8", errors="surrogateescape")
        if not isinstance(data, bytes | bytearray):
            raise UsageError("a stream must give bytes or str")
        if len(data) > room:
            self.budget.too_big(label)
            return
        yield from self._data(bytes(data), label)

    def _data(self, data: bytes | str, label: str) -> Iterator[Unit]:
        size = len(data)
        if size > self.budget.room():
            self.budget.too_big(label)
            return
        self.budget.total += size
        if isinstance(data, bytes):
            for frame in deframe(data):
                for piece in split_messages(frame):
                    yield label, piece
        else:
            for piece in split_messages(data):
                yield label, piece

    # ----------------------------------------------------------------------- paths

    def _path(self, value: str | os.PathLike[str], label: str) -> Iterator[Unit]:
        try:
            path = Path(value)
            text = os.fspath(path)
        except TypeError:
            raise UsageError("a path must be a str or os.PathLike of str") from None
        shown = text if self.name_files else label
        if "\x00" in text:
            raise InteropError("a path cannot contain a NUL character")
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise InteropError(f"no such file or directory: {shown}") from None
        except (OSError, ValueError) as err:
            reason = err.strerror if isinstance(err, OSError) else "not a valid path"
            raise InteropError(f"cannot read {shown}: {reason}") from None
        if stat.S_ISDIR(mode):
            for relative, file in self._walk(path, shown):
                if self.budget.stopped:
                    return
                yield from self._file(file, relative, top=None)
        else:
            yield from self._file(path, text, top=shown)

    def _walk(self, folder: Path, shown: str) -> list[tuple[str, Path]]:
        found: list[tuple[str, Path]] = []
        pending: list[tuple[Path, str]] = [(folder, "")]
        room = self.limits.max_files - self.files
        while pending:
            here, prefix = pending.pop()
            try:
                with os.scandir(here) as entries:
                    for entry in entries:
                        relative = prefix + entry.name
                        try:
                            is_dir = entry.is_dir(follow_symlinks=False)
                        except OSError:
                            is_dir = False
                        if is_dir:
                            pending.append((Path(entry.path), relative + "/"))
                        elif entry.name.lower().endswith(SUFFIXES):
                            found.append((relative, Path(entry.path)))
                            if len(found) > room:
                                self.budget.limit(
                                    shown,
                                    f"folder holds more than {self.limits.max_files:,} files",
                                    "max_files",
                                )
                                return []
            except OSError as err:
                if not prefix:
                    reason = err.strerror or type(err).__name__
                    raise InteropError(f"cannot read folder {shown}: {reason}") from None
                self._unreadable(prefix.rstrip("/") if self.name_files else shown, err)
        found.sort()
        return found

    def _file(self, path: Path, relative: str, *, top: str | None) -> Iterator[Unit]:
        self.files += 1
        label = relative if self.name_files else f"<file {self.files}>"
        if self.files > self.limits.max_files:
            self.budget.limit(
                label, f"more than {self.limits.max_files:,} files", "max_files", rest=True
            )
            return
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                self.log.add(
                    "",
                    IssueCode.NOT_A_FILE,
                    "not a regular file (a FIFO, socket or device); skipped without opening it",
                    source=label,
                )
                return
            room = self.budget.room()
            if info.st_size > room:
                self.budget.too_big(label)
                return
            with open(path, "rb") as handle:
                data = handle.read(room + 1)
        except (OSError, ValueError) as err:
            if top is not None:
                reason = err.strerror if isinstance(err, OSError) else None
                raise InteropError(
                    f"cannot read {top}: {reason or 'not a readable file'}"
                ) from None
            self._unreadable(label, err)
            return
        yield from self._data(data, label)

    # ----------------------------------------------------------------------- limits

    def _unreadable(self, label: str, err: Exception) -> None:
        reason = err.strerror if isinstance(err, OSError) else None
        self.log.add(
            "",
            IssueCode.UNREADABLE_FILE,
            f"cannot be read ({reason or 'not a valid path'}); skipped",
            source=label,
        )
