"""Acknowledgements: built in the message's own delimiters, per version, and parsed back."""

from __future__ import annotations

import datetime as dt

import pytest

from carecoord.hl7v2 import (
    Ack,
    AckCode,
    ErrorCondition,
    MLLPError,
    Outcome,
    build_ack,
    parse_ack,
    parse_message,
    peek_header,
)

AT = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
ADT = (
    b"MSH|^~\\&|SENDAPP|SENDFAC^1.2^ISO|RECVAPP|RECVFAC|20260101||ADT^A03^ADT_A03|CTRL42|P|2.5.1\r"
    b"PID|1||P1^^^H^MR\r"
)


def _ack(message: bytes, outcome: Outcome) -> bytes:
    return build_ack(peek_header(message), outcome, at=AT, control_id="ACK1")


class TestPeek:
    """The MSH segment is read from bytes, without parsing the rest."""

    def test_fields_are_numbered_as_hl7(self) -> None:
        """MSH-1 is the separator, MSH-2 the encoding characters, MSH-10 the control id."""
        header = peek_header(ADT)

        assert header is not None
        assert (header.separator, header.encoding, header.get(9), header.control_id) == (
            b"|",
            b"^~\\&",
            b"ADT^A03^ADT_A03",
            b"CTRL42",
        )
        assert header.dedupe_key == (b"SENDFAC^1.2^ISO", b"CTRL42")
        assert header.get(99) == b""

    def test_bom_framing_and_blank_lines_are_skipped(self) -> None:
        """A byte-order mark and leading line ends do not hide the MSH."""
        header = peek_header(b"\r\n\xef\xbb\xbf" + ADT.replace(b"\r", b"\n"))

        assert header is not None
        assert header.control_id == b"CTRL42"

    @pytest.mark.parametrize("data", [b"", b"PID|1", b"MSH", b"MSHA^~", b"MSH\r", b"garbage"])
    def test_no_msh_is_none(self, data: bytes) -> None:
        """Text that does not start with MSH and a separator has no header."""
        assert peek_header(data) is None

    def test_repr_hides_the_fields(self) -> None:
        """The header's repr counts fields and shows none of them."""
        assert "SENDFAC" not in repr(peek_header(ADT))


class TestBuild:
    """The ACK answers the message: swapped parties, MSA-2, reasons, ERR per version."""

    def test_accept(self) -> None:
        """AA: MSH swaps sending and receiving parties, MSA-2 is the message's MSH-10."""
        ack = _ack(ADT, Outcome.accept())

        assert ack == (
            b"MSH|^~\\&|RECVAPP|RECVFAC|SENDAPP|SENDFAC^1.2^ISO|20260304050607-0500||"
            b"ACK^A03^ACK|ACK1|P|2.5.1\rMSA|AA|CTRL42\r"
        )
        assert parse_message(ack).message_type == "ACK"

    def test_error_has_reason_and_err_segment_v25(self) -> None:
        """AE from v2.5 on: MSA-3 and ERR-8 hold the reason, ERR-3 the table 0357 code."""
        outcome = Outcome.error(
            "unknown patient class", ErrorCondition.TABLE_VALUE_NOT_FOUND, "PV1-2"
        )

        msg = parse_message(_ack(ADT, outcome))

        assert msg.get("MSA-1") == "AE"
        assert msg.get("MSA-3") == "unknown patient class"
        assert (msg.get("ERR-2.1"), msg.get("ERR-2.3"), msg.get("ERR-3.1"), msg.get("ERR-4")) == (
            "PV1",
            "2",
            "103",
            "E",
        )
        assert msg.get("ERR-8") == "unknown patient class"

    def test_err_segment_before_v25_uses_err1(self) -> None:
        """Before v2.5, ERR-1 carries location and the code as subcomponents."""
        old = ADT.replace(b"|2.5.1\r", b"|2.3\r")

        msg = parse_message(_ack(old, Outcome.reject("busy", location="PID-3")))

        assert (msg.get("MSH-9.1"), msg.get("MSH-9.2"), msg.get("MSH-9.3")) == ("ACK", "A03", "")
        assert (msg.get("ERR-1.1"), msg.get("ERR-1.3"), msg.get("ERR-1.4.1")) == ("PID", "3", "207")

    def test_custom_delimiters_are_kept_and_reason_escaped(self) -> None:
        """An ACK uses the message's own separators and escapes them inside the reason."""
        custom = ADT.replace(b"|", b"#").replace(b"^", b"$")

        ack = _ack(custom, Outcome.error("a#b$c\\d"))

        assert ack.startswith(b"MSH#$~\\&#RECVAPP#RECVFAC#SENDAPP#SENDFAC$1.2$ISO#")
        assert b"#ACK$A03$ACK#" in ack
        assert b"a\\F\\b\\S\\c\\E\\d" in ack
        assert parse_ack(ack).text == "a#b$c\\d"

    def test_reason_control_characters_are_dropped(self) -> None:
        """A reason with line ends or control characters cannot break the segment."""
        ack = _ack(ADT, Outcome.error("line\rbreak\x0b"))

        assert ack.count(b"\r") == 3
        assert b"\x0b" not in ack

    def test_no_header_gives_default_ack(self) -> None:
        """With no usable MSH the ACK has default delimiters and an empty MSA-2."""
        ack = build_ack(None, Outcome.reject("no MSH"), at=AT, control_id="X")

        parsed = parse_ack(ack)
        assert (parsed.code, parsed.control_id, parsed.text) == (AckCode.AR, "", "no MSH")

    def test_outcome_validates(self) -> None:
        """An outcome is AA, AE or AR, with a location like PID-3."""
        with pytest.raises(ValueError, match="AA, AE or AR"):
            Outcome(AckCode.CA)
        with pytest.raises(ValueError, match="PID-3"):
            Outcome.error("x", location="PID3")


class TestParse:
    """Receivers' ACKs are read: code, control id, text, condition."""

    def test_round_trip(self) -> None:
        """What build_ack writes, parse_ack reads."""
        ack = parse_ack(_ack(ADT, Outcome.error("bad", ErrorCondition.DATA_TYPE)))

        assert (ack.code, ack.control_id, ack.text, ack.condition, ack.accepted) == (
            AckCode.AE,
            "CTRL42",
            "bad",
            "102",
            False,
        )
        assert "CTRL42" not in repr(ack)

    def test_enhanced_mode_commit_accept(self) -> None:
        """A CA (commit accept) counts as accepted."""
        ack = parse_ack(b"MSH|^~\\&|A|B|C|D|2026||ACK|9|P|2.5\rMSA|CA|M1\r")

        assert ack == Ack(AckCode.CA, "M1", raw=ack.raw)
        assert ack.accepted

    def test_err_only_reason(self) -> None:
        """With no MSA-3, the reason is taken from ERR-8."""
        ack = parse_ack(b"MSH|^~\\&|A|B|C|D|2026||ACK|9|P|2.5\rMSA|AE|M1\rERR|||101|E||||why\r")

        assert (ack.text, ack.condition) == ("why", "101")

    @pytest.mark.parametrize(
        ("data", "problem"),
        [
            (b"hello", "no MSH"),
            (b"MSH|^~\\&|A\r", "no MSA"),
            (b"MSH|^~\\&|A\rMSA|ZZ|1\r", "not an acknowledgement code"),
        ],
    )
    def test_not_an_ack(self, data: bytes, problem: str) -> None:
        """What is not an ACK raises MLLPError saying why."""
        with pytest.raises(MLLPError, match=problem):
            parse_ack(data)
