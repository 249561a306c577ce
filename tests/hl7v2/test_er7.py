"""The ER7 parser: separators, escapes, segment ends, character sets, locations, errors."""

from __future__ import annotations

import pickle

import pytest

from carecoord.errors import InteropError, MalformedMessage, UsageError
from carecoord.hl7v2 import Encoding, parse_location, parse_message, split_messages
from tests.fhir._shared import shared_data_dir

ADT = (
    "MSH|^~\\&|ADT1|GOOD HEALTH^1.2.3^ISO|RECV|RFAC|20260102030405+0100||ADT^A01^ADT_A01|"
    "MSG00001|P|2.5.1\r"
    "EVN|A01|20260102030405\r"
    "PID|1||P123^^^GHH^MR~S456^^^SSA^SS||Doe^Jane^Q||19700101|F\r"
    "PV1|1|I|W1^101^A||||||||||||||||V100^^^GHH^VN|||||||||||||||||||||||||202601010800|"
    "202601020900\r"
)


class TestHeader:
    """MSH fields are numbered as HL7 numbers them and read through typed properties."""

    def test_header_properties(self) -> None:
        """Sending/receiving parties, type, trigger, structure, control id, processing, version."""
        msg = parse_message(ADT)

        got = (
            msg.sending_application,
            msg.sending_facility,
            msg.receiving_application,
            msg.receiving_facility,
            msg.message_type,
            msg.trigger_event,
            msg.message_structure,
            msg.control_id,
            msg.processing_id,
            msg.version,
            msg.timestamp,
        )
        assert got == (
            "ADT1",
            "GOOD HEALTH",
            "RECV",
            "RFAC",
            "ADT",
            "A01",
            "ADT_A01",
            "MSG00001",
            "P",
            "2.5.1",
            "20260102030405+0100",
        )

    def test_msh1_and_msh2_are_the_separators(self) -> None:
        """MSH-1 is the field separator and MSH-2 the encoding characters, unsplit."""
        msg = parse_message(ADT)

        assert (msg.get("MSH-1"), msg.get("MSH-2"), msg.get("MSH-4.2")) == ("|", "^~\\&", "1.2.3")


class TestLocations:
    """Values are read by segment, occurrence, field, repetition, component and subcomponent."""

    def test_repetition_component(self) -> None:
        """PID-3[2].4 is the second identifier's assigning authority."""
        assert parse_message(ADT).get("PID-3[2].4") == "SSA"

    def test_segment_occurrence(self) -> None:
        """OBX[2]-5 is the value of the second OBX."""
        text = "MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5\rOBX|1|NM|x||1\rOBX|2|NM|y||2"
        assert parse_message(text).get("OBX[2]-5") == "2"

    def test_absent_is_empty(self) -> None:
        """A location past the end of anything gives the empty string."""
        msg = parse_message(ADT)

        assert (msg.get("PID-99"), msg.get("ZZZ-1"), msg.get("PID-3[9].1")) == ("", "", "")

    def test_subcomponent(self) -> None:
        """PID-3.4.2 reads a subcomponent."""
        msg = parse_message("MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\rPID|||1^^^X&2.1&ISO")

        assert msg.get("PID-3.4.2") == "2.1"

    def test_bad_location_is_usage_error(self) -> None:
        """A location that is not SEG-n[r].c.s raises UsageError."""
        with pytest.raises(UsageError):
            parse_location("pid 3")

    def test_location_parts(self) -> None:
        """parse_location splits every part, with defaults of 1."""
        assert parse_location("PV1[2]-45[3].1.2") == ("PV1", 2, 45, 3, 1, 2)
        assert parse_location("PID") == ("PID", 1, None, 1, 1, 1)


class TestEscapes:
    """Escape sequences are decoded when a value is read."""

    def test_delimiter_escapes(self) -> None:
        r"""\\F\\ \\S\\ \\T\\ \\R\\ \\E\\ stand for the delimiters."""
        msg = parse_message(
            "MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\rNTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f"
        )

        assert msg.get("NTE-3") == "a|b^c&d~e\\f"

    def test_hex_and_formatting(self) -> None:
        r"""\\X..\\ is hex bytes, \\.br\\ a line break, highlighting is dropped."""
        msg = parse_message(
            "MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\rNTE|1||\\H\\x\\N\\\\.br\\\\X41C3A9\\"
        )

        assert msg.get("NTE-3") == "x\nAé"

    def test_unknown_escape_is_literal(self) -> None:
        """An escape that is not one is kept as written; an unterminated one too."""
        msg = parse_message("MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\rNTE|1||a\\Q\\b\\c")

        assert msg.get("NTE-3") == "a\\Q\\b\\c"

    def test_custom_encoding_characters(self) -> None:
        """A message may declare its own separators and escape character."""
        text = "MSH#$*!%#A#B#C#D#2026##ADT$A08#1#P#2.3\rPID###X1$$$AUTH*X2$$$OTHER##A!F!B"
        msg = parse_message(text)

        assert msg.encoding == Encoding("#", "$", "*", "!", "%", "")
        assert (msg.trigger_event, msg.get("PID-3[2].4"), msg.get("PID-5")) == (
            "A08",
            "OTHER",
            "A#B",
        )

    def test_no_escape_character(self) -> None:
        """With two encoding characters, backslashes and ampersands are plain text."""
        msg = parse_message("MSH|^~|A|B|C|D|2026||ADT^A01|1|P|2.3\rNTE|1||a\\F\\b&c")

        assert msg.get("NTE-3") == "a\\F\\b&c"

    def test_escape_text_round_trips(self) -> None:
        """Encoding.escape_text writes what the parser reads back."""
        enc = Encoding()
        original = "a|b^c&d~e\\f"
        msg = parse_message(
            f"MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\rNTE|1||{enc.escape_text(original)}"
        )

        assert msg.get("NTE-3") == original


class TestSegmentEndsAndBytes:
    """CR, LF and CRLF end segments; bytes are decoded by BOM, MSH-18 or UTF-8."""

    @pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
    def test_segment_ends(self, end: str) -> None:
        """Every segment end gives the same segments."""
        msg = parse_message(ADT.replace("\r", end))

        assert [s.name for s in msg.segments()] == ["MSH", "EVN", "PID", "PV1"]

    def test_byte_order_mark(self) -> None:
        """A UTF-8 byte-order mark is skipped, in bytes and in text."""
        assert parse_message(b"\xef\xbb\xbf" + ADT.encode()).control_id == "MSG00001"
        assert parse_message("\ufeff" + ADT).control_id == "MSG00001"

    def test_utf16_bom(self) -> None:
        """UTF-16 with a byte-order mark is decoded."""
        assert parse_message(ADT.encode("utf-16")).control_id == "MSG00001"

    def test_msh18_charset(self) -> None:
        """MSH-18 8859/1 decodes Latin-1 bytes."""
        text = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5||||||8859/1\rPID|||1||Mu\xf1oz"
        msg = parse_message(text.encode("latin-1"))

        assert msg.get("PID-5") == "Mu\xf1oz"
        assert msg.problems == ()

    def test_invalid_bytes_are_a_problem_not_a_crash(self) -> None:
        """Bytes invalid in the declared set are replaced and reported at MSH-18."""
        text = b"MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5||||||UNICODE UTF-8\rPID|||1||\xff"
        msg = parse_message(text)

        assert [p.path for p in msg.problems] == ["MSH-18"]

    def test_mllp_framing_is_stripped(self) -> None:
        """A message still in its MLLP frame parses."""
        assert parse_message(b"\x0b" + ADT.encode() + b"\x1c\r").control_id == "MSG00001"


class TestMalformed:
    """Text that is not a message raises MalformedMessage with a location and no input."""

    @pytest.mark.parametrize(
        ("text", "location"),
        [
            ("", "MSH"),
            ("PID|1||SECRETNAME", "segment 1"),
            ("MSH", "MSH"),
            ("MSHA^~\\&|", "MSH-1"),
            ("MSH|^|SECRETNAME", "MSH-2"),
            ("MSH|^^~\\|SECRETNAME", "MSH-2"),
            ("MSH|^~\\&|A\rpi|SECRETNAME", "segment 2"),
            ("MSH|^~\\&|A\rMSH|^~\\&|B", "segment 2"),
        ],
    )
    def test_malformed(self, text: str, location: str) -> None:
        """Each bad shape names its location and never quotes the input."""
        with pytest.raises(MalformedMessage) as caught:
            parse_message(text)

        assert caught.value.location == location
        assert "SECRETNAME" not in str(caught.value)
        assert isinstance(caught.value, InteropError)

    def test_pickles(self) -> None:
        """MalformedMessage survives pickling (for process pools)."""
        error = pickle.loads(pickle.dumps(MalformedMessage("MSH-2", "bad")))

        assert (error.location, error.reason) == ("MSH-2", "bad")

    def test_wrong_type_is_usage_error(self) -> None:
        """parse_message(42) is a UsageError."""
        with pytest.raises(UsageError):
            parse_message(42)  # type: ignore[arg-type]

    def test_repr_holds_no_content(self) -> None:
        """The repr of a message names its type and size only."""
        assert repr(parse_message(ADT)) == "Message(ADT^A01, 4 segments)"


class TestSplit:
    """split_messages splits files and batches, dropping envelopes."""

    def test_batch(self) -> None:
        """FHS/BHS/BTS/FTS are dropped and each MSH starts a message."""
        batch = (
            "FHS|^~\\&|X\rBHS|^~\\&|X\r" + ADT + ADT.replace("MSG00001", "MSG2") + "BTS|2\rFTS|1\r"
        )
        parts = split_messages(batch)

        assert [parse_message(p).control_id for p in parts] == ["MSG00001", "MSG2"]

    def test_utf16_batch_declaring_utf16(self) -> None:
        """A UTF-16 batch whose MSH-18 says UTF-16 splits into messages that parse right."""
        text = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5||||||UNICODE UTF-16\rPID|||1||Mu\xf1oz\r"
        parts = split_messages((text + text).encode("utf-16"))

        assert [parse_message(p).get("PID-5") for p in parts] == ["Mu\xf1oz", "Mu\xf1oz"]

    def test_bytes_in_bytes_out(self) -> None:
        """Bytes give bytes; LF-ended files split too."""
        data = (ADT + ADT).replace("\r", "\n").encode()
        parts = split_messages(data)

        assert len(parts) == 2
        assert all(isinstance(p, bytes) for p in parts)


class TestSharedSamples:
    """Every FHIR-Converter sample message parses."""

    def test_every_sample_parses(self) -> None:
        """All 71 messages parse; each has a type and a control id."""
        folder = shared_data_dir("hl7v2-fhir-converter")
        files = sorted(folder.glob("*.hl7"))
        parsed = [parse_message(p.read_bytes()) for p in files]

        assert len(files) == 71
        assert all(m.message_type and m.trigger_event and m.control_id for m in parsed)


class TestFieldSplitting:
    """Fields without escapes or subcomponents split as the general path splits them."""

    @pytest.mark.parametrize(
        "raw",
        [
            "plain",
            "a^b^^c",
            "a~b~~c",
            "a^b~c^d^~^",
            "^",
            "~",
            "a&b^c",
            "a\\S\\b^c~d",
        ],
    )
    def test_fast_and_general_agree(self, raw: str) -> None:
        """Each repetition, component and subcomponent is the one the general path reads."""
        from carecoord.hl7v2._er7 import DEFAULT_ENCODING, _split_field

        expected = tuple(
            tuple(tuple(sub for sub in comp.split("&")) for comp in rep.split("^"))
            for rep in raw.split("~")
        )
        field = _split_field(raw, DEFAULT_ENCODING)
        if "\\" not in raw:
            assert field.repetitions == expected
        else:
            assert field.repetitions == ((("a^b",), ("c",)), (("d",),))

    def test_repetitions_and_segments_read_again(self) -> None:
        """Reading a field's repetitions or a segment twice gives the same answer."""
        msg = parse_message(ADT)
        pid = msg.segment("PID")
        assert pid is not None
        first = [r.get(1, 1) for r in pid.repetitions(3)]
        assert first == ["P123", "S456"] == [r.get(1, 1) for r in pid.repetitions(3)]
        assert msg.segment("PID") is pid
        assert msg.segment("PID", 2) is None
        assert msg.segment("PID", 0) is None
        assert msg.segments("PID") == (pid,)
        assert msg.segments("ZZZ") == ()
        assert pid.get(40) == ""
        assert pid.field(40) is pid.field(40)
