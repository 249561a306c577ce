"""A mutation fuzzer for the HL7 v2 reader: shared messages, mutated at random.

Each case takes one or more of FHIR-Converter's sample messages (and the spec fixtures),
plants a secret in the patient's name, and mutates the bytes: separators swapped,
segments dropped, duplicated or cut, fields emptied or made huge, escape sequences broken,
encoding characters replaced, MLLP framing torn, byte-order marks and invalid UTF-8 added.
:func:`check` reads the result lenient and strict, with and without a default time zone,
then builds profiles and detects gaps, and returns what escaped: any exception that is not
a carecoord error, or the secret in an error or issue message.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import carecoord as cc
from carecoord import hl7v2
from carecoord.errors import CarecoordError

__all__ = ["SECRET", "check", "mutate", "plant", "run_one", "samples"]

SECRET = "ZQXSECRETQZX"
"""Planted in every message's patient name; it must never appear in an error or issue."""

_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "hl7v2-fhir-converter"
_FIXTURES = Path(__file__).parent / "fixtures"
_CACHE: list[bytes] = []

_JUNK = [
    b"|",
    b"^",
    b"~",
    b"\\",
    b"&",
    b"\r",
    b"\n",
    b"\x0b",
    b"\x1c",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\\X0\\",
    b"\\Z",
    b"MSH|",
    b"MSH|^~\\&|",
    b"\rOBX|1|NM|x^y^LN||1e999",
    b"\rPV1|1|I||||||||||||||||||||||||||||||||||||||||||||99999999999999",
    b"\rMRG|",
    b"\rTXA|1|DS",
    b"\rSCH|||||||||||^^^20260231",
    b"+9999",
    b"-0000",
    b"19000101",
    b"99991231235959.9999+1400",
]


def samples() -> list[bytes]:
    """The shared messages and the fixtures, as bytes (read once)."""
    if not _CACHE:
        files = sorted(_SHARED.glob("*.hl7")) + sorted(_FIXTURES.glob("*.hl7"))
        _CACHE.extend(p.read_bytes() for p in files)
    return _CACHE


def plant(data: bytes) -> bytes:
    """``data`` with the secret as every PID's patient name."""
    lines = data.replace(b"\r\n", b"\r").replace(b"\n", b"\r").split(b"\r")
    out = []
    for line in lines:
        if not line.startswith(b"PID|"):
            out.append(line)
            continue
        fields = line.split(b"|")
        while len(fields) < 6:
            fields.append(b"")
        fields[5] = SECRET.encode() + b"^" + SECRET.encode()
        out.append(b"|".join(fields))
    return b"\r".join(out)


def mutate(rng: random.Random, data: bytes) -> bytes:
    """``data`` with 1 to 8 random mutations."""
    for _ in range(rng.randint(1, 8)):
        choice = rng.randrange(9)
        at = rng.randrange(len(data) + 1)
        if choice == 0:
            data = data[:at] + rng.choice(_JUNK) + data[at:]
        elif choice == 1 and data:
            end = min(len(data), at + rng.randint(1, 40))
            data = data[:at] + data[end:]
        elif choice == 2:
            data = data[:at]
        elif choice == 3:
            segs = data.split(b"\r")
            rng.shuffle(segs)
            data = b"\r".join(segs)
        elif choice == 4:
            segs = data.split(b"\r")
            if segs:
                segs.insert(rng.randrange(len(segs) + 1), rng.choice(segs))
            data = b"\r".join(segs)
        elif choice == 5:
            data = data.replace(b"^", rng.choice([b"#", b"|", b"~", b"\\", b""]))
        elif choice == 6:
            data = data[:at] + b"A" * rng.choice([1, 300, 70_000]) + data[at:]
        elif choice == 7:
            data = bytes(b ^ rng.choice([0, 0, 0, 1, 0x80]) for b in data)
        else:
            data = b"\x0b" + data + rng.choice([b"\x1c\r", b"\x1c", b""])
    return data


def check(data: bytes | str, label: str) -> list[str]:
    """Read ``data`` every way; return what escaped (empty when nothing did)."""
    escapes: list[str] = []
    for options in ({}, {"strict": True}, {"default_tz": dt.UTC}):
        try:
            result = hl7v2.read(data, **options)  # type: ignore[arg-type]
        except CarecoordError as err:
            if SECRET in str(err):
                escapes.append(f"{label}: secret in {type(err).__name__}")
            continue
        except Exception as err:
            escapes.append(f"{label}: {type(err).__name__} escaped read({options})")
            continue
        if any(SECRET in str(issue) for issue in result.issues):
            escapes.append(f"{label}: secret in an issue")
        try:
            for profile in cc.build_profiles(result.records):
                cc.detect_gaps(profile, as_of=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
        except CarecoordError:
            pass
        except Exception as err:
            escapes.append(f"{label}: {type(err).__name__} escaped the rules")
    return escapes


def run_one(rng: random.Random) -> tuple[str, list[str]]:
    """One random case: a mutated message (sometimes several, sometimes as text)."""
    pool = samples()
    chosen = [plant(rng.choice(pool)) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    data = mutate(rng, b"\r".join(chosen))
    if rng.random() < 0.2:
        text = data.decode("utf-8", errors="replace")
        return "text", check(text if text.lstrip().startswith("MSH") else "MSH" + text, "text")
    return "bytes", check(data, "bytes")
