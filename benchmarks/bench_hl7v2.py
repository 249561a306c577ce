"""HL7 v2 parsing and reading speed, and carecoord's parser against python-hl7 and hl7apy.

Usage::

    python benchmarks/bench_hl7v2.py [--rounds 5] [--copies 20] [--json]

Over the 71 FHIR-Converter sample messages (``../shared/data/hl7v2-fhir-converter``,
each repeated ``--copies`` times) the script measures, best of ``--rounds``:

* parsing: ``carecoord.hl7v2.parse_message`` then reading four values every mapping
  reads (MSH-9, PID-3, PV1-44 and every OBX-5), messages per second; the same with
  python-hl7 (``hl7.parse``) and hl7apy (``parse_message(..., find_groups=False)``,
  tolerant validation, only with ``--hl7apy``: it takes about a second a message) when
  they are installed (``pip install hl7 hl7apy``), and how many samples each cannot
  parse at all;
* reading: ``carecoord.hl7v2.read`` of every message into patient records (parse, map,
  build the records), messages per second, and ADT messages only.

The load average before and after is printed: other sessions share the machine, so
compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "hl7v2-fhir-converter"


def _messages() -> list[str]:
    from carecoord.hl7v2 import split_messages

    found: list[str] = []
    for path in sorted(SAMPLES.glob("*.hl7")):
        pieces = split_messages(path.read_bytes().decode("utf-8-sig"))
        found.extend(str(p) for p in pieces)
    return found


def _best(rounds: int, work: Callable[[], int]) -> tuple[float, int]:
    """Best wall time of ``rounds`` runs of ``work``, and what it returned."""
    best, out = float("inf"), 0
    for _ in range(rounds):
        started = time.perf_counter()
        out = work()
        best = min(best, time.perf_counter() - started)
    return best, out


def _ours(messages: list[str]) -> int:
    from carecoord.hl7v2 import parse_message

    for text in messages:
        msg = parse_message(text)
        msg.get("MSH-9")
        msg.get("PID-3")
        msg.get("PV1-44")
        for obx in msg.segments("OBX"):
            obx.get(5)
    return len(messages)


def _python_hl7(messages: list[str]) -> int:
    import hl7  # type: ignore[import-not-found,import-untyped,unused-ignore]

    done = 0
    for text in messages:
        try:
            msg = hl7.parse(text)
            msg.segment("MSH")[9]
            msg.segment("PID")[3]
            for seg in msg:
                if str(seg[0]) == "PV1":
                    seg[44]
                if str(seg[0]) == "OBX":
                    seg[5]
        except Exception:
            continue
        done += 1
    return done


def _hl7apy(messages: list[str]) -> int:
    from hl7apy.consts import VALIDATION_LEVEL  # type: ignore[import-not-found,unused-ignore]
    from hl7apy.parser import parse_message  # type: ignore[import-not-found,unused-ignore]

    done = 0
    for text in messages:
        try:
            msg = parse_message(text, find_groups=False, validation_level=VALIDATION_LEVEL.TOLERANT)
            msg.msh.msh_9.value  # noqa: B018
            for seg in msg.children:
                if seg.name == "PID":
                    seg.pid_3.value  # noqa: B018
        except Exception:
            continue
        done += 1
    return done


def _read(messages: list[str]) -> int:
    import datetime as dt

    from carecoord import hl7v2

    result = hl7v2.read(messages, default_tz=dt.UTC)
    return sum(c.read for c in result.counts.values())


def main(argv: list[str]) -> int:
    """Run the measurements and print (or ``--json`` dump) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--hl7apy", action="store_true", help="also time hl7apy (about a second a message)"
    )
    args = parser.parse_args(argv)
    if not SAMPLES.is_dir():
        print(f"no samples at {SAMPLES}", file=sys.stderr)
        return 2
    base = _messages()
    messages = base * args.copies
    adt = [m for m in messages if "|ADT^" in m.split("\r", 1)[0] or "|ADT^" in m[:300]]
    load_before = os.getloadavg()
    report: dict[str, Any] = {
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "date": time.strftime("%Y-%m-%d"),
        "messages": len(messages),
    }
    candidates: dict[str, Callable[[list[str]], int]] = {"carecoord": _ours}
    others = [("python-hl7", "hl7", _python_hl7)]
    if args.hl7apy:
        others.append(("hl7apy", "hl7apy", _hl7apy))
    for name, module, fn in others:
        try:
            __import__(module)
        except ImportError:
            continue
        candidates[name] = fn
    for name, fn in candidates.items():
        batch = base if name == "hl7apy" else messages
        rounds = 1 if name == "hl7apy" else args.rounds
        seconds, parsed = _best(rounds, lambda fn=fn, batch=batch: fn(batch))  # type: ignore[misc]
        report[f"parse {name}"] = {
            "messages_per_s": round(len(batch) / seconds),
            "unparsed_samples": len(base) - parsed * len(base) // len(batch),
        }
    seconds, _ = _best(args.rounds, lambda: _read(messages))
    report["read all"] = {"messages_per_s": round(len(messages) / seconds)}
    seconds, _ = _best(args.rounds, lambda: _read(adt))
    report["read ADT"] = {"messages_per_s": round(len(adt) / seconds), "messages": len(adt)}
    report["load average before, after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
