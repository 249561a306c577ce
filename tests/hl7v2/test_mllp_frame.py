"""MLLP framing: partial reads, several frames per read, garbage, oversize, truncation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecoord.hl7v2 import END_BLOCK, START_BLOCK, FrameDecoder, FrameFault, frame

MSG_A = b"MSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.5\rPID|1\r"
MSG_B = b"MSH|^~\\&|A|B|C|D|20260101||ADT^A03|2|P|2.5\rPID|2\r"


def _payloads(decoder: FrameDecoder, *chunks: bytes) -> list[bytes]:
    return [e.payload for chunk in chunks for e in decoder.feed(chunk) if e.fault is None]


class TestFrames:
    """Whole frames come out whole, however the bytes are split."""

    def test_frame_wraps_in_blocks(self) -> None:
        """frame() adds VT before and FS CR after."""
        assert frame(b"x") == b"\x0bx\x1c\x0d" == START_BLOCK + b"x" + END_BLOCK

    def test_one_frame_one_read(self) -> None:
        """A frame in one read is one event with the payload between the blocks."""
        events = FrameDecoder().feed(frame(MSG_A))

        assert [(e.payload, e.fault, e.size) for e in events] == [(MSG_A, None, len(MSG_A))]

    def test_several_frames_one_read(self) -> None:
        """Two frames in one read are two events, in order."""
        assert _payloads(FrameDecoder(), frame(MSG_A) + frame(MSG_B)) == [MSG_A, MSG_B]

    def test_byte_by_byte(self) -> None:
        """A frame fed one byte at a time comes out once, at its end block."""
        decoder = FrameDecoder()
        data = frame(MSG_A) + frame(MSG_B)

        out = _payloads(decoder, *(data[i : i + 1] for i in range(len(data))))

        assert out == [MSG_A, MSG_B]
        assert not decoder.in_frame

    def test_end_block_split_across_reads(self) -> None:
        """FS at the end of one read and CR at the start of the next are one end block."""
        decoder = FrameDecoder()

        assert _payloads(decoder, b"\x0b" + MSG_A + b"\x1c") == [MSG_A]
        assert _payloads(decoder, b"\x0d" + frame(MSG_B)) == [MSG_B]
        assert decoder.skipped == 0

    def test_garbage_between_frames_is_skipped_and_counted(self) -> None:
        """Bytes outside frames are skipped, counted, and do not disturb the next frame."""
        decoder = FrameDecoder()

        out = _payloads(decoder, b"noise\r\n" + frame(MSG_A) + b"\x00\xff" + frame(MSG_B))

        assert out == [MSG_A, MSG_B]
        assert decoder.skipped == 9

    def test_fs_without_cr_ends_the_frame(self) -> None:
        """A sender that omits the CR after FS still has its frame read."""
        assert _payloads(FrameDecoder(), b"\x0b" + MSG_A + b"\x1c" + frame(MSG_B)) == [
            MSG_A,
            MSG_B,
        ]

    @given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=30))
    def test_any_split_gives_the_same_frames(self, cuts: list[int]) -> None:
        """However a stream is cut into reads, the frames decoded are the same."""
        data = b"xx" + frame(MSG_A) + b"\r\n" + frame(MSG_B) + frame(MSG_A)
        decoder = FrameDecoder()
        chunks, pos = [], 0
        for cut in cuts:
            chunks.append(data[pos : pos + cut])
            pos += cut
        chunks.append(data[pos:])

        assert _payloads(decoder, *chunks) == [MSG_A, MSG_B, MSG_A]


class TestFaults:
    """Faulty frames are reported once, with enough kept to acknowledge them."""

    def test_oversize_frame_is_reported_at_its_end_and_keeps_its_head(self) -> None:
        """A frame over the limit is one OVERSIZE event; the next frame decodes normally."""
        big = MSG_A + b"OBX|" + b"x" * 10_000 + b"\r"
        decoder = FrameDecoder(max_frame_bytes=1000)

        events = decoder.feed(frame(big)[:3000]) + decoder.feed(frame(big)[3000:] + frame(MSG_B))

        assert [e.fault for e in events] == [FrameFault.OVERSIZE, None]
        assert events[0].payload.startswith(MSG_A)
        assert len(events[0].payload) == 4096
        assert events[0].size == len(big)
        assert events[1].payload == MSG_B
        assert decoder.buffered == 0

    def test_oversize_memory_is_bounded(self) -> None:
        """While an oversize frame streams in, the decoder holds at most its head."""
        decoder = FrameDecoder(max_frame_bytes=100)
        decoder.feed(b"\x0b" + MSG_A)
        for _ in range(100):
            decoder.feed(b"y" * 10_000)

        assert decoder.buffered <= 4096

    def test_start_block_inside_a_frame_truncates_it(self) -> None:
        """A new VT before the end block: the cut frame is TRUNCATED, the new one is read."""
        events = FrameDecoder().feed(b"\x0b" + MSG_A[:20] + frame(MSG_B))

        assert [(e.fault, e.payload) for e in events] == [
            (FrameFault.TRUNCATED, MSG_A[:20]),
            (None, MSG_B),
        ]

    def test_end_of_stream_inside_a_frame(self) -> None:
        """close() reports the frame the stream ended in as UNTERMINATED, once."""
        decoder = FrameDecoder()
        decoder.feed(b"\x0b" + MSG_A[:30])

        events = decoder.close()

        assert [(e.fault, e.payload) for e in events] == [(FrameFault.UNTERMINATED, MSG_A[:30])]
        assert decoder.close() == []

    def test_close_between_frames_reports_nothing(self) -> None:
        """A stream that ends between frames (or in garbage) has no faulty frame."""
        decoder = FrameDecoder()
        decoder.feed(frame(MSG_A) + b"trailing")

        assert decoder.close() == []

    def test_event_repr_has_no_payload(self) -> None:
        """A frame's repr gives its size and fault, never its content."""
        event = FrameDecoder().feed(frame(MSG_A))[0]

        assert "PID" not in repr(event)
        assert str(len(MSG_A)) in repr(event)

    def test_limit_must_be_positive(self) -> None:
        """A zero limit is refused."""
        with pytest.raises(ValueError, match="positive"):
            FrameDecoder(0)
