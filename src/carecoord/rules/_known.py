"""When an undated fact became known: the anchor of clocks for facts with no date of their own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord.profile import Fact
from carecoord.rules._context import RuleContext

__all__ = ["known_since"]


def known_since(ctx: RuleContext, fact: Fact[Any]) -> dt.datetime | None:
    """When a fact became known, for facts without a date of their own.

    The earliest ``recorded_at`` of its versions, else the earliest retrieval time
    (``Source.retrieved_at``) of the records it came from; ``None`` when neither is known.
    Never ``as_of``: an undated fact dated by the evaluation would start a new clock at
    every evaluation, due the day it is looked at.
    """
    stamps = [
        stamp
        for v in fact.variants
        if isinstance(stamp := getattr(v, "recorded_at", None), dt.datetime)
    ]
    if stamps:
        return min(stamps)
    retrieved: dict[tuple[str, str], dt.datetime | None] = {
        (r.source.id, r.patient.id): r.source.retrieved_at for r in ctx.profile.records
    }
    found = [t for p in fact.provenance if (t := retrieved.get((p.source, p.record))) is not None]
    return min(found, default=None)
