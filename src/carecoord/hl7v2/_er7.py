"""The HL7 v2 ER7 ("pipe and hat") parser: bytes or text in, a :class:`Message` out.

Written for carecoord rather than taken from a package (see ``docs/hl7v2.md``): it keeps the
core on its four dependencies and lets every problem carry an exact location
(``PV1-45[1].1``) without echoing the message's text.

A message is split into segments at CR, LF or CRLF. The MSH segment defines the field
separator (MSH-1) and the encoding characters (MSH-2: component, repetition, escape,
subcomponent and, from v2.7, truncation). Fields are kept as the raw text between field
separators and split into repetitions, components and subcomponents only when read, and
escape sequences are decoded then, so a message nobody looks into costs one split per
segment.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Sequence

import attrs

from carecoord.errors import MalformedMessage, Problem, UsageError

__all__ = [
    "DEFAULT_ENCODING",
    "Encoding",
    "Field",
    "Message",
    "Segment",
    "decode_text",
    "parse_location",
    "parse_message",
    "split_messages",
]

_SEGMENT_NAME = re.compile(r"[A-Z][A-Z0-9]{2}\Z")
_SEGMENT_END = re.compile(r"\r\n|\r|\n")
_LOCATION = re.compile(
    r"(?P<seg>[A-Z][A-Z0-9]{2})(?:\[(?P<occ>\d+)\])?"
    r"(?:-(?P<field>\d+)(?:\[(?P<rep>\d+)\])?(?:\.(?P<comp>\d+)(?:\.(?P<sub>\d+))?)?)?\Z"
)
_BATCH_SEGMENTS = frozenset({"FHS", "BHS", "BTS", "FTS"})

_CHARSETS: dict[str, str] = {
    "ASCII": "ascii",
    "ISO IR6": "ascii",
    "ISO IR100": "iso8859-1",
    "ISO IR101": "iso8859-2",
    "ISO IR109": "iso8859-3",
    "ISO IR110": "iso8859-4",
    "ISO IR126": "iso8859-7",
    "ISO IR127": "iso8859-6",
    "ISO IR138": "iso8859-8",
    "ISO IR144": "iso8859-5",
    "ISO IR148": "iso8859-9",
    "ISO IR192": "utf-8",
    "UNICODE": "utf-8",
    "UNICODE UTF-8": "utf-8",
    "UNICODE UTF-16": "utf-16",
    "UNICODE UTF-32": "utf-32",
    "GB 18030-2000": "gb18030",
    "KS X 1001": "euc_kr",
    "BIG-5": "big5",
    "JAS2020": "shift_jis",
    "JIS X 0202": "iso2022_jp",
}
"""HL7 table 0211 (alternate character sets) to Python codecs; ``8859/n`` is handled apart."""


@attrs.frozen
class Encoding:
    """The separators and escape character a message declares in MSH-1 and MSH-2.

    ``escape`` and ``truncation`` are empty when the message declares none (an MSH-2 of
    three characters has no escape character, so nothing in it is an escape sequence).
    """

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str = ""

    def escape_text(self, text: str) -> str:
        """``text`` with every delimiter written as its escape sequence, for building messages."""
        if not self.escape:
            return text
        esc = self.escape
        table = {
            esc: f"{esc}E{esc}",
            self.field: f"{esc}F{esc}",
            self.component: f"{esc}S{esc}",
            self.subcomponent: f"{esc}T{esc}",
            self.repetition: f"{esc}R{esc}",
        }
        if self.truncation:
            table[self.truncation] = f"{esc}P{esc}"
        out = "".join(table.get(ch, ch) for ch in text)
        return out.replace("\r", f"{esc}X0D{esc}").replace("\n", f"{esc}.br{esc}")

    @property
    def msh2(self) -> str:
        """The encoding characters as they are written in MSH-2."""
        return self.component + self.repetition + self.escape + self.subcomponent + self.truncation


DEFAULT_ENCODING = Encoding()
"""``|^~\\&``, the encoding characters nearly every sender uses."""


@attrs.frozen
class Field:
    """One field of a segment, split into repetitions, components and subcomponents.

    ``repetitions[r][c][s]`` is the decoded text (escape sequences resolved) of
    subcomponent ``s`` of component ``c`` of repetition ``r``, all counted from 0 here;
    the accessors count from 1, as HL7 does.
    """

    repetitions: tuple[tuple[tuple[str, ...], ...], ...]

    def __repr__(self) -> str:
        return f"Field(<{len(self.repetitions)} repetitions>)"

    def __len__(self) -> int:
        return len(self.repetitions)

    def __bool__(self) -> bool:
        return any(any(any(s for s in c) for c in r) for r in self.repetitions)

    def get(self, repetition: int = 1, component: int = 1, subcomponent: int = 1) -> str:
        """The text at that position (1-based), or ``""`` when the message has none."""
        if repetition > 0 and component > 0 and subcomponent > 0:
            try:
                return self.repetitions[repetition - 1][component - 1][subcomponent - 1]
            except IndexError:
                return ""
        raise UsageError("repetition, component and subcomponent count from 1")

    def component(self, component: int, repetition: int = 1) -> str:
        """The whole component (subcomponents joined by ``&``) at that position, or ``""``."""
        try:
            subs = self.repetitions[repetition - 1][component - 1]
        except IndexError:
            return ""
        return "&".join(subs).rstrip("&")

    def components(self, repetition: int = 1) -> tuple[str, ...]:
        """Every component of one repetition (first subcomponent of each)."""
        try:
            return tuple(c[0] if c else "" for c in self.repetitions[repetition - 1])
        except IndexError:
            return ()

    @property
    def value(self) -> str:
        """The first subcomponent of the first component of the first repetition."""
        return self.get()

    @property
    def is_null(self) -> bool:
        """True when the field is the explicit HL7 null ``""`` (delete the stored value)."""
        return len(self.repetitions) == 1 and self.repetitions[0] == (('""',),)


_EMPTY_FIELD = Field(((("",),),))

_new_object = object.__new__
_set_repetitions = Field.__dict__["repetitions"].__set__


def _field(repetitions: tuple[tuple[tuple[str, ...], ...], ...]) -> Field:
    """A :class:`Field` made without the frozen class's ``__init__`` (the parser's hot path).

    The same object ``Field(repetitions)`` makes: one slot, no validator, no hash cache.
    """
    made = _new_object(Field)
    _set_repetitions(made, repetitions)
    return made


class Segment:
    """One segment: its name and its fields, numbered as HL7 numbers them.

    For MSH (and the batch headers FHS and BHS), field 1 is the field separator and field 2
    the encoding characters, so ``msh.field(9)`` is the message type as in the standard.
    """

    __slots__ = ("_cache", "_raw", "_reps", "encoding", "index", "name", "occurrence")

    def __init__(
        self, name: str, raw: Sequence[str], encoding: Encoding, index: int, occurrence: int = 1
    ) -> None:
        self.name = name
        """The three-character segment id (``PID``, ``OBX``, ``ZPI``...)."""
        self.index = index
        """The segment's position in its message, from 1."""
        self.occurrence = occurrence
        """Which segment of that name this is in its message, from 1 (``OBX[3]``)."""
        self.encoding = encoding
        """The message's encoding characters."""
        try:
            self._raw = tuple(raw)
        except TypeError:
            given = type(raw).__name__
            raise UsageError(f"Segment() raw: expected a sequence of str, got {given}") from None
        self._cache: dict[int, Field] = {}
        self._reps: dict[int, tuple[Field, ...]] = {}

    def __repr__(self) -> str:
        return f"Segment({self.name}, {len(self)} fields)"

    def __len__(self) -> int:
        """The number of the last field present (trailing empty fields included)."""
        return len(self._raw)

    def raw(self, number: int) -> str:
        """Field ``number`` exactly as written, escape sequences and separators included."""
        if number < 1:
            raise UsageError("fields count from 1")
        return self._raw[number - 1] if number <= len(self._raw) else ""

    def field(self, number: int) -> Field:
        """Field ``number`` (from 1), parsed; an empty field when the segment is shorter."""
        cached = self._cache.get(number)
        if cached is not None:
            return cached
        if number < 1:
            raise UsageError("fields count from 1")
        raw = self._raw[number - 1] if number <= len(self._raw) else ""
        if not raw:
            self._cache[number] = _EMPTY_FIELD
            return _EMPTY_FIELD
        if number <= 2 and self.name in ("MSH", "FHS", "BHS"):
            parsed = Field((((raw,),),))
        else:
            parsed = _split_field(raw, self.encoding)
        self._cache[number] = parsed
        return parsed

    def get(self, number: int, repetition: int = 1, component: int = 1, sub: int = 1) -> str:
        """The decoded text at a position (all 1-based), or ``""``."""
        field = self._cache.get(number)
        if field is None:
            field = self.field(number)
        if repetition > 0 and component > 0 and sub > 0:
            try:
                return field.repetitions[repetition - 1][component - 1][sub - 1]
            except IndexError:
                return ""
        raise UsageError("repetition, component and subcomponent count from 1")

    def repetitions(self, number: int) -> Iterator[Field]:
        """Each repetition of field ``number`` as a one-repetition :class:`Field`."""
        found = self._reps.get(number)
        if found is None:
            field = self.field(number)
            reps = field.repetitions
            found = (field,) if len(reps) == 1 else tuple([_field((rep,)) for rep in reps])
            self._reps[number] = found
        return iter(found)


def _split_field(raw: str, enc: Encoding) -> Field:
    rep_sep, comp_sep, sub_sep = enc.repetition, enc.component, enc.subcomponent
    unescape = bool(enc.escape) and enc.escape in raw
    if not unescape and comp_sep and rep_sep:
        # No escape sequence: one split per level, 1-tuples made by zip (in C).
        if not sub_sep or sub_sep not in raw:
            if rep_sep not in raw:
                return _field((tuple(zip(raw.split(comp_sep))),))
            return _field(tuple([tuple(zip(rep.split(comp_sep))) for rep in raw.split(rep_sep)]))
        return _field(
            tuple(
                [
                    tuple([tuple(comp.split(sub_sep)) for comp in rep.split(comp_sep)])
                    for rep in raw.split(rep_sep)
                ]
            )
        )
    reps = raw.split(rep_sep) if rep_sep and rep_sep in raw else (raw,)
    out = []
    for rep in reps:
        comps = rep.split(comp_sep) if comp_sep and comp_sep in rep else (rep,)
        row = []
        for comp in comps:
            subs = comp.split(sub_sep) if sub_sep and sub_sep in comp else (comp,)
            if unescape:
                row.append(tuple([_unescape(sub, enc) for sub in subs]))
            else:
                row.append(tuple(subs))
        out.append(tuple(row))
    return Field(tuple(out))


_FORMATTING = {".br": "\n", ".sp": "\n", ".fi": "", ".nf": "", ".in": "", ".ti": "", ".ce": "\n"}


def _unescape(text: str, enc: Encoding) -> str:
    esc = enc.escape
    if not esc or esc not in text:
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        start = text.find(esc, i)
        if start < 0:
            out.append(text[i:])
            break
        if start > i:
            out.append(text[i:start])
            i = start
        end = text.find(esc, i + 1)
        if end < 0:
            out.append(text[i:])
            break
        seq = text[i + 1 : end]
        replacement = _escape_value(seq, enc)
        if replacement is None:
            out.append(text[i : end + 1])
        else:
            out.append(replacement)
        i = end + 1
    return "".join(out)


def _escape_value(seq: str, enc: Encoding) -> str | None:
    """The text an escape sequence stands for, or None when it is not one (kept literally)."""
    simple = {
        "F": enc.field,
        "S": enc.component,
        "T": enc.subcomponent,
        "R": enc.repetition,
        "E": enc.escape,
        "P": enc.truncation or "#",
        "H": "",
        "N": "",
    }
    if seq in simple:
        return simple[seq]
    if not seq:
        return None
    head = seq[0]
    if head == "X":
        digits = seq[1:]
        if len(digits) % 2 or not digits or not all(c in "0123456789abcdefABCDEF" for c in digits):
            return None
        return bytes.fromhex(digits).decode("utf-8", errors="replace")
    if head in ("C", "M", "Z"):
        return ""
    if head == ".":
        key = seq[:3]
        if key in _FORMATTING:
            if key == ".sp":
                count = seq[3:].strip().lstrip("+")
                return "\n" * (int(count) if count.isdigit() and int(count) < 100 else 1)
            return _FORMATTING[key]
        return None
    return None


class Message:
    """One parsed HL7 v2 message: its segments, in order, and typed header accessors.

    Read values with :meth:`get` and a location such as ``"PID-3[2].1"`` or
    ``"OBX[3]-5"``; walk segments with :meth:`segments`. Nothing here prints the message's
    content: the repr names the message type and the number of segments.
    """

    __slots__ = ("_by_name", "encoding", "problems", "segment_list")

    def __init__(
        self,
        segments: Sequence[Segment],
        encoding: Encoding,
        problems: Sequence[Problem] = (),
    ) -> None:
        self.segment_list: tuple[Segment, ...] = tuple(segments)
        """Every segment, in message order (MSH first)."""
        self.encoding = encoding
        """The encoding characters from MSH-1 and MSH-2."""
        self.problems: tuple[Problem, ...] = tuple(problems)
        """What the parser had to work around without failing (bytes not valid in the
        declared character set, ...), each with a location; never the message's text."""
        self._by_name: dict[str, tuple[Segment, ...]] | None = None

    def __repr__(self) -> str:
        kind = "^".join(p for p in (self.message_type, self.trigger_event) if p) or "?"
        return f"Message({kind}, {len(self.segment_list)} segments)"

    @property
    def msh(self) -> Segment:
        """The message header segment."""
        return self.segment_list[0]

    def segments(self, name: str | None = None) -> tuple[Segment, ...]:
        """The segments called ``name`` in message order (every segment when None)."""
        if name is None:
            return self.segment_list
        return self._index().get(name, ())

    def segment(self, name: str, occurrence: int = 1) -> Segment | None:
        """The ``occurrence``-th segment called ``name`` (from 1), or None."""
        found = self._index().get(name)
        if found is None or occurrence < 1 or occurrence > len(found):
            return None
        return found[occurrence - 1]

    def _index(self) -> dict[str, tuple[Segment, ...]]:
        """The segments by name, in message order (made once, on first use)."""
        index = self._by_name
        if index is None:
            lists: dict[str, list[Segment]] = {}
            for seg in self.segment_list:
                lists.setdefault(seg.name, []).append(seg)
            index = self._by_name = {k: tuple(v) for k, v in lists.items()}
        return index

    def get(self, location: str) -> str:
        """The decoded text at ``location``, or ``""`` when the message has nothing there.

        ``location`` is ``SEG[occurrence]-field[repetition].component.subcomponent`` with
        every part after the field optional and counted from 1: ``"MSH-10"``,
        ``"PID-3[2].1"``, ``"OBX[2]-5"``, ``"PV1-45[1].1"``, ``"PID-5.1.1"``.
        Raises :class:`~carecoord.errors.UsageError` for a location it cannot read.
        """
        seg_name, occ, field, rep, comp, sub = parse_location(location)
        seg = self.segment(seg_name, occ)
        if seg is None or field is None:
            return ""
        return seg.get(field, rep, comp, sub)

    @property
    def sending_application(self) -> str:
        """MSH-3: the namespace id (or, without one, the universal id) of the sender."""
        return _hd(self.msh.field(3))

    @property
    def sending_facility(self) -> str:
        """MSH-4: the sending facility's namespace id (or universal id)."""
        return _hd(self.msh.field(4))

    @property
    def receiving_application(self) -> str:
        """MSH-5: the receiving application's namespace id (or universal id)."""
        return _hd(self.msh.field(5))

    @property
    def receiving_facility(self) -> str:
        """MSH-6: the receiving facility's namespace id (or universal id)."""
        return _hd(self.msh.field(6))

    @property
    def timestamp(self) -> str:
        """MSH-7: when the message was created, as written (``YYYYMMDDHHMMSS+ZZZZ``)."""
        return self.msh.get(7)

    @property
    def message_type(self) -> str:
        """MSH-9.1: ``ADT``, ``ORU``, ``SIU``... (upper case)."""
        return self.msh.get(9, 1, 1).strip().upper()

    @property
    def trigger_event(self) -> str:
        """MSH-9.2: ``A01``, ``R01``, ``S12``... (upper case)."""
        return self.msh.get(9, 1, 2).strip().upper()

    @property
    def message_structure(self) -> str:
        """MSH-9.3: the abstract message structure (``ADT_A01``), often absent before v2.4."""
        return self.msh.get(9, 1, 3).strip().upper()

    @property
    def control_id(self) -> str:
        """MSH-10: the sender's id of this message, echoed by the acknowledgement."""
        return self.msh.get(10)

    @property
    def processing_id(self) -> str:
        """MSH-11.1: ``P`` production, ``T`` training, ``D`` debugging."""
        return self.msh.get(11)

    @property
    def version(self) -> str:
        """MSH-12.1: the HL7 version id (``2.3``, ``2.5.1``, ``2.8``...)."""
        return self.msh.get(12).strip()

    @property
    def charset(self) -> str:
        """MSH-18 (first repetition): the declared character set, ``""`` for ASCII default."""
        return self.msh.get(18).strip()


def _hd(field: Field) -> str:
    return field.get(1, 1) or field.get(1, 2)


def parse_location(location: str) -> tuple[str, int, int | None, int, int, int]:
    """Split a location such as ``"PV1[2]-45[1].1.2"`` into its six parts.

    Segment, occurrence, field, repetition, component, subcomponent (defaults 1; field
    None for a bare segment name).

    Raises :class:`~carecoord.errors.UsageError` when ``location`` is not of that form.
    """
    if not isinstance(location, str):
        raise UsageError(f"location must be a str, not {type(location).__name__}")
    m = _LOCATION.match(location.strip())
    if m is None:
        raise UsageError("location must look like 'PID-3[1].1' (segment-field[rep].comp.sub)")
    nums = [int(m[g]) if m[g] else None for g in ("occ", "field", "rep", "comp", "sub")]
    if any(n is not None and n < 1 for n in nums):
        raise UsageError("location numbers count from 1")
    occ, field, rep, comp, sub = nums
    return m["seg"], occ or 1, field, rep or 1, comp or 1, sub or 1


def _codec_for(charset: str) -> str | None:
    name = charset.strip().upper()
    if not name:
        return None
    if name.startswith("8859/"):
        part = name[5:]
        if part.isdigit():
            return f"iso8859-{int(part)}"
        return None
    return _CHARSETS.get(name)


def _sniff_charset(data: bytes) -> str:
    """MSH-18 read from the raw bytes (the header is ASCII whatever the charset)."""
    end = len(data)
    for stop in (b"\r", b"\n"):
        pos = data.find(stop)
        if 0 <= pos < end:
            end = pos
    header = data[:end].decode("latin-1")
    if len(header) < 4 or not header.startswith("MSH"):
        return ""
    sep = header[3]
    fields = header.split(sep)
    # fields[0] is "MSH", fields[1] is MSH-2; MSH-n is fields[n - 1].
    if len(fields) < 18:
        return ""
    enc = fields[1]
    return fields[17].split(enc[1])[0] if len(enc) > 1 else fields[17]


def decode_text(data: bytes) -> tuple[str, tuple[Problem, ...]]:
    """Bytes to text: a byte-order mark decides, else MSH-18, else UTF-8 (then Windows-1252).

    Returns the text and the problems met (bytes replaced because they are not valid in
    the character set used). Never raises for undecodable bytes.
    """
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[3:], "utf-8")
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return _decode(data, "utf-32")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16")
    declared = _sniff_charset(data.lstrip(b"\x0b\r\n \t"))
    codec = _codec_for(declared)
    if codec is not None:
        return _decode(data, codec)
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), ()


def _decode(data: bytes, codec: str) -> tuple[str, tuple[Problem, ...]]:
    try:
        return data.decode(codec), ()
    except UnicodeDecodeError:
        text = data.decode(codec, errors="replace")
        return text, (Problem("MSH-18", f"bytes not valid in {codec}; replaced with U+FFFD"),)
    except LookupError:  # pragma: no cover - every codec above exists in CPython
        return data.decode("utf-8", errors="replace"), ()


def _encoding_from_msh(line: str) -> Encoding:
    if len(line) < 4:
        raise MalformedMessage("MSH", "the message header is too short to hold MSH-1 and MSH-2")
    sep = line[3]
    if sep.isalnum() or sep in " \t\r\n":
        raise MalformedMessage("MSH-1", "the field separator must be a punctuation character")
    end = line.find(sep, 4)
    chars = line[4:] if end < 0 else line[4:end]
    if len(chars) < 2 or len(chars) > 5:
        raise MalformedMessage("MSH-2", "expected 2 to 5 encoding characters")
    every = sep + chars
    if len(set(every)) != len(every) or any(c.isalnum() or c.isspace() for c in chars):
        raise MalformedMessage(
            "MSH-2", "encoding characters must be distinct punctuation characters"
        )
    padded = chars + "\0" * (5 - len(chars))
    comp, rep, esc, sub, trunc = (c if c != "\0" else "" for c in padded)
    return Encoding(sep, comp, rep, esc, sub, trunc)


def parse_message(data: bytes | str) -> Message:
    r"""Parse one HL7 v2 message written in ER7 (the ``|^~\\&`` encoding).

    Accepts text or bytes (a UTF-8, UTF-16 or UTF-32 byte-order mark, else MSH-18, else
    UTF-8 with a Windows-1252 fallback), with segments ended by CR, LF or CRLF and MLLP
    framing characters or blank lines around it. The first segment must be MSH.

    Raises :class:`~carecoord.errors.MalformedMessage` (with ``location``, never the
    message's text) when it is not a message: no MSH, bad MSH-1/MSH-2, a segment whose
    name is not three letters or digits, or a second MSH (use :func:`split_messages`).
    """
    problems: tuple[Problem, ...] = ()
    if isinstance(data, bytes | bytearray | memoryview):
        text, problems = decode_text(bytes(data))
    elif isinstance(data, str):
        text = data[1:] if data.startswith("\ufeff") else data
    else:
        raise UsageError(f"parse_message takes bytes or str, not {type(data).__name__}")
    text = text.strip("\x0b\x1c\r\n \t\ufeff")
    if not text:
        raise MalformedMessage("MSH", "empty message")
    lines = [line for line in _SEGMENT_END.split(text) if line.strip()]
    first = lines[0]
    if not first.startswith("MSH"):
        raise MalformedMessage("segment 1", "a message must start with an MSH segment")
    encoding = _encoding_from_msh(first)
    sep = encoding.field
    segments: list[Segment] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        name = line[:3]
        if not _SEGMENT_NAME.match(name) or (len(line) > 3 and line[3] != sep):
            raise MalformedMessage(
                f"segment {number}", "a segment must start with a 3-character id and '|'"
            )
        if name == "MSH" and number > 1:
            raise MalformedMessage(
                f"segment {number}", "a second MSH: several messages, use split_messages()"
            )
        parts = line.split(sep)
        # In MSH, MSH-1 is the separator itself and MSH-2 the encoding characters.
        raw = [sep, *parts[1:]] if name in ("MSH", "FHS", "BHS") else parts[1:]
        while raw and raw[-1] == "":
            raw.pop()
        seen[name] = seen.get(name, 0) + 1
        segments.append(Segment(name, raw, encoding, number, seen[name]))
    return Message(segments, encoding, problems)


_MESSAGE_START = re.compile(r"(?:^|(?<=[\r\n]))(?=MSH[^A-Za-z0-9\s])")
_MESSAGE_START_BYTES = re.compile(rb"(?:^|(?<=[\r\n]))(?=MSH[^A-Za-z0-9\s])")


def split_messages(data: bytes | str) -> list[str] | list[bytes]:
    """Split a file or batch holding several messages into one text (or bytes) per message.

    A message starts at each segment called MSH. Batch and file envelopes (FHS, BHS,
    BTS, FTS segments), MLLP framing characters, blank lines and a byte-order mark are
    dropped. Returns the same type it was given; text before the first MSH that is not an
    envelope is returned as its own piece so that parsing it reports the problem.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)):
            text, _ = decode_text(raw)
            # Re-encoded as UTF-8 with its mark, which decoding trusts over MSH-18.
            return [codecs.BOM_UTF8 + p.encode("utf-8") for p in _split_text(text)]
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[3:]
        pieces_b = _MESSAGE_START_BYTES.split(raw.replace(b"\x0b", b"").replace(b"\x1c", b""))
        out_b: list[bytes] = []
        for piece in pieces_b:
            kept = b"\r".join(
                line
                for line in re.split(rb"\r\n|\r|\n", piece)
                if line.strip() and line[:3].decode("latin-1") not in _BATCH_SEGMENTS
            )
            if kept:
                out_b.append(kept)
        return out_b
    if isinstance(data, str):
        return _split_text(data)
    raise UsageError(f"split_messages takes bytes or str, not {type(data).__name__}")


def _split_text(text: str) -> list[str]:
    text = text.lstrip("\ufeff").replace("\x0b", "").replace("\x1c", "")
    out: list[str] = []
    for piece in _MESSAGE_START.split(text):
        kept = "\r".join(
            line
            for line in _SEGMENT_END.split(piece)
            if line.strip() and line[:3] not in _BATCH_SEGMENTS
        )
        if kept:
            out.append(kept)
    return out
